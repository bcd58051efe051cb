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


def test_tiled_tiff_to_npy_and_clip_to_uint8(image, tmp_path, invoke):
    tifffile = pytest.importorskip("tifffile")
    folder, x = image
    tifffile.imwrite(tmp_path / "x.tif", x, tile=(32, 32))
    ok(invoke("convolve", str(tmp_path / "x.tif"), "-k", "sharpen", "--tiled", "--rescale", "clip", "-o", str(tmp_path / "o.npy")))
    ref = in_memory(invoke, folder, "convolve", "-k", "sharpen", "--rescale", "none")
    assert np.array_equal(np.load(tmp_path / "o.npy"), np.clip(np.rint(ref), 0, 255).astype(np.uint8))


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
