"""Audit 125 #2: with ``-`` as the input, the checks the tiled path makes of a file before opening it
(``--chunks 0``, an image output it cannot write, several kernels or a layer option) waited for stdin
to end: a stream that stays open hung.  They are now made before stdin is read, in a file's words."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from conftest import TILED_OR_NOT, process_env, refused_while_stdin_open, run_in_process

CALLS = [
    ["convolve", "X", "-k", "sobel_v", "-o", "o.png", "--tiled", "--chunks", "0"],
    ["convolve", "X", "-k", "sobel_v", "-o", "o.png", "--chunks", "64"],
    ["convolve", "X", "-k", "sobel_v", "--then", "maxpool:2", "-o", "o.png", "--chunks", "64"],
    ["convolve", "X", "-k", "sobel_v", "-k", "box:3", "-o", "o.npy", "--chunks", "0"],
    ["convolve", "X", "-k", "box:3", "--bias", "1", "-o", "o.npy", "--tiled"],
    ["pad", "X", "-p", "1", "-o", "o.png", "--tiled", "--chunks", "0"],
    ["pad", "X", "-p", "1", "-o", "o.png", "--tiled"],
    ["pool", "X", "-f", "2", "-o", "o.png", "--tiled", "--chunks", "16,0"],
    ["pool", "X", "-f", "2", "-o", "o.npy", "--chunks", "4x"],
]


@pytest.mark.parametrize("args", CALLS, ids=lambda a: " ".join(a[2:]))
def test_the_tiled_checks_come_before_stdin_as_before_a_file(tmp_path, args):
    # refused before the file is opened (as the command line words it: a bad --chunks is refused by its parser)
    on_file = run_in_process(*[a if a != "X" else "missing.png" for a in args], cwd=tmp_path)
    assert on_file.returncode == 2 and "no such file" not in on_file.stderr, on_file.stderr
    code, said = refused_while_stdin_open([a if a != "X" else "-" for a in args], tmp_path, b"\x89PNG\r\n\x1a\n")
    assert (code, said) == (2, on_file.stderr)
    assert not list(tmp_path.glob("o.*"))


@pytest.mark.parametrize("extra", TILED_OR_NOT[1:] + [pytest.param(["--chunks", "8"], id="chunks", marks=TILED_OR_NOT[1].marks)])
@pytest.mark.parametrize("command", [["convolve", "-k", "box:3"], ["pad", "-p", "1"], ["pool", "-f", "2"]], ids=lambda c: c[0])
def test_a_npy_on_stdin_still_goes_tile_by_tile(tmp_path, command, extra):
    x = np.random.default_rng(0).random((30, 20)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    args = [command[0], "-", *command[1:], "-o", "o.npy", "-q", *extra]
    with open(tmp_path / "x.npy", "rb") as stdin:
        r = subprocess.run([sys.executable, "-m", "kernelcli", *args], stdin=stdin, cwd=tmp_path, env=process_env(),
                           capture_output=True, text=True, timeout=120, check=False)
    assert (r.returncode, r.stderr) == (0, ""), r.stderr
    on_file = run_in_process(command[0], "x.npy", *command[1:], "-o", "f.npy", "-q", *extra, cwd=tmp_path)
    assert on_file.returncode == 0, on_file.stderr
    assert np.array_equal(np.load(tmp_path / "o.npy"), np.load(tmp_path / "f.npy"))



NEEDS_ZARR = pytest.mark.skipif(__import__("importlib.util").util.find_spec("zarr") is None
                                or __import__("importlib.util").util.find_spec("dask") is None,
                                reason="a .zarr output needs dask and zarr: pip install '.[distributed]'")
COMMANDS = [["convolve", "-k", "box:3"], ["pad", "-p", "1"], ["pool", "-f", "2"]]


@NEEDS_ZARR
@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
def test_a_npy_on_stdin_writes_a_zarr_store_as_its_file_does(tmp_path, command):
    """``-o o.zarr`` from stdin was refused before stdin was read ("unsupported output type '.zarr'"), where the same
    .npy as a file writes the store tile by tile: stdin's copy takes the tiled path as the file does."""
    import zarr

    x = np.random.default_rng(1).random((30, 20)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    with open(tmp_path / "x.npy", "rb") as stdin:
        r = subprocess.run([sys.executable, "-m", "kernelcli", command[0], "-", *command[1:], "-o", "s.zarr", "-q"], stdin=stdin,
                           cwd=tmp_path, env=process_env(), capture_output=True, text=True, timeout=120, check=False)
    assert (r.returncode, r.stderr) == (0, "")
    on_file = run_in_process(command[0], "x.npy", *command[1:], "-o", "f.zarr", "-q", cwd=tmp_path)
    assert on_file.returncode == 0, on_file.stderr
    assert np.array_equal(zarr.open(str(tmp_path / "s.zarr"), mode="r")[:], zarr.open(str(tmp_path / "f.zarr"), mode="r")[:])
    code, said = refused_while_stdin_open([command[0], "-", *command[1:], "-o", "s.zarr"], tmp_path, b"\x93NUMPY")
    assert (code, said) == (4, "error: s.zarr: already exists; use --force to overwrite it\n")  # before stdin ends


@NEEDS_ZARR
def test_a_png_on_stdin_to_a_zarr_store_is_refused_as_its_file_is(tmp_path):
    from PIL import Image

    Image.fromarray(np.arange(200, dtype=np.uint8).reshape(10, 20)).save(tmp_path / "g.png")
    on_file = run_in_process("convolve", "g.png", "-k", "box:3", "-o", "f.zarr", cwd=tmp_path)
    with open(tmp_path / "g.png", "rb") as stdin:
        r = subprocess.run([sys.executable, "-m", "kernelcli", "convolve", "-", "-k", "box:3", "-o", "s.zarr"], stdin=stdin,
                           cwd=tmp_path, env=process_env(), capture_output=True, text=True, timeout=120, check=False)
    assert (r.returncode, r.stderr) == (on_file.returncode, on_file.stderr.replace("g.png", "stdin")) == (2, r.stderr)
    assert "the tiled path reads Zarr stores, TIFF and .npy" in r.stderr
    assert not list(tmp_path.glob("*.zarr"))
