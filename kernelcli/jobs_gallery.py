"""The gallery job: every catalogue kernel (or a family) applied to one image, drawn as a sheet of tiles.

Split from :mod:`kernelcli.jobs_maps` (the jobs with several feature maps), whose montage pieces it uses; the
maps are computed on the image reduced to a few tiles per side (:func:`tile_scale_image`), since tiles are thumbnails.

>>> import numpy as np
>>> tile_scale_image(np.zeros((100, 60)), 16)[1]  # 100 rows to at most 2 tiles of 16: f = 4
4
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from . import numtext
from .errors import UsageError
from .jobs_common import Report, _named, alpha_not_carried, check_finite_result, in_volume_dtype, with_alpha
from .maps_outputs import check_maps_outputs
from .jobs_montage import check_sheet_memory, check_sheet_sides, montage_tiles
from .modes import canonical_pad_mode


#: a gallery computes its maps on the image reduced to at most this many tiles per side
GALLERY_WORK_TILES = 2


def tile_scale_image(data: Any, tile: int) -> tuple[Any, int]:
    """``(image, f)``: ``data`` reduced f x f by area averaging (f whole, the smallest that
    brings the longer side to at most ``GALLERY_WORK_TILES * tile``, but never more than the
    shorter side), or ``data`` itself with f = 1.  The reduced image is in the dtype convolve
    computes ``data`` in (:func:`kernelcli.ndsupport.compute_dtype`), so that the maps are
    computed as for the image at full size: a float32 image's in float32, whatever its size.

    A gallery's maps are thumbnails: computed at that scale, a 12-megapixel photo costs what
    a 400-pixel image does, and each tile shows what the kernel does at the scale seen.
    Rows or columns past the last whole f x f block are left out.  The blocks stay square
    (the kernels see the image's proportions), so a long thin image is reduced only as far as
    its short side allows: 10 x 5000 becomes 1 x 500, not 0 rows.

    >>> import numpy as np
    >>> image, f = tile_scale_image(np.ones((1000, 800)), 192)
    >>> image.shape, f
    ((333, 266), 3)
    >>> tile_scale_image(np.ones((10, 5000)), 192)[0].shape
    (1, 500)
    >>> tile_scale_image(np.ones((1000, 800), np.float32), 192)[0].dtype
    dtype('float32')
    """
    import numpy as np

    from .ndsupport import compute_dtype

    side = max(data.shape[:2])
    factor = min(-(-side // (GALLERY_WORK_TILES * tile)), min(data.shape[:2]))
    if factor <= 1:
        return data, 1
    h, w = data.shape[0] // factor, data.shape[1] // factor
    rest = data.shape[2:]
    channels = int(np.prod(rest, dtype=np.int64))
    # Sum the f rows of each block, then the f columns: two passes that read memory in
    # order (uint8 sums stay whole numbers in float32, below 2**24 for f < 256; any other
    # dtype sums in float64, which neither rounds them as float32 would nor overflows where
    # float32's sum of 3e38s would, and the mean, within the block's range, is then cast; a float64
    # image's sum can overflow near 1.8e308: those blocks are averaged again, scaled, by _scaled_means).
    dtype = np.float32 if data.dtype == np.uint8 and factor < 256 else np.float64
    with np.errstate(over="ignore", invalid="ignore"):  # (an overflowed float64 sum, inf - inf too, is averaged again below)
        rows = data[: h * factor, : w * factor].reshape(h, factor, w * factor * channels).sum(axis=1, dtype=dtype)
        blocks = rows.reshape(h, w, factor, channels).sum(axis=2)
        blocks /= factor * factor
    if dtype == np.float64 and not np.isfinite(blocks).all():  # (a finite input: checked before; the sum overflowed)
        _scaled_means(blocks, data[: h * factor, : w * factor].reshape(h, factor, w, factor, channels))
    return blocks.reshape(h, w, *rest).astype(compute_dtype(data.dtype), copy=False), factor


def _scaled_means(blocks: Any, view: Any) -> None:
    """Put in ``blocks`` (h, w, C) the means of the f x f blocks of ``view`` (h, f, w, f, C) where the float64 sum
    overflowed (near the top of float64: 3x3 of 1.5e308): each such block scaled by its largest magnitude first, so
    that its sum is at most f * f, then the mean scaled back (it lies within the block's range, so it is finite).
    The other blocks keep the plain sum's mean, the pixels of every ordinary input.

    >>> import numpy as np
    >>> blocks = np.full((1, 1, 1), np.inf); _scaled_means(blocks, np.full((1, 3, 1, 3, 1), 1.5e308)); blocks.ravel()
    array([1.5e+308])
    """
    import numpy as np

    bad = np.nonzero(~np.isfinite(blocks))
    f = view.shape[1]
    values = view[bad[0], :, bad[1], :, bad[2]].astype(np.float64)  # (n, f, f): only the overflowed blocks
    largest = np.abs(values).max(axis=(1, 2))
    largest[largest == 0] = 1.0
    blocks[bad] = (values / largest[:, None, None]).sum(axis=(1, 2)) / (f * f) * largest


def _border_words(mode: str, pad_value: float) -> str:
    """`` (circular)``, `` (fill9)``: a border that is not the constant 0, in the words convolve's record names it by
    (:func:`kernelcli.result_names.conv_words`, "same" padding), or nothing.

    >>> _border_words("circular", 0.0), _border_words("constant", 9.0), _border_words("constant", 0.0)
    (' (circular)', ' (fill9)', '')
    """
    from .result_names import conv_words

    words = conv_words(pad_mode=mode, pad_value=pad_value)
    return f" ({'_'.join(words)})" if words else ""


def _gallery_tiles(kernels: list[Any], channels: int, colour: bool) -> int:
    """How many tiles a gallery of ``kernels`` draws on ``channels`` channels (or slices: not ``colour``), before any map."""
    per_kernel = 1 if channels == 1 or (channels == 3 and colour) else channels  # (three channels: one colour tile)
    return sum(1 if len(k.shape) == 3 else per_kernel for k in kernels if len(k.shape) != 3 or k.shape[0] == channels)


def check_sheet_output(out: str | Path, src: Path | None = None, *, force: bool = False) -> Path:
    """The sheet's path checked before any pixel is read: a picture's type (exit 2), not an existing file without
    ``force`` nor the input ``src`` (exit 4)."""
    return check_maps_outputs(src, None, out, single=False, force=force, picture="a gallery's sheet", option=None)[1]


def gallery_file(
    input_path: str | Path,
    *,
    out: str | Path,
    family: str | None = None,
    pad_mode: str = "constant",
    pad_value: float = 0.0,
    tile: int | None = None,
    force: bool = False,
    max_pixels: int | None = None,
    layout: str | None = None,
    paths: Any = None,
    encoding: Any = None,
    shown_name: str | None = None,
) -> Report:
    """Apply every catalogue kernel (or one family) to one image and draw them as one sheet.

    "same" padding (``pad_value``: the fill of ``pad_mode="constant"``), per channel (a colour tile for an
    RGB input, whose three maps are stretched together); each map stretched on its own.  Kernels are applied one at a time and reduced to a tile at
    once, so a large image never holds every full-size map in memory.  A 3-D kernel whose depth differs
    from the image's channels is left out, with a note.  ``shown_name`` titles the sheet
    (default: the input's file name; the CLI gives ``stdin`` for a piped input).
    """
    from . import ndsupport
    from .io import formats
    from .catalog import kernel_path_note, kernel_size_text, list_kernels
    from .banks import as_slices, filter_bank
    from .montage import DEFAULT_TILE, range_text, render_montage, stretch_note, to_display, write_sheet

    kernels = list_kernels(family)
    src = formats.check_input_path(input_path)
    sheet_path = check_sheet_output(out, src, force=force)
    mode = canonical_pad_mode(pad_mode)
    loaded = formats.read_input(src, max_pixels=max_pixels, words="cli")
    from .layout import input_layout, to_hwc

    order = input_layout(loaded.data, loaded.kind, layout, str(src), loaded.format, loaded.notes)
    # (a zyx array's voxels in a volume's dtype, as convolve computes them: float32 for 16-bit slices)
    data, colour = in_volume_dtype(to_hwc(loaded.data, order), order), order != "zyx"
    channels = 1 if data.ndim == 2 else data.shape[2]
    family = kernels[0].family if family else None  # as the catalogue spells it (' EDGE ' finds 'edge')
    # the file's array, as every record gives it: its own axis order, an RGBA image's alpha counted (HxWx4)
    input_shape = with_alpha(list(loaded.data.shape)) if loaded.alpha is not None else list(loaded.data.shape)
    notes = list(loaded.notes) + [text for text in (kernel_path_note(),) if text]  # as `kernels` says it
    if loaded.alpha is not None:  # as for feature maps (run_maps_job): said, not dropped in silence
        notes.append(alpha_not_carried(src.name))
    tiles: list[tuple[str, Any, str]] = []
    labels: list[str] = []
    low, high = float("inf"), float("-inf")
    computed = "float32"  # the maps' dtype: the record's range and dtype are the result's as computed, not the sheet's
    start = time.perf_counter()
    # (before the reduction, which averages in float64 too: refused as convolve refuses it, whatever the size)
    _named(src, lambda: ndsupport.check_whole(data, ndsupport.compute_dtype(data.dtype)))
    if mode == "constant":  # (a fill the maps' dtype cannot hold: refused as convolve refuses it, before any work)
        _named(src, lambda: ndsupport.check_fill(pad_value, ndsupport.compute_dtype(data.dtype), "--pad-value"))
    work, factor = tile_scale_image(data, tile or DEFAULT_TILE)
    filled = f" {pad_value:g}" if mode == "constant" and pad_value != 0 else ""
    colour_tiles = colour and channels == 3 and any(len(k.shape) == 2 for k in kernels)  # (montage_tiles' rule)
    sheet_notes = [f"padding same ({mode}{filled}), cross-correlation; {stretch_note(colour_tiles)}"]
    if factor > 1:
        reduced = f"maps computed on the image reduced {factor}x{factor} (area average) to {work.shape[0]}x{work.shape[1]}, the tiles' scale"
        notes.append(f"{src.name}: {reduced}; ranges are those of the reduced maps")
        sheet_notes.append(reduced)
    count = _gallery_tiles(kernels, channels, colour)
    check_sheet_memory(f"gallery {src.name}", count, tile or DEFAULT_TILE, len(sheet_notes), captions=True)
    # the file's array as the record gives it (an RGBA image's alpha counted: 40x50x3 titled an HxWx4 input)
    shown_shape = "x".join(map(str, input_shape)) + (", alpha not used" if loaded.alpha is not None else "")
    fitting = sum(1 for k in kernels if len(k.shape) != 3 or k.shape[0] == channels)
    title = f"{shown_name or src.name} ({shown_shape}): {numtext.counted(fitting, 'kernel')}" + (f", family {family}" if family else "")
    check_sheet_sides(sheet_path, data.shape, [work.shape] * count, title=title, tile=tile or DEFAULT_TILE,
                      notes=sheet_notes, captions=True, maps_reduced=factor)  # (before any map is computed)
    for kernel in kernels:
        shape = kernel.shape
        if len(shape) == 3 and shape[0] != channels:
            notes.append(f"{kernel.name}: a {'x'.join(map(str, shape))} kernel needs {numtext.counted(shape[0], 'channel')}, the image has {channels}; left out")
            continue
        bank = _named(src, lambda: filter_bank(work, [kernel], [kernel.name], padding="same", pad_mode=mode,
                                               pad_value=pad_value, paths=paths))
        bank = bank if colour else as_slices(bank)
        computed = str(bank.maps.dtype)
        labels.extend(bank.labels)  # (a colour tile draws three maps: the record names each, as convolve's does)
        caption = f"{kernel.family} {kernel_size_text(shape)}"
        for label, maps in montage_tiles(bank, colour):
            lo, hi = float(maps.min()), float(maps.max())
            check_finite_result(src, f"gallery {label}", lo, hi, maps.dtype)  # an overflowed map is refused, as by convolve
            low, high = min(low, lo), max(high, hi)
            tiles.append((label, (to_display(maps), range_text(maps)), caption))
    seconds = time.perf_counter() - start
    if not tiles:
        raise UsageError(f"{src}: no catalogue kernel fits an image of {channels} channel(s)")
    sheet = render_montage(
        data, tiles, title=title, tile=tile or DEFAULT_TILE, notes=sheet_notes, planes="channel" if colour else "slice",
        source_shape=input_shape, maps_reduced=factor,
    )
    write_sheet(sheet_path, sheet, force=force, encoding=encoding)
    if encoding is not None:
        notes.extend(encoding.ignored_by(sheet_path))
    return Report(
        input=str(src),
        operation=f"gallery {family or 'all families'}{_border_words(mode, pad_value)}",
        input_shape=input_shape,
        output_shape=[sheet.height, sheet.width, 3],
        output=str(sheet_path),
        minimum=low,
        maximum=high,
        seconds=seconds,
        dtype=computed,
        total=sheet.height * sheet.width * 3,
        notes=notes,
        maps=labels,
        montage=str(sheet_path),
    )
