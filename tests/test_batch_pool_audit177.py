"""A batch whose forkserver is killed (audit 177 #7): multiprocessing.Pool's worker handler thread died on the
forkserver's socket (ConnectionRefusedError, its traceback printed on stderr), no worker could be started any more,
and the run waited for ever with its items pending.  Now the watch fails every pending item once the pool can start
no worker and none is alive ("the batch's process pool broke"), and that thread's traceback is kept from stderr."""

from __future__ import annotations

import threading
from types import SimpleNamespace

from kernelcli.batch_watch import _Watch, quiet_pool_handler


def _finished_thread(name: str = "Thread-1 (_handle_workers)") -> threading.Thread:
    thread = threading.Thread(target=lambda: None, name=name)
    thread.start()
    thread.join()
    return thread


def _pool(handler: threading.Thread, workers=()):
    return SimpleNamespace(_worker_handler=handler, _pool=list(workers), slots=None)


def test_a_pool_that_can_start_no_worker_fails_every_pending_item_once():
    watch = _Watch(_pool(_finished_thread()), 3)
    watch.returned(1)
    broken = watch.broken()
    assert [index for index, _ in broken] == [0, 2]
    assert all(why == "the batch's process pool broke (its server process ended), so no worker could take it" for _, why in broken)
    assert watch.pending == set() and watch.any_lost and watch.broken() == []


def test_a_pool_whose_handler_runs_or_whose_worker_lives_is_not_broken():
    alive = threading.Event()
    handler = threading.Thread(target=alive.wait, name="Thread-2 (_handle_workers)")
    handler.start()
    try:
        assert _Watch(_pool(handler), 2).broken() == []
    finally:
        alive.set()
        handler.join()
    import os

    me = SimpleNamespace(pid=os.getpid())  # (a worker still alive may take the pending items)
    assert _Watch(_pool(_finished_thread(), [me]), 2).broken() == []


def _passed_on(monkeypatch, name: str, exc: BaseException) -> list[str]:
    """The exceptions of a thread ``name`` raising ``exc`` that reach the hook before quiet_pool_handler's."""
    seen: list[str] = []
    monkeypatch.setattr(threading, "excepthook", lambda args: seen.append(f"{args.thread.name}: {args.exc_value!r}"))

    def boom():
        raise exc

    with quiet_pool_handler():
        thread = threading.Thread(target=boom, name=name)
        thread.start()
        thread.join()
    assert threading.excepthook is not None
    return seen


def test_the_worker_handler_dying_on_the_forkserver_socket_prints_nothing(monkeypatch):
    assert _passed_on(monkeypatch, "Thread-3 (_handle_workers)", ConnectionRefusedError(111, "Connection refused")) == []


def test_every_other_thread_exception_is_passed_on(monkeypatch):
    assert _passed_on(monkeypatch, "Thread-4 (_handle_workers)", ValueError("other")) == ["Thread-4 (_handle_workers): ValueError('other')"]
    assert len(_passed_on(monkeypatch, "Thread-5 (worker)", ConnectionRefusedError(111, "refused"))) == 1


def test_a_worker_whose_status_was_lost_with_its_server_is_said_so():
    # (the files in flight when the forkserver died were told "its worker process ended with exit code 255", an exit
    # code nobody gave: multiprocessing's stand-in for a status it could not read from the dead server; audit 179 #2)
    from kernelcli.batch_watch import _ended, _exit_code

    forkserver_popen = type("Popen", (), {"__module__": "multiprocessing.popen_forkserver", "returncode": 255})
    other_popen = type("Popen", (), {"__module__": "multiprocessing.popen_spawn_posix", "returncode": 255})
    lost = SimpleNamespace(_popen=forkserver_popen())
    assert _ended(_exit_code(lost)) == "its worker process ended with the batch's server process (its exit status was lost)"
    assert _ended(_exit_code(SimpleNamespace(_popen=other_popen()))) == "its worker process ended with exit code 255"
    killed = SimpleNamespace(_popen=type("Popen", (), {"__module__": "multiprocessing.popen_forkserver", "returncode": -9})())
    assert _ended(_exit_code(killed)) == "its worker process was killed by SIGKILL (out of memory?)"
