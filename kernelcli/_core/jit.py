"""Numba's ``njit``, with its on-disk cache (``cache=True``) safe for processes that compile at once.

Numba keeps one index per jitted function (``pad.pad_rows-110.py311.nbi``) naming a data file per compiled
signature (``...py311.1.nbc``).  Two processes compiling a function for the first time at once (``xargs -P``,
``make -j``, pytest-xdist: a fresh install's first calls) each read the index, each take the first free number and
write: the index can end up naming, for one signature, a file that holds another signature's code (numba#10128,
open).  Every later call of that signature, in every process, then failed ("can't unbox array from PyObject
into native value", exit 70) until someone removed the cache; two signatures whose arrays unbox alike would have
run each other's code.

Here a save holds an exclusive lock on the cache folder while it reads the index, picks a number and writes the
data before the index; and a load checks that the code read was compiled for the signature asked for: one that
was not (a cache written before this fix) counts as a miss, is compiled again and written over.  A save waits
for the lock at most :data:`LOCK_WAIT` seconds: past that (a holder stopped, not killed: Ctrl-Z, ``kill -STOP``, a
scheduler's suspend) it is skipped, and the code compiled is used from memory, compiled again by the next process.

>>> @njit(cache=False)
... def twice(x):
...     return 2 * x
>>> twice(21)
42
"""

from __future__ import annotations

import itertools
import os
import time
from contextlib import contextmanager

import numba
from numba.core import sigutils
from numba.core.caching import FunctionCache, IndexDataCacheFile

try:
    import fcntl
except ImportError:  # (Windows: no flock; the save is numba's own)
    fcntl = None


#: seconds a cache save waits for the folder's lock before it gives up on saving
LOCK_WAIT = 10.0


def njit(*args, **options):
    """``numba.njit`` spelt as Numba spells it (``@njit``, ``njit(f)``, ``@njit(cache=True)``, ``@njit("f8(f8)")``),
    the dispatcher's cache guarded (:func:`guard_cache`; an eager signature compiles, and saves, before the guard).

    >>> njit(lambda x: x + 1)(41)
    42
    """
    if args and callable(args[0]):
        return guard_cache(numba.njit(*args, **options))
    made = numba.njit(*args, **options)
    return lambda function: guard_cache(made(function))


def guard_cache(dispatcher):
    """Give ``dispatcher``'s on-disk cache (if it has one) the locked save and the checked load; returns it."""
    cache = getattr(dispatcher, "_cache", None)
    if type(cache) is FunctionCache and type(cache._cache_file) is IndexDataCacheFile:
        cache.__class__ = _CheckedCache
        cache._cache_file.__class__ = _LockedIndex
    return dispatcher


class _CheckedCache(FunctionCache):
    """A cache whose load refuses code compiled for another signature than the one asked for."""

    def _load_overload(self, sig, target_context):
        loaded = super()._load_overload(sig, target_context)
        if loaded is not None and tuple(loaded.signature.args) != tuple(sigutils.normalize_signature(sig)[0]):
            return None  # (another signature's code under this one's name: compiled again, and saved over it)
        return loaded


class _LockedIndex(IndexDataCacheFile):
    """An index whose save, under the folder's lock, picks its number from the index as it is then and writes the
    data file before the index names it."""

    def save(self, key, data):
        with _locked(self._cache_path) as held:
            if not held:  # (the lock's holder is stopped: nothing saved, rather than wait for it for good)
                return
            overloads = self._load_index()
            name = overloads.get(key)
            if name is None:
                taken = set(overloads.values())
                name = next(self._data_name(i) for i in itertools.count(1) if self._data_name(i) not in taken)
                self._save_data(name, data)
                overloads[key] = name
                self._save_index(overloads)
            else:
                self._save_data(name, data)


@contextmanager
def _locked(folder: str, wait: float | None = None):
    """An exclusive ``flock`` on ``folder`` for the block, which gets True; False where another holds it past ``wait``
    seconds (:data:`LOCK_WAIT`); True without a lock where none can be taken (the save goes on as numba's own)."""
    fd, held = None, True
    if fcntl is not None:
        try:
            fd = os.open(folder, os.O_RDONLY)
            held = _flock_within(fd, LOCK_WAIT if wait is None else wait)
        except OSError:  # (no folder to open, a file system without flock)
            held = True
        if fd is not None and not held:
            os.close(fd)
            fd = None
    try:
        yield held
    finally:
        if fd is not None:
            os.close(fd)  # (closing the last descriptor releases the lock)


def _flock_within(fd: int, wait: float) -> bool:
    """Take ``fd``'s exclusive lock, retrying for ``wait`` seconds: True once held, False when still held elsewhere."""
    deadline = time.monotonic() + wait
    pause = 0.001
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(pause)
            pause = min(2 * pause, 0.05)
