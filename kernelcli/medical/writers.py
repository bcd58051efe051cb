"""Volume outputs: the path check made before any work, and ``.npy``/PNG writers (NIfTI: :mod:`.nifti`)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..errors import UsageError
from ..volume_inputs import volume_suffix

OUTPUT_SUFFIXES = (".nii.gz", ".nii", ".npy", ".png")



def check_volume_output(out: str | os.PathLike, inputs: tuple[Path, ...] = (), *, force: bool = False) -> Path:
    """Validate an output path for a volume result before any work (exit 2 or 4).

    >>> check_volume_output("result.mha")
    Traceback (most recent call last):
    ...
    kernelcli.errors.UsageError: result.mha: unsupported output type '.mha' for a volume: expected one of .nii.gz, .nii, .npy, .png
    """
    from ..io.outputs import check_output

    o = Path(out)
    suffix = volume_suffix(o)
    if suffix not in OUTPUT_SUFFIXES:
        raise UsageError(f"{o}: unsupported output type {suffix or '(no extension)'!r} for a volume: expected one of {', '.join(OUTPUT_SUFFIXES)}")
    return check_output(o, [src for src in inputs if src.is_file()], force=force)



def write_png_slice(out: str | os.PathLike, plane: np.ndarray, *, force: bool = False) -> Path:
    """Write a 2-D uint8 array as an 8-bit greyscale PNG, atomically."""
    from PIL import Image

    from ..io.outputs import atomic_write

    o = Path(out)
    img = Image.fromarray(np.ascontiguousarray(plane, dtype=np.uint8), mode="L")
    atomic_write(o, lambda f: img.save(f, format="PNG"), force=force)
    return o


def write_npy(out: str | os.PathLike, data: np.ndarray, *, force: bool = False) -> Path:
    """Write the (Z, Y, X) array as ``.npy``, atomically (the one ``.npy`` writer, :func:`kernelcli.io.arrays.write_npy`)."""
    from ..io.arrays import write_npy as write_array

    o = Path(out)
    write_array(o, np.asarray(data), force=force)
    return o


