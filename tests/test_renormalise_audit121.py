"""Audit 121 finding 3: ``smooth_renormalised`` checks its mask and kernels.

A text mask raised numpy's UFuncTypeError; a complex mask was compared through numpy's complex
ordering, a NaN taken as "outside" and a masked array's mask dropped, all without a word.  A zero-sum
kernel [1, 0, -1] was "renormalised": the middle voxel kept its raw -40, its neighbours were divided
by -1.
"""

from __future__ import annotations

import numpy as np
import pytest

from kernelcli import volume_filters
from kernelcli.errors import InvalidKernel, ShapeError, UsageError

V = np.arange(60.0).reshape(3, 4, 5)
K = ([1, 2, 1], None, None)


class TestMask:
    @pytest.mark.parametrize("mask, message", [
        (np.full(V.shape, "1"), r"^mask: expected real numbers, got dtype <U1$"),
        (np.full(V.shape, 0.6 + 5j), r"^mask: expected real numbers, got dtype complex128$"),
        (np.where(V > 20, 1.0, np.nan), r"^mask: 21 value\(s\) are NaN or infinite; kernelcli expects finite input$"),
        (np.ma.masked_array(np.ones(V.shape), mask=V < 20), r"^mask: a masked array, .* mask\.filled\(value\) .* mask\.data "),
        (np.full(V.shape, None), r"^mask: expected real numbers, got dtype object$"),
    ])
    def test_what_is_no_real_finite_mask_is_refused_in_one_line(self, mask, message):
        with pytest.raises(UsageError, match=message):
            volume_filters.smooth_renormalised(V, K, mask=mask)

    def test_a_mask_of_another_rank_or_shape_is_a_shape_error(self):
        with pytest.raises(ShapeError, match=r"^mask: expected a 3-D \(Z, Y, X\) array, got shape \(3, 4\)$"):
            volume_filters.smooth_renormalised(V, K, mask=np.ones((3, 4)))
        with pytest.raises(ShapeError, match="differs from the volume's"):
            volume_filters.smooth_renormalised(V, K, mask=np.ones((3, 4, 4)))

    @pytest.mark.parametrize("mask", [V > 20, (V > 20).astype(np.uint8), (V > 20) * 0.9, np.ma.masked_array(V > 20).data])
    def test_real_masks_of_any_dtype_give_the_same_answer(self, mask):
        np.testing.assert_array_equal(volume_filters.smooth_renormalised(V, K, mask=mask),
                                      volume_filters.smooth_renormalised(V, K, mask=(V > 20).astype(np.float64)))


class TestKernels:
    @pytest.mark.parametrize("kernel", [[1, 0, -1], [-1, 2, -1], [1, -1, 1], [0, 0, 1], [1, 0, 1], [0.0]])
    def test_a_kernel_that_does_not_smooth_is_refused_saying_why(self, kernel):
        for mask in (None, np.ones(V.shape)):
            with pytest.raises(InvalidKernel, match=r"^kernel along z: \[.*\] is no smoothing kernel: renormalising divides "
                                                    r"by the weights inside .* correlate_separable applies any kernel$"):
                volume_filters.smooth_renormalised(V, (kernel, None, None), mask=mask)

    @pytest.mark.parametrize("kernels, message", [
        (None, r"^kernels: expected three 1-D kernels"),
        (([1, 1],), r"^kernels: expected three 1-D kernels \(z, y, x\), got 1$"),
        ((["a"], None, None), r"^kernel along z: "),
        (([[1, 1], [1, 1]], None, None), r"^kernel along z: a 2x2 array; expected a 1-D kernel"),
    ])
    def test_malformed_kernels_are_kernelcli_errors(self, kernels, message):
        with pytest.raises((UsageError, ShapeError, InvalidKernel), match=message):
            volume_filters.smooth_renormalised(V, kernels)

    def test_a_row_kernel_is_its_taps_and_a_mask_of_ones_equals_no_mask(self):
        ours = volume_filters.smooth_renormalised(V, (None, [[1, 2, 1]], None))
        np.testing.assert_allclose(ours, volume_filters.smooth_renormalised(V, (None, [1, 2, 1], None), mask=np.ones(V.shape)))
        np.testing.assert_allclose(ours[:, 0], (2 * V[:, 0] + V[:, 1]) / 3)

    def test_a_tiny_smoothing_kernel_is_still_renormalised(self):
        # the old 1e-12 threshold skipped the division for weights summing to less: the result was 1e-20 times the input
        np.testing.assert_allclose(volume_filters.smooth_renormalised(V, ([1e-20, 2e-20, 1e-20], None, None)),
                                   volume_filters.smooth_renormalised(V, ([1, 2, 1], None, None)), rtol=1e-12)

    def test_a_kernel_below_float32_is_scaled_not_divided_by_zero(self):
        """Review 49 #3: a float32 volume's weights are float32: [1e-46] was 0 there, every voxel NaN (and a
        RuntimeWarning); renormalising does not depend on the scale, so the kernel is scaled by a power of two."""
        v32 = np.random.default_rng(5).normal(size=(5, 6, 7)).astype(np.float32)
        with np.errstate(all="raise"):
            tiny = volume_filters.smooth_renormalised(v32, (None, None, [1e-46, 2e-46, 1e-46]), mask=v32 > 0)
        np.testing.assert_allclose(tiny, volume_filters.smooth_renormalised(v32, (None, None, [1, 2, 1]), mask=v32 > 0),
                                   rtol=1e-6)
        # a power of two's scale changes no rounding: the same bytes
        assert volume_filters.smooth_renormalised(v32, (None, None, [2.0**-160, 2.0**-159, 2.0**-160]), mask=v32 > 0).tobytes() \
            == volume_filters.smooth_renormalised(v32, (None, None, [1, 2, 1]), mask=v32 > 0).tobytes()

    @pytest.mark.parametrize("centre", [1e-46, 1e-44])  # 0 in float32, and subnormal (review 50 #4: 100% off)
    def test_a_centre_weight_below_the_compute_dtype_is_refused_where_a_voxel_has_it_alone(self, centre):
        v32 = np.random.default_rng(5).normal(size=(5, 6, 7)).astype(np.float32)
        with pytest.raises(InvalidKernel, match=rf"^kernel along x: its centre weight is {centre:.3g} of its largest, below "
                                                r"float32's normal range \(the compute dtype\): a voxel whose only weight inside "
                                                r"is its centre would be divided by it; give dtype='float64'"):
            volume_filters.smooth_renormalised(v32, (None, None, [1, centre, 1]), mask=v32 > 0)
        with np.errstate(all="raise"):  # without a mask every voxel of a 7-long axis has a neighbour inside
            alone = volume_filters.smooth_renormalised(v32, (None, None, [1, centre, 1]))
        np.testing.assert_allclose(alone, volume_filters.smooth_renormalised(v32.astype(np.float64), (None, None, [1, centre, 1])),
                                   rtol=1e-6, atol=1e-7)
        wide = volume_filters.smooth_renormalised(v32, (None, None, [1, 1e-46, 1]), mask=v32 > 0, dtype="float64")
        assert np.isfinite(wide).all()
