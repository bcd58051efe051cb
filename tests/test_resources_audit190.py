"""Audit 190: running out of resources (memory, threads, open files) is the resource's error, never a bug or the
input's fault.

#2: ``learn`` out of memory (``ulimit -v``) ended in tracebacks, exit 1: the handler imported while the failed call's
frames still held its arrays.  An extension that could not be mapped (``ImportError: ... failed to map segment``) was
"internal error ... a bug", exit 70.

#3: a tiled run whose dask scheduler thread could not start was "internal error: RuntimeError: can't start new thread.
This is a bug", exit 70: the tasks now run again on the calling thread, the same bytes.

#4: the open-files limit (or no memory) met while a tile opened its .npy was "u8.npy: cannot read as .npy: [Errno 24]
Too many open files", blaming the file: now the in-memory reader's words.
"""

from __future__ import annotations

import gc
import json
import weakref

import numpy as np
import pytest
from PIL import Image

from conftest import run_in_process

WORDS = "not enough memory for this operation; use a smaller input or option values, or set KERNELCLI_MAX_MEMORY"


@pytest.fixture
def image(tmp_path):
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (16, 16), dtype=np.uint8)).save(tmp_path / "a.png")
    return tmp_path


class _Held:
    """What the failed call's frame holds (its arrays, in a real run)."""


@pytest.fixture
def failing_pad(monkeypatch):
    """pad2d raises ``raised()`` while its frame holds a :class:`_Held`; the list gets a weak reference to it."""
    import kernelcli.api as api

    refs: list[weakref.ref] = []

    def make(raised):
        def boom(*args, **kwargs):
            held = _Held()
            refs.append(weakref.ref(held))
            raise raised()

        monkeypatch.setattr(api, "pad2d", boom)
        return refs

    return make


def _error_lines(result) -> list[str]:
    assert "Traceback" not in result.stderr, result.stderr
    return [line for line in result.stderr.splitlines() if line.startswith("error:")]


class TestRunningOutOfMemoryIsReportedOnceTheCallIsFreed:
    @pytest.mark.parametrize("report", [False, True])
    def test_the_failed_calls_frames_are_freed_before_the_line_is_made(self, image, invoke, failing_pad, monkeypatch,
                                                                       report):
        import kernelcli.cli._common as common

        refs = failing_pad(MemoryError)
        alive: list[bool] = []
        real = common._fail_known

        def spy(*args, **kwargs):
            gc.collect()  # (what a cycle holds is not what the handler keeps)
            alive.append(refs[0]() is not None)
            return real(*args, **kwargs)

        monkeypatch.setattr(common, "_fail_known", spy)
        result = invoke("pad", "a.png", "--p", "1", "--out", "o.png", *(["--report", "r.json"] if report else []))
        assert result.exit_code == 2, result.output
        assert [line.split(" to be refused")[0] for line in _error_lines(result)] == [f"error: a.png: {WORDS}"]
        assert alive == [False]

    def test_where_the_line_cannot_be_made_the_constant_one_is_written(self, image, invoke, failing_pad, monkeypatch,
                                                                       capfd):
        import kernelcli.cli._common as common

        failing_pad(MemoryError)

        def no_memory(*args, **kwargs):
            raise MemoryError()

        monkeypatch.setattr(common, "error_line", no_memory)
        result = invoke("pad", "a.png", "--p", "1", "--out", "o.png")
        assert result.exit_code == 2, result.output
        assert f"error: {WORDS}" in capfd.readouterr().err  # (written to the descriptor, as it cannot allocate)

    def test_an_extension_that_cannot_be_mapped_is_out_of_memory_not_a_bug(self, image, invoke, failing_pad):
        failing_pad(lambda: ImportError("/x/cmath.cpython-311-x86_64-linux-gnu.so: failed to map segment from shared "
                                        "object"))
        result = invoke("pad", "a.png", "--p", "1", "--out", "o.png", "--json", "--report", "r.json")
        assert result.exit_code == 2, result.output
        [line] = _error_lines(result)
        assert line.startswith(f"error: a.png: {WORDS}")
        [reported] = json.loads((image / "r.json").read_text())["items"]
        for record in (json.loads(result.stdout), reported):
            assert (record["code"], record["error"]) == (2, line.removeprefix("error: ")), record

    def test_a_batch_records_it_as_the_input_alone_gives_it(self, image, invoke, failing_pad):
        (image / "in").mkdir()
        (image / "a.png").rename(image / "in" / "a.png")
        failing_pad(lambda: ImportError("/x/m.so: failed to map segment from shared object"))
        result = invoke("pad", "in", "--p", "1", "--out-dir", "out", "-j", "1", "--json")
        assert result.exit_code == 1, result.output
        [record] = json.loads(result.stdout)["items"]
        assert record["code"] == 2 and WORDS in record["error"], record


#: a child that caps its address space (as ``ulimit -v`` does) or not, notes the OpenBLAS thread count in the
#: environment when numpy is first imported, then runs ``learn``
_NOTING_BLAS = """
import os, resource, sys
if sys.argv[1] == "capped":
    resource.setrlimit(resource.RLIMIT_AS, (64 << 30, resource.getrlimit(resource.RLIMIT_AS)[1]))
seen = []
class Noting:
    def find_spec(self, name, path=None, target=None):
        if name == "numpy" and not seen:
            seen.append(os.environ.get("OPENBLAS_NUM_THREADS"))
        return None
sys.meta_path.insert(0, Noting())
from kernelcli.cli import main
sys.argv = ["kernelcli", "learn", "x.npy", "t.npy", "-f", "3", "-q"]
try:
    main()
except SystemExit:
    pass
print("blas threads:", seen)
"""


class TestLearnUnderAnAddressSpaceCap:
    @pytest.mark.parametrize("cap", ["capped", "free"])
    def test_numpy_loads_with_one_openblas_thread_only_where_the_address_space_is_capped(self, tmp_path, cap):
        import os
        import subprocess
        import sys

        pytest.importorskip("resource")
        x = np.random.default_rng(1).random((20, 20))
        np.save(tmp_path / "x.npy", x)
        np.save(tmp_path / "t.npy", x)
        env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS",
                                                                  "OMP_NUM_THREADS")}
        env["KERNELCLI_WORKER"] = "off"
        done = subprocess.run([sys.executable, "-c", _NOTING_BLAS, cap], cwd=tmp_path, env=env, capture_output=True,
                              text=True, timeout=300)
        assert f"blas threads: {['1'] if cap == 'capped' else [None]}" in done.stdout, done.stdout + done.stderr
        assert "OPENBLAS_NUM_THREADS" not in env


class TestATiledRunWhoseSchedulerThreadCannotStart:
    @pytest.mark.parametrize("out", ["t.zarr", "t.npy"])
    def test_the_tasks_run_on_the_calling_thread_with_the_same_bytes(self, tmp_path, monkeypatch, out):
        import threading

        pytest.importorskip("dask")
        np.save(tmp_path / "u8.npy", np.random.default_rng(5).integers(0, 256, (1200, 1000)).astype(np.uint8))
        args = ("convolve", "u8.npy", "-k", "gaussian:2", "--chunks", "256", "-q")
        env = {"KERNELCLI_WORKER": "off"}
        r = run_in_process(*args, "-o", f"threads_{out}", cwd=tmp_path, env=env)
        assert r.returncode == 0, r.stderr
        start, started, refused = threading.Thread.start, [], []

        def start_one_pool_thread(self):  # (the pool's first thread starts, the next cannot: tiles ran on it first)
            if self.name.startswith("ThreadPoolExecutor"):
                if started:
                    refused.append(self.name)
                    raise RuntimeError("can't start new thread")
                started.append(self.name)
            return start(self)

        monkeypatch.setattr(threading.Thread, "start", start_one_pool_thread)
        r = run_in_process(*args, "-o", out, "--report", "r.json", cwd=tmp_path, env=env)
        monkeypatch.undo()
        assert (r.returncode, r.stderr) == (0, "") and refused, r.stderr
        assert json.loads((tmp_path / "r.json").read_text())["items"][0]["code"] == 0
        if out.endswith(".zarr"):
            zarr = pytest.importorskip("zarr")
            got, want = zarr.open(str(tmp_path / out), mode="r")[...], zarr.open(str(tmp_path / f"threads_{out}"), mode="r")[...]
            assert got.dtype == want.dtype and got.tobytes() == want.tobytes()
        else:
            assert (tmp_path / out).read_bytes() == (tmp_path / f"threads_{out}").read_bytes()


class TestASystemRefusalWhileATileReadsIsNotTheFiles:
    @pytest.fixture
    def npy(self, tmp_path):
        path = tmp_path / "u8.npy"
        np.save(path, np.arange(48, dtype=np.uint8).reshape(6, 8))
        return path

    @pytest.mark.parametrize("where", ["np.load", "open", "preadv"])
    @pytest.mark.parametrize("errno_name", ["EMFILE", "ENFILE", "ENOMEM"])
    def test_the_tile_says_the_systems_refusal(self, npy, monkeypatch, where, errno_name):
        import builtins
        import errno
        import os

        from kernelcli.errors import InputError
        from kernelcli.limits import OutOfMemory
        from kernelcli.tiled.reading import NpyReads

        code = getattr(errno, errno_name)

        def refuse(*args, **kwargs):
            raise OSError(code, os.strerror(code))

        reads = NpyReads(npy, (6, 8), np.dtype(np.uint8))
        real_open = builtins.open
        if where == "np.load":
            monkeypatch.setattr(np, "load", refuse)
        elif where == "open":
            monkeypatch.setattr(builtins, "open", lambda f, *a, **k: refuse() if str(f) == reads.path else real_open(f, *a, **k))
        else:
            monkeypatch.setattr(os, "preadv", refuse)
        with pytest.raises((InputError, OutOfMemory)) as caught:
            reads[0:3, 2:6]
        if errno_name == "ENOMEM":
            assert isinstance(caught.value, OutOfMemory) and str(caught.value).startswith(f"{reads.name}: {WORDS}")
        else:
            assert str(caught.value) == f"{reads.name}: cannot read: {os.strerror(code)}"
            assert "as .npy" not in str(caught.value)


class TestOneReaderOfANpysData:
    """#5: the in-memory read and a tile's read were two functions; running out of memory reading a .npy had words of
    its own ('not enough memory to read it', 'cannot read: Cannot allocate memory')."""

    @pytest.fixture
    def npy(self, tmp_path):
        path = tmp_path / "n.npy"
        np.save(path, np.asfortranarray(np.arange(600, dtype=">f8").reshape(20, 30)))
        return path

    def test_the_in_memory_read_is_the_tiles_read(self, npy, monkeypatch):
        from kernelcli.io import arrays
        from kernelcli.tiled import reading

        asked = []
        real = reading.read_block
        monkeypatch.setattr(reading, "read_block", lambda *args: asked.append(args[-1]) or real(*args))
        loaded = arrays.read_npy(npy, None)
        assert asked == [(slice(None), slice(None))]
        assert loaded.data.dtype.isnative and loaded.data.flags.f_contiguous
        assert loaded.data.tolist() == np.arange(600.0).reshape(20, 30).tolist()

    @pytest.mark.parametrize("where", ["map", "read"])
    def test_running_out_of_memory_reading_it_is_the_one_line(self, npy, monkeypatch, where):
        import errno
        import os

        from kernelcli.io import arrays
        from kernelcli.limits import OutOfMemory

        def refuse(*args, **kwargs):
            if where == "map":
                raise MemoryError()
            raise OSError(errno.ENOMEM, os.strerror(errno.ENOMEM))

        monkeypatch.setattr(np, "load", refuse) if where == "map" else monkeypatch.setattr(os, "preadv", refuse)
        with pytest.raises(OutOfMemory) as caught:
            arrays.read_npy(npy, None)
        assert str(caught.value).startswith(f"{npy}: {WORDS}")
