"""The dispatching core: picks a path for each call and prepares what the jitted loops take.

Paths for a convolution (all give the reference result within float rounding):

``dense``
    the direct loop over every non-zero tap (:func:`conv.dense_rows`);
``separable``
    when the kernel has rank 1 (Gaussian, box, Sobel, Prewitt...): a vertical then a
    horizontal 1-D pass per output row (:func:`conv.separable_rows`), ``kh + kw`` taps
    instead of ``kh * kw``;
``fft``
    for large dense kernels at stride 1: ``scipy.fft`` real transforms with workers
    (:mod:`kernelcli._core.fft`).

The choice uses crossovers measured on the development machine (see
``python benchmarks/run.py --crossover``); :func:`choose_path` applies them.  Only the
strided outputs are ever computed: rows are picked, columns de-interleaved by phase.

Example
-------
>>> import numpy as np
>>> choose_path(np.outer([1, 2, 1], [1, 0, -1]), (1, 1), (1, 1), np.dtype("float32"))
'dense'
>>> choose_path(np.ones((7, 7)), (1, 1), (1, 1), np.dtype("float32"))
'separable'
"""

from __future__ import annotations

import os

import numpy as np

from . import numpy_impl, threads
from .config import CONSTANT

#: A rank-1 kernel runs as two 1-D passes from this many non-zero 2-D taps up
#: (a 3x3 is faster as one 2-D pass: it is memory-bound either way).
SEPARABLE_MIN_TAPS = 10
#: A dense kernel at stride 1 goes through the FFT from this many non-zero taps up: the
#: direct cost grows with the taps, the tiled FFT's hardly at all (2048x2048 float32,
#: 2 threads: direct 19 ms vs FFT 39 ms at 11x11, 44 vs 38 at 15x15, 74 vs 34 at 21x21).
FFT_MIN_TAPS = 200

# Start-up economics of a fresh process (measured on the development machine; seconds).
# Loading the jitted core costs far more than small arithmetic, so under the ``cold``
# policy (which always assumes a fresh process) a call uses plain numpy, or the FFT (no
# Numba) for big kernels, while that is cheaper than loading; see :func:`cold_choice`.
NUMBA_IMPORT_SECONDS = 0.13
#: first call of the cached jitted functions in a new process (LLVM start-up, cache load)
JIT_LOAD_SECONDS = 0.32
#: plain-numpy path, per output value and non-zero tap
NUMPY_SECONDS_PER_TAP = 2.2e-9
#: jitted direct loops, per output value and tap
JIT_SECONDS_PER_TAP = 6e-11
#: tiled FFT, per output value (any kernel up to ~64x64), and importing scipy.fft
FFT_SECONDS_PER_OUTPUT = 1.2e-8
SCIPY_FFT_IMPORT_SECONDS = 0.14
#: a cold process uses the FFT instead of loading the jitted core only from this many taps
FFT_COLD_MIN_TAPS = 100


def rank1_factors(k: np.ndarray, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray] | None:
    """``(col, row)`` with ``outer(col, row) == k`` within the rounding of ``dtype``, or None.

    The singular values decide the rank; the factors are the kernel's own largest row and
    that row's column divided by the pivot, so integer kernels (Sobel, Prewitt, box)
    factor into exact small numbers and integer images still give exact results.

    >>> rank1_factors(np.array([[1.0, 0, -1], [2, 0, -2], [1, 0, -1]]), np.dtype("float32"))
    (array([0.5, 1. , 0.5]), array([ 2.,  0., -2.]))
    """
    if min(k.shape) < 2:
        return None
    s = np.linalg.svd(k, compute_uv=False)
    tol = 8 * np.finfo(dtype).eps
    if s[0] == 0 or s[1] > tol * s[0]:
        return None
    pi, pj = np.unravel_index(np.argmax(np.abs(k)), k.shape)
    row = k[pi, :].copy()
    col = k[:, pj] / k[pi, pj]
    if np.abs(np.outer(col, row) - k).max() > tol * np.abs(k).max():
        return None
    return col, row


def choose_path(k: np.ndarray, stride: tuple[int, int], dilation: tuple[int, int], dtype: np.dtype, force: str | None = None) -> str:
    """Name the path for kernel ``k``: ``"dense"``, ``"separable"`` or ``"fft"``.

    ``force`` (tests, benchmarks) picks a path when it applies: ``separable`` needs rank 1,
    ``fft`` needs stride 1; otherwise ``dense`` is used.
    """
    if force is not None:
        if force == "separable" and rank1_factors(k, dtype) is not None:
            return "separable"
        if force == "fft" and stride == (1, 1):
            return "fft"
        return "dense"
    taps = int(np.count_nonzero(k))
    if taps >= SEPARABLE_MIN_TAPS and rank1_factors(k, dtype) is not None:
        return "separable"
    if taps >= FFT_MIN_TAPS and stride == (1, 1):
        return "fft"
    return "dense"


def jit_start_seconds() -> float:
    """What loading the jitted core costs a fresh process: under the ``cold`` policy.

    The path must be a pure function of the call, never of what the process did before
    (a batch must write the bytes that separate calls write, and paths round differently),
    so the ``cold`` policy always assumes a fresh process.  The CLI sets it
    (``KERNELCLI_PATHS=cold``): each call there is a short process.  The API's default,
    ``warm``, takes the jitted core for all but tiny inputs, as a long-lived program should.
    """
    if os.environ.get("KERNELCLI_PATHS", "warm") != "cold":
        return 0.0
    return JIT_LOAD_SECONDS + NUMBA_IMPORT_SECONDS


def cold_prefers(cheap_seconds: float, jit_seconds: float) -> bool:
    """True when a path that needs no jitted core (``cheap_seconds``) beats loading it plus ``jit_seconds``."""
    start = jit_start_seconds()
    return start > 0.0 and cheap_seconds < start + jit_seconds


def cold_choice(outputs: int, k: np.ndarray, stride: tuple[int, int], dtype: np.dtype) -> str | None:
    """``"numpy"`` or ``"fft"`` when that beats loading the jitted core in a fresh process, else None.

    Always None under the ``warm`` policy (see :func:`jit_start_seconds`); ``outputs``
    counts output values (oh * ow * C).
    """
    if jit_start_seconds() == 0.0:
        return None
    taps = int(np.count_nonzero(k))
    factors = rank1_factors(k, dtype) if taps >= SEPARABLE_MIN_TAPS else None
    jit_taps = taps if factors is None else int(np.count_nonzero(factors[0]) + np.count_nonzero(factors[1]))
    options = {"numpy": NUMPY_SECONDS_PER_TAP * outputs * taps}
    if stride == (1, 1) and taps >= FFT_COLD_MIN_TAPS:
        options["fft"] = FFT_SECONDS_PER_OUTPUT * outputs + SCIPY_FFT_IMPORT_SECONDS
    best = min(options, key=options.get)
    return best if cold_prefers(options[best], JIT_SECONDS_PER_TAP * outputs * jit_taps) else None


def fft_correlate(x3, k, dtype, widths, mode_code, value, dilation, oh, ow):
    """The FFT path (it needs no jitted core): for a cold process as for a warm one."""
    from .fft import correlate_fft

    fill = value if mode_code == CONSTANT else 0.0
    return correlate_fft(x3, k, dtype, widths, mode_code, fill, dilation, oh, ow, threads.count())


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


#: Input dtypes the convolution loops read directly; others are cast to the compute dtype
#: first (each dtype pair is a separate compiled version, so the set stays small).
NATIVE_INPUTS = ("uint8", "uint16", "float32", "float64")


def _flat_input(x3: np.ndarray, dtype: np.dtype | None = None) -> np.ndarray:
    """``x3`` as contiguous (H, W*C) rows; cast to ``dtype`` unless its dtype is read natively."""
    h, w, c = x3.shape
    if dtype is not None and x3.dtype.name not in NATIVE_INPUTS:
        x3 = x3.astype(dtype)
    return np.ascontiguousarray(x3).reshape(h, w * c)


def _noop(*_args) -> None:
    return None


def pad_flat(x3: np.ndarray, widths: tuple[int, int, int, int], mode_code: int, value: float, dtype: np.dtype, announce=_noop) -> np.ndarray:
    """Pad (H, W, C) into a new (Hp, Wp, C) array of ``dtype`` with the jitted loop.

    ``announce(dispatcher, *dtypes)`` is called before the jitted loop runs (the API uses it
    to say "compiling..." when the cache is empty).
    """
    from .pad import pad_rows

    h, w, c = x3.shape
    rows, cols, runs, wq = pad_plan(x3.shape, widths, mode_code)
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


def correlate(x3, k, dtype, widths, mode_code, value, stride, dilation, oh, ow, force=None, announce=_noop):
    """Cross-correlate (H, W, C) ``x3`` with 2-D ``k`` (float64) into (oh, ow, C) of ``dtype``.

    ``widths`` have been trimmed to what the windows read; ``force`` names a path;
    ``announce`` as for :func:`pad_flat`.
    """
    sh, sw = stride
    dh, dw = dilation
    c = x3.shape[2]
    kh, kw = k.shape
    fill = value if mode_code == CONSTANT else 0.0
    path = choose_path(k, stride, dilation, dtype, force)
    if path == "fft":
        return fft_correlate(x3, k, dtype, widths, mode_code, value, dilation, oh, ow)
    span = dh * (kh - 1) + 1
    out = np.empty((oh, ow * c), dtype=dtype)
    src = _flat_input(x3, dtype)
    # In place when the input is already in the compute dtype and needs no de-interleaving;
    # otherwise through a ring of padded rows (which also casts, e.g. uint8 -> float32).
    direct = src.dtype == dtype and sw == 1
    rows, cols, runs, wq = pad_plan(x3.shape, widths, mode_code, sw)
    ring = (src, c, rows, cols, runs, wq, fill, span, sh)
    inplace = (src, c, rows, cols, fill, widths[2], sh)
    if path == "separable":
        from .conv import separable_direct, separable_rows

        col, row = rank1_factors(k, dtype)
        u, v = np.flatnonzero(col), np.flatnonzero(row)
        vtaps = ((u * dh).astype(np.int64), col[u].astype(dtype))
        htaps = ((_offsets(kw, dw, sw, wq, c)[v]).astype(np.int64), row[v].astype(dtype))
        fn, args = (separable_direct, inplace) if direct else (separable_rows, ring)
    else:
        from .conv import dense_direct, dense_rows

        u, v = np.nonzero(k)
        trow, ws = (u * dh).astype(np.int64), k[u, v].astype(dtype)
        if direct:
            fn, args, vtaps, htaps = dense_direct, inplace, (trow, (v * dw).astype(np.int64)), (ws,)
        else:
            fn, args, vtaps, htaps = dense_rows, ring, (trow, _offsets(kw, dw, sw, wq, c)[v].astype(np.int64)), (ws,)
    announce(fn, src.dtype, dtype)
    threads.run_rows(fn, oh, *args, *vtaps, *htaps, out)
    return out.reshape(oh, ow, c)


def pool(x3, size, stride, padding, op_code, include_pad, oh, ow, dtype, announce=_noop, force_general=False):
    """Pool (H, W, C) ``x3`` into (oh, ow, C) of ``dtype`` (the input's for max/min, a float for avg).

    2x2 and 3x3 windows at stride 2 without padding, all inside the input, take the
    specialised loop (unless ``force_general``); everything else the general one.
    """
    from .pool import AVG, pool_rows, pool_s2

    h, w, c = x3.shape
    src = np.ascontiguousarray(x3.astype(dtype, copy=False) if op_code == AVG else x3).reshape(h, w * c)
    out = np.empty((oh, ow * c), dtype=dtype)
    whole = padding == 0 and (oh - 1) * stride + size <= h and (ow - 1) * stride + size <= w
    if stride == 2 and size in (2, 3) and whole and not force_general:
        announce(pool_s2, src.dtype, out.dtype)
        threads.run_rows(pool_s2, oh, src, c, size, op_code, out)
    else:
        announce(pool_rows, src.dtype, out.dtype)
        threads.run_rows(pool_rows, oh, src, c, size, stride, padding, op_code, include_pad, out)
    return out.reshape(oh, ow, c)
