"""Cross-correlation by FFT (scipy.fft with workers), for large dense kernels at stride 1.

Overlap-save on a fixed grid of output blocks: the outputs are cut into ``B x B`` blocks
(``B`` from :func:`block_side`: a function of the kernel's span alone, 256 to 276 for
kernels up to 85 cells wide); block ``(i, j)`` reads the padded-image window of its own outputs
(``B + span - 1`` cells per axis), zero-filled to the FFT length ``L`` (the fast length
at or above that), is transformed, multiplied by the flipped (and dilated) kernel's
spectrum and transformed back.  A block that runs past the padded image (the last, partial
one) is zero-filled there the same way every time.  So each output block is computed from
exactly the same numbers with exactly the same transform whether the whole image is in
memory or only a tile whose output boundaries fall on multiples of ``B`` (the tiled path,
:mod:`kernelcli.tiled.pin`): the two agree byte for byte.  ``origin`` tells a tile where
it lies on the grid; a call that is a whole axis short enough for one transform (see
:func:`single_max`) takes one block of its own size, and tiles are never that short.

Blocks of a few hundred pixels keep every transform inside the L2 cache (about twice as
fast as one transform of the whole image).  A task is a group of :data:`GROUP` blocks of one
row: its band of padded rows, its spectra and its inverse are all it holds (see
:func:`task_bytes`), and the tasks run on the threads (each transform on one thread), so
memory stays at input + output + a few MiB per thread whatever the image.  Every block is
transformed by itself, line by line, and scaled (near the float range only) by the power of two
its own window needs in its channel (:func:`in_range`), so neither the thread count, nor the
grouping, nor the other channels, nor a tile's edges change a byte.  Transforms run in the compute dtype (complex64 for float32); the inverse transforms
only the rows it keeps.

Accuracy: an FFT's error is relative to the block's magnitude (about
``eps * log2(L) * max|x| * sum|k|``, eps of the compute dtype), not to each output's as
with the direct loops: a float32 bright block of 255 on zeros under a 21x21 kernel reads
about 0.01 where the answer is 0.  That is why the FFT is used only where the direct loop
is clearly slower, and why the dispatcher (``engine.fft_correlate``) makes it exact where
the direct loops are exact (whole-number input and kernel, up to a power-of-two scale or a
whole-number divisor: the transform in float64, each block rounded to whole numbers, ``scale``
or the division applied once).  No
Numba here: this path also serves a process that has not loaded the jitted core.

Example
-------
>>> import numpy as np
>>> x = np.arange(16.0).reshape(4, 4, 1)
>>> correlate_fft(x, np.ones((3, 3)), np.float64, (0, 0, 0, 0), 0, 0.0, (1, 1), 2, 2)[:, :, 0]
array([[45., 54.],
       [81., 90.]])
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from . import zero_signs
from .config import CONSTANT
from .fft_range import block_factors, dtype_peak
from .memo import Memo, array_key, frozen

#: Output cells per block side for kernels up to ``BLOCK // 3`` wide (wider kernels: more).
BLOCK = 256
#: The same for a volume (3-D blocks: a 144^3 float64 transform for kernels up to 42 wide).
BLOCK_3D = 128
#: Blocks of one row a task transforms in one batched call (process CPU time, 1 thread, 2048^2 21x21:
#: groups of 1, 2, 4, 8 blocks 48, 42, 38, 40 ms: one costs Python per block, eight leave the cache).
GROUP = 4
#: The longest transform a whole axis takes at once, 2-D and 3-D: a call whose outputs fit (with
#: the kernel's overlap) is one block of its own size, as cheap as it gets (300x300 under a 21x21:
#: one 320-long transform per axis, not two of 288).
SINGLE = {2: 384, 3: 216}


def block_side(span: int, ndim: int = 2) -> int:
    """Output cells per block along an axis for a kernel ``span`` cells wide: a function of the kernel alone.

    At least :data:`BLOCK` (:data:`BLOCK_3D` for a volume) and three spans, so the window's
    overlap costs at most a third of the transform, stretched so that the window is exactly a
    fast FFT length (no zero-filled margin to transform).

    >>> block_side(15), block_side(21), block_side(85), block_side(101), block_side(11, 3)
    (256, 268, 276, 525, 134)
    """
    base = BLOCK if ndim == 2 else BLOCK_3D
    least = base * max(1, -(-3 * int(span) // base))
    return fast_length(least + int(span) - 1) - int(span) + 1


@lru_cache(maxsize=256)
def fast_length(n: int) -> int:
    """The FFT length for ``n`` cells: the smallest 2^a 3^b 5^c at or above ``n`` (as scipy's
    ``next_fast_len(n, real=True)``, and the same in a process that did not import scipy).

    >>> fast_length(286), fast_length(256)
    (288, 256)
    """
    best = 1 << max(0, (int(n) - 1).bit_length())
    p5 = 1
    while p5 < best:
        p35 = p5
        while p35 < best:
            v = p35
            while v < n:
                v *= 2
            best = min(best, v)
            p35 *= 3
        p5 *= 5
    return best


def single_max(span: int, ndim: int = 2) -> int:
    """The most outputs a whole axis computes as one block of its own size (see :data:`SINGLE`);
    a tile that is not the whole axis must own more than this many (the tiled planner sees to it).

    >>> single_max(21), single_max(11, 3), single_max(200)
    (364, 206, 772)
    """
    return max(block_side(span, ndim) - 1, SINGLE[ndim] - int(span) + 1)


def grid(n_out: int, span: int, origin: int = 0, ndim: int = 2) -> tuple[int, int, int, int]:
    """``(block, length, shift, count)`` along one axis of a call with ``n_out`` outputs.

    ``origin``: the index of the call's first output on the whole image's grid (a tile's
    offset).  ``shift`` outputs of the first block lie before the call's first output
    (their values are computed and dropped); ``count`` blocks cover the call.  Only a call
    that is a whole axis (``origin`` 0) of at most :func:`single_max` outputs takes a block of
    its size.

    >>> grid(2048, 31), grid(100, 31), grid(300, 31, origin=3 * 258 - 40), grid(400, 31)
    ((258, 288, 0, 8), (100, 135, 0, 1), (258, 288, 218, 3), (258, 288, 0, 2))
    """
    block = block_side(span, ndim)
    if origin == 0 and n_out <= single_max(span, ndim):
        block = max(1, n_out)
    shift = origin % block
    return block, fast_length(block + span - 1), shift, -(-(n_out + shift) // block)


def task_bytes(spans: tuple[int, int], dtype, channels: int = 1, shape: tuple[int, int] | None = None) -> int:
    """Bytes a task of :func:`correlate_fft` holds at once for a kernel ``spans`` cells high and wide, in ``dtype``:
    its band of padded rows, the spectra of its :data:`GROUP` blocks and their inverse (the
    columns' transform, then the kept rows'); a thread runs one task at a time.  ``shape``:
    the call's output, when known (a small call has one block of its own size).

    >>> task_bytes((31, 31), np.float32) / 2**20 < 6
    True
    """
    item = np.dtype(dtype).itemsize
    if shape is None:  # a call of many blocks
        (bh, bw), group = (block_side(s) for s in spans), GROUP
        lh, lw = fast_length(bh + spans[0] - 1), fast_length(bw + spans[1] - 1)
    else:
        (bh, lh, _, _), (bw, lw, _, nw) = grid(shape[0], spans[0]), grid(shape[1], spans[1])
        group = min(GROUP, nw)
    band = lh * ((group - 1) * bw + lw) * channels * item
    spectra = 2 * group * lh * (lw // 2 + 1) * 2 * item  # the forward spectra and the columns' inverse
    return band + spectra + group * bh * lw * item


def correlate_fft(x3: np.ndarray, k: np.ndarray, dtype, widths: tuple[int, int, int, int], mode_code: int, value: float,
                  dilation: tuple[int, int], oh: int, ow: int, workers: int = 1, cold: bool = False,
                  origin: tuple[int, int] = (0, 0), scale: float | None = None, out_dtype=None,
                  divisor: int | None = None) -> np.ndarray:
    """The (oh, ow, C) correlation of (H, W, C) ``x3`` padded by ``widths`` with ``k``, in ``dtype``.

    No padded image is made: each task (a group of blocks of one row) reads a band of padded
    rows, built from the input through numpy.pad's index rule (so any pad mode, and widths
    larger than the input, work as in the direct paths), zero beyond the padded image.  The
    tasks run on ``workers`` threads.  Peak memory beyond input and output: :func:`task_bytes`
    per thread, a few MiB.  ``cold``: the caller is a
    fresh process (see :func:`_transforms`).  ``origin``: where the call's first output lies
    on the block grid (see :func:`grid`).  ``scale``: each block is rounded to whole numbers
    and multiplied by ``scale`` (the exact form, ``k`` whole numbers), or divided by ``divisor``
    when one is given (the kernel is ``k / divisor``: one correctly rounded quotient, in float64,
    whose rounding to float32 is that of the float32 quotient: 53 >= 2 * 24 + 2 bits); the result
    is stored in ``out_dtype`` (default ``dtype``).
    """
    from numpy.lib.stride_tricks import as_strided

    from .numpy_impl import source_indices
    from .threads import run_tasks

    dh, dw = dilation
    kh, kw = k.shape
    span_h, span_w = dh * (kh - 1) + 1, dw * (kw - 1) + 1
    bh, lh, shift_h, nh = grid(oh, span_h, origin[0])
    bw, lw, shift_w, nw = grid(ow, span_w, origin[1])
    h, w, c = x3.shape
    top, _, left, _ = widths
    # padded rows/columns of the call's windows, each a whole transform long (zero-filled here, not copied
    # again by scipy.fft); -1: the fill, -2: zero (outside the padded image)
    rows = _indices(source_indices(h, top, oh + span_h - 1 - top - h, mode_code), shift_h, (nh - 1) * bh + lh)
    cols = _indices(source_indices(w, left, ow + span_w - 1 - left - w, mode_code), shift_w, (nw - 1) * bw + lw)
    tasks = [(r, g) for r in range(nh) for g in range(0, nw, GROUP)]  # a group of blocks of one row each
    # independent tasks on the threads, each transform on one (a call of one task, a block of at most
    # 384^2, took longer with scipy.fft's two workers than with one: 0.78 against 0.68 ms for 256^2)
    rfft2, irfft2 = _transforms(1, cold)
    _settle_malloc()
    spectrum_k = _kernel_spectrum(k, np.dtype(dtype), (lh, lw), dilation, cold)
    out = np.empty((oh, ow, c), dtype=dtype if out_dtype is None else out_dtype)
    if not k.any():  # every window's sum is empty on the direct loops (zero weights left out): +0.0, not the noise's sign
        out.fill(0.0)
        return out
    zero = zero_signs.kernel_zero(k)
    fixed_peak = dtype_peak(x3.dtype, value)

    def task(i: int) -> None:
        r, g = tasks[i]
        n = min(GROUP, nw - g)
        band = _band(x3, rows[r * bh : r * bh + lh], cols[g * bw : (g + n - 1) * bw + lw], dtype, value)
        factors = None if scale is not None else block_factors(band, n, bw, lw, k, dtype, fixed_peak)
        o0, o1 = max(0, r * bh - shift_h), min(oh, (r + 1) * bh - shift_h)  # the call's output rows
        f0 = span_h - 1 + o0 - (r * bh - shift_h)  # ... and where they sit in a block's result
        for ch in range(c):
            plane = band[:, :, ch]
            s0, s1 = plane.strides
            blocks = as_strided(plane, (n, lh, lw), (bw * s1, s0, s1), writeable=False)
            ups = None if factors is None else factors[1][:, ch]
            if ups is not None:  # the windows overlap: each block scaled in a copy of its own
                blocks = blocks * factors[0][:, ch, None, None].astype(blocks.dtype)  # powers of two: exact in it
            spectrum = rfft2(blocks, s=(lh, lw), axes=(1, 2))
            spectrum *= spectrum_k
            full = irfft2(spectrum, lw, f0, f0 + o1 - o0)
            for t in range(g, g + n):  # block by block: no reshaped copy of the group
                p0, p1 = max(0, t * bw - shift_w), min(ow, (t + 1) * bw - shift_w)
                q0 = span_w - 1 + p0 - (t * bw - shift_w)
                part = full[t - g, :, q0 : q0 + p1 - p0]
                if scale is not None:
                    part = _whole(part, scale, zero, divisor)
                out[o0:o1, p0:p1, ch] = part if ups is None or ups[t - g] == 1.0 else part * ups[t - g]

    run_tasks(task, len(tasks), workers)
    constant = mode_code == CONSTANT
    if scale is not None and zero_signs.unknown(x3, k, value, constant):
        zero_signs.restore(out, x3, k, value, constant, lambda xi, ki, fi: correlate_fft(
            xi, ki, np.float64, widths, mode_code, fi, dilation, oh, ow, workers, cold, origin, scale=1.0))
    return out


#: Bytes of the array :func:`_settle_malloc` makes and frees (glibc's largest dynamic threshold is 32 MiB).
MALLOC_SETTLE_BYTES = 30 * 2**20
_malloc_settled = False


def _settle_malloc() -> None:
    """Once per process, with glibc: malloc and free (untouched) a block of :data:`MALLOC_SETTLE_BYTES`.

    A task's arrays (a few MiB) are freed at the top of malloc's heap; with glibc's initial
    thresholds (mmap from 128 KiB, the heap's top given back beyond twice that, raised only when
    an mmapped block is freed) every task gave its pages back and the next faulted them in again:
    a fresh process's 8192^2 21x21 took 216,000 page faults and 0.25-0.75 s of system time a call
    (2048^2: 15,000 faults, 23 ms, on its first call).  Freeing one mmapped block of 30 MiB raises
    both thresholds (mallopt(3), "dynamic mmap threshold"), as freeing any large image does
    later anyway: 649 faults a call (the output's own pages), no system time for the tasks.
    Through libc itself, not numpy: tracemalloc does not count it (ctypes: numpy has loaded it).
    """
    global _malloc_settled
    if _malloc_settled:
        return
    _malloc_settled = True
    import ctypes
    import os

    try:
        if not os.confstr("CS_GNU_LIBC_VERSION"):
            return
    except (AttributeError, ValueError, OSError):  # not glibc
        return
    libc = ctypes.CDLL(None)
    libc.malloc.restype = ctypes.c_void_p
    libc.free.argtypes = [ctypes.c_void_p]
    libc.free(libc.malloc(MALLOC_SETTLE_BYTES))


_spectra = Memo(16)


def _kernel_spectrum(k: np.ndarray, dtype: np.dtype, lengths: tuple[int, int], dilation: tuple[int, int], cold: bool):
    """The half spectrum of the flipped (and dilated) 2-D kernel zero-filled to ``lengths``, in ``dtype``'s
    precision, remembered per kernel and geometry (a call of one block transforms nothing else as large)."""

    def build():
        rfft2 = _transforms(1, cold)[0]
        dh, dw = dilation
        kernel = np.zeros(lengths, dtype=dtype)
        kernel[: dh * (k.shape[0] - 1) + 1 : dh, : dw * (k.shape[1] - 1) + 1 : dw] = k[::-1, ::-1]
        spectrum = rfft2(kernel)
        frozen(spectrum)
        return spectrum

    return _spectra.get((array_key(k), dtype.str, lengths, tuple(dilation), cold), build)


def _whole(part: np.ndarray, scale: float, zero: float, divisor: int | None = None) -> np.ndarray:
    """The exact form's block: rounded to whole numbers, times ``scale`` (over ``divisor`` when one is
    given), each 0 the direct loops' ``zero`` (an FFT's rounding noise around 0 has either sign, and
    ``rint(-0.3)`` is -0.0)."""
    part = np.rint(part)
    if divisor is None:
        part *= scale
    else:
        part /= divisor
    part[part == 0] = zero
    return part


def _indices(padded: np.ndarray, shift: int, length: int) -> np.ndarray:
    """``length`` source indices from padded position ``-shift`` on: ``padded``'s, -2 outside it."""
    out = np.full(length, -2, dtype=np.int64)
    start = shift
    n = max(0, min(padded.shape[0], length - start))
    out[start : start + n] = padded[:n]
    return out


def _transforms(workers: int, cold: bool):
    """``(rfft2, irfft_rows)``: scipy.fft with ``workers`` threads, or numpy.fft for a ``cold``
    caller (a fresh process, the CLI's policy), where importing scipy.fft (about 180 ms)
    costs more than one thread loses.  Like every path choice it depends on the policy and
    the call, never on what the process did before.

    ``irfft_rows(spectrum, lw, r0, r1)``: rows ``r0:r1`` of the inverse of a stack of half
    spectra, ``lw`` real values each: the columns' transforms in full, the rows' only for the
    rows kept (the window's first ``span - 1`` rows are the overlap, transformed for nothing).
    """
    from functools import partial

    if cold:
        def irfft_rows(spectrum, lw, r0, r1):
            return np.fft.irfft(np.fft.ifft(spectrum, axis=-2)[..., r0:r1, :], lw, axis=-1)

        return np.fft.rfft2, irfft_rows
    import scipy.fft as sfft

    def irfft_rows(spectrum, lw, r0, r1):
        half = sfft.ifft(spectrum, axis=-2, workers=workers, overwrite_x=True)
        return sfft.irfft(half[..., r0:r1, :], lw, axis=-1, workers=workers, overwrite_x=True)

    return partial(sfft.rfft2, workers=workers), irfft_rows


def _segments(idx: np.ndarray) -> tuple[list, np.ndarray, np.ndarray, list]:
    """``idx`` (source indices, -1 the fill, -2 zero) cut for copying: ``(runs, short, short_src, fills)``.

    ``runs``: ``(a, b, src)`` for each run of at least :data:`MIN_RUN` consecutive source
    indices (``idx[a:b] == src + arange(b - a)``); ``short``/``short_src``: the other real
    positions and their sources (gathered); ``fills``: ``(a, b, code)`` for runs of -1 or -2.
    """
    n = idx.shape[0]
    brk = np.empty(n, dtype=bool)
    brk[0] = True
    prev = idx[:-1]
    np.not_equal(idx[1:], np.where(prev >= 0, prev + 1, prev), out=brk[1:])
    starts = np.flatnonzero(brk).tolist()
    runs, fills, short = [], [], []
    for a, b in zip(starts, starts[1:] + [n]):
        src = int(idx[a])
        if src < 0:
            fills.append((a, b, src))
        elif b - a >= MIN_RUN:
            runs.append((a, b, src))
        else:
            short.extend(range(a, b))
    short = np.array(short, dtype=np.intp)
    return runs, short, idx[short], fills


#: The shortest run of consecutive source indices :func:`_band` copies as one slice (shorter: gathered).
MIN_RUN = 16


def _band(x3: np.ndarray, rows: np.ndarray, cols: np.ndarray, dtype, value: float) -> np.ndarray:
    """Padded rows ``rows`` with columns ``cols`` of an (H, W, C) image: :func:`_window` on its first two axes."""
    return _window(x3, [rows, cols], dtype, value)


def _window(x: np.ndarray, index: list, dtype, value: float) -> np.ndarray:
    """The padded window of ``x`` at the source indices ``index[a]`` of its first axes (-1 the fill
    ``value``, -2 zero), the other axes whole, in ``dtype``.

    Runs of consecutive source indices (the image itself) are copied as slices, the border's
    reflected or repeated ones gathered, the fills written a run at a time (zero over the fill).

    >>> _window(np.arange(4.0).reshape(2, 2), [np.array([-1, 0, 1]), np.array([1, 0, -2])], np.float64, 9.0)
    array([[9., 9., 0.],
           [1., 0., 0.],
           [3., 2., 0.]])
    """
    import itertools

    out = np.empty(tuple(i.shape[0] for i in index) + x.shape[len(index):], dtype=dtype)
    pieces, fills = [], []
    for idx in index:
        runs, short, short_src, fill = _segments(idx)
        pieces.append([(slice(a, b), slice(s0, s0 + b - a)) for a, b, s0 in runs]
                      + ([(short, short_src)] if short.size else []))
        fills.append(fill)
    for combo in itertools.product(*pieces):
        src = x
        for a, (_, s) in enumerate(combo):
            src = src[(slice(None),) * a + (s,)]  # a slice is a view, a gathered index a small copy
        dst = tuple(d for d, _ in combo)
        if any(not isinstance(d, slice) for d in dst):
            dst = np.ix_(*[np.arange(d.start, d.stop) if isinstance(d, slice) else d for d in dst])
        out[dst] = src
    for code, fill in ((-1, value), (-2, 0)):  # zero (outside the padded array) wins over the fill
        for a, segs in enumerate(fills):
            for lo, hi, c in segs:
                if c == code:
                    out[(slice(None),) * a + (slice(lo, hi),)] = fill
    return out
