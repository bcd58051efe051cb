"""Which files a folder or pattern gives a batch as inputs, and what a folder only named as a Zarr store holds.

A folder named ``*.zarr`` without Zarr metadata is no store, yet read as one
(:func:`kernelcli.io.store_paths.named_only`): a batch does not look into it, and its images are read by a pattern
from inside it, which these words give.

>>> is_input_file(Path("samples/phantom.png")), is_input_file(Path("samples"))
(True, False)
"""

from __future__ import annotations

import glob
import os
import stat
from pathlib import Path
from typing import Any


def is_input_file(path: Path, *, hidden: bool = False) -> bool:
    """An image, array or volume file a folder or pattern contributes (not a DICOM file: a series is one volume);
    a hidden one (``.h.png``) only where ``hidden`` (a pattern that named it: a folder's are not read).

    >>> is_input_file(Path("samples/.h.png")), is_input_file(Path("samples/phantom.png"))
    (False, True)
    """
    if not is_input_name(path, hidden=hidden):
        return False
    try:
        return stat.S_ISREG(path.stat().st_mode)
    except OSError:
        return False


def is_input_name(path: Path, *, hidden: bool = False) -> bool:
    """Whether a file so named is one a folder or pattern contributes (:func:`is_input_file`), by its name alone: a
    file that does not exist yet too (a ``--report`` the next run would read).

    >>> is_input_name(Path("r.csv")), is_input_name(Path("r.json")), is_input_name(Path(".r.csv"))
    (True, False, False)
    """
    from ..volume_inputs import DICOM_SUFFIXES, VOLUME_SUFFIXES, volume_suffix
    from .naming import INPUT_SUFFIXES

    volume = volume_suffix(path)
    wanted = path.suffix.lower() in INPUT_SUFFIXES or (volume in VOLUME_SUFFIXES and volume not in DICOM_SUFFIXES)
    return wanted and (hidden or not path.name.startswith("."))


def named_only_words(path: Any, recursive: bool = True, *, out_dir: bool = False) -> str:
    """What the folder ``path`` is, that is :func:`kernelcli.io.store_paths.named_only`, and where it holds input
    files, the patterns that read them (from the folder on: their output folders mirror what is below it;
    ``recursive``: all of them, else its own files where it has any; ``out_dir``: said to go with ``--out-dir``,
    where one input was given).  The words of a batch that does not look into it, as of a store, and of the reader
    that finds no store in it.

    >>> named_only_words("/nonexistent.zarr")
    'a folder named as a Zarr store is (it holds no Zarr metadata, nor any input file), which kernelcli reads as one and does not look into'
    """
    from .naming import pasted_pattern

    what = ("a folder named as a Zarr store is (it holds no Zarr metadata{}), which kernelcli reads as one and does "
            "not look into")
    base = os.fspath(path).rstrip("/") or "/"
    found = input_suffixes(Path(path), below=False) if not recursive else {}
    wildcard = "*"
    if not found:
        found, wildcard = input_suffixes(Path(path), below=True), "**/*"
    if not found:
        return what.format(", nor any input file")
    patterns = " ".join(pasted_pattern(base, f"/{wildcard}{glob.escape(suffix)}") for suffix in found)
    return f"{what.format('')}: give its images by a pattern ({patterns})" + (" with --out-dir DIR" if out_dir else "")


def input_suffixes(folder: Path, *, below: bool) -> dict[str, None]:
    """The suffixes, as spelt, of the input files in ``folder`` (``below``: and in its folders, as a ``**`` pattern
    reaches them: not hidden ones, through links, each real folder once), in order of first sight."""
    from ..volume_inputs import volume_suffix

    found: dict[str, None] = {}
    seen: set[str] = set()
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=True):
        real = os.path.realpath(dirpath)
        if real in seen:
            dirnames[:] = []
            continue
        seen.add(real)
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".")) if below else []
        for name in sorted(filenames):
            if is_input_file(Path(dirpath) / name):
                found.setdefault(name[len(name) - len(volume_suffix(name)):], None)
    return found
