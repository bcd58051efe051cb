"""Audit 171 (pipes and chains): stdout carries the result alone with ``-o -`` (#1), a failed piped call's
``--json`` names stdin (#2), a closed or full stdout is recorded as the call exits (#3, #4), a grey palette image
is offered csv on stdout (#5), and a volume-only kernel on stdin is told that volumes come from files (#6)."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import process_env, run_in_process
from conftest import run_piped as kernelcli


@pytest.fixture
def files(tmp_path):
    """g.png (grey 24x20), m.csv (a 6x5 matrix) in ``tmp_path``."""
    rng = np.random.default_rng(171)
    Image.fromarray(rng.integers(0, 256, (20, 24), dtype=np.uint8)).save(tmp_path / "g.png")
    np.savetxt(tmp_path / "m.csv", rng.integers(-9, 9, (6, 5)), fmt="%d", delimiter=",")
    return tmp_path


BANK = ("-k", "sobel_v", "-k", "sobel_h")


# 1: -o - with --montage printed the sheet's name on stdout in front of the result's bytes

class TestStdoutCarriesTheResultAlone:
    def test_a_bank_to_npy_with_a_sheet(self, files):
        r = kernelcli("convolve", "g.png", *BANK, "-o", "-", "--format", "npy", "--montage", "sheet.png", cwd=files)
        assert r.returncode == 0, r.stderr
        assert r.stdout.startswith(b"\x93NUMPY"), r.stdout[:16]
        assert np.load(io.BytesIO(r.stdout)).shape == (20, 24, 2)
        assert "-> stdout 20x24x2, sheet sheet.png," in r.stderr, r.stderr  # (the sheet is named on stderr)
        assert (files / "sheet.png").is_file()

    def test_stdin_to_png_with_a_sheet(self, files):
        r = kernelcli("convolve", "-", "-k", "sobel_v", "-o", "-", "--format", "png", "--montage", "sheet.png",
                      cwd=files, data=(files / "g.png").read_bytes())
        assert r.returncode == 0 and r.stdout.startswith(b"\x89PNG"), (r.stderr, r.stdout[:16])
        assert "stdin 20x24, convolve sobel_v -> stdout 20x24, sheet sheet.png," in r.stderr, r.stderr

    def test_a_matrix_to_csv_with_a_sheet(self, files):
        r = kernelcli("convolve", "m.csv", "-k", "sobel_v", "-o", "-", "--montage", "sheet.png", cwd=files)
        assert r.returncode == 0, r.stderr
        assert np.loadtxt(io.StringIO(r.stdout.decode()), delimiter=",").shape == (6, 5), r.stdout
        assert "sheet.png" not in r.stdout.decode() and ", sheet sheet.png," in r.stderr, r.stderr

    def test_a_named_output_still_lists_both_files(self, files):
        r = kernelcli("convolve", "g.png", *BANK, "-o", "maps.npy", "--montage", "sheet.png", cwd=files)
        assert r.returncode == 0 and r.stdout.decode().split() == ["maps.npy", "sheet.png"], (r.stdout, r.stderr)

    def test_gallery_names_no_sheet_beside_stdout(self, files):
        r = kernelcli("gallery", "g.png", "--family", "edge", "-o", "-", cwd=files)
        assert r.returncode == 0 and r.stdout.startswith(b"\x89PNG"), r.stderr
        assert "-> stdout " in r.stderr and "sheet stdout" not in r.stderr, r.stderr


# 2: a failed call on stdin printed a --json record whose "error" named stdin's temporary stand-in file

class TestJsonErrorNamesStdin:
    @pytest.mark.parametrize("args", [
        ["convolve", "-", "-k", "box:3", "--then", "maxpool:2", "-o", "a.png"],
        ["convolve", "-", "-k", "box:3"],
        ["pool", "-", "-f", "2", "-o", "a.png"],
        ["pad", "-", "-p", "1", "-o", "a.png"],
    ])
    def test_a_truncated_png(self, files, args):
        r = run_in_process(*args, "--json", cwd=files, input=(files / "g.png").read_bytes()[:60])
        record = json.loads(r.stdout)
        assert r.returncode == 2 and record["input"] == "stdin", (r.stdout, r.stderr)
        assert record["error"].startswith("stdin: cannot decode image"), record["error"]
        assert r.stderr.strip() == f"error: {record['error']}", r.stderr  # (the line on stderr, as the README says)

    def test_a_matrix_with_a_word(self, files):
        r = run_in_process("convolve", "-", "-k", "box:3", "--json", cwd=files, input=b"1,2\n3,x\n")
        assert json.loads(r.stdout)["error"] == "stdin: line 2: 'x' is not a number", r.stdout

    def test_with_a_report_too(self, files):
        r = run_in_process("convolve", "-", "-k", "box:3", "-o", "a.png", "--report", "r.json", "--json", cwd=files,
                           input=(files / "g.png").read_bytes()[:60])
        printed = json.loads(r.stdout)["error"]
        assert printed.startswith("stdin: ") and json.loads((files / "r.json").read_text())["items"][0]["error"] == printed


# 3: a stdout closed by its reader (| head -c 10) was recorded in --report as an internal error, code 70; the call exits 1

def closed_after_ten_bytes(*args: str, cwd: Path) -> tuple[int, str]:
    """``python -m kernelcli ARGS`` whose stdout's reader takes 10 bytes and closes it: exit code and stderr."""
    proc = subprocess.Popen([sys.executable, "-m", "kernelcli", *args], cwd=cwd, env=process_env(),
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.read(10)
    proc.stdout.close()  # (the result is far past a pipe's buffer: the call is still writing it)
    try:
        err = proc.stderr.read().decode()
        code = proc.wait(timeout=120)
    finally:
        proc.kill()
        proc.stderr.close()
    return code, err


@pytest.fixture
def large(tmp_path):
    """big.png (grey 400x400): its results are far past a pipe's 64 KiB."""
    Image.fromarray(np.random.default_rng(3).integers(0, 256, (400, 400), dtype=np.uint8)).save(tmp_path / "big.png")
    return tmp_path


@pytest.mark.parametrize("args", [
    ["convolve", "big.png", "-k", "sobel_v", "--then", "maxpool:2", "-o", "-", "--format", "npy"],
    ["convolve", "big.png", *BANK, "-o", "-", "--format", "npy"],
    ["pad", "big.png", "-p", "100", "-o", "-", "--format", "npy"],
])
def test_a_closed_stdout_is_recorded_as_the_call_exits(large, args):
    code, err = closed_after_ten_bytes(*args, "--report", "r.json", cwd=large)
    item = json.loads((large / "r.json").read_text())["items"][0]
    assert code == 1 and err == "", (code, err)
    assert (item["status"], item["code"], item["error"]) == ("failed", 1, "stdout: closed by the reader (broken pipe)"), item


# 4: a matrix printed on stdout that stdout did not take was recorded in --report as 'ok', code 0; the call exits 1

needs_dev_full = pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full here")


@needs_dev_full
@pytest.mark.parametrize("args", [
    ["convolve", "m.csv", "-k", "box:3"],
    ["convolve", "m.csv", *BANK, "--montage", "sheet.png"],  # (the maps, each under a '# label' line)
    ["convolve", "m.csv", "-k", "box:3", "--then", "maxpool:2"],
    ["pool", "m.csv", "-f", "2"],
])
def test_a_matrix_stdout_did_not_take_is_recorded_failed(files, args):
    with open("/dev/full", "wb") as full:
        r = subprocess.run([sys.executable, "-m", "kernelcli", *args, "--report", "r.json"], cwd=files, env=process_env(),
                           stdin=subprocess.DEVNULL, stdout=full, stderr=subprocess.PIPE, timeout=120)
    item = json.loads((files / "r.json").read_text())["items"][0]
    assert r.returncode == 1, r.stderr
    sheet = ", and sheet.png is not written either" if "--montage" in args else ""  # (audit 191 #1: held for stdout)
    assert (item["status"], item["code"], item["error"], item["output"]) == (
        "failed", 1, f"stdout: cannot write: No space left on device{sheet}", "stdout"), item


def test_a_matrix_to_a_closed_stdout_is_recorded_failed(tmp_path):
    np.savetxt(tmp_path / "big.csv", np.random.default_rng(4).random((300, 300)), delimiter=",")
    code, err = closed_after_ten_bytes("convolve", "big.csv", "-k", "box:3", "--report", "r.json", cwd=tmp_path)
    item = json.loads((tmp_path / "r.json").read_text())["items"][0]
    assert code == 1 and err == "", (code, err)
    assert (item["status"], item["code"], item["error"]) == ("failed", 1, "stdout: closed by the reader (broken pipe)"), item


def test_a_matrix_stdout_takes_is_recorded_ok_and_printed_once(files):
    r = run_in_process("convolve", "m.csv", *BANK, "--report", "r.json", cwd=files)
    item = json.loads((files / "r.json").read_text())["items"][0]
    assert r.returncode == 0 and (item["status"], item["output"]) == ("ok", "stdout"), r.stderr
    assert r.stdout.count("# sobel_v\n") == 1 and r.stdout.count("# sobel_h\n") == 1, r.stdout


# 5: a grey palette image (any GIF Pillow writes from grey) was told "not csv: ... several channels" by a bare -o -

@pytest.fixture
def palettes(tmp_path):
    """p.gif and pp.png (grey palettes), cp.png (a colour palette)."""
    rng = np.random.default_rng(5)
    grey = Image.fromarray(rng.integers(0, 256, (9, 11), dtype=np.uint8))
    grey.save(tmp_path / "p.gif")
    grey.convert("P").save(tmp_path / "pp.png")
    Image.fromarray(rng.integers(0, 256, (9, 11, 3), dtype=np.uint8)).convert("P").save(tmp_path / "cp.png")
    return tmp_path


@pytest.mark.parametrize("name, csv", [("p.gif", True), ("pp.png", True), ("cp.png", False)])
def test_a_grey_palette_is_offered_csv(palettes, name, csv):
    from kernelcli.io.pipe_formats import csv_may_hold, stdout_format_names

    assert csv_may_hold(palettes / name) is csv
    assert ("csv" in stdout_format_names(palettes / name)[0]) is csv


@pytest.mark.parametrize("out", ["-", "/dev/stdout"])
def test_the_bare_stdout_hint_names_csv_for_a_grey_gif(palettes, out):
    r = run_in_process("convolve", "p.gif", "-k", "box:3", "-o", out, cwd=palettes)
    assert r.returncode == 2 and "--format bmp|csv|jpg|npy|png|tif" in r.stderr and "not csv" not in r.stderr, r.stderr
    took = run_in_process("convolve", "p.gif", "-k", "box:3", "-o", "-", "--format", "csv", "-q", cwd=palettes)
    assert took.returncode == 0 and np.loadtxt(io.StringIO(took.stdout), delimiter=",").shape == (9, 11), took.stderr


# 6: a volume piped with a mm or voxel kernel was told to take a 2-D kernel, which then got "volumes are read from
# files, not pipes"

@pytest.mark.parametrize("args", [
    ["convolve", "-", "-k", "gaussian:1.5mm", "-o", "x.nii.gz"],
    ["volume", "-", "-k", "box:3vox", "-o", "x.nii.gz"],
    ["convolve", "-", "-k", "gaussian:1.5mm", "-k", "sobel_v", "-o", "x.npy"],
])
def test_a_volume_kernel_on_stdin_says_volumes_come_from_files(files, args):
    r = run_in_process(*args, cwd=files, input=b"\x1f\x8b not read")
    assert r.returncode == 3 and r.stderr.startswith("error: stdin: "), r.stderr
    assert r.stderr.rstrip().endswith("are read from files, not pipes: give the volume's path"), r.stderr


def test_a_volume_kernel_on_a_file_names_the_file_alone(files):
    r = run_in_process("convolve", "g.png", "-k", "gaussian:1.5mm", cwd=files)
    assert r.returncode == 3 and r.stderr.startswith("error: g.png: gaussian:1.5mm: ") and "pipes" not in r.stderr, r.stderr
