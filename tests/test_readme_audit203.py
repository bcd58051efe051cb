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


class TestOneInstallSectionNamesEveryExtra:
    """#4: the extras were named far apart in the README (``[fast]`` inside a 40-line bullet), in two spellings
    (``pip install '.[medical]'`` and ``pip install 'kernelcli[distributed]'``, which from a fresh checkout asks the
    package index for a ``kernelcli``), and the errors gave the second alone."""

    @staticmethod
    def table() -> list[tuple[str, str, str]]:
        body = _readme().split("<!-- extras-table", 1)[1].split("<!-- /extras-table -->", 1)[0]
        rows = [[cell.strip() for cell in line.strip().strip("|").split("|")] for line in body.splitlines()
                if line.startswith("| `[")]
        return [(name.strip("`[]"), what, how.strip("`")) for name, what, how in rows]

    def test_the_table_lists_every_extra_of_pyproject_in_extras_words(self):
        import tomllib

        from kernelcli.extras import EXTRAS

        declared = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]
        assert set(EXTRAS) == set(declared)
        assert [(name, what) for name, what, _ in self.table()] == list(EXTRAS.items())
        assert all(how == f"pip install '.[{name}]'" for name, _, how in self.table())

    def test_the_install_section_comes_right_after_the_first_commands(self):
        readme = _readme()
        first = readme.index("pip install . && kernelcli convolve samples/phantom.png")
        assert first < readme.index("pip install '.[test]' && pytest") < readme.index("## Install") \
            < readme.index("\n## ", readme.index("## Install") + 1)
        assert "\n## " not in readme[:readme.index("## Install")]

    def test_the_readme_spells_an_extra_one_way(self):
        readme = _readme()
        before, install = readme.split("## Install", 1)
        after = install.split("\n## ", 1)[1]
        # outside the Install section (which says when 'kernelcli[X]' works), only in a quoted missing-extra error
        rest = re.sub(r"`install the \[\w+\] extra: [^`]*`", "", before + after)
        assert "'kernelcli[" not in rest
        assert re.findall(r"pip install '\.\[(\w+)\]'", rest)

    @pytest.mark.parametrize(("blocked", "args", "extra"), [
        (["nibabel", "pydicom"], ["convolve", "{samples}/phantom3d.nii.gz", "-k", "box:3", "-o", "x.nii.gz"], "medical"),
        (["SimpleITK"], ["convolve", "a.nrrd", "-k", "box:3", "-o", "x.nii.gz"], "itk"),
        (["dask", "zarr"], ["convolve", "p.npy", "-k", "box:3", "-o", "x.zarr"], "distributed"),
    ], ids=["medical", "itk", "distributed"])
    def test_a_missing_extra_is_named_in_the_readmes_words(self, tmp_path, blocked, args, extra):
        import os
        import subprocess
        import sys

        import numpy as np

        from conftest import SAMPLES
        from kernelcli.extras import install_hint

        (tmp_path / "a.nrrd").write_text("NRRD0004\n")
        np.save(tmp_path / "p.npy", np.zeros((8, 8), np.float32))
        code = (f"import sys; sys.modules.update(dict.fromkeys({blocked!r})); from kernelcli.cli import entry; "
                f"sys.argv = ['kernelcli', *{[a.format(samples=SAMPLES) for a in args]!r}]; entry()")
        here = str(REPO)
        env = dict(os.environ, KERNELCLI_WORKER="off",
                   PYTHONPATH=os.pathsep.join(filter(None, [here, os.environ.get("PYTHONPATH")])))
        r = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
        assert r.returncode == 2, r.stderr
        line = r.stderr.strip().splitlines()[-1]
        assert line.endswith(f"which is not installed: {install_hint(extra)}"), line
        assert f"pip install '.[{extra}]'" in line and f"pip install 'kernelcli[{extra}]'" in line
        if extra == "medical":
            assert f"`{line}`" in _readme()
