"""The Python API as an importing user (audit 212).

#1: an input given as Python lists whose whole number numpy rounded (2**64 - 1 is float64 to numpy, as is 2**53 + 1
beside a float) was computed rounded in silence: ``pool2d([[2**64 - 1, 0], [1, 2]], 2)`` gave 2**64.

#2: a volume's separable box (``volume phantom3d.nii.gz -k box_3d``, ``box:5vox``, ``correlate_separable``) applied its
1/3 factors pass by pass in float32, a float32 ulp off the exact mean at one voxel in eight, where conv3d of the same
kernel is exact: now the whole numbers are summed and the sum divided once, on every path.

#3: learn_kernel took epochs=/lr= with lstsq and momentum= with adam in silence, where ``kernelcli learn`` noted them
(the rule lived in the command's module): now its ``notes`` say so in its keywords, and the command prints them.

#4: read_input of a NIfTI said "unsupported file type '.gz'" and never named read_volume.

#5: smooth_renormalised's refusal of a kernel that does not smooth named the command line's --pad-mode.
"""

from __future__ import annotations

import numpy as np
import pytest

import kernelcli as K
from conftest import SAMPLES, run_in_process
from kernelcli import volume_filters, volumes
from kernelcli._core.policy import Paths
from kernelcli.errors import InputError, InvalidKernel, UsageError
from kernelcli.kernel_build import box_vox

BIG = [[2**64 - 1, 0], [1, 2]]  # an int past int64: numpy makes the list float64
BESIDE = [[2**53 + 1, 0.5], [1, 1]]  # an int past 2**53 beside a float: float64 too
VOL = [BIG, BIG]
ONE3 = [[1], [1], [1]]

LISTED_CALLS = {
    "pool2d max": lambda x: K.pool2d(x, 2),
    "pool2d avg": lambda x: K.pool2d(x, 2, op="avg"),
    "pad2d": lambda x: K.pad2d(x, 1),
    "conv2d": lambda x: K.conv2d(x, [[1]]),
    "conv_layer": lambda x: K.conv_layer(x, np.ones((1, 1, 1, 1))),
    "learn_kernel": lambda x: K.learn_kernel(x, np.zeros((2, 2)), K.LearnOptions(size=1)),
}
VOLUME_CALLS = {
    "conv3d": lambda v: K.conv3d(v, [[[1]]]),
    "pool3d": lambda v: K.pool3d(v, 1),
    "correlate_separable": lambda v: volumes.correlate_separable(v, ONE3),
    "convolve_slices": lambda v: volumes.convolve_slices(v, [[1]]),
    "smooth_renormalised": lambda v: volume_filters.smooth_renormalised(v, ONE3),
}


class TestAListInputNumpyRoundsIsRefused:
    @pytest.mark.parametrize("call", LISTED_CALLS.values(), ids=LISTED_CALLS.keys())
    @pytest.mark.parametrize("x", [BIG, BESIDE], ids=["past-int64", "beside-a-float"])
    def test_every_function_taking_x(self, call, x):
        with pytest.raises(UsageError, match=r"the value at \(0, 0\) is (18446744073709551615|9007199254740993), "
                                             r"which float64 reads as .*as float64 to take the rounding"):
            call(x)

    @pytest.mark.parametrize("call", VOLUME_CALLS.values(), ids=VOLUME_CALLS.keys())
    def test_every_volume_function(self, call):
        with pytest.raises(UsageError, match=r"volume: the value at \(0, 0, 0\) is 18446744073709551615"):
            call(VOL)

    def test_a_mask_too(self):
        with pytest.raises(UsageError, match=r"mask: the value at \(0, 0, 0\) is 18446744073709551615"):
            volume_filters.smooth_renormalised(np.ones((2, 2, 2)), ONE3, mask=VOL)

    def test_the_integer_array_is_offered_only_where_it_keeps_every_value(self):
        with pytest.raises(UsageError, match=r"give x as an integer array \(numpy.array\(x, dtype='uint64'\)\)"):
            K.pool2d(BIG, 2)
        with pytest.raises(UsageError) as refused:  # (an integer array would cut 0.5)
            K.pool2d(BESIDE, 2)
        assert "integer array" not in str(refused.value)

    def test_lists_float64_holds_are_computed_as_before(self):
        assert K.pool2d([[2**53, 0.5], [1, 2]], 2)[0, 0] == 2.0**53
        assert K.pool2d([[2**63, 0], [1, 2]], 2)[0, 0] == 2.0**63  # (float64 to numpy, and exact)
        assert K.pool2d(np.array(BIG, np.uint64), 2)[0, 0] == 2**64 - 1
        assert K.pad2d([[1, 2]], 1).dtype.kind == "i"


def exact_correlation(v, dense, divisor):
    """The correlation of whole-number data with ``dense`` (whole numbers over ``divisor``, or times a power of two)
    as scipy sums it in float64 (exact here), divided once and rounded to float32."""
    ndi = pytest.importorskip("scipy.ndimage")
    return lambda mode: (ndi.correlate(v.astype(np.float64), np.rint(dense * divisor * 64) / 64, mode=mode)
                         / divisor).astype(np.float32)


#: name -> (the 1-D factors correlate_separable applies, the dense kernel conv3d applies, its divisor)
SEPARABLE = {"box_3d": (volumes.kernel_3d("box_3d"), volumes.kernel_3d("box_3d").array(), 27),
             "box:5vox": (box_vox(5), np.ones((5, 5, 5)) / 125, 125),
             "gaussian_3d": (volumes.kernel_3d("gaussian_3d"), volumes.kernel_3d("gaussian_3d").array(), 1),
             "sobel_3d": (volumes.kernel_3d("sobel_3d"), volumes.kernel_3d("sobel_3d").array(), 1)}
SCIPY_MODES = {"replicate": "nearest", "constant": "constant"}


class TestAVolumesSeparableBoxIsTheExactMeanOnEveryPath:
    @pytest.fixture(scope="class")
    @classmethod
    def vol(cls):
        return np.random.default_rng(212).integers(-3000, 3000, (14, 15, 16)).astype(np.int16)

    @pytest.mark.parametrize("mode", SCIPY_MODES)
    @pytest.mark.parametrize("name", SEPARABLE)
    def test_correlate_separable_and_conv3d_on_each_path(self, vol, name, mode):
        factors, dense, divisor = SEPARABLE[name]
        exact = exact_correlation(vol, dense, divisor)(SCIPY_MODES[mode])
        for path in ("numpy", "jit"):
            got = volumes.correlate_separable(vol, factors, pad_mode=mode, paths=Paths(force=path))
            assert got.dtype == np.float32 and np.array_equal(got, exact), (path, int((got != exact).sum()))
        for path in ("numpy", "dense", "separable", "fft"):
            assert np.array_equal(K.conv3d(vol, dense, pad_mode=mode, paths=Paths(force=path)), exact), path

    @pytest.mark.parametrize("spec", ["box_3d", "box:5vox"])
    def test_the_command_line_gives_conv3d_s_bytes(self, tmp_path, spec):
        pytest.importorskip("nibabel")
        out = tmp_path / "o.npy"
        r = run_in_process("volume", str(SAMPLES / "phantom3d.nii.gz"), "-k", spec, "-o", str(out), "-q",
                           env={"KERNELCLI_WORKER": "off"})
        assert r.returncode == 0, r.stderr
        v = K.read_volume(SAMPLES / "phantom3d.nii.gz").data
        _, dense, divisor = SEPARABLE[spec]
        assert np.array_equal(np.load(out), K.conv3d(v, dense, pad_mode="replicate"))
        assert np.array_equal(np.load(out), exact_correlation(v, dense, divisor)("nearest"))


class TestLearnKernelNotesTrainingSettingsItIgnores:
    @pytest.fixture(scope="class")
    @classmethod
    def pair(cls):
        x = np.random.default_rng(0).random((30, 30))
        return x, K.conv2d(x, K.load_kernel("sobel_v"))

    def test_lstsq_names_epochs_and_lr_in_the_api_s_words(self, pair):
        r = K.learn_kernel(*pair, K.LearnOptions(epochs=5, lr=0.5))
        assert "epochs=, lr=: for method='gd'; lstsq solves in one step and ignores them" in r.notes
        assert not any("--" in n for n in r.notes + r.warnings)
        assert K.learn_kernel(*pair, K.LearnOptions(seed=3)).notes == []  # (seed picks a large system's windows)

    def test_adam_names_momentum(self, pair):
        r = K.learn_kernel(*pair, K.LearnOptions(method="gd", optimizer="adam", momentum=0.5, epochs=2))
        assert "momentum= is for optimizer='sgd'; adam ignores it" in r.notes

    def test_the_command_s_words_with_words_cli(self, pair):
        r = K.learn_kernel(*pair, K.LearnOptions(lr=0.5), words="cli")
        assert r.notes == ["--lr: for --method gd; lstsq solves in one step and ignores it"]


class TestReadInputOfAVolumeNamesReadVolume:
    @pytest.fixture
    def nifti(self, tmp_path):
        import gzip
        import shutil

        with gzip.open(SAMPLES / "phantom3d.nii.gz") as packed, open(tmp_path / "ph.nii", "wb") as plain:
            shutil.copyfileobj(packed, plain)
        return tmp_path / "ph.nii"

    @pytest.mark.parametrize("which", ["nii.gz", "nii"])
    def test_a_nifti(self, nifti, which):
        path = SAMPLES / "phantom3d.nii.gz" if which == "nii.gz" else nifti
        for types in ((), (".nii.gz", ".nii")):  # (the second was decoded as a picture: 'not a supported image')
            with pytest.raises(InputError) as refused:
                K.read_input(path, volumes=types) if types else K.read_input(path)
            assert str(refused.value) == (f"{path}: a medical volume (NIfTI); read it with read_volume(), which returns "
                                          "(Z, Y, X) voxels and their spacing")
        assert K.read_volume(path).data.shape == (64, 64, 64)

    def test_a_dicom_folder_and_a_dicom_file_without_a_suffix(self, tmp_path):
        folder = tmp_path / "series"
        folder.mkdir()
        (folder / "slice1").write_bytes(b"\0" * 128 + b"DICM" + b"\0" * 64)
        with pytest.raises(InputError, match=r"series: a medical volume \(a DICOM series folder\); read it with read_volume"):
            K.read_input(folder)
        with pytest.raises(InputError, match=r"slice1: a medical volume \(DICOM\); read it with read_volume"):
            K.read_input(folder / "slice1")

    def test_a_missing_volume_is_no_such_file_and_the_cli_s_words_name_nii_gz_whole(self, tmp_path):
        with pytest.raises(InputError, match=r"nosuch.nii.gz: no such file$"):
            K.read_input(tmp_path / "nosuch.nii.gz")
        with pytest.raises(InputError, match=r"unsupported file type '.nii.gz': expected one of"):
            K.read_input(SAMPLES / "phantom3d.nii.gz", words="cli")


def test_smooth_renormalised_refuses_a_derivative_in_the_api_s_words():

    with pytest.raises(InvalidKernel) as refused:
        volume_filters.smooth_renormalised(np.random.default_rng(0).random((6, 7, 8)), [[1, 0, -1], [1], [1]])
    assert "--" not in str(refused.value) and "gaussian_mm and box_mm" in str(refused.value)
