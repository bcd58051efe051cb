"""One compute path for every tile: the one the whole image would take in memory.

The core picks a path per call from the work it is given (plain numpy for small work, the
jitted loops, the FFT for big kernels); paths round differently, and a tile is smaller
work than the image.  So the tiled path decides once, from the whole image, and pins that
path for every tile.  The FFT is the one path whose rounding depends on the size of what
it transforms; where the image would take it, the tiles take the direct loop instead (more
exact), and a note says the result then differs from the in-memory one within float
rounding.

The pin is passed as the API's ``paths=`` argument when the API takes one; otherwise the
API's module-level switches are set around each tile's call, under a lock.

Example
-------
>>> import numpy as np
>>> conv_force((4, 4, 1), np.ones((3, 3)), (1, 1), (1, 1), np.dtype("float32"), 4, 4)
('numpy', None)
"""

from __future__ import annotations

import inspect
import threading
from contextlib import contextmanager
from typing import Any

import numpy as np

from .. import api

FFT_NOTE = ("the whole image would take the FFT path, whose rounding depends on the tile size; "
            "the tiles use the direct loop (equal to the in-memory result within float rounding)")

_LOCK = threading.Lock()


def _cold_numpy(cheap: float, jit: float) -> bool:
    from .._core import engine

    return engine.cold_prefers(cheap, jit)


def conv_force(shape3: tuple[int, int, int], k: np.ndarray, stride, dilation, dtype, oh: int, ow: int) -> tuple[str, str | None]:
    """The path for a 2-D convolution of an (H, W, C) image: ``(force, note)``.

    ``force`` is ``"numpy"``, ``"dense"`` or ``"separable"``; ``note`` is set when the image
    would take the FFT.
    """
    channels = shape3[2]
    work = oh * ow * channels * k.shape[0] * k.shape[1]
    if api.SMALL_WORK >= 0:
        if work <= api.SMALL_WORK:
            return "numpy", None
        from .._core import engine

        cold = engine.cold_choice(oh * ow * channels, k, tuple(stride), np.dtype(dtype))
        if cold == "numpy":
            return "numpy", None
        if cold == "fft":
            return "dense", FFT_NOTE
    from .._core import engine

    path = engine.choose_path(k, tuple(stride), tuple(dilation), np.dtype(dtype), api._FORCE_PATH)
    if path == "fft":
        return "dense", FFT_NOTE
    return path, None


def pool_force(work: int, dtype, special: bool) -> str:
    """``"numpy"``, ``"jit"`` or ``"general"`` for pooling with ``work`` window cells in all.

    ``special``: the whole image qualifies for the core's specialised 2x2/3x3 stride-2 loop
    (every window inside the input); otherwise the tiles, some of which would qualify, are
    held to the general loop, which sums in another order.
    """
    if api.SMALL_WORK >= 0:
        from .._core import engine

        if work <= api.SMALL_WORK or np.dtype(dtype) == np.float16:
            return "numpy"
        if _cold_numpy(engine.NUMPY_SECONDS_PER_TAP * work, engine.JIT_SECONDS_PER_TAP * work):
            return "numpy"
    return "jit" if special else "general"


def _takes_paths(fn) -> bool:
    return "paths" in inspect.signature(fn).parameters


@contextmanager
def pinned(fn, force: str):
    """Yield the keyword arguments that make ``fn`` take path ``force`` (see the module notes)."""
    if _takes_paths(fn):
        from .._core.policy import Paths

        yield {"paths": Paths(force=force)}
        return
    with _LOCK:
        saved = api.SMALL_WORK, api._FORCE_PATH, api._FORCE_POOL_GENERAL
        if force == "numpy":
            api.SMALL_WORK = 1 << 62
        else:
            api.SMALL_WORK = -1
            api._FORCE_PATH = force if force in ("dense", "separable") else None
            api._FORCE_POOL_GENERAL = force == "general"
        try:
            yield {}
        finally:
            api.SMALL_WORK, api._FORCE_PATH, api._FORCE_POOL_GENERAL = saved


def call(fn, force: str, *args: Any, **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)`` on path ``force``."""
    with pinned(fn, force) as extra:
        return fn(*args, **kwargs, **extra)
