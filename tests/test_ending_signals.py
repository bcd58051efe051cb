"""Audit 232 #3: a signal whose default action ends the process (SIGALRM, SIGUSR1, SIGUSR2, SIGVTALRM, SIGPROF, the
real-time ones) sent to a cold call in the middle of a write killed it there and left its hidden ``.part`` (the whole
output's size) for good; the warm worker's call, forsaken by its dead client, removed its own.  Now the cold call
removes its temporary files as for SIGTERM, says and publishes nothing (no error line, no ``--report``), and ends of
the signal, as the caller would see it without kernelcli's handler."""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys

import numpy as np
import pytest

from conftest import REPO, interruptible

ENDING = [signal.SIGALRM, signal.SIGUSR1, signal.SIGUSR2, signal.SIGVTALRM, signal.SIGPROF, signal.SIGXCPU]  # (XCPU: review 250 #1)
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
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # (SIGXCPU's default dumps core: none in the folder)
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


#: a host that runs calls in-process (``kernelcli.cli.run``, and conftest's run_in_process: ``_call``, the path of
#: ``python -m kernelcli``), each stopped mid-write by one signal, and writes, for each, every watched signal's handler
#: before and after the call (to a file: a call such a signal stops silences the process's stdout and stderr, as the
#: process is to end)
IN_PROCESS = """
import json, os, signal, sys
sys.path.insert(0, sys.argv[2])
import numpy as np
from conftest import run_in_process
from kernelcli import cli, stops
watched = sorted({*stops.ENDING, signal.SIGINT, signal.SIGTERM, signal.SIGHUP})
def host(signum, frame):
    pass
# the host's own: one ignored, one handled (both of stops.ENDING), kept as they are
signal.signal(signal.SIGIO, signal.SIG_IGN)
signal.signal(signal.SIGPWR, host)
def handlers():
    return {str(s): str(getattr(signal.getsignal(s), "__name__", signal.getsignal(s))) for s in watched}
real = np.save
args = ["convolve", "a.npy", "-k", "box:3", "-o", "o.npy"]
answers = []
for name in sys.argv[3:]:
    sig = int(name)
    def slow_save(f, arr, **kw):
        f.write(b"\\x93NUMPY")
        os.kill(os.getpid(), sig)
        real(f, arr, **kw)
    np.save = slow_save
    for how in ("run", "run_in_process"):
        before = handlers()
        code = cli.run(args) if how == "run" else run_in_process(*args).returncode
        answers.append({"sig": sig, "how": how, "code": code, "before": before, "after": handlers(),
                        "left": sorted(p for p in os.listdir(".") if p != "a.npy")})
np.save = real
with open(sys.argv[1], "w") as f:
    json.dump(answers, f)
"""


def test_a_call_in_process_stopped_by_any_stop_gives_every_handler_back(tmp_path):
    # bfc7cbd: a stopped call's process was left with SIGALRM, SIGUSR1 ... ignored, and every child it started after
    # inherited that; a call run in-process must leave the host's handlers as it found them.  cli.run, a call's body
    # (the worker's call process runs it), gives back those it took (stops.ENDING); SIGINT, SIGTERM and SIGHUP are
    # taken from the call's first line (cli._call) and given back by main() (below) and run_in_process
    np.save(tmp_path / "a.npy", np.random.default_rng(0).random((64, 80)).astype(np.float32))
    env = {**os.environ, "PYTHONPATH": str(REPO), "KERNELCLI_WORKER": "off"}
    stopping = [*ENDING, signal.SIGTERM]
    done = subprocess.run([sys.executable, "-c", IN_PROCESS, str(tmp_path / "answers.json"), str(REPO / "tests"),
                           *(str(int(s)) for s in stopping)],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, preexec_fn=interruptible)
    assert done.returncode == 0, done.stderr
    import json

    from kernelcli.stops import ENDING as ALL_ENDING

    answers = json.loads((tmp_path / "answers.json").read_text())
    assert [(a["sig"], a["how"]) for a in answers] == [(int(s), how) for s in stopping for how in ("run", "run_in_process")]
    for answer in answers:
        watched = [str(s) for s in ALL_ENDING] if answer["how"] == "run" else list(answer["before"])
        assert {s: answer["after"][s] for s in watched} == {s: answer["before"][s] for s in watched}, answer
        assert answer["left"] == [], answer  # no .part, no output
        assert answer["code"] == 128 + answer["sig"], answer
    first = answers[0]["before"]
    assert [first[str(int(s))] for s in (signal.SIGALRM, signal.SIGUSR1, signal.SIGIO, signal.SIGPWR, signal.SIGTERM)] == [
        "0", "0", "1", "host", "0"]  # (SIG_DFL, SIG_IGN: 0, 1)


#: a host that runs ``kernelcli.cli.main()`` in-process and writes every signal's handler as its process ends (an
#: ``atexit`` function: the process, ended of the signal that stopped the call, runs them first)
MAIN_HOST = """
import atexit, json, os, signal, sys
import numpy as np
from kernelcli import cli
sig = int(sys.argv[1])
def handlers():
    return {s: str(getattr(signal.getsignal(s), "__name__", signal.getsignal(s))) for s in range(1, signal.NSIG)
            if s in signal.valid_signals()}
def host(signum, frame):
    pass
signal.signal(signal.SIGPWR, host)
before = handlers()
def told():
    with open("handlers.json", "w") as f:
        json.dump({"before": before, "after": handlers()}, f)
atexit.register(told)
real = np.save
def slow_save(f, arr, **kw):
    f.write(b"\\x93NUMPY")
    os.kill(os.getpid(), sig)
    real(f, arr, **kw)
np.save = slow_save
sys.argv = ["kernelcli", "convolve", "a.npy", "-k", "box:3", "-o", "o.npy"]
cli.main()
"""


@pytest.mark.parametrize("sig", [*ENDING, signal.SIGTERM], ids=lambda s: signal.Signals(s).name)
def test_main_in_process_gives_every_handler_back_before_its_host_ends(tmp_path, sig):
    np.save(tmp_path / "a.npy", np.random.default_rng(0).random((64, 80)).astype(np.float32))
    env = {**os.environ, "PYTHONPATH": str(REPO), "KERNELCLI_WORKER": "off"}
    done = subprocess.run([sys.executable, "-c", MAIN_HOST, str(int(sig))], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=120, preexec_fn=interruptible)
    import json

    told = json.loads((tmp_path / "handlers.json").read_text())
    assert told["after"] == told["before"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.npy", "handlers.json"]
    # an ending signal ends the host of it (its default action, the host's); SIGTERM is said, exit 143
    assert done.returncode == (143 if sig == signal.SIGTERM else -sig), done.stderr


#: a kept stop (stops._keep_stop: one Python would lose, raised again 1 ms later by SIGALRM) still waits as the call
#: gives its handlers back; SIGALRM is blocked meanwhile, so that the alarm comes after, whatever the machine's load
KEPT_STOP = """
import signal, sys, time, types
from kernelcli import stops
from kernelcli.cli import _signals, _start_stops
found = _start_stops.stops_found()
stops.raise_lost_stops()
signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGALRM])
_signals.take_ending_signals()
stops._keep_stop(types.SimpleNamespace(exc_value=KeyboardInterrupt()))
{give_back}
try:
    signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGALRM])
    time.sleep(5)
    print("not raised")
except KeyboardInterrupt:
    print("raised again", signal.getsignal(signal.SIGALRM) is signal.SIG_DFL)
"""


@pytest.mark.parametrize("give_back", ["_signals.give_back_ending_signals()", "_start_stops.restore_stops(found)"],
                         ids=["end_call", "main"])
def test_a_kept_stop_still_waiting_as_the_call_ends_gets_the_found_sigalrm_back(give_back):
    # the call's end met SIGALRM held by the kept stop (not its own handler): it left it, and the stop then put the
    # call's handler back for good (end_call: 'raised again False'); put back at once, its alarm would end the process
    done = subprocess.run([sys.executable, "-c", KEPT_STOP.format(give_back=give_back)], capture_output=True, text=True,
                          timeout=60, env={**os.environ, "PYTHONPATH": str(REPO)}, preexec_fn=interruptible)
    assert (done.returncode, done.stdout, done.stderr) == (0, "raised again True\n", ""), done.stderr
