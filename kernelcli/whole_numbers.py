"""Whole numbers a caller gives for sizes, strides, paddings and flags: taken as ints, or refused in one wording.

Every formula in :mod:`kernelcli.shapes`, every array function and every command reads its sizes through these, so a
stride of 0, a kernel of -1, a 40-digit size or ``ceil_mode="no"`` is refused the same way everywhere. Pure Python
(no numpy): ``shape``, ``params`` and ``summary`` import it.

>>> check_positive("stride", 2), normalize_sequence(3, 2, "dilation")
(2, (3, 3))
>>> str(refused_value("--size", "0", low=1))
"Invalid value for '--size': 0 is not in the range x>=1."
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from typing import Any

from . import numtext
from .errors import UsageError


class BadValue(UsageError):
    """A value its option's range or grammar refuses, in Click's words for a bad value: ``Invalid value for
    '--size': 0 is not in the range x>=1.``  ``option`` and ``detail`` are kept apart, so that the command line
    names every spelling of the option and its help, as Click does (``kernelcli.cli._value_refused.value_refused``),
    whether the option's parser or the command refused it.

    >>> str(refused_value("--size", "0", low=1)), refused_value("--size", "0x3", "every size must be an integer >= 1").detail
    ("Invalid value for '--size': 0 is not in the range x>=1.", "'0x3': every size must be an integer >= 1")
    """

    def __init__(self, option: str, detail: str) -> None:
        super().__init__(f"Invalid value for '{option}': {detail}")
        self.option, self.detail = option, detail

    def __reduce__(self) -> tuple[Any, ...]:  # (pickled to a worker's caller with its two parts)
        return (type(self), (self.option, self.detail))


def refused_value(option: str, text: str, why: str | None = None, *, low: int | None = None) -> BadValue:
    """The one wording of a typed value an option refuses: a number under ``low`` in Click's range sentence
    (``why`` None), any other text (``0x3``, ``1,2,3,-1``) as typed, then ``why``."""
    if why is None:
        return BadValue(option, numtext.out_of_range(text, low))
    return BadValue(option, f"{numtext.quoted(text)}: {why}")


def check_positive(name: str, value: int) -> int:
    """Return ``value`` (an int, a numpy integer too) if it is an integer >= 1, else raise a UsageError naming it."""
    return whole(name, value, 1)


def check_nonnegative(name: str, value: int) -> int:
    """Return ``value`` if it is an integer >= 0 (a padding), else raise a UsageError naming it."""
    return whole(name, value, 0)


#: digits a size may have: a real layer has a handful, and a product of a few 30-digit sizes still
#: prints (Python refuses to print an int of more than 4300 digits; ``params`` crashed there)
MAX_DIGITS = 30


#: the largest size :func:`whole` takes
MAX_SIZE = 10**MAX_DIGITS - 1


def whole(name: str, value: Any, minimum: int) -> int:
    """``value`` as an int (a numpy integer too) of at least ``minimum``, else a UsageError naming it: the formulas
    below gave numbers for a stride of -1, a kernel of 0 or a negative channel count, and divided by a stride of 0.

    >>> whole("stride", 0, 1)
    Traceback (most recent call last):
    ...
    kernelcli.errors.UsageError: stride must be an integer >= 1, got 0
    """
    try:
        whole = operator.index(value) if not isinstance(value, bool) else None
    except TypeError:
        whole = None
    if whole is not None and abs(whole) > MAX_SIZE:
        digits = int(abs(whole).bit_length() * 0.30103) + 1  # never too few (str() refuses ints past 4300 digits)
        while 10 ** (digits - 1) > abs(whole):
            digits -= 1
        raise UsageError(f"{name} must be an integer of at most {MAX_DIGITS} digits, got one of {digits}")
    if whole is None or whole < minimum:
        raise UsageError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return whole


def is_bool(value: Any) -> bool:
    """True for a bool, numpy's too (told by its type's name: no numpy import here).

    >>> is_bool(True), is_bool(1)
    (True, False)
    """
    return isinstance(value, bool) or (type(value).__module__ == "numpy" and type(value).__name__ in ("bool", "bool_"))


def flag(name: str, value: Any) -> bool:
    """``value`` if it is a bool (numpy's too), else a UsageError: ``ceil_mode="no"`` counted as true.

    >>> flag("bias", 1)
    Traceback (most recent call last):
    ...
    kernelcli.errors.UsageError: bias must be True or False, got 1
    """
    if is_bool(value):
        return bool(value)
    raise UsageError(f"{name} must be True or False, got {value!r}")


def below_floor(number: int | str | None, low: int | None) -> bool:
    """True where ``number`` (an int, or a whole number's text in any form: ``-1e40``, ``-1e5000``) is below
    ``low``, its option's floor (None: it has none).  Such a number is refused by the floor in Click's range
    sentence however many digits it has (``-f -1e40`` as ``-f -1``: "not in the range x>=1"), never by its digit
    count: the integer options' parser (:mod:`kernelcli.cli._lean`) and the size and width forms
    (:func:`too_many_digits`) ask this one question.

    >>> below_floor("-1e40", 1), below_floor(-(10**40), 0), below_floor("-1e5000", 0), below_floor("1e40", 1)
    (True, True, True, False)
    """
    if number is None or low is None:
        return False
    if isinstance(number, str):
        value = numtext.whole_in_any_form(number)
        if value is None:  # (past int's 4300 digits, 1e5000: below any floor a size has exactly when negative)
            return number.strip().startswith("-") and numtext.whole_digits(number) is not None
        number = value
    return number < low


def too_many_digits(numbers: Sequence[Any], what: str, *, low: int | None = None) -> str | None:
    """The one refusal of a whole number past :data:`MAX_DIGITS` digits (``what``: ``size``, ``width``), for the
    longest of ``numbers`` (ints, or whole numbers' texts in any form), or None: a ``pad -p 1e400`` printed its 401-digit widths four times.
    A number below ``low``, the floor, is left to the floor's refusal (:func:`below_floor`).

    >>> too_many_digits(["3", 10**40], "width")
    'a width of 41 digits (100000000000...); expected at most 30 digits'
    >>> too_many_digits([3, "0007"], "size") is None, too_many_digits([-(10**40)], "width", low=0) is None
    (True, True)
    """
    counts = [_digits_and_lead(n) for n in numbers if not below_floor(n, low)]
    digits, lead = max((count for count in counts if count is not None), default=(0, ""))
    if digits <= MAX_DIGITS:
        return None
    return _digits_said(what, digits, lead)


def whole_or_too_long(text: str) -> int | str | None:
    """``text`` as an int where it is a whole number in any form (:func:`kernelcli.numtext.whole_in_any_form`), the
    text itself where it is one too long for an int (past ``int()``'s 4,300 digits: :func:`too_many_digits` counts
    it, :func:`below_floor` compares it), else None: the sizes, widths and tile sides typed read their parts with it,
    so that 5,000 nines are "a width of 5000 digits" as 4,000 are, not a text of the wrong form.

    >>> whole_or_too_long(" 2.0"), whole_or_too_long("9" * 5000) == "9" * 5000, whole_or_too_long("2.5")
    (2, True, None)
    """
    value = numtext.whole_in_any_form(text)
    if value is None and numtext.whole_digits(text) is not None:
        return text
    return value


def _digits_and_lead(number: Any) -> tuple[int, str] | None:
    """How many digits the whole ``number`` has (an int, or its text in any form, however long) and its first 12
    (zeros after those typed: ``1e40``'s ``100000000000``), or None for a text that is no whole number."""
    if not isinstance(number, str):
        said = str(number).lstrip("+-").lstrip("0")
        return len(said), said[:12]
    digits = numtext.whole_digits(number)
    if digits is None:
        return None
    import decimal

    coefficient = "".join(map(str, decimal.Decimal(number.strip()).as_tuple().digits)).lstrip("0")
    return digits, (coefficient + "0" * 12)[:min(12, digits)]


def too_long(text: str) -> str | None:
    """The refusal of a whole number typed in any form past :data:`MAX_DIGITS` digits (``1e40``, forty-one
    digits, ``1e5000``), the value as typed first, in the words of :func:`too_many_digits`; None for any other
    text.  Every integer option's parser (:mod:`kernelcli.cli._lean`) refuses with it, before any input is read: a
    ``pool --stride 1e40`` was refused per input, blamed on the file.

    >>> too_long("1e40")
    "'1e40': an integer of 41 digits (100000000000...); expected at most 30 digits"
    >>> too_long("-2.5e31"), too_long("1" * 30), too_long("2.5")
    ("'-2.5e31': an integer of 32 digits (250000000000...); expected at most 30 digits", None, None)
    """
    said = too_many_digits([text], "integer")
    return None if said is None else f"{numtext.quoted(text)}: {said}"


def _digits_said(what: str, digits: int, lead: str) -> str:
    article = "an" if what[0] in "aeiou" else "a"
    return f"{article} {what} of {digits} digits ({lead}...); expected at most {MAX_DIGITS} digits"


def integer_value(value: Any) -> int | None:
    """``value`` as an int when it is an integer (numpy integers too, not bools), else None.

    >>> integer_value(7), integer_value(True), integer_value(7.0)
    (7, None, None)
    """
    if is_bool(value):
        return None
    try:
        return operator.index(value)
    except TypeError:
        return None


def sequence_items(value: Any) -> list | None:
    """The items of a list, a tuple or a 1-D numpy array (told by its type: no numpy import here), else None.

    >>> sequence_items((3, 8)), sequence_items("38"), sequence_items(3)
    ([3, 8], None, None)
    """
    if isinstance(value, list | tuple):
        return list(value)
    if type(value).__module__ == "numpy" and getattr(value, "ndim", None) == 1:
        return value.tolist()  # (plain ints and floats, bools kept bools: checked as the list's would be)
    return None


def normalize_sequence(value: Any, rank: int, name: str, minimum: int = 1) -> tuple[int, ...]:
    """An int or ``rank`` ints as a ``rank``-tuple of ints, each >= ``minimum``, or a UsageError naming ``name``.

    >>> normalize_sequence((1, 2), 2, "dilation")
    (1, 2)
    """
    if type(value) is int and value >= minimum:  # the common case, without the checks below (a few microseconds)
        return (value,) * rank
    single = integer_value(value)
    if single is not None:
        items: tuple[Any, ...] = (single,) * rank
    else:
        try:
            items = tuple(value)
        except TypeError:
            items = ()
    ints = tuple(integer_value(v) for v in items)
    what = {2: "a pair of integers", 3: "three integers (z, y, x)"}.get(rank, f"{rank} integers")
    if len(ints) != rank or any(v is None for v in ints):
        raise UsageError(f"{name} must be an integer or {what}, got {value!r}")
    if any(v < minimum for v in ints):  # type: ignore[operator]
        raise UsageError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return ints  # type: ignore[return-value]
