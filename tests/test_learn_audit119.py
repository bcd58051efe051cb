"""`learn`, audit 119: a kernel beyond float64, the --layout a printed convolve command needs, one plane word per
layout, gd's zeros beside a constant target's bias, one momentum range (CLI and API)."""

from __future__ import annotations

import json
import shlex

import numpy as np
import pytest

from kernelcli.api import conv2d
from kernelcli.errors import UsageError
from kernelcli.learn import LearnOptions, learn_kernel

from conftest import run_in_process

SOBEL = np.array([[1, 0, -1], [2, 0, -2], [1, 0, -1]], dtype=float)


# ---------------------------------------------------------------- #5: one momentum range


def test_the_api_takes_the_momentum_range_the_cli_takes(tmp_path):
    # LearnOptions(momentum=0.9995) was taken, where learn --momentum 0.9995 was refused (x<=0.999)
    with pytest.raises(UsageError, match=r"invalid momentum 0\.9995: expected 0 <= momentum <= 0\.999"):
        LearnOptions(momentum=0.9995)
    assert LearnOptions(momentum=0.999).momentum == 0.999
    np.save(tmp_path / "x.npy", np.random.default_rng(0).random((12, 12)))
    result = run_in_process("learn", "x.npy", "x.npy", "-f", "1", "--method", "gd", "--momentum", "0.9995", cwd=tmp_path)
    assert result.returncode == 2 and "x<=0.999" in result.stderr

