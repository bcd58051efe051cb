"""Audit 125, an observation: ``--tiled --chunks 32`` on an 8000x8000 ``.npy`` ran for over 12 minutes where
4000x4000 took 1.7 s.  Not work growing with the square of the tiles: the 4000x4000 run had 64 tiles (rounded
to whole FFT blocks of 528), the 8000x8000 one 62,500 of 32x32, and each tile costs about 6 ms whatever its
size.  A run of more than ``MANY_TILES`` tiles now says so, counting the tiles the run was cut into."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("dask")


def test_a_run_of_many_tiles_says_so_counting_them(invoke, tmp_path, monkeypatch):
    from kernelcli.tiled import files

    np.save(tmp_path / "x.npy", np.random.default_rng(0).random((40, 30)).astype(np.float32))
    r = invoke("convolve", "x.npy", "-k", "box:3", "-o", "a.npy", "--chunks", "10", "--json")
    assert r.exit_code == 0, r.output
    assert not [n for n in json.loads(r.stdout)["notes"] if "tiles of" in n]  # 12 tiles: under the threshold
    monkeypatch.setattr(files, "MANY_TILES", 11)
    r = invoke("convolve", "x.npy", "-k", "box:3", "-o", "b.npy", "--chunks", "10", "--json")
    assert r.exit_code == 0, r.output
    said = [n for n in json.loads(r.stdout)["notes"] if "tiles of" in n]
    assert said == ["12 tiles of 10x10 input cells: each costs about 6 ms whatever its size (dask's scheduling and the "
                    "write), minutes for this many; a larger --chunks needs fewer (the default: 1024 a side, at most "
                    "1024x1024 cells a tile)"], said
    assert np.array_equal(np.load(tmp_path / "a.npy"), np.load(tmp_path / "b.npy"))
