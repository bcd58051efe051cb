"""Audit 204 #2: a worker that ``worker start`` left compiling (audit 203 #2) could not be seen or stopped: ``worker
status`` said "not running" (exit 1), ``worker stop`` said "not running" and left it, and a second ``worker start``
launched a second full compile.  Now the starting worker leaves a marker beside the socket (``<socket>.starting``:
its pid, its process's start time, its log) that status reports, stop ends and a second start waits on.  The fake
warm-up of test_worker_start_audit203 stands in for the compile (START_TIMEOUT 2 s)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from kernelcli.worker import control, starting
from test_worker import socket_file
from test_worker_start_audit203 import _compiling_until_released, _fake, _released, runtime  # noqa: F401 - (runtime: the fixture)

pytestmark = pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="tells a compiling worker by /proc's CPU times")

def _gone(pid: int) -> bool:
    return not starting._alive(pid, None)


@pytest.fixture
def compiling(runtime, tmp_path, invoke, monkeypatch):  # noqa: F811
    """A worker left compiling by ``worker start`` (it uses CPU until the test releases it, then writes
    tmp_path/done): its pid."""
    import gc

    gc.collect()  # (a running Popen an earlier test in this process dropped warns as it is collected: not in a call here)
    monkeypatch.setattr(control, "_SERVE", _fake(tmp_path, _compiling_until_released(tmp_path)))
    r = invoke("worker", "start", "--json")
    record = json.loads(r.stdout)
    assert r.exit_code == 0 and record["compiling"], r.output
    yield record["pid"]
    if not _gone(record["pid"]):
        os.kill(record["pid"], 15)


class TestAStartingWorkerIsSeen:
    def test_status_says_it_starts(self, compiling, runtime, invoke):  # noqa: F811
        r = invoke("worker", "status")
        log = f"{socket_file(runtime)}.log"
        assert r.exit_code == 1 and r.stdout == "", r.output
        head, seconds = r.stderr.split(", for ", 1)
        assert head == f"kernelcli worker: starting (compiling the numeric core), pid {compiling}"
        assert seconds.split(" s; ", 1)[1] == ("it takes calls once ready ('kernelcli worker stop' ends it; "
                                               f"its log: {log})\n")
        r = invoke("worker", "status", "--json")
        record = json.loads(r.stdout)
        assert r.exit_code == 1 and record == {"running": False, "starting": True, "compiling": True, "pid": compiling,
                                               "seconds": record["seconds"], "log": log}
        assert 1 <= record["seconds"] < 60
        assert (invoke("worker", "status", "-q").exit_code, invoke("worker", "status", "-q").output) == (1, "")

    def test_the_api_names_it(self, compiling, runtime, invoke):  # noqa: F811
        assert control.starting_now().pid == compiling

    def test_stop_ends_it(self, compiling, runtime, tmp_path, invoke):  # noqa: F811
        r = invoke("worker", "stop")
        assert (r.exit_code, r.stderr) == (0, f"kernelcli worker {compiling}: still starting; ended with SIGTERM\n")
        assert _gone(compiling)
        assert not os.path.exists(starting.marker(socket_file(runtime)))
        assert invoke("worker", "status").stderr == "kernelcli worker: not running\n"
        assert not (tmp_path / "done").exists()  # (ended: _gone, not waited out)

    def test_stop_json(self, compiling, runtime, invoke):  # noqa: F811
        r = invoke("worker", "stop", "--json")
        assert r.exit_code == 0 and json.loads(r.stdout) == {"running": False, "pid": compiling,
                                                             "ended_with": "SIGTERM", "starting": True}

    def test_a_second_start_waits_on_it_and_starts_none(self, compiling, runtime, tmp_path, invoke):  # noqa: F811
        r = invoke("worker", "start")
        assert r.exit_code == 0, r.output
        assert r.stderr.startswith(f"note: kernelcli worker {compiling}: starting already (for "), r.stderr
        assert "not started again; waiting for it\n" in r.stderr
        assert r.stdout.startswith(f"kernelcli worker {compiling}: still compiling the numeric core after "), r.stdout
        log = f"{socket_file(runtime)}.log"
        with open(log) as f:
            assert f.read().count("kernelcli: compiling ") == 1  # one compile, not two
        assert _released(tmp_path)


class TestAStaleMarkerIsNoWorker:
    def test_a_dead_pid(self, tmp_path):
        sock = tmp_path / "w.sock"
        gone = subprocess.Popen([sys.executable, "-c", "pass"])
        gone.wait()
        assert starting.record(sock, gone.pid, f"{sock}.log", 0)
        assert starting.read(sock) is None and not os.path.exists(starting.marker(sock))

    def test_a_pid_another_process_has_taken(self, tmp_path):
        sock = tmp_path / "w.sock"
        assert starting.record(sock, os.getpid(), f"{sock}.log", 0)
        with open(starting.marker(sock)) as f:
            entry = json.load(f)
        entry["ticks"] -= 1  # (this pid's process started at another time: not the worker recorded)
        with open(starting.marker(sock), "w") as f:
            json.dump(entry, f)
        assert starting.read(sock) is None and not os.path.exists(starting.marker(sock))

    def test_an_older_kernelcli_s_empty_marker(self, tmp_path):
        sock = tmp_path / "w.sock"
        open(starting.marker(sock), "w").close()
        assert starting.read(sock) is None and not os.path.exists(starting.marker(sock))


def test_auto_starts_none_while_one_starts(compiling, runtime):  # noqa: F811
    assert control.spawn(socket_file(runtime)) is None
    assert starting.read(socket_file(runtime)).pid == compiling
