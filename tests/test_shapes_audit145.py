"""Audit 145: shape, params, summary and network specs (round 5): the findings' repros.

#1 a whole number past 30 digits typed for any integer option is refused by the option's parser, in Click's form with
the value as typed, before any input is read (``pool a.npy -s 1e40`` was refused per input, blamed on the file).
#2 summary's heading (``NAME, input CxHxW``) and a spec's title are one line each, piped: rich folded the heading to the
table's width (``..._course_v`` / ``2, input 3x8x8``) and the title at 80 columns.
#3 a spec's integer of more than 30 digits is refused by the field that reads it, naming the field and layer (the JSON
reader refused it anywhere, at a line and column, and told ``fn`` or ``bias`` "at most 30 digits"); ``eps`` and a
``comment`` take it as they take the same number written ``1e32``.
#4 shape: ``-p 0`` is the padding ``--valid`` is: ``--json`` names it ``valid`` (it said ``explicit``), and ``-p 0 --valid``
is said twice the same way, as ``-p valid --valid`` (it was refused as a conflict).
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from conftest import REPO, run_cli, run_in_process

TOO_LONG = "'{typed}': an integer of {n} digits (100000000000...); expected at most 30 digits"


def _refused(option: str, typed: str, n: int, command: str, what: str = "an integer") -> str:
    said = TOO_LONG.format(typed=typed, n=n).replace("an integer", what)
    return f"error: Invalid value for {option}: {said} (see 'kernelcli {command} -h')"


STRIDE = "'--stride' / '-s' / '--s'"


class TestTooManyDigitsAtParseTime:
    @pytest.mark.parametrize(("args", "option", "typed", "n"), [
        (("pool", "MISSING.npy", "-f", "2", "-s", "1e40", "-o", "p.npy"), STRIDE, "1e40", 41),
        (("pool", "a.npy", "-f", "2", "-s", "1e40", "-o", "p.npy"), STRIDE, "1e40", 41),
        (("convolve", "MISSING.npy", "-k", "box:3", "--dilation", "1e40", "-o", "c.npy"), "'--dilation'", "1e40", 41),
        (("convolve", "a.npy", "-k", "box:3", "-s", "1" + "0" * 31, "-o", "c.npy"), STRIDE, "1" + "0" * 31, 32),
        (("convolve", "MISSING.npy", "-k", "box:3", "--workers", "1e40", "-o", "c.npy"), "'--workers' / '-j'", "1e40", 41),
        (("shape", "--in", "24", "-f", "5", "-s", "1e40"), STRIDE, "1e40", 41),
        (("shape", "--in", "24", "-f", "5", "-s", "1e5000"), STRIDE, "1e5000", 5001),
        (("shape", "--in", "24", "-f", "5", "--filters", "1e40"), "'--filters'", "1e40", 41),
        (("params", "--in-ch", "1e40", "--filters", "3"), "'--in-ch'", "1e40", 41),
        (("params", "--dense", "3", "1e40"), "'--dense'", "1e40", 41),
        (("summary", "resnet18", "--depth", "1e40"), "'--depth'", "1e40", 41),
        (("summary", "resnet18", "--max-layers", "1e5000"), "'--max-layers'", "1e5000", 5001),
        (("learn", "MISSING.npy", "MISSING.npy", "-f", "3", "--seed", "1e40", "-o", "k.json"), "'--seed'", "1e40", 41),
    ])
    def test_one_form_before_any_input_is_read(self, tmp_path, args, option, typed, n):
        np.save(tmp_path / "a.npy", np.arange(100.0).reshape(10, 10))
        done = run_in_process(*args, cwd=tmp_path)
        assert (done.returncode, done.stdout) == (2, "")
        assert done.stderr.strip() == _refused(option, typed, n, args[0])
        assert sorted(p.name for p in tmp_path.iterdir()) == ["a.npy"]

    def test_a_long_number_below_the_floor_is_refused_by_the_floor(self, tmp_path):
        # (review 153 #12: --seed -1e40 and --dilation -1e40 are below the option's floor, and said so as -1 is)
        done = run_in_process("shape", "--in", "24", "-f", "5", "--dilation", "-1e40", cwd=tmp_path)
        assert (done.returncode, done.stdout) == (2, "")
        assert done.stderr.strip() == ("error: Invalid value for '--dilation': -1e40 is not in the range x>=1. "
                                       "(see 'kernelcli shape -h')")

    @pytest.mark.parametrize(("args", "option", "typed", "what"), [
        (("shape", "--in", "24", "-f", "5", "-p", "1e40"), "'--padding' / '-p' / '--p'", "1e40", "a width"),
        (("shape", "--in", "1e40", "-f", "5"), "'--input' / '--in' / '-i'", "1e40", "a size"),
        (("pad", "MISSING.npy", "-p", "1,1,1,1e40", "-o", "x.npy"), "'--padding' / '-p' / '--p'", "1,1,1,1e40", "a width"),
        (("pool", "MISSING.npy", "-f", "1e40", "-o", "x.npy"), "'--size' / '-f' / '--f'", "1e40", "a size"),
        (("convolve", "MISSING.npy", "-k", "box:3", "--chunks", "5,1e40", "-o", "x.npy"), "'--chunks'", "5,1e40", "a tile side"),
    ])
    def test_sizes_and_widths_say_it_in_the_same_words(self, tmp_path, args, option, typed, what):
        done = run_in_process(*args, cwd=tmp_path)
        assert done.returncode == 2
        assert done.stderr.strip() == _refused(option, typed, 41, args[0], what)

    def test_an_option_with_a_top_keeps_its_range_sentence(self, tmp_path):
        done = run_in_process("gallery", "MISSING.npy", "--tile", "1e5000", "-o", "g.png", cwd=tmp_path)
        assert done.returncode == 2
        assert "Invalid value for '--tile': 1e5000 is not in the range x>=16 and x<=1024." in done.stderr

    def test_thirty_digits_are_still_taken(self):
        done = run_in_process("params", "--in-ch", "9" * 30, "--filters", "1", "-q")
        assert (done.returncode, done.stdout) == (0, f"{(9 * 10**30 - 9) + 1}\n")

    def test_a_chain_steps_stride_is_refused_before_the_input_too(self, tmp_path):
        done = run_in_process("convolve", "MISSING.npy", "-k", "box:3", "--then", "maxpool:2:1e40", "-o", "c.npy", cwd=tmp_path)
        assert done.returncode == 3  # (an invalid kernel, as -k's: audit 204 #3)
        assert done.stderr.strip() == ("error: invalid --then 'maxpool:2:1e40': a stride of 41 digits "
                                       "(100000000000...); expected at most 30 digits")

    @pytest.mark.parametrize("args", [
        ["shape", "--in", "24", "-f", "5", "-s", "1e40"],
        ["params", "--in-ch", "1e5000", "--filters", "3"],
        ["pool", "MISSING.npy", "-f", "2", "-s", "1e40"],
    ])
    def test_the_plain_and_typer_paths_agree(self, tmp_path, args):
        plain = run_cli(*args, cwd=tmp_path)
        code = f"import sys\nsys.path.insert(0, {str(REPO)!r})\nfrom kernelcli.cli import run\nsys.exit(run({args!r}))"
        typed = subprocess.run([sys.executable, "-P", "-c", code], capture_output=True, text=True, cwd=tmp_path)
        assert (plain.returncode, plain.stdout, plain.stderr) == (typed.returncode, typed.stdout, typed.stderr)
        assert plain.returncode == 2 and "expected at most 30 digits" in plain.stderr


class TestSummaryHeadingWhole:
    NAME = "my_segmentation_network_for_the_liver_ct_course_v2_with_a_name_longer_than_the_line_of_eighty"
    TITLE = "A very long title of a network that someone wrote for the course on medical imaging, version two"

    def test_a_long_spec_name_is_not_cut_mid_word(self, tmp_path):
        (tmp_path / f"{self.NAME}.json").write_text('{"input": [3, 8, 8], "layers": [{"type": "flatten"}]}')
        done = run_in_process("summary", f"{self.NAME}.json", cwd=tmp_path)
        assert done.returncode == 0
        assert done.stdout.splitlines()[:2] == [f"{self.NAME}, input 3x8x8", ""]
        as_json = run_in_process("summary", f"{self.NAME}.json", "--json", cwd=tmp_path)
        assert json.loads(as_json.stdout)["network"] == self.NAME  # (the name --json gives, whole)

    def test_a_long_title_is_one_line(self, tmp_path):
        (tmp_path / "t.json").write_text(json.dumps({"title": self.TITLE, "input": [3, 8, 8], "layers": [{"type": "flatten"}]}))
        done = run_in_process("summary", "t.json", cwd=tmp_path)
        assert done.returncode == 0
        assert done.stdout.splitlines()[:3] == [self.TITLE, "t, input 3x8x8", ""]

    def test_a_short_heading_reads_as_before(self):
        lines = run_in_process("summary", "resnet18", "--depth", "1").stdout.splitlines()
        assert lines[:4] == ["ResNet-18", "resnet18, input 3x224x224", "",
                             "  Layer     Type                   Output          Params   Mult-adds"]


B33 = "1" + "0" * 32


def _summary_of(tmp_path, layer: str, *before: str):
    (tmp_path / "s.json").write_text('{"input": [4, 8, 8], "layers": [%s]}' % ", ".join((*before, layer)))
    return run_in_process("summary", "s.json", "-q", cwd=tmp_path)


class TestLongSpecIntegers:
    @pytest.mark.parametrize(("layer", "said"), [
        ('{"type": "conv", "filters": %s, "f": 3}' % B33, f"layers[0].filters (0): expected an integer >= 1 of at most 30 digits, got {B33}"),
        ('{"type": "conv", "filters": 4, "f": [3, %s]}' % B33,
         f"layers[0].f (0): expected an integer >= 1 or [h, w], each of at most 30 digits, got [3, {B33}]"),
        ('{"type": "conv", "filters": 4, "f": 3, "p": %s}' % B33, 'layers[0].p (0): expected "same", "valid", an integer, [ph, pw] or '
         f"[t, b, l, r], each width an integer of at most 30 digits, got {B33}"),
        ('{"type": "upconv", "filters": 4, "f": 2, "output_padding": %s}' % B33,
         f"layers[0].output_padding (0): expected an integer >= 0 or [h, w], each of at most 30 digits, got {B33}"),
        ('{"type": "activation", "fn": %s}' % ("1" + "0" * 40),
         "layers[0].fn (0): expected one of relu, relu6, leaky_relu, elu, selu, gelu, silu, mish, hardswish, sigmoid, hardsigmoid, "
         "tanh, softmax, log_softmax, identity, got 10000000000000000000...00000000000000000000 (41 digits)"),
        ('{"type": "conv", "filters": 4, "f": 3, "bias": %s}' % B33, f"layers[0].bias (0): expected true or false, got {B33}"),
        ('{"type": "batchnorm", "momentum": %s}' % B33, f"layers[0].momentum (0): expected a number in [0.0, 1.0] or null, got {B33}"),
        ('{"type": "dropout", "rate": %s}' % B33, f"layers[0].rate (0): expected a number in [0.0, 1.0], got {B33}"),
        ('{"type": "flatten", "repeat": %s}' % B33, f"layers[0].repeat: expected an integer >= 0 of at most 30 digits, got {B33}"),
    ])
    def test_the_field_refuses_it_naming_itself(self, tmp_path, layer, said):
        done = _summary_of(tmp_path, layer)
        assert (done.returncode, done.stdout) == (3, "")
        assert done.stderr.strip() == f"error: s.json: {said}"
        assert "at most 30 digits" not in said or "integer" in said.split("got")[0]

    def test_the_input_says_the_limit(self, tmp_path):
        (tmp_path / "s.json").write_text('{"input": [4, 8, %s], "layers": [{"type": "flatten"}]}' % B33)
        done = run_in_process("summary", "s.json", cwd=tmp_path)
        assert done.returncode == 3
        assert done.stderr.strip() == f"error: s.json: input: expected [C, H, W] or [N] with integers >= 1 of at most 30 digits, got [4, 8, {B33}]"

    @pytest.mark.parametrize("field", ["eps", "comment"])
    def test_digits_read_as_the_exponent_form(self, tmp_path, field):
        layer = '{"type": "batchnorm", "%s": %%s}' % field
        in_digits, in_exponent = _summary_of(tmp_path, layer % B33), _summary_of(tmp_path, layer % "1e32")
        assert (in_digits.returncode, in_digits.stdout, in_digits.stderr) == (0, "8\n", "")
        assert (in_digits.returncode, in_digits.stdout, in_digits.stderr) == (in_exponent.returncode, in_exponent.stdout, in_exponent.stderr)

    def test_past_the_float_range_as_1e400(self, tmp_path):
        digits = _summary_of(tmp_path, '{"type": "batchnorm", "eps": 1%s}' % ("0" * 400))
        exponent = _summary_of(tmp_path, '{"type": "batchnorm", "eps": 1e400}')
        assert digits.returncode == exponent.returncode == 3
        assert digits.stderr.strip() == ("error: s.json: layers[0].eps (0): expected a number >= 0.0, got "
                                         "10000000000000000000...00000000000000000000 (401 digits)")
        assert exponent.stderr.strip() == "error: s.json: layers[0].eps (0): expected a number >= 0.0, got 1e400"

    def test_thirty_digits_are_still_an_integer(self, tmp_path):
        done = _summary_of(tmp_path, '{"type": "dense", "units": %s}' % ("9" * 30), '{"type": "flatten"}')
        assert (done.returncode, done.stdout) == (0, f"{(256 + 1) * (10**30 - 1)}\n")


class TestShapeValidOneName:
    @pytest.mark.parametrize(("spelt", "name", "p"), [
        (("-p", "0"), "valid", 0), (("-p", "0,0,0,0"), "valid", 0), (("-p", "+0.0"), "valid", 0), (("-p", "valid"), "valid", 0),
        (("--valid",), "valid", 0), ((), "valid", 0), (("-p", "1"), "explicit", 1), (("-p", "1,1,1,1"), "explicit", 1),
        (("--same",), "same", 1),
    ])
    def test_json_names_a_padding_one_way(self, spelt, name, p):
        done = run_in_process("shape", "--in", "10", "-f", "3", *spelt, "--json")
        document = json.loads(done.stdout)
        assert (document["padding"], document["p"]) == (name, p)

    @pytest.mark.parametrize("padding", ["0", "0,0,0,0", "valid"])
    def test_said_twice_the_same_way_is_taken(self, padding):
        twice = run_in_process("shape", "--in", "10", "-f", "3", "-p", padding, "--valid")
        once = run_in_process("shape", "--in", "10", "-f", "3", "--valid")
        assert (twice.returncode, twice.stdout, twice.stderr) == (once.returncode, once.stdout, once.stderr) == (0, once.stdout, "")

    @pytest.mark.parametrize(("padding", "flag"), [("1", "--valid"), ("0", "--same"), ("1,1,1,1", "--valid")])
    def test_two_paddings_are_still_refused(self, padding, flag):
        done = run_in_process("shape", "--in", "10", "-f", "3", "-p", padding, flag)
        assert done.returncode == 2 and done.stderr.strip() == "error: give at most one of --padding P, --same and --valid"

    def test_the_text_answer_is_unchanged(self):
        assert run_in_process("shape", "--in", "10", "-f", "3", "-p", "0").stdout == "out_d = (10 + 2*0 - 3) // 1 + 1 = 8\n"
