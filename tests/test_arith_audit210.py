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
