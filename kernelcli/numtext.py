"""Numbers as a user types them: ASCII digits, an optional sign, and for decimals a point and an exponent.

Python's ``int()`` and ``float()`` also take ``1_000`` and digits of every script (``int("٣")`` is 3),
and a regular expression's ``\\d`` matches those digits too, so ``--stride 1_0`` ran with a stride of
10 and ``--then maxpool:٢`` pooled by 2 where ``box:1_0`` and ``shape --in 2_4`` were refused.  Every
number typed on the command line, in a kernel spec or in a text matrix is read here, the one way.

>>> whole("12"), whole(" -3 "), whole("1_2"), whole("٣")
(12, -3, None, None)
>>> decimal("1.5e3"), decimal(".5"), decimal("-inf"), decimal("1_0"), decimal("0x10")
(1500.0, 0.5, -inf, None, None)

Names go out as text here too: :func:`path_line` escapes a file name's control characters as ``ls -b`` does, for a
listing on stdout and for a name drawn on a sheet (:func:`kernelcli.sheet_text.drawable`).
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Sequence
from typing import Any

#: a whole number: ASCII digits with an optional sign
WHOLE = r"[+-]?[0-9]+"
#: a decimal number as ``float()`` reads it, ASCII only: ``1``, ``1.``, ``.5``, ``1.5e-3``
DECIMAL = r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
_WHOLE = re.compile(WHOLE)
_DECIMAL = re.compile(rf"{DECIMAL}|[+-]?(?:inf|infinity|nan)", re.IGNORECASE)
#: ``int()``'s own limit on digits (``sys.int_info.default_max_str_digits``): longer texts are not numbers
MAX_CHARS = 4300


def whole(text: str) -> int | None:
    """``text`` (surrounding spaces allowed) as an int, or None where it is not a plain whole number."""
    stripped = text.strip()
    if len(stripped) > MAX_CHARS or _WHOLE.fullmatch(stripped) is None:
        return None
    return int(stripped)


def whole_in_any_form(text: str) -> int | None:
    """``text`` as an int where it is a whole number in any decimal form, as every size, stride, padding and tile
    side is typed (``2``, ``+2``, ``2.0``, ``2e0``); None where it is none (``2.5``, ``two``).

    >>> whole_in_any_form(" 24 "), whole_in_any_form("2.4e1"), whole_in_any_form("-3.0"), whole_in_any_form("2.5")
    (24, 24, -3, None)
    """
    found = whole(text)  # (the usual digits need no decimal arithmetic)
    return found if found is not None else exact_whole(text)


def decimal(text: str) -> float | None:
    """``text`` (surrounding spaces allowed) as a float, or None where it is not a plain decimal number.

    ``inf`` and ``nan`` are numbers here, as for ``float()``: each caller says whether it takes them.  A decimal of any
    length is read (``float()`` has no limit on digits, where ``int()`` has :data:`MAX_CHARS`): 5,000 nines are
    infinity, as 4,000 are.

    >>> decimal("9" * 5000), decimal("0." + "0" * 5000 + "1")
    (inf, 0.0)
    """
    stripped = text.strip()
    if _DECIMAL.fullmatch(stripped) is None:
        return None
    return float(stripped)


#: how a value given non-zero that float64 reads as 0 is refused, typed (1e-400) or stored (1e-400L): :func:`below_range`
BELOW_RANGE = "below the float range"
#: the smallest magnitude float64 holds (its smallest subnormal, 4.94e-324), the one bound every message names
SMALLEST_HELD = "4.9e-324"
#: what such a value should be instead, where 0 is taken (a weight, ``--bias``); :data:`HELD_NON_ZERO` where it is not
HELD_NUMBER = f"expected a number float64 holds (at least {SMALLEST_HELD} in magnitude, or 0)"
HELD_NON_ZERO = f"expected a number float64 holds (at least {SMALLEST_HELD} in magnitude)"


def below_range(value: object, where: str = "", *, zero: bool = True) -> str:
    """The one sentence refusing a non-zero ``value`` (as typed or stored) that float64 reads as 0, ``where`` it is:
    a kernel weight, a weights or bias value, ``--bias`` or ``--pad-value``, typed or in a file, is refused in it.
    ``zero=False``: 0 is no answer either (``--kernel-scale``, a factor that must be non-zero, refused 0 after it
    was offered).

    >>> below_range("1e-400", "row 1, column 2")
    'row 1, column 2 is 1e-400 (below the float range), expected a number float64 holds (at least 4.9e-324 in magnitude, or 0)'
    >>> below_range("1e-400", zero=False)
    '1e-400 (below the float range), expected a number float64 holds (at least 4.9e-324 in magnitude)'
    """
    said = f"{where} is {value}" if where else str(value)
    return f"{said} ({BELOW_RANGE}), {HELD_NUMBER if zero else HELD_NON_ZERO}"


def underflows(text: str) -> bool:
    """True where ``text``, a decimal number that is not 0 as typed, reads as 0.0: below float64's smallest
    subnormal (about 4.9e-324).  A subnormal that keeps a value (``1e-320``) does not.

    >>> underflows("1e-400"), underflows("-2.5E-330"), underflows("0e-400"), underflows("1e-320"), underflows("0.0")
    (True, True, False, False, False)
    """
    mantissa = re.split(r"[eE]", text.strip(), maxsplit=1)[0]
    return any(c in "123456789" for c in mantissa) and decimal(text) == 0.0


def zeroed_by_scale(before: Sequence[float], after: Sequence[float], shape: Sequence[int]) -> str | None:
    """What a scale did to the non-zero weights it turned into 0 (below the float range), or None where it kept them:
    ``before`` and ``after`` the weights in order, of a matrix of ``shape``; the first is named by its position.

    >>> zeroed_by_scale([3.0, 1e-30], [3e-300, 0.0], (1, 2))
    'makes 1 of 2 non-zero weights 0 (below the float range), the first at (0, 1): 1e-30'
    >>> zeroed_by_scale([3.0, 0.0], [1.5, 0.0], (1, 2)) is None
    True
    """
    lost = [i for i, (b, a) in enumerate(zip(before, after)) if b != 0 and a == 0]
    if not lost:
        return None
    position, rest = [], lost[0]
    for side in reversed(shape):
        rest, index = divmod(rest, side)
        position.insert(0, index)
    nonzero = sum(1 for b in before if b != 0)
    return (f"makes {len(lost)} of {counted(nonzero, 'non-zero weight')} 0 ({BELOW_RANGE}), the first at "
            f"({', '.join(map(str, position))}): {shortest(before[lost[0]])}")


def shortest(value: float) -> str:
    """``value`` as the shortest text that reads back as the same float: the number a kernel is named by, whatever
    form it was typed in (``gaussian:2.0`` is ``gaussian:2``, ``gaussian:1.50mm`` is ``gaussian:1.5mm``).

    >>> shortest(2.0), shortest(1.5), shortest(0.1), shortest(1e20), shortest(1 / 3)
    ('2', '1.5', '0.1', '1e+20', '0.3333333333333333')
    """
    text = f"{value:g}"
    return text if float(text) == value else repr(float(value))


def exact_whole(text: str) -> int | None:
    """The whole number ``text`` denotes, exactly, in any decimal form (``12``, ``1.2e3``, ``9007199254740993.0``),
    or None where it is not a plain decimal number or not whole.

    >>> exact_whole("9.007199254740993e15"), exact_whole("-3.0"), exact_whole("1.5"), exact_whole("nan")
    (9007199254740993, -3, None, None)
    """
    stripped = text.strip()
    if len(stripped) > MAX_CHARS or _DECIMAL.fullmatch(stripped) is None or not any(c.isdigit() for c in stripped):
        return None  # (inf and nan have no digits)
    import decimal as exact

    value = exact.Decimal(stripped)
    if value.adjusted() > MAX_CHARS or value != value.to_integral_value():
        return None
    return int(value)


def whole_digits(text: str) -> int | None:
    """How many digits the whole number ``text`` denotes in any decimal form, or None where it denotes none: what
    an error can say of ``1e5000`` or of 5,000 nines, whole numbers too long for an int (past :data:`MAX_CHARS`
    digits, which ``int()`` refuses: such a text was "not a valid integer").

    >>> whole_digits("1e5000"), whole_digits("-2.50e1"), whole_digits("0e9"), whole_digits("2.5"), whole_digits("inf")
    (5001, 2, 1, None, None)
    >>> whole_digits("9" * 5000), whole_digits(" +0" + "9" * 5000 + ".0 ")
    (5000, 5000)
    """
    stripped = text.strip()
    if _WHOLE.fullmatch(stripped):  # (plain digits, of any length: counted, not read)
        return len(stripped.lstrip("+-").lstrip("0")) or 1
    if _DECIMAL.fullmatch(stripped) is None or not any(c.isdigit() for c in stripped):
        return None
    import decimal as exact

    value = exact.Decimal(stripped)
    if value != value.to_integral_value():
        return None
    return value.adjusted() + 1 if value else 1


#: whole numbers float64 holds exactly, every one of them: up to 2**53 in magnitude
EXACT_WHOLE = 2**53


def inexact_whole(value: object, where: str = "", held: str = "kernel weights are float64", rounded: int | None = None) -> str:
    """The one sentence refusing a whole number float64 would round (2**53 + 1 read as 2**53 in silence): ``value``
    as given (an int, or the text typed), ``where`` it is, what is float64 (``held``) and what float64 makes of it
    (``rounded``, by default ``int(float(value))``).

    >>> inexact_whole(2**53 + 1, "the value at (0, 1)")
    'the value at (0, 1) is 9007199254740993, which float64 reads as 9007199254740992: kernel weights are float64, exact for whole numbers up to 2**53'
    >>> inexact_whole("9007199254740993.0", held="bias values are float64")
    '9007199254740993.0, which float64 reads as 9007199254740992: bias values are float64, exact for whole numbers up to 2**53'
    """
    read = int(float(value)) if rounded is None else rounded  # type: ignore[arg-type]
    said = f"{where} is {value}" if where else str(value)
    return f"{said}, which float64 reads as {read}: {held}, exact for whole numbers up to 2**53"


def rounded_whole(text: str) -> int | None:
    """What float64 makes of the whole number ``text`` (in any decimal form) where that is another number (past
    2**53, an odd 9007199254740993 is read as 9007199254740992), else None: the caller refuses it rather than round
    in silence.

    >>> rounded_whole("9007199254740993"), rounded_whole("9007199254740993.0"), rounded_whole("9007199254740992")
    (9007199254740992, 9007199254740992, None)
    >>> rounded_whole("1.5"), rounded_whole("1e400"), rounded_whole("1e300")
    (None, None, None)
    """
    stripped = text.strip()
    plain = _WHOLE.fullmatch(stripped) is not None
    if len(stripped) < 16 and plain:  # (short plain digits are below 2**53)
        return None
    exact = exact_whole(stripped)
    if exact is None or abs(exact) <= EXACT_WHOLE or (not plain and abs(exact) > 2**64):
        return None  # (1e308 with a point or an exponent is a float's magnitude, not a count the integer types hold)
    value = float(stripped)
    if value in (float("inf"), float("-inf")) or int(value) == exact:
        return None  # (an overflow is refused as not finite)
    return int(value)


def beyond_float(value: int) -> str | None:
    """How a Python int past float64's range is named (its digits counted without ``str``, which refuses past 4,300
    digits), else None.

    >>> beyond_float(10**400), beyond_float(2**1023), beyond_float(-10**5000)
    ('an integer of 401 digits (beyond the float range)', None, 'an integer of 5001 digits (beyond the float range)')
    """
    try:
        float(value)
        return None
    except OverflowError:
        digits = int(abs(value).bit_length() * 0.30103) + 1
        while 10 ** (digits - 1) > abs(value):
            digits -= 1
        return f"an integer of {digits} digits (beyond the float range)"


def quoted(value: object, limit: int = 40) -> str:
    """``value`` as an error quotes it, its middle left out past ``limit`` characters (a 5000-digit ``--stride``
    was quoted whole: one line of 5,100 characters).

    >>> quoted("x"), quoted("1" * 100)
    ("'x'", "'11111111111111111111...11111111111111111111' (100 characters)")
    """
    text = repr(value)
    if len(text) <= limit:
        return text
    body = str(value)
    return f"'{body[:limit // 2]}...{body[-(limit // 2):]}' ({len(body)} characters)"


def clipped(text: str, limit: int = 40) -> str:
    """``text`` as a message shows it unquoted, its middle left out past ``limit`` characters, as :func:`quoted` does.

    >>> clipped("box:3"), clipped("box:" + "9" * 100)
    ('box:3', 'box:9999999999999999...99999999999999999999 (104 characters)')
    """
    if len(text) <= limit:
        return text
    return f"{text[:limit // 2]}...{text[-(limit // 2):]} ({len(text)} characters)"


def out_of_range(typed: object, low: float | None = None, high: float | None = None, *, above: bool = False,
                 read: float | None = None) -> str:
    """Click's words for a number outside an option's range, with the value as typed (``1``, not the ``1.0`` read
    from it); ``above``: ``low`` itself is out too.  ``read``: the float the text gave, named where it is not
    what was typed (``1e400`` reads as infinity; ``1e-400``, read as 0, is refused in :func:`below_range`'s
    sentence, as where 0 is in range: ``--lr 1e-400`` as ``--momentum 1e-400``).

    >>> out_of_range(" 1 ", 0.0, 0.999), out_of_range("0", 0, 20, above=True)
    ('1 is not in the range x>=0.0 and x<=0.999.', '0 is not in the range x>0 and x<=20.')
    >>> out_of_range("1e-400", 0, above=True, read=0.0)
    '1e-400 (below the float range), expected a number float64 holds (at least 4.9e-324 in magnitude) in the range x>0.'
    """
    text = typed.strip() if isinstance(typed, str) else repr(typed)
    shown = text if len(text) <= 40 else quoted(text)
    bounds = [f"x{'>' if above else '>='}{low}" if low is not None else "", f"x<={high}" if high is not None else ""]
    if read is not None and read == 0 and re.search(r"[1-9]", re.split(r"[eE]", text)[0]):
        return f"{below_range(shown, zero=False)} in the range {' and '.join(b for b in bounds if b)}."
    if read is not None and math.isinf(read) and not re.search(r"inf", text, re.IGNORECASE):
        shown = f"{shown} reads as infinity (over the largest float, 1.8e308):"
    else:
        shown = f"{shown} is"
    return f"{shown} not in the range {' and '.join(b for b in bounds if b)}."


def counted(n: int, noun: str) -> str:
    """``n`` and its noun, plural but for one: '1 channel', '3 channels'.

    >>> counted(1, "channel"), counted(3, "channel")
    ('1 channel', '3 channels')
    """
    return f"{n} {noun}{'' if n == 1 else 's'}"


def range_pair(lo: float, hi: float, digits: int = 3) -> tuple[str, str]:
    """``lo`` and ``hi`` as short text, with as many significant digits (at least ``digits``) as tell them apart
    and put each end within 1% of the range's width of its value, so that the range looks as wide as it is: a
    map from 1000 to 1004 was labelled ``[1e+03, 1e+03]``, one from 99999.5 to 100000.5 ``[99999.5, 100000]``.
    Exponents are written short (``3.3e3``).

    >>> range_pair(-4.0, 4.0), range_pair(1000.0, 1004.0), range_pair(99999.5, 100000.5)
    (('-4', '4'), ('1000', '1004'), ('99999.5', '100000.5'))
    >>> range_pair(-3340.0, 3339.0), range_pair(3e-7, 1.25e-5), range_pair(1.0, 1.0 + 2 ** -40)
    (('-3.34e3', '3.34e3'), ('3e-7', '1.25e-5'), ('1', '1.00000000000091'))
    """
    slack = (hi - lo) / 100
    for places in range(digits, 18):
        texts = (_short(lo, places), _short(hi, places))
        if lo == hi or texts[0] != texts[1] and all(abs(float(t) - v) <= slack for t, v in zip(texts, (lo, hi))):
            return texts
    return texts


def _short(value: float, places: int) -> str:
    """``value`` to ``places`` significant digits, an exponent without its ``+`` and leading zeros."""
    mantissa, e, exponent = f"{value:.{places}g}".partition("e")
    return f"{mantissa}e{int(exponent)}" if e else mantissa


class _Typed:
    """A value that remembers its text and option as typed (``--pad-value 3e2``: 300.0, typed ``3e2``; ``--pad-mode
    zeros``: ``constant``, typed ``zeros``), equal to the value everywhere else, for a check or refusal made later: the
    value as typed, under the option's name."""

    typed: str
    option: str

    def __reduce__(self) -> tuple:  # (a batch's workers get it pickled)
        return (typed_value, (self.__class__.__mro__[2](self), self.typed, self.option))


class TypedFloat(_Typed, float):
    """A float that remembers its text (:class:`_Typed`)."""


class TypedInt(_Typed, int):
    """An int that remembers its text (:class:`_Typed`)."""


class TypedStr(_Typed, str):
    """A vocabulary's word that remembers the alias typed for it (:class:`_Typed`)."""


def typed_value(value: float | int | str, text: str, option: str) -> float | int | str:
    """``value`` as a :class:`TypedFloat`, :class:`TypedInt` or :class:`TypedStr` remembering ``text`` and ``option``.

    >>> v = typed_value(300.0, " 3e2 ", "--pad-value"); (v == 300, v.typed, v.option)
    (True, '3e2', '--pad-value')
    >>> w = typed_value("constant", "zeros", "--pad-mode"); (w == "constant", w.typed)
    (True, 'zeros')
    """
    made = (TypedInt if isinstance(value, int) else TypedStr if isinstance(value, str) else TypedFloat)(value)
    made.typed, made.option = text.strip(), option
    return made


def unshown_character(text: str) -> str | None:
    r"""The first character of ``text`` that a terminal or a line-by-line reader does not take as written, and where:
    a control character (C0, DEL, C1: an escape sequence, a bell, NUL, NEL) or a Unicode line or paragraph separator
    (which ``splitlines`` and a table cut at); None where there is none.

    >>> print(unshown_character("src \x1b]0;title"), unshown_character("a\u2028b"), unshown_character("3 × 3"))
    the control character \x1b at column 5 the line separator \u2028 at column 2 None
    """
    import unicodedata

    for column, c in enumerate(text, 1):
        kind = unicodedata.category(c)
        if kind in ("Cc", "Zl", "Zp"):
            named = "the control character" if kind == "Cc" else f"the {unicodedata.name(c).lower()}"
            return f"{named} {ascii(c)[1:-1]} at column {column}"
    return None


def path_line(path: Any) -> str:
    r"""A path as one line of a listing on stdout, its control characters escaped as ``ls -b`` escapes them (a line
    break ``\n``, a tab ``\t``, ESC ``\033``) and so a backslash ``\\``: a script reading the listing line by line
    gets one name per line and can tell a line break from a backslash and an ``n``, and a terminal shows the name.

    >>> print(path_line("in/new\nline_sobel_v.png"), path_line("in/new\\nline_sobel_v.png"), path_line("a\x1b[31m.png"))
    in/new\nline_sobel_v.png in/new\\nline_sobel_v.png a\033[31m.png
    >>> path_line(os.fsdecode(b"caf\xe9.png")), path_line("a\x85b.png")  # a Latin-1 name on a UTF-8 system; NEL
    ('caf\\351.png', 'a\\302\\205b.png')
    """
    text = str(path)
    if text.isprintable() and "\\" not in text:
        return text
    return "".join(_LS_ESCAPES.get(c) or "".join(f"\\{b:03o}" for b in _escaped_bytes(c)) or c for c in text)


def _escaped_bytes(c: str) -> bytes:
    """The bytes ``ls -b`` writes as ``\\ooo`` for ``c``: a control character (C0, DEL, and C1 such as NEL, which
    Python's ``splitlines`` takes for a line break) in the file system's bytes, or a byte of the name that is not text
    there (Python holds it as a surrogate, which a terminal cannot show); else none."""
    code = ord(c)
    return os.fsencode(c) if code < 32 or 127 <= code <= 159 or 0xDC80 <= code <= 0xDCFF else b""


#: the characters ``ls -b`` writes as C escapes (the other control characters: ``\ooo``)
_LS_ESCAPES = {"\\": "\\\\", "\a": "\\a", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\v": "\\v", "\f": "\\f", "\r": "\\r"}
