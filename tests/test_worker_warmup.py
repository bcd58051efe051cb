"""What the warm worker prepares before it forks, so that a call's process does not redo it:
quick in-process tests (no worker is started)."""

from __future__ import annotations

import weakref

import numpy as np

from kernelcli import jitcache
from kernelcli.worker import server, warmup


class _Dispatcher:
    """A stand-in for a Numba dispatcher: loaded signatures, and a cache index nowhere."""

    def __init__(self, overloads, index):
        self.overloads = {sig: None for sig in overloads}

        class _File:
            _index_path = str(index)

        class _Cache:
            _cache_file = _File()

        self._cache = _Cache()


SIG = "(Array(uint8, 2, 'C', True, aligned=True), Array(float32, 2, 'C', False, aligned=True))"


def test_a_loaded_version_counts_as_cached_without_reading_the_index(tmp_path):
    missing = tmp_path / "nothing.nbi"  # reading it would say "not cached"
    assert jitcache.is_cached(_Dispatcher([SIG], missing), "uint8", "float32")
    assert not jitcache.is_cached(_Dispatcher([SIG], missing), "float32", "uint8")  # the order counts
    assert not jitcache.is_cached(_Dispatcher([], missing), "uint8", "float32")


def test_numba_exit_finalizers_are_dropped_and_no_others():
    import numba

    @numba.njit
    def twice(x):
        return 2 * x

    assert twice(2) == 4

    class Thing:
        pass

    thing = Thing()
    ours = weakref.finalize(thing, lambda: None)
    numba_ones = [f for f, info in weakref.finalize._registry.items() if getattr(info.func, "__module__", "") == "numba.core.dispatcher"]
    assert numba_ones and all(f.atexit for f in numba_ones)
    warmup._quiet_numba_exit()
    assert not any(f.atexit for f in numba_ones)
    assert ours.atexit
    ours.detach()


def test_the_dry_parse_runs_no_command(tmp_path, monkeypatch):
    import re

    from kernelcli.cli import build_command

    monkeypatch.chdir(tmp_path)
    re.purge()
    warmup._dry_parse(build_command())
    assert list(tmp_path.iterdir()) == []  # convolve and pool were parsed, not run
    # what every call with a short option compiled (Click's escaping of the option it tried as a long one)
    assert any("x7f" in str(key) for key in re._cache)


def test_loaded_versions_answer_the_first_compile_note(tmp_path, monkeypatch):
    """Numba's own signatures read as the index file's do (the index is out of reach here)."""
    from kernelcli import api
    from kernelcli._core import conv
    from kernelcli._core.policy import Paths

    x = np.zeros((20, 20), np.uint8)
    api.conv2d(x, np.ones((3, 3)), paths=Paths(force="dense"))
    monkeypatch.setattr(jitcache, "index_path", lambda _dispatcher: tmp_path / "nothing.nbi")
    assert jitcache.is_cached(conv.dense_rows, "uint8", "float32")


def test_a_child_that_ends_wakes_the_loop():
    import os
    import select

    wake = server._child_exit_wakeup()
    assert wake is not None
    try:
        pid = os.fork()
        if pid == 0:
            os._exit(0)
        ready, _, _ = select.select([wake], [], [], 10)
        assert ready == [wake]
        server._drain(wake)
        os.waitpid(pid, 0)
        assert select.select([wake], [], [], 0)[0] == []
    finally:
        server._forget_child_exit_wakeup(wake)
    import signal

    assert signal.getsignal(signal.SIGCHLD) == signal.SIG_DFL and signal.set_wakeup_fd(-1) == -1


def test_the_loader_skips_eagerly_compiled_versions(monkeypatch, tmp_path):
    """A function compiled from an explicit signature is cached under the signature's text; the
    loader took that for a new signature and added its one version again, and every call then
    stopped at Numba's 'ambiguous' (a photo's JPEG through the worker did, with kernelcli._core.eightbit
    declared so for a while)."""
    import importlib.util

    from kernelcli.worker import warmup

    source = tmp_path / "eager_probe.py"
    source.write_text("from numba import njit\n\n\n@njit('int64(int64)', cache=True)\ndef twice(x):\n    return 2 * x\n")
    spec = importlib.util.spec_from_file_location("eager_probe", source)
    probe = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(probe)  # compiled and cached at import, under the signature's text
    monkeypatch.setattr(warmup, "dispatchers", lambda: [probe.twice])
    warmup.load_cached_overloads()
    assert len(probe.twice.overloads) == 1 and probe.twice(4) == 8


def test_a_loaded_version_can_be_called_from_code_compiled_later():
    """The defect: the loader added cached versions without registering them for lowering, as Numba's
    own cache hit does; a function compiled afterwards in that process (a call's new specialisation in
    the worker, or a test's own jitted caller) then failed with "No definition for lowering"."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    import kernelcli

    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(Path(kernelcli.__file__).parent.parent), os.environ.get("PYTHONPATH")]))}

    compile_first = (
        "import numpy as np\n"
        "from kernelcli import api\n"
        "from kernelcli._core.policy import Paths\n"
        "api.conv2d(np.ones((20, 20)), np.ones((5, 5)), paths=Paths(force='dense'))\n"  # caches the float64 tap passes
    )
    load_then_compile = (
        "import numpy as np\n"
        "from numba import njit\n"
        "from kernelcli.worker import warmup\n"
        "from kernelcli._core import taps\n"
        "assert warmup.load_cached_overloads() > 0\n"
        "@njit\n"
        "def caller(dst, src, starts, ws):\n"
        "    taps.apply_taps(dst, src, 0, starts, ws)\n"
        "src, starts, ws = np.arange(40.0), np.arange(9, dtype=np.int64), np.ones(9)\n"
        "for a in (src, starts, ws):\n"
        "    a.flags.writeable = False\n"
        "dst = np.empty(10)\n"
        "caller(dst, src, starts, ws)\n"
        "print(dst[0])\n"
    )
    for script in (compile_first, load_then_compile):
        r = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=600)
        assert r.returncode == 0, r.stderr[-2000:]
    assert float(r.stdout.split()[-1]) == sum(range(9))


def test_a_socket_path_of_the_longest_length_binds(tmp_path):
    """The defect: the socket was bound under its own name plus ``.PID.tmp``, so a runtime folder that
    left the socket's path under the 107 bytes a Unix socket allows still failed ("AF_UNIX path too
    long": pytest's numbered temporary folders reached it at pytest-1000)."""
    name = "worker-0123abcd.sock"
    folder = tmp_path / ("d" * max(1, 107 - len(str(tmp_path)) - len(name) - 2))
    folder.mkdir(mode=0o700)
    path = folder / name
    assert len(str(path).encode()) == 107
    listener = server.Server(path, 60).bind()
    try:
        assert path.is_socket() and sorted(p.name for p in folder.iterdir()) == [name]
    finally:
        listener.close()


class TestHugePages:
    """The warm worker's memory in 2 MiB pages (:mod:`kernelcli.worker.hugepages`): what it
    collapses, and that the memory holds the same bytes after, in the worker and in a fork."""

    def test_only_private_anonymous_writable_memory_cut_to_2_mib(self):
        from kernelcli.worker.hugepages import spans

        maps = (
            "55d0a1e00000-55d0a2200000 rw-p 00000000 00:00 0                          [heap]\n"
            "7f0000100000-7f0000700000 rw-p 00000000 00:00 0 \n"  # anonymous, unaligned at both ends
            "7f0000800000-7f0000a00000 r--p 00000000 00:00 0 \n"  # read-only
            "7f0000a00000-7f0000e00000 rw-p 00001000 08:01 77 /usr/lib/libx.so\n"  # a file's data
            "7f0001000000-7f0001100000 rw-p 00000000 00:00 0 \n"  # anonymous, under 2 MiB
            "7f0002000000-7f0002400000 rw-s 00000000 00:01 9 /dev/zero (deleted)\n"  # shared
            "7ffc00000000-7ffc00400000 rw-p 00000000 00:00 0                          [stack]\n"
        )
        assert [(hex(a), hex(b)) for a, b in spans(maps)] == [
            ("0x55d0a1e00000", "0x55d0a2200000"), ("0x7f0000200000", "0x7f0000600000")]

    def test_collapsing_keeps_the_bytes_here_and_in_a_fork(self):
        import subprocess
        import sys

        script = (  # in a process of its own: the fork, and what it collapses, stay out of pytest's
            "import mmap, os, random\n"
            "from kernelcli.worker import hugepages\n"
            "size = 8 << 20\n"
            "region = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)\n"
            "data = random.Random(3).randbytes(size)\n"
            "region.write(data)\n"
            "collapsed = hugepages.collapse()\n"
            "assert collapsed >= 0 and region[:] == data\n"
            "pid = os.fork()\n"
            "if pid == 0:  # the call's process writes into the memory it shares: its own copy only\n"
            "    region[0:4096] = bytes(4096)\n"
            "    os._exit(0 if region[:4096] == bytes(4096) and region[4096:] == data[4096:] else 1)\n"
            "assert os.waitpid(pid, 0)[1] == 0 and region[:] == data\n"
            "print(collapsed)\n"
        )
        r = subprocess.run([sys.executable, "-c", script], check=False, capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr
        assert int(r.stdout) >= 0
