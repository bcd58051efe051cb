"""What :func:`kernelcli.learn.learn_kernel` answers and how it is shown: the result records, rounded values, the text grid, the kernel-file JSON document.

Split from :mod:`kernelcli.learn`, which re-exports every name.
"""

from __future__ import annotations

import json
import math
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import numpy as np

from .learn_options import POOR_FIT, LearnOptions
from .numtext import path_line
from .records import field, record


@record
class LstsqFit:
    """The least-squares answer and how well determined it is (worst group for rank/condition; the relative
    residual pooled over the groups, and each group's on its own)."""

    kernel: np.ndarray
    bias: np.ndarray | None
    rank: int
    unknowns: int
    condition: float
    mse: float
    relative_residual: float
    relative_residuals: list[float] = field(default_factory=list)


@record
class LearnResult:
    """A learned kernel and the facts about how it was learned.

    ``kernel`` is (kh, kw) for one kernel, (C, kh, kw) for ``per-channel`` with C > 1 (one
    kernel per channel) and for ``sum`` (one 3-D kernel).  ``bias`` is None without
    ``bias=True``, else one value per kernel.  ``history`` is the mean training loss of
    each epoch (``gd`` only); ``loss`` is the final MSE over all windows, in target units.
    A tap under its kernel's noise floor (:func:`kernelcli.learn_judge.tap_floors`) is 0 in ``kernel``.
    ``relative_residual`` is pooled over every channel; ``relative_residuals`` holds one per kernel
    learned (each channel's own under ``per-channel``), and the worst of them decides :attr:`fits`.
    """

    kernel: np.ndarray
    bias: np.ndarray | None
    method: str
    combine: str
    channels: int
    loss: float
    relative_residual: float
    lstsq: LstsqFit
    relative_residuals: list[float] = field(default_factory=list)
    history: list[float] = field(default_factory=list)
    lrs: list[float] = field(default_factory=list)
    max_diff_vs_lstsq: float | None = None
    windows_used: int = 0
    windows_total: int = 0
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: what the messages call one of the planes the kernels are per (``"slice"``: a volume's), from ``learn_kernel(plane=)``
    plane: str = "channel"

    @property
    def size(self) -> tuple[int, int]:
        """(kh, kw)."""
        return tuple(self.kernel.shape[-2:])  # type: ignore[return-value]

    @property
    def fits(self) -> bool:
        """True when the kernel explains the target: every channel's relative residual at most :data:`POOR_FIT`."""
        return max(self.relative_residuals, default=self.relative_residual) <= POOR_FIT

    def history_summary(self, points: int = 20) -> dict[str, Any]:
        """First, last and lowest epoch loss, and at most ``points`` (epoch, loss) pairs."""
        if not self.history:
            return {"epochs": 0}
        h = self.history
        best = int(np.argmin(h))
        picks = sorted({int(round(i)) for i in np.linspace(0, len(h) - 1, min(points, len(h)))})
        return {
            "epochs": len(h), "first": h[0], "last": h[-1], "min": h[best], "min_epoch": best + 1,
            "curve": [[i + 1, h[i]] for i in picks],
        }

    def _cleaned(self, values: np.ndarray) -> Any:
        """:func:`clean_values` of a kernel or bias, each channel on its own scale where each was fitted alone
        (per-channel), as the ``--out`` file holds them: a channel of 1e13 made another's taps 0."""
        if (self.combine == "per-channel" and self.channels > 1 and np.ndim(values) >= 1) or np.ndim(values) == 3:
            return [clean_values(v) for v in values]  # (a sum's channels multiply other data: each on its own scale too)
        return clean_values(values)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready summary (kernel rounded to 10 significant digits)."""
        fit = self.lstsq
        return {
            "method": self.method,
            "combine": self.combine,
            "size": list(self.size),
            "channels": self.channels,
            "kernel": self._cleaned(self.kernel),
            "bias": None if self.bias is None else self._cleaned(self.bias),
            "loss": self.loss,
            "relative_residual": self.relative_residual,
            "relative_residuals": list(self.relative_residuals),
            "fits": self.fits,
            "history": self.history_summary(),
            "lstsq": {
                "rank": fit.rank, "unknowns": fit.unknowns, "condition": fit.condition,
                "loss": fit.mse, "relative_residual": fit.relative_residual, "relative_residuals": list(fit.relative_residuals),
            },
            "max_diff_vs_lstsq": self.max_diff_vs_lstsq,
            "windows": {"used": self.windows_used, "total": self.windows_total},
            "seconds": round(self.seconds, 6),  # as every record rounds it
            "warnings": list(self.warnings),
            "notes": list(self.notes),
        }


# ---------------------------------------------------------------- the equation system
# ---------------------------------------------------------------- presenting the answer


def format_value(v: float, decimals: int = 6) -> str:
    """A number rounded to ``decimals`` places, without trailing zeros; -0 is 0.

    >>> format_value(-0.0000001), format_value(2.0), format_value(1 / 3), format_value(-1.5)
    ('0', '2', '0.333333', '-1.5')
    """
    text = f"{round(float(v), decimals):.{decimals}f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


#: stdout shows a kernel to this many digits below the first digit of its largest tap (7 significant digits there)
SHOWN_DIGITS = 6
#: a kernel whose largest tap lies outside [1e-8, 1e8) is shown in exponent form: fixed, Sobel x 1e300 ran to 301 digits
FIXED_RANGE = (1e-8, 1e8)


def last_place(values: Any, digits: int = SHOWN_DIGITS) -> int | None:
    """The power of ten of the last digit :func:`format_values` shows: ``digits`` below the first digit of the
    largest finite magnitude; None where there is none but 0.

    >>> last_place([0.5, -2.0]), last_place([3e-7, 1e-8]), last_place([2e20, 1.0]), last_place([0.0])
    (-6, -13, 14, None)
    """
    flat = np.abs(np.asarray(values, dtype=np.float64)).ravel()
    largest = float(np.max(flat[np.isfinite(flat)], initial=0.0))
    return Decimal(largest).adjusted() - digits if largest > 0 else None


def format_values(values: Any, digits: int = SHOWN_DIGITS) -> list[str]:
    """Each of ``values`` rounded to the same last place, ``digits`` below the first digit of the largest
    (:func:`last_place`), without trailing zeros, -0 as 0; in exponent form where the largest is outside
    :data:`FIXED_RANGE`.  Float64 holds about 16 significant digits: rounding at a fixed number of decimals
    showed a tap of 0 beside 1e20 as -32814.729445, where --json holds 0.

    >>> format_values([3e-7, 1.00000001e-8, -4e-15])
    ['0.0000003', '0.00000001', '0']
    >>> format_values([2.0000000000000026e20, -32814.729445, -1.5e20]), format_values([255.123456789, 1])
    (['2e+20', '0', '-1.5e+20'], ['255.1235', '1'])
    """
    flat = np.asarray(values, dtype=np.float64).ravel()
    place = last_place(flat, digits)
    if place is None:  # (zeros, or nothing finite)
        return [format_value(v) for v in flat]
    unit = Decimal(1).scaleb(place)
    exponent = not FIXED_RANGE[0] <= 10.0 ** (place + digits) < FIXED_RANGE[1]
    texts = []
    for v in flat:
        if not math.isfinite(v):
            texts.append(format_value(v))
            continue
        d = Decimal(float(v)).quantize(unit, rounding=ROUND_HALF_EVEN)  # (exact: the float's own decimal, rounded once)
        text = "0" if d.is_zero() else f"{d.normalize():e}" if exponent else f"{d:f}"
        texts.append(text.rstrip("0").rstrip(".") if "." in text and "e" not in text else text)
    return texts


def format_kernel(kernel: np.ndarray, digits: int = SHOWN_DIGITS, plane: str = "channel") -> str:
    """A 2-D matrix as right-aligned columns of :func:`format_values` (each to ``digits`` below the first digit of
    its largest magnitude); 3-D as one block per channel, each on its own scale, headed ``plane N:`` (``"slice"``
    for a volume's slices).

    >>> print(format_kernel(np.array([[1.0, -0.0, -1.0000000001], [0.5, 2, 0]])), end="")
      1   0  -1
    0.5   2   0
    >>> print(format_kernel(np.array([[2e-8, -1e-7]])), end="")
    0.00000002 -0.0000001
    >>> print(format_kernel(np.array([[1e20, 20480.0, -1e20]])), end="")
     1e+20      0 -1e+20
    """
    k = np.asarray(kernel)
    if k.ndim == 3:
        return "\n".join(f"{plane} {c}:\n" + format_kernel(k[c], digits) for c in range(k.shape[0]))
    texts = format_values(k, digits)
    cells = [texts[i * k.shape[-1]:(i + 1) * k.shape[-1]] for i in range(k.shape[0])]
    width = max(len(c) for row in cells for c in row)
    return "".join(" ".join(c.rjust(width) for c in row) + "\n" for row in cells)


def clean_values(values: Any, digits: int = 10) -> Any:
    """Nested lists of numbers for JSON: ``digits`` significant digits, whole numbers as int, -0 as 0.

    Values below 1e-12 of the largest magnitude are rounding noise of the solver and become 0.

    >>> clean_values(np.array([[1.0000000000002, -0.0], [0.1 + 0.2, 2.5e-17]]))
    [[1, 0], [0.3, 0]]
    """
    arr = np.asarray(values, dtype=np.float64)
    largest = float(np.max(np.abs(arr))) if arr.size else 0.0
    arr = np.where(np.abs(arr) < 1e-12 * largest, 0.0, arr)

    def clean(item: np.ndarray) -> Any:
        if item.ndim == 0:
            v = float(f"{float(item):.{digits}g}")
            return 0 if v == 0 else (int(v) if v.is_integer() and abs(v) < 1e15 else v)
        return [clean(v) for v in item]

    return clean(arr)


def residual_text(pooled: float, each: Any, channels: bool, plane: str = "channel") -> str:
    """A fit's relative residual in words: pooled over the target, and where ``channels`` (several fitted alone)
    the worst channel's (``plane``'s: a volume's slice) on its own scale, which the pooled one hides behind a channel
    of larger spread.

    >>> residual_text(0.000286, [1e-15, 2e-15, 1.08], True)
    "residual 0.0286% of the target's std (worst channel 2: 108% of its std)"
    """
    text = f"residual {100 * pooled:.3g}% of the target's std"
    if channels and len(each) > 1:
        worst = int(np.argmax(each))
        text += f" (worst {plane} {worst}: {100 * each[worst]:.3g}% of its std)"
    return text


def channel_words(groups: Any, plane: str = "channel") -> str:
    """Channels (or a volume's slices: ``plane`` "slice") named in a message: 'channel 2', 'channels 0 and 2', 'slices 0, 1 and 2'.

    >>> channel_words([2]), channel_words([0, 2]), channel_words([0, 1, 2], "slice")
    ('channel 2', 'channels 0 and 2', 'slices 0, 1 and 2')
    """
    numbers = [str(int(g)) for g in groups]
    if len(numbers) == 1:
        return f"{plane} {numbers[0]}"
    return f"{plane}s {', '.join(numbers[:-1])} and {numbers[-1]}"


def kernel_name(text: str) -> str:
    """A catalogue-valid name (lower-case letters, digits, underscores, at most 64) from free text.

    >>> kernel_name("My Sobel-v (learned)")
    'my_sobel_v_learned'
    """
    import re

    name = re.sub(r"[^a-z0-9_]+", "_", text.lower()).strip("_")[:64].strip("_")
    return name or "learned"




#: longest kernel name a kernel file takes (kernelcli.catalog_format.MAX_NAME_LENGTH: a layer below may not import it)
MAX_NAME_LENGTH = 64


def channel_kernel_names(name: str, channels: int, plane: str = "channel") -> list[str]:
    """The names of a per-channel family's kernels: ``NAME_c0``, ``NAME_c1``, ..., each at most 64 characters
    (a volume's per-slice kernels, ``plane`` "slice": ``NAME_s0``, ...).

    The base name is shortened before the suffix is added, so a long name still gives
    distinct names (cutting ``NAME_c0`` itself at 64 would give them all the same one).

    >>> channel_kernel_names("rgb", 3)
    ['rgb_c0', 'rgb_c1', 'rgb_c2']
    >>> names = channel_kernel_names("k" * 64, 11)
    >>> len(set(names)), max(len(n) for n in names), names[10][-5:]
    (11, 64, 'k_c10')
    """
    letter = plane[0]
    suffix = len(f"_{letter}{channels - 1}")
    base = name[: MAX_NAME_LENGTH - suffix]
    base = base.rstrip("_") or base
    return [f"{base}_{letter}{c}" for c in range(channels)]


def _number_text(value: float) -> str:
    """A value as convolve's options take it: 10 significant digits, whole numbers without a point."""
    return str(clean_values(np.asarray(value, dtype=np.float64)))


def _word(option: str, value: str) -> str:
    # "--bias -3" would read -3 as an option: a negative value is attached with "="
    return f"{option}={value}" if value.startswith("-") else f"{option} {value}"


def convolve_options(options: LearnOptions, bias: Any = None, layout: str | None = None) -> list[str]:
    """The ``convolve`` options (besides ``--kernel``) under which the kernel file gives the target.

    Only options away from convolve's defaults are named; ``--flip`` never is, because the
    file holds the correlation kernel (see :func:`file_kernel`).  ``bias`` is one value
    (or one per kernel) for ``--bias``.  ``layout`` is the ``--layout`` a 3-D input was read with
    (:func:`convolve_layout`): without it convolve reads the array another way, or refuses it.

    >>> convolve_options(LearnOptions(size=3, padding="valid", stride=2), bias=[-1.5])
    ['--padding valid', '--stride 2', '--bias=-1.5']
    >>> convolve_options(LearnOptions(size=3)), convolve_options(LearnOptions(size=3, combine="sum"), layout="zyx")
    ([], ['--layout chw'])
    """
    words = [] if layout is None else [_word("--layout", convolve_layout(layout, options.combine))]
    padding = options.padding_text()
    if padding != "same":
        words.append(_word("--padding", padding))
    if any(_pad_widths(options)):  # without padding the pad mode and value change nothing
        if options.pad_mode != "constant":
            words.append(_word("--pad-mode", options.pad_mode))
        elif options.pad_value != 0:
            # as typed where it was (review 52 #9: the note said 1000000000000 beside the warning's 1e12, and 10 digits
            # rounded a longer fill)
            words.append(_word("--pad-value", getattr(options.pad_value, "typed", None) or _number_text(options.pad_value)))
    if options.stride != 1:
        words.append(_word("--stride", str(options.stride)))
    if options.dilation != 1:
        words.append(_word("--dilation", str(options.dilation)))
    if bias is not None:
        words.append(_word("--bias", ",".join(_number_text(b) for b in np.atleast_1d(bias))))
    return words


def convolve_layout(layout: str, combine: str) -> str:
    """The ``convolve --layout`` that reads an input as learn read it with ``--layout layout``: the same, but for a
    ``sum`` kernel over a volume's slices ``chw``: convolve takes a (Z, Y, X) volume's 3-D kernel as a 3-D correlation
    (Z slices out, one of them the target), and sums a C x f x f kernel's responses over the channels of ``chw``.

    >>> convolve_layout("zyx", "shared"), convolve_layout("zyx", "sum"), convolve_layout("chw", "sum")
    ('zyx', 'chw', 'chw')
    """
    return "chw" if layout == "zyx" and combine == "sum" else layout


def _pad_widths(options: LearnOptions) -> tuple[int, int, int, int]:
    from .shapes import resolve_padding

    padding = options.padding if isinstance(options.padding, (str, int, np.integer)) else tuple(int(v) for v in options.padding)
    return resolve_padding(padding, *options.size, (options.dilation, options.dilation))


def file_kernel(result: LearnResult, flip: bool) -> np.ndarray:
    """The matrix a kernel file holds: the correlation kernel, which is what every kernel file means.

    A kernel learned with ``--flip`` is printed as the convolution kernel (the one the target was
    made with under ``--flip``); the file holds it rotated 180 degrees, so that ``convolve --kernel
    FILE`` reproduces the target without a flag to remember.
    """
    return result.kernel[..., ::-1, ::-1].copy() if flip else result.kernel


def kernel_document(
    result: LearnResult, *, name: str, input_name: str, target_name: str, options: LearnOptions | None = None,
    layout: str | None = None,
) -> dict[str, Any]:
    """The kernel file for ``result`` in the catalogue's format.

    One kernel (``per-channel`` with one channel, ``shared``) gives a single-kernel object;
    ``per-channel`` with C > 1 a family with one kernel per channel (``NAME_c0``, ...);
    ``sum`` a single kernel whose matrix is C x f x f (the catalogue reads 2-D matrices only).
    Kernel files hold no bias, padding or stride: with ``options`` (those of the fit) the
    description names the ``convolve`` options that reproduce the target, the bias among them,
    and a ``flip`` kernel is stored in its correlation form (:func:`file_kernel`); ``layout`` is the ``--layout`` a
    3-D input was read with, named among them (:func:`convolve_options`).
    """
    options = options or LearnOptions(size=result.size)
    kh, kw = result.size
    how = "least squares" if result.method == "lstsq" else f"gradient descent ({len(result.history)} epochs)"
    per_channel = result.combine == "per-channel" and result.kernel.ndim == 3

    def described(residual: str) -> str:
        # (each name as a listing writes it: a byte that is not UTF-8 text, held as a surrogate, cannot go in the file)
        text = (f"Learned from {path_line(input_name)} -> {path_line(target_name)}, {kh}x{kw}, by {how}; "
                f"final MSE {result.loss:.3g}, {residual}")
        if options.flip:
            text += "; stored for correlation: the --flip kernel learn printed, rotated 180 degrees (no --flip needed)"
        return text

    plane = result.plane
    line = described(residual_text(result.relative_residual, result.relative_residuals, per_channel, plane))
    source = "learned by kernelcli learn"
    matrix = file_kernel(result, options.flip)

    def usage(bias: Any, what: str = "the target") -> str:
        words = convolve_options(options, bias, layout)
        if words:
            return f"; convolve gives {what} with {' '.join(words)}"
        return ""

    def bias_of(i: int) -> Any:
        return None if result.bias is None else result.bias[i]

    if per_channel:
        names = channel_kernel_names(name, result.kernel.shape[0], plane)
        each = result.relative_residuals or [result.relative_residual] * result.kernel.shape[0]
        return {
            "family": name,
            "description": line + f"; one kernel per {plane} ({result.channels})",
            "kernels": [
                {
                    "name": names[c],
                    "matrix": clean_values(matrix[c]),
                    "description": (
                        f"{plane.capitalize()} {c}. " + described(f"residual {100 * each[c]:.3g}% of its {plane}'s std")
                        + usage(bias_of(c), f"{plane} {c} of the target from {plane} {c} of the input")
                    ),
                    "source": source,
                }
                for c in range(result.kernel.shape[0])
            ],
        }
    summed = result.combine == "sum" and result.kernel.ndim == 3
    extra = f"; a {result.channels}-{plane} kernel whose responses are summed" if summed else ""
    return {
        "name": name,
        # a sum's C x f x f kernel: each channel multiplies its own data (one in 1e-13 units was written as zeros)
        "matrix": [clean_values(m) for m in matrix] if np.ndim(matrix) == 3 else clean_values(matrix),
        "description": line + extra + usage(bias_of(0)),
        "source": source,
    }


def kernel_json_text(document: dict[str, Any]) -> str:
    """JSON text for a kernel document, each matrix row on one line (as the catalogue files are).

    >>> print(kernel_json_text({"name": "k", "matrix": [[1, 0], [0, 1]]}), end="")
    {
      "name": "k",
      "matrix": [[1, 0],
                 [0, 1]]
    }
    """
    import json

    def matrix_text(m: Any, column: int) -> str:
        if not isinstance(m[0], list):
            return "[" + ", ".join(json.dumps(v) for v in m) + "]"
        parts = [matrix_text(row, column + 1) for row in m]
        return "[" + (",\n" + " " * (column + 1)).join(parts) + "]"

    def obj_text(obj: dict[str, Any], indent: int) -> str:
        pad = " " * (indent + 2)
        lines = []
        for key, value in obj.items():
            head = f"{pad}{json.dumps(key)}: "
            if key == "matrix":
                lines.append(head + matrix_text(value, len(head)))
            elif key == "kernels":
                items = [pad + "  " + obj_text(item, indent + 4) for item in value]
                lines.append(head + "[\n" + ",\n".join(items) + "\n" + pad + "]")
            else:
                lines.append(head + json.dumps(value, ensure_ascii=False))
        return "{\n" + ",\n".join(lines) + "\n" + " " * indent + "}"

    return obj_text(document, 0) + "\n"


def _one_line(text: str) -> str:
    return " ".join(str(text).split())
