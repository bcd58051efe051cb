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
from .learn_report import format_value


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
    xp = pad2d(x3, _widths(options), mode=options.pad_mode, value=options.pad_value)
    span_h, span_w = d * (kh - 1) + 1, d * (kw - 1) + 1
    view = sliding_window_view(xp, (span_h, span_w), axis=(0, 1))  # (Hp-span+1, Wp-span+1, C, span_h, span_w)
    return view[::s, ::s][:oh, :ow, :, ::d, ::d]


def _system(x: np.ndarray, target: np.ndarray, options: LearnOptions, rng: np.random.Generator):
    """The im2col system as G independent problems: A (G, M, n), y (G, M)."""
    view = windows(x, options)
    oh, ow, channels = view.shape[:3]
    total = oh * ow
    n_per_row = channels * options.size[0] * options.size[1]
    limit = max(1, options.max_values // max(1, n_per_row))
    t = target.reshape(oh, ow, -1).astype(np.float64)
    if total <= limit:
        patches = np.ascontiguousarray(view).reshape(total, channels, -1)
        values = t.reshape(total, -1)
    else:  # a random subset of windows keeps memory bounded; the answer is the same for an exact target
        pick = np.sort(rng.choice(total, size=limit, replace=False))
        rows, cols = np.divmod(pick, ow)
        patches = view[rows, cols].reshape(limit, channels, -1)
        values = t[rows, cols].reshape(limit, -1)
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
    return a, y, total


# ---------------------------------------------------------------- checks


def _check_shapes(x: np.ndarray, target: np.ndarray, options: LearnOptions, input_name: str, target_name: str) -> None:
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
    c_in = x.shape[2] if x.ndim == 3 else 1
    c_out = target.shape[2] if target.ndim == 3 else 1
    if options.combine == "sum":
        if c_out != 1:
            raise ShapeError(
                f"--combine sum learns one C x f x f kernel, so {target_name} must have one channel; it has {c_out}"
            )
    elif c_out != c_in:
        hint = "; use --combine sum to learn one 3-D kernel whose channels are summed" if c_out == 1 else ""
        raise ShapeError(f"{input_name} has {c_in} channel(s) but {target_name} has {c_out}: expected the same number{hint}")


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
        return f"--padding {text} would fit"
    sizes = [(n - (t - 1) * s - 1) / d + 1 for t, n in ((th, h), (tw, w))]
    if all(v >= 1 and float(v).is_integer() for v in sizes):
        fh, fw = int(sizes[0]), int(sizes[1])
        size = str(fh) if fh == fw else f"{fh}x{fw}"
        return f"no padding fits a {kh}x{kw} kernel; --size {size} with --padding valid would"
    return "no padding fits: the target is smaller than any window layout allows (check --stride and --size)"


def _check_texture(x: np.ndarray, input_name: str) -> None:
    x3 = x.reshape(x.shape[0], x.shape[1], -1)
    for c in range(x3.shape[2]):
        plane = x3[:, :, c]
        lo, hi = plane.min(), plane.max()
        if lo == hi:
            where = f"channel {c} of {input_name}" if x3.shape[2] > 1 else input_name
            raise UsageError(
                f"{where} is constant (every value is {format_value(lo)}): it has no texture to learn a kernel "
                "from (the system is singular); use an image with edges or detail"
            )


# ---------------------------------------------------------------- solvers


def _with_bias(a: np.ndarray, value: float) -> np.ndarray:
    return np.concatenate([a, np.full(a.shape[:2] + (1,), value)], axis=2)


def solve_lstsq(a: np.ndarray, y: np.ndarray, bias: bool) -> tuple[np.ndarray, np.ndarray | None, int, int, float]:
    """Least squares for each of G problems: (weights (G, n), bias (G,) or None, min rank, unknowns, max condition)."""
    if bias:
        a = _with_bias(a, 1.0)
    unknowns = a.shape[2]
    sols, ranks, conds = [], [], []
    for g in range(a.shape[0]):
        sol, _, rank, sv = np.linalg.lstsq(a[g], y[g], rcond=None)
        sols.append(sol)
        ranks.append(int(rank))
        conds.append(float(sv[0] / sv[-1]) if sv[-1] > 0 else math.inf)
    w = np.array(sols)
    if bias:
        return w[:, :-1], w[:, -1], min(ranks), unknowns, max(conds)
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

