"""Audit 121 finding 6: one order for a kernel's size, ``bias=`` as the README says, and kernelcli errors
naming the function called.

a) a .npy kernel of 1 row x 256 columns was refused as "1x256", the inline syntax's words for 256 rows
   x 1 column (ImageMagick's width x height).
b) the README said "`bias=` is values", but conv_params/dense_params take whether a layer has one.
d) read_input(None) was Python's "expected str, bytes or os.PathLike object, not NoneType";
   convolve_slices(v, k, foo=1) was "conv2d() got an unexpected keyword argument 'foo'".
"""

from __future__ import annotations

import numpy as np
import pytest

import kernelcli
from conftest import documentation
from kernelcli import shapes, volumes
from kernelcli.errors import InvalidKernel, UsageError

README = documentation()


class TestSizeOrder:
    def test_a_npy_kernel_is_sized_in_rows_and_columns(self, tmp_path):
        np.save(tmp_path / "wide.npy", np.ones((1, 256)))
        np.save(tmp_path / "tall.npy", np.ones((256, 1)))
        with pytest.raises(InvalidKernel, match=r"wide\.npy: 1 row x 256 columns is larger than 255 per side$"):
            kernelcli.load_kernel(str(tmp_path / "wide.npy"))
        with pytest.raises(InvalidKernel, match=r"tall\.npy: 256 rows x 1 column is larger than 255 per side$"):
            kernelcli.load_kernel(str(tmp_path / "tall.npy"))

    def test_the_inline_size_says_it_is_width_x_height_and_gives_rows_and_columns(self):
        with pytest.raises(InvalidKernel, match=r": 1x256 is larger than 255 per side \(width x height, ImageMagick's "
                                                r"order: 256 rows x 1 column\)$"):
            kernelcli.load_kernel("1x256: " + " ".join(["1"] * 256))
        with pytest.raises(InvalidKernel, match=r"'256x1: 1': 256x1 is larger than 255 per side \(width x height, "
                                                r"ImageMagick's order: 1 row x 256 columns\)$"):
            kernelcli.load_kernel("256x1: 1")
        with pytest.raises(InvalidKernel, match=r"is larger than 255 per side \(width x height, ImageMagick's order\)$"):
            kernelcli.load_kernel("99999999x1: 1")

    def test_a_weights_file_is_sized_in_rows_and_columns(self, tmp_path):
        from kernelcli.layer_files import read_weights

        np.save(tmp_path / "w.npy", np.ones((1, 1, 1, 256)))
        with pytest.raises(InvalidKernel, match=r"w\.npy: filters of 1 row x 256 columns exceed 255 per side$"):
            read_weights(tmp_path / "w.npy")

    def test_the_json_forms_and_kernels_show_use_the_same_words(self):
        with pytest.raises(InvalidKernel, match="has 256 columns, at most 255 per side"):
            kernelcli.load_kernel("[[" + ",".join(["1"] * 256) + "]]")


class TestBiasWord:
    def test_conv_params_bias_is_whether_the_layer_has_one_and_the_readme_says_so(self):
        assert shapes.conv_params(4, 4, 3, bias=False) == 144 and shapes.conv_params(4, 4, 3) == 148
        with pytest.raises(UsageError, match="bias must be True or False, got 0.5"):
            shapes.conv_params(4, 4, 3, bias=0.5)
        text = " ".join(README.split())
        assert "`bias=` is values (" not in text  # it was untrue for conv_params
        assert "where parameters are only counted it says whether the layer has one, `True` or `False`" in text
        assert "whether the layer has one" in " ".join(shapes.conv_params.__doc__.split())


class TestErrorsNameTheFunction:
    @pytest.mark.parametrize("call, message", [
        (lambda: kernelcli.read_input(None), r"^read_input: path None: expected a path \(str or os.PathLike\), got NoneType$"),
        (lambda: kernelcli.read_input(3), r"^read_input: path 3: expected a path .* got int$"),
        (lambda: kernelcli.read_input(b"x.png"), r"^read_input: path b'x.png': expected a path .* got bytes$"),
        (lambda: kernelcli.read_volume(None), r"^read_volume: path None: expected a path .* got NoneType$"),
        (lambda: kernelcli.write_output(None, np.zeros((2, 2))), r"^write_output: out None: expected a path .* got NoneType$"),
    ])
    def test_a_path_that_is_no_path_is_a_usage_error(self, call, message):
        with pytest.raises(UsageError, match=message):
            call()

    def test_a_path_object_is_still_read(self, tmp_path):
        np.save(tmp_path / "a.npy", np.ones((2, 3)))
        assert kernelcli.read_input(tmp_path / "a.npy").data.shape == (2, 3)

    def test_convolve_slices_names_itself_for_an_unknown_keyword(self):
        with pytest.raises(UsageError, match=r"^convolve_slices\(\) got an unexpected keyword argument 'foo': it takes axis, "
                                             r"dtype and conv2d's stride, padding, pad_mode, pad_value, dilation, flip, paths$"):
            volumes.convolve_slices(np.zeros((2, 3, 3)), [[1.0]], foo=1)
        out = volumes.convolve_slices(np.ones((2, 3, 3)), [[1.0, 1.0]], "y", padding="valid", pad_mode="reflect", flip=True)
        assert out.shape == (2, 3, 2)
