"""Review 155 #3: a long number below a size or width option's floor is refused by the floor.

``learn -f -1e40``, ``pool -f -1e40``, ``shape --in -1e40`` and ``pad -p -1e40`` said "a size (width) of 41 digits"
where ``-f -1`` and ``--seed -1e40`` say "not in the range x>=1"; the F/FxF and padding forms counted the digits of
the number's magnitude.  They now ask :func:`kernelcli.whole_numbers.below_floor`, as the integer options' parser.
"""

from __future__ import annotations

import numpy as np
import pytest

from conftest import run_in_process
from kernelcli import numtext, shapes, whole_numbers

F = "'--size' / '-f' / '--f'"
P = "'--padding' / '-p' / '--p'"
IN = "'--input' / '--in' / '-i'"


@pytest.mark.parametrize(("args", "option", "said"), [
    (("learn", "a.npy", "a.npy", "-f", "-1e40", "-o", "k.json"), F, "-1e40 is not in the range x>=1."),
    (("pool", "a.npy", "-f", "-1e40", "-o", "x.npy"), F, "-1e40 is not in the range x>=1."),
    (("shape", "--in", "-1e40", "-f", "3"), IN, "-1e40 is not in the range x>=1."),
    (("shape", "--in", "8", "-f", "3x-1e40"), F, "'3x-1e40': every size must be an integer >= 1"),
    (("pad", "a.npy", "-p", "-1e40", "-o", "x.npy"), P, "-1e40 is not in the range x>=0."),
    (("pad", "a.npy", "-p", "1,1,1,-1e40", "-o", "x.npy"), P, "'1,1,1,-1e40': every width must be an integer >= 0"),
    (("convolve", "a.npy", "-k", "box:3", "-p", "-1e40", "-o", "x.npy"), P, "-1e40 is not in the range x>=0."),
    (("shape", "--in", "8", "-f", "3", "-p", "-1" + "0" * 40), P, f"{numtext.quoted('-1' + '0' * 40)} is not in the range x>=0."),
], ids=["learn-f", "pool-f", "shape-in", "shape-FxF", "pad-p", "pad-TBLR", "convolve-p", "shape-p-digits"])
def test_a_long_number_below_the_floor_is_refused_by_the_floor(tmp_path, args, option, said):
    np.save(tmp_path / "a.npy", np.arange(256.0).reshape(16, 16))
    done = run_in_process(*args, cwd=tmp_path)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.strip() == f"error: Invalid value for {option}: {said} (see 'kernelcli {args[0]} -h')"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.npy"]


def test_the_same_words_as_a_short_number_below_the_floor(tmp_path):
    short = run_in_process("shape", "--in", "-1", "-f", "3", cwd=tmp_path).stderr
    long = run_in_process("shape", "--in", "-1e40", "-f", "3", cwd=tmp_path).stderr
    assert short.replace("-1 is", "-1e40 is") == long


def test_a_long_number_above_the_floor_is_still_refused_by_its_digits():
    with pytest.raises(whole_numbers.BadValue, match="a width of 41 digits"):
        shapes.parse_padding("1,1,1e40,-1")
    with pytest.raises(whole_numbers.BadValue, match="a size of 41 digits"):
        shapes.parse_dims("1e40", name="--in")


@pytest.mark.parametrize(("number", "low", "below"), [
    ("-1e40", 1, True), (-(10**40), 0, True), ("-1e5000", 0, True), ("1e40", 1, False), ("-1", None, False),
    ("0", 1, True), ("0", 0, False), (None, 1, False),
])
def test_below_floor(number, low, below):
    assert whole_numbers.below_floor(number, low) is below
