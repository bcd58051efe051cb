"""Audit 121: the Laplacian of Gaussian's arguments (finding 1).

``laplacian_of_gaussian`` took a negative sigma or a truncate <= 0 and returned -3 * v (one tap per
factor); text and True were read as numbers; 0, NaN and None were Python's errors.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from kernelcli import kernel_build, volume_filters
from kernelcli.errors import InvalidKernel, UsageError

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


def write(path):
    nib = pytest.importorskip("nibabel")
    data = np.random.default_rng(0).integers(0, 100, (11, 10, 9)).astype(np.int16)
    nib.save(nib.Nifti1Image(data, np.eye(4)), str(path))
