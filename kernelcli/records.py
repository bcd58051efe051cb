"""Value classes whose methods are written once, not compiled at import (issue 17: the cold path).

:func:`dataclasses.dataclass` builds each class's ``__init__``, ``__repr__`` and ``__eq__`` (a
frozen class also ``__hash__``, ``__setattr__``, ``__delattr__``) as source text and compiles it
with ``exec`` when the module is imported: 1.1-1.5 ms a class on Python 3.11 here, 20-26 ms of a
cold ``kernelcli convolve`` of a 512x512 PNG, which passes 18 such classes on its way. :func:`record`
gives a class the same methods, with the same behaviour, from the closures below: about 50 us a
class. Fields are the class's annotations in order (a base record's first), defaults its class
attributes, :func:`field` a per-instance default; ``__post_init__`` runs after ``__init__``.

>>> @record(frozen=True)
... class Tile:
...     size: int
...     halo: int = 0
>>> Tile(8), Tile(8) == Tile(8, 0), replace(Tile(8), halo=2)
(Tile(size=8, halo=0), True, Tile(size=8, halo=2))
>>> Tile(8).size = 4
Traceback (most recent call last):
...
kernelcli.records.FrozenInstanceError: cannot assign to field 'size'
"""

from __future__ import annotations

import operator
import reprlib
from typing import Any, Callable

__all__ = ["FrozenInstanceError", "asdict", "field", "field_names", "record", "replace"]

_FIELDS = "__record_fields__"
_MISSING = object()


class FrozenInstanceError(AttributeError):
    """A field of a frozen record was assigned or deleted (as :class:`dataclasses.FrozenInstanceError`)."""


class _Factory:
    """A per-instance default: ``factory()`` is called for each instance that is not given the field."""

    __slots__ = ("factory",)

    def __init__(self, factory: Callable[[], Any]) -> None:
        self.factory = factory


def field(*, default_factory: Callable[[], Any]) -> Any:
    """A field whose default is made afresh for each instance (a list, a dict).

    >>> @record
    ... class Notes:
    ...     lines: list = field(default_factory=list)
    >>> Notes().lines is Notes().lines
    False
    """
    return _Factory(default_factory)


def record(cls: type | None = None, /, *, frozen: bool = False, eq: bool = True) -> Any:
    """Make ``cls`` a value class: ``__init__``, ``__repr__``, ``__eq__`` (``eq``), immutable (``frozen``).

    The same contract as ``dataclasses.dataclass(frozen=..., eq=...)``: keyword or positional
    arguments in field order, ``__post_init__``, a hash of the fields for a frozen class and none
    for a mutable one that compares by value, methods the class defines itself kept.
    """
    if cls is None:
        return lambda c: _make(c, frozen, eq)
    return _make(cls, frozen, eq)


def field_names(obj: Any) -> tuple[str, ...]:
    """The fields of a record (class or instance), in order."""
    return getattr(obj, _FIELDS)


def replace(obj: Any, /, **changes: Any) -> Any:
    """A copy of a record with some fields changed (its ``__init__`` and ``__post_init__`` run again)."""
    names = getattr(obj, _FIELDS)
    unknown = sorted(set(changes) - set(names))
    if unknown:
        raise TypeError(f"{type(obj).__qualname__} has no field {unknown[0]!r}")
    return type(obj)(**{name: changes[name] if name in changes else getattr(obj, name) for name in names})


def asdict(obj: Any) -> dict[str, Any]:
    """A record as a dict of its fields, records, lists, tuples and dicts inside it converted too."""
    return {name: _plain(getattr(obj, name)) for name in getattr(obj, _FIELDS)}


def _plain(value: Any) -> Any:
    if hasattr(type(value), _FIELDS):
        return asdict(value)
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(v) for v in value)
    if isinstance(value, dict):
        return {_plain(k): _plain(v) for k, v in value.items()}
    import copy

    return copy.deepcopy(value)


def _make(cls: type, frozen: bool, eq: bool) -> type:
    names: list[str] = []
    defaults: dict[str, Any] = {}
    factories: dict[str, Callable[[], Any]] = {}
    for base in reversed(cls.__mro__[1:]):
        for name in getattr(base, _FIELDS, ()):
            if name not in names:
                names.append(name)
        defaults.update(getattr(base, "__record_defaults__", {}))
        factories.update(getattr(base, "__record_factories__", {}))
    for name in cls.__dict__.get("__annotations__", {}):
        if name not in names:
            names.append(name)
        value = cls.__dict__.get(name, _MISSING)
        if isinstance(value, _Factory):
            factories[name] = value.factory
            defaults.pop(name, None)
            delattr(cls, name)
        elif value is not _MISSING:
            defaults[name] = value
            factories.pop(name, None)
    seen_default = ""
    for name in names:
        if name in defaults or name in factories:
            seen_default = name
        elif seen_default:
            raise TypeError(f"non-default argument {name!r} follows default argument {seen_default!r}")
    fields = tuple(names)
    setattr(cls, _FIELDS, fields)
    cls.__record_defaults__ = defaults  # type: ignore[attr-defined]
    cls.__record_factories__ = factories  # type: ignore[attr-defined]
    cls.__match_args__ = fields  # type: ignore[attr-defined]
    get = operator.attrgetter(*fields) if len(fields) > 1 else lambda obj: tuple(getattr(obj, n) for n in fields)
    cls.__record_values__ = staticmethod(get)  # type: ignore[attr-defined]
    _set(cls, "__init__", _init(cls, fields, defaults, factories))
    _set(cls, "__repr__", reprlib.recursive_repr()(_repr))
    if eq:
        _set(cls, "__eq__", _eq)
        if "__hash__" not in cls.__dict__:
            cls.__hash__ = _hash if frozen else None  # type: ignore[assignment]
    if frozen:
        for name, method in (("__setattr__", _frozen_setattr), ("__delattr__", _frozen_delattr)):
            if name in cls.__dict__:
                raise TypeError(f"cannot overwrite {name} in frozen class {cls.__qualname__}")
            setattr(cls, name, method)
    cls.__signature__ = _Signature()  # type: ignore[attr-defined]
    return cls


def _set(cls: type, name: str, method: Callable[..., Any]) -> None:
    if name not in cls.__dict__:
        setattr(cls, name, method)


def _init(cls: type, fields: tuple[str, ...], defaults: dict[str, Any],
          factories: dict[str, Callable[[], Any]]) -> Callable[..., None]:
    known = frozenset(fields)
    post_init = hasattr(cls, "__post_init__")

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        if len(args) > len(fields):
            raise TypeError(f"{cls.__qualname__}() takes {len(fields)} positional arguments but {len(args)} were given")
        values = self.__dict__  # written directly: a frozen record refuses setattr
        for name, value in zip(fields, args):
            values[name] = value
        for name, value in kwargs.items():
            if name not in known:
                raise TypeError(f"{cls.__qualname__}() got an unexpected keyword argument {name!r}")
            if name in values:
                raise TypeError(f"{cls.__qualname__}() got multiple values for argument {name!r}")
            values[name] = value
        if len(values) < len(fields):
            for name in fields[len(args):]:
                if name in values:
                    continue
                if name in defaults:
                    values[name] = defaults[name]
                elif name in factories:
                    values[name] = factories[name]()
                else:
                    missing = [n for n in fields if n not in values and n not in defaults and n not in factories]
                    raise TypeError(f"{cls.__qualname__}() missing required argument(s): "
                                    + ", ".join(map(repr, missing)))
        if post_init:
            self.__post_init__()

    __init__.__qualname__ = f"{cls.__qualname__}.__init__"
    return __init__


def _repr(self: Any) -> str:
    inner = ", ".join(f"{name}={getattr(self, name)!r}" for name in getattr(self, _FIELDS))
    return f"{type(self).__qualname__}({inner})"


def _eq(self: Any, other: Any) -> Any:
    if other.__class__ is not self.__class__:
        return NotImplemented
    return _values(self) == _values(other)  # tuples: an identical field is equal, as in dataclasses


def _values(self: Any) -> tuple[Any, ...]:
    return self.__record_values__(self)  # type: ignore[no-any-return]


def _hash(self: Any) -> int:
    return hash(_values(self))


def _frozen_setattr(self: Any, name: str, value: Any) -> None:
    raise FrozenInstanceError(f"cannot assign to field {name!r}")


def _frozen_delattr(self: Any, name: str) -> None:
    raise FrozenInstanceError(f"cannot delete field {name!r}")


class _FactoryDefault:
    def __repr__(self) -> str:
        return "<factory>"  # as dataclasses shows a default_factory


_FACTORY = _FactoryDefault()


class _Signature:
    """``inspect.signature(cls)`` for help() and editors, built when asked for (inspect is not imported here)."""

    def __get__(self, obj: Any, owner: type) -> Any:
        import inspect

        defaults = owner.__record_defaults__  # type: ignore[attr-defined]
        factories = owner.__record_factories__  # type: ignore[attr-defined]
        annotations: dict[str, Any] = {}
        for base in reversed(owner.__mro__):
            annotations.update(base.__dict__.get("__annotations__", {}))
        parameters = [inspect.Parameter(
            name, inspect.Parameter.POSITIONAL_OR_KEYWORD,
            default=defaults[name] if name in defaults else _FACTORY if name in factories else inspect.Parameter.empty,
            annotation=annotations.get(name, inspect.Parameter.empty)) for name in getattr(owner, _FIELDS)]
        return inspect.Signature(parameters, return_annotation=None)
