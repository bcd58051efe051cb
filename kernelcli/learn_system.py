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
from .errors import ShapeError, UsageError
from .learn_options import LearnOptions
from .learn_report import channel_words, format_value, format_values
from .records import replace


def output_shape(h: int, w: int, options: LearnOptions) -> tuple[int, int]:
    """The (H', W') conv2d gives for an h x w input with these options."""
    kh, kw = options.size
    top, bottom, left, right = _widths(options)
    s, d = options.stride, options.dilation
    oh = shapes.conv_output_size(h, kh, stride=s, pad_before=top, pad_after=bottom, dilation=d)
    ow = shapes.conv_output_size(w, kw, stride=s, pad_before=left, pad_after=right, dilation=d)
    return oh, ow


def _widths(options: LearnOptions) -> tuple[int, int, int, int]:
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
    xp = pad2d(x3, _widths(options), pad_mode=options.pad_mode, pad_value=options.pad_value)
    span_h, span_w = d * (kh - 1) + 1, d * (kw - 1) + 1
    view = sliding_window_view(xp, (span_h, span_w), axis=(0, 1))  # (Hp-span+1, Wp-span+1, C, span_h, span_w)
    return view[::s, ::s][:oh, :ow, :, ::d, ::d]


def _system(x: np.ndarray, target: np.ndarray, options: LearnOptions, rng: np.random.Generator):
    """The im2col system as G independent problems: A (G, M, n), y (G, M); the number of windows;
    and which of the M windows lie wholly inside the image (bool (M,): they read no padding)."""
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
    before = _widths(options)[2 * axis]
    span = options.dilation * ((kh, kw)[axis] - 1)
    first = np.arange(out) * options.stride - before
    return (first >= 0) & (first + span <= n - 1)


# ---------------------------------------------------------------- checks


def _check_shapes(x: np.ndarray, target: np.ndarray, options: LearnOptions, input_name: str, target_name: str,
                  plane: str = "channel") -> None:
    h, w = x.shape[:2]
    th, tw = target.shape[:2]
    kh, kw = options.size
    try:
        oh, ow = output_shape(h, w, options)
    except ShapeError as exc:
        raise ShapeError(f"{input_name} {h}x{w} and a {kh}x{kw} kernel: {exc}") from None
    from .limits import check_peak, conv_peak

    need = conv_peak(x.shape, (kh, kw), stride=options.stride, pads=_widths(options), dilation=options.dilation)
    check_peak(need, f"{input_name}: learning a {kh}x{kw} kernel with dilation {options.dilation}")
    if (th, tw) != (oh, ow):
        fit = _fitting_padding(h, w, th, tw, options)
        raise ShapeError(
            f"{target_name} is {th}x{tw}, but a {kh}x{kw} kernel with padding {options.padding_text()} and stride "
            f"{options.stride} on the {h}x{w} {input_name} gives {oh}x{ow}; {fit}"
        )
    check_channels(x, target, options, input_name, target_name, plane=plane)


def check_channels(x: np.ndarray, target: np.ndarray, options: LearnOptions, input_name: str, target_name: str,
                   alphas: tuple[bool, bool] = (False, False), plane: str = "channel") -> None:
    """Refuse (ShapeError) a target whose channels ``options.combine`` cannot make from the input's; ``alphas`` say
    which of the two had an alpha channel set aside (an image's, which is not learned: the message counts the others);
    ``plane``: what the planes are called (a volume's slices).

    >>> x = np.zeros((4, 4, 3))
    >>> check_channels(x, np.zeros((4, 4, 4)), LearnOptions(size=1), "rgba.png", "t.npy", alphas=(True, False))
    Traceback (most recent call last):
    ...
    kernelcli.errors.ShapeError: rgba.png has 3 colour channels (its alpha is not learned) but t.npy has 4: expected the same number
    """
    c_in = x.shape[2] if x.ndim == 3 else 1
    c_out = target.shape[2] if target.ndim == 3 else 1
    has_in = channels_text(c_in, alphas[0], plane)
    has_out = channels_text(c_out, alphas[1]) if alphas[1] else str(c_out)  # (the count alone, as the input's says it)
    if options.combine == "sum":
        if c_out != 1:
            depth = "Z" if plane == "slice" else "C"
            raise ShapeError(
                f"--combine sum learns one {depth} x f x f kernel, so {target_name} must have one {plane}; it has {has_out}"
            )
    elif c_out != c_in:
        hint = f"; use --combine sum to learn one 3-D kernel whose {plane}s are summed" if c_out == 1 else ""
        raise ShapeError(f"{input_name} has {has_in} but {target_name} has {has_out}: expected the same number{hint}")


def channels_text(count: int, alpha: bool, plane: str = "channel") -> str:
    """How many channels (``plane``: a volume's slices) an array has, in words: ``3 channel(s)``, ``3 slice(s)``, or
    beside an alpha set aside ``3 colour channels (its alpha is not learned)``.

    >>> channels_text(3, False), channels_text(3, False, "slice"), channels_text(1, True)
    ('3 channel(s)', '3 slice(s)', '1 grey channel (its alpha is not learned)')
    """
    if not alpha:
        return f"{count} {plane}(s)"
    return f"{'1 grey channel' if count == 1 else f'{count} colour channels'} (its alpha is not learned)"


def _fitting_padding(h: int, w: int, th: int, tw: int, options: LearnOptions) -> str:
    """Say which padding (or kernel size) would give a th x tw target, in CLI words."""
    kh, kw = options.size
    s, d = options.stride, options.dilation
    totals = [(t - 1) * s + d * (k - 1) + 1 - n for t, k, n in ((th, kh, h), (tw, kw, w))]
    if all(v >= 0 for v in totals):
        same = [d * (kh - 1), d * (kw - 1)]
        if totals == [0, 0]:
            text = "valid"
        elif totals == same:
            text = "same"
        else:
            (top, bottom), (left, right) = ((v // 2, v - v // 2) for v in totals)
            text = str(top) if top == bottom == left == right else f"{top},{bottom},{left},{right}"
        if totals[0] > same[0] or totals[1] > same[1]:  # more padding than 'same': a stride is the likelier cause
            stride = _fitting_stride(h, w, th, tw, options)
            if stride:
                return f"{stride} would fit (or --padding {text} with stride {s})"
        return f"--padding {text} would fit"
    stride = _fitting_stride(h, w, th, tw, options)
    if stride:
        return f"no padding fits a {kh}x{kw} kernel with stride {s}; {stride} would fit"
    sizes = [(n - (t - 1) * s - 1) / d + 1 for t, n in ((th, h), (tw, w))]
    if all(v >= 1 and float(v).is_integer() for v in sizes):
        fh, fw = int(sizes[0]), int(sizes[1])
        if fh == fw:
            return f"no padding fits a {kh}x{kw} kernel; --size {fh} with --padding valid would"
        # --size takes one side: an fh x fw kernel is a square one with asymmetric padding, in cells: d per tap
        side = max(fh, fw)
        return (f"no padding fits a {kh}x{kw} kernel; the target is that of a {fh}x{fw} kernel with --padding valid, "
                f"or --size {side} with --padding 0,{d * (side - fh)},0,{d * (side - fw)}")
    return ("no padding fits: no kernel size with --padding valid, and no stride with the padding given, same or valid, "
            "gives this target (check --stride, --size and --dilation)")


def _fitting_stride(h: int, w: int, th: int, tw: int, options: LearnOptions) -> str:
    """``--stride N`` (with ``--padding P`` when the padding must change too) that gives a th x tw
    target with this kernel size, or "" when no stride does.  The padding given is tried first."""
    paddings = list(dict.fromkeys([options.padding_text(), "same", "valid"]))
    for padding in paddings:
        for stride in range(1, max(h, w) + 1):
            if stride == options.stride:
                continue
            trial = replace(options, stride=stride, padding=padding if padding in ("same", "valid") else options.padding)
            try:
                if output_shape(h, w, trial) == (th, tw):
                    return f"--stride {stride}" + ("" if padding == options.padding_text() else f" with --padding {padding}")
            except ShapeError:
                continue
    return ""


def _check_texture(x: np.ndarray, input_name: str, options: LearnOptions, plane: str = "channel") -> None:
    """Refuse an input whose system is singular before it is built: a constant image, or a constant
    channel where that channel has a kernel (or a slice of one) of its own, whose windows all read
    that constant (no padding, or a padding that repeats it: a fill of another value, at the borders,
    makes the windows differ, and the rank test after the fit judges them).

    ``shared`` learns one kernel from every channel's windows together: a constant channel adds
    equations that say nothing but contradict nothing, so only an input constant in every channel
    is refused here (the rank test after the fit catches what else is singular).  ``plane`` is what the message
    calls a channel (``"slice"``: a volume's).
    """
    x3 = x.reshape(x.shape[0], x.shape[1], -1)
    channels = x3.shape[2]
    combine = options.combine
    filled = any(_widths(options)) and options.pad_mode == "constant"
    flat = [c for c in range(channels) if x3[:, :, c].min() == x3[:, :, c].max()
            and not (filled and x3[0, 0, c] != options.pad_value)]
    if not flat or (combine == "shared" and len(flat) < channels):
        return
    values = sorted({format_values([x3[0, 0, c]])[0] for c in flat}, key=float)
    if channels == 1:
        where, hint = input_name, ""
    elif len(flat) == channels:
        where, hint = f"every {plane} of {input_name}", ""
    else:
        where = f"{plane} {flat[0]} of {input_name}"
        hint = f"; if one kernel made every {plane}, --combine shared learns it from the others" if combine == "per-channel" else ""
    raise UsageError(
        f"{where} is constant (every value is {' or '.join(values)}): it has no texture to learn a kernel "
        f"from (the system is singular); use an image with edges or detail{hint}"
    )


# ---------------------------------------------------------------- solvers


def predict(a: np.ndarray, w: np.ndarray, b: np.ndarray | None = None) -> np.ndarray:
    """Each group's predicted outputs ``a @ w`` (plus its bias): (G, M) from the (G, M, N) windows and (G, N) weights.

    >>> predict(np.ones((1, 2, 3)), np.array([[1.0, 2.0, 3.0]]), np.array([0.5]))
    array([[6.5, 6.5]])
    """
    out = np.einsum("gmn,gn->gm", a, w)
    return out if b is None else out + b[:, None]


def _with_bias(a: np.ndarray, value: float) -> np.ndarray:
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
    plane: str = "channel",
) -> str | None:
    """A warning when the windows inside the image are fit exactly but the ones reading padding are not.

    ``a`` (G, M, n) and ``y`` (G, M) are the system (in the units ``rms`` and ``tolerance`` are in),
    ``inner`` (M,) marks the windows that read no padding, ``rms`` is each group's RMS residual of the whole
    fit and ``tolerance`` each group's rounding, (G,) or one for all.
    Then the target was padded another way than ``options`` say, and the kernel is bent to
    fit its borders: a residual too small for the poor-fit warning hides a wrong kernel.
    Each group is judged alone (a channel 1000x larger, noisy, hid it); ``channels`` names them (in ``plane`` words) in
    the warning.
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
    padding = f"--pad-mode {options.pad_mode}" + (f" --pad-value {format_value(options.pad_value, 10)}" if options.pad_mode == "constant" else "")
    return (
        f"{where}the windows inside the image are fit exactly (residual RMS {up_to}{max(found.values()):.3g}) but those "
        f"reading the padding are not (RMS {up_to}{max(rms[g] for g in found):.3g} overall): the target was padded another "
        f"way than {padding} with --padding {options.padding_text()}, and the kernel is bent to fit its borders; try the "
        "target's --pad-mode/--pad-value, or --padding valid with a target cropped to the valid part"
    )


def _percent(share: float) -> str:
    return f"{100 * share:.3g}%"
