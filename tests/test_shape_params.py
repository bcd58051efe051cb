"""`kernelcli shape` and `kernelcli params`: the lecture's tasks, formulas against brute force, start-up.

References: the lecture's answers (worked-examples.md 6-8), window positions counted one by one,
parameter tensors enumerated element by element, and PyTorch when it is installed.
"""

from __future__ import annotations

import itertools
import json
import math
import subprocess
import sys

from pathlib import Path

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from conftest import CliRunner

from kernelcli import shapes
from kernelcli.cli import app

REPO = Path(__file__).resolve().parent.parent
RUNNER = CliRunner()  # hypothesis tests cannot take the function-scoped `runner` fixture


def invoke(runner, *args: str):
    return runner.invoke(app, list(args), prog_name="kernelcli")


def ok(runner, *args: str):
    result = invoke(runner, *args)
    assert result.exit_code == 0, (args, result.stdout, result.stderr)
    return result


def quiet(runner, *args: str) -> str:
    return ok(runner, *args, "-q").stdout.strip()


# --- obviously-correct references -------------------------------------------------------------


def count_windows(size: int, f: int, s: int, pad_before: int, pad_after: int, dilation: int) -> int:
    """Slide the (dilated) window over the padded axis and count where it fits."""
    length = size + pad_before + pad_after
    span = dilation * (f - 1) + 1
    return sum(1 for start in range(0, length, s) if start + span <= length)


def count_pool_windows(size: int, f: int, s: int, p: int, dilation: int, ceil_mode: bool) -> int:
    """PyTorch's rule in words: windows that fit the padded input; with ceil_mode, one more partial
    window over leftover cells, unless it would start in the right padding (or beyond)."""
    length = size + 2 * p
    span = dilation * (f - 1) + 1
    starts = [start for start in range(0, length, s) if start + span <= length]
    if ceil_mode and starts and starts[-1] + span < length and starts[-1] + s < size + p:
        starts.append(starts[-1] + s)
    if ceil_mode and not starts and span - length < s:
        # PyTorch keeps one partial window when the window overhangs the padded input by less than a stride
        starts.append(0)
    return len(starts)


def count_conv_params(c: int, k: int, fh: int, fw: int, bias: bool, groups: int) -> int:
    """Enumerate every weight (filter, channel it sees, row, column) and every bias."""
    weights = sum(1 for _ in itertools.product(range(k), range(c // groups), range(fh), range(fw)))
    return weights + (k if bias else 0)


def evaluate(expression: str) -> int:
    """The printed formula, evaluated: it must give the printed answer."""
    return eval(expression, {"__builtins__": {}, "ceil": math.ceil})  # noqa: S307 - our own text


# --- shape: the lecture ---------------------------------------------------------------------------


class TestShapeLecture:
    @pytest.mark.parametrize(
        ("args", "line", "answer"),
        [
            (("--in", "16", "--f", "4", "--s", "1", "--valid"), "out_d = (16 + 2*0 - 4) // 1 + 1 = 13", "13"),
            (("--in", "16", "--f", "3", "--s", "1", "--valid"), "out_d = (16 + 2*0 - 3) // 1 + 1 = 14", "14"),
            (("--in", "24", "--f", "5", "--s", "2", "--same"), "out_d = (24 + 2*2 - 5) // 2 + 1 = 12", "12"),
        ],
    )
    def test_lecture_tasks(self, runner, args, line, answer):
        result = ok(runner, "shape", *args)
        assert line in result.stdout.splitlines()
        assert quiet(runner, "shape", *args) == answer

    def test_valid_is_the_default(self, runner):
        assert quiet(runner, "shape", "--in", "16", "--f", "4") == "13"

    def test_same_shows_how_p_was_chosen(self, runner):
        result = ok(runner, "shape", "--in", "24", "--f", "5", "--s", "2", "--same")
        assert result.stdout.splitlines()[0] == "p = f // 2 = 5 // 2 = 2  (same)"
        # odd f at stride 2: the same size as TensorFlow's SAME, which pads 1 and 2 here (TestShapeStridedSame)
        assert "TensorFlow's padding='SAME' pads 1 before and 2 after" in result.stderr
        assert ok(runner, "shape", "--in", "24", "--f", "5", "--same").stderr == ""  # stride 1: the frameworks' same

    @pytest.mark.parametrize(
        ("size", "args", "out"),
        [
            ("5x5", ("--f", "3"), "3x3"),  # worked example 1
            ("5x5", ("--f", "3", "--p", "1"), "5x5"),  # worked example 2
            ("6x6", ("--f", "3", "--valid"), "4x4"),  # worked examples 3 and 4
            ("4x4", ("--f", "2", "--pool"), "2x2"),  # worked example 5, stride defaults to f
        ],
    )
    def test_worked_example_sizes(self, runner, size, args, out):
        assert quiet(runner, "shape", "--in", size, *args) == out

    def test_pool_stride_defaults_to_window(self, runner):
        result = ok(runner, "shape", "--in", "4", "--f", "2", "--pool")
        assert result.stdout.splitlines() == [
            "s = f = 2  (pooling: the stride defaults to the window size)",
            "out_d = (4 + 2*0 - 2) // 2 + 1 = 2",
        ]
        assert quiet(runner, "shape", "--in", "4", "--f", "2", "--pool", "--s", "1") == "3"


class TestShapeForms:
    def test_square_input_prints_one_line_and_the_result(self, runner):
        result = ok(runner, "shape", "--in", "24x24", "--f", "5", "--s", "2", "--same")
        assert result.stdout.splitlines()[1:] == ["out_d = (24 + 2*2 - 5) // 2 + 1 = 12", "out = 12x12"]

    def test_axes_that_differ_get_a_line_each(self, runner):
        result = ok(runner, "shape", "--in", "24x32", "--f", "5x3", "--s", "2")
        assert result.stdout.splitlines() == [
            "out_h = (24 + 2*0 - 5) // 2 + 1 = 10",
            "out_w = (32 + 2*0 - 3) // 2 + 1 = 15",
            "out = 10x15",
        ]
        assert quiet(runner, "shape", "--in", "24x32", "--f", "5x3", "--s", "2") == "10x15"

    def test_filters_give_the_output_volume(self, runner):
        args = ("shape", "--in", "24x24x3", "--f", "5", "--s", "2", "--same", "--filters", "32")
        assert quiet(runner, *args) == "12x12x32"
        assert "out = 12x12x32  (32 filters of 5x5x3: one output channel each)" in ok(runner, *args).stdout

    def test_pooling_keeps_the_channels(self, runner):
        assert quiet(runner, "shape", "--in", "24x24x8", "--f", "2", "--pool") == "12x12x8"

    def test_channels_without_filters_give_the_spatial_size_and_a_hint(self, runner):
        result = ok(runner, "shape", "--in", "24x24x3", "--f", "3")
        assert result.stdout.splitlines()[-1] == "out = 22x22"
        assert "--filters K" in result.stderr

    def test_dilation_shows_the_general_form(self, runner):
        result = ok(runner, "shape", "--in", "24", "--f", "3", "--dilation", "2")
        assert result.stdout.strip() == "out_d = (24 + 2*0 - 2*(3-1) - 1) // 1 + 1 = 20"

    def test_ceil_mode_and_the_dropped_window(self, runner):
        assert quiet(runner, "shape", "--in", "5", "--f", "2", "--pool") == "2"
        assert quiet(runner, "shape", "--in", "5", "--f", "2", "--pool", "--ceil") == "3"
        result = ok(runner, "shape", "--in", "5", "--f", "2", "--p", "1", "--pool", "--ceil")
        assert result.stdout.splitlines()[-1] == "out_d = ceil((5 + 2*1 - 2) / 2) + 1 - 1 = 3"
        assert "drops it" in result.stderr

    def test_json(self, runner):
        doc = json.loads(ok(runner, "shape", "--in", "24", "--f", "5", "--s", "2", "--same", "--json").stdout)
        assert {k: doc[k] for k in ("in", "f", "s", "p", "dilation", "out")} == {"in": 24, "f": 5, "s": 2, "p": 2, "dilation": 1, "out": 12}
        doc = json.loads(ok(runner, "shape", "--in", "24x32x3", "--f", "3", "--filters", "8", "--json").stdout)
        assert {k: doc[k] for k in ("in", "f", "s", "p", "dilation", "out")} == {
            "in": [24, 32, 3], "f": [3, 3], "s": [1, 1], "p": [0, 0], "dilation": 1, "out": [22, 30, 8],
        }

    def test_quiet_prints_no_notes(self, runner):
        result = ok(runner, "shape", "--in", "24", "--f", "4", "--same", "-q")
        assert (result.stdout, result.stderr) == ("24\n", "")  # convolve's size (was 25: audit 83, TestShapeEvenSame)


#: (h, w, f, s, d): even and odd, square and not, strided, dilated (odd and even d*(f-1))
SAME_CASES = [
    (24, 24, "4", 1, 1), (24, 24, "2", 1, 1), (23, 17, "4", 1, 1), (24, 24, "6", 2, 1), (24, 24, "4", 3, 1), (23, 23, "4", 2, 1),
    (24, 24, "4", 1, 2), (24, 24, "4", 1, 3), (19, 24, "4x3", 2, 2), (10, 7, "2x5", 1, 1), (24, 24, "5", 2, 1), (9, 9, "8", 1, 1),
]


def _same_args(h: int, w: int, f: str, s: int, d: int) -> list[str]:
    return ["shape", "--in", f"{h}x{w}", "--f", f, "--s", str(s), "--dilation", str(d), "--padding", "same"]


def _kernel_sides(f: str) -> tuple[int, int]:
    sizes = tuple(int(v) for v in f.split("x"))
    return (sizes[0], sizes[-1])


class TestShapeEvenSame:
    """An even f: shape's "same" is convolve's, learn's and PyTorch's: d*(f-1) in all, the extra cell at the bottom/right.

    Audit 83 (finding 1): shape padded the lecture's d*(f//2) on both sides, so `shape --in 24 -f 4 --same -q` printed 25
    where convolve --padding same writes 24x24 (PyTorch too); -q and --json gave only that number, a stderr note the
    only sign. The lecture's own definition is "enough to keep in_d = out_d", which f//2 on both sides does not for an even f.
    """

    def test_quiet_is_the_size_convolve_writes(self, runner):
        from kernelcli import conv2d, load_kernel

        written = conv2d(np.zeros((24, 24), np.float32), load_kernel("box:4"), padding="same").shape  # convolve's path
        assert written == (24, 24)
        assert quiet(runner, "shape", "--in", "24", "-f", "4", "--same") == "24"
        assert quiet(runner, "shape", "--in", "24x24", "-f", "4", "--padding", "same") == "24x24"
        assert quiet(runner, "shape", "--in", "24", "-f", "4", "-s", "2", "--same") == "12"  # was 13
        assert quiet(runner, "shape", "--in", "24", "-f", "4", "--dilation", "2", "--same") == "24"  # was 26

    def test_the_rule_and_the_formula_show_the_split(self, runner):
        result = ok(runner, "shape", "--in", "24", "--f", "4", "--same")
        assert result.stdout.splitlines() == [
            "p = f - 1 = 3 in all: 1 before, 2 after  (same; f is even: the extra cell at the bottom/right, as convolve and PyTorch)",
            "out_d = (24 + 1 + 2 - 4) // 1 + 1 = 24",
        ]
        assert result.stderr == ("note: f=4 is even: the lecture's p = f // 2 = 2 on both sides would pad 4 cells, one more than "
                                 "f-1 = 3, and give out = 25, not 24.\n")

    def test_dilated(self, runner):
        result = ok(runner, "shape", "--in", "24", "--f", "4", "--dilation", "3", "--same")
        assert result.stdout.splitlines() == [
            "p = d*(f-1) = 3*(4-1) = 9 in all: 4 before, 5 after  (same; f is even: the extra cell at the bottom/right, as convolve and PyTorch)",
            "out_d = (24 + 4 + 5 - 3*(4-1) - 1) // 1 + 1 = 24",
        ]
        assert "the lecture's p = d*(f//2) = 6 on both sides would pad 12 cells, 3 more than d*(f-1) = 9, and give out = 27, not 24." in result.stderr
        result = ok(runner, "shape", "--in", "24", "--f", "4", "--dilation", "2", "--same")
        assert result.stdout.splitlines() == [
            "p = d*(f-1) = 2*(4-1) = 6 in all: 3 before, 3 after  (same; f is even: split evenly, as convolve and PyTorch)",
            "out_d = (24 + 2*3 - 2*(4-1) - 1) // 1 + 1 = 24",
        ]

    def test_strided_notes_say_what_the_lecture_and_tensorflow_pad(self, runner):
        args = ("shape", "--in", "24", "--f", "4", "--s", "2", "--same")
        result = ok(runner, *args)
        assert result.stdout.splitlines() == [
            "p = f - 1 = 3 in all: 1 before, 2 after  (same; f is even: the extra cell at the bottom/right, as convolve)",
            "out_d = (24 + 1 + 2 - 4) // 2 + 1 = 12",
        ]
        notes = result.stderr.splitlines()
        assert notes == [
            "note: f=4 is even: the lecture's p = f // 2 = 2 on both sides would pad 4 cells, one more than f-1 = 3, and give out = 13, not 12.",
            "note: at stride 2 TensorFlow's padding='SAME' pads 1 before and 1 after (only what the last window needs), not 1 and 2: "
            "the same output size and windows. kernelcli convolve --padding same pads 1 and 2, as here (PyTorch's 'same' allows only stride 1).",
        ]
        doc = json.loads(ok(runner, *args, "--json").stdout)
        assert (doc["out"], doc["p"], doc["padding"]) == (12, [1, 2], "same")
        assert doc["framework_same"] == {"out": 12, "pad": [1, 1]}  # TensorFlow's
        assert doc["notes"] == [n.removeprefix("note: ") for n in notes]
        # TF pads 0 and 1 at stride 3: its windows a cell further down/right
        assert "pads 0 before and 1 after (only what the last window needs), not 1 and 2: the same output size, its windows 1 cell " \
               "further down/right" in ok(runner, "shape", "--in", "24", "--f", "4", "--s", "3", "--same").stderr
        # where the lecture's padding gives our size too, the note says so
        assert ("would pad 4 cells, one more than f-1 = 3, and give the same out = 12 at this stride, its windows 1 cell further up/left."
                in ok(runner, "shape", "--in", "23", "--f", "4", "--s", "2", "--same").stderr)

    def test_json_gives_before_and_after(self, runner):
        doc = json.loads(ok(runner, "shape", "--in", "24x24", "--f", "4", "--padding", "same", "--json").stdout)
        assert (doc["p"], doc["out"]) == ([[1, 2], [1, 2]], [24, 24])
        assert doc["formula"] == ["(24 + 1 + 2 - 4) // 1 + 1 = 24"] * 2
        assert "framework_same" not in doc  # at stride 1 TensorFlow and PyTorch pad as here
        assert len(doc["notes"]) == 1 and doc["notes"][0].startswith("f=4 is even: the lecture's p = f // 2 = 2")

    @pytest.mark.parametrize("h, w, f, s, d", SAME_CASES)
    def test_same_is_what_conv2d_pads(self, runner, h, w, f, s, d):
        from kernelcli import conv2d

        fh, fw = _kernel_sides(f)
        args = _same_args(h, w, f, s, d)
        got = conv2d(np.zeros((h, w), np.float32), np.ones((fh, fw)), stride=s, dilation=d, padding="same").shape
        assert quiet(runner, *args) == f"{got[0]}x{got[1]}"
        widths = [shapes.same_padding(fh, d), shapes.same_padding(fw, d)]
        doc = json.loads(ok(runner, *args, "--json").stdout)
        assert doc["p"] == [b if b == a else [b, a] for b, a in widths]
        sides = ",".join(str(v) for pair in widths for v in pair)
        assert quiet(runner, "shape", "--in", f"{h}x{w}", "--f", f, "--s", str(s), "--dilation", str(d), "-p", sides) == f"{got[0]}x{got[1]}"
        for line in ok(runner, *args).stdout.splitlines():
            if line.startswith("out_"):
                expression, answer = line.split(" = ", 1)[1].rsplit(" = ", 1)
                assert evaluate(expression) == int(answer)

    @pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel:UserWarning")
    @pytest.mark.parametrize("h, w, f, s, d", [case for case in SAME_CASES if case[3] == 1])
    def test_same_is_what_torch_pads(self, runner, h, w, f, s, d):
        torch = pytest.importorskip("torch")
        fh, fw = _kernel_sides(f)
        out = torch.nn.functional.conv2d(torch.zeros(1, 1, h, w), torch.zeros(1, 1, fh, fw), padding="same", dilation=d)
        assert quiet(runner, *_same_args(h, w, f, s, d)) == f"{out.shape[2]}x{out.shape[3]}"

    @settings(max_examples=60, deadline=None)
    @given(h=st.integers(1, 12), w=st.integers(1, 12), fh=st.integers(1, 6), fw=st.integers(1, 6), s=st.integers(1, 3), d=st.integers(1, 3))
    def test_same_against_conv2d_anywhere(self, h, w, fh, fw, s, d):
        from kernelcli import conv2d

        got = conv2d(np.zeros((h, w), np.float32), np.ones((fh, fw)), stride=s, dilation=d, padding="same").shape
        assert quiet(RUNNER, *_same_args(h, w, f"{fh}x{fw}", s, d)) == f"{got[0]}x{got[1]}"

    @settings(max_examples=150, deadline=None)
    @given(size=st.integers(1, 60), f=st.integers(1, 9), s=st.integers(1, 5), d=st.integers(1, 3))
    def test_tf_same_padding_is_the_least_padding_giving_ceil(self, size, f, s, d):
        target = -(-size // s)
        assert shapes.same_output_size(size, s) == target
        least = next(t for t in range(0, 100) if count_windows(size, f, s, 0, t, d) == target)
        before, after = shapes.tf_same_padding(size, f, stride=s, dilation=d)
        assert (before + after, before) == (least, least // 2)
        assert count_windows(size, f, s, before, after, d) == target

    @pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel:UserWarning")
    def test_same_padding_at_stride_1_is_what_torch_pads(self):
        torch = pytest.importorskip("torch")
        x = torch.zeros(1, 1, 1, 10)
        x[0, 0, 0, 0] = 1.0  # an impulse at the left edge shows how much padding went before
        w = torch.zeros(1, 1, 1, 4)
        w[0, 0, 0, 0] = 1.0  # picks the window's first cell
        out = torch.nn.functional.conv2d(x, w, padding="same")
        before, after = shapes.tf_same_padding(10, 4)
        assert out.shape[-1] == 10 and (before, after) == (1, 2)
        assert out[0, 0, 0, before].item() == 1.0  # input cell 0 is the first cell of window `before`


class TestJsonNotes:
    """shape --json and params --json carry `notes` (the notes printed on stderr, without 'note: '), as every other
    command's record does; before, a script reading --json never saw them (audit 83)."""

    @pytest.mark.parametrize("args", [
        ("shape", "--in", "24", "--f", "5", "--s", "2", "--same"),  # TensorFlow's SAME pads otherwise
        ("shape", "--in", "24x30", "--f", "4", "--s", "3", "--same"),  # two notes
        ("shape", "--in", "24x24x3", "--f", "3"),  # the --filters hint
        ("shape", "--in", "5", "--f", "2", "--p", "1", "--pool", "--ceil"),  # the dropped window
        ("shape", "--in", "24", "--f", "3"),  # none: []
        ("params", "--flatten", "7x3", "--layout", "chw"),
        ("params", "--in-ch", "3", "--filters", "8"),  # none: []
        ("params", "--dense", "4", "2"),
    ])
    def test_json_notes_are_the_notes_printed(self, runner, args):
        printed = ok(runner, *args).stderr.splitlines()
        assert all(line.startswith("note: ") for line in printed)
        doc = json.loads(ok(runner, *args, "--json").stdout)
        assert doc["notes"] == [line.removeprefix("note: ") for line in printed]


class TestShapeStridedSame:
    @pytest.mark.parametrize("size, f, s, d", [(6, 3, 2, 1), (24, 5, 2, 1), (8, 3, 3, 1), (10, 3, 2, 2)])
    def test_a_note_says_where_tensorflow_pads_otherwise(self, runner, size, f, s, d):
        # "same" at a stride above 1 was said to be TensorFlow's: same size, but TF pads only what the last window
        # needs, so its windows sit further down/right; the values differ
        before, after = shapes.tf_same_padding(size, f, stride=s, dilation=d)
        p = d * (f // 2)
        result = ok(runner, "shape", "--in", str(size), "--f", str(f), "--s", str(s), "--dilation", str(d), "--same")
        assert (before, after) != (p, p)
        assert f"pads {before} before and {after} after" in result.stderr and f"not {p} and {p}" in result.stderr
        assert f"{p - before} cell" in result.stderr
        doc = json.loads(ok(runner, "shape", "--in", str(size), "--f", str(f), "--s", str(s), "--dilation", str(d), "--same", "--json").stdout)
        assert doc["framework_same"] == {"out": doc["out"], "pad": [before, after]}

    def test_where_both_pad_alike_nothing_is_said(self, runner):
        assert shapes.tf_same_padding(7, 3, stride=2) == (1, 1)
        assert ok(runner, "shape", "--in", "7", "--f", "3", "--s", "2", "--same").stderr == ""

    def test_the_note_is_right_about_the_values(self):
        # TF's windows: input cells i*s - before .. ; ours i*s - p: a shifted impulse says which
        from kernelcli import conv2d

        x = np.zeros((1, 6))
        x[0, 0] = 1.0
        w = np.array([[1.0, 0.0, 0.0]])  # picks each window's first cell
        ours = conv2d(x, w, stride=(1, 2), padding=(0, 0, 1, 1))[0]
        tf = conv2d(x, w, stride=(1, 2), padding=(0, 0, 0, 1))[0]
        assert ours.tolist() == [0.0, 0.0, 0.0] and tf.tolist() == [1.0, 0.0, 0.0]
        assert conv2d(x, w, stride=(1, 2), padding="same")[0].tolist() == ours.tolist()


class TestShapeErrors:
    def test_output_below_one_names_the_numbers(self, runner):
        result = invoke(runner, "shape", "--in", "3", "--f", "5")
        assert result.exit_code == 2
        assert "kernel span 5" in result.stderr and "padded input 3" in result.stderr

    def test_axis_is_named(self, runner):
        result = invoke(runner, "shape", "--in", "10x3", "--f", "5")
        assert result.exit_code == 2 and "width:" in result.stderr

    @pytest.mark.parametrize("text", ["24x", "abc", "0", "1x2x3x4", "-5", "1_000", "٣"])
    def test_bad_in_names_the_value(self, runner, text):
        result = invoke(runner, "shape", "--in", text, "--f", "3")
        assert result.exit_code == 2
        # (one number under 1 as typed in click's range sentence, audit 132 #1; any other text quoted)
        assert (f"{text} is not in the range x>=1." if text in ("0", "-5") else repr(text)) in result.stderr

    @pytest.mark.parametrize(
        ("args", "message"),
        [
            (("--same", "--valid"), "at most one of"),
            (("--p", "1", "--same"), "at most one of"),
            (("--pool", "--same"), "--same"),
            (("--pool", "--filters", "4"), "--filters"),
            (("--f", "3x3"), "one axis"),
            (("--f", "3x3x3"), "F or FxG"),
        ],
    )
    def test_option_combinations(self, runner, args, message):
        base = ["--in", "24"] if "--f" in args else ["--in", "24", "--f", "3"]
        result = invoke(runner, "shape", *base, *args)
        assert result.exit_code == 2
        assert message in result.stderr

    def test_filters_need_an_image(self, runner):
        result = invoke(runner, "shape", "--in", "24", "--f", "3", "--filters", "8")
        assert result.exit_code == 2 and "--filters needs" in result.stderr

    @pytest.mark.parametrize("option", ["--s", "--dilation"])
    def test_zero_stride_or_dilation(self, runner, option):
        assert invoke(runner, "shape", "--in", "24", "--f", "3", option, "0").exit_code == 2


class TestShapeAgainstBruteForce:
    @settings(max_examples=150, deadline=None)
    @given(size=st.integers(1, 50), f=st.integers(1, 9), s=st.integers(1, 5), p=st.integers(0, 5), d=st.integers(1, 3))
    def test_conv_formula(self, size, f, s, p, d):
        expected = count_windows(size, f, s, p, p, d)
        if expected == 0:
            with pytest.raises(shapes.ShapeError):
                shapes.conv_output_size(size, f, stride=s, pad_before=p, pad_after=p, dilation=d)
        else:
            assert shapes.conv_output_size(size, f, stride=s, pad_before=p, pad_after=p, dilation=d) == expected

    @settings(max_examples=150, deadline=None)
    @given(size=st.integers(1, 50), f=st.integers(1, 9), s=st.integers(1, 6), d=st.integers(1, 3), ceil_mode=st.booleans(), data=st.data())
    def test_pool_formula(self, size, f, s, d, ceil_mode, data):
        p = data.draw(st.integers(0, f // 2))
        expected = count_pool_windows(size, f, s, p, d, ceil_mode)
        if expected == 0:
            with pytest.raises(shapes.ShapeError):
                shapes.pool_output_size(size, f, stride=s, padding=p, dilation=d, ceil_mode=ceil_mode)
        else:
            assert shapes.pool_output_size(size, f, stride=s, padding=p, dilation=d, ceil_mode=ceil_mode) == expected

    @settings(max_examples=60, deadline=None)
    @given(
        size=st.integers(1, 40), f=st.integers(1, 7), s=st.integers(1, 4), d=st.integers(1, 3),
        pool=st.booleans(), ceil_mode=st.booleans(), data=st.data(),
    )
    def test_cli_prints_a_formula_that_evaluates_to_its_answer(self, size, f, s, d, pool, ceil_mode, data):
        p = data.draw(st.integers(0, f // 2 if pool else 4))  # pooling: PyTorch allows p <= f // 2
        args = ["shape", "--in", str(size), "--f", str(f), "--s", str(s), "--p", str(p), "--dilation", str(d)]
        if pool:
            args += ["--pool"] + (["--ceil"] if ceil_mode else [])
            expected = count_pool_windows(size, f, s, p, d, ceil_mode)
        else:
            expected = count_windows(size, f, s, p, p, d)
        result = invoke(RUNNER, *args)
        if pool and d > 1:  # a window pool cannot run (it has no --dilation) is not computed (audit 132 #7)
            assert result.exit_code == 2 and result.stderr.startswith(f"error: Invalid value for '--dilation': '{d}': pooling here takes an undilated")
            return
        if expected == 0:
            assert result.exit_code == 2 and str(size) in result.stderr
            return
        assert result.exit_code == 0, result.stderr
        line = result.stdout.splitlines()[-1]
        expression, answer = line.removeprefix("out_d = ").rsplit(" = ", 1)
        assert int(answer) == expected
        assert evaluate(expression) == expected

    @settings(max_examples=100, deadline=None)
    @given(
        h=st.integers(1, 30), w=st.integers(1, 30), f=st.integers(1, 5), s=st.integers(1, 4), d=st.integers(1, 1),
        ceil_mode=st.booleans(), data=st.data(),
    )  # (d: shape --pool takes no dilation, as pool has none; shapes.pool_output_size's is checked above)
    def test_pool_against_torch(self, h, w, f, s, d, ceil_mode, data):
        torch = pytest.importorskip("torch")
        p = data.draw(st.integers(0, f // 2))  # PyTorch refuses more
        args = ["shape", "--in", f"{h}x{w}", "--f", str(f), "--s", str(s), "--p", str(p), "--dilation", str(d), "--pool"]
        args += ["--ceil"] if ceil_mode else []
        # PyTorch's ceil_mode also accepts a window larger than the padded input; shapes refuses it
        assume(min(h, w) + 2 * p >= d * (f - 1) + 1)
        out = torch.nn.functional.max_pool2d(torch.zeros(1, 1, h, w), f, stride=s, padding=p, dilation=d, ceil_mode=ceil_mode)
        assert quiet(RUNNER, *args) == f"{out.shape[2]}x{out.shape[3]}"


class TestShapeUnequalSides:
    """-p T,B,L,R: used to be refused ("shape pads every side alike") though convolve takes it."""

    def test_lecture_form_with_the_sides_written_out(self, runner):
        result = ok(runner, "shape", "--in", "24x30", "--f", "3", "-p", "0,1,2,3", "--s", "2")
        assert result.stdout.splitlines() == [
            "out_h = (24 + 0 + 1 - 3) // 2 + 1 = 12",
            "out_w = (30 + 2 + 3 - 3) // 2 + 1 = 17",
            "out = 12x17",
        ]

    def test_json_gives_before_and_after_where_they_differ(self, runner):
        document = json.loads(ok(runner, "shape", "--in", "24x30", "--f", "4", "-p", "1,2,1,1", "--json").stdout)
        assert document["p"] == [[1, 2], 1] and document["out"] == [24, 29] and document["padding"] == "explicit"

    def test_four_equal_sides_are_p(self, runner):
        assert ok(runner, "shape", "--in", "24x24", "--f", "3", "-p", "1,1,1,1").stdout == ok(runner, "shape", "--in", "24x24", "--f", "3", "-p", "1").stdout

    @pytest.mark.parametrize(
        "args, message",
        [
            (("--in", "24", "--f", "3", "-p", "0,1,0,1"), "has one axis"),
            (("--in", "24x24", "--f", "2", "--pool", "-p", "0,1,0,1"), "pooling here takes valid, P or T,B,L,R with four equal values"),
            (("--in", "24x24", "--f", "3", "-p", "1,2"), "one width or four"),
        ],
    )
    def test_refused_where_it_has_no_meaning(self, runner, args, message):
        result = invoke(runner, "shape", *args)
        assert result.exit_code == 2 and message in result.stderr

    @settings(max_examples=60, deadline=None)
    @given(
        h=st.integers(1, 12), w=st.integers(1, 12), f=st.integers(1, 5), s=st.integers(1, 3), d=st.integers(1, 2),
        sides=st.tuples(*[st.integers(0, 3)] * 4),
    )
    def test_answer_is_the_shape_convolve_computes(self, h, w, f, s, d, sides):
        """Brute force per axis, and the output of the API's convolution with the same padding."""
        from kernelcli import api

        t, b, left, right = sides
        expected = (count_windows(h, f, s, t, b, d), count_windows(w, f, s, left, right, d))
        result = invoke(RUNNER, "shape", "--in", f"{h}x{w}", "--f", str(f), "--s", str(s), "--dilation", str(d),
                        "-p", ",".join(map(str, sides)), "-q")
        if 0 in expected:
            assert result.exit_code == 2
            return
        assert result.exit_code == 0, result.stderr
        assert result.stdout.strip() == f"{expected[0]}x{expected[1]}"
        computed = api.conv2d(np.zeros((h, w), np.float32), np.ones((f, f)), stride=s, padding=sides, dilation=d)
        assert computed.shape == expected


# --- params ------------------------------------------------------------------------------------


class TestParamsLecture:
    def test_conv_layer(self, runner):
        result = ok(runner, "params", "--in-ch", "228", "--filters", "32")
        assert result.stdout.splitlines()[0] == "[(3*3*228) + 1] * 32 = 65696"
        assert quiet(runner, "params", "--in-ch", "228", "--filters", "32") == "65696"
        assert quiet(runner, "params", "--in-ch", "228", "--filters", "32", "--f", "3x3") == "65696"

    @pytest.mark.parametrize(("dims", "text", "shape_line", "total"), [
        ("64x64x8", "64*64*8 = 32768", "(64, 64, 8) -> (32768, 1)", "32768"),
        ("3x3x1", "3*3*1 = 9", "(3, 3, 1) -> (9, 1)", "9"),
    ])
    def test_flatten(self, runner, dims, text, shape_line, total):
        assert ok(runner, "params", "--flatten", dims).stdout.splitlines() == [text, shape_line]
        assert quiet(runner, "params", "--flatten", dims) == total

    def test_flatten_accepts_the_lecture_tuple(self, runner):
        doc = json.loads(ok(runner, "params", "--flatten", "(64, 64, 8)", "--json").stdout)
        assert (doc["out"], doc["shape"]) == (32768, [32768, 1])

    def test_dense(self, runner):
        assert ok(runner, "params", "--dense", "32768", "10").stdout.strip() == "(32768 + 1) * 10 = 327690"
        assert ok(runner, "params", "--dense", "32768", "10", "--no-bias").stdout.strip() == "32768 * 10 = 327680"

    def test_no_bias_groups_and_rectangular_filters(self, runner):
        assert ok(runner, "params", "--in-ch", "3", "--filters", "8", "--f", "3x5", "--no-bias").stdout.splitlines()[0] == "(3*5*3) * 8 = 360"
        result = ok(runner, "params", "--in-ch", "228", "--filters", "32", "--groups", "4")
        assert result.stdout.splitlines()[0] == "[(3*3*228/4) + 1] * 32 = 16448"

    def test_json(self, runner):
        doc = json.loads(ok(runner, "params", "--in-ch", "228", "--filters", "32", "--json").stdout)
        assert (doc["params"], doc["weights"], doc["biases"], doc["f"]) == (65696, 65664, 32, 3)
        # README audit 3: "f" was [3, 3] for '--f 3', where a size follows its option (shape's "in": 24 for '--in 24')
        assert json.loads(ok(runner, "params", "--in-ch", "3", "--filters", "8", "--f", "3", "--json").stdout)["f"] == 3
        assert json.loads(ok(runner, "params", "--in-ch", "3", "--filters", "8", "--f", "3x5", "--json").stdout)["f"] == [3, 5]


class TestParamsErrors:
    @pytest.mark.parametrize(
        ("args", "message"),
        [
            ((), "exactly one of"),
            (("--in-ch", "3", "--filters", "8", "--dense", "2", "3"), "got --in-ch/--filters and --dense"),
            (("--dense", "2", "3", "--flatten", "2x2"), "got --dense and --flatten"),
            (("--in-ch", "3"), "--filters K is missing"),
            (("--filters", "3"), "--in-ch C is missing"),
            (("--dense", "2", "3", "--f", "3"), "only for a conv layer"),
            (("--flatten", "2x2", "--groups", "2"), "only for a conv layer"),
            (("--flatten", "2x2", "--no-bias"), "--no-bias"),
            (("--flatten", "2xq"), "'2xq'"),
            (("--in-ch", "6", "--filters", "4", "--groups", "4"), "--groups 4 must divide both --in-ch 6 and --filters 4"),  # (the API's names before)
            (("--in-ch", "6", "--filters", "4", "--f", "3x3x6"), "F or FxG"),
            (("--dense", "0", "3"), "Invalid value for '--dense': 0 is not in the range x>=1."),  # (the shapes audit, 94: the options' one form)
            # a product past Python's 4300 printable digits exited 70 ("a bug"): sizes have at most 30 digits
            (("--flatten", "x".join(["9" * 1000] * 5)), "a size of 1000 digits"),
            (("--in-ch", "9" * 3000, "--filters", "3"), "Invalid value for '--in-ch': '9999"),  # (audit 145 #1: parse time)
            (("--in-ch", "9" * 3000, "--filters", "3"), "an integer of 3000 digits (999999999999...); expected at most 30 digits"),
            (("--dense", "5", "9" * 3000), "Invalid value for '--dense': '9999"),
            (("--flatten", "1_000x3"), "'1_000x3'"),
        ],
    )
    def test_usage_errors(self, runner, args, message):
        if not args:  # no options at all shows the help; --json alone is "none given"
            args = ("--json",)
        result = invoke(runner, "params", *args)
        assert result.exit_code == 2
        assert message in result.stderr


class TestParamsAgainstBruteForce:
    @settings(max_examples=100, deadline=None)
    @given(g=st.integers(1, 4), cg=st.integers(1, 5), kg=st.integers(1, 5), fh=st.integers(1, 5), fw=st.integers(1, 5), bias=st.booleans())
    def test_conv(self, g, cg, kg, fh, fw, bias):
        c, k = g * cg, g * kg
        args = ["params", "--in-ch", str(c), "--filters", str(k), "--f", f"{fh}x{fw}", "--groups", str(g)]
        args += [] if bias else ["--no-bias"]
        assert int(quiet(RUNNER, *args)) == count_conv_params(c, k, fh, fw, bias, g)

    @settings(max_examples=50, deadline=None)
    @given(g=st.integers(1, 4), cg=st.integers(1, 6), kg=st.integers(1, 6), fh=st.integers(1, 5), fw=st.integers(1, 5), bias=st.booleans())
    def test_conv_against_torch(self, g, cg, kg, fh, fw, bias):
        torch = pytest.importorskip("torch")
        layer = torch.nn.Conv2d(g * cg, g * kg, (fh, fw), groups=g, bias=bias)
        assert shapes.conv_params(g * cg, g * kg, fh, fw, bias=bias, groups=g) == sum(t.numel() for t in layer.parameters())

    @settings(max_examples=50, deadline=None)
    @given(n_in=st.integers(1, 300), n_out=st.integers(1, 50), bias=st.booleans())
    def test_dense(self, n_in, n_out, bias):
        args = ["params", "--dense", str(n_in), str(n_out)] + ([] if bias else ["--no-bias"])
        weights = sum(1 for _ in itertools.product(range(n_in), range(n_out)))
        assert int(quiet(RUNNER, *args)) == weights + (n_out if bias else 0)

    @settings(max_examples=50, deadline=None)
    @given(dims=st.lists(st.integers(1, 12), min_size=1, max_size=4))
    def test_flatten(self, dims):
        np = pytest.importorskip("numpy")
        total = np.zeros(dims).reshape(-1, 1).shape[0]
        assert int(quiet(RUNNER, "params", "--flatten", "x".join(map(str, dims)))) == total


# --- help and start-up -------------------------------------------------------------------------


@pytest.mark.parametrize(("command", "example"), [("shape", "kernelcli shape --in 24 --f 5 --s 2 --same"), ("params", "kernelcli params --in-ch 228 --filters 32")])
def test_help_shows_an_example(runner, command, example):
    result = ok(runner, command, "--help")
    assert example in result.stdout


PROBE = """
import json, sys
from kernelcli.cli import app
try:
    app(sys.argv[1:], prog_name="kernelcli")
except SystemExit as exc:
    code = exc.code
heavy = sorted(m for m in ("numpy", "numba", "rich") if m in sys.modules)
sys.stderr.write("\\nPROBE " + json.dumps({"code": code, "heavy": heavy}) + "\\n")
"""


@pytest.mark.parametrize(
    "args",
    [
        ("shape", "--in", "24", "--f", "5", "--s", "2", "--same"),
        ("shape", "--in", "24x24x3", "--f", "4", "--same", "--filters", "8", "--json"),
        ("shape", "--in", "3", "--f", "5"),  # the error path too
        ("params", "--in-ch", "228", "--filters", "32"),
        ("params", "--flatten", "64x64x8", "--json"),
        ("shape", "--help"),
    ],
)
def test_shape_and_params_import_no_numpy_numba_or_rich(args):
    proc = subprocess.run([sys.executable, "-c", PROBE, *args], cwd=REPO, capture_output=True, text=True, timeout=60)
    probe = json.loads(proc.stderr.rsplit("PROBE ", 1)[1])
    assert probe["code"] in (0, 2, None), proc.stderr
    assert probe["heavy"] == []


def test_importtime_shows_no_numpy_or_numba():
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "kernelcli", "params", "--in-ch", "228", "--filters", "32"],
        cwd=REPO, capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 0 and proc.stdout.startswith("[(3*3*228) + 1] * 32 = 65696")
    imported = {line.split("|")[-1].strip() for line in proc.stderr.splitlines() if line.startswith("import time:")}
    # importtime logs `import` statements (not importlib.import_module): shapes is imported by params.py
    assert "kernelcli.shapes" in imported
    assert not {m for m in imported if m.split(".")[0] in ("numpy", "numba", "rich")}


class TestFormulaArguments:
    @pytest.mark.parametrize("call, message", [
        # flags were read by truth: ceil_mode="no" rounded up (3, not 2), bias="no" counted the bias (224, not 216)
        (lambda: shapes.pool_output_size(5, 2, stride=2, ceil_mode="no"), "ceil_mode must be True or False, got 'no'"),
        (lambda: shapes.conv_params(3, 8, 3, bias="no"), "bias must be True or False"),
        (lambda: shapes.dense_params(10, 3, bias=1), "bias must be True or False, got 1"),
        # dense_params and flatten_size took anything: (-5 + 1) * 3 = -12
        (lambda: shapes.dense_params(-5, 3), "n_in must be an integer >= 1, got -5"),
        (lambda: shapes.flatten_size((4, 0)), "size must be an integer >= 1, got 0"),
        (lambda: shapes.conv_params(10**40, 8, 3), "in_channels must be an integer of at most 30 digits, got one of 41"),
        (lambda: shapes.dense_params(10**5000, 3), "n_in must be an integer of at most 30 digits, got one of 5001"),
        # the transposed and "same" formulas checked nothing: f=0 gave 9, stride=0 3, output_padding=5 17, padding=-3 18,
        # an input of 10.5 gave 12.5; same_output_size(24, 0) was a ZeroDivisionError, (24, -1) -24, same_padding(0) (-1, 0)
        (lambda: shapes.conv_transpose_output_size(10, 0), "kernel size must be an integer >= 1, got 0"),
        (lambda: shapes.conv_transpose_output_size(10, 3, stride=0), "stride must be an integer >= 1, got 0"),
        (lambda: shapes.conv_transpose_output_size(10, 3, output_padding=5), "output_padding 5 must be smaller than the stride"),
        (lambda: shapes.conv_transpose_output_size(10, 3, padding=-3), "padding must be an integer >= 0, got -3"),
        (lambda: shapes.conv_transpose_output_size(10.5, 3), "input size must be an integer >= 1, got 10.5"),
        (lambda: shapes.same_output_size(24, 0), "stride must be an integer >= 1, got 0"),
        (lambda: shapes.same_output_size(24, -1), "stride must be an integer >= 1, got -1"),
        (lambda: shapes.tf_same_padding(24, 3, stride=0), "stride must be an integer >= 1, got 0"),
        (lambda: shapes.same_padding(0), "kernel size must be an integer >= 1, got 0"),
    ])
    def test_refused(self, call, message):
        from kernelcli.errors import UsageError

        with pytest.raises(UsageError, match=message):
            call()

    def test_numpy_values_are_taken(self):
        assert shapes.pool_output_size(np.int64(5), 2, stride=2, ceil_mode=np.bool_(True)) == 3
        assert shapes.conv_params(3, 8, 3, bias=np.bool_(False)) == 216 and shapes.dense_params(np.int32(4), 2) == 10
        assert shapes.flatten_size((10**29, 10**29)) == 10**58


def test_the_transposed_formula_is_torchs_where_torch_takes_the_arguments():
    torch = pytest.importorskip("torch")
    for size, f, stride, padding, output_padding, dilation in itertools.product((1, 7), (1, 3), (1, 2, 3), (0, 1), (0, 1, 2), (1, 2)):
        layer = torch.nn.ConvTranspose1d(1, 1, f, stride=stride, padding=padding, output_padding=output_padding, dilation=dilation)
        try:
            want = layer(torch.zeros(1, 1, size)).shape[-1]
        except RuntimeError:  # torch refuses: so does kernelcli
            want = None
        try:
            got = shapes.conv_transpose_output_size(size, f, stride=stride, padding=padding, output_padding=output_padding,
                                                    dilation=dilation)
        except Exception:  # noqa: BLE001 - UsageError or ShapeError, both kernelcli's
            got = None
        assert got == want, (size, f, stride, padding, output_padding, dilation)


def test_a_one_axis_flatten_is_one_number_and_filters_has_the_digit_limit(runner):
    # params --flatten 7 --json gave "in": [7] (a one-axis size is one number); shape --filters took 4,000 digits
    assert json.loads(ok(runner, "params", "--flatten", "7", "--json").stdout)["in"] == 7
    assert json.loads(ok(runner, "params", "--flatten", "7x3", "--json").stdout)["in"] == [7, 3]
    r = invoke(runner, "shape", "--in", "24x24x3", "--f", "3", "--filters", "9" * 31)
    assert r.exit_code == 2 and "Invalid value for '--filters': '9999" in r.output and "expected at most 30 digits" in r.output


def test_one_channel_is_said_in_the_singular():
    # 'pooling works on each of the 1 channels', 'neither CxHxW nor HxWxC gives 1 channels' (left alone since stop 37)
    from conftest import run_in_process

    pooled = run_in_process("shape", "--in", "8x8x1", "--f", "2", "--pool")
    assert "pooling works on its 1 channel)" in pooled.stdout
    unet = run_in_process("summary", "unet", "--input", "3x572x572")
    assert unet.returncode != 0 and "gives 1 channel" in unet.stderr and "1 channels" not in unet.stderr


class TestShapesAudit94:
    """The shapes audit (94): messages that named no option, misstated PyTorch, or put a window in a padding it had not."""

    @pytest.mark.parametrize(("args", "words"), [
        (("--in", "24", "-f", "3", "-s", "1" + "0" * 30), "'--s': '1000000000000000000000000000000': an integer of 31 digits"),
        (("--in", "24", "-f", "3", "--dilation", "1" + "0" * 30), "'--dilation': '1000000000000000000000000000000': an integer of 31"),
        (("--in", "24x24", "-f", "3", "-p", "0,0,0,1" + "0" * 30), "'0,0,0,1000000000000000000000000000000': a width of 31 digits"),
    ])
    def test_a_size_past_30_digits_is_named_by_its_option(self, args, words):
        r = subprocess.run([sys.executable, "-m", "kernelcli", "shape", *args], capture_output=True, text=True)
        assert r.returncode == 2 and words in r.stderr, r.stderr

    def test_pooling_padding_refusal_does_not_misstate_pytorch(self):
        r = subprocess.run([sys.executable, "-m", "kernelcli", "shape", "--in", "10x10", "-f", "3x5", "--pool", "-p", "1,1,2,2"],
                           capture_output=True, text=True)
        assert r.returncode == 2 and "pad every side alike" not in r.stderr
        assert "PyTorch's per-axis padding=(ph, pw) is not taken" in r.stderr

    @pytest.mark.parametrize(("args", "words"), [
        (("--in", "5", "-f", "1", "-s", "3"), "out_d: the last window would start at 6, past the input's last index 4:"),
        (("--in", "7x7", "-f", "2", "-s", "3", "-p", "1"), "out_d: the last window would start at 8, past the padded input's last index 7:"),
    ])
    def test_the_dropped_window_note_says_where_the_window_starts(self, args, words):
        # it said "..., in the padding" with no padding at all
        r = subprocess.run([sys.executable, "-m", "kernelcli", "shape", *args, "--pool", "--ceil"], capture_output=True, text=True)
        assert r.returncode == 0 and words in r.stderr and "in the padding" not in r.stderr, r.stderr
