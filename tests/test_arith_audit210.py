"""Audit 210 (the lecture arithmetic: shape, params, summary and their Python API): one rule for a 3-D size that
reads two ways, summary's notes as shape's and params', and the API's keywords checked and named."""

from __future__ import annotations

import pytest

from kernelcli.errors import UsageError


class TestFlattenSizeTakesASequence:
    """#4: ``flatten_size(64)`` and ``flatten_size(None)`` were a bare TypeError ('int' object is not iterable), and
    ``flatten_size('648')`` was read character by character ('size must be an integer >= 1, got '6'')."""

    @pytest.mark.parametrize("dims", [64, None, "648", [], 2.5])
    def test_refused_naming_the_keyword(self, dims):
        from kernelcli import flatten_size

        with pytest.raises(UsageError, match=r"^dims must be a sequence of sizes, e\.g\. \(64, 64, 8\), got "):
            flatten_size(dims)

    def test_sequences_are_taken(self):
        import numpy as np

        from kernelcli import flatten_size

        assert flatten_size((64, 64, 8)) == flatten_size([64, 64, 8]) == flatten_size(np.array([64, 64, 8])) == 32768


class TestSummarizeChecksMaxLayers:
    """#3: ``summarize('resnet18', max_layers=-1)`` (2.5, True) blamed the shipped spec ('SpecError resnet18.json:
    layers[0]: the spec expands to more than -1 layers'); '5' and None escaped as a bare TypeError from the expander."""

    @pytest.mark.parametrize("value", [-1, 0, 2.5, True, "5", None])
    def test_refused_naming_the_keyword(self, value):
        from kernelcli import summarize

        with pytest.raises(UsageError, match=r"^max_layers must be an integer >= 1, got "):
            summarize("resnet18", max_layers=value)

    def test_a_whole_number_is_taken_and_still_limits(self):
        from kernelcli import summarize
        from kernelcli.netspec.spec import SpecError

        assert summarize("resnet18", max_layers=500).params == 11_689_512
        with pytest.raises(SpecError, match="expands to more than 10 layers"):
            summarize("resnet18", max_layers=10)


class TestSummaryNotesALayoutThatChangesNothing:
    """#2: ``summary v1.json --input 20 --layout hwc`` said nothing (stderr empty) and its ``--json`` had no
    ``notes``, where ``shape --in 24x24 --layout hwc`` and ``params --dense 3 4 --layout hwc`` note it; a spec's own
    ``"layout"`` on a vector ``"input"`` was taken in silence too."""

    SPEC = {"name": "v1", "input": [10], "layers": [{"type": "batchnorm"}, {"type": "dense", "units": 5}]}
    NOTE = "--layout hwc names the axes of a 3-D --input; 20 has 1, so it changes nothing"

    @pytest.fixture
    def spec(self, tmp_path):
        import json

        def write(**extra):
            path = tmp_path / "v1.json"
            path.write_text(json.dumps({**self.SPEC, **extra}))
            return str(path)

        return write

    def test_the_table_notes_it_on_stderr(self, invoke, spec):
        r = invoke("summary", spec(), "--input", "20", "--layout", "hwc")
        assert r.exit_code == 0, r.output
        assert r.stderr.strip() == f"note: {self.NOTE}"

    def test_json_has_the_notes_and_q_prints_none(self, invoke, spec):
        import json

        r = invoke("summary", spec(), "--input", "20", "--layout", "hwc", "--json")
        assert r.exit_code == 0, r.output
        assert json.loads(r.stdout)["notes"] == [self.NOTE]
        plain = invoke("summary", spec(), "--json")
        assert json.loads(plain.stdout)["notes"] == []
        quiet = invoke("summary", spec(), "--input", "20", "--layout", "hwc", "-q")
        assert quiet.exit_code == 0 and quiet.stdout == "145\n" and quiet.stderr == ""

    def test_a_specs_layout_on_a_vector_input_is_noted(self, invoke, spec):
        r = invoke("summary", spec(layout="hwc"))
        assert r.exit_code == 0, r.output
        assert r.stderr.strip().endswith('v1.json: layout: "hwc" names the axes of a 3-D "input"; [10] has 1, so it changes nothing')

    def test_the_api_says_it_in_its_keywords(self):
        from kernelcli import summarize

        net = summarize(self.SPEC, (20,), layout="HWC")
        assert net.notes == ("layout=hwc names the axes of a 3-D input_shape; (20,) has 1, so it changes nothing",)
        assert summarize(self.SPEC, (20,)).notes == () and net.to_dict()["notes"] == list(net.notes)


class TestOneRuleForAThreeDSize:
    """#1: ``shape --in 64x56x48`` was read HxWxC in silence (62x54x8 with --filters 8) and ``summary --input
    64x56x48`` CxHxW (conv 8x54x46), both exit 0; ``shape --in 56x56x64`` answered 54x54x8 where ``summary --input
    56x56x64`` (and ``summarize``) gave 8x54x62; a spec's ``"input": [56, 56, 64]`` or ``[64, 56, 48]`` was read
    CxHxW in silence.  One rule now (layout.reads_two_ways): the sizes may confirm a command's default, never
    override it, and where they settle nothing the shape is refused naming both readings and the flag."""

    ONECONV = {"name": "oneconv", "layers": [{"name": "conv", "type": "conv", "filters": 8, "f": 3}]}

    @pytest.fixture
    def oneconv(self, tmp_path):
        import json

        (tmp_path / "oneconv.json").write_text(json.dumps(self.ONECONV))
        return str(tmp_path / "oneconv.json")

    @pytest.mark.parametrize("dims", ["64x56x48", "6x224x200", "100x20x50"])
    def test_no_square_pair_is_refused_by_both_commands(self, invoke, oneconv, dims):
        a, b, c = dims.split("x")
        shape = invoke("shape", "--in", dims, "--f", "3", "--filters", "8", "-q")
        summary = invoke("summary", oneconv, "--input", dims)
        for result in (shape, summary):
            assert result.exit_code == 2 and result.stdout == "", result.output
            for words in ("reads two ways", f"{a}x{b} with {c} channels", f"{a} channels of {b}x{c}", "--layout hwc", "--layout chw"):
                assert words in result.stderr, result.stderr
            assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr

    def test_with_the_flag_both_commands_agree(self, invoke, oneconv):
        import json

        assert invoke("shape", "--in", "64x56x48", "--f", "3", "--filters", "8", "-q", "--layout", "hwc").stdout == "62x54x8\n"
        assert invoke("shape", "--in", "64x56x48", "--f", "3", "--filters", "8", "-q", "--layout", "chw").stdout == "8x54x46\n"
        hwc = json.loads(invoke("summary", oneconv, "--input", "64x56x48", "--layout", "hwc", "--json").stdout)
        chw = json.loads(invoke("summary", oneconv, "--input", "64x56x48", "--layout", "chw", "--json").stdout)
        assert hwc["output_shape"] == [8, 62, 54] and chw["output_shape"] == [8, 54, 46]

    def test_a_square_pair_settles_only_the_default_reading(self, invoke, oneconv):
        import json

        # 56x56x64: a square 56x56 map of 64 channels, HxWxC: shape's default, taken; summary's is chw: refused
        assert invoke("shape", "--in", "56x56x64", "--f", "3", "--filters", "8", "-q").stdout == "54x54x8\n"
        refused = invoke("summary", oneconv, "--input", "56x56x64")
        assert refused.exit_code == 2 and "56 channels of 56x64" in refused.stderr and "56x56 with 64 channels" in refused.stderr
        # 64x56x56: PyTorch's 64 channels of 56x56: summary takes it, shape refuses it (as before)
        doc = json.loads(invoke("summary", oneconv, "--input", "64x56x56", "--json").stdout)
        assert doc["output_shape"] == [8, 54, 54]
        assert invoke("shape", "--in", "64x56x56", "--f", "3", "--filters", "8", "-q").exit_code == 2

    def test_the_api_follows_the_rule(self):
        from kernelcli import summarize

        for dims in ((56, 56, 64), (64, 56, 48)):
            with pytest.raises(UsageError, match=r"input_shape .* reads two ways: .*give layout=chw or layout=hwc"):
                summarize(self.ONECONV, dims)
        assert summarize(self.ONECONV, (64, 56, 48), layout="hwc").output == (8, 62, 54)
        assert summarize(self.ONECONV, (64, 56, 56)).output == (8, 54, 54)

    @pytest.mark.parametrize("given, offered", [([56, 56, 64], " (or write it channels first, [64, 56, 56])"), ([64, 56, 48], "")])
    def test_a_specs_own_input_follows_the_rule(self, invoke, tmp_path, given, offered):
        import json

        path = tmp_path / "l.json"
        path.write_text(json.dumps({**self.ONECONV, "input": given}))
        result = invoke("summary", str(path))
        assert result.exit_code == 3 and result.stdout == ""
        assert f'input: {json.dumps(given)} reads two ways' in result.stderr
        assert f'give "layout": "hwc"{offered} or "layout": "chw"' in result.stderr
        path.write_text(json.dumps({**self.ONECONV, "input": given, "layout": "hwc"}))
        assert invoke("summary", str(path), "-q").exit_code == 0

    @pytest.mark.parametrize("dims", ["4x4x512", "512x4x4", "2x2x1024", "3x3x64"])
    def test_a_small_end_in_a_square_pair_settles_nothing(self, invoke, oneconv, tmp_path, dims):
        """audit 214 #1: ``summary --input 4x4x512`` was read in silence as 4 channels of 4x512 (conv 8x2x510, exit
        0), where the square pair 4x4 says a 4x4 map of 512 channels, and ``shape --in 512x4x4`` answered 510x2x8;
        where the small-end cue and the square-pair cue disagree, every reader refuses naming both readings."""
        import json

        a, b, c = dims.split("x")
        shape = invoke("shape", "--in", dims, "--f", "1", "--filters", "8", "-q")
        summary = invoke("summary", oneconv, "--input", dims, "-q")
        for result in (shape, summary):
            assert result.exit_code == 2 and result.stdout == "", result.output
            for words in ("reads two ways", f"{a}x{b} with {c} channels", f"{a} channels of {b}x{c}", "--layout hwc", "--layout chw"):
                assert words in result.stderr, result.stderr
        (tmp_path / "s.json").write_text(json.dumps({**self.ONECONV, "input": [int(a), int(b), int(c)]}))
        spec = invoke("summary", str(tmp_path / "s.json"), "-q")
        assert spec.exit_code == 3 and "reads two ways" in spec.stderr, spec.output
        from kernelcli import summarize

        with pytest.raises(UsageError, match="reads two ways"):
            summarize(self.ONECONV, (int(a), int(b), int(c)))
        if int(b) >= 3:  # (a 3x3 kernel fits the HxWxC reading)
            assert summarize(self.ONECONV, (int(a), int(b), int(c)), layout="hwc").output == (8, int(a) - 2, int(b) - 2)

    def test_the_rule_is_one_function(self):
        from kernelcli.layout import network_input, plane_readings, reads_two_ways, shape_layout

        for dims in ((224, 224, 3), (3, 224, 224), (56, 56, 64), (64, 56, 56), (64, 56, 48), (3, 64, 3), (8, 8, 8), (4, 4, 512)):
            try:
                shape_layout(dims, None, "--in")
                shape_refused = False
            except UsageError:
                shape_refused = True
            assert shape_refused == reads_two_ways(dims, "hwc"), dims
            assert (plane_readings(dims) is not None) == reads_two_ways(dims, "chw"), dims
            if not reads_two_ways(dims, "chw"):
                assert network_input(dims, None, None, "n") == dims
