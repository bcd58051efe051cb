"""Audit 201 #1: gallery refused a --pad-value its maps' dtype cannot hold without naming the input, and only after
it had read the input and reduced it to the tiles' scale; convolve names it (``f32.npy: --pad-value 1e39 does not fit
float32``).  Both refuse it in the same words, before any map is computed."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import run_cli


@pytest.mark.parametrize("dtype", ["float32", "uint8"])
def test_gallery_names_the_input_of_a_fill_it_cannot_hold_as_convolve_does(tmp_path, dtype):
    np.save(tmp_path / "x.npy", (np.random.default_rng(0).random((40, 50)) * 200).astype(dtype))
    gallery = run_cli("gallery", "x.npy", "--family", "edge", "--pad-value", "1e39", "-o", "g.png", cwd=tmp_path)
    convolve = run_cli("convolve", "x.npy", "-k", "sobel_v", "--pad-value", "1e39", "-o", "c.npy", cwd=tmp_path)
    assert convolve.returncode == 2 and convolve.stderr.startswith("error: x.npy: --pad-value 1e39 does not fit"), convolve
    assert (gallery.returncode, gallery.stderr) == (convolve.returncode, convolve.stderr)
    assert not (tmp_path / "g.png").exists()
