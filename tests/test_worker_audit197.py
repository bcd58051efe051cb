"""Audit 197: the warm worker with a hung worker (one whose socket queues connections that nobody accepts, as a
SIGSTOPped worker's does), a full listen backlog, and a socket path too long for AF_UNIX."""

from __future__ import annotations

import json
import os
import signal
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from kernelcli.worker import protocol

from conftest import run_cli

pytestmark = pytest.mark.skipif(not hasattr(socket, "AF_UNIX") or os.name != "posix", reason="Unix sockets")


@pytest.fixture
def runtime():
    """A fresh private runtime folder (short: a socket's path holds 107 bytes); the env that points there."""
    base = Path(tempfile.mkdtemp(prefix="kcw197-"))
    os.chmod(base, 0o700)
    yield {"XDG_RUNTIME_DIR": str(base), "KERNELCLI_WORKER": "on"}
    shutil.rmtree(base, ignore_errors=True)


def hung_worker(env: dict) -> socket.socket:
    """A socket that listens at the worker's path and never accepts: what a SIGSTOPped worker is to its callers."""
    folder = Path(env["XDG_RUNTIME_DIR"]) / "kernelcli"
    folder.mkdir(mode=0o700)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(protocol.socket_path(folder))
    listener.listen(64)
    return listener


class TestAHungWorkerHoldsNoCallersStdio:
    """#1: the request went with the caller's stdin, stdout and stderr attached; in a hung worker's listen queue
    they stayed open after the client ran the call itself, so `kernelcli ... | cat` and `$(...)` never ended."""

    def test_a_call_that_fell_back_ends_for_its_reader(self, runtime):
        with hung_worker(runtime):
            try:
                r = run_cli("shape", "--in", "8", "--f", "3", "-q", env=runtime, timeout=60)
            except subprocess.TimeoutExpired:
                pytest.fail("the caller's stdout stayed open in the hung worker's queue")
        assert r.returncode == 0 and r.stdout == "6\n", r.stderr


def fill_backlog(path: str) -> list[socket.socket]:
    """Non-blocking connections to ``path`` until its listen queue is full (as calls that timed out leave it)."""
    queued = []
    for _ in range(1000):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.setblocking(False)
        try:
            s.connect(path)
        except BlockingIOError:
            s.close()
            return queued
        queued.append(s)
    raise AssertionError("the queue never filled")


class TestAFullQueueIsAWorkerThere:
    """#2: a full listen queue (EAGAIN) was taken for a stale socket: under KERNELCLI_WORKER=auto each call (one a
    minute) started a worker, which then waited forever in server._answers's connect."""

    def test_auto_starts_no_worker_and_says_why(self, runtime):
        with hung_worker(runtime) as listener:
            queued = fill_backlog(listener.getsockname())
            try:
                r = run_cli("--debug", "shape", "--in", "8", "--f", "3", "-q", env={**runtime, "KERNELCLI_WORKER": "auto"})
            finally:
                for s in queued:
                    s.close()
            path = listener.getsockname()
        assert r.returncode == 0 and r.stdout == "6\n", r.stderr
        assert "does not answer" in r.stderr and "stale" not in r.stderr, r.stderr
        assert not os.path.exists(f"{path}.starting") and not os.path.exists(f"{path}.log")  # no worker started

    def test_a_starting_worker_leaves_a_full_queue_in_time(self, runtime):
        import threading

        from kernelcli.worker import control

        with hung_worker(runtime) as listener:
            queued = fill_backlog(listener.getsockname())
            found = []
            asking = threading.Thread(target=lambda: found.append(control.who_holds(listener.getsockname())), daemon=True)
            asking.start()
            asking.join(30)
            for s in queued:
                s.close()
            asking.join(30)
        assert found and "does not accept" in found[0]

    def test_nobody_listening_is_no_worker(self, runtime):
        from kernelcli.worker import control

        with hung_worker(runtime) as listener:
            path = listener.getsockname()
        assert control.who_holds(path) is None  # the socket file is left, and refuses: stale


#: a process that listens on the socket and never accepts (a stopped or hung worker), killable without harm here
HUNG = ("import socket, sys, time\n"
        "s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(64); print('ready', flush=True)\n"
        "time.sleep(600)\n")


@pytest.fixture
def hung_process(runtime):
    folder = Path(runtime["XDG_RUNTIME_DIR"]) / "kernelcli"
    folder.mkdir(mode=0o700)
    path = protocol.socket_path(folder)
    with subprocess.Popen([sys.executable, "-c", HUNG, path], stdout=subprocess.PIPE, text=True) as process:
        assert process.stdout.readline() == "ready\n"
        yield runtime, process, path
        process.kill()


@pytest.fixture
def briefly(runtime, monkeypatch, invoke):
    """``kernelcli worker ...`` run in this process, in ``runtime``, where a worker that does not answer is given up
    on after 0.5 s, not 5: what it then says is the test, not how long it waited (each ask cost 5 s)."""
    from kernelcli.worker import control

    ask = control._ask
    monkeypatch.setattr(control, "_ask", lambda path, message, timeout=5.0, hung=False: ask(path, message, min(timeout, 0.5), hung))
    for name, value in runtime.items():
        monkeypatch.setenv(name, value)
    return lambda *args: invoke("worker", *args)


class TestAHungWorkerIsNamed:
    """#4: a worker that takes connections but does not answer was "not running" to status (exit 1) and stop
    (exit 0, left running), and start then failed with "exited with code 0 while starting" and an empty log."""

    def test_status_names_it(self, hung_process, briefly):
        _env, process, path = hung_process
        r = briefly("status")
        assert r.exit_code == 1 and r.stderr == (f"kernelcli worker: a worker (pid {process.pid}) holds {path} but does "
                                                 "not answer (stopped or hung); 'kernelcli worker stop' ends it\n")
        r = briefly("status", "--json")
        assert r.exit_code == 1 and json.loads(r.stdout)["pid"] == process.pid

    def test_start_says_so_and_starts_nothing(self, hung_process, briefly):
        _env, process, path = hung_process
        r = briefly("start")
        assert r.exit_code == 1 and f"not started: a worker (pid {process.pid}) holds {path} but does not answer" in r.stderr
        assert not os.path.exists(f"{path}.log")

    def test_stop_ends_it(self, hung_process, briefly):
        _env, process, _path = hung_process
        r = briefly("stop")
        assert r.exit_code == 0 and r.stderr == f"kernelcli worker {process.pid}: did not answer; ended with SIGTERM\n"
        assert process.wait(timeout=30) == -signal.SIGTERM

    def test_a_starting_worker_asks_for_an_answer(self, hung_process):
        from kernelcli.worker import control

        _env, process, path = hung_process
        assert control.who_holds(path, timeout=1.0).startswith(f"a worker (pid {process.pid}) holds {path} but does not answer")


class TestAutoStartsNoWorkerWhereNoneCanListen:
    """#6: under KERNELCLI_WORKER=auto each call where the socket's path is past 107 bytes started a worker that
    warmed up and died in bind (a traceback in its log), where `worker start` refuses up front."""

    def test_auto_says_why_and_starts_nothing(self):
        base = Path(tempfile.mkdtemp(prefix="kcw197-")) / ("l" * 80)
        base.mkdir(mode=0o700)
        try:
            env = {"XDG_RUNTIME_DIR": str(base), "KERNELCLI_WORKER": "auto"}
            r = run_cli("--debug", "shape", "--in", "8", "--f", "3", "-q", env=env)
            assert r.returncode == 0 and r.stdout == "6\n", r.stderr
            assert "no worker started: " in r.stderr and "holds at most 107 bytes" in r.stderr, r.stderr
            assert [p.name for p in (base / "kernelcli").iterdir()] == []  # no marker, no log: nothing started
        finally:
            shutil.rmtree(base.parent, ignore_errors=True)


#: runs ``kernelcli ARGS`` with its stdout a pipe whose write end is non-blocking (as Node.js leaves it), reads it
#: only after a second (the pipe fills), and prints the exit code, the bytes read and stderr
NON_BLOCKING_READER = (
    "import hashlib, os, subprocess, sys, time\n"
    "r, w = os.pipe(); os.set_blocking(w, False)\n"
    "p = subprocess.Popen([sys.executable, '-m', 'kernelcli', *sys.argv[1:]], stdout=w, stderr=subprocess.PIPE)\n"
    "os.close(w); time.sleep(1.0); got = b''\n"
    "while (chunk := os.read(r, 1 << 16)):\n"
    "    got += chunk\n"
    "print(p.wait(), len(got), hashlib.sha1(got).hexdigest(), p.stderr.read().decode().strip(), sep='|')\n"
)


class TestANonBlockingStdoutTakesTheWholeResult:
    """#3: `-o -` on a non-blocking stdout pipe stopped after 64 KiB with 'stdout: cannot write: write could not
    complete without blocking' (exit 1) where stdout was buffered (without PYTHONUNBUFFERED, and always in the
    worker's call): io.pipes.write_all handled a raw stream's None, not a buffered one's BlockingIOError."""

    def test_write_all_continues_a_buffered_stream(self):
        import threading

        from kernelcli.io.pipes import write_all

        r, w = os.pipe()
        os.set_blocking(w, False)
        data = os.urandom(1 << 20)
        got = []
        reader = threading.Thread(target=lambda: got.append(b"".join(iter(lambda: os.read(r, 1 << 16), b""))))
        with open(w, "wb") as stream:  # buffered
            reader.start()
            write_all(stream, data)
        reader.join(60)
        os.close(r)
        assert got == [data]

    @pytest.mark.parametrize("unbuffered", ["", "1"])
    def test_the_command_gives_the_whole_result(self, tmp_path, unbuffered):
        import numpy as np

        np.save(tmp_path / "big.npy", np.random.default_rng(1).random((600, 600)).astype("float32"))
        env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
        env.update(KERNELCLI_WORKER="off", PYTHONPATH=str(Path(__file__).resolve().parents[1]))
        if unbuffered:
            env["PYTHONUNBUFFERED"] = unbuffered
        r = subprocess.run([sys.executable, "-c", NON_BLOCKING_READER, "convolve", str(tmp_path / "big.npy"), "-k", "box:3",
                            "-o", "-", "--format", "npy", "-q"], capture_output=True, text=True, env=env, timeout=120)
        code, size, _digest, said = r.stdout.rstrip("\n").split("|", 3)
        assert (code, said) == ("0", "") and int(size) > 600 * 600 * 4, r.stdout


class TestATakenOverRunLeavesNoPipeFolder:
    """#5: a call's process killed in the worker left its pipe folder (a whole copy of the piped stdin) in TMPDIR
    while the client ran the call again: the folder had a random name, not the run's token."""

    def test_the_pipe_folder_is_named_with_the_run(self, monkeypatch, tmp_path):
        import io

        from kernelcli.io import pipes, temporary

        monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
        with pipes.Pipes("-", None, None, stdin=io.BytesIO(b"1,2\n3,4\n")) as piped:
            assert Path(piped.input).parent.name.startswith(f"kernelcli-pipe-{temporary.run_token()}-")

    def test_taking_over_a_run_removes_its_pipe_folders(self, monkeypatch, tmp_path):
        from kernelcli.io import temporary

        monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
        monkeypatch.setattr(temporary, "_RUN", {"pid": None, "token": ""})
        dead, other = "ab_c12", "zz9xy0"
        (tmp_path / f"kernelcli-pipe-{dead}-q1w2").mkdir()
        (tmp_path / f"kernelcli-pipe-{dead}-q1w2" / f"stdin-{dead}-q1w2.png").write_bytes(b"x" * 100)
        (tmp_path / f"kernelcli-pipe-{other}-e3r4").mkdir()
        temporary.take_over_run(dead)
        assert sorted(p.name for p in tmp_path.iterdir()) == [f"kernelcli-pipe-{other}-e3r4"]
