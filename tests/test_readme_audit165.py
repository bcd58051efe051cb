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
