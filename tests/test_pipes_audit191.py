"""Audit 191 (pipes, chains, batch runs): a ``--montage`` sheet is published only once stdout has taken the result
(#1)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import listing, process_env, run_in_process

BANK = ("-k", "sobel_v", "-k", "sobel_h")


@pytest.fixture
def files(tmp_path):
    """g.png (grey 24x20), m.csv (a 6x5 matrix) in ``tmp_path``."""
    rng = np.random.default_rng(191)
    Image.fromarray(rng.integers(0, 256, (20, 24), dtype=np.uint8)).save(tmp_path / "g.png")
    np.savetxt(tmp_path / "m.csv", rng.integers(-9, 9, (6, 5)), fmt="%d", delimiter=",")
    return tmp_path


def _to_full_stdout(folder: Path, *args: str) -> subprocess.CompletedProcess:
    with open("/dev/full", "wb") as full:
        r = subprocess.run([sys.executable, "-m", "kernelcli", *args], cwd=folder, env=process_env(),
                           stdin=subprocess.DEVNULL, stdout=full, stderr=subprocess.PIPE, text=True, timeout=120)
    assert "Traceback" not in r.stderr, r.stderr
    return r


# 1: -o - --montage FILE (and a matrix printed beside a sheet) on a stdout that failed left the sheet published,
# unmentioned, and the same call repeated was refused for it (exit 4)

@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full here")
@pytest.mark.parametrize("args", [
    ["g.png", *BANK, "-o", "-", "--format", "npy"],
    ["g.png", "-k", "sobel_v", "-o", "-", "--format", "png"],
    ["m.csv", *BANK],  # (the maps printed on stdout, each under a '# label' line)
    ["m.csv", *BANK, "--json"],
], ids=["bank-npy", "one-map-png", "matrix", "matrix-json"])
def test_a_sheet_is_not_published_when_stdout_does_not_take_the_result(files, args):
    r = _to_full_stdout(files, "convolve", *args, "--montage", "m.png", "--report", "r.json")
    line = "stdout: cannot write: No space left on device, and m.png is not written either"
    assert r.returncode == 1 and r.stderr.splitlines() == [f"error: {line}"], r.stderr
    assert not (files / "m.png").exists()
    assert not [p.name for p in files.iterdir() if p.name.startswith(".")]  # no temporary left
    [item] = json.loads((files / "r.json").read_text())["items"]
    assert (item["status"], item["code"], item["error"], item["output"], item.get("montage")) == (
        "failed", 1, line, "stdout", None), item
    again = subprocess.run([sys.executable, "-m", "kernelcli", "convolve", *args, "--montage", "m.png"], cwd=files,
                           env=process_env(), stdin=subprocess.DEVNULL, capture_output=True, timeout=120)
    assert again.returncode == 0 and (files / "m.png").is_file(), again.stderr  # the rerun is not refused


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full here")
def test_with_force_a_failed_stdout_keeps_the_earlier_sheet(files):
    args = ["convolve", "g.png", *BANK, "-o", "-", "--format", "npy", "--montage", "m.png"]
    first = subprocess.run([sys.executable, "-m", "kernelcli", *args], cwd=files, env=process_env(),
                           stdin=subprocess.DEVNULL, capture_output=True, timeout=120)
    assert first.returncode == 0, first.stderr
    before = (files / "m.png").read_bytes()
    Image.fromarray(np.zeros((20, 24), np.uint8)).save(files / "g.png")  # another result
    assert _to_full_stdout(files, *args, "--force").returncode == 1
    assert (files / "m.png").read_bytes() == before


# 2: a folder named like a pattern (d[1] beside the folder d1) was refused as reading two ways, "the file of that name",
# with advice ('d[[]1]') that was refused in turn: the pattern's reading matched only a folder, which it does not read

def _png(path: Path, value: int = 7) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((6, 6), value, np.uint8)).save(path)


class TestAFolderNamedLikeAPattern:
    @pytest.mark.parametrize("recursive", [[], ["-r"]], ids=["flat", "recursive"])
    def test_beside_a_folder_it_matches_it_is_the_folder(self, tmp_path, recursive):
        _png(tmp_path / "d[1]" / "a.png")
        _png(tmp_path / "d1" / "b.png")
        r = run_in_process("convolve", "d[1]", *recursive, "-k", "box:3", "--out-dir", "o", "-q", cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        assert listing(tmp_path / "o") == ["a_box_3.png"]

    @pytest.mark.parametrize("recursive, wildcard", [([], "*"), (["-r"], "**/*")], ids=["flat", "recursive"])
    def test_beside_a_file_it_matches_it_reads_two_ways_with_advice_that_runs(self, tmp_path, recursive, wildcard):
        _png(tmp_path / "in" / "f*" / "a.png")
        _png(tmp_path / "in" / "f1.png")
        r = run_in_process("convolve", "f*", *recursive, "-k", "box:3", "--out-dir", "../o", cwd=tmp_path / "in")
        assert r.returncode == 2
        assert r.stderr == (f"error: f*: reads two ways: the folder of that name, or the pattern that also matches f1.png; "
                            f"give 'f[*]/{wildcard}.png' with --out-dir for its files (a pattern is a batch), or "
                            "rename it; or give the files by name\n")
        advised = run_in_process("convolve", f"f[*]/{wildcard}.png", "-k", "box:3", "--out-dir", "../o", "-q", cwd=tmp_path / "in")
        assert advised.returncode == 0, advised.stderr
        assert listing(tmp_path / "o") == ["a_box_3.png"]  # (its outputs go where the folder input's go: #3)


# 3: the advice for a folder named as a Zarr store that a batch would mirror under --out-dir gave its name unescaped
# ('x/d[1].zarr/**/*.png', which glob reads as x/d1.zarr: no match), and neither advice quoted a "'" in a name

class TestAdvisedPatternsRun:
    @pytest.mark.parametrize("name", ["d[1].zarr", "it's.zarr", "a*b.zarr"])
    def test_the_mirrored_stores_advice_runs(self, tmp_path, name):
        import shlex

        _png(tmp_path / "x" / name / "pngs" / "a.png")
        r = run_in_process("convolve", "x/**/*.png", "-k", "box:3", "--out-dir", "o", cwd=tmp_path)
        assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
        advised = r.stderr.split(f"give the inputs from inside x/{name} (")[1].split("): their output folders")[0]
        [pattern] = shlex.split(advised)  # (as a shell reads the advice pasted)
        again = run_in_process("convolve", pattern, "-k", "box:3", "--out-dir", "o", "-q", cwd=tmp_path)
        assert again.returncode == 0, again.stderr
        assert listing(tmp_path / "o") == ["pngs", "pngs/a_box_3.png"]

    @pytest.mark.parametrize("name", ["d[1].zarr", "it's.zarr"])
    def test_the_folder_walks_advice_is_quoted_for_a_shell(self, tmp_path, name):
        import shlex

        _png(tmp_path / "x" / name / "pngs" / "a.png")
        r = run_in_process("convolve", "x", "-r", "-k", "box:3", "--out-dir", "o", cwd=tmp_path)
        assert r.returncode == 2, r.stderr
        [pattern] = shlex.split(r.stderr.split("give its images by a pattern (")[1].split(")")[0])
        again = run_in_process("convolve", pattern, "-k", "box:3", "--out-dir", "o", "-q", cwd=tmp_path)
        assert again.returncode == 0, again.stderr


# 6: a batch's error went unprefixed by its input where the input's bare name occurred anywhere in it (r.npy in the
# --out-dir r.npy_out), where the same failure of another input was prefixed

def test_a_batch_error_names_its_input_though_its_name_is_inside_the_out_dir(files):
    np.save(files / "r.npy", np.random.default_rng(6).random((9, 11)))
    r = run_in_process("convolve", "r.npy", "m.csv", "-k", "sobel_v", "--rescale", "none", "--out-dir", "r.npy_out",
                       "--format", "png", "--report", "rep.json", cwd=files)
    assert r.returncode == 1, r.stderr
    why = "--rescale none needs a float output: give --format npy|tif|csv; this output is 8-bit"
    lines = [f"r.npy: r.npy_out/r_sobel_v.png: {why}", f"m.csv: r.npy_out/m_sobel_v.png: {why}"]
    assert [line for line in r.stderr.splitlines() if line.startswith("error:")] == [f"error: {line}" for line in lines]
    assert [item["error"] for item in json.loads((files / "rep.json").read_text())["items"]] == lines


# 5: a shell-escaped pattern ('scan\[1\].png') was 'no files match' beside scan[1].png: glob reads the backslash as a
# character; a shell, fnmatch(3) and find read '\[' as '[' -- two readings, refused naming both as [^a] is

@pytest.mark.parametrize("pattern, char, what, spelled", [
    (r"scan\[1\].png", "[", "a class", "scan[[]1].png"),
    (r"*\[1\].png", "[", "a class", "*[[]1].png"),
    (r"scan\*.png", "*", "any characters", "scan[*].png"),
])
@pytest.mark.parametrize("out", [["--out-dir", "o"], []], ids=["batch", "one"])
def test_a_backslash_before_a_wildcard_reads_two_ways(tmp_path, pattern, char, what, spelled, out):
    _png(tmp_path / "scan[1].png")
    _png(tmp_path / "scan*.png")
    r = run_in_process("convolve", pattern, "-k", "box:3", *out, cwd=tmp_path)
    assert r.returncode == 2
    assert r.stderr == (f"error: {pattern}: '\\{char}' reads two ways: to glob a backslash then {what}, to a shell a "
                        f"literal '{char}'; write '{spelled}' to read it as a shell does\n")
    advised = run_in_process("convolve", spelled, "-k", "box:3", "--out-dir", "o", "-q", cwd=tmp_path)
    assert advised.returncode == 0, advised.stderr


# 4: a file name's escape sequence was sent raw to a terminal and stripped through a pipe (naming b14/bad.png, a file
# that does not exist), a tab went raw and a byte that is not text was written '\udce9', where the listing writes
# \033, \t and \351 (ls -b)

def test_stderr_writes_a_names_control_characters_as_the_listing_does(tmp_path):
    folder = tmp_path / "b14"
    folder.mkdir()
    (folder / "\x1b[31mbad.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (folder / "tab\tx.png").write_bytes(b"x")
    (folder / os.fsdecode(b"bad\xe9.png")).write_bytes(b"x")
    r = subprocess.run([sys.executable, "-m", "kernelcli", "convolve", "b14", "-k", "box:3", "--out-dir", "o"], cwd=tmp_path,
                       env=process_env(), stdin=subprocess.DEVNULL, capture_output=True, timeout=120)
    assert r.returncode == 1, r.stderr  # (every file failed)
    named = sorted(line.split(": ")[1] for line in r.stderr.decode().splitlines() if line.startswith("error: "))
    assert named == ["b14/\\033[31mbad.png", "b14/bad\\351.png", "b14/tab\\tx.png"], r.stderr
