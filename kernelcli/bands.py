"""A 2-D convolution computed a band of output rows at a time, equal byte for byte to the whole.

A writer that turns each band into 8-bit pixels at once (:func:`kernelcli.io.pictures.picture_8bit`)
never holds the whole float result: for a 12 MP RGB photo that is 144 MB written and read
back, whose fresh pages the kernel must fault in (and, with transparent huge pages on a
fragmented machine, compact first), a pass for its minimum and maximum, and a conversion
that reads it from memory.  A band of about :data:`BAND_BYTES` of float results is still in
the CPU cache when it is converted.

Each band is the in-memory convolution of its rows with their halo of real neighbouring
rows, padded only where it touches the image's top or bottom: the row geometry of the tiled
path (:class:`kernelcli.tiled.plan.Axis`, whole rows here), and every band runs on the path
the whole image would take (:func:`kernelcli.tiled.pin.conv_paths`: the same path, FFT
block grid and exact form), so every output value goes through the same arithmetic.

Example
-------
>>> import numpy as np
>>> x = np.arange(48, dtype=np.uint8).reshape(8, 6)
>>> bands = conv2d_bands(x, [[1, 2, 1]] * 3, band_bytes=1)
>>> [(top, block.shape) for top, block in bands]
[(0, (3, 6)), (3, (5, 6))]
>>> from kernelcli import api
>>> np.array_equal(np.concatenate([b for _, b in bands]), api.conv2d(x, [[1, 2, 1]] * 3))
True
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from . import api
from .modes import PAD_CODES
from .records import record, replace
from .tiled import pin
from .tiled.plan import Axis

#: float result bytes per band: a band is converted while it is still in the CPU cache
#: (12 MP RGB: 32 rows; measured 16, 32, 64 rows: 177, 141, 161 ms, the whole image 253)
BAND_BYTES = 3 << 19
#: up to this many bytes of float result, one band (the default): a 2048^2 grey result (16 MiB)
#: gains nothing from bands (its pages are few), and its conversion runs on the threads
WHOLE_BYTES = 32 << 20


@record(frozen=True)
class Bands:
    """The result of a 2-D convolution, band by band: iterate for ``(first output row, block)``.

    ``shape`` and ``dtype`` are the whole result's, as :func:`kernelcli.api.conv2d` returns it.
    """

    shape: tuple[int, ...]
    dtype: np.dtype
    x: np.ndarray
    kernel: np.ndarray
    rows: Axis
    cols: Axis
    chunks: tuple[int, ...]
    call: dict

    @property
    def size(self) -> int:
        return int(np.prod(self.shape))

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __len__(self) -> int:
        return len(self.chunks)

    @property
    def jitted(self) -> bool:
        """True when the bands run on the jitted core (loaded anyway: what converts them may be jitted too)."""
        return self.call["paths"].force in ("dense", "separable", "jit")

    def as_sums(self) -> "Bands":
        """These bands with blocks of the int16 sums plain numpy adds up exactly here, for a caller that
        needs only their values (:func:`kernelcli.io.pictures.picture_8bit`); themselves elsewhere.

        The values (and ``shape``, ``dtype``: the whole result's) are the float blocks': those sums
        are whole numbers within int16, so rounding into int16 (``api.conv2d``'s ``dtype=``) keeps
        them, and the numpy path skips the float copy (:func:`kernelcli._core.numpy_impl.correlate_bands`).

        >>> x = np.arange(48, dtype=np.uint8).reshape(8, 6)
        >>> [b.dtype.name for _, b in conv2d_bands(x, [[1, 2, 1]] * 3, paths="cold").as_sums()]
        ['int16']
        """
        from ._core.numpy_impl import exact_integer_dtype

        if self.call["paths"].force != "numpy" or "dtype" in self.call:
            return self
        mode = self.call["pad_mode"]
        exact = exact_integer_dtype(self.x.dtype, self.kernel, PAD_CODES[mode], self.call["pad_value"])
        return self if exact is None else replace(self, call={**self.call, "dtype": exact})

    def __iter__(self) -> Iterator[tuple[int, np.ndarray]]:
        cols = self.cols.cut(0, self.cols.n, True)
        whole = len(self.chunks) == 1
        h = self.x.shape[0]
        for c0, c1 in Axis.bounds(self.chunks):
            cut = self.rows.cut(c0, c1, whole)
            if cut.count == 0:
                continue
            if len(cut.segments) == 1:
                s0, s1 = cut.segments[0]
                slab = self.x[s0:s1]
            else:  # circular: the far end of the image, where the core's wrap looks for it
                slab = self.x[np.concatenate([np.arange(s0, s1) % h for s0, s1 in cut.segments])]
            top = self.rows.owned(c0, c1)[0]
            force = pin.tile_paths(self.call["paths"], (top - cut.first, 0))
            out = api.conv2d(slab, self.kernel, **{**self.call, "paths": force},
                             padding=(cut.pad_before, cut.pad_after, cols.pad_before, cols.pad_after))
            block = out[cut.first : cut.first + cut.count]
            yield top, block


def conv2d_bands(
    x: Any,
    kernel: Any,
    *,
    stride: int | Sequence[int] = 1,
    padding: Any = "same",
    pad_mode: str = "constant",
    pad_value: float = 0.0,
    dilation: int | Sequence[int] = 1,
    flip: bool = False,
    paths: Any = None,
    band_bytes: int | None = None,
) -> Bands:
    """:func:`kernelcli.api.conv2d` (same arguments) as :class:`Bands` of about ``band_bytes``
    of result each (default :data:`BAND_BYTES`, or one band up to :data:`WHOLE_BYTES` of
    result); nothing is computed until they are iterated.

    The bands concatenated equal ``api.conv2d(x, kernel, ...)`` byte for byte, whatever
    ``band_bytes`` (bands hold at least the kernel's reach, and whole FFT blocks on that path).
    """
    # the whole input, as api.conv2d checks it (free for integers): a band's call sees only the rows
    # its windows read, so a NaN in a row no window reads (a stride's last rows) went unrefused
    arr = api.as_image_array(x)
    plan = pin.conv_plan(arr.shape, arr.dtype, kernel, stride=stride, padding=padding, pad_mode=pad_mode,
                         pad_value=pad_value, dilation=dilation, flip=flip, paths=paths, stats=lambda: _stats(arr))
    (sh, _), (oh, ow), dtype = plan.stride, plan.out, plan.dtype
    channels = arr.shape[2] if arr.ndim == 3 else 1
    per_row = max(1, ow * channels * dtype.itemsize)
    if band_bytes is None:
        band_bytes = BAND_BYTES if oh * per_row > WHOLE_BYTES else oh * per_row
    chunks = plan.rows.chunks(sh * max(1, band_bytes // per_row))
    shape = (oh, ow, channels) if arr.ndim == 3 else (oh, ow)
    call = {"stride": plan.stride, "pad_mode": plan.mode, "pad_value": pad_value, "dilation": plan.dilation, "paths": plan.force}
    return Bands(shape, dtype, arr, plan.kernel, plan.rows, plan.cols, chunks, call)


def ahead(bands: Bands, each: Callable[[np.ndarray], Any] | None = None) -> Iterator[tuple]:
    """The bands of ``bands`` in order, each next one computed on a second thread while the
    caller handles this one: a band's numpy arithmetic and the caller's conversion of the
    previous band (numpy again, and Pillow) overlap, as both release the GIL in their loops.

    ``each``: a function of a block, called on the thread that computed it (the caller's
    share of the work moved to the other thread); then ``(top, block, each(block))`` come.
    The same bands, computed by the same code in the same order; an error computing a band
    (or in ``each``) is raised where that band would have come.  Plain iteration for one
    band, one thread (:func:`kernelcli._core.threads.count`), or bands on the jitted core
    (whose loops already split across the threads).

    >>> x = np.arange(48, dtype=np.uint8).reshape(8, 6)
    >>> [(top, b.shape) for top, b in ahead(conv2d_bands(x, [[1, 2, 1]] * 3, band_bytes=1))]
    [(0, (3, 6)), (3, (5, 6))]
    >>> [(top, n) for top, _, n in ahead(conv2d_bands(x, [[1, 2, 1]] * 3, band_bytes=1), each=np.size)]
    [(0, 18), (3, 30)]
    """
    from ._core import threads

    if each is not None:
        bands = _Each(bands, each)  # type: ignore[assignment]
    if len(bands) < 2 or bands.jitted or threads.count() < 2:
        yield from bands
        return
    import queue
    import threading

    slots: queue.Queue = queue.Queue(maxsize=1)  # one band computed ahead, no more
    stop = threading.Event()

    def put(item: tuple) -> bool:
        while not stop.is_set():
            try:
                slots.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for band in bands:
                if not put((band, None)):
                    return
        except BaseException as exc:  # noqa: BLE001 - raised by the caller, in the band's turn
            put((None, exc))
            return
        put((None, None))

    if threads.start_helper(produce, "kernelcli-bands") is None:  # no thread to be had (ulimit -v): one at a time
        yield from bands
        return
    try:
        while True:
            band, error = slots.get()
            if error is not None:
                raise error
            if band is None:
                return
            yield band
    finally:
        stop.set()  # the caller stopped early (an error, Ctrl-C): the thread ends at its next band


@record(frozen=True)
class _Each:
    """``bands`` yielding ``(top, block, each(block))`` (see :func:`ahead`)."""

    bands: Bands
    each: Callable[[np.ndarray], Any]

    @property
    def jitted(self) -> bool:
        return self.bands.jitted

    def __len__(self) -> int:
        return len(self.bands)

    def __iter__(self) -> Iterator[tuple[int, np.ndarray, Any]]:
        for top, block in self.bands:
            yield top, block, self.each(block)


def _stats(arr: np.ndarray) -> tuple[bool, float]:
    """``(whole numbers only, max |x|)`` of the whole image: what pins the FFT's exact form."""
    if arr.dtype.kind in "biu":
        return True, float(np.abs(arr.astype(np.float64)).max())
    return bool(np.all(np.rint(arr) == arr)), float(np.abs(arr).max())
