"""`learn`, audit 135: a constant target's verdict at any scale, a kernel larger than the image, a --combine sum
target's one plane under --layout zyx, quoted paths in the per-channel notes."""

from __future__ import annotations

import json
import shlex

import numpy as np
import pytest

from kernelcli.api import conv2d
from kernelcli.errors import UsageError
from kernelcli.learn import LearnOptions, learn_kernel

from conftest import run_in_process


def _x32() -> np.ndarray:
    return np.random.default_rng(0).random((32, 32))


# ---------------------------------------------------------------- #1: a constant target at any scale

SCALES = [7.0, 0.1, 1e-14, 0.3, 100.1, 1e-30]


@pytest.mark.parametrize("value", SCALES)
def test_a_constant_target_without_a_bias_reads_as_an_offset_whatever_its_value(value):
    # 1e-14 gave 'residual 0%, fits: true' with the kernel 20% off; 0.1 gave 1.47e+17% and no offset warning; 7 gave
    # the offset warning and inf%
    result = learn_kernel(_x32(), np.full((32, 32), value), LearnOptions(size=3))
    assert result.relative_residual == np.inf and not result.fits, (result.relative_residual, result.warnings)
    assert any(w.startswith("the target has a constant offset") for w in result.warnings), result.warnings
    assert any(w.startswith("poor fit:") and "inf%" in w for w in result.warnings), result.warnings


@pytest.mark.parametrize("value", SCALES)
def test_a_constant_target_with_a_bias_fits_exactly_whatever_its_value(value):
    # 0.1 with --fit-bias: zeros and bias 0.1 (MSE 2e-30), but 'poor fit 1.04e+04%' and fits false
    result = learn_kernel(_x32(), np.full((32, 32), value), LearnOptions(size=3, fit_bias=True))
    assert result.relative_residual == 0.0 and result.fits and not result.warnings, (result.relative_residual, result.warnings)
    assert not result.kernel.any() and result.bias[0] == pytest.approx(value, rel=1e-12)


def test_a_varying_target_is_still_judged_on_its_spread():
    x = _x32()
    target = conv2d(x, np.ones((3, 3)) / 9) * 1e-14
    result = learn_kernel(x, target, LearnOptions(size=3))
    assert result.fits and result.relative_residual < 1e-9
    noisy = target + np.random.default_rng(1).normal(0, 1e-15, target.shape)
    assert not learn_kernel(x, noisy, LearnOptions(size=1)).fits


def test_convolve_bias_target_learns_with_a_bias(tmp_path):
    # convolve of an all-zero kernel with --bias 0.1, learned with --fit-bias: 'poor fit: 1.04e+04%' (exit 0)
    np.save(tmp_path / "x.npy", _x32())
    (tmp_path / "zero.json").write_text(json.dumps({"name": "zero", "matrix": [[0.0] * 3] * 3}))
    made = run_in_process("convolve", "x.npy", "--kernel", "zero.json", "--bias", "0.1", "--out", "t.npy", "-q", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    result = run_in_process("learn", "x.npy", "t.npy", "-f", "3", "--fit-bias", "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["fits"] and document["relative_residual"] == 0.0 and document["warnings"] == [], document
    assert document["bias"] == [0.1]
    plain = json.loads(run_in_process("learn", "x.npy", "t.npy", "-f", "3", "--json", cwd=tmp_path).stdout)
    assert not plain["fits"] and plain["relative_residual"] is None, plain  # inf is null in JSON
    assert any(w.startswith("the target has a constant offset") for w in plain["warnings"]), plain["warnings"]
