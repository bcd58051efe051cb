"""Whether Numba's on-disk cache already holds a jitted function for given dtypes, so the
API can say "compiling..." on stderr the first time it really compiles (and only then).

Standard library only; the dispatcher passed in is a Numba ``@njit(cache=True)`` function.
Numba keeps one index file per function (``<module>.<name>-<line>.py311.nbi``) listing
the compiled signatures; every (input dtype, compute dtype) pair is compiled once.
"""

from __future__ import annotations

from pathlib import Path

#: the command line sets it under ``-q`` ("no notes"): the compiling note is one
QUIET = False

#: the command line sets it: its note is printed on stderr, as every command's notes are
ON_COMMAND_LINE = False

#: the logger a library call's note goes through (a child of ``kernelcli``, whose notes the command line takes)
LOGGER = "kernelcli.compiling"


def announce_compiling(what: str) -> None:
    """Say that ``what`` ("the numeric core") is being compiled (a first call pauses for seconds), unless :data:`QUIET`.

    On the command line, on stderr.  From a library call, as a WARNING of the logger :data:`LOGGER`: with no logging
    set up, Python prints it on stderr alone, as the command line does; ``logging.getLogger("kernelcli").setLevel(
    logging.ERROR)`` (or ``logging.disable``) silences it, and a handler routes it (docs/python-api.md).
    """
    if QUIET:
        return
    message = f"kernelcli: compiling {what} (first run only; cached afterwards)..."
    if ON_COMMAND_LINE:
        import sys

        print(message, file=sys.stderr)
        return
    import logging

    logging.getLogger(LOGGER).warning(message)


def index_path(dispatcher) -> Path | None:
    """Where Numba keeps the cache index of ``dispatcher`` (None when unknown)."""
    try:
        return Path(dispatcher._cache._cache_file._index_path)
    except AttributeError:
        return None


def is_cached(dispatcher, *dtypes: str) -> bool:
    """True when ``dispatcher`` holds, or its cache index lists, a signature mentioning all
    ``dtypes`` in order.

    A version already loaded in this process (the warm worker loads them all) is answered
    without reading the index file.  Unknown layouts count as cached (better silent than a
    false "compiling" note).
    """
    if any(_mentions(str(sig), dtypes) for sig in list(getattr(dispatcher, "overloads", None) or ())):
        return True
    path = index_path(dispatcher)
    if path is None:
        return True
    import pickle

    try:
        with path.open("rb") as f:
            pickle.load(f)  # numba's version
            _stamp, overloads = pickle.loads(f.read())
    except FileNotFoundError:
        return False
    except Exception:
        return True
    return any(_mentions(str(key[0]), dtypes) for key in overloads)


def _mentions(text: str, dtypes: tuple[str, ...]) -> bool:
    """True when the signature ``text`` has arrays of ``dtypes``, in this order."""
    at = 0
    for name in dtypes:
        at = text.find(f"Array({name},", at)
        if at < 0:
            return False
    return True
