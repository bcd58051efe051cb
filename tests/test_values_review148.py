"""Audit 148 (values): write_output's result checked as an input is, one reader of long doubles, one rule for a
value float64 reads as 0, the spec-name rule of Kernel names, the 3-D kernel names where text kernels are refused."""

from __future__ import annotations

import numpy as np
import pytest

import kernelcli as K
from kernelcli.errors import ShapeError, UsageError


class TestWriteOutputResult:
    def test_masked_result_refused_naming_filled_and_data(self, tmp_path):
        m = np.ma.array([[1.0, 2.0], [3.0, 4.0]], mask=[[0, 1], [0, 0]])
        with pytest.raises(UsageError, match=r"result: a masked array.*result\.filled\(value\).*result\.data"):
            K.write_output(tmp_path / "m.npy", m)
        assert not (tmp_path / "m.npy").exists()

    def test_ragged_result_is_a_shape_error(self, tmp_path):
        with pytest.raises(ShapeError, match="result: rows of different lengths"):
            K.write_output(tmp_path / "r.npy", [[1, 2], [3]])

    @pytest.mark.parametrize("make, said", [
        (lambda torch: torch.eye(3).to_sparse(), "numpy cannot read this Tensor: .*to_dense"),
        (lambda torch: torch.ones(3, 3, requires_grad=True), r"a torch tensor that requires grad.*result\.detach\(\)"),
        (lambda torch: torch.empty(3, 3, device="meta"), r"a torch tensor on meta; pass result\.cpu\(\)"),
    ])
    def test_torch_result_named(self, tmp_path, make, said):
        torch = pytest.importorskip("torch")
        with pytest.raises(UsageError, match="^result: " + said):
            K.write_output(tmp_path / "t.npy", make(torch))
        assert not (tmp_path / "t.npy").exists()

    def test_plain_tensor_and_list_still_written(self, tmp_path):
        K.write_output(tmp_path / "l.npy", [[1.0, 2.0]])
        assert np.load(tmp_path / "l.npy").tolist() == [[1.0, 2.0]]
