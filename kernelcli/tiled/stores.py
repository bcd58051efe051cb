"""Chunked files in and out: Zarr (v2 and v3), OME-Zarr, TIFF, .npy, as dask arrays.

Reading never loads the whole image: a Zarr array (or an OME-Zarr group's highest-resolution
level, ``multiscales[0].datasets[0]``) through ``dask.array.from_zarr``; a TIFF (tiled,
striped or BigTIFF) through tifffile's Zarr store (``imread(aszarr=True)``); a ``.npy``
through a read-only memory map.

Writing: a ``.zarr`` output is written chunk by chunk (each chunk one file of the store)
into a temporary folder beside the destination, renamed into place when every chunk is
there, so the destination is either absent or complete; the installed zarr's default
format is used (v3 for zarr 3, v2 for zarr 2).  A ``.npy`` output is streamed band by
band through :func:`kernelcli.io.outputs.atomic_write`.

Example
-------
>>> is_chunked("scan.zarr"), is_chunked("scan.png")
(True, False)
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

from . import require

#: suffixes read and written as chunked stores
CHUNKED_SUFFIXES = (".zarr",)
#: inputs the tiled path can read without loading them whole
TILED_INPUTS = (".zarr", ".tif", ".tiff", ".npy")
#: outputs the tiled path writes without holding them whole
TILED_OUTPUTS = (".zarr", ".npy")


def is_chunked(path: Any) -> bool:
    """True for a path a chunked store lives at (``.zarr``), existing or not."""
    return path is not None and str(path) != "-" and Path(str(path).rstrip("/")).suffix.lower() in CHUNKED_SUFFIXES


def open_array(path: Path) -> tuple[Any, str, Any]:
    """The input as a lazy dask array: ``(array, description for a note, close)``; call ``close()`` when done.

    Raises ImageReadError (exit 2) naming the path when it holds no readable array.
    """
    from ..errors import ImageReadError
    from . import urls

    url = urls.as_url(path)
    if url is not None:
        return _open_url(url)
    da = require("dask.array", f"reading {path.name} tile by tile")
    suffix = path.suffix.lower()
    if suffix == ".npy":
        import numpy as np

        try:
            data = np.load(path, mmap_mode="r", allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise ImageReadError(f"{path}: cannot read as .npy: {exc}") from None
        return da.from_array(data, chunks="auto"), ".npy (memory-mapped)", _nothing
    if suffix in (".tif", ".tiff"):
        tifffile = require("tifffile", f"reading {path.name} tile by tile")
        zarr = require("zarr", f"reading {path.name} tile by tile")
        store = None
        try:
            store = tifffile.imread(path, aszarr=True)
            node = zarr.open(store, mode="r")
            array, what = _array_in(node, path)
        except Exception as exc:  # tifffile raises many kinds for a bad file
            if store is not None:
                store.close()
            if isinstance(exc, ImageReadError):
                raise
            raise ImageReadError(f"{path}: cannot read as TIFF: {' '.join(str(exc).split())}") from None
        return da.from_zarr(array), f"TIFF{what}", store.close
    zarr = require("zarr", f"reading {path.name}")
    if not path.exists():
        raise ImageReadError(f"{path}: no such file or folder")
    if path.is_file():  # a store is a folder (or a URL): a PNG, a JPEG ... is read in memory
        raise ImageReadError(f"{path}: the tiled path reads Zarr stores, TIFF and .npy; this file is none of them: "
                             "leave out --tiled/--chunks")
    try:
        node = zarr.open(str(path), mode="r")
    except Exception as exc:  # zarr raises several kinds for a folder that is no store
        raise ImageReadError(f"{path}: not a Zarr store: {' '.join(str(exc).split())}") from None
    array, what = _array_in(node, path)
    return (da.from_zarr(array) if hasattr(array, "store") else da.from_array(array, chunks=array.chunks)), f"Zarr{what}", _nothing


def _nothing() -> None:
    return None


def _open_url(url: str) -> tuple[Any, str, Any]:
    """:func:`open_array` of a Zarr store behind an fsspec URL (see :mod:`kernelcli.tiled.urls`)."""
    from ..errors import ImageReadError, UsageError
    from . import urls

    if not is_chunked(url):
        raise UsageError(f"{url}: a URL input on the tiled path is a Zarr store (.zarr); "
                         "copy other files to a local path first")
    da = require("dask.array", f"reading {url}")
    zarr = require("zarr", f"reading {url}")
    if not urls.exists(url):
        raise ImageReadError(f"{url}: no such store")
    try:
        node = zarr.open(url, mode="r")
    except Exception as exc:  # zarr and the filesystem raise several kinds for what is no store
        raise ImageReadError(f"{url}: not a Zarr store: {' '.join(str(exc).split())}") from None
    array, what = _array_in(node, url)
    return da.from_zarr(array) if hasattr(array, "store") else da.from_array(array, chunks=array.chunks), f"Zarr{what}", _nothing


def _array_in(node: Any, path: Path) -> tuple[Any, str]:
    """The array of a Zarr node: itself, an OME-Zarr group's first (highest-resolution) level, or a group's only array."""
    from ..errors import ImageReadError

    if hasattr(node, "shape") and hasattr(node, "dtype"):
        return node, ""
    attrs = dict(node.attrs)
    multiscales = attrs.get("multiscales") or (attrs.get("ome") or {}).get("multiscales")
    if multiscales:
        level = multiscales[0]["datasets"][0]["path"]
        axes = [a["name"] if isinstance(a, dict) else str(a) for a in multiscales[0].get("axes", [])]
        array = node[level]
        return _drop_singletons(array, axes, path), f" (OME-Zarr level {level!r}, the highest resolution)"
    arrays = sorted(name for name, _ in node.arrays())
    if len(arrays) == 1:
        return node[arrays[0]], f" (array {arrays[0]!r})"
    listed = ", ".join(arrays) if arrays else "none"
    raise ImageReadError(f"{path}: a Zarr group with {len(arrays)} arrays ({listed}); give the array's path, e.g. {path}/{arrays[0] if arrays else 'NAME'}")


def _drop_singletons(array: Any, axes: list[str], path: Path) -> Any:
    """OME-Zarr's (t, c, z, y, x): a single time point and channel are dropped; the rest must be (z, )y, x."""
    from ..errors import ImageReadError

    if not axes:
        return array
    index = []
    kept = []
    for name, n in zip(axes, array.shape):
        if name in ("t", "c") and n == 1:
            index.append(0)
        else:
            index.append(slice(None))
            kept.append(name)
    if kept not in (["y", "x"], ["z", "y", "x"]):
        raise ImageReadError(f"{path}: OME-Zarr axes {','.join(axes)} with shape {tuple(array.shape)}: "
                             "kernelcli takes (y, x) or (z, y, x) with one time point and one channel")
    return _Indexed(array, tuple(index)) if len(kept) != len(axes) else array


class _Indexed:
    """A Zarr array seen through a fixed index (dropped singleton axes), for ``dask.array.from_array``."""

    def __init__(self, array: Any, index: tuple) -> None:
        self.array, self.index = array, index
        self.shape = tuple(n for n, i in zip(array.shape, index) if not isinstance(i, int))
        self.dtype = array.dtype
        self.ndim = len(self.shape)
        self.chunks = tuple(c for c, i in zip(array.chunks, index) if not isinstance(i, int))

    def __getitem__(self, key: tuple) -> Any:
        key = list(key if isinstance(key, tuple) else (key,))
        full = tuple(i if isinstance(i, int) else key.pop(0) for i in self.index)
        return self.array[full]


def regular(result: Any) -> Any:
    """``result`` rechunked so every chunk but the last has one size per axis (what Zarr stores)."""
    return result.rechunk(tuple(max(c) if c else 1 for c in result.chunks))


#: a file in a temporary store while it may be written; a cancelled tile still running finds it gone and writes nothing
MARKER = ".kernelcli-writing"


def _write_block(block: Any, target: Any, region: tuple, marker: str | None = None) -> tuple[float, float] | None:
    """Write one tile into ``target`` (a Zarr array or a ``.npy`` path); return its range."""
    import numpy as np

    if marker is not None and not os.path.exists(marker):
        return None  # the run was cancelled and its store removed: nothing may appear again

    if isinstance(target, str) or hasattr(target, "open_memmap"):  # a file: each task maps it again (workers are other processes)
        target = np.load(target, mmap_mode="r+") if isinstance(target, str) else target.open_memmap()
        target[region] = block
        target.flush()
    else:
        target[region] = block
    if block.size == 0:
        return None
    return float(block.min()), float(block.max())


def _tasks(result: Any, target: Any, marker: str | None = None) -> list[Any]:
    """One Delayed per output tile: compute it, write it to its region of ``target``, return its range."""
    import itertools

    import dask

    blocks = result.to_delayed()
    starts = [list(itertools.accumulate((0,) + c)) for c in result.chunks]
    tasks = []
    for index in itertools.product(*(range(n) for n in result.numblocks)):
        region = tuple(slice(starts[a][i], starts[a][i + 1]) for a, i in enumerate(index))
        tasks.append(dask.delayed(_write_block, pure=False)(blocks[index], target, region, marker))
    return tasks


def write_zarr(result: Any, dest: Path, *, force: bool, run: Any) -> list[Any]:
    """Write the dask array ``result`` to the Zarr store ``dest`` atomically (see the module notes).

    ``run(tasks)`` computes one task per output tile (here, with a progress bar, on a
    cluster...) and returns their ranges.  On any error or Ctrl-C the temporary store is
    removed and ``dest`` is untouched.
    """
    from ..errors import WriteError
    from ..io.outputs import signals_deferred
    from . import urls

    if urls.as_url(dest) is not None:
        return _write_zarr_url(result, urls.as_url(dest), force=force, run=run)
    zarr = require("zarr", f"writing {dest.name}")
    folder = dest.parent if str(dest.parent) else Path(".")
    tmp, published = None, False
    try:
        with signals_deferred():  # a signal now is raised once ``tmp`` is known, so the finally removes it
            try:
                import tempfile

                tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".part", dir=folder))
            except OSError as exc:
                raise WriteError(f"{dest}: cannot write in {folder}: {exc.strerror or exc}") from None
        result = regular(result)
        chunks = tuple(c[0] if c else 1 for c in result.chunks)
        target = zarr.open_array(str(tmp), mode="w", shape=result.shape, chunks=chunks, dtype=result.dtype)
        marker = tmp / MARKER
        marker.touch()
        ranges = run(_tasks(result, target, str(marker)))
        marker.unlink()
        with signals_deferred():  # the swap of an old store for the new one is never cut in half
            _publish_store(tmp, dest, folder, force)
            published = True
        return ranges
    except OSError as exc:
        raise WriteError(f"{dest}: write failed: {exc.strerror or exc}; the destination is untouched") from None
    finally:
        if not published and tmp is not None:
            _remove_tree(tmp)


def _write_zarr_url(result: Any, url: str, *, force: bool, run: Any) -> list[Any]:
    """:func:`write_zarr` to an fsspec URL: in place (object storage cannot rename; see
    :mod:`kernelcli.tiled.urls`); on any error or Ctrl-C what was written is removed."""
    from ..errors import OutputRefused, WriteError
    from ..io.outputs import exists_message
    from . import urls

    zarr = require("zarr", f"writing {url}")
    if urls.exists(url):
        if not force:
            raise OutputRefused(exists_message(url))
        urls.remove(url)
    started, written = False, False
    try:
        result = regular(result)
        chunks = tuple(c[0] if c else 1 for c in result.chunks)
        started = True
        target = zarr.open_array(url, mode="w-", shape=result.shape, chunks=chunks, dtype=result.dtype)
        ranges = run(_tasks(result, target))
        written = True
        return ranges
    except OSError as exc:
        raise WriteError(f"{url}: write failed: {exc.strerror or exc}") from None
    finally:
        if started and not written:
            urls.remove(url)


def _publish_store(tmp: Path, dest: Path, folder: Path, force: bool) -> None:
    """Rename the finished store ``tmp`` to ``dest``: create-if-absent, or (``force``) replace it."""
    from ..errors import OutputRefused
    from ..io.outputs import about_to_publish, exists_message, rename_noreplace

    if not os.path.lexists(dest):
        rename_noreplace(tmp, dest)  # another run may have made dest meanwhile: exactly one wins
        return
    if not force:
        raise OutputRefused(exists_message(dest))
    import shutil
    import tempfile

    old = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".old", dir=folder))
    about_to_publish()
    os.rename(dest, old / dest.name)
    os.rename(tmp, dest)
    shutil.rmtree(old, ignore_errors=True)


def _remove_tree(path: Path) -> None:
    """Remove a temporary store, also while cancelled tiles (threads, or tasks on a cluster) still finish.

    The marker goes first, so a tile that starts now writes nothing; one already writing may
    still create its chunk, hence the removal is repeated until the folder stays gone.
    """
    import shutil
    import time

    with contextlib.suppress(OSError):
        (path / MARKER).unlink()
    gone = 0
    for _ in range(100):
        shutil.rmtree(path, ignore_errors=True)
        gone = gone + 1 if not os.path.lexists(path) else 0
        if gone >= 3:
            return
        time.sleep(0.1)


def write_npy(result: Any, dest: Path, *, force: bool, run: Any) -> list[Any]:
    """Write ``result`` as a ``.npy`` file tile by tile into a temporary file, then publish it atomically."""
    import numpy as np

    from ..errors import WriteError
    from ..io.outputs import _publish, signals_deferred, temporary_beside

    folder = dest.parent if str(dest.parent) else Path(".")
    tmp, published = None, False
    try:
        with signals_deferred():  # a signal now is raised once ``tmp`` is known, so the finally removes it
            fd, tmp = temporary_beside(dest, folder)
            os.close(fd)
            try:
                np.lib.format.open_memmap(tmp, mode="w+", dtype=result.dtype, shape=result.shape).flush()
            except OSError as exc:
                raise WriteError(f"{dest}: cannot write in {folder}: {exc.strerror or exc}") from None
        ranges = run(_tasks(result, tmp))
        _publish(tmp, dest, force=force)
        published = True
        return ranges
    except OSError as exc:
        raise WriteError(f"{dest}: write failed: {exc.strerror or exc}; the destination is untouched") from None
    finally:
        if tmp is not None and (not published or os.path.lexists(tmp)):
            with contextlib.suppress(OSError):
                os.unlink(tmp)
