"""Volume outputs: the path check made before any work, and ``.npy``/PNG writers (NIfTI: :mod:`.nifti`)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..errors import OutputRefused, UsageError
from ..volume_inputs import volume_suffix

OUTPUT_SUFFIXES = (".nii.gz", ".nii", ".npy", ".png")



def check_volume_output(out: str | os.PathLike, inputs: tuple[Path, ...] = (), *, force: bool = False) -> Path:
    """Validate an output path for a volume result before any work (exit 2 or 4).

    >>> check_volume_output("result.mha")
    Traceback (most recent call last):
    ...
    kernelcli.errors.UsageError: result.mha: unsupported output type '.mha' for a volume: expected one of .nii.gz, .nii, .npy, .png
    """
    from ..images import _same_file

    o = Path(out)
    suffix = volume_suffix(o)
    if suffix not in OUTPUT_SUFFIXES:
        raise UsageError(f"{o}: unsupported output type {suffix or '(no extension)'!r} for a volume: expected one of {', '.join(OUTPUT_SUFFIXES)}")
    for src in inputs:
        if src.is_file() and _same_file(o, src):
            raise OutputRefused(f"{o}: the output would overwrite the input {src}")
    if o.exists() or o.is_symlink():
        if o.is_dir():
            raise OutputRefused(f"{o}: is a directory, expected a file path")
        if not force:
            raise OutputRefused(f"{o}: already exists; use --force to overwrite it")
    parent = o.parent if str(o.parent) else Path(".")
    if not parent.is_dir():
        raise UsageError(f"{o}: the folder {parent} does not exist")
    return o



def write_png_slice(out: str | os.PathLike, plane: np.ndarray, *, force: bool = False) -> Path:
    """Write a 2-D uint8 array as an 8-bit greyscale PNG, atomically."""
    from PIL import Image

    from ..images import _atomic_write

    o = Path(out)
    if not force and o.exists():
        raise OutputRefused(f"{o}: already exists; use --force to overwrite it")
    img = Image.fromarray(np.ascontiguousarray(plane, dtype=np.uint8), mode="L")
    _atomic_write(o, lambda f: img.save(f, format="PNG"))
    return o


def write_npy(out: str | os.PathLike, data: np.ndarray, *, force: bool = False) -> Path:
    """Write the (Z, Y, X) array as ``.npy``, atomically."""
    from ..images import _atomic_write

    o = Path(out)
    if not force and o.exists():
        raise OutputRefused(f"{o}: already exists; use --force to overwrite it")
    _atomic_write(o, lambda f: np.save(f, np.asarray(data), allow_pickle=False))
    return o


