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
