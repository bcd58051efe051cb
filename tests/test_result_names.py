"""Every result is named by what made it (review 46 #3): a volume by its kernel and what its options change from a
volume's defaults, the same alone, tile by tile and in a batch beside images; a --then chain by each step with the
convolution's words; a layer's file by --combine sum, --bias and --activation too. Two results that differ never
share a default name (a second run was refused as an overwrite, or with --force replaced the other result)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from conftest import run_in_process

nib = pytest.importorskip("nibabel")


def kc(tmp_path, *args):
    return run_in_process(*map(str, args), cwd=tmp_path)


@pytest.fixture
def files(tmp_path):
    rng = np.random.default_rng(46)
    affine = np.diag([1.0, 1.0, 2.0, 1.0])
    nib.save(nib.Nifti1Image(rng.integers(-1000, 1000, (8, 7, 6)).astype(np.int16), affine), tmp_path / "ct.nii.gz")
    nib.save(nib.Nifti1Image(rng.standard_normal((12, 11, 10)).astype(np.float32), affine), tmp_path / "v.nii")
    Image.fromarray(rng.integers(0, 255, (10, 10), dtype=np.uint8)).save(tmp_path / "g10.png")
    Image.fromarray(rng.integers(0, 255, (10, 10, 3), dtype=np.uint8)).save(tmp_path / "rgb.png")
    return tmp_path


class TestVolumes:
    @pytest.mark.parametrize("args, label", [
        ([], "box:3"),
        (["--pad-mode", "reflect"], "box:3_reflect"),
        (["--pad-mode", "replicate"], "box:3"),
        (["--pad-mode", "constant"], "box:3_fill0"),
        (["--pad-mode", "constant", "--pad-value", "-1000"], "box:3_fill-1000"),
        (["--flip"], "box:3_flip"),
        (["--axis", "y"], "box:3_axisy"),
    ])
    def test_one_volume(self, files, args, label):
        r = kc(files, "convolve", "ct.nii.gz", "-k", "box:3", *args, "--json")
        assert r.returncode == 0, r.stderr
        doc = json.loads(r.stdout)
        name = "ct_" + label.replace(":", "_") + ".nii.gz"
        assert (doc["operation"], doc["output"], doc["kernel"]) == (f"convolve {label}", name, "box:3")
        assert (files / name).exists()

    def test_smoothing_words(self, files):
        doc = json.loads(kc(files, "convolve", "v.nii", "-k", "gaussian:2mm", "--axis", "z", "--truncate", "4",
                            "--pad-mode", "renormalise", "--json").stdout)
        assert doc["output"] == "v_gaussian_2mm_renormalise_axisz_truncate4.nii.gz"

    def test_two_borders_two_files(self, files):
        assert kc(files, "convolve", "ct.nii.gz", "-k", "box:3", "-q").returncode == 0
        r = kc(files, "convolve", "ct.nii.gz", "-k", "box:3", "--pad-mode", "reflect", "-q")
        assert r.returncode == 0, r.stderr
        a = nib.load(files / "ct_box_3.nii.gz").get_fdata()
        b = nib.load(files / "ct_box_3_reflect.nii.gz").get_fdata()
        assert not np.array_equal(a, b)

    def test_the_same_volume_the_same_name_alone_and_beside_an_image(self, files):
        alone = json.loads(kc(files, "convolve", "ct.nii.gz", "-k", "box:3", "--pad-mode", "reflect", "--flip",
                              "--json").stdout)["output"]
        r = kc(files, "convolve", "ct.nii.gz", "g10.png", "-k", "box:3", "--pad-mode", "reflect", "--flip",
               "--out-dir", "od", "-q")
        assert r.returncode == 0, r.stderr
        assert sorted(p.name for p in (files / "od").iterdir()) == [alone, "g10_box_3_reflect_flip.png"]
        r = kc(files, "convolve", "ct.nii.gz", "g10.png", "-k", "box:3", "--out-dir", "od2", "-q")
        assert r.returncode == 0, r.stderr  # a volume's default border (replicate) is not named beside an image
        assert sorted(p.name for p in (files / "od2").iterdir()) == ["ct_box_3.nii.gz", "g10_box_3.png"]

    def test_a_batch_of_volumes(self, files):
        r = kc(files, "convolve", "ct.nii.gz", "v.nii", "-k", "box:3", "--pad-mode", "reflect", "--out-dir", "od", "-q")
        assert r.returncode == 0, r.stderr
        assert sorted(p.name for p in (files / "od").iterdir()) == ["ct_box_3_reflect.nii.gz", "v_box_3_reflect.nii.gz"]

    def test_suffix_names_every_kind(self, files):
        r = kc(files, "convolve", "ct.nii.gz", "g10.png", "-k", "box:3", "--flip", "--suffix", "mine", "--out-dir", "od", "-q")
        assert r.returncode == 0, r.stderr
        assert sorted(p.name for p in (files / "od").iterdir()) == ["ct_mine.nii.gz", "g10_mine.png"]

    def test_tile_by_tile(self, files):
        pytest.importorskip("dask")
        doc = json.loads(kc(files, "convolve", "v.nii", "-k", "gaussian:2mm", "--pad-mode", "reflect", "--tiled",
                            "--chunks", "8", "--json").stdout)
        assert (doc["operation"], doc["output"]) == ("convolve gaussian:2mm_reflect", "v_gaussian_2mm_reflect.nii")


class TestChains:
    def test_the_convolutions_words_follow_each_kernel_step(self, files):
        plain = json.loads(kc(files, "convolve", "g10.png", "-k", "sobel_v", "--then", "maxpool:2", "--json").stdout)
        strided = json.loads(kc(files, "convolve", "g10.png", "-k", "sobel_v", "--then", "maxpool:2", "-s", "2",
                                "--json").stdout)
        assert (plain["operation"], plain["output"]) == ("convolve sobel_v | maxpool2", "g10_sobel_v_maxpool2.png")
        assert (strided["operation"], strided["output"]) == ("convolve sobel_v_s2 | maxpool2", "g10_sobel_v_s2_maxpool2.png")
        assert strided["kernel"] == "sobel_v | maxpool2"

    def test_two_kernel_steps(self, files):
        doc = json.loads(kc(files, "convolve", "g10.png", "-k", "gaussian:1", "--then", "sobel_v", "--flip",
                            "--rescale", "abs", "--json").stdout)
        assert (doc["operation"], doc["output"]) == ("convolve gaussian:1_flip | sobel_v_flip",
                                                     "g10_gaussian_1_flip_sobel_v_flip.png")

    def test_tile_by_tile(self, files):
        pytest.importorskip("dask")
        np.save(files / "a.npy", np.random.default_rng(1).standard_normal((20, 20)))
        doc = json.loads(kc(files, "convolve", "a.npy", "-k", "sobel_v", "--then", "avgpool:2", "--dilation", "2",
                            "--tiled", "--chunks", "8", "--json").stdout)
        assert (doc["operation"], doc["output"]) == ("convolve sobel_v_d2 | avgpool2", "a_sobel_v_d2_avgpool2.npy")


class TestLayerOptions:
    @pytest.mark.parametrize("args, name, operation", [
        ([], "rgb_sobel_v.png", "convolve sobel_v"),
        (["--combine", "sum"], "rgb_sobel_v_sum.png", "convolve sobel_v [sum]"),
        (["--activation", "relu"], "rgb_sobel_v_relu.png", "convolve sobel_v [relu]"),
        (["--bias", "5", "-s", "2"], "rgb_sobel_v_s2_bias.png", "convolve sobel_v_s2 [bias]"),
    ])
    def test_one_kernel(self, files, args, name, operation):
        doc = json.loads(kc(files, "convolve", "rgb.png", "-k", "sobel_v", *args, "--json").stdout)
        assert (doc["operation"], doc["output"]) == (operation, name)

    def test_a_bank_and_weights(self, files):
        np.save(files / "w2.npy", np.ones((2, 3, 3, 3)))
        doc = json.loads(kc(files, "convolve", "rgb.png", "-k", "sobel_v", "-k", "sobel_h", "--activation", "tanh",
                            "--json").stdout)
        assert doc["output"] == "rgb_sobel_v_sobel_h_tanh.npy"
        doc = json.loads(kc(files, "convolve", "rgb.png", "--weights", "w2.npy", "--bias", "1,2", "--json").stdout)
        assert doc["output"] == "rgb_w2_bias.npy"

    def test_a_batch(self, files):
        r = kc(files, "convolve", "rgb.png", "g10.png", "-k", "sobel_v", "--activation", "relu", "--out-dir", "od", "-q")
        assert r.returncode == 0, r.stderr
        assert sorted(p.name for p in (files / "od").iterdir()) == ["g10_sobel_v_relu.png", "rgb_sobel_v_relu.png"]
