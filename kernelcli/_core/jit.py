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
was not (a cache written before this fix) counts as a miss, is compiled again and written over.

>>> @njit(cache=False)
... def twice(x):
...     return 2 * x
>>> twice(21)
42
"""

from __future__ import annotations

import itertools
import os
from contextlib import contextmanager

import numba
from numba.core import sigutils
from numba.core.caching import FunctionCache, IndexDataCacheFile

try:
    import fcntl
except ImportError:  # (Windows: no flock; the save is numba's own)
    fcntl = None


def njit(**options):
    """``numba.njit(**options)`` as a decorator, the dispatcher's cache guarded (:func:`guard_cache`)."""

    def decorate(function):
        return guard_cache(numba.njit(**options)(function))

    return decorate


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
        with _locked(self._cache_path):
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
def _locked(folder: str):
    """An exclusive ``flock`` on ``folder`` for the block (none where it cannot be taken: the save goes on as
    numba's own)."""
    fd = None
    if fcntl is not None:
        try:
            fd = os.open(folder, os.O_RDONLY)
            fcntl.flock(fd, fcntl.LOCK_EX)
        except OSError:
            if fd is not None:
                os.close(fd)
            fd = None
    try:
        yield
    finally:
        if fd is not None:
            os.close(fd)  # (closing the last descriptor releases the lock)
