"""A JPEG input decoded early on a second thread (:func:`kernelcli.io.decode.begin`, started by
:mod:`kernelcli.cli._early` before the command imports numpy) gives what reading it in its turn
gives: the same bytes, notes, messages and exit codes, for good files and for truncated,
corrupt, oversized and mislabelled ones; errors keep their order (a refused output or kernel
still wins), and nothing is written for a file that fails.  And numpy loads with one
OpenBLAS thread in a plain call, unless the environment says otherwise.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys

import numpy as np
import pytest
from conftest import SAMPLES
from PIL import Image

from kernelcli.cli import run
from kernelcli.io import decode, images


def jpeg_bytes(shape=(96, 128, 3), exif_orientation: int | None = None) -> bytes:
    rng = np.random.default_rng(7)
    y, x = np.mgrid[0 : shape[0], 0 : shape[1]]
    base = 120 + 60 * np.sin(x / 9.0) * np.cos(y / 7.0)
    arr = np.clip(base[..., None] + rng.normal(0, 20, (*shape[:2], 1)) * [1, 0.5, 0.2][: shape[2] if len(shape) == 3 else 1], 0, 255)
    im = Image.fromarray(arr.astype(np.uint8) if len(shape) == 3 else arr[..., 0].astype(np.uint8))
    buf = io.BytesIO()
    kwargs = {}
    if exif_orientation is not None:
        exif = Image.Exif()
        exif[0x0112] = exif_orientation
        kwargs["exif"] = exif.tobytes()
    im.save(buf, format="JPEG", quality=90, **kwargs)
    return buf.getvalue()


def both(tmp_path, monkeypatch, capsys, name: str, content: bytes, args: list[str], out_suffix: str = ".png"):
    """Run ``args`` (``{IN}``/``{OUT}`` filled in) with and without early decoding: each run's
    (exit code, stderr, output bytes or None, temporary files left, files opened twice)."""
    src = tmp_path / name
    src.write_bytes(content)
    opens = []
    real_open = images.open_image

    def counted(*a, **k):
        opens.append(a[0])
        return real_open(*a, **k)

    monkeypatch.setattr(images, "open_image", counted)
    results = []
    for early in (True, False):
        monkeypatch.setattr(decode, "EARLY", early)
        out = tmp_path / f"out_{early}{out_suffix}"
        opens.clear()
        code = run([a.replace("{IN}", str(src)).replace("{OUT}", str(out)) for a in args])
        err = capsys.readouterr().err.replace(str(out), "{OUT}")
        left = sorted(p.name for p in tmp_path.iterdir() if p.name.endswith(".part"))
        results.append((code, err, out.read_bytes() if out.exists() else None, left, len(opens)))
    return results


CONVOLVE = ["convolve", "{IN}", "-k", "sobel_v", "-o", "{OUT}", "-q"]


class TestGoodFiles:
    @pytest.mark.parametrize("shape", [(96, 128, 3), (80, 64)], ids=["rgb", "grey"])
    @pytest.mark.parametrize("suffix", [".png", ".jpg"])
    def test_convolve_gives_the_same_bytes(self, tmp_path, monkeypatch, capsys, shape, suffix):
        early, late = both(tmp_path, monkeypatch, capsys, "photo.jpg", jpeg_bytes(shape), CONVOLVE, suffix)
        assert early[0] == 0 and early[2] is not None
        assert early[:4] == late[:4]
        assert (early[4], late[4]) == (0, 1)  # the early call read the image begin() decoded

    @pytest.mark.parametrize("args", [["pad", "{IN}", "--p", "3", "-m", "reflect", "-o", "{OUT}", "-q"],
                                      ["pool", "{IN}", "--size", "2", "-o", "{OUT}", "-q"],
                                      ["convolve", "{IN}", "-k", "gaussian:1.5", "--then", "maxpool:2", "-o", "{OUT}", "-q"]],
                             ids=["pad", "pool", "chain"])
    def test_pad_pool_and_chains_give_the_same_bytes(self, tmp_path, monkeypatch, capsys, args):
        early, late = both(tmp_path, monkeypatch, capsys, "photo.JPEG", jpeg_bytes(), args)
        assert early[0] == 0 and early[:4] == late[:4] and (early[4], late[4]) == (0, 1)

    def test_an_exif_rotation_is_still_applied(self, tmp_path, monkeypatch, capsys):
        early, late = both(tmp_path, monkeypatch, capsys, "turned.jpg", jpeg_bytes(exif_orientation=6), CONVOLVE)
        assert early[0] == 0 and early[:4] == late[:4]
        assert Image.open(io.BytesIO(early[2])).size == (96, 128)  # 128 wide, 96 high, turned

    def test_png_content_named_jpg_is_read_in_turn(self, tmp_path, monkeypatch, capsys):
        buf = io.BytesIO()
        Image.fromarray(np.arange(64, dtype=np.uint8).reshape(8, 8)).save(buf, format="PNG")
        early, late = both(tmp_path, monkeypatch, capsys, "really_png.jpg", buf.getvalue(), CONVOLVE)
        assert early[0] == 0 and early[:4] == late[:4] and (early[4], late[4]) == (1, 1)

    def test_no_thread_is_left_decoding(self, tmp_path, monkeypatch, capsys):
        import threading

        both(tmp_path, monkeypatch, capsys, "photo.jpg", jpeg_bytes(), CONVOLVE)
        assert not [t for t in threading.enumerate() if t.name == "kernelcli-decode"]
        assert decode.take(tmp_path / "photo.jpg", decode.DEFAULT_MAX_PIXELS, None) is None


class TestBrokenFiles:
    """The one-line error and exit code of reading the file in turn; no output, no temporary file."""

    @pytest.mark.parametrize("cut", ["half", "header", "garbage"])
    def test_truncated_or_corrupt(self, tmp_path, monkeypatch, capsys, cut):
        good = jpeg_bytes()
        content = {"half": good[: len(good) // 2], "header": good[:200],
                   "garbage": good[:600] + bytes(np.random.default_rng(1).integers(0, 256, 3000, dtype=np.uint8))}[cut]
        early, late = both(tmp_path, monkeypatch, capsys, "broken.jpg", content, CONVOLVE)
        assert early[:4] == late[:4] and (early[4], late[4]) == (0, 1)  # the early call met the error on its thread
        code, err, written, left, _ = early
        assert code == 2 and written is None and left == []
        assert err.count("\n") == 1 and "broken.jpg" in err and "Traceback" not in err

    def test_over_the_pixel_cap(self, tmp_path, monkeypatch, capsys):
        early, late = both(tmp_path, monkeypatch, capsys, "big.jpg", jpeg_bytes(), [*CONVOLVE, "--max-pixels", "1000"])
        assert early[:4] == late[:4] and early[0] == 2 and "decompression" in early[1] and early[4] == 0

    def test_over_the_memory_cap(self, tmp_path, monkeypatch, capsys):
        monkeypatch.setenv("KERNELCLI_MAX_MEMORY", "10K")
        early, late = both(tmp_path, monkeypatch, capsys, "big.jpg", jpeg_bytes(), CONVOLVE)
        assert early[:4] == late[:4] and early[0] == 2 and "KERNELCLI_MAX_MEMORY" in early[1] and early[4] == 0

    def test_a_refused_output_still_comes_first(self, tmp_path, monkeypatch, capsys):
        for early in (True, False):
            (tmp_path / f"out_{early}.png").write_bytes(b"keep")
        good = jpeg_bytes()
        early, late = both(tmp_path, monkeypatch, capsys, "broken.jpg", good[: len(good) // 2], CONVOLVE)
        assert early[:4] == late[:4] and early[0] == 4 and early[2] == b"keep"

    def test_a_bad_kernel_still_comes_first(self, tmp_path, monkeypatch, capsys):
        good = jpeg_bytes()
        args = ["convolve", "{IN}", "-k", "no_such_kernel", "-o", "{OUT}"]
        early, late = both(tmp_path, monkeypatch, capsys, "broken.jpg", good[: len(good) // 2], args)
        assert early[:4] == late[:4] and early[0] == 3 and early[2] is None


@pytest.mark.skipif(not os.path.isdir("/proc/self/task") or (os.cpu_count() or 1) < 2, reason="counts Linux threads on 2+ cores")
@pytest.mark.parametrize("given", [None, "2"])
def test_numpy_loads_with_one_blas_thread_unless_told(tmp_path, given):
    blas = np.__config__.CONFIG.get("Build Dependencies", {}).get("blas", {}).get("name", "")
    if "openblas" not in blas:
        pytest.skip(f"numpy's BLAS is {blas or 'unknown'}, not OpenBLAS")
    probe = ("import os, sys\nfrom kernelcli.cli._fast import run_plain\ncode = run_plain(sys.argv[1:])\n"
             "print(code, 'numpy' in sys.modules, len(os.listdir('/proc/self/task')), os.environ.get('OPENBLAS_NUM_THREADS'))\n")
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS")}
    if given:
        env["OPENBLAS_NUM_THREADS"] = given
    args = ["convolve", str(SAMPLES / "phantom.png"), "-k", "sobel_v", "-o", str(tmp_path / "o.png"), "-q"]
    done = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True, text=True, env=env, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == (["0", "True", "2", "2"] if given else ["0", "True", "1", "None"])


class TestOnlyItsPlugin:
    """Opening an image imports Pillow's plugin for its format (and for its name's extension), not
    all of Pillow's ~45: a ``.jpg`` tried against PNG first made Pillow import every plugin, 30 ms of
    CPU of a cold call before the early decode could start (:func:`kernelcli.io.decode.formats_to_try`)."""

    PROBE = ("import sys\nfrom kernelcli.io.decode import open_image\n"
             "opened = open_image(__import__('pathlib').Path(sys.argv[1]), limit=10**8, max_bytes=None)\n"
             "print(opened.format, *sorted(m[4:] for m in sys.modules if m.startswith('PIL.') and m.endswith('Plugin')))\n")

    @pytest.mark.parametrize("name, fmt", [("a.jpg", "JPEG"), ("a.png", "PNG"), ("a.tif", "TIFF"), ("a.bmp", "BMP"),
                                           ("a.gif", "GIF"), ("jpeg_named.png", "JPEG")])
    def test_a_fresh_process_opens_a_file_with_its_formats_plugin(self, tmp_path, name, fmt):
        src = tmp_path / name
        Image.new("RGB", (8, 6), (10, 200, 30)).save(src, format=fmt)
        done = subprocess.run([sys.executable, "-c", self.PROBE, str(src)], capture_output=True, text=True, timeout=120,
                              check=False, stdin=subprocess.DEVNULL)
        assert done.returncode == 0, done.stderr
        found, *plugins = done.stdout.split()
        extension = {".jpg": "JPEG", ".png": "PNG", ".tif": "TIFF", ".bmp": "BMP", ".gif": "GIF"}[src.suffix]
        assert found == fmt and set(plugins) <= {decode.PLUGINS[fmt], decode.PLUGINS[extension]}, plugins

    def test_the_formats_first_bytes_name_come_first_and_the_rest_keep_their_order(self, tmp_path):
        src = tmp_path / "a.png"
        src.write_bytes(jpeg_bytes())
        assert decode.formats_to_try(src) == ["JPEG", "PNG", "TIFF", "BMP", "GIF"]
        src.write_bytes(b"not an image at all")
        assert decode.formats_to_try(src) == decode.PILLOW_FORMATS
        assert decode.formats_to_try(tmp_path / "missing.jpg") == decode.PILLOW_FORMATS

    @pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
    def test_a_fifo_is_not_read_to_sniff_it(self, tmp_path):
        fifo = tmp_path / "in.jpg"
        os.mkfifo(fifo)
        probe = "import sys, pathlib\nfrom kernelcli.io.decode import formats_to_try\nprint(*formats_to_try(pathlib.Path(sys.argv[1])))"
        # a read would wait for a writer that never comes: the timeout fails the test
        done = subprocess.run([sys.executable, "-c", probe, str(fifo)], capture_output=True, text=True, timeout=60, check=False)
        assert done.returncode == 0 and done.stdout.split() == decode.PILLOW_FORMATS, done.stderr


@pytest.mark.parametrize("early", [True, False])
def test_the_decoded_image_is_closed_once_its_pixels_are_copied(tmp_path, monkeypatch, early):
    """Its memory is freed as soon as the array holds the pixels: an early-decoded image was kept alive by a
    reference cycle (the thread's closures) until the cyclic collector ran, and a 12 MP photo's cold call
    peaked 44 MiB higher (164 against 120 MiB)."""
    from kernelcli.limits import default_max_bytes

    src = tmp_path / "a.jpg"
    src.write_bytes(jpeg_bytes())
    seen = []
    real = images._image_to_array
    monkeypatch.setattr(images, "_image_to_array", lambda im, p: (seen.append(im), real(im, p))[1])
    monkeypatch.setattr(decode, "EARLY", early)
    assert decode.begin(src, max_pixels=None) is early
    loaded = images.read_image(src, max_pixels=None, max_bytes=default_max_bytes())
    assert loaded.data.shape == (96, 128, 3) and len(seen) == 1
    with pytest.raises(ValueError, match="closed image"):
        seen[0].getpixel((0, 0))


@pytest.mark.parametrize("orientation", [None, *range(1, 10)])
@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_every_exif_orientation_is_read_as_pillow_turns_it(tmp_path, orientation, fmt):
    """Only an orientation that turns or mirrors the image (2-8) imports PIL.ImageOps (2-3 ms of a cold
    call); every one is read as ``ImageOps.exif_transpose`` turns it, 0 and 9 (not orientations) as 1."""
    from PIL import ImageOps

    arr = np.arange(6 * 10 * 3, dtype=np.uint8).reshape(6, 10, 3) * 3
    kwargs = {}
    if orientation is not None:
        exif = Image.Exif()
        exif[0x0112] = orientation
        kwargs["exif"] = exif.tobytes()
    src = tmp_path / f"turned.{fmt.lower()}"
    Image.fromarray(arr).save(src, format=fmt, **kwargs)
    with Image.open(src) as im:
        want = np.asarray(ImageOps.exif_transpose(im).convert("RGB"))
    got = images.read_image(src, max_pixels=None, max_bytes=None).data
    assert got.tobytes() == want.tobytes() and got.shape == want.shape


def test_an_unturned_image_does_not_import_imageops():
    code = ("import sys; from pathlib import Path; from kernelcli.io import images; "
            f"images.read_image(Path({str(SAMPLES / 'phantom.png')!r}), max_pixels=None, max_bytes=None); "
            "print('PIL.ImageOps' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def _with_orientation(path, source: str, orientation: int) -> None:
    """Write a 6x10 RGB image whose orientation ``orientation`` sits in ``source``."""
    from PIL import PngImagePlugin

    arr = np.arange(6 * 10 * 3, dtype=np.uint8).reshape(6, 10, 3) * 3
    exif = Image.Exif()
    exif[0x0112] = orientation
    xmp = ('<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
           f'<rdf:Description xmlns:tiff="http://ns.adobe.com/tiff/1.0/" tiff:Orientation="{orientation}"/>'
           '</rdf:RDF></x:xmpmeta>')
    im = Image.fromarray(arr)
    if source == "png eXIf":
        im.save(path, format="PNG", exif=exif.tobytes())
    elif source in ("png raw profile", "png xmp", "png xmp text"):
        info = PngImagePlugin.PngInfo()
        if source == "png xmp":
            info.add_itxt("XML:com.adobe.xmp", xmp)  # read into info["xmp"]
        elif source == "png xmp text":
            info.add_text("XML:com.adobe.xmp", xmp)  # a plain text chunk: info["XML:com.adobe.xmp"]
        else:
            data = exif.tobytes().hex()
            info.add_text("Raw profile type exif", f"\nexif\n{len(data) // 2:8d}\n{data}", zip=True)
        im.save(path, format="PNG", pnginfo=info)
    elif source == "jpeg xmp":
        im.save(path, format="JPEG", xmp=xmp.encode())
    elif source == "tiff":
        im.save(path, format="TIFF", exif=exif.tobytes())
    else:
        raise AssertionError(source)


SOURCES = ["png eXIf", "png raw profile", "png xmp", "png xmp text", "jpeg xmp", "tiff"]


@pytest.mark.parametrize("orientation", range(1, 9))
@pytest.mark.parametrize("source", SOURCES)
def test_every_place_pillow_takes_an_orientation_from_is_read(tmp_path, source, orientation):
    """Pillow's EXIF tags are imported only for an image with metadata (:mod:`kernelcli.io.pillow`):
    an orientation is read wherever ``getexif`` finds one, and the image turned as
    ``ImageOps.exif_transpose`` turns it."""
    from PIL import ImageOps

    from kernelcli.io import pillow

    src = tmp_path / "turned.img"
    _with_orientation(src, source, orientation)
    with Image.open(src) as im:
        assert im.getexif().get(0x0112, 1) == orientation, "the file carries it"
        assert pillow.orientation(im) == orientation
        want = np.asarray(ImageOps.exif_transpose(im).convert("RGB"))
    got = images.read_image(src, max_pixels=None, max_bytes=None).data
    assert got.tobytes() == want.tobytes() and got.shape == want.shape


@pytest.mark.parametrize("name", ["phantom.png", "rgb.png", "phantom16.png"])
def test_an_image_without_metadata_leaves_the_exif_tags_unloaded(name):
    """Reading a plain PNG in a fresh process does not run ``PIL.ExifTags`` (9-12 ms of a cold call),
    and the deferred module still works when something reads it."""
    code = ("import sys; from pathlib import Path; from kernelcli.io import images; "
            f"images.read_image(Path({str(SAMPLES / name)!r}), max_pixels=None, max_bytes=None); "
            "print(type(sys.modules['PIL.ExifTags']).__name__); "
            "from PIL import ExifTags; print(ExifTags.Base.Orientation == 0x0112, type(ExifTags).__name__)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["_LazyModule", "True", "module"]
