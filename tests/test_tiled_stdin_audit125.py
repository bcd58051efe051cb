"""Audit 125 #2: with ``-`` as the input, the checks the tiled path makes of a file before opening it
(``--chunks 0``, an image output it cannot write, several kernels or a layer option) waited for stdin
to end: a stream that stays open hung.  They are now made before stdin is read, in a file's words."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from conftest import TILED_OR_NOT, process_env, refused_while_stdin_open, run_cli

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
def test_the_tiled_checks_come_before_stdin_as_before_a_file(invoke, tmp_path, args):
    on_file = invoke(*[a if a != "X" else "missing.png" for a in args])  # refused before the file is opened
    assert on_file.exit_code == 2 and "no such file" not in on_file.stderr, on_file.output
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
    on_file = run_cli(command[0], "x.npy", *command[1:], "-o", "f.npy", "-q", *extra, cwd=tmp_path)
    assert on_file.returncode == 0, on_file.stderr
    assert np.array_equal(np.load(tmp_path / "o.npy"), np.load(tmp_path / "f.npy"))


@pytest.mark.parametrize("out", ["o.zarr", "grp.zarr/img", "s3://bucket/o.zarr"])
@pytest.mark.parametrize("command", [["convolve", "-k", "box:3"], ["pad", "-p", "1"], ["pool", "-f", "2"]], ids=lambda c: c[0])
def test_a_store_output_from_stdin_is_refused_naming_stdin(tmp_path, command, out):
    """``-o o.zarr`` from stdin said "unsupported output type '.zarr'" (kernelcli writes Zarr from a file) and named
    ``s3://bucket/o.zarr`` ``s3:/bucket/o.zarr``; it names stdin and the way out, before stdin is read."""
    code, said = refused_while_stdin_open([command[0], "-", *command[1:], "-o", out], tmp_path, b"\x93NUMPY")
    assert code == 2
    assert said == (f"error: {out}: a Zarr store or URL is written tile by tile from a file or store input, and stdin ('-') is "
                    "read whole: give -o a .npy or .tif, or save stdin to a file and give that file as the input\n")
    assert not list(tmp_path.glob("*.zarr")) and not (tmp_path / "grp.zarr").exists()
