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


class TestASmall3DArrayUnderOne3DKernelIsNotGuessed:
    """#3: a (3, 4, 4) .npy under one 3x3x3 kernel file ran as 3 channels summed into one 4x4 map (exit 0, no note),
    though it is as much a volume of 3 slices, the kernel's 3-D correlation: the kernel's depth picks between the
    channel readings, not between them and the volume's; refused naming both and the --layout of each."""

    @pytest.fixture
    def arrays(self, tmp_path):
        rng = np.random.default_rng(1)
        for name, shape in (("c344", (3, 4, 4)), ("c443", (4, 4, 3)), ("k333", (3, 3, 3))):
            np.save(tmp_path / f"{name}.npy", rng.standard_normal(shape))
        return tmp_path

    @pytest.mark.parametrize("name, fits", [("c344", "chw"), ("c443", "hwc")])
    def test_refused_naming_both_readings(self, arrays, name, fits):
        refused = run_in_process("convolve", f"{name}.npy", "-k", "k333.npy", "-o", "o.npy", cwd=arrays)
        assert refused.returncode == 2 and "Traceback" not in refused.stderr
        assert "reads two ways under a 3-D kernel of depth 3" in refused.stderr
        assert f"give --layout {fits} or --layout zyx" in refused.stderr and "(Z, Y, X) volume" in refused.stderr
        assert not (arrays / "o.npy").exists()

    def test_refused_in_a_batch_and_on_stdin(self, arrays):
        (arrays / "in").mkdir()
        (arrays / "in" / "c344.npy").write_bytes((arrays / "c344.npy").read_bytes())
        batch = run_in_process("convolve", "in", "-k", "k333.npy", "--out-dir", "out", cwd=arrays)
        assert batch.returncode != 0 and "give --layout chw or --layout zyx" in batch.stderr
        piped = run_in_process("convolve", "-", "-k", "k333.npy", "-o", "o.npy", cwd=arrays,
                               input=(arrays / "c344.npy").read_bytes())
        assert piped.returncode == 2 and "give --layout chw or --layout zyx" in piped.stderr

    @pytest.mark.parametrize("layout, shape", [("chw", (4, 4)), ("zyx", (3, 4, 4))])
    def test_each_layout_picks_its_reading(self, arrays, layout, shape):
        done = run_in_process("convolve", "c344.npy", "-k", "k333.npy", "--layout", layout, "-o", "o.npy", "-q", cwd=arrays)
        assert done.returncode == 0, done.stderr
        assert np.load(arrays / "o.npy").shape == shape

    def test_a_bank_of_3d_kernels_still_reads_by_their_depth(self, arrays):
        """Several 3-D kernels are no volume's (--layout zyx refuses them): their depth picks the channel reading."""
        done = run_in_process("convolve", "c344.npy", "-k", "k333.npy", "-k", "k333.npy", "-o", "o.npy", "-q", cwd=arrays)
        assert done.returncode == 0, done.stderr
        assert np.load(arrays / "o.npy").shape == (2, 4, 4)


class TestAnOverflowAdvisesAFloat64InputOfItsKind:
    """#4: a float32 NIfTI whose result overflows was told to become "a float64 input (.npy)", which drops its spacing
    and orientation (and then needs --layout zyx), where a float64 NIfTI runs and keeps them; a Zarr store is advised
    a float64 store beside .npy."""

    @pytest.fixture
    def big(self, tmp_path):
        nib = pytest.importorskip("nibabel")
        for dtype, name in ((np.float32, "big.nii"), (np.float64, "big64.nii")):
            data = np.full((12, 12, 12), 3e38, dtype)
            data[:6] = 1
            nib.save(nib.Nifti1Image(data, np.eye(4)), str(tmp_path / name))
        return tmp_path

    @pytest.mark.parametrize("call", [["volume", "big.nii", "-k", "sobel_3d", "-o", "o.nii.gz"],
                                      ["volume", "big.nii", "-k", "sobel_3d", "--tiled", "-o", "o.nii"],
                                      ["pool", "big.nii", "-f", "2", "--op", "avg", "-o", "o.nii"]],
                             ids=["volume", "volume-tiled", "pool-avg"])
    def test_a_volume_is_advised_a_float64_volume(self, big, call):
        if "--tiled" in call:
            pytest.importorskip("dask")  # (the [distributed] extra)
        refused = run_in_process(*call, "-q", cwd=big)
        assert refused.returncode == 2 and "Traceback" not in refused.stderr
        assert "a float64 volume (saved as a float64 NIfTI it keeps its geometry; a .npy drops it)" in refused.stderr
        assert "(.npy)" not in refused.stderr
        assert not list(big.glob("o.*"))

    def test_the_float64_volume_advised_runs(self, big):
        done = run_in_process("volume", "big64.nii", "-k", "sobel_3d", "-o", "o.nii.gz", "-q", cwd=big)
        assert done.returncode == 0, done.stderr

    def test_a_zarr_store_is_advised_a_float64_store(self, tmp_path):
        data = np.full((12, 12, 12), 3e38, np.float32)
        data[:6] = 1
        store = _store(tmp_path, data, "axes")
        refused = run_in_process("convolve", store, "-k", "sharpen", "-o", "o.npy", "-q", cwd=tmp_path)
        assert refused.returncode == 2 and "a float64 Zarr store keeps its axes; or .npy" in refused.stderr


class TestPoolSaysItPoolsEachVolume:
    """#5: pool on a 4-D NIfTI noted "each is filtered", convolve's words; pool's --volume help says every volume is
    pooled."""

    @pytest.fixture
    def four_d(self, tmp_path):
        nib = pytest.importorskip("nibabel")
        data = (np.random.default_rng(9).standard_normal((9, 8, 7, 3)) * 100).astype(np.int16)
        nib.save(nib.Nifti1Image(data, np.diag([0.9, 0.8, 1.5, 1])), str(tmp_path / "f4d.nii.gz"))
        return tmp_path

    def test_pool_notes_each_is_pooled(self, four_d):
        done = run_in_process("pool", "f4d.nii.gz", "-f", "2", "-o", "p.nii.gz", cwd=four_d)
        assert done.returncode == 0, done.stderr
        assert "f4d.nii.gz: 4-D, 3 volumes: each is pooled (--volume N takes one)" in done.stderr
        assert "filtered" not in done.stderr

    def test_a_batch_pool_too(self, four_d):
        (four_d / "in").mkdir()
        (four_d / "in" / "f4d.nii.gz").write_bytes((four_d / "f4d.nii.gz").read_bytes())
        done = run_in_process("pool", "in", "-f", "2", "--out-dir", "out", cwd=four_d)
        assert done.returncode == 0, done.stderr
        assert "each is pooled" in done.stderr and "filtered" not in done.stderr

    def test_convolve_keeps_each_is_filtered(self, four_d):
        done = run_in_process("convolve", "f4d.nii.gz", "-k", "box_3d", "-o", "c.nii.gz", cwd=four_d)
        assert done.returncode == 0, done.stderr
        assert "f4d.nii.gz: 4-D, 3 volumes: each is filtered (--volume N takes one)" in done.stderr
