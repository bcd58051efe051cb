"""Audit 124 #3: every volume Gaussian or LoG past 1001 taps is refused naming the largest sigma that fits, in the unit
it was given (mm or voxels)."""

from __future__ import annotations

import re

import numpy as np
import pytest

from kernelcli import kernel_build, volume_filters
from kernelcli.errors import InvalidKernel


def bound_of(exc: pytest.ExceptionInfo) -> float:
    return float(re.search(r"sigma at most ([0-9.e+]+) (mm here|voxels)\)$", str(exc.value)).group(1))


class TestGaussianMm:
    def test_at_the_limit_it_is_built(self):
        assert [len(k) for k in kernel_build.gaussian_mm(83.33, (2.0, 0.5, 0.5))] == [251, 1001, 1001]

    @pytest.mark.parametrize("sigma, taps", [(83.34, 1003), (84.0, 1009), (160.0, 1921), (166.0, 1993)])
    def test_past_the_limit_up_to_twice_it_names_the_largest_sigma(self, sigma, taps):
        with pytest.raises(InvalidKernel) as exc:
            kernel_build.gaussian_mm(sigma, (2.0, 0.5, 0.5))
        assert str(exc.value) == (f"gaussian: sigma {sigma:g} mm is {sigma * 2:.4g} voxels along y (spacing 0.5 mm), "
                                  f"a kernel of {taps} taps, more than 1001 (sigma at most 83.33 mm here)")

    def test_far_past_the_limit_it_names_it_too(self):
        with pytest.raises(InvalidKernel, match=r"sigma 200 mm is 400 voxels along y \(spacing 0.5 mm\): a kernel of "
                                                r"more than 1001 taps \(sigma at most 83.33 mm here\)$"):
            kernel_build.gaussian_mm(200.0, (2.0, 0.5, 0.5))

    def test_the_axis_named_is_the_finest_so_the_bound_holds_for_every_axis(self):
        # z (1 mm) is too long too, and comes first; its bound (166.6 mm) would fail along y
        with pytest.raises(InvalidKernel, match=r"along y \(spacing 0.5 mm\).*sigma at most 83.33 mm here\)$"):
            kernel_build.gaussian_mm(200.0, (1.0, 0.5, 0.5))


class TestLogMm:
    def test_at_the_limit_it_is_built(self):
        assert [len(f) for f in kernel_build.laplacian_of_gaussian_factors(62.5, (2.0, 0.5, 0.5))[0]] == [251, 1001, 1001]

    @pytest.mark.parametrize("sigma", [62.51, 63.0, 100.0, 125.0, 300.0])
    def test_past_the_limit_it_names_the_largest_sigma(self, sigma):
        with pytest.raises(InvalidKernel, match=r"^log: sigma .* along y \(spacing 0.5 mm\).*\(sigma at most 62.5 mm here\)$"):
            kernel_build.laplacian_of_gaussian_factors(sigma, (2.0, 0.5, 0.5))


class TestInVoxels:
    def test_at_the_limit_it_is_built(self):
        assert [len(k) for k in kernel_build.gaussian_vox(166.6)] == [1001] * 3
        assert [len(f) for f in kernel_build.laplacian_of_gaussian_factors(125.0, None)[0]] == [1001] * 3

    @pytest.mark.parametrize("sigma, said", [
        (166.7, "gaussian: sigma 166.7 voxels, a kernel of 1003 taps along every axis, more than 1001 (sigma at most 166.6 voxels)"),
        (170.0, "gaussian: sigma 170 voxels, a kernel of 1021 taps along every axis, more than 1001 (sigma at most 166.6 voxels)"),
        (400.0, "gaussian: sigma 400 voxels: a kernel of more than 1001 taps along every axis (sigma at most 166.6 voxels)"),
    ])
    def test_a_gaussian_in_voxels_is_refused_in_voxels(self, sigma, said):
        with pytest.raises(InvalidKernel) as exc:
            kernel_build.gaussian_vox(sigma)
        assert str(exc.value) == said

    @pytest.mark.parametrize("sigma", [125.1, 130.0, 300.0])
    def test_a_log_in_voxels_is_refused_in_voxels(self, sigma):
        with pytest.raises(InvalidKernel, match=rf"^log: sigma {sigma:g} voxels[,:] .*along every axis.*\(sigma at most 125 voxels\)$"):
            volume_filters.laplacian_of_gaussian(np.zeros((3, 3, 3)), sigma, None)

    def test_a_negative_sigma_in_voxels_is_named_in_voxels(self):
        with pytest.raises(InvalidKernel, match=r"^gaussian: sigma -1.0 voxels must be a positive finite number$"):
            kernel_build.gaussian_vox(-1.0)


@pytest.mark.parametrize("truncate", [1.0, 3.0, 4.0, 7.3])
@pytest.mark.parametrize("spacing", [None, (1.0, 1.0, 1.0), (2.0, 0.5, 0.5), (0.3, 0.7, 0.9)])
def test_the_bound_printed_fits_and_a_bit_more_does_not(truncate, spacing):
    build = (lambda s: kernel_build.gaussian_vox(s, truncate=truncate)) if spacing is None else \
        (lambda s: kernel_build.gaussian_mm(s, spacing, truncate=truncate))
    with pytest.raises(InvalidKernel) as exc:
        build(1e4)
    bound = bound_of(exc)
    assert max(len(k) for k in build(bound)) <= 1001
    with pytest.raises(InvalidKernel):
        build(bound * 1.001)


def _half_mm_volume(tmp_path) -> None:
    """h.nii.gz in ``tmp_path``: 10x9x8 voxels of 0.5 x 0.5 x 2 mm (y and x the finest axes)."""
    nib = pytest.importorskip("nibabel")
    image = nib.Nifti1Image(np.zeros((10, 9, 8), np.float32), np.diag([0.5, 0.5, 2, 1]))
    image.header.set_xyzt_units("mm")
    nib.save(image, tmp_path / "h.nii.gz")


def test_the_command_line_names_voxels_on_a_volume_of_2_mm_slices(invoke, tmp_path):
    _half_mm_volume(tmp_path)
    for spec, said in (("gaussian:170vox", "gaussian: sigma 170 voxels, a kernel of 1021 taps along every axis, more than "
                                           "1001 (sigma at most 166.6 voxels)"),
                       ("log:130vox", "log: sigma 130 voxels, a kernel of 1041 taps along every axis, more than 1001 "
                                      "(sigma at most 125 voxels)"),
                       ("gaussian:84mm", "gaussian: sigma 84 mm is 168 voxels along y (spacing 0.5 mm), a kernel of 1009 "
                                         "taps, more than 1001 (sigma at most 83.33 mm here)")):
        done = invoke("convolve", "h.nii.gz", "-k", spec, "-o", "o.nii.gz")
        assert done.exit_code == 3 and f"h.nii.gz: {said}" in done.stderr, (spec, done.output)
        assert not (tmp_path / "o.nii.gz").exists()


class TestFwhmIsRefusedInFwhm:
    """A ``fwhm:`` kernel past 1001 taps was refused in a sigma the user never typed ("gaussian: sigma 42466.1 voxels ...
    sigma at most 166.6"): in the FWHM it was given in now, its sigma beside it, and the largest FWHM that fits."""

    @pytest.mark.parametrize("spec, said", [
        ("fwhm:1000vox", "fwhm: FWHM 1000 voxels (sigma 424.661): a kernel of more than 1001 taps along every axis "
                         "(FWHM at most 392.4 voxels)"),
        ("fwhm:200mm", "fwhm: FWHM 200 mm (sigma 84.9322) is 169.9 voxels along y (spacing 0.5 mm), a kernel of 1021 taps, "
                       "more than 1001 (FWHM at most 196.2 mm here)"),
    ])
    def test_on_the_command_line(self, invoke, tmp_path, spec, said):
        _half_mm_volume(tmp_path)
        done = invoke("convolve", "h.nii.gz", "-k", spec, "-o", "o.nii.gz")
        assert done.exit_code == 3 and done.stderr.strip() == f"error: h.nii.gz: {said}", done.output

    @pytest.mark.parametrize("spacing", [None, (2.0, 0.5, 0.5)])
    def test_the_fwhm_bound_printed_fits_and_a_bit_more_does_not(self, spacing):
        # (fwhm=True reads the size as a FWHM since audit 137 #1; it was divided here, the function only reworded)
        build = (lambda f: kernel_build.gaussian_vox(f, fwhm=True)) if spacing is None else \
            (lambda f: kernel_build.gaussian_mm(f, spacing, fwhm=True))
        with pytest.raises(InvalidKernel) as exc:
            build(1e4)
        bound = float(re.search(r"FWHM at most ([0-9.e+]+) (mm here|voxels)\)$", str(exc.value)).group(1))
        assert max(len(k) for k in build(bound)) <= 1001
        with pytest.raises(InvalidKernel):
            build(bound * 1.001)
