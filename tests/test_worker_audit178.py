"""Audit 178 (the warm worker, round 9): a worker whose code folder was swapped out by a rename,
a store refusal for a group not named *.zarr, summary's spec input in the caller's layout, and a
written file's name that stdout cannot encode."""

from __future__ import annotations

import os
import shutil
import socket
import sys

import pytest

from kernelcli.worker import protocol, server

from conftest import run_cli
from test_worker import serve_a_copy, status, wait_for

unix = pytest.mark.skipif(not hasattr(socket, "AF_UNIX") or os.name != "posix", reason="Unix sockets")


# -- 1. a code folder renamed away and replaced under a running worker --------------------------

@unix
def test_a_package_folder_renamed_away_and_replaced_makes_the_worker_stale(tmp_path, monkeypatch):
    """inotify follows the folder, not its path: only the folder's identity at its path tells."""
    code = tmp_path / "app" / "kernelcli"
    code.mkdir(parents=True)
    monkeypatch.setattr(protocol, "package_dir", lambda: str(code))
    serving = server.Server("/nonexistent/w.sock", 60)
    assert not serving.code_changed()
    (tmp_path / "app").rename(tmp_path / "app.old")
    code.mkdir(parents=True)  # the new release at the old path
    assert serving.code_changed()
    assert serving._refusal({"stamp": protocol.version_stamp()}, [0, 1, 2]) == "changed code" and serving.stopping


@unix
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="inotify")
def test_a_worker_whose_checkout_is_renamed_and_replaced_stops_serving(tmp_path):
    """A worker runs a copy; the copy's folder is renamed away and another copy put at its path (a
    release-style swap): the next call runs in-process and the worker exits, as for edited code."""
    package, env, path, worker = serve_a_copy(tmp_path, idle_seconds=120)
    try:
        wait_for(lambda: status(env) is not None, timeout=300.0)
        shape = ("shape", "--in", "24", "--f", "5", "-q")
        r = run_cli(*shape, env=env)
        assert (r.returncode, r.stdout, r.stderr) == (0, "20\n", "") and status(env)["calls"] == 1
        checkout = package.parent
        checkout.rename(checkout.with_name("other.old"))
        shutil.copytree(checkout.with_name("other.old"), checkout, copy_function=shutil.copy2)
        r = run_cli(*shape, env=env)
        assert (r.returncode, r.stdout, r.stderr) == (0, "20\n", "")
        worker.wait(timeout=30)  # stale: it exits
        assert not path.exists()
    finally:
        if worker.poll() is None:
            worker.kill()
        worker.wait()

