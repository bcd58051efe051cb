"""Stops held for a while, in one stack: every holder of the unwinding signals takes and gives back handlers here.

Two holders nest without nesting in time: the swap of a Zarr store is a :func:`kernelcli.io.outputs.signals_deferred`
block, and inside it the store about to be put in place starts a one-input call's hold
(:mod:`kernelcli.io.published_stops`), which lasts to the call's end.  Each saving and restoring the handlers on its
own, the block's end took the hold away and the call's end put the block's noting handler back for good: a stop after
the swap recorded "not run" beside a complete store, and a host running the call in-process had its Ctrl-C noted in a
list nobody reads (audit 204 #1).  Here a holder given back while a later one still holds hands its handlers and its
stops to that one, and the last one given back puts back the handlers the first one found.

A signal the process ignores (``nohup``'s SIGHUP) stays ignored: it is not held, and never raised.

>>> import signal
>>> before = signal.getsignal(signal.SIGINT)
>>> outer = hold(); inner = hold(); release(outer)
[]
>>> signal.getsignal(signal.SIGINT) == inner.note, release(inner), signal.getsignal(signal.SIGINT) == before
(True, [], True)
"""

from __future__ import annotations

import os
import signal
import threading
from typing import Any

#: the signals that unwind a call (Ctrl-C, and SIGTERM/SIGHUP as the command line installs them; SIGALRM and the other
#: signals that end a process by default are held too where a handler takes them: :func:`_taken_ending`)
UNWINDING = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))


class Held:
    """One holder: the handlers its :meth:`note` replaced (``previous``) and the stops noted since (``pending``)."""

    def __init__(self) -> None:
        self.previous: dict[int, Any] = {}
        self.pending: list[int] = []

    def note(self, signum: int, _frame: Any) -> None:
        self.pending.append(signum)


_STACK: list[Held] = []


def hold(signals: tuple[int, ...] = UNWINDING) -> Held:
    """Hold ``signals`` (those not ignored) from now until :func:`release`.  In a thread other than the main one
    (where Python runs no signal handler) nothing is held."""
    held = Held()
    if threading.current_thread() is not threading.main_thread():
        return held
    _STACK.append(held)
    try:
        for sig in dict.fromkeys((*signals, *_taken_ending())):
            if signal.getsignal(sig) not in (signal.SIG_IGN, None):  # (None: a handler not Python's, left alone)
                # (signal.signal runs a stop that came just before, which may raise: what it replaced so far is kept)
                held.previous[sig] = signal.signal(sig, held.note)
    except BaseException:
        release(held)
        raise
    return held


def _taken_ending() -> tuple[int, ...]:
    """The signals that end a process by default (SIGALRM, SIGUSR1 ...) that a handler here takes (the command line's,
    which unwinds the call as SIGTERM does, or a host's): held as the unwinding ones are.  One left at its default
    ends the process at once, held or not."""
    from ..stops import ENDING

    return tuple(sig for sig in ENDING if callable(signal.getsignal(sig)))


def release(held: Held) -> list[tuple[int, Any]]:
    """Give ``held`` back.  Where a holder taken after it still holds a signal, that one takes the handler ``held``
    replaced and the stops of that signal ``held`` noted (before its own); elsewhere the handler is put back.  Returns
    the stops left to act on (each once, first come first), each with the handler to act on it (:func:`act`); last,
    one that came as the handlers went back.  Nothing here raises a stop: acting on them is the caller's."""
    if held not in _STACK:
        return []
    at = _STACK.index(held)
    del _STACK[at]
    takers = {sig: next((h for h in _STACK[at:] if sig in h.previous), None) for sig in held.previous}
    came = None  # a stop that came as the handlers went back, raised by one put back already
    for sig, handler in held.previous.items():
        if takers[sig] is None:
            came = _put_back(sig, handler) or came
        else:
            takers[sig].previous[sig] = handler
    for taker in dict.fromkeys(t for t in takers.values() if t is not None):
        taker.pending[:0] = [sig for sig in held.pending if takers.get(sig) is taker]
    left = [(sig, held.previous[sig]) for sig in dict.fromkeys(held.pending) if takers.get(sig) is None]
    return left + ([(0, _raising(came))] if came is not None else [])


def _put_back(sig: int, handler: Any) -> BaseException | None:
    """Install ``handler`` for ``sig`` whatever comes: ``signal.signal`` first runs a stop that just came, and one the
    handlers already put back raise left this one the holder's for good.  Returns that stop (the first), or None."""
    stop = None
    for _ in range(len(UNWINDING) + len(_taken_ending()) + 2):  # (each try that fails runs at least one stop that came)
        try:
            signal.signal(sig, handler)
            return stop
        except BaseException as exc:  # a stop the handlers already put back raise (KeyboardInterrupt, Interrupted)
            stop = stop or exc
    signal.signal(sig, handler)
    return stop


def _raising(stop: BaseException) -> Any:
    def again(_signum: int, _frame: Any) -> None:
        raise stop

    return again


def act(sig: int, handler: Any) -> None:
    """Do what ``handler`` (the one a held stop would have met) does with ``sig``: a function raises its stop
    (``KeyboardInterrupt``, :class:`kernelcli.errors.Interrupted`), the default ends the process, ignored is nothing."""
    if callable(handler):
        handler(sig, None)
    elif handler == signal.SIG_DFL:
        os.kill(os.getpid(), sig)
