"""Cross-correlation by FFT (scipy.fft with workers), for large dense kernels at stride 1.

Overlap-save in tiles: the padded image is cut into overlapping ``T x T`` tiles (views of
a band of padded rows, no copy); each row of tiles is transformed in one batched
``rfft2``, multiplied by the flipped (and dilated) kernel's spectrum and transformed
back; the circular wrap only spoils the first ``span - 1`` rows/columns of each tile,
which the previous tile covers.  Tiles of a few hundred pixels keep every transform
inside the L2 cache (about twice as fast as one transform of the whole image), and only
one band of rows is ever padded, so memory stays at input + output + a few MiB.
Transforms run in the compute dtype (complex64 for float32).

Accuracy: an FFT's error is relative to the tile's magnitude (about
``eps * log2(T) * max|x| * sum|k|``, eps of the compute dtype), not to each output's as
with the direct loops: a float32 bright block of 255 on zeros under a 21x21 kernel reads
about 0.01 where the answer is 0.  That is why the FFT is used only where the direct loop
is clearly slower, and why the dispatcher (``engine.fft_correlate``) makes it exact where
the direct loops are exact (whole-number input and kernel, up to a power-of-two scale).  No Numba
here: this path also serves a process that has not loaded the jitted core.

Example
-------
>>> import numpy as np
>>> x = np.arange(16.0).reshape(4, 4, 1)
>>> correlate_fft(x, np.ones((3, 3)), np.float64, (0, 0, 0, 0), 0, 0.0, (1, 1), 2, 2)[:, :, 0]
array([[45., 54.],
       [81., 90.]])
"""

from __future__ import annotations

import numpy as np

#: Tile sides tried (fast FFT lengths; <= 384 keeps a complex64 tile within L2).
TILE_SIDES = (64, 96, 128, 160, 192, 256, 320, 384)


def tile_side(span: int, n_out: int) -> int:
    """The tile side that transforms the least length for ``n_out`` outputs of a ``span``-wide kernel.

    >>> tile_side(31, 2048)
    384
    """
    best, best_cost = None, None
    for t in TILE_SIDES:
        valid = t - span + 1
        if valid < span:
            continue
        tiles = -(-n_out // valid)
        cost = tiles * t  # transformed length; per-tile overheads favour the larger tile on a tie
        if best_cost is None or cost <= best_cost:
            best, best_cost = t, cost
    if best is None:  # a kernel wider than the largest tile: one transform of the whole axis
        import scipy.fft as sfft

        best = sfft.next_fast_len(n_out + span - 1, real=True)
    return best


def correlate_fft(x3: np.ndarray, k: np.ndarray, dtype, widths: tuple[int, int, int, int], mode_code: int, value: float,
                  dilation: tuple[int, int], oh: int, ow: int, workers: int = 1, cold: bool = False) -> np.ndarray:
    """The (oh, ow, C) correlation of (H, W, C) ``x3`` padded by ``widths`` with ``k``, in ``dtype``.

    No padded image is made: each row of tiles reads a band of ``T`` padded rows, built
    from the input through numpy.pad's index rule (so any pad mode, and widths larger
    than the input, work as in the direct paths).  Peak memory beyond input and output:
    one band and one row of tile spectra, a few MiB.  ``cold``: the caller is a fresh
    process (see :func:`_transforms`).
    """
    from numpy.lib.stride_tricks import as_strided

    from .numpy_impl import source_indices

    rfft2, irfft2 = _transforms(workers, cold)

    dh, dw = dilation
    kh, kw = k.shape
    span_h, span_w = dh * (kh - 1) + 1, dw * (kw - 1) + 1
    th, tw = tile_side(span_h, oh), tile_side(span_w, ow)
    vh, vw = th - span_h + 1, tw - span_w + 1
    nh, nw = -(-oh // vh), -(-ow // vw)
    h, w, c = x3.shape
    top, _, left, _ = widths
    # index maps over every padded row/column the tiles touch (beyond the real padding they
    # only feed outputs that are discarded, so continuing the pad mode there is harmless)
    rows = source_indices(h, top, nh * vh + span_h - 1 - top - h, mode_code)
    cols = source_indices(w, left, nw * vw + span_w - 1 - left - w, mode_code)
    kernel = np.zeros((th, tw), dtype=dtype)
    kernel[:span_h:dh, :span_w:dw] = k[::-1, ::-1]
    spectrum_k = rfft2(kernel)
    out = np.empty((oh, ow, c), dtype=dtype)
    for r in range(nh):  # one band of padded rows, one row of tiles, at a time
        band = _band(x3, rows[r * vh : r * vh + th], cols, left, dtype, value)
        lines = min(vh, oh - r * vh)
        for ch in range(c):
            plane = band[:, :, ch]
            s0, s1 = plane.strides
            tiles = as_strided(plane, (nw, th, tw), (vw * s1, s0, s1), writeable=False)
            spectrum = rfft2(tiles, axes=(1, 2))
            spectrum *= spectrum_k
            full = irfft2(spectrum, s=(th, tw), axes=(1, 2))
            for t in range(nw):  # tile by tile: no reshaped copy of the row of tiles
                cols_t = min(vw, ow - t * vw)
                out[r * vh : r * vh + lines, t * vw : t * vw + cols_t, ch] = full[t, span_h - 1 : span_h - 1 + lines, span_w - 1 : span_w - 1 + cols_t]
    return out


def _transforms(workers: int, cold: bool):
    """``(rfft2, irfft2)``: scipy.fft with ``workers`` threads, or numpy.fft for a ``cold``
    caller (a fresh process, the CLI's policy), where importing scipy.fft (about 180 ms)
    costs more than one thread loses.  Like every path choice it depends on the policy and
    the call, never on what the process did before."""
    from functools import partial

    if cold:
        return np.fft.rfft2, np.fft.irfft2
    import scipy.fft as sfft

    return partial(sfft.rfft2, workers=workers), partial(sfft.irfft2, workers=workers, overwrite_x=True)


def _band(x3: np.ndarray, rows: np.ndarray, cols: np.ndarray, left: int, dtype, value: float) -> np.ndarray:
    """Padded rows ``rows`` (input row indices, -1 = fill) with columns ``cols``, in ``dtype``.

    The input's own columns are one slice copy; only the border columns are gathered.
    """
    w = x3.shape[1]
    band = np.empty((rows.shape[0], cols.shape[0], x3.shape[2]), dtype=dtype)
    inner = band[:, left : left + w]
    for i, r in enumerate(rows):  # row by row: no gathered copy of the band
        if r >= 0:
            inner[i] = x3[r]
    border = np.r_[0:left, left + w : cols.shape[0]]
    band[:, border] = inner[:, np.maximum(cols[border], 0)]
    band[:, border[cols[border] < 0]] = value
    band[rows < 0] = value
    return band
