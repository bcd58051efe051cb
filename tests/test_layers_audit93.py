"""convolve's options and convolution layers (audit 93): one rule for every number a layer is given, a --bias count
refused before any input, --combine and --rescale named where unused, the montage and the names saying what was
computed, --weights' channel refusals in the command's words."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from conftest import run_in_process

BIG = 2**53 + 1  # the smallest whole number float64 rounds (to 2**53)


def kc(tmp_path, *args):
    return run_in_process(*map(str, args), cwd=tmp_path)


class TestWholeNumbersPast2To53:
    """F1: --weights, --bias-file, --bias and convolve's --pad-value refuse a whole number float64 rounds, as -k does."""

    @pytest.fixture
    def files(self, tmp_path):
        np.save(tmp_path / "one.npy", np.ones((3, 3)))
        np.save(tmp_path / "i64.npy", np.zeros((3, 3), np.int64))
        np.save(tmp_path / "w1x1.npy", np.ones((1, 1, 1, 1)))
        return tmp_path

    @pytest.mark.parametrize("dtype", [np.int64, np.uint64])
    def test_weights_file(self, files, dtype):
        np.save(files / "wi64.npy", np.full((1, 1, 1, 1), BIG, dtype))
        r = kc(files, "convolve", "one.npy", "--weights", "wi64.npy", "-o", "o.npy", "-q")
        assert r.returncode == 3, r.stderr
        assert "wi64.npy: the value at (0, 0, 0, 0) is 9007199254740993, which float64 reads as 9007199254740992: " \
               "kernel weights are float64" in r.stderr
        assert not (files / "o.npy").exists()

    def test_long_double_weights_file(self, files):
        if np.finfo(np.longdouble).nmant < 53:
            pytest.skip("long double is float64 here")
        np.save(files / "wld.npy", np.full((1, 1, 1, 1), BIG, np.longdouble))
        r = kc(files, "convolve", "one.npy", "--weights", "wld.npy", "-o", "o.npy", "-q")
        assert r.returncode == 3 and "wld.npy: the value at (0, 0, 0, 0) is 9007199254740993" in r.stderr

    def test_bias_file(self, files):
        np.save(files / "bi64.npy", np.array([BIG], np.int64))
        r = kc(files, "convolve", "one.npy", "--weights", "w1x1.npy", "--bias-file", "bi64.npy", "-o", "o.npy", "-q")
        assert r.returncode == 3, r.stderr
        assert "bi64.npy: the value at (0,) is 9007199254740993, which float64 reads as 9007199254740992: bias values " \
               "are float64, exact for whole numbers up to 2**53" in r.stderr

    @pytest.mark.parametrize("text", ["9007199254740993", "1,9007199254740993.0", "-9.007199254740993e15"])
    def test_bias_text(self, files, text):
        r = kc(files, "convolve", "one.npy", "-k", "[[1]]", "--bias", text, "-o", "o.npy", "-q")
        assert r.returncode == 2, r.stderr
        assert "which float64 reads as" in r.stderr and "bias values are float64, exact for whole numbers up to 2**53" in r.stderr
        assert "Traceback" not in r.stderr

    def test_pad_value(self, files):
        r = kc(files, "convolve", "i64.npy", "-k", "[[1,0,0]]", "--pad-value", BIG, "-o", "o.npy", "-q")
        assert r.returncode == 2, r.stderr
        assert "--pad-value 9007199254740993: a fill is exact up to 2**53" in r.stderr
        assert not (files / "o.npy").exists()

    def test_what_float64_holds_is_taken(self, files):
        np.save(files / "w.npy", np.full((1, 1, 1, 1), 2**53, np.int64))
        np.save(files / "b.npy", np.array([2**60], np.int64))
        r = kc(files, "convolve", "one.npy", "--weights", "w.npy", "--bias-file", "b.npy", "-o", "o.npy", "-q")
        assert r.returncode == 0, r.stderr
        assert np.load(files / "o.npy")[1, 1] == float(2**53 + 2**60)
        r = kc(files, "convolve", "i64.npy", "-k", "[[1,0,0]]", "--pad-value", 2**53, "-o", "p.npy", "-q")
        assert r.returncode == 0 and np.load(files / "p.npy")[1, 0] == 2**53

    def test_the_api_fill_rule(self):
        from kernelcli import api
        from kernelcli.errors import UsageError

        with pytest.raises(UsageError, match="a fill is exact up to 2\\*\\*53"):
            api.conv2d(np.zeros((3, 3), np.int64), [[1, 0, 0]], pad_value=BIG)


class TestBiasCountBeforeAnyInput:
    """F2: a --bias (or --bias-file) count that cannot match the kernels or filters: exit 2 before any input is read,
    one wording, no input named."""

    @pytest.fixture
    def files(self, tmp_path):
        rng = np.random.default_rng(5)
        np.save(tmp_path / "g.npy", rng.standard_normal((6, 7)))
        np.save(tmp_path / "g2.npy", rng.standard_normal((6, 7)))
        np.save(tmp_path / "w2.npy", rng.standard_normal((2, 1, 3, 3)))
        np.save(tmp_path / "b3.npy", np.ones(3))
        return tmp_path

    @pytest.mark.parametrize("args, said", [
        (["-k", "sobel_v", "-k", "sobel_h", "--bias", "1,2,3"], "--bias has 3 values for 2 kernels; give one value, or one per kernel"),
        (["-k", "sobel_v", "--bias", "1,2"], "--bias has 2 values for 1 kernel; give one value, or one per kernel"),
        (["--weights", "w2.npy", "--bias", "1,2,3"], "--bias has 3 values for 2 filters; give one value, or one per filter"),
        (["--weights", "w2.npy", "--bias-file", "b3.npy"], "--bias-file b3.npy has 3 values for 2 filters; give one per filter"),
    ])
    def test_one_input(self, files, args, said):
        r = kc(files, "convolve", "g.npy", *args, "-o", "o.npy", "-q")
        assert r.returncode == 2, r.stderr
        assert r.stderr.strip() == f"error: {said}"

    def test_a_batch_is_refused_before_any_file(self, files):
        r = kc(files, "convolve", "g.npy", "g2.npy", "-k", "sobel_v", "-k", "sobel_h", "--bias", "1,2,3", "--out-dir", "od")
        assert r.returncode == 2, r.stderr
        assert r.stderr.strip() == "error: --bias has 3 values for 2 kernels; give one value, or one per kernel"
        assert not (files / "od").exists()

    def test_a_batch_with_a_volume_too(self, files):
        import shutil

        from conftest import SAMPLES

        shutil.copy(SAMPLES / "phantom3d.nii.gz", files)
        r = kc(files, "convolve", "g.npy", "phantom3d.nii.gz", "-k", "sobel_v", "-k", "sobel_h", "--bias", "1,2,3",
               "--out-dir", "od")
        assert r.returncode == 2 and "--bias has 3 values for 2 kernels" in r.stderr
        assert not (files / "od").exists()

    def test_the_api_counts_in_words(self):
        from kernelcli.errors import UsageError
        from kernelcli.banks import filter_bank

        with pytest.raises(UsageError, match="bias: 2 values for 1 kernel; give one value, or one per kernel"):
            filter_bank(np.ones((3, 3)), [[[1.0]]], bias=[1, 2])


class TestWeightsChannelsInTheCommandsWords:
    """F7: --weights (and 3-D kernel) channel refusals name no groups convolve has not, and say an RGBA image's alpha
    is not an input."""

    @pytest.fixture
    def files(self, tmp_path):
        rng = np.random.default_rng(6)
        Image.fromarray(rng.integers(0, 256, (7, 9, 4)).astype(np.uint8), "RGBA").save(tmp_path / "rgba.png")
        Image.fromarray(rng.integers(0, 256, (7, 9, 3)).astype(np.uint8)).save(tmp_path / "rgb.png")
        np.save(tmp_path / "w4.npy", np.ones((1, 4, 3, 3)))
        np.save(tmp_path / "w31.npy", np.ones((3, 1, 3, 3)))
        (tmp_path / "k4.json").write_text(json.dumps({"family": "x", "kernels": [{"name": "k4", "matrix": np.ones((4, 3, 3)).tolist()}]}))
        return tmp_path

    def test_rgba_weights(self, files):
        r = kc(files, "convolve", "rgba.png", "--weights", "w4.npy", "-o", "o.npy", "-q")
        assert r.returncode == 2
        assert r.stderr.strip() == ("error: rgba.png: weights (1, 4, 3, 3): each filter spans 4 channels, but the input has 3 "
                                    "colour channels (the alpha is not an input); give filters of 3 channels")

    def test_depthwise_weights(self, files):
        r = kc(files, "convolve", "rgb.png", "--weights", "w31.npy", "-o", "o.npy", "-q")
        assert r.returncode == 2 and "group" not in r.stderr
        assert "each filter spans 1 channel, but the input has 3 channels; give filters of 3 channels, or, to filter each " \
               "channel on its own, a 2-D kernel with -k (--combine per-channel, the default)" in r.stderr

    def test_rgba_3d_kernel(self, files):
        r = kc(files, "convolve", "rgba.png", "-k", "k4.json", "-o", "o.npy", "-q")
        assert r.returncode == 2
        assert "rgba.png: kernel k4 is 3-D with depth 4 (4x3x3), but the input has 3 colour channels (the alpha is not an " \
               "input): a 3-D kernel's depth must equal the channels" in r.stderr


class TestRescaleWithAMontageAlone:
    """F6: --rescale given with a montage alone is named in a note, as with several maps in a .tif."""

    @pytest.fixture
    def rgb(self, tmp_path):
        rng = np.random.default_rng(6)
        Image.fromarray(rng.integers(0, 256, (7, 9, 3)).astype(np.uint8)).save(tmp_path / "rgb.png")
        return tmp_path

    @pytest.mark.parametrize("kernels", [["-k", "sobel_v", "-k", "sobel_h"], ["-k", "sobel_v"]])
    def test_noted(self, rgb, kernels):
        r = kc(rgb, "convolve", "rgb.png", *kernels, "--rescale", "abs", "--montage", "m.png", "--json")
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout)["notes"] == ["m.png: --rescale abs is for the data output (--out); a montage stretches "
                                                 "each map from its min to its max"]

    def test_not_noted_with_an_output_that_uses_it(self, rgb):
        r = kc(rgb, "convolve", "rgb.png", "-k", "sobel_v", "--rescale", "abs", "--montage", "m.png", "-o", "o.png", "--json")
        assert r.returncode == 0 and json.loads(r.stdout)["notes"] == []


class TestConvolveNamesWhatDiffers:
    """F5: convolve's default output name and operation: the kernel's name, then what differs from the defaults (as
    pool's modes.pool_label); the default-options names as they were."""

    @pytest.fixture
    def g10(self, tmp_path):
        Image.fromarray(np.full((5, 5), 10, np.uint8)).save(tmp_path / "g10.png")
        np.save(tmp_path / "g.npy", np.random.default_rng(5).standard_normal((6, 7)))
        np.save(tmp_path / "w2.npy", np.ones((2, 1, 3, 3)))
        return tmp_path

    @pytest.mark.parametrize("args, label", [
        ([], "sobel_v"),
        (["-s", "2"], "sobel_v_s2"),
        (["--dilation", "2", "--flip"], "sobel_v_d2_flip"),
        (["--padding", "valid"], "sobel_v_valid"),
        (["--padding", "1,1,2,2"], "sobel_v_p1-1-2-2"),
        (["--pad-mode", "reflect"], "sobel_v_reflect"),
        (["--pad-value", "255"], "sobel_v_fill255"),
        (["--padding", "valid", "--pad-value", "255"], "sobel_v_valid"),
        (["--kernel-scale", "0.5"], "sobel_v_scale0.5"),
        (["--kernel-scale", "50%!"], "sobel_v_scale50pcbang"),
    ])
    def test_one_kernel(self, g10, args, label):
        r = kc(g10, "convolve", "g10.png", "-k", "sobel_v", *args, "--rescale", "abs", "--json")
        assert r.returncode == 0, r.stderr
        doc = json.loads(r.stdout)
        assert (doc["operation"], doc["output"], doc["kernel"]) == (f"convolve {label}", f"g10_{label}.png", "sobel_v")

    def test_two_results_two_names(self, g10):
        assert kc(g10, "convolve", "g10.png", "-k", "sobel_v", "-q").returncode == 0
        r = kc(g10, "convolve", "g10.png", "-k", "sobel_v", "-s", "2", "-q")
        assert r.returncode == 0, r.stderr
        assert (g10 / "g10_sobel_v.png").exists() and (g10 / "g10_sobel_v_s2.png").exists()

    def test_a_bank_and_weights(self, g10):
        doc = json.loads(kc(g10, "convolve", "g.npy", "-k", "sobel_v", "-k", "sobel_h", "-s", "2", "--json").stdout)
        assert (doc["operation"], doc["output"]) == ("convolve sobel_v, sobel_h (s2)", "g_sobel_v_sobel_h_s2.npy")
        doc = json.loads(kc(g10, "convolve", "g.npy", "-k", "sobel_v", "-k", "sobel_h", "--json").stdout)
        assert (doc["operation"], doc["output"]) == ("convolve sobel_v, sobel_h", "g_sobel_v_sobel_h.npy")
        doc = json.loads(kc(g10, "convolve", "g.npy", "--weights", "w2.npy", "-s", "2", "--json").stdout)
        assert (doc["operation"], doc["output"]) == ("layer w2 2x1x3x3 (s2)", "g_w2_s2.npy")

    def test_a_batch(self, g10):
        r = kc(g10, "convolve", "g10.png", "-k", "sobel_v", "--dilation", "2", "--out-dir", "od", "-q")
        assert r.returncode == 0, r.stderr
        assert [p.name for p in (g10 / "od").iterdir()] == ["g10_sobel_v_d2.png"]


class TestTheMontageSaysWhatMadeTheMaps:
    """F4: a --montage sheet lists --flip, --kernel-scale and a --pad-value, as the record does."""

    def test_the_sheets_line(self):
        from kernelcli.jobs_common import ConvolveOptions
        from kernelcli.jobs_maps import _describe_options

        said = _describe_options(ConvolveOptions(pad_value=255, flip=True, kernel_scale="0.5"))
        assert said == "padding same (constant 255), stride 1, dilation 1, flipped (true convolution), --kernel-scale 0.5"
        assert _describe_options(ConvolveOptions()) == "padding same (constant), stride 1, dilation 1"

    def test_the_sheet_is_told(self, tmp_path, monkeypatch):
        import kernelcli.montage as montage

        seen = {}
        real = montage.render_montage

        def spy(data, tiles, **kw):
            seen.update(kw, labels=[t[0] for t in tiles])
            return real(data, tiles, **kw)

        monkeypatch.setattr(montage, "render_montage", spy)
        Image.fromarray(np.full((5, 5), 10, np.uint8)).save(tmp_path / "g10.png")
        r = kc(tmp_path, "convolve", "g10.png", "-k", "sobel_v", "--pad-value", "255", "--flip", "--kernel-scale", "0.5",
               "--montage", "m.png", "-q")
        assert r.returncode == 0, r.stderr
        assert seen["title"] == "g10.png: convolve sobel_v_fill255_flip_scale0.5"
        assert seen["notes"][0].startswith("padding same (constant 255), stride 1, dilation 1, flipped (true convolution), "
                                           "--kernel-scale 0.5;")


class TestAnUnusedCombineIsNamed:
    """F3: an explicit --combine that no kernel of the call uses gets a note, as an unused --pad-value does, and the
    [sum] label is there only where --combine sum summed something."""

    @pytest.fixture
    def files(self, tmp_path):
        rng = np.random.default_rng(6)
        Image.fromarray(rng.integers(0, 256, (7, 9, 3)).astype(np.uint8)).save(tmp_path / "rgb.png")
        Image.fromarray(np.full((3, 3), 10, np.uint8)).save(tmp_path / "g10.png")
        k = rng.standard_normal((5, 5))
        (tmp_path / "k3dA.json").write_text(json.dumps({"family": "x", "kernels": [{"name": "k3da", "matrix": np.stack([k] * 3).tolist()}]}))
        return tmp_path

    def doc(self, files, *args):
        r = kc(files, "convolve", *args, "-o", "o.npy", "--force", "--json")
        assert r.returncode == 0, r.stderr
        return json.loads(r.stdout)

    @pytest.mark.parametrize("combine", ["per-channel", "sum"])
    def test_a_3d_kernel(self, files, combine):
        doc = self.doc(files, "rgb.png", "-k", "k3dA.json", "--combine", combine)
        assert doc["operation"] == "convolve k3da" and doc["output_shape"] == [7, 9]
        assert doc["notes"] == [f"--combine {combine}: k3da (3x5x5) is a 3-D kernel, which sums over the channels whatever "
                                "--combine says; --combine is for 2-D kernels"]

    def test_sum_on_one_channel(self, files):
        doc = self.doc(files, "g10.png", "-k", "sobel_v", "--combine", "sum")
        assert doc["operation"] == "convolve sobel_v"
        assert doc["notes"] == ["g10.png: --combine sum: the input has one channel, so each map is the kernel's own (as per-channel)"]

    def test_used_sum_is_labelled_and_not_noted(self, files):
        doc = self.doc(files, "rgb.png", "-k", "sobel_v", "--combine", "sum")
        assert doc["operation"] == "convolve sobel_v [sum]" and doc["notes"] == []
        assert self.doc(files, "rgb.png", "-k", "k3dA.json")["notes"] == []


def test_two_fills_are_never_named_alike(tmp_path):
    # the review (46): --pad-value 100.0001 and 100.0002 were both 'fill100' (the second run refused as an overwrite),
    # and 1e20 was fill1e+20 in the record and fill1e_20 in the file name
    from kernelcli.result_names import conv_label

    names = {conv_label("sobel_v", padding=1, pad_value=v) for v in (100.0001, 100.0002, 1e20, 255.0)}
    assert names == {"sobel_v_p1_fill100.0001", "sobel_v_p1_fill100.0002", "sobel_v_p1_fill1e20", "sobel_v_p1_fill255"}
