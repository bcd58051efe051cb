"""``--pad-mode renormalise``, ``--mask`` and ``--truncate`` on a volume with ``gaussian:1`` or ``box:3`` (audit 138 #4).

They were refused "is for smoothing kernels (gaussian, fwhm, box); gaussian:1 is not one" and "--truncate is for
Gaussians ...; gaussian:1 is not one": a Gaussian called no Gaussian.  Unitless, they are the 2-D catalogue kernels,
applied slice by slice; the refusal says so and names the volume kernels that take the option.
"""

from __future__ import annotations

import numpy as np
import pytest

from conftest import run_in_process

nib = pytest.importorskip("nibabel")


@pytest.fixture
def vol(tmp_path):
    v = np.arange(5 * 6 * 7, dtype=np.float32).reshape(5, 6, 7)
    nib.save(nib.Nifti1Image(np.ascontiguousarray(v.transpose(2, 1, 0)), np.eye(4)), str(tmp_path / "no.nii"))
    return tmp_path


@pytest.mark.parametrize("kernel, option, fix", [
    ("gaussian:1", ["-m", "renormalise"], "gaussian:1vox or gaussian:1mm"),
    ("box:3", ["-m", "renormalise"], "box:3vox or box:3mm"),
    ("box:3", ["--mask", "no.nii"], "box:3vox or box:3mm"),
    ("gaussian:1", ["--truncate", "4"], "gaussian:1vox or gaussian:1mm"),
    ("gaussian:1.5", ["--mask", "no.nii"], "gaussian:1.5vox or gaussian:1.5mm"),
])
def test_a_2d_smoothing_kernel_is_named_as_such_with_its_volume_spellings(vol, kernel, option, fix):
    r = run_in_process("convolve", "no.nii", "-k", kernel, *option, "-o", "o.nii", cwd=vol)
    assert r.returncode == 2, r.stderr
    assert "is not one" not in r.stderr and f"{kernel} is the 2-D kernel (applied slice by slice)" in r.stderr, r.stderr
    assert fix in r.stderr, r.stderr
    assert not (vol / "o.nii").exists()


@pytest.mark.parametrize("kernel, option, said", [
    ("sobel_h", ["-m", "renormalise"], "sobel_h is not one"),
    ("box:3vox", ["--truncate", "4"], "box:3vox is not one"),
])
def test_other_kernels_keep_their_refusal(vol, kernel, option, said):
    r = run_in_process("convolve", "no.nii", "-k", kernel, *option, "-o", "o.nii", cwd=vol)
    assert r.returncode == 2 and said in r.stderr, r.stderr


@pytest.mark.parametrize("kernel, option", [("gaussian:1vox", ["-m", "renormalise"]), ("gaussian:1vox", ["--truncate", "4"]),
                                            ("box:3vox", ["--mask", "no.nii"])])
def test_the_named_volume_kernels_take_the_option(vol, kernel, option):
    r = run_in_process("convolve", "no.nii", "-k", kernel, *option, "-o", "o.nii", "-q", cwd=vol)
    assert r.returncode == 0, r.stderr
