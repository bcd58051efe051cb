"""Smoothing that matches fslmaths and scipy, and derivatives in mm (issue 14, "what to add").

The fslmaths reference here is written from FSL's published rule, not from kernelcli's code:
``gaussian_kernel3D(sigma, xdim, ydim, zdim, cutoff=4)`` gives a (2*ceil(4*sigma/d)+1)-voxel
side per axis with weights exp(-(x^2 dx^2 + y^2 dy^2 + z^2 dz^2) / (2 sigma^2)); ``-s``
convolves with it and, at the volume's edge, divides by the weights that fell inside
(``renormalise``).  It is done here densely with scipy.ndimage.correlate.
"""

from __future__ import annotations

import math
import re
import warnings

import numpy as np
import pytest

from kernelcli import medical, volume_filters, volumes
from kernelcli.errors import UsageError

ndi = pytest.importorskip("scipy.ndimage")


def fsl_kernel(sigma_mm: float, spacing_zyx) -> np.ndarray:
    """FSL's gaussian_kernel3D (cutoff 4), as a (Z, Y, X) array, unnormalised."""
    # FSL computes ceil(sigma*4/dim) in float32, where decimal noise such as 0.3*4/0.4 = 3.0000000000000004 (float64)
    # rounds to exactly 3; the 1e-9 allowance gives the same radius in float64
    radii = [math.ceil(sigma_mm * 4.0 / d - 1e-9) for d in spacing_zyx]
    grids = np.meshgrid(*[np.arange(-r, r + 1) * d for r, d in zip(radii, spacing_zyx)], indexing="ij")
    return np.exp(-sum(g * g for g in grids) / (2 * sigma_mm**2))


def fsl_smooth(x: np.ndarray, sigma_mm: float, spacing_zyx) -> np.ndarray:
    """fslmaths -s: correlate with the kernel, outside voxels dropped, renormalised by the weights inside."""
    k = fsl_kernel(sigma_mm, spacing_zyx)
    num = ndi.correlate(x.astype(np.float64), k, mode="constant", cval=0.0)
    den = ndi.correlate(np.ones_like(x, dtype=np.float64), k, mode="constant", cval=0.0)
    return num / den


def fsl_masked(x: np.ndarray, kernels_zyx, mask: np.ndarray) -> np.ndarray:
    """FSL's convolve_separable(source, kx, ky, kz, mask): per pass (x, y, z), inside-mask taps only, renormalised;
    voxels outside the mask keep their value.  Plain loops, one axis at a time."""
    result = x.astype(np.float64).copy()
    inside = mask > 0.5
    for axis in (2, 1, 0):
        k = np.asarray(kernels_zyx[axis], dtype=np.float64)
        r = len(k) // 2
        src = result.copy()
        moved_src, moved_in = np.moveaxis(src, axis, -1), np.moveaxis(inside, axis, -1)
        out = np.moveaxis(result, axis, -1)
        n = moved_src.shape[-1]
        for idx in np.ndindex(moved_src.shape[:-1]):
            line, keep = moved_src[idx], moved_in[idx]
            for c in range(n):
                if not keep[c]:
                    continue
                val = norm = 0.0
                for t in range(-r, r + 1):
                    if 0 <= c + t < n and keep[c + t]:
                        val += line[c + t] * k[t + r]
                        norm += k[t + r]
                out[idx + (c,)] = val / norm if abs(norm) > 1e-12 else val
    return result


def write_nifti(path, x, spacing_zyx):
    nib = pytest.importorskip("nibabel")
    img = nib.Nifti1Image(x.transpose(2, 1, 0).astype(np.float32), np.diag([*spacing_zyx[::-1], 1.0]))
    img.header.set_xyzt_units("mm")
    nib.save(img, str(path))


class TestFslmathsRule:
    SPACING = (2.5, 0.7, 0.9)

    def test_renormalised_edges_match_fslmaths_on_a_random_volume(self):
        x = np.random.default_rng(0).random((9, 12, 11)).astype(np.float32)
        ours = volume_filters.smooth_renormalised(x, volumes.gaussian_mm(1.5, self.SPACING, truncate=4))
        np.testing.assert_allclose(ours, fsl_smooth(x, 1.5, self.SPACING), rtol=0, atol=1e-5)

    def test_the_fslmaths_flag_set_on_the_command_line(self, invoke, tmp_path):
        x = np.random.default_rng(1).random((9, 12, 11)).astype(np.float32)
        write_nifti(tmp_path / "r.nii.gz", x, self.SPACING)
        done = invoke("volume", str(tmp_path / "r.nii.gz"), "-k", "gaussian:1.5mm", "--truncate", "4", "--pad-mode", "renormalise",
                       "--out", str(tmp_path / "s.nii.gz"))
        assert done.exit_code == 0, done.stderr
        assert "as fslmaths -s" in done.stderr
        out = medical.read_volume(tmp_path / "s.nii.gz").data
        np.testing.assert_allclose(out, fsl_smooth(x, 1.5, self.SPACING), rtol=0, atol=1e-5)

    def test_fwhm_is_sigma_times_2_3548(self, tmp_path):
        x = np.random.default_rng(2).random((7, 8, 9)).astype(np.float32)
        write_nifti(tmp_path / "r.nii.gz", x, self.SPACING)
        sigma = 4.0 / (2 * math.sqrt(2 * math.log(2)))
        medical.convolve_volume_file(tmp_path / "r.nii.gz", "fwhm:4mm", medical.VolumeOptions(truncate=4, pad_mode="renormalise"),
                                     out=tmp_path / "f.nii.gz")
        np.testing.assert_allclose(medical.read_volume(tmp_path / "f.nii.gz").data, fsl_smooth(x, sigma, self.SPACING), atol=1e-5)

    def test_masked_smoothing_follows_fsl_per_pass(self, tmp_path):
        rng = np.random.default_rng(3)
        x = rng.random((6, 7, 8)).astype(np.float32)
        mask = (rng.random(x.shape) > 0.3).astype(np.uint8)
        kernels = volumes.gaussian_mm(1.2, self.SPACING, truncate=4)
        ours = volume_filters.smooth_renormalised(x, kernels, mask=mask)
        expected = fsl_masked(x, kernels, mask)
        np.testing.assert_allclose(ours, expected, rtol=0, atol=1e-5)
        np.testing.assert_array_equal(ours[mask == 0], x[mask == 0])
        # and through the file job: --mask implies the renormalising edge rule
        write_nifti(tmp_path / "r.nii.gz", x, self.SPACING)
        write_nifti(tmp_path / "m.nii.gz", mask.astype(np.float32), self.SPACING)
        medical.convolve_volume_file(tmp_path / "r.nii.gz", "gaussian:1.2mm", medical.VolumeOptions(truncate=4, mask=tmp_path / "m.nii.gz"),
                                     out=tmp_path / "s.nii.gz")
        np.testing.assert_allclose(medical.read_volume(tmp_path / "s.nii.gz").data, expected, atol=1e-5)

    def test_mask_on_another_grid_is_refused(self, tmp_path):
        from kernelcli.errors import UsageError

        write_nifti(tmp_path / "r.nii.gz", np.zeros((4, 5, 6), np.float32), self.SPACING)
        write_nifti(tmp_path / "m.nii.gz", np.ones((4, 5, 7), np.float32), self.SPACING)
        with pytest.raises(UsageError, match="--mask .* shape 4x5x7 differs from the input's 4x5x6"):
            medical.convolve_volume_file(tmp_path / "r.nii.gz", "gaussian:1mm", medical.VolumeOptions(mask=tmp_path / "m.nii.gz"),
                                         out=tmp_path / "s.nii.gz")


class TestScipyTruncate:
    """``--truncate T``: radius ceil(T*sigma) (fslmaths' rule); scipy rounds T*sigma to the nearest integer,
    so the two agree whenever that rounding goes up (fractional part 0 or >= 0.5), as in these cases."""

    @pytest.mark.parametrize("sigma_vox,truncate", [(1.0, 4.0), (1.5, 3.0), (2.0, 2.5), (0.9, 4.0), (1.25, 2.0)])
    def test_equals_gaussian_filter_with_truncate(self, sigma_vox, truncate):
        assert math.ceil(truncate * sigma_vox - 1e-9) == int(truncate * sigma_vox + 0.5)
        x = np.random.default_rng(4).random((10, 11, 12))
        spacing = (1.0, 1.0, 1.0)
        kernel = medical.resolve_volume_kernel(f"gaussian:{sigma_vox}mm")
        ours, _ = medical.filter_volume(medical.Volume(x, spacing, np.eye(4), None, "test"), kernel,
                                        medical.VolumeOptions(truncate=truncate))
        np.testing.assert_allclose(ours, ndi.gaussian_filter(x, sigma_vox, truncate=truncate, mode="nearest"), rtol=0, atol=1e-12)

    def test_anisotropic_spacing(self):
        x = np.random.default_rng(5).random((8, 9, 10))
        spacing = (2.0, 0.5, 1.0)
        ours = volumes.correlate_separable(x, volumes.gaussian_mm(2.0, spacing, truncate=4), pad_mode="replicate")
        np.testing.assert_allclose(ours, ndi.gaussian_filter(x, [2.0 / s for s in spacing], truncate=4, mode="nearest"), atol=1e-12)


class TestDerivativesInMm:
    SPACING = (2.5, 0.7, 0.9)

    def test_gradient_magnitude_by_hand(self):
        x = np.random.default_rng(6).random((6, 7, 8))
        padded = np.pad(x, 1, mode="edge")
        parts = []
        for axis, s in enumerate(self.SPACING):
            hi = np.take(padded, range(2, padded.shape[axis]), axis=axis)
            lo = np.take(padded, range(0, padded.shape[axis] - 2), axis=axis)
            d = (hi - lo) / (2 * s)
            parts.append(d[tuple(slice(1, -1) if a != axis else slice(None) for a in range(3))])
        expected = np.sqrt(sum(p * p for p in parts))
        np.testing.assert_allclose(volume_filters.gradient_magnitude(x, self.SPACING), expected, atol=1e-12)

    def test_gradient_magnitude_matches_simpleitk(self):
        sitk = pytest.importorskip("SimpleITK")
        x = np.random.default_rng(7).random((6, 7, 8))
        img = sitk.GetImageFromArray(x)
        img.SetSpacing(self.SPACING[::-1])
        expected = sitk.GetArrayFromImage(sitk.GradientMagnitude(img, useImageSpacing=True))
        np.testing.assert_allclose(volume_filters.gradient_magnitude(x, self.SPACING), expected, atol=1e-10)

    @pytest.mark.parametrize("fill", [0.0, 100.0, -3.5])
    @pytest.mark.parametrize("dtype", [np.float64, np.float32])
    def test_a_constant_fill_pads_the_volume(self, fill, dtype):
        """--pad-value was not passed to gradient, sobel_mm and log: (a fill of 100 gave the fill of 0's bytes),
        and passes in sequence pad their partial sums with the fill, which for a derivative is not the
        volume padded with it: each is checked against the dense 3-D kernel on the padded volume."""
        from kernelcli.kernel_build import central_difference_mm, laplacian_of_gaussian_factors, sobel_mm_factors

        x = (np.random.default_rng(8).random((7, 8, 9)) * 50).astype(dtype)

        def dense(factors):
            ks = [np.ones(1) if f is None else np.asarray(f, np.float64) for f in factors]
            k = np.einsum("i,j,k->ijk", *ks)
            widths = [((n - 1) // 2, n - 1 - (n - 1) // 2) for n in k.shape]
            padded = np.pad(x.astype(np.float64), widths, constant_values=fill)
            return volumes.conv3d(padded, k, padding="valid", dtype="float64")

        def magnitude(parts):
            return np.sqrt(sum(p * p for p in parts))

        gradient = magnitude(dense([central_difference_mm(s) if a == b else None for b in range(3)])
                             for a, s in enumerate(self.SPACING))
        sobel = magnitude(dense(sobel_mm_factors(a, self.SPACING)) for a in range(3))
        log = sum(dense(f) for f in laplacian_of_gaussian_factors(1.5, self.SPACING, 4.0))
        tol = dict(rtol=1e-4, atol=1e-3) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-9)
        kw = dict(pad_mode="constant", pad_value=fill)
        np.testing.assert_allclose(volume_filters.gradient_magnitude(x, self.SPACING, **kw), gradient, **tol)
        np.testing.assert_allclose(volume_filters.sobel_magnitude(x, self.SPACING, **kw), sobel, **tol)
        np.testing.assert_allclose(volume_filters.laplacian_of_gaussian(x, 1.5, self.SPACING, **kw), log, **tol)

    def test_a_large_fill_leaves_the_inside_alone_and_a_bad_one_is_named(self):
        # a first version took the fill out of the volume and added it back: in float32 a fill of 1e8 rounded every
        # voxel to its scale (an interior gradient of 25.51 read 24.33); NaN blamed the volume (the API audit)
        x = np.arange(125, dtype=np.uint8).reshape(5, 5, 5)
        for f in (volume_filters.gradient_magnitude, volume_filters.sobel_magnitude):
            inside = [f(x, (1, 1, 1), pad_mode="constant", pad_value=v)[2, 2, 2] for v in (0.0, 1e8)]
            assert inside[0] == inside[1]
        for bad, said in ((float("nan"), "pad_value nan: expected a finite number"), (1e39, "pad_value 1e+39 does not fit"),
                          ("a", "pad_value 'a': expected a number")):
            with pytest.raises(UsageError, match=re.escape(said)):
                volume_filters.laplacian_of_gaussian(x, 1.0, (1, 1, 1), pad_mode="constant", pad_value=bad)

    @pytest.mark.parametrize("kernel", ["gradient", "sobel_mm", "log:2mm"])
    def test_the_command_line_passes_the_fill_and_notes_an_axis(self, invoke, tmp_path, kernel):
        x = np.random.default_rng(9).random((6, 7, 8)).astype(np.float32) * 100
        write_nifti(tmp_path / "v.nii.gz", x, self.SPACING)
        nib = pytest.importorskip("nibabel")
        got = []
        for fill in ("0", "100"):
            r = invoke("convolve", "v.nii.gz", "-k", kernel, "--pad-mode", "constant", "--pad-value", fill, "-o", f"o{fill}.nii.gz")
            assert r.exit_code == 0, r.stderr
            got.append(np.asarray(nib.load(str(tmp_path / f"o{fill}.nii.gz")).dataobj))
        assert np.abs(got[0] - got[1]).max() > 1  # the border differs
        if kernel != "log:2mm":  # (log's kernel reaches every voxel of so small a volume)
            np.testing.assert_allclose(got[0][2:-2, 2:-2, 2:-2], got[1][2:-2, 2:-2, 2:-2], rtol=1e-4, atol=1e-3)
        # --axis only picks a .png's view here: noted for a .nii.gz, as pool notes it (audit 110 F3)
        r = invoke("convolve", "v.nii.gz", "-k", kernel, "--axis", "z", "-o", "a.nii.gz")
        assert r.exit_code == 0 and f"--axis z picks the view of a .png preview; {kernel} filters along every axis" in r.stderr
        assert invoke("convolve", "v.nii.gz", "-k", kernel, "-o", "b.nii.gz").exit_code == 0
        np.testing.assert_array_equal(np.asarray(nib.load(str(tmp_path / "a.nii.gz")).dataobj),
                                      np.asarray(nib.load(str(tmp_path / "b.nii.gz")).dataobj))

    @pytest.mark.parametrize("name", ["gradient_magnitude", "sobel_magnitude"])
    def test_derivatives_near_float32s_largest_give_the_magnitude_not_inf(self, name):
        """Regression: each derivative was squared in float32, 5e37**2 = inf (a RuntimeWarning); the
        magnitude, sqrt(3) * 5e37, is representable.  Now as float64 computes it, within float32 rounding."""
        z, y, x = np.indices((3, 4, 5))
        vol = ((z + y + x - 5) * 5e37).astype(np.float32)  # 5e37 per voxel along each axis; values -2.5e38 to 2e38
        f = getattr(volume_filters, name)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            ours = f(vol, (1.0, 1.0, 1.0))
        assert ours.dtype == np.float32 and np.isfinite(ours).all()
        np.testing.assert_allclose(ours, f(vol.astype(np.float64), (1.0, 1.0, 1.0)), rtol=4e-7)
        assert ours[1, 1, 2] == pytest.approx(math.sqrt(3) * 5e37, rel=4e-7)

    @pytest.mark.parametrize("name", ["gradient_magnitude", "sobel_magnitude"])
    @pytest.mark.parametrize("scale", [1e-25, 1e-21])
    def test_tiny_derivatives_give_the_magnitude_not_zero(self, name, scale):
        """Regression: each derivative was squared in float32, (1e-25)**2 = 0 (underflow, no warning):
        the magnitude sqrt(3) * 1e-25 came out 0, and at 1e-21 (subnormal squares) 1e-3 off."""
        z, y, x = np.indices((3, 4, 5))
        vol = ((z + y + x - 5) * scale).astype(np.float32)
        f = getattr(volume_filters, name)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            ours = f(vol, (1.0, 1.0, 1.0))
        assert ours.dtype == np.float32
        np.testing.assert_allclose(ours, f(vol.astype(np.float64), (1.0, 1.0, 1.0)), rtol=4e-7)
        assert ours[1, 1, 2] == pytest.approx(math.sqrt(3) * scale, rel=4e-7)

    def test_an_oblique_ramp_has_the_same_slope_whatever_the_spacing(self):
        # f = 3 mm^-1 * (z_mm + y_mm + x_mm): |grad f| = 3 * sqrt(3) everywhere inside, on any voxel size
        for spacing in [(1.0, 1.0, 1.0), self.SPACING]:
            z, y, x = np.meshgrid(*[np.arange(n) * s for n, s in zip((7, 8, 9), spacing)], indexing="ij")
            f = 3 * (z + y + x)
            for kind in ("gradient", "sobel_mm"):
                vol = medical.Volume(f, spacing, np.eye(4), None, "test")
                out, _ = medical.filter_volume(vol, medical.resolve_volume_kernel(kind), medical.VolumeOptions())
                np.testing.assert_allclose(out[1:-1, 1:-1, 1:-1], 3 * math.sqrt(3), rtol=1e-6)

    def test_log_isotropic_equals_gaussian_laplace(self):
        x = np.random.default_rng(8).random((12, 12, 12))
        ours = volume_filters.laplacian_of_gaussian(x, 1.0, (1.0, 1.0, 1.0), truncate=4.0)
        np.testing.assert_allclose(ours, ndi.gaussian_laplace(x, 1.0, mode="nearest", truncate=4.0), atol=1e-10)

    def test_log_anisotropic_is_the_sum_of_second_derivatives_per_mm(self):
        x = np.random.default_rng(9).random((10, 11, 12))
        spacing = (2.0, 0.5, 1.0)  # sigma 2 mm: 1, 4, 2 voxels, radius 4*sigma exactly
        sigmas = [2.0 / s for s in spacing]
        expected = sum(
            ndi.gaussian_filter(x, sigmas, order=[2 if a == axis else 0 for a in range(3)], mode="nearest", truncate=4.0) / spacing[axis] ** 2
            for axis in range(3)
        )
        np.testing.assert_allclose(volume_filters.laplacian_of_gaussian(x, 2.0, spacing), expected, atol=1e-10)

    def test_on_the_command_line(self, invoke, tmp_path):
        x = np.random.default_rng(10).random((6, 7, 8)).astype(np.float32)
        write_nifti(tmp_path / "r.nii.gz", x, self.SPACING)
        for spec in ("gradient", "sobel_mm", "log:2mm"):
            done = invoke("volume", str(tmp_path / "r.nii.gz"), "-k", spec, "--out", str(tmp_path / f"{spec[:3]}.nii.gz"))
            assert done.exit_code == 0, done.stderr
        np.testing.assert_allclose(medical.read_volume(tmp_path / "gra.nii.gz").data, volume_filters.gradient_magnitude(x, self.SPACING), atol=1e-5)

    def test_renormalise_is_refused_for_derivatives(self):
        from kernelcli.errors import UsageError

        vol = medical.Volume(np.zeros((3, 3, 3)), (1.0, 1.0, 1.0), np.eye(4), None, "test")
        with pytest.raises(UsageError, match="renormalise .* is for smoothing kernels"):
            medical.filter_volume(vol, medical.resolve_volume_kernel("gradient"), medical.VolumeOptions(pad_mode="renormalise"))


def test_fslmaths_rule_on_random_shapes_spacings_and_masks():
    """Property run: any small volume, voxel size, sigma and mask gives FSL's answer."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    @settings(max_examples=20, deadline=None)
    @given(
        shape=st.tuples(*[st.integers(1, 6)] * 3), spacing=st.tuples(*[st.floats(0.4, 3.0)] * 3),
        sigma=st.floats(0.3, 3.0), seed=st.integers(0, 10**6), masked=st.booleans(),
    )
    def check(shape, spacing, sigma, seed, masked):
        rng = np.random.default_rng(seed)
        x = rng.normal(size=shape)
        kernels = volumes.gaussian_mm(sigma, spacing, truncate=4)
        if masked:
            mask = (rng.random(shape) > 0.4).astype(np.uint8)
            expected = fsl_masked(x, kernels, mask)
            ours = volume_filters.smooth_renormalised(x, kernels, mask=mask)
        else:
            expected = fsl_smooth(x, sigma, spacing)
            ours = volume_filters.smooth_renormalised(x, kernels)
        np.testing.assert_allclose(ours, expected, rtol=0, atol=1e-9)

    check()


def test_an_even_box_in_voxels_is_refused(invoke, tmp_path):
    """box:4vox averaged voxels i-1..i+2 and kept the input's affine: the result sat half a voxel off
    (0.35, 0.4, 1.25 mm on 0.7x0.8x2.5 mm voxels) without a word; a box in mm is odd by FSL's rule."""
    from kernelcli.errors import InvalidKernel
    from kernelcli.volume_grammar import resolve_volume_kernel

    with pytest.raises(InvalidKernel, match=r"box:4vox: a box in voxels needs an odd number of voxels.*box:3vox or box:5vox"):
        resolve_volume_kernel("box:4vox")
    assert resolve_volume_kernel("box:5vox").kind == "box_vox"
    write_nifti(tmp_path / "v.nii.gz", np.ones((5, 6, 7), np.float32), (2.5, 0.8, 0.7))
    r = invoke("convolve", "v.nii.gz", "-k", "box:2vox", "-o", "o.nii.gz")
    assert r.exit_code == 3 and "odd number of voxels" in r.stderr and not (tmp_path / "o.nii.gz").exists()


@pytest.mark.parametrize("kernel", ["gradient", "sobel_3d"])
def test_axis_picks_the_png_view_of_a_kernel_along_every_axis(invoke, tmp_path, kernel):
    """--axis picks a .png preview's view; a kernel that filters along every axis was refused with it (or, for
    gradient, took it silently), so no coronal or sagittal preview of a 3-D derivative could be made."""
    write_nifti(tmp_path / "v.nii.gz", np.random.default_rng(4).random((6, 7, 8)).astype(np.float32) * 100, (2.5, 0.8, 0.7))
    r = invoke("convolve", "v.nii.gz", "-k", kernel, "--axis", "y", "-o", "view.png")
    assert r.exit_code == 0 and f"--axis y picks the PNG's coronal view; {kernel} filters along every axis" in r.stderr, r.stderr
    assert invoke("convolve", "v.nii.gz", "-k", kernel, "-o", "whole.nii.gz").exit_code == 0
    assert invoke("convolve", "whole.nii.gz", "--axis", "y", "-o", "ref.png").exit_code == 0
    from PIL import Image

    np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "view.png")), np.asarray(Image.open(tmp_path / "ref.png")))
    r = invoke("convolve", "v.nii.gz", "-k", "gaussian:1mm", "--axis", "y", "-o", "smooth.png")
    assert r.exit_code == 0 and "leaves the y axis alone (smooths within those slices), and the PNG shows the coronal view" in r.stderr
