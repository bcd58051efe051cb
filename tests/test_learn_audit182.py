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


# ---------------------------------------------------------------- #2: --optimizer sgd's step (audit 187 #1)


def _sgd_steps(scale):
    """One mini-batch of 4 windows of mean square norm ``scale**2``, its target, and two SGD steps from zero weights
    (v = mu v + g / max(1, the batch's mean window energy); w -= lr v): torch.optim.SGD's, the gradient divided by the
    batch's energy where that exceeds 1, as the README and --optimizer's help say."""
    rng = np.random.default_rng(1)
    an = rng.normal(size=(1, 4, 3))
    an *= scale / np.sqrt(np.mean(np.sum(an * an, axis=2)))
    yn = rng.normal(size=(1, 4))
    lr, momentum = 0.01, 0.9
    energy = float(np.mean(np.sum(an[0] * an[0], axis=1)))
    w, v = np.zeros(3), np.zeros(3)
    for _ in range(2):
        grad = (2.0 / 4) * an[0].T @ (an[0] @ w - yn[0])
        v = momentum * v + grad / max(1.0, energy)
        w = w - lr * v
    return an, yn, lr, momentum, w


@pytest.mark.parametrize("jitted", [False, True])
@pytest.mark.parametrize("scale", [5.0, 0.5])
def test_an_sgd_step_is_divided_by_a_bright_batchs_mean_window_energy(jitted, scale):
    # 560041b made it plain torch.optim.SGD: the default --method gd then diverged on a dark image with one bright spot
    from kernelcli.learn_gd import reference_epoch

    if jitted:
        from kernelcli._core.sgd import epoch as run_epoch
    else:
        run_epoch = reference_epoch
    an, yn, lr, momentum, expected = _sgd_steps(scale)
    w, velocity, second = np.zeros((1, 3)), np.zeros((1, 3)), np.zeros((1, 3))
    order = np.arange(4)
    for step in range(2):
        run_epoch(an, yn, order, 4, w, velocity, second, step, lr, momentum, False, np.ones(1))
    np.testing.assert_allclose(w[0], expected, rtol=1e-12)


def test_sgd_training_equals_torch_sgd_with_step_lr_on_the_energy_normalised_loss():
    # torch.optim.SGD(momentum) + StepLR on the same normalised system, batches and seed, each batch's loss divided by
    # its mean window energy where that exceeds 1 (which divides its gradient so): audit 182 matched it to 9e-16
    torch = pytest.importorskip("torch")
    from kernelcli.learn_gd import train_gd
    from kernelcli.learn_system import im2col_system, window_mean_preconditioner

    x, t = _rt_pair()
    options = LearnOptions(size=4, pad_mode="symmetric", stride=2, method="gd", optimizer="sgd", epochs=20, lr=0.05)
    a, y, _, _ = im2col_system(x, t, options, np.random.default_rng(0))
    w_ours, _, history, _ = train_gd(a, y, options)
    precond = window_mean_preconditioner(a)
    an = a @ precond
    sx = np.sqrt(np.mean(np.sum(an * an, axis=2), axis=1))
    sy = np.sqrt(np.mean(y * y, axis=1))
    an_t, yn_t = torch.tensor(an[0] / sx[0]), torch.tensor(y[0] / sy[0])
    weights = torch.zeros(a.shape[2], dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.SGD([weights], lr=options.learning_rate, momentum=options.momentum)
    epochs, step_size = options.schedule(a.shape[1])
    schedule = torch.optim.lr_scheduler.StepLR(optimizer, step_size=step_size, gamma=options.gamma)
    rng = np.random.default_rng(options.seed)
    capped = 0
    for _ in range(epochs):
        order = rng.permutation(a.shape[1])
        for start in range(0, a.shape[1], options.batch_size):
            batch = an_t[torch.tensor(order[start:start + options.batch_size])]
            target = yn_t[torch.tensor(order[start:start + options.batch_size])]
            energy = float(torch.mean(torch.sum(batch * batch, dim=1)))
            capped += energy > 1
            optimizer.zero_grad()
            (torch.nn.functional.mse_loss(batch @ weights, target) / max(1.0, energy)).backward()
            optimizer.step()
        schedule.step()
    w_torch = precond[0] @ weights.detach().numpy() * (sy[0] / sx[0])
    assert capped  # the comparison reaches the division
    np.testing.assert_allclose(w_ours[0], w_torch, rtol=0, atol=1e-12)


# ---------------------------------------------------------------- #4: --combine sum on one channel


SOBEL_V = np.array([[1.0, 0.0, -1.0], [2.0, 0.0, -2.0], [1.0, 0.0, -1.0]])


@pytest.mark.parametrize("method", ["lstsq", "gd"])
def test_a_sum_kernel_over_one_channel_is_that_channels_own(method):
    # noted 'the kernel learned is that channel's own (as per-channel)', yet a 1x3x3 kernel
    x = np.random.default_rng(0).random((24, 24))
    y = conv2d(x, SOBEL_V)
    plain = learn_kernel(x, y, LearnOptions(size=3, method=method))
    for input_ in (x, x[..., None]):
        summed = learn_kernel(input_, y, LearnOptions(size=3, method=method, combine="sum"))
        assert summed.kernel.shape == (3, 3)
        np.testing.assert_array_equal(summed.kernel, plain.kernel)


def test_the_cli_prints_records_and_writes_one_channels_sum_kernel_2d(tmp_path):
    import json

    x = np.random.default_rng(0).random((24, 24))
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "t.npy", conv2d(x, SOBEL_V))
    shown = run_in_process("learn", "x.npy", "t.npy", "-f", "3", "--combine", "sum", "-o", "s1.json", cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert "channel 0" not in shown.stdout and shown.stdout.split("\n")[0].split() == ["1", "0", "-1"]
    written = json.loads((tmp_path / "s1.json").read_text())
    assert np.ndim(written["matrix"]) == 2 and "summed" not in written["description"]
    recorded = run_in_process("learn", "x.npy", "t.npy", "-f", "3", "--combine", "sum", "--json", cwd=tmp_path)
    assert np.ndim(json.loads(recorded.stdout)["kernel"]) == 2


# ---------------------------------------------------------------- audit 181 #6: a name that is not UTF-8 in the file


def test_a_kernel_file_names_an_input_that_is_not_utf8_as_a_listing_does(tmp_path):
    # 'error: internal error: UnicodeEncodeError: ... surrogates not allowed', exit 70, no k.json
    import json
    import os

    x = np.random.default_rng(0).random((32, 32))
    name = os.fsdecode(b"in\xe9.npy")
    try:
        np.save(tmp_path / name, x)
    except (UnicodeEncodeError, OSError):
        pytest.skip("the file system takes no such name")
    np.save(tmp_path / "t.npy", conv2d(x, np.ones((3, 3)) / 9))
    done = run_in_process("learn", name, "t.npy", "-f", "3", "-o", "k.json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    written = json.loads((tmp_path / "k.json").read_bytes().decode("utf-8"))
    assert written["description"].startswith("Learned from in\\351.npy -> t.npy, 3x3")


# ---------------------------------------------------------------- #3: one --layout reads both arrays


def _hwc_and_chw(tmp_path):
    x = np.random.default_rng(1).random((20, 20, 3))
    np.save(tmp_path / "rgb_hwc.npy", x)
    np.save(tmp_path / "tpc_chw.npy", np.random.default_rng(0).random((3, 20, 20)))


@pytest.mark.parametrize("layout, odd, told", [
    ("chw", "rgb_hwc.npy (20x20x3) is read as 20 channels of 20x3; read (H, W, C), as it is without --layout, it fits",
     "save rgb_hwc.npy as (C, H, W) (np.moveaxis(x, -1, 0)) and keep --layout chw, or tpc_chw.npy as (H, W, C) "
     "(np.moveaxis(t, 0, -1)) with --layout hwc"),
    ("hwc", "tpc_chw.npy (3x20x20) is read as 3x20 pixels with 20 channels; read (C, H, W) it fits",
     "save tpc_chw.npy as (H, W, C) (np.moveaxis(t, 0, -1)) and keep --layout hwc"),
])
def test_a_layout_that_reads_one_array_the_wrong_way_is_named(tmp_path, layout, odd, told):
    # --layout chw: 'tpc_chw.npy is 128x128, but a 3x3 kernel ... on the 128x3 rgb_hwc.npy gives 128x3; --padding
    # 1,1,63,64 would fit'; --layout hwc: '... the target is that of a 126x1 kernel with --padding valid'
    _hwc_and_chw(tmp_path)
    done = run_in_process("learn", "rgb_hwc.npy", "tpc_chw.npy", "-f", "3", "--layout", layout, cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.startswith(f"error: --layout {layout} reads both arrays, so {odd}")
    assert told in done.stderr and "--padding" not in done.stderr and "\n" == done.stderr[-1] and done.stderr.count("\n") == 1


def test_a_layout_refusal_gives_the_other_readings_own_shape_advice(tmp_path):
    _hwc_and_chw(tmp_path)
    done = run_in_process("learn", "rgb_hwc.npy", "tpc_chw.npy", "-f", "3", "--layout", "chw", "--padding", "valid",
                          cwd=tmp_path)
    assert done.returncode == 2
    assert "--layout chw reads both arrays, so rgb_hwc.npy (20x20x3) is read as 20 channels of 20x3" in done.stderr
    assert "read so, tpc_chw.npy is 20x20, but a 3x3 kernel with padding valid and stride 1 on the 20x20 rgb_hwc.npy " \
           "gives 18x18; --padding same would fit" in done.stderr


def test_a_layout_both_arrays_share_still_learns(tmp_path):
    x = np.random.default_rng(1).random((3, 20, 20))
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "t.npy", np.stack([conv2d(c, SOBEL_V) for c in x]))
    done = run_in_process("learn", "x.npy", "t.npy", "-f", "3", "--layout", "chw", "-q", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("channel 0:\n 1  0 -1")
