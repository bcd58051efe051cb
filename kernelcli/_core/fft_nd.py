"""Cross-correlation of a volume (any rank) by FFT: the 3-D twin of :mod:`kernelcli._core.fft`.

The same overlap-save grid (:func:`kernelcli._core.fft.grid` with ``ndim`` 3), the same range guard
per block and the same whole-number rounding as the 2-D path; no padded volume is made (each
block's window is built from the input) and blocks run one after another, each transform on the
threads line by line, so the bytes depend neither on the thread count nor on a tile's edges.
No Numba here.

Example
-------
>>> import numpy as np
>>> correlate_fft_nd(np.arange(27.0).reshape(3, 3, 3), np.ones((2, 2, 2)), (0,) * 6, 0, 0.0, (2, 2, 2))[0]
array([[52., 60.],
       [76., 84.]])
"""

from __future__ import annotations

import numpy as np

from .fft import _indices, _whole, _window, grid
from .fft_range import dtype_peak, in_range, peak_of


def correlate_fft_nd(x: np.ndarray, k: np.ndarray, widths: tuple[int, ...], mode_code: int, value: float,
                     out_shape: tuple[int, ...], workers: int = 1, cold: bool = False, origin: tuple[int, ...] = (),
                     scale: float | None = None, out_dtype=np.float64, divisor: int | None = None) -> np.ndarray:
    """The ``out_shape`` correlation of ``x`` (any rank; the volume path) padded by ``widths`` (before,
    after per axis; ``mode_code``, fill ``value``) with ``k``, in float64, block by block on the grid of
    :func:`grid` (``ndim`` 3 blocks), stored in ``out_dtype``.

    No padded volume is made: each block's window is built from ``x`` (:func:`_window`) and
    transformed axis by axis, last axis first, each pass only over the lines that are not all
    zero (a window cut by the padded volume's end is zero beyond it, as its last tile's is); the
    inverse only over the lines whose outputs are kept.  Blocks run one after another, each
    transform on ``workers`` threads (line by line: the bytes do not depend on them); what a
    block holds is :func:`block_bytes_nd`.  ``origin``, ``scale`` and ``divisor`` as for :func:`correlate_fft`.

    >>> correlate_fft_nd(np.arange(27.0).reshape(3, 3, 3), np.ones((2, 2, 2)), (0,) * 6, 0, 0.0, (2, 2, 2))[0]
    array([[52., 60.],
           [76., 84.]])
    """
    import itertools

    from .numpy_impl import source_indices

    forward, inverse = _transforms_nd(workers, cold)
    origin = tuple(origin) + (0,) * (x.ndim - len(origin))
    grids = [grid(n, s, o, 3) for n, s, o in zip(out_shape, k.shape, origin)]
    lengths = tuple(g[1] for g in grids)
    index = [_indices(source_indices(n, widths[2 * a], o + s - 1 - widths[2 * a] - n, mode_code), g[2], g[3] * g[0] + s - 1)
             for a, (n, s, o, g) in enumerate(zip(x.shape, k.shape, out_shape, grids))]
    spectrum_k = forward(lambda: np.ascontiguousarray(k[(slice(None, None, -1),) * k.ndim], dtype=np.float64), lengths)
    out = np.empty(tuple(out_shape), dtype=out_dtype)
    # the volume loops start each sum at +0.0: an exact 0 is +0.0 there, whatever the signs of its terms (the
    # 2-D rule of zero_signs gave -0.0 under a negative kernel, and 'cold' and 'warm' wrote other bytes)
    zero = 0.0
    if not k.any():
        out.fill(0.0)
        return out
    fixed_peak = dtype_peak(x.dtype, value)
    # a block's window holds values of x and the fill: where their peak needs no scaling, no window does
    peak = peak_of(x, value) if fixed_peak is None else fixed_peak
    guard = scale is None and in_range(peak, k, lengths, np.float64) != (1.0, 1.0)
    for block_index in itertools.product(*(range(g[3]) for g in grids)):
        window, keep, put = [], [], []
        for a, (i, (block, _, shift, _)) in enumerate(zip(block_index, grids)):
            w = index[a][i * block : i * block + block + k.shape[a] - 1]
            live = np.flatnonzero(w != -2)
            window.append(w[: int(live[-1]) + 1 if live.size else 0])  # zero beyond the padded volume: left to the transform
            v0 = i * block - shift  # the block's first output in the call's coordinates
            o0, o1 = max(0, v0), min(out_shape[a], v0 + block)
            keep.append(slice(k.shape[a] - 1 + o0 - v0, k.shape[a] - 1 + o1 - v0))
            put.append(slice(o0, o1))
        ups = []

        def scaled(window=window) -> np.ndarray:  # the block's own factors, from its own window
            values = _window(x, window, np.float64, value)
            down, up = in_range(peak_of(values, 0.0) if fixed_peak is None else fixed_peak, k, lengths, np.float64)
            ups.append(up)
            if down != 1.0:
                values *= down
            return values

        spectrum = forward(scaled if guard else lambda: _window(x, window, np.float64, value), lengths)
        spectrum *= spectrum_k
        part = inverse(spectrum, lengths, keep)
        del spectrum
        if scale is not None:
            part = _whole(part, scale, zero, divisor)
        elif ups and ups[0] != 1.0:
            part *= ups[0]
        out[tuple(put)] = part
        del part  # before the next block's window
    return out


def block_bytes_nd(k_shape: tuple[int, ...], out_shape: tuple[int, ...]) -> int:
    """Bytes :func:`correlate_fft_nd` holds besides its input and output, for a ``k_shape`` kernel and
    ``out_shape`` outputs: four half spectra of a block (the kernel's, the block's, the zero-filled copy
    a pass makes of it, and its window or inverse result, each about as large), in float64.

    Measured with tracemalloc (peak minus the output): 256^3 and 300^3 under 11^3 (blocks of 134^3,
    transforms of 144^3) 90 and 76 MiB, estimate 92; 160^3 (one block, 180^3) 162 MiB, estimate 179.

    >>> block_bytes_nd((11, 11, 11), (400, 400, 400)) // 2**20
    92
    """
    lengths = [grid(n, s, 0, 3)[1] for n, s in zip(out_shape, k_shape)]
    return 4 * 16 * int(np.prod(lengths[:-1])) * (lengths[-1] // 2 + 1)


def _transforms_nd(workers: int, cold: bool):
    """``(forward, inverse)`` for :func:`correlate_fft_nd`, scipy.fft on ``workers`` threads or numpy.fft (``cold``).

    ``forward(window, lengths)``: the half spectrum of ``window`` zero-filled to ``lengths``, axis by
    axis from the last (a real transform), each pass over the window's lines only (the others are
    zero).  ``inverse(spectrum, lengths, keep)``: the real result at the slices ``keep``, axis by
    axis from the first, each pass only over the lines of kept outputs.
    """
    if cold:
        fft, ifft, rfft, irfft = np.fft.fft, np.fft.ifft, np.fft.rfft, np.fft.irfft
        opts = mine = {}
    else:
        import scipy.fft as sfft

        fft, ifft, rfft, irfft = sfft.fft, sfft.ifft, sfft.rfft, sfft.irfft
        opts, mine = {"workers": workers}, {"overwrite_x": True}  # the passes' inputs are this call's own

    def forward(window, lengths):  # ``window()`` makes it: it is dropped after the first pass
        last = len(lengths) - 1
        spectrum = rfft(window(), lengths[last], axis=last, **opts)
        for a in range(last - 1, -1, -1):
            spectrum = fft(spectrum, lengths[a], axis=a, **opts, **mine)
        return spectrum

    def inverse(spectrum, lengths, keep):
        last = len(lengths) - 1
        for a in range(last):
            spectrum = ifft(spectrum, axis=a, **opts, **mine)[(slice(None),) * a + (keep[a],)]
        return irfft(spectrum, lengths[last], axis=last, **opts, **mine)[(Ellipsis, keep[last])]

    return forward, inverse
