"""`learn`, audit 182: a diverging gd run told "stopped short", ``--optimizer sgd``'s step, ``--layout`` re-reading an
input, and ``--combine sum`` on one channel."""

from __future__ import annotations

import numpy as np
import pytest

from kernelcli.api import conv2d
from kernelcli.errors import UsageError
from kernelcli.learn import LearnOptions, learn_kernel

from conftest import run_in_process


def _rt_pair() -> tuple[np.ndarray, np.ndarray]:
    """The audit's x.npy and t_rt.npy: a random 23x29 image and its 4x4 random-kernel response (symmetric, stride 2)."""
    x = np.random.default_rng(5).random((23, 29)) * 10
    r = np.random.default_rng(3)
    r.normal(size=(3, 3))
    k = r.normal(size=(4, 4)).round(3)
    return x, conv2d(x, k, pad_mode="symmetric", stride=2)


# ---------------------------------------------------------------- #1: a loss that grew was told "more epochs"


@pytest.mark.parametrize("lr", [12.0, 6.0])
def test_a_loss_that_grew_past_the_all_zero_kernels_is_divergence(lr):
    # 'gd: ... epoch loss 506 -> 1.15e+03, final MSE 2.18e+03' and 'stopped 5.59 away ...; more --epochs ... would get
    # closer' (exit 0, the kernel 5.6 times worse than all zeros); --epochs 6, as told, was then "diverged"
    x, t = _rt_pair()
    options = LearnOptions(size=4, pad_mode="symmetric", stride=2, method="gd", lr=lr, gamma=1.0, epochs=3)
    with pytest.raises(UsageError, match=r"diverged \(learning rate [0-9]+\): its epoch loss grew from .* times the "
                                         r"all-zero kernel's it started from; try a smaller lr="):
        learn_kernel(x, t, options)


def test_a_loss_that_grew_but_ended_below_the_start_advises_a_smaller_rate():
    x, t = _rt_pair()
    r = learn_kernel(x, t, LearnOptions(size=4, pad_mode="symmetric", stride=2, method="gd", lr=4.0, gamma=1.0, epochs=2))
    assert r.history[-1] > r.history[0]
    [warning] = [w for w in r.warnings if "stopped" in w]
    assert "its epoch loss grew from" in warning and "a smaller lr= would get closer" in warning
    assert "epochs=" not in warning


def test_the_cli_refuses_a_diverging_run_and_writes_nothing(tmp_path):
    x, t = _rt_pair()
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "t.npy", t)
    done = run_in_process("learn", "x.npy", "t.npy", "-f", "4", "--pad-mode", "symmetric", "--stride", "2", "--method", "gd",
                          "--lr", "12", "--gamma", "1", "--epochs", "3", "-o", "d.json", cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert "diverged" in done.stderr and "try a smaller --lr" in done.stderr and "more --epochs" not in done.stderr
    assert not (tmp_path / "d.json").exists()
