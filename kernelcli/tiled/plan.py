"""Tile geometry: which outputs a tile owns, which input cells it reads, what the core pads.

Pure Python (no numpy, no dask), one :class:`Axis` per array axis.  Output ``i`` of an
axis reads the input cells ``[i*stride - before, i*stride - before + span)``; the cells
outside ``[0, n)`` are the virtual padding.  The input is cut into tiles whose starts are
multiples of the stride; a tile ``[c0, c1)`` owns the outputs whose anchor ``i*stride``
lies in it (the last tile also those past the end), so the output tiles line up with the
input tiles and every output is computed exactly once.

Each tile is then handed to the same core function as the whole image, with its halo of
real neighbouring cells and, only where it touches the border of the image, the same
padding as the whole image.  Every output value therefore goes through the same
arithmetic, in the same order, as in memory: the result is equal byte for byte.

Two details keep that true for every pad mode:

* a pooling core pads both sides alike, so an inner tile starts a whole number of strides
  before its first window and the extra outputs are dropped;
* ``circular`` padding copies cells from the far side of the image, which a tile does not
  hold: dask's ``periodic`` boundary brings them, and they are placed where the core's own
  circular index rule looks for them (the tail of the image after the first tile, the head
  before the last one), so the core still pads, and rounds, as it does in memory.

Example
-------
>>> ax = Axis(n=10, stride=2, span=3, before=1, after=1, n_out=5)
>>> ax.chunks(4)
(4, 6)
>>> [ax.owned(c0, c1) for c0, c1 in ax.bounds((4, 6))]
[(0, 2), (2, 5)]
>>> ax.depth()
1
"""

from __future__ import annotations

from ..records import record


@record(frozen=True)
class Axis:
    """One axis of an operation: ``n`` inputs -> ``n_out`` outputs.

    ``span`` is the window's extent in input cells (``dilation*(f-1)+1``), ``before``/``after``
    the padding of the whole image (after: what the last window reads).  ``symmetric``: the
    core takes one padding for both sides (pooling).  ``circular``: the padding wraps.
    ``passthrough``: the axis is not tiled (channels).  ``align``: tiles own whole groups of
    this many outputs (the FFT's blocks, so that a block is never split between tiles);
    ``min_outputs``: the first tile owns at least this many (unless it is the whole axis).
    """

    n: int
    stride: int = 1
    span: int = 1
    before: int = 0
    after: int = 0
    n_out: int = 0
    symmetric: bool = False
    circular: bool = False
    passthrough: bool = False
    align: int = 1
    min_outputs: int = 0

    # ------------------------------------------------------------ tiles

    def lead(self) -> int:
        """Cells before a tile's first owned anchor that its windows (or the aligned pooling start) read."""
        if self.symmetric:
            return self.stride * -(-self.before // self.stride)
        return self.before

    def trail(self) -> int:
        """Cells after a tile's end that its last window reads."""
        return max(0, self.span - self.before - self.stride)

    def depth(self) -> int:
        """The halo a tile needs on each side (dask's ``depth``)."""
        if self.passthrough:
            return 0
        d = max(self.lead(), self.trail())
        if self.circular:
            d = max(d, self._head())
        return d

    def _head(self) -> int:
        """Cells of the image's head the last tile needs after its end (circular), rounded to whole strides."""
        if self.n_out == 0:
            return 0
        q = max(0, (self.n_out - 1) * self.stride - self.before + self.span - self.n)
        return self.stride * -(-q // self.stride)

    def chunks(self, size: int) -> tuple[int, ...]:
        """Tile lengths near ``size``: whole strides, and none shorter than the halo (the last merges).

        >>> Axis(n=12, stride=1, span=5, before=2, after=2, n_out=12).chunks(3)
        (5, 7)
        >>> Axis(n=1000, stride=1, span=15, before=7, after=7, n_out=1000, align=256).chunks(300)
        (512, 488)
        >>> Axis(n=1000, stride=1, span=15, before=7, after=7, n_out=1000, align=256, min_outputs=371).chunks(300)
        (512, 488)
        """
        if self.passthrough or self.n == 0:
            return (self.n,)
        # A tile holds at least its halo (dask's rule) and, at the ends, enough cells for the
        # core to reflect within it as it does within the image.
        m = max(self.depth(), self.before, self.after)
        shortest = 2 * m + 1
        # the first tile [0, size) owns the outputs anchored in it: size / stride of them (or all)
        size = max(int(size), shortest + self.stride - 1, self.stride * self.min_outputs, 1)
        unit = self.stride * max(1, self.align)
        size = unit * -(-size // unit)
        if size >= self.n:
            return (self.n,)
        full, rest = divmod(self.n, size)
        sizes = [size] * full
        if rest:
            if rest < shortest:  # too short to stand alone: it joins the last tile
                sizes[-1] += rest
            else:
                sizes.append(rest)
        return tuple(sizes)

    @staticmethod
    def bounds(chunks: tuple[int, ...]) -> list[tuple[int, int]]:
        """``[(c0, c1), ...]`` of the tiles."""
        out, c0 = [], 0
        for c in chunks:
            out.append((c0, c0 + c))
            c0 += c
        return out

    def owned(self, c0: int, c1: int) -> tuple[int, int]:
        """The outputs ``[lo, hi)`` whose anchor lies in the tile ``[c0, c1)``."""
        if self.passthrough:
            return c0, c1
        s = self.stride
        lo = min(-(-c0 // s), self.n_out)
        hi = self.n_out if c1 >= self.n else min(-(-c1 // s), self.n_out)
        return lo, max(lo, hi)

    def out_chunks(self, chunks: tuple[int, ...]) -> tuple[int, ...]:
        """The output tile lengths for input tiles ``chunks``."""
        return tuple(hi - lo for lo, hi in (self.owned(c0, c1) for c0, c1 in self.bounds(chunks)))

    # ------------------------------------------------------------ one tile

    def cut(self, c0: int, c1: int, whole: bool) -> "Cut":
        """What tile ``[c0, c1)`` hands to the core (see :class:`Cut`).

        ``whole``: the tile is the whole axis (then the core pads exactly as in memory).
        Coordinates in the Cut are of the image, extended periodically: ``[-d, 0)`` is the
        image's tail and ``[n, n + d)`` its head, as dask's ``periodic`` boundary lays them out.
        """
        lo, hi = self.owned(c0, c1)
        if self.passthrough:
            return Cut(((c0, c1),), 0, 0, 0, c1 - c0)
        if hi == lo:
            return Cut((), 0, 0, 0, 0)
        s = self.stride
        start = lo * s - (self.lead() if self.symmetric else self.before)
        if self.symmetric and lo * s - self.lead() < 0:
            start = 0  # the first tile: the core's own padding is the image's
        end = (hi - 1) * s - self.before + self.span
        if self.symmetric:
            first = (lo * s - start) // s
            return Cut(((start, min(end, self.n)),), self.before, self.before, first, hi - lo)
        pad_before, pad_after = max(0, -start), max(0, end - self.n)
        if whole:  # all of the axis: the core reflects and wraps within it as within the image
            return Cut(((0, self.n),), pad_before, pad_after, 0, hi - lo)
        if not self.circular or (pad_before == 0 and pad_after == 0):
            return Cut(((max(start, 0), min(end, self.n)),), pad_before, pad_after, 0, hi - lo)
        if pad_before and pad_after:
            raise AssertionError("a circular tile that is not the whole axis cannot reach both ends")
        if pad_before:  # the image's tail goes after the tile, where the core's circular rule finds it
            return Cut(((0, end), (-pad_before, 0)), pad_before, 0, 0, hi - lo)
        head = self._head()  # the image's head goes before the tile, in whole strides
        return Cut(((self.n, self.n + head), (start, self.n)), 0, pad_after, head // s, hi - lo)


@record(frozen=True)
class Cut:
    """A tile's input (``segments`` of image cells, concatenated), the core's padding, the outputs to keep.

    The core's output ``[first, first + count)`` are the tile's owned outputs.
    """

    segments: tuple[tuple[int, int], ...]
    pad_before: int
    pad_after: int
    first: int
    count: int
