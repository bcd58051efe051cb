"""A grey or RGB PNG's colour key (its tRNS chunk) is read as an alpha channel.

``pool key.png -f 1 -o o.png`` wrote an opaque image with ``"notes": []``: the key was read as
nothing, where a palette PNG's transparency was read as RGBA.  It is now an alpha channel like
an LA/RGBA image's: padded by ``pad``, pooled by ``pool``, carried by ``convolve``, dropped with
the alpha's note.  The key is matched against the samples the file stores: a 2- or 4-bit grey
key against the unscaled samples, a 16-bit one against all 16 bits.
"""

from __future__ import annotations

import json
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from kernelcli.io.formats import read_input


def _png(rows: list[bytes], w: int, h: int, depth: int, colour_type: int, trns: bytes) -> bytes:
    """A PNG of unfiltered ``rows`` with a tRNS chunk (Pillow writes no 2-bit grey or 16-bit RGB)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, colour_type, 0, 0, 0))
            + chunk(b"tRNS", trns) + chunk(b"IDAT", zlib.compress(b"".join(b"\0" + r for r in rows))) + chunk(b"IEND", b""))


@pytest.fixture
def keyed(tmp_path):
    grey = np.full((4, 4), 200, np.uint8)
    grey[0, 0] = 0
    Image.fromarray(grey).save(tmp_path / "key.png", transparency=0)
    rgb = np.full((4, 4, 3), 200, np.uint8)
    rgb[0, 0] = (1, 2, 3)
    Image.fromarray(rgb).save(tmp_path / "k.png", transparency=(1, 2, 3))
    return tmp_path, grey, rgb


def _alpha(hole: tuple[int, int], shape=(4, 4), dtype=np.uint8) -> np.ndarray:
    a = np.full(shape, np.iinfo(dtype).max, dtype)
    a[hole] = 0
    return a


@pytest.mark.parametrize("name, mode", [("key.png", "LA"), ("k.png", "RGBA")])
def test_pool_and_convolve_carry_the_key_as_alpha(invoke, keyed, name, mode):
    folder, grey, rgb = keyed
    colour = grey if name == "key.png" else rgb
    for args in (["pool", name, "-f", "1"], ["convolve", name, "-k", "identity"]):
        r = invoke(*args, "-o", "o.png", "--json", "--force")
        assert r.exit_code == 0, r.stderr
        record = json.loads(r.stdout)
        assert record["notes"] == [] and record["input_shape"] == record["output_shape"] == [4, 4, len(mode)]
        with Image.open(folder / "o.png") as out:
            assert out.mode == mode
            written = np.asarray(out)
        np.testing.assert_array_equal(written[..., -1], _alpha((0, 0)))
        np.testing.assert_array_equal(written[..., 0] if name == "key.png" else written[..., :3], colour)


def test_pad_pads_the_key_as_alpha(invoke, keyed):
    folder, grey, _ = keyed
    r = invoke("pad", "key.png", "-p", "1", "-o", "o.png")
    assert r.exit_code == 0 and "alpha" not in r.stderr, r.stderr
    with Image.open(folder / "o.png") as out:
        assert out.mode == "LA"
        np.testing.assert_array_equal(np.asarray(out)[..., 1], np.pad(_alpha((0, 0)), 1))


def test_a_format_or_command_that_drops_it_says_so(invoke, keyed):
    r = invoke("pool", "k.png", "-f", "1", "-o", "o.jpg")
    assert r.exit_code == 0 and "k.png: o.jpg does not hold the alpha channel, so it is dropped" in r.stderr, r.stderr
    r = invoke("convolve", "key.png", "-k", "box:3", "--padding", "valid", "-o", "v.png")
    assert r.exit_code == 0 and "the alpha channel is dropped" in r.stderr, r.stderr
    r = invoke("gallery", "key.png", "-o", "g.png")
    assert r.exit_code == 0 and "key.png: the alpha channel is not carried into the maps" in r.stderr, r.stderr


def test_a_16_bit_grey_key_stays_16_bit(invoke, tmp_path):
    grey = np.full((4, 5), 50000, np.uint16)
    grey[1, 2] = 7
    Image.fromarray(grey).save(tmp_path / "k16.png", transparency=7)
    loaded = read_input(tmp_path / "k16.png")
    assert (loaded.data.dtype, loaded.bit_depth) == (np.uint16, 16)
    np.testing.assert_array_equal(loaded.alpha, _alpha((1, 2), (4, 5), np.uint16))
    r = invoke("pool", "k16.png", "-f", "1", "-o", "o.png")
    assert r.exit_code == 0, r.stderr
    again = read_input(tmp_path / "o.png")
    np.testing.assert_array_equal(again.data, grey)
    np.testing.assert_array_equal(again.alpha, loaded.alpha)


def test_a_2_bit_grey_key_is_matched_before_pillow_scales_the_samples(tmp_path):
    # Pillow reads 2-bit grey as 0, 85, 170, 255 and keeps the key 1: its convert("LA") makes nothing transparent
    values = np.array([[0, 1, 2, 3], [1, 1, 3, 3]], np.uint8)
    rows = [bytes([(r[0] << 6) | (r[1] << 4) | (r[2] << 2) | r[3]]) for r in values]
    (tmp_path / "g2.png").write_bytes(_png(rows, 4, 2, 2, 0, struct.pack(">H", 1)))
    loaded = read_input(tmp_path / "g2.png")
    np.testing.assert_array_equal(loaded.data, values * 85)
    np.testing.assert_array_equal(loaded.alpha, np.where(values == 1, 0, 255))


def test_a_16_bit_rgb_key_is_matched_on_all_16_bits(tmp_path):
    # Pillow reads 16-bit colour as its high bytes and its convert("RGBA") matched no pixel of a 16-bit key
    rgb = (np.arange(2 * 4 * 3, dtype=np.uint16).reshape(2, 4, 3) * 2731 + 5)
    key = rgb[1, 2].copy()
    rgb[0, 0] = key
    rgb[0, 0, 2] ^= 1  # the key's high bytes, another low byte: opaque
    trns = struct.pack(">HHH", *(int(v) for v in key))
    (tmp_path / "c48.png").write_bytes(_png([r.astype(">u2").tobytes() for r in rgb], 4, 2, 16, 2, trns))
    loaded = read_input(tmp_path / "c48.png")
    np.testing.assert_array_equal(loaded.data, rgb >> 8)
    np.testing.assert_array_equal(loaded.alpha, _alpha((1, 2), (2, 4)))


def test_a_float_tiff_is_not_told_to_write_a_tiff(tmp_path):
    # the batch audit: 'convolve key.png -k sobel_v -o k.tif --rescale none' said 'write .png or .tif to keep it'
    import json as _json

    from conftest import run_in_process

    a = np.random.default_rng(0).integers(1, 255, (40, 50)).astype(np.uint8)
    a[0, 0] = 0
    Image.fromarray(a).save(tmp_path / "key.png", transparency=0)
    r = run_in_process("convolve", "key.png", "-k", "sobel_v", "-o", "k.tif", "--rescale", "none", "--json", cwd=tmp_path)
    note = next(n for n in _json.loads(r.stdout)["notes"] if "alpha" in n)
    assert "write .png or .tif" not in note and "a float32 TIFF holds no alpha" in note, note
