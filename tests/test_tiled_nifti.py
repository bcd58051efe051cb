"""NIfTI volumes tile by tile (kernelcli.tiled.nifti): an uncompressed .nii read through nibabel's memory map.

* ``convolve v.nii --tiled/--chunks`` equals the in-memory ``convolve v.nii`` byte for byte
  (the same .nii bytes: dtype, header, affine), for kernels in mm and in voxels, every pad
  mode, tiles smaller than the halo, a big-endian file; a .zarr output holds the same voxels;
* a .nii over the memory cap goes tile by tile by itself;
* the dask function equals the in-memory one on each pinned path (numpy, jit);
* ``pool`` likewise (the pooled grid's affine included), and tiles on a LocalCluster (2 workers);
* refusals (exit 2): .nii.gz input or output, scaled voxels, 4-D, kernels and options the
  tiled path does not compute; an existing output is refused (exit 4) unless --force.
"""

from __future__ import annotations

import contextlib
import os
import traceback
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from conftest import CliRunner

pytest.importorskip("dask.array")
nib = pytest.importorskip("nibabel")


def _nii(path: Path, shape=(23, 17, 11), dtype="<i2", slope=None, seed=0) -> Path:
    """A NIfTI made here: random (i, j, k) voxels, an anisotropic affine turned within the slices, and an offset
    (not sheared: a kernel in mm is refused on a sheared grid)."""
    rng = np.random.default_rng(seed)
    data = rng.integers(-1000, 2000, size=shape).astype(dtype)
    affine = np.array([[0.768, -0.28, 0, -10], [0.224, 0.96, 0, 5], [0, 0, 2.5, 3], [0, 0, 0, 1]])  # 0.8 and 1 mm, 16.3 degrees
    img = nib.Nifti1Image(data, affine)
    img.header.set_xyzt_units("mm")
    img.header.set_data_dtype(np.dtype(dtype))
    if slope is not None:
        img.header.set_slope_inter(*slope)
    nib.save(img, str(path))
    return path


def run_cli(*args: str, cwd: Path | None = None, env: dict | None = None) -> SimpleNamespace:
    """The command in this process, answered as conftest's run_cli answers (exit code, stdout, stderr):
    a fresh interpreter that imports dask costs about 1 s of CPU, and this file made 34 of them.
    An exception the command lets through reaches stderr with its traceback, as from a process."""
    from kernelcli.cli import app

    with contextlib.chdir(cwd or os.getcwd()):
        result = CliRunner().invoke(app, list(args), env=env, prog_name="kernelcli")
    stderr = result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        stderr += "".join(traceback.format_exception(result.exception))
    return SimpleNamespace(returncode=result.exit_code, stdout=result.stdout, stderr=stderr)


def _ok(result) -> None:
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("kernel, extra", [
    ("gaussian:1.5mm", []),
    ("fwhm:3mm", ["--pad-mode", "reflect"]),
    ("gaussian:1vox", ["--pad-mode", "circular"]),
    ("box_3d", ["--pad-mode", "symmetric", "--flip"]),
    ("box:2mm", ["--pad-mode", "constant", "--pad-value", "7"]),
])
def test_tiled_nii_equals_in_memory_byte_for_byte(tmp_path, kernel, extra):
    src = _nii(tmp_path / "v.nii")
    _ok(run_cli("convolve", str(src), "-k", kernel, *extra, "-o", str(tmp_path / "mem.nii"), "-q"))
    tiled = run_cli("convolve", str(src), "-k", kernel, *extra, "--chunks", "4,5,6", "-o", str(tmp_path / "til.nii"), "--json")
    _ok(tiled)
    assert "tile by tile" in tiled.stdout  # the tiled path ran, not the in-memory one
    mem, til = (tmp_path / "mem.nii").read_bytes(), (tmp_path / "til.nii").read_bytes()
    assert til == mem
    back = nib.load(str(tmp_path / "til.nii"))
    assert np.array_equal(back.affine, nib.load(str(src)).affine) and back.get_data_dtype() == np.float32


def test_tiled_default_output_big_endian_and_zarr(tmp_path):
    src = _nii(tmp_path / "be.nii", dtype=">i2", seed=3)
    _ok(run_cli("convolve", str(src), "-k", "gaussian:1.5mm", "-o", str(tmp_path / "mem.nii"), "-q"))
    _ok(run_cli("convolve", str(src), "-k", "gaussian:1.5mm", "--tiled", "-q", cwd=tmp_path))
    assert (tmp_path / "be_gaussian_1.5mm.nii").read_bytes() == (tmp_path / "mem.nii").read_bytes()
    pytest.importorskip("zarr")
    _ok(run_cli("convolve", str(src), "-k", "gaussian:1.5mm", "--chunks", "8", "-o", str(tmp_path / "o.zarr"), "-q"))
    import zarr

    got = np.asarray(zarr.open(str(tmp_path / "o.zarr"), mode="r")[...])
    assert np.array_equal(got, np.asarray(nib.load(str(tmp_path / "mem.nii")).dataobj).T)


def test_over_the_memory_cap_goes_tile_by_tile(tmp_path):
    src = _nii(tmp_path / "v.nii", shape=(20, 20, 20))
    _ok(run_cli("convolve", str(src), "-k", "gaussian:2vox", "-o", str(tmp_path / "mem.nii"), "-q"))
    capped = run_cli("convolve", str(src), "-k", "gaussian:2vox", "-o", str(tmp_path / "cap.nii"),
                     env={"KERNELCLI_MAX_MEMORY": "50000"})  # 8000 voxels x (2 + 8) bytes is over it
    _ok(capped)
    assert "tile by tile" in capped.stderr + capped.stdout
    assert (tmp_path / "cap.nii").read_bytes() == (tmp_path / "mem.nii").read_bytes()


@pytest.mark.parametrize("dtype", ["<i4", "<u4", "<f8"])
def test_a_wide_volume_over_the_cap_goes_tile_by_tile(tmp_path, dtype):
    """The tiled path's choice counted itemsize + 8 bytes a voxel where the guard counts the float64 a 32/64-bit
    volume is computed in (4 + 16): between the two, an int32 .nii was refused instead of going tile by tile."""
    src = _nii(tmp_path / "v.nii", shape=(20, 18, 16), dtype=dtype)
    _ok(run_cli("convolve", str(src), "-k", "box:3vox", "-o", str(tmp_path / "mem.nii"), "-q"))
    voxels = 20 * 18 * 16
    itemsize = np.dtype(dtype).itemsize
    capped = run_cli("convolve", str(src), "-k", "box:3vox", "-o", str(tmp_path / "cap.nii"),
                     env={"KERNELCLI_MAX_MEMORY": str(voxels * (itemsize + 12))})  # over itemsize + 8, under itemsize + 16
    _ok(capped)
    assert "tile by tile" in capped.stderr + capped.stdout
    assert (tmp_path / "cap.nii").read_bytes() == (tmp_path / "mem.nii").read_bytes()
    assert nib.load(str(tmp_path / "cap.nii")).get_data_dtype() == np.float64


def test_a_4d_file_over_the_cap_whose_one_volume_fits_stays_in_memory(tmp_path):
    # the whole 4-D file was over the cap, so it went tile by tile, where it was refused naming --tiled/--chunks,
    # options the user never gave; the one volume --volume picks fits in memory
    src = _nii(tmp_path / "v4.nii", shape=(20, 20, 20, 3))
    _ok(run_cli("convolve", str(src), "-k", "gaussian:2vox", "--volume", "1", "-o", str(tmp_path / "mem.nii"), "-q"))
    capped = run_cli("convolve", str(src), "-k", "gaussian:2vox", "--volume", "1", "-o", str(tmp_path / "cap.nii"), "-q",
                     env={"KERNELCLI_MAX_MEMORY": "150000"})  # 24000 voxels x 10 bytes over it; 8000 x 10 under
    _ok(capped)
    assert (tmp_path / "cap.nii").read_bytes() == (tmp_path / "mem.nii").read_bytes()


@pytest.mark.parametrize("force", ["numpy", "jit"])
def test_dask_separable_equals_in_memory_on_each_path(force):
    import dask.array as da

    from kernelcli import volumes
    from kernelcli._core.policy import Paths
    from kernelcli.tiled.arrays import correlate_separable

    rng = np.random.default_rng(1)
    vol = rng.standard_normal((13, 10, 9)).astype(np.float32)
    factors = (rng.random(5), None, rng.random(4))  # an even kernel along x
    for mode in ("constant", "replicate", "reflect", "symmetric", "circular"):
        want = volumes.correlate_separable(vol, factors, pad_mode=mode, pad_value=0.5, paths=Paths(force=force))
        got = correlate_separable(da.from_array(vol, chunks=4), factors, pad_mode=mode, pad_value=0.5, chunks=(5, 4, 3),
                                  paths=Paths(force=force)).compute(scheduler="synchronous")
        assert got.dtype == want.dtype and np.array_equal(got, want), mode


@pytest.mark.parametrize("make, args, words", [
    (lambda d: _nii(d / "v.nii.gz"), ["-k", "gaussian:1mm", "--tiled"], "gunzip"),
    (lambda d: _nii(d / "s.nii", slope=(2.0, -5.0)), ["-k", "gaussian:1mm", "--tiled"], "scl_slope"),
    (lambda d: _nii(d / "f.nii", shape=(6, 6, 6, 2)), ["-k", "gaussian:1mm", "--tiled"], "4-D"),
    (lambda d: _nii(d / "v.nii"), ["-k", "gaussian:1mm", "--tiled", "-o", "x.nii.gz"], ".nii.gz"),
    (lambda d: _nii(d / "v.nii"), ["-k", "sobel_v", "--tiled"], "not available tile by tile"),
    (lambda d: _nii(d / "v.nii"), ["-k", "gaussian:1mm", "--tiled", "--keep-dtype"], "--keep-dtype"),
    (lambda d: _nii(d / "v.nii"), ["-k", "gaussian:1mm", "--tiled", "--stride", "2"], "--stride"),
    # what the in-memory path refuses (the tiled one took sobel_3d without its z pass, and ignored --truncate)
    # (sobel_3d --axis z, which lost its z pass, is noted now, the z pass kept: test_volume_words_audit110.py)
    (lambda d: _nii(d / "v.nii"), ["-k", "box:3vox", "--tiled", "--truncate", "3"], "--truncate is for Gaussians"),
])
def test_refusals_exit_2_and_write_nothing(tmp_path, make, args, words):
    src = make(tmp_path)
    result = run_cli("convolve", str(src), *args, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert words in result.stderr and "Traceback" not in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == [src.name]


def test_existing_output_refused_then_forced(tmp_path):
    src = _nii(tmp_path / "v.nii")
    out = tmp_path / "o.nii"
    out.write_bytes(b"keep")
    refused = run_cli("convolve", str(src), "-k", "gaussian:1mm", "--tiled", "-o", str(out))
    assert refused.returncode == 4 and out.read_bytes() == b"keep"
    _ok(run_cli("convolve", str(src), "-k", "gaussian:1mm", "--tiled", "-o", str(out), "--force", "-q"))
    assert nib.load(str(out)).shape == (23, 17, 11)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o.nii", "v.nii"]  # no temporary left


@pytest.mark.parametrize("args", [
    ["--size", "2"],
    ["--size", "3", "--stride", "2", "--padding", "1", "--op", "avg"],
    ["--size", "3", "--stride", "2", "--op", "min", "--padding", "1", "--exclude-pad", "--ceil"],
])
def test_tiled_pool_nii_equals_in_memory_byte_for_byte(tmp_path, args):
    src = _nii(tmp_path / "v.nii", seed=5)
    _ok(run_cli("pool", str(src), *args, "-o", str(tmp_path / "mem.nii"), "-q"))
    tiled = run_cli("pool", str(src), *args, "--chunks", "5,6,7", "-o", str(tmp_path / "til.nii"), "--json")
    _ok(tiled)
    assert "tile by tile" in tiled.stdout
    assert (tmp_path / "til.nii").read_bytes() == (tmp_path / "mem.nii").read_bytes()  # the pooled affine, too


def test_tiled_pool_refuses_nii_gz(tmp_path):
    src = _nii(tmp_path / "v.nii.gz")
    result = run_cli("pool", str(src), "--size", "2", "--tiled", "-o", str(tmp_path / "p.nii"))
    assert result.returncode == 2 and "gunzip" in result.stderr
    assert not (tmp_path / "p.nii").exists()


def test_tiled_nii_on_a_local_cluster(tmp_path):
    pytest.importorskip("distributed")
    src = _nii(tmp_path / "v.nii", seed=7)
    _ok(run_cli("convolve", str(src), "-k", "gaussian:1.5mm", "-o", str(tmp_path / "mem.nii"), "-q"))
    result = run_cli("convolve", str(src), "-k", "gaussian:1.5mm", "--chunks", "8", "--scheduler", "local", "--workers", "2",
                     "-o", str(tmp_path / "cluster.nii"), "--json")
    _ok(result)
    assert "LocalCluster" in result.stdout  # the tiles ran on the cluster's workers (only the path travels)
    assert (tmp_path / "cluster.nii").read_bytes() == (tmp_path / "mem.nii").read_bytes()


@pytest.mark.parametrize("force", ["numpy", "jit"])
def test_dask_separable_random_shapes_tiles_and_kernels(force):
    """Random volumes, tile sides (some under the halo), odd and even kernels, skipped axes, every pad mode."""
    hypothesis = pytest.importorskip("hypothesis")
    st = hypothesis.strategies
    import dask.array as da

    from kernelcli import volumes
    from kernelcli._core.policy import Paths
    from kernelcli.tiled.arrays import correlate_separable

    kernel = st.one_of(st.none(), st.integers(1, 6).map(lambda n: np.linspace(0.3, 1.1, n)))

    @hypothesis.settings(max_examples=15, deadline=None, derandomize=True)
    @hypothesis.given(shape=st.tuples(*[st.integers(1, 9)] * 3), tiles=st.tuples(*[st.integers(1, 5)] * 3),
                      factors=st.tuples(kernel, kernel, kernel),
                      mode=st.sampled_from(["constant", "replicate", "reflect", "symmetric", "circular"]),
                      seed=st.integers(0, 99))
    def check(shape, tiles, factors, mode, seed):
        vol = np.random.default_rng(seed).integers(-50, 50, size=shape).astype(np.int16)
        want = volumes.correlate_separable(vol, factors, pad_mode=mode, pad_value=-2.5, paths=Paths(force=force))
        got = correlate_separable(da.from_array(vol, chunks=3), factors, pad_mode=mode, pad_value=-2.5, chunks=tiles,
                                  paths=Paths(force=force)).compute(scheduler="synchronous")
        assert got.dtype == want.dtype and np.array_equal(got, want)

    check()


def test_nii_gz_over_the_cap_suggests_gunzip(tmp_path):
    src = _nii(tmp_path / "v.nii.gz", shape=(20, 20, 20))
    result = run_cli("convolve", str(src), "-k", "gaussian:2vox", "-o", str(tmp_path / "o.nii"), env={"KERNELCLI_MAX_MEMORY": "50000"})
    assert result.returncode != 0 and "gunzip" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "o.nii").exists()


# ------------------------------------------------------------------ audit: the in-memory answer, tile by tile


@pytest.mark.parametrize("output", ["h.nii", "h.npy"])
def test_a_hard_link_to_the_input_is_refused(tmp_path, output):
    """Regression (D4): a hard link to the input was not recognised tile by tile (in memory: exit 4)."""
    src = _nii(tmp_path / "v.nii")
    os.link(src, tmp_path / output)
    before = src.read_bytes()
    result = run_cli("convolve", str(src), "-k", "gaussian:1mm", "--tiled", "-o", str(tmp_path / output), "--force")
    assert result.returncode == 4 and "is the input" in result.stderr, result.stderr
    assert os.path.samefile(src, tmp_path / output) and src.read_bytes() == before


def test_a_non_finite_volume_is_refused_naming_the_file(tmp_path):
    """Regression (D9): "volume: 1 value(s) are NaN or infinite" instead of the file's name."""
    src = _nii(tmp_path / "v.nii", dtype="<f4")
    img = nib.load(str(src))
    data = np.asarray(img.dataobj).copy()
    data[2, 3, 4] = np.inf
    nib.save(nib.Nifti1Image(data, img.affine, img.header), str(src))
    mem = run_cli("convolve", str(src), "-k", "gaussian:1mm", "-o", str(tmp_path / "m.nii"))
    tiled = run_cli("convolve", str(src), "-k", "gaussian:1mm", "--chunks", "8", "-o", str(tmp_path / "t.nii"))
    assert mem.returncode == tiled.returncode == 2
    assert tiled.stderr == mem.stderr and f"{src}: 1 value(s)" in tiled.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["v.nii"]


def test_an_automatic_refusal_says_why_the_volume_went_tiled(tmp_path):
    """Regression (D9): a refusal on the automatic switch said "leave out --tiled/--chunks", never given."""
    src = _nii(tmp_path / "v.nii", shape=(20, 20, 20))
    result = run_cli("convolve", str(src), "-k", "gaussian:1mm", "--keep-dtype", "-o", str(tmp_path / "o.nii"),
                     env={"KERNELCLI_MAX_MEMORY": "50000"})
    assert result.returncode == 2 and "--tiled" not in result.stderr and "KERNELCLI_MAX_MEMORY" in result.stderr
    assert not (tmp_path / "o.nii").exists()


def test_an_overflow_to_npy_is_refused(tmp_path):
    """Regression (D3): a .nii's overflowing result written to .npy or .zarr tile by tile (a .nii output was refused)."""
    src = _nii(tmp_path / "v.nii", dtype="<f4")
    img = nib.load(str(src))
    data = np.full(img.shape, 3e38, np.float32)
    data[(np.arange(img.shape[0]) // 2) % 2 == 1] = -3e38  # x[i-1] - x[i+1] is 6e38, times Sobel's smoothing
    nib.save(nib.Nifti1Image(data, img.affine, img.header), str(src))
    for out in ("o.npy", "o.zarr", "o.nii"):
        result = run_cli("convolve", str(src), "-k", "sobel_3d", "--tiled", "-o", str(tmp_path / out))
        assert result.returncode == 2 and "overflows" in result.stderr, result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["v.nii"]


@pytest.mark.parametrize("call", [("convolve", "-k", "gaussian:1.5mm"), ("pool", "-f", "2")])
def test_a_zarr_output_takes_the_tiled_path_by_itself(tmp_path, call):
    # the tiled audit: `convolve v.nii -o v.zarr` was 'unsupported output type .zarr for a volume' and `pool` said
    # 'the tiled path reads Zarr stores, TIFF and .npy', where the README says a .zarr output picks the tiled path
    zarr = pytest.importorskip("zarr")
    _nii(tmp_path / "v.nii")
    _ok(run_cli(call[0], "v.nii", *call[1:], "-o", "by_itself.zarr", cwd=tmp_path))
    _ok(run_cli(call[0], "v.nii", *call[1:], "--tiled", "-o", "asked.zarr", cwd=tmp_path))
    np.testing.assert_array_equal(zarr.open_array(str(tmp_path / "by_itself.zarr"), mode="r")[:],
                                  zarr.open_array(str(tmp_path / "asked.zarr"), mode="r")[:])
    nib.save(nib.load(str(tmp_path / "v.nii")), str(tmp_path / "v.nii.gz"))
    refused = run_cli(call[0], "v.nii.gz", *call[1:], "-o", "g.zarr", cwd=tmp_path)
    assert refused.returncode == 2 and "cannot be read tile by tile" in refused.stderr
    assert "or write another format than .zarr" in refused.stderr and "leave out --tiled" not in refused.stderr
    at_a_url = run_cli(call[0], "v.nii", *call[1:], "-o", "memory://v.zarr", cwd=tmp_path)  # (not written tile by tile)
    assert at_a_url.returncode == 2 and "does not exist" not in at_a_url.stderr, at_a_url.stderr  # (was: 'the folder memory:')
    # (audit 221 #3: "memory:/b/x.zarr: unsupported output type '.zarr' ... expected one of ..., .zarr" named it folded)
    assert "memory://v.zarr: is a URL, and a volume is written to a local path: give a local path" in at_a_url.stderr \
        or "another format than .zarr" in at_a_url.stderr


@pytest.mark.parametrize("command, args", [("convolve", ["-k", "gaussian:1.5mm"]), ("pool", ["--size", "3", "--stride", "2"])])
def test_a_zarr_output_keeps_the_geometry_and_a_npy_output_says_it_does_not(tmp_path, command, args):
    """A volume's .zarr had empty attributes and a .npy said nothing: the spacing and orientation were lost in silence."""
    zarr = pytest.importorskip("zarr")
    import json

    src = _nii(tmp_path / "v.nii", seed=7)
    _ok(run_cli(command, str(src), *args, "-o", str(tmp_path / "mem.nii"), "-q"))
    _ok(run_cli(command, str(src), *args, "--chunks", "8", "-o", str(tmp_path / "o.zarr"), "-q"))
    mem = nib.load(str(tmp_path / "mem.nii"))
    attrs = dict(zarr.open_array(str(tmp_path / "o.zarr"), mode="r").attrs)
    assert attrs["axes"] == ["z", "y", "x"]
    assert np.allclose(attrs["affine"], mem.affine, rtol=0, atol=1e-6)
    assert np.allclose(attrs["spacing_mm"], mem.header.get_zooms()[::-1], rtol=0, atol=1e-6)
    for tiled in ([], ["--tiled"]):
        r = run_cli(command, str(src), *args, *tiled, "-o", str(tmp_path / "o.npy"), "--force", "--json")
        _ok(r)
        record = json.loads(r.stdout)
        assert any("a .npy output is the voxels alone" in n for n in record["notes"]), record["notes"]
        assert np.allclose(record["spacing"], mem.header.get_zooms()[::-1], rtol=0, atol=1e-6)


def test_a_zarr_outputs_affine_is_in_mm_beside_its_spacing(tmp_path):
    """A NIfTI in metres: its .zarr said 'spacing_mm': [2.5, 1.3, 0.7] beside the affine in metres (0.0007, ...)."""
    zarr = pytest.importorskip("zarr")
    affine = np.diag([0.0007, 0.0013, 0.0025, 1.0])
    affine[:3, 3] = [0.01, -0.02, 0.03]
    img = nib.Nifti1Image(np.random.default_rng(0).normal(size=(11, 12, 13)).astype(np.float32), affine)
    img.header.set_xyzt_units("meter")
    nib.save(img, str(tmp_path / "m.nii"))
    _ok(run_cli("convolve", str(tmp_path / "m.nii"), "-k", "gaussian:2mm", "--chunks", "8", "-o", str(tmp_path / "o.zarr"), "-q"))
    attrs = dict(zarr.open_array(str(tmp_path / "o.zarr"), mode="r").attrs)
    assert np.allclose(attrs["spacing_mm"], [2.5, 1.3, 0.7], atol=1e-5)
    assert np.allclose(attrs["affine"], np.diag([1000, 1000, 1000, 1]) @ affine, atol=1e-4), attrs["affine"]
