"""conv2d, pad2d, pool2d, conv3d and pool3d on dask arrays: lazy, tile by tile, exact.

Each function takes a ``dask.array.Array`` and returns one, built with
``dask.array.map_overlap`` as dask-image builds its filters: every tile is extended by the
kernel's halo from its neighbours and handed to the in-memory function, so that computing
the result gives, byte for byte, what the in-memory function gives on the whole array
(see :mod:`kernelcli.tiled.plan` for why, and :mod:`kernelcli.tiled.pin` for the path).

Pad modes and dask's boundaries:

============  ==================  =================================================
kernelcli     dask ``boundary``   how the image's border is padded
============  ==================  =================================================
constant      ``"none"``          by the core, in the compute dtype (so a fill such
                                  as 0.5 or -1 survives a uint8 image)
replicate     ``"none"``          by the core (dask's ``"nearest"`` holds the same)
reflect       ``"none"``          by the core (dask has no numpy-``reflect``)
symmetric     ``"none"``          by the core (dask's ``"reflect"`` is numpy's symmetric)
circular      ``"periodic"``      dask brings the far side; the core wraps onto it
============  ==================  =================================================

The core pads the border tiles itself, rather than reading dask's padded cells, because it
rounds border outputs on their own route (a padded row may be skipped and its fill added
once); handing it the same padding keeps that route.

Example
-------
>>> import numpy as np, dask.array as da
>>> x = np.arange(64, dtype=np.uint8).reshape(8, 8)
>>> y = conv2d(da.from_array(x, chunks=4), [[1, 2, 1]], pad_mode="reflect")
>>> bool((y.compute() == __import__("kernelcli").conv2d(x, [[1, 2, 1]], pad_mode="reflect")).all())
True
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from types import SimpleNamespace
from typing import Any

import numpy as np

from .. import api, conv_args, ndsupport, shapes
from .. import whole_numbers
from .._core import numpy_impl
from .._core.policy import Paths
from ..errors import ShapeError, UsageError
from ..modes import PAD_CODES, PAD_MODE_DEFAULT, PAD_VALUE_DEFAULT, canonical_pad_mode, canonical_pool_op, check_fill_reading, pad_keywords, pad_words
from . import pin, require, screen
from .plan import Axis

#: tile side (cells per axis) when the input's own chunks are not used
DEFAULT_TILE = 1024
#: a default tile's cells at most, over its tiled axes: a 2-D tile's 1024x1024, whatever the rank (a volume's
#: default tile is about 64x128x128: 1024 a side took a volume under 1024 whole, its peak above the in-memory run's)
TILE_CELLS = DEFAULT_TILE**2
#: a default tile's bytes at most, in the dtype it is computed in, channels included (as a ``.npy``'s blocks:
#: :data:`kernelcli.tiled.reading.NPY_BLOCK_BYTES`)
TILE_BYTES = 32 * 2**20


def _da():
    return require("dask.array", "a dask array")


def _check(x: Any, ndims: tuple[int, ...], name: str = "x") -> None:
    if np.dtype(x.dtype).kind not in "biuf":
        raise UsageError(f"{name}: expected real numbers, got dtype {x.dtype}")
    if any(n != n for n in x.shape):  # (nan: dask's unknown chunk sizes, after a boolean mask)
        raise UsageError(f"{name}: the dask array's chunk sizes are unknown (shape {x.shape}); call "
                         f"{name}.compute_chunk_sizes() first (or x = x.compute_chunk_sizes())")
    if x.ndim not in ndims:
        raise ShapeError(f"{name}: expected {' or '.join(f'{n}-D' for n in ndims)} array, got shape {x.shape}")
    if any(n == 0 for n in x.shape):
        raise ShapeError(f"{name}: the array is empty (shape {x.shape})")


def kept_dtype(dtype: Any) -> np.dtype:
    """The dtype a call that keeps its input's values (a max or min pool, a pad) gives, as in memory: the input's,
    in this machine's byte order, and a long double as float64 (the widest the core computes in).

    >>> kept_dtype(">i2"), kept_dtype(np.longdouble)
    (dtype('int16'), dtype('float64'))
    """
    dt = np.dtype(dtype).newbyteorder("=")
    return np.dtype(np.float64) if dt.kind == "f" and dt.itemsize > 8 else dt


def held(x: Any) -> Any:
    """A dask array ``x`` as the in-memory functions hold it before any ``dtype=`` cast: a long double as float64
    (cast straight to float32, 1 + 2**-24 + 2**-60 rounds up, where through float64 it ties down to 1).

    >>> import dask.array as da
    >>> held(da.zeros(2, dtype=np.longdouble)).dtype, held(da.zeros(2, dtype="i2")).dtype
    (dtype('float64'), dtype('int16'))
    """
    kept = kept_dtype(x.dtype)
    return x if kept.kind != "f" or kept == x.dtype else x.astype(kept)


def default_tile(sides: Sequence[int], tiled: Sequence[bool], itemsize: int) -> list[int]:
    """``sides`` with the largest tiled side halved while the tile holds more than :data:`TILE_CELLS` cells
    over its tiled axes or more than :data:`TILE_BYTES` bytes (``itemsize`` a cell): the default tile is
    bounded whatever the rank; the untiled axes (channels) are kept whole.

    >>> default_tile([1024, 1024], [True, True], 8), default_tile([288, 288, 288], [True] * 3, 4)
    ([1024, 1024], [72, 72, 144])
    """
    sides = [int(n) for n in sides]
    while True:
        cut = [i for i, t in enumerate(tiled) if t and sides[i] > 1]
        cells = math.prod(n for n, t in zip(sides, tiled) if t)
        if not cut or (cells <= TILE_CELLS and itemsize * math.prod(sides) <= TILE_BYTES):
            return sides
        i = max(cut, key=lambda a: (sides[a], -a))  # (the first of the largest)
        sides[i] = (sides[i] + 1) // 2


def _tile_sizes(x: Any, axes: Sequence[Axis], chunks: int | Sequence[int] | None, itemsize: int = 4) -> list[int]:
    """The requested tile side per axis: ``chunks`` (one side per tiled axis, at most; a passthrough axis whole),
    else the input's first chunk (at least the default for tiny chunks), bounded in bytes (:func:`default_tile`,
    in ``itemsize`` bytes a cell)."""
    if chunks is None:
        sides = [max(c[0], min(DEFAULT_TILE, ax.n)) if c else ax.n for c, ax in zip(x.chunks, axes)]
        return default_tile(sides, [not ax.passthrough for ax in axes], itemsize)
    if isinstance(chunks, (int, np.integer)):
        return [int(chunks)] * len(axes)
    sizes = [int(c) for c in chunks]
    cut = sum(not ax.passthrough for ax in axes)  # (a channel axis is never cut: a side for it is one too many)
    if len(sizes) > cut:  # zip() dropped the extra sides in silence
        raise UsageError(too_many_sides(sizes, cut))
    given = iter(sizes)
    return [ax.n if ax.passthrough else next(given, ax.n) for ax in axes]


def asked_tile(x: Any, cut: int, chunks: int | Sequence[int] | None, dtype: Any) -> list[int]:
    """The input tile asked of ``x``'s first ``cut`` axes (the tiled ones) with ``chunks`` computing in ``dtype``:
    ``--chunks`` as given (a whole axis where it gives no side), else the default (:func:`default_tile`);
    the tiles are then rounded up to whole strides, twice the halo, FFT blocks (:meth:`.plan.Axis.chunks`).

    >>> import dask.array as da
    >>> asked_tile(da.zeros((40, 30, 3), chunks=5), 2, 20, "float32"), asked_tile(da.zeros((40, 30)), 2, (8,), "float32")
    ([20, 20], [8, 30])
    """
    axes = [Axis(int(n)) for n in x.shape[:cut]]
    itemsize = max(np.dtype(x.dtype).itemsize, np.dtype(dtype).itemsize) * math.prod(x.shape[cut:])
    return _tile_sizes(SimpleNamespace(chunks=x.chunks[:cut]), axes, chunks, itemsize)


def too_many_sides(sides: Sequence[int], axes: int) -> str:
    """The refusal of a ``--chunks`` of more sides than the input is cut along (one wording for every input).

    >>> too_many_sides((5, 5, 5, 5), 3)
    '--chunks 5,5,5,5: 4 sides, but this input is cut along 3 axes; give one side, or one per axis'
    """
    return (f"--chunks {','.join(map(str, sides))}: {len(sides)} sides, but this input is cut along {axes} axes; "
            "give one side, or one per axis")


def tile_map(x: Any, axes: Sequence[Axis], core: Callable[..., np.ndarray],
             dtype: Any, chunks: int | Sequence[int] | None = None, with_origin: bool = False) -> Any:
    """The lazy result of ``core`` applied tile by tile (the engine of every function here).

    ``core(slab, pads)`` is the in-memory function on one tile's input, ``pads`` the
    (before, after) padding per axis it must add; its output's cells
    ``[cut.first, cut.first + cut.count)`` per axis are the tile's result.  ``with_origin``:
    ``core(slab, pads, origin)``, ``origin`` the index on the whole output of the core's
    first output, per axis (the FFT's block grid is laid from it).
    """
    da = _da()
    dtype = np.dtype(dtype)
    itemsize = max(np.dtype(x.dtype).itemsize, dtype.itemsize)
    in_chunks = tuple(ax.chunks(size) for ax, size in zip(axes, _tile_sizes(x, axes, chunks, itemsize)))
    x = x.rechunk(in_chunks)
    # a single tile along an axis has no neighbours: the core pads it as the whole image
    depth = {i: (ax.depth() if len(c) > 1 else 0) for i, (ax, c) in enumerate(zip(axes, in_chunks))}
    boundary = {i: ("periodic" if ax.circular else "none") for i, ax in enumerate(axes)}
    bounds = [Axis.bounds(c) for c in in_chunks]
    out_chunks = tuple(ax.out_chunks(c) for ax, c in zip(axes, in_chunks))

    def block(b: np.ndarray, block_id: tuple[int, ...] | None = None) -> np.ndarray:
        index: list[Any] = []
        starts: list[int] = []
        pads: list[tuple[int, int]] = []
        keep: list[slice] = []
        shape = []
        for i, ax in enumerate(axes):
            c0, c1 = bounds[i][block_id[i]]
            d = depth[i]
            before = d if (ax.circular or c0 > 0) else 0
            after = d if (ax.circular or c1 < ax.n) else 0  # (d is 0 for a single tile)
            if b.shape[i] != c1 - c0 + before + after:
                raise AssertionError(f"tile {block_id} axis {i}: got {b.shape[i]} cells, expected {c1 - c0 + before + after}")
            cut = ax.cut(c0, c1, c0 == 0 and c1 == ax.n)
            shape.append(cut.count)
            origin = c0 - before
            segs = [(s0 - origin, s1 - origin) for s0, s1 in cut.segments]
            if len(segs) <= 1:
                index.append(slice(*segs[0]) if segs else slice(0, 0))
            else:
                index.append(np.concatenate([np.arange(s0, s1) for s0, s1 in segs]))
            pads.append((cut.pad_before, cut.pad_after))
            keep.append(slice(cut.first, cut.first + cut.count))
            starts.append(ax.owned(c0, c1)[0] - cut.first)
        if 0 in shape:
            return np.empty(shape, dtype=dtype)
        slab = b
        for axis, ix in enumerate(index):
            slab = slab[(slice(None),) * axis + (ix,)]
        out = (core(slab, pads, tuple(starts)) if with_origin else core(slab, pads))[tuple(keep)]
        if out.shape != tuple(shape):
            raise AssertionError(f"tile {block_id}: the core gave {out.shape}, expected {tuple(shape)}")
        return out

    return da.map_overlap(block, x, depth=depth, boundary=boundary, trim=False, chunks=out_chunks,
                          dtype=dtype, meta=np.empty((0,) * x.ndim, dtype=dtype), allow_rechunk=False)


def _screen(x: Any, dtype: Any, default: np.dtype, compute: np.dtype, into: np.dtype | None, name: str,
            screened: bool, finite_first: bool = False) -> None:
    """The whole input's refusals (:func:`.screen.check_input`) of a call with ``dtype=`` ``dtype``, which
    computes in ``compute`` (its own ``default`` for None) and rounds into ``into``: a float ``dtype=``
    takes the rounding of 64-bit integers past 2**53, as in memory (:func:`kernelcli.ndsupport.dtype_arg`)."""
    screen.check_input(x, name, rounding=None if _takes_rounding(dtype, into) else default, cast=compute,
                       finite=not screened, finite_first=finite_first)


def _takes_rounding(dtype: Any, into: np.dtype | None) -> bool:
    """Whether ``dtype=`` is a float to compute in, which takes the rounding of 64-bit integers past 2**53
    (the tiles are then given it too: their own check would refuse it)."""
    return dtype is not None and into is None


def conv2d(x: Any, kernel: Any, *, stride: int | Sequence[int] = 1, padding: Any = "same", pad_mode: str = "constant",
           pad_value: float = 0.0, dilation: int | Sequence[int] = 1, flip: bool = False, dtype: Any = None,
           chunks: int | Sequence[int] | None = None, paths: Any = None, notes: list[str] | None = None,
           screened: bool = False) -> Any:
    """:func:`kernelcli.api.conv2d` of a dask array (H, W) or (H, W, C): a lazy dask array.

    ``chunks`` sets the tile side (default: the input's chunks, at least :data:`DEFAULT_TILE` or the whole axis, halved
    while a tile holds more than :data:`TILE_CELLS` cells or :data:`TILE_BYTES`: :func:`default_tile`); tiles are rounded to whole
    strides, to at least twice the halo and, where the whole image takes the FFT, to whole
    FFT blocks (:func:`kernelcli._core.fft.block_side`).  ``paths`` is the policy the whole
    image would be computed under (see :mod:`kernelcli.tiled.pin`); ``notes`` collects what a
    user should know (nothing so far: every path is exact tile by tile).  The whole input is
    read once before any tile, for what the in-memory call refuses of it (:func:`.screen.check_input`:
    NaN or infinity, an int64 past 2**53 unless ``dtype="float64"``); ``screened=True`` leaves NaN and
    infinity to the caller, which screens them itself (the tiles then refuse one with their own count).

    >>> import dask.array as da
    >>> conv2d(da.ones((6, 6), chunks=3, dtype="uint8"), [[1, 1]], stride=2).compute()[0]
    array([2., 2., 2.], dtype=float32)
    """
    _check(x, (2, 3))
    given, default = x, api.compute_dtype(x.dtype)
    compute, into = ndsupport.dtype_arg(dtype, default)
    x = x if compute == default else held(x).astype(compute)
    plan = pin.conv_plan(x.shape, x.dtype, kernel, stride=stride, padding=padding, pad_mode=pad_mode,
                         pad_value=pad_value, dilation=dilation, flip=flip, paths=paths, stats=pin.dask_stats(x))
    axes = [plan.rows, plan.cols]
    if x.ndim == 3:
        axes.append(Axis(x.shape[2], passthrough=True))

    _screen(given, dtype, default, compute, into, "x", screened)
    conv = api.conv2d  # the function, not the module: a closure sent to a cluster pickles it by name
    tile_dtype = compute if _takes_rounding(dtype, into) else None

    def core(slab, pads, origin):
        (t, b), (l, r) = pads[:2]
        return pin.call(conv, pin.tile_paths(plan.force, origin[:2]), slab, plan.kernel, stride=plan.stride,
                        padding=(t, b, l, r), pad_mode=plan.mode, pad_value=pad_value, dilation=plan.dilation, dtype=tile_dtype)

    return rounded(tile_map(x, axes, core, plan.dtype, chunks, with_origin=True), into)


def pad2d(x: Any, p: int | Sequence[int], *, pad_mode: str = PAD_MODE_DEFAULT, pad_value: float = PAD_VALUE_DEFAULT,
          chunks: int | Sequence[int] | None = None, mode: str | None = None, value: float | None = None) -> Any:
    """:func:`kernelcli.api.pad2d` of a dask array: a lazy dask array (the input's dtype); ``mode=`` and
    ``value=`` are aliases of ``pad_mode=`` and ``pad_value=``, as there.

    >>> import dask.array as da
    >>> pad2d(da.arange(3, chunks=3).reshape(1, 3), (0, 0, 2, 2), pad_mode="reflect").compute()
    array([[2, 1, 0, 1, 2, 1, 0]])
    """
    keywords = pad_keywords(mode, value)
    mode, value = pad_words("pad2d", pad_mode, pad_value, mode, value)
    check_fill_reading(mode, value, "pad2d", keywords)
    _check(x, (2, 3))
    top, bottom, left, right = conv_args.pad_widths(p)
    mode = canonical_pad_mode(mode, keywords[0])
    kept = kept_dtype(x.dtype)
    if mode == "constant":  # at the call, as in memory: a task's UsageError surfaced inside compute()
        ndsupport.check_fill(value, kept, keywords[1])
    screen.check_input(x, cast=kept, finite=False)  # a long double beyond float64, counted in the whole input
    h, w = x.shape[:2]
    circular = mode == "circular"
    axes = [Axis(h, 1, 1, top, bottom, h + top + bottom, circular=circular),
            Axis(w, 1, 1, left, right, w + left + right, circular=circular)]
    if x.ndim == 3:
        axes.append(Axis(x.shape[2], passthrough=True))

    pad = api.pad2d

    def core(slab, pads):
        (t, b), (l, r) = pads[:2]
        return pad(slab, (t, b, l, r), pad_mode=mode, pad_value=value)

    return tile_map(x, axes, core, kept, chunks)


def pool2d(x: Any, size: int, *, stride: int | None = None, op: str = "max", padding: int = 0, ceil_mode: bool = False,
           count_include_pad: bool = True, dtype: Any = None, chunks: int | Sequence[int] | None = None, paths: Any = None,
           screened: bool = False) -> Any:
    """:func:`kernelcli.api.pool2d` of a dask array: a lazy dask array; the whole input checked first, as :func:`conv2d`'s.

    >>> import dask.array as da
    >>> pool2d(da.arange(16, chunks=16).reshape(4, 4), 2).compute()
    array([[ 5,  7],
           [13, 15]])
    """
    _check(x, (2, 3))
    op = canonical_pool_op(op, "op")
    given, default = x, api.compute_dtype(x.dtype) if op == "avg" else kept_dtype(x.dtype)
    compute, into = ndsupport.dtype_arg(dtype, default)
    x = x if compute == default else held(x).astype(compute)
    size = whole_numbers.check_positive("size", size)
    stride = size if stride is None else whole_numbers.check_positive("stride", stride)
    if isinstance(padding, bool) or not isinstance(padding, (int, np.integer)) or padding < 0 or padding > size // 2:
        api.pool2d(np.zeros((size, size)), size, stride=stride, padding=padding)  # raises the API's message
    padding = int(padding)
    h, w = x.shape[:2]
    try:
        oh = shapes.pool_output_size(h, size, stride=stride, padding=padding, ceil_mode=ceil_mode)
        ow = shapes.pool_output_size(w, size, stride=stride, padding=padding, ceil_mode=ceil_mode)
    except ShapeError as exc:
        raise ShapeError(f"input {h}x{w}, pool {size}x{size}: {exc}") from None
    axes = [Axis(h, stride, size, padding, padding, oh, symmetric=True),
            Axis(w, stride, size, padding, padding, ow, symmetric=True)]
    channels = 1
    if x.ndim == 3:
        channels = x.shape[2]
        axes.append(Axis(channels, passthrough=True))
    cdt = api.compute_dtype(x.dtype) if op == "avg" else kept_dtype(x.dtype)
    special = stride == 2 and size in (2, 3) and padding == 0 and (oh - 1) * stride + size <= h and (ow - 1) * stride + size <= w
    force = pin.pool_force(oh * ow * channels * size * size, cdt, special, paths)
    _screen(given, dtype, default, compute, into, "x", screened)

    pool = api.pool2d
    tile_dtype = compute if _takes_rounding(dtype, into) else None

    def core(slab, pads):
        return pin.call(pool, force, slab, size, stride=stride, op=op, padding=padding, ceil_mode=ceil_mode,
                        count_include_pad=count_include_pad, dtype=tile_dtype)

    return rounded(tile_map(x, axes, core, cdt, chunks), into)


def conv3d(vol: Any, kernel3d: Any, *, padding: Any = "same", pad_mode: str = "constant", pad_value: float = 0.0,
           flip: bool = False, dtype: Any = None, chunks: int | Sequence[int] | None = None, paths: Any = None,
           screened: bool = False) -> Any:
    """:func:`kernelcli.volumes.conv3d` of a dask (Z, Y, X) volume: a lazy dask array.

    ``paths``: the policy the whole volume would be computed under; every tile takes that path.
    The whole volume is checked first, as :func:`conv2d`'s input (``screened`` likewise).

    >>> import dask.array as da
    >>> conv3d(da.ones((4, 4, 4), chunks=2, dtype="uint8"), np.ones((1, 1, 3)), padding="valid").compute()[0, 0]
    array([3., 3.], dtype=float32)
    """
    from .. import volumes

    _check(vol, (3,), "volume")
    k = api.as_kernel_array(kernel3d, ndim=3)
    if ndsupport.check_flip(flip):
        k = k[::-1, ::-1, ::-1]
    widths = volumes.resolve_padding3d(padding, k.shape)
    check_fill_reading(pad_mode, pad_value, "conv3d")
    mode = canonical_pad_mode(pad_mode, "pad_mode")
    out_shape = volumes.conv3d_out_shape(vol.shape, k.shape, widths)
    default = volumes.volume_dtype(vol.dtype)
    cdt, rounded_into = ndsupport.dtype_arg(dtype, default)
    # (the tiles are given cdt, which would take the rounding: refused here, as in memory)
    _screen(vol, dtype, default, cdt, rounded_into, "volume", screened, finite_first=True)

    conv3d_ = volumes.conv3d
    # the tiles take the whole volume's path (the FFT's blocks lie on the whole volume's grid)
    whole = volumes.conv3d_path(paths, vol.shape, k, widths, out_shape, cdt)
    if whole == "jit":
        whole = volumes.conv3d_jit_path(paths, vol.shape, k, widths, out_shape, cdt)
    fill = ndsupport.check_fill(pad_value, cdt, "pad_value") if mode == "constant" else 0.0
    pinned = pin.conv3d_paths(whole, k, cdt, paths, PAD_CODES[mode], fill, pin.dask_stats(vol), vol.dtype)
    tiling = [pin.fft_tiling(pinned, k.shape[i], 3) for i in range(3)]
    axes = [Axis(vol.shape[i], 1, k.shape[i], widths[2 * i], widths[2 * i + 1], out_shape[i], circular=mode == "circular",
                 align=tiling[i][0], min_outputs=tiling[i][1]) for i in range(3)]

    def core(slab, pads, origin):
        return conv3d_(slab, k, padding=tuple(v for pair in pads for v in pair), pad_mode=mode,
                       pad_value=pad_value, dtype=cdt, paths=pin.tile_paths(pinned, origin))

    return rounded(tile_map(vol, axes, core, cdt, chunks, with_origin=True), rounded_into)


def rounded(out: Any, dtype: np.dtype | None) -> Any:
    """A dask result in the integer ``dtype`` a ``dtype=`` asked for, each tile rounded as
    :func:`kernelcli._core.numpy_impl.rounded` rounds; as it is for None.

    >>> import dask.array as da
    >>> rounded(da.from_array(np.array([0.5, 1.5, 300.0]), chunks=2), np.dtype("uint8")).compute()
    array([  0,   2, 255], dtype=uint8)
    """
    if dtype is None or out.dtype == dtype:
        return out
    return out.map_blocks(numpy_impl.round_clip, dtype, dtype=dtype)


def pool3d(vol: Any, size: int | Sequence[int], *, stride: int | Sequence[int] | None = None, op: str = "max",
           padding: int | Sequence[int] = 0, ceil_mode: bool = False, count_include_pad: bool = True,
           dtype: Any = None, chunks: int | Sequence[int] | None = None, paths: Any = None, screened: bool = False) -> Any:
    """:func:`kernelcli.volumes.pool3d` of a dask (Z, Y, X) volume: a lazy dask array.

    ``paths``: the policy the whole volume would be computed under; every tile takes that path.
    The whole volume is checked first, as :func:`conv2d`'s input (``screened`` likewise).

    >>> import dask.array as da
    >>> pool3d(da.arange(8, chunks=8).reshape(2, 2, 2), 2).compute()
    array([[[7]]])
    """
    from .. import volumes

    _check(vol, (3,), "volume")
    op = canonical_pool_op(op, "op")
    given, default = vol, volumes.volume_dtype(vol.dtype) if op == "avg" else kept_dtype(vol.dtype)
    compute, into = ndsupport.dtype_arg(dtype, default)
    vol = vol if compute == default else held(vol).astype(compute)
    f = volumes.triple(size, "size")
    s = f if stride is None else volumes.triple(stride, "stride")
    p = volumes.triple(padding, "padding", minimum=0)
    axes = []
    for i in range(3):
        if p[i] > f[i] // 2:
            volumes.pool3d(np.zeros(f), f, stride=s, op=op, padding=p)  # raises the API's message
        try:
            n_out = shapes.pool_output_size(vol.shape[i], f[i], stride=s[i], padding=p[i], ceil_mode=ceil_mode)
        except ShapeError as exc:  # named as the in-memory volume's refusal names it
            raise ShapeError(f"volume {'x'.join(map(str, vol.shape))}, axis {volumes.AXES[i]}: {exc}") from None
        axes.append(Axis(vol.shape[i], s[i], f[i], p[i], p[i], n_out, symmetric=True))
    cdt = volumes.volume_dtype(vol.dtype) if op == "avg" else kept_dtype(vol.dtype)
    _screen(given, dtype, default, compute, into, "volume", screened, finite_first=True)

    pool3d_ = volumes.pool3d
    out_shape = tuple(a.n_out for a in axes)
    pinned = Paths(force="numpy" if volumes.pool3d_takes_numpy(paths, vol.shape, f, s, p, op, out_shape, cdt, vol.dtype) else "jit")
    tile_dtype = compute if _takes_rounding(dtype, into) else None

    def core(slab, pads):
        return pool3d_(slab, f, stride=s, op=op, padding=p, ceil_mode=ceil_mode, count_include_pad=count_include_pad,
                       paths=pinned, dtype=tile_dtype)

    return rounded(tile_map(vol, axes, core, cdt, chunks), into)


def correlate_separable(vol: Any, kernels: Sequence[Any], *, pad_mode: str = "constant", pad_value: float = 0.0,
                        chunks: int | Sequence[int] | None = None, paths: Any = None, screened: bool = False) -> Any:
    """:func:`kernelcli.volumes.correlate_separable` of a dask (Z, Y, X) volume ("same" output): a lazy dask array;
    the whole volume checked first, as :func:`conv2d`'s input (``screened`` likewise).

    The compute path (plain numpy or the jitted passes) is decided once from the whole
    volume under policy ``paths`` and pinned for every tile, so the result equals the
    in-memory one byte for byte.

    >>> import dask.array as da
    >>> correlate_separable(da.ones((4, 4, 4), chunks=2, dtype="uint8"), ([1, 1, 1], None, None)).compute()[:, 0, 0]
    array([2., 3., 3., 2.], dtype=float32)
    """
    from .. import volumes

    _check(vol, (3,), "volume")
    check_fill_reading(pad_mode, pad_value, "correlate_separable")
    mode = canonical_pad_mode(pad_mode, "pad_mode")
    ks = volumes.factors_of(volumes.pass_kernels(kernels))  # (the in-memory call's checks and words)
    axes, befores = [], []
    for n, k in zip(vol.shape, ks):
        span = 1 if k is None else int(k.size)
        before = (span - 1) // 2  # the centre tap of a "same" pass
        axes.append(Axis(n, 1, span, before, span - 1 - before, n, circular=mode == "circular"))
        befores.append(before)
    cdt = volumes.volume_dtype(vol.dtype)
    _screen(vol, None, cdt, cdt, None, "volume", screened, finite_first=True)
    force = Paths(force="numpy" if volumes.separable_takes_numpy(paths, tuple(vol.shape), ks, cdt) else "jit")
    separable = volumes.correlate_separable

    def core(slab, pads):
        out = separable(slab, ks, pad_mode=mode, pad_value=pad_value, paths=force)
        # a "same" pass centres output j on cell j; the tile's first output sits ``before - pad_before`` in
        return out[tuple(slice(b - p0, None) for b, (p0, _) in zip(befores, pads))]

    return tile_map(vol, axes, core, cdt, chunks)
