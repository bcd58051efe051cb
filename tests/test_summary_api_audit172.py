"""Audit 172 (shape, params, summary and their Python API): a Python caller is told its keywords, not the command
line's options; one rule for ``--json``'s ``layout``; refusals quote shapes in the order the table shows them; the
output-size functions answer what ``shape`` answers, under its names."""

from __future__ import annotations

import json

import pytest


class TestJsonLayoutOneRule:
    """#2: ``shape --in 3x4 --layout chw --json`` gave ``"layout": "chw"`` beside the note that it changes nothing,
    and ``shape --in 24`` ``"hwc"``, where ``params --flatten`` gives null for a shape with no third axis."""

    @pytest.mark.parametrize("args", [
        ["shape", "--in", "3x4", "-f", "1", "--layout", "chw"],
        ["params", "--flatten", "3x4", "--layout", "chw"],
        ["shape", "--in", "24", "-f", "3"],
        ["params", "--flatten", "7"],
        ["shape", "--in", "24x24", "-f", "2", "--pool"],
    ])
    def test_null_where_the_shape_has_no_third_axis(self, invoke, args):
        r = invoke(*args, "--json")
        assert r.exit_code == 0, r.output
        assert json.loads(r.stdout)["layout"] is None

    @pytest.mark.parametrize("args, layout", [
        (["shape", "--in", "24x24", "-f", "3", "--filters", "8", "--layout", "chw"], "chw"),  # the answer is KxHxW
        (["shape", "--in", "24x24x3", "-f", "3"], "hwc"),
        (["params", "--flatten", "3x4x5", "--layout", "chw"], "chw"),
        (["params", "--flatten", "3x4x5"], "hwc"),
    ])
    def test_the_layout_where_a_shape_has_three_axes(self, invoke, args, layout):
        r = invoke(*args, "--json")
        assert r.exit_code == 0, r.output
        assert json.loads(r.stdout)["layout"] == layout
