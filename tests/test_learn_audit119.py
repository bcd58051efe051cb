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

from conftest import documentation, run_in_process

SOBEL = np.array([[1, 0, -1], [2, 0, -2], [1, 0, -1]], dtype=float)


# ---------------------------------------------------------------- #5: one momentum range


def test_the_api_takes_the_momentum_range_the_cli_takes(tmp_path):
    # LearnOptions(momentum=0.9995) was taken, where learn --momentum 0.9995 was refused (x<=0.999)
    with pytest.raises(UsageError, match=r"momentum must be a number with 0 <= momentum <= 0\.999, got 0\.9995"):
        LearnOptions(momentum=0.9995)
    assert LearnOptions(momentum=0.999).momentum == 0.999
    np.save(tmp_path / "x.npy", np.random.default_rng(0).random((12, 12)))
    result = run_in_process("learn", "x.npy", "x.npy", "-f", "1", "--method", "gd", "--momentum", "0.9995", cwd=tmp_path)
    assert result.returncode == 2 and "x<=0.999" in result.stderr


# ---------------------------------------------------------------- #1: a kernel beyond float64


def _scaled_pair(input_scale: float, target_scale: float) -> tuple[np.ndarray, np.ndarray]:
    x = np.random.default_rng(0).random((32, 32)) + 0.5
    return x * input_scale, conv2d(x, SOBEL) * target_scale


@pytest.mark.parametrize("method", ["lstsq", "gd"])
@pytest.mark.parametrize(("input_scale", "target_scale", "decade"), [(1e-300, 1e100, "1e+400"), (1e300, 1e-100, "1e-400")],
                         ids=["beyond", "below"])
def test_a_kernel_beyond_float64_is_refused(method, input_scale, target_scale, decade):
    # Sobel x 1e400 came out inf/-inf (and Sobel x 1e-400 all zeros) with fits true, a residual of 5e-12% and no warning
    x, t = _scaled_pair(input_scale, target_scale)
    with pytest.raises(UsageError) as caught:
        learn_kernel(x, t, LearnOptions(size=3, method=method), input_name="x.npy", target_name="t.npy")
    message = str(caught.value)
    assert "\n" not in message and "x.npy" in message and "t.npy" in message and "float64" in message, message
    assert f"near {decade}" in message and "reach" in message, message


def test_the_cli_refuses_it_and_writes_no_infinity(tmp_path):
    # exit 0, 'inf -inf -inf' printed and "matrix": [[Infinity, ...]] written, which convolve then refused (exit 3)
    x, t = _scaled_pair(1e-300, 1e100)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "t.npy", t)
    result = run_in_process("learn", "x.npy", "t.npy", "-f", "3", "--out", "k.json", cwd=tmp_path)
    assert result.returncode == 2 and "inf" not in result.stdout, (result.stdout, result.stderr)
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr, result.stderr
    assert "x.npy" in result.stderr and "t.npy" in result.stderr and not (tmp_path / "k.json").exists()


@pytest.mark.parametrize("method", ["lstsq", "gd"])
def test_data_far_from_1_with_a_kernel_in_range_still_learn(method):
    # the refusal is of the kernel's range, not the data's: each far from 1, their ratio near it; and the solver's
    # noise beside a constant target's bias (taps near 1e-315 in these units) is zeros, not a kernel out of range
    x, t = _scaled_pair(1e-250, 1e-250)
    result = learn_kernel(x, t, LearnOptions(size=3, method=method))
    assert np.allclose(result.kernel, SOBEL, rtol=1e-6, atol=1e-6) and result.fits
    big = np.random.default_rng(1).random((32, 32)) * 1e300
    constant = learn_kernel(big, np.full((32, 32), 7.25), LearnOptions(size=3, fit_bias=True, method=method))
    assert np.all(constant.lstsq.kernel == 0) and constant.bias[0] == pytest.approx(7.25)
    assert np.all(np.abs(constant.kernel) < 1e-9 * 7.25 / 1e300)  # gd: its training's leftover, a billionth of a tap's scale


# ---------------------------------------------------------------- #2: the printed convolve command names --layout


def _volume(tmp_path, combine: str, stride: int, shape=(4, 30, 32)):
    """A (Z, Y, X) volume and its target: every slice filtered by Sobel (per-channel, shared), or a Z x 3 x 3 kernel's
    responses summed (sum, a 1-slice target)."""
    v = np.random.default_rng(2).random(shape)
    if combine == "sum":
        k = np.random.default_rng(9).standard_normal((shape[0], 3, 3))
        t = sum(conv2d(v[i], k[i], stride=stride) for i in range(shape[0]))[None]
    else:
        t = np.stack([conv2d(s, SOBEL, stride=stride) for s in v])
    np.save(tmp_path / "v.npy", v)
    np.save(tmp_path / "t.npy", t)
    return t


def _run_printed(tmp_path, command: str, out: str) -> np.ndarray:
    words = shlex.split(command)
    assert words[:2] == ["kernelcli", "convolve"], command
    result = run_in_process(*words[1:], "--out", out, "-q", cwd=tmp_path)
    assert result.returncode == 0, (command, result.stderr)
    return np.load(tmp_path / out)


@pytest.mark.parametrize("stride", [1, 2])
@pytest.mark.parametrize("combine", ["shared", "sum"])
def test_the_printed_command_gives_the_target_under_layout_zyx(tmp_path, combine, stride):
    # 'the target is kernelcli convolve vol.npy --kernel vsh.json --stride 2': refused as ambiguous, or (a (6, 40, 4)
    # volume) read as (H, W, C), another array with exit 0; a sum kernel printed no note, and only --layout chw gives it
    t = _volume(tmp_path, combine, stride)
    result = run_in_process("learn", "v.npy", "t.npy", "-f", "3", "--layout", "zyx", "--combine", combine,
                            "--stride", str(stride), "--out", "k.json", "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    notes = [n for n in json.loads(result.stdout)["notes"] if n.startswith("the target is ")]
    assert len(notes) == 1, json.loads(result.stdout)["notes"]
    layout = "chw" if combine == "sum" else "zyx"
    assert f"--layout {layout}" in notes[0]
    got = _run_printed(tmp_path, notes[0][len("the target is "):], "o.npy")
    assert got.size == t.size and np.allclose(got.reshape(t.shape), t, rtol=1e-6, atol=1e-6), np.abs(got.reshape(t.shape) - t).max()
    description = json.loads((tmp_path / "k.json").read_text())["description"]
    assert f"convolve gives the target with --layout {layout}" in description, description


def test_a_thin_volume_is_not_read_as_an_image(tmp_path):
    # a (6, 40, 4) volume: without --layout convolve read it as (H, W, C) = 6x40 with 4 channels, shape (3, 20, 4)
    t = _volume(tmp_path, "shared", 2, shape=(6, 40, 4))
    result = run_in_process("learn", "v.npy", "t.npy", "-f", "3", "--layout", "zyx", "--combine", "shared",
                            "--stride", "2", "--out", "k.json", cwd=tmp_path)
    command = next(line for line in result.stderr.splitlines() if line.startswith("note: the target is "))
    got = _run_printed(tmp_path, command[len("note: the target is "):], "o.npy")
    assert got.shape == t.shape and np.allclose(got, t, rtol=1e-6, atol=1e-6)


def test_each_slice_kernel_names_the_layout(tmp_path):
    t = _volume(tmp_path, "per-channel", 2)
    result = run_in_process("learn", "v.npy", "t.npy", "-f", "3", "--layout", "zyx", "--stride", "2", "--out", "k.json",
                            "--json", cwd=tmp_path)
    note = next(n for n in json.loads(result.stdout)["notes"] if "with convolve --kernel k.json:NAME" in n)
    options = note.split("k.json:NAME ", 1)[1]
    assert options == "--layout zyx --stride 2", note
    got = _run_printed(tmp_path, f"kernelcli convolve v.npy --kernel k.json:k_s1 {options}", "o.npy")
    assert np.allclose(got[1], t[1], rtol=1e-6, atol=1e-6)
    kernels = json.loads((tmp_path / "k.json").read_text())["kernels"]
    assert all("--layout zyx --stride 2" in k["description"] for k in kernels), kernels[0]["description"]


# ---------------------------------------------------------------- #4: gd beside a constant target's bias


def test_the_readme_says_gd_keeps_its_leftover_beside_a_constant_target():
    # the README said such a kernel 'is zeros, not 1e-15s', true of lstsq; gd printed taps of 1e-12..3e-11

    x = np.random.default_rng(0).random((32, 32))
    result = learn_kernel(x, np.full((32, 32), 7.25), LearnOptions(size=3, fit_bias=True, method="gd"))
    assert np.all(result.lstsq.kernel == 0) and result.bias[0] == pytest.approx(7.25)
    # (max |gd - lstsq| is measured from the least-squares taps before their rounding, ~1e-14 here, is zeroed)
    assert np.all(np.abs(result.kernel) <= result.max_diff_vs_lstsq + 1e-13)
    readme = " ".join(documentation().split())
    assert "That holds for lstsq; gd's kernel there keeps what its training left, up to its `max |gd - lstsq|`" in readme


# ---------------------------------------------------------------- #3: one plane word per layout


def test_a_volume_run_says_slice_in_every_warning_and_note(tmp_path):
    # 'worst slice 1' in the lstsq line, but 'channel 1' in the offset and poor-fit warnings and the file notes
    v = np.random.default_rng(2).random((4, 30, 32))
    t = np.stack([conv2d(s, SOBEL) for s in v])
    t[1] += 3
    np.save(tmp_path / "v.npy", v)
    np.save(tmp_path / "t.npy", t)
    result = run_in_process("learn", "v.npy", "t.npy", "-f", "3", "--layout", "zyx", "--out", "k.json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "channel" not in result.stderr and "worst slice 1" in result.stderr, result.stderr
    assert "warning: slice 1: the target has a constant offset" in result.stderr, result.stderr
    assert "warning: poor fit: slice 1:" in result.stderr and "holds one kernel per slice" in result.stderr
    document = json.loads((tmp_path / "k.json").read_text())
    assert "channel" not in json.dumps(document), document["description"]
    np.save(tmp_path / "t2.npy", np.stack([conv2d(s, SOBEL) for s in v]))
    agree = run_in_process("learn", "v.npy", "t2.npy", "-f", "3", "--layout", "zyx", cwd=tmp_path)
    assert "the 4 per-slice kernels agree" in agree.stderr and "channel" not in agree.stderr, agree.stderr


def test_the_api_is_told_the_word():
    v = np.random.default_rng(2).random((30, 32, 3))
    t = np.dstack([conv2d(v[:, :, c], SOBEL) for c in range(3)])
    t[:, :, 2] += 3
    said = learn_kernel(v, t, LearnOptions(size=3), plane="slice").warnings
    assert said and all("slice 2" in w and "channel" not in w for w in said), said
    assert all("channel 2" in w for w in learn_kernel(v, t, LearnOptions(size=3)).warnings)
    with pytest.raises(UsageError, match="invalid plane 'voxel': expected one of channel, slice"):
        learn_kernel(v, t, LearnOptions(size=3), plane="voxel")
