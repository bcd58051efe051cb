"""Audit 107 F7, the minor points: one refusal said "--affine" twice; read_volume(series=) on a NIfTI gave a reason
no longer true; conv_layer refused text weights in other words than conv2d's kernel (and ragged weights or a bias
were numpy's ValueError); the README said a tiled .nii is named as in memory and named convolve_slices and
correlate_separable among the API functions without saying where they are.
Oracle: the other choices' refusals, conv2d's refusal of the same values, the package's own namespaces.
"""

from __future__ import annotations

import numpy as np
import pytest

import kernelcli
from conftest import DOCS, documentation, run_in_process
from kernelcli.errors import ShapeError, UsageError

nib = pytest.importorskip("nibabel")

README = documentation()


def nifti(folder, name="v.nii.gz") -> str:
    nib.save(nib.Nifti1Image(np.arange(6 * 7 * 8, dtype=np.int16).reshape(6, 7, 8), np.eye(4)), str(folder / name))
    return name


def message(error, call) -> str:
    with pytest.raises(error) as info:
        call()
    return str(info.value)


class TestAffineRefusal:
    def test_the_option_is_named_once_as_every_choice_is(self, tmp_path):
        r = run_in_process("convolve", nifti(tmp_path), "-k", "box:3", "--affine", "q", "-o", "o.npy", cwd=tmp_path)
        assert r.returncode == 2 and len(r.stderr.splitlines()) == 1, r.stderr
        assert "Invalid value for '--affine': invalid affine 'q': expected one of sform, qform" in r.stderr
        axis = run_in_process("convolve", "v.nii.gz", "-k", "box:3", "--axis", "q", "-o", "o.npy", cwd=tmp_path)
        assert "Invalid value for '--axis': invalid axis 'q'" in axis.stderr  # (the form it now shares)

    def test_the_api_names_the_value_as_the_other_choices_do(self, tmp_path):
        assert message(UsageError, lambda: kernelcli.read_volume(tmp_path / nifti(tmp_path), affine="q")) == \
            "invalid affine 'q': expected one of sform, qform"


def test_a_series_of_an_input_that_is_not_dicom_says_so(tmp_path):
    said = message(UsageError, lambda: kernelcli.read_volume(tmp_path / nifti(tmp_path), series=7))
    assert said.endswith("series= picks a series of a DICOM input (a folder of DICOM files or one file); this input is not DICOM")


class TestConvLayerRefusesAsConv2d:
    X = np.ones((5, 5, 1))

    @pytest.mark.parametrize("value", ["1", 1j, None], ids=["text", "complex", "None"])
    def test_weights_and_a_bias_are_refused_in_the_kernels_words(self, value):
        kernel = message(UsageError, lambda: kernelcli.conv2d(self.X[:, :, 0], [[value]]))
        assert kernel.startswith("kernel: ") and "expected real numbers" in kernel
        weights = message(UsageError, lambda: kernelcli.conv_layer(self.X, [[[[value]]]]))
        assert weights == kernel.replace("kernel: ", "weights: ")
        bias = message(UsageError, lambda: kernelcli.conv_layer(self.X, np.ones((1, 1, 1, 1)), [value]))
        assert bias == kernel.replace("kernel: ", "bias: ")

    def test_ragged_weights_or_bias_are_a_shape_error_as_a_ragged_kernel(self):
        kernel = message(ShapeError, lambda: kernelcli.conv2d(self.X[:, :, 0], [[1, 2], [1]]))
        weights = message(ShapeError, lambda: kernelcli.conv_layer(self.X, [[[[1, 2]], [[1]]]]))
        bias = message(ShapeError, lambda: kernelcli.conv_layer(self.X, np.ones((1, 1, 1, 1)), [[1], [2, 3]]))
        assert (weights, bias) == (kernel.replace("kernel: ", "weights: "), kernel.replace("kernel: ", "bias: "))


class TestReadme:
    def test_it_says_where_the_volume_functions_it_names_are(self):
        import kernelcli.volume_filters as filters
        import kernelcli.volumes as volumes

        api = (DOCS / "python-api.md").read_text(encoding="utf-8")
        for name in ("convolve_slices", "correlate_separable"):
            assert name in api and name not in kernelcli.__all__ and callable(getattr(volumes, name))
        assert "`convolve_slices` and `correlate_separable` from `kernelcli.volumes`" in " ".join(api.split())
        for name in ("gradient_magnitude", "sobel_magnitude", "laplacian_of_gaussian", "smooth_renormalised"):
            assert callable(getattr(filters, name)) and f"`{name}`" in api

    def test_a_tiled_nii_is_named_as_the_readme_says(self, tmp_path):
        pytest.importorskip("dask")
        nifti(tmp_path, "ct.nii")
        for extra in ((), ("--tiled",)):
            r = run_in_process("convolve", "ct.nii", "-k", "box:3vox", "-q", *extra, cwd=tmp_path)
            assert r.returncode == 0, r.stderr
        assert {p.name for p in tmp_path.iterdir()} == {"ct.nii", "ct_box_3vox.nii.gz", "ct_box_3vox.nii"}
        assert "a `.nii` volume's is `.nii` where in memory it is `.nii.gz`" in " ".join(README.split())
