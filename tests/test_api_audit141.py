"""Audit 141 (the README read top to bottom): the Python API's findings, checked."""

from __future__ import annotations

import json

import numpy as np
import pytest

from kernelcli import Kernel, conv2d, conv3d, load_kernel, write_output
from kernelcli.errors import InvalidKernel, ShapeError, UsageError


# 8: the README said a hand-made Kernel is "2-D (or C x f x f) ..., as a kernel file's entry is"; it takes 3-D of any
# sides, as a kernel file read with max_ndim=3 does, and conv3d reads it (z, y, x): the README now says so (this pins it)

def test_a_hand_made_3d_kernel_is_taken_as_a_3d_kernel_file_is(tmp_path):
    taps = np.arange(1.0, 25.0).reshape(2, 3, 4)
    (tmp_path / "k.json").write_text(json.dumps({"name": "k", "matrix": taps.tolist()}))
    made = Kernel("k", taps)
    assert made.matrix == load_kernel(str(tmp_path / "k.json"), max_ndim=3).matrix
    with pytest.raises(InvalidKernel, match="expected 2-D"):
        load_kernel(str(tmp_path / "k.json"))  # (a file is 2-D unless 3-D is asked for)
    with pytest.raises(ShapeError, match="expected a 2-D matrix"):
        conv2d(np.ones((6, 7, 2)), made)
    volume = np.random.default_rng(8).random((4, 5, 6))
    assert np.allclose(conv3d(volume, made), conv3d(volume, taps))
    with pytest.raises((InvalidKernel, UsageError)):
        Kernel("q", np.ones((2, 2, 2, 2)))


# 10: write_output of a bool (or float) result to PNG advised '--rescale ... (convolve, pool)' and spoke of "this input"

@pytest.mark.parametrize("result", [np.eye(3, dtype=bool), np.eye(3), np.eye(3, dtype=np.int16)])
def test_write_output_advises_rescale_in_the_apis_words(tmp_path, result):
    with pytest.raises(UsageError) as info:
        write_output(tmp_path / "b.png", result)
    said = str(info.value)
    assert "pass rescale='clip'|'abs'|'minmax' for an 8-bit image" in said, said
    assert "--rescale" not in said and "(convolve, pool)" not in said and "this input" not in said, said
    assert f"PNG cannot hold the {result.dtype} values of this result as they are" in said, said
    assert not (tmp_path / "b.png").exists()
    write_output(tmp_path / "b.png", result, rescale="clip")  # following the advice writes it
    from PIL import Image

    assert np.array_equal(np.asarray(Image.open(tmp_path / "b.png")), np.clip(np.round(result.astype(float)), 0, 255))


def test_a_tiff_too_wide_advises_rescale_in_the_apis_words(tmp_path):
    with pytest.raises(UsageError, match=r"pass rescale='clip'\|'abs'\|'minmax' for an integer image$"):
        write_output(tmp_path / "w.tif", np.eye(3, dtype=np.uint64))


def test_the_command_line_still_advises_its_option(invoke, tmp_path):
    np.savetxt(tmp_path / "m.csv", np.eye(3) / 2, delimiter=",")
    r = invoke("convolve", "m.csv", "-k", "box:3", "-o", "m.png")
    assert r.exit_code == 2, r.output
    assert ("m.png: PNG cannot hold the float64 values from a matrix input as they are: write .tif or .npy to keep them, "
            "or pass --rescale clip|abs|minmax (convolve, pool) for an 8-bit image") in r.stderr, r.stderr
