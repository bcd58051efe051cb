"""Every output type a refusal offers is one the same call then writes (review 170 #2): the lists offered .zarr beside
--bias/--activation/--combine/--weights, --rescale none's list .zarr to a PNG input and .csv to a colour result (the API
and batches too), .jpg/.bmp to a 16-bit input and .csv to an RGB one, six types to a filter bank, and the volume list
left out the .zarr that convolve/volume/pool write from a .nii."""

from __future__ import annotations

import re
import shutil
import subprocess

import numpy as np
import pytest

import kernelcli as K
from conftest import SAMPLES, run_in_process


@pytest.fixture()
def files(tmp_path):
    for name in ("phantom.png", "phantom16.png", "rgb.png"):
        shutil.copy(SAMPLES / name, tmp_path / name)
    rng = np.random.default_rng(0)
    np.save(tmp_path / "g.npy", rng.random((32, 32)).astype("float32"))
    np.save(tmp_path / "rgb.npy", rng.random((16, 16, 3)).astype("float32"))
    np.save(tmp_path / "w1.npy", rng.random((1, 3, 3, 3)).astype("float32"))
    return tmp_path


def _offered(stderr: str) -> list[str]:
    said = re.search(r"expected (?:one of )?([^;\n]+)|needs a float output \(([^)]+)\)", stderr)
    assert said, stderr
    return re.findall(r"\.[a-z.]+[a-z]", said.group(1) or said.group(2))


def _each_offered_is_written(files, args, refused_out):
    r = run_in_process(*args, "-o", refused_out, cwd=files)
    assert r.returncode == 2, r.stderr
    offered = _offered(r.stderr)
    for i, suffix in enumerate(offered):
        if suffix == ".zarr":
            pytest.importorskip("dask")
            pytest.importorskip("zarr")
        out = f"o{i}{suffix}"
        took = run_in_process(*args, "-o", out, "-q", cwd=files)
        assert took.returncode == 0, (suffix, r.stderr, took.stderr)
    return offered


@pytest.mark.parametrize("args", [
    ["convolve", "g.npy", "-k", "box:3", "--bias", "1"], ["convolve", "g.npy", "-k", "box:3", "--activation", "relu"],
    ["convolve", "rgb.npy", "-k", "box:3", "--combine", "sum"], ["convolve", "rgb.npy", "--weights", "w1.npy"],
    ["convolve", "phantom16.png", "-k", "box:3"], ["convolve", "rgb.png", "-k", "box:3"],
    ["convolve", "phantom.png", "-k", "sobel_v", "-k", "sobel_h"], ["convolve", "g.npy", "-k", "box:3"],
    ["pool", "phantom.png", "-f", "2"], ["pad", "g.npy", "-p", "1"],
], ids=["bias", "activation", "combine", "weights", "16-bit", "rgb", "bank", "npy", "pool-png", "pad-npy"])
def test_each_type_the_unsupported_list_offers_is_written(files, args):
    offered = _each_offered_is_written(files, args, "t.zzz")
    if "--bias" in args or "--weights" in args or "--activation" in args or "--combine" in args:
        assert ".zarr" not in offered


@pytest.mark.parametrize("args", [["convolve", "phantom.png", "-k", "box:3", "--rescale", "none"],
                                  ["convolve", "rgb.png", "-k", "box:3", "--rescale", "none"],
                                  ["convolve", "g.npy", "-k", "box:3", "--bias", "1", "--rescale", "none"]],
                         ids=["grey-png", "rgb-png", "bias"])
def test_each_float_output_rescale_none_offers_is_written(files, args):
    offered = _each_offered_is_written(files, args, "t.png")
    assert ".zarr" not in offered
    assert (".csv" in offered) == ("rgb.png" not in args)


def test_a_batch_is_told_the_format_to_give(files):
    r = run_in_process("convolve", "phantom.png", "g.npy", "-k", "box:3", "--out-dir", "zz", "--rescale", "none", cwd=files)
    assert "zz/phantom_box_3.png: --rescale none needs a float output: give --format npy|tif|csv; this output is 8-bit" \
        in r.stderr, r.stderr


def test_the_api_offers_what_write_output_writes(tmp_path):
    colour = np.random.default_rng(0).random((4, 4, 3))
    with pytest.raises(Exception) as got:
        K.write_output(tmp_path / "w.png", colour, rescale="none")
    assert "needs a float output (.npy);" in str(got.value), str(got.value)  # (a float TIFF holds one channel)
    with pytest.raises(Exception) as got:
        K.write_output(tmp_path / "w.zzz", colour, rescale="none")
    for suffix in _offered(str(got.value)):
        K.write_output(tmp_path / f"w{suffix}", colour, rescale="none")


def test_the_volume_list_offers_zarr_for_a_nii(files):
    pytest.importorskip("nibabel")
    pytest.importorskip("dask")
    pytest.importorskip("zarr")
    subprocess.run(f"gunzip -c {SAMPLES / 'phantom3d.nii.gz'} > {files / 'v.nii'}", shell=True, check=True)
    for args in (["convolve", "v.nii", "-k", "box:3vox"], ["pool", "v.nii", "-f", "2"]):
        r = run_in_process(*args, "-o", "v.zzz", cwd=files)
        assert r.stderr.strip().endswith("expected one of .nii.gz, .nii, .npy, .png, .zarr"), r.stderr
        assert run_in_process(*args, "-o", f"{args[0]}.zarr", "-q", cwd=files).returncode == 0
    r = run_in_process("convolve", "v.nii", "-k", "box:3vox", "--window", "brain", "-o", "v.zzz", cwd=files)
    assert r.stderr.strip().endswith("expected one of .nii.gz, .nii, .npy, .png"), r.stderr
