"""Audit 189: tiled outputs and inputs under a full disk, a file cut short, a folder removed, a store that would not go.

#1: a tiled ``.npy`` or ``.nii`` output was filled through a memory map of a sparse temporary file, so a full disk was a
SIGBUS (exit 135, no message, no --report, the ``.part`` left filling the disk): its blocks are now reserved up front.
"""

from __future__ import annotations

import errno
import json
import os
import subprocess

import numpy as np
import pytest

from conftest import listing, run_cli, run_in_process


@pytest.fixture()
def u8(tmp_path):
    np.save(tmp_path / "u8.npy", (np.random.default_rng(0).random((300, 300)) * 255).astype(np.uint8))
    return tmp_path


def _no_room(monkeypatch, code=errno.ENOSPC):
    def full(fd, offset, length):
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(os, "posix_fallocate", full, raising=False)


def _removed_when_read(monkeypatch, reader):
    """``reader`` (a tiled input's block reader, its file at ``.path``) removes its file as a tile reads it."""
    import contextlib

    read = reader.__getitem__

    def removed(self, key):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)
        return read(self, key)

    monkeypatch.setattr(reader, "__getitem__", removed)


class TestATiledFileOutputOnAFullDisk:
    @pytest.mark.parametrize("how", [["--tiled"], ["--chunks", "128"]], ids=["tiled", "chunks"])
    def test_a_npy_is_a_write_failure_with_its_report_and_no_part(self, u8, monkeypatch, how):
        pytest.importorskip("dask")
        _no_room(monkeypatch)
        r = run_in_process("convolve", "u8.npy", "-k", "box:3", "-o", "t.npy", *how, "--report", "r.json", "-q", cwd=u8)
        line = "t.npy: write failed: No space left on device; the destination is untouched"
        assert (r.returncode, r.stderr) == (1, f"error: {line}\n")
        item = json.loads((u8 / "r.json").read_text())["items"][0]
        assert (item["code"], item["error"]) == (1, line)
        assert listing(u8) == ["r.json", "u8.npy"]  # no .t.npy.*.part

    def test_the_automatic_switch_to_tiled_alike(self, u8, monkeypatch):
        pytest.importorskip("dask")
        _no_room(monkeypatch)
        r = run_in_process("convolve", "u8.npy", "-k", "box:3", "-o", "auto.npy", "-q", cwd=u8,
                           env={"KERNELCLI_MAX_MEMORY": "200K"})
        assert (r.returncode, r.stderr) == (1, "error: auto.npy: write failed: No space left on device; "
                                               "the destination is untouched\n")
        assert listing(u8) == ["u8.npy"]

    def test_a_nii_alike(self, tmp_path, monkeypatch):
        nib = pytest.importorskip("nibabel")
        pytest.importorskip("dask")
        nib.save(nib.Nifti1Image(np.random.default_rng(1).random((30, 30, 30)).astype(np.float32), np.eye(4)),
                 str(tmp_path / "v.nii"))
        _no_room(monkeypatch)
        r = run_in_process("convolve", "v.nii", "-k", "gaussian:1mm", "-o", "vt.nii", "--tiled", "-q", cwd=tmp_path)
        assert (r.returncode, r.stderr) == (1, "error: vt.nii: write failed: No space left on device; "
                                               "the destination is untouched\n")
        assert listing(tmp_path) == ["v.nii"]

    def test_a_file_too_large_is_a_write_failure_not_the_folders(self, u8):
        pytest.importorskip("dask")
        import resource
        import sys

        def small_files():  # (Python ignores SIGXFSZ: a write past the limit fails with EFBIG)
            resource.setrlimit(resource.RLIMIT_FSIZE, (50 * 1024, 50 * 1024))

        import kernelcli

        here = os.path.dirname(os.path.dirname(os.path.abspath(kernelcli.__file__)))
        env = {**os.environ, "KERNELCLI_WORKER": "off", "PYTHONPATH": here}
        np.save(u8 / "big.npy", np.zeros((400, 400)))
        r = subprocess.run([sys.executable, "-P", "-m", "kernelcli", "convolve", "big.npy", "-k", "box:3", "-o", "t.npy",
                            "--tiled", "-q"], cwd=u8, env=env, capture_output=True, text=True, preexec_fn=small_files,
                           timeout=120)
        assert (r.returncode, r.stderr) == (1, "error: t.npy: write failed: File too large; the destination is untouched\n")
        assert listing(u8) == ["big.npy", "u8.npy"]

    def test_on_a_real_full_tmpfs(self, u8):
        """Where this process may mount a tmpfs (root): the disk full for real, which was a SIGBUS (exit 135)."""
        pytest.importorskip("dask")
        small = u8 / "small"
        small.mkdir()
        if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1M", "tmpfs", str(small)],
                                               capture_output=True).returncode != 0:
            pytest.skip("cannot mount a tmpfs here")
        try:
            (small / "fill").write_bytes(b"\0" * 900 * 1024)
            r = run_cli("convolve", "u8.npy", "-k", "box:3", "-o", "small/t.npy", "--tiled", "-q", cwd=u8,
                        env={"KERNELCLI_WORKER": "off"})
            assert (r.returncode, r.stderr) == (1, "error: small/t.npy: write failed: No space left on device; "
                                                   "the destination is untouched\n")
            assert listing(small) == ["fill"]
        finally:
            subprocess.run(["umount", str(small)], check=True)


class TestANiiInputCutShortDuringATiledRun:
    """#3: a ``.nii`` cut short after its header was checked was 'internal error: ValueError: mmap length is greater
    than file size', exit 70 (report code 70), where a ``.npy`` so cut gets exit 2 naming the file."""

    def test_it_is_a_bad_input_naming_the_file_with_its_report(self, tmp_path, monkeypatch):
        nib = pytest.importorskip("nibabel")
        pytest.importorskip("dask")
        from kernelcli.tiled import nifti

        nib.save(nib.Nifti1Image(np.random.default_rng(2).random((40, 40, 40)).astype(np.float32), np.eye(4)),
                 str(tmp_path / "v.nii"))
        read = nifti.NiftiVoxels.__getitem__

        def cut_first(self, key):  # the file is cut short once the run has started
            os.truncate(self.path, 30000)
            return read(self, key)

        monkeypatch.setattr(nifti.NiftiVoxels, "__getitem__", cut_first)
        r = run_in_process("convolve", "v.nii", "-k", "gaussian:1mm", "-o", "vt.nii", "--chunks", "16",
                           "--report", "r.json", "-q", cwd=tmp_path)
        line = ("v.nii: cannot read the voxel data: the file has 30000 bytes, its header needs 256352 "
                "(truncated file, or changed while it was read?)")
        assert (r.returncode, r.stderr) == (2, f"error: {line}\n")
        item = json.loads((tmp_path / "r.json").read_text())["items"][0]
        assert (item["code"], item["error"]) == (2, line)
        assert listing(tmp_path) == ["r.json", "v.nii"]

    def test_a_removed_one_is_not_blamed_on_a_cluster_alone(self, tmp_path, monkeypatch):
        nib = pytest.importorskip("nibabel")
        pytest.importorskip("dask")
        from kernelcli.tiled import nifti

        nib.save(nib.Nifti1Image(np.zeros((20, 20, 20), np.float32), np.eye(4)), str(tmp_path / "v.nii"))
        _removed_when_read(monkeypatch, nifti.NiftiVoxels)
        r = run_in_process("convolve", "v.nii", "-k", "gaussian:1mm", "-o", "vt.nii", "--tiled", "-q", cwd=tmp_path)
        assert (r.returncode, r.stderr) == (2, "error: v.nii: not found where a tile is computed: removed while it was "
                                               "read, or, on a cluster, not on a file system its workers share\n")


class TestAZarrOutputRemovedDuringALocalRun:
    """#8: a ``.zarr`` output whose folder was removed during a run in this process was '36 of 36 tiles were not
    written: their worker does not see /abs/dz/.o.zarr.xxxx.part (the workers of a cluster need ...)'."""

    @pytest.mark.parametrize("what, words", [("folder", "the folder dz was removed"),
                                             ("store", "its temporary store was removed")])
    def test_it_says_what_was_removed_not_a_cluster(self, tmp_path, monkeypatch, what, words):
        pytest.importorskip("dask")
        pytest.importorskip("zarr")
        import shutil

        from kernelcli.tiled import writers

        np.save(tmp_path / "a.npy", np.arange(64 * 64, dtype=np.float32).reshape(64, 64))
        (tmp_path / "dz").mkdir()
        write = writers._write_block

        def removing(block, target, region, marker=None):  # (one tile: nothing else may write meanwhile)
            shutil.rmtree(os.path.dirname(os.path.dirname(marker)) if what == "folder" else os.path.dirname(marker))
            return write(block, target, region, marker)

        monkeypatch.setattr(writers, "_write_block", removing)
        r = run_in_process("convolve", "a.npy", "-k", "box:3", "-o", "dz/o.zarr", "--chunks", "64", "--report", "r.json",
                           "-q", cwd=tmp_path)
        line = f"dz/o.zarr: write failed: {words} while the result was written; the destination is untouched"
        assert (r.returncode, r.stderr) == (1, f"error: {line}\n")
        assert json.loads((tmp_path / "r.json").read_text())["items"][0]["error"] == line
        assert listing(tmp_path) == (["a.npy", "r.json"] if what == "folder" else ["a.npy", "dz", "r.json"])

    def test_a_store_this_process_sees_keeps_the_cluster_words(self, tmp_path):
        from pathlib import Path

        from kernelcli.errors import WriteError
        from kernelcli.tiled.writers import UNWRITTEN, check_written

        with pytest.raises(WriteError, match=r"o.zarr: 1 of 2 tiles were not written: their worker does not see .*"
                                             r"the workers of a cluster"):
            check_written([UNWRITTEN, (0, 1)], Path("o.zarr"), tmp_path)


class TestAFailedZarrWriteLeavesNoStore:
    """#9: under 'ulimit -n 6' a tiled ``.zarr`` write failed ('write failed: Too many open files') and left its hidden
    ``.zn.zarr.<run>.<random>.part``: shutil.rmtree needs descriptors to list the store, it had none (zarr's event
    loop keeps three), and its errors were swallowed."""

    def test_the_store_goes_where_no_folder_can_be_listed(self, tmp_path, monkeypatch):
        pytest.importorskip("dask")
        pytest.importorskip("zarr")
        import shutil

        from kernelcli.tiled import writers

        np.save(tmp_path / "a.npy", np.arange(64 * 64, dtype=np.float32).reshape(64, 64))
        rmtree, write = shutil.rmtree, writers._write_block

        def no_descriptors(path, ignore_errors=False, onerror=None, **kw):  # (as rmtree does with none to spare)
            if str(path).endswith(".part"):
                if not ignore_errors:
                    raise OSError(errno.EMFILE, os.strerror(errno.EMFILE))
                return
            rmtree(path, ignore_errors=ignore_errors, onerror=onerror, **kw)

        def last_fails(block, target, region, marker=None):  # every tile written, the last one then fails
            got = write(block, target, region, marker)
            if region[0].start == 48 and region[1].start == 48:
                raise OSError(errno.EMFILE, os.strerror(errno.EMFILE))
            return got

        monkeypatch.setattr(shutil, "rmtree", no_descriptors)
        monkeypatch.setattr(writers, "_write_block", last_fails)
        r = run_in_process("convolve", "a.npy", "-k", "box:3", "-o", "zn.zarr", "--chunks", "16", "-q", cwd=tmp_path)
        assert (r.returncode, r.stderr) == (1, "error: zn.zarr: write failed: Too many open files; the destination is "
                                               "untouched\n")
        assert listing(tmp_path) == ["a.npy"]


class TestAnInputRemovedDuringALocalRun:
    """#8 for inputs: a ``.npy`` (or Zarr store) removed during a run in this process was
    '/abs/in_rm.npy: not found where a tile is computed: the workers of a cluster need the inputs and outputs on a file
    system they share', exit 2: the absolute path, and a cluster the run did not use."""

    GONE = ("not found where a tile is computed: removed while it was read, or, on a cluster, not on a file system its "
            "workers share")

    def test_a_npy_is_named_as_given_and_the_removal_said(self, tmp_path, monkeypatch):
        pytest.importorskip("dask")
        from kernelcli.tiled import reading

        np.save(tmp_path / "a.npy", np.zeros((64, 64), np.float32))
        _removed_when_read(monkeypatch, reading.NpyReads)
        r = run_in_process("convolve", "a.npy", "-k", "box:3", "-o", "o.npy", "--tiled", "-q", cwd=tmp_path)
        assert (r.returncode, r.stderr) == (2, f"error: a.npy: {self.GONE}\n")

    def test_a_zarr_store_alike(self, tmp_path):
        pytest.importorskip("dask")
        zarr = pytest.importorskip("zarr")
        import shutil

        from kernelcli.errors import ImageReadError
        from kernelcli.tiled import stores

        zarr.open_array(str(tmp_path / "in.zarr"), mode="w", shape=(8, 8), chunks=(4, 4), dtype="f4")[:] = 1
        x = stores.open_array(tmp_path / "in.zarr")[0]
        shutil.rmtree(tmp_path / "in.zarr")
        with pytest.raises(ImageReadError, match=f"in.zarr: {self.GONE}"):
            x.compute()
