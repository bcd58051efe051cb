"""Audit 141 (the README read top to bottom): the Python API's findings, checked."""

from __future__ import annotations

import json

import numpy as np
import pytest

from kernelcli import Kernel, conv2d, conv3d, load_kernel
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
