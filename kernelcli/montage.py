"""Feature maps as one picture: the input beside a labelled grid of maps, each rescaled on its own.

A feature map's values can be anything (an edge map runs from -400 to +400, a blur keeps
0..255, a sigmoid sits in 0..1), so every tile is stretched from its own minimum (black) to
its own maximum (white); the label under it gives its name and that range (with the digits that
tell the two apart).  A colour tile (one kernel on three channels) stretches its three maps together,
from the lowest of their minima to the highest of their maxima: stretched one by one they would
show colours the maps do not have, and its label says so (``RGB together: [-844, 738]``).  The input and its maps are drawn at one scale, the one
that fits the largest of them in a cell: tiny matrices are enlarged by whole cells (nearest neighbour),
large pictures reduced with area averaging, so a map smaller than the input (a stride, "valid" padding)
shows smaller than the input, by as much.

Pure rendering: arrays in, a Pillow image out.  :func:`write_sheet` saves it atomically through
:func:`kernelcli.io.image_writing.write_picture`,
like every output.

Example
-------
>>> import numpy as np
>>> x = np.arange(16.0).reshape(4, 4)
>>> sheet = render_montage(x, [("dx", x[:, 1:] - x[:, :-1]), ("dy", x[1:] - x[:-1])], tile=64)
>>> sheet.mode, sheet.size[0] > 3 * 64
('RGB', True)
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import sheet_text
from .io.integer_range import to_integer_range
from .numtext import range_pair

#: largest side of a tile, in pixels, unless the caller says otherwise
DEFAULT_TILE = 192
#: most tiles in one row of the grid
MAX_COLUMNS = 6
GAP = 10
#: the smallest cell: room for a label under a tiny map
MIN_CELL = 96
MARGIN = 12
BACKGROUND = (255, 255, 255)
INK = (20, 20, 20)
FAINT = (110, 110, 110)
FRAME = (190, 190, 190)


def to_display(values: Any) -> np.ndarray:
    """Stretch a map (H, W) or a colour map (H, W, 3) from its own min..max to 0..255 uint8.

    A constant map becomes black (there is nothing to see in it).  The stretch is ``--rescale
    minmax``'s (:func:`kernelcli.io.integer_range.to_integer_range`): the same pixels for any
    finite range, from past float64 (-1e308 .. 1e308) to under 1e-306.

    >>> to_display(np.array([[-2.0, 0.0, 2.0]]))
    array([[  0, 128, 255]], dtype=uint8)
    """
    # (no float64 copy of the map: the stretch is computed in float64 a block of rows at a time)
    return to_integer_range(np.asarray(values), 8, "minmax")[0]


def _input_display(source: np.ndarray, planes: str = "channel") -> tuple[np.ndarray, str]:
    """The input as a picture: 8-bit data as it is, anything else stretched, which its label then says (``constant
    200`` drawn black, ``[1000, 9000] stretched``); colour kept for 3 channels (not for 3 slices of a volume:
    ``planes="slice"``, which shows the first slice).

    >>> _input_display(np.full((2, 2), 200, np.uint16))[1], _input_display(np.array([[1.0, 9.0]]))[1]
    (', constant 200', ', [1, 9] stretched')
    """
    s = np.asarray(source)
    note = ""
    if s.ndim == 3 and s.shape[2] == 1:
        s = s[..., 0]
    elif s.ndim == 3 and (s.shape[2] != 3 or planes != "channel"):
        note = f", {planes} 0 of {s.shape[2]}"
        s = s[..., 0]
    if s.dtype == np.uint8:
        return s, note
    shown = range_text(s)  # (a constant input is drawn black: said, as a constant map's tile says it)
    return to_display(s), f"{note}, {shown}" + ("" if "constant" in shown else " stretched")


#: how a sheet's tiles are stretched, said in its note (:func:`stretch_note`)
EACH_STRETCHED = "each map stretched from its min (black) to its max (white)"
COLOUR_STRETCHED = "a colour tile's three maps stretched together, from the lowest minimum to the highest maximum"
#: a colour tile's range under it (:func:`range_text`): one range for its three maps
COLOUR_RANGE = "RGB together: "


def stretch_note(colour: bool) -> str:
    """How a sheet's tiles are stretched, for its note; ``colour``: the sheet has a colour tile.

    >>> stretch_note(True)
    "each map stretched from its min (black) to its max (white); a colour tile's three maps stretched together, from the lowest minimum to the highest maximum"
    """
    return EACH_STRETCHED + (f"; {COLOUR_STRETCHED}" if colour else "")


def is_colour(values: Any) -> bool:
    """True for a colour tile's maps, (h, w, 3), as :func:`render_montage` takes them (not yet stretched)."""
    return np.ndim(values) == 3 and np.shape(values)[2] == 3


def range_text(values: Any) -> str:
    """A map's range as short text: ``[-4, 4]``, ``[0.0312, 0.969]``, ``[1000, 1004]`` (as many digits as tell
    the ends apart: 3 gave ``[1e+03, 1e+03]``), ``[-3.34e3, 3.34e3]``, or ``constant 0``; a colour tile's
    (h, w, 3) maps, stretched together, have one range, said to be theirs together (:data:`COLOUR_RANGE`).

    >>> range_text(np.array([-4.0, 4.0])), range_text(np.array([1000.0, 1004.0])), range_text(np.zeros(3))
    ('[-4, 4]', '[1000, 1004]', 'constant 0')
    >>> range_text(np.zeros((2, 2, 3)))
    'RGB together: constant 0'
    """
    v = np.asarray(values)
    lo, hi = range_pair(float(v.min()), float(v.max()))
    text = f"constant {lo}" if lo == hi else f"[{lo}, {hi}]"
    return COLOUR_RANGE + text if is_colour(v) else text


def _header(title: str | None, notes: Sequence[str], width: int) -> tuple[list[str], list[str]]:
    """The title's lines and the notes' lines of a sheet ``width`` pixels wide, wrapped (:func:`.sheet_text.wrap`)."""
    from PIL import Image, ImageDraw

    draw, room = ImageDraw.Draw(Image.new("RGB", (1, 1))), width - 2 * MARGIN
    return (sheet_text.wrap(draw, title, sheet_text.sheet_font(15), room) if title else []), [line for note in notes for line in sheet_text.wrap(draw, note, sheet_text.sheet_font(11), room)]


def picture_scale(side: int, box: int) -> int | float:
    """The scale that fits a picture of largest ``side`` in a ``box`` square: a whole factor (cells enlarged whole),
    or a fraction under 1 (area reduction).

    >>> picture_scale(5, 192), picture_scale(384, 192)
    (38, 0.5)
    """
    return box // side if side <= box else box / side


def _tile_image(pixels: np.ndarray, box: int, scale: int | float | None = None):
    """A uint8 picture scaled by ``scale`` (default: the one that fits a ``box`` x ``box`` square): whole-cell
    enlargement, area reduction."""
    from PIL import Image

    img = Image.fromarray(np.ascontiguousarray(pixels))
    h, w = pixels.shape[:2]
    scale = picture_scale(max(h, w), box) if scale is None else scale
    size = _picture_size(pixels.shape, scale)
    if size == (w, h):
        return img
    return img.resize(size, Image.Resampling.BOX if scale < 1 else Image.Resampling.NEAREST)


def montage_scale(source_shape: Sequence[int], map_shape: Sequence[int], tile: int = DEFAULT_TILE,
                  maps_reduced: int = 1) -> int | float:
    """The one scale :func:`render_montage` draws an input and maps of these shapes at (``maps_reduced``: as there),
    known from their shapes alone, before any map is computed in full.

    >>> montage_scale((3000, 4000, 3), (3000, 4000, 3)), montage_scale((5, 5), (3, 3))
    (0.048, 38)
    """
    return picture_scale(max(max(source_shape[:2]), max(map_shape[:2]) * maps_reduced), tile)


def drawn_tile(values: Any, scale: int | float) -> tuple[Any, str]:
    """A map stretched (:func:`to_display`) and drawn at ``scale`` at once, with its range text: a tile for
    ``render_montage(..., scale=scale)``, the same pixels as a map given whole, with no full-size copy kept
    (maps computed one at a time each become a thumbnail before the next is computed).

    >>> drawn_tile(np.array([[-2.0, 0.0, 2.0]]), 2)[0].size, drawn_tile(np.array([[-2.0, 2.0]]), 2)[1]
    ((6, 2), '[-2, 2]')
    """
    return _tile_image(to_display(values), 0, scale), range_text(values)


def _shown_shape(values: Any) -> tuple[int, ...]:
    """The shape of a tile's map as :func:`render_montage` takes it (whole, or stretched already)."""
    if isinstance(values, tuple):
        if not isinstance(values[0], np.ndarray):
            raise ValueError("render_montage: a tile drawn already (drawn_tile) needs the scale it was drawn at: scale=")
        return values[0].shape
    return np.shape(values)


#: the lines of text under a tile: its name, then its range; a caption (a kernel's family and size) between them
LABEL_HEIGHT = 34
CAPTION_HEIGHT = 14


def sheet_size(n: int, tile: int, *, title: str | None = None, notes: int = 0, columns: int | None = None,
               captions: bool = False, title_lines: int = 1) -> tuple[int, int]:
    """(width, height) in pixels of :func:`render_montage`'s sheet of ``n`` tiles of ``tile`` pixels (cells are at
    least :data:`MIN_CELL`, as drawn) under a title of ``title_lines`` and ``notes`` lines: known before it is drawn,
    so that a sheet too large for the memory allowed is refused first.

    >>> sheet_size(4, 96, title="t", notes=1), sheet_size(4, 16, title="t", notes=1)
    ((554, 202), (554, 202))
    """
    tile = max(MIN_CELL, tile)
    cols = columns or (n if n <= 4 else min(MAX_COLUMNS, math.ceil(math.sqrt(n))))
    rows = math.ceil(n / cols)
    cell_w, cell_h = tile, tile + LABEL_HEIGHT + (CAPTION_HEIGHT if captions else 0)
    header_h = (22 * title_lines if title else 0) + 16 * notes + (GAP if title or notes else 0)
    width = MARGIN * 2 + tile + 2 * GAP + cols * cell_w + (cols - 1) * GAP
    height = MARGIN * 2 + header_h + max(cell_h, rows * cell_h + (rows - 1) * GAP)
    return width, height


def _picture_size(shape: Sequence[int], scale: int | float) -> tuple[int, int]:
    """(width, height) of an (h, w[, c]) picture drawn at ``scale``, as :func:`_tile_image` draws it."""
    return max(1, round(shape[1] * scale)), max(1, round(shape[0] * scale))


def sheet_extent(source_shape: Sequence[int], map_shapes: Sequence[Sequence[int]], *, title: str | None = None,
                 tile: int = DEFAULT_TILE, columns: int | None = None, notes: Sequence[str] = (), captions: bool = False,
                 maps_reduced: int = 1, scale: int | float | None = None) -> tuple[int, int]:
    """(width, height) of the sheet :func:`render_montage` draws of an input and maps of these (h, w[, c]) shapes,
    given the same keywords: known before a pixel is drawn, so that a sheet its format cannot hold (a JPEG over
    65500 pixels a side) is refused before any other output is written.

    >>> sheet_extent((40, 50), [(40, 50)] * 3, title="t")
    (664, 240)
    """
    if scale is None:
        scale = picture_scale(max(max(source_shape[:2]), *(max(m[:2]) * maps_reduced for m in map_shapes)), tile)
    sizes = [_picture_size(source_shape, scale), *(_picture_size(m, scale * maps_reduced) for m in map_shapes)]
    cell = max(MIN_CELL, max(max(size) for size in sizes))
    width, _ = sheet_size(len(map_shapes), cell, columns=columns)
    titled, noted = _header(title, notes, width)
    return sheet_size(len(map_shapes), cell, title=title, notes=len(noted), columns=columns, captions=captions,
                      title_lines=len(titled))


def render_montage(
    source: Any,
    tiles: Sequence[tuple[str, Any]],
    *,
    title: str | None = None,
    tile: int = DEFAULT_TILE,
    columns: int | None = None,
    source_label: str = "input",
    notes: Sequence[str] = (),
    planes: str = "channel",
    source_shape: Sequence[int] | None = None,
    maps_reduced: int = 1,
    scale: int | float | None = None,
):
    """Draw the input on the left and the maps in a grid on the right, each labelled.

    Parameters
    ----------
    source : array_like
        The input image (H, W) or (H, W, C): shown as it is for 8-bit data (in colour for
        three channels), stretched min..max otherwise.
    tiles : sequence of (label, map) or (label, map, caption)
        Each map (h, w), or (h, w, 3) to show three maps as one colour picture; every tile
        is stretched from its own min to its own max (a colour tile's three maps together).  A map may also come already
        stretched, as ``(label, (uint8 pixels, range text))`` (see :func:`to_display`), or
        stretched and drawn at ``scale`` (:func:`drawn_tile`), so that a caller need not
        keep every full-size map in memory.  A caption (such as the kernel's family and
        size) goes before the range on the tile's second line.
    title : str, optional
        Across the top, wrapped at spaces onto more lines where it is wider than the sheet (as each note is).
    tile : int
        Largest side of a tile in pixels.
    columns : int, optional
        Tiles per grid row (default: about square, at most :data:`MAX_COLUMNS`).
    source_label : str
        The input's label.
    notes : sequence of str
        Extra lines under the title (smaller, grey).
    planes : {"channel", "slice"}
        What the input's third axis holds: three channels are shown in colour, slices
        (a volume read ``--layout zyx``) never are.
    source_shape : sequence of int, optional
        The input's shape as its file holds it, under its tile (default: ``source``'s): a (3, 40, 30) array
        read channels first is drawn from its (40, 30, 3) channels-last copy.
    maps_reduced : int
        The maps were computed on the input reduced f x f (a gallery's thumbnails): each of their pixels is
        drawn as f x f of the input's.
    scale : int or float, optional
        The input's scale (default: the one that fits the largest picture in a ``tile`` square,
        :func:`montage_scale`); needed, and the one they were drawn at, with tiles from :func:`drawn_tile`.

    Returns
    -------
    PIL.Image.Image
        An RGB picture.
    """
    from PIL import Image, ImageDraw

    if not tiles:
        raise ValueError("render_montage: no maps to draw")
    label_font, small_font, title_font = sheet_text.sheet_font(13), sheet_text.sheet_font(11), sheet_text.sheet_font(15)
    n = len(tiles)
    cols = columns or (n if n <= 4 else min(MAX_COLUMNS, math.ceil(math.sqrt(n))))

    src = np.asarray(source)
    pixels, extra = _input_display(src, planes)
    # One scale for the input and its maps: a map smaller than its input (a stride, 'valid') is drawn smaller.
    # Known from the shapes, so that each map is stretched and drawn in turn: one full-size copy at a time.
    if scale is None:
        scale = picture_scale(max(max(pixels.shape[:2]), *(max(_shown_shape(v)[:2]) * maps_reduced for _, v, *_ in tiles)), tile)
    source_img = _tile_image(pixels, tile, scale)
    pictures, texts = [], []
    for label, values, *caption in tiles:
        if isinstance(values, tuple) and not isinstance(values[0], np.ndarray):  # drawn already: drawn_tile
            picture, text = values
        else:
            shown, text = values if isinstance(values, tuple) else (to_display(values), range_text(values))
            picture = _tile_image(shown, tile, scale * maps_reduced)
        pictures.append(picture)
        texts.append((label, [caption[0], text] if caption and caption[0] else [text]))
    captions = any(len(lines) > 1 for _, lines in texts)
    # Cells as large as the largest scaled picture (at most ``tile``): small inputs stay compact.
    tile = max(MIN_CELL, max(max(img.size) for img in [source_img, *pictures]))
    cell_w, cell_h = tile, tile + LABEL_HEIGHT + (CAPTION_HEIGHT if captions else 0)
    left_w = tile + 2 * GAP
    titled, noted = _header(title, notes, sheet_size(n, tile, columns=cols)[0])
    header_lines = titled + noted
    width, height = sheet_size(n, tile, title=title, notes=len(noted), columns=cols, captions=captions,
                               title_lines=len(titled))
    sheet = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(sheet)

    y = MARGIN
    for line in titled:
        draw.text((MARGIN, y), sheet_text.fit(draw, line, title_font, width - 2 * MARGIN), font=title_font, fill=INK)
        y += 22
    for line in noted:
        draw.text((MARGIN, y), sheet_text.fit(draw, line, small_font, width - 2 * MARGIN), font=small_font, fill=FAINT)
        y += 16
    top = y + (GAP if header_lines else 0)

    size_text = "x".join(map(str, src.shape if source_shape is None else source_shape))
    _paste(sheet, draw, source_img, MARGIN, top, tile)
    _label(draw, MARGIN, top + tile, tile, source_label, [f"{size_text}{extra}"], label_font, small_font)
    x0 = MARGIN + left_w
    draw.line([(x0 - GAP, top), (x0 - GAP, height - MARGIN)], fill=FRAME, width=1)

    names = sheet_text.distinct_labels(draw, [label for label, _ in texts], label_font, tile)
    for index, (picture, name, (_, lines)) in enumerate(zip(pictures, names, texts)):
        r, c = divmod(index, cols)
        x = x0 + c * (cell_w + GAP)
        yy = top + r * (cell_h + GAP)
        _paste(sheet, draw, picture, x, yy, tile)
        _label(draw, x, yy + tile, tile, name, lines, label_font, small_font)
    return sheet


def _paste(sheet, draw, img, x: int, y: int, box: int) -> None:
    """Centre ``img`` in the ``box`` square at (x, y), with a thin frame."""
    if img.mode != "RGB":
        img = img.convert("RGB")
    ox = x + (box - img.width) // 2
    oy = y + (box - img.height) // 2
    sheet.paste(img, (ox, oy))
    draw.rectangle([ox - 1, oy - 1, ox + img.width, oy + img.height], outline=FRAME)


def _label(draw, x: int, y: int, width: int, name: str, details: list[str], font, small) -> None:
    """``name`` (already fitted) and the lines of ``details`` under a tile; the last line (a range) cut in its middle,
    so that both its ends stay."""
    draw.text((x, y + 4), name, font=font, fill=INK)
    for i, line in enumerate(details):
        draw.text((x, y + 20 + CAPTION_HEIGHT * i), sheet_text.fit(draw, line, small, width, middle=i == len(details) - 1),
                  font=small, fill=FAINT)


def write_sheet(path: str | os.PathLike, image, *, force: bool = False, encoding=None) -> None:
    """Save a rendered sheet atomically (temporary file, then rename) in the format its suffix names,
    encoded as ``encoding`` (a :class:`kernelcli.io.image_writing.Encoding`; fast PNG, JPEG quality 95 by default).

    Raises OutputRefused when ``path`` exists and ``force`` is False.
    """
    from .io.image_writing import write_picture

    write_picture(path, image, force=force, encoding=encoding)
