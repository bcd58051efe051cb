"""A stop that lands once one input's output is in place waits until the call has said what it wrote.

A one-input call publishes its output inside its job, then records it (``--report``, ``--json``) and lists it.  A
stop (Ctrl-C, SIGTERM, SIGHUP) in between was recorded "not run" beside a complete file, and a script that trusted
the record ran the input again and was refused ``already exists`` (audit 199 #2).  So, inside :func:`call_scope`
(the command line's one call) that :func:`arm` armed (one input's path: a batch records each file as it finishes and
never arms it), the first file or store about to be put in place (:func:`hold_from`) holds the stops until the scope
ends: the record says "ok", the output is listed, and the stop is raised there, said with its exit code as a batch
stopped after its last file says it.  An output that is a stream (``-o -``) holds nothing: a reader that does not read
must not make the call deaf to a stop.

>>> with call_scope():
...     arm(); hold_from("o.png")
...     holding()
True
>>> holding()
False
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .held_stops import Held


class _Scope:
    def __init__(self) -> None:
        self.armed = False
        self.held: Held | None = None  # the stops held, once its output is about to be in place


_SCOPES: list[_Scope] = []


@contextlib.contextmanager
def call_scope() -> Iterator[None]:
    """One call: a stop held since its output was put in place is raised at the end, marked ``reported`` (the call
    wrote its ``--report`` itself).  Where the call ends with an error of its own, that error is the answer its record
    gave, and a stop held meanwhile is dropped with the hold."""
    scope = _Scope()
    _SCOPES.append(scope)
    try:
        yield
    except BaseException:
        _release(scope)
        raise
    finally:
        _SCOPES.remove(scope)
    if scope.held is None:  # (nothing held: the call that writes no file, shape's, imports no more than this)
        return
    from . import held_stops

    try:
        for sig, handler in _release(scope):  # the first that acts raises (a signal left ignored does nothing)
            held_stops.act(sig, handler)  # raises KeyboardInterrupt / Interrupted here, as it would have
    except KeyboardInterrupt as stop:
        stop.reported = True  # type: ignore[attr-defined] # (the call's own report is written: no other)
        raise


def arm() -> None:
    """Make the current call's first published output hold the stops (one input's path)."""
    if _SCOPES:
        _SCOPES[-1].armed = True


def hold_from(dest: Any) -> None:
    """``dest`` is about to be put in place: in an armed call, hold the stops from here to the call's end (taken inside
    a :func:`kernelcli.io.outputs.signals_deferred` block, as a Zarr store's swap is, the hold outlasts the block)."""
    from .naming import piped_stream

    scope = _SCOPES[-1] if _SCOPES else None
    if scope is not None and scope.armed and piped_stream(dest) is None:
        _hold(scope)


def hold_to_the_end() -> None:
    """Hold the stops from here to the call's end, armed or not: a batch whose every file is done
    (:func:`kernelcli.batch.run`), whose report and summary are still to say so.  Outside a call (the API's
    ``batch.run``) nothing is held."""
    if _SCOPES:
        _hold(_SCOPES[-1])


def _hold(scope: _Scope) -> None:
    if scope.held is not None or threading.current_thread() is not threading.main_thread():  # (Python runs signal
        return  # handlers there alone)
    from . import held_stops

    scope.held = held_stops.hold()


def holding() -> bool:
    """Whether the current call holds its stops (its output is in place)."""
    return bool(_SCOPES) and _SCOPES[-1].held is not None


def _release(scope: _Scope) -> list[tuple[int, Any]]:
    """Give back the handlers the hold replaced; the stops held, each with the handler to act on it."""
    if scope.held is None:
        return []
    from . import held_stops

    return held_stops.release(scope.held)
