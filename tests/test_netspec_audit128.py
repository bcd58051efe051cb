"""shape, params, summary and network specs, audit 128: the words each says.

#1 ``summary`` wrote a spec's title and layer names raw (a line break split a table row, an ESC sequence reached
the terminal); #3 ``shape --layout`` on an input without three axes said nothing where ``params --flatten`` says
it changes nothing; #4 a whole number past 4,300 digits was "not a valid integer", and ``summary --depth`` and
``--max-layers`` took any number of digits; #5 a spec's errors named values in Python's words (``NoneType``,
``list``, ``Infinity`` for 1e400, ``100.0`` for 1e2) and its pooling padding rule in words of its own.
"""

from __future__ import annotations

import json

import pytest

from conftest import run_in_process


def _spec(tmp_path, document, name="net.json"):
    path = tmp_path / name
    path.write_text(json.dumps(document) if not isinstance(document, str) else document)
    return path


class TestSummaryTable:
    def test_control_characters_in_a_title_and_names_are_escaped_as_a_listing_escapes_them(self, tmp_path):
        spec = _spec(tmp_path, {"title": "My net\n\x1b[2Jcleared", "input": [3, 8, 8],
                                "layers": [{"name": "conv\x1b[31mred", "type": "conv", "filters": 2, "f": 3},
                                           {"name": "a\nb", "type": "flatten"}]})
        done = run_in_process("summary", str(spec), cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        assert "\x1b" not in done.stdout
        lines = done.stdout.splitlines()
        assert lines[0] == "My net\\n\\033[2Jcleared"
        assert any(line.split()[:2] == ["conv\\033[31mred", "conv"] for line in lines)
        assert any(line.split()[:2] == ["a\\nb", "flatten"] for line in lines)  # one row, not two
        assert not any(line.strip() == "b" for line in lines)

    def test_json_keeps_the_names_exactly(self, tmp_path):
        spec = _spec(tmp_path, {"input": [3, 8, 8], "layers": [{"name": "a\nb", "type": "flatten"}]})
        done = run_in_process("summary", str(spec), "--json", cwd=tmp_path)
        assert [row["name"] for row in json.loads(done.stdout)["layers"]] == ["a\nb"]


class TestShapeLayoutWhereItChangesNothing:
    @pytest.mark.parametrize("given, axes", [("24", 1), ("24x24", 2)])
    def test_a_note_as_params_flatten_gives(self, given, axes):
        done = run_in_process("shape", "--in", given, "--f", "5", "--layout", "chw")
        assert done.returncode == 0
        assert done.stderr.strip() == (f"note: --layout chw names the axes of a 3-D --input HxWxC; {given} has {axes}, "
                                       "so it changes nothing")
        flat = run_in_process("params", "--flatten", "64x64", "--layout", "chw")
        assert "names the axes of a 3-D --flatten HxWxC; 64x64 has 2, so it changes nothing" in flat.stderr

    def test_no_note_where_it_orders_the_filters_output(self):
        done = run_in_process("shape", "--in", "24x24", "--f", "5", "--layout", "chw", "--filters", "3")
        assert done.returncode == 0 and "out = 3x20x20" in done.stdout and done.stderr == ""

    def test_the_json_record_carries_the_note(self):
        done = run_in_process("shape", "--in", "24", "--f", "5", "--layout", "chw", "--json")
        assert json.loads(done.stdout)["notes"] == ["--layout chw names the axes of a 3-D --input HxWxC; 24 has 1, so it changes nothing"]


class TestHugeIntegers:
    def test_a_whole_number_past_4300_digits_is_called_an_integer(self):
        done = run_in_process("params", "--in-ch", "1e5000", "--filters", "3", "-q")
        assert done.returncode == 2
        assert "'1e5000': an integer of 5001 digits (100000000000...); expected at most 30 digits" in done.stderr  # (audit 145 #1)
        assert "not a valid integer" not in done.stderr

    def test_a_fraction_is_still_not_an_integer(self):
        done = run_in_process("params", "--in-ch", "2.5", "--filters", "3", "-q")
        assert done.returncode == 2 and "'2.5' is not a valid integer" in done.stderr

    @pytest.mark.parametrize("option, value, digits", [("--depth", "9" * 32, 32), ("--max-layers", "1e40", 41)])
    def test_summary_counts_have_the_30_digits_of_every_size(self, option, value, digits):
        done = run_in_process("summary", "resnet18", option, value, "-q")
        assert done.returncode == 2 and done.stdout == ""
        said = f"'{value}': an integer of {digits} digits ({value[:12] if value[0] == '9' else '100000000000'}...); expected at most 30 digits"
        assert done.stderr.strip() == f"error: Invalid value for '{option}': {said} (see 'kernelcli summary -h')"  # (audit 145 #1)


class TestSpecWords:
    @pytest.mark.parametrize("written", ["1e400", "1e2", "2.50"])
    def test_a_number_is_named_as_the_file_wrote_it(self, tmp_path, written):
        spec = _spec(tmp_path, '{"input": [3, 32, 32], "layers": [{"name": "c", "type": "conv", "filters": %s, "f": 3}]}' % written)
        done = run_in_process("summary", str(spec), cwd=tmp_path)
        assert done.returncode == 3
        assert done.stderr.strip() == f"error: {spec}: layers[0].filters (c): expected an integer >= 1, got {written}"

    @pytest.mark.parametrize("document, word", [("null", "null"), ("[]", "an array"), ('"net"', "a string"), ("3", "a number")])
    def test_the_top_level_kind_in_json_words(self, tmp_path, document, word):
        spec = _spec(tmp_path, document)
        done = run_in_process("summary", str(spec), cwd=tmp_path)
        assert done.returncode == 3
        assert done.stderr.strip() == f"error: {spec}: expected a JSON object with 'layers', got {word}"

    def test_templates_and_layer_lists_too(self, tmp_path):
        spec = _spec(tmp_path, {"input": [3, 8, 8], "templates": [], "layers": [{"type": "flatten"}]})
        assert run_in_process("summary", str(spec), cwd=tmp_path).stderr.strip().endswith("got an array")

    def test_pool_padding_in_pools_words(self, tmp_path):
        spec = _spec(tmp_path, {"input": [1, 10, 10], "layers": [{"type": "maxpool", "f": 2, "p": 2}]})
        done = run_in_process("summary", str(spec), cwd=tmp_path)
        said = run_in_process("shape", "--in", "10x10", "-f", "2", "-p", "2", "--pool").stderr.strip()
        rule = "padding 2 is more than half the pool size 2: at most 1 (PyTorch's rule)"
        assert said == f"error: Invalid value for '--padding' / '-p' / '--p': '2': {rule} (see 'kernelcli shape -h')"
        assert done.returncode == 3
        assert done.stderr.strip() == f"error: {spec}: layers[0].p (0): {rule}"

    def test_pool_padding_per_axis_names_the_axis(self, tmp_path):
        spec = _spec(tmp_path, {"input": [1, 10, 10], "layers": [{"type": "maxpool", "f": [2, 4], "p": [1, 3]}]})
        done = run_in_process("summary", str(spec), cwd=tmp_path)
        assert done.stderr.strip().endswith("padding 3 along the width is more than half the pool size 4: at most 2 (PyTorch's rule)")

    def test_a_spec_float_still_counts_as_its_number(self, tmp_path):
        spec = _spec(tmp_path, '{"input": [3, 8, 8], "layers": [{"type": "batchnorm", "eps": 1e-5, "momentum": 0.25}]}')
        done = run_in_process("summary", str(spec), "--json", cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["totals"]["params"] == 6
