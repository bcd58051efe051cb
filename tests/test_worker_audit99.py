"""The warm worker audit of 2026-12-06 (audit 99): a call killed at the caller's hard CPU limit, files the caller
opened on descriptors past 2, ``worker start --json``'s failures and a relative ``XDG_RUNTIME_DIR``."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from kernelcli.worker import control, protocol

from conftest import run_cli, run_in_process
from test_worker import cli_env, fake_worker, private_runtime, socket_file, status, wait_for, worker  # noqa: F401 - a fixture

pytestmark = pytest.mark.skipif(not Path("/proc").exists() or os.name != "posix", reason="Linux's /proc and rlimits")


class TestHardCpuLimit:
    """Finding 1: the client recognised the caller's own SIGKILL and then failed to die of it: Linux refuses
    ``signal.signal(SIGKILL, ...)`` (EINVAL), so the client ended in a traceback and exit 1 where a fresh
    process is killed (137)."""

    def test_the_client_dies_of_the_sigkill_at_its_hard_cpu_limit(self, tmp_path):
        # the fake worker says the call's process died of SIGKILL after the caller's whole hard CPU limit
        script = textwrap.dedent(f"""
            import resource, sys, threading
            sys.path[:0] = {[str(Path(__file__).parent)]!r}
            from test_worker import fake_worker
            from kernelcli.worker import client
            resource.setrlimit(resource.RLIMIT_CPU, (600, 600))
            listener, fake = fake_worker({str(tmp_path / "w.sock")!r}, {{"pid": 2**22 + 1}}, {{"killed": 9, "cpu": 600.0}})
            threading.Thread(target=fake).start()
            print("returned", client.run_in_worker(["shape", "--in", "8", "--f", "3"], socket_file={str(tmp_path / "w.sock")!r}))
        """)
        r = subprocess.run([sys.executable, "-c", script], env=cli_env(), capture_output=True, text=True, timeout=120)
        assert (r.returncode, r.stdout, r.stderr) == (-signal.SIGKILL, "", "")

    @pytest.mark.skipif(not Path("/bin/bash").exists(), reason="bash's ulimit -t")
    def test_ulimit_t_ends_a_warm_call_as_a_cold_one(self, worker, tmp_path):  # noqa: F811 - the fixture
        import numpy as np

        x = np.random.default_rng(1).random((64, 64))
        np.save(tmp_path / "x.npy", x)
        np.save(tmp_path / "t.npy", x)
        learn = f"{sys.executable} -m kernelcli learn x.npy t.npy -f 3 --method gd --epochs 100000000 -q"
        ended = {}
        for mode in ("off", "on"):
            before = status(worker)["calls"]
            r = subprocess.run(["/bin/bash", "-c", f"ulimit -t 2; {learn}; echo rc=$?"], cwd=tmp_path,
                               env={**cli_env(), **worker, "KERNELCLI_WORKER": mode}, capture_output=True, text=True, timeout=300)
            ended[mode] = (r.stdout, r.stderr.count("Traceback"))
            assert status(worker)["calls"] == before + (mode == "on"), mode  # the warm call reached the worker
        assert ended["on"] == ended["off"] == ("rc=137\n", 0), ended


class TestRelativeRuntimeDir:
    """Finding 4: a relative ``XDG_RUNTIME_DIR`` was used as is: the worker, started in /, could not bind its
    socket ('exited with code 1 while starting', a traceback in its log), and each caller looked for the socket
    relative to its own folder.  The XDG Base Directory spec says such a value is invalid and must be ignored."""

    def test_a_relative_xdg_runtime_dir_is_ignored(self, tmp_path, monkeypatch):
        (tmp_path / "xdg6").mkdir(mode=0o700)
        monkeypatch.chdir(tmp_path)
        monkeypatch.setenv("XDG_RUNTIME_DIR", "xdg6")
        fallback = f"/tmp/kernelcli-{os.getuid()}"
        assert protocol.runtime_folder() == fallback
        assert os.path.dirname(protocol.socket_path(protocol.runtime_folder())) == fallback
        monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "xdg6"))  # the same folder named absolutely is taken
        assert protocol.runtime_folder() == str(tmp_path / "xdg6" / "kernelcli")


class TestStartFailures:
    """Finding 3: what kept ``worker start`` from starting a worker went through the file jobs' failure handler:
    ``--json`` printed convolve's record (``"input": null, ..., "code": 1``) and the call exited 1, documented as
    files that failed, where ``start --json`` prints the worker's record."""

    def test_a_folder_where_the_socket_goes_is_a_setting_to_fix(self, tmp_path):
        env = private_runtime(tmp_path)
        socket_file(env).parent.mkdir(mode=0o700)
        socket_file(env).mkdir()
        said = f"{socket_file(env)}: is a folder, not the worker's socket; move it away to start the worker"
        r = run_in_process("worker", "start", "--json", env=env)
        assert (r.returncode, r.stdout, r.stderr) == (2, f'{{\n  "running": false,\n  "unusable": "{said}"\n}}\n',
                                                      f"error: kernelcli worker: not started: {said}\n")
        r = run_in_process("worker", "start", env=env)
        assert (r.returncode, r.stdout, r.stderr) == (2, "", f"error: kernelcli worker: not started: {said}\n")
        assert sorted(p.name for p in socket_file(env).parent.iterdir()) == [socket_file(env).name]  # no log, no worker

    def test_a_socket_path_too_long_is_refused_before_the_worker_starts(self, tmp_path):
        # the worker warmed up (a minute at load), then died binding: 'OSError: AF_UNIX path too long' in its log
        env = private_runtime(tmp_path)
        deep = Path(env["XDG_RUNTIME_DIR"]) / ("d" * 90)
        deep.mkdir(mode=0o700)
        env["XDG_RUNTIME_DIR"] = str(deep)
        r = run_in_process("worker", "start", "--json", env=env)
        path = Path(protocol.socket_path(deep / "kernelcli"))
        said = (f"{path}: a Unix socket's path holds at most 107 bytes, this one has {len(bytes(path))}; "
                "set XDG_RUNTIME_DIR to a shorter folder")
        assert (r.returncode, r.stdout, r.stderr) == (2, f'{{\n  "running": false,\n  "unusable": "{said}"\n}}\n',
                                                      f"error: kernelcli worker: not started: {said}\n")
        assert list((deep / "kernelcli").iterdir()) == []

    def test_a_worker_that_exits_while_starting_gives_the_workers_record(self, tmp_path, invoke, monkeypatch):
        import json

        env = private_runtime(tmp_path)
        monkeypatch.setenv("XDG_RUNTIME_DIR", env["XDG_RUNTIME_DIR"])
        monkeypatch.setattr(control, "_SERVE", "import sys; sys.exit(1)")  # a worker that dies before it listens
        said = f"the worker exited with code 1 while starting; see {socket_file(env)}.log"
        r = invoke("worker", "start", "--json")
        assert (r.exit_code, json.loads(r.stdout), r.stderr) == (1, {"running": False, "error": said},
                                                                  f"error: kernelcli worker: not started: {said}\n")
        r = invoke("worker", "start", "-q")
        assert (r.exit_code, r.stdout, r.stderr) == (1, "", f"error: kernelcli worker: not started: {said}\n")
