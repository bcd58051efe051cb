"""Refusals of an input and target before :mod:`kernelcli.learn` builds its system: sizes the kernel and padding
cannot relate (naming a padding, stride or size that would), channels the ``combine`` cannot make, and an input
with no texture to learn from.  Split from :mod:`kernelcli.learn_system`, which builds and solves the system.

>>> import numpy as np
>>> from kernelcli.learn_options import LearnOptions
>>> check_shapes(np.zeros((8, 8)), np.zeros((8, 8)), LearnOptions(size=3), "x.npy", "y.npy")  # 'same': 8x8
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .errors import ShapeError, UsageError
from .learn_options import WORDINGS, LearnOptions, OptionWords
from .learn_report import format_values
from .learn_system import fit_widths, output_shape
from .records import replace


def check_shapes(x: np.ndarray, target: np.ndarray, options: LearnOptions, input_name: str, target_name: str,
                 plane: str = "channel", words: OptionWords = WORDINGS["api"]) -> None:
    """Refuse an input and target the options cannot relate: a kernel the input cannot hold, a fit past the memory
    limit, a target of another size than the convolution gives (naming a padding that would fit, unless the channels
    do not match either: then saying so), or channels that do not match; ``plane`` is what the messages call a channel, ``words`` how they name an option.

    >>> check_shapes(np.zeros((8, 8)), np.zeros((8, 8)), LearnOptions(size=3, padding="valid"), "x.npy", "y.npy")
    Traceback (most recent call last):
    ...
    kernelcli.errors.ShapeError: y.npy is 8x8, but a 3x3 kernel with padding valid and stride 1 on the 8x8 x.npy gives 6x6; padding='same' would fit
    """
    h, w = x.shape[:2]
    th, tw = target.shape[:2]
    kh, kw = options.size
    try:
        oh, ow = output_shape(h, w, options)
    except ShapeError as exc:
        raise ShapeError(f"{input_name} {h}x{w} and a {kh}x{kw} kernel: {exc}") from None
    from .limits import check_peak, conv_peak, learn_peak

    per_window = (x.shape[2] if x.ndim == 3 else 1) * kh * kw
    need = conv_peak(x.shape, (kh, kw), stride=options.stride, pads=fit_widths(options), dilation=options.dilation)
    need += learn_peak(oh * ow, per_window, options.max_values, options.method)  # (its system: most of it)
    check_peak(need, f"{input_name}: learning a {kh}x{kw} kernel with dilation {options.dilation} by {options.method} "
                     f"(its system of {min(oh * ow, max(1, options.max_values // per_window)):,} windows of {per_window} values)")
    if (th, tw) != (oh, ow):
        try:  # (a padding named for channels that cannot match only moved the refusal there)
            check_channels(x, target, options, input_name, target_name, plane=plane, words=words)
        except ShapeError as exc:
            fit = f"and {exc}"
        else:
            fit = _fitting_padding(h, w, th, tw, options, words)
        raise ShapeError(
            f"{target_name} is {th}x{tw}, but a {kh}x{kw} kernel with padding {options.padding_text()} and stride "
            f"{options.stride} on the {h}x{w} {input_name} gives {oh}x{ow}; {fit}"
        )
    check_channels(x, target, options, input_name, target_name, plane=plane, words=words)


def check_channels(x: np.ndarray, target: np.ndarray, options: LearnOptions, input_name: str, target_name: str,
                   alphas: tuple[bool, bool] = (False, False), plane: str = "channel",
                   words: OptionWords = WORDINGS["api"]) -> None:
    """Refuse (ShapeError) a target whose channels ``options.combine`` cannot make from the input's; ``alphas`` say
    which of the two had an alpha channel set aside (an image's, which is not learned: the message counts the others);
    ``plane``: what the planes are called (a volume's slices); ``words``: how an option is named.

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
                f"{words.given('combine', 'sum')} learns one {depth} x f x f kernel, so {target_name} must have one {plane}; "
                f"it has {has_out}"
            )
    elif c_out != c_in:
        hint = f"; use {words.given('combine', 'sum')} to learn one 3-D kernel whose {plane}s are summed" if c_out == 1 else ""
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


def _fitting_padding(h: int, w: int, th: int, tw: int, options: LearnOptions, words: OptionWords = WORDINGS["api"]) -> str:
    """Say which padding (or kernel size) would give a th x tw target, naming the options in ``words``.

    >>> _fitting_padding(12, 12, 11, 9, LearnOptions(size=3, padding="valid"), WORDINGS["cli"])
    'no padding fits a 3x3 kernel; the target is that of a 2x4 kernel with --padding valid, or --size 4 with --padding 0,2,0,0'
    >>> _fitting_padding(12, 12, 11, 9, LearnOptions(size=3, padding="valid"))
    "no padding fits a 3x3 kernel; the target is that of a 2x4 kernel with padding='valid', or size=4 with padding=(0, 2, 0, 0)"
    """
    kh, kw = options.size
    s, d = options.stride, options.dilation
    totals = [(t - 1) * s + d * (k - 1) + 1 - n for t, k, n in ((th, kh, h), (tw, kw, w))]
    if all(v >= 0 for v in totals):
        same = [d * (kh - 1), d * (kw - 1)]
        padding: Any
        if totals == [0, 0]:
            padding = "valid"
        elif totals == same:
            padding = "same"
        else:
            (top, bottom), (left, right) = ((v // 2, v - v // 2) for v in totals)
            padding = top if top == bottom == left == right else (top, bottom, left, right)
        if totals[0] > same[0] or totals[1] > same[1]:  # more padding than 'same': a stride is the likelier cause
            stride = _fitting_stride(h, w, th, tw, options, words)
            if stride:
                return f"{stride} would fit (or {words.given('padding', padding)} with stride {s})"
        return f"{words.given('padding', padding)} would fit"
    stride = _fitting_stride(h, w, th, tw, options, words)
    if stride:
        return f"no padding fits a {kh}x{kw} kernel with stride {s}; {stride} would fit"
    sizes = [(n - (t - 1) * s - 1) / d + 1 for t, n in ((th, h), (tw, w))]
    valid = words.given("padding", "valid")
    if all(v >= 1 and float(v).is_integer() for v in sizes):
        fh, fw = int(sizes[0]), int(sizes[1])
        if fh == fw:
            return f"no padding fits a {kh}x{kw} kernel; {words.given('size', fh)} with {valid} would"
        # the size option takes one side: an fh x fw kernel is a square one with asymmetric padding, in cells: d per tap
        side = max(fh, fw)
        return (f"no padding fits a {kh}x{kw} kernel; the target is that of a {fh}x{fw} kernel with {valid}, "
                f"or {words.given('size', side)} with {words.given('padding', (0, d * (side - fh), 0, d * (side - fw)))}")
    return (f"no padding fits: no kernel size with {valid}, and no stride with the padding given, same or valid, "
            f"gives this target (check {words.name('stride')}, {words.name('size')} and {words.name('dilation')})")


def _fitting_stride(h: int, w: int, th: int, tw: int, options: LearnOptions, words: OptionWords = WORDINGS["api"]) -> str:
    """The stride option (with the padding option when the padding must change too) that gives a th x tw
    target with this kernel size, or "" when no stride does.  The padding given is tried first."""
    paddings = list(dict.fromkeys([options.padding_text(), "same", "valid"]))
    for padding in paddings:
        for stride in range(1, max(h, w) + 1):
            if stride == options.stride:
                continue
            trial = replace(options, stride=stride, padding=padding if padding in ("same", "valid") else options.padding)
            try:
                if output_shape(h, w, trial) == (th, tw):
                    return words.given("stride", stride) + (
                        "" if padding == options.padding_text() else f" with {words.given('padding', padding)}")
            except ShapeError:
                continue
    return ""


def check_texture(x: np.ndarray, input_name: str, options: LearnOptions, plane: str = "channel",
                  target: np.ndarray | None = None, words: OptionWords = WORDINGS["api"]) -> None:
    """Refuse an input whose system is singular before it is built: a constant image, or a constant
    channel where that channel has a kernel (or a slice of one) of its own, whose windows all read
    that constant (no padding, or a padding that repeats it: a fill of another value, at the borders,
    makes the windows differ, and the rank test after the fit judges them), where that leaves the kernel
    undecided (:func:`_flat_undecided`: a 1x1 kernel without a bias is decided by a constant other than 0).

    ``shared`` learns one kernel from every channel's windows together: a constant channel adds
    equations that say nothing but contradict nothing, so only an input constant in every channel
    is refused here (the rank test after the fit catches what else is singular).  ``plane`` is what the message
    calls a channel (``"slice"``: a volume's).  Under ``per-channel``, ``combine shared`` is offered (named in ``words``)
    only where one kernel for every channel fits ``target`` exactly (the channels' kernels agree).

    >>> check_texture(np.full((8, 8), 3.0), "x.npy", LearnOptions(size=3, padding="valid"))
    Traceback (most recent call last):
    ...
    kernelcli.errors.UsageError: x.npy is constant (every value is 3): it has no texture to learn a kernel from ...
    >>> check_texture(np.full((8, 8), 3.0), "x.npy", LearnOptions(size=1))  # one tap, one value: 2 x input is 2
    """
    x3 = x.reshape(x.shape[0], x.shape[1], -1)
    channels = x3.shape[2]
    combine = options.combine
    filled = any(fit_widths(options)) and options.pad_mode == "constant"
    flat = [c for c in range(channels) if x3[:, :, c].min() == x3[:, :, c].max()
            and not (filled and x3[0, 0, c] != options.pad_value)]
    if not flat or (combine == "shared" and len(flat) < channels):
        return
    flat = _flat_undecided(flat, [float(x3[0, 0, c]) for c in flat], options)
    if not flat:
        return
    values = sorted({format_values([x3[0, 0, c]])[0] for c in flat}, key=float)
    if channels == 1:
        where, hint = input_name, ""
    elif len(flat) == channels:
        where, hint = f"every {plane} of {input_name}", ""
    else:
        where = f"{plane} {flat[0]} of {input_name}"
        shared = combine == "per-channel" and target is not None and _shared_fits(x, target, options)
        hint = f"; one kernel makes every {plane}: {words.given('combine', 'shared')} learns it from the others" if shared else ""
    raise UsageError(
        f"{where} is constant (every value is {' or '.join(values)}): it has no texture to learn a kernel "
        f"from (the system is singular); use an image with edges or detail{hint}"
    )


def _flat_undecided(flat: list[int], values: list[float], options: LearnOptions) -> list[int]:
    """Those of the constant channels ``flat`` (each reading only its ``values`` entry at every window) that leave
    the system singular.  Such a channel's columns are its one value: a kernel of more than one tap (equal columns),
    a constant of 0 (zero columns) or a bias beside it (a constant column too) is not decided; a 1x1 kernel is
    (rank 1 of 1: 2 x a constant 3 is 6), unless a ``sum`` kernel has two such channels (parallel columns), or
    ``shared`` one value for every channel and a bias (two distinct values decide a tap and a bias).

    >>> _flat_undecided([0], [3.0], LearnOptions(size=1)), _flat_undecided([0], [3.0], LearnOptions(size=1, fit_bias=True))
    ([], [0])
    >>> _flat_undecided([0, 1], [3.0, 4.0], LearnOptions(size=1, combine="sum")), _flat_undecided([1], [0.0], LearnOptions(size=1))
    ([0, 1], [1])
    """
    kh, kw = options.size
    if kh * kw > 1:
        return flat
    if options.combine == "per-channel":
        return [c for c, v in zip(flat, values) if v == 0 or options.fit_bias]
    if options.combine == "sum":
        return flat if options.fit_bias or len(flat) > 1 or 0.0 in values else []
    # shared, every channel constant: rows (value, 1) decide a tap, and a bias too where two values differ
    decided = any(values) and not (options.fit_bias and len(set(values)) < 2)
    return [] if decided else flat


def _shared_fits(x: np.ndarray, target: np.ndarray, options: LearnOptions) -> bool:
    """Does one kernel (``combine="shared"``) fit ``target`` from ``x`` exactly, with full rank (every channel's
    kernel the same)?  Then a per-channel refusal may offer it; where the kernels differ it would learn a wrong one."""
    from .learn_system import im2col_system, predict, solve_lstsq

    shared = replace(options, combine="shared")
    try:
        a, y, _, _ = im2col_system(x, target, shared, np.random.default_rng(options.seed))
    except (ShapeError, UsageError):
        return False
    if a.shape[1] <= a.shape[2] + int(options.fit_bias):  # (as many equations as unknowns: any target fits)
        return False
    w, b, rank, unknowns, _ = solve_lstsq(a, y, options.fit_bias)
    if rank < unknowns:
        return False
    residual = np.abs(predict(a, w, b) - y)
    return bool(np.max(residual) <= 1e-9 * max(float(np.max(np.abs(y))), np.finfo(np.float64).tiny))


def check_one_layout(shapes: tuple[tuple[int, ...], tuple[int, ...]], used: tuple[str, str], movable: tuple[bool, bool],
                     layout: str, options: LearnOptions, names: tuple[str, str], words: OptionWords = WORDINGS["api"]) -> None:
    """Refuse (ShapeError) an input and target that one ``--layout`` reads so that they do not fit, where reading one of
    them the other way (``movable``: a 3-D array, which may be) makes them fit, or at least gives the two the same
    number of channels: the layout, not the padding or the kernel size, is then the cause (where the other reading
    does not fit either, its own refusal follows).  A file that reads one way only without ``--layout``, and is read
    so, is not the one blamed.  ``shapes`` are the two arrays' shapes as stored, ``used`` the layouts they were read
    with; ``words``: how the refusal that follows names an option.  (An (H, W, C) input beside a (C, H, W) target, ``--layout chw``, was told its
    128x128x3 was "128x3" and given a padding for it.)

    >>> check_one_layout(((128, 128, 3), (3, 128, 128)), ("chw", "chw"), (True, True), "chw", LearnOptions(size=3),
    ...                  ("x.npy", "t.npy"))  # doctest: +NORMALIZE_WHITESPACE
    Traceback (most recent call last):
    ...
    kernelcli.errors.ShapeError: --layout chw reads both arrays, so x.npy (128x128x3) is read as 128 channels of 128x3;
    read (H, W, C), as it is without --layout, it fits t.npy's 3 channels of 128x128: save x.npy as (C, H, W)
    (np.moveaxis(x, -1, 0)) and keep --layout chw, or t.npy as (H, W, C) (np.moveaxis(t, 0, -1)) with --layout hwc
    """
    from .layout import array_layout

    def problem(readings: tuple[str, ...]) -> str | None:
        arrays = [np.broadcast_to(0.0, _channels_last(s, r)) for s, r in zip(shapes, readings)]
        try:
            check_shapes(arrays[0], arrays[1], options, *names, words=words)
        except (ShapeError, UsageError) as exc:
            return str(exc)
        return None

    def channels_agree(readings: tuple[str, ...]) -> bool:
        counts = [_channels_last(s, r)[2] if len(s) == 3 else 1 for s, r in zip(shapes, readings)]
        return options.combine != "sum" and counts[0] == counts[1]

    other = "chw" if layout == "hwc" else "hwc"
    if problem(used) is None:
        return
    suspects = []  # (the other reading leaves a problem, odd, keep, reading without --layout, that problem)
    for odd, keep in ((0, 1), (1, 0)):
        readings = list(used)
        readings[odd] = other
        if not (movable[odd] and used[odd] == layout):
            continue
        try:
            unread = array_layout(shapes[odd], None, names[odd])
        except UsageError:
            unread = None
        left = problem(tuple(readings))
        if unread == layout or left is not None and not (channels_agree(tuple(readings)) and not channels_agree(used)):
            continue
        suspects.append((left is not None, odd, keep, unread, left))
    if not suspects:
        return
    # The array whose other reading fits outright is the odd one, before one whose other reading only matches the
    # channels (a (C, H, W) input read chw, its target (H, W, C), was blamed: its hwc reading matched 128 channels).
    _, odd, keep, unread, left = min(suspects, key=lambda suspect: suspect[:2])
    without = ", as it is without --layout," if unread == other else ""
    text = (f"--layout {layout} reads both arrays, so {names[odd]} ({_dims(shapes[odd])}) is read as "
            f"{_reading(shapes[odd], layout)}; read {_ORDERS[other]}{without} ")
    if left is not None:
        raise ShapeError(text + f"its channels match {names[keep]}'s; read so, {left}")
    text += (f"it fits {names[keep]}'s {_reading(shapes[keep], used[keep])}: save {names[odd]} as {_ORDERS[layout]} "
             f"({_moved('xt'[odd], layout)}) and keep --layout {layout}")
    if movable[keep]:
        text += f", or {names[keep]} as {_ORDERS[other]} ({_moved('xt'[keep], other)}) with --layout {other}"
    raise ShapeError(text)


def check_channels_first(x: np.ndarray, target: np.ndarray, options: LearnOptions, names: tuple[str, str]) -> None:
    """Refuse (ShapeError) arrays given to :func:`kernelcli.learn.learn_kernel`, which reads them (H, W, C), that do not
    fit so, where one of them moved from (C, H, W) -- PyTorch's order -- fits the other outright, or at least gives the
    two the same number of channels (whatever the padding, the (H, W, C) reading's never match): the axis order, not
    the padding :func:`check_shapes` would name, is then the cause (as :func:`check_one_layout` says ``--layout``'s),
    and where the moved reading does not fit either, its own refusal follows.  ``names``: the arrays' names in messages.

    >>> check_channels_first(np.zeros((3, 32, 32)), np.zeros((32, 32, 3)), LearnOptions(size=3), ("input", "target"))
    ...                      # doctest: +NORMALIZE_WHITESPACE
    Traceback (most recent call last):
    ...
    kernelcli.errors.ShapeError: input (3x32x32) is read (H, W, C), as learn_kernel reads arrays: 3x32 pixels with 32
    channels; read (C, H, W), PyTorch's order, it fits target's 32x32 pixels with 3 channels: pass np.moveaxis(x, 0, -1)
    """
    def problem(shapes: list[tuple[int, ...]]) -> str | None:
        try:
            check_shapes(np.broadcast_to(0.0, shapes[0]), np.broadcast_to(0.0, shapes[1]), options, *names)
        except (ShapeError, UsageError) as exc:
            return str(exc)
        return None

    def channels_agree(shapes: list[tuple[int, ...]]) -> bool:
        counts = [s[2] if len(s) == 3 else 1 for s in shapes]
        return options.combine != "sum" and counts[0] == counts[1]

    shapes = [tuple(x.shape), tuple(target.shape)]
    if problem(shapes) is None:
        return
    suspects = []  # (the moved reading leaves a problem, odd, keep, that problem)
    for odd, keep in ((0, 1), (1, 0)):
        moved = list(shapes)
        moved[odd] = _channels_last(shapes[odd], "chw")
        if len(shapes[odd]) != 3:
            continue
        left = problem(moved)
        if left is None or channels_agree(moved) and not channels_agree(shapes):
            suspects.append((left is not None, odd, keep, left))
    if not suspects:
        return
    _, odd, keep, left = min(suspects, key=lambda suspect: suspect[:2])  # (one that fits outright first)
    text = (f"{names[odd]} ({_dims(shapes[odd])}) is read (H, W, C), as learn_kernel reads arrays: "
            f"{_reading(shapes[odd], 'hwc')}; read (C, H, W), PyTorch's order, ")
    moving = _moved(("x", "target")[odd], "hwc")
    if left is None:
        raise ShapeError(text + f"it fits {names[keep]}'s {_reading(shapes[keep], 'hwc')}: pass {moving}")
    raise ShapeError(text + f"its channels match {names[keep]}'s: pass {moving}; read so, {left}")


_ORDERS = {"hwc": "(H, W, C)", "chw": "(C, H, W)", "zyx": "(Z, Y, X)"}


def _channels_last(shape: tuple[int, ...], layout: str) -> tuple[int, ...]:
    return (shape[1], shape[2], shape[0]) if len(shape) == 3 and layout != "hwc" else tuple(shape)


def _dims(shape: tuple[int, ...]) -> str:
    return "x".join(map(str, shape))


def _reading(shape: tuple[int, ...], layout: str) -> str:
    """How ``layout`` reads an array of ``shape``, in words (as :func:`kernelcli.layout.array_layout` says them)."""
    from .numtext import counted

    if len(shape) != 3:
        return _dims(shape)
    a, b, c = shape
    if layout == "hwc":
        return f"{a}x{b} pixels with {counted(c, 'channel')}"
    return f"{counted(a, 'slice' if layout == 'zyx' else 'channel')} of {b}x{c}"


def _moved(array: str, layout: str) -> str:
    """The numpy call that stores ``array``, read the other way, in ``layout``'s axis order."""
    return f"np.moveaxis({array}, 0, -1)" if layout == "hwc" else f"np.moveaxis({array}, -1, 0)"
