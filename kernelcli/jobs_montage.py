"""A montage of feature maps as a job draws it: the tiles of a bank (:func:`montage_tiles`), a sheet's size
checked before it is drawn (:func:`check_sheet`: its memory and its format's sides), and a montage that is the only output, drawn one kernel
at a time (:func:`montage_by_part`, :func:`montage_alone`), so that no map is kept at full size.

Split from :mod:`kernelcli.jobs_maps`, which runs them (and re-exports the first two for the gallery's sake).

>>> import numpy as np
>>> from kernelcli.banks import filter_bank
>>> [name for name, _ in montage_tiles(filter_bank(np.zeros((4, 4, 3)), [np.ones((3, 3))], ["box"]))]
['box']
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from .jobs_common import Report, alpha_not_carried, with_alpha


def montage_by_part(src: Path, data: Any, label: str, compute_part: Callable[[Any, int], Any], parts: int,
                     order: str) -> dict[str, Any]:
    """Each kernel's maps (``compute_part``), checked as a whole bank's are and drawn at once into the montage's
    tiles (:func:`kernelcli.montage.drawn_tile`), then dropped: what :func:`montage_alone` writes."""
    from .jobs_common import check_finite_result
    from .banks import as_slices
    from .montage import drawn_tile, montage_scale

    tiles: list[tuple[str, Any]] = []
    shapes: list[tuple[int, ...]] = []
    labels: list[str] = []
    low, high, scale, shape, dtype = float("inf"), float("-inf"), None, None, None
    for i in range(parts):
        bank = compute_part(data, i)
        bank = as_slices(bank) if order == "zyx" else bank
        lo, hi = float(bank.maps.min()), float(bank.maps.max())
        check_finite_result(src, label, lo, hi, bank.maps.dtype)  # (the words and the moment of the whole bank's check)
        low, high, dtype = min(low, lo), max(high, hi), bank.maps.dtype
        if scale is None:  # (every kernel's maps have one size: the caller streams only then)
            shape, scale = bank.maps.shape[:2], montage_scale(data.shape, bank.maps.shape)
        labels.extend(bank.labels)
        made = montage_tiles(bank, colour=order != "zyx")
        tiles.extend((name, drawn_tile(maps, scale)) for name, maps in made)
        shapes.extend(maps.shape for _, maps in made)  # (the maps', which the sheet's size is checked from)
        del bank, made
    return {"tiles": tiles, "shapes": shapes, "labels": labels, "extremes": (low, high), "scale": scale, "dtype": dtype,
            "shape": (*shape, len(labels)), "planes": "slice" if order == "zyx" else "channel"}


def montage_alone(src: Path, label: str, loaded: Any, data: Any, drawn: dict[str, Any], seconds: float,
                   montage_path: Path, describe: str, rescale: str | None, force: bool, encoding: Any) -> Report:
    """Write the montage of :func:`montage_by_part`'s tiles and give the record :func:`kernelcli.jobs_maps.run_maps_job` gives for a
    montage alone: the maps' range, dtype and labels, the sheet as the file written."""
    from types import SimpleNamespace

    from .montage import render_montage, write_sheet

    tiles, (h, w, m) = drawn["tiles"], drawn["shape"]
    result = SimpleNamespace(shape=(h, w, m), dtype=drawn["dtype"], size=h * w * m)  # (the maps as computed, not kept)
    report = Report.of(src, label, loaded.data, result, seconds, None, loaded.notes, extremes=drawn["extremes"],
                       maps=drawn["labels"])
    if loaded.alpha is not None:
        report.input_shape = with_alpha(report.input_shape)
        report.notes.append(alpha_not_carried(src.name))
    title, sheet_notes = check_sheet(src, montage_path, label, describe, data.shape, drawn["shapes"])  # type: ignore[misc]
    sheet = render_montage(data, tiles, title=title, notes=sheet_notes, planes=drawn["planes"],
                           source_shape=report.input_shape, scale=drawn["scale"])
    write_sheet(montage_path, sheet, force=force, encoding=encoding)
    report.montage = report.output = str(montage_path)
    report.output_shape, report.total = [sheet.height, sheet.width, 3], sheet.height * sheet.width * 3
    if rescale is not None:  # given, and nothing done: as for several maps in a .tif
        report.notes.append(f"{montage_path.name}: --rescale {rescale} is for the data output (--out); a montage "
                            "stretches each map from its min to its max")
    if encoding is not None:
        report.notes.extend(encoding.ignored_by(montage_path))
    return report


def bank_tile_shapes(data_shape: Any, kernel_shapes: list[Any], options: Any, colour: bool = True) -> list[Any] | None:
    """The shapes of the tiles :func:`montage_tiles` makes of a bank of kernels of ``kernel_shapes`` (2-D, or (C, f, f))
    on an (H, W[, C]) input with ``options`` (padding, stride, dilation, combine), known before any map is computed,
    so that a sheet too large is refused first: (h', w') a grey tile, (h', w', 3) a colour one (``colour``: three
    channels, not three slices).  None where the maps could not be computed or differ in size: the computation
    then says why, in its own words.

    >>> from kernelcli.jobs_common import ConvolveOptions
    >>> bank_tile_shapes((10, 12, 3), [(3, 3), (3, 3, 3)], ConvolveOptions(padding="valid"))
    [(8, 10, 3), (8, 10)]
    """
    from .errors import KernelcliError
    from .shapes import conv_output_size, resolve_padding

    channels = data_shape[2] if len(data_shape) == 3 else 1
    tiles: list[Any] = []
    sizes = set()
    for shape in kernel_shapes:
        kh, kw = int(shape[-2]), int(shape[-1])
        try:
            top, bottom, left, right = resolve_padding(options.padding, kh, kw, (options.dilation, options.dilation))
            size = tuple(conv_output_size(n, k, stride=options.stride, pad_before=a, pad_after=b, dilation=options.dilation)
                         for n, k, a, b in ((data_shape[0], kh, top, bottom), (data_shape[1], kw, left, right)))
        except (KernelcliError, ValueError, TypeError):
            return None
        sizes.add(size)
        maps = 1 if len(shape) == 3 or options.combine == "sum" or channels == 1 else channels  # (filter_bank's kinds)
        tiles.extend([(*size, 3)] if colour and maps == 3 else [size] * maps)
    return tiles if len(sizes) == 1 else None


def check_sheet(src: Path, montage_path: Path, label: str, describe: str, data_shape: Any,
                shapes: list[Any] | None) -> tuple[str, list[str]] | None:
    """Refuse (exit 2) a ``convolve --montage`` sheet too large for the memory allowed or for its format, from its
    tiles' ``shapes``: before any map is computed (:func:`bank_tile_shapes`; the refusals came after every map, a
    1800-tile JPEG: 12.9 s and 950 MB, where the gallery refuses it in 0.4 s), and with the maps' own shapes once
    they are (the one check: two copies could disagree about one sheet).  Gives the sheet's title and notes
    (:func:`sheet_header`); nothing is checked for ``shapes`` None.

    >>> check_sheet(Path("ct.png"), Path("m.png"), "convolve box", "", (8, 8), [(6, 6)] * 2)[0]
    'ct.png: convolve box'
    """
    from .montage import DEFAULT_TILE

    if shapes is None:
        return None
    title, notes = sheet_header(src, label, describe, any(len(shape) == 3 and shape[2] == 3 for shape in shapes))
    check_sheet_memory(f"convolve {src.name}", len(shapes), DEFAULT_TILE, len(notes))
    check_sheet_sides(montage_path, data_shape, shapes, title=title, notes=notes)
    return title, notes


def sheet_header(src: Path, label: str, describe: str, colour: bool) -> tuple[str, list[str]]:
    """The title and the notes of a ``convolve --montage`` sheet: the input and the call's ``label``, then the options
    (``describe``) and how the tiles are stretched (``colour``: there is a colour tile, whose three maps are
    stretched together: :func:`kernelcli.montage.stretch_note`).

    >>> sheet_header(Path("ct.png"), "convolve sobel_v, sobel_h", "padding same (constant)", False)[0]
    'ct.png: convolve sobel_v, sobel_h'
    """
    from .io.naming import piped_stream
    from .montage import stretch_note

    # (a piped input's sheet is titled 'stdin', as its messages name it)
    return f"{piped_stream(src) or src.name}: {label}", [f"{describe}; {stretch_note(colour)}"] if describe else []


def montage_tiles(bank: Any, colour: bool = True) -> list[tuple[str, Any]]:
    """Tiles for :func:`kernelcli.montage.render_montage`: a colour tile for a kernel applied per
    channel to three channels (``colour``: not to three slices of a volume), else one grey tile per map."""
    tiles = []
    for name, (start, stop), kind in zip(bank.names, bank.spans, bank.combine):
        if colour and kind == "per-channel" and stop - start == 3:
            tiles.append((name, bank.maps[:, :, start:stop]))
        else:
            tiles.extend((bank.labels[j], bank.maps[:, :, j]) for j in range(start, stop))
    return tiles


#: bytes a sheet's pixel holds while it is drawn and written: the RGB picture, the array the PNG encoder reads
#: (:func:`kernelcli.io.png.write_png`) and the encoded bytes (at most the raw ones)
SHEET_BYTES_PER_PIXEL = 3 * 3


def check_sheet_memory(what: str, n: int, tile: int, notes: int, captions: bool = False) -> None:
    """Refuse (ResourceLimit, exit 2) a sheet of ``n`` tiles whose drawing would need more memory than allowed: a
    200-channel array of 51 KB made a 314886x1438 sheet (3.4 GB resident) under KERNELCLI_MAX_MEMORY=512M."""
    from .limits import check_peak
    from .montage import sheet_size

    width, height = sheet_size(max(n, 1), tile, title="t", notes=notes, captions=captions)
    check_peak(width * height * SHEET_BYTES_PER_PIXEL, f"{what}: a sheet of {n} tiles ({height}x{width} pixels)")  # (height first, as every shape)


def check_sheet_sides(path: Path, source_shape: Any, map_shapes: list[Any], **drawn: Any) -> None:
    """Refuse (exit 2) a sheet of an input and maps of these shapes (drawn with :func:`kernelcli.montage.render_montage`'s
    keywords ``drawn``) that ``path``'s format cannot hold, before any output is written: a 1438x70862 JPEG sheet was
    refused after ``--out`` was written, and the retry as .png was then refused for the existing ``--out``."""
    from .io.image_writing import check_picture_sides
    from .montage import sheet_extent

    check_picture_sides(path, *sheet_extent(source_shape, map_shapes, **drawn))
