"""Windowing: DICOM's linear VOI function and the usual CT presets.

``--window C,W`` (centre, width) or a preset maps values to 0..255 with DICOM's linear VOI
function (PS3.3 C.11.2.1.2.1).  Presets, from Radiopaedia's "Windowing (CT)" table
(https://radiopaedia.org/articles/windowing-ct): brain W:80 L:40, lungs W:1500 L:-600,
bone W:1800 L:400 (Radiopaedia's spine bone window; the older W:1500 L:300 is also common),
soft tissue W:350 L:50 (the mediastinum window).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from .. import numtext
from ..errors import UsageError

# (centre, width) in HU, declared with the other vocabularies (--help lists them without numpy)
from ..modes import WINDOW_ALIASES as _PRESET_ALIASES, WINDOW_PRESETS  # noqa: E402,F401

#: values windowed per step (bounds the float64 temporaries)
_WINDOW_CHUNK = 1 << 20



class Preset(tuple):
    """A preset's (centre, width) in HU, which keeps its name: a volume whose values are not HU is told.

    >>> Preset("brain", (40.0, 80.0)), Preset("brain", (40.0, 80.0)).name
    ((40.0, 80.0), 'brain')
    """

    def __new__(cls, name: str, window: tuple[float, float]) -> "Preset":
        preset = super().__new__(cls, window)
        preset.name = name
        return preset

    def __getnewargs__(self) -> tuple:  # (pickled to a batch's worker processes)
        return (self.name, tuple(self))


def preset_note(window: Any, path: Any, modality: str | None, units: str | None) -> str | None:
    """The note of a CT preset (HU) on a volume whose values are not said to be HU, else None.

    >>> preset_note(Preset("brain", (40.0, 80.0)), "mr.dcm", "MR", None)
    "--window brain is a CT preset in HU (40,80), and mr.dcm is MR, whose values are not HU: give --window CENTRE,WIDTH in the volume's own values"
    """
    if not isinstance(window, Preset) or units == "HU":
        return None
    what = f"is {modality}, whose values are not HU" if modality and modality != "CT" else "does not say its values are HU"
    return (f"--window {window.name} is a CT preset in HU ({window[0]:g},{window[1]:g}), and {Path(path).name} {what}: "
            "give --window CENTRE,WIDTH in the volume's own values")


def parse_window(text: str) -> tuple[float, float]:
    """``"C,W"`` (centre, width) or a preset name -> (centre, width) (a preset's as a :class:`Preset`).

    >>> parse_window("lung"), parse_window("40,400")
    ((-600.0, 1500.0), (40.0, 400.0))
    """
    key = str(text).strip().lower()
    key = _PRESET_ALIASES.get(key, key)
    if key in WINDOW_PRESETS:
        return Preset(key, WINDOW_PRESETS[key])
    parts = [s.strip() for s in key.split(",")]
    numbers = [numtext.decimal(s) for s in parts]
    if len(numbers) != 2 or None in numbers:
        presets = ", ".join(f"{name} ({c:g},{w:g})" for name, (c, w) in WINDOW_PRESETS.items())
        raise UsageError(f"invalid window {numtext.quoted(text)}: expected CENTRE,WIDTH in HU (e.g. 40,80) or a preset: {presets}")
    center, width = numbers
    if not (math.isfinite(center) and math.isfinite(width)) or width < 1:
        raise UsageError(f"invalid window {numtext.quoted(text)}: the width must be a number >= 1 (DICOM's rule) and both finite")
    return center, width


def apply_window(values: Any, center: float, width: float) -> np.ndarray:
    """Map values to uint8 0..255 with DICOM's linear VOI function (PS3.3 C.11.2.1.2.1).

    At or below ``c - 0.5 - (w-1)/2`` -> 0, above ``c - 0.5 + (w-1)/2`` -> 255, linear between
    (rounded).  Works in chunks, so a whole volume needs no float copy of itself.

    >>> apply_window(np.array([-1000, 0, 20, 40, 60, 80]), 40, 80)
    array([  0,   0,  65, 129, 194, 255], dtype=uint8)
    """
    return windowed(values, center, width)[0]


def windowed(values: Any, center: float, width: float) -> tuple[np.ndarray, int, int]:
    """:func:`apply_window`, and how many values lay below and above the window (saturated at 0 and 255),
    counted chunk by chunk as they are mapped.

    >>> windowed(np.array([-1000, 0, 20, 40, 60, 80]), 40, 80)[1:]
    (1, 1)
    """
    arr = np.asarray(values)
    if width < 1:
        raise UsageError(f"window width {width:g} must be >= 1")
    out = np.empty(arr.shape, dtype=np.uint8)
    flat_in = arr.reshape(-1)
    flat_out = out.reshape(-1)
    lo, hi = center - 0.5 - (width - 1) / 2, center - 0.5 + (width - 1) / 2
    below = above = 0
    for start in range(0, flat_in.size, _WINDOW_CHUNK):  # chunks: no float64 copy of a whole volume
        part = flat_in[start : start + _WINDOW_CHUNK].astype(np.float64)
        below += int(np.count_nonzero(part < lo))
        above += int(np.count_nonzero(part > hi))
        if width == 1:
            mapped = np.where(part > lo, 255.0, 0.0)
        else:
            mapped = ((part - (center - 0.5)) / (width - 1) + 0.5) * 255.0
        flat_out[start : start + _WINDOW_CHUNK] = np.clip(np.rint(mapped), 0, 255)
    return out, below, above


def stretched(values: Any, lo: float, hi: float) -> np.ndarray:
    """``values`` from ``lo`` (0) to ``hi`` (255) as uint8, linearly, chunk by chunk: the preview of a slice without a
    window.  Not a DICOM window of width ``hi - lo + 1``: that adds 1 to the range and takes it off again, which loses
    a range below about 1e-16 of its values to rounding (a ramp of 3e-16 came out a third saturated).  ``hi == lo``: black.

    >>> stretched(np.array([1000.0, 1001.0, 1004.0]), 1000.0, 1004.0)
    array([  0,  64, 255], dtype=uint8)
    """
    arr = np.asarray(values)
    out = np.zeros(arr.shape, dtype=np.uint8)
    if not hi > lo:
        return out
    flat_in, flat_out = arr.reshape(-1), out.reshape(-1)
    halves = not math.isfinite(hi - lo)  # (-1e308 .. 1e308: the same stretch in halves, which do not overflow)
    scale = 255.0 / ((hi / 2 - lo / 2) if halves else (hi - lo))
    for start in range(0, flat_in.size, _WINDOW_CHUNK):
        part = flat_in[start : start + _WINDOW_CHUNK].astype(np.float64)
        part = (part / 2 - lo / 2) if halves else (part - lo)
        flat_out[start : start + _WINDOW_CHUNK] = np.clip(np.rint(part * scale), 0, 255)
    return out
