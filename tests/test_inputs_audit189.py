"""Audit 189 #2: an input cut short while it was read killed the call with SIGBUS (exit 135, no message, no --report):
an in-memory ``.npy`` was copied out of a memory map of the file, and an uncompressed NIfTI was filtered straight from
nibabel's map.  Both are now read into memory by ordinary reads: a short read is exit 2 naming the file.

Each run is a child process (a SIGBUS would end the test process itself), whose reader is wrapped to cut the
file short at the moment the audit's timing hit."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import kernelcli

ROOT = str(Path(kernelcli.__file__).resolve().parent.parent)


def _run_cut_short(tmp_path: Path, patch: str, *args: str) -> subprocess.CompletedProcess:
    """``python -m kernelcli ARGS`` in ``tmp_path``, with ``patch`` (Python source) run first."""
    driver = tmp_path / "drive.py"
    driver.write_text(textwrap.dedent(patch) + "\nimport runpy, sys\nsys.argv = ['kernelcli', *sys.argv[1:]]\n"
                      "runpy.run_module('kernelcli', run_name='__main__', alter_sys=True)\n")
    env = dict(os.environ, KERNELCLI_WORKER="off", PYTHONPATH=ROOT)
    return subprocess.run([sys.executable, "-P", str(driver), *args], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=300)


def test_a_npy_cut_short_after_its_header_is_mapped_is_exit_2_naming_it(tmp_path):
    np.save(tmp_path / "in_tr.npy", np.random.default_rng(0).random((100, 100)))  # 80128 bytes: 20 pages
    r = _run_cut_short(tmp_path, """
        import os
        import kernelcli.io.arrays as arrays
        mapped_only = arrays.map_npy

        def map_then_cut(p):
            mapped = mapped_only(p)
            os.truncate(p, 5000)  # as a copy or a truncate(1) between the header check and the data
            return mapped

        arrays.map_npy = map_then_cut
        """, "convolve", "in_tr.npy", "-k", "box:3", "-o", "tr.npy", "--report", "r.json")
    line = "in_tr.npy: the file was cut short while it was read (5000 of 80128 bytes)"
    assert (r.returncode, r.stderr) == (2, f"error: {line}\n")
    record = json.loads((tmp_path / "r.json").read_text())["items"][0]
    assert (record["code"], record["error"]) == (2, line)
    assert not (tmp_path / "tr.npy").exists()


def test_a_nifti_cut_short_while_it_is_filtered_is_not_read_from_the_file(tmp_path):
    nib = pytest.importorskip("nibabel")
    data = np.random.default_rng(1).random((40, 40, 30)).astype(np.float32)
    nib.save(nib.Nifti1Image(data, np.eye(4)), tmp_path / "in_bt.nii")
    nib.save(nib.Nifti1Image(data, np.eye(4)), tmp_path / "whole.nii")
    r = _run_cut_short(tmp_path, """
        import os
        import kernelcli.medical.nifti as nifti
        read_only = nifti.read_nifti

        def read_then_cut(p, **kw):
            vol = read_only(p, **kw)
            if os.path.basename(p) == "in_bt.nii":
                os.truncate(p, 1000)  # the voxels are read: the filter must not reach back into the file
            return vol

        nifti.read_nifti = read_then_cut
        """, "volume", "in_bt.nii", "-k", "box:3vox", "-o", "bt.nii.gz", "-q")
    assert r.returncode == 0, r.stderr
    from kernelcli.medical import read_nifti

    kept = read_nifti(tmp_path / "bt.nii.gz").data  # the result of the whole file, as read before it was cut
    assert kept.shape == (30, 40, 40)
    r = _run_cut_short(tmp_path, "", "volume", "whole.nii", "-k", "box:3vox", "-o", "whole.nii.gz", "-q")
    assert r.returncode == 0, r.stderr
    assert np.array_equal(kept, read_nifti(tmp_path / "whole.nii.gz").data)


def test_a_npy_cut_short_while_a_tile_is_read_is_exit_2_naming_it(tmp_path):
    pytest.importorskip("dask")
    np.save(tmp_path / "in_t.npy", np.random.default_rng(2).random((300, 200)))  # 480128 bytes
    r = _run_cut_short(tmp_path, """
        import os, sys
        import numpy as np
        load, cut = np.load, []

        def load_then_cut(path, *args, **kw):
            mapped = load(path, *args, **kw)
            caller = sys._getframe(1)
            if caller.f_code.co_name == "__getitem__" and not cut and all(
                    k.stop is None or k.stop > (k.start or 0) for k in caller.f_locals["key"]):  # a tile (no meta read)
                cut.append(os.truncate(path, 5000))
            return mapped

        np.load = load_then_cut
        """, "convolve", "in_t.npy", "-k", "box:3", "-o", "t.npy", "--tiled", "--report", "r.json")
    line = "in_t.npy: the file was cut short while it was read (5000 of 480128 bytes)"
    assert r.returncode == 2, (r.returncode, r.stderr)  # (-7 was the SIGBUS)
    assert r.stderr.splitlines()[-1] == f"error: {line}", r.stderr
    record = json.loads((tmp_path / "r.json").read_text())["items"][0]
    assert (record["code"], record["error"]) == (2, line)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["drive.py", "in_t.npy", "r.json"]


def test_a_nii_cut_short_while_a_tiled_run_reads_a_slab_is_exit_2_naming_it(tmp_path):
    """The tiled NIfTI reader copied each slab out of a fresh memory map: a file cut short once mapped was a SIGBUS
    (-7).  The driver cuts the file at whichever moment the reader reaches first: its map, or its first read."""
    nib = pytest.importorskip("nibabel")
    pytest.importorskip("dask")
    nib.save(nib.Nifti1Image(np.random.default_rng(3).random((40, 40, 40)).astype(np.float32), np.eye(4)),
             str(tmp_path / "in_v.nii"))  # 256352 bytes
    r = _run_cut_short(tmp_path, """
        import os, sys
        import numpy as np
        memmap, preadv, cut = np.memmap, os.preadv, []

        def cut_once(path):
            if not cut and str(path).endswith("in_v.nii"):
                cut.append(os.truncate(path, 30000))

        class CutOnceMapped(memmap):
            def __new__(cls, path, *args, **kw):
                mapped = memmap.__new__(cls, path, *args, **kw)
                key = sys._getframe(1).f_locals.get("key", ())
                if all(k.stop is None or k.stop > (k.start or 0) for k in key):  # a slab, not dask's empty meta read
                    cut_once(path)
                return mapped

        def read_then_cut(fd, buffers, offset):
            cut_once(os.readlink(f"/proc/self/fd/{fd}"))
            return preadv(fd, buffers, offset)

        np.memmap, os.preadv = CutOnceMapped, read_then_cut
        """, "convolve", "in_v.nii", "-k", "gaussian:1mm", "-o", "vt.nii", "--chunks", "16", "--report", "r.json")
    assert r.returncode == 2, (r.returncode, r.stderr)  # (-7 was the SIGBUS)
    line = r.stderr.splitlines()[-1]
    # (the tile read when the file is cut says 'cut short while it was read'; a tile starting after it, on another
    # thread, 'the file has 30000 bytes, its header needs ...': either may come first)
    assert line.startswith("error: in_v.nii: ") and ("cut short" in line or "the file has 30000 bytes" in line), r.stderr
    record = json.loads((tmp_path / "r.json").read_text())["items"][0]
    assert (record["code"], "error: " + record["error"]) == (2, line)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["drive.py", "in_v.nii", "r.json"]
