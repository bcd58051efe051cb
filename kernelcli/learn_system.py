"""The im2col equation system of :mod:`kernelcli.learn` and its least-squares answer.

Every output pixel is one equation: the window of the (padded) input it was computed from,
flattened, times the unknown kernel.  Split from :mod:`kernelcli.learn`, which re-exports every name.

>>> import numpy as np
>>> from kernelcli.learn_options import LearnOptions
>>> windows(np.arange(16.0).reshape(4, 4), LearnOptions(size=3)).shape  # (H', W', C, kh, kw), 'same' padding
(4, 4, 1, 3, 3)
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from . import shapes
from .api import as_image_array, pad2d
from .learn_options import WORDINGS, LearnOptions, OptionWords
from .learn_report import channel_words, format_value
from .records import replace


def output_shape(h: int, w: int, options: LearnOptions) -> tuple[int, int]:
    """The (H', W') conv2d gives for an h x w input with these options."""
    kh, kw = options.size
    top, bottom, left, right = fit_widths(options)
    s, d = options.stride, options.dilation
    oh = shapes.conv_output_size(h, kh, stride=s, pad_before=top, pad_after=bottom, dilation=d)
    ow = shapes.conv_output_size(w, kw, stride=s, pad_before=left, pad_after=right, dilation=d)
    return oh, ow


def fit_widths(options: LearnOptions) -> tuple[int, int, int, int]:
    """The (top, bottom, left, right) widths the fit pads its input by, as ``convolve`` pads for the same options.

    >>> fit_widths(LearnOptions(size=4, padding="same")), fit_widths(LearnOptions(size=3, padding="valid"))
    ((1, 2, 1, 2), (0, 0, 0, 0))
    """
    kh, kw = options.size
    padding = options.padding
    if not isinstance(padding, (str, int, np.integer)):
        padding = tuple(int(v) for v in padding)
    return shapes.resolve_padding(padding, kh, kw, (options.dilation, options.dilation))


def windows(x: Any, options: LearnOptions) -> np.ndarray:
    """Every window conv2d reads, as a read-only view of shape (H', W', C, kh, kw).

    ``windows(x, o)[i, j, c] * kernel`` summed is ``conv2d(x, kernel)[i, j, c]``.

    >>> windows(np.arange(16.0).reshape(4, 4), LearnOptions(size=3, padding="valid")).shape
    (2, 2, 1, 3, 3)
    """
    arr = as_image_array(x)
    x3 = arr.reshape(arr.shape[0], arr.shape[1], -1).astype(np.float64)
    oh, ow = output_shape(arr.shape[0], arr.shape[1], options)
    kh, kw = options.size
    s, d = options.stride, options.dilation
    xp = pad2d(x3, fit_widths(options), pad_mode=options.pad_mode, pad_value=options.pad_value)
    span_h, span_w = d * (kh - 1) + 1, d * (kw - 1) + 1
    view = sliding_window_view(xp, (span_h, span_w), axis=(0, 1))  # (Hp-span+1, Wp-span+1, C, span_h, span_w)
    return view[::s, ::s][:oh, :ow, :, ::d, ::d]


def im2col_system(x: np.ndarray, target: np.ndarray, options: LearnOptions, rng: np.random.Generator):
    """The im2col system as G independent problems: A (G, M, n), y (G, M); the number of windows;
    and which of the M windows lie wholly inside the image (bool (M,): they read no padding).

    >>> x = np.arange(16.0).reshape(4, 4)
    >>> a, y, total, inner = im2col_system(x, x[1:3, 1:3], LearnOptions(size=3, padding="valid"), np.random.default_rng(0))
    >>> a.shape, y.shape, total, inner.tolist()
    ((1, 4, 9), (1, 4), 4, [True, True, True, True])
    """
    view = windows(x, options)
    oh, ow, channels = view.shape[:3]
    total = oh * ow
    n_per_row = channels * options.size[0] * options.size[1]
    limit = max(1, options.max_values // max(1, n_per_row))
    t = target.reshape(oh, ow, -1).astype(np.float64)
    inner_rows, inner_cols = _inside(x.shape[0], oh, 0, options), _inside(x.shape[1], ow, 1, options)
    if total <= limit:
        patches = np.ascontiguousarray(view).reshape(total, channels, -1)
        values = t.reshape(total, -1)
        inner = (inner_rows[:, None] & inner_cols[None, :]).reshape(-1)
    else:  # a random subset of windows keeps memory bounded; the answer is the same for an exact target
        pick = np.sort(rng.choice(total, size=limit, replace=False))
        rows, cols = np.divmod(pick, ow)
        patches = view[rows, cols].reshape(limit, channels, -1)
        values = t[rows, cols].reshape(limit, -1)
        inner = inner_rows[rows] & inner_cols[cols]
    m = patches.shape[0]
    if options.combine == "sum":
        a = patches.reshape(1, m, -1)
        y = values.T
    elif options.combine == "shared":
        a = patches.transpose(1, 0, 2).reshape(1, channels * m, -1)
        y = values.T.reshape(1, -1)
    else:
        a = np.ascontiguousarray(patches.transpose(1, 0, 2))
        y = np.ascontiguousarray(values.T)
    return a, y, total, inner


def _inside(n: int, out: int, axis: int, options: LearnOptions) -> np.ndarray:
    """For each of the ``out`` output positions along ``axis``: does its window stay inside the n input cells?"""
    kh, kw = options.size
    before = fit_widths(options)[2 * axis]
    span = options.dilation * ((kh, kw)[axis] - 1)
    first = np.arange(out) * options.stride - before
    return (first >= 0) & (first + span <= n - 1)


# ---------------------------------------------------------------- solvers


def predict(a: np.ndarray, w: np.ndarray, b: np.ndarray | None = None) -> np.ndarray:
    """Each group's predicted outputs ``a @ w`` (plus its bias): (G, M) from the (G, M, N) windows and (G, N) weights.

    >>> predict(np.ones((1, 2, 3)), np.array([[1.0, 2.0, 3.0]]), np.array([0.5]))
    array([[6.5, 6.5]])
    """
    out = np.einsum("gmn,gn->gm", a, w)
    return out if b is None else out + b[:, None]


def with_bias_column(a: np.ndarray, value: float) -> np.ndarray:
    """The windows ``a`` (G, M, N) with a column of ``value`` after them, the bias's: (G, M, N + 1).

    >>> with_bias_column(np.zeros((1, 2, 3)), 0.5)[0].tolist()
    [[0.0, 0.0, 0.0, 0.5], [0.0, 0.0, 0.0, 0.5]]
    """
    return np.concatenate([a, np.full(a.shape[:2] + (1,), value)], axis=2)


def solve_lstsq(a: np.ndarray, y: np.ndarray, bias: bool) -> tuple[np.ndarray, np.ndarray | None, int, int, float]:
    """Least squares for each of G problems: (weights (G, n), bias (G,) or None, min rank, unknowns, max condition).

    The bias's column holds the windows' root mean square, not 1: beside values near 3e12 a column of ones
    is below the rank test's tolerance (a well-posed fit was refused as 'rank 9 of 10'), and the condition
    number would measure the units rather than the data.

    >>> x = np.array([[[3e12], [4e12], [9e12]]])
    >>> w, b, rank, unknowns, _ = solve_lstsq(x, 2 * x[..., 0] + 10.5, True)
    >>> round(float(w[0, 0]), 12), round(float(b[0]), 1), rank, unknowns
    (2.0, 10.5, 2, 2)
    """
    scale = None
    if bias:
        scale = np.sqrt(np.einsum("gmn,gmn->g", a, a) / max(a.shape[1] * a.shape[2], 1))
        scale[~(scale > 0) | ~np.isfinite(scale)] = 1.0
        a = np.concatenate([a, np.broadcast_to(scale[:, None, None], a.shape[:2] + (1,))], axis=2)
    unknowns = a.shape[2]
    sols, ranks, conds = [], [], []
    for g in range(a.shape[0]):
        sol, _, rank, sv = np.linalg.lstsq(a[g], y[g], rcond=None)
        sols.append(sol)
        ranks.append(int(rank))
        conds.append(float(sv[0] / sv[-1]) if sv[-1] > 0 else math.inf)
    w = np.array(sols)
    if scale is not None:
        return w[:, :-1], w[:, -1] * scale, min(ranks), unknowns, max(conds)
    return w, None, min(ranks), unknowns, max(conds)


def window_mean_preconditioner(a: np.ndarray, blocks: int = 1) -> np.ndarray:
    """P (G, n, n): shrinks the "all taps equal" direction of the windows to the size of the others.

    A window's mean (its component along ``ones / sqrt(f*f)``) usually carries most of its
    energy (images are bright and smooth), which makes gradient descent crawl along every
    other direction.  ``A @ P`` scales that component by ``beta`` so that its mean square
    equals the average of the other directions'; ``beta`` is between 0 and 1, so P is
    invertible and ``k = P @ k'`` gives back the very same least-squares optimum.  With
    ``blocks`` > 1 (a C x f x f kernel) each channel's taps get their own factor.

    >>> a = np.array([[[10.0, 11.0], [10.0, 9.0], [12.0, 12.0]]])
    >>> p = window_mean_preconditioner(a)
    >>> bool(np.linalg.cond((a @ p)[0]) < np.linalg.cond(a[0]))
    True
    """
    g_count, m, n = a.shape
    per = n // blocks
    eye = np.broadcast_to(np.eye(n), (g_count, n, n)).copy()
    for b in range(blocks):
        sl = slice(b * per, (b + 1) * per)
        if per < 2:
            continue
        u = np.full(per, 1.0 / math.sqrt(per))
        along = a[:, :, sl] @ u  # (G, M)
        energy = np.mean(along * along, axis=1)
        total = np.mean(np.sum(a[:, :, sl] ** 2, axis=2), axis=1)
        rest = (total - energy) / (per - 1)
        with np.errstate(divide="ignore", invalid="ignore"):
            beta = np.where(energy > rest, np.sqrt(np.maximum(rest, 0) / energy), 1.0)
        beta = np.maximum(beta, 1e-3)  # keep P well away from singular
        eye[:, sl, sl] -= (1.0 - beta)[:, None, None] * np.outer(u, u)[None]
    return eye


# ---------------------------------------------------------------- diagnoses of a finished fit
# A residual alone cannot tell noise from a target made another way.  Two causes leave a mark the
# system shows: a clipped integer target (values at the type's bounds exactly where the best kernel
# goes beyond them), and a target padded another way (the windows inside the image fit exactly, the
# ones reading padding do not).  Noise leaves neither mark, so noisy data get no extra words here.

#: a target with at least this share of its values clipped at its type's bounds gets a warning
CLIPPED_SHARE = 0.01
#: the interior refit uses at most this many windows per unknown (exactness needs no more)
INNER_WINDOWS_PER_UNKNOWN = 64


def rounding_tolerance(dtype: np.dtype, peak: float) -> float:
    """The RMS residual an exact fit may still show, from how the target's values are stored.

    Whole numbers are rounded to 1 (RMS 0.29; twice that allowed); floats carry their relative
    precision at the target's largest magnitude ``peak`` (with room for the solver's own rounding).
    """
    if dtype.kind in "biu":
        return 0.6
    return 64 * float(np.finfo(dtype if dtype.kind == "f" else np.float64).eps) * max(peak, np.finfo(np.float64).tiny)


def stored_precision(target: np.ndarray) -> np.dtype:
    """The dtype whose rounding ``target``'s values carry: its own, or float32 for a wider float array whose every
    value is a float32 (convolve's .npy of an 8/16-bit image, widened by ``np.load(...).astype(float)``).

    Equal values get equal diagnoses whatever the file's dtype: judged at float64's precision, a float32 target
    widened to float64 hid its offset and its padding another way (a kernel bent 1.3% with 'fits' true).

    >>> stored_precision(np.array([0.5, 1.25])), stored_precision(np.array([0.1, 1.25])), stored_precision(np.arange(3))
    (dtype('float32'), dtype('float64'), dtype('int64'))
    """
    dtype = np.dtype(target.dtype)
    if dtype.kind != "f" or dtype.itemsize <= 4:
        return dtype
    with np.errstate(over="ignore"):  # (a value beyond float32's range is not a float32: inf differs from it)
        narrowed = target.astype(np.float32)
    return np.dtype(np.float32) if np.array_equal(narrowed, target) else dtype


def negligible_bias(bias: np.ndarray | None, a: np.ndarray, y: np.ndarray, w: np.ndarray, condition: float = 1.0) -> np.ndarray | None:
    """The bias with each value set to 0 that is noise: within the solver's float64 rounding (``condition``, at least
    64, times the rounding of the target's largest magnitude), and left out without the fit getting worse by more
    than that rounding (each group's RMS residual, ``a @ w`` against ``y``).

    An exact target gives a bias like 2e-14 where it has none: shown as 0 on stdout, it would be
    written as ``--bias 2.29e-14`` in a kernel file's description.  A fixed share of the target (1e-12 of it) took a
    bias of 10.5 under a target of 1.6e13 for noise, and the solver's bound alone a bias of 0.5 under 1e7 at a
    condition of 3.5e8 (its MSE 0.25 where the bias gives 1e-18).

    >>> a = np.ones((1, 4, 1)); y = np.array([[255.0, 255.0, 255.0, 255.0]])
    >>> negligible_bias(np.array([2.3e-14]), a, y, np.array([[255.0]])).tolist()
    [0.0]
    >>> negligible_bias(np.array([0.5]), a, y + 0.5, np.array([[255.0]]), condition=1e14).tolist()
    [0.5]
    """
    if bias is None:
        return None
    # each group (a channel fitted alone) on its own scale: a channel of 1e7 took a bias of 5e-7 beside it for noise
    rounding = float(np.finfo(np.float64).eps) * (np.max(np.abs(y), axis=1) if y.size else np.zeros(len(bias)))
    small = np.abs(bias) <= max(64.0, condition) * rounding
    if not small.any():
        return bias
    kept = bias.copy()
    without = y - predict(a, w)  # (G, M): each group's residual with no bias
    for g in np.flatnonzero(small):
        worse = math.sqrt(float(np.mean(without[g] ** 2))) - math.sqrt(float(np.mean((without[g] - bias[g]) ** 2)))
        if worse <= 64 * rounding[g]:
            kept[g] = 0.0
    return kept


def clipped_target(y: np.ndarray, predicted: np.ndarray, dtype: np.dtype, target_name: str, plane: str = "channel") -> str | None:
    """A warning when an integer target looks clipped at its type's bounds, else None.

    ``y`` and ``predicted`` are the target's values and the best fit's, equation by equation, (G, N) for G groups
    (channels), each judged on its own.
    A value at a bound counts as clipped where the fit goes beyond that bound by more than half
    a level: a black background a blur leaves black is at 0 without being clipped.
    """
    if dtype.kind not in "iu" or y.size == 0:
        return None
    if y.ndim == 2 and len(y) > 1:  # each group (channel) on its own: one clipped channel of three was a third as much
        found = [clipped_target(g, p, dtype, f"{target_name}'s {plane} {i}") for i, (g, p) in enumerate(zip(y, predicted))]
        return "; ".join(text for text in found if text) or None
    info = np.iinfo(dtype)
    low, high = y == info.min, y == info.max
    beyond = np.count_nonzero(low & (predicted < info.min - 0.5)) + np.count_nonzero(high & (predicted > info.max + 0.5))
    if beyond < CLIPPED_SHARE * y.size:
        return None
    at_low, at_high = np.count_nonzero(low) / y.size, np.count_nonzero(high) / y.size
    return (
        f"{_percent(at_low + at_high)} of {target_name} is at {info.min} or {info.max}, the ends of its {dtype} range "
        f"({_percent(at_low)} at {info.min}, {_percent(at_high)} at {info.max}), and the best kernel goes beyond them on "
        f"{_percent(beyond / y.size)}: the target was clipped, so the kernel is fit to clipped values; save the target "
        "as .npy (float) to learn from unclipped values"
    )


def padded_otherwise(
    a: np.ndarray, y: np.ndarray, inner: np.ndarray, rms: Any, tolerance: Any, options: LearnOptions, *, channels: bool = False,
    plane: str = "channel", words: OptionWords = WORDINGS["api"],
) -> str | None:
    """A warning when the windows inside the image are fit exactly but the ones reading padding are not.

    ``a`` (G, M, n) and ``y`` (G, M) are the system (in the units ``rms`` and ``tolerance`` are in),
    ``inner`` (M,) marks the windows that read no padding, ``rms`` is each group's RMS residual of the whole
    fit and ``tolerance`` each group's rounding, (G,) or one for all.
    Then the target was padded another way than ``options`` say, and the kernel is bent to
    fit its borders: a residual too small for the poor-fit warning hides a wrong kernel.
    Each group is judged alone (a channel 1000x larger, noisy, hid it); ``channels`` names them (in ``plane`` words) in
    the warning; ``words`` how it names the options.
    """
    rms, tolerance = np.broadcast_arrays(np.atleast_1d(rms), np.atleast_1d(tolerance))
    if not (rms > 10 * tolerance).any() or inner.all() or not inner.any():
        return None
    per_group = inner if a.shape[1] == inner.size else np.tile(inner, a.shape[1] // inner.size)  # shared: C blocks
    rows = np.flatnonzero(per_group)
    unknowns = a.shape[2] + int(options.fit_bias)
    if rows.size < 4 * unknowns:
        return None
    keep = rows[:: max(1, rows.size // (INNER_WINDOWS_PER_UNKNOWN * unknowns))]
    found = {}
    for g in np.flatnonzero(rms > 10 * tolerance):
        w, b, rank, _, _ = solve_lstsq(a[g:g + 1, keep], y[g:g + 1, keep], options.fit_bias)
        residual = predict(a[g:g + 1, keep], w, b) - y[g:g + 1, keep]
        inner_rms = math.sqrt(float(np.mean(residual * residual)))
        if rank == unknowns and inner_rms <= tolerance[g]:
            found[int(g)] = inner_rms
    if not found:
        return None
    where = f"{channel_words(found, plane)}: " if channels else ""
    up_to = "up to " if len(found) > 1 else ""
    fill = [words.given("pad_value", format_value(options.pad_value, 10))] if options.pad_mode == "constant" else []
    padding = words.joined(words.given("pad_mode", options.pad_mode), *fill)
    return (
        f"{where}the windows inside the image are fit exactly (residual RMS {up_to}{max(found.values()):.3g}) but those "
        f"reading the padding are not (RMS {up_to}{max(rms[g] for g in found):.3g} overall): the target was padded another "
        f"way than {padding} with {words.given('padding', options.padding)}, and the kernel is bent to fit its borders; "
        f"try the target's {words.name('pad_mode')}/{words.name('pad_value')}, or {words.given('padding', 'valid')} with a "
        "target cropped to the valid part"
    )


def _percent(share: float) -> str:
    return f"{100 * share:.3g}%"
