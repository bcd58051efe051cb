"""Reading a chunked input's chunks: one that cannot be read is the input's fault, named as such.

A Zarr chunk or TIFF tile is decoded only when dask computes a tile of the result, long after the
input was opened: a damaged one (garbage where zstd, zlib or blosc data should be, a raw chunk cut
short, a tile of zeros) raised the codec's own error, which the command line took for a bug (exit 70,
"report it").  :class:`ChunkReads` turns it into an :class:`~kernelcli.errors.ImageReadError` naming the
file and the chunk, exit 2, as the in-memory reader refuses a broken file.

A Zarr store whose codec this install lacks (JPEG 2000 from imagecodecs, zfpy...) is a Zarr store all the
same: :func:`codec_refusal` names the codec and, where it is known, the package that brings it.

Example
-------
>>> import numpy as np
>>> ChunkReads(np.zeros((4, 6)), "a.zarr", chunks=(2, 3))[0:2, 3:6].shape
(2, 3)
"""

from __future__ import annotations

import contextlib
import lzma
import math
import os
import re
import zlib
from collections.abc import Iterator
from typing import Any

#: what decoding a damaged chunk raises: numcodecs' zstd, blosc and lz4 a RuntimeError, zlib its own error,
#: gzip and bz2 an OSError, lzma its own, a raw chunk cut short a ValueError (a reshape), zarr a checksum
#: ValueError; a programming error (TypeError, AttributeError, KeyError...) is none of them
DECODING_ERRORS = (ValueError, RuntimeError, OSError, EOFError, zlib.error, lzma.LZMAError)


def gone_where_computed(name: Any) -> str:
    """An input not found when a tile reads it: removed meanwhile, or (on a cluster) not where its workers run.
    Not only the cluster: a run in this process whose input was removed was sent after a shared file system
    (audit 189 #8, as an output's store was).

    >>> gone_where_computed("a.npy")[:42]
    'a.npy: not found where a tile is computed:'
    """
    return (f"{name}: not found where a tile is computed: removed while it was read, or, on a cluster, not on a file "
            "system its workers share")


def file_identity(stat: os.stat_result) -> tuple[int, int, int]:
    """What tells a file from its replacement: inode, size and modification time (ns).  Not the device: a cluster's
    workers mount a shared folder under devices of their own.

    >>> import tempfile; st = os.stat(tempfile.mkstemp()[1]); file_identity(st) == (st.st_ino, 0, st.st_mtime_ns)
    True
    """
    return stat.st_ino, stat.st_size, stat.st_mtime_ns


def changed_while_read(name: Any, before: tuple[int, int, int], now: tuple[int, int, int]) -> Exception:
    """The refusal (exit 2) of an input whose :func:`file_identity` changed after the run opened it (``before``, then
    ``now``), saying what was seen: another file under its name, a new size, or only a new modification time, which a
    same-size rewrite in place gives as a ``touch`` does (both refused: its tiles could mix two contents, and telling a
    touch from a rewrite would mean reading it all again).

    >>> str(changed_while_read("in.npy", (7, 80, 1), (7, 80, 2)))
    'in.npy: changed while it was read: its modification time changed since the run opened it (rewritten in place, or only touched); run again once it is written'
    >>> str(changed_while_read("in.npy", (7, 80, 1), (8, 80, 2))).split(": ")[2]
    'it was replaced (another file under its name) since the run opened it; run again once it is written'
    """
    from ..errors import ImageReadError

    if before[0] != now[0]:
        seen = "it was replaced (another file under its name) since the run opened it"
    elif before[1] != now[1]:
        seen = f"its size changed since the run opened it ({before[1]} -> {now[1]} bytes: rewritten)"
    else:
        seen = "its modification time changed since the run opened it (rewritten in place, or only touched)"
    return ImageReadError(f"{name}: changed while it was read: {seen}; run again once it is written")


def array_metadata_file(root: str, array: Any) -> str:
    """The metadata file of the Zarr ``array`` opened from the local store folder ``root`` (v3 ``zarr.json``, v2
    ``.zarray``): rewritten, or replaced with the store, whenever the array is written anew.

    >>> import tempfile; array_metadata_file(tempfile.mkdtemp(), None).endswith(".zarray")
    True
    """
    folder = os.path.join(root, str(getattr(array, "path", "") or ""))
    v3 = os.path.join(folder, "zarr.json")
    return v3 if os.path.exists(v3) else os.path.join(folder, ".zarray")


class ChunkReads:
    """An input's array (Zarr, or tifffile's Zarr store of a TIFF) whose reads name the file and the chunk when
    a chunk cannot be decoded (see the module notes); ``unit`` names a chunk (``"chunk"``, ``"tile"``).

    With ``root`` (a local store), each read is followed by one ``os.stat`` of the array's metadata file
    (:func:`array_metadata_file`), compared with its :func:`file_identity` when the store was opened: Zarr reads a
    chunk it cannot find as its fill value, so a cluster's worker that did not see the store (another machine, no
    shared folder) computed zeros, and the run exited 0; and a store replaced meanwhile (``--force`` onto it: a
    rename) or written anew gave tiles of two inputs, exit 0 (audit 205 #1).  Checked after the read: a store
    the same then was the same when the chunk was read.  (A chunk rewritten in place, its metadata untouched, is
    not seen: that would take a stat of each chunk file.)
    """

    def __init__(self, array: Any, name: Any, *, root: str | None = None, unit: str = "chunk", chunks: Any = None) -> None:
        self.array, self.name, self.root, self.unit = array, str(name), root, unit
        self.shape, self.dtype, self.ndim = tuple(array.shape), array.dtype, len(array.shape)
        self.chunks = tuple(chunks if chunks is not None else array.chunks)
        self.metadata = array_metadata_file(root, array) if root is not None else None
        self.identity = self._identity()

    def _identity(self) -> tuple[int, int, int] | None:
        """The metadata file's identity now (None without a local store); a store gone is refused as such."""
        from ..errors import ImageReadError

        if self.metadata is None:
            return None
        try:
            return file_identity(os.stat(self.metadata))
        except OSError:
            raise ImageReadError(gone_where_computed(self.name)) from None

    def _check_unchanged(self) -> None:
        if self.identity is not None and (now := self._identity()) != self.identity:
            raise changed_while_read(self.name, self.identity, now)

    def __getitem__(self, key: Any) -> Any:
        from ..errors import ImageReadError, KernelcliError

        try:
            block = self.array[key]
        except DECODING_ERRORS as exc:
            if isinstance(exc, (KernelcliError, RecursionError, NotImplementedError)):  # ours, or a bug: not the file's
                raise
            self._check_unchanged()  # (a store replaced by one of another grid is not a broken one)
            reason = " ".join(str(exc).split()) or type(exc).__name__
            raise ImageReadError(f"{self.name}: cannot read {self.where(key)} (broken or truncated?): {reason}") from None
        self._check_unchanged()
        return block

    def where(self, key: Any) -> str:
        """The chunk ``key`` (a tuple of slices, as dask reads) reads: ``chunk (3, 7) at [21:28, 49:53]``.

        >>> import numpy as np; ChunkReads(np.zeros((9, 9)), "a.zarr", chunks=(4, 4)).where((slice(4, 8), slice(8, 9)))
        'chunk (1, 2) at [4:8, 8:9]'
        """
        key = key if isinstance(key, tuple) else (key,)
        if len(key) != self.ndim or not all(isinstance(k, slice) and k.step in (None, 1) for k in key):
            return f"a {self.unit}"
        spans = [(k.start or 0, n if k.stop is None else min(k.stop, n)) for k, n in zip(key, self.shape)]
        at = ", ".join(f"{a}:{b}" for a, b in spans)
        first = [a // c if c else 0 for (a, _), c in zip(spans, self.chunks)]
        if all(c and b > a and (b - 1) // c == f for (a, b), c, f in zip(spans, self.chunks, first)):
            return f"{self.unit} ({', '.join(map(str, first))}) at [{at}]"
        return f"[{at}]"


#: the bytes one read takes at most (:func:`read_c_order_block`)
READ_PIECE = 16 << 20
#: a ``.npy`` block's bytes at most (:func:`npy_blocks`): a tile is cut from a few of them, not from dask's 128 MiB ones
NPY_BLOCK_BYTES = 32 * 2**20


class NpyReads:
    """A ``.npy`` file read block by block: each read maps the file for its header and reads the block
    (:func:`read_block`).

    What dask keeps of the input is the path, the shape and the dtype, so a cluster's graph holds no
    pixels (a memory map was pickled whole into it: a 256 MiB image became a 256 MiB graph, received
    by the client, the scheduler and the worker) and its workers read the file where they run, as
    they read a Zarr store.

    >>> import numpy as np, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "a.npy"); np.save(path, np.arange(12).reshape(3, 4))
    >>> NpyReads(path, (3, 4), np.dtype(int))[1:3, 2:4].tolist()
    [[6, 7], [10, 11]]
    """

    def __init__(self, path: Any, shape: tuple[int, ...], dtype: Any) -> None:
        # absolute: a cluster's worker reads it from a folder of its own
        self.name, self.path = str(path), os.path.abspath(path)
        self.shape, self.dtype, self.ndim = tuple(shape), dtype, len(shape)
        # the file as opened: one replaced (--force onto it) or rewritten meanwhile gave tiles of two inputs (audit 205 #1)
        self.identity = file_identity(os.stat(self.path))

    def __getitem__(self, key: Any) -> Any:
        import numpy as np

        from ..errors import ImageReadError

        try:
            data = np.load(self.path, mmap_mode="r", allow_pickle=False)
        except (OSError, ValueError) as exc:  # (the system's refusal, no descriptor or memory left, is not the file's)
            raise refused_read(self.name, exc) or ImageReadError(f"{self.name}: cannot read as .npy: {exc}") from None
        if data.shape != self.shape or data.dtype != self.dtype:
            raise ImageReadError(f"{self.name}: changed while it was read (now {data.dtype} {data.shape}, "
                                 f"was {self.dtype} {self.shape})")
        return read_block(self.name, self.path, data, key, identity=self.identity)

    def __dask_tokenize__(self) -> Any:
        stat = os.stat(self.path)
        return "npy", self.path, stat.st_mtime_ns, stat.st_size, self.shape, str(self.dtype)


def read_block(name: str, path: str, mapped: Any, key: Any, identity: tuple[int, int, int] | None = None) -> Any:
    """The block ``key`` (a tuple of slices, as dask reads) of the ``.npy`` file ``path`` that ``mapped`` maps (its
    header checked), read by :func:`read_c_order_block`: copying it out of the map was a SIGBUS, which no Python
    code can catch, when the file was cut short meanwhile.  Any other key is copied from the map.  With ``identity``
    (:func:`file_identity` of the file as opened), a file replaced or rewritten since is refused.

    >>> import numpy as np, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "f.npy"); np.save(path, np.asfortranarray(np.arange(24).reshape(4, 6)))
    >>> read_block("f.npy", path, np.load(path, mmap_mode="r"), (slice(1, 3), slice(2, 5))).tolist()
    [[8, 9, 10], [14, 15, 16]]
    """
    import numpy as np

    key = key if isinstance(key, tuple) else (key,)
    if not plain_slices(key, mapped.ndim):
        block = np.array(mapped[key])
        if identity is not None and (now := file_identity(os.stat(path))) != identity:
            raise changed_while_read(name, identity, now)
        return block
    fortran = mapped.ndim > 1 and mapped.flags.f_contiguous and not mapped.flags.c_contiguous
    if fortran:  # a Fortran-order file is the C order of the reversed axes
        return read_c_order_block(name, path, int(mapped.offset), mapped.dtype, mapped.shape[::-1], key[::-1],
                                  identity=identity).T
    return read_c_order_block(name, path, int(mapped.offset), mapped.dtype, mapped.shape, key, identity=identity)


def plain_slices(key: tuple[Any, ...], ndim: int) -> bool:
    """Whether ``key`` takes a block: one slice of step 1 for each of ``ndim`` axes.

    >>> plain_slices((slice(0, 4), slice(None)), 2), plain_slices((slice(0, 4, 2), slice(None)), 2)
    (True, False)
    """
    return len(key) == ndim and all(isinstance(k, slice) and k.step in (None, 1) for k in key)


def read_c_order_block(name: str, path: str, offset: int, dtype: Any, shape: tuple[int, ...],
                       key: tuple[slice, ...], identity: tuple[int, int, int] | None = None) -> Any:
    """The block ``key`` (one slice of step 1 per axis) of the C-order array of ``shape`` and ``dtype`` stored at
    ``offset`` in the file ``path``, read by ``preadv`` into a new array, one contiguous run of the file at a time:
    a read that comes back short is an ImageReadError naming the file (``name``), where a copy out of a memory
    map faults.  With ``identity`` (:func:`file_identity` of the file as the run opened it), the file read is
    compared with it after the read (one ``fstat``): one replaced or rewritten meanwhile is refused
    (:func:`changed_while_read`).

    >>> import numpy as np, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "raw"); np.arange(24, dtype=np.int16).tofile(path)
    >>> read_c_order_block("raw", path, 4, np.int16, (2, 5), (slice(0, 2), slice(1, 3))).tolist()
    [[3, 4], [8, 9]]
    """
    import itertools

    import numpy as np

    from ..errors import ImageReadError

    dtype = np.dtype(dtype)
    spans = [k.indices(n)[:2] for k, n in zip(key, shape)]
    out = np.empty([max(0, b - a) for a, b in spans], dtype=dtype)
    if out.size:
        axis = len(shape) - 1  # the run: the last axis not taken whole, and every axis after it
        while axis > 0 and spans[axis] == (0, shape[axis]):
            axis -= 1
        item = dtype.itemsize
        strides = [item * math.prod(shape[a + 1:]) for a in range(len(shape))]
        run = (spans[axis][1] - spans[axis][0]) * strides[axis]
        first = offset + spans[axis][0] * strides[axis]
        view = memoryview(out.reshape(-1).view(np.uint8))
        end = offset + item * math.prod(shape)
        try:
            with open(path, "rb", buffering=0) as f:
                fd, at = f.fileno(), 0
                for index in itertools.product(*(range(a, b) for a, b in spans[:axis])):
                    start = first + sum(i * st for i, st in zip(index, strides))
                    done = 0
                    while done < run:  # (in pieces: a whole file's read is not one uninterruptible call)
                        n = os.preadv(fd, [view[at + done : at + min(run, done + READ_PIECE)]], start + done)
                        if not n:
                            raise ImageReadError(f"{name}: the file was cut short while it was read "
                                                 f"({os.fstat(fd).st_size} of {end} bytes)")
                        done += n
                    at += run
                if identity is not None and (now := file_identity(os.fstat(fd))) != identity:
                    raise changed_while_read(name, identity, now)
        except OSError as exc:
            raise refused_read(name, exc) or ImageReadError(f"{name}: cannot read: {exc}") from None
    return out


def refused_read(name: str, exc: BaseException) -> Exception | None:
    """The error of a read the system refused (an OSError with an errno), in the in-memory reader's words
    (:func:`kernelcli.io.common.unreadable`): no descriptor left (EMFILE, ENFILE, ``ulimit -n``) is 'cannot read: Too
    many open files', not the file's fault (audit 190 #4, 'cannot read as .npy'); no memory (ENOMEM) the one line of
    running out of it (:func:`kernelcli.limits.out_of_memory`); a file gone, :func:`gone_where_computed`.  None for
    anything else (a complaint about the content).

    >>> str(refused_read("a.npy", OSError(24, "Too many open files"))), refused_read("a.npy", ValueError("bad"))
    ('a.npy: cannot read: Too many open files', None)
    """
    from ..errors import ImageReadError, InputError
    from ..limits import out_of_memory, ran_out_of_memory

    if ran_out_of_memory(exc):
        return out_of_memory(name)
    if isinstance(exc, FileNotFoundError):
        return ImageReadError(gone_where_computed(name))
    if isinstance(exc, OSError) and exc.errno is not None:
        return InputError(f"{name}: cannot read: {exc.strerror or exc}")
    return None


def npy_blocks(shape: tuple[int, ...], itemsize: int, side: int = 1024) -> tuple[int, ...]:
    """The block a ``.npy`` is read in: ``side`` along the first two axes (the default tile) and the rest whole,
    the largest side halved while a block holds more than :data:`NPY_BLOCK_BYTES`.

    >>> npy_blocks((8192, 8192), 4), npy_blocks((5000, 300, 3), 8), npy_blocks((512, 512, 512), 4)
    ((1024, 1024), (1024, 300, 3), (128, 256, 256))
    """
    block = [min(side, n) if a < 2 else n for a, n in enumerate(shape)]
    while block and max(block) > 1 and itemsize * math.prod(block) > NPY_BLOCK_BYTES:
        a = block.index(max(block))
        block[a] = (block[a] + 1) // 2
    return tuple(block)


#: the packages that bring a codec this install may lack, by its name (numcodecs' optional codecs)
CODEC_PACKAGES = {"zfpy": "zfpy", "pcodec": "pcodec"}


def codec_refusal(path: Any, exc: BaseException) -> Any:
    """The refusal (exit 2) of a store whose codec is not installed, when ``exc`` is numcodecs' or zarr's
    ``UnknownCodecError`` (its name quoted once: numcodecs quotes it twice); else None.

    >>> from numcodecs.errors import UnknownCodecError
    >>> str(codec_refusal("a.zarr", UnknownCodecError("'zfpy'")))
    "a.zarr: its chunks need the codec 'zfpy', which is not installed: pip install zfpy"
    """
    from ..errors import ImageReadError

    if type(exc).__name__ != "UnknownCodecError":
        return None
    codec = getattr(exc, "codec_id", None)
    if not isinstance(codec, str):
        quoted = re.search(r"'(.*)'", str(exc))
        codec = quoted.group(1) if quoted else " ".join(str(exc).split())
    codec = codec.strip("'\"")
    name = codec.removeprefix("numcodecs.")
    if name.startswith("imagecodecs_"):  # imagecodecs' codecs, registered by a package of their own per Zarr format
        shim = "imagecodecs-numcodecs" if type(exc).__module__.startswith("numcodecs") else "imagecodecs-zarr"
        how = f": pip install imagecodecs {shim}"
    elif name in CODEC_PACKAGES:
        how = f": pip install {CODEC_PACKAGES[name]}"
    else:
        how = " (neither zarr nor numcodecs here knows it): install the package that provides it"
    return ImageReadError(f"{path}: its chunks need the codec '{codec}', which is not installed{how}")


@contextlib.contextmanager
def naming_missing_codecs(path: Any) -> Iterator[None]:
    """Within this block (opening a store, or an array of a group), a codec not installed is refused naming it
    (:func:`codec_refusal`); any other error passes.

    >>> with naming_missing_codecs("a.zarr"):
    ...     pass
    """
    try:
        yield
    except ValueError as exc:  # (both UnknownCodecErrors are ValueErrors)
        refusal = codec_refusal(path, exc)
        if refusal is None:
            raise
        raise refusal from None
