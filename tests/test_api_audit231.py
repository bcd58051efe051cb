"""Audit 231 (the Python API as a user imports it): what its findings 1-5 asked for, checked."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import kernelcli as K
from kernelcli.errors import KernelcliError

#: the multi-byte dtypes a writer is given (a one-byte type has no byte order), with values each holds
_VALUES = {
    "u2": [[0, 1000, 60000, 5], [300, 65535, 7, 256], [1, 2, 3, 4]],
    "i2": [[0, -1000, 30000, 5], [300, -32768, 7, 256], [1, 2, 3, 4]],
    "i4": [[0, -1000, 70000, 5], [300, 2, 7, 256], [1, 2, 3, 4]],
    "u4": [[0, 1000, 70000, 5], [300, 2, 7, 256], [1, 2, 3, 4]],
    "i8": [[0, -1000, 70000, 5], [300, 2, 7, 256], [1, 2, 3, 4]],
    "f2": [[0.5, -1.25, 300.0, 5.0], [2.0, 1.0, 7.0, 256.0], [1.0, 2.0, 3.0, 4.0]],
    "f4": [[0.5, -1.25, 70000.0, 5.0], [2.0, 1.0, 7.0, 256.0], [1.0, 2.0, 3.0, 4.0]],
    "f8": [[0.5, -1.25, 70000.0, 5.0], [2.0, 1.0, 7.0, 256.0], [1.0, 2.0, 3.0, 4.0]],
}
_OTHER_ORDER = ">" if np.little_endian else "<"


def _outcome(folder: Path, name: str, result: np.ndarray, rescale: str | None) -> tuple:
    """What ``write_output`` does with ``result``: the record and the file's bytes, or the refusal (its folder
    left out, so that two folders' outcomes compare)."""
    folder.mkdir(exist_ok=True)
    try:
        written = K.write_output(folder / name, result, rescale=rescale)
    except KernelcliError as exc:
        return type(exc).__name__, str(exc).replace(str(folder), "<folder>")
    return (written.dtype, written.low_clipped, written.high_clipped, written.total, written.nonzero,
            (folder / name).read_bytes())


class TestNonNativeByteOrderWritten:
    """#1: a '>u2' result (np.load of a big-endian .npy) was not taken for uint16: refused for PNG/TIFF with a false
    message, and with rescale='clip' written as an 8-bit image clipped at 255, silently."""

    def test_the_audits_case(self, tmp_path):
        a = np.array([[0, 1000, 60000], [5, 300, 65535]], np.uint16)
        for suffix in ("png", "tif"):
            for rescale in (None, "clip", "minmax"):
                out = tmp_path / f"be_{rescale}.{suffix}"
                written = K.write_output(out, a.astype(">u2"), rescale=rescale)
                loaded = K.read_input(out).data
                assert (written.dtype, loaded.dtype) == ("uint16", np.uint16)
                assert loaded.tolist() == a.tolist()

    @pytest.mark.parametrize("code", list(_VALUES))
    def test_every_writer_takes_the_other_byte_order_as_the_native_one(self, tmp_path, code):
        for shape in ("grey", "rgb"):
            values = np.array(_VALUES[code])
            if shape == "rgb":
                values = np.dstack([values, values[::-1], values])
            native = values.astype(np.dtype(code).newbyteorder("="))
            other = native.astype(native.dtype.newbyteorder(_OTHER_ORDER))
            assert not other.dtype.isnative and np.array_equal(other, native)
            for suffix in ("png", "tif", "jpg", "bmp", "npy", "csv"):
                for rescale in (None, "clip", "abs", "minmax", "none"):
                    name = f"{code}_{shape}_{rescale}.{suffix}"
                    assert _outcome(tmp_path / "other", name, other, rescale) == \
                        _outcome(tmp_path / "native", name, native, rescale), name

    def test_the_types_offered_and_stdouts_formats_are_the_native_ones(self, tmp_path):
        from kernelcli.io.image_writing import kept_in, written_types
        from kernelcli.io.pipes import stdout_format_names
        from kernelcli.io.tiff_writing import tiff_type

        a = np.zeros((4, 4), np.uint16)
        assert written_types(a.astype(">u2")) == written_types(a)
        assert kept_in(a.astype(">u2"), but="csv") == kept_in(a, but="csv")
        assert tiff_type(np.dtype(">u2")) == np.uint16 and tiff_type(np.dtype(">i2")) == np.int16
        np.save(tmp_path / "be.npy", a.astype(">u2"))
        np.save(tmp_path / "le.npy", a)
        assert stdout_format_names(tmp_path / "be.npy") == stdout_format_names(tmp_path / "le.npy")
        assert "jpg" not in stdout_format_names(tmp_path / "be.npy")[0]


class TestMedicalWritersRefuseWhatWriteOutputRefuses:
    """#2: kernelcli.medical.write_npy and write_nifti wrote NaN, infinities and complex values that write_output
    refuses and read_input / read_volume then refuse: one rule for every array writer, in write_output's words."""

    @pytest.mark.parametrize("data, words", [
        (np.full((2, 2, 2), np.nan), "the data holds 8 NaN or infinite value(s); expected finite numbers"),
        (np.array([[[1.0, np.inf], [-np.inf, 2.0]]]), "the data holds 2 NaN or infinite value(s)"),
        (np.ones((2, 2, 2)) + 1j, "the data holds complex values (dtype complex128), expected real numbers"),
    ])
    @pytest.mark.parametrize("suffix", [".npy", ".nii", ".nii.gz"])
    def test_refused_before_anything_is_written(self, tmp_path, data, words, suffix):
        from kernelcli.errors import UsageError
        from kernelcli.medical import write_nifti, write_npy

        out = tmp_path / f"v{suffix}"
        with pytest.raises(UsageError) as refused:
            (write_npy if suffix == ".npy" else write_nifti)(out, data)
        assert str(refused.value).startswith(f"{out}: {words}") and str(refused.value).endswith("nothing was written")
        assert not out.exists() and list(tmp_path.iterdir()) == []
        with pytest.raises(UsageError) as by_write_output:
            K.write_output(tmp_path / "r.npy", data)
        assert str(by_write_output.value).replace("the result", "the data").split(": ", 1)[1] == \
            str(refused.value).split(": ", 1)[1]

    def test_what_they_write_is_read_back(self, tmp_path):
        from kernelcli.medical import write_nifti, write_npy

        v = np.arange(8, dtype=">i2").reshape(2, 2, 2)
        write_npy(tmp_path / "v.npy", v)
        write_nifti(tmp_path / "v.nii", v)
        assert np.load(tmp_path / "v.npy").dtype == np.int16  # (native, as write_output writes it)
        assert K.read_volume(tmp_path / "v.nii").data.tolist() == v.tolist()


class TestPngSliceRefusesWhatItWouldCast:
    """#3: kernelcli.medical.write_png_slice wrote 300 as 44, -1 as 255, 0.7 as 0 and NaN as 0 (a cast to uint8), and
    a 3-D array ended in Pillow's bare ValueError: anything but a 2-D uint8 array is refused, nothing written."""

    @pytest.mark.parametrize("plane", [
        np.array([[300, -1, 256]]), np.array([[0.7, 254.9, np.nan]]), np.array([[1.0, 2.0]]), [[1, 2]],
        np.zeros((2, 3, 3)), np.zeros((2, 3, 3), np.uint8), np.zeros(3, np.uint8), np.zeros((0, 3), np.uint8),
        np.ones((2, 2), bool), np.ones((2, 2), np.uint16),
    ])
    def test_refused(self, tmp_path, plane):
        import warnings

        from kernelcli.errors import UsageError
        from kernelcli.medical import write_png_slice

        out = tmp_path / "s.png"
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # (NaN's cast warned)
            with pytest.raises(UsageError, match=r"s\.png: plane is \w+ of shape .*; expected a non-empty 2-D uint8 "
                                                 r"array .*nothing was written"):
                write_png_slice(out, plane)
        assert not out.exists()

    def test_a_uint8_plane_is_written_as_it_is(self, tmp_path):
        from PIL import Image

        from kernelcli.medical import write_png_slice

        plane = np.array([[0, 44, 255], [1, 2, 3]], np.uint8)
        with Image.open(write_png_slice(tmp_path / "s.png", plane[:, ::-1])) as im:
            assert np.asarray(im).tolist() == plane[:, ::-1].tolist()


class TestLearnOptionsPaddingNormalised:
    """#4: LearnOptions kept ``padding`` as given: an array made ``==`` raise (truth value ambiguous) and ``hash``
    fail, a list was unhashable and ``[1, 1]`` differed from ``(1, 1)``; it is normalised as ``size`` is."""

    @pytest.mark.parametrize("given, same", [
        ([1, 1], (1, 1)), (np.array([1, 1]), (1, 1)), (np.array([0, 1, 0, 1], np.int64), (0, 1, 0, 1)),
        (np.int64(2), 2), (np.array(2), 2), (" Same ", "same"), ("VALID", "valid"),
    ])
    def test_equal_settings_compare_and_hash_equal(self, given, same):
        options = K.LearnOptions(padding=given)
        assert options == K.LearnOptions(padding=same) and hash(options) == hash(K.LearnOptions(padding=same))
        assert options.padding == same and type(options.padding) is type(same)
        assert options.padding_text() == K.LearnOptions(padding=same).padding_text()

    def test_learning_with_an_array_padding_is_unchanged(self):
        x = np.random.default_rng(0).random((12, 12))
        k = np.array([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]])
        y = K.conv2d(x, k, padding=1)
        learned = K.learn_kernel(x, y, K.LearnOptions(size=3, padding=np.array([1, 1])))
        assert np.allclose(learned.kernel, k, atol=1e-8)


class TestSummarizeTakesTuplesOfLayers:
    """#5: summarize refused a spec dict whose ``layers`` was a tuple ("expected a non-empty list of layers, got
    [{...}]", the tuple shown as a list) and a block's tuple of layers as "got an array", where a tuple ``input`` and
    ``f`` were taken: a tuple is read as the list it stands for, everywhere in a dict spec."""

    BASE = {"input": (3, 32, 32), "layers": [{"type": "conv", "filters": 8, "f": (3, 3), "p": 1}]}

    @pytest.mark.parametrize("layers", [
        ({"type": "conv", "filters": 8, "f": (3, 3), "p": 1},),
        [{"type": "sequence", "layers": ({"type": "conv", "filters": 8, "f": 3, "p": 1},)}],
        ({"type": "residual", "layers": ({"type": "conv", "filters": 8, "f": 3, "p": 1},),
          "shortcut": ({"type": "conv", "filters": 8, "f": 1},)},),
    ])
    def test_a_tuple_of_layers_is_a_list_of_them(self, layers):
        assert K.summarize({**self.BASE, "layers": layers}).output == (8, 32, 32)

    def test_templates_see_tuples_as_lists(self):
        def spec(seq):
            conv = {"type": "conv", "filters": "$filters", "f": "$f", "p": "$p"}
            return {"input": seq((3, 16, 16)),
                    "templates": {"bc": {"params": {"filters": None, "f": 1, "p": 0}, "layers": seq([conv])}},
                    "layers": seq([{"use": "bc", "with": {"filters": 4, "f": seq((1, 3)), "p": seq((0, 1))}},
                                   {"type": "sequence", "layers": seq([{"use": "bc", "with": {"filters": 5, "f": 3, "p": 1}}])}])}

        listed = K.summarize(spec(list))
        assert listed.output == (5, 16, 16)
        assert K.summarize(spec(tuple)) == listed

    def test_an_empty_tuple_is_refused_as_an_empty_list(self):
        from kernelcli.netspec.spec import SpecError

        with pytest.raises(SpecError, match=r"layers: expected a non-empty list of layers, got \[\]"):
            K.summarize({**self.BASE, "layers": ()})
