"""Audit 209: kernels as inputs.

#3: a kernel whose weights' magnitudes overflow a float was refused saying "their sum is beyond the float range", also
    of ``[[1e308,-1e308]]``, whose sum is 0; the check sums the magnitudes (a normalisation's parts and the worst-case
    response need them), and the message says so.
"""

from __future__ import annotations

import numpy as np
import pytest

from kernelcli.catalog import load_kernel
from kernelcli.errors import InvalidKernel

from conftest import run_in_process


@pytest.fixture
def folder(tmp_path):
    np.save(tmp_path / "x.npy", np.random.default_rng(209).random((6, 6)))
    return tmp_path


class TestTooLargeSaysWhatIsSummed:
    @pytest.mark.parametrize("spec", ["[[1e308,-1e308]]", "2x1: 1e308 -1e308", "big.npy"])
    def test_a_kernel_summing_to_zero_is_not_said_to_have_a_sum_beyond_range(self, folder, spec):
        np.save(folder / "big.npy", np.array([[1e308, -1e308]]))
        for r in (run_in_process("kernels", "show", spec, cwd=folder),
                  run_in_process("convolve", "x.npy", "-k", spec, "-o", "y.npy", cwd=folder)):
            assert r.returncode == 3, r.stderr
            assert "the sum of their magnitudes is beyond the float range" in r.stderr
            assert "their sum is" not in r.stderr
        assert not (folder / "y.npy").exists()

    def test_the_api_says_the_same(self):
        with pytest.raises(InvalidKernel, match="the sum of their magnitudes is beyond the float range"):
            load_kernel("[[1e308,-1e308]]")
