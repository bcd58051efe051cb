"""The Python API audit, round 6 (audit 106): weights that one function checks and another took as they came,
masked arrays, write_output's rescale and non-finite results, read_volume's switches."""

from __future__ import annotations

import re

import numpy as np
import pytest

from kernelcli._core.policy import Paths
from kernelcli.errors import InvalidKernel, ShapeError, UsageError
from kernelcli.volumes import conv3d, correlate_separable

SEPARABLE_PATHS = [Paths(force="numpy"), Paths(force="jit"), None]


class TestSeparableKernelsAreCheckedAsConv3dChecksThem:
    """correlate_separable's 1-D kernels skipped every check conv3d applies to the same weights (finding 1)."""

    @pytest.mark.parametrize("paths", SEPARABLE_PATHS)
    def test_an_int64_weight_past_2_to_the_53_is_refused(self, paths):
        # was 9007199254740992.0 in silence, where conv3d refuses the same weight
        v = np.zeros((1, 1, 3)); v[0, 0, 1] = 1.0
        for k in (np.array([2**53 + 1], np.int64), [2**53 + 1, 0.5]):
            with pytest.raises(InvalidKernel, match="kernel along x: the weight at .* is 9007199254740993"):
                correlate_separable(v, (None, None, k), paths=paths)
        assert correlate_separable(v, (None, None, np.array([2**62], np.int64)), paths=paths)[0, 0, 1] == 2.0**62

    @pytest.mark.parametrize("paths", SEPARABLE_PATHS)
    def test_a_weight_beyond_float32_is_refused_naming_float64(self, paths):
        # was NaN in every voxel (0 * inf), where conv3d refuses the kernel and names dtype='float64'
        z = np.zeros((4, 4, 4), np.float32)
        with pytest.raises(UsageError, match=r"kernel along z: 1 value\(s\) beyond float32's range .*dtype='float64'"):
            correlate_separable(z, ([1e39, 0.0], None, None), paths=paths)
        assert not correlate_separable(z, ([1e39, 0.0], None, None), dtype="float64", paths=paths).any()

    @pytest.mark.parametrize("kernel, words", [
        (["1", "2", "1"], "kernel along z: text values, expected real numbers"),
        ([1, None, 1], "kernel along z: non-numeric"),
        ([1 + 1j, 1], "kernel along z: complex values"),
        ([[1, 2], [3]], "kernel along z: rows of different lengths"),
    ])
    def test_a_kernel_that_is_not_real_numbers_is_refused(self, kernel, words):
        # text was read as numbers (4.0), where conv3d, conv2d and conv_layer refuse it
        with pytest.raises((UsageError, ShapeError), match=words):
            correlate_separable(np.ones((4, 4, 4), np.float32), (kernel, None, None))

    def test_the_forms_taken_before_are_taken(self):
        vol = np.random.default_rng(0).random((4, 5, 6))
        want = correlate_separable(vol, ([1.0, 2.0, 1.0], None, None))
        for k in ((1, 2, 1), np.array([1, 2, 1], np.int16), np.array([[1.0, 2.0, 1.0]]), np.array([1.0, 2.0, 1.0]).reshape(3, 1, 1)):
            np.testing.assert_array_equal(correlate_separable(vol, (k, None, None)), want)
        np.testing.assert_array_equal(correlate_separable(vol, (None, 2.0, None)), 2.0 * vol)


class TestMaskedWeightsAreRefused:
    """A masked kernel, masked weights or a masked bias was used with its mask dropped: the cells under the mask
    applied as weights (finding 2), where a masked x is refused."""

    X = np.arange(25.0).reshape(5, 5)

    @pytest.mark.parametrize("call, name", [
        # conv2d's centre was 108.0, every tap; the unmasked taps alone give 72.0
        (lambda X: __import__("kernelcli").conv2d(X, np.ma.masked_array(np.ones((3, 3)), mask=np.eye(3, dtype=bool))), "kernel"),
        (lambda X: __import__("kernelcli").conv2d(X, np.ma.masked_array(np.ones((3, 3), np.int16), mask=np.eye(3, dtype=bool))),
         "kernel"),
        (lambda X: __import__("kernelcli").conv_layer(X, np.ma.masked_array(np.ones((1, 1, 3, 3)), mask=np.eye(9, dtype=bool)[0]
                                                                            .reshape(1, 1, 3, 3))), "weights"),
        (lambda X: __import__("kernelcli").conv_layer(X, np.ones((1, 1, 1, 1)), np.ma.masked_array([100.0], mask=[True])), "bias"),
        (lambda X: conv3d(np.ones((3, 3, 3)), np.ma.masked_array(np.ones((3, 3, 3)), mask=np.eye(27, dtype=bool)[13]
                                                                  .reshape(3, 3, 3))), "kernel"),
        # correlate_separable gave 3.0 with the first tap masked, not 2.0
        (lambda X: correlate_separable(np.ones((4, 4, 4)), (np.ma.masked_array([1.0, 1.0, 1.0], mask=[True, False, False]), None,
                                                            None)), "kernel along z"),
    ])
    def test_refused_naming_filled_and_data(self, call, name):
        with pytest.raises(UsageError) as info:
            call(self.X)
        message = str(info.value)
        assert message.startswith(f"{name}: a masked array") and "filled(value)" in message and ".data" in message, message

    def test_an_unmasked_kernel_of_the_same_values_is_taken(self):
        from kernelcli import conv2d

        assert conv2d(self.X, np.ones((3, 3)))[2, 2] == 108.0


class TestWriteOutputReadsRescaleAsTheCommandLine:
    """write_output took any rescale=: anything but exactly "minmax", "abs" or "none" was a silent clip (finding 3)."""

    A = np.array([[-10, 100], [200, 300.0]])

    @pytest.mark.parametrize("given", ["minmax", "Minmax", "MINMAX", " minmax "])
    def test_any_case_is_the_same_mode(self, tmp_path, given):
        # 'Minmax' wrote [[0, 100], [200, 255]], clipped, where 'minmax' stretches to [[0, 90], [173, 255]]
        from kernelcli import read_input, write_output

        written = write_output(tmp_path / "r.png", self.A, rescale=given)
        assert read_input(tmp_path / "r.png").data.tolist() == [[0, 90], [173, 255]]
        assert (written.low_clipped, written.high_clipped) == (0, 0)

    @pytest.mark.parametrize("given", ["min-max", "foo", "", 5, True])
    @pytest.mark.parametrize("suffix", [".png", ".tif", ".npy"])
    def test_anything_else_is_refused_naming_the_modes(self, tmp_path, given, suffix):
        from kernelcli import write_output

        with pytest.raises(UsageError, match="invalid rescale [^m].*: expected one of clip, abs, minmax, none"):
            write_output(tmp_path / f"r{suffix}", self.A, rescale=given)
        assert not list(tmp_path.iterdir())


def _uneven_series(folder):
    """Three copies of pydicom's CT_small.dcm at z = 0, 5 and 12 mm (uneven gaps)."""
    pydicom = pytest.importorskip("pydicom")
    from pathlib import Path

    source = Path(pydicom.__file__).parent / "data" / "test_files" / "CT_small.dcm"
    if not source.is_file():
        pytest.skip("pydicom does not ship CT_small.dcm")
    folder.mkdir()
    for i, z in enumerate([0.0, 5.0, 12.0]):
        ds = pydicom.dcmread(source)
        ds.SOPInstanceUID, ds.InstanceNumber = f"1.2.3.4.{i + 1}", i + 1
        ds.ImagePositionPatient = [-158.135803, -179.035797, z]
        ds.save_as(folder / f"s{i}.dcm")
    return folder, source


def _four_d(path):
    nib = pytest.importorskip("nibabel")
    data = np.arange(3 * 4 * 5 * 3, dtype=np.int16).reshape(3, 4, 5, 3)
    nib.save(nib.Nifti1Image(data, np.eye(4)), str(path))
    return path


class TestReadVolumeChecksItsSwitches:
    """read_volume's resample_slices= and volume= were taken as given: "no" resampled, True and 1.7 read volume 1,
    "1" raised Python's TypeError (finding 4)."""

    @pytest.mark.parametrize("given", ["no", "false", 0, 1, None])
    def test_resample_slices_is_true_or_false(self, tmp_path, given):
        # 'no' interpolated 3 slices linearly onto an even grid, where the default refuses the uneven gaps
        from kernelcli import read_volume

        folder, _ = _uneven_series(tmp_path / "uneven")
        with pytest.raises(UsageError, match=f"resample_slices {given!r}: expected True .* or False"):
            read_volume(folder, resample_slices=given)

    def test_true_and_false_are_taken(self, tmp_path):
        from kernelcli import read_volume
        from kernelcli.errors import ImageReadError

        folder, _ = _uneven_series(tmp_path / "uneven")
        with pytest.raises(ImageReadError, match="uneven slice gaps"):
            read_volume(folder, resample_slices=np.bool_(False))
        assert read_volume(folder, resample_slices=True).data.shape[0] >= 3

    @pytest.mark.parametrize("given", [True, 1.0, 1.7, "1", -1, [1]])
    def test_volume_is_an_integer_index(self, tmp_path, given):
        # True, 1.0 and 1.7 read volume 1 in silence; '1' raised "'<=' not supported between instances of 'int' and 'str'"
        from kernelcli import read_volume

        path = _four_d(tmp_path / "four.nii")
        with pytest.raises(UsageError, match=r"volume .*: expected None \(every volume\) or the index of one volume"):
            read_volume(path, volume=given)

    def test_an_integer_index_reads_that_volume(self, tmp_path):
        from kernelcli import read_volume

        path = _four_d(tmp_path / "four.nii")
        one = read_volume(path, volume=1).data
        np.testing.assert_array_equal(read_volume(path, volume=np.int64(1)).data, one)
        assert not np.array_equal(read_volume(path, volume=0).data, one)


class TestWriteOutputRefusesNonFiniteResults:
    """write_output wrote NaN as 0 (with numpy's RuntimeWarning), a minmax over an inf as an all-black image, and a float
    TIFF holding NaN that read_input then refused (finding 5)."""

    A = np.array([[np.nan, 5.0, 7.0], [np.inf, -np.inf, 1.0]])

    @pytest.mark.parametrize("suffix, rescale", [(".png", "clip"), (".png", "minmax"), (".png", "abs"), (".jpg", "clip"),
                                                 (".bmp", "minmax"), (".tif", "none"), (".tif", "clip"), (".npy", None),
                                                 (".csv", None)])
    def test_refused_naming_the_count_and_nothing_written(self, tmp_path, suffix, rescale):
        from kernelcli import write_output

        with pytest.raises(UsageError, match=r"r\.\w+: the result holds 3 NaN or infinite value\(s\); expected finite numbers"):
            write_output(tmp_path / f"r{suffix}", self.A.astype(np.float32), rescale=rescale)
        assert not list(tmp_path.iterdir())

    def test_a_finite_float_result_is_written(self, tmp_path):
        from kernelcli import read_input, write_output

        write_output(tmp_path / "r.png", np.array([[0.0, 5.0], [7.0, 255.0]]), rescale="clip")
        assert read_input(tmp_path / "r.png").data.tolist() == [[0, 5], [7, 255]]


class TestConv3dPaddingBeyondMemory:
    """conv3d with a padding past the machine's memory raised numpy's MemoryError (29.1 TiB), where conv2d, conv_layer
    and pad2d raise a ResourceLimit (finding 6)."""

    def test_refused_as_a_resource_limit(self):
        from kernelcli.limits import ResourceLimit

        with pytest.raises(ResourceLimit, match=r"padding the 6x7x8 volume by 10000,10000,.* would need about 29.1 TiB"):
            conv3d(np.zeros((6, 7, 8), np.float32), np.ones((3, 3, 3)), padding=10**4)

    @pytest.mark.parametrize("dtype, itemsize", [(np.uint8, 4), (np.float64, 8)])
    def test_the_padded_copy_is_counted_in_the_compute_dtype(self, machine_asked, dtype, itemsize):
        # asked before any allocation, in the bytes of the dtype the padded copy holds
        with pytest.raises(machine_asked) as asked:
            conv3d(np.zeros((1, 1, 1), dtype), np.ones((1, 1, 1)), padding=1024)
        assert asked.value.args == (2049**3 * itemsize, "padding the 1x1x1 volume by 1024,1024,1024,1024,1024,1024")


class TestAnImageHoldsA2dOr3dResult:
    """write_output to an image format did not check the result's rank: IndexError for 1-D and 0-d, Pillow's TypeError or
    its encoder's message, or a channel count read from the wrong axis, for 4-D (finding 7)."""

    @pytest.mark.parametrize("shape, suffix", [((4,), ".png"), ((), ".jpg"), ((4, 4, 3, 2), ".tif"), ((4, 4, 1, 1), ".png"),
                                               ((2, 2, 2, 2), ".png"), ((4,), ".tif")])
    def test_refused_in_one_line_naming_the_shape(self, tmp_path, shape, suffix):
        from kernelcli import write_output

        with pytest.raises(UsageError) as info:
            write_output(tmp_path / f"r{suffix}", np.full(shape, 7, np.uint8))
        assert str(info.value) == (f"{tmp_path / f'r{suffix}'}: an image holds a 2-D (H, W) or 3-D (H, W, C) result; "
                                   f"this result has shape {shape}: write .npy to keep it")
        assert not list(tmp_path.iterdir())

    def test_a_grey_and_a_colour_result_are_written(self, tmp_path):
        from kernelcli import read_input, write_output

        write_output(tmp_path / "g.png", np.full((2, 3), 7, np.uint8))
        write_output(tmp_path / "c.png", np.full((2, 3, 3), 7, np.uint8))
        assert read_input(tmp_path / "g.png").data.shape == (2, 3) and read_input(tmp_path / "c.png").data.shape == (2, 3, 3)


class TestSeriesOfOneDicomFile:
    """series= was ignored for a single DICOM file, in the API and on the command line, where a folder refuses a UID it
    does not hold and a NIfTI file refuses series= (finding 8)."""

    @pytest.mark.parametrize("given", ["1.2.3.no.such.series", 7, "1"])
    def test_another_series_is_refused(self, tmp_path, given):
        from kernelcli import read_volume

        _, source = _uneven_series(tmp_path / "unused")
        with pytest.raises(UsageError, match=re.escape(f"CT_small.dcm: series={given!r}: no such series")):  # (the keyword typed)
            read_volume(source, series=given)

    def test_its_own_uid_and_index_0_are_taken(self, tmp_path):
        import pydicom

        from kernelcli import read_volume

        _, source = _uneven_series(tmp_path / "unused")
        uid = str(pydicom.dcmread(source, stop_before_pixels=True).SeriesInstanceUID)
        want = read_volume(source).data
        for given in (uid, 0, "0"):
            np.testing.assert_array_equal(read_volume(source, series=given).data, want)

    def test_the_command_line_refuses_it_too(self, tmp_path):
        # 'convolve ct.dcm -k gaussian:1mm --series x -o ct_x.nii.gz' exited 0 with no note
        pytest.importorskip("nibabel")
        from conftest import run_in_process

        _, source = _uneven_series(tmp_path / "unused")
        out = tmp_path / "ct_x.nii.gz"
        r = run_in_process("convolve", str(source), "-k", "gaussian:1mm", "--series", "x", "-o", str(out))
        assert r.returncode == 2 and "--series x: no such series" in r.stderr and not out.exists(), (r.returncode, r.stderr)


class TestTheRoundingRefusalOffersWhatWorks:
    """conv_layer's 2**53 refusal advised dtype='float64', which conv_layer does not take (a TypeError), and
    convolve_slices named x and one slice's cells and count (finding 9)."""

    def test_conv_layer_advises_giving_the_input_as_float64(self):
        from kernelcli import conv_layer

        big = np.array([[2**53 + 1, 1], [2, 3]], np.int64)
        with pytest.raises(UsageError) as info:
            conv_layer(big, np.ones((1, 1, 1, 1)))
        assert str(info.value).endswith("give it as float64 to take the rounding") and "dtype=" not in str(info.value)
        assert conv_layer(big.astype(np.float64), np.ones((1, 1, 1, 1)))[0, 0, 0] == 2.0**53

    def test_convolve_slices_names_the_volume_and_counts_every_slice(self):
        # was 'x: 1 value(s) past 2**53 ... the first, at (0, 0), ...'; conv3d says 'volume: 2 value(s) ... at (1, 0, 0)'
        from kernelcli.volumes import convolve_slices

        v = np.zeros((3, 4, 4), np.int64); v[1, 0, 0] = 2**53 + 1; v[2, 1, 3] = 2**53 + 3
        for axis in ("z", "x"):
            with pytest.raises(UsageError, match=r"^volume: 2 value\(s\) past 2\*\*53 that float64 would round; the first, at "
                                                 r"\(1, 0, 0\), is 9007199254740993"):
                convolve_slices(v, [[1]], axis)
        assert convolve_slices(v, [[1]], dtype="float64")[1, 0, 0] == 2.0**53


class TestMinorApiPoints:
    """Finding 10: LearnOptions' combine vocabulary, correlate_separable's kernels argument."""

    def test_learn_options_takes_per_channel_as_learn_combine_does(self):
        # LearnOptions(combine="per_channel") was refused; learn --combine per_channel and canonical_combine take it
        from kernelcli import LearnOptions

        assert LearnOptions(combine="per_channel").combine == LearnOptions(combine="Per-Channel").combine == "per-channel"
        with pytest.raises(UsageError, match="invalid combine 'channels': expected one of per-channel, shared, sum"):
            LearnOptions(combine="channels")

    def test_kernels_that_are_not_three_is_a_usage_error(self):
        # None was Python's TypeError "object of type 'NoneType' has no len()", and so was a generator
        vol = np.random.default_rng(0).random((3, 4, 5))
        with pytest.raises(UsageError, match=r"kernels: expected three 1-D kernels \(z, y, x\), got None"):
            correlate_separable(vol, None)
        np.testing.assert_array_equal(correlate_separable(vol, (k for k in ([1, 1], None, [2.0]))),
                                      correlate_separable(vol, ([1, 1], None, [2.0])))
        np.testing.assert_array_equal(correlate_separable(vol, (k for k in ([1, 1], None, [2.0])), dtype="uint8"),
                                      correlate_separable(vol, ([1, 1], None, [2.0]), dtype="uint8"))


class TestAHandMadeKernel:
    """kernelcli.Kernel is exported, and a hand-made one was taken as it came (finding 10 a)."""

    def test_a_list_matrix_has_its_shape(self):
        from kernelcli import Kernel

        assert Kernel("a", [[1.0, 2.0]]).shape == (1, 2)  # was ()

    @pytest.mark.parametrize("matrix, words", [
        (((1.0, 2.0), (3.0,)), "Kernel 'a': matrix: row 2 has 1 value, expected 2"),  # numpy's raw ValueError
        ((("1", "2"),), 'Kernel \'a\': matrix: row 1, column 1 is the string "1", expected a number'),  # read as numbers
        (((1.0, None),), "Kernel 'a': matrix: row 1, column 2 is null, expected a number"),
    ])
    def test_refused_as_it_is_made(self, matrix, words):
        # (conv2d refused these; since audit 137 #4 the Kernel itself does, as a kernel file's validator)
        from kernelcli import Kernel

        with pytest.raises(InvalidKernel, match=words):
            Kernel("a", matrix)

    def test_a_catalogue_kernel_is_as_before(self):
        from kernelcli import conv2d, load_kernel

        k = load_kernel("gaussian_3x3")
        np.testing.assert_array_equal(conv2d(np.eye(4), k), conv2d(np.eye(4), np.array(k.matrix, np.float64) / k.divisor))
