"""The dispatching core: picks a path for each call and prepares what the jitted loops take.

Paths for a convolution (all give the reference result within float rounding, and the
very same exact result where the arithmetic is exact: whole-number data and a kernel of
whole numbers times a power of two, or divided by a whole number -- the loops then sum the whole
numbers and divide each output once (:func:`.forms.divided`) -- with every partial sum held exactly):

``dense``
    the direct loop over every non-zero tap (:func:`conv.dense_rows`);
``separable``
    when the kernel has rank 1 (Gaussian, box, Sobel, Prewitt...): a vertical then a
    horizontal 1-D pass per output row (:func:`conv.separable_rows`), ``kh + kw`` taps
    instead of ``kh * kw``;
``fft``
    for large dense kernels at stride 1: ``scipy.fft`` real transforms with workers
    (:mod:`kernelcli._core.fft`); in exact cases on the integer kernel in float64, rounded, while the
    sums stay below 2**40 (:data:`.forms.FFT_EXACT_BOUND`): from there a direct loop runs, and a pinned FFT
    is refused (:func:`.forms.refuse_inexact_pin`).

Plain numpy (:mod:`.numpy_impl`) serves small inputs and fresh processes; the caller's
:class:`~kernelcli._core.policy.Paths` says which economics apply.
The choice uses crossovers measured on the development machine (:mod:`.costs`); what a
kernel allows (integer forms, factors, exactness) is read by :mod:`.forms`.  Only the
strided outputs are ever computed: rows are picked, columns de-interleaved by phase.

Example
-------
A 3x3 box over a 4x4 image, zero padding of 1 (``x3`` is height x width x channels):

>>> import numpy as np
>>> x3 = np.arange(16, dtype=np.float32).reshape(4, 4, 1)
>>> correlate(x3, np.ones((3, 3)), np.dtype("float32"), (1, 1, 1, 1), CONSTANT, 0.0, (1, 1), (1, 1), 4, 4)[..., 0]
array([[10., 18., 24., 18.],
       [27., 45., 54., 39.],
       [51., 81., 90., 63.],
       [42., 66., 72., 50.]], dtype=float32)
"""

from __future__ import annotations

import numpy as np

from . import costs, numpy_impl, placement, threads
from .config import CONSTANT
from .costs import choose_path
from .forms import KernelFacts, balanced, divided, fft_form, rank1_factors, refuse_inexact_pin
from .memo import Memo, array_key, frozen, read_only
from .policy import WARM, Paths


def fft_correlate(x3, k, dtype, widths, mode_code, value, dilation, oh, ow, paths: Paths = WARM, form=None):
    """The FFT path (it needs no jitted core): for a cold process as for a warm one.

    Where the direct loops are exact (:func:`fft_form`), the transform runs on the integer
    kernel in float64 and the result is rounded to whole numbers before the scale is
    applied, so the FFT gives the very same result; elsewhere its error is relative to the
    block (see :mod:`kernelcli._core.fft`).  ``form``: :func:`fft_form`'s answer, if known.
    """
    from .fft import correlate_fft

    fill = value if mode_code == CONSTANT else 0.0
    kind, exact = form if form is not None else fft_form(x3, k, dtype, mode_code, fill, paths.fft_form)
    origin = paths.origin_of(2)
    if kind != "exact":
        return correlate_fft(x3, k, dtype, widths, mode_code, fill, dilation, oh, ow, threads.count(), cold=paths.cold,
                             origin=origin)
    m, q, d = exact
    return correlate_fft(x3, m, np.float64, widths, mode_code, fill, dilation, oh, ow, threads.count(), cold=paths.cold,
                         origin=origin, scale=q, out_dtype=dtype, divisor=d)


def pad_plan(shape: tuple[int, int, int], widths: tuple[int, int, int, int], mode_code: int, stride_w: int = 1):
    """The padding maps the jitted loops take: ``(rows, cols, runs, wq)`` (see :mod:`.pad`).

    ``rows``/``cols`` map padded rows and stored pixels to input rows/columns (-1: fill);
    with ``stride_w = s > 1`` the stored row holds the padded columns by phase.
    """
    h, w, c = shape
    top, bottom, left, right = widths
    s = stride_w
    wq = -(-(w + left + right) // s)
    rows = numpy_impl.source_indices(h, top, bottom, mode_code).astype(np.int64)
    padcols = numpy_impl.source_indices(w, left, right, mode_code)
    cols = np.full(s * wq, -1, dtype=np.int64)
    runs = np.zeros((s, 3), dtype=np.int64)
    for p in range(s):
        phase = padcols[p::s]
        cols[p * wq : p * wq + phase.shape[0]] = phase
        q0 = min(wq, max(0, -(-(left - p) // s)))
        q1 = max(q0, min(wq, -(-(left + w - p) // s)))
        runs[p] = q0, q1, p + q0 * s - left
    return rows, cols, runs, wq


#: The widest dense window (dilation * (kw - 1) + 1 columns) that runs in place (:func:`conv.dense_direct`:
#: interior rows as flat passes over the input, the edge columns from narrow strips, whose share grows
#: with the window); wider ones go through the ring of padded rows (:func:`conv.dense_rows`).  In place /
#: ring, 1 thread, float32: 256^2 3x3 0.43, 5x5 0.60, 7x7 0.69, 9x9 0.77, 11x11 0.87; 2048^2 3x3 0.65,
#: 7x7 0.80, 9x9 0.92, 11x11 1.00 (the loop alone, thread CPU time, best of 15-100 calls; 15x15 and
#: wider: the ring).
INPLACE_MAX_SPAN = 11

#: Input dtypes the convolution loops read directly; others are cast to the compute dtype
#: first (each dtype pair is a separate compiled version, so the set stays small).
NATIVE_INPUTS = ("uint8", "uint16", "float32", "float64")
#: their type codes: ``dtype.char`` is read in C, ``dtype.name`` is built in Python (about 2 us a call)
NATIVE_CHARS = frozenset(np.dtype(name).char for name in NATIVE_INPUTS)


def _flat_input(x3: np.ndarray, dtype: np.dtype | None = None) -> np.ndarray:
    """``x3`` as contiguous (H, W*C) rows, read-only; cast to ``dtype`` unless its dtype is read natively."""
    h, w, c = x3.shape
    if dtype is not None and x3.dtype.char not in NATIVE_CHARS:
        x3 = x3.astype(dtype)
    return read_only(np.ascontiguousarray(x3).reshape(h, w * c))


def _noop(*_args) -> None:
    return None


def _native():
    """:mod:`.native`, imported by the first loop that runs (it loads Numba: the FFT path of a fresh
    process runs without it)."""
    from . import native

    return native


def pad_flat(x3: np.ndarray, widths: tuple[int, int, int, int], mode_code: int, value: float, dtype: np.dtype, announce=_noop) -> np.ndarray:
    """Pad (H, W, C) into a new (Hp, Wp, C) array of ``dtype`` with the jitted loop.

    ``announce(dispatcher, *dtypes)`` is called before the jitted loop runs (the API uses it
    to say "compiling..." when the cache is empty).
    """
    from .pad import pad_rows

    h, w, c = x3.shape
    rows, cols, runs, wq = pad_plan(x3.shape, widths, mode_code)
    frozen(rows, cols, runs)  # read-only as the convolution plans' maps: one compiled row loop for both
    out = np.empty((rows.shape[0], wq, c), dtype=dtype)
    fill = value if mode_code == CONSTANT else 0.0
    src = _flat_input(x3)
    announce(pad_rows, src.dtype, out.dtype)
    threads.run_rows(pad_rows, rows.shape[0], src, c, rows, cols, runs, wq, fill, out.reshape(rows.shape[0], -1))
    return out


def _offsets(n: int, dil: int, stride: int, wq: int, channels: int) -> np.ndarray:
    """Flat offsets of horizontal taps ``0..n-1`` in a phase-stored padded row."""
    v = np.arange(n) * dil
    return ((v % stride) * wq + v // stride) * channels


def correlate(x3, k, dtype, widths, mode_code, value, stride, dilation, oh, ow, paths: Paths = WARM, announce=_noop,
              finite_check=None, key=None, rounded=None):
    """Cross-correlate (H, W, C) ``x3`` with 2-D ``k`` (float64) into (oh, ow, C) of ``dtype``; an (H, W)
    ``x3`` (one channel) gives (oh, ow).

    ``widths`` have been trimmed to what the windows read; ``paths.force`` may name a path;
    ``announce`` as for :func:`pad_flat`.  ``finite_check``: for an input not yet checked for
    NaN/infinity, the caller's check (it raises); called before the FFT path, or when the
    direct loop's screen cannot vouch for the input (see :meth:`DirectPlan.run`).  ``key``: as for
    :func:`direct_plan` (building a key from the arguments was the longest step of a small call); the
    kernel's facts that the path rule reads are remembered under it too (the rule itself runs every call).
    ``rounded``: an integer dtype the result is wanted in (see :meth:`DirectPlan.run`); the
    result comes back in it where a loop rounds as it writes, else in ``dtype``.
    """
    fill = value if mode_code == CONSTANT else 0.0
    facts = None if key is None else _FACTS.get(key, KernelFacts, k, dtype)
    path = choose_path(k, stride, dilation, dtype, paths.force, facts)
    if path == "fft":
        if finite_check is not None:
            finite_check()
        flat = x3.ndim == 2
        x3 = x3.reshape(x3.shape[0], x3.shape[1], -1)
        form = fft_form(x3, k, dtype, mode_code, fill, paths.fft_form)
        refuse_inexact_pin(form, paths.force)
        if form[0] != "avoid":
            out = fft_correlate(x3, k, dtype, widths, mode_code, value, dilation, oh, ow, paths, form)
            return out[:, :, 0] if flat else out
        path = "dense"  # the direct loops are exact here and the FFT could not match them
        x3 = x3[:, :, 0] if flat else x3
    plan = direct_plan(x3.shape, x3.dtype, k, dtype, widths, mode_code, value, stride, dilation, oh, ow, path, announce,
                       key)
    out, overflowed = plan.screened(x3, finite_check, rounded)
    if overflowed:  # a separable pass overflowed on a finite input: the dense loop sums those windows whole
        dense = direct_plan(x3.shape, x3.dtype, k, dtype, widths, mode_code, value, stride, dilation, oh, ow, "dense",
                            announce, key)
        windows_whole(out, lambda: dense.run(x3, finite_check, rounded))
    return out


def windows_whole(out: np.ndarray, dense) -> None:
    """Give each output of a separable ``out`` that is not finite the dense loop's sum of that window, in place
    (``dense()``: the dense loop's whole result, called only when there is one).

    Only those: the choice is each window's own, so a tile gives what the whole image gives (the
    whole call redone densely changed every other window's last bits, and a tile that read no
    overflow kept its separable sums).

    >>> out = np.array([1.5, np.inf], np.float32)
    >>> windows_whole(out, lambda: np.array([1.25, 0.0], np.float32)); out
    array([1.5, 0. ], dtype=float32)
    """
    bad = ~np.isfinite(out)
    if bad.any():
        out[bad] = dense()[bad]


def _screened(x3: np.ndarray, flags: np.ndarray, cover, finite_check) -> None:
    """Call ``finite_check`` unless the loop's screen (``flags``, over the ``cover`` rectangle of input
    cells it reads: (r0, r1, c0, c1) or None) and a look at the cells outside vouch for ``x3``."""
    if finite_check is None:
        return
    if cover is None or flags.shape[0] == 0 or np.count_nonzero(flags):  # (a third of .any()'s cost)
        finite_check()
        return
    r0, r1, c0, c1 = cover
    if r0 == 0 and c0 == 0 and r1 >= x3.shape[0] and c1 >= x3.shape[1]:  # every cell read ("same" padding)
        return
    for part in (x3[:r0], x3[r1:], x3[r0:r1, :c0], x3[r0:r1, c1:]):
        if part.size and not np.isfinite(part).all():
            finite_check()
            return


class DirectPlan:
    """A direct path prepared for one geometry: the jitted row loop and every argument but the input and output.

    :func:`direct_plan` builds it (remembered per geometry: see :mod:`.memo`); :meth:`run`
    only flattens the input, allocates the output and runs the rows.  ``cover``: the input
    rows ``r0:r1`` and columns ``c0:c1`` that one non-zero tap reads for some output (stride 1),
    else None: what the loops' finiteness screen vouches for.  ``rounds``: the loop can round
    each row into uint8 as it writes it (:func:`.sep8.separable_cast`).  ``shift``: for a loop that
    reads the input in place, where its output starts relative to the input (:mod:`.placement`).
    ``two_pass``: the separable loops, whose first pass sums a column of taps alone: it can overflow where
    the whole window's sum does not (columns of +1e38 beside columns of -1e38 under a 4x4 box).
    """

    __slots__ = ("fn", "args", "dtype", "cast", "out_shape", "work", "cover", "rounds", "shift", "two_pass")

    def __init__(self, fn, args, dtype, cast, out_shape, work, cover=None, rounds=False, shift=None, two_pass=False):
        self.fn, self.args, self.dtype, self.cast, self.out_shape, self.work = fn, args, dtype, cast, out_shape, work
        self.cover, self.rounds, self.shift, self.two_pass = cover, rounds, shift, two_pass

    def run(self, x3: np.ndarray, finite_check=None, rounded=None) -> np.ndarray:
        """The correlation of (H, W, C) ``x3``, or of (H, W) for one channel (then (oh, ow) out); with
        ``finite_check`` (see :func:`correlate`) the loop screens its outputs, and the check runs only
        when the screen cannot vouch for the input.

        ``rounded`` (an integer dtype, or None): when the loop :attr:`rounds` into it, the result
        comes back in it, each value ``clip(rint(v))`` of the float ``v`` the loop would have
        written; otherwise in :attr:`dtype` (the caller rounds it)."""
        return self.screened(x3, finite_check, rounded)[0]

    def screened(self, x3: np.ndarray, finite_check=None, rounded=None) -> tuple[np.ndarray, bool]:
        """``(result, overflowed)``: :meth:`run`'s result, and whether a :attr:`two_pass` loop's screen saw an
        output overflow on a finite input (the caller sums those windows whole: :func:`correlate`)."""
        oh, ow, c = self.out_shape
        fused = self.rounds and rounded is not None and np.dtype(rounded) == np.uint8
        src = x3.astype(self.dtype) if self.cast else x3
        if src.ndim == 3:
            src = src.reshape(src.shape[0], -1)
        src = read_only(src if src.flags.c_contiguous else np.ascontiguousarray(src))
        if self.shift is None or fused:
            out = np.empty((oh, ow * c), dtype=np.uint8 if fused else self.dtype)
        else:  # a loop reading the input in place: the output where its stores do not hold up the loads
            out = placement.empty_placed(src, (oh, ow * c), self.dtype, self.shift)
        screen = finite_check is not None and self.cover is not None
        flags = np.zeros(oh if screen else 0, dtype=np.bool_)
        _native().run_rows(self.fn, oh, src, *self.args, out, flags, work=self.work)
        _screened(x3, flags, self.cover, finite_check)  # raises for a non-finite input: a flag left is an overflow
        # (a loop that rounds as it writes reads integers only, which no float pass overflows)
        overflowed = bool(self.two_pass and flags.size and np.count_nonzero(flags))
        return (out if x3.ndim == 2 else out.reshape(oh, ow, c)), overflowed


_PLANS = Memo()
#: the :class:`.forms.KernelFacts` of a call's kernel, under the caller's key (see :func:`correlate`)
_FACTS = Memo()
#: a pooled input value costs about 4 multiply-adds of a convolution's time (memory-bound: 2048^2
#: float32 2x2 average, 4.2 M values, 0.77 ms on one thread; dense 7x7 256^2, 3.2 M, 0.15 ms): the
#: unit of :data:`.threads.MIN_WORK_PER_THREAD`
_POOL_WORK = 4
#: a 2x2 average of uint8 rounded in integers costs about 2 multiply-adds an output value (2048^2:
#: 1 M outputs in 0.08 ms on one thread, a seventh of the float loop's time): one thread up to
#: about 2 M outputs (0.16 ms), where the hand-off (37 us on the Intel host) no longer costs more than it saves
#: (on the Xeon of 2026-12-04 the loop takes 0.17-0.20 ms; split, 0.16 back to back but 0.27 against 0.22 when
#: each call alternates with cv2's, whose threads spin on the other core: kept)
_POOL_INT_WORK = 2
#: the same on the native helpers (:mod:`.native`), which need no GIL: split from 0.25 M outputs, each call
#: alternating with one of cv2's: 2048^2 (1 M outputs) 0.17-0.19 ms on one thread, 0.10-0.13 split (cv2 0.11);
#: 1024^2 (0.26 M) 45 -> 38 us; 512^2 (0.07 M) 15 -> 23, left on one thread
_POOL_INT_WORK_NATIVE = 16


def direct_plan(shape, src_dtype, k, dtype, widths, mode_code, value, stride, dilation, oh, ow, path, announce=_noop,
                key=None) -> DirectPlan:
    """The :class:`DirectPlan` of the ``"dense"`` or ``"separable"`` path for an input of ``shape`` (H, W[, C])
    and ``src_dtype``.

    A pure function of its arguments, remembered; ``announce`` is called when a plan is
    built (before its loop first runs).  ``key``: a hashable that stands for all the arguments
    but ``path`` and ``announce``, never for others (the API's remembered call: see
    :mod:`kernelcli.conv_args`), sparing each call the building of a key from the arguments.
    """
    shape = (shape[0], shape[1], shape[2] if len(shape) == 3 else 1)
    if key is None:
        key = (shape, np.dtype(src_dtype).str, array_key(k), np.dtype(dtype).str, tuple(widths), mode_code,
               float(value).hex(), tuple(stride), tuple(dilation), oh, ow)
    return _PLANS.get((key, path), _announced_plan, announce, shape, src_dtype, k, dtype, widths, mode_code, value,
                      stride, dilation, oh, ow, path)


def _announced_plan(announce, shape, src_dtype, k, dtype, widths, mode_code, value, stride, dilation, oh, ow, path):
    """:func:`_build_direct`'s plan, ``announce`` called before its loop first runs."""
    plan = _build_direct(shape, np.dtype(src_dtype), k, np.dtype(dtype), widths, mode_code, value, stride, dilation, oh, ow, path)
    announce(plan.fn, plan.dtype if plan.cast else np.dtype(src_dtype), plan.dtype)
    return plan


def _build_direct(shape, src_dtype, k, dtype, widths, mode_code, value, stride, dilation, oh, ow, path) -> DirectPlan:
    sh, sw = stride
    dh, dw = dilation
    c = shape[2]
    kh, kw = k.shape
    rounds = False
    fill = value if mode_code == CONSTANT else 0.0
    span = dh * (kh - 1) + 1
    cast = src_dtype.name not in NATIVE_INPUTS
    # In place when the input is already in the compute dtype and needs no de-interleaving;
    # otherwise through a ring of padded rows (which also casts, e.g. uint8 -> float32).  A
    # dense window wider than INPLACE_MAX_SPAN takes the ring too: in place, its edge strips
    # would compute more thrown-away values than padding each row once costs.
    direct = ((dtype if cast else src_dtype) == dtype and sw == 1
              and (path == "separable" or dw * (kw - 1) + 1 <= INPLACE_MAX_SPAN))
    rows, cols, runs, wq = pad_plan(shape, widths, mode_code, sw)
    ring = (c, rows, cols, runs, wq, fill, span, sh)
    shift = None
    inplace = (c, rows, cols, fill, widths[2], sh)  # separable_direct's
    # whole numbers over a whole number (box:10): the loops sum the whole numbers and divide each output once
    div = divided(k, src_dtype)
    weights, divisor = (k, 1.0) if div is None else (div[0], float(div[1]))
    if path == "separable":
        from .conv import separable_direct, separable_rows
        from .sep8 import reads_in_place, separable_cast

        col, row = rank1_factors(weights, dtype)
        if src_dtype.kind == "f":
            col, row = balanced((col, row))
        u, v = np.flatnonzero(col), np.flatnonzero(row)
        vtaps = ((u * dh).astype(np.int64), col[u].astype(dtype))
        htaps = ((_offsets(kw, dw, sw, wq, c)[v]).astype(np.int64), row[v].astype(dtype))
        fn, args = (separable_direct, inplace) if direct else (separable_rows, ring)
        if sw == 1 and not direct and not cast and reads_in_place(src_dtype, fill):
            fn, args = separable_cast, inplace  # uint8 rows read as they are: no ring of float rows
            rounds = True
        taps = u.size + v.size
    else:
        from .conv import dense_direct, dense_rows
        from .taps import BLOCKED, ROWS

        u, v = np.nonzero(k)
        trow, ws = (u * dh).astype(np.int64), weights[u, v].astype(dtype)
        toff = _offsets(kw, dw, sw, wq, c)[v].astype(np.int64)
        full = kh == kw and kh in BLOCKED and (dh, dw) == (1, 1) and u.size == kh * kw
        square = kh if full and ow * c >= costs.BLOCKED_MIN_VALUES else 0
        fn, args = (dense_direct, (*ring, widths[2], square)) if direct else (dense_rows, ring)
        vtaps, htaps = (trow, toff), (ws,)
        taps = u.size
        if direct and u.size and oh * ow * c * dtype.itemsize >= placement.MIN_BYTES:
            # output element a reads input element a + (row - top) * row length + column - left; a
            # blocked sweep also reads the windows of the rows it computes with it
            near = np.arange(1 - ROWS, ROWS) if square else np.zeros(1, np.int64)
            loads = ((trow - widths[0])[:, None] + near[None, :]) * (shape[1] * c) + (toff - widths[2] * c)[:, None]
            shift = placement.shift_for(loads.reshape(-1) * dtype.itemsize)
    args = (*args, *vtaps, *htaps, divisor)
    frozen(*args)
    cover = None
    if u.size:
        grid = path == "separable" or u.size == np.unique(u).size * np.unique(v).size  # every (row, column) pair a tap
        cover = _cover(u * dh - widths[0], v * dw - widths[2], (sh, sw), (oh, ow), shape[:2], grid)
    return DirectPlan(fn, args, dtype, cast, (oh, ow, c), oh * ow * c * max(1, taps), cover, rounds, shift,
                      two_pass=path == "separable")


def _cover(row_shift, col_shift, stride, n_out, n_in, grid: bool) -> tuple[int, int, int, int] | None:
    """A rectangle (r0, r1, c0, c1) of input cells that the taps surely read, or None.

    Tap i reads input rows ``row_shift[i] + stride[0] * (0 .. n_out[0] - 1)`` by columns likewise
    (those inside the input); for a ``grid`` of taps every row shift goes with every column
    shift.  A non-finite value read by any tap makes an output non-finite, so the loops' screen
    vouches for every cell some tap reads.  For a grid, the rows some tap reads by the columns
    some tap reads: "valid" 3x3 covers the whole input, at stride 2 too (one tap alone misses a
    border strip, looked at apart: 15-30 us at 256x256; at stride 2 it reads every other cell,
    and the whole input was checked again: 2048x2048 3x3 4.3 against 2.4-2.7 ms).  Otherwise the
    one tap reading most at stride 1, and None at a larger stride.

    >>> _cover(np.array([0, 1, 2]), np.array([0, 2]), (1, 1), (6, 4), (8, 6), grid=True)
    (0, 8, 0, 6)
    >>> _cover(np.array([0, 1, 2]), np.array([0, 1, 2]), (2, 2), (3, 3), (7, 7), grid=True)
    (0, 7, 0, 7)
    """
    if grid:
        rows = _longest_run(_read(row_shift, stride[0], n_out[0], n_in[0]))
        cols = _longest_run(_read(col_shift, stride[1], n_out[1], n_in[1]))
        return None if rows is None or cols is None else (*rows, *cols)
    if tuple(stride) != (1, 1):
        return None
    r0, c0 = np.clip(row_shift, 0, n_in[0]), np.clip(col_shift, 0, n_in[1])
    r1, c1 = np.clip(row_shift + n_out[0], r0, n_in[0]), np.clip(col_shift + n_out[1], c0, n_in[1])
    best = np.argmax((r1 - r0) * (c1 - c0))
    return int(r0[best]), int(r1[best]), int(c0[best]), int(c1[best])


def _read(shifts: np.ndarray, stride: int, n_out: int, n_in: int) -> np.ndarray:
    """Which of ``n_in`` input cells along one axis some tap reads (tap at ``shift``: cells ``shift + stride * i``)."""
    read = np.zeros(n_in, dtype=np.bool_)
    for t in np.unique(shifts).tolist():
        i0, i1 = max(0, -(t // stride)), min(n_out, -((t - n_in) // stride))  # first and past the last output inside
        if i1 > i0:
            read[t + stride * i0 : t + stride * (i1 - 1) + 1 : stride] = True
    return read


def _longest_run(read: np.ndarray) -> tuple[int, int] | None:
    """The longest range [a, b) of True in ``read``, or None when there is none."""
    if read.all():
        return 0, read.shape[0]
    edges = np.diff(np.concatenate(([0], read.view(np.int8), [0])))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    if starts.size == 0:
        return None
    best = np.argmax(ends - starts)
    return int(starts[best]), int(ends[best])


_POOL_LOOPS = None


def _pool_loops():
    """The jitted pooling module, imported on first use (it loads Numba) and kept: an import
    statement in :func:`pool` cost a small call about 1.5 us each time."""
    global _POOL_LOOPS
    from . import pool as loops

    _POOL_LOOPS = loops
    return loops


def pool(x3, size, stride, padding, op_code, include_pad, oh, ow, dtype, announce=_noop, paths: Paths = WARM,
         finite_check=None, rounded=None):
    """Pool (H, W, C) ``x3`` into (oh, ow, C) of ``dtype`` (the input's for max/min, a float for avg).

    ``rounded``: an integer dtype the result is wanted in; the 2x2 average of a uint8 image
    into uint8 rounds as it writes (:func:`.pool.avg2_rows_int`) and returns it,
    every other call returns ``dtype`` (the caller rounds it).

    2x2 and 3x3 windows at stride 2 without padding, all inside the input, take the
    specialised loop (unless ``paths.force`` is ``"general"``); everything else the general one.

    ``finite_check`` as for :func:`correlate`: the 2x2 average loop screens its outputs (every
    cell it reads reaches one; the cells of an odd last row or column are looked at apart);
    the other loops call it first (a NaN loses or wins a max by where it stands).
    """
    loops = _POOL_LOOPS or _pool_loops()
    AVG, avg2_rows, pool_rows, pool_s2 = loops.AVG, loops.avg2_rows, loops.pool_rows, loops.pool_s2
    h, w, c = x3.shape
    whole = padding == 0 and (oh - 1) * stride + size <= h and (ow - 1) * stride + size <= w
    avg2 = op_code == AVG and stride == 2 and size == 2 and whole and paths.force != "general"
    # a uint8 2x2 average into uint8 rounds in :func:`.pool.avg2_rows_int` (the loop takes uint16 too, but each
    # dtype is one more compiled version in a fresh install: uint16 rounds after it)
    if avg2 and rounded is not None and x3.dtype == np.uint8 and np.dtype(rounded) == x3.dtype:
        src, out = _flat_input(x3), np.empty((oh, ow * c), dtype=x3.dtype)
        announce(loops.avg2_rows_int, src.dtype, out.dtype)
        _native().run_rows(loops.avg2_rows_int, oh, src, c, out, work=out.size * _POOL_INT_WORK,
                           native_work=out.size * _POOL_INT_WORK_NATIVE)
        return out.reshape(oh, ow, c)
    out = np.empty((oh, ow * c), dtype=dtype)
    if avg2:
        src = _flat_input(x3, dtype)  # uint8/uint16 read as they are: no float copy of the image
        flags = np.zeros(oh if finite_check is not None else 0, dtype=np.bool_)
        announce(avg2_rows, src.dtype, out.dtype)
        _native().run_rows(avg2_rows, oh, src, c, out, flags, work=out.size * 4 * _POOL_WORK)
        _screened(x3, flags, (0, 2 * oh, 0, 2 * ow), finite_check)
        return out.reshape(oh, ow, c)
    if finite_check is not None:
        finite_check()
    src = read_only(np.ascontiguousarray(x3.astype(dtype, copy=False) if op_code == AVG else x3).reshape(h, w * c))
    if stride == 2 and size in (2, 3) and whole and paths.force != "general":
        announce(pool_s2, src.dtype, out.dtype)
        threads.run_rows(pool_s2, oh, src, c, size, op_code, out, work=out.size * size * size * _POOL_WORK)
    else:
        announce(pool_rows, src.dtype, out.dtype)
        threads.run_rows(pool_rows, oh, src, c, size, stride, padding, op_code, include_pad, out, work=out.size * size * size)
    return out.reshape(oh, ow, c)
