"""Whether Numba's on-disk cache already holds a jitted function for given dtypes, so the
API can say "compiling..." on stderr the first time it really compiles (and only then).

Standard library only; the dispatcher passed in is a Numba ``@njit(cache=True)`` function.
Numba keeps one index file per function (``<module>.<name>-<line>.py311.nbi``) listing
the compiled signatures; every (input dtype, compute dtype) pair is compiled once.
"""

from __future__ import annotations

from contextlib import contextmanager
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


class CompileNote:
    """The "compiling ..." note of one family of jitted loops: said at most once per process, and only
    before a loop runs on dtypes Numba's cache does not hold yet (:func:`is_cached`, asked once per
    (loop, dtypes): each look costs ~20 us).

    >>> note = CompileNote("the numeric core")
    >>> note.shown
    False
    """

    def __init__(self, what: str) -> None:
        self.what, self.shown = what, False
        self._looked: set[tuple] = set()

    def __call__(self, dispatcher, *dtypes) -> None:
        """Say the note if ``dispatcher`` is about to compile for arrays of ``dtypes`` and it was not said."""
        key = (dispatcher, *dtypes)  # dtype objects: their names are built in Python, a few microseconds each
        if self.shown or key in self._looked:
            return
        self._looked.add(key)
        if not is_cached(dispatcher, *map(str, dtypes)):
            self.shown = True
            announce_compiling(self.what)

    @contextmanager
    def kept(self):
        """Whatever is said or looked up inside, the note's state after is as before (the worker's warm-up)."""
        saved = self.shown, set(self._looked)
        try:
            yield
        finally:
            self.shown, self._looked = saved[0], saved[1]


#: the notes of the API's loops and of the convolution-layer loops
CORE_NOTE = CompileNote("the numeric core")
LAYER_NOTE = CompileNote("the convolution-layer core")


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
