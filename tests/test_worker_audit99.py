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
from test_worker import cli_env, fake_worker, normalised, private_runtime, socket_file, status, wait_for

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
    def test_ulimit_t_ends_a_warm_call_as_a_cold_one(self, worker, tmp_path):
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


class TestCallersOwnDescriptors:
    """Finding 2: only stdin, stdout and stderr travel to the worker's call, so a path naming another descriptor of
    the caller (``/dev/fd/3`` after ``3< m.csv``, bash's ``<(...)``) named the call's own: its connection to the
    worker ('not a regular file (a device, pipe or socket)', exit 2) or nothing ('no such file'), where a fresh
    process read the file (exit 0).  Such a call now runs in the client's process."""

    CASES = {
        "a link to /dev/fd/3": "kernelcli convolve fd3.csv -k box:3 3<m.csv",
        "a link to /dev/fd/4, to a file": "kernelcli convolve fd4.npy -k box:3 -o o4.npy 4<a.npy && od -An -tx1 o4.npy | md5sum",
        "process substitution": "kernelcli convolve <(cat m.csv) -k box:3 --json",
        "an attached short value": "kernelcli convolve m.csv -k/dev/fd/3 3<m.csv",
        "an option's =value": "kernelcli convolve m.csv --kernel=/proc/self/fd/3 3<m.csv",
        "a closed descriptor": "kernelcli convolve /dev/fd/3 -k box:3",
    }
    #: what a fresh process answers where it is not 0: a pipe is no input file (2), a matrix no kernel file (3)
    CODES = {"process substitution": 2, "an attached short value": 3, "an option's =value": 3, "a closed descriptor": 2}

    @pytest.mark.parametrize("case", sorted(CASES))
    def test_a_path_naming_a_descriptor_gives_what_a_fresh_process_gives(self, worker, tmp_path, case):
        import numpy as np

        np.savetxt(tmp_path / "m.csv", np.arange(25.0).reshape(5, 5), delimiter=",")
        np.save(tmp_path / "a.npy", np.ones((8, 8)))
        (tmp_path / "fd3.csv").symlink_to("/dev/fd/3")
        (tmp_path / "fd4.npy").symlink_to("/dev/fd/4")
        command = self.CASES[case].replace("kernelcli", f"{sys.executable} -m kernelcli")
        answers = {}
        for mode in ("off", "on"):
            r = subprocess.run(["/bin/bash", "-c", command], cwd=tmp_path, env={**cli_env(), **worker, "KERNELCLI_WORKER": mode},
                               capture_output=True, text=True, timeout=300)
            answers[mode] = (r.returncode, normalised(r.stdout), normalised(r.stderr))
            (tmp_path / "o4.npy").unlink(missing_ok=True)
        assert answers["on"] == answers["off"], answers
        assert answers["off"][0] == self.CODES.get(case, 0), answers

    def test_stdin_named_by_path_still_reaches_the_worker(self, worker, tmp_path):
        import numpy as np

        np.savetxt(tmp_path / "m.csv", np.arange(25.0).reshape(5, 5), delimiter=",")
        (tmp_path / "stdin.csv").symlink_to("/dev/stdin")
        command = f"{sys.executable} -m kernelcli convolve stdin.csv -k box:3 < m.csv"
        answers = {}
        for mode in ("off", "on"):
            before = status(worker)["calls"]
            r = subprocess.run(["/bin/bash", "-c", command], cwd=tmp_path, env={**cli_env(), **worker, "KERNELCLI_WORKER": mode},
                               capture_output=True, text=True, timeout=300)
            answers[mode] = (r.returncode, r.stdout, normalised(r.stderr))
            assert status(worker)["calls"] == before + (mode == "on")  # descriptors 0-2 travel: the worker takes it
        assert answers["on"] == answers["off"] and answers["off"][0] == 0, answers

    @pytest.mark.parametrize(("argv", "named"), [
        (["convolve", "x.png", "-k", "box:3"], None),
        (["convolve", "/dev/fd/3"], "/dev/fd/3"),
        (["convolve", "/dev/fd/63", "-q"], "/dev/fd/63"),
        (["convolve", "/proc/self/fd/3"], "/proc/self/fd/3"),
        (["convolve", "/proc/thread-self/fd/4"], "/proc/thread-self/fd/4"),
        (["convolve", "//proc/./self//fd/3"], "//proc/./self//fd/3"),
        (["convolve", "/dev/../proc/self/fd/3"], "/dev/../proc/self/fd/3"),
        (["convolve", "-k/dev/fd/3", "m.csv"], "-k/dev/fd/3"),
        (["convolve", "--kernel=/dev/fd/3", "m.csv"], "--kernel=/dev/fd/3"),
        (["convolve", "fd3.csv"], "fd3.csv"),  # a link to /dev/fd/3
        (["convolve", "deep/fd.csv"], "deep/fd.csv"),  # a link to a link to it
        (["convolve", "/dev/stdin", "/dev/fd/0", "/proc/self/fd/2", "-o", "/dev/stdout"], None),  # travel to the worker
        (["convolve", "/proc/1/status"], None),  # another process's: the same from the worker
    ])
    def test_which_arguments_name_a_descriptor(self, tmp_path, monkeypatch, argv, named):
        from kernelcli.worker import client

        (tmp_path / "fd3.csv").symlink_to("/dev/fd/3")
        (tmp_path / "deep").mkdir()
        (tmp_path / "deep" / "fd.csv").symlink_to("../fd3.csv")
        monkeypatch.chdir(tmp_path)
        assert client._names_a_descriptor(argv) == named
