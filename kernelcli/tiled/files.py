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
bookkeeping; never the image.  With 1024x1024 tiles (the default: at most 1024x1024 cells whatever the rank,
:func:`kernelcli.tiled.arrays.default_tile`) that is a few tens of MiB per thread.

Outputs: ``.zarr`` (a store, chunk by chunk) or ``.npy`` (row bands); without ``--out``, the
in-memory path's name (``<stem>_<label>`` and the input's extension; ``.zarr`` for a Zarr
input), refused where that is an image format.  A ``.npy`` holds the raw float result, as in
memory, whatever ``--rescale`` says; a ``.zarr`` too, unless ``--rescale clip`` or ``abs`` maps
it to the integer depth an image output gets in memory (16 bits for a uint16 TIFF or Zarr
input, else 8).  ``--rescale minmax`` needs the whole result's range before the first tile is
written: refused for ``.zarr``.  A result that overflows (inf or NaN) is refused (exit 2) and
nothing is published, as in memory; so is an input holding NaN or infinity, named as the
in-memory reader names it.  A refusal says what to do instead: leave out ``--tiled``/``--chunks``
where they chose this path, or raise ``KERNELCLI_MAX_MEMORY`` where the input's size did.

Example
-------
>>> wanted(Path("scan.png"), Path("out.zarr"), tiled=False, chunks=None, scheduler=None)
True
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from . import stores, tiff, tiles_asked, writers
from .outputs import check_tiled_output, store_input, tiled_output_path
from ..errors import ImageReadError, UsageError
from ..whole_numbers import below_floor, refused_value, too_many_digits, whole_or_too_long


def wanted(input_path: Path, out: Path | None, *, tiled: bool, chunks: Any, scheduler: str | None,
           need: Any = None) -> bool:
    """True when one input goes through the tiled path (see the module notes; ``need``: what the run holds beside
    the input, :class:`kernelcli.io.common.RunNeed`, a filter's by default, as the memory cap counts it:
    :func:`_over_the_cap`).  Never a folder or a pattern that is no Zarr store: it is several inputs, refused as a
    batch (``--out-dir``, or ``--tiled`` on one input); given ``-o w.zarr``, it was opened as a store ("imgs: not a
    Zarr store: No group found in store StorePath(LocalStore, ...)")."""
    from ..batch_plan import is_batch_argument
    from .urls import as_url

    if is_batch_argument(input_path) and not stores.is_store_input(input_path):
        return False
    if tiles_asked(tiled=tiled, chunks=chunks, scheduler=scheduler):
        return True
    if as_url(input_path) is not None or as_url(out) is not None:  # fsspec URLs: Zarr stores, tile by tile
        return True
    if stores.is_store_input(input_path) or stores.is_chunked(out):
        return True
    return _over_the_cap(input_path, need)


def _over_the_cap(path: Path, need: Any = None) -> bool:
    """A ``.npy`` or TIFF input whose in-memory run would exceed the memory cap (read from its header only).  A TIFF
    over the cap that neither reader takes is refused here in those words (:func:`kernelcli.tiled.tiff.neither_reads`):
    in memory the cap refused it first, advising to raise a limit that could not help (audit 205 #4)."""
    suffix = path.suffix.lower()
    if suffix not in (".npy", ".tif", ".tiff") or not path.is_file():
        return False
    from ..limits import default_max_bytes

    cap = default_max_bytes()
    if cap is None:
        return False
    if suffix != ".npy" and path.stat().st_size * 64 < cap:
        return False  # a TIFF that small fits unless it is compressed over 64:1 (then --tiled); no tifffile import
    problem = None
    try:
        if suffix == ".npy":
            import numpy as np

            arr = np.load(path, mmap_mode="r", allow_pickle=False)
            shape, itemsize = arr.shape, arr.dtype.itemsize
        else:
            import tifffile

            with tifffile.TiffFile(path) as tif:
                page = tif.pages[0]
                problem = tiff.tiff_reading(page)[1]
                shape, itemsize = page.shape, page.dtype.itemsize
                in_memory = problem is None or tiff.read_in_memory(path, page)
    except Exception:  # noqa: BLE001 - unreadable here: the in-memory reader says why
        return False
    from ..io.common import FILTER, RunNeed

    need = need or FILTER
    cells = 1
    for n in shape:
        cells *= int(n)
    if len(shape) == 2 or (len(shape) == 3 and (suffix == ".npy" or int(shape[2]) <= 4)):  # (H, W[, C]): as read in memory
        over = need.bytes(int(shape[0]), int(shape[1]), cells // max(int(shape[0]) * int(shape[1]), 1), itemsize) > cap
    else:  # (a planar TIFF page: its pooled grid is not known from here; a filter's count in the run's dtype, the larger)
        over = RunNeed(keeps_dtype=need.keeps_dtype).bytes(cells, 1, 1, itemsize) > cap
    if problem is not None:  # the tiled reader would refuse it: in memory it is read (or refused by the cap)
        if over and not in_memory:
            raise tiff.neither_reads(path, problem)
        return False
    return over


#: output tiles above which a run is noted as slow for its tile count: each tile costs about 6 ms whatever its size
#: (dask schedules about 14 tasks per tile, and each tile's write is synced), measured under gaussian:4 on 2 busy
#: cores: 961 tiles of 32x32 in 5.5 s, 15,625 in 98 s; an 8000x8000 .npy in 62,500 tiles ran for over 12 minutes,
#: in 64 tiles of 1024 for 7 s
MANY_TILES = 10_000


def many_tiles(numblocks: tuple[int, ...], tile: Sequence[int]) -> str | None:
    """A note for a run cut into more than :data:`MANY_TILES` tiles, or None.  ``tile``: the input tile
    ``--chunks`` asks for (:func:`kernelcli.tiled.arrays.asked_tile`), over the tiled axes: the knob to turn,
    not the output tile (a stride or a pool makes that smaller) nor a channel axis (never cut).

    >>> print(many_tiles((250, 250), (32, 32)))
    62,500 tiles of 32x32 input cells: each costs about 6 ms whatever its size (dask's scheduling and the write), minutes for this many; a larger --chunks needs fewer (the default: 1024 a side, at most 1024x1024 cells a tile)
    >>> many_tiles((8, 8), (1024, 1024)) is None
    True
    """
    tiles = math.prod(numblocks)
    if tiles <= MANY_TILES:
        return None
    return (f"{tiles:,} tiles of {'x'.join(map(str, tile))} input cells: each costs about 6 ms whatever its size "
            "(dask's scheduling and the write), minutes for this many; a larger --chunks needs fewer "
            "(the default: 1024 a side, at most 1024x1024 cells a tile)")


@contextlib.contextmanager
def tile_runner(result: Any, notes: list[str], tile: Sequence[int], *, scheduler: str | None, workers: int | None,
                progress: Callable[[int, int], None] | None) -> Iterator[Callable[[list[Any]], list[Any]]]:
    """``run(tasks)`` for the writers, computing one task per tile here or on ``--scheduler``'s cluster (with
    ``progress``), for every tiled path (files and ``.nii`` volumes): a run of ``result`` in more than
    :data:`MANY_TILES` tiles is noted in ``notes`` (:func:`many_tiles`, ``tile`` the input tile asked) here, for all of them."""
    from ..batch import resolve_workers, threads_per_worker
    from .cluster import client_for, compute_tasks, unused_workers

    if (said := many_tiles(result.numblocks, tile)) is not None:
        notes.append(said)
    if (said := unused_workers(workers, scheduler, tiles=True)) is not None:  # (it was taken in silence)
        notes.append(said)
    with client_for(scheduler, workers, threads_per_worker(resolve_workers(workers, 1 << 30))) as client:
        yield lambda tasks: compute_tasks(tasks, client, progress)


def parse_chunks(text: str | None) -> int | tuple[int, ...] | None:
    """``--chunks 1024`` or ``--chunks 512,2048`` (rows, columns[, ...]) -> tile sides; a bad value is refused in
    Click's words for one (:class:`kernelcli.whole_numbers.BadValue`: the option's parser,
    :func:`kernelcli.cli.option_values.checked_chunks`, refuses it so before the kernel or any input is read).

    >>> parse_chunks("512,2048")
    (512, 2048)
    """
    if text is None:
        return None
    parsed = [whole_or_too_long(v) for v in str(text).replace("x", ",").split(",")]  # ('32.0' too)
    sides = () if None in parsed else tuple(parsed)
    if said := too_many_digits(sides, "tile side", low=1):  # (at most 30 digits, as every whole number typed)
        raise refused_value("--chunks", str(text), said)
    if not sides or any(below_floor(v, 1) for v in sides):  # (-1e5000 too, kept as typed)
        raise refused_value("--chunks", str(text), "expected a tile side such as 1024, or one per axis such as 512,2048")
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
    fmt: str | None = None,
    max_pixels: int | None = None,
    same_grid: bool = False,
    volume_dtype: bool = False,
) -> Any:
    """Run ``build(dask_array, chunks)`` on one input, tile by tile, into ``out``; return a :class:`kernelcli.jobs.Report`.
    ``same_grid``: the operation keeps every voxel where it is (a Zarr input's recorded spacing and affine are kept).
    ``volume_dtype``: an input read as (Z, Y, X) reaches ``build`` in a volume's dtype
    (:func:`kernelcli.jobs_common.in_volume_dtype`), as a convolution computes it in memory, whether ``--layout zyx``
    or a Zarr store's own axes chose that reading.

    ``build`` takes the input channels-last (H, W[, C]); ``volume_build``, when given,
    takes a (Z, Y, X) input as it is; ``name`` labels the default output, ``<stem>_<name>`` with the
    in-memory path's extension (:func:`_output`).
    The output is checked (exit 4) before anything is read.
    """
    from .urls import resolve

    if str(input_path) == "-" or (out is not None and str(out) == "-"):
        raise UsageError("the tiled path reads and writes files, not pipes ('-')")
    stores.refuse_untileable_url(input_path)  # (named as typed: resolved, a file:// URL is its local path)
    stores.refuse_untileable_url_output(out)  # (before the input's advice, which named options never given)
    advice = instead_of_tiles(resolve(input_path), out, chunks, scheduler)  # (the output as typed: a file:// URL chose it)
    input_path, out = resolve(input_path), resolve(out)  # s3://... as given (a Path folds the '//'); file:// local
    stores.refuse_untileable(input_path, advice)
    out = tiled_output_path(input_path, out, label if name is None else name, advice, fmt)  # (--suffix '': the stem alone)
    check_tiled_output(out, input_path, force)
    if rescale == "minmax" and stores.is_chunked(out):
        raise UsageError("--rescale minmax needs the whole result's range before the first tile is written; "
                         "tiled .zarr outputs take --rescale none (default), clip or abs")
    if scheduler is not None and str(input_path).lower().endswith(stores.TIFF_SUFFIXES):  # (exit 70: cannot be pickled)
        raise UsageError(f"{input_path}: a TIFF is read tile by tile by this process only (its reader cannot travel to "
                         "a cluster's workers): convert it to .zarr for --scheduler, or leave out --scheduler")
    data, what, close, declared = stores.open_array(input_path, advice, max_pixels)
    try:
        report = _run(input_path, label, build, data, what, out=out, force=force, rescale=rescale, layout=layout, chunks=chunks,
                      scheduler=scheduler, workers=workers, progress=progress, volume_build=volume_build, declared=declared,
                      same_grid=same_grid, volume_dtype=volume_dtype)
        if stores.ALPHA_DROPPED in what:  # the file's array, as the in-memory record gives it
            from ..jobs_common import with_alpha

            report.input_shape = with_alpha(report.input_shape)
        if isinstance(out, str) and out.startswith("memory://"):
            report.notes.append(f"{out}: fsspec's memory:// lives in this process: the store is gone when it exits "
                                "(a command line keeps nothing there)")
        return report
    finally:
        close()


def instead_of_tiles(input_path: Any, out: Any, chunks: Any, scheduler: str | None) -> str:
    """What to do instead of the tiled path, ending a refusal: leave out the options that chose it, or, where
    the input took it by itself for its size, raise the memory cap.  (``--tiled`` is not passed down:
    an input under the cap without ``--chunks``, ``--scheduler`` or a Zarr store took it for ``--tiled``.)

    >>> instead_of_tiles(Path("a.png"), Path("o.zarr"), None, None)
    'write another format than .zarr (only the tiled path writes it), or give a Zarr, TIFF or .npy input'
    """
    from .urls import as_url, local_path, typed_url

    if store_input(input_path):  # ('leave out --tiled', never given, could not help; nor another format: it is .npy)
        if out is not None and not stores.is_chunked(out) and as_url(out) is None and Path(str(out)).suffix.lower() != ".npy":
            return "a Zarr input is read tile by tile only, which writes .zarr or .npy: give --out NAME.zarr or --out NAME.npy"
        return "a Zarr input is read tile by tile only: save it as a .npy (or TIFF) to run this in memory"
    url = as_url(out)
    if url is not None and url.startswith("file://") and not stores.is_chunked(url):  # (a .npy: in memory as its path)
        return f"give {typed_url(out)} as the local path {local_path(url)}"
    if stores.is_chunked(out) or url is not None:
        tiled_input = Path(str(input_path)).suffix.lower() in (".npy", *stores.TIFF_SUFFIXES)
        return "write another format than .zarr (only the tiled path writes it)" + (
            "" if tiled_input else ", or give a Zarr, TIFF or .npy input")
    if chunks is None and scheduler is None and _over_the_cap(Path(str(input_path))):
        return ("it went tile by tile because its in-memory run would exceed KERNELCLI_MAX_MEMORY: "
                "raise KERNELCLI_MAX_MEMORY to run it in memory")
    return "leave out --tiled/--chunks" + ("/--scheduler" if scheduler is not None else "")


def _run(input_path, label, build, data, what, *, out, force, rescale, layout, chunks, scheduler, workers, progress, volume_build,
         declared=None, same_grid=False, volume_dtype=False):
    from .cluster import describe

    check_input_array(input_path, data)
    notes = [f"{_name(input_path)}: {what}, read tile by tile ({describe(scheduler)})"]
    if data.dtype.byteorder not in ("=", "|"):  # big-endian: computed and written in this machine's order, as in memory
        data = data.astype(data.dtype.newbyteorder("="))
    with naming_non_finite(input_path, data):
        return _compute(input_path, label, build, finite_input(data), notes, out=out, force=force, rescale=rescale,
                        layout=layout, chunks=chunks, scheduler=scheduler, workers=workers, progress=progress,
                        volume_build=volume_build, declared=declared, same_grid=same_grid, volume_dtype=volume_dtype)


def check_input_array(input_path: Any, data: Any) -> None:
    """Refuse (exit 2) an input array of no real numbers, no cells or another rank than 2 or 3 in the ``.npy`` reader's
    words (:func:`kernelcli.io.arrays.map_npy`, which refuses a ``.npy`` so before this), naming the file
    (the API's own refusal, :func:`kernelcli.tiled.arrays._check`, names its argument ``x``, which no user typed).

    >>> import numpy as np
    >>> check_input_array("c.zarr", np.zeros((0, 20), "f4"))
    Traceback (most recent call last):
    ...
    kernelcli.errors.ImageReadError: c.zarr: expected a non-empty (H, W), (H, W, C) or (Z, Y, X) array, got shape (0, 20)
    """
    import numpy as np

    if np.dtype(data.dtype).kind not in "biuf":
        raise ImageReadError(f"{input_path}: expected a numeric array, got dtype {data.dtype}")
    if data.ndim not in (2, 3) or any(n == 0 for n in data.shape):
        raise ImageReadError(f"{input_path}: expected a non-empty (H, W), (H, W, C) or (Z, Y, X) array, got shape {tuple(data.shape)}")


def _compute(input_path, label, build, data, notes, *, out, force, rescale, layout, chunks, scheduler, workers, progress,
             volume_build, declared, same_grid=False, volume_dtype=False):
    from ..jobs_common import Report, _named, in_volume_dtype
    from ..layout import array_layout, canonical_layout, from_hwc, to_hwc
    from .arrays import asked_tile
    from .axes import layout_to_read
    attributes = None
    if data.ndim == 3:
        read_as = layout_to_read(declared, canonical_layout(layout), input_path)  # (its axes' names, or --layout)
        chosen = array_layout(tuple(data.shape), read_as, str(input_path))
        if stores.is_chunked(out):
            attributes = _carried_grid(input_path, chosen)
        # (a refusal while building named no input: "pool window 2 is larger than the padded input 1")
        if chosen == "zyx" and volume_build is not None:
            given, cut = data, 3
            result = _named(Path(str(input_path)), lambda: volume_build(data, chunks))
        else:  # (the reading settled on, the store's axes' or --layout's, decides the dtype: not the flag alone)
            given, cut = to_hwc(in_volume_dtype(data, chosen) if volume_dtype else data, chosen), 2
            result = from_hwc(_named(Path(str(input_path)), lambda: build(given, chunks)), chosen)
    else:  # 2-D (check_input_array refused the other ranks)
        array_layout(tuple(data.shape), layout, str(input_path), notes)  # as in memory: zyx refused, chw said
        given, cut = data, 2
        result = _named(Path(str(input_path)), lambda: build(data, chunks))
    floats = result.dtype
    result = _rescaled(result, input_path, data.dtype, rescale, out, label)
    if rescale not in (None, "none") and not stores.is_chunked(out):  # given, and nothing done: say so (as in memory)
        notes.append(f"{Path(out).name}: --rescale {rescale} is for image outputs; a .npy holds the raw result")
    start = time.perf_counter()
    tile = _named(Path(str(input_path)), lambda: asked_tile(given, cut, chunks, floats))
    with tile_runner(result, notes, tile, scheduler=scheduler, workers=workers, progress=progress) as run:
        check = finite_check(input_path, label, floats)
        if stores.is_chunked(out):
            # a pool, a stride, padding other than 'same' (of the same size or not): another grid
            if attributes is not None and not (same_grid and tuple(result.shape) == tuple(data.shape)):
                if len(attributes) > 1:  # (a recorded grid beside the axes)
                    notes.append(f"{_name(out)}: {_name(input_path)}'s spacing_mm and affine are not carried over: "
                                 "the call moves the grid (a pool, a stride, padding other than 'same', an even kernel "
                                 "side: half a voxel); a .nii input's tiled pool writes the pooled grid")
                attributes = {"axes": attributes["axes"]}
            ranges = writers.write_zarr(result, out, force=force, run=run, check=check, attributes=attributes)
        else:
            ranges = writers.write_npy(result, out, force=force, run=run, check=check)
    seconds = time.perf_counter() - start
    lows = [r[0] for r in ranges if r is not None]
    highs = [r[1] for r in ranges if r is not None]
    report = Report(
        input=str(input_path), operation=label, input_shape=list(data.shape), output_shape=list(result.shape),
        output=str(out), minimum=min(lows) if lows else 0, maximum=max(highs) if highs else 0,
        seconds=seconds, dtype=str(result.dtype), total=int(result.size), notes=notes,
    )
    if result.dtype != floats:  # --rescale clip/abs into integers: the record said 'clipped 0' of 3,219 clipped cells
        report.clipped_low = report.clipped_high = None  # type: ignore[assignment]
        notes.append(f"{_name(out)}: tile by tile, the range is of the {result.dtype} values written (after --rescale {rescale}) "
                     "and the cells clipped are not counted (null); in memory they are the raw result's")
    return report


def _carried_grid(input_path: Any, chosen: str) -> dict:
    """The attributes a 3-D ``.zarr`` output records: the axes of the layout it was read in (read back, it is
    read so again: a volume of 3 slices was an image of 3 channels), and a Zarr input's recorded grid
    (:func:`.stores.recorded_grid`), which the caller keeps only where the operation keeps the grid (``same_grid``)."""
    return {"axes": stores.LAYOUT_AXES[chosen], **stores.recorded_grid(input_path)}


class _NonFinite(ValueError):
    """A tile of a float input holds NaN or infinity (the whole input is then counted, for the message)."""


@contextlib.contextmanager
def naming_non_finite(input_path: Any, data: Any) -> Iterator[None]:
    """Within this block, a tile of :func:`finite_input` holding NaN or infinity is refused as the
    in-memory reader refuses ``input_path`` (:func:`non_finite_error`; ``data``: its values, unchecked)."""
    try:
        yield
    except _NonFinite:
        raise non_finite_error(input_path, data) from None


def finite_input(data: Any) -> Any:
    """``data`` with each float tile checked for NaN or infinity as it is read (raising :class:`_NonFinite`),
    so that the refusal names the file: the core, refusing it in a tile, knows no file name."""
    import numpy as np

    if np.dtype(data.dtype).kind != "f":
        return data
    return data.map_blocks(_finite_tile, dtype=data.dtype)


def _finite_tile(tile: Any) -> Any:
    from ..ndsupport import all_finite

    if not all_finite(tile):
        raise _NonFinite()
    return tile


def non_finite_error(input_path: Any, data: Any) -> Exception:
    """The in-memory reader's refusal (exit 2) of ``input_path``, whose float values ``data`` (a dask
    array) hold NaN or infinity: counted, as in memory."""
    import dask.array as da

    from ..ndsupport import non_finite_refusal

    count = int(da.count_nonzero(~da.isfinite(data)).compute())
    if not str(input_path).lower().endswith((".tif", ".tiff")):
        return ImageReadError(non_finite_refusal(input_path, count))
    return ImageReadError(f"{input_path}: the image holds {count} NaN or infinite value(s); expected finite numbers")


def finite_check(src: Any, label: str, dtype: Any) -> Callable[[list[Any]], None]:
    """``check(ranges)`` for the writers (:func:`kernelcli.tiled.writers.write_zarr`): refuse (exit 2, as in
    memory) a result whose tiles hold inf or NaN, before anything is published.

    >>> finite_check("a.npy", "convolve box", "float32")([(0.0, 1.0), None])
    """

    def check(ranges: list[Any]) -> None:
        import math

        from ..jobs_common import check_finite_result

        values = [v for r in ranges if r is not None for v in r]
        if not all(math.isfinite(v) for v in values):  # (min() of a list holding NaN depends on its order)
            check_finite_result(src, label, math.nan, math.nan, dtype)

    return check


def _name(path: Any) -> str:
    """A path or URL as notes name it (:func:`.stores.note_name`: from the Zarr store on for an array in one)."""
    return stores.note_name(path)


def _rescaled(result: Any, input_path: Any, input_dtype: Any, rescale: str | None, out: Any, label: str) -> Any:
    """The result as written, by the in-memory writers' rule (:func:`kernelcli.io.formats.write_output`):
    a ``.npy`` holds the raw result whatever ``--rescale`` says; a ``.zarr`` the raw result, or with
    ``clip``/``abs`` the integer image an image output gets: 16 bits for a 16-bit input (uint16 or int16:
    a TIFF, a Zarr store or a ``.npy``), else 8 (:func:`kernelcli.io.image_writing.write_image`)."""
    import numpy as np

    if rescale in (None, "none") or not stores.is_chunked(out):
        return result
    if rescale not in ("clip", "abs"):
        raise UsageError(f"--rescale {rescale!r}: the tiled path takes none, clip or abs")
    bits = 16 if np.dtype(input_dtype) in (np.uint16, np.int16) else 8
    check = finite_check(input_path, label, result.dtype)
    return result.map_blocks(_to_bits, bits, rescale, check, dtype=np.uint8 if bits == 8 else np.uint16)


def _to_bits(block: Any, bits: int, rescale: str, check: Callable[[list[Any]], None]) -> Any:
    from ..io.integer_range import to_integer_range
    from ..ndsupport import all_finite

    if not all_finite(block):
        check([(float("nan"), float("nan"))])  # an overflow, refused as the raw result's is
    return to_integer_range(block, bits, rescale)[0]
