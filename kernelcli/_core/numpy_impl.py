"""Plain-numpy versions of the core loops, for inputs too small to repay Numba's start-up.

They compute the same sums as the jitted loops; those may add in another order (several
taps at once, two 1-D passes, an FFT), so results agree within float rounding, and exactly
for integer data with integer kernels (times a power of two, or over a whole number: the
sums of the whole numbers then divided once, as the loops do).  Pooling's numpy path is :mod:`.numpy_pool`.  Which path a call takes depends only on the call
(see ``costs.jit_start_seconds``), never on what the process did before.
"""

from __future__ import annotations

import math

import numpy as np

from .config import CIRCULAR, CONSTANT, REFLECT, REPLICATE


def source_indices(n: int, before: int, after: int, mode: int) -> np.ndarray:
    """The input index each of the ``before + n + after`` padded positions copies (-1 marks the fill).

    numpy.pad's rule for every mode, widths larger than the input included.

    >>> source_indices(3, 2, 2, REFLECT)
    array([2, 1, 0, 1, 2, 1, 0])
    """
    i = np.arange(-before, n + after)
    inside = (i >= 0) & (i < n)
    if mode == CONSTANT:
        return np.where(inside, i, -1)
    if mode == REPLICATE:
        return np.clip(i, 0, n - 1)
    if mode == CIRCULAR:
        return i % n
    if mode == REFLECT:
        if n == 1:
            return np.zeros_like(i)
        period = 2 * (n - 1)
        m = i % period
        return np.where(m < n, m, period - m)
    period = 2 * n  # SYMMETRIC
    m = i % period
    return np.where(m < n, m, period - 1 - m)


#: a constant-padded array of at most this many values is filled whole, then the input copied in: one
#: call where the four border strips take four (8x8 padded to 10x10: 1.3 against 4.6 µs)
_FILL_WHOLE = 1 << 12


def pad3d(x: np.ndarray, top: int, bottom: int, left: int, right: int, mode: int, value: float, dtype,
          out: np.ndarray | None = None) -> np.ndarray:
    """Pad ``x`` (H, W, C) into a new array of ``dtype`` (into ``out``, of that shape and dtype, when given).

    The input is copied once into the middle; only the border is gathered: first the
    side columns of the input's rows, then whole padded rows (which already carry them).
    """
    h, w, c = x.shape
    if out is None:
        out = np.empty((h + top + bottom, w + left + right, c), dtype=dtype)
    if mode == CONSTANT and out.size <= _FILL_WHOLE:
        out.fill(value)
        out[top : top + h, left : left + w] = x
        return out
    out[top : top + h, left : left + w] = x
    if mode == CONSTANT:
        out[:top] = value
        out[top + h :] = value
        out[top : top + h, :left] = value
        out[top : top + h, left + w :] = value
        return out
    cols = source_indices(w, left, right, mode)
    rows = source_indices(h, top, bottom, mode)
    if left:
        out[top : top + h, :left] = x[:, cols[:left]]
    if right:
        out[top : top + h, left + w :] = x[:, cols[left + w :]]
    if top:
        out[:top] = out[rows[:top] + top]
    if bottom:
        out[top + h :] = out[rows[top + h :] + top]
    return out


def correlate(xp: np.ndarray, k: np.ndarray, stride_h: int, stride_w: int, dil_h: int, dil_w: int, oh: int, ow: int,
              out: np.ndarray | None = None, product: np.ndarray | None = None) -> np.ndarray:
    """Cross-correlate padded ``xp`` (Hp, Wp, C) with ``k`` (kh, kw) into (oh, ow, C) (into ``out`` when given;
    ``product``: a buffer of ``out``'s shape and dtype for the taps' products, else one is made).

    The sum runs tap by tap in C order of ``k``, zero taps skipped: the first product is the
    output, each later one is added to it.  Up to :data:`AT_ONCE_PRODUCTS` products are
    taken in one multiply (:func:`_products`), then added in that same order: the same bytes
    with about half the numpy calls (a 3x3 on 8x8: ten calls, not seventeen).

    >>> xp = np.arange(12.0).reshape(3, 4, 1)
    >>> correlate(xp, np.array([[1.0, 0.0], [0.0, -1.0]]), 1, 1, 1, 1, 2, 3)[..., 0]
    array([[-5., -5., -5.],
           [-5., -5., -5.]])
    """
    out = np.empty((oh, ow, xp.shape[2]), dtype=xp.dtype) if out is None else out
    if k.size * out.size <= AT_ONCE_PRODUCTS:
        products = _products(xp, k, stride_h, stride_w, dil_h, dil_w, oh, ow)
        if products.shape[0] == 0:  # an all-zero kernel
            out.fill(0)
            return out
        return _sum_in_order(products, out)
    first = True
    kh, kw = k.shape
    for u in range(kh):
        r0 = u * dil_h
        rows = xp[r0 : r0 + (oh - 1) * stride_h + 1 : stride_h]
        for v in range(kw):
            w = k[u, v]
            if w == 0:
                continue
            c0 = v * dil_w
            tap = rows[:, c0 : c0 + (ow - 1) * stride_w + 1 : stride_w]
            if first:  # the first tap writes the output (0 + w*x == w*x)
                _first_tap(tap, w, out)
                first = False
            elif w == 1:  # x*1 is x and x*-1 is -x exactly, so one pass instead of two: the same bytes
                out += tap
            elif w == -1:
                out -= tap
            else:
                product = np.empty_like(out) if product is None else product  # one buffer for every w * x
                np.multiply(tap, w, out=product)
                out += product
    if first:  # an all-zero kernel
        out.fill(0)
    return out


def _sum_in_order(products: np.ndarray, out: np.ndarray) -> np.ndarray:
    """``out = products[0] + products[1] + ...``, added in that order for each value (the tap loop's bytes).

    One reduction instead of a ufunc call per tap (a 3x3 on 8x8: 2.0 against 11.7 µs).  Along
    the outer axis of a C-ordered array numpy adds the rows one after another into each value;
    the start -0.0 is addition's exact identity (numpy's own, 0.0, would turn a sum of -0.0 into
    +0.0).  A single value would be reduced with eight partial sums, in another order: the loop.

    >>> _sum_in_order(np.array([[-0.0, 1e8], [-0.0, 1.0], [-0.0, -1e8]], np.float32), np.empty(2, np.float32))
    array([-0.,  0.], dtype=float32)
    """
    if out.size < 2:
        np.copyto(out, products[0])
        for p in products[1:]:
            out += p
        return out
    return np.add.reduce(products, axis=0, out=out, initial=out.dtype.type(-0.0))


def _first_tap(tap: np.ndarray, w, out: np.ndarray) -> None:
    """``out = tap * w``, a copy or a negation where ``w`` is 1 or -1 (exactly ``tap * w``, -0.0 included)."""
    if w == 1:
        np.copyto(out, tap)
    elif w == -1:
        np.negative(tap, out=out)
    else:
        np.multiply(tap, w, out=out)


#: :func:`correlate` takes every tap's products in one multiply up to this many (taps times output
#: values: 256 KiB of float32), tap by tap beyond (a product image per tap would not stay in cache)
AT_ONCE_PRODUCTS = 1 << 16


def _products(xp: np.ndarray, k: np.ndarray, sh: int, sw: int, dh: int, dw: int, oh: int, ow: int) -> np.ndarray:
    """(taps, oh, ow, C): each non-zero tap of ``k`` (C order) times the values it reads in ``xp``,
    each product rounded once in ``xp``'s dtype, as :func:`correlate`'s tap loop takes them."""
    s0, s1, s2 = xp.strides
    kh, kw = k.shape
    # every tap's window as one strided view (tap row, tap column, output row, column, channel); numpy's
    # as_strided costs 5 µs a call, the constructor 0.3 (it needs a contiguous buffer)
    # an axis of one step takes no stride: a stride or dilation of 2**63 there (the option fuzz test's) is
    # no step at all, but would overflow the view's strides
    shape = (kh, kw, oh, ow, xp.shape[2])
    strides = (dh * s0 if kh > 1 else 0, dw * s1 if kw > 1 else 0, sh * s0 if oh > 1 else 0, sw * s1 if ow > 1 else 0, s2)
    if xp.flags.c_contiguous:
        windows = np.ndarray(shape, xp.dtype, xp, 0, strides)
    else:
        windows = np.lib.stride_tricks.as_strided(xp, shape, strides, writeable=False)
    # into a C-ordered buffer (numpy would lay its own out after the view's strides: 6x slower on
    # 85x85), each product rounded into xp's dtype, as the loop's buffer takes a kernel of another dtype
    if np.count_nonzero(k) == k.size:  # (a fifth of flatnonzero's cost)
        products = np.empty((kh, kw, oh, ow, xp.shape[2]), xp.dtype)
        np.multiply(windows, k.reshape(kh, kw, 1, 1, 1), out=products)
        return products.reshape(k.size, oh, ow, xp.shape[2])
    u, v = np.divmod(np.flatnonzero(k), kw)
    chosen = windows[u, v]  # the non-zero taps' windows, copied
    return np.multiply(chosen, k[u, v].reshape(-1, 1, 1, 1), out=np.empty(chosen.shape, xp.dtype))


#: bytes of padded input rows :func:`correlate_bands` holds at once (and as much again of products)
BAND_BYTES = 256 << 10  # within the L2 cache: 2x faster than 4 MiB bands (12 MP RGB 3x3: 80 vs 161 ms)


def correlate_bands(x: np.ndarray, k: np.ndarray, widths: tuple[int, int, int, int], mode: int, value: float, dtype,
                    stride: tuple[int, int], dilation: tuple[int, int], oh: int, ow: int, rounded=None,
                    divisor: int | None = None) -> np.ndarray:
    """``correlate(pad3d(x, *widths, mode, value, dtype), k, ...)``, a band of output rows at a time.

    Every output value is the same sum, in the same order, as over the whole padded copy (the
    same bytes); but only a band's padded rows and products exist at once, so besides its
    input the path needs the output and a few MiB, not two more images (a 12 MP photo: 288 MiB
    less), and works in the CPU's cache.  ``rounded``: the integer dtype the caller rounds the
    result into (:func:`rounded`); when the sums are exact in that very dtype
    (:func:`exact_integer_dtype`), they are returned in it, as rounding would give them.
    ``divisor``: ``k`` holds whole numbers and the kernel is ``k / divisor`` (:func:`.forms.divided`):
    each band's sums are divided by it once, in ``dtype`` (the jitted loops' :func:`.conv._divide`).

    >>> from .config import REFLECT
    >>> x = np.arange(30.0).reshape(5, 6, 1)
    >>> k = np.array([[1.0, 0, -1], [2, 0, -2], [1, 0, -1]])
    >>> whole = correlate(pad3d(x, 1, 1, 1, 1, REFLECT, 0.0, np.float64), k, 1, 1, 1, 1, 5, 6)
    >>> np.array_equal(correlate_bands(x, k, (1, 1, 1, 1), REFLECT, 0.0, np.float64, (1, 1), (1, 1), 5, 6), whole)
    True
    """
    h, w, c = x.shape
    top, bottom, left, right = widths
    (sh, sw), (dh, dw) = stride, dilation
    exact = exact_integer_dtype(x.dtype, k, mode, value)
    work, kw = (dtype, k) if exact is None else (exact, k.astype(exact))
    per_row = (w + left + right) * c * np.dtype(work).itemsize
    band = max(1, BAND_BYTES // max(1, per_row * sh))
    # the sums are what rounding gives
    kept = exact is not None and rounded is not None and np.dtype(rounded) == exact and divisor is None
    if band >= oh:  # one band: the whole padded copy (the rows a band gathers, without the gathering)
        out = correlate(pad3d(x, top, bottom, left, right, mode, value, work), kw, sh, sw, dh, dw, oh, ow)
        out = out if exact is None or kept else out.astype(dtype)
        return out if divisor is None else _divided(out, divisor)
    out = np.empty((oh, ow, c), dtype=exact if kept else dtype)
    sums = None if exact is None or kept else np.empty((band, ow, c), dtype=exact)
    rows = source_indices(h, top, bottom, mode)
    # the buffers every band reuses (fresh ones would be fresh pages, faulted in again for each band)
    wp = w + left + right
    padded = np.empty(((band - 1) * sh + (k.shape[0] - 1) * dh + 1, wp, c), dtype=work)
    product = np.empty((band, ow, c), dtype=work)
    for a in range(0, oh, band):
        b = min(oh, a + band)
        first, end = a * sh, (b - 1) * sh + (k.shape[0] - 1) * dh + 1  # the band's rows of the padded image
        if first >= top and end - top <= h:  # rows of the image itself (a padded row inside is that row): sliced
            part = pad3d(x[first - top : end - top], 0, 0, left, right, mode, value, work, out=padded[: end - first])
        else:
            wanted = rows[first:end]
            inside = wanted >= 0
            part = pad3d(x[np.where(inside, wanted, 0)], 0, 0, left, right, mode, value, work, out=padded[: end - first])
            if not inside.all():  # rows of a constant border
                part[~inside] = value
        if sums is None:
            correlate(part, kw, sh, sw, dh, dw, b - a, ow, out=out[a:b], product=product[: b - a])
        else:
            np.copyto(out[a:b], correlate(part, kw, sh, sw, dh, dw, b - a, ow, out=sums[: b - a], product=product[: b - a]))
        if divisor is not None:
            _divided(out[a:b], divisor)
    return out


def _divided(out: np.ndarray, divisor: int) -> np.ndarray:
    """``out /= divisor`` in ``out``'s float dtype, in place: one correctly rounded quotient a value."""
    return np.divide(out, out.dtype.type(divisor), out=out)


#: the integer dtype :func:`correlate_bands` sums in when the float sums are exact and fit it
EXACT_DTYPE = np.dtype(np.int16)


def exact_integer_dtype(x_dtype, k: np.ndarray, mode: int, value: float) -> np.dtype | None:
    """:data:`EXACT_DTYPE` when correlating an 8-bit integer (or bool) image with ``k`` in float gives
    whole numbers that every partial sum of that dtype holds, with no -0.0; else None.

    Then the float loop's sums are exact (far below 2**24), so summing the same taps in int16, half
    the bytes of float32, gives the same numbers: the same bytes once cast back.  The bound comes
    from the dtypes and the kernel alone (no pass over the image): ``sum |k|`` times the largest
    magnitude of the input's dtype or the constant fill.  A -0.0 arises in the float loop only from
    a first product of -0.0 (a negative first weight on a 0, or a fill of -0.0), which an integer
    sum cannot give: such kernels and fills keep the float loop.

    >>> sobel = np.array([[1.0, 0, -1], [2, 0, -2], [1, 0, -1]], np.float32)
    >>> exact_integer_dtype(np.dtype("uint8"), sobel, CONSTANT, 0.0)
    dtype('int16')
    >>> exact_integer_dtype(np.dtype("uint8"), -sobel, CONSTANT, 0.0) is None  # -1 * 0 is -0.0 in float
    True
    >>> exact_integer_dtype(np.dtype("uint8"), np.ones((3, 3), np.float32) / 9, CONSTANT, 0.0) is None
    True
    """
    x_dtype = np.dtype(x_dtype)
    if x_dtype.kind not in "biu" or x_dtype.itemsize != 1:
        return None
    weights = [float(w) for w in k.ravel().tolist() if w != 0]  # a few numbers: plain Python (called once a band)
    if not weights or not weights[0] > 0 or not all(math.isfinite(w) and w.is_integer() for w in weights):
        return None
    top = 1.0 if x_dtype.kind == "b" else (128.0 if x_dtype.kind == "i" else 255.0)
    if mode == CONSTANT:
        value = float(value)
        if not (math.isfinite(value) and value.is_integer()) or (value == 0 and math.copysign(1.0, value) < 0):
            return None
        top = max(top, abs(value))
    return EXACT_DTYPE if sum(abs(w) for w in weights) * top <= np.iinfo(EXACT_DTYPE).max else None


def rounded(values: np.ndarray, dtype) -> np.ndarray:
    """``values`` in the integer ``dtype`` a ``dtype=`` argument asked for (:func:`round_clip`);
    as they are when ``dtype`` is None (nothing asked) or already theirs (a loop rounded them).

    >>> rounded(np.array([2.5, 3.5]), None), rounded(np.array([2.5, 3.5]), np.dtype("int8"))
    (array([2.5, 3.5]), array([2, 4], dtype=int8))
    """
    if dtype is None or values.dtype == dtype:
        return values
    return round_clip(values, dtype)


def round_clip(values: np.ndarray, dtype, block: int = 1 << 15) -> np.ndarray:
    """``values`` rounded half to even and clipped into the integer ``dtype``'s range, a new array.

    ``numpy.clip(numpy.rint(values), lo, hi).astype(dtype)``, about ``block`` values at a time
    (one small float buffer, not two whole temporaries); integer ``values`` are only clipped.
    The twin of the jitted loops' fused rounding (:func:`kernelcli._core.eightbit.store_rounded`).

    >>> round_clip(np.array([-0.5, 0.5, 1.5, 2.5, 254.5, 300.0], np.float32), np.dtype("uint8"))
    array([  0,   0,   2,   2, 254, 255], dtype=uint8)
    """
    dtype = np.dtype(dtype)
    v = np.asarray(values)
    out = np.empty(v.shape, dtype=dtype)
    if v.dtype.kind != "f":  # whole numbers already: clipped within both dtypes' ranges
        if v.dtype.kind == "b":
            out[...] = v
            return out
        lo, hi = np.iinfo(dtype), np.iinfo(v.dtype)
        np.clip(v, max(lo.min, hi.min), min(lo.max, hi.max), out=out, casting="unsafe")
        return out
    flat, into = v.reshape(-1), out.reshape(-1)
    buffer = np.empty(min(block, flat.size), dtype=v.dtype)
    info = np.iinfo(dtype)
    for start in range(0, flat.size, block):
        part = flat[start : start + block]
        r = np.rint(part, out=buffer[: part.size])
        np.clip(r, info.min, info.max, out=into[start : start + block], casting="unsafe")
    return out


# ---------------------------------------------------------------- any rank (volumes)


def pad_nd(x: np.ndarray, widths: tuple[int, ...], mode: int, value: float, dtype) -> np.ndarray:
    """``x`` padded by ``widths`` (before, after per axis) in ``dtype``: numpy.pad's rule for every mode.

    >>> pad_nd(np.arange(3), (1, 2), REFLECT, 0.0, np.float64)
    array([1., 0., 1., 2., 1., 0.])
    """
    maps = [source_indices(n, widths[2 * a], widths[2 * a + 1], mode) for a, n in enumerate(x.shape)]
    out = x.astype(dtype, copy=False)[np.ix_(*[np.maximum(m, 0) for m in maps])]
    if mode == CONSTANT:
        for a, m in enumerate(maps):
            index = [slice(None)] * x.ndim
            index[a] = m < 0
            out[tuple(index)] = value
    return out


def correlate_nd(xp: np.ndarray, k: np.ndarray, out_shape: tuple[int, ...]) -> np.ndarray:
    """Stride-1 correlation of padded ``xp`` with ``k`` (same rank, ``xp``'s dtype) into ``out_shape``.

    Taps in C order of ``k``, zero taps skipped: the jitted 3-D loop's order.
    """
    out = np.zeros(out_shape, dtype=xp.dtype)
    product = np.empty_like(out)
    for tap in zip(*np.nonzero(k)):
        window = xp[tuple(slice(t, t + n) for t, n in zip(tap, out_shape))]
        np.multiply(window, k[tap], out=product)
        out += product
    return out


def correlate_axis(x: np.ndarray, k: np.ndarray, axis: int, mode: int, value: float, dtype) -> np.ndarray:
    """One 1-D kernel ``k`` along ``axis`` of ``x``, "same" output (centre tap ``(len(k) - 1) // 2``), in ``dtype``."""
    n = k.shape[0]
    widths = [0] * (2 * x.ndim)
    widths[2 * axis], widths[2 * axis + 1] = (n - 1) // 2, n - 1 - (n - 1) // 2
    xp = pad_nd(x, tuple(widths), mode, value, dtype)
    shape = [1] * x.ndim
    shape[axis] = n
    return correlate_nd(xp, k.astype(dtype).reshape(shape), x.shape)
