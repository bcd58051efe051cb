"""Numba's on-disk cache written by processes that compile at once (kernelcli/_core/jit.py, numba#10128).

Found in this session's own runs: two pytest-xdist processes compiled ``pad.pad_rows`` at once in a fresh checkout;
its index named ``pad_rows...1.nbc`` for uint8 rows while the file held the uint16 loop, and every later uint8 pad,
in every process, failed "can't unbox array from PyObject into native value" (exit 70) until the cache was removed.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("numba")

MODULE = '''
import numpy as np
from {njit_from} import njit

@njit(cache=True)
def total(a):
    s = a[0] * 0
    for v in a:
        s += v
    return s
'''

#: one process: compile ``total`` for DTYPE; with "meet", each process marks that it came to its save, and numba's
#: save of the index, between reading it and writing it, waits until both came: where two processes at once both take
#: the first free number.  kernelcli's save marks before it takes its lock, so the first one waits there inside it,
#: and the second then waits for the lock.  No time limit decides it (a 3 s one did: a process 3 s behind the other
#: under load, and numba's own save no longer raced)
CALLER = '''
import glob, os, sys, time
import numpy as np
sys.path.insert(0, sys.argv[1])
if sys.argv[3] == "meet":
    from numba.core import caching
    def came(save):
        def coming(self, *args):
            open(os.path.join(sys.argv[1], f"came-{os.getpid()}"), "w").close()
            return save(self, *args)
        return coming
    caching.IndexDataCacheFile.save = came(caching.IndexDataCacheFile.save)
    if "kernelcli" in open(os.path.join(sys.argv[1], "racy.py")).read():
        from kernelcli._core import jit
        jit._LockedIndex.save = came(jit._LockedIndex.save)
    save_index = caching.IndexDataCacheFile._save_index
    def meet(self, overloads):
        deadline = time.monotonic() + 240  # (a safety net only: each process comes once it has compiled)
        while len(glob.glob(os.path.join(sys.argv[1], "came-*"))) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        save_index(self, overloads)
    caching.IndexDataCacheFile._save_index = meet
import racy
a = np.arange(1, 11).astype(sys.argv[2])
print(racy.total(a))
'''


def _module(folder: Path, guarded: bool) -> None:
    folder.mkdir()
    (folder / "racy.py").write_text(MODULE.format(njit_from="kernelcli._core.jit" if guarded else "numba"))
    (folder / "caller.py").write_text(CALLER)


def _run_at_once(folder: Path, dtypes, speed: str) -> list[subprocess.CompletedProcess]:
    import kernelcli

    env = {**os.environ, "PYTHONPATH": str(Path(kernelcli.__file__).resolve().parent.parent)}  # (this kernelcli)
    started = [subprocess.Popen([sys.executable, str(folder / "caller.py"), str(folder), dtype, speed], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for dtype in dtypes]
    return [subprocess.CompletedProcess(p.args, p.wait(timeout=300), *p.communicate()) for p in started]


def _index(folder: Path) -> dict:
    """signature (the argument types' names) -> data file, as the index says."""
    (index,) = (folder / "__pycache__").glob("racy.total-*.nbi")
    with open(index, "rb") as f:
        pickle.load(f)
        _stamp, overloads = pickle.loads(f.read())
    return {str(key[0]): name for key, name in overloads.items()}


@pytest.mark.parametrize("guarded", [True, False], ids=["kernelcli's njit", "numba's own"])
def test_two_processes_compiling_at_once_leave_a_cache_every_later_call_can_use(tmp_path, guarded):
    folder = tmp_path / "m"
    _module(folder, guarded)
    first = _run_at_once(folder, ["int16", "float32"], "meet")
    assert [(r.returncode, r.stdout) for r in first] == [(0, "55\n"), (0, "55.0\n")], [r.stderr[-800:] for r in first]
    if not guarded:  # numba's own save, the two met in it: both took number 1, one entry lost (this checks the test)
        assert list(_index(folder).values()) == ["racy.total-5.py311.1.nbc"], _index(folder)
        return
    assert sorted(_index(folder).values()) == ["racy.total-5.py311.1.nbc", "racy.total-5.py311.2.nbc"], _index(folder)
    later = _run_at_once(folder, ["int16", "float32"], "fast")
    assert [(r.returncode, r.stdout) for r in later] == [(0, "55\n"), (0, "55.0\n")], [r.stderr[-800:] for r in later]


def test_a_cache_poisoned_before_the_fix_is_compiled_again_and_mended(tmp_path):
    """An index naming, for int16, the file of the float32 code (and back), as the race left it."""
    folder = tmp_path / "m"
    _module(folder, True)
    for dtype in ("int16", "float32"):
        r = _run_at_once(folder, [dtype], "fast")[0]
        assert r.returncode == 0, r.stderr
    (path,) = (folder / "__pycache__").glob("racy.total-*.nbi")
    with open(path, "rb") as f:
        version = pickle.load(f)
        stamp, overloads = pickle.loads(f.read())
    (k1, n1), (k2, n2) = overloads.items()
    with open(path, "wb") as f:
        pickle.dump(version, f, protocol=-1)
        f.write(pickle.dumps((stamp, {k1: n2, k2: n1}), protocol=-1))
    results = [_run_at_once(folder, [dtype], "fast")[0] for dtype in ("int16", "float32", "int16")]
    assert [(r.returncode, r.stdout) for r in results] == [(0, "55\n"), (0, "55.0\n"), (0, "55\n")], \
        [r.stderr[-800:] for r in results]


def test_every_cached_loop_of_the_core_has_the_guarded_cache():
    import importlib
    import pkgutil

    import numba

    import kernelcli._core as core
    from kernelcli._core import jit

    unguarded = []
    for info in pkgutil.iter_modules(core.__path__):
        module = importlib.import_module(f"kernelcli._core.{info.name}")
        for name, value in vars(module).items():
            if isinstance(value, numba.core.registry.CPUDispatcher) and value._cache.__class__.__name__ != "NullCache":
                if type(value._cache) is not jit._CheckedCache or type(value._cache._cache_file) is not jit._LockedIndex:
                    unguarded.append(f"{info.name}.{name}")
    assert not unguarded, unguarded
