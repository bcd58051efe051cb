"""Audit 221 (scaling out): a Zarr group holding one array, OME-Zarr 0.4 (Zarr v2) images, URL outputs, worker-side
missing paths, ``file:NAME``, and ``--workers`` where it changes nothing.
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("dask.array")
zarr = pytest.importorskip("zarr")

ZARR3 = int(zarr.__version__.split(".")[0]) >= 3
needs_zarr3 = pytest.mark.skipif(not ZARR3, reason="Zarr v3 metadata and zarr_format=2 groups need zarr 3")


def ok(result) -> None:
    assert result.exit_code == 0, result.stderr


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
