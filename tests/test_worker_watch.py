"""The worker answers for its own code on disk (:mod:`kernelcli.worker.watch`): a code file
changed after it started makes it refuse calls and exit, whatever the change; what is not
code (bytecode caches, an editor's swap file) does not.  A client sends only the version."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import sys
from pathlib import Path

import pytest

from kernelcli.worker import protocol, server, watch

from conftest import run_cli
from test_worker import serve_a_copy, status, wait_for

pytestmark = pytest.mark.skipif(not hasattr(socket, "AF_UNIX") or os.name != "posix", reason="Unix sockets")
linux = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="inotify")


@pytest.fixture
def folder(tmp_path):
    code = tmp_path / "pkg"
    (code / "sub").mkdir(parents=True)
    (code / "api.py").write_text("x = 1\n")
    return code


def watching(code: Path):
    found = watch.start([str(code), str(code / "sub")])
    assert found is not None, "inotify is there on Linux"
    return found


def append(path: Path, text: str) -> None:
    """Write into an existing file in place (no rename: its folder's time stays)."""
    with path.open("a") as f:
        f.write(text)


@linux
class TestWatch:
    @pytest.mark.parametrize("change", [
        lambda c: append(c / "api.py", "y = 2\n"),
        lambda c: os.utime(c / "api.py", ns=(1, 1)),
        lambda c: (c / "sub" / "new.py").write_text(""),
        lambda c: (c / "kernels.json").write_text("{}"),
        lambda c: (c / "api.py").unlink(),
        lambda c: (c / "api.py").rename(c / "api.txt"),
        lambda c: (c / "sub2").mkdir(),
        lambda c: shutil.rmtree(c / "sub"),
    ])
    def test_a_change_of_code_is_seen(self, folder, change):
        seen = watching(folder)
        assert not seen.changed()
        change(folder)
        assert seen.changed() and seen.changed()  # for good
        seen.close()

    def test_what_is_not_code_is_ignored(self, folder):
        seen = watching(folder)
        (folder / "__pycache__").mkdir()
        (folder / "__pycache__" / "api.cpython-311.pyc").write_bytes(b"\0" * 16)
        (folder / ".api.py.swp").write_bytes(b"swap")
        (folder / "notes.txt").write_text("n")
        os.chmod(folder, 0o755)
        assert not seen.changed()
        seen.close()

    def test_a_lost_event_counts_as_a_change(self):
        assert watch.relevant(watch.IN_Q_OVERFLOW, "") and watch.relevant(watch.IN_DELETE_SELF, "")
        assert not watch.relevant(watch.IN_ATTRIB, "")  # the folder's own times or mode: no code


def test_without_a_watch_the_worker_stamps_the_files(monkeypatch):
    monkeypatch.setattr(watch, "start", lambda folders: None)
    serving = server.Server("/nonexistent/w.sock", 60)
    assert serving.code_watch is None and not serving.code_changed()
    monkeypatch.setattr(protocol, "code_stamp", lambda: "0.0.0/0/00000000")
    assert serving.code_changed()
    assert serving._refusal({"stamp": protocol.version_stamp()}, []) == "changed code" and serving.stopping


def test_a_client_no_longer_stamps_the_files(monkeypatch):
    """The client's request carries the version alone: stamping ~150 files took 2.2-2.6 ms of each call."""
    def refuse():
        raise AssertionError("the client stamped the files")

    monkeypatch.setattr(protocol, "code_stamp", refuse)
    from kernelcli.worker import client

    assert client.run_in_worker(["shape", "--in", "8", "--f", "3", "-q"], socket_file="/nonexistent/w.sock") is None
    sent = {}
    ours, theirs = socket.socketpair()
    monkeypatch.setattr(client, "_connect", lambda path: ours)
    monkeypatch.setattr(protocol, "send", lambda sock, message, fds=None: sent.update(message))
    monkeypatch.setattr(protocol, "receive", lambda sock: {"refused": "test"})
    assert client.run_in_worker(["shape", "--in", "8", "--f", "3", "-q"], socket_file="/nonexistent/w.sock") is None
    theirs.close()
    assert sent["stamp"] == protocol.version_stamp()


@linux
def test_a_worker_whose_code_is_edited_stops_serving(tmp_path):
    """A worker runs a copy of the package; a file of the copy edited in place (its folder's time
    unchanged) makes it refuse the next call and exit; the call runs in-process, silently."""
    package, env, path, worker = serve_a_copy(tmp_path, idle_seconds=120)
    try:
        wait_for(lambda: status(env) is not None, timeout=300.0)
        assert status(env)["code_watched"] is True
        shape = ("shape", "--in", "24", "--f", "5", "-q")
        r = run_cli(*shape, env=env)
        assert (r.returncode, r.stdout, r.stderr) == (0, "20\n", "") and status(env)["calls"] == 1
        (package / "__pycache__").mkdir(exist_ok=True)  # (absent from a copy of a tree run with PYTHONDONTWRITEBYTECODE)
        (package / "__pycache__" / "stray.pyc").write_bytes(b"\0" * 16)
        (package / "notes.txt").write_text("not code")
        r = run_cli(*shape, env=env)
        assert (r.returncode, r.stdout, r.stderr) == (0, "20\n", "") and status(env)["calls"] == 2
        append(package / "shapes.py", "# edited\n")
        r = run_cli(*shape, env=env)
        assert (r.returncode, r.stdout, r.stderr) == (0, "20\n", "")
        worker.wait(timeout=30)  # stale: it exits
        assert not path.exists()
    finally:
        if worker.poll() is None:
            worker.kill()
        worker.wait()


@pytest.mark.parametrize("why", ["stale", "idle"])
def test_a_worker_about_to_exit_forks_no_spare(tmp_path, monkeypatch, why):
    """With no call running, a stale worker (its code changed) or an idle one exits before it forks the
    next call's process: the loop once forked a spare, then dropped it at once."""
    class Changed:
        def changed(self):
            return why == "stale"

    monkeypatch.setattr(watch, "start", lambda folders: Changed())
    serving = server.Server(tmp_path / "w.sock", 0.0 if why == "idle" else 60)
    serving.cache_seen = None  # (set by the warm-up, not run here)
    forks = []
    monkeypatch.setattr(serving, "_fork", lambda: forks.append(1) or pytest.fail("forked a spare"))
    previous = signal.getsignal(signal.SIGTERM)
    listener = serving.bind()
    try:
        serving.last_activity -= 1.0
        serving.serve(listener)  # returns: the worker exits
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert forks == [] and not (tmp_path / "w.sock").exists()
