"""Audit 174: the tiled path's words (round 9).

#1: ``--chunks`` of 3 or more sides on an input with a channel axis (an RGB image, a (Z, Y, X) volume filtered
slice by slice) was refused twice over: 4 sides "cut along 3 axes", then 3 sides "cut along 2 axes", the second
without the file's name.  One refusal now, naming the file, counting the axes really cut."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("dask")


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
    import dask.array as da

    from kernelcli.errors import UsageError
    from kernelcli.tiled import arrays

    x = da.zeros((20, 24, 3), chunks=(20, 24, 3), dtype="float32")
    with pytest.raises(UsageError, match="3 sides, but this input is cut along 2 axes"):
        arrays.conv2d(x, [[1.0]], chunks=(4, 8, 8))
    assert arrays.conv2d(x, [[1.0]], chunks=(4, 8)).compute().shape == (20, 24, 3)
