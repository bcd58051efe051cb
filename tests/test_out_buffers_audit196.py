"""Audit 196: ``out=`` buffers seen through another object (findings 1 and 2).

1. ``conv_layer(torch.from_numpy(buf), w, padding=1, out=buf)`` (or ``memoryview(buf)``) exited with a result off by
   up to 68 (values of order 10): the overlap check asked ``isinstance(x, np.ndarray)`` of the value given, not of
   the array it was converted to, which is ``buf``'s memory.  It is now refused, as ``x=buf`` was.
2. ``correlate_separable(vols[1], sobel_3d_factors, out=vols[1])`` over float32 near 2e38 gave NaN at 177693 of 262144
   voxels (the reference none): the in-place call was told by ``out is arr``, false for a second view of the same
   buffer, so the input kept to sum an overflowed window again was the output the passes had overwritten.  In place
   is now "the same elements", however they are reached.
"""

from __future__ import annotations

import numpy as np
import pytest

from kernelcli import conv_layer, volumes
from kernelcli._core.policy import Paths
from kernelcli.errors import UsageError

LAYER_PATHS = (None, Paths(force="jit"), Paths(force="numpy"))


def _input() -> np.ndarray:
    return np.random.default_rng(1).random((16, 16, 4)).astype(np.float32)


class TestConvLayerOutSharedThroughAnotherObject:
    @pytest.mark.parametrize("paths", LAYER_PATHS, ids=["default", "jit", "numpy"])
    def test_a_memoryview_of_out_as_the_input_is_refused_and_out_untouched(self, paths):
        buf = _input()
        before = buf.copy()
        with pytest.raises(UsageError, match="out: overlaps the input; pass a separate buffer"):
            conv_layer(memoryview(buf), np.ones((4, 4, 3, 3)), padding=1, out=buf, paths=paths)
        np.testing.assert_array_equal(buf, before)

    @pytest.mark.parametrize("paths", LAYER_PATHS, ids=["default", "jit", "numpy"])
    def test_a_torch_tensor_of_out_as_the_input_is_refused(self, paths):
        torch = pytest.importorskip("torch")
        buf = _input()
        with pytest.raises(UsageError, match="out: overlaps the input"):
            conv_layer(torch.from_numpy(buf), np.ones((4, 4, 3, 3)), padding=1, out=buf, paths=paths)


SOBEL_FACTORS = ([1.0, 2.0, 1.0], [1.0, 0.0, -1.0], [1.0, 2.0, 1.0])
VOLUME_PATHS = (None, Paths(force="jit"), Paths(force="numpy"))


def _bright_stack() -> np.ndarray:
    """Two float32 volumes whose sobel_3d passes overflow on the way (values up to 2e38)."""
    return (np.random.default_rng(9).random((2, 16, 17, 18)) * 2e38).astype(np.float32)


class TestCorrelateSeparableInPlaceThroughAnotherView:
    @pytest.mark.parametrize("paths", VOLUME_PATHS, ids=["default", "jit", "numpy"])
    def test_a_second_view_of_the_volume_as_out_gives_the_reference(self, paths):
        vols = _bright_stack()
        want = volumes.correlate_separable(vols[1].copy(), SOBEL_FACTORS, paths=paths)
        got = volumes.correlate_separable(vols[1], SOBEL_FACTORS, out=vols[1], paths=paths)
        assert not np.isnan(got).any()
        np.testing.assert_array_equal(got, want)
        np.testing.assert_array_equal(vols[1], want)

    @pytest.mark.parametrize("paths", VOLUME_PATHS, ids=["default", "jit", "numpy"])
    def test_a_memoryview_of_out_as_the_volume_is_filtered_in_place(self, paths):
        vols = _bright_stack()
        want = volumes.correlate_separable(vols[0].copy(), SOBEL_FACTORS, paths=paths)
        buf = vols[0].copy()
        assert volumes.correlate_separable(memoryview(buf), SOBEL_FACTORS, out=buf, paths=paths) is buf
        np.testing.assert_array_equal(buf, want)

    def test_a_shifted_view_is_still_refused(self):
        buffer = np.zeros(8 * 9 * 10 + 8, np.float32)
        with pytest.raises(UsageError, match="out: overlaps the volume without being it"):
            volumes.correlate_separable(memoryview(buffer[:-8]).cast("B").cast("f", (8, 9, 10)), SOBEL_FACTORS,
                                        out=buffer[8:].reshape(8, 9, 10))
