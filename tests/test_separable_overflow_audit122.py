"""correlate_separable overflows on the way no more than conv3d does (audit 122 #1; README, Python API).

A finite float32 volume of 1e38 under sobel_3d's factors ([1,2,1] x [1,2,1] x [1,0,-1]) gave NaN on every path
(the z and y passes grew it past float32's range, then inf - inf), and a 1-D Laplacian over 3e38 gave -inf,
where conv3d with the same taps gives the exact 0; on the command line ``convolve big.nii.gz -k sobel_3d`` was
refused "the result overflows float32" (exit 2) while ``-k sobel3.npy`` (the same 27 taps) wrote 0 everywhere.
"""

from __future__ import annotations

import numpy as np
import pytest

from kernelcli import conv3d
from kernelcli._core.policy import Paths
from kernelcli.volumes import correlate_separable

SOBEL = ([1, 2, 1], [1, 2, 1], [1, 0, -1])
PATHS = [None, "cold", Paths(force="numpy"), Paths(force="jit")]
MODES = ["constant", "replicate", "reflect", "symmetric", "circular"]


def _product(factors):
    ks = [np.ones(1) if f is None else np.asarray(f, np.float64) for f in factors]
    return np.einsum("a,b,c->abc", *ks)


def _near_the_limit(seed=0, shape=(5, 6, 7)):
    """Whole multiples of 2**122 (about 5e36) up to 16 times that: every product and sum is exact in float32
    until it leaves the range, so every path and the float64 reference agree to the bit."""
    r = np.random.default_rng(seed)
    return (r.integers(-16, 17, shape) * 2.0**122).astype(np.float32)


@pytest.mark.parametrize("paths", PATHS, ids=str)
def test_sobel_3d_over_1e38_is_conv3d_s_zero(paths):
    v = np.full((5, 6, 7), 1e38, np.float32)
    got = correlate_separable(v, SOBEL, pad_mode="replicate", paths=paths)
    want = conv3d(v, _product(SOBEL), pad_mode="replicate", paths=paths)
    assert got.dtype == np.float32 and got.tobytes() == want.tobytes() and not got.any()


@pytest.mark.parametrize("paths", PATHS, ids=str)
def test_a_laplacian_over_3e38_is_zero(paths):
    w = np.full((5, 6, 7), 3e38, np.float32)
    got = correlate_separable(w, (None, None, [1, -2, 1]), pad_mode="replicate", paths=paths)
    assert np.array_equal(got, np.zeros_like(w))


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("paths", PATHS, ids=str)
@pytest.mark.parametrize("factors", [SOBEL, ([1, -2, 1], [2, 4, 2], [-1, 0, 1]), (None, [1, 2, 1], [1, -2, 1]),
                                     ([3, -1], [1, 1, 1, 1], [1, -4, 6, -4, 1])])
def test_near_the_float32_limit_equals_conv3d_and_float64(mode, paths, factors):
    v = _near_the_limit()
    got = correlate_separable(v, factors, pad_mode=mode, paths=paths)
    dense = conv3d(v, _product(factors), pad_mode=mode, paths=paths)
    with np.errstate(over="ignore"):
        wide = correlate_separable(v.astype(np.float64), factors, pad_mode=mode, paths=paths).astype(np.float32)
    assert not np.isnan(got).any()
    assert got.tobytes() == dense.tobytes() == wide.tobytes()


@pytest.mark.parametrize("paths", PATHS, ids=str)
@pytest.mark.parametrize("factors", [SOBEL, ([1, -2, 1], [2, 4, 2], [-1, 0, 1]), ([3, -1], [1, 1, 1, 1], [1, -4, 6, -4, 1])])
def test_a_constant_fill_pads_the_volume_as_conv3d_does(paths, factors):
    """Audit 121 #4: with a non-zero fill the passes padded their partial results, so a kernel not summing to 1 per
    axis gave another answer than conv3d's dense padding (a corner 111 against 231); the volume is padded first now,
    near the float32 limit too."""
    v = _near_the_limit(1)
    got = correlate_separable(v, factors, pad_mode="constant", pad_value=2.0**122, paths=paths)
    dense = conv3d(v, _product(factors), pad_mode="constant", pad_value=2.0**122, paths=paths)
    with np.errstate(over="ignore"):
        wide = correlate_separable(v.astype(np.float64), factors, pad_mode="constant", pad_value=2.0**122,
                                   paths=paths).astype(np.float32)
    assert got.tobytes() == dense.tobytes() == wide.tobytes()


@pytest.mark.parametrize("paths", PATHS, ids=str)
def test_a_constant_fill_on_small_integers_is_conv3d_exactly(paths):
    v = np.arange(4 * 5 * 6, dtype=np.uint8).reshape(4, 5, 6)
    factors = ([1, 2], [1, 0, -1], [1, 1, 1])
    got = correlate_separable(v, factors, pad_mode="constant", pad_value=10, paths=paths)
    want = conv3d(v, _product(factors), pad_mode="constant", pad_value=10, paths=paths)
    assert got.dtype == want.dtype and got.tobytes() == want.tobytes()
    inplace = v.astype(np.float32)
    assert correlate_separable(inplace, factors, pad_mode="constant", pad_value=10, out=inplace, paths=paths) is inplace
    assert inplace.tobytes() == want.tobytes()


@pytest.mark.parametrize("paths", PATHS, ids=str)
def test_in_place_keeps_what_it_needs_to_sum_again(paths):
    v = np.full((5, 6, 7), 1e38, np.float32)
    assert correlate_separable(v, SOBEL, pad_mode="replicate", out=v, paths=paths) is v
    assert not v.any()


def test_tile_by_tile_equals_in_memory():
    da = pytest.importorskip("dask.array")
    from kernelcli.tiled import arrays

    v = _near_the_limit(2, (9, 10, 11))
    v[2:6, 3:8, 4:9] = 1e38
    for paths in (Paths(force="numpy"), Paths(force="jit")):
        whole = correlate_separable(v, SOBEL, pad_mode="reflect", paths=paths)
        tiled = arrays.correlate_separable(da.from_array(v, chunks=4), SOBEL, pad_mode="reflect", chunks=4, paths=paths).compute()
        assert not np.isnan(whole).any() and tiled.tobytes() == whole.tobytes()


def test_the_cli_s_sobel_3d_is_the_same_taps_from_a_file(tmp_path):
    nib = pytest.importorskip("nibabel")
    from conftest import run_in_process

    nib.save(nib.Nifti1Image(np.full((8, 9, 10), 1e38, np.float32), np.eye(4)), str(tmp_path / "big.nii.gz"))
    np.save(tmp_path / "sobel3.npy", _product(SOBEL))
    named = run_in_process("convolve", "big.nii.gz", "-k", "sobel_3d", "-o", "s1.nii.gz", "-q", cwd=tmp_path)
    dense = run_in_process("convolve", "big.nii.gz", "-k", "sobel3.npy", "-o", "s2.nii.gz", "-q", cwd=tmp_path)
    assert named.returncode == 0 == dense.returncode, named.stderr + dense.stderr
    a = np.asarray(nib.load(str(tmp_path / "s1.nii.gz")).dataobj)
    b = np.asarray(nib.load(str(tmp_path / "s2.nii.gz")).dataobj)
    assert a.dtype == b.dtype and np.array_equal(a, b) and not a.any()


def test_the_cli_s_sobel_3d_in_a_fill_is_the_same_taps_from_a_file(tmp_path):
    """Audit 121 #4 on the command line: -k sobel_3d (separable passes) and its 27 taps from a file (dense) with
    --pad-value 5 give one volume.  The command line sent such a fill to the dense loop; this guards the removal of
    that special case now that the passes pad the volume themselves (it passes on the code before too)."""
    nib = pytest.importorskip("nibabel")
    from conftest import run_in_process

    v = np.random.default_rng(3).integers(0, 100, (8, 9, 10)).astype(np.int16)
    nib.save(nib.Nifti1Image(v, np.eye(4)), str(tmp_path / "v.nii.gz"))
    np.save(tmp_path / "sobel3.npy", _product(SOBEL))
    common = ["--pad-mode", "constant", "--pad-value", "5", "-q"]
    named = run_in_process("convolve", "v.nii.gz", "-k", "sobel_3d", "-o", "s1.nii.gz", *common, cwd=tmp_path)
    dense = run_in_process("convolve", "v.nii.gz", "-k", "sobel3.npy", "-o", "s2.nii.gz", *common, cwd=tmp_path)
    assert named.returncode == 0 == dense.returncode, named.stderr + dense.stderr
    a = np.asarray(nib.load(str(tmp_path / "s1.nii.gz")).dataobj)
    b = np.asarray(nib.load(str(tmp_path / "s2.nii.gz")).dataobj)
    assert a.dtype == b.dtype and np.array_equal(a, b) and a[0].any()


@pytest.mark.parametrize("paths", PATHS, ids=str)
def test_a_fill_float32_rounds_is_the_same_fill_when_summed_again(paths):
    """Review 49 (outside its change): conv3d redid an overflowed window in float64 with the fill as given (1e38), where
    its padded copy held float32's 9.99999968e37: +-5.1e31 where the passes gave 0."""
    v = np.full((5, 6, 7), 1e38, np.float32)
    got = conv3d(v, _product(SOBEL), pad_mode="constant", pad_value=1e38, paths=paths)
    assert not got.any(), np.abs(got).max()
    assert got.tobytes() == correlate_separable(v, SOBEL, pad_mode="constant", pad_value=1e38, paths=paths).tobytes()
