"""A value that is none of an option's choices is refused in one wording, whichever command and option (audit 98
#10): learn's --method, --optimizer and --combine and every --format said Click's "'x' is not one of 'a', 'b'.",
the others "invalid pad mode 'x': expected one of a, b"; --layout said "invalid" twice; --window was refused without
"Invalid value for '--window'", after the input was read."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import run_in_process


@pytest.fixture
def a3(tmp_path):
    np.save(tmp_path / "a3.npy", np.random.default_rng(98).random((3, 8, 8)).astype(np.float32))
    return tmp_path


@pytest.mark.parametrize("args, said", [
    (["convolve", "a3.npy", "-k", "sobel_v", "--layout", "zyx", "--combine", "bad"],
     "Invalid value for '--combine': invalid combine mode 'bad': expected one of per-channel, sum"),
    (["learn", "a3.npy", "a3.npy", "-f", "3", "--layout", "chw", "--combine", "bad"],
     "Invalid value for '--combine': invalid combine mode 'bad': expected one of per-channel, shared, sum"),
    (["learn", "a3.npy", "a3.npy", "-f", "3", "--method", "bad"],
     "Invalid value for '--method': invalid method 'bad': expected one of lstsq, gd"),
    (["learn", "a3.npy", "a3.npy", "-f", "3", "--optimizer", "bad"],
     "Invalid value for '--optimizer': invalid optimizer 'bad': expected one of sgd, adam"),
    (["convolve", "a3.npy", "-k", "sobel_v", "--format", "bad"],
     "Invalid value for '--format': invalid format 'bad': expected one of png, tif, npy, csv, jpg, bmp"),
    (["pool", "a3.npy", "-f", "2", "--layout", "bad"],
     "Invalid value for '--layout': invalid layout 'bad': expected one of hwc, chw, zyx"),
    (["pool", "a3.npy", "-f", "2", "--op", "bad"], "Invalid value for '--op': invalid pool op 'bad': expected one of max, min, avg"),
    (["convolve", "missing.nii.gz", "-k", "sobel_v", "--window", "bad"],
     "Invalid value for '--window': invalid window 'bad': expected CENTRE,WIDTH in HU"),
    (["convolve", "missing.nii.gz", "-k", "sobel_v", "--window", "40,0"],
     "Invalid value for '--window': invalid window '40,0': the width must be a number >= 1"),
])
def test_one_wording(a3, args, said):
    r = run_in_process(*args, cwd=a3)
    assert r.returncode == 2, r.stderr
    assert said in r.stderr and "is not one of" not in r.stderr, r.stderr
    assert r.stderr.count("\n") == 1


def test_the_choices_still_read_in_any_case(a3):
    r = run_in_process("learn", "a3.npy", "a3.npy", "-f", "3", "--layout", "chw", "--method", "LSTSQ", "-o", "k.json", "-q", cwd=a3)
    assert r.returncode == 0, r.stderr
