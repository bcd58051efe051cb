"""`learn`, audit 166: a 1x1 kernel on a constant input (refused as singular though it has full rank), the API's
advice in its own words (not the command line's), and the too-tall advice where no smaller size gives the target."""

from __future__ import annotations

import numpy as np
import pytest

from kernelcli.api import conv2d
from kernelcli.errors import UsageError
from kernelcli.learn import LearnOptions, learn_kernel

from conftest import run_in_process


def _xc2() -> np.ndarray:
    """Channel 0 constant 3, channel 1 random (the audit's xc2.npy)."""
    rng = np.random.default_rng(2)
    return np.dstack([np.full((16, 16), 3.0), rng.random((16, 16))])


# ---------------------------------------------------------------- #1: a 1x1 kernel on a constant input


@pytest.mark.parametrize("method", ["lstsq", "gd"])
def test_a_1x1_kernel_is_learned_from_a_constant_input(method):
    # "c3.npy is constant ...: it has no texture ... (the system is singular)", exit 2; numpy's lstsq: rank 1 of 1, k = 2
    r = learn_kernel(np.full((16, 16), 3.0), np.full((16, 16), 6.0), LearnOptions(size=1, method=method))
    assert r.lstsq.rank == 1 and r.lstsq.unknowns == 1
    np.testing.assert_allclose(r.kernel, [[2.0]], rtol=1e-9)


@pytest.mark.parametrize("method", ["lstsq", "gd"])
def test_a_1x1_sum_kernel_is_learned_past_a_constant_channel(method):
    x = _xc2()
    r = learn_kernel(x, 2 * x[..., 0] + 0.5 * x[..., 1], LearnOptions(size=1, combine="sum", method=method))
    assert r.lstsq.rank == 2
    np.testing.assert_allclose(r.kernel.ravel(), [2.0, 0.5], rtol=1e-9 if method == "lstsq" else 1e-4)  # (gd: near)


def test_1x1_per_channel_kernels_are_learned_past_a_constant_channel():
    x = _xc2()
    r = learn_kernel(x, np.dstack([2 * x[..., 0], 0.5 * x[..., 1]]), LearnOptions(size=1))
    np.testing.assert_allclose(r.kernel.ravel(), [2.0, 0.5], rtol=1e-9)


def test_the_cli_learns_a_1x1_kernel_from_a_constant_input(tmp_path):
    np.save(tmp_path / "c3.npy", np.full((16, 16), 3.0))
    np.save(tmp_path / "c3t.npy", np.full((16, 16), 6.0))
    done = run_in_process("learn", "c3.npy", "c3t.npy", "-f", "1", "-q", cwd=tmp_path)
    assert (done.returncode, done.stdout.strip()) == (0, "2"), done.stderr


@pytest.mark.parametrize("options, value", [
    ({"size": 1, "fit_bias": True}, 3.0),  # the tap and the bias read one constant: confounded
    ({"size": 1}, 0.0),  # a zero column
    ({"size": 2, "padding": "valid"}, 3.0),  # four equal columns
])
def test_a_constant_input_is_still_refused_where_the_system_is_singular(options, value):
    x = np.full((8, 8), value)
    side = options["size"]
    target = conv2d(x, np.ones((side, side)), padding=options.get("padding", "same"))
    with pytest.raises(UsageError, match=r"constant \(every value is [03]\).*singular"):
        learn_kernel(x, target, LearnOptions(**options))


def test_a_1x1_sum_kernel_over_two_constant_channels_is_refused():
    x = np.dstack([np.full((8, 8), 3.0), np.full((8, 8), 4.0)])
    with pytest.raises(UsageError, match="every channel of input is constant"):
        learn_kernel(x, 2 * x[..., 0] + x[..., 1], LearnOptions(size=1, combine="sum"))


def test_a_1x1_shared_kernel_with_a_bias_is_learned_from_two_constants():
    x = np.dstack([np.full((8, 8), 3.0), np.full((8, 8), 4.0)])
    r = learn_kernel(x, 2 * x + 1, LearnOptions(size=1, combine="shared", fit_bias=True))
    np.testing.assert_allclose([r.kernel[0, 0], r.bias[0]], [2.0, 1.0], rtol=1e-9)


def test_per_channel_does_not_offer_shared_where_the_channels_kernels_differ():
    # "if one kernel made every channel, --combine shared learns it from the others" beside kernels 2 and 0.5
    x = _xc2()
    k0, k1 = np.arange(9.0).reshape(3, 3), -np.ones((3, 3))
    target = np.dstack([conv2d(x[..., 0], k0, padding="valid"), conv2d(x[..., 1], k1, padding="valid")])
    with pytest.raises(UsageError, match="channel 0 of input is constant") as info:
        learn_kernel(x, target, LearnOptions(size=3, padding="valid"))
    assert "shared" not in str(info.value)


def test_per_channel_offers_shared_where_one_kernel_makes_every_channel():
    x = _xc2()
    k = np.arange(9.0).reshape(3, 3)
    target = np.dstack([conv2d(x[..., c], k, padding="valid") for c in range(2)])
    with pytest.raises(UsageError, match="one kernel makes every channel: combine='shared' learns it"):
        learn_kernel(x, target, LearnOptions(size=3, padding="valid"))


# ---------------------------------------------------------------- #3: no smaller size gives the target


@pytest.mark.parametrize("fit_bias", [False, True])
def test_too_tall_advice_says_no_smaller_size_gives_the_target(tmp_path, fit_bias):
    # "use a smaller --size", where every smaller --size is refused by the shape check (36 = 40 - 5 + 1 columns)
    rng = np.random.default_rng(3)
    x, k = rng.random((2, 40)), rng.standard_normal((5, 5))
    np.save(tmp_path / "x2r.npy", x)
    np.save(tmp_path / "t.npy", conv2d(x, k, padding=(2, 2, 0, 0), pad_value=2.0))
    extra = ["--fit-bias"] if fit_bias else []
    done = run_in_process("learn", "x2r.npy", "t.npy", "-f", "5", "--pad-value", "2", "-p", "2,2,0,0", *extra, cwd=tmp_path)
    assert done.returncode == 2
    assert "smaller --size gives the target's 2x36 with any padding" in done.stderr, done.stderr
    assert "use a smaller" not in done.stderr
    for side in (4, 3, 2, 1):  # (and indeed none does)
        again = run_in_process("learn", "x2r.npy", "t.npy", "-f", str(side), "--pad-value", "2", "-p", "2,2,0,0", cwd=tmp_path)
        assert again.returncode == 2 and "no padding fits" in again.stderr, again.stderr


def test_one_row_is_one_row():
    x = np.random.default_rng(0).random((1, 5))
    with pytest.raises(UsageError, match="taller than input's 1 row: "):
        learn_kernel(x, conv2d(x, np.ones((2, 2))), LearnOptions(size=2))


# ---------------------------------------------------------------- #2: the API's advice in its own words


def _cases():
    """The audit's api_words.py: each case (name, x, target, LearnOptions keywords) gives a message naming an option."""
    rng = np.random.default_rng(0)
    x12, k3 = rng.random((12, 12)), rng.standard_normal((3, 3))
    x3 = rng.random((12, 12, 3))
    xc = x3.copy()
    xc[..., 1] = 5.0
    flat, flat2 = np.tile(rng.random(12), (12, 1)), np.tile(rng.random(12), (12, 1))
    x4, x5 = rng.random((4, 4)), rng.random((5, 5))
    xe = x3.copy()
    xe[..., 1] = xe[..., 0]
    x2 = rng.random((12, 12, 2))
    xr2, xc3 = rng.random((2, 40)), rng.random((3, 30))
    xb = rng.random((60, 60))
    from kernelcli import conv_layer

    return [
        ("padding", x12, conv2d(x12, k3, padding="valid"), {"size": 3}),
        ("stride", x12, conv2d(x12, k3, stride=2), {"size": 3}),
        ("size", x12, conv2d(x12, np.ones((2, 4)), padding="valid"), {"size": 3, "padding": "valid"}),
        ("sum hint", x3, conv2d(x3[..., 0], k3), {"size": 3}),
        ("sum target", x3, np.dstack([conv2d(x3[..., 0], k3)] * 2), {"size": 3, "combine": "sum"}),
        ("constant channel", xc, np.dstack([conv2d(xc[..., c], k3, padding="valid") for c in range(3)]),
         {"size": 3, "padding": "valid"}),
        ("poor fit", flat, conv2d(flat2, k3), {"size": 3}),
        ("too few", x4, conv2d(x4, k3, padding="valid"), {"size": 3, "padding": "valid"}),
        ("as many", x5, conv2d(x5, k3, padding="valid"), {"size": 3, "padding": "valid"}),
        ("fill", x12, conv2d(x12, k3, padding=1, pad_value=1e9), {"size": 3, "padding": 1, "pad_value": 1e9}),
        ("sum equal", xe, conv_layer(xe, np.ones((1, 3, 3, 3)), padding=1), {"size": 3, "padding": 1, "combine": "sum"}),
        ("agree", x2, conv2d(x2, k3), {"size": 3}),
        ("offset", x12, conv2d(x12, k3) + 3, {"size": 3}),
        ("too large padded", xr2, conv2d(xr2, np.ones((5, 5)), padding=2), {"size": 5, "padding": 2}),
        ("padded otherwise", x12, conv2d(x12, k3, pad_mode="reflect"), {"size": 3}),
        ("gd diverged", x12, conv2d(x12, k3), {"size": 3, "method": "gd", "lr": 50}),
        ("gd stopped", x12, conv2d(x12, k3), {"size": 3, "method": "gd", "epochs": 1, "lr": 0.001}),
        ("subset", xb, 2 * xb, {"size": 1, "padding": "valid", "max_values": 1000}),
        ("circular", xc3, conv2d(xc3, np.ones((4, 4)), pad_mode="circular"), {"size": 4, "pad_mode": "circular"}),
    ]


def _texts(x, target, options, **kw) -> list[str]:
    try:
        r = learn_kernel(x, target, LearnOptions(**options), **kw)
    except (UsageError, ValueError) as exc:  # (ShapeError is a ValueError too)
        return [str(exc)]
    return r.warnings + r.notes


CLI_NAME = r"--[a-z][a-z-]*"
API_NAME = r"\b(size|padding|pad_mode|pad_value|stride|dilation|combine|fit_bias|seed|lr|epochs|step_size)="


@pytest.mark.parametrize("case", [c[0] for c in _cases()])
def test_the_api_names_its_own_keywords_and_the_cli_its_options(case):
    # the API said "use a smaller --size", "--combine shared learns the one kernel", "try a smaller --lr" (23 texts)
    import re

    _, x, target, options = next(c for c in _cases() if c[0] == case)
    api = _texts(x, target, options)
    cli = _texts(x, target, options, words="cli")
    assert any(re.search(API_NAME, t) for t in api), api
    assert not any(re.search(CLI_NAME, t) for t in api), api
    assert any(re.search(CLI_NAME, t) for t in cli), cli
    assert not any(re.search(API_NAME, t) for t in cli), cli
    assert len(api) == len(cli)


def test_values_are_written_as_each_caller_writes_them():
    x = np.random.default_rng(0).random((12, 12))
    target = conv2d(x, np.ones((2, 4)), padding="valid")
    api, = _texts(x, target, {"size": 3, "padding": "valid"})
    cli, = _texts(x, target, {"size": 3, "padding": "valid"}, words="cli")
    assert api.endswith("with padding='valid', or size=4 with padding=(0, 2, 0, 0)"), api
    assert cli.endswith("with --padding valid, or --size 4 with --padding 0,2,0,0"), cli


def test_the_option_table_matches_the_cli_and_the_api():
    from kernelcli.cli.options import CONCEPTS
    from kernelcli.learn_options import OPTION_NAMES
    from kernelcli.records import field_names

    fields = set(field_names(LearnOptions()))
    for concept, (flag, keyword) in OPTION_NAMES.items():
        assert CONCEPTS[concept].names[0] == flag, concept
        assert keyword in fields, keyword


def test_another_wording_is_refused():
    with pytest.raises(UsageError, match=r"invalid words 'shell': expected one of api, cli"):
        learn_kernel(np.ones((4, 4)), np.ones((4, 4)), LearnOptions(size=1), words="shell")


def test_the_cli_still_names_its_options(tmp_path):
    x = np.random.default_rng(0).random((12, 12))
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "t.npy", conv2d(x, np.ones((3, 3))) + 3)
    done = run_in_process("learn", "x.npy", "t.npy", "-f", "3", "-q", cwd=tmp_path)
    assert "with --fit-bias the fit is exact" in done.stderr and "fit_bias=" not in done.stderr, done.stderr
