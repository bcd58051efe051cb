"""A Zarr output's temporary store is named as every temporary file is (``.<name>.<run>.<random>.part``), so a run's
cleanup and a run taking over a dead one's (the warm worker's client) find it: mkdtemp named it ``.<name>.<random>.part``
and the cleanup unlinked files only, so a killed writer's store stayed behind."""

from __future__ import annotations

import os

import numpy as np
import pytest

from kernelcli.io import temporary


def _zarr_writer():
    pytest.importorskip("zarr")
    da = pytest.importorskip("dask.array")
    from kernelcli.tiled import writers

    def run(tasks):
        import dask

        return list(dask.compute(*tasks, scheduler="synchronous"))

    return da, writers, run


def test_the_temporary_store_carries_the_run_token(tmp_path):
    da, writers, run = _zarr_writer()
    seen = []

    def check(ranges):
        seen.extend(name for name in os.listdir(tmp_path) if name.endswith(temporary.PART_SUFFIX))

    writers.write_zarr(da.from_array(np.ones((8, 8), np.float32), chunks=4), tmp_path / "o.zarr", force=False, run=run, check=check)
    assert len(seen) == 1 and seen[0].startswith(f".o.zarr.{temporary.run_token()}."), seen
    assert sorted(os.listdir(tmp_path)) == ["o.zarr"]


def test_a_dead_runs_store_is_removed_by_the_run_that_takes_it_over(tmp_path, monkeypatch):
    da, writers, run = _zarr_writer()
    monkeypatch.setattr(temporary, "_RUN", {"pid": None, "token": ""})
    leftover = tmp_path / ".o.zarr.abcdef.12345678.part"
    (leftover / "0").mkdir(parents=True)
    (leftover / "0" / "0").write_bytes(b"half")
    other_run = tmp_path / ".o.zarr.zzzzzz.12345678.part"
    other_run.mkdir()
    temporary.take_over_run("abcdef")
    writers.write_zarr(da.from_array(np.ones((8, 8), np.float32), chunks=4), tmp_path / "o.zarr", force=False, run=run)
    assert sorted(os.listdir(tmp_path)) == [".o.zarr.zzzzzz.12345678.part", "o.zarr"]


def test_a_batch_cleanup_removes_its_own_stores_and_files_only(tmp_path):
    token = temporary.run_token()
    mine = tmp_path / f".o.zarr.{token}.abcdefgh.part"
    (mine / "0").mkdir(parents=True)
    (tmp_path / f".a.png.{token}.abcdefgh.part").write_bytes(b"x")
    theirs = tmp_path / ".o.zarr.zzzzzz.abcdefgh.part"
    theirs.mkdir()
    assert temporary.remove_temporary_files_of([tmp_path / "o.zarr", tmp_path / "a.png"]) == 2
    assert sorted(os.listdir(tmp_path)) == [theirs.name]
