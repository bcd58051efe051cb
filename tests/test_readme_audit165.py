"""The README read after today's changes, audit 165.

#1: an output-name clash (``--report`` naming the output, directly or through a link whose target does not exist
yet; ``-o`` and ``--montage`` naming one file) was first told "already exists; use --force", and refused for the
clash only once ``--force`` was given: the clash, which ``--force`` cannot fix, is now said first, as README
(Records) quotes it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from conftest import run_in_process

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
FORCE = pytest.mark.parametrize("force", [[], ["--force"]], ids=["no-force", "force"])


def _phantom(tmp_path) -> str:
    shutil.copy(SAMPLES / "phantom.png", tmp_path / "p.png")
    return "p.png"


@FORCE
def test_a_report_naming_an_existing_output_is_refused_as_the_output(tmp_path, force):
    src = _phantom(tmp_path)
    (tmp_path / "o6.png").write_bytes(b"kept")
    done = run_in_process("convolve", src, "-k", "box:3", "-o", "o6.png", "--report", "o6.png", *force, "-q",
                          cwd=tmp_path)
    assert done.returncode == 4, done.stderr
    assert "--report o6.png: is also the output; choose another --report file" in done.stderr, done.stderr
    assert "use --force" not in done.stderr
    assert (tmp_path / "o6.png").read_bytes() == b"kept"


@FORCE
def test_a_report_linked_to_the_default_output_not_made_yet_is_refused_as_the_output(tmp_path, force):
    nib = pytest.importorskip("nibabel")
    v = np.arange(4 * 6 * 8, dtype=np.float32).reshape(8, 6, 4)
    nib.save(nib.Nifti1Image(v, np.eye(4)), str(tmp_path / "t.nii"))
    (tmp_path / "lnk.json").symlink_to("t_maxpool2.nii.gz")
    done = run_in_process("pool", "t.nii", "-f", "2", "--report", "lnk.json", *force, "-q", cwd=tmp_path)
    assert done.returncode == 4, done.stderr
    assert "--report lnk.json: is also the output; choose another --report file" in done.stderr, done.stderr
    assert not (tmp_path / "t_maxpool2.nii.gz").exists()


@FORCE
@pytest.mark.parametrize("out, montage, link", [
    ("same.tif", "same.tif", None),  # an existing file named twice
    ("l9.tif", "same9.tif", "same9.tif"),  # -o a dangling link to the montage
    ("same9.tif", "l9.tif", "same9.tif"),  # --montage a dangling link to the output
], ids=["same-name", "out-links-to-montage", "montage-links-to-out"])
def test_out_and_montage_naming_one_file_are_refused_as_the_same_file(tmp_path, force, out, montage, link):
    src = _phantom(tmp_path)
    if link is None:
        (tmp_path / out).write_bytes(b"kept")
    else:
        (tmp_path / "l9.tif").symlink_to(link)
    done = run_in_process("convolve", src, "-k", "box:3", "-k", "box:5", "-o", out, "--montage", montage, *force,
                          "-q", cwd=tmp_path)
    assert done.returncode == 4, done.stderr
    assert "--out and --montage name the same file" in done.stderr, done.stderr
    assert "already exists" not in done.stderr
    assert not (tmp_path / "same9.tif").exists()


# #2: the hints of `-o -` and `-o /dev/stdout` offered csv for an RGB image and bmp/jpg for 16-bit data, which the
# next call refused ("a .csv holds a 2-D matrix", "JPEG cannot hold 16-bit data"): they name what that result takes.

def _sixteen_bit_rgba_and_tiff(tmp_path):
    from PIL import Image

    Image.fromarray(np.arange(64 * 64, dtype=np.uint16).reshape(64, 64)).save(tmp_path / "g16.tif")
    Image.new("RGBA", (16, 16), (10, 20, 30, 255)).save(tmp_path / "c.png")
    np.save(tmp_path / "m3.npy", np.zeros((8, 8, 3)))
    np.save(tmp_path / "u16.npy", np.arange(64, dtype=np.uint16).reshape(8, 8))


PIPE_HINTS = [  # (input, extra options, the formats the hint names)
    ("rgb.png", [], "bmp|jpg|npy|png|tif"),
    ("c.png", [], "bmp|jpg|npy|png|tif"),
    ("m3.npy", [], "bmp|jpg|npy|png|tif"),
    ("phantom16.png", [], "csv|npy|png|tif"),
    ("g16.tif", [], "csv|npy|png|tif"),
    ("u16.npy", [], "csv|npy|png|tif"),
    ("rgb.png", ["--combine", "sum"], "bmp|csv|jpg|npy|png|tif"),  # (one map: a csv holds it)
    ("phantom.png", [], "bmp|csv|jpg|npy|png|tif"),
]


@pytest.mark.parametrize("src, extra, formats", PIPE_HINTS)
@pytest.mark.parametrize("out", ["-", "/dev/stdout"])
def test_the_stdout_hint_names_only_formats_the_result_takes(tmp_path, src, extra, formats, out):
    _sixteen_bit_rgba_and_tiff(tmp_path)
    for name in ("rgb.png", "phantom.png", "phantom16.png"):
        shutil.copy(SAMPLES / name, tmp_path / name)
    if out == "-" and src.endswith(".npy"):
        out = "/dev/stdout"  # (a bare -o - of a .npy writes npy: no hint)
    done = run_in_process("convolve", src, "-k", "sobel_v", *extra, "-o", out, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    named = done.stderr.split("--format ")[-1].split()[0].rstrip(";")
    assert named == formats, done.stderr
    for fmt in formats.split("|"):  # each one named is taken (by the writer a pipe's stand-in file goes through)
        took = run_in_process("convolve", src, "-k", "sobel_v", *extra, "--rescale", "abs", "-o", f"o.{fmt}", "-q",
                              cwd=tmp_path)
        assert took.returncode == 0, (fmt, took.stderr)


@pytest.mark.parametrize("command", [["pool", "-f", "2"], ["pad", "-p", "1"]])
def test_pool_and_pad_of_an_rgb_image_are_not_told_csv(tmp_path, command):
    shutil.copy(SAMPLES / "rgb.png", tmp_path / "rgb.png")
    done = run_in_process(command[0], "rgb.png", *command[1:], "-o", "-", cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert "--format bmp|jpg|npy|png|tif" in done.stderr, done.stderr


# #3: --kernel-scale was refused as "invalid --kernel-scale '0': ...", outside Click's one form (no help pointer), and
# its 1e400 did not say "(beyond the float range)", where --bias, --then and a weight do.

NON_ZERO = "the factor must be a finite non-zero number"


@pytest.mark.parametrize("typed, why", [
    ("0", NON_ZERO),
    ("0%!", NON_ZERO),
    ("inf", "expected sum (divide by the sum)"),  # (a number is typed in digits)
    ("1e400", f"1e400 (beyond the float range): {NON_ZERO}"),
    ("1e400%", f"1e400% (beyond the float range): {NON_ZERO}"),
    ("1e-400", "1e-400 (below the float range), expected a number float64 holds (at least 4.9e-324 in magnitude)"),
    ("abc", "expected sum (divide by the sum), N or N% (multiply)"),
    ("2,1", "ImageMagick's origin addition (',N') is not supported"),
])
@pytest.mark.parametrize("stdin", [False, True], ids=["file", "stdin"])
def test_a_kernel_scale_is_refused_in_click_s_form(tmp_path, typed, why, stdin):
    np.save(tmp_path / "a.npy", np.arange(64.0).reshape(8, 8))
    src = "-" if stdin else "a.npy"
    done = run_in_process("convolve", src, "-k", "box:3", "--kernel-scale", typed, "-o", "o.png", cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    line = done.stderr.strip()
    assert line.startswith(f"error: Invalid value for '--kernel-scale': '{typed}': {why}"), line
    assert line.endswith("(see 'kernelcli convolve -h')"), line
    assert "\n" not in line and not (tmp_path / "o.png").exists()


# #7: README (Batch; exit code 4) said an output folder inside the folders read is refused "with --recursive; without it
# the results never become inputs", but a folder read without --recursive is refused too: the README says which
# (README only; these pin what it now says).

@pytest.mark.parametrize("inputs, out_dir, code", [
    (["sc"], "sc", 4),  # a folder input, without --recursive
    (["sc/*.png"], "sc", 4),  # the folder a pattern lists
    (["sc"], "sc/out", 0),  # without --recursive the folder's folders are not read
    (["sc", "-r"], "sc/out", 4),
    (["sc/**/*.png"], "sc/out", 4),
    (["sc/p.png", "sc/q.png"], "sc", 0),  # files named one by one
])
def test_the_output_folders_refused_are_those_the_next_run_reads(tmp_path, inputs, out_dir, code):
    (tmp_path / "sc").mkdir()
    for name in ("p.png", "q.png"):
        shutil.copy(SAMPLES / "phantom.png", tmp_path / "sc" / name)
    done = run_in_process("convolve", *inputs, "-k", "box:3", "--out-dir", out_dir, "-q", cwd=tmp_path)
    assert done.returncode == code, done.stderr
    if code:
        assert "the results would become inputs on the next run" in done.stderr, done.stderr
