"""One compute path for every tile: the one the whole image would take in memory.

The core picks a path per call from the work it is given (plain numpy for small work, the
jitted loops, the FFT for big kernels); paths round differently, and a tile is smaller
work than the image.  So the tiled path decides once, from the whole image, and pins that
path for every tile.

The FFT needs two more things pinned, as it would otherwise read them from the tile: where
the tile lies on the whole image's grid of FFT blocks (its ``origin``; the planner puts tile
boundaries on block boundaries, see :func:`fft_align`), so that every block is transformed
from the same numbers at the same length as in memory; and whether the transform is the
exact one (whole-number data and kernel, rounded) or the plain one, which in memory depends
on the whole image's values: it is decided here from the whole image (its dtype, or one pass
over a float image when the kernel could be exact).

The pin is passed as the API's ``paths=`` argument (a :class:`kernelcli._core.policy.Paths`
with ``force`` set), decided from the caller's policy and the whole image.

Example
-------
>>> import numpy as np
>>> conv_paths((4, 4, 1), np.ones((3, 3)), (1, 1), (1, 1), np.dtype("float32"), 4, 4).force
'numpy'
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager
from typing import Any

import numpy as np

from .._core.policy import Paths, as_paths
from ..modes import PAD_CODES
from ..records import record, replace


def conv_paths(shape3: tuple[int, int, int], k: np.ndarray, stride, dilation, dtype, oh: int, ow: int,
               paths: Any = None, mode_code: int = 0, fill: float = 0.0,
               stats: Callable[[], tuple[bool, float]] | None = None, input_dtype: Any = None) -> Paths:
    """The policy every tile of a 2-D convolution of an (H, W, C) image runs under (``paths``: the whole image's).

    ``force`` is ``"numpy"``, ``"dense"``, ``"separable"`` or ``"fft"`` (then with ``fft_form``
    and the caller's process, which picks numpy's or scipy's transforms).  ``stats()``: the
    whole image's ``(whole_numbers, max_abs)``, asked only when the FFT could be exact and the
    input's dtype (``input_dtype``) does not settle it.
    """
    from .._core import costs, dispatch, forms

    policy = as_paths(paths)
    channels = shape3[2]
    dtype = np.dtype(dtype)
    # the first choice conv2d makes for the whole image (kernelcli._core.dispatch.front), with what
    # it weighs: where every path gives the same bytes, the measured start-up cost decides
    same = (policy.start_cost_known and input_dtype is not None
            and costs.same_bytes_on_every_path(np.dtype(input_dtype), k, dtype, mode_code == PAD_CODES["constant"], fill))
    first = dispatch.front(policy, oh * ow * channels * k.shape[0] * k.shape[1], oh * ow * channels, k, tuple(stride), dtype,
                           same_bytes=same)
    if first == "numpy":
        return Paths(force="numpy")
    path = "fft" if first == "fft" else costs.choose_path(k, tuple(stride), tuple(dilation), dtype, policy.force)
    if path != "fft":
        return Paths(force=path)
    form = forms.fft_form(None, k, dtype, mode_code, fill, stats=_range_first(stats, input_dtype, k, fill))
    forms.refuse_inexact_pin(form, policy.force)  # (as the whole image in memory refuses it)
    kind = form[0]
    if kind == "avoid":  # the whole image takes a direct path (exact there)
        return Paths(force="numpy" if first == "fft" else "dense")
    return Paths(process=policy.process, force="fft", fft_form="exact" if kind == "exact" else "plain")


@record(frozen=True)
class ConvPlan:
    """What every tile (or band) of one 2-D convolution shares, decided once from the whole image.

    ``rows``/``cols``: the tiling of each axis (:class:`kernelcli.tiled.plan.Axis`, in whole FFT
    blocks on that path); ``force``: the pinned policy (:func:`conv_paths`); ``fill``: the checked
    constant (0.0 for the other modes).
    """

    kernel: np.ndarray
    stride: tuple[int, int]
    dilation: tuple[int, int]
    out: tuple[int, int]
    mode: str
    fill: float
    dtype: np.dtype
    force: Paths
    rows: Any
    cols: Any


def conv_plan(shape: tuple[int, ...], input_dtype: Any, kernel: Any, *, stride: Any, padding: Any, pad_mode: str,
              pad_value: float, dilation: Any, flip: bool, paths: Any, stats: Callable[[], tuple[bool, float]]) -> ConvPlan:
    """The :class:`ConvPlan` of ``api.conv2d`` (same arguments) on an image of ``shape`` (H, W[, C]).

    >>> plan = conv_plan((10, 8), np.uint8, np.ones((3, 3)), stride=2, padding="same", pad_mode="reflect",
    ...                  pad_value=0.0, dilation=1, flip=False, paths=None, stats=lambda: (True, 255.0))
    >>> plan.out, plan.force.force, (plan.rows.before, plan.rows.after)
    ((5, 4), 'numpy', (1, 0))
    """
    from .. import conv_args
    from .plan import Axis

    call = conv_args.resolve(tuple(shape), np.dtype(input_dtype), kernel, stride, padding, pad_mode, pad_value, dilation, flip)
    k, (sh, sw), (dh, dw), (oh, ow), mode, fill, dtype = (call.k, call.stride, call.dilation, call.out, call.mode,
                                                           call.fill, call.dtype)
    kh, kw = k.shape
    h, w = shape[:2]
    top, bottom, left, right = call.widths
    force = conv_paths((h, w, shape[2] if len(shape) == 3 else 1), k, (sh, sw), (dh, dw), dtype, oh, ow, paths,
                       call.code, fill, stats, input_dtype)
    span_h, span_w = dh * (kh - 1) + 1, dw * (kw - 1) + 1
    (ah, mh), (aw, mw) = fft_tiling(force, span_h), fft_tiling(force, span_w)
    circular = mode == "circular"
    rows = Axis(h, sh, span_h, top, bottom, oh, circular=circular, align=ah, min_outputs=mh)
    cols = Axis(w, sw, span_w, left, right, ow, circular=circular, align=aw, min_outputs=mw)
    return ConvPlan(k, (sh, sw), (dh, dw), (oh, ow), mode, fill, np.dtype(dtype), force, rows, cols)


def conv3d_paths(whole: str, k: np.ndarray, dtype, paths: Any = None, mode_code: int = 0, fill: float = 0.0,
                 stats: Callable[[], tuple[bool, float]] | None = None, input_dtype: Any = None) -> Paths:
    """The policy every tile of a 3-D convolution runs under, ``whole`` the path the whole volume takes
    (``"numpy"``, ``"dense"``, ``"separable"`` or ``"fft"``); as :func:`conv_paths`."""
    from .._core import forms

    if whole != "fft":
        return Paths(force={"numpy": "numpy", "separable": "separable"}.get(whole, "dense"))
    policy = as_paths(paths)
    form = forms.fft_form(None, k, np.dtype(dtype), mode_code, fill, stats=_range_first(stats, input_dtype, k, fill))
    forms.refuse_inexact_pin(form, policy.force)
    kind = form[0]
    if kind == "avoid":  # the whole volume takes the dense loop (exact there)
        return Paths(force="dense")
    return Paths(process=policy.process, force="fft", fft_form="exact" if kind == "exact" else "plain")


def fft_tiling(force: Paths, span: int, ndim: int = 2) -> tuple[int, int]:
    """``(align, min_outputs)`` for an axis under ``force``: tiles own whole FFT blocks, and more
    outputs than a whole axis transforms at once (:func:`kernelcli._core.fft.single_max`); (1, 0) off the FFT."""
    if force.force != "fft":
        return 1, 0
    from .._core.fft import block_side, single_max

    return block_side(span, ndim), single_max(span, ndim) + 1


def dask_stats(x: Any) -> Callable[[], tuple[bool, float]]:
    """``stats()`` for :func:`conv_paths` of a dask array ``x``: ``(whole_numbers, max_abs)`` in one pass."""

    def stats() -> tuple[bool, float]:
        import dask
        import dask.array as da

        if np.dtype(x.dtype).kind in "biu":
            return True, float(dask.compute(abs(x.astype(np.float64)).max())[0])
        whole, top = dask.compute(da.all(da.rint(x) == x), abs(x).max())
        return bool(whole), float(top)

    return stats


def _range_first(stats: Callable[[], tuple[bool, float]] | None, input_dtype: Any, k: np.ndarray, fill: float):
    """``stats`` that answers from an integer input's dtype, without a pass over the data, when its
    range alone keeps the FFT exact (the decision is then the same as from the values)."""
    from .._core import forms

    dtype = np.dtype(input_dtype) if input_dtype is not None else None

    def first() -> tuple[bool, float]:
        if dtype is not None and dtype.kind in "biu":
            top = 1.0 if dtype.kind == "b" else float(max(abs(int(np.iinfo(dtype).min)), int(np.iinfo(dtype).max)))
            form = forms.integer_form(k)
            if form is not None and float(np.abs(form[0]).sum()) * max(top, abs(float(fill))) < forms.FFT_EXACT_BOUND:
                return True, top
        if stats is None:
            raise ValueError("the whole image's values are needed to pin the FFT's form")
        return stats()

    return first


def tile_paths(force: Paths, origin: tuple[int, ...]) -> Paths:
    """``force`` for the tile whose first output is ``origin`` of the whole image (the FFT's block grid)."""
    return replace(force, origin=tuple(int(v) for v in origin)) if force.force == "fft" else force


def pool_force(work: int, dtype, special: bool, paths: Any = None) -> str:
    """``"numpy"``, ``"jit"`` or ``"general"`` for pooling with ``work`` window cells in all.

    ``special``: the whole image qualifies for the core's specialised 2x2/3x3 stride-2 loop
    (every window inside the input); otherwise the tiles, some of which would qualify, are
    held to the general loop, which sums in another order.
    """
    from .._core import costs

    policy = as_paths(paths)
    decided = policy.numpy_for(work)
    if decided is None:
        decided = costs.use_numpy(policy, work)
    if decided or np.dtype(dtype) == np.float16:
        return "numpy"
    return "jit" if special and policy.force != "general" else "general"


@contextmanager
def pinned(fn, force: str | Paths):
    """Yield the keyword arguments that make ``fn`` take path ``force``: the API's ``paths=``."""
    yield {"paths": force if isinstance(force, Paths) else Paths(force=force)}


def call(fn, force: str | Paths, *args: Any, **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)`` on path ``force`` (a path name, or the pinned policy itself)."""
    with pinned(fn, force) as extra:
        return fn(*args, **kwargs, **extra)
