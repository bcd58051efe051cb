"""Chains (issue 12): ``--kernel K --then A --then B`` equals the separate calls through float ``.npy`` files."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import ndimage

from conftest import SAMPLES, pixels, run_in_process
from kernelcli.chain import parse_chain, parse_step, run_chain
from kernelcli.errors import InvalidKernel

PHANTOM = str(SAMPLES / "phantom.png")


def test_blur_sobel_maxpool_equals_three_calls_through_npy(invoke, tmp_path):
    def ok(*args):
        result = invoke(*args)
        assert result.exit_code == 0, result.stderr
        return result

    chain = ok("convolve", PHANTOM, "-k", "gaussian:2", "--then", "sobel_v", "--then", "maxpool:2", "-o", "chain.npy")
    assert "convolve gaussian:2 | sobel_v | maxpool2 -> chain.npy 128x128" in chain.stderr
    ok("convolve", PHANTOM, "-k", "gaussian:2", "-o", "a.npy")
    ok("convolve", "a.npy", "-k", "sobel_v", "-o", "b.npy")
    ok("pool", "b.npy", "--op", "max", "--size", "2", "-o", "c.npy")
    got, want = np.load(tmp_path / "chain.npy"), np.load(tmp_path / "c.npy")
    assert got.dtype == want.dtype == np.float32 and got.shape == (128, 128)
    np.testing.assert_array_equal(got, want)
    assert (got < 0).any()  # the intermediate kept its negative edges: nothing was clipped on the way
    # an 8-bit output is the final float result rounded and clipped, once
    ok("convolve", PHANTOM, "-k", "gaussian:2", "--then", "sobel_v", "--then", "maxpool:2", "-o", "chain.png")
    np.testing.assert_array_equal(pixels(tmp_path / "chain.png"), np.clip(np.rint(want), 0, 255).astype(np.uint8))


def test_repeated_kernel_is_still_a_filter_bank(invoke):
    bank = invoke("convolve", str(SAMPLES / "example1.csv"), "-k", "prewitt_v", "-k", "prewitt_h", "--padding", "valid", "-q")
    assert bank.exit_code == 0 and bank.stdout.count("# prewitt") == 2
    refused = invoke("convolve", str(SAMPLES / "example1.csv"), "-k", "prewitt_v", "-k", "prewitt_h", "--then", "maxpool:2")
    assert refused.exit_code == 2 and "filter bank" in refused.stderr


def _reference(x, kernels_and_pools, padding):
    """Naive reference: scipy.ndimage.correlate with zero padding (odd kernels), max pooling by reshaping."""
    for item in kernels_and_pools:
        if isinstance(item, int):
            h, w = x.shape[0] // item * item, x.shape[1] // item * item
            x = x[:h, :w].reshape(h // item, item, w // item, item).max(axis=(1, 3))
        else:
            k = np.asarray(item, dtype=np.float64)
            y = ndimage.correlate(x, k, mode="constant")  # odd kernels: centred as kernelcli centres them
            if padding == "valid":
                r0, c0 = k.shape[0] // 2, k.shape[1] // 2
                y = y[r0:x.shape[0] - (k.shape[0] - 1 - r0), c0:x.shape[1] - (k.shape[1] - 1 - c0)]
            x = y
    return x


@settings(max_examples=25, deadline=None)
@given(
    arrays(np.float64, st.tuples(st.integers(8, 14), st.integers(8, 14)), elements=st.floats(-50, 50, width=32)),
    st.sampled_from(["same", "valid"]),
)
def test_run_chain_equals_a_naive_reference(x, padding):
    steps = parse_chain("3x3: 1,2,1 0,0,0 -1,-2,-1", ["laplacian_4", "maxpool:2"])
    got = run_chain(x, steps, {"padding": padding})
    want = _reference(x, [[[1, 2, 1], [0, 0, 0], [-1, -2, -1]], [[0, 1, 0], [1, -4, 1], [0, 1, 0]], 2], padding)
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9)


def test_pool_steps_and_options():
    x = np.arange(36.0).reshape(6, 6)
    assert run_chain(x, [parse_step("avgpool:2")], {}).tolist() == [[3.5, 5.5, 7.5], [15.5, 17.5, 19.5], [27.5, 29.5, 31.5]]
    assert run_chain(x, [parse_step("minpool:3:3")], {}).tolist() == [[0.0, 3.0], [18.0, 21.0]]
    assert parse_step("MaxPool:3:2").label == "maxpool3s2"
    # --flip and the stride apply to every convolution step
    k = np.array([[0.0, 0, 0], [0, 0, 1], [0, 0, 0]])
    flipped = run_chain(x, parse_chain("3x3: 0,0,0 0,0,1 0,0,0", ["3x3: 0,0,0 0,0,1 0,0,0"]), {"flip": True, "padding": "valid"})
    np.testing.assert_array_equal(flipped, ndimage.convolve(ndimage.convolve(x, k), k)[2:-2, 2:-2])


@pytest.mark.parametrize(("text", "error"), [("maxpool:0", InvalidKernel), ("maxpool:x", InvalidKernel), ("no_such_kernel", InvalidKernel)])
def test_bad_steps(text, error):
    with pytest.raises(error):
        parse_step(text)


@pytest.mark.parametrize("text", ["maxpool:0", "maxpool:2:0", "avgpool:-1", "maxpool:x"])
def test_an_unusable_pooling_step_is_an_invalid_kernel_as_kernel_and_as_then(invoke, text):
    # the README audit (87): -k maxpool:0 and maxpool:2:0 were exit 2 where maxpool:-1, maxpool:x and box:0 are 3;
    # --then's were exit 2 until audit 204 #3
    kernel = invoke("convolve", str(SAMPLES / "example1.csv"), "-k", text, "-q")
    then = invoke("convolve", str(SAMPLES / "example1.csv"), "-k", "box:3", "--then", text, "-q")
    assert (kernel.exit_code, then.exit_code) == (3, 3), (kernel.stderr, then.stderr)
    assert f"invalid --kernel {text!r}" in kernel.stderr and f"invalid --then {text!r}" in then.stderr


@pytest.mark.parametrize("text, example", [("maxpool", "maxpool:2"), ("AvgPool", "avgpool:2"), ("minpool3", "minpool:2"), ("pool", "maxpool:2")])
def test_a_pooling_step_without_its_size_is_told_the_form(text, example):
    # "--then maxpool" was "unknown kernel 'maxpool'" (exit 3): it is a pooling step missing ":F"
    with pytest.raises(InvalidKernel, match=rf"invalid --then '{text}': a pooling step is maxpool:F.*e\.g\. {example}"):
        parse_step(text)


def test_a_bare_pooling_step_is_refused_naming_its_option(invoke):
    then = invoke("convolve", str(SAMPLES / "example1.csv"), "-k", "sobel_v", "--then", "maxpool", "-q")
    assert then.exit_code == 3 and "invalid --then 'maxpool'" in then.stderr and "unknown kernel" not in then.stderr
    first = invoke("convolve", str(SAMPLES / "example1.csv"), "-k", "maxpool", "--then", "sobel_v", "-q")
    # a --kernel that is no kernel is an invalid kernel (exit 3), with --then's hint (the vocabulary audit, 83)
    assert first.exit_code == 3 and "invalid --kernel 'maxpool': a pooling step is" in first.stderr


def test_bad_step_exits_before_reading_the_input(tmp_path):
    assert run_in_process("convolve", "missing.png", "-k", "sobel_v", "--then", "no_such_kernel", cwd=tmp_path).returncode == 3
    result = run_in_process("convolve", PHANTOM, "-k", "sobel_v", "--then", "maxpool:2", "--activation", "relu", "-o", "x.png", cwd=tmp_path)
    assert result.returncode == 2 and "--activation" in result.stderr and not (tmp_path / "x.png").exists()


def test_a_batch_equals_single_runs_and_names_the_chain(invoke, tmp_path):
    args = ["-k", "box:3", "--then", "sobel_h", "--then", "avgpool:2", "--rescale", "abs"]
    result = invoke("convolve", PHANTOM, str(SAMPLES / "rgb.png"), *args, "--out-dir", "out", "--workers", "1")
    assert result.exit_code == 0, result.stderr
    for name in ("phantom", "rgb"):
        batch_out = tmp_path / "out" / f"{name}_box_3_sobel_h_avgpool2.png"
        single = invoke("convolve", str(SAMPLES / f"{name}.png"), *args, "-o", f"{name}.png")
        assert single.exit_code == 0, single.stderr
        assert batch_out.read_bytes() == (tmp_path / f"{name}.png").read_bytes()


def test_chain_with_a_layout(invoke, tmp_path):
    x = np.random.default_rng(9).random((2, 10, 12))
    np.save(tmp_path / "x.npy", x)
    result = invoke("convolve", "x.npy", "-k", "box:3", "--then", "maxpool:2", "--layout", "chw", "-o", "y.npy")
    assert result.exit_code == 0, result.stderr
    y = np.load(tmp_path / "y.npy")
    want = np.stack([ndimage.correlate(p, np.full((3, 3), 1 / 9), mode="constant").reshape(5, 2, 6, 2).max(axis=(1, 3)) for p in x])
    np.testing.assert_allclose(y, want, rtol=1e-12)


class TestChainsAudit:
    """The chains/pipes audit's F1-F5, each as its user met it."""

    @pytest.fixture
    def vol(self, tmp_path):
        np.save(tmp_path / "vol.npy", np.random.default_rng(5).standard_normal((6, 12, 14)).astype(np.float32))
        return tmp_path

    def test_a_zyx_chain_pools_in_3d_as_pool_does(self, invoke, vol):
        # F1: the chain pooled each slice in 2-D, (6, 6, 7), where the separate calls pool in 3-D, (3, 6, 7)
        for args in (["convolve", "vol.npy", "--layout", "zyx", "-k", "box:3", "--then", "maxpool:2", "--then", "sobel_v", "-o", "chain.npy"],
                     ["convolve", "vol.npy", "--layout", "zyx", "-k", "box:3", "-o", "a.npy"],
                     ["pool", "a.npy", "--layout", "zyx", "--op", "max", "--size", "2", "-o", "b.npy"],
                     ["convolve", "b.npy", "--layout", "zyx", "-k", "sobel_v", "-o", "c.npy"]):
            assert invoke(*args).exit_code == 0
        got, want = np.load(vol / "chain.npy"), np.load(vol / "c.npy")
        assert got.shape == (3, 6, 7) and got.tobytes() == want.tobytes()

    def test_a_zyx_chain_of_kernels_writes_what_convolve_writes(self, invoke, tmp_path):
        # a first version of F1 ran every zyx chain as a volume: its (Z, Y, X) result went to an image unturned; a
        # zyx result is never a picture now (its slices were its colours): the chain refuses it as convolve does
        np.save(tmp_path / "v3.npy", np.random.default_rng(0).random((3, 8, 10)).astype(np.float32) * 200)
        clip = ["--rescale", "clip"]
        chained = invoke("convolve", "v3.npy", "--layout", "zyx", "-k", "box:3", "--then", "box:1", "-o", "c.tif", *clip)
        single = invoke("convolve", "v3.npy", "--layout", "zyx", "-k", "box:3", "-o", "c.tif", *clip)
        assert chained.exit_code == single.exit_code == 2 and chained.stderr == single.stderr, chained.stderr
        assert "a volume of 3 slices" in chained.stderr and not (tmp_path / "c.tif").exists()
        assert invoke("convolve", "v3.npy", "--layout", "zyx", "-k", "box:3", "--then", "box:1", "-o", "c.npy").exit_code == 0
        assert invoke("convolve", "v3.npy", "--layout", "zyx", "-k", "box:3", "-o", "s.npy").exit_code == 0
        assert np.load(tmp_path / "c.npy").tobytes() == np.load(tmp_path / "s.npy").tobytes()

    def test_a_zyx_chain_that_pools_is_refused_tile_by_tile(self, invoke, vol):
        pytest.importorskip("dask.array")
        r = invoke("convolve", "vol.npy", "--layout", "zyx", "-k", "box:3", "--then", "maxpool:2", "--tiled", "-o", "t.npy")
        assert r.exit_code == 2 and "pools in 3-D" in r.stderr and not (vol / "t.npy").exists()

    def test_a_tiled_chain_says_and_takes_what_the_in_memory_one_does(self, invoke, tmp_path):
        # the review: tiled chains named no failing step, refused --activation none, gave no note for unused
        # options, and could not start with a pooling step ('avgpool:2' is not a kernel name)
        pytest.importorskip("dask.array")
        np.save(tmp_path / "img.npy", np.random.default_rng(2).random((8, 10)).astype(np.float32))
        for extra in ([], ["--tiled"]):
            r = invoke("convolve", "img.npy", "-k", "box:3", "--then", "maxpool:20", "-o", "f.npy", *extra)
            assert r.exit_code == 2 and "img.npy: step 2 of 2 (--then maxpool:20, on the 8x10 result of step 1)" in r.stderr, extra
            r = invoke("convolve", "img.npy", "-k", "avgpool:2", "--then", "maxpool:2", "--flip", "--activation", "none",
                       "-o", f"p{len(extra)}.npy", *extra)
            assert r.exit_code == 0 and "--flip: for a chain's kernels" in r.stderr, (extra, r.stderr)
        assert np.load(tmp_path / "p0.npy").tobytes() == np.load(tmp_path / "p1.npy").tobytes()

    def test_a_tiled_record_names_the_kernel(self, invoke, vol):
        # F2: tiled records had no 'kernel' field, the in-memory ones did
        pytest.importorskip("dask.array")
        np.save(vol / "u.npy", np.random.default_rng(1).random((20, 22)).astype(np.float32))
        for extra in ([], ["--tiled"]):
            r = invoke("convolve", "u.npy", "-k", "sobel_v", "--then", "maxpool:2", "-o", "o.npy", "--json", "--force", *extra)
            assert r.exit_code == 0 and __import__("json").loads(r.stdout)["kernel"] == "sobel_v | maxpool2", extra

    def test_a_failing_step_is_named(self, invoke, tmp_path):
        # F3: 'g.png: input 3x4 and kernel 5x5' named the input with the intermediate's size, and no step
        np.save(tmp_path / "g.npy", np.zeros((30, 34), np.float32))
        r = invoke("convolve", "g.npy", "-k", "box:3", "--then", "maxpool:8", "--then", "box:5", "--padding", "valid", "-o", "o.npy")
        assert r.exit_code == 2 and "g.npy: step 3 of 3 (--then box:5, on the 3x4 result of step 2): input 3x4" in r.stderr

    def test_a_3d_kernel_is_refused_saying_what_a_chain_takes(self, invoke, tmp_path):
        # F4: the file works as --kernel alone and was called malformed ('is 3-D ..., expected 2-D') in a chain
        np.save(tmp_path / "k.npy", np.ones((3, 3, 3)))
        for args in (["-k", "k.npy", "--then", "maxpool:2"], ["-k", "box:3", "--then", "k.npy"]):
            r = invoke("convolve", PHANTOM, *args, "-o", "o.png")
            assert r.exit_code == 3 and "a 3x3x3 kernel" in r.stderr and "a chain's steps take 2-D kernels" in r.stderr

    def test_options_a_pooling_chain_does_not_use_are_noted_and_defaults_taken(self, invoke, tmp_path):
        # F5: --stride/--flip... with pooling steps alone were ignored in silence; --activation none was refused
        r = invoke("convolve", PHANTOM, "-k", "avgpool:2", "--then", "maxpool:2", "--stride", "3", "--flip", "-o", "p.png", "--json")
        assert r.exit_code == 0
        assert __import__("json").loads(r.stdout)["notes"][0].startswith("--stride, --flip: for a chain's kernels")
        r = invoke("convolve", PHANTOM, "-k", "box:3", "--then", "maxpool:2", "--activation", "none", "--combine", "per-channel", "-o", "q.png")
        assert r.exit_code == 0, r.stderr
        r = invoke("convolve", PHANTOM, "-k", "box:3", "--then", "maxpool:2", "--activation", "relu", "-o", "r.png")
        assert r.exit_code == 2 and "--activation: not available in a chain" in r.stderr


IMAGEMAGICK = __import__("conftest").imagemagick()


@pytest.mark.skipif(IMAGEMAGICK is None, reason="ImageMagick is not installed")
def test_the_readme_imagemagick_equivalent_is_within_two_levels(invoke, tmp_path):
    import subprocess

    args = ["-k", "gaussian:2", "--then", "sobel_v", "--then", "maxpool:2", "--pad-mode", "replicate", "-o", "k.npy"]
    assert invoke("convolve", PHANTOM, *args).exit_code == 0
    subprocess.run(
        [IMAGEMAGICK, PHANTOM, "-morphology", "Convolve", "Gaussian:0x2", "-morphology", "Correlate", "3x3: 1,0,-1 2,0,-2 1,0,-1",
         "-morphology", "Dilate", "Rectangle:2x2+1+1", "-sample", "50%", "-depth", "8", "im.png"],
        cwd=tmp_path, check=True, capture_output=True,
    )
    ours = np.clip(np.load(tmp_path / "k.npy"), 0, 255)
    theirs = pixels(tmp_path / "im.png", "L").astype(float)
    assert ours.shape == theirs.shape == (128, 128)
    assert np.abs(ours - theirs).max() <= 2


def test_imagemagicks_dilate_and_sample_is_max_pooling():
    if IMAGEMAGICK is None:
        pytest.skip("ImageMagick is not installed")
    import subprocess
    import tempfile
    from pathlib import Path

    from PIL import Image

    from kernelcli import pool2d

    with tempfile.TemporaryDirectory() as folder:
        x = np.random.default_rng(3).integers(0, 256, (8, 10)).astype(np.uint8)
        Image.fromarray(x).save(Path(folder) / "x.png")
        subprocess.run([IMAGEMAGICK, "x.png", "-morphology", "Dilate", "Rectangle:2x2+1+1", "-sample", "50%", "y.png"],
                       cwd=folder, check=True, capture_output=True)
        np.testing.assert_array_equal(pixels(Path(folder) / "y.png", "L"), pool2d(x, 2, op="max"))


@pytest.mark.parametrize("spec, op", [("maxpool:2", "max"), ("meanpool:2", "avg"), ("AveragePool:2", "avg"), ("minpool:3:2", "min")])
def test_a_pooling_step_alone_is_a_chain_of_one_step(tmp_path, spec, op):
    # audit 41, item 2: '-k maxpool:2' alone was exit 3 ("not a kernel name") where '-k maxpool:2 --then box:3' ran;
    # vocabulary audit 5: 'meanpool' was refused in a chain where 'pool --op mean' is taken
    x = np.random.default_rng(0).random((9, 12)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    size, *stride = spec.split(":")[1:]
    ran = run_in_process("convolve", "x.npy", "-k", spec, "-o", "c.npy", cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    pooled = run_in_process("pool", "x.npy", "-f", size, *(["-s", stride[0]] if stride else []), "--op", op, "-o", "p.npy", cwd=tmp_path)
    assert pooled.returncode == 0, pooled.stderr
    assert np.load(tmp_path / "c.npy").tobytes() == np.load(tmp_path / "p.npy").tobytes()
    chained = run_in_process("convolve", "x.npy", "-k", "box:1", "--then", spec, "-o", "t.npy", cwd=tmp_path)
    assert chained.returncode == 0 and np.load(tmp_path / "t.npy").tobytes() == np.load(tmp_path / "p.npy").tobytes()
    pytest.importorskip("dask")
    tiled = run_in_process("convolve", "x.npy", "-k", spec, "--tiled", "-o", "d.npy", cwd=tmp_path)
    assert tiled.returncode == 0 and np.load(tmp_path / "d.npy").tobytes() == np.load(tmp_path / "p.npy").tobytes(), tiled.stderr


def test_a_pooling_step_in_a_filter_bank_is_refused_saying_why(tmp_path):
    result = run_in_process("convolve", str(SAMPLES / "phantom.png"), "-k", "maxpool:2", "-k", "box:3", "-o", "o.npy", cwd=tmp_path)
    # (it spoke of a --then the call did not give: the vocabulary audit, 83)
    assert result.returncode == 2 and "--kernel maxpool:2 is a pooling step; a filter bank" in result.stderr


def test_a_kernel_step_off_the_grid_drops_the_alpha_a_pool_would_bring_back(tmp_path):
    # the pool/pad audit: 11x11 RGBA, box:3 valid then minpool:3: the colour came from columns 6-10 (transparent
    # black among them), the alpha pooled over 6-8 alone: an opaque 67 beside 200s, 3x3x4 with no note
    import numpy as np
    from PIL import Image

    from conftest import pixels, run_cli

    a = np.zeros((11, 11, 4), np.uint8)
    a[..., :3], a[..., 3] = 200, 255
    a[:, 9:, :] = 0
    Image.fromarray(a, "RGBA").save(tmp_path / "b.png")
    r = run_cli("convolve", str(tmp_path / "b.png"), "-k", "box:3", "-p", "valid", "--then", "minpool:3", "-o", str(tmp_path / "o.png"))
    assert r.returncode == 0 and "so the alpha channel is dropped" in r.stderr and pixels(tmp_path / "o.png").shape == (3, 3, 3)
    r = run_cli("convolve", str(tmp_path / "b.png"), "-k", "box:3", "--then", "minpool:3", "-o", str(tmp_path / "s.png"))
    assert r.returncode == 0 and pixels(tmp_path / "s.png").shape == (3, 3, 4)  # 'same': the alpha follows the pool
