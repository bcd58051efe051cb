"""Audit 195 #1: ``pool -f 2x2x2`` on an image or a ``--layout chw``/``hwc`` array pooled 2x2 per channel, exit 0,
labelled ``maxpool2``, no word: the third side was dropped, where PyTorch's MaxPool3d reads a (C, H, W) tensor's
2x2x2 as a cube and ``--layout zyx`` pools one.  A cube is refused wherever the pool is 2-D (in memory, tiled, in a
batch), and taken where it is 3-D."""

from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import listing, run_in_process

CUBE = ("--size 2x2x2 is a cube, for a volume pooled in 3-D; this input is pooled in 2-D, each channel alone: "
        "give --size 2 (a 2x2 window)")
CUBE_ARRAY = f"{CUBE}, or --layout zyx to read it as a (Z, Y, X) volume"  # (audit 213 F5: offered where it is taken)


@pytest.fixture()
def arrays(tmp_path):
    np.save(tmp_path / "c.npy", np.random.default_rng(0).random((3, 20, 20)))
    from PIL import Image

    Image.fromarray((np.random.default_rng(1).random((16, 16, 3)) * 255).astype(np.uint8)).save(tmp_path / "rgb.png")
    return tmp_path


@pytest.mark.parametrize("size", ["2x2x2", "(2,2,2)", "2X2x2"])
def test_an_image_refuses_a_cube(arrays, size):
    r = run_in_process("pool", "rgb.png", "-f", size, "-o", "p.png", cwd=arrays)
    assert (r.returncode, r.stderr) == (2, f"error: rgb.png: {CUBE}\n")
    assert listing(arrays) == ["c.npy", "rgb.png"]


@pytest.mark.parametrize("how", [[], ["--tiled"]], ids=["in-memory", "tiled"])
def test_a_channel_first_array_refuses_a_cube_and_a_zyx_one_takes_it(arrays, how):
    if how:
        pytest.importorskip("dask")
    r = run_in_process("pool", "c.npy", "--layout", "chw", "-f", "2x2x2", "-o", "pc.npy", "-q", *how, cwd=arrays)
    assert (r.returncode, r.stderr.splitlines()[-1]) == (2, f"error: c.npy: {CUBE_ARRAY}")
    r = run_in_process("pool", "c.npy", "--layout", "zyx", "-f", "2x2x2", "-o", "pz.npy", "-q", *how, cwd=arrays)
    assert r.returncode == 0, r.stderr
    x = np.load(arrays / "c.npy")
    assert np.array_equal(np.load(arrays / "pz.npy"), x[:2, :20, :20].reshape(1, 2, 10, 2, 10, 2).max(axis=(1, 3, 5)))


def test_in_a_batch_each_2d_input_fails_alone_with_its_record(arrays):
    r = run_in_process("pool", "rgb.png", "c.npy", "--layout", "chw", "-f", "2x2x2", "--out-dir", "o", "--json",
                       cwd=arrays)
    assert r.returncode != 0
    items = {item["input"]: item for item in json.loads(r.stdout)["items"]}
    assert items["c.npy"]["error"] == f"c.npy: {CUBE_ARRAY}"


def test_a_square_window_is_as_before(arrays):
    for size in ("2", "2x2"):
        r = run_in_process("pool", "c.npy", "--layout", "chw", "-f", size, "-o", f"p{len(size)}.npy", "-q", cwd=arrays)
        assert r.returncode == 0, r.stderr
    assert np.array_equal(np.load(arrays / "p1.npy"), np.load(arrays / "p3.npy"))


def test_a_2d_array_refuses_a_cube(tmp_path):
    np.save(tmp_path / "x.npy", np.arange(36.0).reshape(6, 6))
    r = run_in_process("pool", "x.npy", "-f", "2x2x2", "-o", "y.npy", cwd=tmp_path)
    assert (r.returncode, r.stderr) == (2, f"error: x.npy: {CUBE}\n")
