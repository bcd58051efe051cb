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
