"""pool of a volume file with fewer slices than the window: one rule, from shapes (audit 122 #2).

``pool two.nii -f 4 -s 3 --ceil`` (2 slices) was refused "the output would be empty" (exit 2) where the same
voxels as ``two.npy --layout zyx``, ``pool3d`` and torch's ``max_pool3d(ceil_mode=True)`` give a 1x2x3 result:
medical.pooling.check_slices ignored --ceil and --stride.
"""

from __future__ import annotations

import numpy as np
import pytest

from conftest import run_in_process, TILED_OR_NOT
from kernelcli import pool3d

nib = pytest.importorskip("nibabel")


def _write(tmp_path, name, zyx):
    np.save(tmp_path / f"{name}.npy", zyx)
    nib.save(nib.Nifti1Image(zyx.transpose(2, 1, 0).copy(), np.eye(4)), str(tmp_path / f"{name}.nii"))


def _zyx(path):
    return np.asarray(nib.load(str(path)).dataobj).transpose(2, 1, 0)


@pytest.mark.parametrize("zyx, args, size, stride", [
    (np.arange(2 * 7 * 8, dtype=np.int16).reshape(2, 7, 8), ["-f", "4", "-s", "3", "--ceil"], 4, 3),
    (np.arange(30, dtype=np.int16).reshape(1, 6, 5), ["-f", "2", "--ceil"], 2, 2),
    (np.arange(30, dtype=np.int16).reshape(1, 6, 5), ["-f", "2", "--ceil", "--op", "avg"], 2, 2),
])
@pytest.mark.parametrize("tiled", TILED_OR_NOT)
def test_ceil_pools_a_thin_volume_as_the_array_route_and_pool3d(tmp_path, zyx, args, size, stride, tiled):
    _write(tmp_path, "v", zyx)
    a = run_in_process("pool", "v.npy", "--layout", "zyx", *args, "-o", "p.npy", "-q", cwd=tmp_path)
    b = run_in_process("pool", "v.nii", *args, *tiled, "-o", "p.nii", "-q", cwd=tmp_path)
    assert a.returncode == 0 == b.returncode, a.stderr + b.stderr
    op = "avg" if "avg" in args else "max"
    want = pool3d(zyx, size, stride=stride, op=op, ceil_mode=True)
    got_npy, got_nii = np.load(tmp_path / "p.npy"), _zyx(tmp_path / "p.nii")
    assert got_npy.shape == got_nii.shape == want.shape
    assert np.array_equal(got_npy, want) and np.array_equal(got_nii, want)


def test_torch_agrees_on_the_shape():
    torch = pytest.importorskip("torch")
    a = np.arange(2 * 7 * 8, dtype=np.float64).reshape(2, 7, 8)
    t = torch.nn.functional.max_pool3d(torch.from_numpy(a)[None, None], 4, 3, ceil_mode=True)[0, 0].numpy()
    assert np.array_equal(pool3d(a, 4, stride=3, ceil_mode=True), t)


@pytest.mark.parametrize("tiled", TILED_OR_NOT)
def test_without_ceil_a_thin_volume_is_still_refused_by_both_routes(tmp_path, tiled):
    _write(tmp_path, "v", np.arange(2 * 7 * 8, dtype=np.int16).reshape(2, 7, 8))
    a = run_in_process("pool", "v.npy", "--layout", "zyx", "-f", "4", "-s", "3", "-o", "p.npy", cwd=tmp_path)
    b = run_in_process("pool", "v.nii", "-f", "4", "-s", "3", *tiled, "-o", "p.nii", cwd=tmp_path)
    assert a.returncode == 2 == b.returncode
    assert "pool window span 4 (f=4) is larger than the padded input 2 (in=2, padding 0+0): the output would " \
        "be empty; the volume has 2 slices (2x7x8, z, y, x), and pool works in 3-D" in b.stderr, b.stderr
    assert "\n" not in b.stderr.rstrip("\n") and "Traceback" not in b.stderr
