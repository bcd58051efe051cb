"""Audit 132 (one vocabulary, round 3) #2: a padding has one name however it is spelt.  ``-p 1`` and ``-p 1,1,1,1``
(and ``-p 0``, ``valid``, ``0,0,0,0`` for a convolution) wrote files of the same bytes under two or three names, so
the guard against overwriting never spoke; pool already named them alike."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from conftest import run_in_process


@pytest.fixture
def png(tmp_path):
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (12, 14), dtype=np.uint8)).save(tmp_path / "a.png")
    return tmp_path


@pytest.mark.parametrize("command, spellings, name", [
    (["pad", "a.png"], [["-p", "1"], ["-p", "1,1,1,1"]], "a_pad_p1.png"),
    (["pad", "a.png"], [["-p", "0"], ["-p", "0,0,0,0"]], "a_pad_p0.png"),
    (["convolve", "a.png", "-k", "box:3"], [["-p", "valid"], ["-p", "0"], ["-p", "0,0,0,0"]], "a_box_3_valid.png"),
    (["convolve", "a.png", "-k", "box:3", "-s", "2"], [["-p", "2"], ["-p", "2,2,2,2"]], "a_box_3_s2_p2.png"),
    (["pool", "a.png", "-f", "3"], [["-p", "1"], ["-p", "1,1,1,1"]], "a_maxpool3p1.png"),
])
def test_equal_paddings_are_one_result_under_one_name(png, command, spellings, name):
    first = run_in_process(*command, *spellings[0], "-q", cwd=png)
    assert first.returncode == 0 and (png / name).exists(), (first.stderr, sorted(p.name for p in png.iterdir()))
    for spelling in spellings[1:]:
        again = run_in_process(*command, *spelling, "-q", cwd=png)
        assert again.returncode == 4 and f"{name}: already exists" in again.stderr, again.stderr
    assert sorted(p.name for p in png.iterdir()) == sorted(["a.png", name])
