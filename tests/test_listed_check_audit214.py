"""Audit 214 F7: the check of a list's rounded whole numbers took a Python step for every value of a float list past 2**53.

``pool2d`` of a 2000x2000 list of 1e20s took 1.9 s instead of 0.26 (given_values.refuse_rounded_listed alone 2.4 s,
visiting each element with isinstance tests, finding nothing).  Now a list of floats alone is passed over in one
C-level look at its types, and in a list of numbers only the values numpy flags as past 2**53 are looked at.
Counted here, not timed.
"""

from __future__ import annotations

import numpy as np
import pytest

import kernelcli as K
from kernelcli import given_values
from kernelcli.errors import UsageError


@pytest.fixture
def looked_at(monkeypatch):
    seen = []
    each = given_values._rounded_int

    def counted(value, where):
        seen.append(where)
        return each(value, where)

    monkeypatch.setattr(given_values, "_rounded_int", counted)
    return seen


class TestTheListCheckLooksOnlyWhereAnIntCanBeRounded:
    def test_a_list_of_large_floats_is_not_walked_value_by_value(self, looked_at):
        x = (np.random.default_rng(0).random((300, 300)) * 1e20).tolist()
        assert K.pool2d(x, 2).shape == (150, 150)
        assert looked_at == []

    def test_in_a_row_of_numbers_only_those_past_2_53_are_looked_at(self, looked_at):
        x = [[float(i) for i in range(50)] for _ in range(50)]
        x[7] = list(range(49)) + [1e20]
        assert K.pool2d(x, 2).shape == (25, 25)
        assert looked_at == [(7, 49)]

    @pytest.mark.parametrize("listed, where", [
        ([[0.5] * 40 + [2**64 - 1]] * 3, (0, 40)),
        ([(0.5, 1e20), (1e30, 2**53 + 1)], (1, 1)),
        ([[[1.0, 2.0]], [[1e20, 2**63 + 3]]], (1, 0, 1)),
        ([np.array([1.0, 2.0]), [1e20, 2**60 + 1]], (1, 1)),
    ])
    def test_the_first_rounded_int_is_still_named(self, listed, where):
        with pytest.raises(UsageError, match=rf"^x: the value at \({', '.join(map(str, where))}\) is "):
            K.pool2d(listed, 1)

    def test_ints_float64_holds_pass(self):
        assert K.pool2d([[2**60, 0.5], [1e20, 2.0**70]], 1).shape == (2, 2)


# Audit 217 #3: rows that are list or tuple subclasses (namedtuple rows, a list subclass) were neither nested nor
# numbers to the exact-type test: pool2d gave 9007199254740992.0 for 2**53 + 1 and write_output wrote it, in silence
_Row = __import__("collections").namedtuple("_Row", "a b")


class _Listed(list):
    pass


@pytest.mark.parametrize("listed, where", [
    ([_Row(2**53 + 1, 0.5), _Row(1.0, 1.0)], (0, 0)),
    ([_Row(1.0, 1.0), _Row(0.5, 2**53 + 1)], (1, 1)),
    ([_Listed([2**53 + 1, 0.5]), _Listed([1.0, 1.0])], (0, 0)),
    ([[_Listed([1.0, 2**53 + 1])], [_Listed([1.0, 1.0])]], (0, 0, 1)),
], ids=["namedtuple", "namedtuple-second-row", "list-subclass", "list-subclass-deep"])
@pytest.mark.parametrize("call", ["pool2d", "conv2d", "write_output"])
def test_rows_of_list_and_tuple_subclasses_are_checked_as_lists(listed, where, call, tmp_path):
    name = "result" if call == "write_output" else "x"
    run = {"pool2d": lambda: K.pool2d(listed, 1, op="avg"), "conv2d": lambda: K.conv2d(listed, [[1.0]]),
           "write_output": lambda: K.write_output(tmp_path / "w.npy", listed)}[call]
    with pytest.raises(UsageError, match=rf"^{name}: the value at \({', '.join(map(str, where))}\) is 9007199254740993, "):
        run()
    assert not (tmp_path / "w.npy").exists()
