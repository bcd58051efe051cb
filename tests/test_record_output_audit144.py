"""A failed call whose output was never chosen records ``"output": null``, not ``"stdout"`` (audit 143 #2).

Where a volume's default name could not be chosen (the refused kernel or option is also in the name),
``cli._batch.chosen_output`` gave None, which ``run_reported`` took for stdout: ``--json`` and ``--report`` said
``"output": "stdout"`` for a call that writes a ``.nii.gz`` and never touches stdout.  ``"stdout"`` is for ``-o -``
and a matrix printed on stdout.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import run_in_process

nib = pytest.importorskip("nibabel")

REFUSED = [  # a volume call refused where its default name needs what is refused
    ["convolve", "ct.nii.gz", "-k", "box:3", "-s", "2"],
    ["convolve", "ct.nii.gz", "-k", "nosuch"],
    ["convolve", "ct.nii", "-k", "box:3vox", "--tiled", "-s", "2"],
]


def _volumes(tmp_path):
    v = np.arange(4 * 6 * 8, dtype=np.int16).reshape(4, 6, 8)
    for name in ("ct.nii.gz", "ct.nii"):
        nib.save(nib.Nifti1Image(np.ascontiguousarray(v.transpose(2, 1, 0)), np.eye(4)), str(tmp_path / name))


@pytest.mark.parametrize("argv", REFUSED, ids=["stride", "unknown-kernel", "tiled-stride"])
def test_a_refused_volume_whose_output_was_not_chosen_records_output_null(tmp_path, argv):
    _volumes(tmp_path)
    printed = run_in_process(*argv, "-q", "--json", cwd=tmp_path)
    assert printed.returncode in (2, 3), printed.stderr
    assert json.loads(printed.stdout)["output"] is None, printed.stdout
    reported = run_in_process(*argv, "-q", "--report", "r.json", cwd=tmp_path)
    assert reported.returncode == printed.returncode, reported.stderr
    assert [item["output"] for item in json.loads((tmp_path / "r.json").read_text())["items"]] == [None]


def test_a_matrix_on_stdout_still_records_stdout(tmp_path):
    (tmp_path / "m.csv").write_text("1,2,3\n4,5,6\n7,8,9\n")
    done = run_in_process("convolve", "m.csv", "-k", "box:5", "--padding", "valid", "-q", "--report", "r.json", cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert [item["output"] for item in json.loads((tmp_path / "r.json").read_text())["items"]] == ["stdout"]
