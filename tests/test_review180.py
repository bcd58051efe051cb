"""Review 180's findings (audit 180): one section per finding fixed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import process_env, run_in_process


@pytest.fixture
def files(tmp_path):
    """g.png (grey 24x20), rgb.png (colour 20x24), m.csv (a 6x5 matrix) in ``tmp_path``."""
    rng = np.random.default_rng(180)
    Image.fromarray(rng.integers(0, 256, (20, 24), dtype=np.uint8)).save(tmp_path / "g.png")
    Image.fromarray(rng.integers(0, 256, (20, 24, 3), dtype=np.uint8)).save(tmp_path / "rgb.png")
    np.savetxt(tmp_path / "m.csv", rng.integers(-9, 9, (6, 5)), fmt="%d", delimiter=",")
    return tmp_path


BANK = ("-k", "sobel_v", "-k", "sobel_h")


# 1: with --json, a matrix's record stdout did not take (the record is the result) was recorded 'ok', code 0

@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full here")
@pytest.mark.parametrize("args", [
    ["convolve", "m.csv", "-k", "box:3"],
    ["convolve", "m.csv", *BANK],
    ["convolve", "m.csv", "-k", "box:3", "--then", "maxpool:2"],
    ["pad", "m.csv", "-p", "2"],
])
def test_a_json_record_stdout_did_not_take_is_recorded_failed(files, args):
    with open("/dev/full", "wb") as full:
        r = subprocess.run([sys.executable, "-m", "kernelcli", *args, "--json", "--report", "r.json"], cwd=files,
                           env=process_env(), stdin=subprocess.DEVNULL, stdout=full, stderr=subprocess.PIPE, timeout=120)
    item = json.loads((files / "r.json").read_text())["items"][0]
    assert r.returncode == 1, r.stderr
    assert (item["status"], item["code"], item["error"]) == ("failed", 1, "stdout: cannot write: No space left on device"), item


def test_a_json_record_stdout_takes_is_printed_once_with_the_reports_time(files):
    r = run_in_process("convolve", "m.csv", "-k", "box:3", "--json", "--report", "r.json", cwd=files)
    item = json.loads((files / "r.json").read_text())["items"][0]
    printed = json.loads(r.stdout)  # (one document: a second would not parse)
    assert r.returncode == 0 and (item["status"], printed["status"], printed["output"]) == ("ok", "ok", "stdout"), r.stderr
    assert printed["seconds"] == item["seconds"] and printed["matrix"] == item["matrix"]


# 3: a bare -o - with --rescale none offered --format values the next call refused (bmp|jpg|png, tif for colour)

@pytest.mark.parametrize("name, offered", [("rgb.png", "npy"), ("g.png", "csv|npy|tif")])
def test_a_bare_stdout_under_rescale_none_offers_only_what_it_writes(files, name, offered):
    import re

    r = run_in_process("convolve", name, "-k", "box:3", "--rescale", "none", "-o", "-", cwd=files)
    assert r.returncode == 2 and f"add --format {offered} (" in r.stderr, r.stderr
    for fmt in re.search(r"--format ([a-z|]+)", r.stderr).group(1).split("|"):
        took = subprocess.run([sys.executable, "-m", "kernelcli", "convolve", name, "-k", "box:3", "--rescale", "none",
                               "-o", "-", "--format", fmt, "-q"], cwd=files, env=process_env(), capture_output=True,
                              timeout=120)
        assert took.returncode == 0 and took.stdout, (fmt, took.stderr)


def test_the_stdout_device_hint_follows_rescale_none(files):
    r = run_in_process("convolve", "rgb.png", "-k", "box:3", "--rescale", "none", "-o", "/dev/stdout", cwd=files)
    assert r.returncode == 2 and "give --out - --format npy (" in r.stderr, r.stderr


# 4: a volume's kernel in --then on stdin was told to take a 2-D kernel (then "volumes are read from files"); on a
# file the input was not named, as --kernel's refusal names it

@pytest.mark.parametrize("args", [
    ["convolve", "-", "-k", "box:3", "--then", "gaussian:1.5mm", "-o", "x.nii.gz"],
    ["convolve", "-", "-k", "box:3", "--then", "maxpool:2", "--then", "box:3vox", "-o", "x.npy"],
])
def test_a_volume_kernel_in_then_on_stdin_says_volumes_come_from_files(files, args):
    r = run_in_process(*args, cwd=files, input=b"\x1f\x8b not read")
    assert r.returncode == 3 and r.stderr.startswith("error: stdin: "), r.stderr
    assert r.stderr.rstrip().endswith("are read from files, not pipes: give the volume's path"), r.stderr


def test_a_volume_kernel_in_then_on_a_file_names_the_file(files):
    r = run_in_process("convolve", "g.png", "-k", "box:3", "--then", "gaussian:1.5mm", cwd=files)
    assert r.returncode == 3 and r.stderr.startswith("error: g.png: gaussian:1.5mm: ") and "pipes" not in r.stderr, r.stderr


# 5: kernels show wrote a kernel file's name raw: an OSC sequence on stdout, and through a pipe (click strips CSI) a
# file name that does not exist

def test_kernels_show_escapes_a_kernel_files_name(tmp_path):
    np.save(tmp_path / "a\x1b]0;PWNED\x07b.npy", np.ones((3, 3)))
    (tmp_path / "j\x1b[31mred.json").write_text(json.dumps({"name": "ok", "matrix": [[1, 2], [3, 4]]}))
    shown = run_in_process("kernels", "show", "a\x1b]0;PWNED\x07b.npy", cwd=tmp_path)
    assert shown.returncode == 0 and "\x1b" not in shown.stdout and "\x07" not in shown.stdout, shown.stdout
    assert "file: a\\033]0;PWNED\\ab.npy" in shown.stdout and "source: a\\033]0;PWNED\\ab.npy" in shown.stdout, shown.stdout
    red = run_in_process("kernels", "show", "j\x1b[31mred.json", cwd=tmp_path)
    assert red.returncode == 0 and "file: j\\033[31mred.json" in red.stdout, red.stdout


# 7: --mask given a Zarr store said "no DICOM images in this folder"

@pytest.mark.parametrize("mask", ["z8.zarr", "grp.zarr/img"])
def test_a_zarr_mask_is_named_a_store(tmp_path, mask):
    zarr = pytest.importorskip("zarr")
    import shutil

    z = zarr.open_array(tmp_path / "z8.zarr", mode="w", shape=(20, 24), chunks=(8, 8), dtype="uint8")
    z[:] = 3
    group = zarr.open_group(tmp_path / "grp.zarr", mode="w")
    group.create_array("img", shape=(20, 24), dtype="uint8") if hasattr(group, "create_array") else group.zeros("img", shape=(20, 24))
    shutil.copy(Path(__file__).parents[1] / "samples" / "phantom3d.nii.gz", tmp_path)
    r = run_in_process("convolve", "phantom3d.nii.gz", "-k", "gaussian:1mm", "--mask", mask, "-o", "m.nii.gz", cwd=tmp_path)
    assert r.returncode == 2 and "DICOM images" not in r.stderr, r.stderr
    assert r.stderr.startswith(f"error: {mask}: a") and "--mask reads a NIfTI or DICOM mask in memory" in r.stderr, r.stderr


# 8: --rescale given to a filter bank printed on stdout was ignored in silence (one kernel, a chain and pool note it)

@pytest.mark.parametrize("json_out", [False, True])
def test_a_banks_matrix_on_stdout_notes_an_unused_rescale(files, json_out):
    r = run_in_process("convolve", "m.csv", *BANK, "--rescale", "clip", *(["--json"] if json_out else []), cwd=files)
    note = "--rescale clip is for image outputs; a matrix printed on stdout is the raw result"
    assert r.returncode == 0, r.stderr
    assert note in (json.loads(r.stdout)["notes"] if json_out else r.stderr), (r.stdout, r.stderr)


# 10: a ';' list of kernels in --then or kernels show was told to "repeat --kernel"

@pytest.mark.parametrize("args, advice", [
    (["convolve", "m.csv", "-k", "box:3", "--then", "1x1: 1; 1x1: 2"], "give each as its own --then"),
    (["kernels", "show", "1x1: 1; 1x1: 2"], "show each one"),
    (["convolve", "m.csv", "-k", "1x1: 1; 1x1: 2"], "repeat --kernel for a filter bank, or use --then for one after the other"),
])
def test_a_list_of_kernels_is_told_in_the_words_of_its_option(files, args, advice):
    r = run_in_process(*args, cwd=files)
    assert r.returncode == 3 and r.stderr.rstrip().endswith(advice), r.stderr
    assert args[-2] == "-k" or "--kernel" not in r.stderr, r.stderr
