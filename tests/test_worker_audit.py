"""The worker's call behaves as a fresh process under job control and signals, and runs only for a
caller that may do what the worker may do (the worker audit of 2026-12-05)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from kernelcli.worker import client, identity, protocol, server, watch

from conftest import run_cli, run_in_process
from test_worker import cli_env, fake_worker, private_runtime, socket_file, status, wait_for

pytestmark = pytest.mark.skipif(not Path("/proc").exists() or os.name != "posix", reason="reads process states in /proc")


def _long_learn(folder: Path, env: dict, **kwargs) -> subprocess.Popen:
    """A call that runs for minutes unless stopped (gradient descent of many epochs), in the worker;
    ``.earlier`` holds the calls the worker was running before it (a previous test's, not yet reaped)."""
    import numpy as np

    x = np.random.default_rng(1).random((64, 64))
    np.save(folder / "x.npy", x)
    np.save(folder / "t.npy", x)
    earlier = set(status(env)["calls_in_progress"])
    call = subprocess.Popen([sys.executable, "-m", "kernelcli", "learn", "x.npy", "t.npy", "-f", "3", "--method", "gd",
                             "--epochs", "1000000", "-o", "k.json"], cwd=folder, env={**cli_env(), **env}, **kwargs)
    call.earlier = earlier  # type: ignore[attr-defined]
    call.folder = folder  # type: ignore[attr-defined]
    return call


def _call_in_progress(env: dict, call: subprocess.Popen) -> int:
    """The pid of ``call``'s process in the worker, once the worker has it (not a call of an earlier test:
    taking one of those raced with its end, and the client killed before its call arrived ran it late): the new one
    working in ``call``'s folder (the worker is shared by every test of this pytest process: another module's test
    may leave a call that starts late, and SIGTSTP sent to ours never stopped that one)."""
    def new() -> list[int]:
        started = set((status(env) or {}).get("calls_in_progress", [])) - call.earlier  # type: ignore[attr-defined]
        return sorted(pid for pid in started if _cwd(pid) == call.folder.resolve())  # type: ignore[attr-defined]

    wait_for(new, timeout=120)
    return new()[0]


def _cwd(pid: int) -> Path | None:
    """A process's current folder (a call's process works in its caller's), or None once it is gone."""
    try:
        return Path(os.readlink(f"/proc/{pid}/cwd"))
    except OSError:
        return None


def _state(pid: int) -> str:
    """A process's state letter (R, S, T for stopped, Z...), from /proc/PID/stat; "gone" once it is reaped (between
    a check that /proc/PID exists and this read, it can be: the README check's run failed so once)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return "gone"


def test_ctrl_backslash_ends_the_call_as_it_ends_a_fresh_process(worker, tmp_path):
    # SIGQUIT, passed on, killed the call's process; the client took that for a lost worker and ran the
    # whole call again in-process, exit 0 minutes later
    call = _long_learn(tmp_path, worker, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _call_in_progress(worker, call)
        call.send_signal(signal.SIGQUIT)
        _out, err = call.communicate(timeout=60)
    finally:
        call.kill()
    assert call.returncode == -signal.SIGQUIT, err
    assert not (tmp_path / "k.json").exists()


def test_ctrl_z_stops_the_call_and_fg_continues_it(worker, tmp_path):
    # the call's process runs in the worker's session: the terminal's SIGTSTP stopped the client alone and
    # the call computed on
    # a process group of its own, whose parent (this test) is in another: not orphaned, so SIGTSTP stops it even
    # when the test runner is a detached job (the kernel discards SIGTSTP sent to an orphaned group)
    call = _long_learn(tmp_path, worker, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, process_group=0)
    try:
        pid = _call_in_progress(worker, call)
        call.send_signal(signal.SIGTSTP)
        wait_for(lambda: _state(call.pid) == "T", timeout=60)
        wait_for(lambda: _state(pid) == "T", timeout=60)
        call.send_signal(signal.SIGCONT)
        wait_for(lambda: _state(pid) != "T", timeout=60)
        assert call.poll() is None
    finally:
        call.kill()
        call.wait()


def test_a_client_killed_leaves_nothing_on_its_terminal(worker, tmp_path):
    # the stopped call said "error: terminated (SIGTERM); temporary files removed" on the stderr of a client
    # that was gone, naming a signal nobody sent
    with open(tmp_path / "stderr.txt", "wb") as err:
        call = _long_learn(tmp_path, worker, stdout=subprocess.DEVNULL, stderr=err)
        pid = _call_in_progress(worker, call)
        call.kill()
        call.wait()
    wait_for(lambda: not Path(f"/proc/{pid}").exists() or _state(pid) == "Z", timeout=60)
    assert (tmp_path / "stderr.txt").read_bytes() == b""
    assert not (tmp_path / "k.json").exists()


def test_a_client_killed_leaves_no_report(worker, tmp_path):
    # audit 162 #2: the worker stopped the call with a SIGTERM, and its --report said "not run: terminated (SIGTERM)",
    # code 143, a signal nobody sent; a process killed with its caller writes nothing
    earlier = set(status(worker)["calls_in_progress"])
    call = subprocess.Popen([sys.executable, "-m", "kernelcli", "convolve", "-", "-k", "box:3", "-o", "o.npy",
                             "--report", "r.json"], cwd=tmp_path, env={**cli_env(), **worker}, stdin=subprocess.PIPE,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # (it waits on stdin, kept open)
    call.earlier, call.folder = earlier, tmp_path  # type: ignore[attr-defined]
    try:
        pid = _call_in_progress(worker, call)
        call.kill()
        call.wait()
        wait_for(lambda: not Path(f"/proc/{pid}").exists() or _state(pid) == "Z", timeout=60)
    finally:
        call.stdin.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_a_caller_that_may_do_less_runs_its_call_itself(worker, tmp_path):
    # the call ran with the worker's group, capabilities, nice value...: `nice -n 5 kernelcli ...` computed at
    # nice 0, `setpriv --regid` wrote files of the worker's group, dropped capabilities read what they could not
    wait_for(lambda: not status(worker)["calls_in_progress"], timeout=120)  # earlier tests' calls ended
    before = status(worker)
    r = subprocess.run([sys.executable, "-m", "kernelcli", "--debug", "shape", "--in", "8", "--f", "3", "-q"],
                       env={**cli_env(), **worker}, capture_output=True, text=True, preexec_fn=lambda: os.nice(5), timeout=120)
    after = status(worker)
    assert (r.returncode, r.stdout) == (0, "6\n"), r.stderr
    assert "the caller's nice value (nice) differs from the worker's" in r.stderr
    assert (after["calls"], after["refused"]) == (before["calls"], before["refused"] + 1)


def test_identity_names_what_differs():
    mine = identity.identity()
    assert mine and identity.identity_difference(mine, dict(mine)) is None
    for key, word in (("Gid", "group"), ("CapEff", "capabilities"), ("NoNewPrivs", "no_new_privs"), ("ns/mnt", "namespace"),
                      ("cgroup", "control group"), ("nice", "nice value")):
        assert identity.identity_difference(mine, {**mine, key: "other"}) == f"{word} ({key})"


@pytest.mark.parametrize("name", ["SIGXCPU", "SIGXFSZ"])
def test_a_call_killed_by_the_callers_own_limits_is_not_run_again(tmp_path, monkeypatch, name):
    # `ulimit -t`: the call's process, under the caller's limits, died of SIGXCPU; the client ran the call again
    # in-process, which died the same way after as long again
    signum = int(getattr(signal, name))
    died = []
    monkeypatch.setattr(client, "_die_of", lambda s: died.append(s) or 128 + s)
    path = tmp_path / "w.sock"
    listener, fake = fake_worker(path, {"pid": 2**22 + 1}, {"killed": signum})
    thread = threading.Thread(target=fake)
    thread.start()
    try:
        assert client.run_in_worker(["shape", "--in", "8", "--f", "3"], socket_file=path) == 128 + signum
    finally:
        thread.join()
        listener.close()
    assert died == [signum]


def test_a_worker_whose_socket_is_gone_exits(tmp_path):
    # a cleaned runtime folder (logout) left the worker running, unreachable, until its idle timeout; and
    # `worker start` then started a second one
    env = private_runtime(tmp_path)
    assert run_cli("worker", "start", env=env, timeout=600).returncode == 0
    pid = status(env)["pid"]
    socket_file(env).unlink()
    wait_for(lambda: not Path(f"/proc/{pid}").exists() or _state(pid) == "Z", timeout=60)


def test_a_library_upgraded_under_the_worker_makes_it_stale(tmp_path):
    (tmp_path / "numpy").mkdir()
    serving = server.Server("/nonexistent/w.sock", 60)
    serving.library_watch = watch.start([str(tmp_path / "numpy")])
    if serving.library_watch is None:
        pytest.skip("no inotify here")
    assert not serving.code_changed()
    (tmp_path / "numpy" / "version.py").write_text("version = '9.9'\n")  # what pip rewrites
    assert serving.code_changed()


def test_the_libraries_calls_run_on_are_watched():
    import numpy

    assert os.path.realpath(numpy.__path__[0]) in protocol.library_dirs()


@pytest.mark.parametrize("value", ["nan", "inf"])
def test_an_idle_timeout_that_never_comes_is_refused(tmp_path, value):
    # nan passed the range check (every comparison is false) and the worker never timed out; the option's range now
    # refuses both (no range holds nan; inf is past a year)
    r = run_cli("worker", "start", "--idle-timeout", value, env=private_runtime(tmp_path))
    said = f"{value} is not in the range x>=1 and x<=31536000"
    assert r.returncode == 2 and said in r.stderr and status(private_runtime(tmp_path, "other")) is None


def test_start_says_when_a_running_worker_keeps_its_timeout(worker):
    # (the shared worker, not one started for this test: a start loads the whole cached core)
    kept = status(worker)["idle_timeout_seconds"]
    r = run_cli("worker", "start", "--idle-timeout", f"{kept + 100:g}", env=worker)
    assert r.returncode == 0 and f"runs already, with an idle timeout of {kept:g} s" in r.stderr, r.stderr
    assert status(worker)["idle_timeout_seconds"] == kept


def test_quiet_silences_the_compiling_note(invoke, capsys):
    # -q promises no notes; the "compiling" one was printed anyway (with the worker, where a fresh process
    # would take plain numpy, even for a call whose output was otherwise the same)
    from kernelcli import jitcache

    try:
        assert invoke("shape", "--in", "8", "--f", "3", "-q").exit_code == 0 and jitcache.QUIET
        jitcache.announce_compiling("the numeric core")
        assert capsys.readouterr().err == ""
        assert invoke("shape", "--in", "8", "--f", "3").exit_code == 0 and not jitcache.QUIET
        jitcache.announce_compiling("the numeric core")
        assert "compiling the numeric core" in capsys.readouterr().err
    finally:
        jitcache.QUIET = False


def test_two_control_groups_without_limits_are_alike(tmp_path):
    # the whole cgroup path was compared: another terminal's systemd scope (no limit) ran every call cold
    root = tmp_path / "cgroup"
    for scope, memory in (("a.scope", "max"), ("b.scope", "max"), ("c.scope", "1073741824")):
        (root / "user.slice" / scope).mkdir(parents=True)
        (root / "user.slice" / scope / "memory.max").write_text(memory + "\n")
        (root / "user.slice" / scope / "cpu.max").write_text("max 100000\n")
    (root / "cgroup.controllers").write_text("cpu memory pids\n")
    (root / "user.slice" / "pids.max").write_text("4000\n")
    a, b, c = (identity.cgroup_limits(f"0::/user.slice/{s}\n", root=str(root)) for s in ("a.scope", "b.scope", "c.scope"))
    assert a == b == "pids.max=4000"
    assert c == "memory.max=1073741824 pids.max=4000"  # systemd-run -p MemoryMax=1G: not the worker's, refused
    assert identity.cgroup_limits("0::/gone.scope\n", root=str(root)) == "0::/gone.scope\n"  # unreadable: the path decides
    v1 = tmp_path / "v1"
    (v1 / "memory" / "job").mkdir(parents=True)
    (v1 / "memory" / "memory.limit_in_bytes").write_text("9223372036854771712\n")
    (v1 / "memory" / "job" / "memory.limit_in_bytes").write_text("536870912\n")
    assert identity.cgroup_limits("4:memory:/job\n", root=str(v1)) == "memory.limit_in_bytes=536870912"
    assert identity.cgroup_limits("4:memory:/\n", root=str(v1)) == ""


def test_quiet_worker_commands_print_nothing(tmp_path, invoke, monkeypatch):
    # 'worker start -q', 'worker status -q' and 'worker stop -q' were "No such option: -q" (exit 2)
    from kernelcli.worker import control

    r = run_in_process("worker", "status", "-q", env=private_runtime(tmp_path))
    assert (r.returncode, r.stdout, r.stderr) == (1, "", "")  # none runs: the exit code says so
    running = {"pid": 4711, "socket": "w.sock", "calls": 0, "uptime_seconds": 1.0, "idle_timeout_seconds": 900.0}
    monkeypatch.setattr(control, "status", lambda: running)
    monkeypatch.setattr(control, "start", lambda idle_seconds, said=None: running)
    monkeypatch.setattr(control, "stop", lambda: 4711)
    for args in (("status",), ("start",), ("start", "--idle-timeout", "60"), ("stop",)):
        r = invoke("worker", *args, "-q")
        assert (r.exit_code, r.stdout, r.stderr) == (0, "", ""), (args, r.stdout, r.stderr)
    r = invoke("worker", "status", "-q", "--json")  # --json wins over it
    assert r.exit_code == 0 and '"pid": 4711' in r.stdout


@pytest.mark.parametrize("value", ["bogus", "of", "2"])
def test_a_worker_switch_it_does_not_take_is_refused(tmp_path, value):
    # KERNELCLI_WORKER=bogus was taken silently as the default (a typo of 'off' used the worker)
    env = {**private_runtime(tmp_path), "KERNELCLI_WORKER": value}
    said = f"error: KERNELCLI_WORKER={value!r}: expected off, auto or on (the default)\n"
    for args in (("shape", "--in", "8", "--f", "3", "-q"), ("worker", "status")):
        r = run_in_process(*args, env=env)
        assert (r.returncode, r.stdout, r.stderr) == (2, "", said), (args, r)
    r = run_in_process("shape", "--in", "8", "--f", "3", "--json", env=env)
    assert r.returncode == 2 and '"code": 2' in r.stdout and r.stderr == said


@pytest.mark.parametrize("value", ["", "on", "OFF", " off ", "0", "false"])
def test_the_worker_switches_it_takes_run_the_call(tmp_path, value):
    r = run_in_process("shape", "--in", "8", "--f", "3", "-q", env={**private_runtime(tmp_path), "KERNELCLI_WORKER": value})
    assert (r.returncode, r.stdout, r.stderr) == (0, "6\n", "")


def test_status_says_yes_or_no_to_spare_ready():
    # "spare_ready": 27445, a pid under a yes/no name; the pid is spare_pid now
    serving = server.Server("/nonexistent/w.sock", 60)
    assert (serving.status()["spare_ready"], serving.status()["spare_pid"]) == (False, None)
    serving.spare = (27445, None)
    assert (serving.status()["spare_ready"], serving.status()["spare_pid"]) == (True, 27445)


def test_start_asks_to_stop_first_only_when_another_timeout_was_given(invoke, monkeypatch):
    # 'worker start' alone, against a worker of 900 s, said "'kernelcli worker stop' first to start it with another"
    # though no other timeout was asked for
    from kernelcli.worker import control

    asked = []
    running = {"pid": 4711, "socket": "w.sock", "calls": 0, "uptime_seconds": 1.0, "idle_timeout_seconds": 900.0}
    monkeypatch.setattr(control, "start", lambda idle_seconds, said=None: asked.append(idle_seconds) or running)
    r = invoke("worker", "start")
    assert r.exit_code == 0 and r.stderr == "note: kernelcli worker 4711 runs already, with an idle timeout of 900 s\n", r.stderr
    r = invoke("worker", "start", "--idle-timeout", "60")
    assert r.exit_code == 0 and r.stderr == ("note: kernelcli worker 4711 runs already, with an idle timeout of 900 s; "
                                             "'kernelcli worker stop' first to start it with another\n"), r.stderr
    assert invoke("worker", "start", "--idle-timeout", "900").stderr == ""
    assert asked == [protocol.DEFAULT_IDLE_SECONDS, 60, 900]


@pytest.mark.parametrize(("cpu", "limit", "own"), [(2.001, 2, True), (1.2, 2, False), (2.0, None, False), (None, 2, False)])
def test_a_sigkill_at_the_callers_hard_cpu_limit_is_the_callers(tmp_path, monkeypatch, cpu, limit, own):
    # bash's `ulimit -t 2` sets soft and hard alike: the kernel kills at the hard limit with SIGKILL, no SIGXCPU first;
    # the client took it for the worker's death and ran the call again (2 s of CPU more), or blamed the worker
    import resource

    died = []
    monkeypatch.setattr(client, "_die_of", lambda s: died.append(s) or 128 + s)
    hard = resource.RLIM_INFINITY if limit is None else limit
    monkeypatch.setattr(resource, "getrlimit", lambda which: (hard, hard))
    path = tmp_path / "w.sock"
    killed = {"killed": int(signal.SIGKILL)} if cpu is None else {"killed": int(signal.SIGKILL), "cpu": cpu}
    listener, fake = fake_worker(path, {"pid": 2**22 + 1}, killed)
    thread = threading.Thread(target=fake)
    thread.start()
    try:
        result = client.run_in_worker(["shape", "--in", "8", "--f", "3"], socket_file=path)
    finally:
        thread.join()
        listener.close()
    assert (died, result) == (([int(signal.SIGKILL)], 137) if own else ([], None))  # None: run here after all


def test_the_worker_tells_a_killed_calls_cpu_seconds():
    left, right = socket.socketpair()
    with right:
        server._tell_if_killed(left, 9, 1.23456)  # a status of 9: killed by signal 9
        assert protocol.receive(right) == {"killed": 9, "cpu": 1.235}


def _idle_scheduler() -> None:
    os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))


def _oom_first() -> None:
    with open("/proc/self/oom_score_adj", "w") as f:
        f.write("500")


@pytest.mark.parametrize(("setup", "word"), [(_idle_scheduler, "CPU scheduling policy (policy)"),
                                             (_oom_first, "OOM score adjustment (oom_score_adj)")])
def test_a_caller_of_another_priority_runs_its_call_itself(worker, setup, word):
    # `chrt -i 0`, `chrt -b 0`, `ionice -c 3` and a raised oom_score_adj ran the call at the worker's priority
    if not hasattr(os, "SCHED_IDLE") or not Path("/proc/self/oom_score_adj").exists():
        pytest.skip("Linux's scheduling policies and /proc are needed")
    wait_for(lambda: not status(worker)["calls_in_progress"], timeout=120)
    before = status(worker)
    r = subprocess.run([sys.executable, "-m", "kernelcli", "--debug", "shape", "--in", "8", "--f", "3", "-q"],
                       env={**cli_env(), **worker}, capture_output=True, text=True, preexec_fn=setup, timeout=120)
    after = status(worker)
    assert (r.returncode, r.stdout) == (0, "6\n"), r.stderr
    assert f"the caller's {word} differs from the worker's" in r.stderr, r.stderr
    assert (after["calls"], after["refused"]) == (before["calls"], before["refused"] + 1)


def test_an_io_priority_is_part_of_the_identity():
    if identity.identity().get("ioprio") is None:
        pytest.skip("ioprio_get is not known on this machine")
    r = subprocess.run(["ionice", "-c", "3", sys.executable, "-c", "from kernelcli.worker import identity; "
                        "print(identity.identity()['ioprio'])"], capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        pytest.skip(f"ionice: {r.stderr.strip()}")
    assert int(r.stdout) >> 13 == 3 and identity.identity()["ioprio"] != r.stdout.strip()


def test_a_failed_bind_leaves_no_temporary_socket(tmp_path):
    # a folder where the socket goes: the rename failed and a bound '.PID.tmp' socket stayed in the runtime folder
    (tmp_path / "w.sock").mkdir()
    serving = server.Server(str(tmp_path / "w.sock"), 60)
    with pytest.raises(OSError):
        serving.bind()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w.sock"]


class TestStopAsStatus:
    """The vocabulary audit (83), finding 2: 'worker stop' before any worker had run said the runtime folder
    'cannot be made here' (error, exit 1, with -q too) where status said 'not running'; and it had no --json."""

    def test_stop_before_the_folder_is_made_says_not_running(self, tmp_path):
        env = private_runtime(tmp_path)  # $XDG_RUNTIME_DIR is there, its kernelcli folder not yet
        status = run_in_process("worker", "status", env=env)
        fresh = run_in_process("worker", "stop", env=env)
        assert not socket_file(env).parent.exists()  # (asking made nothing)
        socket_file(env).parent.mkdir(mode=0o700)
        made = run_in_process("worker", "stop", env=env)  # what stop said once the folder existed: the same now
        assert (fresh.returncode, fresh.stdout, fresh.stderr) == (made.returncode, made.stdout, made.stderr), fresh.stderr
        assert fresh.stderr == status.stderr == "kernelcli worker: not running\n"

    def test_quiet_stop_before_the_folder_is_made_prints_nothing(self, tmp_path):
        r = run_in_process("worker", "stop", "-q", env=private_runtime(tmp_path))
        assert (r.returncode, r.stdout, r.stderr) == (0, "", "")

    def test_stop_takes_json_and_gives_status_record(self, tmp_path, invoke, monkeypatch):
        import json

        from kernelcli.worker import control

        env = private_runtime(tmp_path)
        status = run_in_process("worker", "status", "--json", env=env)
        stop = run_in_process("worker", "stop", "--json", env=env)
        assert stop.returncode == 0 and json.loads(stop.stdout) == json.loads(status.stdout), stop.stderr
        monkeypatch.setattr(control, "stop", lambda: 4711)
        for args in (("--json",), ("--json", "-q")):  # --json wins over -q, as in status
            r = invoke("worker", "stop", *args)
            assert (r.exit_code, json.loads(r.stdout), r.stderr) == (0, {"running": False, "pid": 4711}, ""), r.stdout


def test_start_over_a_folder_says_so(tmp_path):
    # it said 'the worker exited with code 1 while starting; see ....log', the log an IsADirectoryError traceback
    env = private_runtime(tmp_path)
    socket_file(env).parent.mkdir(mode=0o700)
    socket_file(env).mkdir()
    r = run_in_process("worker", "start", env=env)
    # (then exit 1, in the file jobs' words: a setting to fix, exit 2 since audit 99 #3)
    assert r.returncode == 2 and r.stderr == f"error: kernelcli worker: not started: {socket_file(env)}: is a folder, not the worker's socket; move it away to start the worker\n"
    assert sorted(p.name for p in socket_file(env).parent.iterdir()) == [socket_file(env).name]


@pytest.mark.parametrize("value", ["inf", "1e308", "0.5", "nan"])
def test_an_idle_timeout_out_of_range_is_refused_in_the_shared_words(value):
    # inf said 'expected a finite number of seconds > 0' where 0.5 said Click's 'not in the range x>=1'; 1e308 was taken
    r = run_in_process("worker", "start", "--idle-timeout", value)
    assert r.returncode == 2 and f"Invalid value for '--idle-timeout': {value} is not in the range x>=1 and x<=31536000." in r.stderr
