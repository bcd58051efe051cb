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


# ---------------------------------------------------------------- #2: a kernel larger than the image


def _learn_error(x: np.ndarray, size: int, **options) -> str:
    kernel = np.random.default_rng(5).standard_normal((size, size))
    target = conv2d(x, kernel, **options)
    with pytest.raises(UsageError) as caught:
        learn_kernel(x, target, LearnOptions(size=size, **options), input_name="x.npy")
    return str(caught.value)


@pytest.mark.parametrize(("rows", "size", "mode", "cause", "largest"), [
    (3, 4, "circular", "its rows 0 and 3 read the same pixels", 3),
    (2, 5, "constant", "its rows 0 and 4 read only the padding (zeros)", 3),
    (2, 5, "replicate", "its rows 0 and 1 read the same pixels at every window, as do rows 3 and 4", 3),
])
def test_a_kernel_taller_than_the_image_is_named_not_its_texture(rows, size, mode, cause, largest):
    # 'x3r.npy has too little texture to decide a 4x4 kernel ...; use a more detailed image' for uniform noise
    x = np.random.default_rng(0).random((rows, 40))
    message = _learn_error(x, size, pad_mode=mode)
    assert "texture" not in message and "more detailed" not in message, message
    assert f"a {size}-row kernel is taller than x.npy's {rows} rows" in message and cause in message, message
    assert message.endswith(f"use size={largest} or smaller"), message
    kernel = np.random.default_rng(5).standard_normal((largest, largest))
    assert learn_kernel(x, conv2d(x, kernel, pad_mode=mode), LearnOptions(size=largest, pad_mode=mode)).fits


def test_a_kernel_wider_than_the_image_names_its_columns_and_the_dilation():
    x = np.random.default_rng(0).random((40, 4))
    message = _learn_error(x, 3, pad_mode="circular", dilation=2)
    assert "a 3-column kernel (at dilation=2 it spans 5) is wider than x.npy's 4 columns" in message, message
    assert "columns 0 and 2 read the same pixels" in message and message.endswith("use size=2 or smaller"), message


def test_the_cli_names_the_size_and_exits_2(tmp_path):
    x = np.random.default_rng(0).random((3, 40))
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "t.npy", conv2d(x, np.ones((4, 4)), pad_mode="circular"))
    result = run_in_process("learn", "x.npy", "t.npy", "-f", "4", "-m", "circular", cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert result.stderr.count("\n") == 1 and "taller than x.npy's 3 rows" in result.stderr, result.stderr


def test_too_little_texture_is_still_said_for_an_image_that_lacks_it():
    x = np.tile(np.random.default_rng(0).random(32), (32, 1))  # varies along x only
    message = _learn_error(x, 3, pad_mode="replicate")
    assert "too little texture" in message and "taller" not in message and "wider" not in message, message


# ---------------------------------------------------------------- #3: a --combine sum target's one plane under zyx


def _summed_volume(tmp_path) -> np.ndarray:
    v = np.random.default_rng(2).random((4, 30, 32))
    k = np.random.default_rng(9).standard_normal((4, 3, 3))
    np.save(tmp_path / "v.npy", v)
    return k


@pytest.mark.parametrize("shape", ["2d", "1yx"])
def test_a_sum_target_of_one_plane_is_taken_under_layout_zyx(tmp_path, shape):
    # 'rs_t.npy: --layout zyx needs a 3-D (Z, Y, X) array; this one is 2-D' (exit 2) for the plane a sum kernel makes
    k = _summed_volume(tmp_path)
    v = np.load(tmp_path / "v.npy")
    t = sum(conv2d(v[i], k[i]) for i in range(4))
    np.save(tmp_path / "t.npy", t if shape == "2d" else t[None])
    result = run_in_process("learn", "v.npy", "t.npy", "-f", "3", "--layout", "zyx", "--combine", "sum", "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["fits"] and np.allclose(document["kernel"], k, atol=1e-8), document
    assert not any("changes nothing" in n for n in document["notes"]), document["notes"]


def test_the_round_trip_through_the_printed_command_learns_again(tmp_path):
    k = _summed_volume(tmp_path)
    v = np.load(tmp_path / "v.npy")
    np.save(tmp_path / "t.npy", sum(conv2d(v[i], k[i]) for i in range(4))[None])
    options = ("-f", "3", "--layout", "zyx", "--combine", "sum")
    first = run_in_process("learn", "v.npy", "t.npy", *options, "--out", "k.json", "--json", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    command = next(n for n in json.loads(first.stdout)["notes"] if n.startswith("the target is "))[len("the target is "):]
    words = shlex.split(command)
    made = run_in_process(*words[1:], "--out", "t2.npy", "-q", cwd=tmp_path)
    assert made.returncode == 0 and np.load(tmp_path / "t2.npy").ndim == 2, made.stderr
    again = run_in_process("learn", "v.npy", "t2.npy", *options, "--json", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert np.allclose(json.loads(again.stdout)["kernel"], k, atol=1e-6)


def test_a_per_slice_target_of_one_plane_is_still_refused(tmp_path):
    _summed_volume(tmp_path)
    np.save(tmp_path / "t.npy", np.zeros((30, 32)))
    result = run_in_process("learn", "v.npy", "t.npy", "-f", "3", "--layout", "zyx", cwd=tmp_path)
    assert result.returncode == 2 and "needs a 3-D (Z, Y, X) array" in result.stderr, result.stderr


# ---------------------------------------------------------------- #4: quoted paths in the per-channel notes


def _per_channel(tmp_path, bias: bool) -> list[str]:
    x = np.random.default_rng(0).random((40, 40, 3))
    kernels = np.random.default_rng(4).standard_normal((3, 3, 3))
    t = np.stack([conv2d(x[..., c], kernels[c], stride=2) for c in range(3)], -1) + ([5.0, -3.0, 1.0] if bias else 0.0)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "t.npy", t)
    result = run_in_process("learn", "x.npy", "t.npy", "-f", "3", "--stride", "2", *(["--fit-bias"] if bias else []),
                            "--out", "my k.json", "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)["notes"]


@pytest.mark.parametrize("bias", [False, True])
def test_the_per_channel_notes_quote_the_path(tmp_path, bias):
    # 'convolve --kernel my k.json:NAME --stride 2': pasted, '--out names one output file; ...' (exit 2)
    notes = _per_channel(tmp_path, bias)
    held = next(n for n in notes if "holds one kernel per channel" in n)
    assert "('my k.json:my_k_c0', ...)" in held, held
    each = next(n for n in notes if n.startswith("each kernel gives its channel"))
    assert "--kernel 'my k.json:NAME' --stride 2" in each, each
    if bias:
        assert "'my k.json:my_k_c1' --bias=-3" in each, each
    words = shlex.split(each[each.index("--kernel"):].replace("NAME", "my_k_c1").split(",")[0].split(" --bias B")[0])
    made = run_in_process("convolve", "x.npy", *words, *(["--bias=-3"] if bias else []), "--out", "c1.npy", "-q", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    t = np.load(tmp_path / "t.npy")[..., 1]
    assert np.allclose(np.load(tmp_path / "c1.npy")[..., 1], t, atol=1e-8)  # (convolve filters every channel)


# ---------------------------------------------------------------- review 52 #9: the fill in the printed command

@pytest.mark.parametrize("typed", ["0.123456789123", "1e12"])
def test_the_printed_command_gives_the_fill_as_typed(tmp_path, typed):
    """The note's command printed --pad-value with 10 significant digits: 0.123456789123 became 0.1234567891 (that
    command gives another target), and 1e12 read 1000000000000 beside the warning's 1e12."""
    x = np.random.default_rng(2).random((20, 20))
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "t.npy", conv2d(x, np.full((3, 3), 1 / 9), pad_value=float(typed)))
    r = run_in_process("learn", "x.npy", "t.npy", "-f", "3", "--pad-value", typed, "-o", "k.json", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert f"note: the target is kernelcli convolve x.npy --kernel k.json --pad-value {typed}" in r.stderr.splitlines()
    assert not [line for line in r.stderr.splitlines() if "--pad-value" in line and typed not in line]


@pytest.mark.parametrize("padding", ["2", "0,4,2,2", "4,0,2,2"])
def test_the_smaller_size_advised_keeps_the_targets_shape_and_runs(tmp_path, padding):
    """Audit 141 #2: for -f 5 with an explicit padding on 2 rows the advice kept the padding given ("use --size 4"), a
    size no padding of the target's shape decides; it names the size and a padding that give the target's shape."""
    x = np.random.default_rng(1).random((2, 40))
    widths = tuple(int(v) for v in padding.split(",")) if "," in padding else int(padding)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "t.npy", conv2d(x, np.random.default_rng(2).random((5, 5)), padding=widths))
    r = run_in_process("learn", "x.npy", "t.npy", "-f", "5", "--padding", padding, cwd=tmp_path)
    assert r.returncode == 2 and r.stderr.rstrip().endswith("; use --size 3 --padding 1"), r.stderr
    again = run_in_process("learn", "x.npy", "t.npy", "-f", "3", "--padding", "1", "-q", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
