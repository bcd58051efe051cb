"""Audit 133: the tiled path's default tile, and its notes and refusals.

#1: the default tile side was 1024 on every axis, so a volume under 1024 a side sent tile by tile (by the memory
cap, or --tiled without --chunks) ran as one tile, the whole volume: its peak (403 MB for a 288^3 int16 .nii under
KERNELCLI_MAX_MEMORY=100M) above the in-memory run it replaced (326 MB).  The default tile now holds at most
1024x1024 cells (and 32 MiB) whatever the rank; results stay byte-identical."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

pytest.importorskip("dask")
nib = pytest.importorskip("nibabel")


def _volume(shape=(40, 120, 130), seed=0):
    return np.random.default_rng(seed).integers(-1000, 2000, shape).astype(np.int16)


def test_a_volume_default_tile_is_bounded_in_cells_and_bytes():
    import dask.array as da

    from kernelcli.tiled import arrays

    v = _volume((140, 150, 160))  # 3.4M cells, under 1024 a side: one tile before
    result = arrays.correlate_separable(da.from_array(v, chunks=v.shape), ([1, 1, 1], [1, 1, 1], None))
    assert math.prod(result.numblocks) > 1, result.chunks
    assert max(math.prod(c) for c in zip(*(chunk for chunk in result.chunks))) <= arrays.TILE_CELLS
    from kernelcli import volumes

    assert result.compute().tobytes() == volumes.correlate_separable(v, ([1, 1, 1], [1, 1, 1], None)).tobytes()


def test_the_2d_default_tile_stays_1024_a_side():
    from kernelcli.tiled.arrays import default_tile

    assert default_tile([1024, 1024], [True, True], 8) == [1024, 1024]
    assert default_tile([1024, 1024, 3], [True, True, False], 8) == [1024, 1024, 3]  # 24 MiB: under 32
    assert default_tile([288, 288, 288], [True] * 3, 4) == [72, 72, 144]


def test_a_nii_over_the_cap_goes_in_several_tiles_equal_to_memory(tmp_path):
    from conftest import run_in_process

    from kernelcli.tiled import nifti

    v = _volume((130, 120, 90))  # (i, j, k): 1.4M voxels, a 14 MB job
    img = nib.Nifti1Image(v, np.diag([0.9, 0.9, 1.0, 1]))
    img.header.set_xyzt_units("mm")
    nib.save(img, tmp_path / "v.nii")
    voxels, _ = nifti.open_volume(tmp_path / "v.nii")
    chunks = nifti.dask_volume(voxels).chunks
    assert len(chunks[0]) * len(chunks[1]) * len(chunks[2]) > 1, chunks
    mem = run_in_process("convolve", "v.nii", "-k", "box:3vox", "-o", "m.nii", "--json", cwd=tmp_path)
    tiled = run_in_process("convolve", "v.nii", "-k", "box:3vox", "-o", "t.nii", "--json", cwd=tmp_path,
                           env={"KERNELCLI_MAX_MEMORY": "2M"})
    assert mem.returncode == 0 and tiled.returncode == 0, (mem.stderr, tiled.stderr)
    assert any("read tile by tile" in n for n in json.loads(tiled.stdout)["notes"]), tiled.stdout
    assert (tmp_path / "m.nii").read_bytes() == (tmp_path / "t.nii").read_bytes()


def test_a_zyx_npy_over_the_cap_is_cut_into_tiles(tmp_path, monkeypatch):
    from conftest import run_in_process

    from kernelcli.tiled import arrays, files

    v = _volume((60, 150, 160))  # 1.44M cells: over 1024x1024
    np.save(tmp_path / "v.npy", v)
    np.save(tmp_path / "k.npy", np.ones((3, 3, 3), np.float32) / 27)
    monkeypatch.setattr(files, "MANY_TILES", 0)
    tiled = run_in_process("convolve", "v.npy", "--layout", "zyx", "-k", "k.npy", "-o", "t.npy", "--json", cwd=tmp_path,
                           env={"KERNELCLI_MAX_MEMORY": "5M"})
    assert tiled.returncode == 0, tiled.stderr
    said = [n for n in json.loads(tiled.stdout)["notes"] if "tiles of" in n]
    assert said and not said[0].startswith("1 tiles"), said
    mem = run_in_process("convolve", "v.npy", "--layout", "zyx", "-k", "k.npy", "-o", "m.npy", cwd=tmp_path)
    assert mem.returncode == 0, mem.stderr
    assert np.load(tmp_path / "t.npy").tobytes() == np.load(tmp_path / "m.npy").tobytes()
    assert arrays.TILE_CELLS == 1024 * 1024


def _v20(tmp_path):
    v = np.random.default_rng(0).integers(-100, 1000, (20, 20, 20)).astype(np.int16)
    nib.save(nib.Nifti1Image(v, np.diag([0.8, 0.9, 1.2, 1])), tmp_path / "v20.nii")
    np.save(tmp_path / "v20.npy", v.T.copy())  # (Z, Y, X) as the .nii is read
    np.save(tmp_path / "box3.npy", np.ones((3, 3, 3), np.float32) / 27)


def _tiles_said(done):
    assert done.returncode == 0, done.stderr
    return [n for n in json.loads(done.stdout)["notes"] if "tiles of" in n]


@pytest.mark.parametrize("command", [["convolve", "-k", "box_3d"], ["pool", "-f", "2"]])
def test_the_nii_tiled_path_says_many_tiles_as_the_npy_path_does(tmp_path, monkeypatch, command):
    """#2: the note was added on the files' tiled path only; a .nii convolve or pool never gave it."""
    from conftest import run_in_process

    from kernelcli.tiled import files

    _v20(tmp_path)
    monkeypatch.setattr(files, "MANY_TILES", 11)
    name, *rest = command
    if name == "convolve":
        npy = run_in_process(name, "v20.npy", "--layout", "zyx", "-k", "box3.npy", "--chunks", "6", "-o", "a.npy", "--json",
                             cwd=tmp_path)
    else:
        npy = run_in_process(name, "v20.npy", "--layout", "zyx", *rest, "--chunks", "6", "-o", "a.npy", "--json", cwd=tmp_path)
    nii = run_in_process(name, "v20.nii", *rest, "--chunks", "6", "-o", "a.nii", "--json", cwd=tmp_path)
    said_npy, said_nii = _tiles_said(npy), _tiles_said(nii)
    assert len(said_nii) == 1 and said_nii == said_npy, (said_nii, said_npy)


@pytest.mark.parametrize("args, tile", [
    (["pool", "rgb.npy", "--layout", "hwc", "-f", "2", "--chunks", "20"], "20x20"),
    (["convolve", "g.npy", "-k", "box:3", "-s", "2", "--chunks", "20"], "20x20"),
    (["pool", "v20.npy", "--layout", "zyx", "-f", "2", "--chunks", "6"], "6x6x6"),
    (["pool", "v20.nii", "-f", "2", "--chunks", "6"], "6x6x6"),
])
def test_the_many_tiles_note_names_the_input_tile_asked(tmp_path, monkeypatch, args, tile):
    """#4: the note gave the output tile ("35 tiles of 10x10x3" for --chunks 20 under a pool of 2), the channel
    axis counted as a side: raising --chunks to 16 on reading "10x10" made the tiles smaller."""
    from conftest import run_in_process

    from kernelcli.tiled import files

    _v20(tmp_path)
    rng = np.random.default_rng(1)
    np.save(tmp_path / "rgb.npy", rng.integers(0, 255, (100, 140, 3)).astype(np.uint8))
    np.save(tmp_path / "g.npy", rng.integers(0, 255, (100, 140)).astype(np.uint8))
    monkeypatch.setattr(files, "MANY_TILES", 11)
    out = "o.nii" if args[1].endswith(".nii") else "o.npy"
    said = _tiles_said(run_in_process(*args, "-o", out, "--json", cwd=tmp_path))
    assert len(said) == 1 and f" tiles of {tile} input cells:" in said[0], said


@pytest.mark.parametrize("command", [["convolve", "g.npy", "-k", "box:3"], ["pool", "g.npy", "-f", "2"], ["pad", "g.npy", "-p", "1"]])
@pytest.mark.parametrize("value", ["0", "0x5", "5,", "inf"])
def test_a_bad_chunks_is_refused_as_every_bad_option_value(tmp_path, command, value):
    """#3: --chunks was read in the run, after the kernel: "--chunks '0': expected ...", exit 3 for an unknown kernel
    beside it, and a --json record naming the input as if the file had failed; --stride 0 is refused by its parser."""
    from conftest import run_in_process

    np.save(tmp_path / "g.npy", np.zeros((8, 8), np.float32))
    done = run_in_process(*command, "-o", "c.npy", "--chunks", value, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith(f"error: Invalid value for '--chunks': '{value}': expected a tile side such as 1024"), done.stderr
    record = json.loads(run_in_process(*command, "-o", "c.npy", "--chunks", value, "--json", cwd=tmp_path).stdout)
    assert record["input"] is None and record["status"] == "failed", record


def test_a_bad_chunks_comes_before_the_kernel(tmp_path):
    from conftest import run_in_process

    np.save(tmp_path / "g.npy", np.zeros((8, 8), np.float32))
    done = run_in_process("convolve", "g.npy", "-k", "nosuch", "--chunks", "0", cwd=tmp_path)
    assert done.returncode == 2 and "Invalid value for '--chunks'" in done.stderr, done.stderr


@pytest.mark.parametrize("args", [["convolve", "v20.nii", "-k", "box_3d"], ["pool", "v20.nii", "-f", "2"],
                                  ["convolve", "v20.npy", "--layout", "zyx", "-k", "box3.npy"]])
def test_too_many_chunk_sides_are_refused_in_one_wording(tmp_path, args):
    """#3: the .nii convolve's refusal did not name the file; pool's and the .npy's did."""
    from conftest import run_in_process

    _v20(tmp_path)
    out = "q.nii" if args[1].endswith(".nii") else "q.npy"
    done = run_in_process(*args, "--chunks", "5,5,5,5", "-o", out, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert done.stderr == (f"error: {args[1]}: --chunks 5,5,5,5: 4 sides, but this input is cut along 3 axes; "
                           "give one side, or one per axis\n"), done.stderr


def test_a_dask_array_of_unknown_chunk_sizes_is_refused_naming_compute_chunk_sizes():
    """#5: it was refused as "input size must be an integer >= 1, got nan"."""
    import dask.array as da

    import kernelcli
    from kernelcli.errors import UsageError

    a = np.random.default_rng(0).standard_normal((37, 29)).astype(np.float32)
    x = da.from_array(a, chunks=5)[da.from_array(np.ones(37, bool), chunks=5)]
    for call in (lambda: kernelcli.conv2d(x, np.ones((3, 3))), lambda: kernelcli.pool2d(x, 2)):
        with pytest.raises(UsageError, match=r"chunk sizes are unknown .*x\.compute_chunk_sizes\(\)"):
            call()
    assert kernelcli.conv2d(x.compute_chunk_sizes(), np.ones((3, 3))).compute().tobytes() == \
        kernelcli.conv2d(a, np.ones((3, 3))).tobytes()


def test_a_2d_nifti_on_the_tiled_path_is_named_in_the_records_order(tmp_path):
    """#5: "a 2-D image (30x25)" was nibabel's (x, y); the record and the in-memory summary say [1, 25, 30]."""
    from conftest import run_in_process

    nib.save(nib.Nifti1Image(np.zeros((30, 25), np.int16), np.eye(4)), tmp_path / "s2.nii")
    done = run_in_process("convolve", "s2.nii", "-k", "gaussian:1vox", "--tiled", "-o", "t.npy", cwd=tmp_path)
    assert done.returncode == 2 and "a 2-D image (1x25x30 as (Z, Y, X)): its header has no slice axis" in done.stderr, done.stderr
    mem = run_in_process("convolve", "s2.nii", "-k", "gaussian:1vox", "-o", "m.npy", "--json", cwd=tmp_path)
    assert mem.returncode == 0 and json.loads(mem.stdout)["input_shape"] == [1, 25, 30], mem.stdout
    # review 52 #5: the refusal said "one slice", but a one-slice volume whose header has the axis runs tiled
    nib.save(nib.Nifti1Image(np.zeros((30, 25, 1, 1), np.int16), np.eye(4)), tmp_path / "s4.nii")
    one = run_in_process("convolve", "s4.nii", "-k", "gaussian:1vox", "--tiled", "-o", "t4.npy", "-q", cwd=tmp_path)
    assert one.returncode == 0 and np.load(tmp_path / "t4.npy").shape == (1, 25, 30), one.stderr
