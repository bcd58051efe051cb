"""Audit 203 (README and docs read as a new user in a fresh venv): what the README says of the records and the
install matches what the commands write and say."""

from __future__ import annotations

import json
import re

import pytest

from conftest import REPO, run_in_process


def _readme() -> str:
    return (REPO / "README.md").read_text(encoding="utf-8")


class TestTheLayoutFieldListsEveryValueWritten:
    """#3: ``params --flatten 64x64x8 --layout zyx --json`` records ``"layout": "zyx"``, where the README said the
    field is ``"hwc"`` or ``"chw"``."""

    @staticmethod
    def documented() -> set[str]:
        sentence = next(line for line in _readme().splitlines() if line.lstrip().startswith("`layout` ("))
        return set(re.findall(r'`"(\w+)"`', sentence.split(")", 1)[0]))

    @pytest.mark.parametrize(("command", "layouts"), [
        (["params", "--flatten", "64x64x8"], ("hwc", "chw", "zyx")),
        (["shape", "--in", "64x64x3", "-f", "3"], ("hwc", "chw")),
    ], ids=["params", "shape"])
    def test_every_layout_recorded_is_named(self, tmp_path, command, layouts):
        from kernelcli import layout

        assert set(layouts) <= set(layout.LAYOUTS)
        for name in layouts:
            r = run_in_process(*command, "--layout", name, "--json", cwd=tmp_path)
            assert r.returncode == 0, r.stderr
            assert json.loads(r.stdout)["layout"] in self.documented(), name

    def test_the_readme_names_no_other_value(self):
        from kernelcli import layout

        assert self.documented() == set(layout.LAYOUTS)
