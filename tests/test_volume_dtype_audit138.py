"""One volume, one dtype: a ``--layout zyx`` array under a 2-D kernel computes as a volume does (audit 138 #5).

int16 (Z, Y, X) voxels under ``-k box:3`` gave float64 as a zyx ``.npy`` (the image rule, conv2d slice by slice)
where the same voxels as a NIfTI, a 1x3x3 kernel file and a 3-D pool gave float32 (the volume rule, README).
Now every convolve path of a zyx array (one kernel, a bank, a bias, a chain, tile by tile) computes in the volume
rule's dtype: the same bytes as the NIfTI.
"""

from __future__ import annotations

import numpy as np
import pytest

from conftest import TILED_OR_NOT, run_in_process

nib = pytest.importorskip("nibabel")


@pytest.fixture(params=["int16", "uint16", "uint8", "float64"])
def vol(tmp_path, request):
    v = np.random.default_rng(5).integers(0, 3000 if request.param != "uint8" else 255, (3, 7, 9)).astype(request.param)
    np.save(tmp_path / "ct.npy", v)
    nib.save(nib.Nifti1Image(np.ascontiguousarray(v.transpose(2, 1, 0)), np.eye(4)), str(tmp_path / "ct.nii"))
    np.save(tmp_path / "box133.npy", np.full((1, 3, 3), 1 / 9))
    return tmp_path


def _want(dtype):
    return np.float64 if dtype == "float64" else np.float32


@pytest.mark.parametrize("kernel", ["box:3", "gaussian:1", "sobel_h"])
@pytest.mark.parametrize("tiled", TILED_OR_NOT)
def test_a_zyx_array_and_the_same_nifti_give_the_same_dtype_and_bytes(vol, kernel, tiled):
    a = run_in_process("convolve", "ct.npy", "--layout", "zyx", "-k", kernel, *tiled, "-o", "a.npy", "-q", cwd=vol)
    b = run_in_process("convolve", "ct.nii", "-k", kernel, "-m", "constant", "-o", "b.npy", "-q", cwd=vol)
    assert a.returncode == 0 == b.returncode, a.stderr + b.stderr
    x, y = np.load(vol / "a.npy"), np.load(vol / "b.npy")
    assert x.dtype == y.dtype == _want(np.load(vol / "ct.npy").dtype.name)
    assert x.tobytes() == y.tobytes()


@pytest.mark.parametrize("more", [["--bias", "0"], ["--then", "box:3"], ["-k", "sobel_h"], ["--activation", "relu"]])
def test_every_convolve_path_of_a_zyx_array_keeps_the_volume_rule(vol, more):
    r = run_in_process("convolve", "ct.npy", "--layout", "zyx", "-k", "box:3", *more, "-o", "a.npy", "-q", cwd=vol)
    assert r.returncode == 0, r.stderr
    assert np.load(vol / "a.npy").dtype == _want(np.load(vol / "ct.npy").dtype.name)


def test_a_2d_kernel_and_its_1x3x3_file_give_one_dtype(vol):
    a = run_in_process("convolve", "ct.npy", "--layout", "zyx", "-k", "box:3", "-o", "a.npy", "-q", cwd=vol)
    b = run_in_process("convolve", "ct.npy", "--layout", "zyx", "-k", "box133.npy", "-o", "b.npy", "-q", cwd=vol)
    assert a.returncode == 0 == b.returncode, a.stderr + b.stderr
    assert np.load(vol / "a.npy").dtype == np.load(vol / "b.npy").dtype


def test_images_keep_the_image_rule(vol):
    np.save(vol / "img.npy", np.arange(64, dtype=np.int16).reshape(8, 8))
    r = run_in_process("convolve", "img.npy", "-k", "box:3", "-o", "a.npy", "-q", cwd=vol)
    assert r.returncode == 0 and np.load(vol / "a.npy").dtype == np.float64, r.stderr


@pytest.mark.parametrize("chain, separate", [
    (["-k", "box:3", "--then", "avgpool:2"], [["convolve", "-k", "box:3"], ["pool", "-f", "2", "--op", "avg"]]),
    (["-k", "maxpool:2", "--then", "box:3"], [["pool", "-f", "2"], ["convolve", "-k", "box:3"]]),
], ids=["conv-then-avgpool", "maxpool-then-conv"])
def test_a_chain_with_a_pooling_step_equals_its_separate_calls(vol, chain, separate):
    """Audit 141 #1: a --then chain with a pooling step on a zyx array computed in float64 (the 3-D path skipped the
    volume rule), its separate calls in float32: up to 7.5e-5 apart."""
    r = run_in_process("convolve", "ct.npy", "--layout", "zyx", *chain, "-o", "chain.npy", "-q", cwd=vol)
    assert r.returncode == 0, r.stderr
    source = "ct.npy"
    for i, (command, *args) in enumerate(separate):
        step = run_in_process(command, source, "--layout", "zyx", *args, "-o", f"s{i}.npy", "-q", cwd=vol)
        assert step.returncode == 0, step.stderr
        source = f"s{i}.npy"
    a, b = np.load(vol / "chain.npy"), np.load(vol / source)
    assert a.dtype == b.dtype and a.tobytes() == b.tobytes()
