"""What a file command starts before it imports numpy (issue 17: the cold path).

:func:`starts_early` wraps ``convolve``, ``pad`` and ``pool``.  Before the command body
imports numpy and kernelcli's own modules (about 70 ms of a cold call):

* a JPEG input that the call reads whole (one input file, no ``--out-dir``, not tiled) is
  opened and decoded on a second thread (:func:`kernelcli.io.decode.begin`): Pillow
  decodes with the GIL released, so a 12 MP photo's ~70 ms of decoding overlaps the
  imports.  The reader takes the decoded image, or the error it met, when the call gets
  there: the same pixels, notes, messages and exit codes.
* numpy is loaded with one OpenBLAS thread (``OPENBLAS_NUM_THREADS=1`` while the command
  runs, unless the environment sets the thread count).  These commands use no BLAS, and
  OpenBLAS starts a thread per core when it loads, which then spins for about 0.1 s of CPU
  waiting for work that never comes: on two cores, the time the decoding thread or the
  jitted core's helper threads would have had.  The variable is removed again when the
  command returns (a process it starts meanwhile, a batch's worker, inherits it).

``learn`` uses BLAS, with a thread per core, except where the address space is capped
(``ulimit -v``): :func:`one_blas_thread_under_memory_cap`.

>>> @starts_early
... def command(input, out_dir=None):
...     return "ran"
>>> command(input=["no-such.jpg"])
'ran'
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

#: the variables OpenBLAS takes its thread count from (in its order of precedence)
BLAS_THREADS = ("OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS")


def starts_early(func: F) -> F:
    """Decode the input early and load numpy with one BLAS thread around ``func`` (see the module)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from ..io import decode

        with _one_blas_thread():
            try:
                path = _whole_input(kwargs)
                if path is not None:
                    decode.begin(path, max_pixels=kwargs.get("max_pixels"), need=_run_need(func.__name__, kwargs))
                return func(*args, **kwargs)
            finally:
                decode.discard()

    return wrapper  # type: ignore[return-value]


def _run_need(command: str, kwargs: dict[str, Any]) -> Any:
    """What ``command`` holds beside its input (:class:`kernelcli.io.common.RunNeed`), as its reader's memory check
    counts it (the job's own: a refusal under another count is not taken, the reader opens the image again).

    >>> _run_need("pad", {}).keeps_dtype, _run_need("pool", {"op": "Max", "size": 2}).window
    (True, (2, 2, 0))
    >>> _run_need("pool", {"op": "mean", "size": 3, "stride": 1, "padding": "1"})
    RunNeed(keeps_dtype=False, window=(3, 1, 1))
    """
    from ..io.common import FILTER, PAD, pool_need

    if command != "pool":
        return PAD if command == "pad" else FILTER
    try:
        padding = kwargs.get("padding") or "valid"
        return pool_need(kwargs.get("op") or "max", int(kwargs["size"]), kwargs.get("stride"),
                         0 if padding == "valid" else int(padding))
    except Exception:  # noqa: BLE001 - a bad value is refused by the command, in its turn
        return FILTER


def one_blas_thread_under_memory_cap(func: F) -> F:
    """Load numpy with one OpenBLAS thread around ``func`` (``learn``, which uses BLAS) where the address space is
    capped (``ulimit -v``): there OpenBLAS's thread per core could not start (``pthread_create failed``, an abort)
    or spun in its allocator past SIGTERM, where the one thread's failure is the one line of running out of memory."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with _one_blas_thread(when=_address_space_capped()):
            return func(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


@contextlib.contextmanager
def _one_blas_thread(when: bool = True) -> Iterator[None]:
    """Within this block, numpy loads with one OpenBLAS thread, unless it is loaded or the environment sets a count."""
    one_blas = when and "numpy" not in sys.modules and not any(name in os.environ for name in BLAS_THREADS)
    if one_blas:
        os.environ["OPENBLAS_NUM_THREADS"] = "1"
    try:
        yield
    finally:
        if one_blas and os.environ.get("OPENBLAS_NUM_THREADS") == "1":
            del os.environ["OPENBLAS_NUM_THREADS"]


def _address_space_capped() -> bool:
    """Whether this process's address space is limited (``ulimit -v``, RLIMIT_AS)."""
    try:
        import resource
    except ImportError:  # (not on Windows)
        return False
    return resource.getrlimit(resource.RLIMIT_AS)[0] != resource.RLIM_INFINITY


def _whole_input(kwargs: dict[str, Any]) -> Any:
    """The one input file a call reads whole, or None (several inputs, a folder of outputs, stdin, the tiled path)."""
    from ..tiled import files

    inputs = kwargs.get("input") or []
    if len(inputs) != 1 or str(inputs[0]) == "-" or kwargs.get("out_dir") is not None:
        return None
    try:
        tiled = files.wanted(inputs[0], kwargs.get("out"), tiled=bool(kwargs.get("tiled")), chunks=kwargs.get("chunks"),
                             scheduler=kwargs.get("scheduler"))
    except Exception:  # noqa: BLE001 - the command says what is wrong, in its turn
        return None
    return None if tiled else inputs[0]
