"""The JSON text of a kernel file (and of an inline JSON kernel), read exactly: a number float64 cannot hold kept as
its text (:class:`_NotFinite`: NaN, Infinity, 1e400, 1e-400) for the validator to name, a whole number float64 would
round kept exact, a key given twice remembered.  Split from :mod:`kernelcli.catalog_format` (the validation).

>>> _parse_json('{"matrix": [[1e-400, 9007199254740993]]}', "k.json")["matrix"][0][1]
9007199254740993
>>> str(_parse_json('[1e400]', "k.json")[0])
'1e400 (beyond the float range)'
"""

from __future__ import annotations

import json
import math
from typing import Any

from .errors import InvalidKernel
from .numtext import BELOW_RANGE, EXACT_WHOLE, exact_whole, rounded_whole, underflows


class _NotFinite:
    """A JSON number that is not a finite float (NaN, Infinity, 1e400), kept as its text."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    @property
    def below(self) -> bool:
        """True for a non-zero number float64 reads as 0 (1e-400), False for NaN, infinities and 1e400."""
        return self.text not in ("NaN", "Infinity", "-Infinity") and underflows(self.text)

    def __str__(self) -> str:
        shown = self.text if len(self.text) <= 24 else self.text[:20] + "..."
        if self.text in ("NaN", "Infinity", "-Infinity"):
            return shown
        return f"{shown} ({BELOW_RANGE if self.below else 'beyond the float range'})"


class _Object(dict):
    """A JSON object that remembers keys given twice (json itself keeps only the last)."""

    duplicates: tuple[str, ...] = ()


def _object_pairs(pairs: list[tuple[str, Any]]) -> _Object:
    obj = _Object(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        repeated = [key for key, _ in pairs if key in seen or seen.add(key)]
        obj.duplicates = tuple(dict.fromkeys(repeated))
    return obj


def _parse_float(text: str) -> float | int | _NotFinite:
    value = float(text)
    if not math.isfinite(value) or value == 0 and underflows(text):  # (1e-400 was a weight of 0 in silence)
        return _NotFinite(text)
    if abs(value) >= EXACT_WHOLE:  # a whole number float64 rounds (9007199254740993.0, 1e23): the exact int, which the
        # weights' check refuses as the integer literal and the inline form
        if rounded_whole(text) is not None:
            return exact_whole(text)
    return value


def _parse_int(text: str) -> int | _NotFinite:
    if len(text) > 330:  # far beyond float range; also stays under int()'s digit limit
        return _NotFinite(text)
    value = int(text)
    try:
        float(value)
    except OverflowError:
        return _NotFinite(text)
    return value


def _parse_json(text: str, label: str) -> Any:
    try:
        return json.loads(
            text,
            object_pairs_hook=_object_pairs,
            parse_float=_parse_float,
            parse_int=_parse_int,
            parse_constant=_NotFinite,
        )
    except json.JSONDecodeError as exc:
        raise InvalidKernel(f"{label}: not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") from None
    except RecursionError:
        raise InvalidKernel(f"{label}: not valid JSON for a kernel: lists or objects nested too deeply") from None
