"""The same fault on a --layout zyx array and on a NIfTI is worded once (audit 138 #6).

The zyx array's NaN refusal gave no count where the NIfTI's did ("2 voxel value(s) are NaN or infinite"); its
one-slice pool refusal left out the NIfTI's advice (pool works in 3-D; each slice in 2-D with --layout chw);
pad said "same and valid are for convolve" where pool takes valid too.
"""

from __future__ import annotations

import numpy as np
import pytest

from conftest import TILED_OR_NOT, run_in_process

nib = pytest.importorskip("nibabel")


def _both(tmp_path, name, zyx):
    np.save(tmp_path / f"{name}.npy", zyx)
    nib.save(nib.Nifti1Image(np.ascontiguousarray(zyx.transpose(2, 1, 0)), np.eye(4)), str(tmp_path / f"{name}.nii"))


@pytest.mark.parametrize("tiled", TILED_OR_NOT)
def test_non_finite_values_are_counted_in_one_wording(tmp_path, tiled):
    v = np.zeros((2, 4, 5), np.float32)
    v[1, 2, 3], v[0, 0, 0] = np.nan, -np.inf
    _both(tmp_path, "w", v)
    a = run_in_process("pool", "w.npy", "--layout", "zyx", "-f", "2", *tiled, "-o", "a.npy", cwd=tmp_path)
    b = run_in_process("pool", "w.nii", "-f", "2", *tiled, "-o", "b.nii", cwd=tmp_path)
    assert a.returncode == 2 == b.returncode, a.stderr + b.stderr
    said = "2 value(s) are NaN or infinite; expected finite numbers"
    assert f"error: w.npy: {said}" in a.stderr and f"error: w.nii: {said}" in b.stderr, (a.stderr, b.stderr)


@pytest.mark.parametrize("tiled", TILED_OR_NOT)
def test_a_one_slice_volume_s_pool_refusal_gives_the_same_advice(tmp_path, tiled):
    _both(tmp_path, "one", np.zeros((1, 4, 5), np.float32))
    a = run_in_process("pool", "one.npy", "--layout", "zyx", "-f", "2", *tiled, "-o", "a.npy", cwd=tmp_path)
    b = run_in_process("pool", "one.nii", "-f", "2", *tiled, "-o", "b.nii", cwd=tmp_path)
    assert a.returncode == 2 == b.returncode, a.stderr + b.stderr
    common = ("the volume has 1 slice (1x4x5, z, y, x), and pool works in 3-D, as PyTorch's max_pool3d/avg_pool3d; "
              "to pool each slice in 2-D")
    assert common in a.stderr and common in b.stderr, (a.stderr, b.stderr)
    assert "pool that with --layout chw" in b.stderr and "pool it with --layout chw" in a.stderr, a.stderr
    ok = run_in_process("pool", "one.npy", "--layout", "chw", "-f", "2", "-o", "c.npy", "-q", cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr


def test_pad_says_which_commands_take_same_and_valid(tmp_path):
    np.save(tmp_path / "i.npy", np.zeros((4, 5), np.float32))
    r = run_in_process("pad", "i.npy", "-p", "valid", "-o", "o.npy", cwd=tmp_path)
    h = run_in_process("pad", "--help", cwd=tmp_path)
    assert r.returncode == 2 and "same is convolve's; valid (no padding) is convolve's and pool's" in r.stderr, r.stderr
    assert "same and valid are for convolve" not in r.stderr + h.stdout
