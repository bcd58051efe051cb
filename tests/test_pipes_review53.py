"""Review 53 (audit 140) #3: a terminal on stdout suggests ``--format csv`` from what the call makes.

Before, the hint looked at the input file alone: ``convolve g.png -k sobel_v -k sobel_h -o - --format npy`` suggested
csv for two maps (csv refused them next), and a grey+alpha image (8-bit LA, or a 16-bit one, which Pillow opens as
RGBA) got no hint although csv takes its result (the alpha is dropped).
"""

from __future__ import annotations

import struct
import zlib

import numpy as np
import pytest

from conftest import run_in_process
from test_terminal import on_a_terminal

HINT = "; --format csv prints a matrix as text"


def _grey_alpha_16_png(path, h=6, w=7) -> None:
    """A 16-bit grey + alpha PNG (colour type 4), which Pillow cannot write."""
    px = np.empty((h, w, 2), ">u2")
    px[..., 0] = np.random.default_rng(1).integers(0, 65536, (h, w))
    px[..., 1] = 65535
    raw = b"".join(b"\x00" + px[r].tobytes() for r in range(h))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 16, 4, 0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


@pytest.fixture
def images(tmp_path):
    from PIL import Image

    rng = np.random.default_rng(5)
    Image.fromarray(rng.integers(0, 256, (8, 9), dtype=np.uint8)).save(tmp_path / "g.png")
    Image.fromarray(rng.integers(0, 256, (8, 9, 2), dtype=np.uint8), "LA").save(tmp_path / "la.png")
    Image.fromarray(rng.integers(0, 256, (8, 9, 3), dtype=np.uint8)).save(tmp_path / "rgb.png")
    _grey_alpha_16_png(tmp_path / "la16.png")
    return tmp_path


@pytest.mark.parametrize("args, hinted", [
    (("g.png", "-k", "sobel_v", "-k", "sobel_h"), False),  # two maps: csv refuses them
    (("la.png", "-k", "sobel_v"), True),  # grey once the alpha is dropped
    (("la16.png", "-k", "sobel_v"), True),  # 16-bit grey + alpha (Pillow: RGBA)
    (("rgb.png", "-k", "sobel_v", "--combine", "sum"), True),  # the channels summed into one map
    (("rgb.png", "-k", "sobel_v"), False),  # three maps, one a channel
], ids=["two-kernels", "LA", "LA-16-bit", "rgb-combined", "rgb"])
def test_the_csv_hint_is_given_where_csv_takes_what_the_call_makes(images, args, hinted):
    code, shown = on_a_terminal("convolve", *args, "-o", "-", "--format", "npy", env={"NO_COLOR": "1"}, columns=400,
                                cwd=images)
    assert code == 2 and "--out - writes NPY bytes to stdout, which is a terminal" in shown, shown
    assert (HINT in shown) == hinted, shown
    followed = run_in_process("convolve", *args, "-o", "-", "--format", "csv", "-q", cwd=images)
    assert (followed.returncode == 0) == hinted, followed.stderr  # the hint, followed, works; where not given, csv refuses


# #8: a --montage linked to a descriptor was refused as "output 'so.png': the output is a file, ..."

@pytest.mark.parametrize("target, stream", [("/proc/self/fd/1", "stdout"), ("/dev/stderr", "stderr")])
def test_a_montage_linked_to_a_descriptor_is_refused_naming_montage(images, target, stream):
    link = images / "so.png"
    link.symlink_to(target)
    done = run_in_process("convolve", "g.png", "-k", "sobel_v", "-k", "sobel_h", "--montage", "so.png", "-o", "m.npy",
                          "--force", cwd=images)
    assert done.returncode == 2 and done.stdout == "", done.stderr
    assert done.stderr == (f"error: --montage 'so.png': the montage is a file, not {stream} (a link to its descriptor); "
                           "give a file path\n")
    assert link.is_symlink() and not (images / "m.npy").exists()
