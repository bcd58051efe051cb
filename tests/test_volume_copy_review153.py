"""A volume copy's refusals name the file on stderr as its record does, and ``--tiled`` says a copy is made in memory
(review 153 #9).

``convolve vol.nii.gz --truncate 2`` said "error: --truncate is for Gaussians ...; a copy (no --kernel) filters
nothing" where the ``--json`` record (and a kernel's refusal) said "vol.nii.gz: --truncate ..."; ``--flip --tiled``
was "the tiled volume path needs a --kernel", though the same copy runs in memory.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import run_in_process

nib = pytest.importorskip("nibabel")


@pytest.fixture
def vol(tmp_path):
    nib.save(nib.Nifti1Image(np.arange(120, dtype=np.float32).reshape(6, 5, 4), np.eye(4)), str(tmp_path / "vol.nii.gz"))
    return tmp_path


@pytest.mark.parametrize("extra", [[], ["--tiled"]], ids=["memory", "tiled"])
@pytest.mark.parametrize("option, said", [
    (["--truncate", "2"], "--truncate is for Gaussians (gaussian:, fwhm:, log:); a copy (no --kernel) filters nothing"),
    (["--mask", "vol.nii.gz"], "--pad-mode renormalise (and --mask) is for smoothing kernels (gaussian, fwhm, box); a "
                               "copy (no --kernel) filters nothing"),
], ids=["truncate", "mask"])
def test_stderr_and_the_record_name_the_file(vol, extra, option, said):
    r = run_in_process("convolve", "vol.nii.gz", *option, *extra, "-o", "c1.nii.gz", cwd=vol)
    assert r.returncode == 2 and r.stderr.strip() == f"error: vol.nii.gz: {said}", r.stderr
    r = run_in_process("convolve", "vol.nii.gz", *option, *extra, "-o", "c1.nii.gz", "--json", cwd=vol)
    assert r.returncode == 2 and json.loads(r.stdout)["error"] == f"vol.nii.gz: {said}", r.stdout
    assert not (vol / "c1.nii.gz").exists()


def test_a_tiled_copy_says_it_is_made_in_memory(vol):
    r = run_in_process("convolve", "vol.nii.gz", "--flip", "--tiled", "-o", "tc.nii", cwd=vol)
    assert r.returncode == 2 and r.stderr.strip() == ("error: vol.nii.gz: a copy (no --kernel) is made in memory, not "
                                                      "tile by tile; give a --kernel (e.g. gaussian:1.5mm), or leave out "
                                                      "--tiled/--chunks"), r.stderr
    r = run_in_process("convolve", "vol.nii.gz", "--flip", "-o", "tc.nii", cwd=vol)
    assert r.returncode == 0, r.stderr
    assert np.array_equal(np.asarray(nib.load(str(vol / "tc.nii")).dataobj), np.asarray(nib.load(str(vol / "vol.nii.gz")).dataobj))
