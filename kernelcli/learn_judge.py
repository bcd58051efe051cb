"""How :mod:`kernelcli.learn` judges a finished fit: the poor-fit warning, the diagnoses that name a cause, and
which taps are the solver's noise.

Each group of the system (a channel fitted alone under ``per-channel``; the one kernel otherwise) is
judged on its own residual and its own scale: pooled over the channels, one whose target spreads 1000x
wider hid a channel that did not fit at all ('fits' true, 'residual 0.0286%' beside a channel's 108%).
Split from :mod:`kernelcli.learn`, which calls these.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .learn_gd import fit_loss
from .learn_options import POOR_FIT, WORDINGS, LearnOptions, OptionWords
from .learn_report import channel_words, format_values
from .learn_system import clipped_target, fit_widths, padded_otherwise, predict, rounding_tolerance, solve_lstsq
from .records import replace


def poor_fit(residuals: Sequence[float], options: LearnOptions, *, channels: bool = False, plane: str = "channel",
             words: OptionWords = WORDINGS["api"]) -> str | None:
    """The poor-fit warning where a group's relative residual is above :data:`POOR_FIT`, else None;
    ``channels``: the groups are channels (``plane``: a volume's slices) fitted alone, named worst first; ``words``: how
    the bias option is named.

    >>> print(poor_fit([1e-15, 1.08], LearnOptions(size=3), channels=True)[:72])
    poor fit: channel 1: the residual of its best 3x3 kernel is 108% of that
    >>> poor_fit([0.001], LearnOptions(size=3)) is None
    True
    """
    poor = sorted((g for g, r in enumerate(residuals) if r > POOR_FIT), key=lambda g: -residuals[g])
    if not poor:
        return None
    kh, kw = options.size
    worst = residuals[poor[0]]
    if channels:
        others = ", ".join(f"{plane} {g}: {100 * residuals[g]:.3g}%" for g in poor[1:])
        where = (f"{channel_words(poor[:1], plane)}: the residual of its best {kh}x{kw} kernel is {100 * worst:.3g}% of that "
                 f"{plane}'s standard deviation{f' ({others})' if others else ''}")
    else:
        where = f"the residual of the best {kh}x{kw} kernel is {100 * worst:.3g}% of the target's standard deviation"
    bias = "" if options.fit_bias else f", a bias may be needed ({words.flag('fit_bias')})"
    return (
        f"poor fit: {where}; the true kernel may be larger, the padding or stride may differ"
        f"{bias}, the target may be noisy, or it is not "
        "a linear filter of the input"
    )


def group_rms(a: np.ndarray, y: np.ndarray, w: np.ndarray, b: np.ndarray | None) -> np.ndarray:
    """Each group's RMS residual, (G,)."""
    r = predict(a, w, b) - y
    return np.sqrt(np.mean(r * r, axis=1))


def tolerances(y: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Each group's rounding tolerance (:func:`rounding_tolerance` at its own largest magnitude), (G,)."""
    return np.array([rounding_tolerance(dtype, float(np.max(np.abs(g)))) for g in y])


def _diagnoses(a, y, inner, w, b, dtype: np.dtype, options: LearnOptions, target_name: str, plane: str = "channel",
               words: OptionWords = WORDINGS["api"]) -> list[str]:
    """Warnings that name why a fit is off: a clipped integer target, a target padded another way.

    In the system's (possibly rescaled) units: ``w`` and ``b`` are the least-squares fit of ``y`` from ``a``;
    ``plane`` is what the groups fitted alone are called (``"slice"``: a volume's); ``words`` how options are named.
    """
    found = []
    if dtype.kind in "iu":  # integer targets are never rescaled: y is in the target's own units
        predicted = predict(a, w, b)
        found.append(clipped_target(y, predicted, dtype, target_name, plane))
    if not any(found):  # (a target clipped at its borders alone, where zero padding pushed them past 255, fits inside)
        found.append(padded_otherwise(a, y, inner, group_rms(a, y, w, b), tolerances(y, dtype), options,
                                      channels=_named(options, y), plane=plane, words=words))
    return [text for text in found if text]


def _offset_fits(a, y, w, relative: np.ndarray, dtype: np.dtype, options: LearnOptions, ey: int = 0,
                 plane: str = "channel", words: OptionWords = WORDINGS["api"]) -> str | None:
    """A warning where a group's fit without a bias (``w``, its relative residuals ``relative``) is off and one with a
    bias is exact: the target has an offset that the taps were bent to make up (a box + 1 came out 6% off, 'fits'
    true, under the poor-fit threshold); else None."""
    tolerance = tolerances(y, dtype)
    rms = group_rms(a, y, w, None)
    # (an integer target's rounding is allowed for; but where the fit with a bias is exact and the one without is not,
    # the offset shows anyway: a box sum + 1 in int64 bent every tap 0.1% with no word)
    off = (rms > tolerance) | (relative > 1e-6)
    if not off.any():
        return None
    w_bias, b, *_ = solve_lstsq(a, y, True)
    relative_with = fit_loss(a, y, w_bias, b)[2]
    exact = (relative_with < 1e-9) & (relative > 1e3 * relative_with)
    found = np.flatnonzero(off & (exact | ((group_rms(a, y, w_bias, b) <= tolerance) & (rms > tolerance))))
    if not found.size:
        return None
    where = f"{channel_words(found, plane)}: " if _named(options, y) else ""
    up_to = "up to " if found.size > 1 else ""
    shown = ", ".join(format_values([v])[0] for v in np.ldexp(b[found], ey))  # (in the target's units, each its own)
    return (f"{where}the target has a constant offset: with {words.flag('fit_bias')} the fit is exact (bias {shown}; relative residual "
            f"{up_to}{100 * max(relative[found]):.3g}% without it, {up_to}{100 * max(relative_with[found]):.3g}% with it), "
            "and without it the kernel is bent to make up the offset")


def _read_alike(n: int, axis: int, options: LearnOptions) -> tuple[list[int], list[list[int]]]:
    """Along ``axis`` (0: rows, 1: columns) of an image ``n`` cells long, the kernel's tap rows (columns) that read only
    the padding, and the groups of them that read the same cells at every window, whatever the image holds: such taps'
    columns of the im2col system are zero, the fill, or equal, so they are not decided (only a group's sum is)."""
    from .api import pad2d

    top, bottom, left, right = fit_widths(options)
    before, after = (top, bottom) if axis == 0 else (left, right)
    taps = options.size[axis]
    cells = pad2d(np.arange(1.0, n + 1)[:, None], (before, after, 0, 0), pad_mode=options.pad_mode)[:, 0]  # 0: padding
    s, d = options.stride, options.dilation
    out = (len(cells) - d * (taps - 1) - 1) // s + 1
    if out < 1:
        return [], []
    read = [tuple(cells[np.arange(out) * s + i * d]) for i in range(taps)]
    padding = [i for i in range(taps) if not any(read[i])]
    groups: dict[tuple, list[int]] = {}
    for i, cells_read in enumerate(read):
        if any(cells_read):
            groups.setdefault(cells_read, []).append(i)
    return padding, [g for g in groups.values() if len(g) > 1]


def _read_mixed(n: int, axis: int, options: LearnOptions) -> list[np.ndarray]:
    """Along ``axis`` of an image ``n`` cells long, the ways the kernel's tap rows (columns) that read some pixel, one
    of each group of :func:`_read_alike`, mix to read nothing: each a vector of one weight per tap row (0 elsewhere),
    where the weighted sum of what they read is 0 at every window, whatever the image holds.  No two of them read the
    same cells at every window, yet such tap rows' columns of the im2col system are linearly dependent, so not decided:
    on 2 columns under ``symmetric``, a 4-column kernel's windows read columns (0, 0, 1, 1) and (0, 1, 1, 0), and its
    tap columns 0 and 2 read together what columns 1 and 3 do.  (A constant fill is taken as one more pixel.)

    >>> [v.tolist() for v in _read_mixed(2, 1, LearnOptions(size=4, pad_mode="symmetric"))]
    [[1.0, -1.0, 1.0, -1.0]]
    """
    from .api import pad2d

    top, bottom, left, right = fit_widths(options)
    before, after = (top, bottom) if axis == 0 else (left, right)
    taps = options.size[axis]
    cells = pad2d(np.arange(1.0, n + 1)[:, None], (before, after, 0, 0), pad_mode=options.pad_mode)[:, 0].astype(int)
    s, d = options.stride, options.dilation
    out = (len(cells) - d * (taps - 1) - 1) // s + 1
    if out < 1:
        return []
    fill = options.pad_mode == "constant" and options.pad_value != 0
    seen: set[tuple] = set()
    kept, reads = [], []
    for i in range(taps):
        read = cells[np.arange(out) * s + i * d]
        if read.any() and tuple(read) not in seen:
            seen.add(tuple(read))
            kept.append(i)
            reads.append(read)
    if not reads:
        return []
    r = np.array(reads)
    # the Gram matrix of the tap rows' one-hot reading patterns (windows x cells): how many windows two read one cell at
    # (the padding a cell of its own under a fill other than 0); its null space is the mixes that read nothing
    gram = np.sum((r[:, None, :] == r[None, :, :]) & ((r[:, None, :] > 0) | fill), axis=2).astype(np.float64)
    values, vectors = np.linalg.eigh(gram)
    mixes = []
    for v in vectors[:, values <= 1e-9 * values[-1]].T:
        v = v / v[np.argmax(np.abs(v))]
        weights = np.zeros(taps)
        weights[kept] = np.where(np.abs(v) < 1e-9, 0.0, np.round(v, 9))
        mixes.append(weights)
    return mixes


def _mix_words(mix: np.ndarray, line: str) -> str:
    """One of :func:`_read_mixed`'s mixes in words: "columns 0 and 2 read together what columns 1 and 3 do".

    >>> _mix_words(np.array([1.0, -1.0, 1.0, -1.0]), "column")
    'columns 0 and 2 read together what columns 1 and 3 do'
    """
    mix = -mix if mix[np.flatnonzero(mix)[0]] < 0 else mix
    plus, minus = np.flatnonzero(mix > 0), np.flatnonzero(mix < 0)
    if np.all(np.isin(np.abs(mix[mix != 0]), (1.0,))) and plus.size and minus.size:
        together = "together " if plus.size > 1 else ""
        return f"{channel_words(plus, line)} read{'s' if plus.size == 1 else ''} {together}what {channel_words(minus, line)} do{'es' if minus.size == 1 else ''}"
    return f"{channel_words(np.flatnonzero(mix), line)} read pixels that one mix of them cancels"


def _geometry_undecided(n: int, axis: int, channels: int, options: LearnOptions) -> bool:
    """Does the kernel's size against the image's ``n`` cells along ``axis`` leave taps undecided (:func:`_read_alike`,
    :func:`_read_mixed`)?  A tap row reading only a fill other than 0 is still decided alone, beside no other such tap
    and no bias."""
    padding, alike = _read_alike(n, axis, options)
    beside = options.size[1 - axis] * (channels if options.combine == "sum" else 1)
    fill_decides = options.pad_mode == "constant" and options.pad_value != 0 and len(padding) * beside + options.fit_bias <= 1
    return bool(alike) or (bool(padding) and not fill_decides) or bool(_read_mixed(n, axis, options))


def too_large_for(shape: tuple[int, ...], options: LearnOptions, input_name: str,
                  words: OptionWords = WORDINGS["api"]) -> str | None:
    """Why the kernel's size leaves taps undecided on an image of ``shape`` (H, W[, C]) whatever it holds, and the
    largest size that does not, else None: a kernel as tall as the image or taller reads the same rows with
    two of its tap rows (circular, replicate, reflect), or only padding with one (constant); the options named in
    ``words``.

    >>> cli = WORDINGS["cli"]
    >>> print(too_large_for((3, 40), LearnOptions(size=4, pad_mode="circular"), "x.npy", cli))  # doctest: +NORMALIZE_WHITESPACE
    a 4-row kernel is taller than x.npy's 3 rows: under --pad-mode circular its rows 0 and 3 read the same pixels at
    every window, so only their sum is decided, whatever the image holds; use --size 3 or smaller
    >>> print(too_large_for((1, 5), LearnOptions(size=2), "x.npy"))  # doctest: +NORMALIZE_WHITESPACE
    a 2-row kernel is taller than x.npy's 1 row: its row 1 reads only the padding (zeros), so those taps are not decided,
    whatever the image holds; use size=1 or smaller
    """
    channels = shape[2] if len(shape) > 2 else 1
    for axis, (line, tall) in enumerate((("row", "taller"), ("column", "wider"))):
        n = shape[axis]
        if not _geometry_undecided(n, axis, channels, options):
            continue
        taps = options.size[axis]
        padding, alike = _read_alike(n, axis, options)
        mixed = _read_mixed(n, axis, options)
        span = options.dilation * (taps - 1) + 1
        if span > n:
            spans = f" (at {words.given('dilation', options.dilation)} it spans {span})" if options.dilation > 1 else ""
            what = f"a {taps}-{line} kernel{spans} is {tall} than {input_name}'s {n} {line}{'s' if n != 1 else ''}"
        else:
            what = (f"on {input_name}'s {n} {line}{'s' if n != 1 else ''}, with {words.given('padding', options.padding)} and "
                    f"{words.given('stride', options.stride)}, a {taps}-{line} kernel")
        why = []
        if padding:
            fill = getattr(options.pad_value, "typed", None) or f"{options.pad_value:g}"
            why.append(f"its {channel_words(padding, line)} read{'s' if len(padding) == 1 else ''} only the padding "
                       f"({'zeros' if options.pad_value == 0 else 'the fill ' + fill})")
        if alike:
            also = "".join(f", as do {channel_words(g, line)}" for g in alike[1:])
            why.append(f"under {words.given('pad_mode', options.pad_mode)} its {channel_words(alike[0], line)} read the same pixels at "
                       f"every window{also}")
        if mixed:
            also = "; ".join(_mix_words(m, line) for m in mixed)
            mode = "" if alike else f"under {words.given('pad_mode', options.pad_mode)} "
            why.append(f"{mode}its {line}s' reads are linearly dependent ({also}, at every window)")
        if mixed:
            decided = "so not every tap is decided"
        elif not alike:
            decided = "so those taps are not decided"
        elif padding:
            decided = "so those taps are not decided alone"
        else:
            decided = f"so only {'their' if len(alike) == 1 else 'each group' + chr(39) + 's'} sum is decided"
        advice = _smaller_size(shape, channels, options, taps, words)
        return f"{what}: {' and '.join(why)}, {decided}, whatever the image holds{advice}"
    return None


def _smaller_size(shape: tuple[int, ...], channels: int, options: LearnOptions, taps: int,
                  words: OptionWords = WORDINGS["api"]) -> str:
    """The advice of :func:`too_large_for`: the largest size under ``taps`` that decides every tap with a padding
    giving the target's shape, that padding named where it is not the one given (a smaller kernel under the padding
    given makes another shape: "--size 4" was advised for ``-f 5 -p 2`` on 2 rows, where no padding of the target's
    shape decides a 4-row kernel).  The padding given is tried first: at a stride over 1 several totals give one shape
    (floor division), and ``-f 5 -s 2`` on 2 rows was told "--size 2 --padding valid" where ``same`` runs too.

    >>> cli = WORDINGS["cli"]
    >>> _smaller_size((2, 40), 1, LearnOptions(size=5, padding=2), 5, cli), _smaller_size((2, 40), 1, LearnOptions(size=5, padding=2), 5)
    ('; use --size 3 --padding 1', '; use size=3, padding=1')
    >>> _smaller_size((3, 40), 1, LearnOptions(size=4, pad_mode="circular"), 4, cli)
    '; use --size 3 or smaller'
    >>> _smaller_size((2, 60), 1, LearnOptions(size=5, stride=2), 5, cli)
    '; use --size 2 or smaller'

    Where none does (the target's 36 columns from 40 need 5 of them unpadded), that is said instead of advice that fails:

    >>> print(_smaller_size((2, 40), 1, LearnOptions(size=5, padding=(2, 2, 0, 0), pad_value=2.0), 5, cli))
    ; no smaller --size gives the target's 2x36 with any padding (the target would have to be made with one)
    """
    top, bottom, left, right = fit_widths(options)
    s, d = options.stride, options.dilation
    outs = [(shape[k] + pads - d * (options.size[k] - 1) - 1) // s + 1 for k, pads in ((0, top + bottom), (1, left + right))]
    for size in range(taps - 1, 0, -1):
        given = fit_widths(replace(options, size=size))
        sides: list[tuple[int, int]] = []
        for k in (0, 1):
            least = (outs[k] - 1) * s + d * (size - 1) + 1 - shape[k]  # the totals least .. least + s - 1 give outs[k]
            splits = [given[2 * k:2 * k + 2]] + [
                (before, total - before) for total in range(max(least, 0), least + s)
                for before in sorted(range(total + 1), key=lambda b: abs(2 * b - total))]
            split = next((
                (before, after) for before, after in splits if before >= 0 and after >= 0
                and least <= before + after < least + s and not _geometry_undecided(shape[k], k, channels, replace(
                    options, size=size, padding=(before, after, 0, 0) if k == 0 else (0, 0, before, after)))), None)
            if split is None:
                break
            sides.append(split)
        else:
            widths = (*sides[0], *sides[1])
            if widths == given:
                return f"; use {words.given('size', size)} or smaller"
            named = "valid" if not any(widths) else widths[0] if len(set(widths)) == 1 else widths
            return f"; use {words.joined(words.given('size', size), words.given('padding', named))}"
    at = " and ".join(f"{name} {v}" for name, v in (("stride", s), ("dilation", d)) if v > 1)
    return (f"; no smaller {words.name('size')} gives the target's {outs[0]}x{outs[1]} with any padding{' at ' + at if at else ''} "
            "(the target would have to be made with one)")


def _named(options: LearnOptions, y: np.ndarray) -> bool:
    """Are the groups channels fitted alone, to be named in a warning?"""
    return options.combine == "per-channel" and y.shape[0] > 1


#: A tap under NOISE_FACTOR x condition number x float64's eps of its kernel's tap scale is the solver's noise.  Measured
#: on taps whose true value is 0 (180 fits: --combine sum kernels with all-zero channels, and constant targets beside
#: --fit-bias; random, blurred, bright and mixed-scale inputs, f = 3 and 5, condition 10 to 1e7): the noise reached 1.07
#: of condition x eps x scale (6e-15 of a scale of 8.7 at condition 13), so 16 leaves room.  A fixed 1e-12 of the scale
#: missed the noise of blurred inputs (3.6e-12 of it at condition 7e5).
NOISE_FACTOR = 16.0
#: ... but never above this share of the scale: past a condition of 3e8 (warned as ill-conditioned) the bound would reach
#: taps the data decide (the noise measured there stays below 0.03 of the bound)
NOISE_CAP = 1e-6


def tap_scales(a: np.ndarray, y: np.ndarray, blocks: int = 1) -> np.ndarray:
    """Each kernel's tap scale, in the system's units: its target's RMS over its windows' RMS, what a tap must be
    to make the target (0 where the windows are all 0).

    ``a`` (G, M, n), ``y`` (G, M): G kernels, or with ``blocks`` > 1 one of ``blocks`` channels side by side (sum),
    each channel on its own scale.  Returns (G x blocks,).

    >>> tap_scales(np.ones((1, 4, 2)), np.full((1, 4), 2.0)).tolist(), tap_scales(np.ones((1, 4, 2)), np.ones((1, 4)), 2).tolist()
    ([2.0], [1.0, 1.0])
    """
    g_count, m, n = a.shape
    rms_y = np.sqrt(np.mean(y * y, axis=1))
    rms_a = np.sqrt(np.mean(np.square(a.reshape(g_count, m, blocks, n // blocks)), axis=(1, 3)))
    return np.divide(rms_y[:, None], rms_a, out=np.zeros_like(rms_a), where=rms_a > 0).ravel()


#: A channel of a sum kernel is judged on a scale of at least this share of the summed target's (gd's taps there within
#: 1e-7 of that scale), so a channel the target does not use is not held to the solver's noise: gd leaks into such a
#: channel what it has not settled in the others (1e-9 of the summed scale with --fit-bias and sgd's 30 epochs, 1e-4
#: without: as large as taps of a channel a ten-thousandth of the others, which are then named).
SUM_CHANNEL_FLOOR = 1e-4


def gd_scales(a: np.ndarray, y: np.ndarray, w: np.ndarray, blocks: int = 1) -> np.ndarray:
    """The scale each kernel's gd taps are judged on (:func:`gd_stopped`), in the system's units: its
    :func:`tap_scales` entry, but for a channel of a sum kernel (``blocks`` > 1) that channel's own share of the target,
    the RMS of ``a_j @ w_j`` (its windows times its least-squares taps ``w``) over its windows' RMS, as a channel
    learned per-channel has its own target.  The summed target's scale let a channel of taps 1e-4 beside one of 2
    stop 30% short with no word.  A channel's scale is at least :data:`SUM_CHANNEL_FLOOR` of the summed target's:
    one the target does not use has no scale of its own.

    >>> a = np.ones((1, 4, 2)); w = np.array([[2.0, 1e-3]])
    >>> gd_scales(a, (a[0] @ w[0])[None], w, 2).tolist()   # two channels, each its own; tap_scales gives 2.001 for both
    [2.0, 0.001]
    """
    pooled = tap_scales(a, y, blocks)
    if blocks == 1:
        return pooled
    g_count, m, n = a.shape
    width = n // blocks
    parts = np.einsum("gmbn,gbn->gbm", a.reshape(g_count, m, blocks, width), w.reshape(g_count, blocks, width))
    rms_part = np.sqrt(np.mean(parts * parts, axis=2))
    rms_a = np.sqrt(np.mean(np.square(a.reshape(g_count, m, blocks, width)), axis=(1, 3)))
    own = np.divide(rms_part, rms_a, out=np.zeros_like(rms_a), where=rms_a > 0).ravel()
    return np.maximum(own, SUM_CHANNEL_FLOOR * pooled)


def tap_floors(a: np.ndarray, y: np.ndarray, condition: float, blocks: int = 1) -> np.ndarray:
    """Each kernel's noise floor, in the system's units: a tap under it is the solver's rounding, not data.

    The floor is :data:`NOISE_FACTOR` x ``condition`` x eps of the kernel's :func:`tap_scales`.  Its own largest tap
    cannot tell: where every tap is noise (a channel of a sum kernel the target does not use, a kernel beside the bias
    of a constant target) so is that.

    >>> floors = tap_floors(np.ones((1, 4, 2)), np.full((1, 4), 2.0), condition=10.0)
    >>> float(floors[0] / (16 * 10 * np.finfo(float).eps))  # the scale: 2 / 1
    2.0
    """
    return min(NOISE_FACTOR * condition * float(np.finfo(np.float64).eps), NOISE_CAP) * tap_scales(a, y, blocks)


def felt_floors(a: np.ndarray, y: np.ndarray, w: np.ndarray, floors: np.ndarray, blocks: int = 1, *, bias: bool = False) -> np.ndarray:
    """``floors`` (:func:`tap_floors`), with 0 for each kernel whose taps under its floor are data, not noise: zeroing
    them moves the least-squares prediction (``w``, (G, n), in the system's units) by more than the target's own
    rounding (:data:`NOISE_FACTOR` x eps of its norm).  At the least-squares fit the residual is orthogonal to every
    column, so zeroing taps raises the residual by exactly the move ``a @ taps``: a test of the taps themselves, where
    the floor is a guess from scales that an unequal sum (a channel of 1e6 beside one of 1) or a bias's offset set high
    enough to zero Laplacian taps of 0.01 or 5e-6 the data decide to 1e-10.  With ``bias`` the fitted bias takes up
    the move's mean, so only the rest counts: beside the bias of a constant target, taps of 1e-14 move every
    prediction by a near-constant 5e-14 and were kept as data.  (A constant target beside a bias is not tested at all:
    its exact answer is the bias alone, so every tap under the floor is the solver's rounding.)

    >>> a, w = np.ones((1, 4, 2)), np.array([[1.0, 1e-3]])
    >>> felt_floors(a, (a[0] @ w[0])[None], w, np.array([1e-2])).tolist()   # 1e-3 moves every prediction by 1e-3
    [0.0]
    >>> felt_floors(a, (a[0] @ w[0])[None], np.array([[1.0, 1e-17]]), np.array([1e-2])).tolist()   # 1e-17: noise
    [0.01]
    """
    kept = np.array(floors, dtype=np.float64)
    eps = float(np.finfo(np.float64).eps)
    g_count, _, n = a.shape
    width = n // blocks
    for index in range(len(kept)):
        g, j = divmod(index, blocks)
        taps = w[g, j * width:(j + 1) * width]
        under = np.where(np.abs(taps) < kept[index], taps, 0.0)
        if bias and np.ptp(y[g]) == 0:
            continue
        if under.any():
            move = a[g][:, j * width:(j + 1) * width] @ under
            moved = float(np.linalg.norm(move - np.mean(move) if bias else move))
            if moved > NOISE_FACTOR * eps * float(np.linalg.norm(y[g])):
                kept[index] = 0.0
    return kept


def without_noise(kernel: np.ndarray, floors: np.ndarray) -> np.ndarray:
    """A copy of ``kernel`` ((kh, kw), or (K, kh, kw) for K ``floors``) with each tap under its kernel's floor set to 0.

    >>> without_noise(np.array([[1.0, 3e-16], [2.0, -1e-15]]), np.array([1e-14])).tolist()
    [[1.0, 0.0], [2.0, 0.0]]
    """
    k = np.array(kernel, dtype=np.float64)
    taps = k.reshape(len(floors), -1)
    taps[np.abs(taps) < np.asarray(floors)[:, None]] = 0.0
    return k


def gd_stopped(w: np.ndarray, w_ls: np.ndarray, b: np.ndarray | None, b_ls: np.ndarray | None, scales: np.ndarray,
               bias_scales: np.ndarray, plane: str = "channel", *, short: np.ndarray | None = None,
               grew: tuple[float, float] | None = None, words: OptionWords = WORDINGS["api"]) -> str | None:
    """The warning where gradient descent stopped short of the least-squares fit, else None: a kernel's taps more than
    1e-3 of its own scale away (its :func:`gd_scales` entry in ``scales``, or its largest least-squares tap if
    larger), a bias more than 1e-3 of its own (``bias_scales``: each group's target RMS, or the bias if larger), or a
    group ``short`` marks (a constant target gd did not fit exactly, its residual read as infinite: never unwarned).
    Several kernels (channels, per-channel or of a sum kernel) are each judged alone and named: judged together,
    channel 1's taps of 0.002 stopped 15% short beside channel 0's of 2 with no word.  (A floor of 1 hid a miss of 35% on taps of 0.002, and called 1e-11
    a miss at 1e9; a bias 10.5 off 3e12 was "stopped 10.5 away" beside exact taps.)  ``words``: how the training
    options are named.

    >>> gd_stopped(np.array([[2.0, 0.0017]]), np.array([[2.0, 0.002]]), None, None, np.array([2.0, 0.002]), np.ones(1))
    'gradient descent stopped 0.0003 away from the least-squares kernel in channel 1; more epochs=, a larger step_size= or another lr= would get closer'
    >>> gd_stopped(np.array([[1.0]]), np.array([[2.0]]), None, None, np.array([2.0]), np.ones(1), grew=(216.0, 271.0))
    'gradient descent stopped 1 away from the least-squares kernel; its epoch loss grew from 216 to 271: a smaller lr= would get closer'
    """
    count = len(scales)
    off = np.abs(w - w_ls).reshape(count, -1).max(axis=1)
    taps_off = off > 1e-3 * np.maximum(scales, np.abs(w_ls).reshape(count, -1).max(axis=1))
    bias_gap = np.zeros(0) if b is None else np.abs(b - b_ls)
    bias_off = bias_gap > 1e-3 * np.maximum(bias_scales, np.abs(b_ls)) if b is not None else np.zeros(0, dtype=bool)
    if short is not None and len(short) == count:
        taps_off |= short
    elif short is not None and short.any():  # (a sum kernel's one group: its channels are not told apart)
        taps_off |= off == off.max()
    if not (taps_off.any() or bias_off.any()):
        return None
    away = f"{float(np.max(off[taps_off] if taps_off.any() else off)):.3g}"
    if bias_off.any():
        away += f" (its bias {float(np.max(bias_gap[bias_off])):.3g})"
    named = set(np.flatnonzero(taps_off)) | (set(np.flatnonzero(bias_off)) if bias_off.size == count else set())
    where = f" in {channel_words(sorted(named), plane)}" if count > 1 and named else ""
    if grew is not None:
        return (f"gradient descent stopped {away} away from the least-squares kernel{where}; its epoch loss grew from "
                f"{grew[0]:.3g} to {grew[1]:.3g}: a smaller {words.name('lr')} would get closer")
    return (f"gradient descent stopped {away} away from the least-squares kernel{where}; more {words.name('epochs')}, a "
            f"larger {words.name('step_size')} or another {words.name('lr')} would get closer")
