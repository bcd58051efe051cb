"""Cross-correlation by FFT (scipy.fft with workers), for large dense kernels at stride 1.

Overlap-save in tiles: the padded image is cut into overlapping ``T x T`` tiles (views,
no copy); each row of tiles is transformed in one batched ``rfft2``, multiplied by the
flipped kernel's spectrum and transformed back; the circular wrap only spoils the first
``span - 1`` rows/columns of each tile, which are the ones the next tile covers.
Tiles of a few hundred pixels keep every transform inside the L2 cache, about twice as
fast as one transform of the whole image, and a row of tiles needs only a few MiB.  Transforms run in the compute dtype
(complex64 for float32).

Accuracy: an FFT's error is relative to the tile's magnitude (about
``eps * log2(T) * max|x| * sum|k|``), not to each output's as with the direct loops;
that is why the FFT is used only where the direct loop is several times slower.  No
Numba here: this path also serves a process that has not loaded the jitted core.

Example
-------
>>> import numpy as np
>>> x = np.arange(16.0).reshape(4, 4, 1)
>>> correlate_fft(x, np.ones((3, 3)), (1, 1), 2, 2)[:, :, 0]
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


def extra_padding(k_shape: tuple[int, int], dilation: tuple[int, int], oh: int, ow: int) -> tuple[int, int]:
    """Rows and columns to add below/right of the padded image so the last tile is whole.

    The extra cells only reach outputs that are discarded, so any pad mode may fill them.
    """
    span_h = dilation[0] * (k_shape[0] - 1) + 1
    span_w = dilation[1] * (k_shape[1] - 1) + 1
    th, tw = tile_side(span_h, oh), tile_side(span_w, ow)
    vh, vw = th - span_h + 1, tw - span_w + 1
    need_h = -(-oh // vh) * vh + span_h - 1
    need_w = -(-ow // vw) * vw + span_w - 1
    return need_h - (oh + span_h - 1), need_w - (ow + span_w - 1)


def correlate_fft(xp: np.ndarray, k: np.ndarray, dilation: tuple[int, int], oh: int, ow: int, workers: int = 1) -> np.ndarray:
    """The (oh, ow, C) "valid" correlation of padded ``xp`` (Hp, Wp, C) with ``k``, in xp's dtype.

    ``xp`` may extend beyond ``oh + span - 1`` rows/columns (see :func:`extra_padding`);
    when it is too short for whole tiles it is copied into a larger zero-filled array.
    """
    import scipy.fft as sfft
    from numpy.lib.stride_tricks import as_strided

    dh, dw = dilation
    kh, kw = k.shape
    span_h, span_w = dh * (kh - 1) + 1, dw * (kw - 1) + 1
    th, tw = tile_side(span_h, oh), tile_side(span_w, ow)
    vh, vw = th - span_h + 1, tw - span_w + 1
    nh, nw = -(-oh // vh), -(-ow // vw)
    need_h, need_w = nh * vh + span_h - 1, nw * vw + span_w - 1
    if xp.shape[0] < need_h or xp.shape[1] < need_w:
        grown = np.zeros((max(need_h, xp.shape[0]), max(need_w, xp.shape[1]), xp.shape[2]), dtype=xp.dtype)
        grown[: xp.shape[0], : xp.shape[1]] = xp
        xp = grown
    kernel = np.zeros((th, tw), dtype=xp.dtype)
    kernel[:span_h:dh, :span_w:dw] = k[::-1, ::-1]
    spectrum_k = sfft.rfft2(kernel)
    out = np.empty((oh, ow, xp.shape[2]), dtype=xp.dtype)
    for ch in range(xp.shape[2]):
        plane = xp[:, :, ch]
        s0, s1 = plane.strides
        for r in range(nh):  # one row of tiles at a time: small buffers, no whole-image spectrum
            tiles = as_strided(plane[r * vh :], (nw, th, tw), (vw * s1, s0, s1), writeable=False)
            spectrum = sfft.rfft2(tiles, axes=(1, 2), workers=workers)
            spectrum *= spectrum_k
            full = sfft.irfft2(spectrum, s=(th, tw), axes=(1, 2), workers=workers, overwrite_x=True)
            rows = min(vh, oh - r * vh)
            valid = full[:, span_h - 1 : span_h - 1 + rows, span_w - 1 :]
            out[r * vh : r * vh + rows, :, ch] = valid.transpose(1, 0, 2).reshape(rows, nw * vw)[:, :ow]
    return out
