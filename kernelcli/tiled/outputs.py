"""The tiled path's output: its name (``<stem>_<label>`` as in memory, ``.zarr`` for a Zarr input) and its checks made
before anything is read (a type the tiled path writes; exit 4 for the input itself, a store holding it or inside it,
an existing output without ``--force``).  Split from :mod:`kernelcli.tiled.files` (running the tiles).

>>> default_tiled_output("scan.zarr/", "maxpool2")
PosixPath('scan_maxpool2.zarr')
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..errors import OutputRefused, UsageError
from . import stores


def tiled_output_path(input_path: Any, out: Path | None, label: str, advice: str, fmt: str | None = None) -> Any:
    """``--out`` (a path, or an fsspec URL: a ``.zarr`` store), else the in-memory path's default name
    (:func:`kernelcli.io.naming.default_output`: ``<stem>_<label>`` with ``--format``'s extension or the
    input's), or ``<stem>_<label>.zarr`` for a Zarr input; only .zarr and .npy (else refused, saying what to do)."""
    if out is None:
        out = default_tiled_output(input_path, label, fmt)
        if out.suffix.lower() not in stores.TILED_OUTPUTS:
            raise UsageError(f"{input_path}: the default output {out} is {out.suffix}, which the tiled path cannot write "
                             f"(an image format needs the whole result in memory): give --out {out.stem}.zarr or "
                             f"--out {out.stem}.npy" + (f"; {advice}" if store_input(input_path) else f", or {advice}"))
    if isinstance(out, str):  # an fsspec URL (kernelcli.tiled.urls.resolve)
        stores.refuse_untileable_url_output(out)
        return out
    check_output_type(out, advice)
    return out


def default_tiled_output(input_path: Any, label: str, fmt: str | None = None) -> Path:
    """The tiled path's default output: ``<stem>_<label>.zarr`` for a Zarr input, else the in-memory path's
    (:func:`kernelcli.io.naming.default_output`); named before the run, so ``--report`` is checked against it too
    (:func:`kernelcli.cli._tiled.run_single`).

    >>> default_tiled_output("scan.zarr/", "maxpool2"), default_tiled_output(Path("ct.npy"), "maxpool2", "zarr")
    (PosixPath('scan_maxpool2.zarr'), PosixPath('ct_maxpool2.zarr'))
    """
    from ..io.naming import default_output, labelled

    if fmt is None and store_input(input_path):
        return Path(f"{labelled(Path(str(input_path).rstrip('/')).stem, label)}.zarr")
    return default_output(Path(str(input_path).rstrip("/")), label, fmt=fmt)


def check_output_type(out: Path, advice: str) -> None:
    """Refuse (exit 2) an output file the tiled path cannot write: only .zarr and .npy are written tile by tile.

    >>> check_output_type(Path("o.png"), "leave out --tiled/--chunks")
    Traceback (most recent call last):
    ...
    kernelcli.errors.UsageError: o.png: the tiled path writes .zarr (chunk by chunk) or .npy; got .png (an image format needs the whole result in memory): leave out --tiled/--chunks
    """
    if out.suffix.lower() not in stores.TILED_OUTPUTS:
        raise UsageError(f"{out}: the tiled path writes .zarr (chunk by chunk) or .npy; "
                         f"got {out.suffix or 'no extension'} (an image format needs the whole result in memory): {advice}")


def check_tiled_output(out: Path, input_path: Path, force: bool) -> None:
    """Exit 4 before any work: the output is the input (also through a symlink or a hardlink), or exists
    without --force; exit 2 for a missing folder (:func:`kernelcli.io.output_checks.check_output`)."""
    from . import urls

    if isinstance(out, str):  # an fsspec URL (see _output)
        source = urls.as_url(input_path)
        if out == source:
            raise OutputRefused(f"{out}: is the input: the output would overwrite the input")
        if source is not None and source.startswith(out.rstrip("/") + "/"):
            raise OutputRefused(f"{out}: holds the input {source}: the output would replace it")
        if source is not None and out.startswith(source.rstrip("/") + "/"):
            raise OutputRefused(f"{out}: is inside the input {source}: write it outside the input store")
        if urls.exists(out):
            _check_replaceable(out, force)
        return
    from ..io.naming import refuse_inside_store
    from ..io.output_checks import check_output, held_input, store_problem
    from ..io.reads import input_identities

    refuse_inside_store(out, [input_path])  # (a default name, run from inside the input's group: img_box_3.zarr there)

    local = [] if urls.as_url(input_path) is not None else [input_path]
    if problem := store_problem(out, local):  # (in2.zarr/sub.zarr, and a later --force of in2.zarr deleted it)
        raise OutputRefused(problem)
    if stores.is_chunked(out) and os.path.isdir(out):  # an existing store: a folder, replaced with --force
        st = os.stat(out)
        src = input_identities([input_path]).get((st.st_dev, st.st_ino))
        if src is not None:
            raise OutputRefused(f"{out}: is the input {src} (same file): the output would overwrite the input")
        if problem := held_input(out, local):  # the input, or a kernel file, at any depth in the store
            raise OutputRefused(problem)
        _check_replaceable(out, force)
        return
    check_output(out, [input_path], force=force)  # the in-memory path's check: the input also through a link


def _check_replaceable(out: Any, force: bool) -> None:
    """Exit 4 for an existing store ``out`` (a folder, or an fsspec URL string) without --force, or one that
    --force may not replace: it holds more than one Zarr array (a group, or other files)."""
    from ..io.output_checks import OutputExists

    if not force:
        raise OutputExists(out)
    if stores.is_array_store(out) or not stores.holds_anything(out):  # (an empty folder has nothing to lose)
        return  # --force replaces what kernelcli could have written, nothing more
    raise OutputRefused(f"{out}: is a folder that is not a Zarr array (a group, or other files): --force "
                        "replaces only an array store; remove it yourself or give another name")


def store_input(path: Any) -> bool:
    """True for a Zarr store input (a path or a URL): read tile by tile only, its advice (:func:`instead_of_tiles`)
    is a sentence of its own ("a Zarr input is read ..."), not an alternative to join with ', or'.

    >>> store_input(Path("a.zarr")), store_input(Path("a.npy"))
    (True, False)
    """
    from .urls import as_url

    return stores.is_store_input(path) or as_url(path) is not None  # (a group named otherwise too: plaingrp)
