"""The tiled path's writers: a dask result into a ``.zarr`` store (local, through a temporary store renamed into
place when complete, or an fsspec URL) or a ``.npy`` (row bands into a temporary file), each tile written as soon as it
is computed; the destination is absent or whole, never partial.  Split from :mod:`kernelcli.tiled.stores` (opening).

>>> MARKER, UNWRITTEN
('.kernelcli-writing', 'unwritten')
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from ..errors import WriteError
from . import require


def regular(result: Any) -> Any:
    """``result`` rechunked so every chunk but the last has one size per axis (what Zarr stores)."""
    return result.rechunk(tuple(max(c) if c else 1 for c in result.chunks))


#: a file in a temporary store while it may be written; a cancelled tile still running finds it gone and writes nothing
MARKER = ".kernelcli-writing"


#: what a tile returns when it did not write (:data:`MARKER` gone or not visible to its worker)
UNWRITTEN = "unwritten"


def check_written(ranges: list[Any], dest: Any, tmp: Any) -> None:
    """Refuse a run some of whose tiles did not write: their worker did not see the temporary store ``tmp``."""
    missing = sum(1 for r in ranges if isinstance(r, str) and r == UNWRITTEN)
    if missing:
        raise WriteError(f"{dest}: {missing} of {len(ranges)} tiles were not written: their worker does not see {tmp} "
                         "(the workers of a cluster need the inputs and outputs on a file system they share); "
                         "the destination is untouched")


def removed_meanwhile(folder: Path, tmp: Path) -> OSError:
    """The error of a temporary store removed while the result was written: its folder, or the store alone (audit 189
    #8: a folder removed under a local run was blamed on 'the workers of a cluster').

    >>> removed_meanwhile(Path("no/such"), Path("/no/such/.o.zarr.x.part")).strerror
    'the folder no/such was removed while the result was written'
    """
    import errno

    if not os.path.isdir(Path(tmp).parent):
        return FileNotFoundError(errno.ENOENT, f"the folder {folder} was removed while the result was written")
    return FileNotFoundError(errno.ENOENT, "its temporary store was removed while the result was written")


def _write_block(block: Any, target: Any, region: tuple, marker: str | None = None) -> tuple[Any, Any] | None:
    """Write one tile into ``target`` (a Zarr array or a ``.npy`` path); return its range."""
    import numpy as np

    if marker is not None and not os.path.exists(marker):
        return UNWRITTEN  # the run was cancelled and its store removed (or the worker cannot see it): nothing may appear

    if isinstance(target, str) or hasattr(target, "open_memmap"):  # a file: each task maps it again (workers are other processes)
        target = np.load(target, mmap_mode="r+") if isinstance(target, str) else target.open_memmap()
        target[region] = block
        target.flush()
    else:
        target[region] = block
    if block.size == 0:
        return None
    from ..ndsupport import min_max

    return min_max(block)  # ints for whole numbers: an int64 tile past 2**53 is not rounded


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


def write_zarr(result: Any, dest: Path, *, force: bool, run: Any, check: Any = None, attributes: dict | None = None) -> list[Any]:
    """Write the dask array ``result`` to the Zarr store ``dest`` atomically (see the module notes).

    ``run(tasks)`` computes one task per output tile (here, with a progress bar, on a
    cluster...) and returns their ranges; ``check(ranges)``, when given, may refuse them
    (an overflow: :func:`kernelcli.tiled.files.finite_check`) before anything is published.  On any error or
    Ctrl-C the temporary store is removed and ``dest`` is untouched. ``attributes`` (a volume's geometry)
    go into the store's attributes.
    """
    from ..io.outputs import signals_deferred, write_failure
    from ..io.temporary import temporary_folder_beside
    from . import urls

    if urls.as_url(dest) is not None:
        return _write_zarr_url(result, urls.as_url(dest), force=force, run=run, check=check, attributes=attributes)
    zarr = require("zarr", f"writing {dest.name}")
    folder = dest.parent if str(dest.parent) else Path(".")
    tmp, published, target = None, False, None
    try:
        with signals_deferred():  # a signal now is raised once ``tmp`` is known, so the finally removes it
            try:
                tmp = Path(temporary_folder_beside(dest, os.path.abspath(folder)))  # (absolute: workers' own folders)
            except OSError as exc:
                raise write_failure(dest, exc, folder) from None
        result = regular(result)
        chunks = tuple(c[0] if c else 1 for c in result.chunks)
        target = zarr.open_array(str(tmp), mode="w", shape=result.shape, chunks=chunks, dtype=result.dtype)
        target.attrs.update(attributes or {})
        marker = tmp / MARKER
        marker.touch()
        ranges = run(_tasks(result, target, str(marker)))
        if not marker.exists():  # gone from this process's own view too: no cluster's file system to blame
            raise write_failure(dest, removed_meanwhile(folder, tmp))
        check_written(ranges, dest, tmp)
        if check is not None:
            check(ranges)
        marker.unlink()
        with signals_deferred():  # the swap of an old store for the new one is never cut in half
            _publish_store(tmp, dest, folder, force)
            published = True
        return ranges
    except OSError as exc:
        if tmp is not None and not published and not os.path.isdir(tmp):
            exc = removed_meanwhile(folder, tmp)
        raise write_failure(dest, exc) from None
    finally:
        if not published and tmp is not None:
            _remove_tree_whatever_comes(tmp, lambda: chunk_names(target, result.numblocks))


def chunk_names(target: Any, numblocks: tuple[int, ...]) -> list[str]:
    """The names, in its store, of every chunk the Zarr array ``target`` may hold (none where it is None or its
    names are not known), and of its metadata: what :func:`_remove_now` removes without listing a folder.

    >>> chunk_names(None, (2, 2))
    ['zarr.json', '.zarray', '.zgroup', '.zattrs', '.kernelcli-writing']
    """
    import itertools

    names = [*_METADATA, MARKER]
    encode = getattr(getattr(target, "metadata", None), "encode_chunk_key", None)
    if encode is not None:
        names += [encode(index) for index in itertools.product(*(range(n) for n in numblocks))]
    return names


def _remove_tree_whatever_comes(path: Path, names: Any = None) -> None:
    """:func:`_remove_tree`, finished even when a stop comes meanwhile, then the stop raised: after a Ctrl-C a
    stop that a callback swallowed is raised again 1 ms later (:mod:`kernelcli.stops`), and it cut the removal
    short, leaving a hidden ``.name.zarr.xxxx.part`` store (about one run in 40 interrupted at 0.9-1.3 s)."""
    from ..io.outputs import signals_deferred

    stop: BaseException | None = None
    for _ in range(10):
        try:
            with signals_deferred():
                _remove_tree(path, names)
            break
        except KeyboardInterrupt as exc:  # (Interrupted, SIGTERM's and SIGHUP's, is one too)
            stop = stop or exc
    if stop is not None:
        raise stop


def _write_zarr_url(result: Any, url: str, *, force: bool, run: Any, check: Any = None, attributes: dict | None = None) -> list[Any]:
    """:func:`write_zarr` to an fsspec URL: in place (object storage cannot rename; see
    :mod:`kernelcli.tiled.urls`); on any error or Ctrl-C what was written is removed."""
    from ..io.output_checks import OutputExists
    from . import urls

    zarr = require("zarr", f"writing {url}")
    if urls.exists(url):
        if not force:
            raise OutputExists(url)
        urls.remove(url)
    started, written = False, False
    try:
        result = regular(result)
        chunks = tuple(c[0] if c else 1 for c in result.chunks)
        started = True
        target = zarr.open_array(url, mode="w-", shape=result.shape, chunks=chunks, dtype=result.dtype)
        target.attrs.update(attributes or {})
        ranges = run(_tasks(result, target))
        if check is not None:
            check(ranges)
        written = True
        return ranges
    except OSError as exc:
        raise WriteError(f"{url}: write failed: {exc.strerror or exc}") from None
    finally:
        if started and not written:
            urls.remove(url)


def _publish_store(tmp: Path, dest: Path, folder: Path, force: bool) -> None:
    """Rename the finished store ``tmp`` to ``dest``: create-if-absent, or (``force``) replace it."""
    from ..io.outputs import about_to_publish, rename_noreplace
    from ..io.output_checks import OutputExists

    if not os.path.lexists(dest):
        rename_noreplace(tmp, dest)  # another run may have made dest meanwhile: exactly one wins
        return
    if not force:
        raise OutputExists(dest)
    keep_modes(dest, tmp)
    old = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".old", dir=folder))
    about_to_publish(dest)
    os.rename(dest, old / dest.name)
    os.rename(tmp, dest)
    shutil.rmtree(old, ignore_errors=True)


#: a store's metadata files, whose mode its other files are given (:func:`keep_modes`)
_METADATA = ("zarr.json", ".zarray", ".zgroup", ".zattrs")


def keep_modes(old: Path, new: Path) -> None:
    """Give the store ``new``, about to replace ``old`` (``--force``), ``old``'s permissions, as a file output keeps its
    file's (audit 167 #1: a store made private with ``chmod -R go-rwx`` came back 755/644, readable by everyone):
    every folder of it ``old``'s mode, every file the mode of ``old``'s metadata file (else the folder's, without x).
    Where ``old`` is not a folder (a file in its place): nothing.

    >>> import tempfile; a, b = Path(tempfile.mkdtemp()), Path(tempfile.mkdtemp())
    >>> (a / "zarr.json").write_text("{}"); (b / "zarr.json").write_text("{}"); os.chmod(a / "zarr.json", 0o600)
    2
    2
    >>> os.chmod(a, 0o700); keep_modes(a, b); oct(os.stat(b).st_mode & 0o777), oct(os.stat(b / "zarr.json").st_mode & 0o777)
    ('0o700', '0o600')
    """
    import stat

    try:
        st = os.stat(old)
    except OSError:
        return
    if not stat.S_ISDIR(st.st_mode):
        return
    folder_mode = stat.S_IMODE(st.st_mode)
    file_mode = folder_mode & 0o666
    for name in _METADATA:
        with contextlib.suppress(OSError):
            kept = os.stat(old / name)
            if stat.S_ISREG(kept.st_mode):
                file_mode = stat.S_IMODE(kept.st_mode)
                break
    for here, _dirs, files in os.walk(new, topdown=False):  # (a folder after what is in it: it stays walkable till then)
        for name in files:
            os.chmod(os.path.join(here, name), file_mode)
        os.chmod(here, folder_mode)


def _remove_tree(path: Path, names: Any = None) -> None:
    """Remove a temporary store, also while cancelled tiles (threads, or tasks on a cluster) still finish.

    The marker goes first, so a tile that starts now writes nothing; one already writing may
    still create its chunk, hence the removal is repeated until the folder stays gone.
    """
    with contextlib.suppress(OSError):
        (path / MARKER).unlink()
    gone = 0
    for _ in range(100):
        _remove_now(path, names)
        gone = gone + 1 if not os.path.lexists(path) else 0
        if gone >= 3:
            return
        time.sleep(0.1)


def reserve_blocks(fd: int) -> None:
    """Give the file open as ``fd`` a block for every byte of its present size, now.

    Tiles write through a memory map of it; on a full disk (or quota) a dirty page with no block to go to is a
    SIGBUS, which kills the process with no message and leaves the temporary file (audit 189 #1). Reserved up
    front, a full disk is an OSError here (ENOSPC), an ordinary write failure.  A file system that cannot reserve
    (EOPNOTSUPP, EINVAL) is left as it was; a system without ``posix_fallocate`` (macOS) too.

    >>> import tempfile
    >>> with tempfile.TemporaryFile() as f:
    ...     f.truncate(1 << 16); reserve_blocks(f.fileno()); os.fstat(f.fileno()).st_size
    65536
    65536
    """
    import errno

    if not hasattr(os, "posix_fallocate"):
        return
    size = os.fstat(fd).st_size
    if size == 0:
        return
    try:
        os.posix_fallocate(fd, 0, size)
    except OSError as exc:
        if exc.errno not in (errno.EOPNOTSUPP, errno.EINVAL, errno.ENOSYS):
            raise


def _remove_now(path: Path, names: Any = None) -> None:
    """Remove the folder ``path`` as far as it goes now, errors ignored (the caller looks whether it is gone).

    :func:`shutil.rmtree` needs descriptors to list each folder; a run that failed on the open-files limit has none
    to spare (zarr's event loop keeps three), and its store stayed, every run another (audit 189 #9).  Then what
    ``names()`` gives (:func:`chunk_names`: paths inside ``path``) is removed by path, which takes no descriptor,
    and the folders they were in after them.

    >>> import tempfile; p = Path(tempfile.mkdtemp()); (p / "c" / "0").mkdir(parents=True); (p / "c" / "0" / "1").touch()
    >>> _remove_now(p); p.exists()
    False
    """
    shutil.rmtree(path, ignore_errors=True)
    if not os.path.lexists(path) or names is None:
        return
    folders = {os.fspath(path)}
    for name in names():
        with contextlib.suppress(OSError):
            os.unlink(os.path.join(path, name))
        parent = os.path.dirname(name)
        while parent:
            folders.add(os.path.join(path, parent))
            parent = os.path.dirname(parent)
    for folder in sorted(folders, key=len, reverse=True):  # (a folder after those inside it)
        with contextlib.suppress(OSError):
            os.rmdir(folder)


def write_npy(result: Any, dest: Path, *, force: bool, run: Any, check: Any = None) -> list[Any]:
    """Write ``result`` as a ``.npy`` file tile by tile into a temporary file, then publish it atomically
    (``run`` and ``check`` as for :func:`write_zarr`)."""
    import numpy as np

    from ..io.outputs import _publish, signals_deferred, temporary_beside, write_failure

    folder = dest.parent if str(dest.parent) else Path(".")
    tmp, published = None, False
    try:
        with signals_deferred():  # a signal now is raised once ``tmp`` is known, so the finally removes it
            fd, tmp = temporary_beside(dest, folder)
        try:  # (the folder took the file: what fails now, EFBIG or ENOSPC, is writing it, as for any output)
            with os.fdopen(fd, "rb") as f:  # (open_memmap truncates the same file, which ``f`` still names)
                np.lib.format.open_memmap(tmp, mode="w+", dtype=result.dtype, shape=result.shape).flush()
                reserve_blocks(f.fileno())
        except OSError as exc:
            raise write_failure(dest, exc) from None
        ranges = run(_tasks(result, os.path.abspath(tmp)))  # (workers open it from their own folders)
        if check is not None:
            check(ranges)
        _publish(tmp, dest, force=force)
        published = True
        return ranges
    except OSError as exc:
        raise write_failure(dest, exc) from None
    finally:
        if tmp is not None and (not published or os.path.lexists(tmp)):
            with contextlib.suppress(OSError):
                os.unlink(tmp)
