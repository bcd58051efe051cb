"""Feature maps as one picture: the input beside a labelled grid of maps, each rescaled on its own.

A feature map's values can be anything (an edge map runs from -400 to +400, a blur keeps
0..255, a sigmoid sits in 0..1), so every tile is stretched from its own minimum (black) to
its own maximum (white); the label under it gives its name and that range.  Tiles share one
display size, so maps smaller than the input (a stride, "valid" padding) show at the same
scale as the input; tiny matrices are enlarged by whole cells (nearest neighbour), large
maps reduced with area averaging.

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

#: largest side of a tile, in pixels, unless the caller says otherwise
DEFAULT_TILE = 192
#: most tiles in one row of the grid
MAX_COLUMNS = 6
GAP = 10
MARGIN = 12
BACKGROUND = (255, 255, 255)
INK = (20, 20, 20)
FAINT = (110, 110, 110)
FRAME = (190, 190, 190)


def to_display(values: Any) -> np.ndarray:
    """Stretch a map (H, W) or a colour map (H, W, 3) from its own min..max to 0..255 uint8.

    A constant map becomes black (there is nothing to see in it).

    >>> to_display(np.array([[-2.0, 0.0, 2.0]]))
    array([[  0, 128, 255]], dtype=uint8)
    """
    v = np.asarray(values, dtype=np.float64)
    lo, hi = float(v.min()), float(v.max())
    if hi == lo:
        return np.zeros(v.shape, dtype=np.uint8)
    if math.isfinite(hi - lo):
        return np.rint((v - lo) * (255.0 / (hi - lo))).astype(np.uint8)
    # a range beyond float64 (-1e308 .. 1e308): the same stretch in halves (exact), which do not overflow
    return np.rint((v / 2 - lo / 2) * (255.0 / (hi / 2 - lo / 2))).astype(np.uint8)


def _input_display(source: np.ndarray) -> tuple[np.ndarray, str]:
    """The input as a picture: 8-bit data as it is, anything else stretched; colour kept for 3 channels."""
    s = np.asarray(source)
    note = ""
    if s.ndim == 3 and s.shape[2] == 1:
        s = s[..., 0]
    elif s.ndim == 3 and s.shape[2] != 3:
        note = f", channel 0 of {s.shape[2]}"
        s = s[..., 0]
    if s.dtype == np.uint8:
        return s, note
    return to_display(s), note


def range_text(values: Any) -> str:
    """A map's range as short text: ``[-4, 4]``, ``[0.0312, 0.969]``, or ``constant 0``.

    >>> range_text(np.array([-4.0, 4.0])), range_text(np.zeros(3))
    ('[-4, 4]', 'constant 0')
    """
    v = np.asarray(values)
    lo, hi = float(v.min()), float(v.max())
    if lo == hi:
        return f"constant {lo:.3g}"
    return f"[{lo:.3g}, {hi:.3g}]"


def _font(size: int):
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=size)
    except (TypeError, ImportError, OSError):  # a Pillow without FreeType: the fixed bitmap font
        return ImageFont.load_default()


def _fit(draw, text: str, font, width: int) -> str:
    """``text``, cut with an ellipsis so that it fits ``width`` pixels."""
    if draw.textlength(text, font=font) <= width:
        return text
    while text and draw.textlength(text + "…", font=font) > width:
        text = text[:-1]
    return text + "…"


def _tile_image(pixels: np.ndarray, box: int):
    """A uint8 picture scaled to fit a ``box`` x ``box`` square: whole-cell enlargement, area reduction."""
    from PIL import Image

    img = Image.fromarray(np.ascontiguousarray(pixels))
    h, w = pixels.shape[:2]
    side = max(h, w)
    if side <= box:
        factor = max(1, box // side)
        return img.resize((w * factor, h * factor), Image.Resampling.NEAREST) if factor > 1 else img
    scale = box / side
    return img.resize((max(1, round(w * scale)), max(1, round(h * scale))), Image.Resampling.BOX)


#: the two lines of text under a tile
LABEL_HEIGHT = 34


def sheet_size(n: int, tile: int, *, title: str | None = None, notes: int = 0, columns: int | None = None) -> tuple[int, int]:
    """(width, height) in pixels of :func:`render_montage`'s sheet of ``n`` tiles of ``tile`` pixels: known before a
    map is computed, so that a sheet too large for the memory allowed is refused first.

    >>> sheet_size(4, 96, title="t", notes=1)
    (554, 202)
    """
    cols = columns or (n if n <= 4 else min(MAX_COLUMNS, math.ceil(math.sqrt(n))))
    rows = math.ceil(n / cols)
    cell_w, cell_h = tile, tile + LABEL_HEIGHT
    header_h = (22 if title else 0) + 16 * notes + (GAP if title or notes else 0)
    width = MARGIN * 2 + tile + 2 * GAP + cols * cell_w + (cols - 1) * GAP
    height = MARGIN * 2 + header_h + max(cell_h, rows * cell_h + (rows - 1) * GAP)
    return width, height


def render_montage(
    source: Any,
    tiles: Sequence[tuple[str, Any]],
    *,
    title: str | None = None,
    tile: int = DEFAULT_TILE,
    columns: int | None = None,
    source_label: str = "input",
    notes: Sequence[str] = (),
):
    """Draw the input on the left and the maps in a grid on the right, each labelled.

    Parameters
    ----------
    source : array_like
        The input image (H, W) or (H, W, C): shown as it is for 8-bit data (in colour for
        three channels), stretched min..max otherwise.
    tiles : sequence of (label, map) or (label, map, caption)
        Each map (h, w), or (h, w, 3) to show three maps as one colour picture; every tile
        is stretched from its own min to its own max.  A map may also come already
        stretched, as ``(label, (uint8 pixels, range text))`` (see :func:`to_display`), so
        that a caller need not keep every full-size map in memory.  A caption (such as
        the kernel's family and size) goes before the range on the tile's second line.
    title : str, optional
        One line across the top.
    tile : int
        Largest side of a tile in pixels.
    columns : int, optional
        Tiles per grid row (default: about square, at most :data:`MAX_COLUMNS`).
    source_label : str
        The input's label.
    notes : sequence of str
        Extra lines under the title (smaller, grey).

    Returns
    -------
    PIL.Image.Image
        An RGB picture.
    """
    from PIL import Image, ImageDraw

    if not tiles:
        raise ValueError("render_montage: no maps to draw")
    label_font, small_font, title_font = _font(13), _font(11), _font(15)
    n = len(tiles)
    cols = columns or (n if n <= 4 else min(MAX_COLUMNS, math.ceil(math.sqrt(n))))

    src = np.asarray(source)
    pixels, extra = _input_display(src)
    source_img = _tile_image(pixels, tile)
    pictures, texts = [], []
    for label, values, *caption in tiles:
        if isinstance(values, tuple):
            shown, text = values
        else:
            shown, text = to_display(values), range_text(values)
        pictures.append(_tile_image(shown, tile))
        texts.append((label, f"{caption[0]}  {text}" if caption and caption[0] else text))
    # Cells as large as the largest scaled picture (at most ``tile``): small inputs stay compact.
    tile = max(96, max(max(img.size) for img in [source_img, *pictures]))
    cell_w, cell_h = tile, tile + LABEL_HEIGHT
    header_lines = ([title] if title else []) + list(notes)
    left_w = tile + 2 * GAP
    width, height = sheet_size(n, tile, title=title, notes=len(notes), columns=cols)
    sheet = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(sheet)

    y = MARGIN
    if title:
        draw.text((MARGIN, y), _fit(draw, title, title_font, width - 2 * MARGIN), font=title_font, fill=INK)
        y += 22
    for line in notes:
        draw.text((MARGIN, y), _fit(draw, line, small_font, width - 2 * MARGIN), font=small_font, fill=FAINT)
        y += 16
    top = y + (GAP if header_lines else 0)

    size_text = "x".join(map(str, src.shape))
    _paste(sheet, draw, source_img, MARGIN, top, tile)
    _label(draw, MARGIN, top + tile, tile, source_label, f"{size_text}{extra}", label_font, small_font)
    x0 = MARGIN + left_w
    draw.line([(x0 - GAP, top), (x0 - GAP, height - MARGIN)], fill=FRAME, width=1)

    for index, (picture, (label, text)) in enumerate(zip(pictures, texts)):
        r, c = divmod(index, cols)
        x = x0 + c * (cell_w + GAP)
        yy = top + r * (cell_h + GAP)
        _paste(sheet, draw, picture, x, yy, tile)
        _label(draw, x, yy + tile, tile, label, text, label_font, small_font)
    return sheet


def _paste(sheet, draw, img, x: int, y: int, box: int) -> None:
    """Centre ``img`` in the ``box`` square at (x, y), with a thin frame."""
    if img.mode != "RGB":
        img = img.convert("RGB")
    ox = x + (box - img.width) // 2
    oy = y + (box - img.height) // 2
    sheet.paste(img, (ox, oy))
    draw.rectangle([ox - 1, oy - 1, ox + img.width, oy + img.height], outline=FRAME)


def _label(draw, x: int, y: int, width: int, name: str, detail: str, font, small) -> None:
    draw.text((x, y + 4), _fit(draw, name, font, width), font=font, fill=INK)
    draw.text((x, y + 20), _fit(draw, detail, small, width), font=small, fill=FAINT)


def write_sheet(path: str | os.PathLike, image, *, force: bool = False, encoding=None) -> None:
    """Save a rendered sheet atomically (temporary file, then rename) in the format its suffix names,
    encoded as ``encoding`` (a :class:`kernelcli.io.image_writing.Encoding`; fast PNG, JPEG quality 95 by default).

    Raises OutputRefused when ``path`` exists and ``force`` is False.
    """
    from .io.image_writing import write_picture

    write_picture(path, image, force=force, encoding=encoding)
