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
