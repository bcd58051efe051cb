"""A file option given with a trailing slash names a folder: refused, never dropped (audit 143 #4).

pathlib drops the trailing ``/``: ``--report rep/`` wrote a regular file ``rep``, ``-o nd.npy/`` a file ``nd.npy``,
and ``-o nd/`` was "unsupported output type '(no extension)'" with the slash gone.  ``open("rep/", O_CREAT)`` fails
with EISDIR: the name reads two ways, and the call refuses it (exit 2), naming the folder and what is expected.
"""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from conftest import run_in_process


@pytest.fixture
def image(tmp_path):
    Image.fromarray(np.arange(40 * 50, dtype=np.uint8).reshape(40, 50)).save(tmp_path / "g0.png")
    Image.fromarray(np.arange(40 * 50, dtype=np.uint8).reshape(40, 50)).save(tmp_path / "g1.png")
    return tmp_path


@pytest.mark.parametrize("argv, given, option", [
    (["convolve", "g0.png", "-k", "box:3", "-o", "zz.png", "--report", "rep/"], "rep/", "--report"),
    (["convolve", "g0.png", "-k", "box:3", "-o", "nd.npy/"], "nd.npy/", "--out"),
    (["convolve", "g0.png", "-k", "box:3", "-o", "nd/"], "nd/", "--out"),
    (["convolve", "g0.png", "g1.png", "-k", "box:3", "--out-dir", "o", "--report", "rx/"], "rx/", "--report"),
    (["pool", "g0.png", "-f", "2", "-o", "p.png/"], "p.png/", "--out"),
    (["pad", "g0.png", "-p", "1", "--report", "rp/"], "rp/", "--report"),
    (["convolve", "g0.png", "-k", "sobel_v", "-k", "sobel_h", "--montage", "m.png/"], "m.png/", "--montage"),
], ids=["report", "out-npy", "out-bare", "batch-report", "pool-out", "pad-report", "montage"])
def test_a_trailing_slash_is_refused_naming_the_folder(image, argv, given, option):
    for json_out in ([], ["--json"]):
        done = run_in_process(*argv, "-q", *json_out, cwd=image)
        assert done.returncode == 2, done.stderr
        assert option in done.stderr and f"{given} names a folder" in done.stderr, done.stderr
        assert "expected a file name" in done.stderr, done.stderr
        assert "Traceback" not in done.stderr
        assert len(done.stderr.strip().splitlines()) <= 2, done.stderr
    stripped = image / given.rstrip("/")
    assert not stripped.exists(), f"{stripped.name}: nothing written"
    assert not (image / "zz.png").exists() and not (image / "o").exists()


def test_a_zarr_store_may_be_given_as_a_folder(image):
    done = run_in_process("convolve", "g0.png", "-k", "box:3", "--tiled", "-o", "s.zarr/", "-q", cwd=image)
    assert "names a folder" not in done.stderr, done.stderr
