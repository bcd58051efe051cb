"""A result into a TIFF as its values are: the type it is held in, signed samples, float32's range, map pages.

Pillow writes float32, uint8, uint16, int8, int16 and int32 TIFFs: a float64 result goes in as
float32 (:func:`as_float32`: a value beyond float32's range refused, one below its smallest
subnormal 0, which the job's note counts), a wider integer type is refused (:func:`raw_tiff_pixels`).

Example
-------
>>> tiff_type(np.dtype(np.float64)), tiff_type(np.dtype(np.uint32))
(dtype('float32'), None)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import UsageError
from .naming import keep_as
from .not_held import KeepAdvised, ValuesNotHeld


def tiff_type(dtype: np.dtype) -> np.dtype | None:
    """The type a TIFF holds a result of ``dtype`` in (None: none can here): float32 for any float
    (float64 rounded to it: the job says so in a note) and bool (as 0/1), uint8, uint16, int8,
    int16 and int32 as they are.  Pillow writes no float64, uint32 or 64-bit integer TIFF.

    >>> tiff_type(np.dtype(np.int16)), tiff_type(np.dtype(np.float64)), tiff_type(np.dtype(np.uint32))
    (dtype('int16'), dtype('float32'), None)
    """
    dtype = dtype.newbyteorder("=")  # (a '>u2' is the uint16 it holds)
    if dtype.kind in "bf":
        return np.dtype(np.float32)
    if dtype in (np.uint8, np.uint16):
        return dtype
    if dtype.kind == "i" and dtype.itemsize <= 4:
        return dtype
    return None


#: TIFF's SampleFormat tag, and its value for signed integers
_SAMPLE_FORMAT, _SIGNED = 339, 2


def signed_tiff_options(dtype: np.dtype) -> dict:
    """Pillow's ``save`` options that mark an int8/int16 TIFF's samples signed (:func:`kernelcli.io.image_writing.write_image` gives Pillow
    their bits as unsigned ones: Pillow has no signed 8- or 16-bit mode to write), else none."""
    return {"tiffinfo": {_SAMPLE_FORMAT: _SIGNED}} if dtype.newbyteorder("=") in (np.int8, np.int16) else {}


def raw_tiff_pixels(arr: np.ndarray, o: Path, rescale: str | None) -> np.ndarray:
    """The pixels of a TIFF holding the result ``arr`` as it is (:func:`tiff_type`), or
    UsageError naming what it cannot hold: a type too wide, several channels beyond 16 bits."""
    kind = tiff_type(arr.dtype)
    keep = keep_as(o, "npy")
    if kind is None:
        head = (f"{o}: TIFF holds at most int32 integers here (Pillow writes no wider type), not this {arr.dtype} "
                f"result: {keep} to keep its values")
        if rescale is not None:
            raise KeepAdvised(head, ("npy",), keep)
        raise ValuesNotHeld(head, head, image="an integer image", kinds=("npy",), said=keep)
    if (kind.itemsize > 2 or kind.kind == "i") and arr.ndim == 3 and arr.shape[2] != 1:
        raise KeepAdvised(f"{o}: {'an' if kind.name[0] in 'aeiou' else 'a'} {kind} TIFF holds one channel; this result has "
                          f"{arr.shape[2]}: {keep} to keep the values", ("npy",), keep)
    return as_float32(o, arr) if kind == np.float32 else arr.astype(kind, copy=False)


def as_float32(o: Path, arr: np.ndarray) -> np.ndarray:
    """The float32 pixels a TIFF holds the result ``arr`` in (a float64 one rounded to float32, which the job's note
    says), or UsageError when a finite value lies beyond float32's range: it would be an infinity in the file, which
    :func:`kernelcli.io.read_input` refuses, under a summary giving the float64 range.  Refused before anything is
    written, naming the count, the largest and ``.npy``, which keeps float64.  A value below float32's smallest
    subnormal becomes 0, as float32 rounds it: the job's note counts them
    (:func:`kernelcli.job_checks.float32_tiff_note`).

    >>> as_float32(Path("r.tif"), np.array([1e39, 2.0, -3e39]))
    Traceback (most recent call last):
    ...
    kernelcli.io.not_held.KeepAdvised: r.tif: 2 value(s) beyond float32's range (about 3.4e+38 in magnitude), the widest float a TIFF holds here, the largest -3e+39: write .npy to keep the float64 values; nothing was written
    """
    from ..ndsupport import all_finite

    with np.errstate(over="ignore"):
        pixels = arr.astype(np.float32, copy=False)
    if pixels is arr or not pixels.size or all_finite(pixels):
        return pixels
    beyond = np.isinf(pixels) & np.isfinite(arr)  # (a NaN or infinity of arr's own is check_finite_result's)
    count = int(np.count_nonzero(beyond))
    if not count:
        return pixels
    peak = arr[beyond][np.argmax(np.abs(arr[beyond]))]
    keep = keep_as(o, "npy")
    raise KeepAdvised(f"{o}: {count} value(s) beyond float32's range (about {float(np.finfo(np.float32).max):.2g} in "
                      f"magnitude), the widest float a TIFF holds here, the largest {float(peak):.6g}: "
                      f"{keep} to keep the {arr.dtype} values; nothing was written", ("npy",), keep)


def write_tiff_pages(path: str | Path, maps: np.ndarray, *, force: bool = False) -> None:
    """Write (H, W, M) maps as an M-page float32 TIFF (page k = map k), atomically; a value beyond float32's range
    is refused (:func:`as_float32`)."""
    import io

    from PIL import Image

    from .outputs import write_bytes_atomic

    maps = as_float32(Path(path), np.asarray(maps))  # (beyond float32: refused before any page is made)
    pages = [Image.fromarray(np.ascontiguousarray(maps[:, :, k])) for k in range(maps.shape[2])]
    buffer = io.BytesIO()
    pages[0].save(buffer, format="TIFF", save_all=True, append_images=pages[1:])
    write_bytes_atomic(Path(path), buffer.getvalue(), force=force)
