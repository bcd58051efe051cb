"""``--report`` and the failure record name the output a call chooses by default on every path (audit 138 #1, #2).

On a volume (in memory or ``--tiled``) and on the tiled image path the default output's name was chosen inside the
job, after ``--report`` was checked against the outputs (``cli._batch.run_reported`` saw None): ``--report`` naming
that file replaced the result with the JSON report (exit 0); without ``--force`` the result was written, then the
report refused (exit 4); and a failure's record said ``"output": "stdout"``.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import run_in_process

nib = pytest.importorskip("nibabel")

CALLS = [  # (argv, the default output)
    (["pool", "t.nii", "-f", "2"], "t_maxpool2.nii.gz"),
    (["convolve", "t.nii", "-k", "box:3vox"], "t_box_3vox.nii.gz"),
    (["pool", "t.nii", "-f", "2", "--tiled"], "t_maxpool2.nii"),
    (["convolve", "t.nii", "-k", "box:3vox", "--tiled"], "t_box_3vox.nii"),
    (["pool", "t2.npy", "-f", "2", "--tiled"], "t2_maxpool2.npy"),
    (["pad", "t2.npy", "-p", "1", "--tiled"], "t2_pad_p1.npy"),
    (["pool", "t2.npy", "-f", "2"], "t2_maxpool2.npy"),  # (the reference: refused before)
]


def _inputs(tmp_path):
    v = np.arange(4 * 6 * 8, dtype=np.float32).reshape(4, 6, 8)
    nib.save(nib.Nifti1Image(np.ascontiguousarray(v.transpose(2, 1, 0)), np.eye(4)), str(tmp_path / "t.nii"))
    np.save(tmp_path / "t2.npy", v[0])



@pytest.mark.parametrize("force", [["--force"], []], ids=["force", "no-force"])
@pytest.mark.parametrize("argv, default", CALLS)
def test_a_report_named_as_the_default_output_is_refused_before_any_work(tmp_path, argv, default, force):
    _inputs(tmp_path)
    done = run_in_process(*argv, "--report", default, *force, "-q", cwd=tmp_path)
    assert done.returncode == 4, done.stderr
    assert f"{default}: is also the output; choose another --report file" in done.stderr, done.stderr
    assert not (tmp_path / default).exists(), "nothing is written"


@pytest.mark.parametrize("argv, default", CALLS)
def test_a_refused_default_output_is_named_in_the_record(tmp_path, argv, default):
    _inputs(tmp_path)
    (tmp_path / default).write_bytes(b"kept")
    done = run_in_process(*argv, "--json", "--report", "r.json", "-q", cwd=tmp_path)
    assert done.returncode == 4, done.stderr
    printed = json.loads(done.stdout)
    assert printed["output"] == default and printed["code"] == 4, printed
    assert json.loads((tmp_path / "r.json").read_text())["items"][0]["output"] == default
    assert (tmp_path / default).read_bytes() == b"kept"
