"""The tiled path and --scheduler from the command line: Zarr/TIFF files made here, a LocalCluster started here.

* a chunked input (Zarr v2 and v3, OME-Zarr, tiled TIFF) to a Zarr output equals the in-memory
  ``.npy`` result byte for byte: convolve (several pad modes, stride, dilation), pad, pool, a
  chain, a 3-D volume;
* outputs: exit 4 on an existing one, --force replaces it, nothing half-written is left;
* without the [distributed] extra: exit 2 naming ``pip install 'kernelcli[distributed]'``;
* batches on a LocalCluster: the bytes of --workers, a failed file fails alone, and killing a
  worker mid-batch still gives every output once and intact.
"""

from __future__ import annotations

import json
import os
import signal
import threading
from functools import partial
from pathlib import Path

import numpy as np
import pytest

from conftest import run_cli

pytest.importorskip("dask.array")
zarr = pytest.importorskip("zarr")

ZARR_FORMATS = [2, 3] if int(zarr.__version__.split(".")[0]) >= 3 else [2]


def make_zarr(path: Path, data: np.ndarray, chunks, zarr_format: int | None = None) -> Path:
    kwargs = {} if zarr_format is None or len(ZARR_FORMATS) == 1 else {"zarr_format": zarr_format}
    z = zarr.open_array(str(path), mode="w", shape=data.shape, chunks=chunks, dtype=data.dtype, **kwargs)
    z[:] = data
    return path


def read_zarr(path: Path) -> np.ndarray:
    return zarr.open_array(str(path), mode="r")[:]


def ok(result) -> None:
    code = getattr(result, "returncode", getattr(result, "exit_code", None))
    assert code == 0, result.stderr


@pytest.fixture(scope="module")
def image(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tiled")
    x = (np.random.default_rng(7).random((150, 131)) * 255).astype(np.uint8)
    np.save(folder / "x.npy", x)
    return folder, x


def in_memory(invoke, folder: Path, *args: str) -> np.ndarray:
    """The in-memory command's result on the same image (``x.npy``), through a ``.npy`` file."""
    out = folder / f"ref_{abs(hash(args))}.npy"
    if not out.exists():
        ok(invoke(*args[:1], str(folder / "x.npy"), *args[1:], "-o", str(out)))
    return np.load(out)


@pytest.mark.parametrize("zarr_format", ZARR_FORMATS)
@pytest.mark.parametrize("args", [
    ("convolve", "-k", "gaussian:2", "--rescale", "none"),
    ("convolve", "-k", "sobel_v", "--pad-mode", "circular", "--stride", "2", "--rescale", "none"),
    ("convolve", "-k", "[[1,2],[3,-4]]", "--pad-mode", "reflect", "--dilation", "2", "--rescale", "none"),
    ("convolve", "-k", "gaussian:1", "--then", "laplacian_4", "--then", "maxpool:2", "--rescale", "none"),
    ("pad", "--p", "3,1,40,2", "--mode", "symmetric"),
    ("pool", "--size", "3", "--stride", "2", "--op", "avg", "--padding", "1", "--rescale", "none"),
])
def test_zarr_to_zarr_equals_in_memory(image, tmp_path, invoke, zarr_format, args):
    folder, x = image
    src = make_zarr(tmp_path / "big.zarr", x, (32, 40), zarr_format)
    ok(invoke(args[0], str(src), *args[1:], "-o", str(tmp_path / "out.zarr"), "--chunks", "24"))
    got, ref = read_zarr(tmp_path / "out.zarr"), in_memory(invoke, folder, *args)
    assert got.dtype == ref.dtype and np.array_equal(got, ref)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.zarr", "out.zarr"]  # no temporary left


def test_ome_zarr_reads_the_highest_resolution(image, tmp_path, invoke):
    folder, x = image
    root = zarr.open_group(str(tmp_path / "slide.ome.zarr"), mode="w")
    for level, data in (("0", x), ("1", x[::2, ::2])):
        root.create_array(level, shape=data.shape, chunks=(64, 64), dtype=data.dtype)[:] = data
    axes = [{"name": "y", "type": "space"}, {"name": "x", "type": "space"}]
    root.attrs["multiscales"] = [{"version": "0.4", "axes": axes, "datasets": [{"path": "0"}, {"path": "1"}]}]
    result = invoke("convolve", str(tmp_path / "slide.ome.zarr"), "-k", "box:3", "-o", str(tmp_path / "o.zarr"))
    ok(result)
    assert "OME-Zarr level '0'" in result.stderr
    assert np.array_equal(read_zarr(tmp_path / "o.zarr"), in_memory(invoke, folder, "convolve", "-k", "box:3", "--rescale", "none"))


def code(result) -> int:
    return getattr(result, "returncode", getattr(result, "exit_code", None))


@pytest.mark.parametrize("rescale", ["clip", "abs"])
def test_rescale_follows_the_in_memory_writers(image, tmp_path, invoke, monkeypatch, rescale):
    """Regression (D1): --rescale clip on a .npy output gave uint8 tile by tile and raw float32 in
    memory; a float32 TIFF to .zarr gave uint16 where a .tif output in memory is uint8."""
    tifffile = pytest.importorskip("tifffile")
    folder, x = image
    np.save(tmp_path / "x.npy", x)
    ok(invoke("convolve", "x.npy", "-k", "sobel_v", "--rescale", rescale, "-o", "mem.npy"))
    monkeypatch.setenv("KERNELCLI_MAX_MEMORY", "64K")  # the automatic switch to tiles
    ok(invoke("convolve", "x.npy", "-k", "sobel_v", "--rescale", rescale, "-o", "auto.npy"))
    mem, auto = np.load(tmp_path / "mem.npy"), np.load(tmp_path / "auto.npy")
    assert mem.dtype == auto.dtype == np.float32 and np.array_equal(mem, auto)
    monkeypatch.delenv("KERNELCLI_MAX_MEMORY")
    for name, data in (("f.tif", (x / 7.0).astype(np.float32)), ("g.tif", x.astype(np.uint16) * 200), ("e.tif", x)):
        tifffile.imwrite(tmp_path / name, data)
        ok(invoke("convolve", name, "-k", "sobel_v", "--rescale", rescale, "-o", f"m_{name}"))
        ok(invoke("convolve", name, "-k", "sobel_v", "--rescale", rescale, "-o", f"t_{name}.zarr"))
        ref, got = tifffile.imread(tmp_path / f"m_{name}"), read_zarr(tmp_path / f"t_{name}.zarr")
        assert got.dtype == ref.dtype and np.array_equal(got, ref), name
    # a 16-bit array given a rescale is a 16-bit image in memory: so it is tile by tile
    np.save(tmp_path / "u16.npy", x.astype(np.uint16) * 200)
    ok(invoke("convolve", "u16.npy", "-k", "sobel_v", "--rescale", rescale, "-o", "m_u16.tif"))
    ok(invoke("convolve", "u16.npy", "-k", "sobel_v", "--rescale", rescale, "-o", "t_u16.zarr", "--tiled"))
    ref, got = tifffile.imread(tmp_path / "m_u16.tif"), read_zarr(tmp_path / "t_u16.zarr")
    assert got.dtype == ref.dtype == np.uint16 and np.array_equal(got, ref)


def test_volume_3d_kernel(tmp_path, invoke):
    from kernelcli import volumes

    vol = (np.random.default_rng(3).random((20, 30, 25)) * 1000).astype(np.int16)
    make_zarr(tmp_path / "vol.zarr", vol, (8, 8, 8))
    k = np.random.default_rng(4).standard_normal((2, 3, 4))
    np.save(tmp_path / "k3.npy", k)
    ok(invoke("convolve", str(tmp_path / "vol.zarr"), "-k", str(tmp_path / "k3.npy"), "--layout", "zyx", "--pad-mode", "replicate",
               "-o", str(tmp_path / "o.zarr"), "--chunks", "9"))
    ref = volumes.conv3d(vol, k, pad_mode="replicate")
    assert np.array_equal(read_zarr(tmp_path / "o.zarr"), ref)


def test_a_3d_kernel_on_a_zyx_npy_is_the_same_in_memory_and_tiled(tmp_path, invoke):
    # in memory it was refused ("save the volume as NIfTI"), while --tiled (or KERNELCLI_MAX_MEMORY, which
    # picks the tiled path) computed it: one command, two behaviours depending on the volume's size
    from scipy import ndimage

    vol = np.random.default_rng(5).random((12, 14, 16)).astype(np.float32)
    k = np.random.default_rng(6).random((3, 3, 3))
    np.save(tmp_path / "vol.npy", vol)
    np.save(tmp_path / "k3.npy", k)
    common = ("convolve", str(tmp_path / "vol.npy"), "-k", str(tmp_path / "k3.npy"), "--layout", "zyx")
    ok(invoke(*common, "-o", str(tmp_path / "mem.npy")))
    ok(invoke(*common, "--tiled", "-o", str(tmp_path / "tiled.npy")))
    mem, tiled = np.load(tmp_path / "mem.npy"), np.load(tmp_path / "tiled.npy")
    assert mem.dtype == np.float32 and np.array_equal(mem, tiled)
    np.testing.assert_allclose(mem, ndimage.correlate(vol.astype(np.float64), k, mode="constant"), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("option", [("--stride", "2"), ("--dilation", "2")])
@pytest.mark.parametrize("tiled", [(), ("--tiled",)], ids=["in-memory", "tiled"])
def test_a_3d_kernel_on_a_zyx_npy_refuses_stride_and_dilation(tmp_path, invoke, option, tiled):
    # the tiled path ignored them: --stride 2 gave the stride-1 result, silently
    np.save(tmp_path / "vol.npy", np.zeros((6, 7, 8), np.float32))
    np.save(tmp_path / "k3.npy", np.ones((3, 3, 3)))
    r = invoke("convolve", str(tmp_path / "vol.npy"), "-k", str(tmp_path / "k3.npy"), "--layout", "zyx", *option, *tiled,
               "-o", str(tmp_path / "o.npy"))
    assert getattr(r, "returncode", getattr(r, "exit_code", None)) == 2
    assert f"{option[0]} 2 not supported for a 3-D kernel on a (Z, Y, X) volume" in r.stderr
    assert not (tmp_path / "o.npy").exists()


def test_a_png_on_the_tiled_path_is_refused_in_our_words(tmp_path, invoke):
    # it quoted zarr: "not a Zarr store: No group found in store StorePath(LocalStore, 'file://...')"
    from PIL import Image

    Image.fromarray(np.zeros((8, 8), np.uint8)).save(tmp_path / "a.png")
    r = invoke("convolve", str(tmp_path / "a.png"), "-k", "box:3", "--tiled", "-o", str(tmp_path / "o.npy"))
    assert getattr(r, "returncode", getattr(r, "exit_code", None)) == 2
    assert "the tiled path reads Zarr stores, TIFF and .npy" in r.stderr and "StorePath" not in r.stderr
    assert not (tmp_path / "o.npy").exists()


def test_3d_zarr_without_layout_is_refused(tmp_path, invoke):
    make_zarr(tmp_path / "vol.zarr", np.zeros((20, 30, 25), np.uint8), (8, 8, 8))
    result = invoke("convolve", str(tmp_path / "vol.zarr"), "-k", "box:3", "-o", str(tmp_path / "o.zarr"))
    assert result.exit_code == 2 and "--layout" in result.stderr and not (tmp_path / "o.zarr").exists()


def test_a_volume_store_kernelcli_wrote_is_read_back_as_a_volume(tmp_path, invoke):
    """The tiled audit: a volume .zarr of 3 columns recorded axes (z, y, x), unread: pooled again it was an image of 3
    channels, 2-D (exit 0, no note); and a store's geometry was lost by every Zarr -> Zarr call."""
    nib = pytest.importorskip("nibabel")
    data = np.random.default_rng(1).integers(0, 1000, (3, 30, 40)).astype(np.int16)
    image = nib.Nifti1Image(data, np.diag([0.7, 0.8, 2.0, 1.0]))
    image.header.set_xyzt_units("mm")
    nib.save(image, tmp_path / "thin.nii")
    ok(invoke("convolve", str(tmp_path / "thin.nii"), "-k", "gaussian:1mm", "--tiled", "-o", str(tmp_path / "v.zarr")))
    recorded = dict(zarr.open_array(str(tmp_path / "v.zarr"), mode="r").attrs)
    assert recorded["axes"] == ["z", "y", "x"] and recorded["spacing_mm"] == [2.0, 0.8, 0.7]
    ok(invoke("pool", str(tmp_path / "v.zarr"), "--size", "2", "-o", str(tmp_path / "p.zarr")))
    ok(invoke("pool", str(tmp_path / "v.zarr"), "--size", "2", "--layout", "zyx", "-o", str(tmp_path / "p3.zarr")))
    pooled = read_zarr(tmp_path / "p.zarr")
    assert pooled.shape == (20, 15, 1) and np.array_equal(pooled, read_zarr(tmp_path / "p3.zarr"))
    attrs = dict(zarr.open_array(str(tmp_path / "p.zarr"), mode="r").attrs)
    assert attrs == {"axes": ["z", "y", "x"]}  # another grid: the spacing is not the input's (said in a note)
    result = invoke("convolve", str(tmp_path / "v.zarr"), "-k", "gaussian:1", "-o", str(tmp_path / "c.zarr"))
    ok(result)
    assert dict(zarr.open_array(str(tmp_path / "c.zarr"), mode="r").attrs) == recorded  # the same grid: kept
    result = invoke("pool", str(tmp_path / "v.zarr"), "--size", "2", "-o", str(tmp_path / "q.zarr"))
    assert "spacing_mm and affine are not carried over" in result.stderr


def test_the_grid_is_kept_only_where_the_call_keeps_it_and_foreign_axes_are_not_read(tmp_path, invoke):
    # the review: --padding 2,0,2,0 (a 3x3's 'same' total, split otherwise) kept the input's affine one voxel off;
    # an array whose attribute axes are ['row', 'col'] (another tool's) was refused as OME-Zarr axes
    vol = make_zarr(tmp_path / "v.zarr", np.random.default_rng(4).random((6, 16, 16)).astype(np.float32), (6, 8, 8))
    grid = {"axes": ["z", "y", "x"], "spacing_mm": [2.0, 0.8, 0.7], "affine": np.diag([0.7, 0.8, 2.0, 1.0]).tolist()}
    zarr.open_array(str(vol), mode="r+").attrs.update(grid)
    for padding, kept in (("2,0,2,0", False), ("1", True), ("same", True)):
        r = invoke("convolve", str(vol), "-k", "box:3", "--padding", padding, "-o", str(tmp_path / f"o{kept}{padding}.zarr"))
        assert r.exit_code == 0, r.stderr
        attrs = dict(zarr.open_array(str(tmp_path / f"o{kept}{padding}.zarr"), mode="r").attrs)
        assert (attrs == grid) == kept and attrs["axes"] == ["z", "y", "x"], (padding, attrs)
        assert ("not carried over" in r.stderr) != kept
    other = make_zarr(tmp_path / "ext.zarr", np.ones((16, 16), np.float32), (8, 8))
    zarr.open_array(str(other), mode="r+").attrs["axes"] = ["row", "col"]
    ok(invoke("convolve", str(other), "-k", "box:3", "-o", str(tmp_path / "e.npy")))


def test_an_output_records_the_layout_it_was_read_in(tmp_path, invoke):
    # read back without --layout, a (C, H, W) output was refused (its last axis > 4) or, of 4 columns or fewer, an image
    make_zarr(tmp_path / "chw.zarr", np.random.default_rng(2).random((5, 40, 3)).astype(np.float32), (5, 8, 3))
    ok(invoke("convolve", str(tmp_path / "chw.zarr"), "-k", "sobel_v", "--layout", "chw", "-o", str(tmp_path / "o.zarr")))
    assert dict(zarr.open_array(str(tmp_path / "o.zarr"), mode="r").attrs) == {"axes": ["c", "y", "x"]}
    ok(invoke("convolve", str(tmp_path / "o.zarr"), "-k", "sobel_v", "-o", str(tmp_path / "again.npy")))
    twice = invoke("convolve", str(tmp_path / "o.zarr"), "-k", "sobel_v", "--layout", "hwc", "-o", str(tmp_path / "x.npy"))
    assert twice.exit_code == 2 and "its Zarr axes declare chw" in twice.stderr


def test_an_array_of_a_group_is_read_at_the_path_the_refusal_names(tmp_path, invoke):
    # grp.zarr/img, as "a Zarr group with 2 arrays ... give the array's path" advises, was a folder of a batch:
    # "give it alone, without --out-dir" (given alone), "--out names one output file" with -o; one group down,
    # "a Zarr group with 0 arrays (none)"
    data = np.random.default_rng(5).random((40, 50)).astype(np.float32)
    group = zarr.open_group(str(tmp_path / "grp.zarr"), mode="w")
    group.create_array("img", shape=data.shape, dtype=data.dtype)[:] = data
    group.create_array("mask", shape=data.shape, dtype="uint8")[:] = 1
    nested = zarr.open_group(str(tmp_path / "nest.zarr"), mode="w").create_group("level")
    nested.create_array("img", shape=data.shape, dtype=data.dtype)[:] = data
    np.save(tmp_path / "x.npy", data)
    ok(invoke("convolve", str(tmp_path / "x.npy"), "-k", "gaussian:2", "-o", str(tmp_path / "ref.npy")))
    refused = invoke("convolve", str(tmp_path / "grp.zarr"), "-k", "gaussian:2", "-o", str(tmp_path / "o.npy"))
    assert refused.exit_code == 2 and f"give the array's path, e.g. {tmp_path / 'grp.zarr'}/img" in refused.stderr
    refused = invoke("convolve", str(tmp_path / "nest.zarr"), "-k", "gaussian:2", "-o", str(tmp_path / "o.npy"))
    assert refused.exit_code == 2 and f"e.g. {tmp_path / 'nest.zarr'}/level/img" in refused.stderr
    for path, out in (("grp.zarr/img", "a.npy"), ("nest.zarr/level/img", "b.npy")):
        ok(invoke("convolve", str(tmp_path / path), "-k", "gaussian:2", "-o", str(tmp_path / out)))
        assert np.array_equal(np.load(tmp_path / out), np.load(tmp_path / "ref.npy"))


def test_a_refusal_names_the_input_and_the_option_as_in_memory(tmp_path, invoke):
    # tiled, these said "pad value 2.5 does not fit uint8" and "pool window 2 is larger than the padded input 1"
    np.save(tmp_path / "u8.npy", np.arange(64, dtype=np.uint8).reshape(8, 8))
    for tiled in ([], ["--tiled"]):
        r = invoke("pad", str(tmp_path / "u8.npy"), "-p", "3", "--pad-value", "2.5", *tiled, "-o", str(tmp_path / "x.npy"))
        assert r.exit_code == 2 and r.stderr.startswith(f"error: {tmp_path / 'u8.npy'}: --pad-value 2.5 does not fit uint8")
    nib = pytest.importorskip("nibabel")
    nib.save(nib.Nifti1Image(np.zeros((21, 19, 1), np.float32), np.eye(4)), tmp_path / "one.nii")
    r = invoke("pool", str(tmp_path / "one.nii"), "--size", "2", "--tiled", "-o", str(tmp_path / "po.nii"))
    assert r.exit_code == 2 and "one.nii: axis z: pool window span 2 (f=2) is larger than the padded input 1 (in=1, " \
        "padding 0+0): the output would be empty; the volume has 1 slice (1x19x21, z, y, x)" in r.stderr, r.stderr  # (as in memory: medical.pooling.check_slices)


def test_existing_output_needs_force(image, tmp_path, invoke):
    _, x = image
    src = make_zarr(tmp_path / "big.zarr", x, (64, 64))
    ok(invoke("convolve", str(src), "-k", "box:3", "-o", str(tmp_path / "o.zarr")))
    before = read_zarr(tmp_path / "o.zarr")
    result = invoke("convolve", str(src), "-k", "sobel_v", "-o", str(tmp_path / "o.zarr"))
    assert result.exit_code == 4 and "--force" in result.stderr
    assert np.array_equal(read_zarr(tmp_path / "o.zarr"), before)
    ok(invoke("convolve", str(src), "-k", "sobel_v", "-o", str(tmp_path / "o.zarr"), "--force"))
    assert not np.array_equal(read_zarr(tmp_path / "o.zarr"), before)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.zarr", "o.zarr"]
    result = invoke("convolve", str(src), "-k", "box:3", "-o", str(src), "--force")
    assert result.exit_code == 4 and "input" in result.stderr


def test_interrupted_write_leaves_nothing(image, tmp_path, monkeypatch):
    """Ctrl-C while tiles are written: the temporary store is removed, no output appears."""
    from kernelcli.tiled import files

    _, x = image
    src = make_zarr(tmp_path / "big.zarr", x, (16, 16))
    seen = []

    def progress(done, total):
        seen.append(done)
        if done == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        files.run_tiled(src, "box", lambda a, t: a.astype("float32") + 1, out=tmp_path / "o.zarr", progress=progress)
    assert seen and sorted(p.name for p in tmp_path.iterdir()) == ["big.zarr"]


def test_without_the_extra_exit_2_names_the_pip_command(image, tmp_path):
    _, x = image
    make_zarr(tmp_path / "big.zarr", x, (64, 64))
    blocker = tmp_path / "blocked"
    for name in ("dask", "distributed", "zarr"):
        (blocker / name).mkdir(parents=True)
        (blocker / name / "__init__.py").write_text("raise ImportError('blocked by the test')\n")
    env = {"PYTHONPATH": str(blocker)}
    for args in (("convolve", str(tmp_path / "big.zarr"), "-k", "box:3", "-o", str(tmp_path / "o.zarr")),
                 ("convolve", str(tmp_path / "x.npy"), str(tmp_path / "y.npy"), "-k", "box:3", "-d", str(tmp_path / "o"),
                  "--scheduler", "local")):
        np.save(tmp_path / "x.npy", x)
        np.save(tmp_path / "y.npy", x)
        result = run_cli(*args, env=env)
        assert result.returncode == 2, result.stderr
        assert "pip install 'kernelcli[distributed]'" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "o.zarr").exists() and not (tmp_path / "o").exists()


# ------------------------------------------------------------------ batches on a cluster


@pytest.fixture(scope="module")
def cluster():
    distributed = pytest.importorskip("distributed")
    import logging

    # the scheduler's HTTP server on a free port: its default 8787 may be another suite's (a warning, an error here)
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address="127.0.0.1:0",
                                       silence_logs=logging.ERROR, env={"NUMBA_NUM_THREADS": "1"})
    yield cluster
    cluster.close()


@pytest.fixture(scope="module")
def pngs(tmp_path_factory):
    from PIL import Image

    folder = tmp_path_factory.mktemp("pngs")
    for i in range(10):
        Image.fromarray((np.random.default_rng(i).random((96, 96)) * 255).astype(np.uint8)).save(folder / f"im{i:02d}.png")
    return folder


def items_for(pngs: Path, out_dir: Path):
    from kernelcli.batch import Item

    return [Item(p, out_dir / f"{p.stem}_g.png") for p in sorted(pngs.glob("*.png"))]


def job():
    from kernelcli.jobs import ConvolveOptions, convolve_file

    return partial(convolve_file, kernel_spec="gaussian:3", options=ConvolveOptions(), force=False)


@pytest.mark.parametrize("src, out", [("in.zarr", "out.zarr"), ("in.zarr", "out.npy"), ("a.npy", "out.zarr"), ("a.npy", "out.npy")])
def test_relative_paths_on_a_cluster_whose_workers_run_elsewhere(tmp_path, cluster, src, out):
    # the tiled audit: the workers open what the tasks name from their own folder (here the test's, not
    # tmp_path): a relative Zarr input read as fill values and a relative store's tiles were skipped as
    # cancelled, so the output was all zeros with exit 0; a relative .npy output failed as 'No such file'
    data = np.random.default_rng(3).integers(0, 256, (97, 131)).astype(np.uint8)
    np.save(tmp_path / "a.npy", data)
    make_zarr(tmp_path / "in.zarr", data, (20, 30))
    assert Path.cwd() != tmp_path
    ok(run_cli("convolve", src, "-k", "box:3", "-o", out, "--scheduler", cluster.scheduler_address, cwd=tmp_path))
    ok(run_cli("convolve", "a.npy", "-k", "box:3", "-o", "mem.npy", cwd=tmp_path))
    got = read_zarr(tmp_path / out) if out.endswith(".zarr") else np.load(tmp_path / out)
    np.testing.assert_array_equal(got, np.load(tmp_path / "mem.npy"))


def test_tiles_a_worker_could_not_write_are_an_error_not_a_store(tmp_path):
    # a worker that cannot see the temporary store (no shared folder) skipped its tiles as cancelled, and
    # the store was published without them; the reads of an input it cannot see raise instead of zeros
    import dask.array as da

    from kernelcli.errors import ImageReadError, WriteError
    from kernelcli.tiled import stores, writers

    result = da.zeros((40, 40), chunks=20)
    with pytest.raises(WriteError, match="4 of 4 tiles were not written: their worker does not see"):
        writers.write_zarr(result, tmp_path / "o.zarr", force=False, run=lambda tasks: [writers.UNWRITTEN] * len(tasks))
    assert not (tmp_path / "o.zarr").exists() and list(tmp_path.iterdir()) == []
    make_zarr(tmp_path / "in.zarr", np.ones((10, 10)), (5, 5))
    array, _, close, _ = stores.open_array(tmp_path / "in.zarr")
    (tmp_path / "in.zarr").rename(tmp_path / "moved.zarr")  # as a worker on another machine sees it: not there
    with pytest.raises(ImageReadError, match="not found where a tile is computed"):
        array.compute(scheduler="synchronous")


@pytest.mark.parametrize("zarr_format", ZARR_FORMATS)
def test_force_never_replaces_a_folder_holding_the_input_or_other_arrays(tmp_path, zarr_format):
    # the tiled audit: -o box.zarr --force deleted box.zarr/a.npy (the input), and replaced a Zarr group with
    # all its other arrays; local:///abs/in.zarr lost its leading '/' and --force deleted the input store
    from conftest import run_in_process  # (in this process: seven fresh interpreters importing dask took 9-11 s)

    data = np.arange(400, dtype=np.uint8).reshape(20, 20)
    (tmp_path / "box.zarr").mkdir()
    np.save(tmp_path / "box.zarr" / "a.npy", data)
    group = zarr.open_group(str(tmp_path / "g.zarr"), mode="w", **({"zarr_format": zarr_format} if len(ZARR_FORMATS) > 1 else {}))
    for name in ("a", "b"):
        make = getattr(group, "create_array", None) or group.create_dataset  # (zarr 3, zarr 2)
        make(name, shape=(20, 20), dtype="u1")[:] = data
    make_zarr(tmp_path / "in.zarr", data, (8, 8), zarr_format)
    refused = [
        (["box.zarr/a.npy", "-o", "box.zarr"], "box.zarr: holds the input box.zarr/a.npy: the output would replace it"),
        (["g.zarr/a", "-o", "g.zarr"], "g.zarr: holds the input g.zarr/a: the output would replace it"),
        (["in.zarr", "-o", "g.zarr"], "g.zarr: is a folder that is not a Zarr array (a group, or other files)"),
        ([str(tmp_path / "in.zarr"), "-o", f"local://{tmp_path}/in.zarr"], "is the input"),
    ]
    for args, said in refused:
        result = run_in_process("convolve", args[0], "-k", "box:3", *args[1:], "--force", cwd=tmp_path)
        assert result.returncode == 4 and said in result.stderr, result.stderr
    assert (tmp_path / "box.zarr" / "a.npy").exists() and np.array_equal(read_zarr(tmp_path / "in.zarr"), data)
    assert sorted(zarr.open_group(str(tmp_path / "g.zarr"), mode="r").array_keys()) == ["a", "b"]
    ok(run_in_process("convolve", "in.zarr", "-k", "box:3", "-o", f"local://{tmp_path}/o.zarr", cwd=tmp_path))
    ok(run_in_process("convolve", "in.zarr", "-k", "box:3", "-o", "o.zarr", "--force", cwd=tmp_path))  # its own output: replaced
    assert read_zarr(tmp_path / "o.zarr").shape == (20, 20)
    (tmp_path / "empty.zarr").mkdir()  # (the review: an empty folder has nothing to lose)
    ok(run_in_process("convolve", "in.zarr", "-k", "box:3", "-o", "empty.zarr", "--force", cwd=tmp_path))


def test_a_cluster_of_another_environment_is_named_not_a_bug(monkeypatch):
    # a scheduler started before kernelcli changed (or from another venv) cannot unpickle the tasks: exit 70 before
    distributed = pytest.importorskip("distributed")
    from types import SimpleNamespace

    from kernelcli.errors import UsageError
    from kernelcli.tiled.cluster import compute_tasks

    def refuse(futures):
        raise RuntimeError("Error during deserialization of the task graph. This frequently occurs if the Scheduler "
                           "and Client have different environments.")

    monkeypatch.setattr(distributed, "as_completed", refuse)
    client = SimpleNamespace(compute=lambda tasks: [], cancel=lambda futures: None, scheduler=SimpleNamespace(address="tcp://h:1"))
    with pytest.raises(UsageError, match="the cluster at tcp://h:1 cannot read this call's tasks: its scheduler or workers run"):
        compute_tasks([], client)


def test_batch_on_the_cluster_equals_workers(pngs, tmp_path, cluster):
    (tmp_path / "bad.png").write_bytes(b"\x89PNG broken")
    ok_dir = tmp_path / "a"
    result = run_cli("convolve", str(pngs), str(tmp_path / "bad.png"), "-k", "gaussian:3", "-d", str(ok_dir),
                     "--scheduler", cluster.scheduler_address, "--json")
    assert result.returncode == 1
    import json

    report = json.loads(result.stdout)
    failed = [r for r in report["items"] if r["status"] == "failed"]
    assert [r["input"] for r in failed] == [str(tmp_path / "bad.png")] and failed[0]["error"]
    ok(run_cli("convolve", str(pngs), "-k", "gaussian:3", "-d", str(tmp_path / "b"), "--workers", "2"))
    for p in sorted((tmp_path / "b").iterdir()):
        assert (ok_dir / p.name).read_bytes() == p.read_bytes()


def test_killing_a_worker_mid_batch_gives_every_output_once(pngs, tmp_path, cluster):
    from kernelcli import batch

    reference = tmp_path / "ref"
    batch.run(items_for(pngs, reference), job(), workers=1)
    out = tmp_path / "out"
    killed = []

    def progress(record, done, total):
        if done == 2 and not killed:
            worker = next(iter(cluster.workers.values()))
            pid = worker.process.pid if hasattr(worker, "process") else None
            if pid:
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)

    result = batch.run(items_for(pngs, out), job(), progress=progress, scheduler=cluster.scheduler_address)
    assert killed, "no worker was killed"
    assert [r.status for r in result.records] == ["ok"] * 10
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in reference.iterdir())
    for p in reference.iterdir():
        assert (out / p.name).read_bytes() == p.read_bytes()


def test_tiles_on_the_cluster(image, tmp_path, cluster, invoke):
    folder, x = image
    src = make_zarr(tmp_path / "big.zarr", x, (40, 40))
    ok(invoke("convolve", str(src), "-k", "gaussian:2", "--pad-mode", "symmetric", "-o", str(tmp_path / "o.zarr"),
               "--scheduler", cluster.scheduler_address))
    ref = in_memory(invoke, folder, "convolve", "-k", "gaussian:2", "--pad-mode", "symmetric", "--rescale", "none")
    assert np.array_equal(read_zarr(tmp_path / "o.zarr"), ref)


def test_interrupt_on_the_cluster_cancels_and_leaves_nothing(image, tmp_path, cluster):
    """Ctrl-C while the cluster writes tiles: the tasks are cancelled, the temporary store removed."""
    from kernelcli.tiled import arrays, files

    _, x = image
    src = make_zarr(tmp_path / "big.zarr", x, (16, 16))

    def progress(done, total):
        if done == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        files.run_tiled(src, "box", lambda a, t: arrays.conv2d(a, np.ones((3, 3)), chunks=t), out=tmp_path / "o.zarr",
                        chunks=16, scheduler=cluster.scheduler_address, progress=progress)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.zarr"]


def test_interrupted_batch_on_the_cluster_keeps_finished_files_only(pngs, tmp_path, cluster):
    from kernelcli import batch

    def progress(record, done, total):
        if done == 3:
            raise KeyboardInterrupt

    with pytest.raises(batch.BatchInterrupted) as stop:
        batch.run(items_for(pngs, tmp_path), job(), progress=progress, scheduler=cluster.scheduler_address)
    done = [r for r in stop.value.result.records if r.status == "ok"]
    assert len(done) >= 3
    assert all(p.suffix == ".png" and not p.name.startswith(".") for p in tmp_path.iterdir())  # no temporary file
    reference = tmp_path.parent / (tmp_path.name + "_ref")
    batch.run(items_for(pngs, reference), job(), workers=1)
    for p in tmp_path.iterdir():
        assert p.read_bytes() == (reference / p.name).read_bytes()


def test_an_input_over_the_memory_cap_goes_tile_by_tile(image, tmp_path, invoke, monkeypatch):
    folder, x = image
    ref = in_memory(invoke, folder, "convolve", "-k", "gaussian:1", "--rescale", "none")
    monkeypatch.setenv("KERNELCLI_MAX_MEMORY", "64K")
    result = invoke("convolve", str(folder / "x.npy"), "-k", "gaussian:1", "-o", str(tmp_path / "o.npy"))
    ok(result)
    assert "read tile by tile" in result.stderr
    assert np.array_equal(np.load(tmp_path / "o.npy"), ref)


def test_progress_counts_every_output_tile(image, tmp_path):
    from kernelcli.tiled import arrays, files

    _, x = image
    src = make_zarr(tmp_path / "big.zarr", x, (50, 50))
    seen = []
    files.run_tiled(src, "box", lambda a, t: arrays.conv2d(a, np.ones((3, 3)), stride=2, chunks=t), out=tmp_path / "o.zarr",
                    chunks=50, progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (9, 9) and [d for d, _ in seen] == list(range(1, 10))  # 3 x 3 tiles of 25 x 25 (and the rest)


def test_3d_pooling_of_a_volume(tmp_path, invoke):
    vol = (np.random.default_rng(5).random((21, 30, 26)) * 1000).astype(np.int16)
    np.save(tmp_path / "vol.npy", vol)
    make_zarr(tmp_path / "vol.zarr", vol, (8, 8, 8))
    ok(invoke("pool", str(tmp_path / "vol.npy"), "--size", "3", "--stride", "2", "--op", "avg", "--layout", "zyx",
              "--rescale", "none", "-o", str(tmp_path / "ref.npy")))
    ok(invoke("pool", str(tmp_path / "vol.zarr"), "--size", "3", "--stride", "2", "--op", "avg", "--layout", "zyx",
              "-o", str(tmp_path / "o.zarr"), "--chunks", "10"))
    assert np.array_equal(read_zarr(tmp_path / "o.zarr"), np.load(tmp_path / "ref.npy"))


@pytest.fixture(scope="module")
def fft_case(tmp_path_factory):
    """A 600x560 image and a dense 25x25 kernel: the whole image takes the (block) FFT."""
    from kernelcli.tiled import pin

    folder = tmp_path_factory.mktemp("fft")
    rng = np.random.default_rng(15)
    x = (rng.random((600, 560)) * 255).astype(np.uint8)
    k = rng.standard_normal((25, 25))
    assert pin.conv_paths((600, 560, 1), k, (1, 1), (1, 1), np.dtype("float32"), 600, 560, "cold").force == "fft"
    np.save(folder / "x.npy", x)
    np.save(folder / "k.npy", k)
    return folder, x


@pytest.mark.parametrize("mode", ["reflect", "circular"])
def test_fft_path_tile_by_tile_equals_in_memory(fft_case, tmp_path, invoke, mode):
    """Regression (issue 15): where the whole image took the FFT, the tiles took the direct loop and
    agreed only within float rounding (a note said so); now byte for byte, with any --chunks."""
    folder, x = fft_case
    args = ("convolve", "-k", str(folder / "k.npy"), "--pad-mode", mode, "--rescale", "none")
    src = make_zarr(tmp_path / "big.zarr", x, (100, 100))
    r = invoke(args[0], str(src), *args[1:], "-o", str(tmp_path / "out.zarr"), "--chunks", "200", "--json")
    ok(r)
    assert "float rounding" not in r.stdout
    assert np.array_equal(read_zarr(tmp_path / "out.zarr"), in_memory(invoke, folder, *args))


def test_fft_tiles_on_the_cluster(fft_case, tmp_path, cluster, invoke):
    folder, x = fft_case
    args = ("convolve", "-k", str(folder / "k.npy"), "--pad-mode", "symmetric", "--rescale", "none")
    src = make_zarr(tmp_path / "big.zarr", x, (256, 256))
    ok(invoke(args[0], str(src), *args[1:], "-o", str(tmp_path / "o.zarr"), "--scheduler", cluster.scheduler_address))
    assert np.array_equal(read_zarr(tmp_path / "o.zarr"), in_memory(invoke, folder, *args))


def test_batch_on_a_local_cluster_from_a_fork_server_equals_workers(pngs, tmp_path):
    """--scheduler local: workers forked from a clean fork server (never from the command's process),
    small files of a task on a few threads; the bytes and the report are those of --workers 2."""
    import json

    pytest.importorskip("distributed")
    (tmp_path / "bad.png").write_bytes(b"\x89PNG broken")
    result = run_cli("convolve", str(pngs), str(tmp_path / "bad.png"), "-k", "gaussian:3", "-d", str(tmp_path / "a"),
                     "--scheduler", "local", "--workers", "2", "--json")
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    assert [r["status"] for r in report["items"]].count("ok") == 10
    ok(run_cli("convolve", str(pngs), "-k", "gaussian:3", "-d", str(tmp_path / "b"), "--workers", "2"))
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == sorted(p.name for p in (tmp_path / "b").iterdir())
    for p in (tmp_path / "b").iterdir():
        assert (tmp_path / "a" / p.name).read_bytes() == p.read_bytes()


def test_a_group_of_small_files_runs_on_threads_in_order(tmp_path):
    import threading
    import time

    from kernelcli.batch import Item
    from kernelcli.tiled import cluster

    items = []
    for i in range(8):
        (tmp_path / f"{i}.png").write_bytes(b"x" * 10)
        items.append(Item(tmp_path / f"{i}.png", tmp_path / f"o{i}.png"))
    seen = set()

    def run(item):
        seen.add(threading.current_thread().name)
        time.sleep(0.02 * (8 - int(item.input.stem)))  # later items finish first
        return item.input.stem

    assert cluster.run_group(run, items) == [str(i) for i in range(8)]
    assert len(seen) > 1
    (tmp_path / "0.png").write_bytes(b"x" * (cluster.SMALL_FILE_BYTES + 1))  # a big file: one at a time
    seen.clear()
    assert cluster.run_group(run, items) == [str(i) for i in range(8)] and len(seen) == 1


# ------------------------------------------------------------------ audit: the tiled path gives the in-memory answer


@pytest.mark.parametrize("output", ["o.npy", "o.zarr"])
@pytest.mark.parametrize("how", ["--tiled", "cap"])
def test_an_overflow_is_refused_and_nothing_is_written(tmp_path, invoke, monkeypatch, output, how):
    """Regression (D3): the tiled path wrote the +-inf result and exited 0; in memory it is exit 2."""
    a = np.full((100, 90), 3e38, np.float32)
    a[::2] = -3e38
    np.save(tmp_path / "huge.npy", a)
    if how == "cap":
        monkeypatch.setenv("KERNELCLI_MAX_MEMORY", "100K")
    r = invoke("convolve", "huge.npy", "-k", "[[1,1,1]]", "-o", output, *(("--tiled",) if how == "--tiled" else ()))
    assert code(r) == 2 and "huge.npy: convolve" in r.stderr and "the result overflows float32" in r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["huge.npy"]  # no output, no temporary store or file


def test_an_overflow_clipped_to_zarr_is_refused(tmp_path, invoke):
    a = np.full((40, 30), 3e38, np.float32)
    np.save(tmp_path / "huge.npy", a)
    r = invoke("convolve", "huge.npy", "-k", "[[1,1,1]]", "--rescale", "clip", "-o", "o.zarr")
    assert code(r) == 2 and "overflows" in r.stderr and sorted(p.name for p in tmp_path.iterdir()) == ["huge.npy"]


@pytest.fixture(scope="module")
def tiffs(tmp_path_factory):
    """TIFFs Pillow converts on reading: palette, 1-bit, MinIsWhite, RGBA, planar RGB (and a turned one)."""
    tifffile = pytest.importorskip("tifffile")
    from PIL import Image

    folder = tmp_path_factory.mktemp("tiffs")
    rng = np.random.default_rng(3)
    g8 = rng.integers(0, 256, (70, 53), dtype=np.uint8)
    p = Image.fromarray(rng.integers(0, 4, (70, 53), dtype=np.uint8), mode="P")
    p.putpalette([0, 0, 0, 255, 255, 255, 100, 100, 100, 30, 200, 50] + [0] * (256 * 3 - 12))
    p.save(folder / "pal.tif")
    grey = Image.fromarray(rng.integers(0, 3, (70, 53), dtype=np.uint8), mode="P")  # the entries it uses are grey
    grey.putpalette([0, 0, 0, 90, 90, 90, 200, 200, 200, 30, 200, 50] + [0] * (256 * 3 - 12))
    grey.save(folder / "palgrey.tif")
    Image.fromarray(rng.integers(0, 2, (70, 53)).astype(bool)).convert("1").save(folder / "bit.tif")
    tifffile.imwrite(folder / "white.tif", g8, photometric="miniswhite")
    tifffile.imwrite(folder / "white16.tif", g8.astype(np.uint16) * 257, photometric="miniswhite")
    tifffile.imwrite(folder / "whitef.tif", g8.astype(np.float32), photometric="miniswhite")
    tifffile.imwrite(folder / "rgba.tif", rng.integers(0, 256, (70, 53, 4), dtype=np.uint8), photometric="rgb",
                     extrasamples=["unassalpha"])
    tifffile.imwrite(folder / "planar.tif", rng.integers(0, 256, (3, 70, 53), dtype=np.uint8), photometric="rgb",
                     planarconfig="separate")
    tifffile.imwrite(folder / "turned.tif", g8, extratags=[(274, "H", 1, 6, True)])
    return folder


@pytest.mark.parametrize("name", ["pal", "palgrey", "bit", "white", "white16", "rgba", "planar"])
def test_a_tiff_tile_by_tile_reads_as_in_memory(tiffs, tmp_path, invoke, monkeypatch, name):
    """Regression (D2): palette indices instead of RGB, 1-bit 0/1 instead of 0/255, MinIsWhite not
    inverted, RGBA's alpha convolved as a fourth channel; (the tiled audit) a palette whose used entries are
    grey read as RGB, where in memory it is one grey channel."""
    src = str(tiffs / f"{name}.tif")
    ok(invoke("convolve", src, "-k", "[[1,2],[3,-4]]", "-o", "mem.npy"))
    ok(invoke("convolve", src, "-k", "[[1,2],[3,-4]]", "--tiled", "--chunks", "16", "-o", "tiled.npy"))
    mem, tiled = np.load(tmp_path / "mem.npy"), np.load(tmp_path / "tiled.npy")
    assert mem.shape == tiled.shape and mem.dtype == tiled.dtype and np.array_equal(mem, tiled)


def test_a_16_bit_miniswhite_tiff_is_inverted_as_an_8_bit_one_is(tiffs, tmp_path, invoke):
    # the pipes audit: Pillow inverts 8-bit MinIsWhite, not 16-bit: its edges came out with the opposite sign, in silence
    for name, white in (("white", 255), ("white16", 65535)):
        ok(invoke("pad", str(tiffs / f"{name}.tif"), "-p", "0", "-o", f"{name}.npy"))
        stored = tifffile_read(tiffs / f"{name}.tif")
        assert np.array_equal(np.load(tmp_path / f"{name}.npy"), white - stored)
    for tiled in ([], ["--tiled"]):
        r = invoke("pad", str(tiffs / "whitef.tif"), "-p", "0", "-o", "f.npy", *tiled)
        assert code(r) == 2 and "MinIsWhite TIFF of float32 samples" in r.stderr, r.stderr


def tifffile_read(path):
    import tifffile

    return tifffile.imread(path)


@pytest.mark.parametrize("call", [("pool", "-f", "2"), ("pad", "--p", "1", "--pad-value", "7"), ("convolve", "-k", "box:3")])
@pytest.mark.parametrize("dtype", [">f4", ">u2", ">i8"])
def test_a_big_endian_array_gives_the_same_bytes_tile_by_tile(tmp_path, invoke, call, dtype):
    # the tiled audit: equal values, but the tiled output kept the input's byte order ('>f4') where in memory it is native
    np.save(tmp_path / "be.npy", np.random.default_rng(4).integers(0, 60000, (30, 41)).astype(dtype))
    ok(invoke(call[0], "be.npy", *call[1:], "-o", "mem.npy"))
    ok(invoke(call[0], "be.npy", *call[1:], "--tiled", "--chunks", "16", "-o", "tiled.npy"))
    assert (tmp_path / "mem.npy").read_bytes() == (tmp_path / "tiled.npy").read_bytes()


def test_max_pixels_guards_a_tiff_tile_by_tile_as_in_memory(tiffs, tmp_path, invoke):
    # the review: a TIFF over --max-pixels, refused in memory as a decompression bomb, ran tile by tile with a note
    # that it was 'read as it is stored (the memory limit still applies)'; an array's note no longer says the latter
    src = str(tiffs / "white.tif")  # 70x53
    for tiled in ([], ["--tiled"]):
        r = invoke("convolve", src, "-k", "box:3", "--max-pixels", "100", "-o", "o.npy", *tiled)
        assert code(r) == 2 and "refused as a decompression bomb (3710 pixels, more than the limit of 100)" in r.stderr, r.stderr
    ok(invoke("convolve", src, "-k", "box:3", "--max-pixels", "3710", "--tiled", "-o", "o.npy"))
    np.save(tmp_path / "a.npy", np.zeros((8, 8)))
    r = invoke("convolve", "a.npy", "-k", "box:3", "--max-pixels", "4", "--tiled", "-o", "p.npy")
    assert code(r) == 0 and "a .npy is read as it is stored (tile by tile)" in r.stderr, r.stderr


def test_a_tiff_on_a_cluster_is_refused_before_any_work(tiffs, tmp_path, invoke):
    # the tiled audit: tifffile's store holds a lock, which cannot be sent to workers: exit 70 after the cluster started
    r = invoke("convolve", str(tiffs / "planar.tif"), "-k", "box:3", "--scheduler", "local", "--workers", "2", "-o", "o.npy")
    assert code(r) == 2 and "a TIFF is read tile by tile by this process only" in r.stderr, r.stderr
    assert not (tmp_path / "o.npy").exists()


def test_a_tiff_the_tiled_reader_cannot_convert_is_refused_or_read_in_memory(tiffs, tmp_path, invoke, monkeypatch):
    """Regression (D2): the Orientation tag was ignored tile by tile; now --tiled refuses it saying why,
    and the automatic switch leaves it to the in-memory reader."""
    src = str(tiffs / "turned.tif")
    r = invoke("convolve", src, "-k", "box:3", "--tiled", "-o", "o.npy")
    # (audit 174 #3: it said "or leave out --tiled/--chunks", which leads to the in-memory refusal below)
    assert code(r) == 2 and "Orientation 6" in r.stderr and "Traceback" not in r.stderr
    assert "neither the tiled path nor the in-memory reader reads it" in r.stderr and "leave out" not in r.stderr
    assert not (tmp_path / "o.npy").exists()
    # in memory Pillow 13 decodes this oblong greyscale one scrambled: refused there too (io.decode.decode)
    r = invoke("convolve", src, "-k", "box:3", "-o", "mem.npy")
    assert code(r) == 2 and "its Orientation tag turns it" in r.stderr
    monkeypatch.setenv("KERNELCLI_MAX_MEMORY", "80K")  # over the cap by the file's header: not tile by tile
    r = invoke("convolve", src, "-k", "box:3", "-o", "auto.npy")
    assert "tile by tile" not in r.stderr and code(r) == 2


@pytest.mark.parametrize("options", [("--tiled",), ("--chunks", "32")])
def test_a_hard_link_to_the_input_is_refused(image, tmp_path, invoke, options):
    """Regression (D4): the tiled path compared real paths only, and replaced a hard link to the input."""
    _, x = image
    np.save(tmp_path / "x.npy", x)
    os.link(tmp_path / "x.npy", tmp_path / "h.npy")
    r = invoke("convolve", "x.npy", "-k", "sobel_v", "-o", "h.npy", "--force", *options)
    assert code(r) == 4 and "is the input x.npy" in r.stderr
    assert os.path.samefile(tmp_path / "x.npy", tmp_path / "h.npy") and np.array_equal(np.load(tmp_path / "h.npy"), x)


def test_the_default_output_is_the_in_memory_one(image, tmp_path, invoke, monkeypatch):
    """Regression (D5): the automatic switch wrote x_sobel_v.zarr where in memory it writes x_sobel_v.npy;
    a TIFF's default (.tif) cannot be written tile by tile: refused, naming --out."""
    tifffile = pytest.importorskip("tifffile")
    _, x = image
    np.save(tmp_path / "x.npy", x)
    tifffile.imwrite(tmp_path / "t.tif", x)
    ok(invoke("convolve", "x.npy", "-k", "sobel_v"))
    (tmp_path / "x_sobel_v.npy").rename(tmp_path / "mem.npy")
    monkeypatch.setenv("KERNELCLI_MAX_MEMORY", "64K")
    r = invoke("convolve", "x.npy", "-k", "sobel_v")
    ok(r)
    assert "tile by tile" in r.stderr and not (tmp_path / "x_sobel_v.zarr").exists()
    assert np.array_equal(np.load(tmp_path / "x_sobel_v.npy"), np.load(tmp_path / "mem.npy"))
    r = invoke("convolve", "t.tif", "-k", "sobel_v", "--tiled")
    assert code(r) == 2 and "t_sobel_v.tif" in r.stderr and "--out t_sobel_v.zarr" in r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mem.npy", "t.tif", "x.npy", "x_sobel_v.npy"]


def _ome(path: Path, data: np.ndarray, axes: list[str], zarr_format: int | None = None) -> Path:
    """An OME-Zarr 0.4 group; ``zarr_format=2`` as ome-zarr-py writes 0.4 (else the installed zarr's default)."""
    root = zarr.open_group(str(path), mode="w", **({"zarr_format": zarr_format} if zarr_format else {}))
    root.create_array("0", shape=data.shape, chunks=tuple(min(n, 16) for n in data.shape), dtype=data.dtype)[:] = data
    named = [{"name": a, "type": "space" if a in "zyx" else ("time" if a == "t" else "channel")} for a in axes]
    root.attrs["multiscales"] = [{"version": "0.4", "axes": named, "datasets": [{"path": "0"}]}]
    return path


@pytest.mark.parametrize("zarr_format", ZARR_FORMATS)
def test_ome_zarr_axes_are_followed(tmp_path, invoke, zarr_format):
    """Regression (D7): a (z, y, x) OME-Zarr with 3 columns was read (H, W, C) silently, and a (z, y, x) one
    with many columns refused as "reads two ways" although its axes say; a --layout against them is refused.
    (Audit 221 #2: in Zarr v2 a level with single axes dropped was refused as "not found where a tile is computed".)"""
    vol = (np.random.default_rng(8).random((6, 20, 3)) * 255).astype(np.uint8)
    np.save(tmp_path / "thin.npy", vol)
    _ome(tmp_path / "thin.zarr", vol, ["z", "y", "x"], zarr_format)
    ok(invoke("convolve", "thin.npy", "-k", "sobel_v", "--layout", "zyx", "-o", "ref.npy"))
    ok(invoke("convolve", "thin.zarr", "-k", "sobel_v", "-o", "a.zarr"))
    assert np.array_equal(read_zarr(tmp_path / "a.zarr"), np.load(tmp_path / "ref.npy"))
    r = invoke("convolve", "thin.zarr", "-k", "sobel_v", "--layout", "hwc", "-o", "b.zarr")
    assert code(r) == 2 and "zyx" in r.stderr and "hwc" in r.stderr and not (tmp_path / "b.zarr").exists()
    big = (np.random.default_rng(9).random((4, 20, 30)) * 255).astype(np.uint8)
    np.save(tmp_path / "big.npy", big)
    _ome(tmp_path / "big.zarr", big[None, None], ["t", "c", "z", "y", "x"], zarr_format)
    ok(invoke("pool", "big.npy", "--size", "2", "--layout", "zyx", "--rescale", "none", "-o", "pref.npy"))
    ok(invoke("pool", "big.zarr", "--size", "2", "-o", "p.zarr"))
    assert np.array_equal(read_zarr(tmp_path / "p.zarr"), np.load(tmp_path / "pref.npy"))
    rgb = (np.random.default_rng(10).random((20, 30, 3)) * 255).astype(np.uint8)
    np.save(tmp_path / "rgb.npy", rgb)
    _ome(tmp_path / "rgb.zarr", np.moveaxis(rgb, 2, 0)[:, None], ["c", "z", "y", "x"], zarr_format)
    ok(invoke("convolve", "rgb.npy", "-k", "gaussian:1", "-o", "cref.npy"))
    ok(invoke("convolve", "rgb.zarr", "-k", "gaussian:1", "-o", "c.zarr"))
    assert np.array_equal(read_zarr(tmp_path / "c.zarr"), np.moveaxis(np.load(tmp_path / "cref.npy"), 2, 0))


def test_refusals_name_the_file_and_the_reason_it_went_tiled(tmp_path, invoke, monkeypatch):
    """Regression (D9): "x: 1 value(s) are NaN" without the file's name; "leave out --tiled/--chunks"
    where neither was given."""
    from PIL import Image

    a = np.zeros((60, 50), np.float32)
    a[3, 4] = np.nan
    np.save(tmp_path / "nan.npy", a)
    r = invoke("convolve", "nan.npy", "-k", "sobel_v", "--tiled", "--chunks", "16", "-o", "o.npy")
    assert code(r) == 2 and r.stderr.startswith("error: nan.npy: ") and "NaN" in r.stderr
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(tmp_path / "a.png")
    r = invoke("convolve", "a.png", "-k", "box:3", "-o", "o.zarr")
    assert code(r) == 2 and "--tiled" not in r.stderr and ".zarr" in r.stderr
    np.save(tmp_path / "big.npy", np.zeros((150, 131), np.uint8))
    monkeypatch.setenv("KERNELCLI_MAX_MEMORY", "64K")
    r = invoke("convolve", "big.npy", "-k", "box:3", "-o", "o.png")
    assert code(r) == 2 and "--tiled" not in r.stderr and "KERNELCLI_MAX_MEMORY" in r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.png", "big.npy", "nan.npy"]


@pytest.mark.parametrize("kind", ["int8", "int16", "int32", "uint32", "uint16", "float32"])
def test_a_greyscale_tiff_reads_the_same_tile_by_tile(tmp_path, invoke, kind):
    # the in-memory reader takes the TIFF's own sample type (its tags); tile by tile int16/int32 were refused
    tifffile = pytest.importorskip("tifffile")
    dtype = np.dtype(kind)
    rng = np.random.default_rng(0)
    x = (rng.integers(np.iinfo(dtype).min // 2, np.iinfo(dtype).max // 2, (40, 50)) if dtype.kind in "iu"
         else rng.random((40, 50))).astype(dtype)
    tifffile.imwrite(tmp_path / "x.tif", x)
    ok(invoke("pad", "x.tif", "-p", "1", "-o", "m.npy"))
    ok(invoke("pad", "x.tif", "-p", "1", "-o", "t.npy", "--tiled"))
    mem, tiled = np.load(tmp_path / "m.npy"), np.load(tmp_path / "t.npy")
    assert mem.dtype == tiled.dtype == dtype and np.array_equal(mem, tiled) and np.array_equal(mem, np.pad(x, 1))


def test_format_and_suffix_name_the_default_output_as_in_memory(image, tmp_path, invoke):
    # --format was ignored tile by tile: `--tiled --format tif` wrote x_sobel_v.npy with exit 0
    _, x = image
    np.save(tmp_path / "x.npy", x)
    r = invoke("convolve", "x.npy", "-k", "sobel_v", "--tiled", "--format", "tif")
    assert code(r) == 2 and "the default output x_sobel_v.tif is .tif" in r.stderr
    assert not list(tmp_path.glob("x_sobel_v*"))
    ok(invoke("convolve", "x.npy", "-k", "sobel_v", "--tiled", "--format", "npy", "--suffix", "edges"))
    ok(invoke("pool", "x.npy", "--size", "2", "--tiled", "--format", "npy"))
    ok(invoke("pad", "x.npy", "--p", "1", "--tiled", "--suffix", "wide"))
    # --suffix too was ignored (x_sobel_v.npy)
    assert sorted(p.name for p in tmp_path.glob("x_*")) == ["x_edges.npy", "x_maxpool2.npy", "x_wide.npy"]


def test_a_memory_refusal_of_a_tiled_input_names_the_tiled_path(tmp_path, invoke, monkeypatch):
    # the automatic switch estimates from the file alone: a large kernel's padding can push the in-memory run
    # over the cap without switching; the refusal did not say the input could go tile by tile
    x = np.random.default_rng(0).integers(0, 256, (301, 217), dtype=np.uint8)
    np.save(tmp_path / "x.npy", x)
    monkeypatch.setenv("KERNELCLI_MAX_MEMORY", "860K")  # under the file's own estimate, over the padded run's 964.7 KiB
    r = invoke("convolve", "x.npy", "-k", "box:61", "-o", "o.npy")
    assert code(r) == 2 and "would need about" in r.stderr and "or run it tile by tile: --tiled" in r.stderr
    ok(invoke("convolve", "x.npy", "-k", "box:61", "-o", "o.npy", "--tiled"))


def test_more_chunk_sides_than_axes_are_refused(tmp_path, invoke):
    # the tiled audit: --chunks 4,4,4,4 on a 2-D input ran, its extra sides dropped in silence
    np.save(tmp_path / "a.npy", np.arange(200.0).reshape(10, 20))
    r = invoke("convolve", "a.npy", "-k", "box:3", "--chunks", "4,4,4,4", "-o", "o.npy")
    assert code(r) == 2 and "--chunks 4,4,4,4: 4 sides, but this input is cut along 2 axes" in r.stderr, r.stderr
    assert not (tmp_path / "o.npy").exists()
    ok(invoke("convolve", "a.npy", "-k", "box:3", "--chunks", "4,8", "-o", "o.npy"))


def test_a_tiled_integer_output_does_not_claim_nothing_was_clipped(tmp_path):
    # README audit 1: '--tiled --rescale clip -o m.zarr --json' said clipped_low 0, clipped_high 0 where 3,219 cells
    # were clipped (the in-memory record counts 2,305 and 914)
    import json

    from conftest import SAMPLES, run_in_process
    from PIL import Image

    np.save(tmp_path / "x.npy", np.asarray(Image.open(SAMPLES / "phantom.png")).astype(np.float32))
    tiled = run_in_process("convolve", "x.npy", "-k", "sobel_v", "--tiled", "--rescale", "clip", "-o", "m.zarr", "--json",
                           cwd=tmp_path)
    assert tiled.returncode == 0, tiled.stderr
    record = json.loads(tiled.stdout)
    assert (record["clipped_low"], record["clipped_high"], record["dtype"]) == (None, None, "uint8")
    assert any("the cells clipped are not counted (null)" in n for n in record["notes"])
    raw = json.loads(run_in_process("convolve", "x.npy", "-k", "sobel_v", "--tiled", "-o", "f.zarr", "--json", cwd=tmp_path).stdout)
    assert (raw["clipped_low"], raw["clipped_high"]) == (0, 0)  # a float output clips nothing


def test_force_replaces_only_an_array_store_of_its_own_files_and_nothing_is_written_inside_an_input(tmp_path):
    # tiled audit 2: '--force' deleted a notes.txt (or a store) kept inside an array store, and
    # 'convolve in.zarr -o in.zarr/sub.zarr' wrote a store inside its own input
    from conftest import run_in_process

    data = np.arange(64, dtype=np.uint8).reshape(8, 8)
    np.save(tmp_path / "x.npy", data)
    for fmt in ZARR_FORMATS:
        store = make_zarr(tmp_path / f"kept{fmt}.zarr", data, (4, 4), fmt)
        (store / "notes.txt").write_text("important")
        r = run_in_process("convolve", "x.npy", "-k", "box:3", "-o", store.name, "--force", cwd=tmp_path)
        assert r.returncode == 4 and "--force replaces only an array store" in r.stderr
        assert (store / "notes.txt").read_text() == "important"
        plain = make_zarr(tmp_path / f"plain{fmt}.zarr", data, (4, 4), fmt)
        r = run_in_process("convolve", "x.npy", "-k", "box:3", "-o", plain.name, "--force", "-q", cwd=tmp_path)
        assert r.returncode == 0, r.stderr  # a store of its own metadata and chunks is replaced
    source = make_zarr(tmp_path / "in.zarr", data, (4, 4))
    r = run_in_process("convolve", "in.zarr", "-k", "box:3", "-o", "in.zarr/sub.zarr", cwd=tmp_path)
    assert r.returncode == 4 and "is inside the input" in r.stderr and not (source / "sub.zarr").exists()


def test_a_zarr_input_is_told_what_it_can_write_and_takes_an_empty_suffix(tmp_path):
    # tiled audit 3: '-o e.png' from a .zarr input advised 'leave out --tiled/--chunks', neither given
    from conftest import run_in_process

    make_zarr(tmp_path / "in.zarr", np.ones((8, 8), np.float32), (4, 4))
    r = run_in_process("convolve", "in.zarr", "-k", "box:3", "-o", "e.png", cwd=tmp_path)
    assert r.returncode == 2 and "give --out NAME.zarr or --out NAME.npy" in r.stderr and "--tiled" not in r.stderr
    r = run_in_process("convolve", "in.zarr", "-k", "box:3", "--suffix", "", cwd=tmp_path)
    assert r.returncode == 4 and "in.zarr: is the input" in r.stderr  # <stem>.zarr: the input itself, refused


def test_a_zarr_store_in_a_batch_is_refused_or_noted_not_taken_for_an_empty_folder(tmp_path, invoke):
    # the tiled audit: 'in.zarr --out-dir d' was "no supported input files in this folder", and a folder batch
    # holding a store passed it over in silence ("1 ok")
    make_zarr(tmp_path / "in.zarr", np.arange(64, dtype=np.uint8).reshape(8, 8), (4, 4))
    np.save(tmp_path / "u8.npy", np.arange(64, dtype=np.uint8).reshape(8, 8))
    for inputs in (["in.zarr"], ["in.zarr", "u8.npy"]):
        r = invoke("convolve", *inputs, "-k", "sobel_v", "--out-dir", "d")
        assert code(r) == 2 and "in.zarr: a Zarr store is one input, read tile by tile: give it alone" in r.stderr, r.stderr
    (tmp_path / "f").mkdir()
    os.rename(tmp_path / "in.zarr", tmp_path / "f" / "in.zarr")
    os.rename(tmp_path / "u8.npy", tmp_path / "f" / "u8.npy")
    for recursive in ([], ["-r"]):
        r = invoke("convolve", "f", "-k", "sobel_v", "--out-dir", "d", "--force", *recursive)
        assert code(r) == 0 and "not read: f/in.zarr, a Zarr store is one input" in r.stderr, r.stderr


def test_a_missing_protocol_package_named_by_requires_is_named(monkeypatch):
    # the tiled audit: fsspec's 'HTTPFileSystem requires "requests" and "aiohttp"' gave "pip install the package for this protocol"
    import fsspec

    from kernelcli.errors import MissingExtra
    from kernelcli.tiled import urls

    def missing(url):
        raise ImportError('HTTPFileSystem requires "requests" and "aiohttp" to be installed')

    monkeypatch.setattr(fsspec.core, "url_to_fs", missing)
    with pytest.raises(MissingExtra, match="needs requests and aiohttp, which are not installed: pip install requests aiohttp"):
        urls.filesystem("https://example.invalid/in.zarr")


def test_a_local_clusters_workers_print_no_numpy_warning(tmp_path):
    # the tiled audit: an overflow refused in one line was preceded by the workers' "RuntimeWarning: overflow" lines
    pytest.importorskip("distributed")
    np.save(tmp_path / "huge.npy", np.full((20, 20), 3e38, np.float32))
    r = run_cli("convolve", "huge.npy", "-k", "[[1,1,1],[1,1,1],[1,1,1]]", "-o", "b.zarr", "--chunks", "8",
                "--scheduler", "local", "--workers", "1", cwd=tmp_path)
    assert r.returncode == 2 and "overflows float32" in r.stderr and "Warning" not in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr


def test_a_refusals_advice_is_something_not_already_given(tmp_path, invoke):
    # the tiled audit: 'in.zarr -k a -k b -o a.npy' was told to "give --out NAME.npy", a .npy input to "give a
    # Zarr, TIFF or .npy input", and a Zarr input to "write another format than .zarr", which it cannot
    make_zarr(tmp_path / "in.zarr", np.arange(64, dtype=np.uint8).reshape(8, 8), (4, 4))
    np.save(tmp_path / "vz.npy", np.zeros((4, 8, 8), np.float32))
    r = invoke("convolve", "in.zarr", "-k", "sobel_v", "-k", "sobel_h", "-o", "a.npy")
    assert code(r) == 2 and "give --out NAME.zarr" not in r.stderr and "save it as a .npy" in r.stderr, r.stderr
    r = invoke("convolve", "in.zarr", "-k", "sobel_v", "--bias", "1", "-o", "a.zarr")
    assert code(r) == 2 and "another format than .zarr" not in r.stderr and "save it as a .npy" in r.stderr, r.stderr
    r = invoke("convolve", "vz.npy", "--layout", "zyx", "-k", "sobel_v", "--then", "maxpool:2", "-o", "a.zarr")
    assert code(r) == 2 and "give a Zarr, TIFF or .npy input" not in r.stderr and "another format than .zarr" in r.stderr, r.stderr
    # and a Zarr input with --format png was told to 'give --out X.zarr or --out X.npy, or a Zarr input is read ...'
    r = invoke("convolve", "in.zarr", "-k", "sobel_v", "--format", "png")
    assert code(r) == 2 and "--out in_sobel_v.npy; a Zarr input is read tile by tile only" in r.stderr, r.stderr


@pytest.mark.parametrize("command", [["convolve", "-k", "sobel_v"], ["pool", "-f", "2"]])
def test_a_file_the_tiled_path_cannot_read_is_told_so_before_its_output(invoke, command):
    # a text matrix with --chunks was told its default output 'example1_sobel_v.csv is .csv, which the tiled path cannot
    # write (an image format needs ...)', where it prints to stdout and the input is what the tiled path cannot read
    from conftest import SAMPLES

    r = invoke(command[0], str(SAMPLES / "example1.csv"), *command[1:], "--chunks", "512")
    assert code(r) == 2 and "the tiled path reads Zarr stores, TIFF and .npy; this file is none of them" in r.stderr, r.stderr


def test_a_batch_on_a_cluster_whose_workers_run_elsewhere(tmp_path, cluster):
    # audit 205 #2: a batch sent each file's paths as typed; a worker started in another folder (here the test's, not
    # tmp_path) called every input "no such file" (bin/b0.npy), and with absolute inputs every output's folder
    # "does not exist": 0 ok, 7 failed, exit 1.  Its records name the files as typed, as without a cluster.
    (tmp_path / "bin").mkdir()
    for i in range(3):
        np.save(tmp_path / "bin" / f"b{i}.npy", np.random.default_rng(i).random((20, 30)).astype(np.float32))
    np.save(tmp_path / "bin" / "bad.npy", np.zeros((2, 3, 4, 5), np.float32))  # a failure, named as typed
    assert Path.cwd() != tmp_path
    done = run_cli("convolve", "bin", "-k", "box:3", "--out-dir", "bo", "--scheduler", cluster.scheduler_address,
                   "--report", "r.json", cwd=tmp_path)
    alone = run_cli("convolve", "bin", "-k", "box:3", "--out-dir", "bm", "--report", "m.json", cwd=tmp_path)
    assert done.returncode == alone.returncode == 1, (done, alone)
    for i in range(3):
        np.testing.assert_array_equal(np.load(tmp_path / "bo" / f"b{i}_box_3.npy"), np.load(tmp_path / "bm" / f"b{i}_box_3.npy"))
    records = {r["input"]: r for r in json.loads((tmp_path / "r.json").read_text())["items"]}
    alone_records = {r["input"]: r for r in json.loads((tmp_path / "m.json").read_text())["items"]}
    assert sorted(records) == sorted(alone_records) == [f"bin/{n}.npy" for n in ("b0", "b1", "b2", "bad")]
    assert records["bin/bad.npy"]["error"] == alone_records["bin/bad.npy"]["error"].replace("bm/", "bo/")
    assert str(tmp_path) not in done.stderr + done.stdout and "bo/b0_box_3.npy" in done.stdout
