"""The ``gd`` training loop of :mod:`kernelcli.learn`: mini-batches, MSE loss, SGD/Adam step, StepLR.

The loop runs jitted (``kernelcli._core.sgd``) above :data:`JIT_EPOCH_WORK` and in numpy
(:func:`reference_epoch`, the tests' statement of it) below.  Split from :mod:`kernelcli.learn`,
which re-exports every name.

>>> import numpy as np
>>> from kernelcli.learn_options import LearnOptions
>>> a = np.random.default_rng(0).random((1, 200, 4)); y = a @ np.array([[1.0, 2.0, 3.0, 4.0]]).T
>>> w, b, history, lrs = train_gd(a, y[..., 0], LearnOptions(size=2, method="gd"))
>>> np.round(w, 3)
array([[1., 2., 3., 4.]])
"""

from __future__ import annotations

import math
import numpy as np

from .errors import UsageError
from .learn_options import WORDINGS, LearnOptions, OptionWords, Progress
from .learn_system import predict, window_mean_preconditioner, with_bias_column

def train_gd(
    a: np.ndarray, y: np.ndarray, options: LearnOptions, progress: Progress | None = None, *, blocks: int = 1,
    words: OptionWords = WORDINGS["api"],
) -> tuple[np.ndarray, np.ndarray | None, list[float], list[float]]:
    """The training loop: mini-batches, MSE loss, gradient step, StepLR schedule; weights start at zero.

    The inputs are normalised first, and the normalisation undone on the weights, so the
    optimum is the least-squares one: windows are centred when there is a bias, multiplied by
    :func:`window_mean_preconditioner`, then scaled to unit mean square norm, and the
    target to unit mean square.  SGD's step (``torch.optim.SGD`` with momentum) is divided by the
    mini-batch's mean window energy where that exceeds 1: a rare bright region would otherwise
    throw the weights off at an ``lr`` that fits the rest.  Adam steps as ``torch.optim.Adam``.
    The loss history is the mean batch MSE of each epoch, in target units.

    Returns (weights (G, n), bias (G,) or None, loss per epoch, learning rate per epoch).  A divergence is refused
    naming the learning-rate option in ``words``.
    """
    g_count, m, n = a.shape
    # With a bias, centring the columns is an exact change of variables (the intercept absorbs
    # the means), and it makes the bias column orthogonal to the others.
    means = a.mean(axis=1) if options.fit_bias else np.zeros((g_count, n))
    if options.fit_bias:
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
    if options.fit_bias:
        an = with_bias_column(an, bias_value)
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
            raise UsageError(f"gradient descent diverged in epoch {epoch + 1} (learning rate {lr:g}); try a smaller {words.name('lr')}")
        history.append(total / batches)
        lrs.append(lr)
        if progress is not None:
            progress(epoch + 1, epochs, history[-1], lr)
        if (epoch + 1) % step_size == 0:
            lr *= options.gamma
    _check_not_diverged(history, sy, options.learning_rate, words, final=_final_loss(an, yn, w, sy))
    weights = np.einsum("gij,gj->gi", precond, w[:, :n]) * (sy / sx)[:, None]
    if options.fit_bias:
        return weights, w[:, n] * sy * bias_value - np.einsum("gn,gn->g", means, weights), history, lrs
    return weights, None, history, lrs


#: A last epoch's loss past this many times the all-zero kernel's (where the weights start) is divergence: the
#: least-squares kernel's loss is at most that one's, and a step size that overshoots grows the loss
#: geometrically (a 1-epoch run at --lr 3 ended at 7.6e243, a kernel of values near 1e121, with exit 0)
DIVERGED_GROWTH = 10.0


def _final_loss(an: np.ndarray, yn: np.ndarray, w: np.ndarray, sy: np.ndarray) -> float:
    """The MSE of the weights ``w`` over every window, in target units (the groups' mean, as the history's)."""
    with np.errstate(over="ignore", invalid="ignore"):
        residual = np.einsum("gmp,gp->gm", an, w) - yn
        return float(np.mean(np.mean(residual * residual, axis=1) * sy * sy))


def _check_not_diverged(history: list[float], sy: np.ndarray, lr: float, words: OptionWords = WORDINGS["api"], *,
                        final: float | None = None) -> None:
    """A UsageError where the training went the wrong way, naming the learning-rate option in ``words``: a last
    epoch's loss :data:`DIVERGED_GROWTH` times its start's or more, or an epoch loss that grew over the run to a kernel
    whose loss (``final``, over every window) is above the all-zero kernel's it started from.  (Rising alone is not
    enough: small batches on a target no kernel fits end a little above the start with a falling loss; a loss that
    rose from 506 to 1147 in 3 epochs, its kernel 5.6 times worse than zeros, was told "more epochs would get closer".)

    >>> _check_not_diverged([5.0, 2.0], np.array([1.0]), 0.1)
    >>> _check_not_diverged([5.0, 20.0], np.array([1.0]), 3.0)
    Traceback (most recent call last):
    ...
    kernelcli.errors.UsageError: gradient descent diverged (learning rate 3): its last epoch's loss, 20, is 20 times the all-zero kernel's it started from; try a smaller lr=
    >>> _check_not_diverged([0.5, 0.9], np.array([1.0]), 3.0, final=2.0)
    Traceback (most recent call last):
    ...
    kernelcli.errors.UsageError: gradient descent diverged (learning rate 3): its epoch loss grew from 0.5 to 0.9, to a kernel whose loss, 2, is 2 times the all-zero kernel's it started from; try a smaller lr=
    """
    with np.errstate(over="ignore"):
        start = float(np.mean(sy * sy))  # the all-zero kernel's MSE in target units
    if not (history and 0 < start < math.inf):
        return
    if history[-1] > DIVERGED_GROWTH * start:
        raise UsageError(f"gradient descent diverged (learning rate {lr:g}): its last epoch's loss, {history[-1]:.3g}, is "
                         f"{history[-1] / start:.3g} times the all-zero kernel's it started from; try a smaller {words.name('lr')}")
    if final is not None and len(history) > 1 and history[-1] > history[0] and final > start:
        raise UsageError(f"gradient descent diverged (learning rate {lr:g}): its epoch loss grew from {history[0]:.3g} to "
                         f"{history[-1]:.3g}, to a kernel whose loss, {final:.3g}, is {final / start:.3g} times the all-zero "
                         f"kernel's it started from; try a smaller {words.name('lr')}")


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
            else:  # torch.optim.SGD with momentum (v = mu v + g; w -= lr v), g divided by a bright batch's energy
                brightness = np.mean(np.einsum("gbp,gbp->gb", xb, xb), axis=1)
                velocity[...] = momentum * velocity + grad / np.maximum(1.0, brightness)[:, None]
                w -= lr * velocity
    return total, steps


def fit_loss(a: np.ndarray, y: np.ndarray, w: np.ndarray, b: np.ndarray | None,
          exact: float | None = None) -> tuple[float, float, np.ndarray]:
    """(MSE over every equation, relative residual: RMS residual / standard deviation of the target, and each
    group's relative residual on its own: (G,)).

    The residual is measured against the target's variation, not its size, so a blurred
    bright image (large mean, small variation) cannot hide a poor fit.  A group is a channel fitted
    alone (per-channel): pooled, a channel of large spread hid one that did not fit at all.  A constant target (its
    spread within :data:`ROUNDING_ULPS` of rounding) gives 0 for an exact fit and inf otherwise, at any scale: exact
    is an RMS residual within ``exact`` of the target's RMS (:data:`EXACT_FIT` by default, the solver's rounding;
    :data:`GD_EXACT_FIT` for gd's kernel).

    >>> a = np.array([[[1.0], [2.0], [3.0]], [[1.0], [2.0], [3.0]]]); y = np.array([[2.0, 4.0, 6.0], [0.0, 1.0, 0.0]])
    >>> mse, rel, rels = fit_loss(a, y, np.array([[2.0], [0.0]]), None)
    >>> round(rel, 3), np.round(rels, 3).tolist()
    (0.34, [0.0, 1.225])
    """
    r = predict(a, w, b) - y
    ss = np.sum(r * r, axis=1)
    spread = np.sum((y - y.mean(axis=1, keepdims=True)) ** 2, axis=1)
    size = np.sum(y * y, axis=1)
    tops = np.max(np.abs(y), axis=1) if y.size else np.zeros(len(y))
    rounding = y.shape[1] * np.square(ROUNDING_ULPS * np.finfo(np.float64).eps * tops)
    exact = EXACT_FIT if exact is None else exact
    rels = np.array([_relative(*sums, exact) for sums in zip(ss, spread, size, rounding)])
    return float(ss.sum()) / r.size, _relative(ss.sum(), spread.sum(), size.sum(), rounding.sum(), exact), rels


#: A target whose spread about its mean is within this many float64 eps of its largest magnitude (RMS) is constant:
#: the mean of a constant 0.1 rounds (its spread measured up to 2.4 eps of it, 1024 to 3e6 values), and taken as the
#: target's variation it judged an exact --fit-bias fit 1.04e+04% off
ROUNDING_ULPS = 16.0
#: An exact fit of a constant target: its RMS residual within this share of the target's RMS (the solver's rounding;
#: 65 eps at condition 15).  An absolute floor read a target of 1e-14 with the kernel 20% off as exact
EXACT_FIT = 1e-12
#: ... and of gd's kernel: its RMS residual within this share of the target's RMS, the share of its own scale gd's taps
#: and bias may stop from the least-squares fit unwarned (:func:`kernelcli.learn_judge.gd_stopped`).  Held to EXACT_FIT,
#: sgd's fit of a constant 7 (residual 3.5e-12 of it, as close as on any varying target) read 'fits: false, residual
#: inf%' with no warning, where adam's and lstsq's read 0; unwarned gd residuals measured up to 6e-4 of the target's RMS
GD_EXACT_FIT = 1e-3


def _relative(ss: float, spread: float, size: float, rounding: float = 0.0, exact: float = EXACT_FIT) -> float:
    """The RMS residual over the target's spread (sums of squares ``ss`` and ``spread``); for a constant target (its
    ``spread`` within ``rounding``), 0 where the residual is within ``exact`` of its size (its RMS), else inf.

    >>> _relative(4.0, 1.0, 9.0), _relative(1e-54, 1e-36, 1e-28, 1e-33), _relative(1e-30, 1e-36, 1e-28, 1e-33)
    (2.0, 0.0, inf)
    """
    if spread > rounding:
        return math.sqrt(ss / spread)
    return 0.0 if ss <= exact * exact * size else math.inf


def kernel_from_weights(w: np.ndarray, options: LearnOptions, channels: int) -> np.ndarray:
    """The kernel the fitted weights ``w`` (G, kh*kw or C*kh*kw) are, as ``convolve`` reads it: (kh, kw) for one
    group, (G, kh, kw) per channel, (C, kh, kw) for ``sum`` over C > 1 channels (over one, that channel's own (kh, kw),
    as per-channel and shared give); flipped back where ``options.flip`` fitted a convolution.

    >>> kernel_from_weights(np.arange(4.0).reshape(1, 4), LearnOptions(size=2), 1).tolist()
    [[0.0, 1.0], [2.0, 3.0]]
    >>> kernel_from_weights(np.arange(4.0).reshape(1, 4), LearnOptions(size=2, combine="sum"), 1).shape
    (2, 2)
    """
    kh, kw = options.size
    if options.combine == "sum" and channels > 1:
        k = w.reshape(channels, kh, kw)
    elif options.combine == "shared" or w.shape[0] == 1:
        k = w.reshape(kh, kw)
    else:
        k = w.reshape(-1, kh, kw)
    return k[..., ::-1, ::-1].copy() if options.flip else k


# ---------------------------------------------------------------- the entry point

