"""The type of the samples, not their values, decides how an input is read and an output written.

A TIFF's tags (BitsPerSample, SampleFormat) say what it holds, whatever Pillow's mode; a result
goes into a TIFF as its own type or is refused; a 16-bit array input stays 16-bit in an image;
a bool array pads as numpy.pad pads it.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from kernelcli.io.formats import read_input

from conftest import run_in_process


def tiff(path: Path, a: np.ndarray) -> Path:
    """Write the 2-D integer array ``a`` as a one-strip little-endian greyscale TIFF with its own
    BitsPerSample and SampleFormat (1 unsigned, 2 signed): what Pillow cannot write for uint32."""
    a = np.ascontiguousarray(a, dtype=a.dtype.newbyteorder("<"))
    h, w = a.shape
    data = a.tobytes()
    tags = [(256, 4, w), (257, 4, h), (258, 3, a.dtype.itemsize * 8), (259, 3, 1), (262, 3, 1), (273, 4, 0),
            (277, 3, 1), (278, 4, h), (279, 4, len(data)), (339, 3, 2 if a.dtype.kind == "i" else 1)]
    offset = 8 + 2 + 12 * len(tags) + 4  # the pixels follow the one IFD
    ifd = struct.pack("<H", len(tags))
    for tag, kind, value in tags:
        value = offset if tag == 273 else value
        ifd += struct.pack("<HHI", tag, kind, 1) + (struct.pack("<HH", value, 0) if kind == 3 else struct.pack("<I", value))
    path.write_bytes(b"II*\x00" + struct.pack("<I", 8) + ifd + struct.pack("<I", 0) + data)
    return path


def run(tmp_path: Path, *args: str):
    return run_in_process(*args, cwd=tmp_path, env={"KERNELCLI_WORKER": "off"})


# ----------------------------------------------------------------------------- reading TIFF


@pytest.mark.parametrize("dtype, values", [
    (np.uint32, [[3_000_000_000, 5], [7, 4_000_000_000]]),
    (np.int32, [[0, 0], [900, -1]]),
    (np.int32, [[0, 0], [900, 1]]),
    (np.int16, [[-5, 1], [2, 30000]]),
    (np.int16, [[5, 1], [2, 30000]]),
    (np.int8, [[-5, 1], [2, 100]]),
])
def test_an_integer_tiff_is_read_as_its_tags_say(tmp_path, dtype, values):
    x = np.array(values, dtype=dtype)
    loaded = read_input(tiff(tmp_path / "a.tif", x))
    assert loaded.data.dtype == dtype and loaded.bit_depth is None
    assert np.array_equal(loaded.data, x)


def test_an_unsigned_16_bit_tiff_keeps_its_bit_depth(tmp_path):
    x = np.array([[0, 65535], [7, 300]], dtype=np.uint16)
    loaded = read_input(tiff(tmp_path / "a.tif", x))
    assert (loaded.data.dtype, loaded.bit_depth) == (np.uint16, 16) and np.array_equal(loaded.data, x)


def test_a_uint32_tiff_convolves_its_true_values(tmp_path):
    x = np.array([[3_000_000_000, 5], [7, 4_000_000_000]], dtype=np.uint32)
    tiff(tmp_path / "u.tif", x)
    r = run(tmp_path, "convolve", "u.tif", "-k", "identity", "-o", "c.npy", "-q")
    assert r.returncode == 0, r.stderr
    assert np.array_equal(np.load(tmp_path / "c.npy"), x.astype(np.float64))
    r = run(tmp_path, "pad", "u.tif", "-p", "1", "-o", "p.npy", "-q")
    assert r.returncode == 0, r.stderr
    assert np.array_equal(np.load(tmp_path / "p.npy"), np.pad(x, 1))


def test_an_int32_tiff_gets_one_rule_whatever_its_values(tmp_path):
    """The same edges of two int32 TIFFs, one with a negative pixel: the same answer for both."""
    column = np.array([[0, 0, 900]] * 3, dtype=np.int32)
    tiff(tmp_path / "pos.tif", column)
    negative = column.copy()
    negative[0, 0] = -1
    tiff(tmp_path / "neg.tif", negative)
    from scipy.ndimage import correlate

    for name, x in (("pos", column), ("neg", negative)):
        r = run(tmp_path, "convolve", f"{name}.tif", "-k", "sobel_v", "-o", f"{name}_e.tif")
        assert r.returncode == 0, r.stderr  # the positive one was written uint16 with the negative edges clipped to 0
        assert f"note: {name}_e.tif: the float64 result is stored as float32" in r.stderr
        sobel_v = np.array([[1, 0, -1], [2, 0, -2], [1, 0, -1]], dtype=np.float64)
        with Image.open(tmp_path / f"{name}_e.tif") as im:
            assert im.mode == "F" and np.array_equal(np.asarray(im), correlate(x.astype(np.float64), sobel_v, mode="constant"))
        r = run(tmp_path, "pad", f"{name}.tif", "-p", "1", "-o", f"{name}_p.tif", "-q")
        assert r.returncode == 0, r.stderr
        written = read_input(tmp_path / f"{name}_p.tif").data
        assert written.dtype == np.int32 and np.array_equal(written, np.pad(x, 1))


# ----------------------------------------------------------------------------- writing TIFF


@pytest.mark.parametrize("args", [("pad", "-p", "0"), ("pool", "-f", "1", "--op", "max")])
def test_int32_results_stay_int32_in_a_tiff(tmp_path, args):
    x = np.array([[123456789, 987654321], [100000001, -16777217]], dtype=np.int32)
    np.save(tmp_path / "i.npy", x)
    r = run(tmp_path, args[0], "i.npy", *args[1:], "-o", "o.tif", "-q")
    assert r.returncode == 0, r.stderr
    with Image.open(tmp_path / "o.tif") as im:
        assert im.mode == "I" and np.array_equal(np.asarray(im), x)


@pytest.mark.parametrize("dtype", [np.int16, np.int8])
@pytest.mark.parametrize("args", [("pad", "-p", "1"), ("pool", "-f", "1", "--op", "max")])
def test_int8_and_int16_results_stay_themselves_in_a_tiff(tmp_path, dtype, args):
    """pad/pool on an int16 TIFF wrote an int32 TIFF while --json said "dtype": "int16" and no note: now
    the TIFF holds int16 (int8) samples, SampleFormat 2, and reads back as the input's type."""
    info = np.iinfo(dtype)
    x = np.array([[info.min, -1, 0], [1, 1000 % info.max, info.max]], dtype=dtype)
    tiff(tmp_path / "i.tif", x)
    r = run(tmp_path, args[0], "i.tif", *args[1:], "-o", "o.tif", "--json")
    assert r.returncode == 0, r.stderr
    record = json.loads(r.stdout)
    assert record["dtype"] == np.dtype(dtype).name and record["notes"] == []
    written = read_input(tmp_path / "o.tif").data
    want = np.pad(x, 1) if args[0] == "pad" else x
    assert written.dtype == dtype and np.array_equal(written, want)
    with Image.open(tmp_path / "o.tif") as im:
        assert (im.tag_v2[258], im.tag_v2[339]) == ((np.dtype(dtype).itemsize * 8,), (2,))


def test_a_signed_result_of_several_channels_is_refused_for_a_tiff(tmp_path):
    np.save(tmp_path / "c.npy", np.zeros((6, 4, 3), np.int16))  # (6 rows: a (3, 4, 3) array reads two ways)
    r = run(tmp_path, "pad", "c.npy", "-p", "1", "-o", "o.tif")
    assert r.returncode == 2 and "error: o.tif: an int16 TIFF holds one channel; this result has 3" in r.stderr, r.stderr
    assert not (tmp_path / "o.tif").exists()


@pytest.mark.parametrize("args", [("convolve", "-k", "identity"), ("convolve", "-k", "identity", "--rescale", "none"),
                                  ("pad", "-p", "0")])
def test_a_float64_result_is_stored_as_float32_and_said(tmp_path, args):
    """Pillow writes float32 at most: the float64 result is rounded to it, with a note naming .npy."""
    x = np.array([[123456789, 987654321], [100000001, 16777217]], dtype=np.float64)
    np.save(tmp_path / "f.npy", x)
    r = run(tmp_path, args[0], "f.npy", *args[1:], "-o", "o.tif")
    assert r.returncode == 0, r.stderr
    assert "note: o.tif: the float64 result is stored as float32" in r.stderr and "write .npy to keep every digit" in r.stderr
    with Image.open(tmp_path / "o.tif") as im:
        assert im.mode == "F" and np.array_equal(np.asarray(im), x.astype(np.float32))


def test_a_result_a_tiff_cannot_hold_is_refused(tmp_path):
    """uint32 and 64-bit integers (Pillow writes int32 at most) would lose digits: refused, naming .npy."""
    x = np.array([[123456789, 987654321], [100000001, 4000000000]])
    for kind in (np.uint32, np.uint64, np.int64):
        np.save(tmp_path / "u.npy", x.astype(kind))
        r = run(tmp_path, "pad", "u.npy", "-p", "0", "-o", "o.tif")
        assert r.returncode == 2 and not (tmp_path / "o.tif").exists(), r.stderr
        line = r.stderr.strip().splitlines()[-1]
        assert line.startswith("error: o.tif: TIFF holds at most int32") and "write .npy to keep its values" in line, r.stderr
        assert "Traceback" not in r.stderr


# ----------------------------------------------------------------------------- 16-bit arrays


@pytest.mark.parametrize("suffix", [".png", ".tif"])
def test_a_16_bit_array_stays_16_bit_when_rescaled(tmp_path, suffix):
    x = np.array([[1000, 20000], [40000, 65000]], dtype=np.uint16)
    np.save(tmp_path / "u16.npy", x)
    r = run(tmp_path, "convolve", "u16.npy", "-k", "identity", "-o", f"c{suffix}", "--rescale", "clip", "-q")
    assert r.returncode == 0, r.stderr
    r = run(tmp_path, "pad", "u16.npy", "-p", "0", "-o", f"p{suffix}", "-q")
    assert r.returncode == 0, r.stderr
    for name in ("c", "p"):
        loaded = read_input(tmp_path / f"{name}{suffix}")
        assert loaded.data.dtype == np.uint16 and np.array_equal(loaded.data, x), name


def test_a_16_bit_array_without_rescale_names_the_16_bit_image(tmp_path):
    np.save(tmp_path / "u16.npy", np.array([[1000, 20000]], dtype=np.uint16))
    r = run(tmp_path, "convolve", "u16.npy", "-k", "identity", "-o", "c.png")
    assert r.returncode == 2 and "pass --rescale clip|abs|minmax (convolve, pool) for a 16-bit image" in r.stderr, r.stderr


# ----------------------------------------------------------------------------- bool arrays


def test_a_bool_array_pads_as_numpy_pads_it(tmp_path):
    x = np.random.default_rng(0).integers(0, 2, (4, 5)).astype(bool)
    np.save(tmp_path / "b.npy", x)
    for value in ("0", "1"):
        r = run(tmp_path, "pad", "b.npy", "-p", "1", "--value", value, "-o", f"b{value}.npy", "-q", "--force")
        assert r.returncode == 0, r.stderr
        padded = np.load(tmp_path / f"b{value}.npy")
        assert padded.dtype == bool and np.array_equal(padded, np.pad(x, 1, constant_values=bool(int(value))))
    r = run(tmp_path, "pad", "b.npy", "-p", "1", "--value", "2", "-o", "b2.npy")
    assert r.returncode == 2 and "--pad-value 2 does not fit bool: expected 0 or 1" in r.stderr, r.stderr


@pytest.mark.parametrize("channels", [1, 3], ids=["grey", "rgb"])
@pytest.mark.parametrize("shape", [(40, 40), (30, 50)], ids=["square", "oblong"])
@pytest.mark.parametrize("orientation", [1, 3, 6, 8])
def test_a_turned_tiff_is_turned_or_refused_never_scrambled(tmp_path, shape, orientation, channels):
    # Pillow 13 turns an oblong greyscale TIFF with Orientation 5-8 at the wrong row length: the image was read
    # scrambled and convolved without a word (a colour one it turns right)
    tifffile = pytest.importorskip("tifffile")
    x = np.random.default_rng(0).integers(0, 256, shape + ((channels,) if channels > 1 else ()), dtype=np.uint8)
    tifffile.imwrite(tmp_path / "o.tif", x, extratags=[(274, "H", 1, orientation, True)])
    r = run(tmp_path, "pad", "o.tif", "-p", "0", "-o", "p.npy", "-q")
    if orientation in (6, 8) and shape[0] != shape[1] and channels == 1:
        assert r.returncode == 2 and "o.tif: declared 30x50 but decoded as 50x30 (its Orientation tag turns it)" in r.stderr
        assert not (tmp_path / "p.npy").exists()
        return
    assert r.returncode == 0, r.stderr
    turned = {1: x, 3: np.rot90(x, 2), 6: np.rot90(x, 3), 8: np.rot90(x, 1)}[orientation]
    assert np.array_equal(np.load(tmp_path / "p.npy"), turned)
