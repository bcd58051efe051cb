"""The Python API audit of 2026-12-05: float16 volumes, correlate_separable's ``out``, whole-number fills
of 64-bit integers, 3-D separable passes near a float's range, and argument checks."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest

from kernelcli import pad2d
from kernelcli._core.policy import Paths
from kernelcli.errors import KernelcliError, ShapeError, UsageError
from kernelcli.volumes import conv3d, correlate_separable

VOLUME_PATHS = [Paths(force=f) for f in ("numpy", "jit", "dense", "separable")] + ["warm", "cold"]


@pytest.mark.parametrize("paths", VOLUME_PATHS)
def test_a_float16_volume_is_filtered_in_float32_on_every_path(paths):
    # a 64^3 float16 volume raised Numba's NotImplementedError on the default path (a 4^3 one, numpy, worked)
    vol = np.random.default_rng(0).random((20, 24, 28)).astype(np.float16)
    box = np.ones((3, 3, 3)) / 27
    got = conv3d(vol, box, paths=paths)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, conv3d(vol.astype(np.float32), box, paths=paths), rtol=1e-6)
    sep = correlate_separable(vol, ([1, 2, 1], None, [1, 1]), paths=paths)
    assert sep.dtype == np.float32
    np.testing.assert_allclose(sep, correlate_separable(vol.astype(np.float32), ([1, 2, 1], None, [1, 1]), paths=paths), rtol=1e-6)


class TestSeparableOut:
    @pytest.mark.parametrize("force", ["numpy", "jit"])
    def test_an_out_overlapping_the_volume_is_refused(self, force):
        # a view shifted by 8 values gave errors of 100 on the jitted passes, silently
        buffer = np.random.default_rng(1).random(8 * 9 * 10 + 8).astype(np.float32)
        vol, out = buffer[:-8].reshape(8, 9, 10), buffer[8:].reshape(8, 9, 10)
        with pytest.raises(UsageError, match="out: overlaps the volume without being it"):
            correlate_separable(vol, ([1, 1], [1, 1], None), out=out, paths=Paths(force=force))

    @pytest.mark.parametrize("force", ["numpy", "jit"])
    def test_the_volume_itself_is_filtered_in_place(self, force):
        vol = np.random.default_rng(2).random((8, 9, 10)).astype(np.float32)
        want = correlate_separable(vol, ([1, 1], [1, 1], None), paths=Paths(force=force))
        assert correlate_separable(vol, ([1, 1], [1, 1], None), out=vol, paths=Paths(force=force)) is vol
        np.testing.assert_array_equal(vol, want)

    @pytest.mark.parametrize("force", ["numpy", "jit"])
    def test_an_out_that_cannot_be_written_is_a_usage_error(self, force):
        # a read-only out raised Numba's TypingError (a nopython-pipeline dump), a list an AttributeError
        vol = np.ones((8, 9, 10), np.float32)
        read_only = np.zeros_like(vol)
        read_only.setflags(write=False)
        with pytest.raises(UsageError, match="read-only"):
            correlate_separable(vol, ([1, 1], None, None), out=read_only, paths=Paths(force=force))
        with pytest.raises(UsageError, match="out: expected a numpy array, got list"):
            correlate_separable(vol, ([1, 1], None, None), out=[0], paths=Paths(force=force))


class TestWholeNumberFills:
    def test_a_fill_past_2_to_the_53_is_refused_not_rounded(self):
        # 2**53 + 1 was filled as 2**53 (numpy.pad fills ...993)
        x = np.zeros((2, 2), np.int64)
        with pytest.raises(UsageError, match=r"^value 9007199254740993: a fill is exact up to 2\*\*53"):
            pad2d(x, 1, value=2**53 + 1)
        assert pad2d(x, 1, value=2**53)[0, 0] == 2**53 and pad2d(x, 1, value=-(2**53))[0, 0] == -(2**53)

    @pytest.mark.parametrize("dtype, value", [(np.int64, 2**63 - 1), (np.uint64, 2**64 - 1), (np.int64, np.int64(2**62 + 1))])
    def test_a_value_the_type_holds_is_not_said_not_to_fit(self, dtype, value):
        # 2**63 - 1 "does not fit int64: expected a whole number from ... to 9223372036854775807"
        with pytest.raises(UsageError) as caught:
            pad2d(np.zeros((2, 2), dtype), 1, value=value)
        assert "does not fit" not in str(caught.value) and "exact up to 2**53" in str(caught.value)

    def test_values_that_do_not_fit_still_say_so(self):
        with pytest.raises(UsageError, match="^value 9223372036854775808 does not fit int64"):
            pad2d(np.zeros((2, 2), np.int64), 1, value=2**63)
        with pytest.raises(UsageError, match="^value 2.5 does not fit uint8"):
            pad2d(np.zeros((2, 2), np.uint8), 1, value=2.5)


@pytest.mark.parametrize("paths", VOLUME_PATHS)
def test_the_3d_separable_passes_stay_within_a_float_range(paths):
    # a 1/27 box on 3e38 float32: inf on the separable and jit paths (the first pass summed three 3e38), 3e38 on the others
    vol = np.full((6, 7, 8), 3e38, np.float32)
    got = conv3d(vol, np.ones((3, 3, 3)) / 27, pad_mode="replicate", paths=paths)
    assert np.isfinite(got).all()
    np.testing.assert_allclose(got, 3e38, rtol=1e-6)


@pytest.mark.parametrize("call, error, words", [
    (lambda: pad2d(np.zeros((3, 3)), "same"), UsageError, "'same' and 'valid' are conv2d's paddings"),
    (lambda: pad2d(np.zeros((3, 3)), "valid"), UsageError, "pad2d takes widths"),
    (lambda: Paths(small_work="a"), UsageError, "invalid small_work 'a'"),
    (lambda: __import__("kernelcli").summarize(None), KernelcliError, "spec None: expected a NetworkSpec"),
    (lambda: __import__("kernelcli").load_kernel(5), KernelcliError, "kernel spec 5: expected a string"),
    (lambda: __import__("kernelcli.kernel_build").kernel_build.gaussian_mm(1.0, "111"), UsageError, "spacing '111'"),
    (lambda: __import__("kernelcli.kernel_build").kernel_build.gaussian_mm(1.0, 1.0), UsageError, "spacing 1.0"),
    (lambda: __import__("kernelcli.kernel_build").kernel_build.gaussian_mm(True, (1, 1, 1)), KernelcliError, "sigma True"),
])
def test_arguments_that_cannot_be_meant_are_refused(call, error, words):
    # each gave a bare TypeError, a wrong message, or was taken ("111" as three 1 mm voxel sizes)
    with pytest.raises(error, match=words):
        call()


def test_numpy_integers_are_taken_as_integers():
    assert Paths(small_work=np.int64(5)).small_work == 5
    assert pad2d(np.zeros((2, 2), np.int16), 1, value=np.int16(7))[0, 0] == 7


@pytest.mark.parametrize("force", [None, "cold", "numpy", "dense", "separable", "jit"])
def test_a_separable_pass_that_overflows_where_the_window_does_not_gives_the_window_sum(force):
    # API audit F1: columns of +1e38 beside columns of -1e38 under a 4x4 box (every window sums to 0) gave inf in every
    # cell on the default and separable paths, where numpy, dense and torch give 0; conv3d gave NaN
    from kernelcli import api, volumes
    from kernelcli._core.policy import Paths

    paths = force if force in (None, "cold") else Paths(force=force)
    big = np.float32(1e38)
    x = np.tile(np.array([big, -big], np.float32), (300, 150))
    out = api.conv2d(x, np.ones((4, 4)), padding="valid", paths=paths)
    assert out.dtype == np.float32 and not out.any()
    if force != "cold":
        vol = np.tile(np.array([big, -big], np.float32), (24, 24, 12))
        out3 = volumes.conv3d(vol, np.ones((4, 4, 4)), padding="valid", paths=paths)
        assert out3.dtype == np.float32 and np.isfinite(out3).all() and not out3.any()
    # a true overflow stays one, on every path (numpy's path says so in a RuntimeWarning of its own)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        assert np.isinf(api.conv2d(np.full((8, 8), big), np.ones((4, 4)), padding="valid", paths=paths)).all()


def test_arguments_of_the_wrong_kind_are_refused_on_every_path():
    # API audit F3, F4, F5: a dask pool2d took size=2.7 as 2, True as 1 and stride=1.9 as 1 (int() before the
    # check) where the in-memory pool2d refuses them; LearnOptions(size=2.7) was a TypeError and size=True a 1x1
    # kernel; correlate_separable flattened a 2x3 kernel into 6 taps; pad_value="7" and True were read as 7 and 1;
    # a ragged x and padding=np.array(1) gave numpy's raw ValueError and TypeError
    from kernelcli import api
    from kernelcli.learn_options import LearnOptions

    da = pytest.importorskip("dask.array")
    lazy = da.ones((8, 8), chunks=4)
    for kwargs in (dict(size=2.7), dict(size=True), dict(size="2"), dict(size=2, stride=1.9), dict(size=2, stride=True)):
        for x in (np.ones((8, 8)), lazy):
            with pytest.raises(UsageError, match="must be an integer >= 1"):
                api.pool2d(x, **kwargs)
    assert api.pool2d(lazy, np.int64(2)).shape == (4, 4)
    for size in (2.7, True, (3, 2.5)):
        with pytest.raises(UsageError, match="size must be an integer >= 1"):
            LearnOptions(size=size)
    with pytest.raises(UsageError, match="epochs must be an integer >= 1"):
        LearnOptions(size=3, epochs=2.5)
    with pytest.raises(ShapeError, match="a 2x3 array; expected a 1-D kernel"):
        correlate_separable(np.ones((4, 4, 4)), (np.ones((2, 3)), None, None))
    assert correlate_separable(np.ones((4, 4, 4)), (np.ones((1, 3)), None, None)).shape == (4, 4, 4)
    for fill in ("7", True):
        with pytest.raises(UsageError, match="expected a number"):
            api.conv2d(np.ones((4, 4)), np.ones((3, 3)), padding=1, pad_value=fill)
    with pytest.raises(ShapeError, match="rows of different lengths"):
        api.conv2d([[1, 2], [3]], [[1]])
    assert api.conv2d(np.ones((4, 4)), np.ones((3, 3)), padding=np.array(1)).shape == (4, 4)
    assert api.pad2d(np.ones((4, 4)), np.array(2)).shape == (8, 8)


def test_learn_options_are_checked_as_every_function_checks_its_arguments():
    # the learn/API audit: flip="no" learned the rotated kernel, in silence; bias="yes" was int()'s ValueError,
    # seed=-1 numpy's, a dict of options an AttributeError; LearnOptions was not importable from kernelcli
    import numpy as np

    from kernelcli import LearnOptions, learn_kernel
    from kernelcli.errors import UsageError

    for settings in ({"flip": "no"}, {"bias": "yes"}, {"bias": 2}, {"seed": -1}, {"seed": 1.5}, {"seed": True},
                     {"max_values": 0}):
        with pytest.raises(UsageError):
            LearnOptions(size=3, **settings)
    x = np.random.default_rng(0).random((9, 9))
    with pytest.raises(UsageError, match="expected kernelcli.LearnOptions"):
        learn_kernel(x, x, {"size": 1})
    assert learn_kernel(x, 2 * x, LearnOptions(size=1, flip=True, seed=3)).fits


def test_padding_beyond_the_machines_memory_is_refused_before_any_allocation():
    # the learn/API audit: padding=10**5 on 8x9 was numpy's "Unable to allocate 298 GiB"; dilation=10**9 built a
    # 15 GiB map of padded rows, and the process was killed as its pages were touched
    import numpy as np

    from kernelcli import conv2d, conv_layer
    from kernelcli.limits import ResourceLimit

    x = np.zeros((8, 9))
    for settings in ({"padding": 10**5}, {"dilation": 10**5}, {"dilation": 10**9}):
        with pytest.raises(ResourceLimit, match="more than this machine's"):
            conv2d(x, np.ones((3, 3)), **settings)
    with pytest.raises(ResourceLimit, match="more than this machine's"):
        conv_layer(np.zeros((8, 9, 2)), np.ones((4, 2, 3, 3)), padding=10**5)
    assert conv2d(x, np.ones((3, 3)), padding=1000).shape == (2006, 2007)


BEYOND = np.float32(3e38)  # any sum of two is beyond float32's range
OVERFLOWING_CALLS = {
    "conv2d": lambda paths: __import__("kernelcli").conv2d(np.full((8, 8), BEYOND), np.ones((3, 3), np.float32), paths=paths),
    "pool2d 2x2": lambda paths: __import__("kernelcli").pool2d(np.full((8, 8), BEYOND), size=2, op="avg", paths=paths),
    "pool2d 3x3/1": lambda paths: __import__("kernelcli").pool2d(np.full((8, 8), BEYOND), size=3, stride=1, op="avg", paths=paths),
    "conv_layer": lambda paths: __import__("kernelcli").conv_layer(np.full((8, 8, 1), BEYOND), np.ones((1, 1, 3, 3), np.float32), paths=paths),
    "conv3d": lambda paths: conv3d(np.full((4, 4, 4), BEYOND), np.ones((3, 3, 3), np.float32), paths=paths),
    "correlate_separable": lambda paths: correlate_separable(np.full((4, 4, 4), BEYOND), ([1, 1, 1], [1, 1, 1], None), paths=paths),
    "pool3d": lambda paths: __import__("kernelcli").pool3d(np.full((4, 4, 4), BEYOND), size=2, op="avg", paths=paths),
}


@pytest.mark.parametrize("force", [None, "numpy", "jit", "fft"])
@pytest.mark.parametrize("call", sorted(OVERFLOWING_CALLS))
def test_an_overflow_is_an_infinity_without_a_warning_on_every_path(call, force):
    # the numpy and FFT paths (a small input's, a big kernel's) warned 'overflow encountered in reduce',
    # an error under -W error, where the jitted loops (and PyTorch) give the infinity silently
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = OVERFLOWING_CALLS[call](Paths(force=force))
    assert np.isinf(got).any()


class TestApiRound4:
    """The API audit, round 4: arguments taken where they are refused elsewhere, and plain Python errors."""

    @pytest.mark.parametrize("call, kind, needle", [
        # bias=True was a bias of 1 (pad_value, stride and groups refused True already)
        (lambda: __import__("kernelcli").conv_layer(np.ones((3, 3, 1)), np.ones((1, 1, 1, 1)), True), "UsageError", "bias:"),
        (lambda: __import__("kernelcli.kernel_build", fromlist=["x"]).gaussian_mm(1.0, (1, 1, 1), truncate=True),
         "UsageError", "truncate True"),
        (lambda: __import__("kernelcli").load_kernel("gaussian:1", max_ndim="x"), "UsageError", "max_ndim"),
        (lambda: __import__("kernelcli").load_kernel("gaussian:1", max_ndim=True), "UsageError", "max_ndim"),
        # numpy's MemoryError 'Unable to allocate 29.1 TiB', where conv2d's padding is a ResourceLimit
        (lambda: __import__("kernelcli").pad2d(np.ones((8, 9)), 10**6), "ResourceLimit", "29.1 TiB"),
        (lambda: __import__("kernelcli.catalog", fromlist=["x"]).list_kernels(3), "UsageError", "family"),  # AttributeError
        # the mask was dropped: masked cells used as data
        (lambda: __import__("kernelcli").conv2d(np.ma.masked_array(np.ones((5, 5)), mask=np.eye(5, dtype=bool)), [[1]]),
         "UsageError", "masked array"),
    ])
    def test_refused_in_kernelclis_words(self, call, kind, needle):
        with pytest.raises(Exception) as info:
            call()
        assert type(info.value).__name__ == kind and needle in str(info.value), info.value


class TestApiRound5:
    """The API audit, round 5 (audit89): a remembered call that forgot the sign of a zero fill, a padding refused
    by 8 bytes a cell whatever the dtype, an input replaced by write_output, a truncate that was Python's TypeError."""

    @pytest.mark.parametrize("stride", [1, (1, 1)])  # the usual call's key, and the general one
    def test_the_sign_of_a_zero_fill_is_the_calls_own_whatever_came_before(self, stride):
        from kernelcli import conv2d

        k = np.ones((3, 3))
        for side in (5, 6):  # -0.0 first, then the default; the default first, then -0.0
            x = np.ones((side, side), np.float32)
            fills = (-0.0, 0.0) if side == 5 else (0.0, -0.0)
            for fill in fills:
                corner = conv2d(x, k, padding=3, pad_value=fill, stride=stride)[0, 0]
                assert corner == 0 and np.signbit(corner) == np.signbit(fill), (side, fill, corner)

    def test_pad2d_counts_the_bytes_of_its_own_dtype(self, machine_asked):
        for dtype in (np.uint8, np.int16, np.float64):  # a 32769^2 result: 1 GiB in uint8, once counted as 8
            with pytest.raises(machine_asked) as asked:
                pad2d(np.zeros((1, 1), dtype), 16384)
            assert asked.value.args == (32769 * 32769 * np.dtype(dtype).itemsize, "padding the 1x1 image by 16384,16384,16384,16384")

    def test_write_output_does_not_replace_the_input_it_was_given_as_like(self, tmp_path):
        from kernelcli import conv2d, read_input, write_output
        from kernelcli.errors import OutputRefused

        path = tmp_path / "scan.npy"
        np.save(path, np.arange(12.0).reshape(3, 4))
        src = read_input(path)
        with pytest.raises(OutputRefused, match="overwrite the input"):
            write_output(path, conv2d(src.data, [[2.0]]), like=src, force=True)
        np.testing.assert_array_equal(np.load(path), np.arange(12.0).reshape(3, 4))
        other = tmp_path / "out.npy"
        assert write_output(other, conv2d(src.data, [[2.0]]), like=src).path == other

    @pytest.mark.parametrize("truncate", ["3", None, [3]])
    def test_a_truncate_that_is_not_a_number_is_refused_by_name(self, truncate):
        from kernelcli.kernel_build import gaussian_mm

        with pytest.raises(UsageError, match="truncate"):
            gaussian_mm(1.0, (1, 1, 1), truncate=truncate)


@pytest.mark.parametrize("force", [None, "numpy", "jit"])
def test_pool3d_takes_dtype_as_pool2d_does(force):
    # the API audit (89): pool3d had no dtype= (an 8-bit average rounded by hand), where pool2d and conv3d have it
    torch = pytest.importorskip("torch")

    from kernelcli import pool2d, pool3d

    v = np.random.default_rng(3).integers(0, 256, (6, 8, 10)).astype(np.uint8)
    paths = Paths(force=force)
    got = pool3d(v, 2, op="avg", dtype="uint8", paths=paths)
    ref = np.clip(np.rint(torch.nn.functional.avg_pool3d(torch.from_numpy(v.astype(np.float64))[None, None], 2)[0, 0].numpy()), 0, 255)
    assert got.dtype == np.uint8 and np.array_equal(got, ref.astype(np.uint8))
    assert pool3d(v, 2, op="avg", dtype="float64", paths=paths).dtype == np.float64
    flat = np.full((1, 2, 2), 200, np.uint8)  # clipped into the dtype, as pool2d clips
    assert pool3d(flat, (1, 2, 2), op="avg", dtype="int8", paths=paths).item() == pool2d(flat[0], 2, op="avg", dtype="int8").item() == 127


@pytest.mark.parametrize(("call", "kind", "name"), [
    (lambda big: __import__("kernelcli").conv2d(np.ones((4, 4)), np.array([[1, big]])), "InvalidKernel", "kernel"),
    (lambda big: __import__("kernelcli").conv2d(np.ones((4, 4)), np.array([[1, big]], dtype=np.uint64)), "InvalidKernel", "kernel"),
    (lambda big: __import__("kernelcli").conv2d(np.ones((4, 4)), np.array([[1, big]], dtype=np.longdouble)), "InvalidKernel", "kernel"),
    (lambda big: __import__("kernelcli").conv_layer(np.ones((4, 4, 1)), np.array([[[[1, big]]]])), "UsageError", "weights"),
    (lambda big: __import__("kernelcli").conv_layer(np.ones((4, 4, 1)), np.ones((1, 1, 1, 1)), np.array([big])), "UsageError", "bias"),
    # a list's int beside a float: numpy makes the list float64, 2**53 + 1 rounded before any look at the array
    (lambda big: __import__("kernelcli").conv2d(np.ones((4, 4)), [[big, 0.5]]), "InvalidKernel", "kernel"),
    (lambda big: __import__("kernelcli").conv2d(np.ones((4, 4)), [[1.0, 2.0], (np.int64(big), 0.5)]), "InvalidKernel", "kernel"),
    (lambda big: __import__("kernelcli").conv2d(np.ones((4, 4)), [np.array([big, 1]), [0.5, 1.0]]), "InvalidKernel", "kernel"),
    (lambda big: __import__("kernelcli").conv3d(np.ones((3, 3, 3)), [[[big, 0.5]]]), "InvalidKernel", "kernel"),
    (lambda big: __import__("kernelcli").conv_layer(np.ones((4, 4, 1)), [[[[big, 0.5]]]]), "UsageError", "weights"),
    (lambda big: __import__("kernelcli").conv_layer(np.ones((4, 4, 2)), np.ones((2, 2, 1, 1)), [0.5, big]), "UsageError", "bias"),
])
def test_a_whole_weight_past_2_to_the_53_is_refused_in_the_api_too(call, kind, name):
    # the layers audit (93): the command line refuses 2**53 + 1 in a kernel, weights or a bias in any form, where
    # conv2d and conv_layer took an int64 (or long-double) one as 2**53 in silence (review 46: or a list's, numpy's)
    with pytest.raises(Exception) as info:
        call(2**53 + 1)
    # (a long double's: "the weight at", as its .npy file's is read, by the same function: review 148 #2)
    assert type(info.value).__name__ == kind and re.match(rf"{name}: the (value|weight) at ", str(info.value)) and "9007199254740993" in str(info.value)
    call(2**62)  # held exactly by float64: taken


def test_pooling_takes_the_float64_opt_in_for_int64_past_2_to_the_53():
    # the review (46): pool2d and pool3d refused an int64 input past 2**53 even with dtype='float64', the opt-in their
    # own message names (conv2d and conv3d took it)
    from kernelcli import pool2d, pool3d

    big = 2**53 + 1
    assert pool2d(np.full((2, 2), big, np.int64), 2, op="avg", dtype="float64").item() == float(big)
    assert pool3d(np.full((2, 2, 2), big, np.int64), 2, op="avg", dtype="float64").item() == float(big)
    for call in (lambda: pool2d(np.full((2, 2), big, np.int64), 2, op="avg"), lambda: pool3d(np.full((2, 2, 2), big, np.int64), 2, op="avg")):
        with pytest.raises(UsageError, match="past 2\\*\\*53"):
            call()

