"""Learn a kernel from an input and the image it should become (the lecture's "can we learn kernels?").

Arrays in, results out: no files, no terminal.  Two methods solve the same problem,
``target = conv2d(x, kernel) (+ bias)``:

``lstsq``
    The exact least-squares answer in one step.  Every output pixel is one equation: the
    window of the (padded) input it was computed from, flattened, times the unknown kernel
    (the *im2col* system ``A @ k = y``), solved with :func:`numpy.linalg.lstsq`.  The rank
    and condition number of ``A`` say whether the input has enough texture to decide the
    kernel at all.
``gd``
    The lecture's training loop, in numpy: mini-batches of windows, MSE loss, gradient
    step (SGD with momentum, or Adam), a StepLR schedule.  Inputs and targets are scaled
    internally so one learning rate fits every image; the scaling is undone on the weights,
    and the weights start at zero.  The result is compared with the least-squares answer.

Multi-channel inputs (H, W, C), with ``combine``:

* ``per-channel`` (default): one f x f kernel per channel, target (H', W', C);
* ``shared``: one f x f kernel applied to every channel (what ``convolve`` does);
* ``sum``: one C x f x f kernel whose channel responses are summed (a conv layer with one
  filter), target (H', W').

Example
-------
>>> import numpy as np
>>> from kernelcli.api import conv2d
>>> x = np.random.default_rng(0).random((16, 16))
>>> y = conv2d(x, [[1, 0, -1], [2, 0, -2], [1, 0, -1]])
>>> np.round(learn_kernel(x, y, LearnOptions(size=3)).kernel, 6) + 0.0
array([[ 1.,  0., -1.],
       [ 2.,  0., -2.],
       [ 1.,  0., -1.]])
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from . import shapes
from .api import as_image_array, pad2d
from .errors import ShapeError, UsageError
from .modes import canonical_pad_mode

METHODS = ("lstsq", "gd")
COMBINES = ("per-channel", "shared", "sum")
OPTIMIZERS = ("sgd", "adam")

#: Default learning rates (in the internally normalised units) per optimizer.
DEFAULT_LR = {"sgd": 0.1, "adam": 0.1}
#: Default epochs; small inputs get more, so that training takes at least MIN_STEPS steps.
DEFAULT_EPOCHS = 30
MIN_STEPS = 1000

#: A residual RMS above this share of the target's standard deviation means the kernel does not explain it.
POOR_FIT = 1e-2
#: Condition numbers above this make the answer sensitive to the least noise in the target.
ILL_CONDITIONED = 1e8
#: Most equation-matrix values kept in memory (float64); larger problems use a random subset of windows.
MAX_SYSTEM_VALUES = 8_000_000

#: progress(epoch, epochs, loss, lr), called after every epoch of ``gd``.
Progress = Callable[[int, int, float, float], None]


@dataclass(frozen=True)
class LearnOptions:
    """What to learn and how; validated once.

    ``size`` is f (an f x f kernel) or (kh, kw).  ``padding``, ``stride``, ``dilation``,
    ``pad_mode``, ``pad_value`` and ``flip`` mean what they mean for :func:`kernelcli.api.conv2d`:
    the target must be what conv2d would give with them.
    """

    size: int | tuple[int, int] = 3
    method: str = "lstsq"
    combine: str = "per-channel"
    bias: bool = False
    stride: int = 1
    padding: Any = "same"
    pad_mode: str = "constant"
    pad_value: float = 0.0
    dilation: int = 1
    flip: bool = False
    epochs: int | None = None
    lr: float | None = None
    batch_size: int = 64
    step_size: int | None = None
    gamma: float = 0.1
    optimizer: str = "sgd"
    momentum: float = 0.9
    seed: int = 0
    max_values: int = MAX_SYSTEM_VALUES

    def __post_init__(self) -> None:
        size = (self.size, self.size) if isinstance(self.size, (int, np.integer)) else tuple(self.size)
        if len(size) != 2:
            raise UsageError(f"size must be f or (kh, kw), got {self.size!r}")
        object.__setattr__(self, "size", tuple(shapes.check_positive("size", int(v)) for v in size))
        from .limits import MAX_KERNEL_SIDE as MAX_SIDE

        if max(self.size) > MAX_SIDE:
            raise UsageError(f"invalid size {'x'.join(map(str, self.size))}: a kernel has at most {MAX_SIDE} per side")
        for name, choices in (("method", METHODS), ("combine", COMBINES), ("optimizer", OPTIMIZERS)):
            value = str(getattr(self, name)).strip().lower()
            if value not in choices:
                raise UsageError(f"invalid {name} {getattr(self, name)!r}: expected one of {', '.join(choices)}")
            object.__setattr__(self, name, value)
        object.__setattr__(self, "pad_mode", canonical_pad_mode(self.pad_mode))
        for name in ("stride", "dilation", "epochs", "batch_size", "step_size"):
            if getattr(self, name) is not None:
                shapes.check_positive(name, int(getattr(self, name)))
        if self.lr is not None and not (math.isfinite(self.lr) and self.lr > 0):
            raise UsageError(f"invalid lr {self.lr!r}: expected a number > 0")
        if not (math.isfinite(self.gamma) and 0 < self.gamma <= 1):
            raise UsageError(f"invalid gamma {self.gamma!r}: expected 0 < gamma <= 1 (the StepLR factor)")
        if not (0 <= self.momentum < 1):
            raise UsageError(f"invalid momentum {self.momentum!r}: expected 0 <= momentum < 1")

    def schedule(self, windows: int) -> tuple[int, int]:
        """(epochs, step_size) for ``windows`` equations: the given values, or the defaults.

        By default 30 epochs, or enough for 1000 mini-batch steps when the input is small,
        and the learning rate is multiplied by ``gamma`` after each third of them.

        >>> LearnOptions().schedule(65536), LearnOptions().schedule(16)
        ((30, 10), (1000, 334))
        """
        per_epoch = -(-windows // min(self.batch_size, max(windows, 1)))
        epochs = self.epochs or max(DEFAULT_EPOCHS, -(-MIN_STEPS // per_epoch))
        return epochs, self.step_size or -(-epochs // 3)

    @property
    def learning_rate(self) -> float:
        """The learning rate in use: ``lr`` or the optimizer's default."""
        return self.lr if self.lr is not None else DEFAULT_LR[self.optimizer]

    def padding_text(self) -> str:
        """The padding as the CLI spells it: ``same``, ``valid``, ``1`` or ``0,1,0,1``."""
        if isinstance(self.padding, str):
            return self.padding
        if isinstance(self.padding, (int, np.integer)):
            return str(int(self.padding))
        return ",".join(str(int(v)) for v in self.padding)


@dataclass
class LstsqFit:
    """The least-squares answer and how well determined it is (worst group for rank/condition)."""

    kernel: np.ndarray
    bias: np.ndarray | None
    rank: int
    unknowns: int
    condition: float
    mse: float
    relative_residual: float


@dataclass
class LearnResult:
    """A learned kernel and the facts about how it was learned.

    ``kernel`` is (kh, kw) for one kernel, (C, kh, kw) for ``per-channel`` with C > 1 (one
    kernel per channel) and for ``sum`` (one 3-D kernel).  ``bias`` is None without
    ``bias=True``, else one value per kernel.  ``history`` is the mean training loss of
    each epoch (``gd`` only); ``loss`` is the final MSE over all windows, in target units.
    """

    kernel: np.ndarray
    bias: np.ndarray | None
    method: str
    combine: str
    channels: int
    loss: float
    relative_residual: float
    lstsq: LstsqFit
    history: list[float] = field(default_factory=list)
    lrs: list[float] = field(default_factory=list)
    max_diff_vs_lstsq: float | None = None
    windows_used: int = 0
    windows_total: int = 0
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def size(self) -> tuple[int, int]:
        """(kh, kw)."""
        return tuple(self.kernel.shape[-2:])  # type: ignore[return-value]

    @property
    def fits(self) -> bool:
        """True when the kernel explains the target (relative residual at most :data:`POOR_FIT`)."""
        return self.relative_residual <= POOR_FIT

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

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready summary (kernel rounded to 10 significant digits)."""
        fit = self.lstsq
        return {
            "method": self.method,
            "combine": self.combine,
            "size": list(self.size),
            "channels": self.channels,
            "kernel": clean_values(self.kernel),
            "bias": None if self.bias is None else clean_values(self.bias),
            "loss": self.loss,
            "relative_residual": self.relative_residual,
            "fits": self.fits,
            "history": self.history_summary(),
            "lstsq": {
                "rank": fit.rank, "unknowns": fit.unknowns, "condition": fit.condition,
                "loss": fit.mse, "relative_residual": fit.relative_residual,
            },
            "max_diff_vs_lstsq": self.max_diff_vs_lstsq,
            "windows": {"used": self.windows_used, "total": self.windows_total},
            "seconds": self.seconds,
            "warnings": list(self.warnings),
            "notes": list(self.notes),
        }


# ---------------------------------------------------------------- the equation system


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


def train_gd(
    a: np.ndarray, y: np.ndarray, options: LearnOptions, progress: Progress | None = None, *, blocks: int = 1
) -> tuple[np.ndarray, np.ndarray | None, list[float], list[float]]:
    """The training loop: mini-batches, MSE loss, gradient step, StepLR schedule; weights start at zero.

    The inputs are normalised first, and the normalisation undone on the weights, so the
    optimum is the least-squares one: windows are centred when there is a bias, multiplied by
    :func:`window_mean_preconditioner`, then scaled to unit mean square norm, and the
    target to unit mean square.  A mini-batch whose windows are brighter than average takes
    a proportionally shorter step (a rare bright region would otherwise throw the weights
    off).  The loss history is the mean batch MSE of each epoch, in target units.

    Returns (weights (G, n), bias (G,) or None, loss per epoch, learning rate per epoch).
    """
    g_count, m, n = a.shape
    # With a bias, centring the columns is an exact change of variables (the intercept absorbs
    # the means), and it makes the bias column orthogonal to the others.
    means = a.mean(axis=1) if options.bias else np.zeros((g_count, n))
    if options.bias:
        a = a - means[:, None, :]
    precond = window_mean_preconditioner(a, blocks)
    an = a @ precond
    sx = np.sqrt(np.mean(np.sum(an * an, axis=2), axis=1))  # (G,)
    sx[sx == 0] = 1.0
    sy = np.sqrt(np.mean(y * y, axis=1))
    sy[sy == 0] = 1.0
    an /= sx[:, None, None]
    yn = y / sy[:, None]
    bias_value = 1.0 / math.sqrt(n)
    if options.bias:
        an = _with_bias(an, bias_value)
    w = np.zeros((g_count, an.shape[2]))
    velocity = np.zeros_like(w)
    second = np.zeros_like(w)
    rng = np.random.default_rng(options.seed)
    lr = options.learning_rate
    batch = min(options.batch_size, m)
    epochs, step_size = options.schedule(m)
    history: list[float] = []
    lrs: list[float] = []
    step = 0
    run_epoch = _jitted_epoch() if an.shape[1] * an.shape[2] * g_count * epochs > JIT_EPOCH_WORK else reference_epoch
    an = np.ascontiguousarray(an)
    yn = np.ascontiguousarray(yn)
    for epoch in range(epochs):
        order = rng.permutation(m)
        total, batches = run_epoch(an, yn, order, batch, w, velocity, second, step, lr, options.momentum,
                                   options.optimizer == "adam", sy)
        step += batches
        if not (np.isfinite(w).all() and math.isfinite(total)):
            raise UsageError(f"gradient descent diverged in epoch {epoch + 1} (learning rate {lr:g}); try a smaller --lr")
        history.append(total / batches)
        lrs.append(lr)
        if progress is not None:
            progress(epoch + 1, epochs, history[-1], lr)
        if (epoch + 1) % step_size == 0:
            lr *= options.gamma
    weights = np.einsum("gij,gj->gi", precond, w[:, :n]) * (sy / sx)[:, None]
    if options.bias:
        return weights, w[:, n] * sy * bias_value - np.einsum("gn,gn->g", means, weights), history, lrs
    return weights, None, history, lrs


#: Above this many window values times epochs, the epochs run jitted (:mod:`kernelcli._core.sgd`):
#: loading Numba costs less than the numpy calls of every mini-batch step.
JIT_EPOCH_WORK = 2_000_000


def _jitted_epoch():
    from ._core.sgd import epoch

    return epoch


def reference_epoch(an, yn, order, batch, w, velocity, second, step, lr, momentum, adam, sy):
    """One epoch of mini-batch steps in plain numpy (the statement of what
    :func:`kernelcli._core.sgd.epoch` computes; small problems run it).  Updates ``w``,
    ``velocity``, ``second`` in place; returns (sum of the mean batch MSEs in target units, steps)."""
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    m = an.shape[1]
    total = 0.0
    steps = 0
    with np.errstate(over="ignore", invalid="ignore"):
        for start in range(0, m, batch):
            idx = order[start:start + batch]
            xb = an[:, idx, :]  # (G, B, p)
            residual = np.einsum("gbp,gp->gb", xb, w) - yn[:, idx]
            total += float(np.mean(np.mean(residual * residual, axis=1) * sy * sy))
            steps += 1
            grad = (2.0 / len(idx)) * np.einsum("gbp,gb->gp", xb, residual)
            step += 1
            if adam:
                velocity[...] = beta1 * velocity + (1 - beta1) * grad
                second[...] = beta2 * second + (1 - beta2) * grad * grad
                w -= lr * (velocity / (1 - beta1**step)) / (np.sqrt(second / (1 - beta2**step)) + eps)
            else:  # PyTorch's SGD with momentum (v = mu v + g; w -= lr v), the step capped for bright batches
                brightness = np.mean(np.einsum("gbp,gbp->gb", xb, xb), axis=1)
                velocity[...] = momentum * velocity + grad / np.maximum(1.0, brightness)[:, None]
                w -= lr * velocity
    return total, steps


def _loss(a: np.ndarray, y: np.ndarray, w: np.ndarray, b: np.ndarray | None) -> tuple[float, float]:
    """(MSE over every equation, relative residual: RMS residual / standard deviation of the target).

    The residual is measured against the target's variation, not its size, so a blurred
    bright image (large mean, small variation) cannot hide a poor fit.
    """
    pred = np.einsum("gmn,gn->gm", a, w)
    if b is not None:
        pred = pred + b[:, None]
    r = pred - y
    ss = float(np.sum(r * r))
    spread = float(np.sum((y - y.mean(axis=1, keepdims=True)) ** 2))
    if spread > 0:
        rel = math.sqrt(ss / spread)
    else:
        rel = 0.0 if ss <= 1e-24 * max(1.0, float(np.sum(y * y))) else math.inf
    return ss / r.size, rel


def _as_kernel(w: np.ndarray, options: LearnOptions, channels: int) -> np.ndarray:
    kh, kw = options.size
    if options.combine == "sum":
        k = w.reshape(channels, kh, kw)
    elif options.combine == "shared" or w.shape[0] == 1:
        k = w.reshape(kh, kw)
    else:
        k = w.reshape(-1, kh, kw)
    return k[..., ::-1, ::-1].copy() if options.flip else k


# ---------------------------------------------------------------- the entry point


def learn_kernel(
    x: Any,
    target: Any,
    options: LearnOptions | None = None,
    *,
    progress: Progress | None = None,
    input_name: str = "input",
    target_name: str = "target",
) -> LearnResult:
    """Learn the kernel that turns ``x`` into ``target`` under :func:`kernelcli.api.conv2d`.

    Parameters
    ----------
    x, target : array_like
        (H, W) or (H, W, C); ``target`` must have the shape conv2d gives with ``options``.
    options : LearnOptions
        Size, method, padding/stride, training settings.
    progress : callable, optional
        ``progress(epoch, epochs, loss, lr)`` after each ``gd`` epoch.
    input_name, target_name : str
        How error messages name the two arrays (file names, for instance).

    Raises
    ------
    ShapeError
        The target does not have the shape conv2d would give (the message says which padding would fit).
    UsageError
        A constant input, or a system too small or singular to decide the kernel.

    >>> x = np.random.default_rng(1).random((12, 12))
    >>> r = learn_kernel(x, 2 * x, LearnOptions(size=1))
    >>> round(float(r.kernel[0, 0]), 9), r.fits
    (2.0, True)
    """
    options = options or LearnOptions()
    start = time.perf_counter()
    xa = as_image_array(x, input_name)
    ta = as_image_array(target, target_name)
    _check_shapes(xa, ta, options, input_name, target_name)
    _check_texture(xa, input_name)
    channels = xa.shape[2] if xa.ndim == 3 else 1
    rng = np.random.default_rng(options.seed)
    a, y, total = _system(xa, ta, options, rng)
    result_notes: list[str] = []
    if a.shape[1] < total:
        result_notes.append(f"used a random {a.shape[1]} of the {total} windows (memory limit); exact targets give the same kernel")
    unknowns = a.shape[2] + int(options.bias)
    if a.shape[1] < unknowns:
        kh, kw = options.size
        raise UsageError(
            f"too few equations: the target has {a.shape[1]} value(s) per kernel but a {kh}x{kw} kernel"
            f"{' with a bias' if options.bias else ''} has {unknowns} unknowns; use a larger image or a smaller --size"
        )
    w_ls, b_ls, rank, unknowns, cond = solve_lstsq(a, y, options.bias)
    if rank < unknowns:
        kh, kw = options.size
        raise UsageError(
            f"the system is singular (rank {rank} of {unknowns} unknowns): {input_name} has too little texture to "
            f"decide a {kh}x{kw} kernel (it may vary in one direction only, or be constant in places the windows see); "
            "use a more detailed image or a smaller --size"
        )
    mse_ls, rel_ls = _loss(a, y, w_ls, b_ls)
    fit = LstsqFit(
        kernel=_as_kernel(w_ls, options, channels), bias=b_ls, rank=rank, unknowns=unknowns,
        condition=cond, mse=mse_ls, relative_residual=rel_ls,
    )
    warnings_: list[str] = []
    if cond > ILL_CONDITIONED:
        warnings_.append(
            f"the system is ill-conditioned (condition number {cond:.3g}): small changes in the target move the "
            "kernel a lot; an image with more varied detail decides it better"
        )
    if options.method == "lstsq":
        w, b, history, lrs = w_ls, b_ls, [], []
        mse, rel = mse_ls, rel_ls
        diff = None
    else:
        w, b, history, lrs = train_gd(a, y, options, progress, blocks=channels if options.combine == "sum" else 1)
        mse, rel = _loss(a, y, w, b)
        diff = float(np.max(np.abs(w - w_ls)))
        if b is not None:
            diff = max(diff, float(np.max(np.abs(b - b_ls))))
    kernel = _as_kernel(w, options, channels)
    if rel_ls > POOR_FIT:  # judged on the best kernel; gd falling short of it has its own warning below
        kh, kw = options.size
        warnings_.append(
            f"poor fit: the residual of the best {kh}x{kw} kernel is {100 * rel_ls:.3g}% of the target's standard "
            f"deviation; the true kernel may be larger, the padding or stride may differ"
            f"{', a bias may be needed (--fit-bias)' if not options.bias else ''}, the target may be noisy, or it is not "
            "a linear filter of the input"
        )
    if diff is not None and diff > 1e-3 * max(1.0, float(np.max(np.abs(w_ls)))):
        warnings_.append(
            f"gradient descent stopped {diff:.3g} away from the least-squares kernel; more --epochs, a larger "
            "--step-size or another --lr would get closer"
        )
    if options.combine == "per-channel" and kernel.ndim == 3 and np.allclose(kernel, kernel[0], rtol=0, atol=1e-6 * max(1.0, float(np.abs(kernel).max()))):
        result_notes.append(f"the {channels} per-channel kernels agree; --combine shared learns the one kernel `convolve` applies to every channel")
    return LearnResult(
        kernel=kernel, bias=b, method=options.method, combine=options.combine, channels=channels,
        loss=mse, relative_residual=rel, lstsq=fit, history=history, lrs=lrs, max_diff_vs_lstsq=diff,
        windows_used=int(a.shape[1]), windows_total=int(total), seconds=time.perf_counter() - start,
        warnings=warnings_, notes=result_notes,
    )


# ---------------------------------------------------------------- presenting the answer


def format_value(v: float, decimals: int = 6) -> str:
    """A number rounded to ``decimals`` places, without trailing zeros; -0 is 0.

    >>> format_value(-0.0000001), format_value(2.0), format_value(1 / 3), format_value(-1.5)
    ('0', '2', '0.333333', '-1.5')
    """
    text = f"{round(float(v), decimals):.{decimals}f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def format_kernel(kernel: np.ndarray, decimals: int = 6) -> str:
    """A 2-D matrix as right-aligned columns (rounded); 3-D as one block per channel.

    >>> print(format_kernel(np.array([[1.0, -0.0, -1.0000000001], [0.5, 2, 0]])), end="")
      1   0  -1
    0.5   2   0
    """
    k = np.asarray(kernel)
    if k.ndim == 3:
        return "\n".join(f"channel {c}:\n" + format_kernel(k[c], decimals) for c in range(k.shape[0]))
    cells = [[format_value(v, decimals) for v in row] for row in k]
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


def kernel_name(text: str) -> str:
    """A catalogue-valid name (lower-case letters, digits, underscores, at most 64) from free text.

    >>> kernel_name("My Sobel-v (learned)")
    'my_sobel_v_learned'
    """
    import re

    name = re.sub(r"[^a-z0-9_]+", "_", text.lower()).strip("_")[:64].strip("_")
    return name or "learned"


def kernel_document(result: LearnResult, *, name: str, input_name: str, target_name: str) -> dict[str, Any]:
    """The kernel file for ``result`` in the catalogue's format.

    One kernel (``per-channel`` with one channel, ``shared``) gives a single-kernel object;
    ``per-channel`` with C > 1 a family with one kernel per channel (``NAME_c0``, ...);
    ``sum`` a single kernel whose matrix is C x f x f (the catalogue reads 2-D matrices only).
    The bias, if learned, is stated in the description: kernel files hold no bias.
    """
    kh, kw = result.size
    how = "least squares" if result.method == "lstsq" else f"gradient descent ({len(result.history)} epochs)"
    line = (
        f"Learned from {_one_line(input_name)} -> {_one_line(target_name)}, {kh}x{kw}, by {how}; "
        f"final MSE {result.loss:.3g}, residual {100 * result.relative_residual:.3g}% of the target's std"
    )
    source = "learned by kernelcli learn"

    def bias_text(i: int) -> str:
        if result.bias is None:
            return ""
        return f"; bias {format_value(result.bias[i])} (not in the matrix: add it after convolving)"

    if result.combine == "per-channel" and result.kernel.ndim == 3:
        return {
            "family": name,
            "description": line + f"; one kernel per channel ({result.channels})",
            "kernels": [
                {
                    "name": f"{name}_c{c}"[:64],
                    "matrix": clean_values(result.kernel[c]),
                    "description": f"Channel {c}. " + line + bias_text(c),
                    "source": source,
                }
                for c in range(result.kernel.shape[0])
            ],
        }
    extra = f"; a {result.channels}-channel kernel whose responses are summed" if result.combine == "sum" else ""
    return {
        "name": name,
        "matrix": clean_values(result.kernel),
        "description": line + extra + bias_text(0),
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


__all__: Sequence[str] = (
    "LearnOptions", "LearnResult", "LstsqFit", "learn_kernel", "windows", "output_shape",
    "solve_lstsq", "train_gd", "format_kernel", "format_value", "clean_values", "kernel_name", "kernel_document",
    "kernel_json_text",
)
