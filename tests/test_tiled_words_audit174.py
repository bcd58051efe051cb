"""Audit 174: the tiled path's words (round 9).

#1: ``--chunks`` of 3 or more sides on an input with a channel axis (an RGB image, a (Z, Y, X) volume filtered
slice by slice) was refused twice over: 4 sides "cut along 3 axes", then 3 sides "cut along 2 axes", the second
without the file's name.  One refusal now, naming the file, counting the axes really cut.

#3: a TIFF the tiled path cannot read (float64 greyscale) was refused with "or leave out --tiled/--chunks" (or
"write another format than .zarr"), and following that gave the in-memory reader's refusal: neither reads it.
The way out is offered only where the in-memory reader takes the file.

#4: gallery and learn given a Zarr store (or an array in one) said "not a regular file (a directory)", as if the
path were a mistake: they name the store now, and what reads it.

#5: the tiled note named an array of a group by its last part: "note: img: Zarr, read tile by tile"; it is named
from the store on, "grp.zarr/img", as the user gave it."""

from __future__ import annotations

import numpy as np
import pytest


def _refusal(sides: str, axes: int, name: str) -> str:
    count = len(sides.split(","))
    return (f"error: {name}: --chunks {sides}: {count} sides, but this input is cut along {axes} axes; "
            "give one side, or one per axis\n")


@pytest.mark.parametrize("args", [["convolve", "rgb.npy", "-k", "box:3"], ["pool", "rgb.npy", "-f", "2"],
                                  ["convolve", "v.npy", "--layout", "zyx", "-k", "box:3"],
                                  ["pad", "v.npy", "--layout", "zyx", "-p", "1"]])
@pytest.mark.parametrize("sides", ["4,8,8,8", "4,8,8"])
def test_chunk_sides_past_the_cut_axes_are_refused_once_naming_the_file(tmp_path, args, sides):
    from conftest import run_in_process

    pytest.importorskip("dask")

    rng = np.random.default_rng(0)
    np.save(tmp_path / "rgb.npy", rng.integers(0, 256, (20, 24, 3), dtype=np.uint8))
    np.save(tmp_path / "v.npy", rng.normal(size=(5, 20, 24)).astype(np.float32))
    done = run_in_process(*args, "--chunks", sides, "-o", "o.npy", cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert done.stderr == _refusal(sides, 2, args[1]), done.stderr
    assert not (tmp_path / "o.npy").exists()
    assert run_in_process(*args, "--chunks", "4,8", "-o", "o.npy", cwd=tmp_path).returncode == 0


def test_the_api_takes_no_side_for_the_channel_axis():
    # a third side on an (H, W, C) array was dropped in silence
    da = pytest.importorskip("dask.array")

    from kernelcli.errors import UsageError
    from kernelcli.tiled import arrays

    x = da.zeros((20, 24, 3), chunks=(20, 24, 3), dtype="float32")
    with pytest.raises(UsageError, match="3 sides, but this input is cut along 2 axes"):
        arrays.conv2d(x, [[1.0]], chunks=(4, 8, 8))
    assert arrays.conv2d(x, [[1.0]], chunks=(4, 8)).compute().shape == (20, 24, 3)


@pytest.mark.parametrize("name, stored, neither", [("f64.tif", np.float64, True), ("i64.tif", np.int64, True),
                                                   ("miw.tif", np.int16, True), ("rgb16.tif", np.uint16, False)])
def test_a_tiff_neither_reader_takes_is_not_sent_to_the_other_path(tmp_path, name, stored, neither):
    from conftest import run_in_process

    tifffile = pytest.importorskip("tifffile")
    pytest.importorskip("zarr")
    rng = np.random.default_rng(6)
    if name == "rgb16.tif":
        tifffile.imwrite(tmp_path / name, rng.integers(0, 65535, (40, 30, 3)).astype(stored), photometric="rgb")
    else:
        tifffile.imwrite(tmp_path / name, (rng.normal(size=(40, 30)) * 100).astype(stored), tile=(16, 16),
                         photometric="miniswhite" if name == "miw.tif" else "minisblack")
    for args in (["--tiled", "-o", "x.npy"], ["-o", "x.zarr"]):
        done = run_in_process("convolve", name, "-k", "sobel_v", *args, cwd=tmp_path)
        assert done.returncode == 2 and done.stderr.startswith(f"error: {name}: "), done.stderr
        if name == "i64.tif":  # (it said "a int64 greyscale TIFF")
            assert f"error: {name}: an int64 greyscale TIFF" in done.stderr, done.stderr
        if neither:
            assert "neither the tiled path nor the in-memory reader reads it; convert it first (to .npy" in done.stderr
            assert "leave out" not in done.stderr and "another format" not in done.stderr, done.stderr
        else:
            assert "leave out --tiled/--chunks" in done.stderr or "another format than .zarr" in done.stderr, done.stderr
    in_memory = run_in_process("convolve", name, "-k", "sobel_v", "-o", "x.npy", cwd=tmp_path)
    assert in_memory.returncode == (2 if neither else 0), in_memory.stderr


@pytest.mark.parametrize("args", [["gallery", "{z}", "-o", "g.png"], ["learn", "{z}", "{z}", "-f", "3", "-o", "k.json"],
                                  ["learn", "x.npy", "{z}", "-f", "3", "-o", "k.json"]])
@pytest.mark.parametrize("store, what", [("z.zarr", "a Zarr store"), ("grp.zarr/img", "an array in the Zarr store grp.zarr")])
def test_gallery_and_learn_name_a_zarr_store_they_do_not_read(tmp_path, args, store, what):
    from conftest import run_in_process

    # a store's layout made by hand (zarr v2 metadata): the refusal comes before anything reads it
    (tmp_path / "z.zarr").mkdir()
    (tmp_path / "z.zarr" / ".zarray").write_text("{}")
    (tmp_path / "grp.zarr" / "img").mkdir(parents=True)
    (tmp_path / "grp.zarr" / ".zgroup").write_text("{}")
    (tmp_path / "grp.zarr" / "img" / ".zarray").write_text("{}")  # (an array: a plain folder in a group is a folder)
    np.save(tmp_path / "x.npy", np.zeros((8, 8), np.float32))
    done = run_in_process(*[a.format(z=store) for a in args], cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    command = args[0]
    assert done.stderr == (f"error: {store}: {what}, which convolve, pad and pool read tile by tile; {command} reads one "
                           "image file in memory: save the array as .npy (numpy.save) to give it here\n"), done.stderr
    assert not (tmp_path / args[-1]).exists()


def test_a_plain_folder_is_still_not_a_regular_file(tmp_path):
    from conftest import run_in_process

    (tmp_path / "d").mkdir()
    done = run_in_process("gallery", "d", "-o", "g.png", cwd=tmp_path)
    assert done.returncode == 2 and done.stderr == "error: d: not a regular file (a directory)\n", done.stderr


@pytest.mark.parametrize("given", ["grp.zarr/img", "grp.zarr/img/"])
def test_the_tiled_note_names_an_array_of_a_group_from_the_store_on(tmp_path, given):
    import json

    from conftest import run_in_process

    pytest.importorskip("dask")
    zarr = pytest.importorskip("zarr")
    group = zarr.open_group(str(tmp_path / "grp.zarr"), mode="w")
    group.create_array("img", shape=(37, 53), chunks=(10, 10), dtype="f4")[...] = 1
    group.create_array("mask", shape=(37, 53), chunks=(10, 10), dtype="u1")
    done = run_in_process("convolve", given, "-k", "box:3", "-o", "o.npy", "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["notes"] == ["grp.zarr/img: Zarr, read tile by tile (this process)"], done.stdout
