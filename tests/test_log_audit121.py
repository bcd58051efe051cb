"""Audit 121: the Laplacian of Gaussian's arguments and size (findings 1, 2 and 5).

``laplacian_of_gaussian`` took a negative sigma or a truncate <= 0 and returned -3 * v (one tap per
factor); text and True were read as numbers; 0, NaN and None were Python's errors.  ``log:SIGMA`` had
no size limit: log:3000mm ran a 24,001-tap kernel and log:1e6mm ran until killed, where gaussian:
refuses past 1001 taps.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from kernelcli import kernel_build, volume_filters
from kernelcli.errors import InvalidKernel, UsageError

from conftest import documentation

VOL = np.random.default_rng(0).random((9, 10, 11))


class TestLogArguments:
    @pytest.mark.parametrize("sigma", [-1.0, 0, 0.0, float("nan"), float("inf"), None, "1", True, [1.0]])
    def test_a_sigma_that_is_no_positive_finite_number_is_refused_as_gaussian_mm_refuses_it(self, sigma):
        with pytest.raises(InvalidKernel, match=r"^log: sigma .* mm must be a positive finite number$"):
            volume_filters.laplacian_of_gaussian(VOL, sigma, (1, 1, 1))
        with pytest.raises(InvalidKernel, match=r"^gaussian: sigma .* mm must be a positive finite number$"):
            kernel_build.gaussian_mm(sigma, (1, 1, 1))

    @pytest.mark.parametrize("truncate", [0, -1.0, float("nan"), float("inf"), None, "4", True])
    def test_a_truncate_that_is_no_positive_number_is_refused(self, truncate):
        with pytest.raises(UsageError, match=r"^truncate .* must be a positive number$"):
            volume_filters.laplacian_of_gaussian(VOL, 1.0, (1, 1, 1), truncate=truncate)

    @pytest.mark.parametrize("sigma", [1e-300, 1e-100])
    def test_a_sigma_too_small_for_float64_weights_is_refused_in_one_line(self, sigma):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            with pytest.raises(InvalidKernel, match=r"^log: sigma .* too small, its weights .* overflow float64$"):
                volume_filters.laplacian_of_gaussian(VOL, sigma, (1, 1, 1))

    def test_a_small_sigma_still_computes_without_warnings(self):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            out = volume_filters.laplacian_of_gaussian(VOL, 1e-3, (1, 1, 1))
            assert kernel_build.gaussian_mm(1e-300, (1, 1, 1))[0].tolist() == [0.0, 1.0, 0.0]
        np.testing.assert_allclose(out, -3 * VOL / 1e-6, rtol=1e-12)  # one tap per axis: -1/sigma^2 each

    def test_the_command_line_refuses_a_negative_sigma(self, invoke, tmp_path):
        write(tmp_path / "v.nii.gz")
        done = invoke("convolve", "v.nii.gz", "-k", "log:-1mm", "-o", "o.nii.gz")
        assert done.exit_code == 3 and "positive finite" in done.stderr


class TestLogSize:
    def test_the_api_refuses_more_than_max_taps_as_gaussian_does(self):
        with pytest.raises(InvalidKernel, match=r"^log: sigma 10000 mm is 1e\+04 voxels along z \(spacing 1 mm\): "
                                                r"a kernel of more than 1001 taps \(sigma at most 125 mm here\)$"):
            kernel_build.laplacian_of_gaussian_factors(1e4, (1, 1, 1))
        with pytest.raises(InvalidKernel, match="more than 1001 taps"):
            volume_filters.laplacian_of_gaussian(VOL, 1e6, (1, 1, 1))

    def test_the_limit_is_counted_per_axis_at_its_spacing(self):
        with pytest.raises(InvalidKernel, match=r"along y \(spacing 0.5 mm\).*sigma at most 62.5 mm here"):
            kernel_build.laplacian_of_gaussian_factors(300.0, (10.0, 0.5, 10.0))
        with pytest.raises(InvalidKernel, match=r"along y \(spacing 0.5 mm\), a kernel of 1601 taps, more than 1001 "
                                                r"\(sigma at most 62.5 mm here\)$"):
            kernel_build.laplacian_of_gaussian_factors(100.0, (10.0, 0.5, 10.0))
        assert [len(f) for f in kernel_build.laplacian_of_gaussian_factors(125.0, (1, 1, 1))[0]] == [1001] * 3

    def test_the_limit_is_checked_before_the_volume_is_allocated(self, monkeypatch):
        monkeypatch.setattr(volume_filters, "_dense_fill", lambda *a: pytest.fail("reached the filtering"))
        with pytest.raises(InvalidKernel, match="more than 1001 taps"):
            volume_filters.laplacian_of_gaussian(VOL, 300.0, (1, 1, 1))

    @pytest.mark.parametrize("spec", ["log:300mm", "log:1e6mm", "log:300vox"])
    def test_the_command_line_refuses_it_with_exit_3(self, invoke, tmp_path, spec):
        write(tmp_path / "v.nii.gz")
        done = invoke("convolve", "v.nii.gz", "-k", spec, "-o", "o.nii.gz")
        assert done.exit_code == 3, done.stderr
        unit = "voxels" if spec.endswith("vox") else "mm here"  # (audit 124: a sigma in voxels is refused in voxels)
        assert f"a kernel of more than 1001 taps{' along every axis' * (unit == 'voxels')} (sigma at most 125 {unit})" in done.stderr
        assert not (tmp_path / "o.nii.gz").exists()


def write(path):
    nib = pytest.importorskip("nibabel")
    data = np.random.default_rng(0).integers(0, 100, (11, 10, 9)).astype(np.int16)
    nib.save(nib.Nifti1Image(data, np.eye(4)), str(path))


class TestScipyRadius:
    """Finding 5: the README and the docstring said log: equals ``gaussian_laplace(x, sigma, truncate=T)`` on 1 mm
    voxels; scipy's radius is int(T*sigma + 0.5) where kernelcli's is ceil(T*sigma): sigma 1.1 gave 0.07 apart."""

    @pytest.mark.parametrize("sigma", [0.7, 1.0, 1.1, 1.6, 2.3])
    def test_equals_gaussian_laplace_given_the_radius(self, sigma):
        ndi = pytest.importorskip("scipy.ndimage")
        x = np.random.default_rng(1).random((16, 16, 16)) * 100
        expected = ndi.gaussian_laplace(x, sigma, mode="nearest", radius=kernel_build.radius_for(sigma, 4.0))
        np.testing.assert_allclose(volume_filters.laplacian_of_gaussian(x, sigma, (1, 1, 1)), expected, rtol=0, atol=1e-12)

    def test_with_truncate_alone_scipy_differs_as_documented(self):
        ndi = pytest.importorskip("scipy.ndimage")
        x = np.random.default_rng(1).random((16, 16, 16)) * 100
        ours = volume_filters.laplacian_of_gaussian(x, 1.1, (1, 1, 1))
        theirs = ndi.gaussian_laplace(x, 1.1, mode="nearest", truncate=4.0)
        assert 0.002 < np.abs(ours - theirs).max() / np.abs(theirs).max() < 0.004  # the docstring's 0.3%

    def test_the_readme_and_the_docstring_give_the_matching_call(self):

        readme = documentation()
        row = next(line for line in readme.splitlines() if line.startswith("| `log:SIGMAmm`"))
        assert 'gaussian_laplace(x, sigma, mode="nearest", radius=ceil(T*sigma))' in row and "rounds T·sigma" in row
        doc = " ".join(volume_filters.laplacian_of_gaussian.__doc__.split())
        assert "radius=kernel_build.radius_for(sigma, truncate))" in doc and "int(truncate * sigma + 0.5)" in doc
