"""Convolution layers: a bank of 3-D filters over a multi-channel image, with bias and activation.

The lecture's "Convolution to 3D matrix" and "Convolution layer": a filter on an (H, W, C)
input is itself (C, f, f); its f*f*C products are summed into one value, every filter gives
one feature map, and each map gets a bias and an activation.  :func:`conv_layer` computes
exactly what ``torch.nn.functional.conv2d`` computes, on channels-last arrays:

>>> import numpy as np, torch                                           # doctest: +SKIP
>>> y = conv_layer(x, w, b, stride=2, padding=1, groups=g)              # doctest: +SKIP
>>> t = torch.nn.functional.conv2d(torch.from_numpy(x).permute(2, 0, 1)[None],
...     torch.from_numpy(w), torch.from_numpy(b), stride=2, padding=1, groups=g)   # doctest: +SKIP
>>> np.allclose(y, t[0].permute(1, 2, 0))                               # doctest: +SKIP
True

:func:`kernelcli.banks.filter_bank` builds such a layer from catalogue kernels (2-D kernels either per
channel or summed over channels; 3-D kernels always summed) for the CLI and the gallery.

Example
-------
>>> x = np.ones((4, 4, 3))
>>> conv_layer(x, np.ones((1, 3, 3, 3)), 1.0)[..., 0]
array([[28., 28.],
       [28., 28.]])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from . import api, conv_args, layer_jit, ndsupport, out_buffers, shapes
from . import layer_sums, whole_numbers
from ._core.policy import as_paths
from .errors import ShapeError, UsageError
from .given_values import float64_of, not_finite_said
from .modes import (
    PAD_CODES,
    canonical_activation,
    canonical_pad_mode,
    check_fill_reading,
)


def finite_array(values: Any, name: str) -> np.ndarray:
    """``values`` as float64, refused (naming ``name``) where masked, not real, a whole number float64 would round,
    NaN or infinite: the weights, bias and kernels of a layer.

    >>> finite_array([[1, 2]], "weights")
    array([[1., 2.]])
    """
    ndsupport.refuse_masked(values, name)
    given = ndsupport.real_array(values, name)  # (the words conv2d's kernel is refused in)
    arr = float64_of(given, name, name, UsageError)  # (a long double as a weights or bias file's is read)
    ndsupport.refuse_rounded_whole(given, name, UsageError, listed=values)
    said = not_finite_said(arr, name)
    if said is not None:
        raise UsageError(f"{name}: {said}")
    return arr


def _as_weights(weights: Any) -> np.ndarray:
    ndsupport.refuse_text_kernel(weights, "weights", 4)
    w = finite_array(weights, "weights")
    if w.ndim != 4:
        raise ShapeError(f"weights: expected a 4-D array (K filters, C/groups channels, kh, kw), got shape {w.shape}")
    if w.size == 0:
        raise ShapeError(f"weights: the array is empty (shape {w.shape})")
    return w


def _as_bias(bias: Any, filters: int) -> np.ndarray:
    if bias is None:
        return np.zeros(filters)
    if ndsupport.real_array(bias, "bias").dtype.kind == "b":  # (bias=True was a bias of 1)
        raise UsageError(f"bias: expected a number or {filters} numbers (one per filter), got {bias!r}")
    b = finite_array(bias, "bias")
    if b.ndim == 0:
        return np.full(filters, float(b))
    if b.shape != (filters,):
        raise ShapeError(f"bias: expected one value or {filters} (one per filter), got shape {b.shape}")
    return b


@ndsupport.quiet_overflow
def conv_layer(
    x: Any,
    weights: Any,
    bias: Any = None,
    *,
    stride: int | Sequence[int] = 1,
    padding: str | int | Sequence[int] = 0,
    pad_mode: str = "constant",
    pad_value: float = 0.0,
    dilation: int | Sequence[int] = 1,
    groups: int = 1,
    activation: str | None = None,
    paths: Any = None,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """A convolution layer on a channels-last image: ``act(sum over C/groups, f, f of x*w + b)``.

    The same numbers as ``torch.nn.functional.conv2d(x.permute(2, 0, 1)[None], weights,
    bias, stride, padding, dilation, groups)`` followed by the activation, with the result
    permuted back to (H', W', K).  Cross-correlation, as in every deep-learning library.

    Parameters
    ----------
    x : array_like
        (H, W, C) channels-last; an (H, W) array is one channel.
    weights : array_like
        (K, C/groups, kh, kw): K filters, each spanning the C/groups channels of its group.
    bias : float or array_like of shape (K,), optional
        Added to each filter's map before the activation; None adds nothing.
    stride, dilation : int or (sv, sh)
        Step between windows, and spacing between filter taps.
    padding : int, (ph, pw), (top, bottom, left, right), "same" or "valid"
        Cells added around the input, 0 by default (as PyTorch).  "same" is as in
        :func:`kernelcli.api.conv2d` (the extra cell bottom/right for even kernels).
    pad_mode, pad_value : str, float
        How padded cells are filled: constant (``pad_value``, 0 by default as PyTorch's
        zero padding), replicate, reflect, symmetric or circular.
    groups : int
        Split the channels and filters into this many independent groups (PyTorch's
        ``groups``): 1 is a full layer, C with K = C is depthwise.
    activation : {None, "none", "relu", "leaky_relu", "sigmoid", "tanh"}
        Applied after the bias; leaky_relu uses slope 0.01 below zero.  A sum that overflowed on the way (from a
        finite input) is first summed again in float64, as :func:`kernelcli.api.conv2d`'s outputs are: the
        activation sees the true sum, or an infinity where that is beyond the range, never a hidden overflow.
    paths : "warm", "cold" or Paths, optional
        The path policy (:mod:`kernelcli._core.policy`): plain numpy or the jitted layer, and
        which jitted loop ("blocked" or "filterwise"); every path gives the same numbers.
    out : numpy.ndarray, optional
        Where to write the result: a C-contiguous, writeable (H', W', K) array of the result's
        dtype, returned.  A loop over many images reuses one buffer instead of paying for fresh
        memory each call (the operating system zeroes new pages: a 64 MiB map costs about as
        much as computing it).  It may not overlap the input, weights or bias.  A large result is
        written past the CPU caches where each filter block's vector starts on a register boundary,
        as in a result of this function (reuse one as ``out``); numpy's own arrays start 16 bytes
        off one and are written through the caches (512x512x16 float32, one thread: 4.4 against
        3.9 ms).  An input refused for a NaN or an infinity leaves ``out`` as it was, or all NaN
        (the register-blocked loop screens the rows it reads as it computes), never half written.

    Returns
    -------
    numpy.ndarray
        (H', W', K): float32, or float64 for float64 and 16-, 32- and 64-bit integer inputs (see
        :func:`kernelcli.api.compute_dtype`); ``out`` when given.  A filter of whole numbers (times a power of
        two, or over a whole number) whose sums over an integer input can pass float32's whole numbers is summed
        in float64 with its bias and divisor and rounded once, as :func:`kernelcli.api.conv2d`'s sums are
        (:mod:`kernelcli.layer_sums`): the exact answer, correctly rounded.

    >>> x = np.arange(16.0).reshape(4, 4, 1)
    >>> conv_layer(x, np.ones((2, 1, 2, 2)), [0.0, -30.0], activation="relu")[..., 1]
    array([[ 0.,  0.,  0.],
           [ 0.,  0.,  4.],
           [12., 16., 20.]])
    >>> buf = np.empty((3, 3, 2))
    >>> conv_layer(x, np.ones((2, 1, 2, 2)), out=buf) is buf
    True
    """
    arr = api.as_image_array(x, finite=False)  # checked by the jitted layer's screen, or before the numpy layer
    x3 = arr.reshape(arr.shape[0], arr.shape[1], -1)
    h, w, channels = x3.shape
    wts = _as_weights(weights)
    filters, per_group, kh, kw = wts.shape
    groups = whole_numbers.check_positive("groups", int(groups) if isinstance(groups, np.integer) else groups)
    if channels % groups or filters % groups:
        raise ShapeError(f"groups={groups} must divide both the input channels ({channels}) and the filters ({filters})")
    if per_group != channels // groups:
        raise ShapeError(
            f"weights {tuple(wts.shape)}: each filter spans {per_group} channel(s), but the input has {channels} "
            f"channel(s) in {groups} group(s), so each filter must span {channels // groups}"
        )
    b = _as_bias(bias, filters)
    act = canonical_activation(activation)
    sh, sw = api._pair(stride, "stride")
    dh, dw = api._pair(dilation, "dilation")
    widths = shapes.resolve_padding(conv_args.padding_arg(padding), kh, kw, (dh, dw))
    check_fill_reading(pad_mode, pad_value, "conv_layer")
    mode = canonical_pad_mode(pad_mode, "pad_mode")
    try:
        oh = shapes.conv_output_size(h, kh, stride=sh, pad_before=widths[0], pad_after=widths[1], dilation=dh)
        ow = shapes.conv_output_size(w, kw, stride=sw, pad_before=widths[2], pad_after=widths[3], dilation=dw)
    except ShapeError as exc:
        raise ShapeError(f"input {h}x{w} and filter {kh}x{kw}: {exc}") from None
    conv_args.check_padding_fits(arr.shape, widths, (dh, dw))

    dtype = api.compute_dtype(arr.dtype)
    ndsupport.check_whole(arr, dtype, dtype_arg=False)  # (no dtype= here: "give it as float64" is the advice)
    if out is not None:
        _check_out(out, (oh, ow, filters), dtype, (("input", arr), ("weights", weights), ("bias", bias)))
    pad_value = ndsupport.check_fill(pad_value, dtype, "pad_value") if mode == "constant" else 0.0
    wider = "give the input as float64 (the layer computes in the input's float type)"
    ndsupport.check_fits(wts, dtype, "weights", wider)  # beyond it a weight becomes inf, and 0 * inf NaN
    ndsupport.check_fits(b, dtype, "bias", wider)
    fill = pad_value if mode == "constant" else 0.0
    # Only the padded rows and columns some window reads are built (numpy and the filter-at-a-time loop), and a
    # stride that gives one window is walked at 1: the maps and the loops' indices never grow with the stride.
    rows_read, sh = shapes.read_span(oh, kh, stride=sh, dilation=dh)
    cols_read, sw = shapes.read_span(ow, kw, stride=sw, dilation=dw, whole_strides=True)
    maps = lambda: (_source_map(h, widths[0], rows_read, mode), _source_map(w, widths[2], cols_read, mode))
    policy = as_paths(paths)

    def run(dtype: np.dtype, given: tuple[np.ndarray, np.ndarray], act: str, out: np.ndarray | None) -> np.ndarray:
        """The layer of the float64 ``given`` weights and bias in ``dtype``, into ``out``."""
        # + 0: a bias of -0.0 is +0.0, so that a sum that is -0.0 on one path (a fused multiply-add can round a
        # tiny product to -0.0, and a zero weight's tap, added by some paths, turns it to +0.0) ends +0.0 on all
        wc, bc = np.ascontiguousarray(given[0].astype(dtype)), given[1].astype(dtype) + dtype.type(0)
        answer: list[bool] = []

        def rounds_each_tap() -> bool:  # numpy must emulate float32's fused multiply-adds (asked once)
            if not answer:
                from ._core.config import FUSED_DTYPES
                from ._core.fused import exact_sums

                answer.append(dtype.name in FUSED_DTYPES and not exact_sums(arr.dtype, wc, pad_value if mode == "constant" else None))
            return answer[0]

        passes = numpy_passes(len(wc), per_group, groups, kh * kw, oh, ow)
        # A sum past the range is summed again before the activation, which would hide it (relu of -inf is 0, sigmoid's 0)
        settle = _sums_may_overflow(arr, *given, dtype, fill)
        if not layer_jit.use_numpy(policy, oh * ow * len(wc) * per_group * kh * kw, passes, rounds_each_tap):
            in_loop = "none" if settle else act  # (the loops apply relu and leaky_relu as they write: numpy's bytes)
            result = layer_jit.jit_layer(x3, wc, bc, groups, widths, mode, pad_value, (sh, sw), (dh, dw), in_loop, (oh, ow), maps, policy, out)
            if not settle and act in layer_jit.LOOP_ACTIVATIONS:
                return result
        else:
            ndsupport.check_finite(x3)
            result = _layer_numpy(x3, *maps(), pad_value, wc, bc, groups, (sh, sw), (dh, dw), (oh, ow), "none", rounds_each_tap())
            if out is not None:
                out[...] = result
                result = out
        if settle:
            recompute = lambda wide: _layer_numpy(x3, *maps(), pad_value, wc.astype(wide), bc.astype(wide), groups, (sh, sw),
                                                  (dh, dw), (oh, ow), "none")
            _settle(result, recompute)
        activated = apply_activation(result, act)  # numpy's tanh and exp on every path
        if activated is not result:
            result[...] = activated
        return result

    wide = layer_sums.wide_filters(arr, dtype, fill, wts, b)
    if wide is None:
        return run(dtype, (wts, b), act, out)
    # conv2d's exact-sum rule: an integer image's whole-number sums past float32's are summed in float64 and
    # rounded once (with the bias and divisor), filter by filter; the other filters keep the float32 sums
    picks, whole, divisors = wide
    every = picks.size == filters
    f64 = np.dtype(np.float64)
    if groups == 1 or every:  # (a subset of filters is a layer of its own only without groups)
        summed = run(f64, (whole, np.zeros(picks.size)), "none", None)
    else:
        all_whole = wts.copy()
        all_whole[picks] = whole
        summed = run(f64, (all_whole, np.zeros(filters)), "none", None)[..., picks]
    exact = layer_sums.rounded_once(summed, b[picks], divisors, dtype)
    if every:
        result = exact if out is None else out
        if out is not None:
            out[...] = exact
    else:
        result = run(dtype, (wts, b), "none", out)
        result[..., picks] = exact
    activated = apply_activation(result, act)
    if activated is not result:
        result[...] = activated
    return result


def _sums_may_overflow(arr: np.ndarray, wts: np.ndarray, bias: np.ndarray, dtype: np.dtype, fill: float = 0.0) -> bool:
    """Whether a filter's sum (or any partial sum) over ``arr`` can leave ``dtype``'s range: the largest magnitude of
    the data (its dtype's, for integers: no pass over them; the data's own and the constant ``fill``'s, for floats: two
    reductions over the input, a fifth of one over a 16-filter output) times a filter's sum of weight magnitudes, plus
    the bias, against half the range (as :func:`kernelcli._core.overflow.possible` asks for ``conv2d``).

    >>> ones = np.ones((2, 3, 3, 3))
    >>> _sums_may_overflow(np.zeros((4, 4, 3), np.uint8), ones, np.zeros(2), np.dtype(np.float32))
    False
    >>> _sums_may_overflow(np.full((4, 4, 3), 1e37, np.float32), ones, np.zeros(2), np.dtype(np.float32))
    True
    >>> _sums_may_overflow(np.full((4, 4, 3), 1e3, np.float32), ones, np.zeros(2), np.dtype(np.float32))
    False
    """
    if arr.dtype.kind in "iub":
        largest = 1.0 if arr.dtype.kind == "b" else float(max(-int(np.iinfo(arr.dtype).min), int(np.iinfo(arr.dtype).max)))
    elif arr.size == 0:
        return False
    else:
        largest = max(abs(float(arr.max())), abs(float(arr.min())), abs(float(fill)))  # (NaN: not finite, below)
    with np.errstate(over="ignore"):
        bound = largest * np.abs(wts).reshape(len(wts), -1).sum(axis=1) + np.abs(bias)
    return not float(bound.max()) < float(np.finfo(dtype).max) / 2


def _settle(result: np.ndarray, recompute) -> None:
    """Sums of ``result`` that are not finite, from a finite input, summed again wider (:mod:`kernelcli._core.overflow`),
    as ``conv2d``'s are: their true value, or an infinity beyond the range, whichever path summed them."""
    if np.isfinite(np.add.reduce(result, axis=None, dtype=np.float64)):
        return  # (one reduction, no mask: every sum finite, the usual case)
    from ._core import overflow

    overflow.settle(result, recompute)


def _check_out(out: Any, shape: tuple[int, int, int], dtype: np.dtype, sources) -> None:
    """Refuse an ``out`` buffer the layer cannot write its (H', W', K) result into, saying what was expected."""
    if not isinstance(out, np.ndarray):
        raise UsageError(f"out: expected a numpy array, got {type(out).__name__}")
    if out.shape != shape or out.dtype != dtype:
        got = out.dtype.name if out.dtype.isnative else f"{out.dtype.name} in the other byte order ({out.dtype.str!r})"
        raise ShapeError(f"out: expected shape {shape} and dtype {np.dtype(dtype).name}, got shape {out.shape} and dtype {got}")
    if not (out.flags.c_contiguous and out.flags.writeable):
        raise UsageError("out: expected a C-contiguous, writeable array")
    # the input as converted (a torch tensor or memoryview of out is out's memory); the weights and bias are copied
    out_buffers.refuse_overlap(out, sources)


def _source_map(n: int, before: int, length: int, mode: str) -> np.ndarray:
    """Input index that each of ``length`` padded positions copies (-1: the constant fill).

    numpy.pad's rule, from the one index map every path pads through
    (:func:`kernelcli._core.numpy_impl.source_indices`).

    >>> _source_map(3, 2, 7, "reflect")
    array([2, 1, 0, 1, 2, 1, 0])
    """
    from ._core.numpy_impl import source_indices

    after = max(0, length - before - n)
    return np.ascontiguousarray(source_indices(n, before, after, PAD_CODES[mode])[:length].astype(np.int64))


def _layer_numpy(x3, rows, cols, pad_value, wc, bc, groups, stride, dilation, size, act, fused=False):
    """The plain-numpy layer, for small work and, under the ``cold`` policy, for work that
    numpy finishes sooner than a fresh process loads the jitted core (see :func:`kernelcli.layer_jit.use_numpy`).

    Same arithmetic in the same order as ``_core.layer.layer_rows`` (per filter: channel,
    then row tap, then column tap; bias last), so both paths give the same numbers.  ``fused``:
    each tap is added with one rounding (:func:`kernelcli._core.fused.muladd_into`), as the
    jitted loops add it in float32 (:data:`kernelcli._core.config.FUSED_DTYPES`) where a
    rounding can happen at all; where none can (:func:`kernelcli._core.fused.exact_sums`), a
    multiply then an add gives the same bytes sooner.
    """
    from ._core.fused import muladd_into, tiny_products

    oh, ow = size
    filters, per_group, kh, kw = wc.shape
    per_filter_group = filters // groups
    xp = x3[np.ix_(np.maximum(rows, 0), np.maximum(cols, 0))].astype(wc.dtype)
    xp[rows < 0] = pad_value
    xp[:, cols < 0] = pad_value
    planes = np.ascontiguousarray(xp.transpose(2, 0, 1))  # channel planes: each tap a view of one
    if fused:
        planes = planes.astype(np.float64)  # exact; cast once, not once a filter
    tiny = tiny_products(planes, wc) if fused else False

    def add(acc, tap, w):
        if fused:
            muladd_into(acc, tap, w, tiny=tiny)
        else:
            acc += tap * w

    taps = [(u, v) for u in range(kh) for v in range(kw)]
    if filter_major(per_filter_group, oh, ow):
        sums = np.zeros((filters, oh, ow), dtype=wc.dtype)
        for k in range(filters):
            first = k // per_filter_group * per_group
            for c in range(per_group):
                for u, v in taps:
                    add(sums[k], _tap(planes[first + c], u, v, stride, dilation, size), wc[k, c, u, v])
        out = np.ascontiguousarray(sums.transpose(1, 2, 0))
    else:
        out = np.zeros((oh, ow, filters), dtype=wc.dtype)
        for g in range(groups):
            ks = slice(g * per_filter_group, (g + 1) * per_filter_group)
            for c in range(per_group):
                for u, v in taps:
                    add(out[:, :, ks], _tap(planes[g * per_group + c], u, v, stride, dilation, size)[:, :, None], wc[ks, c, u, v])
    out += bc
    return apply_activation(out, act)


def _tap(plane: np.ndarray, u: int, v: int, stride, dilation, size) -> np.ndarray:
    """The (H', W') view of ``plane`` that the filter tap at row ``u``, column ``v`` multiplies."""
    (sh, sw), (dh, dw), (oh, ow) = stride, dilation, size
    return plane[u * dh : u * dh + (oh - 1) * sh + 1 : sh, v * dw : v * dw + (ow - 1) * sw + 1 : sw]


#: the numpy layer sums filter by filter (one weight a pass over a whole map) for groups of fewer filters
#: than this, or maps of at least _FILTER_MAJOR_VALUES; otherwise a group's filters at once, channels-last
#: (a pass a tap and channel: with many filters and small maps, a pass a filter costs more in numpy calls,
#: 6-35 us each, than it computes: a 3x3 output of 32 -> 32 filters 3x3 emulating fused multiply-adds,
#: 321 ms one at a time, 10 ms at once; 64x64x3 -> 16 3x3, a tap 1.7-2.7 ns one at a time and 3.0 at once
#: multiplying then adding, 12.8 and 7.5 ns emulating: the emulation's dearer calls set the bound)
_FILTER_MAJOR_BELOW = 8
_FILTER_MAJOR_VALUES = 16384


def filter_major(per_filter_group: int, oh: int, ow: int) -> bool:
    """Whether the numpy layer sums filter by filter (see :data:`_FILTER_MAJOR_BELOW`)."""
    return per_filter_group < _FILTER_MAJOR_BELOW or oh * ow >= _FILTER_MAJOR_VALUES


def numpy_passes(filters: int, per_group: int, groups: int, taps: int, oh: int, ow: int) -> int:
    """The numpy calls of a pass each that the numpy layer makes (its cost beyond the values)."""
    per_filter_group = filters // groups
    return (filters if filter_major(per_filter_group, oh, ow) else groups) * per_group * taps


def apply_activation(values: np.ndarray, activation: str | None) -> np.ndarray:
    """Apply an activation elementwise (in place when possible), keeping the dtype.

    >>> apply_activation(np.array([-2.0, 0.0, 3.0]), "leaky_relu")
    array([-0.02,  0.  ,  3.  ])
    """
    act = canonical_activation(activation)
    v = values
    if act == "relu":
        return np.maximum(v, v.dtype.type(0), out=v)
    if act == "leaky_relu":
        return np.where(v >= 0, v, v * v.dtype.type(layer_jit.LEAKY_SLOPE)).astype(v.dtype, copy=False)
    if act == "sigmoid":
        e = np.exp(-np.abs(v))
        one = v.dtype.type(1)
        return np.where(v >= 0, one / (one + e), e / (one + e)).astype(v.dtype, copy=False)
    if act == "tanh":
        return np.tanh(v)
    return v
