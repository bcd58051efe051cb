"""Volumes under the path policy: the CLI's cold policy reaches every volume call, with its memory rule.

A CLI volume call must write the bytes the API writes when called with the cold policy, in
a fresh process or after the jitted core is loaded (the batch byte-identity property): the
path is a pure function of the call and the policy.
"""

from __future__ import annotations

import numpy as np
import pytest

from kernelcli import kernel_build, volume_filters, volumes
from kernelcli._core import costs, numpy_impl, numpy_pool
from kernelcli._core.policy import COLD, WARM, Paths

from conftest import run_cli, run_in_process

RNG = np.random.default_rng(20261202)


class TestMemoryRule:
    def test_small_work_and_forced_paths_decide_first(self):
        assert costs.use_numpy_volume(COLD, 1000, 10**12, 0)
        assert costs.use_numpy_volume(Paths(force="numpy"), 10**9, 10**12, 0)
        assert not costs.use_numpy_volume(Paths(force="jit"), 10, 0, 0)

    def test_cold_takes_numpy_only_within_the_memory_allowance(self):
        work = 10**7  # numpy is cheaper than loading the jitted core
        extra = costs.VOLUME_NUMPY_EXTRA_BYTES
        assert costs.use_numpy_volume(COLD, work, 10**6 + extra, 10**6)
        assert not costs.use_numpy_volume(COLD, work, 10**6 + extra + 1, 10**6)
        assert not costs.use_numpy_volume(WARM, work, 10**6, 10**6)

    @pytest.mark.parametrize("allowance, numpy_taken", [(0, False), (2**40, True)])
    def test_each_volume_function_applies_the_rule(self, monkeypatch, allowance, numpy_taken):
        """With no allowance a cold call leaves the numpy path, whose copies outweigh the jitted path's."""
        taken = []
        for module, name in ((numpy_impl, "correlate_axis"), (numpy_impl, "correlate_nd"), (numpy_pool, "pool_nd")):
            real = getattr(module, name)
            monkeypatch.setattr(module, name, lambda *a, _real=real, _name=name, **k: taken.append(_name) or _real(*a, **k))
        monkeypatch.setattr(costs, "VOLUME_NUMPY_EXTRA_BYTES", allowance)
        cold = Paths(process="cold", small_work=0)
        x = RNG.integers(0, 100, (6, 7, 8)).astype(np.float32)
        calls = {
            "separable": lambda: volumes.correlate_separable(x, volumes.gaussian_vox(1.0), paths=cold),
            "dense": lambda: volumes.conv3d(x, np.ones((3, 3, 3)), paths=cold),
            "pool": lambda: volumes.pool3d(x, 2, op="avg", padding=1, paths=cold),
        }
        for name, call in calls.items():
            taken.clear()
            call()
            assert bool(taken) == numpy_taken, name


class TestEveryPathAgrees:
    @pytest.mark.parametrize("filt", ["gradient", "sobel", "log", "renormalised"])
    def test_filters_take_the_policy_and_agree_on_whole_numbers(self, filt):
        x = RNG.integers(-50, 50, (7, 9, 10)).astype(np.float64)
        spacing = (2.0, 1.0, 0.5)
        run = {
            "gradient": lambda p: volume_filters.gradient_magnitude(x, spacing, paths=p),
            "sobel": lambda p: volume_filters.sobel_magnitude(x, spacing, paths=p),
            "log": lambda p: volume_filters.laplacian_of_gaussian(x, 1.0, spacing, paths=p),
            "renormalised": lambda p: volume_filters.smooth_renormalised(x, kernel_build.box_vox(3), mask=x > 0, paths=p),
        }[filt]
        a, b = run(Paths(force="numpy")), run(Paths(force="jit"))
        if filt == "log":  # Gaussian weights: equal within rounding only
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
        else:
            np.testing.assert_array_equal(a, b)

    def test_the_choice_does_not_depend_on_history(self):
        """A cold call gives the same bytes before and after the jitted core ran (a batch equals separate calls)."""
        x = RNG.random((12, 40, 40)).astype(np.float32) * 1000
        before = volumes.pool3d(x, 2, op="avg", paths="cold")
        volumes.pool3d(x, 2, op="avg", paths=Paths(force="jit"))
        after = volumes.pool3d(x, 2, op="avg", paths="cold")
        assert before.tobytes() == after.tobytes()


@pytest.fixture
def float_volume(tmp_path):
    nib = pytest.importorskip("nibabel")
    # pooling work above the small-work rule: cold takes numpy, warm the jitted core
    data = (RNG.random((24, 128, 128)) * 1000).astype(np.float32)
    path = tmp_path / "ct.nii.gz"
    nib.save(nib.Nifti1Image(data.transpose(2, 1, 0), np.diag([0.8, 0.8, 2.0, 1.0])), str(path))
    return path


def _stored(path):
    import nibabel as nib

    img = nib.load(str(path))
    return np.asanyarray(img.dataobj)


class TestCliPassesTheColdPolicy:
    def test_pool_equals_the_api_with_the_cold_policy(self, tmp_path, float_volume, monkeypatch):
        from kernelcli.medical import VolumeOptions, pool_volume_file

        done = run_cli("pool", str(float_volume), "--size", "2", "--op", "avg", "--out", str(tmp_path / "cli.nii.gz"))
        assert done.returncode == 0, done.stderr
        volumes.pool3d(np.zeros((4, 4, 4), np.float32), 2, op="avg", paths=Paths(force="jit"))  # the jitted core is loaded
        pool_volume_file(float_volume, 2, op="avg", out=tmp_path / "cold.nii.gz", options=VolumeOptions(paths="cold"))
        pool_volume_file(float_volume, 2, op="avg", out=tmp_path / "warm.nii.gz", options=VolumeOptions(paths="warm"))
        cli, cold, warm = (_stored(tmp_path / f"{n}.nii.gz") for n in ("cli", "cold", "warm"))
        # every path sums an average in PyTorch's order: the policy cannot change its bytes
        assert cli.dtype == cold.dtype and cli.tobytes() == cold.tobytes() == warm.tobytes()
        # ...so the policy the command passes is seen where it is passed
        seen = []
        pool3d = volumes.pool3d
        monkeypatch.setattr(volumes, "pool3d", lambda *a, **kw: seen.append(kw.get("paths")) or pool3d(*a, **kw))
        done = run_in_process("pool", str(float_volume), "--size", "2", "--op", "avg", "--out", str(tmp_path / "in.nii.gz"))
        assert done.returncode == 0 and seen and all(p.process == "cold" for p in seen), (done.stderr, seen)

    def test_the_policy_shows_where_the_paths_round_differently(self, tmp_path, float_volume):
        """gaussian_5x5 (an inexact float kernel) rounds differently on numpy (cold) and the jitted core
        (warm): the command's bytes are the cold ones, so the test can fail."""
        from kernelcli.medical import VolumeOptions, convolve_volume_file

        done = run_cli("convolve", str(float_volume), "--kernel", "gaussian_5x5", "--out", str(tmp_path / "cli.nii.gz"))
        assert done.returncode == 0, done.stderr
        volumes.pool3d(np.zeros((4, 4, 4), np.float32), 2, op="avg", paths=Paths(force="jit"))  # the jitted core is loaded
        for policy_ in ("cold", "warm"):
            convolve_volume_file(float_volume, "gaussian_5x5", VolumeOptions(paths=policy_), out=tmp_path / f"{policy_}.nii.gz")
        cli, cold, warm = (_stored(tmp_path / f"{n}.nii.gz") for n in ("cli", "cold", "warm"))
        assert cli.tobytes() == cold.tobytes() != warm.tobytes()

    @pytest.mark.parametrize("kernel", ["gaussian:1vox", "gaussian_5x5", "box_3d"])
    def test_convolve_equals_the_api_with_the_cold_policy(self, tmp_path, float_volume, kernel):
        from kernelcli.medical import VolumeOptions, convolve_volume_file

        done = run_cli("convolve", str(float_volume), "--kernel", kernel, "--out", str(tmp_path / "cli.nii.gz"))
        assert done.returncode == 0, done.stderr
        convolve_volume_file(float_volume, kernel, VolumeOptions(paths="cold"), out=tmp_path / "cold.nii.gz")
        cli, cold = _stored(tmp_path / "cli.nii.gz"), _stored(tmp_path / "cold.nii.gz")
        assert cli.dtype == cold.dtype and cli.tobytes() == cold.tobytes()


@pytest.mark.parametrize("policy_", ["cold", "warm"])
def test_tiles_take_the_path_of_the_whole_volume(policy_):
    """Tiled (dask) volumes pin the path the whole volume takes under the caller's policy: the same bytes."""
    da = pytest.importorskip("dask.array")
    from kernelcli.tiled import arrays

    x = (RNG.random((48, 96, 96)) * 1000).astype(np.float32)  # above the small-work rule; the tiles below it
    whole = volumes.pool3d(x, 2, op="avg", paths=policy_)
    tiled = arrays.pool3d(da.from_array(x, chunks=(8, 16, 16)), 2, op="avg", paths=policy_).compute(scheduler="synchronous")
    assert whole.tobytes() == tiled.tobytes()
    k = RNG.random((3, 3, 3))
    whole = volumes.conv3d(x, k, pad_mode="reflect", paths=policy_)
    tiled = arrays.conv3d(da.from_array(x, chunks=(8, 16, 16)), k, pad_mode="reflect", paths=policy_).compute(scheduler="synchronous")
    np.testing.assert_array_equal(whole, tiled)


def _scipy_same(x, k, mode, cval=0.0):
    """scipy.ndimage.correlate with kernelcli's "same" centre ((f-1)//2, the extra tap after)."""
    from naive import SCIPY_MODE

    ndi = pytest.importorskip("scipy.ndimage")
    origin = [(n - 1) // 2 - n // 2 for n in np.shape(k)]
    return ndi.correlate(np.asarray(x, np.float64), np.asarray(k, np.float64), mode=SCIPY_MODE[mode], cval=cval, origin=origin)


FORCES = ("numpy", "jit", "dense", "separable", "fft")


class TestOneDispatcher:
    """2-D and 3-D take their first choice from one front (_core.dispatch) and every path is forceable."""

    @pytest.mark.parametrize("mode", ["constant", "replicate", "reflect", "symmetric", "circular"])
    @pytest.mark.parametrize("force", FORCES)
    def test_each_forced_path_matches_scipy_in_2d_and_3d(self, mode, force):
        from kernelcli import api

        rng = np.random.default_rng(hash((mode, force)) % 2**32)
        paths = Paths(force=force)
        for shape, kshape in (((9, 11, 10), (3, 4, 5)), ((23, 19), (5, 4))):
            x = rng.standard_normal(shape)
            rank1 = np.einsum("a,b,c->abc", *(rng.standard_normal(n) for n in kshape)) if len(kshape) == 3 else np.outer(
                rng.standard_normal(kshape[0]), rng.standard_normal(kshape[1]))
            for k in (rank1, rng.standard_normal(kshape)):
                got = volumes.conv3d(x, k, pad_mode=mode, paths=paths) if x.ndim == 3 else api.conv2d(x, k, pad_mode=mode, paths=paths)
                np.testing.assert_allclose(got, _scipy_same(x, k, mode), rtol=1e-9, atol=1e-9)

    def test_forced_3d_paths_really_run(self, monkeypatch):
        from kernelcli._core import conv3d, dispatch

        ran = []
        for module, name in ((conv3d, "correlate_axis"), (conv3d, "correlate3d"), (dispatch, "_fft3d"), (numpy_impl, "correlate_nd")):
            real = getattr(module, name)
            monkeypatch.setattr(module, name, lambda *a, _r=real, _n=name, **kw: ran.append(_n) or _r(*a, **kw))
        x = RNG.random((6, 7, 8))
        expected = {"numpy": "correlate_nd", "dense": "correlate3d", "separable": "correlate_axis", "fft": "_fft3d"}
        for force, name in expected.items():
            ran.clear()
            volumes.conv3d(x, np.ones((3, 3, 3)), pad_mode="reflect", paths=Paths(force=force))
            assert ran and ran[0] == name, (force, ran)

    def test_automatic_choice_is_the_2d_rule(self):
        from kernelcli._core import dispatch

        f32 = np.dtype("float32")
        assert dispatch.jit_path(np.ones((3, 3, 3)), 1, 1, f32, None) == "separable"  # 27 taps, rank 1
        assert dispatch.jit_path(RNG.random((2, 2, 2)), 1, 1, f32, None) == "dense"
        assert dispatch.jit_path(RNG.random((7, 7, 7)), 1, 1, f32, None) == "dense"  # 343 taps: the 3-D dense loop is faster
        assert dispatch.jit_path(RNG.random((11, 11, 11)), 1, 1, f32, None) == "fft"  # 1331 taps, not rank 1
        assert dispatch.jit_path(RNG.random((11, 11, 11)), 1, 1, f32, None, fft_ok=False) == "dense"
        assert dispatch.jit_path(np.ones((5, 5)), 1, 1, f32, None) == costs.choose_path(np.ones((5, 5)), (1, 1), (1, 1), f32)

    @pytest.mark.parametrize("mode", ["constant", "replicate", "circular"])
    def test_every_3d_path_is_exact_on_whole_numbers(self, mode):
        """uint8 data and a binomial kernel over 64 (whole numbers times a power of two): the same bytes on every path."""
        x = RNG.integers(0, 256, (10, 12, 11)).astype(np.uint8)
        b = np.array([1.0, 2.0, 1.0])
        k = np.einsum("a,b,c->abc", b, b, np.array([1.0, 4, 6, 4, 1])) / 256
        results = {force: volumes.conv3d(x, k, pad_mode=mode, paths=Paths(force=force)) for force in FORCES}
        for force, got in results.items():
            assert got.tobytes() == results["dense"].tobytes(), force
        np.testing.assert_array_equal(results["dense"], _scipy_same(x, k, mode).astype(np.float32))

    def test_separable_3d_takes_any_padding_and_a_constant_fill(self):
        x = RNG.random((6, 7, 8))
        k = np.ones((3, 3, 3))
        got = volumes.conv3d(x, k, padding="valid", pad_mode="reflect", paths=Paths(force="separable"))
        np.testing.assert_allclose(got, _scipy_same(x, k, "reflect")[1:-1, 1:-1, 1:-1], rtol=1e-12)
        got = volumes.conv3d(x, k, pad_mode="constant", pad_value=2.0, paths=Paths(force="separable"))
        np.testing.assert_allclose(got, _scipy_same(x, k, "constant", 2.0), rtol=1e-12)


@pytest.mark.parametrize("mode", ["constant", "replicate", "reflect", "circular"])
def test_tiles_of_a_rank1_kernel_take_the_separable_path_too(mode):
    """A rank-1 3-D kernel runs separable on the whole volume and on every tile: the same bytes."""
    da = pytest.importorskip("dask.array")
    from kernelcli.tiled import arrays

    x = (RNG.random((40, 96, 96)) * 1000).astype(np.float32)  # above the small-work rule: the jitted core
    k = np.einsum("a,b,c->abc", *(RNG.random(n) for n in (3, 5, 4)))
    whole = volumes.conv3d(x, k, pad_mode=mode)
    assert volumes.conv3d_jit_path(None, x.shape, k, (1, 1, 2, 2, 1, 2), whole.shape, np.float32) == "separable"
    np.testing.assert_array_equal(whole, volumes.conv3d(x, k, pad_mode=mode, paths=Paths(force="separable")))
    assert whole.tobytes() != volumes.conv3d(x, k, pad_mode=mode, paths=Paths(force="dense")).tobytes()  # paths round apart
    tiled = arrays.conv3d(da.from_array(x, chunks=(16, 40, 40)), k, pad_mode=mode).compute(scheduler="synchronous")
    assert whole.tobytes() == tiled.tobytes()


def test_a_dask_volume_given_to_the_api_keeps_its_policy():
    """volumes.pool3d/conv3d hand a dask volume to the tiled path with the caller's policy."""
    da = pytest.importorskip("dask.array")
    x = (RNG.random((48, 96, 96)) * 1000).astype(np.float32)  # above the small-work rule: cold numpy, warm jitted
    for policy_ in ("cold", "warm"):
        lazy = volumes.pool3d(da.from_array(x, chunks=(16, 32, 32)), 2, op="avg", paths=policy_)
        assert lazy.compute(scheduler="synchronous").tobytes() == volumes.pool3d(x, 2, op="avg", paths=policy_).tobytes(), policy_
