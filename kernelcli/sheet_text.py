"""The words on a sheet: fonts, the characters a font can draw, and text fitted to a width in pixels.

A montage's title names its input, its labels name kernels and its notes say how the maps were
made; each may be longer than the room it has, or hold a character the bundled font lacks.
:func:`fit` cuts a text to one line with an ellipsis (at its end, or in its middle where a name's
start and end tell it apart), :func:`wrap` breaks it over a few lines first, and
:func:`drawable` replaces what the font cannot draw.  Pure Pillow: no numpy.

Example
-------
>>> from PIL import Image, ImageDraw; draw = ImageDraw.Draw(Image.new("RGB", (1, 1)))
>>> fit(draw, "sobel_v_with_a_long_tail", sheet_font(13), 70, middle=True)
'sobel…_tail'
"""

from __future__ import annotations

import weakref
from collections import Counter
from collections.abc import Callable

from .numtext import path_line


def sheet_font(size: int):
    """Pillow's bundled font at ``size`` pixels (its fixed bitmap font where Pillow has no FreeType)."""
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=size)
    except (TypeError, ImportError, OSError):  # a Pillow without FreeType: the fixed bitmap font
        return ImageFont.load_default()


#: per font, whether it draws each character asked about (under None: its missing-glyph box)
_GLYPHS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _has_glyph(font, char: str) -> bool:
    """Whether ``font`` draws ``char`` as itself: Pillow's bitmap font (no FreeType) encodes Latin-1 alone, and
    the bundled FreeType font has a small character set, drawing the rest as its missing-glyph box."""
    from PIL import ImageFont

    if not isinstance(font, ImageFont.FreeTypeFont):
        return ord(char) < 256
    if char.isascii():
        return True
    known = _GLYPHS.get(font)
    if known is None:  # U+FFFF is a noncharacter, in no font: it is drawn as the missing-glyph box
        known = _GLYPHS[font] = {None: _mask(font, "\uffff")}
    if char not in known:
        box = known[None]
        known[char] = not box[1].strip(b"\0") or _mask(font, char) != box  # (a font that draws nothing: trusted)
    return known[char]


def _mask(font, text: str) -> tuple[tuple[int, int], bytes]:
    m = font.getmask(text)
    return m.size, bytes(m)


def drawable(text: str, font) -> str:
    r"""``text`` as ``font`` can draw it: a character it lacks becomes its base letters (``è`` -> ``e``, ``…`` ->
    ``...``), or ``?``.  The sheet's title names its input, and a missing glyph drew a box (``tr▯s_▯▯.png``).
    Control characters are escaped first, as a listing writes a name (:func:`kernelcli.numtext.path_line`, ``ls -b``):
    a line break in a file name made the title two lines, which Pillow refuses to measure.

    >>> drawable("très_名前.png", sheet_font(15)), drawable("two\nlines.png", sheet_font(15))
    ('tres_??.png', 'two\\nlines.png')
    """
    import unicodedata

    def one(char: str) -> str:
        if _has_glyph(font, char):
            return char
        base = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
        return base if base and base != char and all(_has_glyph(font, c) for c in base) else "?"

    return "".join(map(one, path_line(text)))


def fit(draw, text: str, font, width: int, middle: bool = False) -> str:
    """``text`` (:func:`drawable`), cut with an ellipsis so that it fits ``width`` pixels: at its end, or in its
    ``middle`` (a name keeps its start and its end, where names of one family differ: ``sobel_v``'s kin,
    ``..._one``/``..._two``)."""
    text = drawable(text, font)
    if draw.textlength(text, font=font) <= width:
        return text
    dots = drawable("…", font)
    head, tail = (text[: (len(text) + 1) // 2], text[(len(text) + 1) // 2 :]) if middle else (text, "")
    while head and draw.textlength(head + dots + tail, font=font) > width:
        if middle and len(tail) >= len(head):
            tail = tail[1:]
        else:
            head = head[:-1]
    return head + dots + tail


#: most lines one title or note is wrapped onto (past them, its longest words are shortened in the middle: :func:`wrap`)
MAX_WRAPPED_LINES = 4


def wrap(draw, text: str, font, width: int) -> list[str]:
    """``text`` broken at spaces into lines that fit ``width`` pixels once drawn (:func:`drawable`; at most
    :data:`MAX_WRAPPED_LINES`), a word wider than a line broken at any character (:func:`_pieces`): a one-kernel sheet
    is narrow, and its option line was cut at ``--kerne…``, the scale the maps were made with unread; a long file name
    in the title lost its end (``…_and_on.csv``) to an ellipsis.  A text that needs more lines has its longest word
    shortened in the middle, as a tile's label is (:func:`_shortened`): the name's end (its extension) and the
    command after it stay, where the last line was cut at its end.

    >>> from PIL import Image, ImageDraw; draw = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    >>> lines = wrap(draw, "a_long_file_name.csv", sheet_font(15), 60); len(lines) > 1, "".join(lines)
    (True, 'a_long_file_name.csv')
    """
    def fits(line: str) -> bool:
        return draw.textlength(drawable(line, font), font=font) <= width

    words = text.split(" ")
    lines = _wrapped(words, fits)
    if len(lines) <= MAX_WRAPPED_LINES:
        return [line for line, _ in lines]
    words = _shortened(draw, words, font, width, lambda shorter: len(_wrapped(shorter, fits)) <= MAX_WRAPPED_LINES)
    lines = _wrapped(words, fits)
    if len(lines) > MAX_WRAPPED_LINES:  # (words too many to fit even shortened: the last line is cut when drawn)
        rest = "".join(line if piece else f" {line}" for line, piece in lines[MAX_WRAPPED_LINES:])
        lines = lines[: MAX_WRAPPED_LINES - 1] + [(lines[MAX_WRAPPED_LINES - 1][0] + rest, False)]
    return [line for line, _ in lines]


def _wrapped(words: list[str], fits: Callable[[str], bool]) -> list[tuple[str, bool]]:
    """``words`` wrapped into lines that ``fits``, each with whether it continues a word broken across lines (its
    pieces are joined without a space: a name is one word).

    >>> _wrapped(["ab", "cdefgh", "i"], lambda line: len(line) <= 4)
    [('ab', False), ('cdef', False), ('gh i', True)]
    """
    lines: list[tuple[str, bool]] = [("", False)]
    for word in words:
        last, piece = lines[-1]
        joined = f"{last} {word}" if last else word
        if fits(joined):
            lines[-1] = (joined, piece)
        elif last and fits(word):
            lines.append((word, False))
        else:
            if last:
                lines.append(("", False))
            parts = _pieces(word, fits)
            lines[-1:] = [(part, n > 0) for n, part in enumerate(parts)]
    return lines


def _shortened(draw, words: list[str], font, width: int, enough: Callable[[list[str]], bool]) -> list[str]:
    """``words`` with the longest one wider than a ``width`` line cut in the middle (:func:`fit`), as little as makes
    them ``enough``; where even one line of it is not, it is cut to one line and the next such word is taken.  Words that
    fit a line are kept whole (prose is not turned into ellipses).

    >>> from PIL import Image, ImageDraw; draw = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    >>> words = ["x.png:", "a" * 40 + "_end.png:", "convolve"]
    >>> _shortened(draw, words, sheet_font(15), 80, lambda w: len(" ".join(w)) < 40)
    ['x.png:', 'aaaaaaaaaaa…aa_end.png:', 'convolve']
    """
    def drawn(word: str) -> int:
        return int(draw.textlength(drawable(word, font), font=font))

    words = list(words)
    for n in sorted((n for n, word in enumerate(words) if drawn(word) > width), key=lambda n: -drawn(words[n])):
        word = words[n]

        def cut(room: int) -> list[str]:
            return words[:n] + [fit(draw, word, font, room, middle=True)] + words[n + 1:]

        if not enough(cut(width)):
            words = cut(width)
            continue
        low, high = width, drawn(word)  # the widest room that is enough
        while low < high:
            room = (low + high + 1) // 2
            low, high = (room, high) if enough(cut(room)) else (low, room - 1)
        return cut(low)
    return words


def _pieces(word: str, fits: Callable[[str], bool]) -> list[str]:
    """``word`` broken at any character into pieces that ``fits`` (one character at least to a piece).

    >>> _pieces("abcdefg", lambda piece: len(piece) <= 3)
    ['abc', 'def', 'g']
    """
    pieces = [""]
    for char in word:
        if pieces[-1] and not fits(pieces[-1] + char):
            pieces.append(char)
        else:
            pieces[-1] += char
    return pieces


def distinct_labels(draw, names: list[str], font, width: int) -> list[str]:
    """The labels as drawn, fitted to ``width``: two tiles never look alike (two inline kernels were both
    ``inline_3x3``, two long names cut to one prefix): a label drawn twice is numbered, ``inline_3x3 (2)``."""
    fitted = [fit(draw, name, font, width, middle=True) for name in names]
    repeats, seen = Counter(fitted), Counter()
    for i, text in enumerate(fitted):
        if repeats[text] > 1:
            seen[text] += 1
            number = f" ({seen[text]})"
            fitted[i] = fit(draw, names[i], font, width - int(draw.textlength(number, font=font)), middle=True) + number
    return fitted
