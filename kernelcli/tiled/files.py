"""The file commands' tiled path: a chunked input to a chunked output, tile by tile.

``kernelcli convolve big.zarr -k gaussian:3 -o out.zarr`` (and ``pad``, ``pool``, chains,
3-D volumes) goes through :func:`run_tiled`: the input is opened lazily
(:func:`kernelcli.tiled.stores.open_array`), the operation is built on the dask array
(:mod:`kernelcli.tiled.arrays`, equal byte for byte to the in-memory result) and every
output tile is computed and written as soon as its input tiles and halos are read.

When it is taken (:func:`wanted`): a Zarr input or output, ``--tiled``, ``--chunks`` or
``--scheduler`` on one input, or a ``.npy``/TIFF input above the memory cap.

Peak memory: about ``workers x threads x (tile + halo) x 4`` bytes in float32 per tile in
flight -- input tile, its padded copy, the result and the output chunk -- plus dask's
bookkeeping; never the image.  With 1024x1024 tiles that is a few tens of MiB per thread.

Outputs: ``.zarr`` (a store, chunk by chunk) or ``.npy`` (row bands); the raw float result
(``--rescale none``, as ``.npy`` outputs in memory) unless ``--rescale clip`` or ``abs``
maps it to the input's integer depth.  ``--rescale minmax`` needs the whole result's range
before the first tile is written: refused here.

Example
-------
>>> wanted(Path("scan.png"), Path("out.zarr"), tiled=False, chunks=None, scheduler=None)
True
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import stores


def wanted(input_path: Path, out: Path | None, *, tiled: bool, chunks: Any, scheduler: str | None) -> bool:
    """True when one input goes through the tiled path (see the module notes)."""
    from .urls import as_url

    if tiled or chunks is not None or scheduler is not None:
        return True
    if as_url(input_path) is not None or as_url(out) is not None:  # fsspec URLs: Zarr stores, tile by tile
        return True
    if stores.is_chunked(input_path) or stores.is_chunked(out):
        return True
    return _over_the_cap(input_path)


def _over_the_cap(path: Path) -> bool:
    """A ``.npy`` or TIFF input whose in-memory run would exceed the memory cap (read from its header only)."""
    suffix = path.suffix.lower()
    if suffix not in (".npy", ".tif", ".tiff") or not path.is_file():
        return False
    from ..limits import default_max_bytes

    cap = default_max_bytes()
    if cap is None:
        return False
    if suffix != ".npy" and path.stat().st_size * 64 < cap:
        return False  # a TIFF that small fits unless it is compressed over 64:1 (then --tiled); no tifffile import
    try:
        if suffix == ".npy":
            import numpy as np

            arr = np.load(path, mmap_mode="r", allow_pickle=False)
            shape, itemsize = arr.shape, arr.dtype.itemsize
        else:
            import tifffile

            with tifffile.TiffFile(path) as tif:
                series = tif.series[0]
                shape, itemsize = series.shape, series.dtype.itemsize
    except Exception:  # noqa: BLE001 - unreadable here: the in-memory reader says why
        return False
    cells = 1
    for n in shape:
        cells *= int(n)
    return cells * (itemsize + 3 * (4 if itemsize == 1 else 8)) > cap


def parse_chunks(text: str | None) -> int | tuple[int, ...] | None:
    """``--chunks 1024`` or ``--chunks 512,2048`` (rows, columns[, ...]) -> tile sides.

    >>> parse_chunks("512,2048")
    (512, 2048)
    """
    if text is None:
        return None
    from ..errors import UsageError

    try:
        sides = tuple(int(v) for v in str(text).replace("x", ",").split(","))
    except ValueError:
        sides = ()
    if not sides or any(v < 1 for v in sides):
        raise UsageError(f"--chunks {text!r}: expected a tile side such as 1024, or one per axis such as 512,2048")
    return sides[0] if len(sides) == 1 else sides


def run_tiled(
    input_path: Path,
    label: str,
    build: Callable[[Any, Any], Any],
    *,
    out: Path | None,
    force: bool = False,
    rescale: str | None = None,
    layout: str | None = None,
    chunks: Any = None,
    scheduler: str | None = None,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    volume_build: Callable[[Any, Any], Any] | None = None,
    name: str | None = None,
) -> Any:
    """Run ``build(dask_array, chunks)`` on one input, tile by tile, into ``out``; return a :class:`kernelcli.jobs.Report`.

    ``build`` takes the input channels-last (H, W[, C]); ``volume_build``, when given,
    takes a (Z, Y, X) input as it is; ``name`` labels the default output ``<stem>_<name>.zarr``.
    The output is checked (exit 4) before anything is read.
    """
    from ..errors import UsageError

    from .urls import resolve

    if str(input_path) == "-" or (out is not None and str(out) == "-"):
        raise UsageError("the tiled path reads and writes files, not pipes ('-')")
    input_path, out = resolve(input_path), resolve(out)  # s3://... as given (a Path folds the '//'); file:// local
    out = _output(input_path, out, name or label)
    _check_output(out, input_path, force)
    if rescale == "minmax":
        raise UsageError("--rescale minmax needs the whole result's range before the first tile is written; "
                         "tiled outputs take --rescale none (default), clip or abs")
    data, what, close = stores.open_array(input_path)
    try:
        return _run(input_path, label, build, data, what, out=out, force=force, rescale=rescale, layout=layout, chunks=chunks,
                    scheduler=scheduler, workers=workers, progress=progress, volume_build=volume_build)
    finally:
        close()


def _run(input_path, label, build, data, what, *, out, force, rescale, layout, chunks, scheduler, workers, progress, volume_build):
    from ..errors import UsageError
    from ..jobs_common import Report
    from ..layout import array_layout, from_hwc, to_hwc
    from .cluster import client_for, compute_tasks, describe

    notes = [f"{_name(input_path)}: {what}, read tile by tile ({describe(scheduler)})"]
    if data.ndim == 3:
        chosen = array_layout(tuple(data.shape), layout, str(input_path))
        if chosen == "zyx" and volume_build is not None:
            result = volume_build(data, chunks)
        else:
            result = from_hwc(build(to_hwc(data, chosen), chunks), chosen)
    elif data.ndim == 2:
        result = build(data, chunks)
    else:
        raise UsageError(f"{input_path}: a {data.ndim}-D array; expected (H, W), (H, W, C) or (Z, Y, X)")
    result = _rescaled(result, data.dtype, rescale)
    start = time.perf_counter()
    from ..batch import resolve_workers, threads_per_worker

    with client_for(scheduler, workers, threads_per_worker(resolve_workers(workers, 1 << 30))) as client:
        if stores.is_chunked(out):
            ranges = stores.write_zarr(result, out, force=force, run=lambda tasks: compute_tasks(tasks, client, progress))
        else:
            ranges = stores.write_npy(result, out, force=force, run=lambda tasks: compute_tasks(tasks, client, progress))
    seconds = time.perf_counter() - start
    lows = [r[0] for r in ranges if r is not None]
    highs = [r[1] for r in ranges if r is not None]
    return Report(
        input=str(input_path), operation=label, input_shape=list(data.shape), output_shape=list(result.shape),
        output=str(out), minimum=float(min(lows)) if lows else 0.0, maximum=float(max(highs)) if highs else 0.0,
        seconds=seconds, dtype=str(result.dtype), total=int(result.size), notes=notes,
    )


def _name(path: Any) -> str:
    """The last part of a path or URL, for notes."""
    return Path(str(path).rstrip("/")).name


def _output(input_path: Any, out: Path | None, label: str) -> Any:
    """``--out`` (a path, or an fsspec URL: a ``.zarr`` store), else ``<stem>_<label>.zarr`` in the current
    folder; only .zarr and .npy."""
    from ..errors import UsageError
    from ..io.naming import safe_stem

    if out is None:
        stem = Path(str(input_path).rstrip("/")).stem
        out = Path(f"{stem}_{safe_stem(label)}.zarr")
    if isinstance(out, str):  # an fsspec URL (kernelcli.tiled.urls.resolve)
        if not stores.is_chunked(out):
            raise UsageError(f"{out}: a URL output on the tiled path is a Zarr store (.zarr)")
        return out
    if out.suffix.lower() not in stores.TILED_OUTPUTS:
        raise UsageError(f"{out}: the tiled path writes .zarr (chunk by chunk) or .npy; "
                         f"got {out.suffix or 'no extension'} (an image format needs the whole result in memory)")
    return out


def _check_output(out: Path, input_path: Path, force: bool) -> None:
    """Exit 4 before any work: the output is the input, or exists without --force."""
    import os

    from ..errors import OutputRefused, UsageError
    from . import urls

    if isinstance(out, str):  # an fsspec URL (see _output)
        if out == urls.as_url(input_path):
            raise OutputRefused(f"{out}: is the input: the output would overwrite the input")
        if urls.exists(out) and not force:
            from ..io.outputs import exists_message

            raise OutputRefused(exists_message(out))
        return
    if os.path.lexists(out):
        if os.path.realpath(out) == os.path.realpath(input_path):
            raise OutputRefused(f"{out}: is the input {input_path}: the output would overwrite the input")
        if not force:
            from ..io.outputs import exists_message

            raise OutputRefused(exists_message(out))
        if out.is_dir() and out.suffix.lower() != ".zarr":
            raise OutputRefused(f"{out}: is a folder, expected a file path")
    parent = out.parent if str(out.parent) else Path(".")
    if not parent.is_dir():
        raise UsageError(f"{out}: the folder {parent} does not exist")


def _rescaled(result: Any, input_dtype: Any, rescale: str | None) -> Any:
    """The result as written: raw, or mapped tile by tile to the input's integer depth (``clip``/``abs``)."""
    import numpy as np

    from ..io.images import to_integer_range

    if rescale in (None, "none"):
        return result
    from ..errors import UsageError

    if rescale not in ("clip", "abs"):
        raise UsageError(f"--rescale {rescale!r}: the tiled path takes none, clip or abs")
    bits = 8 if np.dtype(input_dtype).itemsize == 1 else 16
    dtype = np.uint8 if bits == 8 else np.uint16
    return result.map_blocks(lambda b: to_integer_range(b, bits, rescale)[0], dtype=dtype)
