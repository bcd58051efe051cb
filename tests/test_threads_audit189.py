"""Audit 189 #4: under ``ulimit -v`` a run whose helper thread could not start ended as a bug ('internal error:
RuntimeError: can't start new thread', exit 70, from :mod:`kernelcli._core.threads`' crew).  The crews (and the
native helpers, the band producer, the early JPEG decode) now run with the threads they could start, the calling
thread alone at worst: the same bytes, a slower call.

Here ``Thread.start`` refuses kernelcli's threads as the system did (others, dask's say, start as usual)."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from conftest import run_in_process
from kernelcli._core import threads


@pytest.fixture
def refused(monkeypatch):
    """Fresh crews whose threads the system will not start (after ``allowed`` of them); the names it was asked for."""
    monkeypatch.setattr(threads, "_crew", None)
    try:
        from kernelcli._core import native
    except ImportError:  # (no Numba: no native helpers)
        native = None
    if native is not None:
        monkeypatch.setattr(native, "_pool", None)
    asked: list[str] = []
    allowed = [0]
    start = threading.Thread.start

    def start_or_refuse(self):
        if self.name.startswith("kernelcli-"):
            asked.append(self.name)
            if allowed[0] <= 0:
                raise RuntimeError("can't start new thread")
            allowed[0] -= 1
        return start(self)

    monkeypatch.setattr(threading.Thread, "start", start_or_refuse)
    return asked, allowed


def test_every_task_runs_on_the_calling_thread_when_no_helper_starts(refused):
    asked, _ = refused
    seen: list[int] = []
    threads.run_tasks(seen.append, 8, 4)
    assert sorted(seen) == list(range(8)) and asked and threads._crew.threads == []
    out = np.zeros(256)
    threads.run_rows(lambda a, i0, i1: a[i0:i1].__iadd__(1), 256, out, threads=4)
    assert (out == 1).all()


def test_a_crew_runs_with_the_helpers_it_could_start_and_grows_later(refused):
    asked, allowed = refused
    allowed[0] = 1
    seen: list[int] = []
    threads.run_tasks(seen.append, 12, 4)
    assert sorted(seen) == list(range(12)) and len(threads._crew.threads) == 1
    allowed[0] = 2  # the system has room again: the next job starts the rest
    threads.run_tasks(seen.append, 12, 4)
    assert len(seen) == 24 and len(threads._crew.threads) == 3


def test_native_jobs_give_the_same_bytes_without_helpers(refused, monkeypatch):
    pytest.importorskip("numba")
    from kernelcli._core import native, pool

    monkeypatch.setattr(native, "MIN_WORK_PER_THREAD", 1)
    monkeypatch.setattr(threads, "MIN_WORK_PER_THREAD", 1)
    assert native.prepare()
    x = np.random.default_rng(0).integers(0, 256, (512, 512)).astype(np.uint8)
    x.flags.writeable = False
    expected = np.empty((256, 256), np.uint8)
    pool.avg2_rows_int(x, 1, expected, 0, 256)  # one thread, no helper
    out = np.empty((256, 256), np.uint8)
    native.run_rows(pool.avg2_rows_int, 256, x, 1, out, threads=2)
    assert out.tobytes() == expected.tobytes() and native._pool.threads == []


@pytest.mark.parametrize("tiled", [(), ("--chunks", "256")], ids=["in memory", "tiled"])
def test_convolve_without_helper_threads_writes_the_same_bytes(tmp_path, monkeypatch, tiled):
    if tiled:
        pytest.importorskip("dask")
    np.save(tmp_path / "in_u8.npy", np.random.default_rng(1).integers(0, 256, (1000, 1000)).astype(np.uint8))
    args = ("convolve", "in_u8.npy", "-k", "gaussian:2", *tiled, "-q")
    r = run_in_process(*args, "-o", "threaded.npy", cwd=tmp_path, env={"KERNELCLI_WORKER": "off"})
    assert r.returncode == 0, r.stderr
    with monkeypatch.context() as m:
        m.setattr(threads, "_crew", None)
        asked = _refuse_kernelcli_threads(m)
        r = run_in_process(*args, "-o", "alone.npy", "--report", "r.json", cwd=tmp_path, env={"KERNELCLI_WORKER": "off"})
    assert (r.returncode, r.stderr) == (0, "") and asked, "no helper thread was asked for: the case does not split"
    assert (tmp_path / "alone.npy").read_bytes() == (tmp_path / "threaded.npy").read_bytes()


def _refuse_kernelcli_threads(m) -> list[str]:
    try:
        from kernelcli._core import native

        m.setattr(native, "_pool", None)
    except ImportError:
        pass
    asked: list[str] = []
    start = threading.Thread.start

    def start_or_refuse(self):
        if self.name.startswith("kernelcli-"):
            asked.append(self.name)
            raise RuntimeError("can't start new thread")
        return start(self)

    m.setattr(threading.Thread, "start", start_or_refuse)
    return asked


def test_bands_are_computed_one_at_a_time_without_a_producer_thread(refused, monkeypatch):
    from kernelcli.bands import ahead, conv2d_bands

    asked, _ = refused
    monkeypatch.setattr(threads, "count", lambda: 2)
    x = np.arange(48, dtype=np.uint8).reshape(8, 6)
    w = [[1, 2, 1]] * 3
    got = [(top, band.tobytes()) for top, band in ahead(conv2d_bands(x, w, band_bytes=1))]
    assert got == [(top, band.tobytes()) for top, band in conv2d_bands(x, w, band_bytes=1)]
    assert asked == ["kernelcli-bands"]


def test_a_jpeg_is_decoded_in_turn_without_an_early_thread(refused, tmp_path):
    from PIL import Image

    from kernelcli.io import decode

    asked, _ = refused
    Image.fromarray(np.random.default_rng(2).integers(0, 256, (64, 80, 3)).astype(np.uint8)).save(tmp_path / "a.jpg")
    assert decode.begin(tmp_path / "a.jpg", max_pixels=None) is False
    assert asked == ["kernelcli-decode"] and decode.take(tmp_path / "a.jpg", decode.DEFAULT_MAX_PIXELS, None) is None
