"""Float results to 8/16-bit outputs: the block-wise conversion equals the whole-array formula
and allocates no float copy of the image."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from kernelcli.io.integer_range import to_integer_range


def reference(values, bit_depth, rescale):
    """The obvious whole-array formula (what kernelcli computed before it went block-wise); minmax in
    fractions, rounded half to even."""
    from fractions import Fraction

    top = 255 if bit_depth == 8 else 65535
    dtype = np.uint8 if bit_depth == 8 else np.uint16
    v = np.asarray(values)
    if v.dtype.kind != "f" or (bit_depth == 16 and v.dtype.itemsize < 8):
        v = v.astype(np.float64)
    if rescale == "minmax":
        lo, hi = Fraction(float(v.min())), Fraction(float(v.max()))
        if hi == lo:
            return np.zeros(v.shape, dtype), 0, 0
        exact = {x: round((Fraction(x) - lo) * top / (hi - lo)) for x in set(v.astype(np.float64).ravel().tolist())}
        return np.array([exact[x] for x in v.astype(np.float64).ravel().tolist()], dtype=dtype).reshape(v.shape), 0, 0
    r = np.abs(v) if rescale == "abs" else v.copy()
    np.rint(r, out=r)
    low, high = int(np.count_nonzero(r < 0)), int(np.count_nonzero(r > top))
    np.clip(r, 0, top, out=r)
    return r.astype(dtype), low, high


@settings(max_examples=60, deadline=None)
@given(
    values=st.sampled_from([np.float32, np.float64, np.int16, np.uint8, np.int8, np.uint16, np.int32]).flatmap(
        lambda dtype: hnp.arrays(
            dtype,
            hnp.array_shapes(min_dims=1, max_dims=3, max_side=40),
            elements=st.floats(-1e5, 1e5, width=32) if np.dtype(dtype).kind == "f" else None,
        )
    ),
    bit_depth=st.sampled_from([8, 16]),
    rescale=st.sampled_from(["clip", "abs", "minmax"]),
)
def test_equals_the_whole_array_formula(values, bit_depth, rescale):
    got, expected = to_integer_range(values, bit_depth, rescale), reference(values, bit_depth, rescale)
    assert got[0].dtype == expected[0].dtype and got[0].shape == expected[0].shape
    assert np.array_equal(got[0], expected[0]) and got[1:] == expected[1:]
    counted = to_integer_range(values, bit_depth, rescale, nonzero=True)
    assert np.array_equal(counted[0], expected[0]) and counted[1:3] == expected[1:]
    assert counted[3] == (None if rescale == "minmax" else int(np.count_nonzero(values)))


@pytest.mark.parametrize("rescale", ["clip", "abs", "minmax"])
def test_blocks_across_many_block_boundaries(rescale):
    x = np.random.default_rng(3).normal(100, 200, (517, 389, 3)).astype(np.float32)
    x[::7] = 0
    got, expected = to_integer_range(x, 8, rescale), reference(x, 8, rescale)
    assert np.array_equal(got[0], expected[0]) and got[1:] == expected[1:]
    if rescale != "minmax":
        assert to_integer_range(x, 8, rescale, nonzero=True)[3] == int(np.count_nonzero(x))


@pytest.mark.parametrize("dtype, bit_depth", [(np.float32, 8), (np.float64, 16), (np.int32, 8)])
def test_no_float_copy_of_the_image(dtype, bit_depth):
    x = np.random.default_rng(4).normal(100, 200, (1000, 1000, 3)).astype(dtype)
    tracemalloc.start()
    try:
        out, _, _ = to_integer_range(x, bit_depth, "clip")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # the integer output plus a block's buffers (about 0.6 MB a thread), not another float image (12-24 MB here);
    # tracemalloc also counts what other threads of the test process allocate meanwhile (once 5.9 MB under a
    # loaded full run), so the margin is 8 MB: still below the smallest float copy
    assert peak < out.nbytes + (8 << 20), peak


@pytest.mark.parametrize("channels", [None, 1, 3])
@pytest.mark.parametrize("rescale", ["clip", "abs"])
def test_an_8_bit_image_made_in_strips_holds_the_whole_array_values(tmp_path, monkeypatch, channels, rescale):
    """write_image converts a float result strip by strip into Pillow's image (no whole 8-bit copy
    beside it): the pixels and the clip counts are those of the whole-array conversion."""
    from PIL import Image

    from kernelcli.io import image_writing

    shape = (157, 61) if channels is None else (157, 61, channels)
    x = np.random.default_rng(5).normal(100, 200, shape).astype(np.float32)
    x[::5] = 0
    monkeypatch.setattr(image_writing, "_STRIP_BYTES", 61 * 4 * 3 * 7)  # 7 rows (or 21) at a time: many strips
    info = image_writing.write_image(tmp_path / "x.png", x, rescale=rescale)
    want, low, high = reference(x, 8, rescale)
    got = np.asarray(Image.open(tmp_path / "x.png"))
    np.testing.assert_array_equal(got, want[..., 0] if channels == 1 else want)
    assert (info.low_clipped, info.high_clipped, info.nonzero, info.dtype) == (low, high, int(np.count_nonzero(x)), "uint8")


def test_into_a_strided_output():
    """``out=``: the colour bytes of an RGBX array (every 4th byte skipped) get the same values."""
    x = np.random.default_rng(6).normal(100, 200, (300, 70, 3)).astype(np.float32)
    rgbx = np.full((300, 70, 4), 7, np.uint8)
    got = to_integer_range(x, 8, "clip", nonzero=True, out=rgbx[..., :3])
    want, low, high = reference(x, 8, "clip")
    assert got[0].base is rgbx and np.array_equal(rgbx[..., :3], want) and (rgbx[..., 3] == 7).all()
    assert got[1:] == (low, high, int(np.count_nonzero(x)))
    with pytest.raises(ValueError, match="out: expected a uint8 array of shape"):
        to_integer_range(x, 8, "clip", out=np.empty((300, 70, 3), np.uint16))


@pytest.mark.parametrize("channels, suffix", [(None, ".png"), (3, ".png"), (1, ".bmp"), (3, ".jpg"), (None, ".jpg"), (1, ".tif")])
def test_an_8_bit_picture_encodes_the_same_bytes_as_from_an_array(tmp_path, channels, suffix):
    """The result converted straight into Pillow's image memory (L, or RGBX for a JPEG) encodes to
    the very bytes Pillow writes from the whole-array conversion."""
    from PIL import Image

    from kernelcli.io import image_writing

    shape = (123, 77) if channels is None else (123, 77, channels)
    x = np.random.default_rng(8).normal(100, 120, shape).astype(np.float32)
    info = image_writing.write_image(tmp_path / f"x{suffix}", x, rescale="clip")
    want, low, high = reference(x, 8, "clip")
    fmt = image_writing.IMAGE_SUFFIXES[suffix]
    if image_writing.Encoding().own_png(fmt):  # kernelcli's own PNG encoder, from the whole 8-bit array
        with open(tmp_path / f"want{suffix}", "wb") as f:
            image_writing.write_png(f, want[..., 0] if channels == 1 else want)
    else:
        Image.fromarray(want[..., 0] if channels == 1 else want).save(tmp_path / f"want{suffix}", format=fmt,
                                                                       **image_writing.Encoding().save_options(fmt))
    assert (tmp_path / f"x{suffix}").read_bytes() == (tmp_path / f"want{suffix}").read_bytes()
    assert (info.low_clipped, info.high_clipped, info.nonzero, info.dtype) == (low, high, int(np.count_nonzero(x)), "uint8")


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.uint8, np.int32])
def test_min_max_block_by_block_equals_numpy(dtype):
    from kernelcli.ndsupport import _MIN_MAX_BLOCK, min_max

    rng = np.random.default_rng(9)
    x = (rng.normal(0, 100, (5 * _MIN_MAX_BLOCK + 74,)) if np.dtype(dtype).kind == "f" else rng.integers(0, 200, 5 * _MIN_MAX_BLOCK + 74)).astype(dtype)
    x[-3], x[_MIN_MAX_BLOCK + 5] = 250, 1  # the extremes in the last, short block and in another
    assert min_max(x) == (float(x.min()), float(x.max()))
    assert min_max(x.reshape(-1, 7)[:, :5]) == (float(x.reshape(-1, 7)[:, :5].min()), float(x.reshape(-1, 7)[:, :5].max()))
    if x.dtype.kind == "f":
        for where in (0, _MIN_MAX_BLOCK * 3 + 9, x.size - 1):
            y = x.copy()
            y[where] = np.nan
            lo, hi = min_max(y)
            assert np.isnan(lo) and np.isnan(hi)


@pytest.mark.parametrize("dtype", [np.int8, np.int16, np.uint8, np.uint16])
@pytest.mark.parametrize("bit_depth", [8, 16])
@pytest.mark.parametrize("rescale", ["clip", "abs"])
def test_small_integers_are_converted_as_they_are(dtype, bit_depth, rescale):
    """8- and 16-bit integers skip the float copy (nothing to round): the formula's values and counts,
    the most negative value's magnitude (-32768 under abs) included."""
    info = np.iinfo(dtype)
    x = np.random.default_rng(6).integers(info.min, int(info.max) + 1, (300, 257, 3)).astype(dtype)
    x[::4] = 0
    x.flat[:4] = [info.min, info.max, min(255, info.max), 256 if info.max >= 256 else 1]
    got, expected = to_integer_range(x, bit_depth, rescale, nonzero=True), reference(x, bit_depth, rescale)
    assert np.array_equal(got[0], expected[0]) and got[1:3] == expected[1:]
    assert got[3] == int(np.count_nonzero(x))


def _whole_arrays(dtype, top: int):
    """Arrays of ``dtype``: of values next to where a count starts only (0, ``top`` and ``-top``: a minimum
    or a maximum falls on one), or of those and any others of the dtype."""
    info = np.iinfo(dtype)
    near = st.sampled_from([v + d for v in (0, top, -top) for d in (-1, 0, 1) if info.min <= v + d <= info.max])
    shapes = hnp.array_shapes(min_dims=1, max_dims=3, max_side=30)
    return st.one_of(hnp.arrays(dtype, shapes, elements=near),
                     hnp.arrays(dtype, shapes, elements=st.one_of(near, st.integers(info.min, info.max))))


@settings(max_examples=100, deadline=None)
@given(data=st.data(), bit_depth=st.sampled_from([8, 16]), rescale=st.sampled_from(["clip", "abs"]))
def test_whole_numbers_counted_apart_as_the_conversion_counts(data, bit_depth, rescale):
    """A band of integer sums is counted on the thread that computed it (``whole_counts``) and converted
    with ``count=False`` on the caller's: the pixels and the counts of the conversion that counts."""
    from kernelcli.io.pictures import whole_counts

    dtype = data.draw(st.sampled_from([np.int16, np.uint8, np.int8, np.uint16, np.int32]))
    values = data.draw(_whole_arrays(dtype, 255 if bit_depth == 8 else 65535))
    lo, hi = int(values.min()), int(values.max())
    _, low, high, nonzero = to_integer_range(values, bit_depth, rescale, nonzero=True)
    assert whole_counts(values, bit_depth, rescale, lo, hi) == (low, high, nonzero)
    pixels, *counts = to_integer_range(values, bit_depth, rescale, nonzero=True, count=False)
    assert counts == [0, 0, 0]
    np.testing.assert_array_equal(pixels, reference(values, bit_depth, rescale)[0])


@pytest.mark.parametrize("bit_depth", [8, 16])
@pytest.mark.parametrize("rescale", ["clip", "abs"])
@pytest.mark.parametrize("edge", [-1, 0, 1])
def test_whole_counts_at_the_edges(bit_depth, rescale, edge):
    """A minimum or maximum just past, on or just short of where a count starts."""
    from kernelcli.io.pictures import whole_counts

    top = 255 if bit_depth == 8 else 65535
    for values in ([edge, 5], [top + edge, 5], [-top + edge, 5], [-top - 1 + edge, top + 1 + edge]):
        values = np.array(values, np.int32)
        lo, hi = int(values.min()), int(values.max())
        assert whole_counts(values, bit_depth, rescale, lo, hi) == tuple(to_integer_range(values, bit_depth, rescale, nonzero=True)[1:])
