"""Review 53 (audit 140): foreign arrays numpy cannot read, the kernel-name hint, a structured result's words.

#4: a torch sparse tensor, one with its conjugate or negative bit set, and a list of tensors that require grad
raised torch's own TypeError/RuntimeError (a traceback on the command line's Python side, no argument named).
#5: the kernel-name hint showed numpy's repr (``np.str_('sobel_v')``), and a list holding a name, ``conv3d`` and
``conv_layer``'s weights said only "text values, expected real numbers".
#10: a structured result was named twice (``[('a', '<i4')] values (dtype [('a', '<i4')])``).
"""

from __future__ import annotations

import re

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


class TestAKernelGivenAsText:
    HINT = r"a kernel named or written as text is read by load_kernel: pass "

    @pytest.mark.parametrize("kernel", [np.str_("sobel_v"), ["sobel_v"], ("sobel_v",)])
    def test_conv2d_names_the_text_not_its_repr(self, kernel):
        from kernelcli import conv2d

        with pytest.raises(UsageError, match=rf"^kernel: the text 'sobel_v', expected real numbers; {self.HINT}"
                                             r"load_kernel\('sobel_v'\)$"):
            conv2d(np.ones((6, 6)), kernel)

    def test_text_numbers_in_a_list_stay_text_values(self):
        from kernelcli import conv2d

        with pytest.raises(UsageError, match=r"^kernel: text values, expected real numbers$"):
            conv2d(np.ones((6, 6)), ["1.5"])

    def test_conv3d_points_to_kernel_3d(self):
        from kernelcli import conv3d
        from kernelcli.volumes import kernel_3d

        with pytest.raises(UsageError, match=r"^kernel: the text 'box:3', expected a \(kz, ky, kx\) array of real "
                                             r"numbers; a named 3-D kernel is kernel_3d\(NAME\) from kernelcli.volumes, "
                                             r"NAME one of box_3d, gaussian_3d, .*gaussian_mm, box_mm"):
            conv3d(np.ones((4, 4, 4)), "box:3")
        with pytest.raises(UsageError, match=r"pass kernel_3d\('sobel_3d'\) \(from kernelcli.volumes\)$"):
            conv3d(np.ones((4, 4, 4)), "Sobel-3d")
        assert conv3d(np.ones((4, 4, 4)), kernel_3d("sobel_3d")).shape == (4, 4, 4)

    def test_conv_layer_weights_point_to_a_one_filter_kernel(self):
        from kernelcli import conv_layer, load_kernel

        with pytest.raises(UsageError, match=rf"^weights: the text 'sobel_v', expected real numbers; {self.HINT}"
                                             r"load_kernel\('sobel_v'\)\.array\(\)\[None, None\] \(one filter over one "
                                             r"channel\)$"):
            conv_layer(np.ones((6, 6, 1)), "sobel_v")
        assert conv_layer(np.ones((6, 6, 1)), load_kernel("sobel_v").array()[None, None]).shape == (4, 4, 1)


def test_a_structured_result_is_named_once(tmp_path):
    from kernelcli import write_output

    with pytest.raises(UsageError, match=r"b\.npy: the result holds structured \(record\) values \(dtype \[\('a', "
                                         r"'<i4'\)\]\), expected real numbers"):
        write_output(tmp_path / "b.npy", np.zeros((2, 2), dtype=[("a", "i4")]))
    assert not (tmp_path / "b.npy").exists()


@pytest.mark.parametrize("name", ["gaussian:1e+", "box:---", "box:0", "box:256", "gaussian:0", "gaussian:-1", "box:1.5"])
def test_a_kernel_name_of_the_spec_form_that_no_spec_builds_is_refused(name):
    """#9: any 'gaussian:'/'box:' followed by [0-9.e+-] was taken as a name built from a spec."""
    from kernelcli import Kernel
    from kernelcli.errors import InvalidKernel

    with pytest.raises(InvalidKernel, match=re.escape(f"Kernel '{name}': name: \"{name}\" is not a valid name")):
        Kernel(name, [[1.0]])


def test_the_names_specs_build_are_taken():
    from kernelcli import Kernel, load_kernel

    for spec in ("gaussian:1.5", "gaussian:0.00001", "box:3", "box:255", "box:3.0"):
        built = load_kernel(spec)
        assert Kernel(built.name, built.matrix, scale=built.scale).name == built.name
