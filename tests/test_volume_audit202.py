"""Audit 202 (the volume command and every 3-D path): a Zarr store read as (Z, Y, X) by its own axes computes as the
same voxels read so by ``--layout zyx``; a 3-D .npy a single 3-D kernel reads two ways is refused; advice and notes
worded for the input and the command.

Each class reproduces one finding on small files built here in ``tmp_path``.
"""

from __future__ import annotations

import numpy as np
import pytest

from conftest import run_in_process


def _voxels(tmp_path) -> np.ndarray:
    """13 x 17 x 11 int16 voxels, saved as v.npy (read as (Z, Y, X) only with --layout zyx)."""
    voxels = (np.random.default_rng(7).standard_normal((13, 17, 11)) * 300).round().astype(np.int16)
    np.save(tmp_path / "v.npy", voxels)
    return voxels


def _store(tmp_path, voxels, declared: str):
    """The voxels as a Zarr store whose own metadata says (z, y, x): Zarr v3 dimension_names or kernelcli's axes."""
    zarr = pytest.importorskip("zarr")
    pytest.importorskip("dask.array")
    path = tmp_path / f"{declared}.zarr"
    if declared == "dimension_names":
        if int(zarr.__version__.split(".")[0]) < 3:
            pytest.skip("dimension_names need zarr 3")
        z = zarr.create_array(str(path), shape=voxels.shape, dtype=voxels.dtype, chunks=(4, 8, 8), dimension_names=["z", "y", "x"])
        z[...] = voxels
    else:
        z = zarr.open_array(str(path), mode="w", shape=voxels.shape, dtype=voxels.dtype, chunks=(4, 8, 8))
        z[...] = voxels
        z.attrs["axes"] = ["z", "y", "x"]
    return path.name


class TestAStoreReadAsAVolumeByItsAxesComputesAsOne:
    """#1: a store whose metadata names its axes (z, y, x) computed a 2-D kernel (or a chain) in the image rule's
    float64, where the same store under --layout zyx and the same voxels in a .npy compute in float32."""

    @pytest.mark.parametrize("declared", ["dimension_names", "axes"])
    @pytest.mark.parametrize("kernel", [["-k", "gaussian:1.5"], ["-k", "sharpen"], ["-k", "gaussian:1.5", "--then", "sobel_v"]],
                             ids=["gaussian", "sharpen", "chain"])
    def test_the_same_bytes_as_layout_zyx(self, tmp_path, declared, kernel):
        store = _store(tmp_path, _voxels(tmp_path), declared)
        own = run_in_process("convolve", store, *kernel, "-o", "own.npy", "-q", cwd=tmp_path)
        assert own.returncode == 0, own.stderr
        given = run_in_process("convolve", "v.npy", "--layout", "zyx", *kernel, "-o", "given.npy", "-q", cwd=tmp_path)
        assert given.returncode == 0, given.stderr
        ours, theirs = np.load(tmp_path / "own.npy"), np.load(tmp_path / "given.npy")
        assert ours.dtype == theirs.dtype == np.float32
        assert ours.tobytes() == theirs.tobytes()


class TestAStoreReadAsAVolumeByItsAxesTakesAVolumesPadding:
    """#2: a store whose metadata says (z, y, x) refused a 3-D kernel's PZ,PY,PX and six widths ("expected one width or
    four (T,B,L,R)"), which --layout zyx takes on the same store; the reading settled on decides, as pool's does."""

    @pytest.mark.parametrize("widths", ["1,0,2", "1,0,2,2,0,1"])
    def test_three_and_six_widths_as_under_layout_zyx(self, tmp_path, widths):
        store = _store(tmp_path, _voxels(tmp_path), "axes")
        np.save(tmp_path / "k353.npy", np.random.default_rng(5).standard_normal((3, 5, 3)))
        own = run_in_process("convolve", store, "-k", "k353.npy", "-p", widths, "-o", "own.npy", "-q", cwd=tmp_path)
        assert own.returncode == 0, own.stderr
        given = run_in_process("convolve", "v.npy", "--layout", "zyx", "-k", "k353.npy", "-p", widths, "-o", "given.npy", "-q",
                               cwd=tmp_path)
        assert given.returncode == 0, given.stderr
        assert np.load(tmp_path / "own.npy").tobytes() == np.load(tmp_path / "given.npy").tobytes()

    def test_a_2d_kernel_on_it_refuses_three_widths_saying_whose_they_are(self, tmp_path):
        store = _store(tmp_path, _voxels(tmp_path), "axes")
        refused = run_in_process("convolve", store, "-k", "sharpen", "-p", "1,0,2", "-o", "own.npy", "-q", cwd=tmp_path)
        assert refused.returncode == 2 and "Traceback" not in refused.stderr
        assert "three widths are for a 3-D kernel on a (Z, Y, X) volume" in refused.stderr
        assert not (tmp_path / "own.npy").exists()
