"""``.npy`` arrays in and out.

Only the header is read first (a memory map, whose data is then read by ordinary reads): the dtype (numeric only, never pickles),
the rank ((H, W) or (H, W, C)) and the memory the run would need are checked before any
data is loaded.  A big-endian array is converted to native byte order; NaN and infinities
are refused.

Example
-------
>>> import tempfile, pathlib
>>> p = pathlib.Path(tempfile.mkdtemp()) / "a.npy"
>>> write_npy(p, np.arange(6, dtype=">f4").reshape(2, 3))
>>> loaded = read_npy(p, None)
>>> loaded.kind, loaded.data.shape, loaded.data.dtype.isnative
('array', (2, 3), True)
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..errors import ImageReadError, KernelcliError
from ..limits import out_of_memory
from .common import FILTER, Loaded, RunNeed, check_memory, one_line, unreadable
from .outputs import WholeWrites, atomic_write


def read_npy(p: Path, max_bytes: int | None, *, need: RunNeed = FILTER) -> Loaded:
    """Read the ``.npy`` array ``p``; raises ImageReadError for anything but a finite numeric 2-D/3-D array (and one
    whose run, holding what ``need`` says, would need more than ``max_bytes``: :func:`.common.check_memory`)."""
    mapped = map_npy(p)
    h, w = mapped.shape[:2]
    channels = mapped.shape[2] if mapped.ndim == 3 else 1
    check_memory(p, h, w, channels, mapped.dtype.itemsize, max_bytes, need=need)
    arr = read_mapped(p, mapped)
    del mapped
    if arr.dtype.kind == "f" and not np.isfinite(arr).all():
        from ..ndsupport import non_finite_count, non_finite_refusal

        raise ImageReadError(non_finite_refusal(p, non_finite_count(arr)))
    return Loaded(path=p, data=arr, kind="array", format="NPY")


def read_mapped(p: Path, mapped: np.memmap) -> np.ndarray:
    """The data of the ``.npy`` file ``p`` that ``mapped`` maps (its header checked), read into memory by ordinary
    reads (:func:`kernelcli.tiled.reading.read_block`, which reads a tile's block too), in native byte order.  The
    map itself is not copied: a page of it past the end of a file cut short while it is read is a SIGBUS, which no
    Python code can catch, where a read that comes back short is an ImageReadError naming the file.  The peak is the
    same one copy of the data that copying the map held.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "b.npy"
    >>> np.save(p, np.arange(6, dtype=">i2").reshape(2, 3))
    >>> read_mapped(p, np.load(p, mmap_mode="r")).tolist()
    [[0, 1, 2], [3, 4, 5]]
    >>> mapped = np.load(p, mmap_mode="r"); _ = p.write_bytes(p.read_bytes()[:-4])
    >>> read_mapped(p, mapped)
    Traceback (most recent call last):
    ...
    kernelcli.errors.ImageReadError: ...b.npy: the file was cut short while it was read (136 of 140 bytes)
    """
    from ..tiled.reading import read_block

    arr = read_block(str(p), str(p), mapped, (slice(None),) * mapped.ndim)  # (the one reader: tiled blocks read so too)
    if not arr.dtype.isnative:
        arr = arr.byteswap(inplace=True).view(arr.dtype.newbyteorder("="))
    return arr


def map_npy(p: Path) -> np.ndarray:
    """The ``.npy`` array ``p`` memory-mapped (its header read, no data), refused (ImageReadError) unless a non-empty
    numeric 2-D or 3-D array: the one ``.npy`` reader's words, in memory (:func:`read_npy`) and tile by tile.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "v.npy"
    >>> np.save(p, np.arange(4.0))
    >>> map_npy(p)
    Traceback (most recent call last):
    ...
    kernelcli.errors.ImageReadError: ...v.npy: expected a non-empty (H, W), (H, W, C) or (Z, Y, X) array, got shape (4,)
    """
    check_signature(p, ImageReadError)
    check_not_objects(p, ImageReadError)
    try:
        # A memory map reads only the header: the shape and dtype are checked against the
        # file size and the memory limit before any data is loaded.
        mapped = np.load(p, mmap_mode="r", allow_pickle=False)
    except MemoryError:
        raise out_of_memory(str(p)) from None
    except Exception as exc:  # numpy's header parser fails in many ways (even tokenize errors)
        raise unreadable(p, exc) or ImageReadError(f"{p}: not a valid .npy array ({one_line(exc)})") from None
    if not isinstance(mapped, np.ndarray):
        close = getattr(mapped, "close", None)
        if close is not None:
            close()
        raise ImageReadError(f"{p}: expected a single .npy array, got an .npz archive or another object")
    if mapped.dtype.kind not in "biuf":
        raise ImageReadError(f"{p}: expected a numeric array, got dtype {mapped.dtype}")
    if mapped.ndim not in (2, 3) or mapped.size == 0:  # (3-D: (H, W, C), or (Z, Y, X) with --layout zyx)
        raise ImageReadError(f"{p}: expected a non-empty (H, W), (H, W, C) or (Z, Y, X) array, got shape {mapped.shape}")
    return mapped


def load_npy(p: Path, error: type[KernelcliError] = ImageReadError) -> object:
    """``np.load(p)`` without pickles for small side files (kernels, weights, bias): every
    failure of numpy's parser (ValueError, EOFError, even a tokenizer error on a broken
    header) becomes ``error`` naming the file.  The caller checks what it holds (an
    ``.npz`` comes back as an archive object).

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "w.npy"
    >>> _ = p.write_bytes(b"\\x93NUMPY\\x01\\x00\\x06\\x00{'a':\\n")
    >>> load_npy(p)
    Traceback (most recent call last):
    ...
    kernelcli.errors.ImageReadError: ...w.npy: not a valid .npy array (...)
    """
    check_signature(p, error)
    check_not_objects(p, error)
    check_length(p, error)
    try:
        return np.load(p, allow_pickle=False)
    except MemoryError:
        raise error(f"{p}: not enough memory to read it") from None
    except Exception as exc:  # numpy's header parser fails in many ways (even tokenize errors)
        raise unreadable(p, exc, error) or error(f"{p}: not a valid .npy array ({one_line(exc)})") from None


def check_length(p: Path, error: type[KernelcliError] = ImageReadError) -> None:
    """Refuse a ``.npy`` file shorter than its header says, before numpy allocates what the header claims (a
    129-byte kernel claiming 200000x255x255 float64 was "not enough memory to read it").  A header that
    cannot be read is left to numpy, whose error names why.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "k.npy"
    >>> np.save(p, np.zeros((3, 3))); _ = p.write_bytes(p.read_bytes()[:-8])
    >>> check_length(p)
    Traceback (most recent call last):
    ...
    kernelcli.errors.ImageReadError: ...k.npy: truncated: its header says 3x3 float64 (72 bytes of data), the file holds 64
    """
    header = npy_header(p)
    if header is None:
        return
    shape, dtype, held = header
    if dtype.hasobject or not dtype.itemsize:
        return
    wanted = int(np.prod(shape, dtype=object)) * dtype.itemsize
    if held < wanted:
        raise error(f"{p}: truncated: its header says {'x'.join(map(str, shape)) or 'a scalar'} {dtype} ({wanted} bytes of "
                    f"data), the file holds {held}")


def check_not_objects(p: Path, error: type[KernelcliError] = ImageReadError) -> None:
    """Refuse a ``.npy`` of Python objects (dtype object, or a structured dtype holding them) from its header, in the
    words of any other non-numeric dtype, before numpy is asked to load it: its own refusal ("can't be memory-mapped",
    "cannot be loaded when allow_pickle=False") read as a broken file.  Pickles are never loaded.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "o.npy"
    >>> np.save(p, np.array([[1, None]], dtype=object), allow_pickle=True)
    >>> check_not_objects(p)
    Traceback (most recent call last):
    ...
    kernelcli.errors.ImageReadError: ...o.npy: expected a numeric array, got dtype object
    """
    header = npy_header(p)
    if header is not None and header[1].hasobject:
        raise error(f"{p}: expected a numeric array, got dtype {header[1]}")


def npy_header(p: Path) -> tuple[tuple[int, ...], np.dtype, int] | None:
    """The shape and dtype the header of the ``.npy`` file ``p`` states, and the bytes of data after it (none read);
    None where the header cannot be read (numpy's own reading then says what is wrong)."""
    try:
        with open(p, "rb") as f:
            version = np.lib.format.read_magic(f)
            read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
            shape, _, dtype = read(f)
            return shape, dtype, os.fstat(f.fileno()).st_size - f.tell()
    except Exception:  # noqa: BLE001 - numpy's own reading says what is wrong
        return None


#: the first bytes of every .npy file, and of a zip archive (an .npz, which the callers name themselves)
NPY_MAGIC = b"\x93NUMPY"
ZIP_MAGIC = b"PK\x03\x04"


def check_signature(p: Path, error: type[KernelcliError] = ImageReadError) -> None:
    """Refuse a file that does not start as a ``.npy`` (or ``.npz``) file does, before numpy parses it.

    numpy takes anything without its signature for a pickle and advises loading it "unsafely";
    a text file renamed ``.npy`` deserves a plain answer instead.  A file that cannot be opened is
    left to numpy, whose error names why.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "t.npy"
    >>> _ = p.write_text("1,2,3\\n")
    >>> check_signature(p)
    Traceback (most recent call last):
    ...
    kernelcli.errors.ImageReadError: ...t.npy: not a .npy file: it does not start with numpy's \\x93NUMPY signature (it starts with '1,2,3'); write arrays with numpy.save
    """
    try:
        with open(p, "rb") as f:
            head = f.read(16)
    except OSError:
        return
    if head.startswith(NPY_MAGIC) or head.startswith(ZIP_MAGIC):
        return
    seen = "the file is empty" if not head else f"it starts with {_shown(head)}"
    raise error(f"{p}: not a .npy file: it does not start with numpy's \\x93NUMPY signature ({seen}); write arrays with numpy.save")


def _shown(head: bytes) -> str:
    """The first bytes: their first line as text when it is printable ASCII, else the bytes."""
    line = head.split(b"\n")[0]
    text = line.decode("ascii", errors="replace")
    return repr(text) if line and text.isprintable() else repr(head[:8])


def write_npy(o: Path, arr: np.ndarray, *, force: bool = False) -> None:
    """Write ``arr`` to ``o`` as ``.npy`` (no pickles), atomically."""
    # (through f.write: a full disk is 'No space left on device', not tofile's "N requested and M written")
    atomic_write(o, lambda f: np.save(WholeWrites(f), arr, allow_pickle=False), force=force)
