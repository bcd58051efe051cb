"""How image and matrix files are read and written: what an audit found read wrongly, or in silence.

Each input here is one a careless reader misreads without a word: a 16-bit colour TIFF stored in
planes, a CSV with decimal commas or empty cells, samples of unspecified meaning, a filtered
channel that would become alpha, a grey palette.  Every one is now read right, said in a note, or
refused with one line (exit 2) saying what it is and what to do.  The TIFF, BMP and JPEG inputs
are built byte by byte, so only the tiled path's tests need the ``[distributed]`` extra.
"""

from __future__ import annotations

import io
import re
import shutil
import struct

import numpy as np
import pytest
from PIL import Image

from conftest import SAMPLES, run_in_process

from kernelcli.io.formats import read_input


def run(tmp_path, *args: str, env: dict | None = None):
    return run_in_process(*args, cwd=tmp_path, env={"KERNELCLI_WORKER": "off", **(env or {})})


def refused(r, code: int, *words: str) -> None:
    """Exit ``code`` with one error line on stderr holding ``words``, no traceback."""
    assert r.returncode == code, (r.returncode, r.stderr)
    errors = [line for line in r.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "Traceback" not in r.stderr, r.stderr
    for word in words:
        assert word in errors[0], (word, errors[0])


def tiff(a: np.ndarray, *, photometric: int, planar: int = 1, extras: tuple[int, ...] = ()) -> bytes:
    """An uncompressed little-endian TIFF of ``a`` ((H, W) or (H, W, C)) with these tags: one strip
    (one a plane when ``planar`` is 2), BitsPerSample and SampleFormat from ``a``'s type."""
    a = np.ascontiguousarray(a, dtype=a.dtype.newbyteorder("<"))
    h, w = a.shape[:2]
    c = 1 if a.ndim == 2 else a.shape[2]
    planes = [np.ascontiguousarray(a[..., k]).tobytes() for k in range(c)] if planar == 2 else [a.tobytes()]
    kind = {"u": 1, "i": 2, "f": 3}[a.dtype.kind]
    entries = [(256, 4, [w]), (257, 4, [h]), (258, 3, [a.itemsize * 8] * c), (259, 3, [1]), (262, 3, [photometric]),
               (273, 4, [0] * len(planes)), (277, 3, [c]), (278, 4, [h]), (279, 4, [len(p) for p in planes]),
               (284, 3, [planar]), (339, 3, [kind] * c)]
    if extras:
        entries.append((338, 3, list(extras)))
    entries.sort()
    size = {3: 2, 4: 4}
    ifd_end = 8 + 2 + 12 * len(entries) + 4
    spill = sum(size[t] * len(v) for _, t, v in entries if size[t] * len(v) > 4)
    offsets = np.cumsum([ifd_end + spill] + [len(p) for p in planes[:-1]]).tolist()
    entries = [(tag, t, offsets if tag == 273 else v) for tag, t, v in entries]
    ifd, extra = struct.pack("<H", len(entries)), b""
    for tag, t, values in entries:
        packed = struct.pack(f"<{len(values)}{'H' if t == 3 else 'I'}", *values)
        if len(packed) <= 4:
            ifd += struct.pack("<HHI", tag, t, len(values)) + packed.ljust(4, b"\0")
        else:
            ifd += struct.pack("<HHII", tag, t, len(values), ifd_end + len(extra))
            extra += packed
    return b"II*\x00" + struct.pack("<I", 8) + ifd + struct.pack("<I", 0) + extra + b"".join(planes)


def rgb565_bmp(h: int, w: int) -> bytes:
    """A 16-bit-a-pixel BMP (RGB565 bit fields): 16 bits a pixel, not a channel."""
    rows = b"".join(struct.pack(f"<{w}H", *[(x * 2021 + y * 977) & 0xFFFF for x in range(w)]).ljust((2 * w + 3) // 4 * 4, b"\0")
                    for y in range(h))
    info = struct.pack("<IiiHHIIiiII", 40, w, h, 1, 16, 3, len(rows), 2835, 2835, 0, 0) + struct.pack("<III", 0xF800, 0x07E0, 0x001F)
    head = b"BM" + struct.pack("<IHHI", 14 + len(info) + len(rows), 0, 0, 14 + len(info))
    return head + info + rows


RNG = np.random.default_rng(13)


# ----------------------------------------------------------------------------- 1. 16-bit colour in planes


def test_a_16_bit_colour_tiff_in_planes_is_refused_not_read_as_8_bit_planes(tmp_path):
    """Pillow unpacked each 16-bit plane as 8-bit samples: another image, exit 0, no note."""
    a = RNG.integers(0, 65536, (12, 16, 3), dtype=np.uint16)
    (tmp_path / "p16.tif").write_bytes(tiff(a, photometric=2, planar=2))
    r = run(tmp_path, "pad", "p16.tif", "-p", "0", "-o", "o.npy")
    refused(r, 2, "p16.tif", "16-bit", "separate planes", "PlanarConfiguration")
    assert not (tmp_path / "o.npy").exists()


def test_an_8_bit_colour_tiff_in_planes_is_still_read(tmp_path):
    a = RNG.integers(0, 256, (6, 7, 3), dtype=np.uint8)
    (tmp_path / "p8.tif").write_bytes(tiff(a, photometric=2, planar=2))
    assert np.array_equal(read_input(tmp_path / "p8.tif").data, a)


# ----------------------------------------------------------------------------- 2, 3. text matrices


@pytest.mark.parametrize("text, words", [
    ("1,5;2,5;3,5\n4,5;5,5;6,5\n", ["line 1", "two ways", "(1.5, 2.5, 3.5)", "(1, 5, 2, 5, ...)"]),
    ("1,5 2,5\n", ["line 1", "two ways", "(1.5, 2.5)", "(1, 5, 2, 5)"]),
    ("1,2;3,4\n", ["line 1", "two ways"]),
    ("1;2\n3;4,5\n", ["line 2", "(3, 4.5)", "(3, 4, 5)"]),
])
def test_a_matrix_line_that_reads_two_ways_is_refused_naming_both(tmp_path, text, words):
    """``1,5;2,5;3,5`` became a 2x6 matrix: ',' and ';' were both separators."""
    (tmp_path / "eu.csv").write_text(text)
    refused(run(tmp_path, "pad", "eu.csv", "-p", "0"), 2, "eu.csv", *words)


@pytest.mark.parametrize("text, line, cell", [
    ("1,,3\n4,,6\n", 1, 2),    # read [[1, 3], [4, 6]]: the columns shifted
    (",1,2\n3,4,5\n", 1, 1),   # the leading empty cell vanished
    ("1,,3\n4,5,6\n", 1, 2),   # line 2 was blamed
    ("1;2\n3; ;4\n", 2, 2),
    ("1,2,\n3,4,\n", 1, 3),
])
def test_an_empty_matrix_cell_is_refused_naming_its_line_and_cell(tmp_path, text, line, cell):
    (tmp_path / "gap.csv").write_text(text)
    refused(run(tmp_path, "pad", "gap.csv", "-p", "0"), 2, "gap.csv", f"line {line}, cell {cell}: empty")


def test_the_separators_a_matrix_took_still_read_it(tmp_path):
    (tmp_path / "m.csv").write_text("1, 2  3 # a comment\n4;5;6\n7 8 9\n1.5,2.5,-3e2\n")
    assert read_input(tmp_path / "m.csv").data.tolist() == [[1, 2, 3], [4, 5, 6], [7, 8, 9], [1.5, 2.5, -300]]


# ----------------------------------------------------------------------------- 4, 5. the tiled path's TIFFs


def _tiled_peers():
    for name in ("tifffile", "dask", "zarr"):
        pytest.importorskip(name)


def test_an_lzw_tiff_tile_by_tile_without_imagecodecs_is_refused_naming_it(tmp_path):
    """tifffile needs imagecodecs for LZW: the error came when dask computed the first tile (exit 70)."""
    _tiled_peers()
    try:
        import imagecodecs  # noqa: F401
        pytest.skip("imagecodecs is installed: the tiled path reads LZW")
    except ImportError:
        pass
    Image.fromarray(RNG.integers(0, 65536, (300, 300), dtype=np.uint16)).save(tmp_path / "lzw.tif", compression="tiff_lzw")
    r = run(tmp_path, "pad", "lzw.tif", "-p", "1", "--tiled", "-o", "t.npy")
    refused(r, 2, "lzw.tif", "LZW", "pip install imagecodecs")
    # above the memory cap it is read in memory (where Pillow reads LZW), which refuses it for its size
    r = run(tmp_path, "convolve", "lzw.tif", "-k", "sobel_v", "-o", "big.npy", env={"KERNELCLI_MAX_MEMORY": "1M"})
    refused(r, 2, "lzw.tif", "KERNELCLI_MAX_MEMORY")
    r = run(tmp_path, "convolve", "lzw.tif", "-k", "sobel_v", "-o", "big.npy", env={"KERNELCLI_MAX_MEMORY": "16M"})
    assert r.returncode == 0, r.stderr


def test_extra_samples_of_unspecified_meaning_are_refused_tile_by_tile(tmp_path):
    """A grey TIFF with 4 more samples was read tile by tile as RGB (samples 0-2), exit 0."""
    _tiled_peers()
    (tmp_path / "ms5.tif").write_bytes(tiff(RNG.integers(0, 256, (12, 16, 5), dtype=np.uint8), photometric=1, extras=(0, 0, 0, 0)))
    (tmp_path / "rgbx.tif").write_bytes(tiff(RNG.integers(0, 256, (12, 16, 4), dtype=np.uint8), photometric=2, extras=(0,)))
    # (rgbx.tif is read in memory, as RGB with a note: leaving out --tiled is the way; ms5.tif neither reader takes,
    # so it is not sent to the other path: audit 174 #3)
    refused(run(tmp_path, "pad", "rgbx.tif", "-p", "0", "--tiled", "-o", "t.npy"), 2, "rgbx.tif", "ExtraSamples", "leave out --tiled")
    refused(run(tmp_path, "pad", "ms5.tif", "-p", "0", "--tiled", "-o", "t.npy"), 2, "ms5.tif", "ExtraSamples",
            "neither the tiled path nor the in-memory reader reads it")


def test_an_alpha_sample_is_still_taken_off_tile_by_tile(tmp_path):
    _tiled_peers()
    a = RNG.integers(0, 256, (12, 16, 2), dtype=np.uint8)
    (tmp_path / "la.tif").write_bytes(tiff(a, photometric=1, extras=(2,)))
    r = run(tmp_path, "pad", "la.tif", "-p", "0", "--tiled", "-o", "t.npy")
    assert r.returncode == 0, r.stderr
    assert np.array_equal(np.load(tmp_path / "t.npy"), a[..., 0])


def test_an_extra_sample_of_unspecified_meaning_dropped_in_memory_is_said(tmp_path):
    """Pillow reads RGB + an unspecified sample as RGB: the 4th sample went without a word."""
    a = RNG.integers(0, 256, (6, 7, 4), dtype=np.uint8)
    (tmp_path / "rgbx.tif").write_bytes(tiff(a, photometric=2, extras=(0,)))
    loaded = read_input(tmp_path / "rgbx.tif")
    assert np.array_equal(loaded.data, a[..., :3])
    assert any("4 samples per pixel, read as RGB" in n and "ExtraSamples 0" in n and "dropped" in n for n in loaded.notes), loaded.notes


# ----------------------------------------------------------------------------- 6. filtered channels into images


@pytest.mark.parametrize("channels", [2, 4])
@pytest.mark.parametrize("out", ["o.jpg", "o.bmp", "o.png", "o.tif"])
def test_a_2_or_4_channel_result_is_refused_for_an_image(tmp_path, channels, out):
    """JPEG and BMP dropped a channel; PNG and TIFF took the last filtered one as alpha; 2 to BMP failed late (exit 1)."""
    np.save(tmp_path / "c.npy", RNG.integers(0, 255, (4, 5, channels), dtype=np.uint8))
    r = run(tmp_path, "pad", "c.npy", "-p", "0", "--layout", "hwc", "-o", out)
    refused(r, 2, out, f"{channels} channels", ".npy")
    assert not (tmp_path / out).exists()


def test_the_channel_refusal_comes_before_the_work(tmp_path):
    """The padding here would be refused for its memory: the channels are refused first."""
    np.save(tmp_path / "c.npy", RNG.integers(0, 255, (4, 5, 4), dtype=np.uint8))
    r = run(tmp_path, "pad", "c.npy", "-p", "100000", "--layout", "hwc", "-o", "o.png")
    refused(r, 2, "o.png", "4 channels")


def test_an_input_alpha_is_still_carried(tmp_path):
    x = RNG.integers(0, 256, (6, 7, 4), dtype=np.uint8)
    Image.fromarray(x, "RGBA").save(tmp_path / "rgba.png")
    r = run(tmp_path, "convolve", "rgba.png", "-k", "identity", "-o", "o.png")
    assert r.returncode == 0, r.stderr
    assert np.array_equal(np.asarray(Image.open(tmp_path / "o.png")), x)


# ----------------------------------------------------------------------------- 8. valid but unsupported


def test_valid_tiffs_pillow_does_not_decode_are_described_not_called_broken(tmp_path):
    cases = {
        "f64.tif": (tiff(RNG.normal(size=(6, 7)), photometric=1), "64-bit floating-point"),
        "f32rgb.tif": (tiff(RNG.random((6, 7, 3), dtype=np.float32), photometric=2), "3 samples per pixel (RGB) of 32-bit floating-point"),
        "la16.tif": (tiff(RNG.integers(0, 65536, (6, 7, 2), dtype=np.uint16), photometric=1, extras=(2,)), "(greyscale + alpha) of 16-bit"),
        "ms5.tif": (tiff(RNG.integers(0, 256, (6, 7, 5), dtype=np.uint8), photometric=1, extras=(0, 0, 0, 0)), "4 of unspecified meaning"),
    }
    for name, (data, words) in cases.items():
        (tmp_path / name).write_bytes(data)
        r = run(tmp_path, "pad", name, "-p", "0", "-o", "o.npy")
        refused(r, 2, name, "does not decode", words, ".npy")
        assert "broken" not in r.stderr


def test_a_12_bit_jpeg_is_described_and_a_truncated_tiff_still_called_broken(tmp_path):
    buffer = io.BytesIO()
    Image.fromarray(RNG.integers(0, 256, (8, 8), dtype=np.uint8)).save(buffer, format="JPEG")
    b = bytearray(buffer.getvalue())
    at = b.find(b"\xff\xc0")
    b[at + 1], b[at + 4] = 0xC1, 12  # extended sequential, 12-bit samples
    (tmp_path / "j12.jpg").write_bytes(bytes(b))
    refused(run(tmp_path, "pad", "j12.jpg", "-p", "0", "-o", "o.npy"), 2, "j12.jpg", "12-bit samples", "8-bit JPEG")
    (tmp_path / "cut.tif").write_bytes(tiff(RNG.integers(0, 256, (6, 7), dtype=np.uint8), photometric=1)[:60])
    refused(run(tmp_path, "pad", "cut.tif", "-p", "0", "-o", "o.npy"), 2, "cut.tif", "broken or truncated")


# ----------------------------------------------------------------------------- 9. palettes, 16-bit grey + alpha, RGB565


def test_a_grey_palette_reads_as_one_channel_like_the_same_pixels_in_png(tmp_path):
    """A grey GIF became RGB: --combine sum tripled its response against the same pixels as PNG."""
    g = RNG.integers(0, 256, (12, 16), dtype=np.uint8)
    Image.fromarray(g).save(tmp_path / "g.gif")
    Image.fromarray(g).save(tmp_path / "g.png")
    assert np.array_equal(read_input(tmp_path / "g.gif").data, g)
    for name in ("g.gif", "g.png"):
        assert run(tmp_path, "convolve", name, "-k", "sobel_v", "--combine", "sum", "-o", f"{name}.npy", "-q").returncode == 0
    assert np.array_equal(np.load(tmp_path / "g.gif.npy"), np.load(tmp_path / "g.png.npy"))


def test_a_colour_palette_stays_rgb_and_a_grey_one_keeps_its_transparency(tmp_path):
    colour = Image.fromarray(RNG.integers(0, 256, (6, 7, 3), dtype=np.uint8)).convert("P")
    colour.save(tmp_path / "c.png")
    assert read_input(tmp_path / "c.png").data.shape == (6, 7, 3)
    grey = Image.fromarray(np.arange(42, dtype=np.uint8).reshape(6, 7), "P")
    grey.putpalette([v for i in range(256) for v in (i, i, i)])
    grey.save(tmp_path / "t.png", transparency=5)
    loaded = read_input(tmp_path / "t.png")
    assert loaded.data.shape == (6, 7) and loaded.alpha is not None and (loaded.alpha == 0).sum() == 1


def _grey_alpha_16_png(la: np.ndarray) -> bytes:
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    h, w = la.shape[:2]
    raw = b"".join(b"\0" + la[i].astype(">u2").tobytes() for i in range(h))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 16, 4, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def test_a_16_bit_grey_and_alpha_png_reads_as_16_bit_grey_and_keeps_its_alpha(tmp_path):
    """It came out 8-bit RGB, with a note saying "16-bit colour"."""
    la = RNG.integers(0, 65536, (12, 16, 2), dtype=np.uint16)
    (tmp_path / "la16.png").write_bytes(_grey_alpha_16_png(la))
    loaded = read_input(tmp_path / "la16.png")
    assert (loaded.data.dtype, loaded.bit_depth) == (np.uint16, 16)
    assert np.array_equal(loaded.data, la[..., 0]) and np.array_equal(loaded.alpha, la[..., 1])
    assert not any("colour" in n for n in loaded.notes)
    r = run(tmp_path, "convolve", "la16.png", "-k", "identity", "-o", "o.png")
    assert r.returncode == 0 and "colour" not in r.stderr, r.stderr
    again = read_input(tmp_path / "o.png")
    assert np.array_equal(again.data, la[..., 0]) and np.array_equal(again.alpha, la[..., 1])
    r = run(tmp_path, "convolve", "la16.png", "-k", "identity", "-o", "o.tif")  # Pillow writes no 16-bit grey + alpha
    assert r.returncode == 0 and "does not hold the alpha channel" in r.stderr and "write .png to keep it" in r.stderr, r.stderr
    assert np.array_equal(read_input(tmp_path / "o.tif").data, la[..., 0])


def test_an_rgb565_bmp_gets_no_16_bit_colour_note(tmp_path):
    (tmp_path / "565.bmp").write_bytes(rgb565_bmp(5, 6))
    loaded = read_input(tmp_path / "565.bmp")
    assert loaded.data.shape == (5, 6, 3) and not any("16-bit" in n for n in loaded.notes), loaded.notes


def test_a_16_bit_colour_tiff_still_gets_its_note(tmp_path):
    (tmp_path / "c16.tif").write_bytes(tiff(RNG.integers(0, 65536, (4, 5, 3), dtype=np.uint16), photometric=2))
    assert any("16-bit colour is read as 8 bits" in n for n in read_input(tmp_path / "c16.tif").notes)


# ----------------------------------------------------------------------------- 10. the output path


def test_an_output_that_is_a_folder_is_called_one(tmp_path):
    Image.fromarray(RNG.integers(0, 256, (6, 7), dtype=np.uint8)).save(tmp_path / "a.png")
    (tmp_path / "adir").mkdir()
    refused(run(tmp_path, "convolve", "a.png", "-k", "sobel_v", "-o", "adir"), 4, "adir", "is a folder")


def test_a_format_against_the_output_extension_is_refused_naming_both():
    from kernelcli.errors import UsageError
    from kernelcli.io.naming import check_format_agrees

    with pytest.raises(UsageError, match=r"--out fmt\.png names PNG but --format tif names TIFF"):
        check_format_agrees("fmt.png", "tif")
    check_format_agrees("fmt.tiff", "tif")
    check_format_agrees("fmt.jpeg", "jpg")
    check_format_agrees("fmt.png", "tif", from_stdin=True)  # --format then names stdin's format
    check_format_agrees("-", "tif")
    check_format_agrees(None, "tif")


def test_the_cli_refuses_a_format_against_the_output_extension(tmp_path):
    """``-o fmt.png --format tif`` wrote a PNG in silence."""
    Image.fromarray(RNG.integers(0, 256, (6, 7), dtype=np.uint8)).save(tmp_path / "a.png")
    refused(run(tmp_path, "convolve", "a.png", "-k", "sobel_v", "-o", "fmt.png", "--format", "tif"), 2, "fmt.png", "--format tif")


# ----------------------------------------------------------------------------- 11. numbers as text


def test_csv_numbers_read_back_to_the_same_values_in_their_type(tmp_path):
    """Ten significant digits: 2**53 + 2 came out 9.007199255e+15."""
    values = np.array([[1 / 3, 2.0**53 + 2, -0.1], [123456789.123456789, 7.0, 1e-300]])
    np.save(tmp_path / "f64.npy", values)
    np.save(tmp_path / "f32.npy", values.astype(np.float32))
    np.save(tmp_path / "i64.npy", np.array([[2**62 + 1, -5]], dtype=np.int64))
    for name in ("f64", "f32", "i64"):
        assert run(tmp_path, "pad", f"{name}.npy", "-p", "0", "-o", f"{name}.csv", "-q").returncode == 0
    f64 = (tmp_path / "f64.csv").read_text()
    assert f64.splitlines()[0] == "0.3333333333333333,9007199254740994,-0.1" and ",7," in f64
    assert np.array_equal(np.loadtxt(tmp_path / "f64.csv", delimiter=","), values)
    f32 = (tmp_path / "f32.csv").read_text()
    assert f32.startswith("0.33333334,") and np.array_equal(np.loadtxt(tmp_path / "f32.csv", delimiter=",", dtype=np.float32),
                                                             values.astype(np.float32))
    assert (tmp_path / "i64.csv").read_text() == f"{2**62 + 1},-5\n"


def test_the_lecture_matrix_still_prints_whole_numbers(tmp_path):
    from conftest import SAMPLES

    r = run(tmp_path, "convolve", str(SAMPLES / "example1.csv"), "--kernel", "prewitt_v", "--padding", "valid", "-q")
    assert r.stdout == " 6 -9 -8\n-3 -2 -3\n-3  0 -2\n", r.stdout


# ----------------------------------------------------------------------------- 7. resolution and colour profile


def test_a_resolution_and_colour_profile_not_carried_are_said(tmp_path):
    profile = b"an ICC profile's bytes (only carried, never parsed here)"
    Image.fromarray(RNG.integers(0, 256, (8, 8, 3), dtype=np.uint8)).save(tmp_path / "meta.png", dpi=(300, 300), icc_profile=profile)
    r = run(tmp_path, "convolve", "meta.png", "-k", "identity", "-o", "o.png")
    assert r.returncode == 0 and "meta.png: its resolution (300x300 dpi) and ICC profile are not carried to o.png" in r.stderr, r.stderr
    Image.fromarray(RNG.integers(0, 256, (8, 8), dtype=np.uint8)).save(tmp_path / "plain.bmp")  # Pillow's default 96 dpi
    r = run(tmp_path, "pad", "plain.bmp", "-p", "0", "-o", "o.bmp")
    assert r.returncode == 0 and "not carried" not in r.stderr, r.stderr


@pytest.mark.parametrize("name", ["x.png", "x.npy"])
def test_a_file_the_system_will_not_read_is_said_to_be_unreadable_not_broken(tmp_path, monkeypatch, name):
    # batch and vocabulary audits: a file without read permission was 'cannot decode image (broken or truncated?):
    # [Errno 13] Permission denied' (a .npy: 'not a valid .npy array (...)'), pointing at the wrong cause
    import numpy
    from PIL import Image

    from kernelcli.errors import InputError
    from kernelcli.io.formats import read_input

    shutil.copy(SAMPLES / "phantom.png", tmp_path / "x.png")
    numpy.save(tmp_path / "x.npy", numpy.ones((3, 3)))

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Image, "open", refuse)
    monkeypatch.setattr(numpy, "load", refuse)
    with pytest.raises(InputError, match=rf"^{re.escape(str(tmp_path / name))}: cannot read: Permission denied$"):
        read_input(tmp_path / name)


def test_a_truncated_png_is_still_said_to_be_broken(tmp_path):
    from kernelcli.errors import ImageReadError
    from kernelcli.io.formats import read_input

    data = (SAMPLES / "phantom.png").read_bytes()
    (tmp_path / "t.png").write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageReadError, match="broken or truncated"):
        read_input(tmp_path / "t.png")
