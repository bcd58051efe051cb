"""Audit 161 #1: ``--rescale minmax`` of 64-bit integers past 2**53 wrote other pixels than the exact stretch: int64
[2**53, 2**53+1, 2**53+2] became [0, 0, 255] (exact: [0, 128, 255]) and uint64 [2**64-3 .. 2**64-1] all 0, exit 0, while
the record's minimum and maximum were exact.  The values went through float64, which rounds them; each is stretched from
its exact offset above the minimum now."""

from __future__ import annotations

import json
from fractions import Fraction

import numpy as np
import pytest
from PIL import Image

from kernelcli.io.integer_range import to_integer_range


def exact_stretch(values: np.ndarray, top: int) -> list[int]:
    ints = [int(x) for x in values.ravel().tolist()]
    lo, hi = min(ints), max(ints)
    return [0 if hi == lo else round(Fraction(x - lo) * top / (hi - lo)) for x in ints]


@pytest.mark.parametrize("values, dtype", [
    ([2**53, 2**53 + 1, 2**53 + 2], np.int64),
    ([2**64 - 3, 2**64 - 2, 2**64 - 1], np.uint64),
    ([-2**63, 0, 2**63 - 1], np.int64),
    ([-2**63, -2**63 + 1, -2**63 + 2], np.int64),
    ([0, 2**64 - 1, 2**63], np.uint64),
])
@pytest.mark.parametrize("depth", [8, 16])
def test_the_stretch_of_64_bit_integers_is_exact(values, dtype, depth):
    v = np.array(values, dtype=dtype)
    got = to_integer_range(v, depth, "minmax")[0]
    assert got.tolist() == exact_stretch(v, 255 if depth == 8 else 65535)


@pytest.mark.parametrize("dtype", [np.int64, np.uint64])
def test_random_64_bit_integers_stretch_as_exact_fractions(dtype):
    rng = np.random.default_rng(161)
    info = np.iinfo(dtype)
    for _ in range(60):
        base = int(rng.integers(info.min, info.max, dtype=dtype, endpoint=True))
        span = int(rng.choice([2, 3, 5, 510, 2**20, 2**40, 2**60]))
        lo = min(max(base, info.min), info.max - span)
        v = (np.array(rng.integers(0, span, size=(7, 5), endpoint=True, dtype=np.uint64)).astype(object) + lo)
        v = np.array(v.tolist(), dtype=dtype)
        for depth, top in ((8, 255), (16, 65535)):
            assert to_integer_range(v, depth, "minmax")[0].ravel().tolist() == exact_stretch(v, top), (lo, span)
        # a strided view stretches as its copy does
        assert np.array_equal(to_integer_range(v[:, ::2], 8, "minmax")[0], to_integer_range(v[:, ::2].copy(), 8, "minmax")[0])


def test_the_picture_written_is_the_exact_stretch(invoke, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    np.save("i64.npy", np.array([[2**53, 2**53 + 1, 2**53 + 2]] * 3, dtype=np.int64))
    np.save("u64.npy", np.array([[2**64 - 3, 2**64 - 2, 2**64 - 1]] * 3, dtype=np.uint64))
    for name in ("i64", "u64"):
        r = invoke("pool", f"{name}.npy", "-f", "1", "-o", f"{name}.png", "--rescale", "minmax", "--json", "-q")
        assert r.exit_code == 0, r.output
        assert np.asarray(Image.open(f"{name}.png"))[0].tolist() == [0, 128, 255], name
        record = json.loads(r.stdout)
        assert record["maximum"] - record["minimum"] == 2
