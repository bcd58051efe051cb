"""Audit 186 (its notes): ``--rescale minmax`` on a constant result wrote every pixel 0, exit 0, without a word.

A constant result has no range to stretch; it is still written all 0 (as gallery draws a constant tile black), and
a note now says so, naming the value and what keeps it.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import pixels, run_in_process

SAID = "the result is constant (200): --rescale minmax has no range to stretch, so every pixel is 0"


def kc(tmp_path, *args):
    return run_in_process(*map(str, args), cwd=tmp_path)


@pytest.fixture
def files(tmp_path):
    np.save(tmp_path / "const.npy", np.full((8, 8), 200.0, np.float32))
    np.save(tmp_path / "c8.npy", np.full((8, 8), 200, np.uint8))
    np.save(tmp_path / "ramp.npy", np.arange(64.0).reshape(8, 8))
    return tmp_path


@pytest.mark.parametrize("out", ["o.png", "o.tif"])
def test_a_constant_result_stretched_by_minmax_is_named(files, out):
    r = kc(files, "convolve", "const.npy", "-k", "box:3", "-p", "valid", "--rescale", "minmax", "-o", out)
    assert r.returncode == 0, r.stderr
    assert f"note: {out}: {SAID}; --rescale clip writes the value where the output's range holds it, or write .npy" in r.stderr
    assert (pixels(files / out) == 0).all()


def test_the_record_and_pool_say_it_too(files):
    r = kc(files, "pool", "c8.npy", "--size", "2", "--rescale", "minmax", "-o", "p.png", "--json")
    assert r.returncode == 0, r.stderr
    assert any(SAID in note for note in json.loads(r.stdout)["notes"]), r.stdout


def test_no_note_where_there_is_a_range_or_no_stretch(files):
    r = kc(files, "convolve", "ramp.npy", "-k", "box:3", "--rescale", "minmax", "-o", "r.png")
    assert r.returncode == 0 and "constant" not in r.stderr, r.stderr
    r = kc(files, "convolve", "const.npy", "-k", "box:3", "-p", "valid", "--rescale", "clip", "-o", "c.png")
    assert r.returncode == 0 and "constant" not in r.stderr, r.stderr
    assert (pixels(files / "c.png") == 200).all()
