"""Review 250 #3, #6, #7 of kernelcli/_core/jit.py (128746a, the locked Numba cache save).

#3: a save waited for the cache folder's lock with no end: a process stopped (not killed: Ctrl-Z, ``kill -STOP``, a
scheduler's suspend) while it held the lock left every compile into that folder blocked, saying nothing (40 s and
counting).  A save now waits at most ``LOCK_WAIT`` seconds, then is skipped: the call runs on the code compiled in
memory.  #6: the ``alive`` overload (retype.py) cached through Numba's own, unguarded save (two processes took one
number for two signatures); it is not cached now (its callers are).  #7: ``njit`` took keywords only; ``@njit`` and
``njit(f)`` failed at import.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import textwrap
import time

from conftest import REPO

#: a function cached in a fresh cache folder whose lock another descriptor holds; what the call gave, how long it took,
#: and what the folder held after it
HELD = textwrap.dedent("""
    import fcntl, os, sys, time
    from kernelcli._core import jit

    @jit.njit(cache=True)
    def total(a):
        return a.sum()

    import numpy as np
    folder = total._cache._cache_path
    os.makedirs(folder, exist_ok=True)
    holder = os.open(folder, os.O_RDONLY)
    if sys.argv[1] == "held":
        fcntl.flock(holder, fcntl.LOCK_EX)  # (another open description: the call's own flock cannot take it)
    jit.LOCK_WAIT = 0.5
    start = time.monotonic()
    print(total(np.arange(10.0)), round(time.monotonic() - start, 1), sorted(n.rsplit(".", 1)[-1] for n in os.listdir(folder)))
""")


def _run(tmp_path, script: str, *args: str) -> subprocess.CompletedProcess:
    (tmp_path / "held.py").write_text(script)
    env = {**os.environ, "PYTHONPATH": str(REPO), "NUMBA_CACHE_DIR": str(tmp_path / "cache")}
    return subprocess.run([sys.executable, "held.py", *args], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=120)


def test_a_save_whose_lock_is_held_elsewhere_is_skipped_not_waited_for(tmp_path):
    done = _run(tmp_path, HELD, "held")
    assert done.returncode == 0, done.stderr
    value, seconds, names = done.stdout.split(" ", 2)
    assert value == "45.0" and float(seconds) < 30 and names.strip() == "[]", done.stdout  # nothing saved
    done = _run(tmp_path, HELD, "free")  # the lock free: saved, as before
    assert done.returncode == 0 and "'nbc', 'nbi'" in done.stdout, (done.stdout, done.stderr)


def test_the_lock_is_given_within_its_wait(tmp_path):
    from kernelcli._core.jit import _locked

    holder = os.open(tmp_path, os.O_RDONLY)
    try:
        fcntl.flock(holder, fcntl.LOCK_EX)
        start = time.monotonic()
        with _locked(str(tmp_path), wait=0.2) as held:
            assert held is False
        assert time.monotonic() - start < 5
    finally:
        os.close(holder)
    with _locked(str(tmp_path), wait=0.2) as held:
        assert held is True


def test_njit_is_spelt_as_numba_spells_it():
    from kernelcli._core.jit import njit

    @njit
    def bare(x):
        return x + 1

    def plain(x):
        return x * 3

    assert bare(1) == 2 and njit(plain)(2) == 6 and njit("int64(int64)")(plain)(3) == 9 and njit(cache=False)(plain)(4) == 12


ALIVE = textwrap.dedent("""
    import os
    import numpy as np
    from kernelcli._core.jit import njit
    from kernelcli._core.retype import alive

    @njit(cache=True)
    def kept(a):
        b = np.empty_like(a)
        alive(a, b)
        return a.size

    print(kept(np.zeros(3)), sorted(n for _, _, names in os.walk(os.environ["NUMBA_CACHE_DIR"]) for n in names))
""")


def test_no_overload_of_the_core_saves_through_numba_s_own_cache(tmp_path):
    done = _run(tmp_path, ALIVE)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("3 [") and "kept" in done.stdout and "alive" not in done.stdout, done.stdout
    core = REPO / "kernelcli" / "_core"
    assert not [p.name for p in core.glob("*.py") if "jit_options" in p.read_text()]  # (an overload's own cache)
