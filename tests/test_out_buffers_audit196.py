"""Audit 196: ``out=`` buffers seen through another object (findings 1 and 2).

1. ``conv_layer(torch.from_numpy(buf), w, padding=1, out=buf)`` (or ``memoryview(buf)``) exited with a result off by
   up to 68 (values of order 10): the overlap check asked ``isinstance(x, np.ndarray)`` of the value given, not of
   the array it was converted to, which is ``buf``'s memory.  It is now refused, as ``x=buf`` was.
"""

from __future__ import annotations

import numpy as np
import pytest

from kernelcli import conv_layer
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
