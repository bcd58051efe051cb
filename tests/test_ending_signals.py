"""Audit 232 #3: a signal whose default action ends the process (SIGALRM, SIGUSR1, SIGUSR2, SIGVTALRM, SIGPROF, the
real-time ones) sent to a cold call in the middle of a write killed it there and left its hidden ``.part`` (the whole
output's size) for good; the warm worker's call, forsaken by its dead client, removed its own.  Now the cold call
removes its temporary files as for SIGTERM, says and publishes nothing (no error line, no ``--report``), and ends of
the signal, as the caller would see it without kernelcli's handler."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import numpy as np
import pytest

from conftest import REPO, interruptible

ENDING = [signal.SIGALRM, signal.SIGUSR1, signal.SIGUSR2, signal.SIGVTALRM, signal.SIGPROF]
if hasattr(signal, "SIGRTMIN"):
    ENDING += [signal.SIGRTMIN, signal.SIGRTMAX]

#: a cold ``kernelcli convolve`` whose .npy writer is slow: it has written part of the temporary file when the
#: signal comes (sent by the call to itself: no race with the test)
SLOW_WRITE = """
import os, sys, time
import numpy as np
real = np.save
def slow_save(f, arr, **kw):
    f.write(b"\\x93NUMPY")
    os.kill(os.getpid(), {sig})
    time.sleep(0.5)
    real(f, arr, **kw)
np.save = slow_save
from kernelcli.cli import entry
sys.argv = ["kernelcli", "convolve", "a.npy", "-k", "box:3", "-o", "o.npy", "--report", "r.json"]
entry()
"""

#: the same, the signal coming as the tiled writer's temporary .npy is made (inside its deferred block)
TILED_WRITE = """
import os, sys
from kernelcli.io import outputs
real = outputs.new_file
def made_then_signal(*args, **kwargs):
    made = real(*args, **kwargs)
    os.kill(os.getpid(), {sig})
    return made
outputs.new_file = made_then_signal
from kernelcli.cli import entry
sys.argv = ["kernelcli", "convolve", "a.npy", "-k", "box:3", "-o", "o.npy", "--tiled", "--chunks", "32", "--report", "r.json"]
entry()
"""


def _run(tmp_path, script: str, sig: int, ignored: bool = False) -> subprocess.CompletedProcess:
    np.save(tmp_path / "a.npy", np.random.default_rng(0).random((64, 80)).astype(np.float32))
    env = {**os.environ, "PYTHONPATH": str(REPO), "KERNELCLI_WORKER": "off"}

    def start() -> None:
        interruptible()
        signal.signal(sig, signal.SIG_IGN if ignored else signal.SIG_DFL)

    return subprocess.run([sys.executable, "-c", script.format(sig=int(sig))], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=120, preexec_fn=start)


@pytest.mark.parametrize("sig", ENDING, ids=lambda s: signal.Signals(s).name)
def test_a_signal_that_ends_the_process_mid_write_leaves_no_part_and_ends_it(tmp_path, sig):
    done = _run(tmp_path, SLOW_WRITE, sig)
    assert done.returncode == -sig, done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.npy"]  # no .part, no output, no --report
    assert (done.stdout, done.stderr) == ("", "")


@pytest.mark.parametrize("sig", [signal.SIGALRM, signal.SIGUSR1], ids=["ALRM", "USR1"])
def test_a_tiled_write_stopped_by_such_a_signal_leaves_no_part(tmp_path, sig):
    pytest.importorskip("dask.array")
    done = _run(tmp_path, TILED_WRITE, sig)
    assert done.returncode == -sig, done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.npy"]
    assert done.stderr == ""


def test_such_a_signal_the_caller_ignores_stays_ignored(tmp_path):
    done = _run(tmp_path, SLOW_WRITE, signal.SIGUSR1, ignored=True)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.npy", "o.npy", "r.json"]


def test_a_call_in_process_gives_the_signals_back():
    from kernelcli.cli import run

    before = {sig: signal.getsignal(sig) for sig in ENDING}
    assert run(["shape", "--in", "8", "--f", "3", "-q"]) == 0
    assert {sig: signal.getsignal(sig) for sig in ENDING} == before


@pytest.mark.skipif(not hasattr(signal, "SIGRTMIN"), reason="a real-time signal, handled after SIGTERM")
def test_one_that_comes_while_a_sigterm_unwinds_the_call_is_dropped(tmp_path):
    # the first stop is the one said and its code the exit code (README, exit codes); both come at once, SIGTERM's
    # handler runs first (the lower number) and the real-time one's while the call unwinds
    both = "signal.SIGTERM, signal.SIGRTMIN"
    script = SLOW_WRITE.replace("import os, sys, time", "import os, signal, sys, time").replace(
        "    os.kill(os.getpid(), {sig})\n",
        f"    signal.pthread_sigmask(signal.SIG_BLOCK, [{both}])\n"
        f"    for s in ({both}): os.kill(os.getpid(), s)\n"
        f"    signal.pthread_sigmask(signal.SIG_UNBLOCK, [{both}])\n")
    done = _run(tmp_path, script, signal.SIGRTMIN)
    assert done.returncode == 143, done.stderr
    assert done.stderr.splitlines() == ["error: terminated (SIGTERM); temporary files removed"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.npy", "r.json"]
