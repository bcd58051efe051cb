"""One compute path for every tile: the one the whole image would take in memory.

The core picks a path per call from the work it is given (plain numpy for small work, the
jitted loops, the FFT for big kernels); paths round differently, and a tile is smaller
work than the image.  So the tiled path decides once, from the whole image, and pins that
path for every tile.  The FFT is the one path whose rounding depends on the size of what
it transforms; where the image would take it, the tiles take the direct loop instead (more
exact), and a note says the result then differs from the in-memory one within float
rounding.

The pin is passed as the API's ``paths=`` argument (a :class:`kernelcli._core.policy.Paths`
with ``force`` set), decided from the caller's policy and the whole image.

Example
-------
>>> import numpy as np
>>> conv_force((4, 4, 1), np.ones((3, 3)), (1, 1), (1, 1), np.dtype("float32"), 4, 4)
('numpy', None)
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any

import numpy as np

from .._core.policy import Paths, as_paths

FFT_NOTE = ("the whole image would take the FFT path, whose rounding depends on the tile size; "
            "the tiles use the direct loop (equal to the in-memory result within float rounding)")

def conv_force(shape3: tuple[int, int, int], k: np.ndarray, stride, dilation, dtype, oh: int, ow: int,
               paths: Any = None) -> tuple[str, str | None]:
    """The path for a 2-D convolution of an (H, W, C) image under policy ``paths``: ``(force, note)``.

    ``force`` is ``"numpy"``, ``"dense"`` or ``"separable"``; ``note`` is set when the image
    would take the FFT.
    """
    from .._core import dispatch, engine

    policy = as_paths(paths)
    channels = shape3[2]
    # the first choice conv2d makes for the whole image (kernelcli._core.dispatch.front)
    first = dispatch.front(policy, oh * ow * channels * k.shape[0] * k.shape[1], oh * ow * channels, k, tuple(stride), np.dtype(dtype))
    if first == "numpy":
        return "numpy", None
    if first == "fft":
        return "dense", FFT_NOTE
    path = engine.choose_path(k, tuple(stride), tuple(dilation), np.dtype(dtype), policy.force)
    if path == "fft":
        return "dense", FFT_NOTE
    return path, None


def pool_force(work: int, dtype, special: bool, paths: Any = None) -> str:
    """``"numpy"``, ``"jit"`` or ``"general"`` for pooling with ``work`` window cells in all.

    ``special``: the whole image qualifies for the core's specialised 2x2/3x3 stride-2 loop
    (every window inside the input); otherwise the tiles, some of which would qualify, are
    held to the general loop, which sums in another order.
    """
    from .._core import engine

    policy = as_paths(paths)
    decided = policy.numpy_for(work)
    if decided is None:
        decided = engine.use_numpy(policy, work)
    if decided or np.dtype(dtype) == np.float16:
        return "numpy"
    return "jit" if special and policy.force != "general" else "general"


@contextmanager
def pinned(fn, force: str):
    """Yield the keyword arguments that make ``fn`` take path ``force``: the API's ``paths=``."""
    yield {"paths": Paths(force=force)}


def call(fn, force: str, *args: Any, **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)`` on path ``force``."""
    with pinned(fn, force) as extra:
        return fn(*args, **kwargs, **extra)
