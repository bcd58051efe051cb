"""`learn`, audit 187: the default gd on a dark image with one bright spot."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.ndimage import correlate

from kernelcli import learn_gd
from kernelcli.learn import LearnOptions, learn_kernel

from conftest import documentation, run_in_process

SOBEL_V = np.array([[1.0, 0, -1], [2, 0, -2], [1, 0, -1]])


def _bright_spot() -> tuple[np.ndarray, np.ndarray]:
    """The audit's sp.npy and sp_t.npy: a dark 128x128 image (noise below 0.01) with one 4x4 spot of 100, and its
    sobel_v response (zero fill): the batches holding the spot's edges have hundreds of times the mean window energy."""
    x = np.zeros((128, 128))
    x[60:64, 60:64] = 100.0
    x += np.random.default_rng(0).random((128, 128)) * 0.01
    return x, correlate(x, SOBEL_V, mode="constant")


# ---------------------------------------------------------------- #1: plain SGD diverged at the default --lr


@pytest.mark.parametrize("jitted", [False, True])
def test_the_default_gd_trains_on_a_dark_image_with_one_bright_spot(monkeypatch, jitted):
    # 560041b's plain SGD: 'gradient descent diverged (learning rate 0.1): its last epoch's loss, 3.85e+209, is
    # 3.03e+207 times the all-zero kernel's ...', exit 2; the default lr is to fit every image, this one included
    monkeypatch.setattr(learn_gd, "JIT_EPOCH_WORK", 0 if jitted else 10**12)
    x, t = _bright_spot()
    result = learn_kernel(x, t, LearnOptions(size=3, padding="same", method="gd"))
    assert result.max_diff_vs_lstsq < 0.01
    assert result.history[-1] < 1e-3 * result.history[0]
    np.testing.assert_allclose(result.kernel, SOBEL_V, atol=0.01)


def test_the_readme_and_help_say_how_sgd_steps():
    from kernelcli.cli.options import HELP

    readme = " ".join(documentation().split())
    assert ("`--optimizer sgd` is SGD with momentum (`torch.optim.SGD(momentum=...)`) whose step is divided by the "
            "mini-batch's mean window energy (the mean square norm of its windows) where that exceeds 1") in readme
    assert "one `--lr` fits every image; `adam` steps as `torch.optim.Adam`" in readme
    assert "divided by the mini-batch's mean window energy where that exceeds 1, so one --lr fits every image" in HELP["optimizer"]


# ---------------------------------------------------------------- #2: one --layout blamed the array read right


def _chw_and_hwc(tmp_path):
    np.save(tmp_path / "rgb_chw.npy", np.random.default_rng(1).random((3, 20, 20)))
    np.save(tmp_path / "t_hwc.npy", np.random.default_rng(0).random((20, 20, 3)))


@pytest.mark.parametrize("layout, odd, told", [
    ("chw", "t_hwc.npy (20x20x3) is read as 20 channels of 20x3; read (H, W, C), as it is without --layout, it fits "
            "rgb_chw.npy's 3 channels of 20x20",
     "save t_hwc.npy as (C, H, W) (np.moveaxis(t, -1, 0)) and keep --layout chw, or rgb_chw.npy as (H, W, C) "
     "(np.moveaxis(x, 0, -1)) with --layout hwc"),
    ("hwc", "rgb_chw.npy (3x20x20) is read as 3x20 pixels with 20 channels; read (C, H, W) it fits t_hwc.npy's 20x20 "
            "pixels with 3 channels",
     "save rgb_chw.npy as (H, W, C) (np.moveaxis(x, 0, -1)) and keep --layout hwc, or t_hwc.npy as (C, H, W) "
     "(np.moveaxis(t, -1, 0)) with --layout chw"),
])
def test_a_layout_refusal_blames_the_array_read_the_wrong_way_when_it_is_the_target(tmp_path, layout, odd, told):
    # a (C, H, W) input beside an (H, W, C) target, --layout chw: 'so rgb_chw.npy (3x128x128) is read as 3 channels of
    # 128x128; read (H, W, C) its channels match t_hwc.npy's; read so, ... no padding fits', the input read right
    # blamed, where the (H, W, C) input beside a (C, H, W) target named the target (test_learn_audit182)
    _chw_and_hwc(tmp_path)
    done = run_in_process("learn", "rgb_chw.npy", "t_hwc.npy", "-f", "3", "--layout", layout, cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.startswith(f"error: --layout {layout} reads both arrays, so {odd}")
    assert told in done.stderr and "padding" not in done.stderr and done.stderr.count("\n") == 1

