"""Audit 203 #2: a fresh install's first ``worker start`` compiles the whole core in the worker; on a busy 2-core box
that passed the 300 s start limit, and start killed the worker part-way and said only 'did not answer'.  Now a worker
whose log says it compiles and that uses CPU is left to go on (the answer says so, exit 0); one that does not move is
still ended.  A fake warm-up stands in for the compile (the limit made short)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from kernelcli.worker import control
from test_worker import private_runtime, socket_file

COMPILING = "print('kernelcli: compiling the numeric core (first run only; cached afterwards)...', file=sys.stderr, flush=True)"


def _fake(tmp_path: Path, body: str) -> str:
    """A worker's code that says what the real warm-up says and then runs ``body`` (never listens)."""
    return f"import sys, time\n{COMPILING}\n{body}\nopen({str(tmp_path / 'done')!r}, 'w').close()"


@pytest.fixture
def runtime(tmp_path, monkeypatch):
    env = private_runtime(tmp_path)
    monkeypatch.setenv("XDG_RUNTIME_DIR", env["XDG_RUNTIME_DIR"])
    monkeypatch.setattr(control, "START_TIMEOUT", 2.0)
    yield env
    while control._LEFT_RUNNING:  # the fake workers left compiling end by themselves: reaped here
        control._LEFT_RUNNING.pop().wait(30)


def _compiling_until_released(tmp_path: Path) -> str:
    """A fake worker's body that uses CPU (as a compile does) until the test creates ``release`` (at most a minute):
    past the start's limit, and no longer than the test needs."""
    return (f"import os\nend = time.monotonic() + 60\n"
            f"while not os.path.exists({str(tmp_path / 'release')!r}) and time.monotonic() < end: pass")


def _released(tmp_path: Path) -> bool:
    """Let the fake worker finish; whether it then says it did (were it ended, it never does)."""
    (tmp_path / "release").touch()
    return _wait_for(tmp_path / "done", 30)


def _gone(pid: int) -> bool:
    """Whether process ``pid`` has ended (gone, or a zombie)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] == "Z"
    except (OSError, IndexError):
        return True


def _wait_for(path: Path, seconds: float) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if path.exists():
            return True
        time.sleep(0.1)
    return False


class TestAWorkerStillCompilingIsLeftToFinish:
    def test_start_says_it_still_compiles_and_does_not_kill_it(self, runtime, tmp_path, invoke, monkeypatch):
        monkeypatch.setattr(control, "_SERVE", _fake(tmp_path, _compiling_until_released(tmp_path)))
        r = invoke("worker", "start")
        assert r.exit_code == 0, r.output
        log = f"{socket_file(runtime)}.log"
        pid = int(r.stderr.split("kernelcli worker ", 1)[1].split(":", 1)[0])
        assert r.stderr == (f"note: kernelcli worker {pid}: compiling the numeric core (the first start after an install "
                            "compiles it: a minute or more, longer on a busy machine)...\n")
        assert r.stdout == (f"kernelcli worker {pid}: still compiling the numeric core after 2 s (the first start after an "
                            "install compiles it: a minute or more, longer on a busy machine); it goes on in the background "
                            f"and takes calls once ready ('kernelcli worker status' says when; its log: {log})\n")
        assert _released(tmp_path), "the compiling worker was ended"

    def test_json_and_quiet(self, runtime, tmp_path, invoke, monkeypatch):
        monkeypatch.setattr(control, "_SERVE", _fake(tmp_path, _compiling_until_released(tmp_path)))
        r = invoke("worker", "start", "--json")
        record = json.loads(r.stdout)
        assert r.exit_code == 0 and record == {"running": False, "starting": True, "compiling": True, "pid": record["pid"],
                                               "log": f"{socket_file(runtime)}.log"}
        assert _released(tmp_path)
        os.unlink(tmp_path / "done")
        os.unlink(tmp_path / "release")
        r = invoke("worker", "start", "-q")
        assert (r.exit_code, r.stdout, r.stderr) == (0, "", "")
        assert _released(tmp_path)

    def test_a_worker_that_compiles_no_further_is_ended_as_hung(self, runtime, tmp_path, invoke, monkeypatch):
        pid_file = tmp_path / "pid"
        monkeypatch.setattr(control, "_SERVE", _fake(tmp_path, f"open({str(pid_file)!r}, 'w').write(str(__import__('os').getpid()))\n"
                                                                "time.sleep(6)"))
        r = invoke("worker", "start")
        assert r.exit_code == 1
        assert r.stderr.splitlines()[-1] == (
            "error: kernelcli worker: not started: the worker did not answer within 2 s (compiling, but it used no CPU "
            f"for the last seconds: hung); see {socket_file(runtime)}.log")
        assert _gone(int(pid_file.read_text())) and not (tmp_path / "done").exists()  # ended, not left to finish

    def test_a_worker_that_says_nothing_is_ended_as_before(self, runtime, tmp_path, invoke, monkeypatch):
        monkeypatch.setattr(control, "_SERVE", "import time; time.sleep(6)")
        r = invoke("worker", "start")
        assert (r.exit_code, r.stderr) == (1, "error: kernelcli worker: not started: the worker did not answer within 2 s; "
                                              f"see {socket_file(runtime)}.log\n")


def test_a_worker_ended_by_a_signal_while_starting_is_said_so(runtime, tmp_path, invoke, monkeypatch):
    """Audit 208 #5: a 'worker stop' while 'worker start' waited said 'the worker exited with code -15 while starting'
    (a signal's number taken for an exit code)."""
    monkeypatch.setattr(control, "_SERVE", "import os, signal; os.kill(os.getpid(), signal.SIGTERM)")
    r = invoke("worker", "start")
    assert (r.exit_code, r.stderr) == (1, 'error: kernelcli worker: not started: the worker was ended by SIGTERM (a '
                                          f'"kernelcli worker stop"?) while starting; see {socket_file(runtime)}.log\n')
