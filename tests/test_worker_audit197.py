"""Audit 197: the warm worker with a hung worker (one whose socket queues connections that nobody accepts, as a
SIGSTOPped worker's does), a full listen backlog, and a socket path too long for AF_UNIX."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
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

        from kernelcli.worker import server

        with hung_worker(runtime) as listener:
            queued = fill_backlog(listener.getsockname())
            found = []
            asking = threading.Thread(target=lambda: found.append(server._answers(listener.getsockname())), daemon=True)
            asking.start()
            asking.join(30)
            for s in queued:
                s.close()
            asking.join(30)
        assert found and "does not accept" in found[0]

    def test_nobody_listening_is_no_worker(self, runtime):
        from kernelcli.worker import server

        with hung_worker(runtime) as listener:
            path = listener.getsockname()
        assert server._answers(path) is None  # the socket file is left, and refuses: stale
