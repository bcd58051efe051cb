"""A volume with no kernel to filter with (audit 146 #1, #2).

#1: ``-k ''`` on one volume was a copy, exit 0 (``if kernel_spec`` took '' for no kernel), where an image, the tiled
path and a batch of volumes refuse it "empty kernel spec", exit 3.

#2: a copy (no ``--kernel``) took ``--mask``, ``--truncate`` and ``--pad-mode renormalise`` and wrote the input, exit 0,
without a word, where a kernel that does not use them refuses them (exit 2); ``--flip`` and another ``--pad-mode``
were dropped as silently, where a copy's ``--axis`` is noted.  Now a copy refuses what a kernel refuses, in the
same words, before any voxel is read (in memory, tile by tile and in a batch alike), and notes the rest.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import run_in_process

nib = pytest.importorskip("nibabel")


@pytest.fixture
def vol(tmp_path):
    v = np.arange(5 * 6 * 7, dtype=np.float32).reshape(5, 6, 7)
    for name in ("ok.nii", "two.nii"):
        nib.save(nib.Nifti1Image(np.ascontiguousarray(v.transpose(2, 1, 0)), np.eye(4)), str(tmp_path / name))
    return tmp_path


@pytest.mark.parametrize("extra", [[], ["--tiled"], ["--json"]], ids=["memory", "tiled", "json"])
@pytest.mark.parametrize("command", ["convolve", "volume"])
def test_an_empty_kernel_spec_on_one_volume_is_refused(vol, command, extra):
    r = run_in_process(command, "ok.nii", "-k", "", *extra, "-o", "e.nii", cwd=vol)
    assert r.returncode == 3, r.stderr
    assert "empty kernel spec ''" in (r.stderr + r.stdout) and "Traceback" not in r.stderr, r.stderr
    assert not (vol / "e.nii").exists()
    if "--json" in extra:
        assert json.loads(r.stdout)["status"] == "failed"


def test_an_empty_kernel_spec_without_out_is_refused_before_naming_the_output(vol):
    r = run_in_process("convolve", "ok.nii", "-k", "", cwd=vol)
    assert r.returncode == 3 and "empty kernel spec" in r.stderr, r.stderr
    assert sorted(p.name for p in vol.iterdir()) == ["ok.nii", "two.nii"]


def test_a_batch_of_volumes_refuses_it_alike(vol):
    r = run_in_process("convolve", "ok.nii", "two.nii", "-k", "", "--out-dir", "o", cwd=vol)
    assert r.returncode == 3 and "empty kernel spec" in r.stderr, r.stderr


def test_the_api_refuses_it_and_none_is_still_a_copy(vol):
    from kernelcli.errors import InvalidKernel
    from kernelcli.medical.jobs import convolve_volume_file, convolve_volume_output

    with pytest.raises(InvalidKernel, match="empty kernel spec"):
        convolve_volume_file(vol / "ok.nii", "", out=vol / "e.nii")
    with pytest.raises(InvalidKernel, match="empty kernel spec"):
        convolve_volume_output(vol / "ok.nii", "")
    assert not (vol / "e.nii").exists()
    report = convolve_volume_file(vol / "ok.nii", None, out=vol / "c.nii")
    assert report.operation == "copy"


@pytest.mark.parametrize("option, said", [
    (["--mask", "two.nii"], "--pad-mode renormalise (and --mask) is for smoothing kernels (gaussian, fwhm, box); a copy (no --kernel) filters nothing"),
    (["-m", "renormalise"], "--pad-mode renormalise (and --mask) is for smoothing kernels (gaussian, fwhm, box); a copy (no --kernel) filters nothing"),
    (["--truncate", "2"], "--truncate is for Gaussians (gaussian:, fwhm:, log:); a copy (no --kernel) filters nothing"),
])
@pytest.mark.parametrize("extra", [[], ["--tiled"], ["--json"]], ids=["memory", "tiled", "json"])
def test_a_copy_refuses_what_a_kernel_that_does_not_use_it_refuses(vol, option, said, extra):
    r = run_in_process("convolve", "ok.nii", *option, *extra, "-o", "c.nii", cwd=vol)
    assert r.returncode == 2, r.stderr
    assert said in r.stderr + r.stdout and "Traceback" not in r.stderr, r.stderr
    assert not (vol / "c.nii").exists()


def test_a_kernel_refuses_it_in_the_same_words(vol):
    r = run_in_process("convolve", "ok.nii", "-k", "sobel_3d", "--mask", "two.nii", "-o", "c.nii", cwd=vol)
    assert r.returncode == 2 and "--pad-mode renormalise (and --mask) is for smoothing kernels (gaussian, fwhm, box); " in r.stderr


def test_a_batch_of_copies_is_refused_once(vol):
    r = run_in_process("convolve", "ok.nii", "two.nii", "--truncate", "2", "--out-dir", "o", cwd=vol)
    assert r.returncode == 2 and "a copy (no --kernel) filters nothing" in r.stderr, r.stderr
    assert "every input of the batch is refused alike" in r.stderr and not (vol / "o").exists()


@pytest.mark.parametrize("option, said", [
    (["--flip"], "--flip: for a --kernel; a copy (no --kernel) filters nothing"),
    (["-m", "reflect"], "--pad-mode reflect: for a --kernel; a copy (no --kernel) filters nothing"),
    (["--flip", "-m", "constant", "--pad-value", "5"], "--flip, --pad-mode constant, --pad-value 5: for a --kernel; a copy"),
])
def test_a_copy_notes_the_filtering_options_it_does_not_use(vol, option, said):
    r = run_in_process("convolve", "ok.nii", *option, "-o", "c.nii", "--json", cwd=vol)
    assert r.returncode == 0, r.stderr
    assert said in r.stderr and any(said in n for n in json.loads(r.stdout)["notes"]), r.stderr
    assert np.array_equal(nib.load(str(vol / "c.nii")).get_fdata(), nib.load(str(vol / "ok.nii")).get_fdata())


def test_a_copy_without_them_has_no_such_note(vol):
    r = run_in_process("convolve", "ok.nii", "-o", "c.nii", cwd=vol)
    assert r.returncode == 0 and "filters nothing" not in r.stderr, r.stderr


def test_the_api_refuses_and_notes_alike(vol):
    from kernelcli.errors import UsageError
    from kernelcli.medical.jobs import convolve_volume_file
    from kernelcli.medical.volume_options import VolumeOptions

    with pytest.raises(UsageError, match="a copy \\(no --kernel\\) filters nothing"):
        convolve_volume_file(vol / "ok.nii", None, VolumeOptions(mask=vol / "two.nii"), out=vol / "c.nii")
    assert not (vol / "c.nii").exists()
    report = convolve_volume_file(vol / "ok.nii", None, VolumeOptions(flip=True), out=vol / "c.nii")
    assert "--flip: for a --kernel; a copy (no --kernel) filters nothing" in report.notes
