"""One dispatcher for 2-D and 3-D convolution: the same policy picks numpy, jitted direct, separable or FFT.

:func:`front` is the choice every convolution makes first, whatever its rank: plain numpy (small
work, a forced ``numpy``, or a cold process where numpy is cheaper than loading the jitted core
-- for a volume only within :data:`costs.VOLUME_NUMPY_EXTRA_BYTES` of the jitted path's memory),
numpy's FFT (a cold process and a big kernel), or ``"jit"``.  Under ``"jit"`` :func:`jit_path`
names the jitted path with :func:`costs.choose_path`'s rule for both ranks: separable for a
rank-1 kernel of at least ``SEPARABLE_MIN_TAPS`` taps, FFT from ``FFT_MIN_TAPS`` taps at stride
1 (``FFT_MIN_TAPS_3D`` for a volume: measured apart), else dense.  The cost rule of a cold
process is :func:`costs.cold_choice`, for both ranks.  The 2-D loops run in
:func:`engine.correlate`; :func:`correlate3d` runs the 3-D ones (:mod:`.conv3d`'s dense loop or its per-axis passes, :mod:`.fft` style transforms), each
path's loops staying where they are.  Exactness is the 2-D rule: integer separable factors with
the scale applied once, a kernel of whole numbers over a whole number summed as its whole numbers
and divided once, and the FFT on the integer kernel in float64, rounded.

Example
-------
>>> import numpy as np
>>> from .policy import Paths
>>> front(Paths(force="numpy"), 10**9, 10**9, np.ones((3, 3, 3)), 1, np.dtype("float32"))
'numpy'
>>> jit_path(np.ones((3, 3, 3)), 1, 1, np.dtype("float32"), None)
'separable'
"""

from __future__ import annotations

import numpy as np

from . import costs, engine, forms, numpy_impl, overflow
from .config import CONSTANT
from .forms import separable_factors  # noqa: F401  (the rank-1 factors of a 2-D or 3-D kernel)
from .policy import Paths


def jit_path(k: np.ndarray, stride: int, dilation: int, dtype: np.dtype, force: str | None, fft_ok: bool = True) -> str:
    """``"dense"``, ``"separable"`` or ``"fft"`` for a 2-D or 3-D kernel (``stride``/``dilation``: 1 when all are 1).

    ``force`` picks a path where it applies (separable needs rank 1, fft stride 1); ``fft_ok``
    False: the memory rule keeps an unforced 3-D call off the FFT (:func:`fft_bytes`).
    """
    if k.ndim == 2:
        one = (1, 1) if stride == 1 else (stride, stride)
        return costs.choose_path(k, one, (dilation, dilation), dtype, force)
    if force in ("dense", "separable", "fft"):
        if force == "separable" and separable_factors(k, dtype) is not None:
            return "separable"
        if force == "fft" and stride == 1:
            return "fft"
        return "dense"
    taps = int(np.count_nonzero(k))
    if taps >= costs.SEPARABLE_MIN_TAPS and separable_factors(k, dtype) is not None:
        return "separable"
    if taps >= costs.FFT_MIN_TAPS_3D and stride == 1 and fft_ok:
        return "fft"
    return "dense"


def front(paths: Paths, work: int, outputs: int, k: np.ndarray, stride, dtype: np.dtype,
          numpy_bytes: int = 0, jit_bytes: int = 0, fft_bytes: int = 0, same_bytes: bool = False) -> str:
    """``"numpy"``, ``"fft"`` (numpy's, in a cold process) or ``"jit"``: the first choice of every convolution.

    ``work``: multiply-adds of the dense loop; ``outputs``: output values; ``stride``: an int or
    one per axis (the FFT needs all 1); ``numpy_bytes`` and
    ``jit_bytes``, ``fft_bytes``: what each path allocates besides the input (the memory rule,
    volumes only: neither numpy nor the FFT more than :data:`costs.VOLUME_NUMPY_EXTRA_BYTES`
    beyond the jitted path); ``same_bytes``: every path gives this call the same bytes
    (:func:`costs.same_bytes_on_every_path`), so the measured start-up cost may decide.
    """
    decided = paths.numpy_for(work)
    if decided:
        return "numpy"
    if decided is False:
        return "jit"
    return costs.cold_choice(paths, outputs, k, stride, dtype, numpy_bytes, jit_bytes, fft_bytes, same_bytes) or "jit"


def _same_widths(k: np.ndarray, widths: tuple[int, ...]) -> bool:
    return all(widths[2 * a] == (n - 1) // 2 and widths[2 * a + 1] == n - 1 - (n - 1) // 2 for a, n in enumerate(k.shape))


def fft_bytes(k_shape: tuple[int, ...], out_shape: tuple[int, ...], dtype) -> int:
    """What :func:`_fft3d` allocates besides the input: the result in ``dtype`` and one block's
    float64 buffers (:func:`.fft_nd.block_bytes_nd`: no padded volume is made).

    >>> fft_bytes((11, 11, 11), (400, 400, 400), np.float32) // 2**20
    336
    """
    from .fft_nd import block_bytes_nd

    return int(np.prod(out_shape)) * np.dtype(dtype).itemsize + block_bytes_nd(tuple(k_shape), tuple(out_shape))


def _fft3d(x: np.ndarray, k: np.ndarray, widths, mode_code: int, value: float, out_shape, paths: Paths,
           scale: float | None = None, out_dtype=np.float64, divisor: int | None = None) -> np.ndarray:
    """Float64 correlation of ``x`` padded by ``widths`` with ``k``: the block FFT on a fixed grid
    (:func:`.fft_nd.correlate_fft_nd`; a tile gives the whole volume's bytes), numpy.fft in a
    ``cold`` process (no scipy.fft import, as the 2-D path), scipy.fft with workers otherwise."""
    from . import threads
    from .fft_nd import correlate_fft_nd

    return correlate_fft_nd(x, k, tuple(widths), mode_code, value, tuple(out_shape), threads.count(), paths.cold,
                            paths.origin_of(3), scale, out_dtype, divisor)


def jit_path3d(shape, k: np.ndarray, widths, out_shape, dtype: np.dtype, force: str | None) -> str:
    """:func:`jit_path` for a ``shape`` volume: the FFT only within the memory rule (see :func:`fft_bytes`)."""
    padded = tuple(n + widths[2 * a] + widths[2 * a + 1] for a, n in enumerate(shape))
    jit_bytes = (int(np.prod(padded)) + int(np.prod(out_shape))) * np.dtype(dtype).itemsize
    fft_ok = fft_bytes(k.shape, out_shape, dtype) <= jit_bytes + costs.VOLUME_NUMPY_EXTRA_BYTES
    return jit_path(k, 1, 1, np.dtype(dtype), force, fft_ok)


def correlate3d(x: np.ndarray, k: np.ndarray, widths: tuple[int, ...], mode_code: int, value: float, dtype: np.dtype,
                out_shape: tuple[int, int, int], paths: Paths, choice: str, announce=engine._noop) -> np.ndarray:
    """Stride-1 correlation of a (Z, Y, X) ``x`` with 3-D ``k`` on the path ``choice`` (:func:`front`'s) names.

    ``"jit"``: :func:`jit_path` picks dense (:func:`.conv3d.correlate3d`), separable (three
    :func:`.conv3d.correlate_axis` passes: in place for "same" widths and no constant fill,
    else over a padded copy, any widths) or the FFT.  A kernel of whole numbers over a whole
    number (:func:`.forms.divided`) goes through the direct paths as its whole numbers, the
    result divided once at the end (the 2-D rule, there fused into the row loops).
    """
    dtype = np.dtype(dtype)
    fill = value if mode_code == CONSTANT else 0.0
    path = "fft" if choice == "fft" else None
    div = forms.divided(k, x.dtype)
    weights, divisor = (k, None) if div is None else div
    if choice == "numpy":
        xp = numpy_impl.pad_nd(x, widths, mode_code, value, dtype)
        return _over(numpy_impl.correlate_nd(xp, weights.astype(dtype), tuple(out_shape)), divisor)
    if path is None:
        path = jit_path3d(x.shape, k, widths, out_shape, dtype, paths.force)
    if path == "fft":
        kind, exact = forms.fft_form(x, k, dtype, mode_code, fill, paths.fft_form)
        forms.refuse_inexact_pin((kind, exact), paths.force)
        if kind == "avoid":
            path = "dense"  # the direct loops are exact here and the FFT could not match them
        elif kind == "exact":
            return _fft3d(x, exact[0], widths, mode_code, fill, out_shape, paths, exact[1], dtype, exact[2])
        else:
            return _fft3d(x, k, widths, mode_code, fill, out_shape, paths, out_dtype=dtype)
    if path == "separable":
        factors = [np.asarray(f, dtype=np.float64) for f in separable_factors(weights, dtype)]
        if x.dtype.kind == "f":
            factors = list(forms.balanced(factors))  # a float input's passes stay within its magnitude
        out = _separable3d(x, k, factors, widths, mode_code, value, fill, dtype, out_shape, announce)
        dense_windows(out, x, factors, weights, widths, mode_code, value, dtype, out_shape, announce)
        return _over(out, divisor)
    from .conv3d import correlate3d as dense

    return _over(dense(x, weights, widths, mode_code, value, dtype, tuple(out_shape), announce), divisor)


def dense_windows(out: np.ndarray, x: np.ndarray, factors, weights: np.ndarray, widths, mode_code: int, value: float,
                  dtype: np.dtype, out_shape, announce=engine._noop, numpy: bool = False) -> None:
    """After separable passes over a float ``x``: give each window of ``out`` that is not finite the dense sum of
    ``weights`` (the 3-D kernel the ``factors`` make) over ``x`` padded by ``widths`` (:func:`engine.windows_whole`).

    A pass sums one axis's taps alone, so it may overflow on a finite input (the input is checked) where the
    window's whole sum does not.  ``numpy``: the dense sum is plain numpy's (a caller that stayed off the
    jitted core), else the jitted dense loop's.  :func:`correlate3d`'s separable path and
    :func:`kernelcli.volumes.correlate_separable` both end with it: one rule.

    >>> x = np.full((2, 1, 2), 2e38, np.float32)  # the z pass [1, 1] gave inf, then the x pass [1, -1] inf - inf
    >>> out = np.array([[[np.nan]]], np.float32)
    >>> dense_windows(out, x, [np.ones(2), np.array([1.0, -1.0])], np.array([[[1.0, -1.0]], [[1.0, -1.0]]]),
    ...               (0, 0, 0, 0, 0, 0), CONSTANT, 0.0, np.dtype(np.float32), (1, 1, 1), numpy=True); out
    array([[[0.]]], dtype=float32)
    """
    if x.dtype.kind != "f" or not _may_grow(factors) or np.isfinite(np.add.reduce(out, axis=None, dtype=np.float64)):
        return
    if numpy:
        def dense():
            return numpy_impl.correlate_nd(numpy_impl.pad_nd(x, widths, mode_code, value, dtype), weights.astype(dtype), tuple(out_shape))
    else:
        from .conv3d import correlate3d as loop

        def dense():
            return loop(x, weights, widths, mode_code, value, dtype, tuple(out_shape), announce)
    engine.windows_whole(out, dense)


def settled(out: np.ndarray, x: np.ndarray, k: np.ndarray, dtype, recompute) -> None:
    """Every 3-D path's last step (:func:`.overflow.settle`): each output of ``out`` that is not finite, from a
    float ``x`` or one ``k`` can carry past ``dtype``'s range, is ``recompute(wide)``'s, the same sums in a
    wider type, rounded.  A finite total skips the mask the size of the volume."""
    if x.dtype.kind == "f" or overflow.possible(x.dtype, k, dtype):
        if not np.isfinite(np.add.reduce(out, axis=None, dtype=np.float64)):
            overflow.settle(out, recompute)


def may_overflow(x: np.ndarray, factors, dtype) -> bool:
    """Whether a sum of the separable ``factors`` over ``x`` can leave ``dtype``'s range (a bound: one pass over ``x``).

    >>> may_overflow(np.full((1, 1, 2), 1e38, np.float32), [np.ones(3), np.array([1.0, 0.0, -1.0])], np.float32)
    True
    """
    if x.size == 0:
        return False
    with np.errstate(over="ignore"):
        bound = max(abs(float(x.max())), abs(float(x.min()))) * float(np.prod([np.abs(f).sum() for f in factors]))
    return not bound < float(np.finfo(dtype).max)


def separable_settled(out: np.ndarray, x: np.ndarray, factors, k: np.ndarray, mode_code: int, value: float,
                      dtype: np.dtype, numpy: bool, announce=engine._noop) -> None:
    """:func:`correlate3d`'s rule after the "same" passes of :func:`kernelcli.volumes.correlate_separable`
    (``factors``: the kernels the passes applied; ``k``: the 3-D kernel
    they make): every window that is not finite gets the dense sum (:func:`dense_windows`), then one in a
    wider type (:func:`settled`).  ``numpy``: the passes were plain numpy's, and so is the dense sum.

    A non-zero constant fill never comes here: correlate_separable pads the volume with it first.
    """
    widths = tuple(w for n in k.shape for w in ((n - 1) // 2, n - 1 - (n - 1) // 2))  # the passes' "same"
    readable = x.astype(dtype) if x.dtype.kind == "f" and x.dtype.itemsize < 4 else x  # (Numba has no float16)
    dense_windows(out, readable, factors, k, widths, mode_code, value, dtype, x.shape, announce, numpy)
    settled(out, x, k, dtype, lambda wide: numpy_impl.correlate_nd(numpy_impl.pad_nd(x, widths, mode_code, value, wide),
                                                                   k.astype(wide), x.shape))


def _separable3d(x, k, factors, widths, mode_code, value, fill, dtype, out_shape, announce) -> np.ndarray:
    """The three passes of the separable path.  A pass sums one axis's taps alone, which can overflow where the
    whole window's sum does not (planes of +1e38 beside planes of -1e38 under a 4x4x4 box gave NaN everywhere,
    the dense loop 0): the caller gives those windows the dense loop's sums (:func:`engine.windows_whole`)."""
    from .conv3d import correlate_axis, pad_volume

    if _same_widths(k, widths) and fill == 0.0:  # the passes pad as the call does: in place, one volume
        out = np.empty(out_shape, dtype=dtype)
        src = x
        for axis, f in enumerate(factors):
            correlate_axis(src, f, axis, mode_code, fill, out, announce)
            src = out
        return out
    # other widths (a tile, "valid", a constant fill): pad once, pass in place, keep the windows
    # wholly inside; each output sums the same values in the same order as above
    xp = pad_volume(x, widths, mode_code, value, dtype, announce)
    for axis, f in enumerate(factors):
        correlate_axis(xp, f, axis, mode_code, 0.0, xp, announce)
    kept = xp[tuple(slice((n - 1) // 2, (n - 1) // 2 + o) for n, o in zip(k.shape, out_shape))]
    return np.ascontiguousarray(kept)


def _may_grow(factors) -> bool:
    """Whether separable ``factors`` can carry a value past its magnitude (their weights' product above 1: not a
    normalised Gaussian or box, whose passes stay within the input's range)."""
    return float(np.prod([np.abs(f).sum() for f in factors])) > 1


def _over(out: np.ndarray, divisor: int | None) -> np.ndarray:
    """``out`` divided by ``divisor`` in place (one correctly rounded quotient a value), or as it is for None."""
    if divisor is not None:
        np.divide(out, out.dtype.type(divisor), out=out)
    return out
