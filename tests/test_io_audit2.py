"""The second audit of image input and output: what it found drawn, rounded or dropped in silence.

A minmax stretch of a float32 result whose range overflows float32 arithmetic, a gallery tile of
a range too small for ``255 / (hi - lo)``, int64 values past 2**53 through a float64 filter, a
16-bit grey + alpha PNG at every ``--compress`` level, and the words of a layout refusal.
"""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from conftest import documentation, run_in_process

from kernelcli.io.integer_range import to_integer_range
from kernelcli.montage import to_display


def run(tmp_path, *args: str):
    return run_in_process(*args, cwd=tmp_path, env={"KERNELCLI_WORKER": "off"})


def plain_stretch(values, top: int) -> np.ndarray:
    """min..max onto 0..top, in exact rational arithmetic rounded half to even (the reference)."""
    from fractions import Fraction

    v = np.asarray(values, dtype=np.float64)
    lo, hi = Fraction(float(v.min())), Fraction(float(v.max()))
    return np.array([round((Fraction(float(x)) - lo) * top / (hi - lo)) for x in v.ravel()]).reshape(v.shape)


#: ranges float32 arithmetic cannot stretch (hi - lo overflows; 255 / (hi - lo) overflows) and float64's ends
WIDE_AND_NARROW = [
    np.array([[-3e38, 0, 3e38], [1e38, -1e38, 2e38]], dtype=np.float32),
    np.array([[0, 1e-37], [5e-38, 2e-37]], dtype=np.float32),
    np.array([[0, 1e-45], [4e-45, 3e-45]], dtype=np.float32),
    np.array([[-1.5e308, 0.0, 1.5e308], [1e308, -1e308, 1.2e308]]),
    np.array([[0.0, 1e-310], [5e-311, 2e-310]]),
    np.array([[0.0, 5e-324, 1e-323, 1.5e-323]]),
    np.array([[-3.0, 0.0, 2.0, 9.0]], dtype=np.float32),
]


class TestMinmaxStretch:
    @pytest.mark.parametrize("values", WIDE_AND_NARROW, ids=range(len(WIDE_AND_NARROW)))
    @pytest.mark.parametrize("bits", [8, 16])
    def test_any_finite_range_is_stretched_min_to_0_and_max_to_the_top(self, values, bits):
        top = 255 if bits == 8 else 65535
        got = to_integer_range(values, bits, "minmax")[0]
        np.testing.assert_array_equal(got, plain_stretch(values, top))

    @pytest.mark.parametrize("bits", [8, 16])
    def test_a_value_on_a_half_is_rounded_to_even_exactly(self, bits):
        # 25 in 0..50 was (25 - 0) * (255 / 50) = 127.49999999999999 -> 127, not 127.5 -> 128
        top = 255 if bits == 8 else 65535
        for span in (50, 58, 100, 106, 116, 254, 398):
            values = np.arange(span + 1, dtype=np.int32) - 7
            np.testing.assert_array_equal(to_integer_range(values, bits, "minmax")[0], plain_stretch(values, top))
            np.testing.assert_array_equal(to_integer_range(values.astype(np.float32), bits, "minmax")[0], plain_stretch(values, top))

    @pytest.mark.parametrize("values", WIDE_AND_NARROW, ids=range(len(WIDE_AND_NARROW)))
    def test_the_written_stretch_is_gallerys(self, values):
        np.testing.assert_array_equal(to_integer_range(values, 8, "minmax")[0], to_display(values))

    def test_random_float32_results_are_stretched_as_gallery_stretches_them(self):
        x = np.random.default_rng(5).normal(0, 1, (300, 200)).astype(np.float32) * np.float32(1e-3)
        np.testing.assert_array_equal(to_integer_range(x, 8, "minmax")[0], to_display(x))

    @pytest.mark.parametrize("command", [["convolve", "-k", "1x1: 1"], ["pool", "-f", "1"]])
    @pytest.mark.parametrize("name", ["big32", "tiny32"])
    def test_the_cli_writes_the_stretch(self, tmp_path, command, name):
        values = WIDE_AND_NARROW[0 if name == "big32" else 1]
        np.save(tmp_path / f"{name}.npy", values)
        r = run(tmp_path, command[0], f"{name}.npy", *command[1:], "--rescale", "minmax", "-o", "o.png", "-q")
        assert r.returncode == 0, r.stderr
        with Image.open(tmp_path / "o.png") as im:
            np.testing.assert_array_equal(np.asarray(im), plain_stretch(values, 255))


class TestGalleryStretch:
    def test_a_range_too_small_for_255_over_it_is_still_stretched(self):
        # 255 / 2e-310 is inf: 0 * inf was NaN, every pixel black
        np.testing.assert_array_equal(to_display(np.array([[0, 1e-310], [5e-311, 2e-310]])), [[0, 128], [64, 255]])

    def test_a_gallery_of_a_subnormal_ramp_draws_it_as_the_ramp(self, tmp_path):
        ramp = np.linspace(0, 1, 64 * 64).reshape(64, 64)
        np.save(tmp_path / "one.npy", ramp)
        np.save(tmp_path / "sub.npy", ramp * 1e-310)
        sheets = []
        for name in ("one", "sub"):
            r = run(tmp_path, "gallery", f"{name}.npy", "--family", "smoothing", "-o", f"{name}.png", "-q")
            assert r.returncode == 0, r.stderr
            with Image.open(tmp_path / f"{name}.png") as im:
                sheets.append(np.asarray(im.convert("L")))
        # the same tiles; only the labels' ranges differ (a few text pixels)
        assert sheets[0].shape == sheets[1].shape and np.mean(sheets[0] != sheets[1]) < 0.03


class TestWholeNumbersPast2To53:
    BIG = 2**53 + 1

    @pytest.mark.parametrize("command", [["convolve", "-k", "1x1: 1"], ["pool", "-f", "1", "--op", "avg"],
                                         ["convolve", "-k", "sobel_v", "-k", "sobel_h"], ["gallery", "--family", "smoothing"]])
    def test_an_int64_value_float64_would_round_is_refused_naming_it(self, tmp_path, command):
        # it was written as 9007199254740992.0, exit 0, though the text reader sends one here "to keep it"
        np.save(tmp_path / "big.npy", np.array([[self.BIG, 1], [1, 1]], dtype=np.int64))
        out = "o.png" if command[0] == "gallery" else "o.npy"
        r = run(tmp_path, command[0], "big.npy", *command[1:], "-o", out)
        assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
        assert "big.npy" in r.stderr and "the first, at (0, 0), is 9007199254740993, which float64 reads as 9007199254740992" in r.stderr, r.stderr
        assert not (tmp_path / out).exists()

    def test_a_3d_average_refuses_it_too(self, tmp_path):
        np.save(tmp_path / "v.npy", np.full((3, 4, 5), self.BIG, dtype=np.int64))
        r = run(tmp_path, "pool", "v.npy", "--layout", "zyx", "-f", "1", "--op", "avg", "-o", "o.npy")
        assert r.returncode == 2 and "60 value(s) past 2**53" in r.stderr, r.stderr

    @pytest.mark.parametrize("command", [["pad", "-p", "1"], ["pool", "-f", "1", "--op", "max"]])
    def test_pad_and_max_pooling_keep_it(self, tmp_path, command):
        np.save(tmp_path / "big.npy", np.array([[self.BIG, 1], [1, 1]], dtype=np.int64))
        r = run(tmp_path, command[0], "big.npy", *command[1:], "-o", "o.npy")
        assert r.returncode == 0, r.stderr
        assert self.BIG in np.load(tmp_path / "o.npy").ravel().tolist()

    def test_values_float64_holds_and_an_asked_float64_pass(self):
        from kernelcli import conv2d, pool2d

        exact = np.array([[2**62, 1], [-(2**53), 2**53]], dtype=np.int64)
        assert conv2d(exact, [[1]])[0, 0] == 2**62 and pool2d(exact, 1, op="avg")[0, 0] == 2**62
        big = np.array([[self.BIG, 1]], dtype=np.uint64)
        assert conv2d(big, [[1]], dtype="float64")[0, 0] == 2**53

    def test_the_api_refuses_it_on_the_default_and_rounded_dtypes(self):
        from kernelcli import conv2d, pool2d
        from kernelcli.errors import UsageError

        big = np.array([[self.BIG, 1]], dtype=np.int64)
        for call in (lambda: conv2d(big, [[1]]), lambda: conv2d(big, [[1]], dtype="uint8"), lambda: pool2d(big, 1, op="avg")):
            with pytest.raises(UsageError, match=r"x: 1 value\(s\) past 2\*\*53"):
                call()

    def test_the_text_reader_no_longer_promises_what_convolve_refuses(self, tmp_path):
        (tmp_path / "big.csv").write_text("9007199254740993,1\n1,1\n")
        r = run(tmp_path, "convolve", "big.csv", "-k", "1x1: 1")
        assert r.returncode == 2 and "an int64 .npy keeps it through pad and pool --op max|min" in r.stderr, r.stderr


class TestSixteenBitGreyAlphaAtEveryLevel:
    @pytest.mark.parametrize("command", [["pad", "-p", "1"], ["convolve", "-k", "1x1: 1"], ["pool", "-f", "1"]])
    def test_every_compress_level_keeps_the_alpha(self, tmp_path, command):
        # none/default/best wrote 16-bit grey alone, "la16_none.png does not hold the alpha channel, so it is dropped"
        from kernelcli.io.formats import read_input
        from kernelcli.io.png import write_png

        rng = np.random.default_rng(8)
        with open(tmp_path / "la16.png", "wb") as f:
            write_png(f, rng.integers(0, 2**16, (6, 10, 2)).astype(np.uint16))
        written = {}
        for level in ("fast", "none", "default", "best"):
            r = run(tmp_path, command[0], "la16.png", *command[1:], "-o", f"{level}.png", "--compress", level)
            assert r.returncode == 0 and "alpha" not in r.stderr, r.stderr
            assert (tmp_path / f"{level}.png").read_bytes()[24:26] == b"\x10\x04"  # 16-bit grey + alpha
            loaded = read_input(tmp_path / f"{level}.png")
            written[level] = (loaded.data, loaded.alpha)
        for level in ("none", "default", "best"):
            for got, fast in zip(written[level], written["fast"]):
                np.testing.assert_array_equal(got, fast)

    def test_a_16_bit_alpha_into_a_tiff_names_png_to_keep_it(self, tmp_path):
        from kernelcli.io.png import write_png

        with open(tmp_path / "la16.png", "wb") as f:
            write_png(f, np.full((4, 5, 2), 40000, np.uint16))
        r = run(tmp_path, "pad", "la16.png", "-p", "1", "-o", "o.tif")
        assert r.returncode == 0 and "o.tif does not hold the alpha channel, so it is dropped; write .png to keep it" in r.stderr, r.stderr


class TestWordsAndReadme:
    def test_one_channel_and_one_slice_are_singular(self, tmp_path):
        # "(C, H, W) = 1 channels of 5x6 (PyTorch) or a (Z, Y, X) volume of 1 slices"
        np.save(tmp_path / "s.npy", np.zeros((1, 5, 6)))
        r = run(tmp_path, "pad", "s.npy", "-p", "0", "-o", "o.npy")
        assert r.returncode == 2 and "(C, H, W) = 1 channel of 5x6 (PyTorch) or a (Z, Y, X) volume of 1 slice;" in r.stderr, r.stderr

    def test_the_readme_says_16_bit_colour_is_read_as_8_bits_and_which_turned_tiffs_are_refused(self, tmp_path):
        # it said "A 16-bit input stays 16-bit", and named only greyscale TIFFs as refused when turned a quarter
        from kernelcli.io.png import write_png

        readme = " ".join(documentation().split())
        assert "A 16-bit input stays 16-bit" not in readme and "A 16-bit grey input stays 16-bit" in readme
        assert "16-bit RGB and RGBA (PNG, TIFF) are read as 8 bits a channel, the high byte of each sample" in readme
        assert "an oblong greyscale TIFF whose Orientation" not in readme
        assert "8- and 16-bit grey, int8, RGBA, palette and CMYK" in readme
        rgb = np.random.default_rng(2).integers(0, 2**16, (4, 6, 3)).astype(np.uint16)
        with open(tmp_path / "rgb16.png", "wb") as f:
            write_png(f, rgb)
        r = run(tmp_path, "pad", "rgb16.png", "-p", "0", "-o", "o.png")
        assert r.returncode == 0 and "16-bit colour is read as 8 bits" in r.stderr, r.stderr
        with Image.open(tmp_path / "o.png") as im:
            np.testing.assert_array_equal(np.asarray(im), rgb >> 8)


class TestShortPngData:
    """The README audit (96): a PNG whose image data stops before its last row (a complete zlib stream of 10 of 100
    rows) was read with the other 90 rows as zeros, exit 0, where libpng and ImageMagick refuse it."""

    @staticmethod
    def png(path, rows, *, interlaced=False, fill=0x80, width=100, height=100):
        import struct
        import zlib

        def chunk(kind, data):
            return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

        header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 1 if interlaced else 0)
        raw = (b"\x00" + bytes([fill]) * width) * rows
        if interlaced:  # Adam7's passes (column, row, steps), ``rows`` of the image's rows' worth of them
            passes = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2))
            raw = b"".join((b"\x00" + bytes([fill]) * -(-(width - x0) // dx)) * -(-(height - y0) // dy) for x0, y0, dx, dy in passes)
            raw = raw[: len(raw) * rows // height]
        path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
        return path

    @pytest.mark.parametrize("interlaced", [False, True])
    def test_missing_rows_are_refused(self, tmp_path, interlaced):
        self.png(tmp_path / "short.png", 10, interlaced=interlaced)
        r = run_in_process("convolve", "short.png", "-k", "box:3", "-o", "o.npy", cwd=tmp_path)
        # (Pillow itself refuses an interlaced one: "image file is truncated")
        assert r.returncode == 2 and "short.png: cannot decode image (broken or truncated?): " in r.stderr
        assert ("image file is truncated" if interlaced else "its image data holds 10 of the 100 rows its header declares") in r.stderr
        assert not (tmp_path / "o.npy").exists()

    @pytest.mark.parametrize("fill", [0, 0x80])
    def test_a_whole_image_is_read_whatever_its_last_row(self, tmp_path, fill):
        from kernelcli.io import read_input

        self.png(tmp_path / "whole.png", 100, fill=fill)
        data = read_input(tmp_path / "whole.png").data
        assert data.shape == (100, 100) and (data == fill).all()
