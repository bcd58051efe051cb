"""Audit 154 F1: on a 16-bit --layout zyx array, a chain of pooling steps alone (-k maxpool:2) gave float32 where
`pool --layout zyx -f 2` keeps int16/uint16 (81cbfed cast every zyx chain to a volume's dtype before its first step):
the .npy bytes differed and a 16-bit PNG was refused.  A chain casts where convolve would, before a kernel step."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import run_in_process


@pytest.fixture
def voxels(tmp_path):
    rng = np.random.default_rng(154)
    np.save(tmp_path / "zi.npy", rng.integers(-300, 300, (4, 6, 6)).astype(np.int16))
    np.save(tmp_path / "zu.npy", rng.integers(0, 60000, (4, 6, 6)).astype(np.uint16))
    return tmp_path


def _run(folder, *args):
    r = run_in_process(*args, "-q", "--force", cwd=folder)
    assert r.returncode == 0, r.stderr


@pytest.mark.parametrize("name", ["zi.npy", "zu.npy"])
@pytest.mark.parametrize("chain, separate", [
    (["-k", "maxpool:2"], [["pool", "-f", "2"]]),
    (["-k", "minpool:2", "--then", "maxpool:1"], [["pool", "-f", "2", "--op", "min"], ["pool", "-f", "1"]]),
    (["-k", "avgpool:2"], [["pool", "-f", "2", "--op", "avg"]]),
    (["-k", "maxpool:2", "--then", "box:3"], [["pool", "-f", "2"], ["convolve", "-k", "box:3"]]),
    (["-k", "box:3", "--then", "maxpool:2"], [["convolve", "-k", "box:3"], ["pool", "-f", "2"]]),
], ids=["max", "min-max", "avg", "max-box", "box-max"])
def test_a_chain_equals_the_separate_calls_bytes_and_dtype(voxels, name, chain, separate):
    _run(voxels, "convolve", name, "--layout", "zyx", *chain, "-o", "chain.npy")
    source = name
    for n, (command, *options) in enumerate(separate):
        _run(voxels, command, source, "--layout", "zyx", *options, "-o", f"step{n}.npy")
        source = f"step{n}.npy"
    got, want = np.load(voxels / "chain.npy"), np.load(voxels / source)
    assert got.dtype == want.dtype and got.tobytes() == want.tobytes(), (got.dtype, want.dtype)


def test_a_pooling_chain_of_16_bit_voxels_writes_a_16_bit_picture_as_pool_does(voxels):
    np.save(voxels / "one.npy", np.arange(2 * 4 * 4, dtype=np.uint16).reshape(2, 4, 4) * 1000)
    _run(voxels, "pool", "one.npy", "--layout", "zyx", "-f", "2", "-o", "p.png")
    _run(voxels, "convolve", "one.npy", "--layout", "zyx", "-k", "maxpool:2", "-o", "c.png")
    assert (voxels / "c.png").read_bytes() == (voxels / "p.png").read_bytes()
