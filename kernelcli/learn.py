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

The parts live in sibling modules, re-exported here (the public names callers
import): :mod:`kernelcli.learn_options` (options, limits), :mod:`kernelcli.learn_checks` (refusals before a fit),
:mod:`kernelcli.learn_system` (the im2col system, least squares), :mod:`kernelcli.learn_gd` (the training loop) and
:mod:`kernelcli.learn_report` (result records, formatting, the kernel-file document).

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

import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import ndsupport
from .api import as_image_array
from .errors import UsageError
from .layout import PLANE_WORDS
from .learn_gd import GD_EXACT_FIT, JIT_EPOCH_WORK, fit_loss, kernel_from_weights, reference_epoch, train_gd
from .learn_judge import _diagnoses, _offset_fits, felt_floors, gd_scales, gd_stopped, poor_fit, tap_floors, too_large_for, without_noise
from .learn_options import (
    COMBINES, DEFAULT_EPOCHS, DEFAULT_LR, ILL_CONDITIONED, MAX_SYSTEM_VALUES, METHODS, MIN_STEPS, OPTIMIZERS, POOR_FIT,
    WORDINGS, LearnOptions, OptionWords, Progress, unused_training, words_for,
)
from .learn_report import (
    LearnResult, channel_words, LstsqFit, _one_line, clean_values, format_kernel, format_value, format_values, kernel_document, kernel_json_text,
    kernel_name,
)
from .learn_checks import check_channels_first, check_shapes, check_texture
from .learn_system import (
    clipped_target, im2col_system, negligible_bias, output_shape, padded_otherwise, predict, rounding_tolerance,
    solve_lstsq, stored_precision, window_mean_preconditioner, windows,
)

# ---------------------------------------------------------------- the entry point


def learn_kernel(
    x: Any,
    target: Any,
    options: LearnOptions | None = None,
    *,
    progress: Progress | None = None,
    input_name: str = "input",
    target_name: str = "target",
    plane: str = "channel",
    words: str = "api",
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
    plane : {"channel", "slice"}
        What warnings and notes call the arrays' third axis's planes: ``"slice"`` for a volume's
        (:func:`kernelcli.layout.plane_word` of the layout it was read with), moved last.
    words : {"api", "cli"}
        How refusals, warnings and notes name an option: ``"api"``, this function's (``size=3``,
        ``padding='valid'``); ``"cli"``, ``kernelcli learn``'s (``--size 3``, ``--padding valid``).  Warnings and
        notes are worded so when made (they travel in the result).

    Raises
    ------
    ShapeError
        The target does not have the shape conv2d would give (the message says which padding would fit, or, where
        one of the two moved from (C, H, W) to (H, W, C) would fit the other, the np.moveaxis that does it).
    UsageError
        A constant input, a system too small or singular to decide the kernel, or a 64-bit integer array with
        values past 2**53 that float64 would round (named by ``input_name``/``target_name``).

    >>> x = np.random.default_rng(1).random((12, 12))
    >>> r = learn_kernel(x, 2 * x, LearnOptions(size=1))
    >>> round(float(r.kernel[0, 0]), 9), r.fits
    (2.0, True)
    """
    options = LearnOptions() if options is None else options
    if not isinstance(options, LearnOptions):  # (a dict of settings was an AttributeError deep inside)
        raise UsageError(f"options: expected kernelcli.LearnOptions(...), got {type(options).__name__}")
    if plane not in PLANE_WORDS.values():
        raise UsageError(f"invalid plane {plane!r}: expected one of {', '.join(sorted(set(PLANE_WORDS.values())))}")
    named = words_for(words)
    start = time.perf_counter()
    xa = as_image_array(x, input_name)
    ta = as_image_array(target, target_name)
    for arr, name in ((xa, input_name), (ta, target_name)):  # (rounded in silence, the fit then blamed the kernel size)
        ndsupport.check_whole(arr, np.dtype(np.float64), name, dtype_arg=False)
    if not named.cli:  # (the command reads a file's axes by --layout, and says so where they are its fault)
        check_channels_first(xa, ta, options, (input_name, target_name))
    check_shapes(xa, ta, options, input_name, target_name, plane, named)
    check_texture(xa, input_name, options, plane, ta, named)
    channels = xa.shape[2] if xa.ndim == 3 else 1
    rng = np.random.default_rng(options.seed)
    a, y, total, inner = im2col_system(xa, ta, options, rng)
    result_notes = unused_training(options, named)  # (epochs= with lstsq: said, as the command says it)
    used = a.shape[1] // channels if options.combine == "shared" else a.shape[1]  # (shared: each window once per channel)
    if used < total:
        result_notes.append(f"used a random {used} of the {total} windows (at most {options.max_values:,} equation values "
                            f"are held; {named.name('seed')} picks them): an exact target gives the same kernel, another the fit of "
                            "that subset")
    unknowns = a.shape[2] + int(options.fit_bias)
    if a.shape[1] < unknowns:
        raise UsageError(_too_few(a.shape[1], unknowns, channels, options, named))
    # Values whose squares leave float64's range are brought near 1 by powers of two (exact): the sums of
    # squares the fit, the loss and gd's bookkeeping take would overflow (or vanish) on them.
    ea, ey = _range_exponent(a), _range_exponent(y)
    a, y = (np.ldexp(a, -ea) if ea else a), (np.ldexp(y, -ey) if ey else y)
    w_ls, b_ls, rank, unknowns, cond = solve_lstsq(a, y, options.fit_bias)
    b_ls = negligible_bias(b_ls, a, y, w_ls, cond)
    fill_cond = _fill_blamed(a, y, inner, options) if rank < unknowns or cond > ILL_CONDITIONED else None
    if rank < unknowns:
        if fill_cond is not None:
            raise UsageError(f"the system is singular (rank {rank} of {unknowns} unknowns): {_fill_words(options, input_name, fill_cond, named)}")
        raise UsageError(_singular(xa, a, rank, unknowns, options, input_name, plane, named))
    mse_ls, rel_ls, rels_ls = fit_loss(a, y, w_ls, b_ls)
    precision = stored_precision(ta)
    warnings_ = _diagnoses(a, y, inner, w_ls, b_ls, precision, options, target_name, plane, named)
    if a.shape[1] == unknowns:
        warnings_.append(
            f"as many equations as unknowns ({unknowns}): any target fits exactly, so the data do not check the kernel; "
            f"a larger image (or a smaller {named.name('size')}) gives windows to test it on"
        )
    if not options.fit_bias and not warnings_:
        warnings_.extend(filter(None, [_offset_fits(a, y, w_ls, rels_ls, precision, options, ey, plane, named)]))
    blocks = channels if options.combine == "sum" else 1
    floors_here = felt_floors(a, y, w_ls, tap_floors(a, y, cond, blocks), blocks, bias=options.fit_bias)
    _check_kernel_range(w_ls, floors_here, ea, ey, xa, ta, input_name, target_name)
    with np.errstate(over="ignore"):  # (each kernel's, in the data's units: beyond float64 as its taps are)
        floors = np.ldexp(floors_here, ey - ea)
        # the scales gd's distance is judged on: each kernel's taps' (a sum kernel's channel: its own share's) and
        # each bias's (its target's RMS)
        judged_on = np.ldexp(gd_scales(a, y, w_ls, blocks), ey - ea), np.ldexp(np.sqrt(np.mean(np.square(y), axis=1)), ey)
    w_ls, b_ls, mse_ls = _unscaled(w_ls, b_ls, mse_ls, ea, ey)
    fit = LstsqFit(
        kernel=without_noise(kernel_from_weights(w_ls, options, channels), floors), bias=b_ls, rank=rank, unknowns=unknowns,
        condition=cond, mse=mse_ls, relative_residual=rel_ls, relative_residuals=rels_ls.tolist(),
    )
    if cond > ILL_CONDITIONED and fill_cond is not None:
        warnings_.append(f"the system is ill-conditioned (condition number {cond:.3g}): {_fill_words(options, input_name, fill_cond, named)}")
    elif cond > ILL_CONDITIONED:
        warnings_.append(
            f"the system is ill-conditioned (condition number {cond:.3g}): small changes in the target move the "
            "kernel a lot; an image with more varied detail decides it better"
        )
    if options.method == "lstsq":
        w, b, history, lrs = w_ls, b_ls, [], []
        mse, rel, rels = mse_ls, rel_ls, rels_ls
        diff = None
    else:
        w, b, history, lrs = train_gd(a, y, options, progress, blocks=blocks, words=named)
        # (its taps where lstsq's are noise keep its training's leftover: in these units they may fall below float64's
        # normal range, harmlessly; only a kernel past its top is refused)
        _check_kernel_range(w, None, ea, ey, xa, ta, input_name, target_name)
        b = negligible_bias(b, a, y, w)
        mse, rel, rels = fit_loss(a, y, w, b, GD_EXACT_FIT)
        w, b, mse = _unscaled(w, b, mse, ea, ey)
        if ey:
            with np.errstate(over="ignore"):
                history = [float(np.ldexp(h, 2 * ey)) for h in history]
        diff = float(np.max(np.abs(w - w_ls)))
    kernel = without_noise(kernel_from_weights(w, options, channels), floors)
    # judged on the best kernel, each channel fitted alone on its own; gd falling short of it has its own warning below
    warnings_.extend(filter(None, [poor_fit(rels_ls, options, channels=options.combine == "per-channel" and channels > 1,
                                                         plane=plane, words=named)]))
    if diff is not None:  # (each kernel's taps on their own scale, each bias on its own, in the data's units)
        # (a constant target's gd fit judged not exact is named too, however near its taps and bias stopped)
        short = np.isinf(rels) & ~np.isinf(rels_ls)
        grew = (history[0], history[-1]) if len(history) > 1 and history[-1] > history[0] else None
        warnings_.extend(filter(None, [gd_stopped(w, w_ls, b, b_ls, *judged_on, plane, short=short, grew=grew, words=named)]))
    if options.combine == "per-channel" and kernel.ndim == 3 and _agree(kernel, b):
        result_notes.append(f"the {channels} per-{plane} kernels agree; {named.given('combine', 'shared')} learns the one "
                            f"kernel `convolve` applies to every {plane}")
    return LearnResult(
        kernel=kernel, bias=b, method=options.method, combine=options.combine, channels=channels,
        loss=mse, relative_residual=rel, relative_residuals=rels.tolist(), lstsq=fit, history=history, lrs=lrs, max_diff_vs_lstsq=diff,
        windows_used=int(used), windows_total=int(total), seconds=time.perf_counter() - start,
        warnings=warnings_, notes=result_notes, plane=plane,
    )


def _fill_blamed(a: np.ndarray, y: np.ndarray, inner: np.ndarray, options: LearnOptions) -> float | None:
    """The condition number of the system of the windows that read no padding, where those alone decide the kernel
    well and the padding is a constant fill other than 0; else None.  A fill far outside the image's values swamps
    the border windows' columns: the whole system is then singular or ill-conditioned though the image is not."""
    if options.pad_mode != "constant" or options.pad_value == 0 or inner.all() or not inner.any():
        return None
    rows = np.tile(inner, a.shape[1] // inner.size)  # (shared: each window once per channel)
    unknowns = a.shape[2] + int(options.fit_bias)
    if rows.sum() < unknowns:
        return None
    _, _, rank, unknowns, cond = solve_lstsq(a[:, rows], y[:, rows], options.fit_bias)
    return cond if rank == unknowns and cond <= ILL_CONDITIONED else None


def _fill_words(options: LearnOptions, input_name: str, inner_cond: float, words: OptionWords = WORDINGS["api"]) -> str:
    """Why a fill makes the system singular or ill-conditioned, and what to do instead (:func:`_fill_blamed`), naming the
    options in ``words``."""
    return (f"{words.given('pad_value', options.pad_value)} fills the border windows with values that swamp {input_name}'s "
            f"(its windows inside the image alone decide the kernel: condition number {inner_cond:.3g}); use "
            f"{words.given('padding', 'valid')} (with the target cropped to match) or a {words.name('pad_value')} near "
            f"{input_name}'s values")


def _singular(x: np.ndarray, a: np.ndarray, rank: int, unknowns: int, options: LearnOptions, input_name: str,
              plane: str = "channel", words: OptionWords = WORDINGS["api"]) -> str:
    """The message for a singular system: a kernel too large for the image, whatever it holds (:func:`too_large_for`);
    a sum kernel's channels that each decide their own taps but not together (equal or linearly dependent channels:
    only their kernels' sum is decided); else too little texture.  ``words``: how an option is named.

    >>> x = np.random.default_rng(0).random((8, 8)); x3 = np.dstack([x, x])
    >>> a = windows(x3, LearnOptions(size=1)).reshape(1, 64, 2)
    >>> print(_singular(x3, a, 1, 2, LearnOptions(size=1, combine="sum"), "g.png"))  # doctest: +NORMALIZE_WHITESPACE
    the system is singular (rank 1 of 2 unknowns): g.png's channels 0 and 1 are equal, so a combine='sum' kernel's
    split across them is not decided, only their kernels' sum; learn from the image with one of them (a grey image
    saved as colour: the grey image) for that sum
    """
    kh, kw = options.size
    head = f"the system is singular (rank {rank} of {unknowns} unknowns): "
    too_large = too_large_for(x.shape, options, input_name, words)
    if too_large:
        return head + too_large
    x3 = x.reshape(x.shape[0], x.shape[1], -1)
    channels = x3.shape[2]
    width = kh * kw
    if options.combine == "sum" and channels > 1 and all(
            np.linalg.matrix_rank(a[0][:, c * width:(c + 1) * width]) == width for c in range(channels)):
        equal = [c for c in range(channels) if any(np.array_equal(x3[:, :, c], x3[:, :, d]) for d in range(channels) if d != c)]
        if equal:
            return (head + f"{input_name}'s {channel_words(equal, plane)} are equal, so a {words.given('combine', 'sum')} kernel's split across "
                    "them is not decided, only their kernels' sum; learn from the image with one of them (a grey image "
                    "saved as colour: the grey image) for that sum")
        return (head + f"{input_name}'s {plane}s are linearly dependent (each alone decides its {kh}x{kw} taps; one is "
                f"a mix of the others{' and a constant' if options.fit_bias else ''}), so a {words.given('combine', 'sum')} kernel's split "
                f"across them is not decided; learn from fewer {plane}s")
    return (head + f"{input_name} has too little texture to decide a {kh}x{kw} kernel (it may vary in one direction "
            f"only, or be constant in places the windows see); use a more detailed image or a smaller {words.name('size')}")


def _rows_held(side: int, channels: int, options: LearnOptions) -> int:
    """How many equations each kernel gets at most under ``options.max_values`` with a ``side`` x ``side`` kernel: the
    windows held, each ``channels`` x side x side values (``shared`` takes each channel's as an equation of its own)."""
    held = max(1, options.max_values // (channels * side * side))
    return held * (channels if options.combine == "shared" else 1)


def _too_few(rows: int, unknowns: int, channels: int, options: LearnOptions, words: OptionWords = WORDINGS["api"]) -> str:
    """The message for a system of ``rows`` equations per kernel, fewer than its ``unknowns``: the value cap's where no
    image gives this kernel size enough (the size must shrink: the largest that fits is named), the target's otherwise;
    the options named in ``words``.

    >>> print(_too_few(800, 10000, 1, LearnOptions(size=100), WORDINGS["cli"]))  # doctest: +NORMALIZE_WHITESPACE
    too few equations: at most 8,000,000 equation values are held, so at most 800 windows of 10,000 values (each an
    equation of the 100x100 kernel), fewer than the kernel's 10,000 unknowns, on any image; use --size 53 or smaller
    """
    kh, kw = options.size
    summed = options.combine == "sum" and channels > 1
    name = f"{channels}x{kh}x{kw}" if summed else f"{kh}x{kw}"
    with_bias = " with a bias" if options.fit_bias else ""

    def unknowns_at(side: int) -> int:
        return (channels if summed else 1) * side * side + int(options.fit_bias)

    side = max(kh, kw)
    if _rows_held(side, channels, options) >= unknowns:
        return (f"too few equations: the target has {rows} value(s) per kernel but a {name} kernel{with_bias} has "
                f"{unknowns} unknowns; use a larger image or a smaller {words.name('size')}")
    while side > 1 and _rows_held(side, channels, options) < unknowns_at(side):
        side -= 1
    per_window = channels * kh * kw
    held = max(1, options.max_values // per_window)
    if summed or channels == 1:
        whose = f"each an equation of the {name} kernel"
    else:
        whose = f"{channels} channels of {kh * kw:,} values, each an equation of " + (
            f"the one {name} kernel: {held * channels:,} equations" if options.combine == "shared" else f"its channel's {name} kernel")
    return (f"too few equations: at most {options.max_values:,} equation values are held, so at most {held:,} windows of "
            f"{per_window:,} values ({whose}), fewer than the kernel's {unknowns:,} unknowns"
            f"{' (with the bias)' if options.fit_bias else ''}, on any image; use {words.given('size', side)} or smaller")


def _agree(kernels: np.ndarray, bias: np.ndarray | None) -> bool:
    """True when the per-channel ``kernels`` are one kernel within 1e-6 of their largest tap, and their biases one
    bias within 1e-6 of the largest: then ``combine="shared"`` (one kernel, one bias) makes the same target.  (An
    absolute 1e-6 took Sobel, Laplacian and box at the 1e-7 scale for one kernel, and differing biases were not looked at.)

    >>> sobel = np.array([[1., 0, -1], [2, 0, -2], [1, 0, -1]])
    >>> _agree(np.stack([sobel, sobel]) * 1e-7, None), _agree(np.stack([sobel, sobel.T]) * 1e-7, None)
    (True, False)
    >>> _agree(np.stack([sobel, sobel]), np.array([5.0, -3.0]))
    False
    """
    def one(values: np.ndarray) -> bool:
        return bool(np.all(np.abs(values - values[0]) <= 1e-6 * np.max(np.abs(values))))

    return one(kernels) and (bias is None or one(bias))


#: beyond 2**LARGEST_EXPONENT (or below its inverse), a value's square nears float64's limits
LARGEST_EXPONENT = 200


def _range_exponent(v: np.ndarray) -> int:
    """The power of two to divide ``v`` by so that squares and their sums stay in float64's range: 0 unless
    its largest magnitude is beyond 2**200 or below 2**-200 (then that magnitude's exponent).

    >>> _range_exponent(np.array([1e50])), _range_exponent(np.array([1e160, -3.0]))
    (0, 532)
    """
    top = float(np.max(np.abs(v))) if v.size else 0.0
    exponent = int(np.frexp(top)[1])
    return exponent if top > 0 and abs(exponent) > LARGEST_EXPONENT else 0


def _check_kernel_range(w: np.ndarray, floors: np.ndarray | None, ea: int, ey: int, x: np.ndarray, target: np.ndarray,
                        input_name: str, target_name: str) -> None:
    """Refuse (UsageError) a kernel that float64 cannot hold in the data's units: ``w`` (in the units of a fit of
    ``target / 2**ey`` from ``x / 2**ea``) has a kernel whose largest tap at or above its floor (``floors``: one per
    kernel, or per channel of a sum kernel) is past float64's largest value, or below its smallest normal one, once
    multiplied by ``2**(ey - ea)``; without ``floors`` (gd's kernel), only the top of the range is checked.  Given back, such a kernel
    was inf/-inf (or all zeros) beside a residual of 5e-12% and 'fits' true.  Under its largest tap, a smaller tap that
    falls below the normal range loses no more than float64's rounding of that largest tap.

    >>> x = np.ones((2, 2)); w = np.array([[2.0, 0.0]]); floors = np.array([1e-14])
    >>> _check_kernel_range(w, floors, 0, 1000, x, x, "x.npy", "t.npy")
    >>> _check_kernel_range(w, floors, -200, 900, x * 1e-60, x * 1e271, "x.npy", "t.npy")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    kernelcli.errors.UsageError: the kernel that makes t.npy from x.npy has taps near 1e+331: beyond float64's range ...
    """
    if not (ea or ey):  # (data within 2**+-200: the kernel's ratio of them is well inside float64)
        return
    taps = np.abs(w).reshape(1 if floors is None else len(floors), -1)
    if floors is not None:
        taps = np.where(taps >= floors[:, None], taps, 0.0)
    tops = np.max(taps, axis=1)
    tops = tops[tops > 0]
    with np.errstate(over="ignore", under="ignore"):
        back = np.ldexp(tops, ey - ea)
    outside = ~np.isfinite(back)
    if floors is not None:
        outside |= back < np.finfo(np.float64).tiny
    if not outside.any():
        return
    decades = np.log10(tops[outside]) + (ey - ea) * np.log10(2.0)
    worst = float(decades[np.argmax(np.abs(decades))])
    reach = [f"{name}'s {float(np.max(np.abs(v))):.2g}" for name, v in ((input_name, x), (target_name, target))]
    raise UsageError(
        f"the kernel that makes {target_name} from {input_name} has taps near 1e{round(worst):+d}: beyond float64's "
        f"range (about 2.2e-308 to 1.8e+308), so it cannot be given; the values reach {reach[0]} and {reach[1]}: scale one of them "
        "(the kernel scales by the target's factor over the input's)")


def _unscaled(w: np.ndarray, b: np.ndarray | None, mse: float, ea: int, ey: int):
    """Weights, bias and MSE of a fit of ``y / 2**ey`` from ``a / 2**ea``, in the units of ``y`` and ``a``."""
    if not (ea or ey):
        return w, b, mse
    with np.errstate(over="ignore"):  # an MSE beyond float64 is what it is: infinite (null in JSON)
        return np.ldexp(w, ey - ea), None if b is None else np.ldexp(b, ey), float(np.ldexp(mse, 2 * ey))


__all__: Sequence[str] = (
    "LearnOptions", "LearnResult", "LstsqFit", "learn_kernel", "windows", "output_shape",
    "solve_lstsq", "train_gd", "format_kernel", "format_value", "format_values", "clean_values", "kernel_name", "kernel_document",
    "kernel_json_text",
)
