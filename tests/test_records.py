"""kernelcli.records behaves as dataclasses does for the same class (issue 17: the cold path).

Each case declares one class body twice, once under ``dataclasses.dataclass`` and once under
``records.record`` with the same options, and checks that both give the same repr, equality,
hash, signature, ``replace``, ``asdict``, refusals and pickling, on values hypothesis draws.
"""

from __future__ import annotations

import dataclasses
import inspect
import pickle
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kernelcli import records
from conftest import REPO

values = st.one_of(st.integers(-5, 5), st.text(max_size=3), st.none(), st.tuples(st.integers(0, 3)),
                   st.floats(allow_nan=False, width=32))


def _both(body, frozen, eq=True, base=None):
    """The class ``body`` builds, as a dataclass and as a record with the same options."""
    made = []
    for kind in ("dataclass", "record"):
        field = dataclasses.field if kind == "dataclass" else records.field
        decorate = (dataclasses.dataclass(frozen=frozen, eq=eq) if kind == "dataclass"
                    else records.record(frozen=frozen, eq=eq))
        bases = () if base is None else (base[len(made)],)
        made.append(decorate(type("Value", bases, body(field))))
    return made


def plain(field):
    return {"__annotations__": {"size": "int", "name": "str", "halo": "object"}, "halo": 0}


def with_factory(field):
    return {"__annotations__": {"size": "int", "notes": "list", "tag": "object"},
            "notes": field(default_factory=list), "tag": None}


def with_post_init(field):
    def __post_init__(self):
        object.__setattr__(self, "name", str(self.name).upper())

    return {"__annotations__": {"size": "int", "name": "object"}, "name": "a", "__post_init__": __post_init__}


BODIES = [plain, with_factory, with_post_init]


@pytest.mark.parametrize("body", BODIES)
@pytest.mark.parametrize("frozen", [True, False])
@settings(max_examples=40, deadline=None)
@given(a=values, b=values, c=values)
def test_a_record_acts_as_the_dataclass(body, frozen, a, b, c):
    data, rec = _both(body, frozen)
    names = [f.name for f in dataclasses.fields(data)]
    assert records.field_names(rec) == tuple(names) == rec.__match_args__
    assert str(inspect.signature(rec)) == str(inspect.signature(data))
    x, y = (a, b), (a, c)
    d1, d2, r1, r2 = data(*x), data(*y), rec(*x), rec(*y)
    assert repr(r1) == repr(d1)
    assert (r1 == r2) == (d1 == d2) and (r1 != r2) == (d1 != d2)
    assert r1 == rec(*x) and (r1 == d1) is False  # another class is never equal
    if frozen:
        assert (hash(r1) == hash(r2)) == (hash(d1) == hash(d2)) and hash(r1) == hash(d1)
        for action in (lambda o: setattr(o, names[0], 1), lambda o: delattr(o, names[0])):
            with pytest.raises(AttributeError):
                action(r1)
    else:
        assert rec.__hash__ is None and data.__hash__ is None
        setattr(r1, names[0], c)
        setattr(d1, names[0], c)
        assert repr(r1) == repr(d1)
    assert repr(records.replace(r1, **{names[0]: b})) == repr(dataclasses.replace(d1, **{names[0]: b}))
    assert records.asdict(r1) == dataclasses.asdict(d1)
    assert repr(rec(**dict(zip(names, x)))) == repr(data(*x))


@pytest.mark.parametrize("frozen", [True, False])
def test_wrong_arguments_are_refused_as_the_dataclass_refuses_them(frozen):
    data, rec = _both(plain, frozen)
    for args, kwargs in [((), {}), ((1, "a", 2, 3), {}), ((1,), {"size": 2, "name": "b"}), ((1, "a"), {"other": 1})]:
        with pytest.raises(TypeError):
            data(*args, **kwargs)
        with pytest.raises(TypeError):
            rec(*args, **kwargs)
    with pytest.raises(TypeError, match="no field 'other'"):
        records.replace(rec(1, "a"), other=2)


def test_a_default_factory_is_called_for_each_instance():
    _, rec = _both(with_factory, frozen=False)
    first, second = rec(1), rec(2)
    first.notes.append("x")
    assert second.notes == [] and "notes" not in vars(rec)


def test_a_subclass_adds_its_fields_after_the_base_fields():
    data_base, rec_base = _both(plain, frozen=False)
    data, rec = _both(lambda field: {"__annotations__": {"extra": "int"}, "extra": 5}, frozen=False,
                      base=(data_base, rec_base))
    assert records.field_names(rec) == tuple(f.name for f in dataclasses.fields(data))
    assert repr(rec(1, "a")) == repr(data(1, "a"))
    assert records.asdict(rec(1, "a", 2, 3)) == dataclasses.asdict(data(1, "a", 2, 3))


def test_eq_false_keeps_identity():
    data, rec = _both(plain, frozen=True, eq=False)
    assert rec(1, "a") != rec(1, "a") and data(1, "a") != data(1, "a")
    assert rec.__hash__ is object.__hash__


def test_a_default_before_a_required_field_is_refused():
    with pytest.raises(TypeError, match="non-default argument 'late' follows default argument 'early'"):
        records.record(type("Bad", (), {"__annotations__": {"early": "int", "late": "int"}, "early": 0}))


@pytest.mark.parametrize("frozen", [True, False])
def test_records_pickle_and_nest_into_dicts(frozen):
    _, rec = _both(plain, frozen)
    globals()["Value"] = rec  # pickle finds a class by its module and name
    rec.__qualname__ = "Value"
    try:
        value = rec(1, "a", rec(2, "b"))
        assert pickle.loads(pickle.dumps(value)) == value
        assert records.asdict(value) == {"size": 1, "name": "a", "halo": {"size": 2, "name": "b", "halo": 0}}
    finally:
        del globals()["Value"]


def test_no_kernelcli_module_uses_dataclasses():
    """Each dataclass cost a cold call 1.1-1.5 ms at import; :mod:`kernelcli.records` replaces them."""
    uses = re.compile(r"^\s*(from dataclasses import|import dataclasses)", re.M)
    found = [str(path) for path in (REPO / "kernelcli").rglob("*.py") if uses.search(path.read_text(encoding="utf-8"))]
    assert found == []


def test_making_a_record_class_compiles_nothing(monkeypatch):
    """What it saves: dataclasses runs ``exec`` for each method it makes (Python 3.11: six for a frozen class)."""
    import builtins

    compiled = []
    real_exec = builtins.exec
    monkeypatch.setattr(builtins, "exec", lambda *args, **kwargs: compiled.append(args[0]) or real_exec(*args, **kwargs))
    records.record(frozen=True)(type("Value", (), plain(records.field)))
    assert compiled == []
    dataclasses.dataclass(frozen=True)(type("Value", (), plain(dataclasses.field)))
    assert compiled  # the count can see an exec
