"""Typer's own parameter objects for the :class:`~kernelcli.cli.options.Declared` options of a command.

:mod:`kernelcli.cli.options` declares every option as plain data, so that a plain call can
be parsed without importing typer (:mod:`kernelcli.cli._fast`).  When typer builds a
command, :func:`typed_app` gives each registered function a signature whose ``Annotated``
options are ``typer.Option`` / ``typer.Argument`` again; typer reads nothing else.

>>> from kernelcli.cli.options import FlipOption
>>> def f(flip: FlipOption = False) -> None: ...
>>> import inspect
>>> type(inspect.signature(typed(f)).parameters["flip"].annotation.__metadata__[0]).__name__
'OptionInfo'
"""

from __future__ import annotations

import functools
import inspect
import typing
from typing import Any, Callable

from ._declared import Declared
from .options import Words


def typed(func: Callable[..., Any]) -> Callable[..., Any]:
    """``func`` (a wrapper calling it) whose signature carries typer's parameter objects."""
    if getattr(func, "_kernelcli_typed", False):
        return func
    signature = inspect.signature(func, eval_str=True)
    parameters = [p.replace(annotation=_typer_annotation(p.annotation)) for p in signature.parameters.values()]

    @functools.wraps(func)
    def command(*args: Any, **kwargs: Any) -> Any:
        return func(*args, **kwargs)

    command.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
    # resolved, so that typer's get_type_hints does not evaluate the strings again
    command.__annotations__ = {p.name: p.annotation for p in parameters if p.annotation is not p.empty}
    command._kernelcli_typed = True  # type: ignore[attr-defined]
    return command


def typed_app(app: Any) -> Any:
    """Every command and callback registered on ``app`` (and its sub-apps), :func:`typed`; returns ``app``."""
    for info in app.registered_commands:
        info.callback = typed(info.callback)
    if app.registered_callback is not None and callable(app.registered_callback.callback):
        app.registered_callback.callback = typed(app.registered_callback.callback)
    for group in app.registered_groups:
        if callable(group.callback):  # typer's DefaultPlaceholder when not given
            group.callback = typed(group.callback)
        if group.typer_instance is not None:
            typed_app(group.typer_instance)
    return app


def _typer_annotation(annotation: Any) -> Any:
    if typing.get_origin(annotation) is not typing.Annotated:
        return annotation
    kind, *metadata = typing.get_args(annotation)
    if not any(isinstance(m, Declared) for m in metadata):
        return annotation
    words = _words(kind)
    if words is not None:  # listed as the vocabulary options list theirs, not as typer's <a|b>
        metadata = [m if not isinstance(m, Declared) or m.metavar else
                    Declared(m.names, {**m.settings, "metavar": "[" + "|".join(w.value for w in words) + "]"}, m.argument)
                    for m in metadata]
    return typing.Annotated[(kind, *(m.typer_info() if isinstance(m, Declared) else m for m in metadata))]


def _words(kind: Any) -> type[Words] | None:
    """The :class:`~kernelcli.cli.options.Words` Enum an option's type is (or is Optional of), else None."""
    for candidate in (kind, *typing.get_args(kind)):
        if isinstance(candidate, type) and issubclass(candidate, Words):
            return candidate
    return None
