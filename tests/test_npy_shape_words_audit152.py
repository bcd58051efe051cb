"""A ``.npy`` of another rank, or of Python objects, refused in the same words tile by tile and in memory (audit 152 #5).

Tile by tile a 1-D, 0-D or 4-D ``.npy`` was refused "d1.npy: a 1-D array; expected (H, W), (H, W, C) or (Z, Y, X)",
in memory "d1.npy: expected a non-empty (H, W) or (H, W, C) array, got shape (10,)" (which left out the (Z, Y, X)
``--layout zyx`` reads); an object array "obj.npy: cannot read as .npy: ..." against "obj.npy: not a valid .npy
array (...)".  Expected: one wording, the ``.npy`` reader's (:func:`kernelcli.io.arrays.map_npy`).
"""

from __future__ import annotations

import numpy as np
import pytest

from conftest import run_in_process

pytest.importorskip("dask")


@pytest.fixture
def files(tmp_path):
    np.save(tmp_path / "d1.npy", np.arange(10.0))
    np.save(tmp_path / "d4.npy", np.zeros((2, 3, 4, 5)))
    np.save(tmp_path / "d0.npy", np.float32(3))
    np.save(tmp_path / "obj.npy", np.zeros((5, 5), object), allow_pickle=True)
    np.savez(tmp_path / "two.npz", a=np.zeros((4, 4)))
    (tmp_path / "two.npz").rename(tmp_path / "z.npy")
    return tmp_path


@pytest.mark.parametrize("name, said", [
    ("d1.npy", "d1.npy: expected a non-empty (H, W), (H, W, C) or (Z, Y, X) array, got shape (10,)"),
    ("d4.npy", "d4.npy: expected a non-empty (H, W), (H, W, C) or (Z, Y, X) array, got shape (2, 3, 4, 5)"),
    ("d0.npy", "d0.npy: expected a non-empty (H, W), (H, W, C) or (Z, Y, X) array, got shape ()"),
    ("obj.npy", "obj.npy: expected a numeric array, got dtype object"),
    ("z.npy", "z.npy: expected a single .npy array, got an .npz archive or another object"),
])
@pytest.mark.parametrize("call", [["convolve", "-k", "box:3"], ["pool", "-f", "2"], ["pad", "-p", "1"]], ids=lambda c: c[0])
def test_tiled_and_in_memory_say_the_same(files, name, said, call):
    for extra in ([], ["--tiled"]):
        r = run_in_process(call[0], name, *call[1:], "-o", "o.npy", "-q", *extra, cwd=files)
        assert r.returncode == 2, r.stderr
        assert r.stderr.strip() == f"error: {said}", (extra, r.stderr)
        assert not (files / "o.npy").exists()
