"""Small defects earlier audits noticed and left (the leftovers task), each reproduced before its fix.

#4 a refused batch, every input "not run" (``convolve DIR -k nosuch -r --report r.json``, a volume batch alike, a
file named that is missing, outputs that exist), wrote totals with ``"seconds": 0.0``, a time nobody measured: null,
as each of its records says it.
"""

from __future__ import annotations

import json

import pytest

from conftest import run_in_process, small_png, write_nifti


def _folder_of_two(tmp_path, volumes=False):
    (tmp_path / "in").mkdir()
    for name in ("a", "b"):
        if volumes:
            write_nifti(tmp_path / "in" / f"{name}.nii.gz")
        else:
            small_png(tmp_path / "in" / f"{name}.png")


@pytest.mark.parametrize("case", ["kernel", "volume-kernel", "missing-input", "outputs-exist"])
def test_a_refused_batch_has_no_made_up_seconds_in_its_totals(tmp_path, case):
    _folder_of_two(tmp_path, volumes=case == "volume-kernel")
    args = {"kernel": ["convolve", "in", "-k", "nosuch", "-r"],
            "volume-kernel": ["volume", "in", "-k", "nosuch"],
            "missing-input": ["convolve", "in/a.png", "nothere.png", "-k", "box:3"],
            "outputs-exist": ["convolve", "in", "-k", "box:3"]}[case]
    if case == "outputs-exist":
        small_png(tmp_path / "o" / "a_box_3.png")
    done = run_in_process(*args, "-d", "o", "--report", "r.json", "--json", cwd=tmp_path)
    assert done.returncode in (2, 3, 4), done.stderr
    printed, written = json.loads(done.stdout), json.loads((tmp_path / "r.json").read_text())
    for document in (printed, written):
        assert document["totals"]["ok"] == 0
        assert document["totals"]["seconds"] is None, document["totals"]
    if case != "outputs-exist":
        assert all(item["seconds"] is None for item in printed["items"])
