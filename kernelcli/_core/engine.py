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
``benchmarks/run.py --crossover``); :func:`choose_path` documents them.  Only the
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

import numpy as np

from . import numpy_impl, threads
from .config import CONSTANT

PATHS = ("dense", "separable", "fft")

#: A rank-1 kernel runs as two 1-D passes from this many non-zero 2-D taps up
#: (a 3x3 is faster as one 2-D pass: it is memory-bound either way).
SEPARABLE_MIN_TAPS = 10
#: A dense kernel at stride 1 goes through the FFT from this many non-zero taps up
#: (direct cost grows with the taps, the FFT's does not; measured crossover ~21x21).
FFT_MIN_TAPS = 420


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


def pad_flat(x3: np.ndarray, widths: tuple[int, int, int, int], mode_code: int, value: float, dtype: np.dtype, stride_w: int = 1) -> tuple[np.ndarray, int]:
    """Pad (H, W, C) into flat rows (Hp, s*wq*C) of ``dtype``; return them and ``wq``.

    With ``stride_w = s > 1`` the columns are stored by phase (see :mod:`.pad`).
    """
    from .pad import pad_rows

    h, w, c = x3.shape
    top, bottom, left, right = widths
    hp, wp = h + top + bottom, w + left + right
    s = stride_w
    wq = -(-wp // s)
    rows = numpy_impl.source_indices(h, top, bottom, mode_code)
    padcols = numpy_impl.source_indices(w, left, right, mode_code)
    cols = np.full(s * wq, -1, dtype=np.int64)
    runs = np.zeros((s, 3), dtype=np.int64)
    for p in range(s):
        phase = padcols[p::s]
        cols[p * wq : p * wq + phase.shape[0]] = phase
        q0 = min(wq, max(0, -(-(left - p) // s)))
        q1 = max(q0, min(wq, -(-(left + w - p) // s)))
        runs[p] = q0, q1, p + q0 * s - left
    if mode_code != CONSTANT:
        value = 0.0
    out = np.empty((hp, s * wq * c), dtype=dtype)
    x2 = np.ascontiguousarray(x3).reshape(h, w * c)
    threads.run_rows(pad_rows, hp, x2, c, rows.astype(np.int64), cols, runs, wq, value, out)
    return out, wq


def _offsets(n: int, dil: int, stride: int, wq: int, channels: int) -> np.ndarray:
    """Flat offsets of horizontal taps ``0..n-1`` in a phase-stored padded row."""
    v = np.arange(n) * dil
    return ((v % stride) * wq + v // stride) * channels


def correlate(x3, k, dtype, widths, mode_code, value, stride, dilation, oh, ow, force=None):
    """Cross-correlate (H, W, C) ``x3`` with 2-D ``k`` (float64) into (oh, ow, C) of ``dtype``.

    ``widths`` have been trimmed to what the windows read; ``force`` names a path.
    """
    sh, sw = stride
    dh, dw = dilation
    c = x3.shape[2]
    path = choose_path(k, stride, dilation, dtype, force)
    if path == "fft":
        from .fft import correlate_fft

        xp, _ = pad_flat(x3, widths, mode_code, value, dtype)
        return correlate_fft(xp.reshape(xp.shape[0], -1, c), k, dilation, oh, ow)
    xp, wq = pad_flat(x3, widths, mode_code, value, dtype, sw)
    out = np.empty((oh, ow * c), dtype=dtype)
    kh, kw = k.shape
    if path == "separable":
        from .conv import separable_rows

        col, row = rank1_factors(k, dtype)
        u = np.flatnonzero(col)
        v = np.flatnonzero(row)
        threads.run_rows(
            separable_rows, oh, xp, (u * dh).astype(np.int64), col[u].astype(dtype),
            _offsets(kw, dw, sw, wq, c)[v].astype(np.int64), row[v].astype(dtype), sh, out,
        )
    else:
        from .conv import dense_rows

        u, v = np.nonzero(k)
        offs = _offsets(kw, dw, sw, wq, c)
        threads.run_rows(
            dense_rows, oh, xp, (u * dh).astype(np.int64), offs[v].astype(np.int64),
            k[u, v].astype(dtype), sh, out,
        )
    return out.reshape(oh, ow, c)
