"""Audit 117 #1: a (Z, Y, X) chain with a pooling step over the memory cap was told "or run it tile by tile: --tiled",
and --tiled refuses that chain, telling to leave --tiled out: each refusal sent back to the other."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import run_in_process


def _volume(tmp_path):
    np.save(tmp_path / "vol.npy", np.random.default_rng(8).integers(-1000, 2000, (23, 41, 37)).astype(np.int16))


def test_a_zyx_chain_with_a_pooling_step_is_not_sent_to_the_tiled_path(tmp_path):
    _volume(tmp_path)
    capped = {"KERNELCLI_MAX_MEMORY": "1M"}
    refused = run_in_process("convolve", "vol.npy", "--layout", "zyx", "-k", "box:3", "--then", "maxpool:2", "-o", "c.npy",
                             cwd=tmp_path, env=capped)
    assert refused.returncode == 2 and "would need about" in refused.stderr
    assert "run the pooling as its own call (kernelcli pool --layout zyx) and the rest tile by tile (--tiled)" in refused.stderr
    assert "or run it tile by tile: --tiled" not in refused.stderr


def test_what_the_refusal_advises_runs(tmp_path):
    pytest.importorskip("dask")  # (the tiled path's extra)
    _volume(tmp_path)
    capped = {"KERNELCLI_MAX_MEMORY": "1M"}
    # the kernel step tile by tile, and the pooling as its own call
    assert run_in_process("convolve", "vol.npy", "--layout", "zyx", "-k", "box:3", "--tiled", "-o", "b.npy",
                          cwd=tmp_path, env=capped).returncode == 0
    assert run_in_process("pool", "b.npy", "--layout", "zyx", "-f", "2", "-o", "p.npy", cwd=tmp_path).returncode == 0


def test_a_chain_the_tiled_path_takes_is_still_sent_there(tmp_path):
    _volume(tmp_path)
    refused = run_in_process("convolve", "vol.npy", "--layout", "zyx", "-k", "box:3", "--then", "box:3", "-o", "c.npy",
                             cwd=tmp_path, env={"KERNELCLI_MAX_MEMORY": "1M"})
    assert refused.returncode == 2 and "or run it tile by tile: --tiled" in refused.stderr, refused.stderr
