"""Review 148 #12: which 3-D kernel sides a volume takes, as the README says.

The README said the command line reads a 3-D kernel file "as (z, y, x) of odd sides on a volume"; a --layout zyx
array took a 2x3x3 file.  Both behaviours are right: a volume file (NIfTI, DICOM) has a grid, its affine, which the
result keeps, and an even side's 'same' result sits half a voxel off it (refused, exit 3); a --layout zyx array has
no grid, so an even side is padded as an image's is (its extra tap after), exactly.  The README now says which.
"""

from __future__ import annotations

import numpy as np
import pytest

from conftest import documentation, run_in_process



@pytest.fixture
def folder(tmp_path):
    nib = pytest.importorskip("nibabel")
    rng = np.random.default_rng(9)
    v = rng.random((6, 8, 7))
    np.save(tmp_path / "v.npy", v)
    nib.save(nib.Nifti1Image(np.ascontiguousarray(v.transpose(2, 1, 0)).astype(np.float32), np.eye(4)), str(tmp_path / "t.nii"))
    np.save(tmp_path / "k233.npy", rng.random((2, 3, 3)))
    return tmp_path


def test_a_zyx_array_takes_even_sides_padded_as_same_pads_them(folder):
    done = run_in_process("convolve", "v.npy", "--layout", "zyx", "-k", "k233.npy", "-o", "e.npy", "-q", cwd=folder)
    assert done.returncode == 0, done.stderr
    v, k = np.load(folder / "v.npy"), np.load(folder / "k233.npy")
    padded = np.pad(v, [((n - 1) // 2, n - 1 - (n - 1) // 2) for n in k.shape])  # the extra tap after
    want = np.array([[[(padded[z:z + 2, y:y + 3, x:x + 3] * k).sum() for x in range(7)] for y in range(8)] for z in range(6)])
    np.testing.assert_allclose(np.load(folder / "e.npy"), want, rtol=1e-12, atol=1e-12)


def test_a_volume_file_refuses_them_for_its_grid(folder):
    done = run_in_process("convolve", "t.nii", "-k", "k233.npy", "-o", "e.nii", cwd=folder)
    assert done.returncode == 3 and "half a voxel off the grid" in done.stderr and not (folder / "e.nii").exists(), done.stderr


def test_the_readme_says_which_takes_what():
    text = " ".join(documentation().split())
    assert "as (z, y, x) of odd sides on a volume)" not in text
    assert ("of odd sides on a volume file (NIfTI, DICOM...), whose grid an even side's result would sit half a voxel off, "
            "any sides on a `--layout zyx` array, which carries no grid") in text
