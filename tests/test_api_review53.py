"""Review 53 (audit 140): foreign arrays numpy cannot read, the kernel-name hint, a structured result's words.

#4: a torch sparse tensor, one with its conjugate or negative bit set, and a list of tensors that require grad
raised torch's own TypeError/RuntimeError (a traceback on the command line's Python side, no argument named).
#5: the kernel-name hint showed numpy's repr (``np.str_('sobel_v')``), and a list holding a name, ``conv3d`` and
``conv_layer``'s weights said only "text values, expected real numbers".
#10: a structured result was named twice (``[('a', '<i4')] values (dtype [('a', '<i4')])``).
"""

from __future__ import annotations

import numpy as np
import pytest

from kernelcli.errors import UsageError


def _torch():
    return pytest.importorskip("torch")


class TestForeignArraysNumpyCannotRead:
    """The argument is named and the foreign type's own advice kept, a UsageError (no traceback on the CLI)."""

    @pytest.mark.parametrize("make, said", [
        (lambda t, n=6: t.ones(n, n).to_sparse(), "can't convert Sparse layout tensor to numpy. Use Tensor.to_dense() first."),
        (lambda t, n=6: t.ones(n, n, dtype=t.complex64).conj(), "conjugate bit set. Use tensor.resolve_conj().numpy()"),
        (lambda t, n=6: t.ones(n, n, dtype=t.int8)._neg_view(), "negative bit set. Use tensor.resolve_neg().numpy()"),
    ])
    def test_an_input_or_kernel_tensor_numpy_cannot_read_is_a_usage_error_naming_it(self, make, said):
        torch = _torch()
        from kernelcli import conv2d

        with pytest.raises(UsageError, match=r"^x: numpy cannot read this Tensor: ") as caught:
            conv2d(make(torch), np.ones((3, 3)))
        assert said in str(caught.value)
        if make(torch).dtype.is_complex:
            return  # (a complex kernel read is refused as complex)
        with pytest.raises(UsageError, match=r"^kernel: numpy cannot read this Tensor: ") as caught:
            conv2d(np.ones((6, 6)), make(torch, 3))
        assert said in str(caught.value)

    def test_a_list_of_tensors_that_require_grad_names_the_argument(self):
        torch = _torch()
        from kernelcli import conv2d, conv_layer

        rows = [torch.ones(3, requires_grad=True)] * 3
        with pytest.raises(UsageError, match=r"^kernel: numpy cannot read this list: Can't call numpy\(\) on Tensor "
                                             r"that requires grad. Use tensor.detach\(\).numpy\(\) instead.$"):
            conv2d(np.ones((6, 6)), rows)
        with pytest.raises(UsageError, match=r"^weights: numpy cannot read this list: .*requires grad"):
            conv_layer(np.ones((6, 6, 1)), [[rows]])

    def test_the_named_cases_keep_their_advice(self):
        torch = _torch()
        from kernelcli import conv2d

        with pytest.raises(UsageError, match=r"^x: a torch tensor that requires grad .*pass x\.detach\(\)$"):
            conv2d(torch.ones(6, 6, requires_grad=True), np.ones((3, 3)))
        assert conv2d(torch.ones(6, 6).to_sparse().to_dense(), np.ones((1, 1))).tolist() == np.ones((6, 6)).tolist()
