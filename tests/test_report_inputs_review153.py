"""``--report`` over a kernel file named with a selector, ``-k FILE.json:NAME``, is refused before any work (review 153 #1).

The volume path noted a kernel file as an input as the call starts only when its text had a ``/`` or ended in a kernel
file's suffix: ``fam.json:sharp`` did neither, so ``--report fam.json --force`` was refused (exit 4) only when the
report was written, after the output was.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import run_in_process

nib = pytest.importorskip("nibabel")

FAMILY = {"family": "fam", "kernels": [{"name": "sharp", "matrix": [[0, -1, 0], [-1, 5, -1], [0, -1, 0]]}]}


def _inputs(tmp_path):
    v = np.arange(4 * 5 * 6, dtype=np.float32).reshape(4, 5, 6)
    nib.save(nib.Nifti1Image(np.ascontiguousarray(v.transpose(2, 1, 0)), np.eye(4)), str(tmp_path / "vol.nii.gz"))
    (tmp_path / "fam.json").write_text(json.dumps(FAMILY))
    return (tmp_path / "fam.json").read_bytes()


@pytest.mark.parametrize("out", [["-o", "r3.nii.gz"], []], ids=["out", "default-name"])
def test_a_report_over_a_selected_kernel_file_is_refused_before_any_work(tmp_path, out):
    before = _inputs(tmp_path)
    done = run_in_process("convolve", "vol.nii.gz", "-k", "fam.json:sharp", *out, "--report", "fam.json", "--force",
                          "-q", cwd=tmp_path)
    assert done.returncode == 4, done.stderr
    assert "(same file)" in done.stderr and "Traceback" not in done.stderr
    assert (tmp_path / "fam.json").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fam.json", "vol.nii.gz"], "nothing is written"


def test_the_selector_names_the_file_it_reads():
    from kernelcli.io.reads import _read_paths

    assert list(_read_paths({"kernel": ["fam.json:sharp", "box:3vox", "sobel_v"]})) == ["fam.json"]
    assert list(_read_paths({"then": ["FAM.JSON:Sharp"]})) == ["FAM.JSON"]
