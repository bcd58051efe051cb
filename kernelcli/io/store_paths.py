"""Whether a path is inside a Zarr store, and which: one answer for the reader, every output check and the batch.

A store is found where a path really is (from the working folder, through ``..`` and links), by its name (a folder
``*.zarr``) or by its metadata (a group named otherwise): never by the path's text alone, which ``grp.zarr/../x.npy``,
``x.npy`` run from inside ``grp.zarr`` and ``x.zarr.png`` each misread.

>>> enclosing_store("grp.zarr/img")
PosixPath('grp.zarr')
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any


def enclosing_store(path: Any, *, itself: bool = False) -> Path | None:
    """The local Zarr store ``path`` is inside (with ``itself``: or is), or None: the outermost folder on the way to
    where ``path`` really is (from the working folder, through ``..`` and links; a file's own link is replaced, not
    followed, so only its folder is resolved) named ``*.zarr`` or holding Zarr metadata (a group named otherwise).
    The one answer to "is this path in a store, and which": named as ``path`` spells it where it does
    (``grp.zarr``), else by its real path (run from inside the store).  A URL is none of this: None.

    >>> enclosing_store("grp.zarr/img"), enclosing_store("grp.zarr/../x.npy"), enclosing_store("x.zarr.png/y")
    (PosixPath('grp.zarr'), None, None)
    >>> enclosing_store("o.zarr"), enclosing_store("o.zarr", itself=True)
    (None, PosixPath('o.zarr'))
    """
    from ..tiled.urls import as_url

    if path is None or str(path) in ("", "-") or as_url(path) is not None:
        return None
    text = os.fspath(path).rstrip("/") or "/"
    head, name = os.path.split(text)
    real = Path(os.path.realpath(text) if itself or name in ("", ".", "..")
                else os.path.join(os.path.realpath(head or "."), name))
    folders = [*reversed(real.parents), real] if itself else list(reversed(real.parents))
    store = next((f for f in folders if f.name.lower().endswith(".zarr") or _zarr_metadata(f)), None)
    if store is None:
        return None
    typed = Path(text).parts
    spelt = (Path(*typed[:k]) for k in range(1, len(typed) + 1) if typed[k - 1] not in (".", ".."))  # ('..' names no store)
    return next((p for p in spelt if os.path.realpath(p) == str(store)), store)


def is_store_node(path: Any) -> bool:
    """True for a folder that is itself a Zarr store or a node of one (an array or group inside it): named ``*.zarr``
    (as typed or where it really is) or holding Zarr metadata.  What an input folder is asked; a plain folder inside
    a store (``scans.zarr/pngs`` of images) is no node: a folder of inputs.  Whether an output is *inside* a store
    is :func:`enclosing_store`'s question.

    >>> is_store_node("/nonexistent.zarr"), is_store_node("/nonexistent")
    (True, False)
    """
    path = Path(path)
    return (path.name.lower().endswith(".zarr") or Path(os.path.realpath(path)).name.lower().endswith(".zarr")
            or _zarr_metadata(path))


def named_only(path: Any) -> bool:
    """True for a folder named as a Zarr store is (``*.zarr``, as typed or where it really is) that holds no Zarr
    metadata: no store (zarr cannot open it), though :func:`is_store_node` takes it for one.

    >>> named_only("/nonexistent.zarr")
    False
    """
    return os.path.isdir(path) and is_store_node(path) and not _zarr_metadata(Path(path))


#: the most of a metadata file parsed: a group's ``zarr.json`` holds its attributes and (consolidated) the metadata of
#: every array in it, ~1 KB an array, so megabytes are usual; a larger regular file is still a store's (see below)
METADATA_LIMIT = 64 << 20
#: the bytes of a regular metadata file over ``METADATA_LIMIT`` read to tell it is a JSON document
METADATA_HEAD = 4096


def read_metadata(path: Any) -> bytes:
    """The bytes of the metadata file ``path``, read only if it is a regular file of at most ``METADATA_LIMIT``
    bytes, else ValueError (OSError if it cannot be opened): a FIFO named ``zarr.json`` would block the open for
    ever, a link to ``/dev/zero`` be read until memory runs out.

    >>> read_metadata("/dev/zero")
    Traceback (most recent call last):
    ValueError: /dev/zero: not a regular file
    """
    text, whole = _read_regular(path)
    if not whole:
        raise ValueError(f"{os.fspath(path)}: more than {METADATA_LIMIT} bytes of metadata")
    return text


def _read_regular(path: Any) -> tuple[bytes, bool]:
    """``(its bytes, True)`` for a regular file of at most ``METADATA_LIMIT`` bytes, ``(its first METADATA_HEAD
    bytes, False)`` for a larger one; ValueError for anything else (a FIFO, a device), read not at all."""
    import stat

    refused = ValueError(f"{os.fspath(path)}: not a regular file")
    if not stat.S_ISREG(os.stat(path).st_mode):
        raise refused
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(fd, "rb") as opened:  # (swapped for a FIFO since the stat: O_NONBLOCK and the check again)
        found = os.fstat(opened.fileno())
        if not stat.S_ISREG(found.st_mode):
            raise refused
        if found.st_size > METADATA_LIMIT:
            return opened.read(METADATA_HEAD), False
        text = opened.read(METADATA_LIMIT + 1)
    return (text, True) if len(text) <= METADATA_LIMIT else (text[:METADATA_HEAD], False)


#: the answers of :func:`_zarr_metadata` by real folder, within one command-line call (None: not remembered, as in
#: the Python API): every output and every walked folder asked again for each ancestor up to ``/``
_ANSWERS: dict[str, bool] | None = None


def forget_store_lookups(*, remember: bool = True) -> None:
    """Start a call's look-ups afresh (the warm worker runs many calls in one process: no answer outlives its call);
    with ``remember``, a folder is looked at once in this call.

    >>> import kernelcli.io.store_paths as here  # (the module's own global: a doctest's names are a copy of them)
    >>> forget_store_lookups(), here._ANSWERS, forget_store_lookups(remember=False), here._ANSWERS
    (None, {}, None, None)
    """
    global _ANSWERS
    _ANSWERS = {} if remember else None


def _zarr_metadata(folder: Path) -> bool:
    """Whether ``folder`` holds Zarr metadata (:func:`_looks_like_metadata`), looked at once per call.

    >>> _zarr_metadata(Path("/dev"))
    False
    """
    if _ANSWERS is None:
        return _looks_like_metadata(folder)
    key = os.path.realpath(folder)  # (one key, one folder: abspath would take ``lnk/..`` for the working folder)
    if key not in _ANSWERS:
        _ANSWERS[key] = _looks_like_metadata(Path(key))
    return _ANSWERS[key]


def _looks_like_metadata(folder: Path) -> bool:
    """True for a folder holding a Zarr store's metadata (v2 ``.zgroup``/``.zarray``, v3 ``zarr.json`` saying its
    ``zarr_format``; one over ``METADATA_LIMIT``: a JSON object): a store without the ``.zarr`` name.  Only a regular
    file counts (a FIFO or a device is not read).

    >>> _looks_like_metadata(Path("/dev"))
    False
    """
    import json

    try:  # (a name too long, a folder not readable: no store that can be told, and its own check says why)
        if (folder / ".zgroup").is_file() or (folder / ".zarray").is_file():
            return True
        text, whole = _read_regular(folder / "zarr.json")
        if not whole:  # (too large to parse: a JSON object under Zarr's own metadata name is a store's, never none)
            return text.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{")
        found = json.loads(text.decode("utf-8"))
        return isinstance(found, dict) and "zarr_format" in found
    except (OSError, ValueError):
        return False
