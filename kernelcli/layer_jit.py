"""The jitted convolution layer: whether it runs, which of its two loops, their tables, the call.

:func:`kernelcli.layers.conv_layer` checks its arguments and asks :func:`use_numpy` whether the
work goes to its plain-numpy layer; otherwise :func:`jit_layer` runs the jitted core
(:mod:`kernelcli._core.layer`): a block of filters at a time in vector registers
(``blocked_rows``) or one filter at a time (``layer_rows``), chosen by :func:`_use_blocks`.
Every path gives the same numbers.

Example
-------
>>> from kernelcli._core.policy import WARM
>>> use_numpy(WARM, 100), use_numpy(WARM, 10**6)
(True, False)
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from . import ndsupport
from ._core.memo import Memo, array_key, frozen
from ._core.policy import Paths
from .jitcache import LAYER_NOTE as _compile_note
from .modes import ACTIVATION_CODES, PAD_CODES

#: The plain-numpy layer, per output value and tap: 64x64x3 -> 16 3x3, 128x128x3 -> 16 3x3, 256x256 -> 8 3x3,
#: 128x128x8 -> 8 5x5, 2026-12-03, 0.8-3.0 ns (2.5-4.4 before its large maps went filter by filter); the upper end.
NUMPY_SECONDS_PER_TAP = 3e-9
#: The same where it emulates float32's fused multiply-adds (:mod:`._core.fused`): 4.7-8.4 ns on those.
NUMPY_SECONDS_PER_FUSED_TAP = 9e-9
#: What each of its numpy passes costs beyond the values (a tap of one channel over one map, or over a
#: group's filters: 6 us a multiply-add, 35 us the emulation, measured on 3x3 maps in review, 2026-12-03)
NUMPY_SECONDS_PER_PASS = 6e-6
NUMPY_SECONDS_PER_FUSED_PASS = 35e-6
#: Tiny work takes numpy only while numpy's estimate stays under this, about what a call of the jitted layer
#: costs on tiny work (8x8x3 -> 4, 16x16x3 -> 8, 32x32 -> 4, 64x64x3 -> 16 filters 3x3: blocked 63-290 us; numpy
#: emulating fused multiply-adds 1.4-8.2 ms there, 35 us a pass)
SMALL_NUMPY_SECONDS = 0.2e-3

#: From this many filters per group the register-blocked loop runs (blocked / filterwise time,
#: 256x256, 3x3 on 3 channels, one thread, CPU time, load 5.6: float32 1.11-1.19 at 1-2 filters,
#: 0.84 at 4, 0.61 at 12; float64 1.02-1.06 at 1-2, 0.90 at 4, 0.61 at 12; 8 channels and 1x5x5 alike).
BLOCK_MIN_FILTERS = 4

#: From this many bytes of output the blocked loop writes past the caches (where it can: whole,
#: aligned vectors), which spares reading each line before overwriting it.
STREAM_BYTES = 8 << 20

#: negative-side slope of leaky_relu (PyTorch's default ``negative_slope``)
LEAKY_SLOPE = 0.01


def use_numpy(paths: Paths, work: int, passes: int = 0, rounds_each_tap: Callable[[], bool] = lambda: False) -> bool:
    """Whether ``work`` multiply-adds go to the plain-numpy layer rather than the jitted core.

    Tiny work does, while numpy's estimate (``work`` values and ``passes`` numpy calls, more of each
    where ``rounds_each_tap()``: the numpy layer emulates fused multiply-adds,
    :func:`kernelcli._core.fused.muladd_into`) stays under :data:`SMALL_NUMPY_SECONDS`; under the CLI's
    ``cold`` policy, so does any work for which numpy is cheaper than loading the jitted core in a
    fresh process (a pure function of the call: see :func:`kernelcli._core.costs.jit_start_seconds`).
    A forced path is taken as it is.
    """
    if paths.force is not None:
        return bool(paths.numpy_for(work))
    small = work <= paths.small_work
    if not (small or paths.cold):
        return False  # the warm policy, beyond tiny work: the jitted core
    fused = rounds_each_tap()
    seconds = work * (NUMPY_SECONDS_PER_FUSED_TAP if fused else NUMPY_SECONDS_PER_TAP)
    seconds += passes * (NUMPY_SECONDS_PER_FUSED_PASS if fused else NUMPY_SECONDS_PER_PASS)
    if small and seconds <= SMALL_NUMPY_SECONDS:
        return True
    from ._core import costs

    return costs.cold_prefers(paths, seconds, 0.0)


def _use_blocks(paths: Paths, per_group: int, lanes: int) -> bool:
    """Whether the jitted layer runs blocks of ``lanes`` filters (:func:`_core.layer.blocked_rows`) rather
    than one filter at a time (:func:`_core.layer.layer_rows`); both give the same numbers.

    ``paths.force`` pins either ("blocked", "filterwise"); otherwise blocks from
    :data:`BLOCK_MIN_FILTERS` filters per group (a block costs about the same however few of its
    ``lanes`` are used: depthwise layers stay one filter at a time).
    """
    if paths.force in ("blocked", "filterwise"):
        return paths.force == "blocked"
    return per_group >= BLOCK_MIN_FILTERS


def jit_layer(x3: np.ndarray, wc: np.ndarray, bc: np.ndarray, groups: int, widths: tuple[int, int, int, int], mode: str,
              pad_value: float, stride: tuple[int, int], dilation: tuple[int, int], act: str, size: tuple[int, int],
              maps: Callable[[], tuple[np.ndarray, np.ndarray]], paths: Paths, out: np.ndarray | None) -> np.ndarray:
    """The layer on the jitted core, into ``out`` (allocated when None: ``size + (K,)``, ``wc``'s dtype).

    ``x3`` is the (H, W, C) input, ``wc``/``bc`` the weights and bias in the compute dtype, ``widths``
    the padding (top, bottom, left, right), ``act`` a canonical activation (applied here only if in
    :data:`LOOP_ACTIVATIONS`: the caller applies the others), ``size`` the output's (H', W'); ``maps``
    builds the padded rows' and columns' source indices, which only the filter-at-a-time loop reads.
    Arguments are checked by :func:`kernelcli.layers.conv_layer`.
    """
    from ._core import simd

    dtype, filters = wc.dtype, wc.shape[0]
    # Numba has no float16: such input is cast (exactly) to the compute dtype first.
    x3 = np.ascontiguousarray(x3.astype(dtype) if x3.dtype == np.float16 else x3)
    blocked = _use_blocks(paths, filters // groups, simd.lanes(dtype))
    if out is None:
        out = _aligned_empty((*size, filters), dtype, simd.REGISTER_BYTES) if blocked else np.empty((*size, filters), dtype=dtype)
    in_loop = act if act in LOOP_ACTIVATIONS else "none"
    if blocked:
        _blocked_layer(x3, wc, bc, groups, widths, PAD_CODES[mode], pad_value, stride, dilation, in_loop, out)
    else:
        ndsupport.check_finite(x3)
        _filterwise_layer(x3, wc, bc, groups, *maps(), pad_value, stride, dilation, in_loop, out)
    return out


#: the activations the jitted loops apply as they write (a comparison and at most one product a value: numpy's
#: bytes); :func:`jit_layer` leaves tanh and sigmoid to its caller, which applies numpy's own functions as the
#: numpy path does (the loops' libm ``tanh`` and ``exp`` differ from numpy's in the last bit: 26-35% of tanh values)
LOOP_ACTIVATIONS = ("none", "relu", "leaky_relu")


def _blocked_layer(x3, wc, bc, groups, widths, mode_code, pad_value, stride, dilation, act, out) -> None:
    """The jitted layer a block of filters at a time (:func:`_core.layer.blocked_rows`), into ``out``.

    A float input is screened for NaN and infinity by the loop, on the padded rows it builds, and
    apart on the rows no window reads; a refused input leaves ``out`` all NaN.
    """
    from ._core import simd, threads
    from ._core.engine import NATIVE_CHARS
    from ._core.layer import blocked_rows
    from ._core.memo import read_only

    h, w, channels = x3.shape
    kh = wc.shape[2]
    if x3.dtype.char not in NATIVE_CHARS:  # the padding loop reads these itself; others are cast first
        x3 = x3.astype(out.dtype)
    _compile_note(blocked_rows, x3.dtype, out.dtype)
    rows, cols, runs, wq = _PAD_PLANS.get((x3.shape, widths, mode_code), lambda: _pad_plan(x3.shape, widths, mode_code))
    (sh, sw), (dh, dw) = stride, dilation
    key = (x3.shape, widths, mode_code, out.shape[0], kh, sh, dh, out.itemsize)
    needed, chunk, span, unread = _SLABS.get(key, lambda: _slab_plan(rows, h, out.shape[0], kh, sh, dh, wq * channels * out.itemsize))
    screen = x3.dtype.kind == "f"
    if screen and unread.size and not ndsupport.all_finite(x3[unread]):
        ndsupport.check_finite(x3)  # refused, with the count of the whole input
    table = _block_table_of(wc, bc, groups, (dh, dw), (wq, channels), simd.lanes(out.dtype))
    x2 = read_only(np.ascontiguousarray(x3).reshape(h, w * channels))
    stream = _streams(out, wc.shape[0] // groups, simd.lanes(out.dtype), simd.REGISTER_BYTES)
    flags = np.zeros(needed.size if screen else 0, dtype=np.bool_)
    threads.run_rows(blocked_rows, out.shape[0], x2, channels, rows, cols, runs, wq, pad_value, needed, chunk, span,
                     *table, sh, sw, ACTIVATION_CODES[act], LEAKY_SLOPE, stream, out, flags)
    if screen and flags.any():
        out[...] = np.nan  # no output half computed from a refused input
        ndsupport.check_finite(x3)


#: bytes of padded rows the blocked loop builds at a time (a slab: its rows are padded once, not once
#: per output row that reads them), a fraction of a core's L2 cache
SLAB_BYTES = 1 << 17

#: slab plans of recent layer shapes (see :func:`_slab_plan`)
_SLABS = Memo(64)


def _slab_plan(rows: np.ndarray, h: int, oh: int, kh: int, stride_h: int, dil_h: int,
               row_bytes: int) -> tuple[np.ndarray, int, int, np.ndarray]:
    """How :func:`_core.layer.blocked_rows` pads: ``(needed, chunk, span, unread)``.

    ``rows[p]``: which of the ``h`` input rows padded row p copies (-1: the fill); ``needed[p]``: some window reads
    padded row p; ``chunk``: output rows per slab (as many as :data:`SLAB_BYTES` of padded rows
    hold, at least one); ``span``: padded rows one window spans; ``unread``: the input rows no
    window reads (their finiteness is checked apart).

    >>> needed, chunk, span, unread = _slab_plan(np.arange(5), 5, 3, 1, 2, 1, 1024)   # 1x1 windows, stride 2
    >>> needed.astype(int).tolist(), chunk, span, unread.tolist()
    ([1, 0, 1, 0, 1], 3, 1, [1, 3])
    """
    span = (kh - 1) * dil_h + 1
    needed = np.zeros((oh - 1) * stride_h + span, dtype=np.bool_)
    needed[(np.arange(oh)[:, None] * stride_h + np.arange(kh)[None, :] * dil_h).ravel()] = True
    chunk = max(1, min(oh, (SLAB_BYTES // max(1, row_bytes) - span) // stride_h + 1))
    read = rows[: needed.size][needed]
    unread = np.setdiff1d(np.arange(h), read[read >= 0])
    frozen(needed, unread)
    return needed, chunk, span, unread


def _streams(out: np.ndarray, per_group: int, lanes: int, register: int) -> bool:
    """Whether the blocked loop writes ``out`` past the caches: an output of at least :data:`STREAM_BYTES`
    whose every block of filters is a whole vector on a register boundary (the store's condition).

    >>> _streams(_aligned_empty((512, 512, 16), np.float32, 64), 16, 16, 64)
    True
    >>> _streams(_aligned_empty((512, 512, 24), np.float32, 64), 24, 16, 64)  # a block of 8: not whole
    False
    """
    return (out.nbytes >= STREAM_BYTES and per_group % lanes == 0 and out.ctypes.data % register == 0
            and out.strides[1] % register == 0)


def _aligned_empty(shape: tuple[int, ...], dtype: np.dtype, align: int) -> np.ndarray:
    """An uninitialised C-contiguous array whose data starts on an ``align``-byte boundary (numpy's own: 16).

    >>> _aligned_empty((3, 5), np.float32, 64).ctypes.data % 64
    0
    """
    from ._core.placement import empty_at

    return empty_at(shape, dtype, 0, align)


#: padding maps of recent input shapes (rows, columns, runs; see :func:`kernelcli._core.pad.pad_row`)
_PAD_PLANS = Memo(64)


def _pad_plan(shape: tuple[int, int, int], widths: tuple[int, int, int, int], mode_code: int) -> tuple:
    from ._core.engine import pad_plan

    rows, cols, runs, wq = pad_plan(shape, widths, mode_code)
    frozen(rows, cols, runs)  # read-only, as the convolution's: the padding loop compiled once for both
    return rows, cols, runs, wq


def _filterwise_layer(x3, wc, bc, groups, rows, cols, pad_value, stride, dilation, act, out) -> None:
    """The jitted layer one filter at a time (:func:`_core.layer.layer_rows`) on a planarised copy, into ``out``."""
    from ._core import threads
    from ._core.layer import layer_rows, planarize

    (sh, sw), (dh, dw) = stride, dilation
    _compile_note(planarize, x3.dtype, out.dtype)
    _compile_note(layer_rows, out.dtype)
    xq = np.empty((x3.shape[2], rows.size, sw, cols.size // sw), dtype=out.dtype)
    threads.run_rows(planarize, rows.size, x3, rows, cols, float(pad_value), xq)
    taps, tap_weights, counts = _tap_table(wc, groups, dh, dw, sw)
    threads.run_rows(layer_rows, out.shape[0], xq, taps, tap_weights, counts, bc, sh, ACTIVATION_CODES[act], LEAKY_SLOPE, out)


#: block tables of recent layers: a program applies one layer to image after image
_BLOCK_TABLES = Memo(16)
#: larger layers are not remembered (their key alone would cost what building the table does)
_REMEMBER_WEIGHTS = 1 << 16


def _block_table_of(wc: np.ndarray, bc: np.ndarray, groups: int, dilation: tuple[int, int], row: tuple[int, int],
                    lanes: int) -> tuple[np.ndarray, ...]:
    """:func:`_block_table`, remembered for small layers (its arrays read-only, whether new or remembered)."""
    build = lambda: _frozen(_block_table(wc, bc, groups, dilation, row, lanes))
    if wc.size > _REMEMBER_WEIGHTS:
        return build()
    return _BLOCK_TABLES.get((array_key(wc), array_key(bc), groups, dilation, row, lanes), build)


def _frozen(arrays: tuple[np.ndarray, ...]) -> tuple[np.ndarray, ...]:
    frozen(*arrays)
    return arrays


def _block_table(wc: np.ndarray, bc: np.ndarray, groups: int, dilation: tuple[int, int], row: tuple[int, int],
                 lanes: int) -> tuple[np.ndarray, ...]:
    """The filters in blocks of ``lanes`` (within a group), for :func:`_core.layer.blocked_rows`.

    ``row`` is ``(wq, C)``: a padded row's pixels and channels; ``dilation`` is (rows, columns).
    Returns ``offs`` (B, T) int64: tap t's flat offset from a window's first padded row in
    consecutive padded rows (channels-last), for output column 0; ``wb`` (B, T*lanes): tap t's weights, one lane per filter (unused
    lanes 0); ``n_taps``, ``first``, ``used`` (B,): the block's taps, its first filter and its
    filter count; ``bias`` (B, lanes).  A block's taps are those (channel, row, column) where any
    of its filters has a non-zero weight, in that order: the per-filter loop's order
    (:func:`_tap_table`).  The other filters of the block multiply a zero weight there; adding
    that zero changes no sum except the sign of an exact zero.

    >>> offs, wb, n_taps, first, used, bias = _block_table(np.ones((3, 2, 1, 2)), np.zeros(3), 1, (1, 1), (5, 2), 4)
    >>> offs[0, :4].tolist(), n_taps.tolist(), used.tolist()   # (channel, column): 0, 2 | 1, 3
    ([0, 2, 1, 3], [4], [3])
    """
    filters, per_group, kh, kw = wc.shape
    wq, channels = row
    dil_h, dil_w = dilation
    per_filter_group = filters // groups
    per_block = -(-per_filter_group // lanes)
    t = np.arange(per_group * kh * kw)
    c, u, v = t // (kh * kw), t // kw % kh, t % kw
    offsets = (u * dil_h * wq + v * dil_w) * channels + c
    # (groups, filters of the group padded to whole blocks, taps) -> (blocks, taps, lanes)
    spread = np.zeros((groups, per_block * lanes, t.size), dtype=wc.dtype)
    spread[:, :per_filter_group] = wc.reshape(groups, per_filter_group, t.size)
    weights = spread.reshape(groups * per_block, lanes, t.size).transpose(0, 2, 1)
    keep = (weights != 0).any(axis=2)
    order = np.argsort(~keep, axis=1, kind="stable")  # each block's kept taps first, in their order
    group_channel = np.repeat(np.arange(groups) * per_group, per_block)
    offs = np.ascontiguousarray(np.take_along_axis(offsets[None, :] + group_channel[:, None], order, axis=1))
    wb = np.ascontiguousarray(np.take_along_axis(weights, order[:, :, None], axis=1)).reshape(len(order), -1)
    k0 = np.tile(np.arange(per_block) * lanes, groups)
    first = np.repeat(np.arange(groups) * per_filter_group, per_block) + k0
    used = np.minimum(lanes, per_filter_group - k0)
    bias = np.zeros((groups, per_block * lanes), dtype=wc.dtype)
    bias[:, :per_filter_group] = bc.reshape(groups, per_filter_group)
    return offs, wb, keep.sum(axis=1).astype(np.int64), first.astype(np.int64), used.astype(np.int64), bias.reshape(-1, lanes)


def _tap_table(wc: np.ndarray, groups: int, dil_h: int, dil_w: int, stride_w: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each filter's non-zero taps, in the order channel, row, column, for the jitted core.

    Returns ``taps`` (K, T, 4) int64 rows (input channel, row offset ``u*dil_h``, column
    phase ``(v*dil_w) % stride_w``, run start ``(v*dil_w) // stride_w``), ``weights``
    (K, T) and ``counts`` (K,): filter k uses its first ``counts[k]`` taps.  Zero weights
    are left out (adding 0*x changes no sum of finite values).
    """
    filters, per_group, kh, kw = wc.shape
    c, u, v = (a.ravel() for a in np.meshgrid(np.arange(per_group), np.arange(kh), np.arange(kw), indexing="ij"))
    group = np.arange(filters) // (filters // groups)
    taps = np.empty((filters, c.size, 4), dtype=np.int64)
    taps[:, :, 0] = group[:, None] * per_group + c
    taps[:, :, 1] = u * dil_h
    taps[:, :, 2] = (v * dil_w) % stride_w
    taps[:, :, 3] = (v * dil_w) // stride_w
    weights = wc.reshape(filters, -1)
    keep = weights != 0
    order = np.argsort(~keep, axis=1, kind="stable")  # non-zero taps first, in their order
    taps = np.ascontiguousarray(np.take_along_axis(taps, order[:, :, None], axis=1))
    weights = np.ascontiguousarray(np.take_along_axis(weights, order, axis=1))
    return taps, weights, keep.sum(axis=1).astype(np.int64)
