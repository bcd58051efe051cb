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


# ---------------------------------------------------------------- #2: a kernel wider than the image under symmetric


def _refusal(x: np.ndarray, size: int, **options) -> str:
    from kernelcli.errors import UsageError

    kernel = np.random.default_rng(3).standard_normal((size, size))
    with pytest.raises(UsageError) as caught:
        learn_kernel(x, conv2d(x, kernel, **options), LearnOptions(size=size, **options), input_name="x.npy")
    return str(caught.value)


def _advised_runs(x: np.ndarray, message: str, **options) -> int:
    import re

    advised = re.search(r"use size=(\d+) or smaller$", message)
    assert advised, message
    size = int(advised.group(1))
    kernel = np.random.default_rng(4).standard_normal((size, size))
    learned = learn_kernel(x, conv2d(x, kernel, **options), LearnOptions(size=size, **options))
    np.testing.assert_allclose(learned.kernel, kernel, atol=1e-8)
    return size


@pytest.mark.parametrize("shape, size, line, advised", [((40, 2), 4, "column", 3), ((2, 40), 4, "row", 3),
                                                        ((40, 3), 6, "column", 5)])
def test_linearly_dependent_tap_reads_are_named_as_geometry(shape, size, line, advised):
    # 'x40x2.npy has too little texture to decide a 4x4 kernel ... use a more detailed image' for random noise: the 2
    # windows read columns (0, 0, 1, 1) and (0, 1, 1, 0), so columns 0 + 2 read what 1 + 3 do, whatever the image holds
    x = np.random.default_rng(3).random(shape)
    message = _refusal(x, size, pad_mode="symmetric")
    assert "texture" not in message and "whatever the image holds" in message, message
    assert f"{line}s 0 and 2 read together what {line}s 1 and 3 do" in message or (
        f"{line}s 0, 2 and 4 read together what {line}s 1, 3 and 5 do" in message), message
    assert _advised_runs(x, message, pad_mode="symmetric") == advised


@pytest.mark.parametrize("shape, size", [((40, 2), 5), ((40, 3), 7)])
def test_the_wider_than_advice_runs(shape, size):
    # '-f 5' on 2 columns advised '--size 4', refused next as too little texture (-f 7 on 3 columns: '--size 6')
    x = np.random.default_rng(3).random(shape)
    message = _refusal(x, size, pad_mode="symmetric")
    assert "read the same pixels at every window" in message and "linearly dependent" in message, message
    assert _advised_runs(x, message, pad_mode="symmetric") < size - 1


# ---------------------------------------------------------------- #3: the smaller-size advice at a stride over 1


@pytest.mark.parametrize("shape, size, options, advised", [
    ((2, 60), 5, {"stride": 2}, 2),
    ((3, 40), 4, {"stride": 2, "pad_mode": "circular"}, 3),
    ((40, 1), 2, {"stride": 2, "pad_mode": "reflect"}, 1),  # (was 'use a smaller --size': no total under 0 was tried)
])
def test_no_padding_named_where_same_runs(shape, size, options, advised):
    # '-f 5 --stride 2' on 2 rows: '... use --size 2 --padding valid', where -f 2 with the default same gives the
    # target's shape and decides every tap (the smallest total padding of that shape was tried alone)
    x = np.random.default_rng(3).random(shape)
    message = _refusal(x, size, **options)
    assert "padding=" not in message, message
    assert _advised_runs(x, message, **options) == advised


def test_a_padding_given_is_still_named_when_it_must_change():
    x = np.random.default_rng(3).random((2, 40))
    assert _refusal(x, 5, padding=2).endswith("use size=3, padding=1")


# ---------------------------------------------------------------- #4: --combine on a one-channel input


@pytest.mark.parametrize("combine", ["sum", "shared"])
def test_combine_on_one_channel_is_noted(tmp_path, combine):
    # learn said nothing ('notes': []) where convolve notes '--combine sum: the input has one channel'
    x = _x32()
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "t.npy", conv2d(x, np.random.default_rng(3).standard_normal((3, 3))))
    done = run_in_process("learn", "x.npy", "t.npy", "-f", "3", "--combine", combine, "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    said = f"x.npy: --combine {combine}: the input has one channel, so the kernel learned is that channel's own (as per-channel)"
    assert said in json.loads(done.stdout)["notes"] and f"note: {said}" in done.stderr, (done.stdout, done.stderr)
    plain = run_in_process("learn", "x.npy", "t.npy", "-f", "3", "--json", cwd=tmp_path)
    assert "--combine" not in plain.stderr and json.loads(plain.stdout)["notes"] == []


# ---------------------------------------------------------------- #5: --layout chw beside a sum's 2-D target


def test_layout_chw_sum_target_not_noted_unused(tmp_path):
    # 'note: tsum.npy: a 2-D input is one channel ...: --layout chw changes nothing', then 'the target is kernelcli
    # convolve xchw.npy --kernel chs.json --layout chw'
    x = np.random.default_rng(5).random((24, 26, 3))
    kernel = np.random.default_rng(3).standard_normal((3, 3))
    np.save(tmp_path / "xchw.npy", np.ascontiguousarray(x.transpose(2, 0, 1)))
    np.save(tmp_path / "tsum.npy", sum(conv2d(x[..., c], kernel) for c in range(3)))
    done = run_in_process("learn", "xchw.npy", "tsum.npy", "-f", "3", "--layout", "chw", "--combine", "sum", "-o", "k.json",
                          "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    notes = json.loads(done.stdout)["notes"]
    assert not any("changes nothing" in n for n in notes) and "changes nothing" not in done.stderr, notes
    assert any(n.endswith("--layout chw") for n in notes), notes
