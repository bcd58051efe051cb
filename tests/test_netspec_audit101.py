"""Audit 101 of `kernelcli summary` and the network spec: an input that reads two ways, where a spec's
JSON fault is, values spelled as JSON, small activation totals, PyTorch's batchnorm fields.

Each test says what was observed before the fix; the references are hand counts and the spec's rules.
"""

from __future__ import annotations

import json

import pytest

from conftest import REPO, run_in_process
from kernelcli.errors import UsageError
from kernelcli.netspec import SpecError, load_spec, summarize

CONV_FLAT_DENSE = [{"type": "conv", "filters": 16, "f": 3, "p": 1}, {"type": "flatten"}, {"type": "dense", "units": 10}]


def write(tmp_path, name, doc):
    path = tmp_path / name
    path.write_text(json.dumps(doc) if not isinstance(doc, str) else doc)
    return path


def error_of(call):
    with pytest.raises(SpecError) as info:
        call()
    return str(info.value)


class TestSpecInputReadsTwoWays:
    """A spec's "input": [224, 224, 3] was 224 channels of 224x3 (conv 32,272 params, exit 0), where
    `--input 224x224x3` is refused as reading two ways."""

    def test_refused_naming_both_readings_and_the_field(self, tmp_path):
        path = write(tmp_path, "hwc.json", {"input": [224, 224, 3], "layers": CONV_FLAT_DENSE})
        message = error_of(lambda: load_spec(path))
        assert message.startswith(f"{path}: input: [224, 224, 3] reads two ways: ")
        for words in ("CxHxW = 224 channels of 224x3", "HxWxC = 224x224 with 3 channels", '"layout": "hwc"',
                      '"layout": "chw"', "[3, 224, 224]"):
            assert words in message, message

    def test_the_command_exits_3_in_one_line(self, tmp_path):
        write(tmp_path, "hwc.json", {"input": [224, 224, 3], "layers": CONV_FLAT_DENSE})
        r = run_in_process("summary", "hwc.json", cwd=tmp_path)
        assert r.returncode == 3 and r.stdout == ""
        assert r.stderr.count("\n") == 1 and "reads two ways" in r.stderr and "Traceback" not in r.stderr

    def test_the_layout_field_picks_a_reading(self, tmp_path):
        hwc = summarize({"input": [224, 224, 3], "layout": "hwc", "layers": CONV_FLAT_DENSE})
        assert hwc.input == (3, 224, 224) and hwc.find("0").shape == (16, 224, 224) and hwc.find("0").params == 448
        chw = summarize({"input": [224, 224, 3], "layout": "CHW", "layers": CONV_FLAT_DENSE})
        assert chw.input == (224, 224, 3) and chw.find("0").params == 32_272
        path = write(tmp_path, "hwc.json", {"input": [224, 224, 3], "layout": "hwc", "layers": CONV_FLAT_DENSE})
        r = run_in_process("summary", "hwc.json", "--json", cwd=tmp_path)
        assert r.returncode == 0 and json.loads(r.stdout)["input_shape"] == [3, 224, 224]
        # --input is checked against the spec's input as read (3 channels), not as written
        r = run_in_process("summary", str(path), "--input", "3x32x32", "-q", cwd=tmp_path)
        assert r.returncode == 0, r.stderr

    @pytest.mark.parametrize("shape", [[3, 224, 224], [64, 56, 56], [1, 28, 28], [4, 4, 4], [784]])
    def test_shapes_that_read_one_way_need_no_layout(self, shape):
        layers = [{"type": "flatten"}] if len(shape) == 3 else [{"type": "dense", "units": 2}]
        assert summarize({"input": shape, "layers": layers}).input == tuple(shape)

    @pytest.mark.parametrize(("doc", "needle"), [
        ({"input": [3, 8, 8], "layout": "zyx"}, 'layout: expected "chw" or "hwc" (how "input" is written), got "zyx"'),
        ({"input": [3, 8, 8], "layout": 1}, 'layout: expected "chw" or "hwc" (how "input" is written), got 1'),
        ({"layout": "hwc"}, 'layout: "hwc" says how "input" is written; the spec gives no input'),
    ])
    def test_a_bad_layout_field_is_refused(self, doc, needle):
        message = error_of(lambda: summarize({**doc, "layers": [{"type": "flatten"}]}))
        assert needle in message, message


class TestApiInputReadsTwoWays:
    """summarize(spec without input, (224, 224, 3)) gave 224 channels (139,802 params) where the command refuses."""

    @pytest.fixture
    def no_input(self):
        return {"name": "noin", "layers": CONV_FLAT_DENSE}

    def test_refused_as_the_command_refuses(self, no_input):
        with pytest.raises(UsageError, match=r"^input_shape 224x224x3 reads two ways: CxHxW = 224 channels of 224x3, "
                                             r"or HxWxC = 224x224 with 3 channels .*give layout=chw or layout=hwc$"):
            summarize(no_input, (224, 224, 3))

    def test_a_layout_picks_a_reading(self, no_input):
        assert summarize(no_input, (224, 224, 3), layout="hwc").input == (3, 224, 224)
        assert summarize(no_input, (224, 224, 3), layout="chw").params == 139_802
        assert summarize(no_input, (3, 224, 224)).input == (3, 224, 224)

    def test_the_command_with_layout_chw_still_reads_it_so(self, tmp_path, no_input):
        write(tmp_path, "noin.json", no_input)
        r = run_in_process("summary", "noin.json", "--input", "224x224x3", "--layout", "chw", "-q", cwd=tmp_path)
        assert (r.returncode, r.stdout) == (0, "139802\n"), r.stderr

    @pytest.mark.parametrize("shape", [None, (3, 224, 224)])
    def test_a_bad_layout_is_refused_in_the_apis_words(self, shape):
        with pytest.raises(UsageError) as info:
            summarize("resnet18", shape, layout="bogus")
        assert "invalid layout 'bogus'" in str(info.value) and "--layout" not in str(info.value)

    def test_a_layout_without_input_shape_is_refused(self):
        with pytest.raises(UsageError, match="layout='hwc' says how input_shape is written; give input_shape too"):
            summarize("resnet18", layout="hwc")


def line_column(text: str, offset: int) -> str:
    return f"line {text.count(chr(10), 0, offset) + 1}, column {offset - text.rfind(chr(10), 0, offset)}"


class TestWhereTheJsonFaultIs:
    """A key given twice and a 31-digit integer said neither line nor column (resnet50 has 8 conv objects alike)."""

    @pytest.fixture(autouse=True)
    def _in_tmp(self, tmp_path, monkeypatch):
        monkeypatch.chdir(tmp_path)

    def test_a_key_given_twice_names_its_line_and_column(self, tmp_path):
        text = (REPO / "kernels" / "networks" / "resnet50.json").read_text()
        i = text.find('"f": 1, "s": "$stride"')
        bad = text[:i] + '"f": 3, ' + text[i:]
        write(tmp_path, "dup.json", bad)
        message = error_of(lambda: load_spec("dup.json"))
        where = line_column(bad, i + len('"f": 3, '))
        assert message.startswith(f'dup.json: {where}: the key "f" is given twice in one object'), message

    def test_a_long_integer_names_its_field_and_layer(self, tmp_path):
        # (audit 145 #3: refused by the field that reads it, as any bad value, not by the JSON reader at a line and column)
        text = (REPO / "kernels" / "networks" / "resnet50.json").read_text()
        bad = text.replace('"filters": 64, "f": 7', '"filters": 64, "f": 7' + "0" * 30, 1)
        write(tmp_path, "big.json", bad)
        done = run_in_process("summary", "big.json", cwd=tmp_path)
        assert done.returncode == 3
        assert done.stderr.strip() == ("error: big.json: layers[0].f (conv1): expected an integer >= 1 or [h, w], each of at "
                                       "most 30 digits, got 7" + "0" * 30)

    def test_strings_and_escapes_do_not_mislead_the_scan(self, tmp_path):
        # digits inside a string, a key spelled with an escape, and an inner object closing first (as the reader reports it)
        bad = ('{"name": "n' + "1" * 40 + '", "input": [1, 8, 8],\n "layers": [{"type": "conv", "filters": 2, '
               '"f": 3, "\\u0066": 1, "comment": {"a": 1, "a": 2}}]}')
        write(tmp_path, "esc.json", bad)
        message = error_of(lambda: load_spec("esc.json"))
        assert message.startswith(f'esc.json: {line_column(bad, bad.rfind(chr(34) + "a"))}: the key "a"'), message
        bad = bad.replace('{"a": 1, "a": 2}', '"x"')
        write(tmp_path, "esc.json", bad)
        message = error_of(lambda: load_spec("esc.json"))
        assert message.startswith(f'esc.json: {line_column(bad, bad.find(chr(34) + chr(92)))}: the key "f"'), message

    def test_a_field_of_kernelclis_own_names_its_place(self, tmp_path):
        bad = '{"input": [1, 8, 8],\n  "layers": [{"type": "flatten", "__source__": "x"}]}'
        write(tmp_path, "own.json", bad)
        assert error_of(lambda: load_spec("own.json")).startswith(
            f'own.json: {line_column(bad, bad.find(chr(34) + "__"))}: "__source__" is a field')

    def test_the_command_prints_it_in_one_line(self, tmp_path):
        bad = '{"input": [1, 8, 8],\n"layers": [{"type": "flatten", "type": "flatten"}]}'
        write(tmp_path, "dup.json", bad)
        r = run_in_process("summary", "dup.json", cwd=tmp_path)
        where = line_column(bad, bad.rfind('"type"'))
        assert where == "line 2, column 32" and r.returncode == 3
        assert r.stderr.startswith(f'error: dup.json: {where}: the key "type"'), r.stderr
        assert r.stderr.count("\n") == 1


class TestValuesSpelledAsJson:
    """Padding errors showed Python's repr ([True, 1], None, 'full', inf); a null name labelled the layer (None)."""

    FORMS = '"same", "valid", an integer, [ph, pw] or [t, b, l, r]'

    @pytest.mark.parametrize(("p", "shown"), [
        ([True, 1], "[true, 1]"), (None, "null"), ("full", '"full"'), (float("inf"), "Infinity"), ([1, 2, 3], "[1, 2, 3]"),
    ])
    def test_padding(self, p, shown):
        message = error_of(lambda: summarize({"input": [1, 8, 8], "layers": [{"type": "conv", "filters": 2, "f": 3, "p": p}]}))
        assert message == f"<spec>: layers[0].p (0): invalid padding {shown}: expected {self.FORMS}"

    def test_negative_padding(self):
        message = error_of(lambda: summarize({"input": [1, 8, 8], "layers": [{"type": "conv", "filters": 2, "f": 3, "p": [-1, 1]}]}))
        assert message == "<spec>: layers[0].p (0): invalid padding [-1, 1]: pad widths must be >= 0"

    def test_the_command_line_keeps_its_own_spelling(self):
        from kernelcli import shapes

        with pytest.raises(UsageError, match=r"invalid padding 'full': expected 'same'"):
            shapes.resolve_padding("full", 3, 3)

    @pytest.mark.parametrize(("name", "shown"), [(None, "null"), (True, "true"), (5, "5"), ([1], "[1]")])
    def test_a_name_that_is_no_string_is_labelled_by_its_index(self, name, shown):
        doc = {"input": [1, 8, 8], "layers": [{"type": "flatten"}, {"type": "dropout", "name": name}]}
        assert error_of(lambda: summarize(doc)) == f"<spec>: layers[1].name (1): expected a non-empty string, got {shown}"


class TestForwardActivations:
    """'Forward activations: 0.0 MiB' for any network under 52,429 bytes, the format's own tiny example included."""

    @pytest.mark.parametrize(("n", "text"), [
        (0, "0 B"), (4, "4 B"), (1023, "1,023 B"), (1024, "1.0 KiB"), (48_712, "47.6 KiB"),
        (2**20 - 1, "1.0 MiB"), (2**20, "1.0 MiB"), (29_884_416, "28.5 MiB"), (5 * 2**30, "5,120.0 MiB"),
    ])
    def test_never_zero_for_a_non_zero_total(self, n, text):
        from kernelcli.cli.summary import _bytes

        assert _bytes(n) == text

    def test_the_networks_readme_example(self, tmp_path):
        readme = (REPO / "kernels" / "networks" / "README.md").read_text()
        example = readme.split("```json\n", 1)[1].split("```", 1)[0]
        write(tmp_path, "tiny.json", example)
        r = run_in_process("summary", "tiny.json", cwd=tmp_path)
        assert r.returncode == 0 and r.stdout.splitlines()[-1] == "Forward activations:    47.6 KiB (float32, batch 1)"


class TestBatchnormAsPyTorch:
    """"momentum": null (PyTorch's cumulative average) and an eps above 1 were refused; neither changes a count."""

    @pytest.mark.parametrize("fields", [{"momentum": None}, {"eps": 2.0}, {"eps": 0}, {"momentum": 0.01, "eps": 1e-3}])
    def test_accepted(self, fields):
        assert summarize({"input": [4, 8, 8], "layers": [{"type": "batchnorm", **fields}]}).params == 8

    @pytest.mark.parametrize(("fields", "needle"), [
        ({"momentum": 1.5}, "layers[0].momentum (0): expected a number in [0.0, 1.0] or null, got 1.5"),
        ({"momentum": "a"}, 'expected a number in [0.0, 1.0] or null, got "a"'),
        ({"eps": -1}, "layers[0].eps (0): expected a number >= 0.0, got -1"),
        ({"eps": float("nan")}, "expected a number >= 0.0, got NaN"),
        ({"eps": float("inf")}, "expected a number >= 0.0, got Infinity"),
        ({"eps": None}, "expected a number >= 0.0, got null"),
    ])
    def test_refused(self, fields, needle):
        message = error_of(lambda: summarize({"input": [4, 8, 8], "layers": [{"type": "batchnorm", **fields}]}))
        assert needle in message, message
