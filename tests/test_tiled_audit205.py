"""Audit 205 (scaling out): an input replaced while a tiled run reads it, an array of a group behind a URL, a TIFF
neither reader takes over the memory cap.

#1: the tiled readers went back to the input's path for every tile, so an input replaced meanwhile (``--force`` onto
a ``.zarr`` or ``.npy``, both published by rename) gave a result half from each input, exit 0.
"""

from __future__ import annotations

import os
import shutil
import threading

import numpy as np
import pytest

from conftest import listing, run_in_process


def _replaced_when_first_read(monkeypatch, reader, path, new):
    """``reader`` (a tiled input's block reader class) has ``path`` replaced by ``new`` (by rename, as ``--force``
    publishes) as its first tile reads it: deterministic, no race."""
    read, lock, done = reader.__getitem__, threading.Lock(), []

    def replaced(self, key):
        with lock:
            if not done:
                done.append(True)
                old = f"{path}.old"
                os.rename(path, old)
                os.rename(new, path)
                shutil.rmtree(old) if os.path.isdir(old) else os.unlink(old)
        return read(self, key)

    monkeypatch.setattr(reader, "__getitem__", replaced)


@pytest.fixture()
def two_inputs(tmp_path):
    np.save(tmp_path / "old.npy", np.random.default_rng(5).standard_normal((64, 64)).astype(np.float32) + 5)
    np.save(tmp_path / "new.npy", np.full((64, 64), 100, np.float32))
    return tmp_path


class TestAnInputReplacedWhileATiledRunReadsIt:
    @pytest.mark.parametrize("suffix", [".zarr", ".npy"])
    def test_refused_naming_it_and_nothing_published(self, two_inputs, monkeypatch, suffix):
        pytest.importorskip("dask")
        pytest.importorskip("zarr")
        from kernelcli.tiled.reading import ChunkReads, NpyReads

        d = two_inputs
        for name in ("old", "new"):  # the same grid and dtype: only the pixels tell them apart
            if suffix == ".zarr":
                assert run_in_process("convolve", f"{name}.npy", "-k", "box:1", "-o", f"{name}.zarr", "-q", cwd=d).returncode == 0
            else:
                shutil.copy(d / f"{name}.npy", d / f"{name}_in.npy")
        src, new = (f"in{suffix}", f"new{suffix}") if suffix == ".zarr" else ("in.npy", "new_in.npy")
        os.rename(d / ("old.zarr" if suffix == ".zarr" else "old_in.npy"), d / src)
        _replaced_when_first_read(monkeypatch, ChunkReads if suffix == ".zarr" else NpyReads, str(d / src), str(d / new))
        before = [p for p in listing(d) if p != new and not p.startswith(new + "/")]
        r = run_in_process("convolve", src, "-k", "box:3", "--chunks", "16", "-o", "out.zarr", "-q", cwd=d)
        assert (r.returncode, r.stderr) == (2, f"error: {src}: changed while it was read: it was replaced (another file "
                                               "under its name) since the run opened it; run again once it is written\n")
        assert not (d / "out.zarr").exists() and not [p for p in os.listdir(d) if ".part" in p or p.startswith(".out")]
        assert sorted(p for p in listing(d) if not p.startswith(src)) == sorted(p for p in before if not p.startswith(src))

    def test_a_nifti_alike(self, tmp_path, monkeypatch):
        pytest.importorskip("dask")
        nib = pytest.importorskip("nibabel")
        from kernelcli.tiled.nifti import NiftiVoxels

        for name, data in (("in", np.random.default_rng(1).random((20, 20, 20))), ("new", np.full((20, 20, 20), 100.0))):
            nib.save(nib.Nifti1Image(data.astype(np.float32), np.eye(4)), str(tmp_path / f"{name}.nii"))
        _replaced_when_first_read(monkeypatch, NiftiVoxels, str(tmp_path / "in.nii"), str(tmp_path / "new.nii"))
        r = run_in_process("convolve", "in.nii", "-k", "box:3vox", "--chunks", "8", "-o", "out.nii", "-q", cwd=tmp_path)
        assert r.returncode == 2 and "error: in.nii: changed while it was read" in r.stderr, r.stderr
        assert not (tmp_path / "out.nii").exists()

    def test_an_input_left_alone_runs(self, two_inputs):
        pytest.importorskip("dask")
        r = run_in_process("convolve", "old.npy", "-k", "box:3", "--chunks", "16", "-o", "out.npy", "-q", cwd=two_inputs)
        assert r.returncode == 0, r.stderr


@pytest.fixture
def url_groups():
    """A ``memory://`` prefix holding ``grp.zarr`` (one array, img) and ``g2.zarr`` (two, a and b); removed afterwards."""
    import uuid

    zarr = pytest.importorskip("zarr")
    fsspec = pytest.importorskip("fsspec")
    pytest.importorskip("dask")
    bucket = f"memory://kernelcli-test-{uuid.uuid4().hex}"
    image = np.arange(1600, dtype=np.float32).reshape(40, 40)
    zarr.open_group(f"{bucket}/grp.zarr", mode="w").create_array("img", shape=(40, 40), chunks=(10, 10), dtype="f4")[:] = image
    g2 = zarr.open_group(f"{bucket}/g2.zarr", mode="w")
    for name in "ab":
        g2.create_array(name, shape=(40, 40), chunks=(10, 10), dtype="f4")[:] = image
    yield bucket, image
    fs, path = fsspec.core.url_to_fs(bucket)
    if fs.exists(path):
        fs.rm(path, recursive=True)


class TestAnArrayOfAGroupBehindAURL:
    """#3: ``memory://grp.zarr/img`` was refused as 'a URL input on the tiled path is a Zarr store (.zarr)', the same
    form as a local path read: stores.is_chunked asked the local disk whether the URL's folder was there."""

    @pytest.mark.parametrize("array", ["grp.zarr/img", "g2.zarr/a"])
    def test_read_as_a_local_path_is(self, url_groups, invoke, array):
        import zarr

        from kernelcli import api, load_kernel

        bucket, image = url_groups
        r = invoke("convolve", f"{bucket}/{array}", "-k", "box:3", "-o", f"{bucket}/out.zarr", "-q")
        assert r.exit_code == 0, r.stderr
        ref = api.conv2d(image, load_kernel("box:3"))
        assert np.array_equal(zarr.open_array(f"{bucket}/out.zarr", mode="r")[:], ref)

    def test_one_not_there_is_no_such_store(self, url_groups, invoke):
        bucket, _ = url_groups
        r = invoke("convolve", f"{bucket}/grp.zarr/nothere", "-k", "box:3", "-o", f"{bucket}/out.zarr")
        assert (r.exit_code, r.stderr) == (2, f"error: {bucket}/grp.zarr/nothere: no such store\n")


class TestATiffNeitherReaderTakesOverTheCap:
    """#4: a TIFF over KERNELCLI_MAX_MEMORY that neither reader takes (Orientation 6 on a page not square) was refused
    for memory, advising to raise the cap, which then met the in-memory reader's refusal: now its own refusal first."""

    def test_refused_for_what_it_is_not_for_memory(self, tmp_path):
        tifffile = pytest.importorskip("tifffile")
        tifffile.imwrite(tmp_path / "orient.tif", np.zeros((203, 317), np.uint8), extratags=[(274, 3, 1, 6, False)])
        r = run_in_process("convolve", "orient.tif", "-k", "box:3", "-o", "or.npy", cwd=tmp_path,
                           env={"KERNELCLI_MAX_MEMORY": "100K"})
        assert (r.returncode, r.stderr) == (2, "error: orient.tif: Orientation 6 (a turned or mirrored image): neither the "
                                               "tiled path nor the in-memory reader reads it; save it without the "
                                               "Orientation tag, or as PNG or .npy\n")
        assert listing(tmp_path) == ["orient.tif"]

    def test_one_the_in_memory_reader_takes_is_still_refused_for_memory(self, tmp_path):
        tifffile = pytest.importorskip("tifffile")
        tifffile.imwrite(tmp_path / "square.tif", np.zeros((300, 300), np.uint8), extratags=[(274, 3, 1, 6, False)])
        r = run_in_process("convolve", "square.tif", "-k", "box:3", "-o", "sq.npy", cwd=tmp_path,
                           env={"KERNELCLI_MAX_MEMORY": "100K"})
        assert r.returncode == 2 and "more than the 100.0 KiB allowed" in r.stderr, r.stderr
