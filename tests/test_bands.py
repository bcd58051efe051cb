"""kernelcli.bands: a convolution band by band equals the whole, byte for byte, on every path."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kernelcli import api
from kernelcli._core.policy import Paths
from kernelcli.bands import conv2d_bands
from kernelcli.errors import ShapeError, UsageError
from kernelcli.modes import PAD_MODES


def joined(bands) -> np.ndarray:
    parts, expect = [], 0
    for top, block in bands:
        assert top == expect  # the bands tile the rows in order, none twice
        parts.append(block)
        expect += block.shape[0]
    assert expect == bands.shape[0]
    return np.concatenate(parts)


def same_bytes(a: np.ndarray, b: np.ndarray) -> None:
    assert a.shape == b.shape and a.dtype == b.dtype
    assert a.tobytes() == b.tobytes()  # -0.0 and 0.0 differ here, as in a .npy


@settings(max_examples=60, deadline=None)
@given(
    h=st.integers(1, 40), w=st.integers(1, 12), channels=st.sampled_from([None, 1, 3]),
    kh=st.integers(1, 5), kw=st.integers(1, 4), mode=st.sampled_from(PAD_MODES),
    stride=st.integers(1, 3), dilation=st.integers(1, 2), padding=st.sampled_from(["same", "valid", 2]),
    dtype=st.sampled_from(["uint8", "float32", "float64"]), band_bytes=st.integers(1, 400),
    force=st.sampled_from([None, "numpy", "dense", "jit"]), seed=st.integers(0, 2**16),
)
def test_bands_equal_the_whole(h, w, channels, kh, kw, mode, stride, dilation, padding, dtype, band_bytes, force, seed):
    if force in ("dense", "jit") and dtype != "float32":
        dtype = "float32"  # the jitted loops in the suite's most common version only: a fresh CI run compiles each version
    rng = np.random.default_rng(seed)
    shape = (h, w) if channels is None else (h, w, channels)
    x = rng.integers(0, 256, shape).astype(dtype) if dtype == "uint8" else rng.normal(0, 50, shape).astype(dtype)
    k = rng.normal(0, 1, (kh, kw)).round(3)
    kwargs = {"stride": stride, "padding": padding, "pad_mode": mode, "dilation": dilation,
              "paths": Paths(force=force) if force else None}
    try:
        want = api.conv2d(x, k, **kwargs)
    except (ShapeError, UsageError) as exc:  # a geometry the whole refuses, the bands refuse alike
        with pytest.raises(type(exc)):
            joined(conv2d_bands(x, k, band_bytes=band_bytes, **kwargs))
        return
    same_bytes(joined(conv2d_bands(x, k, band_bytes=band_bytes, **kwargs)), want)


@pytest.mark.parametrize("mode", PAD_MODES)
@pytest.mark.parametrize("kernel, force", [("sobel", "dense"), ("rank1", "separable"), ("big", "fft"), ("sobel", None)])
def test_each_path_band_by_band(mode, kernel, force):
    """The separable and FFT paths (block grid and exact form pinned from the whole image) too."""
    rng = np.random.default_rng(7)
    x = rng.integers(0, 256, (900 if force == "fft" else 300, 70 if force != "fft" else 20, 3)).astype(np.uint8)
    k = {"sobel": np.array([[1, 0, -1], [2, 0, -2], [1, 0, -1]], float),
         "rank1": np.outer([1, 4, 6, 4, 1], [1, 2, 1]) / 64.0,
         "big": rng.normal(0, 1, (21, 21))}[kernel]
    paths = Paths(force=force) if force else None
    want = api.conv2d(x, k, pad_mode=mode, paths=paths)
    bands = conv2d_bands(x, k, pad_mode=mode, paths=paths, band_bytes=3000)
    assert len(bands) > 1
    same_bytes(joined(bands), want)


def test_a_float_image_pins_the_ffts_form_from_the_whole():
    """Whole numbers in a float image make the FFT exact; a band of them alone would decide anew."""
    x = np.zeros((600, 40), np.float32)
    x[:300] = np.random.default_rng(2).integers(0, 9, (300, 40))
    x[450, 3] = 0.5  # the whole image is not whole numbers: the plain form everywhere
    k = np.random.default_rng(3).integers(-3, 4, (25, 25)).astype(float)
    want = api.conv2d(x, k, paths=Paths(force="fft"))
    same_bytes(joined(conv2d_bands(x, k, paths=Paths(force="fft"), band_bytes=1)), want)


@pytest.mark.parametrize("kw", [{"stride": 2, "padding": "valid"}, {"stride": 5, "padding": "valid", "kernel": [[1.0]]}])
def test_a_non_finite_input_is_refused_as_the_whole_call_refuses_it(kw):
    # the NaN lies in a row no window reads: each band's own call never saw it
    kw = dict(kw)
    k = kw.pop("kernel", np.ones((3, 3)))
    x = np.ones((30, 8), np.float32)
    x[-1 if kw["stride"] == 2 else 3, 0] = np.nan
    with pytest.raises(UsageError, match="NaN or infinite") as whole:
        api.conv2d(x, k, **kw)
    with pytest.raises(UsageError, match="NaN or infinite") as banded:
        list(conv2d_bands(x, k, band_bytes=1, **kw))
    assert str(banded.value) == str(whole.value)


class TestAhead:
    """bands.ahead: the same bands in the same order, the next one computed on a second thread."""

    def test_the_same_bands_in_order(self, monkeypatch):
        from kernelcli._core import threads
        from kernelcli.bands import ahead

        monkeypatch.setattr(threads, "count", lambda: 2)
        x = np.random.default_rng(3).integers(0, 256, (70, 33, 3), dtype=np.uint8)
        bands = conv2d_bands(x, [[1, 0, -1], [2, 0, -2], [1, 0, -1]], band_bytes=2000, paths=Paths(force="numpy"))
        assert len(bands) > 3
        plain, early = list(bands), list(ahead(bands))
        assert [t for t, _ in early] == [t for t, _ in plain]
        for (_, a), (_, b) in zip(plain, early):
            same_bytes(a, b)

    def test_an_error_comes_in_its_band_s_turn_and_the_thread_stops(self, monkeypatch):
        import threading

        from kernelcli import bands as module
        from kernelcli._core import threads

        monkeypatch.setattr(threads, "count", lambda: 2)
        x = np.zeros((60, 8), dtype=np.uint8)
        bands = conv2d_bands(x, [[1.0, 2.0, 1.0]], band_bytes=64, paths=Paths(force="numpy"))
        real = module.api.conv2d
        calls = []

        def failing(slab, *args, **kwargs):
            calls.append(1)
            if len(calls) == 3:
                raise ShapeError("the third band")
            return real(slab, *args, **kwargs)

        monkeypatch.setattr(module.api, "conv2d", failing)
        seen = []
        with pytest.raises(ShapeError, match="the third band"):
            for top, _ in module.ahead(bands):
                seen.append(top)
        assert len(seen) == 2
        for t in threading.enumerate():  # the thread computing ahead has ended
            if t.name == "kernelcli-bands":
                t.join(timeout=5)
                assert not t.is_alive()

    def test_one_thread_or_jitted_bands_iterate_plainly(self, monkeypatch):
        import threading

        from kernelcli._core import threads
        from kernelcli.bands import ahead

        x = np.zeros((60, 8), dtype=np.uint8)
        bands = conv2d_bands(x, [[1.0, 2.0, 1.0]], band_bytes=64, paths=Paths(force="numpy"))
        started = []
        monkeypatch.setattr(threading, "Thread", lambda *a, **k: started.append(k) or (_ for _ in ()).throw(AssertionError("a thread")))
        monkeypatch.setattr(threads, "count", lambda: 1)
        assert len(list(ahead(bands))) == len(bands) and not started
