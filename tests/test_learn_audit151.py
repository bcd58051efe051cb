"""`learn`, audit 151: gd's verdict on a constant target, a kernel wider than the image under symmetric padding, the
smaller-size advice's padding, --combine on one channel, --layout chw beside a sum's 2-D target."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from kernelcli.api import conv2d
from kernelcli.learn import LearnOptions, learn_kernel

from conftest import run_in_process


def _x32() -> np.ndarray:
    return np.random.default_rng(5).random((32, 32))


# ---------------------------------------------------------------- #1: gd on a constant target with --fit-bias


@pytest.mark.parametrize("value", [7.0, 0.1])
@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_gd_fits_a_constant_target_as_lstsq_does(value, optimizer):
    # sgd read 'fits: false, relative_residual: null' (RMS residual 3.5e-12 of the target's) with no warning, where
    # adam and lstsq read 0 and fits: true
    x = _x32()
    result = learn_kernel(x, np.full((32, 32), value), LearnOptions(size=3, fit_bias=True, method="gd", optimizer=optimizer))
    lstsq = learn_kernel(x, np.full((32, 32), value), LearnOptions(size=3, fit_bias=True))
    assert lstsq.fits and lstsq.relative_residual == 0.0
    assert result.fits and result.relative_residual == 0.0 and result.relative_residuals == [0.0], result
    assert result.warnings == [], result.warnings


def test_gd_per_channel_constant_channel_fits():
    # channel 1 constant 0.1, channels 0 and 2 a kernel's response: channel 1 read None (inf) and fits false
    x = np.random.default_rng(5).random((24, 26, 3))
    kernel = np.random.default_rng(3).standard_normal((3, 3))
    target = np.dstack([conv2d(x[..., c], kernel) for c in range(3)])
    target[..., 1] = 0.1
    result = learn_kernel(x, target, LearnOptions(size=3, fit_bias=True, method="gd"))
    assert result.fits and result.relative_residuals[1] == 0.0, (result.relative_residuals, result.warnings)


def test_gd_short_of_a_constant_target_is_warned():
    # a gd fit judged not exact (inf) is never unwarned
    x = np.random.default_rng(0).random((16, 16))
    result = learn_kernel(x, np.full((16, 16), 7.0), LearnOptions(size=3, fit_bias=True, method="gd", epochs=5))
    assert not result.fits and math.isinf(result.relative_residual)
    assert any(w.startswith("gradient descent stopped") for w in result.warnings), result.warnings


def test_gd_constant_target_kernel_file_has_no_inf(tmp_path):
    np.save(tmp_path / "x.npy", _x32())
    np.save(tmp_path / "c7.npy", np.full((32, 32), 7.0))
    done = run_in_process("learn", "x.npy", "c7.npy", "-f", "3", "--fit-bias", "--method", "gd", "-o", "k.json", "-q",
                          "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert document["fits"] and document["relative_residual"] == 0.0, document
    described = json.loads((tmp_path / "k.json").read_text())["description"]
    assert "inf%" not in described and "residual 0% of the target's std" in described, described
