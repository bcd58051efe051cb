"""JPEG --quality and PNG --compress: declared once, honoured by every command that writes images."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from kernelcli.errors import UsageError
from kernelcli.io import Encoding, write_output
from kernelcli.modes import JPEG_QUALITY, PNG_COMPRESSION

from conftest import SAMPLES, pixels


def pil_bytes(data: np.ndarray, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(data).save(buffer, format=fmt, **options)
    return buffer.getvalue()


@pytest.fixture
def image():
    y, x = np.mgrid[0:96, 0:128]
    return np.stack([(x * 2) % 256, (y * 3) % 256, (x + y) % 256], axis=-1).astype(np.uint8)


class TestEncoding:
    @pytest.mark.parametrize("quality", [JPEG_QUALITY, 40])
    def test_jpeg_quality_is_pillows(self, tmp_path, image, quality):
        out = tmp_path / "x.jpg"
        write_output(out, image, encoding=Encoding(quality=quality))
        assert out.read_bytes() == pil_bytes(image, "JPEG", quality=quality)

    def test_jpeg_default_is_95(self, tmp_path, image):
        write_output(tmp_path / "x.jpg", image)
        assert (tmp_path / "x.jpg").read_bytes() == pil_bytes(image, "JPEG", quality=95)

    @pytest.mark.parametrize("name", [name for name in PNG_COMPRESSION if name != "fast"])
    def test_png_compress_levels(self, tmp_path, image, name):
        out = tmp_path / "x.png"
        write_output(out, image, encoding=Encoding(compress=name))
        assert out.read_bytes() == pil_bytes(image, "PNG", compress_level=PNG_COMPRESSION[name])
        assert np.array_equal(pixels(out), image)  # lossless whatever the level

    def test_png_fast_is_kernelclis_encoder(self, tmp_path, image):
        """``fast`` is kernelcli.io.png (Up filter, deflate level 1), lossless like the others."""
        from kernelcli.io.png import write_png

        out = tmp_path / "x.png"
        write_output(out, image, encoding=Encoding(compress="fast"))
        buffer = io.BytesIO()
        write_png(buffer, image)
        assert out.read_bytes() == buffer.getvalue() != pil_bytes(image, "PNG", compress_level=1)
        assert np.array_equal(pixels(out), image)

    def test_png_default_is_fast(self, tmp_path, image):
        write_output(tmp_path / "x.png", image)
        write_output(tmp_path / "fast.png", image, encoding=Encoding(compress="fast"))
        assert (tmp_path / "x.png").read_bytes() == (tmp_path / "fast.png").read_bytes()

    @pytest.mark.parametrize("kwargs", [{"quality": 0}, {"quality": 101}, {"compress": "max"}])
    def test_bad_values(self, kwargs):
        with pytest.raises(UsageError):
            Encoding(**kwargs)


class TestCommands:
    @pytest.mark.parametrize("args", [
        ["convolve", str(SAMPLES / "rgb.png"), "-k", "box:3"],
        ["pool", str(SAMPLES / "rgb.png"), "--size", "2"],
        ["pad", str(SAMPLES / "rgb.png"), "-p", "3"],
        ["gallery", str(SAMPLES / "rgb.png"), "--family", "edge"],
    ])
    def test_every_image_command_takes_both(self, invoke, tmp_path, args):
        r = invoke(*args, "--out", "q30.jpg", "--quality", "30", "-q")
        assert r.exit_code == 0, r.output
        r = invoke(*args, "--out", "q95.jpg", "-q")
        assert r.exit_code == 0, r.output
        assert (tmp_path / "q30.jpg").stat().st_size < (tmp_path / "q95.jpg").stat().st_size
        r = invoke(*args, "--out", "best.png", "--compress", "best", "-q")
        assert r.exit_code == 0, r.output
        r = invoke(*args, "--out", "fast.png", "-q")
        assert r.exit_code == 0, r.output
        assert np.array_equal(pixels(tmp_path / "best.png"), pixels(tmp_path / "fast.png"))
        assert (tmp_path / "best.png").stat().st_size <= (tmp_path / "fast.png").stat().st_size

    def test_bad_values_exit_2(self, invoke):
        r = invoke("convolve", str(SAMPLES / "rgb.png"), "-k", "box:3", "--out", "x.png", "--compress", "max")
        assert r.exit_code == 2 and "none, fast, default, best" in r.output


@pytest.mark.parametrize("mode", ["L", "LA", "RGB", "RGBA"])
def test_pixels_are_unpacked_as_numpy_would(monkeypatch, mode):
    """Decoded pixels go chunk by chunk straight into the array (no joined copy): the same
    values, shape and read-only flag as ``np.asarray`` of the image, however the chunks fall."""
    import numpy as np
    from PIL import Image

    from kernelcli.io import images

    bands = len(mode)
    data = np.random.default_rng(9).integers(0, 256, (37, 53, bands), dtype=np.uint8)
    im = Image.fromarray(data[..., 0] if bands == 1 else data, mode=mode)
    monkeypatch.setattr(images, "_UNPACK_BYTES", 301)  # many chunks (a row each, 212 bytes at most)
    got, want = images._pixels(im), np.asarray(im)
    assert got.shape == want.shape and got.dtype == want.dtype and not got.flags.writeable
    np.testing.assert_array_equal(got, want)
