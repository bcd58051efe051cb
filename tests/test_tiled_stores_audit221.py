"""Audit 221 (scaling out): a Zarr group holding one array, OME-Zarr 0.4 (Zarr v2) images, URL outputs, worker-side
missing paths, ``file:NAME``, and ``--workers`` where it changes nothing.
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("dask.array")
zarr = pytest.importorskip("zarr")

from test_tiled_stores import ZARR3, ok  # noqa: E402 - (after the skips: it imports zarr)

needs_zarr3 = pytest.mark.skipif(not ZARR3, reason="Zarr v3 metadata and zarr_format=2 groups need zarr 3")


def notes(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("note:")]


def _group_of_one(path, data, names, zarr_format: int):
    """A group holding one array ``img`` that declares ``names``: v3 dimension_names, or v2 xarray's _ARRAY_DIMENSIONS."""
    group = zarr.open_group(str(path), mode="w", zarr_format=zarr_format)
    chunks = tuple(min(n, 8) for n in data.shape)
    if zarr_format == 3:
        array = group.create_array("img", shape=data.shape, chunks=chunks, dtype=data.dtype, dimension_names=names)
    else:
        array = group.create_array("img", shape=data.shape, chunks=chunks, dtype=data.dtype)
        array.attrs["_ARRAY_DIMENSIONS"] = list(names)
    array[...] = data
    return path


@needs_zarr3
class TestAGroupHoldingOneArray:
    """#1: 'convolve gz3.zarr' (a group holding one (z, y, x) array 'img', 29x41x3) filtered an RGB image, where
    'convolve gz3.zarr/img' filtered the volume its names declare, exit 0 both."""

    @pytest.mark.parametrize("zarr_format", [2, 3])
    @pytest.mark.parametrize("command", [["convolve", "-k", "box:3"], ["pool", "-f", "2"]], ids=["convolve", "pool"])
    def test_the_group_reads_its_array_as_the_arrays_path_does(self, tmp_path, invoke, zarr_format, command):
        vol = (np.random.default_rng(9).random((29, 41, 3)) * 255).astype(np.float32)
        np.save(tmp_path / "v.npy", vol)
        _group_of_one(tmp_path / "g.zarr", vol, ["z", "y", "x"], zarr_format)
        name, *rest = command
        ok(invoke(name, "v.npy", *rest, "--layout", "zyx", "-o", "ref.npy"))
        by_array = invoke(name, "g.zarr/img", *rest, "-o", "a.npy")
        by_group = invoke(name, "g.zarr", *rest, "-o", "g.npy")
        ok(by_array)
        ok(by_group)
        assert (tmp_path / "g.npy").read_bytes() == (tmp_path / "a.npy").read_bytes()
        assert np.array_equal(np.load(tmp_path / "g.npy"), np.load(tmp_path / "ref.npy"))
        said = "dimension_names" if zarr_format == 3 else "_ARRAY_DIMENSIONS"
        assert notes(by_array.stderr) == [f"note: g.zarr/img: Zarr (its {said}: z, y, x), read tile by tile (this process)"]
        assert notes(by_group.stderr) == [f"note: g.zarr: Zarr (array 'img'; its {said}: z, y, x), read tile by tile (this process)"]

    def test_a_layout_against_the_groups_declared_axes_is_refused_as_for_the_array(self, tmp_path, invoke):
        vol = np.zeros((9, 11, 3), np.uint8)
        _group_of_one(tmp_path / "g.zarr", vol, ["z", "y", "x"], 3)
        by_array = invoke("convolve", "g.zarr/img", "-k", "box:3", "--layout", "hwc", "-o", "a.npy")
        by_group = invoke("convolve", "g.zarr", "-k", "box:3", "--layout", "hwc", "-o", "g.npy")
        assert by_array.exit_code == by_group.exit_code == 2, by_group.stderr
        assert by_group.stderr == by_array.stderr.replace("g.zarr/img", "g.zarr"), by_group.stderr


def _ome(path, data, axes, zarr_format: int):
    """An OME-Zarr image as ome-zarr-py writes it: 0.4 in Zarr v2 (``multiscales`` attribute), 0.5 in Zarr v3 (``ome``)."""
    group = zarr.open_group(str(path), mode="w", zarr_format=zarr_format)
    chunks = tuple(8 if n > 8 else n for n in data.shape)
    group.create_array("0", shape=data.shape, chunks=chunks, dtype=data.dtype)[...] = data
    kinds = {"t": "time", "c": "channel"}
    multiscales = [{"version": "0.4" if zarr_format == 2 else "0.5", "datasets": [{"path": "0"}],
                    "axes": [{"name": a, "type": kinds.get(a, "space")} for a in axes]}]
    if zarr_format == 2:
        group.attrs["multiscales"] = multiscales
    else:
        group.attrs["ome"] = {"version": "0.5", "multiscales": multiscales}
    return path


@needs_zarr3
class TestOmeZarrLevelsOfEitherFormat:
    """#2: 'convolve ome2_tczyx1.zarr' (OME-Zarr 0.4, Zarr v2, (1, 1, 1, 29, 41) t,c,z,y,x) was refused, exit 2: 'not
    found where a tile is computed: removed while it was read, or, on a cluster, not on a file system its workers
    share': the level seen without its single axes had no path, and the metadata watched was the group's .zarray."""

    @pytest.mark.parametrize("zarr_format", [2, 3])
    @pytest.mark.parametrize("channels", [1, 3])
    def test_an_image_with_single_t_c_z_axes_reads_as_in_memory(self, tmp_path, invoke, zarr_format, channels):
        image = np.random.default_rng(5).integers(0, 1000, (channels, 29, 41)).astype(np.uint16)
        np.save(tmp_path / "m.npy", image[0] if channels == 1 else image)
        _ome(tmp_path / "o.zarr", image[None, :, None], "tczyx", zarr_format)
        ok(invoke("convolve", "m.npy", "-k", "box:3", *(["--layout", "chw"] if channels == 3 else []), "-o", "ref.npy"))
        ok(invoke("convolve", "o.zarr", "-k", "box:3", "-o", "t.npy"))
        assert (tmp_path / "t.npy").read_bytes() == (tmp_path / "ref.npy").read_bytes()

    @pytest.mark.parametrize("zarr_format", [2, 3])
    def test_the_metadata_watched_is_the_level_read(self, tmp_path, zarr_format):
        import os

        from kernelcli.tiled import stores
        from kernelcli.tiled.reading import ChunkReads

        _ome(tmp_path / "o.zarr", np.zeros((1, 1, 1, 9, 11), np.uint8), "tczyx", zarr_format)
        root = str(tmp_path / "o.zarr")
        level = stores._array_in(zarr.open(root, mode="r"), tmp_path / "o.zarr")[0]
        own = "zarr.json" if zarr_format == 3 else ".zarray"
        assert ChunkReads(level, "o.zarr", root=root).metadata == os.path.join(root, "0", own)

    def test_a_group_of_one_array_declared_t_y_x_reads_as_an_image(self, tmp_path, invoke):
        image = np.random.default_rng(6).integers(0, 255, (1, 19, 23)).astype(np.uint8)
        np.save(tmp_path / "m.npy", image[0])
        _group_of_one(tmp_path / "g.zarr", image, ["t", "y", "x"], 2)
        ok(invoke("convolve", "m.npy", "-k", "box:3", "-o", "ref.npy"))
        ok(invoke("convolve", "g.zarr", "-k", "box:3", "-o", "g.npy"))
        assert (tmp_path / "g.npy").read_bytes() == (tmp_path / "ref.npy").read_bytes()


@pytest.fixture
def inputs(tmp_path):
    """m1.png (an image read in memory), a.npy and a.zarr (an array store) in tmp_path."""
    from pathlib import Path

    samples = Path(__file__).resolve().parent.parent / "samples"
    (tmp_path / "m1.png").write_bytes((samples / "phantom.png").read_bytes())
    data = np.random.default_rng(3).integers(0, 255, (37, 53)).astype(np.uint8)
    np.save(tmp_path / "a.npy", data)
    zarr.open_array(str(tmp_path / "a.zarr"), mode="w", shape=data.shape, chunks=(8, 8), dtype=data.dtype)[...] = data
    return tmp_path


class TestUrlOutputsThatAreNoStore:
    """#3: 'convolve m1.png -k box:3 -o file://q2.png' said 'this file is none of them: leave out --tiled/--chunks'
    (never given), '-o s3://b/q3.png' 'write another format than .zarr' for a .png, exit 2 both."""

    @pytest.mark.parametrize("args, said", [
        (["convolve", "m1.png", "-k", "box:3", "-o", "file://q2.png"],
         "file://q2.png: is a URL, and a file:// URL output is written tile by tile, which writes .zarr and .npy: "
         "give it as the local path {cwd}/q2.png"),
        (["convolve", "a.npy", "-k", "box:3", "-o", "file:///{cwd}/q2.png"],
         "file:///{cwd}/q2.png: is a URL, and a file:// URL output is written tile by tile, which writes .zarr and .npy: "
         "give it as the local path {cwd}/q2.png"),
        (["pool", "m1.png", "-f", "2", "-o", "file://q3.png"], "file://q3.png: is a URL, and a file:// URL output"),
        (["pad", "m1.png", "-p", "2", "-o", "s3://b/q3.png"],
         "s3://b/q3.png: is a URL, and a URL output is a Zarr store (.zarr), written tile by tile: write other files to a local path"),
        (["convolve", "a.zarr", "-k", "box:3", "-o", "memory://b/q4.npy"], "memory://b/q4.npy: is a URL, and a URL output is a Zarr store"),
        (["convolve", "m1.png", "-k", "box:3", "-o", "file://q5.npy"],
         "m1.png: the tiled path reads Zarr stores, TIFF and .npy; this file is none of them: "
         "give file://q5.npy as the local path {cwd}/q5.npy"),
        (["convolve", "v.nii", "-k", "box:3vox", "-o", "file://q6.nii"],
         "file://q6.nii: is a URL, and a volume is written to a local path: give it as the local path {cwd}/q6.nii"),
        (["volume", "v.nii", "-k", "box:3vox", "-o", "s3://b/q7.nii"], "s3://b/q7.nii: is a URL, and a volume is written to a local path: give a local path"),
    ], ids=["file-png", "file-abs-png", "pool", "pad-s3", "zarr-to-npy-url", "png-to-file-npy", "nii-file", "volume-s3"])
    def test_refused_naming_the_url_as_typed_and_what_a_url_output_can_be(self, inputs, invoke, args, said):
        cwd = str(inputs)
        if "v.nii" in args:
            nib = pytest.importorskip("nibabel")
            nib.save(nib.Nifti1Image(np.zeros((9, 11, 13), np.float32), np.eye(4)), str(inputs / "v.nii"))
        before = sorted(p.name for p in inputs.iterdir())
        r = invoke(*[a.replace("/{cwd}", cwd) for a in args])
        assert r.exit_code == 2, r.stderr
        assert r.stderr.startswith("error: " + said.replace("/{cwd}", cwd).replace("{cwd}", cwd)), r.stderr
        assert "--tiled" not in r.stderr and "another format than .zarr" not in r.stderr
        assert sorted(p.name for p in inputs.iterdir()) == before

    def test_a_file_url_to_what_the_tiled_path_writes_is_its_local_path(self, inputs, invoke):
        ok(invoke("convolve", "a.zarr", "-k", "box:3", "-o", "file://q.npy"))
        ok(invoke("convolve", "a.npy", "-k", "box:3", "-o", "ref.npy"))
        assert np.array_equal(np.load(inputs / "q.npy"), np.load(inputs / "ref.npy"))


class TestFileColonName:
    """#5: 'convolve a.zarr -k box:3 -o file:fu3.zarr' made a local folder named 'file:fu3.zarr' (exit 0) that
    dask.array.from_zarr('file:fu3.zarr') does not find (fsspec strips 'file:' as it strips 'file://'), and
    'convolve file:a.zarr' said 'no such file'; zarr's own stores read the whole text as a name: two readings."""

    @pytest.mark.parametrize("args, option", [
        (["convolve", "a.zarr", "-k", "box:3", "-o", "file:fu3.zarr"], "'--out' / '-o'"),
        (["convolve", "a.npy", "-k", "box:3", "--tiled", "-o", "file:fu4.npy"], "'--out' / '-o'"),
        (["convolve", "file:a.zarr", "-k", "box:3", "-o", "u1.npy"], "'input'"),
        (["convolve", "a.npy", "m1.png", "-k", "box:3", "--out-dir", "local:od"], "'--out-dir' / '-d'"),
        (["convolve", "m1.png", "-k", "file:k.json", "-o", "u2.png"], None),
    ], ids=["zarr-out", "npy-out", "input", "out-dir", "kernel"])
    def test_refused_naming_both_readings(self, inputs, invoke, args, option):
        before = sorted(p.name for p in inputs.iterdir())
        r = invoke(*args)
        assert r.exit_code == 2, r.stderr
        name = next(a for a in args if a.startswith(("file:", "local:")))
        rest = name.split(":", 1)[1]
        said = (f"{name}: reads two ways: as a URL, ./{rest} (fsspec and dask read it so), or as the name of a file or "
                f"folder {name} (zarr and the file system read it so): write ./{rest} for the path the URL names, or ./{name} "
                "for the name")
        assert said in r.stderr and (option is None or option in r.stderr), r.stderr
        assert sorted(p.name for p in inputs.iterdir()) == before

    def test_either_spelling_it_advises_is_read_one_way(self, inputs, invoke):
        ok(invoke("convolve", "a.zarr", "-k", "box:3", "-o", "file://u.zarr"))
        ok(invoke("convolve", "a.zarr", "-k", "box:3", "-o", "./file:n.npy"))
        assert (inputs / "u.zarr").is_dir() and (inputs / "file:n.npy").is_file()


class TestWorkersWhereTheyChangeNothing:
    """#6: 'convolve a.npy -k box:3 --tiled --workers 3' and '--scheduler tcp://... --workers 3' took --workers in
    silence (the tiles use this process's threads, a running cluster its own workers), while the one-input note said
    '--workers 3: for several inputs and tile-by-tile runs; one input runs in one process'."""

    def test_a_tiled_run_in_this_process_says_so(self, inputs, invoke):
        import json

        r = invoke("convolve", "a.npy", "-k", "box:3", "--tiled", "--workers", "3", "-o", "t.npy", "--json")
        ok(r)
        said = ("--workers 3: the processes of a batch or of --scheduler local; a tile-by-tile run in this process uses its "
                "threads, one per core, so it changes nothing")
        assert said in r.stderr and said in json.loads(r.stdout)["notes"]
        assert "--workers" not in invoke("convolve", "a.npy", "-k", "box:3", "--tiled", "-o", "u.npy").stderr

    def test_one_input_in_memory_says_what_workers_sets(self, inputs, invoke):
        r = invoke("convolve", "a.npy", "-k", "box:3", "--workers", "3", "-o", "m.npy")
        ok(r)
        assert ("note: --workers 3: the processes of a batch or of --scheduler local; one input runs in this process, "
                "so it changes nothing") in r.stderr and "tile-by-tile runs" not in r.stderr

    def test_a_running_cluster_keeps_its_own_workers(self):
        from kernelcli.tiled.cluster import unused_workers

        assert unused_workers(5, "tcp://127.0.0.1:8791", tiles=False) == (
            "--workers 5: the processes of a batch or of --scheduler local; the cluster at tcp://127.0.0.1:8791 has its own "
            "workers, so it changes nothing")
        assert unused_workers(5, "tcp://127.0.0.1:8791", tiles=True) == unused_workers(5, "tcp://127.0.0.1:8791", tiles=False)
        assert unused_workers(5, "Local", tiles=True) is None and unused_workers(5, None, tiles=False) is None
