"""kernelcli's own PNG encoder (``--compress fast``): lossless for every mode it writes, valid
chunks, the Up filter on every row, bytes that depend on the band size only, a zlib fallback."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from kernelcli.io import png


def chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    """The (type, body) chunks of a PNG, each CRC checked here (not left to a decoder)."""
    assert data[:8] == png.SIGNATURE
    at, found = 8, []
    while at < len(data):
        (n,) = struct.unpack(">I", data[at : at + 4])
        kind, body = data[at + 4 : at + 8], data[at + 8 : at + 8 + n]
        (crc,) = struct.unpack(">I", data[at + 8 + n : at + 12 + n])
        assert crc == zlib.crc32(kind + body), kind
        found.append((kind, body))
        at += 12 + n
    return found


def unfiltered(data: bytes, h: int, row_bytes: int) -> np.ndarray:
    """The rows of a PNG whose every row has the Up filter, undone naively (a running sum mod 256)."""
    raw = np.frombuffer(zlib.decompress(b"".join(body for kind, body in chunks(data) if kind == b"IDAT")), np.uint8)
    rows = raw.reshape(h, row_bytes + 1)
    assert (rows[:, 0] == png.UP).all()
    return np.cumsum(rows[:, 1:], axis=0, dtype=np.uint64).astype(np.uint8)  # sum mod 256 down each column


def encoded(pixels: np.ndarray, **kwargs) -> bytes:
    buffer = io.BytesIO()
    png.write_png(buffer, pixels, **kwargs)
    return buffer.getvalue()


SHAPES = {"L": (37, 29), "LA": (37, 29, 2), "RGB": (37, 29, 3), "RGBA": (37, 29, 4)}


@pytest.mark.parametrize("band_bytes", [1, 100, png.BAND_BYTES])
@pytest.mark.parametrize("mode", list(SHAPES) + ["I;16"])
def test_lossless_for_every_mode_and_band(mode, band_bytes):
    rng = np.random.default_rng(len(mode) + band_bytes)
    if mode == "I;16":
        x = rng.integers(0, 65536, (41, 23), dtype=np.uint16)
    else:
        x = rng.integers(0, 256, SHAPES[mode], dtype=np.uint8)
        x[5:9] = 0  # runs, and rows equal to the one above
        x[12] = x[11]
    data = encoded(x, band_bytes=band_bytes)
    assert [kind for kind, _ in chunks(data)][:1] == [b"IHDR"] and chunks(data)[-1] == (b"IEND", b"")
    assert {kind for kind, _ in chunks(data)} == {b"IHDR", b"IDAT", b"IEND"}
    with Image.open(io.BytesIO(data)) as im:
        assert im.mode == mode and im.size == (x.shape[1], x.shape[0])
        got = np.asarray(im)
    np.testing.assert_array_equal(got, x)
    big_endian = x.astype(">u2") if x.dtype == np.uint16 else x
    np.testing.assert_array_equal(unfiltered(data, x.shape[0], big_endian[0].nbytes),
                                  np.ascontiguousarray(big_endian).view(np.uint8).reshape(x.shape[0], -1))


def test_the_same_pixels_give_the_same_bytes_whatever_the_array():
    """A strided view and its contiguous copy encode alike; the band size is the only other input."""
    x = np.random.default_rng(3).integers(0, 256, (60, 80, 3), dtype=np.uint8)
    view = np.asfortranarray(x)
    assert encoded(view) == encoded(np.ascontiguousarray(x)) == encoded(x)
    assert encoded(x, band_bytes=500) == encoded(x, band_bytes=500)


def test_one_pixel_and_refusals():
    assert np.asarray(Image.open(io.BytesIO(encoded(np.array([[7]], np.uint8))))).tolist() == [[7]]
    for bad in (np.zeros((2, 2), np.float32), np.zeros((2, 2, 5), np.uint16), np.zeros((2, 2, 5), np.uint8), np.zeros((0, 3), np.uint8)):
        with pytest.raises(ValueError, match="write_png"):
            encoded(bad)


def test_sixteen_bit_grey_and_alpha_round_trip(tmp_path):
    """16-bit grey + alpha (colour type 4, depth 16), as a 16-bit grey + alpha PNG input is carried."""
    from kernelcli.io.formats import read_input

    x = np.random.default_rng(5).integers(0, 65536, (9, 11, 2), dtype=np.uint16)
    (tmp_path / "la.png").write_bytes(encoded(x))
    assert struct.unpack(">IIBB", chunks(encoded(x))[0][1][:10]) == (11, 9, 16, 4)
    loaded = read_input(tmp_path / "la.png")
    assert loaded.bit_depth == 16 and np.array_equal(loaded.data, x[..., 0]) and np.array_equal(loaded.alpha, x[..., 1])


def test_without_isal_zlib_writes_the_same_pixels(monkeypatch):
    """An install without python-isal deflates with zlib (other bytes, the same pixels)."""
    import builtins

    pytest.importorskip("isal")
    real = builtins.__import__

    def no_isal(name, *args, **kwargs):
        if name == "isal" or name.startswith("isal."):
            raise ImportError(name)
        return real(name, *args, **kwargs)

    x = np.random.default_rng(4).integers(0, 256, (50, 70), dtype=np.uint8)
    monkeypatch.setattr(builtins, "__import__", no_isal)
    assert png.deflater()[1] == "zlib"
    data = encoded(x)
    monkeypatch.setattr(builtins, "__import__", real)
    assert png.deflater()[1] == "isal" and data != encoded(x)
    np.testing.assert_array_equal(np.asarray(Image.open(io.BytesIO(data))), x)


def test_opencv_reads_it():
    cv2 = pytest.importorskip("cv2")
    x = np.random.default_rng(5).integers(0, 256, (33, 47, 3), dtype=np.uint8)
    got = cv2.imdecode(np.frombuffer(encoded(x), np.uint8), cv2.IMREAD_UNCHANGED)
    np.testing.assert_array_equal(got[..., ::-1], x)


def test_python_isal_is_an_extra_not_a_dependency():
    """The base install stays light (numpy, scipy, pillow, typer/click, rich, numba): ISA-L comes with ``[fast]``."""
    import tomllib
    from pathlib import Path

    project = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())["project"]
    base = {d.split(">")[0].split("=")[0].split("[")[0] for d in project["dependencies"]}
    assert base == {"numpy", "scipy", "pillow", "typer", "click", "rich", "numba"}
    assert project["optional-dependencies"]["fast"] == ["isal>=1.0"]
