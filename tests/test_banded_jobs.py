"""A convolve job whose result becomes an 8-bit picture band by band writes the very bytes, and
reports the very facts, of the whole-result path (kernelcli.bands + kernelcli.io.pictures)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from kernelcli import bands, jobs_common
from kernelcli._core.policy import Paths
from kernelcli.errors import UsageError
from kernelcli.io import Encoding
from kernelcli.jobs import ConvolveOptions, convolve_file


@pytest.fixture
def inputs(tmp_path):
    rng = np.random.default_rng(11)
    _, x = np.mgrid[0:61, 0:37]
    grey = np.clip(120 + 60 * np.sin(x / 5.0) + rng.normal(0, 20, x.shape), 0, 255).astype(np.uint8)
    rgb = np.stack([grey, grey[::-1], (x * 7 % 256).astype(np.uint8)], axis=-1)
    Image.fromarray(grey).save(tmp_path / "grey.png")
    Image.fromarray(rgb).save(tmp_path / "rgb.png")
    Image.fromarray(rgb).save(tmp_path / "rgb.jpg", quality=90)
    Image.fromarray(np.dstack([rgb, grey])).save(tmp_path / "rgba.png")
    return tmp_path


def both_ways(monkeypatch, src, kernel, options, out):
    """(bytes, report) written band by band (bands of a few rows), then from the whole result."""
    monkeypatch.setattr(bands, "BAND_BYTES", 700)
    monkeypatch.setattr(bands, "WHOLE_BYTES", 0)
    got = []
    for banded in (True, False):
        monkeypatch.setattr(jobs_common, "BANDED", banded)
        report = convolve_file(src, kernel, options, out=out, force=True)
        record = report.as_dict()
        record.pop("seconds")
        got.append((out.read_bytes(), record))
    return got


@pytest.mark.parametrize("suffix, encoding", [(".png", None), (".png", Encoding(compress="best")), (".jpg", None),
                                              (".bmp", None), (".tif", None)])
@pytest.mark.parametrize("name", ["grey.png", "rgb.png", "rgb.jpg"])
@pytest.mark.parametrize("force", [None, "dense"])  # small images take numpy; dense converts with the jitted twin
def test_every_format_the_same_bytes(monkeypatch, inputs, name, suffix, encoding, force):
    options = ConvolveOptions(encoding=encoding, paths=Paths(force=force) if force else None)
    banded, whole = both_ways(monkeypatch, inputs / name, "sobel_v", options, inputs / f"out{suffix}")
    assert banded == whole


@pytest.mark.parametrize("absolute", [False, True])
def test_the_jitted_conversion_is_to_integer_range(absolute):
    """Value by value and count by count, round half to even at every half level, past 2**22 and
    2**23, signed zeros; into bytes and into RGBX words."""
    from kernelcli._core.eightbit import rows_to_rgbx, rows_to_uint8
    from kernelcli.io.integer_range import to_integer_range

    rng = np.random.default_rng(12)
    edges = [-0.0, 0.0, -0.4999, 0.49999997, 254.49998, 255.5, 256.5, 2**22 - 0.5, 2**22, 2**22 + 1, 4194307.0,
             2**23 + 1, -(2**22) - 1, 1e30, -1e30]
    x = np.concatenate([edges, np.arange(-4, 300, 0.5), rng.normal(0, 300, 3000)]).astype(np.float32)
    x = x[: x.size // 9 * 9].reshape(3, -1)  # rows of whole RGB pixels
    want = np.empty(x.shape, np.uint8)
    counts = to_integer_range(x, 8, "abs" if absolute else "clip", nonzero=True, out=want)[1:]
    got = np.empty(x.shape, np.uint8)
    assert rows_to_uint8(x, got, absolute) == counts and np.array_equal(got, want)
    words = np.full((3, x.shape[1] // 3), 0xFFFFFFFF, np.uint32)
    assert rows_to_rgbx(x, words, absolute) == counts
    rgbx = words.view(np.uint8).reshape(3, -1, 4)
    assert np.array_equal(rgbx[..., :3].reshape(3, -1), want) and (rgbx[..., 3] == 0).all()


@pytest.mark.parametrize("kernel, options", [
    ("gaussian:1.5", ConvolveOptions(pad_mode="reflect")),
    ("box:4", ConvolveOptions(pad_mode="circular", rescale="abs")),
    ("sobel_h", ConvolveOptions(stride=2, dilation=2, padding="valid")),
    ("laplacian_8", ConvolveOptions(pad_mode="replicate", flip=True, paths="cold")),
])
def test_options_the_same_bytes(monkeypatch, inputs, kernel, options):
    banded, whole = both_ways(monkeypatch, inputs / "rgb.png", kernel, options, inputs / "out.png")
    assert banded == whole


def test_the_whole_path_remains_where_bands_cannot_go(monkeypatch, inputs):
    """minmax needs the whole range first; alpha is carried whole; a .npy holds the floats."""
    from kernelcli.io.common import Loaded
    from kernelcli.io.pictures import takes_bands

    like = Loaded(path=inputs / "x.png", data=None, kind="image", format="PNG", bit_depth=8)
    assert takes_bands(inputs / "o.png", like, "abs", 3) and not takes_bands(inputs / "o.png", like, "minmax", 3)
    assert not takes_bands(inputs / "o.npy", like, None, 1) and not takes_bands(inputs / "o.png", like, None, 2)
    for name, options, out in (("rgb.png", ConvolveOptions(rescale="minmax"), "o.png"), ("rgba.png", ConvolveOptions(), "o.png"),
                               ("grey.png", ConvolveOptions(), "o.npy")):
        banded, whole = both_ways(monkeypatch, inputs / name, "sobel_v", options, inputs / out)
        assert banded == whole


def test_an_overflow_is_refused_alike(monkeypatch, inputs):
    """A band with infinite values is refused before it is converted, with the whole path's message."""
    monkeypatch.setattr(bands, "BAND_BYTES", 700)
    monkeypatch.setattr(bands, "WHOLE_BYTES", 0)
    kernel = str(inputs / "huge.json")
    (inputs / "huge.json").write_text('{"name": "huge", "matrix": [[3e38, 3e38]]}')
    messages = []
    for banded in (True, False):
        monkeypatch.setattr(jobs_common, "BANDED", banded)
        with pytest.raises(UsageError) as caught:
            convolve_file(inputs / "grey.png", kernel, ConvolveOptions(paths=Paths(force="dense")), out=inputs / "o.png", force=True)
        messages.append(str(caught.value))
        assert not (inputs / "o.png").exists()
    assert messages[0] == messages[1] and "overflows float32" in messages[0]


def test_a_large_result_goes_in_bands(monkeypatch):
    """By default: bands past WHOLE_BYTES of float result, each about BAND_BYTES; one band below."""
    x = np.zeros((2000, 4000, 3), np.uint8)
    many = bands.conv2d_bands(x, np.ones((3, 3)))
    assert len(many) > 10 and max(b - a for a, b in many.rows.bounds(many.chunks)) * 4000 * 3 * 4 <= 2 * bands.BAND_BYTES
    assert len(bands.conv2d_bands(x[:500], np.ones((3, 3)))) == 1


def test_the_workers_cache_loader_leaves_the_converters_callable():
    """The warm worker loads every cached version before it forks; a converter must still resolve
    to one version after that (an explicit signature, cached under its text, was added twice)."""
    from kernelcli._core import eightbit
    from kernelcli.worker import warmup

    x, out, words = np.ones((2, 6), np.float32), np.zeros((2, 6), np.uint8), np.zeros((2, 2), np.uint32)
    eightbit.rows_to_uint8(x, out, False), eightbit.rows_to_rgbx(x, words, False)
    warmup.load_cached_overloads()
    assert eightbit.rows_to_uint8(x, out, True) == (0, 0, 12) and eightbit.rows_to_rgbx(x, words, True) == (0, 0, 12)
    assert out.tolist() == [[1] * 6] * 2 and words.tolist() == [[0x010101] * 2] * 2


def test_numpy_bands_give_their_exact_sums_as_int16():
    """Bands on plain numpy whose sums are whole numbers within int16 (an 8-bit image, sobel) come as those
    sums, the values of the float bands; a fraction, a -0.0 risk (a negative first weight) or the jitted
    core keep the float bands."""
    x = np.random.default_rng(12).integers(0, 256, (40, 23, 3), dtype=np.uint8)
    sobel = np.array([[1.0, 0, -1], [2, 0, -2], [1, 0, -1]])
    plain = bands.conv2d_bands(x, sobel, paths=Paths(force="numpy"), band_bytes=23 * 3 * 4 * 7)
    summed = plain.as_sums()
    got, want = list(summed), list(plain)
    assert len(got) == len(want) > 3 and {b.dtype.name for _, b in got} == {"int16"}
    assert all(t == u and np.array_equal(b, c) for (t, b), (u, c) in zip(got, want))
    assert (summed.shape, summed.dtype) == (plain.shape, plain.dtype) == ((40, 23, 3), np.float32)
    for kernel, force in ((sobel / 3, "numpy"), (-sobel, "numpy"), (sobel, "dense")):
        other = bands.conv2d_bands(x, kernel, paths=Paths(force=force))
        assert other.as_sums() is other
