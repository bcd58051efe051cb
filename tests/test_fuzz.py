"""Fuzz the loaders: random bytes and mutated valid files (PNG, TIFF, CSV, NPY, JSON kernels).

Whatever the bytes, a loader returns a sane value or raises one of our own errors
(``KernelcliError`` subclasses); any other exception is a bug.  A few hundred cases in
all; the size limits are kept small so no case decodes a huge image.
"""

from __future__ import annotations

import io
import shutil
import struct
import tempfile
import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from kernelcli.errors import KernelcliError
from kernelcli.io import read_input

SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow])
LIMITS = dict(max_pixels=1_000_000, max_bytes=64 << 20)


@pytest.fixture(scope="module")
def scratch():
    folder = Path(tempfile.mkdtemp(prefix="kernelcli-fuzz-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def _encoded(image: Image.Image, fmt: str, **kwargs) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format=fmt, **kwargs)
    return buf.getvalue()


def _seeds() -> dict[str, list[bytes]]:
    rng = np.random.default_rng(0)
    grey = Image.fromarray(rng.integers(0, 256, (12, 10), dtype=np.uint8))
    rgb = Image.fromarray(rng.integers(0, 256, (9, 7, 3), dtype=np.uint8))
    rgba = Image.fromarray(rng.integers(0, 256, (5, 6, 4), dtype=np.uint8))
    deep = Image.fromarray(rng.integers(0, 65536, (8, 8)).astype(np.uint16))
    frames = [Image.fromarray(np.full((4, 4), v, np.uint8)) for v in (1, 2)]
    exif = Image.Exif()
    exif[0x0112] = 6
    return {
        "png": [_encoded(grey, "PNG"), _encoded(rgb, "PNG"), _encoded(rgba, "PNG"), _encoded(deep, "PNG"),
                _encoded(rgb.convert("P"), "PNG"), _encoded(grey, "PNG", exif=exif)],
        "tif": [_encoded(grey, "TIFF"), _encoded(deep, "TIFF"), _encoded(rgb.convert("CMYK"), "TIFF"),
                _encoded(frames[0], "TIFF", save_all=True, append_images=frames[1:]), _encoded(rgb, "TIFF", compression="tiff_lzw")],
        "csv": [b"7 2 3 3 8\n4 5 3 8 4\n3 3 2 8 4\n", b"1,2\n3,4\n", b"# comment\n0.5; -1e3\n2 3\n"],
        "npy": [_npy(rng.integers(0, 256, (4, 5), dtype=np.uint8)), _npy(rng.random((3, 4, 2))), _npy(np.zeros((2, 2), ">u2"))],
        "json": [
            b'{"name": "k", "matrix": [[1, 0, -1], [2, 0, -2], [1, 0, -1]], "scale": "sum", "description": "d", "source": "s"}',
            b'{"family": "f", "description": "d", "kernels": [{"name": "a", "matrix": [[1]]}, {"name": "b", "matrix": [[1, 2], [3, 4]], "scale": 10}]}',
        ],
    }


def _npy(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=False)
    return buf.getvalue()


SEEDS = _seeds()


@st.composite
def mutated(draw, seeds: list[bytes]) -> bytes:
    """A seed with a few byte flips, insertions, deletions or a truncation."""
    data = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(["flip", "flip", "insert", "delete", "truncate", "splice"]))
        pos = draw(st.integers(0, max(len(data) - 1, 0)))
        if op == "flip" and data:
            data[pos] = draw(st.integers(0, 255))
        elif op == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=8))
        elif op == "delete":
            del data[pos:pos + draw(st.integers(1, 8))]
        elif op == "truncate":
            del data[pos:]
        elif op == "splice":  # an "interesting" integer, as fuzzers like to try
            value = draw(st.sampled_from([0, 1, 0x7F, 0x80, 0xFF, 0x7FFF, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFFF]))
            data[pos:pos + 4] = struct.pack(">I", value)
    return bytes(data)


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


@st.composite
def png_with_valid_crcs(draw) -> bytes:
    """A PNG whose header fields and data are arbitrary but whose chunk CRCs are right,
    so the decoder itself (not the CRC check) meets the nonsense."""
    width = draw(st.sampled_from([0, 1, 3, 17, 255, 4096, 70_000, 2**31 - 1]))
    height = draw(st.sampled_from([0, 1, 2, 9, 1000, 2**31 - 1]))
    depth = draw(st.sampled_from([1, 2, 4, 8, 16, 3, 32]))
    colour = draw(st.sampled_from([0, 2, 3, 4, 6, 1, 7]))
    interlace = draw(st.sampled_from([0, 1, 2]))
    raw = draw(st.binary(max_size=200))
    idat = zlib.compress(raw) if draw(st.booleans()) else raw
    chunks = [_png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, interlace))]
    if colour == 3 or draw(st.booleans()):
        chunks.append(_png_chunk(b"PLTE", draw(st.binary(max_size=30))))
    if draw(st.booleans()):
        chunks.append(_png_chunk(b"tRNS", draw(st.binary(max_size=10))))
    chunks += [_png_chunk(b"IDAT", idat), _png_chunk(b"IEND", b"")]
    return b"\x89PNG\r\n\x1a\n" + b"".join(chunks)


def _load(scratch: Path, name: str, data: bytes):
    path = scratch / name
    path.write_bytes(data)
    try:
        loaded = read_input(path, **LIMITS)
    except KernelcliError as exc:
        assert str(path) in str(exc) or path.name in str(exc), str(exc)  # the message names the file
        assert "\n" not in str(exc)
        return None
    assert isinstance(loaded.data, np.ndarray) and loaded.data.ndim in (2, 3) and loaded.data.size > 0
    assert loaded.data.dtype.kind in "biuf"
    return loaded


class TestImages:
    @settings(max_examples=40, **SETTINGS)
    @given(data=st.binary(max_size=600), suffix=st.sampled_from(["png", "tif", "jpg", "bmp", "gif"]))
    def test_random_bytes(self, scratch, data, suffix):
        _load(scratch, f"random.{suffix}", data)

    @settings(max_examples=80, **SETTINGS)
    @given(data=mutated(SEEDS["png"]))
    def test_mutated_png(self, scratch, data):
        _load(scratch, "mutated.png", data)

    @settings(max_examples=50, **SETTINGS)
    @given(data=png_with_valid_crcs())
    def test_png_nonsense_with_valid_crcs(self, scratch, data):
        _load(scratch, "crafted.png", data)

    @settings(max_examples=60, **SETTINGS)
    @given(data=mutated(SEEDS["tif"]))
    def test_mutated_tiff(self, scratch, data):
        _load(scratch, "mutated.tif", data)


class TestArraysAndMatrices:
    @settings(max_examples=40, **SETTINGS)
    @given(data=st.one_of(mutated(SEEDS["csv"]), st.text(max_size=200).map(str.encode), st.binary(max_size=200)))
    def test_csv(self, scratch, data):
        _load(scratch, "m.csv", data)

    @settings(max_examples=30, **SETTINGS)
    @given(data=st.one_of(mutated(SEEDS["npy"]), st.binary(max_size=200)))
    def test_npy(self, scratch, data):
        _load(scratch, "a.npy", data)


class TestKernelFiles:
    @settings(max_examples=60, **SETTINGS)
    @given(data=st.one_of(mutated(SEEDS["json"]), st.binary(max_size=300)))
    def test_json_kernels(self, scratch, data):
        catalog = pytest.importorskip("kernelcli.catalog")
        path = scratch / "k.json"
        path.write_bytes(data)
        try:
            kernel = catalog.load_kernel(str(path))
        except KernelcliError as exc:
            assert "k.json" in str(exc), str(exc)
            return
        assert np.isfinite(kernel.array()).all()
