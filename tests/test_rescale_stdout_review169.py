"""``--rescale none`` refused on stdout gives the ``--format`` to give (review 169 #2): it said "needs a float output
(.npy, .tif, .csv or .zarr)", file extensions stdout has none of, .zarr among them, which never goes through a pipe."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from conftest import SAMPLES, run_in_process


@pytest.fixture()
def files(tmp_path):
    import shutil

    shutil.copy(SAMPLES / "phantom.png", tmp_path / "phantom.png")
    Image.fromarray(np.arange(192, dtype=np.uint8).reshape(8, 8, 3)).save(tmp_path / "rgb.png")
    return tmp_path


@pytest.mark.parametrize("fmt", ["png", "jpg", "bmp"])
def test_a_grey_result_on_stdout_is_told_the_format(files, fmt):
    r = run_in_process("convolve", "phantom.png", "-k", "box:3", "-o", "-", "--format", fmt, "--rescale", "none", cwd=files)
    assert (r.returncode, r.stdout) == (2, "")
    assert r.stderr == "error: stdout: --rescale none needs a float output: give --format npy|tif|csv; this output is 8-bit\n"


def test_a_colour_result_on_stdout_is_not_offered_csv(files):
    r = run_in_process("convolve", "rgb.png", "-k", "box:3", "-o", "-", "--format", "png", "--rescale", "none", cwd=files)
    assert (r.returncode, r.stderr) == (2, "error: stdout: --rescale none needs a float output: give --format npy; "
                                           "this output is 8-bit\n")


def test_the_csv_offered_is_taken(files):  # (npy and tif are bytes, which run_in_process reads as text)
    r = run_in_process("convolve", "phantom.png", "-k", "box:3", "-o", "-", "--format", "csv", "--rescale", "none", "-q",
                       cwd=files)
    assert r.returncode == 0 and len(r.stdout.splitlines()) == 256, r.stderr


def test_a_file_keeps_its_extensions(files):
    r = run_in_process("convolve", "phantom.png", "-k", "box:3", "-o", "o.png", "--rescale", "none", cwd=files)
    assert (r.returncode, r.stderr) == (2, "error: o.png: --rescale none needs a float output (.npy, .tif or .csv); "
                                           "this output is 8-bit\n")
