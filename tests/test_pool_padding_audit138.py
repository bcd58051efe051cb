"""``pool --padding`` on a volume pooled in 3-D: every refusal gives what 3-D pooling takes (audit 138 #3).

On a NIfTI the 2-D rule answered first ("expected one width or four (T,B,L,R)", "T,B,L,R with four equal values"),
then four widths were refused saying a volume takes valid or P alone; on a --layout zyx array the same, and
``-p 0,0,1,1`` was worded one way for the NIfTI and another for the array.
"""

from __future__ import annotations

import numpy as np
import pytest

from conftest import run_in_process
from kernelcli.shapes import VOLUME_POOL_PADDING_FORMS

nib = pytest.importorskip("nibabel")

TEXTS = ["1,1,1", "1,1,1,1,1,1", "same", "0,0,1,1", "1,1,1,1", "abc", "1,1", "1,1,1,1,1"]


@pytest.fixture
def vol(tmp_path):
    v = np.arange(9 * 13 * 11, dtype=np.float32).reshape(9, 13, 11)
    np.save(tmp_path / "pp.npy", v)
    nib.save(nib.Nifti1Image(np.ascontiguousarray(v.transpose(2, 1, 0)), np.eye(4)), str(tmp_path / "pp.nii"))
    return tmp_path


@pytest.mark.parametrize("text", TEXTS)
def test_a_volume_s_padding_refusals_name_what_3d_pooling_takes_in_one_wording(vol, text):
    nii = run_in_process("pool", "pp.nii", "-f", "3", "-p", text, "-o", "o.nii", cwd=vol)
    zyx = run_in_process("pool", "pp.npy", "--layout", "zyx", "-f", "3", "-p", text, "-o", "o.npy", cwd=vol)
    assert nii.returncode == zyx.returncode == 2, nii.stderr + zyx.stderr
    for said in (nii.stderr, zyx.stderr):
        assert "valid or P" in said and "four equal" not in said and "one width or four" not in said, said
        assert "valid or P (all six sides" in said or "expected valid or P" in said, said
    assert nii.stderr.replace("pp.nii", "IN") == zyx.stderr.replace("pp.npy", "IN"), (nii.stderr, zyx.stderr)
    assert not list(vol.glob("o.*"))


@pytest.mark.parametrize("text", ["1,1,1", "same", "0,0,1,1"])
def test_the_refusal_gives_the_volume_rule(vol, text):
    r = run_in_process("pool", "pp.nii", "-f", "3", "-p", text, "-o", "o.nii", cwd=vol)
    assert r.returncode == 2 and VOLUME_POOL_PADDING_FORMS in r.stderr, r.stderr
    # (in Click's form, the volume named in the reason: review 148 #6)
    assert r.stderr.startswith(f"error: Invalid value for '--padding' / '-p' / '--p': '{text}': ") and "(pp.nii is pooled in 3-D)" in r.stderr, r.stderr


def test_images_keep_the_2d_rule_and_volumes_still_take_p(vol):
    np.save(vol / "img.npy", np.ones((8, 8), np.float32))
    r = run_in_process("pool", "img.npy", "-f", "3", "-p", "1,1,1", "-o", "o.npy", cwd=vol)
    assert r.returncode == 2 and "one width or four (T,B,L,R)" in r.stderr, r.stderr
    for args in (["pp.nii", "-o", "a.nii"], ["pp.npy", "--layout", "zyx", "-o", "a.npy"]):
        ok = run_in_process("pool", *args, "-f", "3", "-p", "1", "-q", cwd=vol)
        assert ok.returncode == 0, ok.stderr
