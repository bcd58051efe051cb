"""3-D convolution, slice-wise 2-D kernels, 3-D pooling and kernels in mm, against scipy, PyTorch and naive loops."""

from __future__ import annotations

import math
import tracemalloc

import numpy as np
import pytest
import scipy.ndimage as ndi
from hypothesis import given, settings
from hypothesis import strategies as st

from kernelcli import volumes
from kernelcli._core import policy
from kernelcli._core.policy import Paths
from kernelcli.api import conv2d
from kernelcli.catalog import load_kernel
from kernelcli.errors import InvalidKernel, KernelNotFound, ShapeError, UsageError

from naive import SCIPY_MODE

MODES = tuple(SCIPY_MODE)
RNG = np.random.default_rng(20261125)


@pytest.fixture(params=["numpy", "jit"])
def path(request, monkeypatch):
    """Run a test through the plain-numpy volume path and through the jitted loops."""
    monkeypatch.setattr(policy, "DEFAULT", Paths(force=request.param))
    return request.param


def scipy_same(x, k, mode, cval=0.0):
    """scipy.ndimage.correlate with kernelcli's "same" centre ((f-1)//2, the extra tap after)."""
    origin = [(n - 1) // 2 - n // 2 for n in np.shape(k)]
    return ndi.correlate(np.asarray(x, dtype=np.float64), np.asarray(k, dtype=np.float64), mode=SCIPY_MODE[mode], cval=cval, origin=origin)


def naive_pool3d(x, f, s, p, op, ceil_mode=False, include_pad=True):
    """Pooling by the definition, with PyTorch's padding and ceil_mode rules, on every axis."""
    x = np.asarray(x, dtype=np.float64)

    def out_len(n, f, s, p):
        num = n + 2 * p - f
        o = (-(-num // s) if ceil_mode else num // s) + 1
        if ceil_mode and (o - 1) * s >= n + p:
            o -= 1
        return o

    shape = [out_len(x.shape[a], f[a], s[a], p[a]) for a in range(3)]
    out = np.zeros(shape)
    for idx in np.ndindex(*shape):
        lo = [idx[a] * s[a] - p[a] for a in range(3)]
        hi = [min(lo[a] + f[a], x.shape[a] + p[a]) for a in range(3)]
        cells = x[tuple(slice(max(lo[a], 0), min(hi[a], x.shape[a])) for a in range(3))]
        if op == "max":
            out[idx] = cells.max()
        elif op == "min":
            out[idx] = cells.min()
        else:
            divisor = math.prod(hi[a] - lo[a] for a in range(3)) if include_pad else cells.size
            out[idx] = cells.sum() / divisor
    return out


class TestConv3d:
    @pytest.mark.parametrize("mode", MODES)
    @pytest.mark.parametrize("kshape", [(3, 3, 3), (1, 1, 1), (2, 4, 5), (5, 2, 3), (9, 1, 13)])
    def test_equals_scipy_correlate(self, path, mode, kshape):
        x = RNG.standard_normal((7, 9, 11))
        k = RNG.standard_normal(kshape)
        cval = 1.5 if mode == "constant" else 0.0
        got = volumes.conv3d(x, k, pad_mode=mode, pad_value=cval)
        assert got.shape == x.shape and got.dtype == np.float64
        np.testing.assert_allclose(got, scipy_same(x, k, mode, cval), rtol=0, atol=1e-12)

    @settings(max_examples=40, deadline=None)
    @given(
        shape=st.tuples(st.integers(1, 6), st.integers(1, 6), st.integers(1, 6)),
        kshape=st.tuples(st.integers(1, 4), st.integers(1, 4), st.integers(1, 4)),
        mode=st.sampled_from(MODES),
        seed=st.integers(0, 2**32 - 1),
    )
    def test_random_shapes_and_modes(self, shape, kshape, mode, seed):
        rng = np.random.default_rng(seed)
        x = rng.standard_normal(shape)
        k = rng.standard_normal(kshape)
        np.testing.assert_allclose(volumes.conv3d(x, k, pad_mode=mode), scipy_same(x, k, mode), atol=1e-12)

    def test_valid_and_explicit_padding_shape_law(self):
        x = RNG.standard_normal((6, 7, 8))
        k = RNG.standard_normal((3, 2, 5))
        valid = volumes.conv3d(x, k, padding="valid")
        assert valid.shape == (4, 6, 4)
        np.testing.assert_allclose(valid, scipy_same(x, k, "constant")[1:5, 0:6, 2:6], atol=1e-12)
        padded = volumes.conv3d(x, k, padding=(1, 0, 2), pad_mode="reflect")
        reference = np.pad(x, ((1, 1), (0, 0), (2, 2)), mode="reflect")
        np.testing.assert_allclose(padded, volumes.conv3d(reference, k, padding="valid"), atol=1e-12)
        assert padded.shape == (6, 6, 8)

    def test_impulse_response_is_the_flipped_kernel(self):
        x = np.zeros((5, 5, 5))
        x[2, 2, 2] = 1
        k = RNG.standard_normal((3, 3, 3))
        np.testing.assert_allclose(volumes.conv3d(x, k)[1:4, 1:4, 1:4], k[::-1, ::-1, ::-1], atol=1e-15)
        np.testing.assert_allclose(volumes.conv3d(x, k, flip=True)[1:4, 1:4, 1:4], k, atol=1e-15)

    def test_flip_is_true_convolution(self):
        x = RNG.standard_normal((5, 6, 7))
        k = RNG.standard_normal((3, 3, 3))
        np.testing.assert_allclose(volumes.conv3d(x, k, flip=True, pad_mode="reflect"), ndi.convolve(x, k, mode="mirror"), atol=1e-12)

    def test_integer_input_computes_in_float32(self):
        x = RNG.integers(-1024, 3000, (4, 5, 6)).astype(np.int16)
        got = volumes.conv3d(x, np.ones((3, 3, 3)) / 27, pad_mode="replicate")
        assert got.dtype == np.float32
        np.testing.assert_allclose(got, scipy_same(x, np.ones((3, 3, 3)) / 27, "replicate"), rtol=1e-6, atol=1e-3)
        assert volumes.conv3d(x, np.ones((1, 1, 1)), dtype="float64").dtype == np.float64

    def test_errors_name_the_problem(self):
        x = np.zeros((3, 3, 3))
        with pytest.raises(ShapeError, match="expected a 3-D"):
            volumes.conv3d(x, np.ones((3, 3)))
        with pytest.raises(ShapeError, match="axis z"):
            volumes.conv3d(x, np.ones((5, 1, 1)), padding="valid")
        with pytest.raises(ShapeError, match=r"\(Z, Y, X\)"):
            volumes.conv3d(np.zeros((3, 3)), np.ones((1, 1, 1)))
        with pytest.raises(UsageError, match="NaN"):
            volumes.conv3d(np.full((2, 2, 2), np.nan), np.ones((1, 1, 1)))
        with pytest.raises(UsageError, match="invalid pad_mode"):
            volumes.conv3d(x, np.ones((1, 1, 1)), pad_mode="bogus")
        with pytest.raises(UsageError, match="invalid padding"):
            volumes.conv3d(x, np.ones((1, 1, 1)), padding=(1, 2))
        with pytest.raises(UsageError, match=">= 0"):
            volumes.conv3d(x, np.ones((1, 1, 1)), padding=-1)


class TestCorrelateSeparable:
    @pytest.mark.parametrize("mode", MODES)
    def test_equals_dense_outer_product(self, path, mode):
        x = RNG.standard_normal((8, 7, 9))
        ks = [RNG.standard_normal(n) for n in (3, 4, 5)]
        dense = np.einsum("a,b,c->abc", *ks)
        got = volumes.correlate_separable(x, ks, pad_mode=mode)
        np.testing.assert_allclose(got, scipy_same(x, dense, mode), atol=1e-12)
        np.testing.assert_allclose(got, volumes.conv3d(x, dense, pad_mode=mode), atol=1e-12)

    def test_kernel_longer_than_the_axis(self, path):
        x = RNG.standard_normal((3, 4, 2))
        ks = [RNG.standard_normal(n) for n in (9, 7, 11)]
        for mode in MODES:
            np.testing.assert_allclose(
                volumes.correlate_separable(x, ks, pad_mode=mode), scipy_same(x, np.einsum("a,b,c->abc", *ks), mode), atol=1e-12
            )

    def test_in_place_and_skipped_axes(self):
        x = RNG.standard_normal((5, 6, 7))
        expected = ndi.correlate1d(x, [1.0, 2.0, 3.0], axis=1, mode="nearest")
        work = x.copy()
        out = volumes.correlate_separable(work, (None, [1.0, 2.0, 3.0], [1.0]), pad_mode="replicate", out=work)
        assert out is work
        np.testing.assert_allclose(work, expected, atol=1e-12)
        untouched = volumes.correlate_separable(x, (None, None, None))
        np.testing.assert_array_equal(untouched, x)

    def test_int16_reads_straight_into_float32(self):
        x = RNG.integers(-1024, 3000, (6, 7, 8)).astype(np.int16)
        got = volumes.correlate_separable(x, volumes.gaussian_vox(1.0), pad_mode="replicate")
        assert got.dtype == np.float32 and x.dtype == np.int16
        np.testing.assert_allclose(got, ndi.gaussian_filter(x.astype(np.float64), 1.0, mode="nearest", radius=3), rtol=1e-6, atol=2e-3)

    def test_memory_is_the_input_plus_one_float32_volume(self):
        """The jitted passes hold the result only.  Measured on that path, forced, after the very
        same call once (compiling or loading it allocates too, and so does setting up the helper
        threads' poll, which a volume this size is split across and a small one is not: warmed on a
        small volume, the test failed when run alone): which path the default takes for a volume
        this small depends on what the process has loaded already."""
        x = RNG.integers(-1024, 3000, (48, 96, 96)).astype(np.int16)
        factors = volumes.gaussian_mm(1.5, (1.0, 0.8, 0.8))
        jit = Paths(force="jit")
        volumes.correlate_separable(x, factors, pad_mode="replicate", paths=jit)  # outside the measurement
        tracemalloc.start()
        try:
            result = volumes.correlate_separable(x, factors, pad_mode="replicate", paths=jit)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert result.dtype == np.float32
        assert peak < 1.1 * result.nbytes  # the result itself, scratch rows are small
        np.testing.assert_array_equal(result, volumes.correlate_separable(x, factors, pad_mode="replicate", paths=Paths(force="numpy")))

    def test_a_large_volume_takes_the_in_place_passes(self):
        """The memory rule: by default, whatever is loaded, a volume whose numpy passes would
        hold more than VOLUME_NUMPY_EXTRA_BYTES beyond the jitted ones takes the jitted passes."""
        from kernelcli._core import costs

        factors = [np.asarray(f) for f in volumes.gaussian_mm(1.5, (1.0, 0.8, 0.8))]
        side = math.ceil((costs.VOLUME_NUMPY_EXTRA_BYTES / 4 / 4) ** (1 / 3)) + 1  # 5 float32 volumes > 1 + the margin
        assert not volumes.separable_takes_numpy(None, (side, side, side), factors, np.float32)
        assert volumes.separable_takes_numpy(Paths(force="numpy"), (side, side, side), factors, np.float32)

    def test_errors(self):
        with pytest.raises(UsageError, match="three 1-D kernels"):
            volumes.correlate_separable(np.zeros((2, 2, 2)), ([1.0], [1.0]))
        with pytest.raises(UsageError, match="C-contiguous, writeable float32"):
            volumes.correlate_separable(np.zeros((2, 2, 2), np.int16), ([1.0], [1.0], [0.5, 0.5]), out=np.zeros((2, 2, 2)))


class TestConvolveSlices:
    @pytest.mark.parametrize("axis", ["z", "y", "x"])
    @pytest.mark.parametrize("mode", ["constant", "reflect", "circular"])
    def test_each_slice_equals_conv2d(self, axis, mode):
        x = RNG.integers(-1000, 2000, (5, 12, 14)).astype(np.int16)
        k = load_kernel("sobel_v").array()
        got = volumes.convolve_slices(x, k, axis, pad_mode=mode)
        a = "zyx".index(axis)
        assert got.shape == x.shape
        for i in range(x.shape[a]):
            expected = conv2d(np.take(x, i, axis=a), k, pad_mode=mode)
            np.testing.assert_array_equal(np.take(got, i, axis=a), expected)

    def test_kwargs_pass_through(self):
        x = RNG.standard_normal((3, 10, 9))
        k = RNG.standard_normal((3, 2))
        got = volumes.convolve_slices(x, k, "z", stride=2, padding="valid", dilation=(1, 2))
        for z in range(3):
            np.testing.assert_array_equal(got[z], conv2d(x[z], k, stride=2, padding="valid", dilation=(1, 2)))
        assert got.shape == (3, 4, 4)  # (10-3)//2+1, (9-3)//2+1

    def test_float32_result_for_memory(self):
        x = RNG.integers(-1000, 2000, (4, 8, 8)).astype(np.int16)
        k = load_kernel("gaussian_3x3").array()
        got = volumes.convolve_slices(x, k, dtype="float32")
        assert got.dtype == np.float32
        np.testing.assert_allclose(got[2], conv2d(x[2], k), rtol=1e-6)

    def test_an_integer_dtype_rounds_and_clips_not_wraps(self):
        # uint8 used to be a plain cast: 200 + 100 = 300 was stored as 44
        x = np.array([[[0, 200, 100, 3, 250]]] * 2, np.uint8)
        got = volumes.convolve_slices(x, [[1, 1]], padding="valid", dtype="uint8")
        assert got.dtype == np.uint8 and got[0].tolist() == [[200, 255, 103, 253]]
        halves = volumes.convolve_slices(x, [[0.5, 0.5]], padding="valid", dtype="int8")
        assert halves[1].tolist() == [[100, 127, 52, 126]]  # 150 -> 127; ties to even: 51.5 -> 52, 126.5 -> 126
        for k in ([[1, 1]], [[0.5, 0.5]]):
            np.testing.assert_array_equal(volumes.convolve_slices(x, k, "x", dtype="int16"),
                                          np.clip(np.rint(volumes.convolve_slices(x, k, "x")), -32768, 32767))

    @pytest.mark.parametrize("bad", ["float16", "int32", "complex64"])
    def test_other_dtypes_are_refused(self, bad):
        with pytest.raises(UsageError, match=f"dtype '{bad}': expected None .*, float32 or float64 to compute in, or an integer dtype"):
            volumes.convolve_slices(np.zeros((2, 3, 3), np.uint8), [[1.0]], dtype=bad)

    def test_bad_axis(self):
        with pytest.raises(UsageError, match="expected z, y or x"):
            volumes.convolve_slices(np.zeros((2, 2, 2)), [[1.0]], "w")


class TestKernelsInMm:
    @pytest.mark.parametrize("mode", MODES)
    @pytest.mark.parametrize("sigma_mm, spacing", [(1.5, (1.0, 0.8, 0.8)), (2.0, (2.5, 0.7, 0.9)), (0.4, (5.0, 0.6, 0.6))])
    def test_gaussian_equals_scipy_gaussian_filter(self, mode, sigma_mm, spacing):
        x = RNG.standard_normal((12, 14, 13))
        sigma_vox = [sigma_mm / s for s in spacing]
        radius = [volumes.radius_for(s) for s in sigma_vox]
        expected = ndi.gaussian_filter(x, sigma=sigma_vox, radius=radius, mode=SCIPY_MODE[mode])
        got = volumes.correlate_separable(x, volumes.gaussian_mm(sigma_mm, spacing), pad_mode=mode)
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)
        got32 = volumes.correlate_separable(x.astype(np.float32), volumes.gaussian_mm(sigma_mm, spacing), pad_mode=mode)
        np.testing.assert_allclose(got32, expected, rtol=0, atol=1e-5)

    def test_radius_rule_matches_the_catalogue(self):
        for sigma in (0.5, 1.0, 1.5, 2.0, 2.7):
            kz, ky, kx = volumes.gaussian_mm(sigma, (1.0, 1.0, 1.0))
            catalogue = load_kernel(f"gaussian:{sigma}").array()
            assert len(ky) == catalogue.shape[0] == 2 * math.ceil(3 * sigma) + 1
            np.testing.assert_allclose(np.outer(ky, kx), catalogue, atol=1e-15)
        assert [len(k) for k in volumes.gaussian_mm(2.0, (1.0, 0.8, 0.8))] == [13, 17, 17]
        assert volumes.radius_for(0.3 / 0.1) == 9  # 8.999999999999998 -> 9, not 10

    def test_box_follows_fslmaths(self):
        kz, ky, kx = volumes.box_mm(5.0, (1.0, 0.8, 2.6))
        assert (len(kz), len(ky), len(kx)) == (5, 7, 1)  # centres within 2.5 mm: +-2, +-3, none
        for k in (kz, ky, kx):
            assert math.isclose(k.sum(), 1.0) and np.all(k == k[0])
        assert len(volumes.box_mm(5.0, (1.25, 1.25, 1.25))[0]) == 5

    def test_errors(self):
        with pytest.raises(InvalidKernel, match="positive"):
            volumes.gaussian_mm(0.0, (1, 1, 1))
        with pytest.raises(InvalidKernel, match="more than 1001"):
            volumes.gaussian_mm(200.0, (1, 0.5, 0.5))
        with pytest.raises(UsageError, match="spacing"):
            volumes.gaussian_mm(1.0, (1.0, 0.0, 1.0))
        with pytest.raises(InvalidKernel, match="positive"):
            volumes.box_mm(-1.0, (1, 1, 1))


class TestNamedKernels:
    def test_dense_is_the_outer_product_of_the_factors(self):
        sobel = volumes.kernel_3d("sobel_3d").array()
        assert sobel.shape == (3, 3, 3) and sobel.sum() == 0
        np.testing.assert_array_equal(sobel[1], 2 * load_kernel("sobel_v").array())
        assert volumes.kernel_3d("box_3d").sum == pytest.approx(1.0)
        np.testing.assert_allclose(volumes.kernel_3d("gaussian_3d").array() * 64, np.einsum("a,b,c->abc", *[[1, 2, 1]] * 3))
        assert volumes.kernel_3d("Sobel-3D-X") is volumes.kernel_3d("sobel_3d")
        assert volumes.kernel_3d("sobel_3d_z").factors[0] == (1.0, 0.0, -1.0)

    @pytest.mark.parametrize("name", ["box_3d", "gaussian_3d", "sobel_3d", "sobel_3d_y", "sobel_3d_z"])
    def test_separable_path_equals_dense(self, name):
        x = RNG.standard_normal((6, 7, 8))
        k = volumes.kernel_3d(name)
        np.testing.assert_allclose(
            volumes.correlate_separable(x, k.factors, pad_mode="reflect"), volumes.conv3d(x, k, pad_mode="reflect"), atol=1e-12
        )

    def test_sobel_sign(self):
        x = np.broadcast_to(-np.arange(6.0), (4, 5, 6)).copy()  # values fall from left to right
        assert np.all(volumes.conv3d(x, volumes.kernel_3d("sobel_3d"), padding="valid") > 0)

    def test_unknown_name(self):
        with pytest.raises(KernelNotFound, match="box_3d"):
            volumes.kernel_3d("laplace_3d")


class TestPool3d:
    @pytest.mark.parametrize("op", ["max", "min", "avg"])
    @pytest.mark.parametrize(
        "size, stride, padding, ceil_mode",
        [(2, None, 0, False), (3, 2, 1, False), (3, 2, 1, True), ((2, 3, 1), (1, 2, 1), (1, 1, 0), True), (5, 3, 2, True)],
    )
    def test_equals_naive(self, path, op, size, stride, padding, ceil_mode):
        x = RNG.standard_normal((7, 8, 9))
        f = volumes.triple(size, "size")
        s = f if stride is None else volumes.triple(stride, "stride")
        p = volumes.triple(padding, "padding", minimum=0)
        for include in (True, False):
            got = volumes.pool3d(x, size, stride=stride, op=op, padding=padding, ceil_mode=ceil_mode, count_include_pad=include)
            np.testing.assert_allclose(got, naive_pool3d(x, f, s, p, op, ceil_mode, include), atol=1e-12)

    def test_max_keeps_dtype_and_avg_is_float32(self):
        x = RNG.integers(-1000, 1000, (4, 4, 4)).astype(np.int16)
        assert volumes.pool3d(x, 2).dtype == np.int16
        assert volumes.pool3d(x, 2, op="avg").dtype == np.float32

    @pytest.mark.parametrize("size, stride, padding, ceil_mode", [(2, 2, 0, False), (3, 2, 1, True), (3, 1, 1, False), (2, 3, 1, True)])
    def test_equals_torch(self, path, size, stride, padding, ceil_mode):
        torch = pytest.importorskip("torch")
        x = RNG.standard_normal((9, 10, 11)).astype(np.float32)
        t = torch.from_numpy(x)[None, None]
        expected_max = torch.nn.functional.max_pool3d(t, size, stride, padding, ceil_mode=ceil_mode)[0, 0].numpy()
        np.testing.assert_array_equal(volumes.pool3d(x, size, stride=stride, op="max", padding=padding, ceil_mode=ceil_mode), expected_max)
        for include in (True, False):
            expected_avg = torch.nn.functional.avg_pool3d(t, size, stride, padding, ceil_mode=ceil_mode, count_include_pad=include)[0, 0].numpy()
            np.testing.assert_array_equal(volumes.pool3d(x, size, stride=stride, op="avg", padding=padding, ceil_mode=ceil_mode, count_include_pad=include), expected_avg)

    def test_errors(self):
        x = np.zeros((4, 4, 4))
        with pytest.raises(UsageError, match="at most 1"):
            volumes.pool3d(x, 2, padding=2)
        with pytest.raises(ShapeError, match="axis z"):
            volumes.pool3d(np.zeros((1, 4, 4)), 2)
        with pytest.raises(UsageError, match="invalid op"):
            volumes.pool3d(x, 2, op="median")
        with pytest.raises(UsageError, match=r"three integers \(z, y, x\)"):
            volumes.pool3d(x, (2, 2))


class TestEveryVolumePathAgrees:
    """The numpy and jitted volume paths, forced, on random volumes: equal (exactly for whole numbers)."""

    @settings(max_examples=25, deadline=None)
    @given(
        shape=st.tuples(st.integers(1, 7), st.integers(1, 7), st.integers(1, 7)),
        kshape=st.tuples(st.integers(1, 4), st.integers(1, 4), st.integers(1, 4)),
        mode=st.sampled_from(MODES),
        seed=st.integers(0, 2**32 - 1),
    )
    def test_conv3d_and_separable(self, shape, kshape, mode, seed):
        rng = np.random.default_rng(seed)
        x = rng.integers(-100, 100, shape).astype(np.int16)
        factors = [rng.integers(-3, 4, n) / 4 for n in kshape]
        dense = np.einsum("a,b,c->abc", *factors)
        results = {}
        for name in ("numpy", "jit"):
            forced = Paths(force=name)
            results[name] = (volumes.conv3d(x, dense, pad_mode=mode, pad_value=2, paths=forced),
                             volumes.correlate_separable(x, factors, pad_mode=mode, paths=forced))
        for a, b in zip(results["numpy"], results["jit"]):
            np.testing.assert_array_equal(a, b)  # whole numbers times quarters: exact on both paths

    @settings(max_examples=25, deadline=None)
    @given(
        shape=st.tuples(st.integers(2, 8), st.integers(2, 8), st.integers(2, 8)),
        size=st.integers(1, 3), stride=st.integers(1, 3), op=st.sampled_from(["max", "min", "avg"]),
        ceil_mode=st.booleans(), include=st.booleans(), seed=st.integers(0, 2**32 - 1),
    )
    def test_pool3d(self, shape, size, stride, op, ceil_mode, include, seed):
        x = np.random.default_rng(seed).integers(0, 256, shape).astype(np.uint8)
        size = min(size, *shape)
        kwargs = {"stride": stride, "op": op, "padding": size // 2, "ceil_mode": ceil_mode, "count_include_pad": include}
        got = {name: volumes.pool3d(x, size, **kwargs, paths=Paths(force=name)) for name in ("numpy", "jit")}
        assert got["numpy"].dtype == got["jit"].dtype
        np.testing.assert_allclose(got["numpy"], got["jit"], rtol=1e-6)
        if op != "avg":
            np.testing.assert_array_equal(got["numpy"], got["jit"])


@pytest.mark.parametrize("dtype", [np.int32, np.uint32, np.int64])
@pytest.mark.parametrize("path", ["numpy", "jit"])
def test_wide_integer_volumes_are_computed_in_float64(dtype, path):
    """An int32 volume was averaged and filtered in float32, which rounds its values past 2^24
    (16777217 came back 16777216) where the same array in 2-D is computed in float64."""
    x = np.array([[[16777217, 16777219], [5, 7]], [[2**30 + 1, 3], [9, 11]]], dtype=dtype)
    forced = Paths(force=path)
    averaged = volumes.pool3d(x, 1, op="avg", paths=forced)
    assert averaged.dtype == np.float64
    np.testing.assert_array_equal(averaged, x.astype(np.float64))
    one = np.zeros((3, 3, 3))
    one[1, 1, 1] = 1.0
    filtered = volumes.conv3d(x, one, paths=forced)
    assert filtered.dtype == np.float64
    np.testing.assert_array_equal(filtered, x.astype(np.float64))
    assert volumes.pool3d(x.astype(np.int16) if dtype != np.uint32 else x.astype(np.uint16), 1, op="avg").dtype == np.float32
