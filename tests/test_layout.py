"""Axes are never guessed: ``--layout hwc|chw|zyx`` for shapes and arrays (issue 12).

Each reproduction of the issue is here: the silent wrong answers are now errors naming
both readings and the flag, and with the flag the answer is right.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from scipy import ndimage

from conftest import SAMPLES
from kernelcli.errors import UsageError
from kernelcli.layout import array_layout, network_input, shape_layout

SOBEL_V = np.array([[1.0, 0, -1], [2, 0, -2], [1, 0, -1]])


def _correlate_channels_first(x: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Reference: each (H, W) plane of a (C, H, W) array correlated on its own, zero padding."""
    return np.stack([ndimage.correlate(plane.astype(np.float64), k, mode="constant") for plane in x])


class TestShapeCommand:
    def test_chw_shape_is_refused_naming_both_readings(self, invoke):
        # the issue: `shape --in 3x224x224 --f 3 -q` printed 1x222
        result = invoke("shape", "--in", "3x224x224", "--f", "3", "-q")
        assert result.exit_code == 2
        assert result.stdout == ""
        for words in ("HxWxC = 3x224 with 224 channels", "CxHxW = 3 channels of 224x224", "--layout hwc", "--layout chw"):
            assert words in result.stderr

    def test_one_channel_is_counted_in_the_singular(self, invoke):
        # audit 217's closing notes: 'CxHxW = 1 channels of 1x2048' (plane_readings counts; this one did not)
        result = invoke("shape", "--in", "1x1x2048", "--f", "1", "-q")
        assert result.exit_code == 2 and "CxHxW = 1 channel of 1x2048" in result.stderr, result.stderr

    def test_with_the_flag_the_answer_is_right(self, invoke):
        assert invoke("shape", "--in", "3x224x224", "--f", "3", "-q", "--layout", "chw").stdout == "222x222\n"
        assert invoke("shape", "--in", "3x224x224", "--f", "3", "--filters", "8", "-q", "--layout", "chw").stdout == "8x222x222\n"
        assert invoke("shape", "--in", "224x224x3", "--f", "3", "--filters", "8", "-q").stdout == "222x222x8\n"
        assert invoke("shape", "--in", "3x224x224", "--f", "2", "--pool", "-q", "--layout", "chw").stdout == "3x112x112\n"
        # the reading the user asked for is kept, even where it looks odd
        assert invoke("shape", "--in", "3x224x224", "--f", "3", "-q", "--layout", "hwc").stdout == "1x222\n"

    def test_kernel_larger_than_the_padded_height_names_both_readings(self, invoke):
        result = invoke("shape", "--in", "8x224x224", "--f", "9", "-q")
        assert result.exit_code == 2
        assert "a 9x9 kernel does not fit 8x224" in result.stderr and "--layout chw" in result.stderr
        assert invoke("shape", "--in", "8x224x224", "--f", "9", "-q", "--layout", "chw").stdout == "216x216\n"

    def test_the_kernel_rule_looks_at_both_axes_of_both_readings(self, invoke):
        # the shape audit: 8x100x3 --f 9 offered CxHxW (100x3, which a 9-wide kernel does not fit either), and
        # 8x3x100 --f 1x5, which fits CxHxW alone, was a plain size error naming no --layout
        result = invoke("shape", "--in", "8x100x3", "--f", "9", "-q")
        assert result.exit_code == 2 and "reads two ways" not in result.stderr and "larger than the padded input" in result.stderr
        result = invoke("shape", "--in", "8x3x100", "--f", "1x5", "-q")
        assert result.exit_code == 2 and "a 1x5 kernel does not fit 8x3" in result.stderr and "--layout chw" in result.stderr
        assert invoke("shape", "--in", "8x3x100", "--f", "1x5", "-q", "--layout", "chw").stdout == "3x96\n"

    @pytest.mark.parametrize("pads", ["1,2,0,0", "0,3,0,0", "2,1,0,0", "3,0,0,0"])
    def test_the_kernel_rule_counts_top_and_bottom(self, invoke, pads):
        # 6 + 3 = 9 fits a 9-tall kernel whichever side gets the padding: 1,2 and 0,3 were refused
        # ("a 9-wide kernel does not fit a height of 6"), 2,1 and 3,0 accepted
        # (6x224x200 settles no reading by its sizes (audit 210 #1): it is refused as reading two ways, but never
        # for a kernel said not to fit the padded 6 rows; 6x224x224 is refused anyway, a square 224x224 map of 6 channels)
        result = invoke("shape", "--in", "6x224x200", "--f", "9", "-p", pads, "-q")
        assert result.exit_code == 2 and "reads two ways" in result.stderr and "does not fit" not in result.stderr
        result = invoke("shape", "--in", "6x224x200", "--f", "9", "-p", pads, "-q", "--layout", "hwc")
        assert result.exit_code == 0 and result.stdout == "1x216\n", result.output
        refused = invoke("shape", "--in", "6x224x200", "--f", "10", "-p", pads)
        assert refused.exit_code == 2 and "a 10x10 kernel does not fit 6x224" in refused.stderr

    def test_a_square_channels_first_map_is_refused(self, invoke):
        # the audit: 64x56x56 (PyTorch's 64 channels of 56x56) was read as a 64x56 image of 56 channels, exit 0
        result = invoke("shape", "--in", "64x56x56", "--f", "3", "-p", "1", "--filters", "128", "-q")
        assert result.exit_code == 2 and result.stdout == ""
        for words in ("reads two ways", "64x56 with 56 channels", "64 channels of 56x56", "--layout chw"):
            assert words in result.stderr
        assert invoke("shape", "--in", "64x56x56", "--f", "3", "-p", "1", "--filters", "128", "-q", "--layout", "chw").stdout == "128x56x56\n"
        assert invoke("shape", "--in", "56x56x64", "--f", "3", "-p", "1", "--filters", "128", "-q").stdout == "56x56x128\n"

    def test_unambiguous_shapes_need_no_flag(self, invoke):
        assert invoke("shape", "--in", "228x228x228", "--f", "3", "--filters", "32", "-q").stdout == "226x226x32\n"
        assert invoke("shape", "--in", "4x4x4", "--f", "3", "-q").stdout == "2x2\n"  # a cube: one reading
        assert invoke("shape", "--in", "3x4x2", "--f", "3", "-q").stdout == "1x2\n"  # 3 wide fits 3x4, not 4x2

    @pytest.mark.parametrize(("args", "hwc", "chw"), [
        (("64x64x64", "--f", "3", "--same", "--filters", "128"), "64x64x128", "128x64x64"),
        (("228x228x228", "--f", "3", "--filters", "32"), "226x226x32", "32x226x226"),  # the lecture's task
        (("64x64x64", "--f", "2", "--pool"), "32x32x64", "64x32x32"),
    ])
    def test_a_cube_with_channels_out_says_which_order_it_answers_in(self, invoke, args, hwc, chw):
        # the shapes audit (94): 64x64x64 --filters 128 printed 64x64x128 with nothing said, where PyTorch (CxHxW)
        # gives 128x64x64; a cube is one input either way, and HxWxC is the default (the lecture's 228x228x228)
        result = invoke("shape", "--in", *args)
        assert result.exit_code == 0 and f"is read HxWxC (the default), so the answer is {hwc}; --layout chw reads it CxHxW and writes {chw}" in result.stderr
        assert invoke("shape", "--in", *args, "-q").stdout == f"{hwc}\n"
        chosen = invoke("shape", "--in", *args, "--layout", "chw")
        assert chosen.exit_code == 0 and f"out = {chw}" in chosen.stdout and "the default" not in chosen.stderr
        assert "the default" not in invoke("shape", "--in", args[0], "--f", "3").stderr  # no channel axis: one answer

    @pytest.mark.parametrize("dims", ["3x4x4", "4x4x3", "3x5x4", "4x6x3"])
    def test_first_and_last_both_channel_counts_read_two_ways(self, invoke, dims):
        # the README audit (87): 3x4x4 (PyTorch's 3 channels of 4x4) was 3x4 with 4 channels, "1x2x2" and exit 0,
        # where torch gives 2x2x2 and the same .npy is refused naming both readings
        a, b, c = map(int, dims.split("x"))
        result = invoke("shape", "--in", dims, "--f", "3", "--filters", "2", "-q")
        assert result.exit_code == 2 and result.stdout == ""
        for words in ("reads two ways", f"{a}x{b} with {c} channels", f"{a} channels of {b}x{c}", "--layout chw"):
            assert words in result.stderr, result.stderr
        assert invoke("shape", "--in", dims, "--f", "3", "--filters", "2", "-q", "--layout", "chw").stdout == f"2x{b - 2}x{c - 2}\n"
        assert invoke("shape", "--in", dims, "--f", "3", "--filters", "2", "-q", "--layout", "hwc").stdout == f"{a - 2}x{b - 2}x2\n"

    def test_json_says_the_layout(self, invoke):
        doc = json.loads(invoke("shape", "--in", "3x24x24", "--f", "3", "--filters", "4", "--layout", "chw", "--json").stdout)
        assert doc["layout"] == "chw" and doc["in"] == [3, 24, 24] and doc["out"] == [4, 22, 22]

    def test_zyx_and_unknown_layouts_are_refused(self, invoke):
        assert invoke("shape", "--in", "3x224x224", "--f", "3", "--layout", "zyx").exit_code == 2
        result = invoke("shape", "--in", "3x224x224", "--f", "3", "--layout", "cwh")
        assert result.exit_code == 2 and "expected one of hwc, chw (a layer's shape; zyx, a volume's slices, is for convolve" in result.stderr

    @pytest.mark.parametrize("command", [["shape", "--in", "8x24x24", "--f", "3"], ["summary", "resnet18", "--input", "3x224x224"]])
    def test_shape_and_summary_offer_only_the_layouts_they_take(self, invoke, command):
        """Their --help offered [hwc|chw|zyx] and zyx was then refused."""
        text = invoke(command[0], "--help").stdout
        assert "--layout [hwc|chw]" in " ".join(text.split()) and "zyx" not in text.split("--layout", 1)[1].split("\n")[0]
        refused = invoke(*command, "--layout", "zyx")
        assert refused.exit_code == 2 and "zyx, a volume's slices, is for convolve, volume, pool, pad, gallery, learn, params --flatten" in refused.stderr
        assert invoke(*command, "--layout", "chw").exit_code == 0


class TestSummary:
    def test_hwc_input_contradicting_the_network_is_refused(self, invoke):
        # the issue: exit 0 with conv1 64x112x2 and 702,464 params
        result = invoke("summary", "resnet18", "--input", "224x224x3")
        assert result.exit_code == 2
        assert result.stdout == ""
        for words in ("224 channels", "resnet18 takes 3", "read as HxWxC it has 3", "--layout hwc"):
            assert words in result.stderr

    def test_with_the_flag_the_first_layer_is_right(self, invoke):
        doc = json.loads(invoke("summary", "resnet18", "--input", "224x224x3", "--layout", "hwc", "--json").stdout)
        conv1 = doc["layers"][0]
        assert conv1["name"] == "conv1" and conv1["params"] == 9408 and conv1["output_shape"] == [64, 112, 112]
        assert doc["totals"]["params"] == 11_689_512

    def test_the_table_speaks_the_layout_it_was_given(self, invoke):
        table = invoke("summary", "resnet18", "--input", "224x224x3", "--layout", "hwc", "--depth", "1").stdout
        assert "input 224x224x3 (HxWxC)" in table and "112x112x64" in table and "64x112x112" not in table
        assert "64x112x112" in invoke("summary", "resnet18", "--depth", "1").stdout

    def test_a_channel_count_no_reading_explains_is_refused(self, invoke):
        result = invoke("summary", "resnet18", "--input", "1x224x224")
        assert result.exit_code == 2 and "built for 3" in result.stderr

    def test_same_channels_other_size_is_fine(self, invoke):
        doc = json.loads(invoke("summary", "resnet18", "--input", "3x448x448", "--json").stdout)
        assert doc["layers"][0]["output_shape"] == [64, 224, 224]

    def test_a_spec_without_input_refuses_a_shape_that_reads_two_ways(self, invoke, tmp_path):
        # with no input in the spec to check against, 224x224x3 was read as 224 channels of 224x3, silently
        (tmp_path / "noin.json").write_text(json.dumps({"name": "noin", "layers": [{"type": "conv", "filters": 8, "f": 3}]}))
        result = invoke("summary", str(tmp_path / "noin.json"), "--input", "224x224x3")
        assert result.exit_code == 2
        for words in ("reads two ways", "224 channels of 224x3", "224x224 with 3 channels", "--layout hwc"):
            assert words in result.stderr
        hwc = json.loads(invoke("summary", str(tmp_path / "noin.json"), "--input", "224x224x3", "--layout", "hwc", "--json").stdout)
        assert hwc["input_shape"] == [3, 224, 224]
        assert invoke("summary", str(tmp_path / "noin.json"), "--input", "3x224x224").exit_code == 0
        assert network_input((64, 56, 56), None, None, "n") == (64, 56, 56)  # 56 channels last is no plausible image

    def test_api(self):
        assert network_input((224, 224, 3), "hwc", (3, 224, 224), "r") == (3, 224, 224)
        with pytest.raises(UsageError, match="give --layout hwc"):
            network_input((224, 224, 3), None, (3, 224, 224), "r")


    def test_summarize_in_python_checks_the_channels_as_the_command_does(self):
        # the audit: summarize("resnet18", (224, 224, 3)) gave 224 channels' numbers (12,382,568 params,
        # layer4 512x7x1) where the command refuses
        from kernelcli import summarize

        with pytest.raises(UsageError, match=r"input_shape 224x224x3: read as CxHxW it has 224 channels.*give layout=hwc"):
            summarize("resnet18", (224, 224, 3))
        hwc = summarize("resnet18", (224, 224, 3), layout="hwc")
        assert hwc.find("layer4").shape == (512, 7, 7) and hwc.params == 11_689_512
        with pytest.raises(UsageError, match="built for 3"):
            summarize("resnet18", (1, 224, 224))
        assert summarize("resnet18", (3, 448, 448)).find("layer4").shape == (512, 14, 14)

    @pytest.mark.parametrize("args", [["summary", "resnet18", "--layout", "zyx"], ["summary", "resnet18", "--layout", "hwc"]])
    def test_a_layout_with_nothing_to_read_is_refused(self, invoke, args):
        # it was accepted and ignored: `summary resnet18 --layout zyx` exit 0, refused with --input
        result = invoke(*args)
        assert result.exit_code == 2 and "--layout" in result.stderr and result.stdout == "", result.output

    @pytest.mark.parametrize("args", [["params", "--in-ch", "3", "--filters", "8", "--layout", "chw"],
                                      ["params", "--dense", "3", "8", "--layout", "hwc"]])
    def test_a_layout_a_layers_count_does_not_read_is_noted(self, invoke, args):
        # (refused, exit 2, until audit 132 #4: an option given that changes nothing is a note, as everywhere else)
        result = invoke(*args)
        assert result.exit_code == 0 and "so it changes nothing" in result.stderr and result.stdout, result.output


class TestArrays:
    def test_volume_npy_is_refused_then_pooled_in_3d(self, invoke, tmp_path):
        pytest.importorskip("nibabel")
        vol = tmp_path / "vol.npy"
        assert invoke("convolve", str(SAMPLES / "phantom3d.nii.gz"), "-k", "box:3", "--out", str(vol), "-q").exit_code == 0
        out = tmp_path / "p.npy"
        result = invoke("pool", str(vol), "--size", "2", "--out", str(out))
        # the issue: read back as (H, W, C) with 64 "channels"
        assert result.exit_code == 2 and not out.exists()
        assert "64 channels" in result.stderr and "(Z, Y, X) volume of 64 slices" in result.stderr and "--layout zyx" in result.stderr
        assert invoke("pool", str(vol), "--size", "2", "--out", str(out), "--layout", "zyx").exit_code == 0
        v = np.load(vol)
        expected = v.reshape(32, 2, 32, 2, 32, 2).max(axis=(1, 3, 5))
        np.testing.assert_array_equal(np.load(out), expected)

    def test_channels_first_array_is_refused_then_filtered_per_channel(self, invoke, tmp_path):
        x = np.random.default_rng(1).random((3, 20, 30)).astype(np.float32)
        np.save(tmp_path / "chw.npy", x)
        result = invoke("convolve", "chw.npy", "-k", "sobel_v", "--out", "c.npy")
        # the issue: filtered as 20 rows of 30 "channels"
        assert result.exit_code == 2 and not (tmp_path / "c.npy").exists()
        assert "(H, W, C) = 3x20 pixels with 30 channels" in result.stderr and "(C, H, W) = 3 channels of 20x30" in result.stderr
        assert invoke("convolve", "chw.npy", "-k", "sobel_v", "--out", "c.npy", "--layout", "chw").exit_code == 0
        got = np.load(tmp_path / "c.npy")
        assert got.shape == (3, 20, 30)
        np.testing.assert_allclose(got, _correlate_channels_first(x, SOBEL_V), rtol=1e-5, atol=1e-5)

    @pytest.mark.parametrize("how", [[], ["--tiled"]], ids=["in-memory", "tiled"])
    def test_a_deep_maps_small_square_is_refused(self, invoke, tmp_path, how):
        """A (64, 4, 4) .npy, PyTorch's 64 channels of 4x4 as plausibly as 64x4 pixels of 4 channels, was filtered in
        silence as the latter (exit 0; the sizes rule of audit 214 #1 for arrays): it is refused naming the readings."""
        if how:
            pytest.importorskip("dask")
        np.save(tmp_path / "deep.npy", np.random.default_rng(2).random((64, 4, 4)).astype(np.float32))
        result = invoke("convolve", "deep.npy", "-k", "box:3", "--out", "d.npy", *how)
        assert result.exit_code == 2 and not (tmp_path / "d.npy").exists(), result.output
        assert "(H, W, C) = 64x4 pixels with 4 channels" in result.stderr and "(C, H, W) = 64 channels of 4x4" in result.stderr
        assert invoke("convolve", "deep.npy", "-k", "box:3", "--out", "d.npy", "--layout", "chw", "-q", *how).exit_code == 0
        assert array_layout((64, 4, 3), None, "x.npy") == "hwc"  # (no square pair: 64x4 pixels of 3 channels)

    def test_weights_or_a_kernel_naming_the_channels_settle_a_deep_maps_small_square(self, invoke, tmp_path):
        """Audit 217 #2: 9edb841 refused a (64, 4, 4) array under --weights of 4 input channels or a (4, 3, 3) kernel,
        which leave (H, W, C) the only reading (they ran at f955285, 64x4x2 and 64x4): the weights' channels pick it,
        as for a first axis of 4 or less; 64-channel weights pick (C, H, W); a count neither has stays refused."""
        rng = np.random.default_rng(0)
        x = rng.random((64, 4, 4)).astype(np.float32)
        np.save(tmp_path / "d.npy", x)
        np.save(tmp_path / "w4.npy", rng.random((2, 4, 3, 3)).astype(np.float32))
        np.save(tmp_path / "k4.npy", rng.random((4, 3, 3)).astype(np.float32))
        np.save(tmp_path / "w64.npy", rng.random((1, 64, 3, 3)).astype(np.float32))
        np.save(tmp_path / "w3.npy", rng.random((1, 3, 3, 3)).astype(np.float32))
        for given, shape in ((["--weights", "w4.npy"], (64, 4, 2)), (["-k", "./k4.npy"], (64, 4)), (["--weights", "w64.npy"], (4, 4))):
            result = invoke("convolve", "d.npy", *given, "-o", "o.npy", "--force", "-q")
            assert result.exit_code == 0 and np.load(tmp_path / "o.npy").shape == shape, (given, result.output)
            picked = "chw" if given[1] == "w64.npy" else "hwc"
            assert invoke("convolve", "d.npy", *given, "-o", "p.npy", "--force", "-q", "--layout", picked).exit_code == 0
            np.testing.assert_array_equal(np.load(tmp_path / "o.npy"), np.load(tmp_path / "p.npy"))
        result = invoke("convolve", "d.npy", "--weights", "w3.npy", "-o", "n.npy")
        assert result.exit_code == 2 and "reads two ways" in result.stderr and not (tmp_path / "n.npy").exists()
        assert array_layout((64, 4, 4), None, "d.npy", channels=4, volume_too=True) == "hwc"  # as (64, 4, 3) is
        with pytest.raises(UsageError, match="a 3-D kernel of depth 64"):
            array_layout((64, 4, 4), None, "d.npy", channels=64, volume_too=True)  # 64 channels or 64 slices

    @pytest.mark.parametrize("layout", ["chw", "zyx"])
    def test_first_axis_layouts_equal_the_transposed_hwc_run(self, invoke, tmp_path, layout):
        x = np.random.default_rng(2).integers(0, 255, (6, 11, 9)).astype(np.float64)
        np.save(tmp_path / "x.npy", x)
        np.save(tmp_path / "xt.npy", np.ascontiguousarray(x.transpose(1, 2, 0)))
        assert invoke("convolve", "x.npy", "-k", "laplacian_4", "-o", "a.npy", "--layout", layout, "--padding", "valid").exit_code == 0
        assert invoke("convolve", "xt.npy", "-k", "laplacian_4", "-o", "b.npy", "--layout", "hwc", "--padding", "valid").exit_code == 0
        np.testing.assert_array_equal(np.load(tmp_path / "a.npy"), np.load(tmp_path / "b.npy").transpose(2, 0, 1))

    def test_zyx_refuses_kernels_that_would_sum_the_slices(self, invoke, tmp_path):
        from kernelcli.volumes import conv3d

        v = np.random.default_rng(0).random((2, 8, 8))
        np.save(tmp_path / "v.npy", v)
        (tmp_path / "k3.json").write_text(json.dumps({"name": "k3", "matrix": [[[1, 0], [0, 1]], [[1, 0], [0, 1]]]}))
        for refused in (["-k", "./k3.json", "-k", "./k3.json"], ["-k", "./k3.json", "--bias", "1"],
                        ["-k", "sobel_v", "--combine", "sum"]):
            result = invoke("convolve", "v.npy", *refused, "--layout", "zyx", "-o", "o.npy")
            assert result.exit_code == 2 and "slice by slice" in result.stderr and not (tmp_path / "o.npy").exists()
        # one 3-D kernel alone: a 3-D correlation (as the tiled path computes it)
        assert invoke("convolve", "v.npy", "-k", "./k3.json", "--layout", "zyx", "-o", "o.npy").exit_code == 0
        assert np.array_equal(np.load(tmp_path / "o.npy"), conv3d(v, np.array([[[1, 0], [0, 1]], [[1, 0], [0, 1]]])))
        assert invoke("convolve", "v.npy", "-k", "./k3.json", "--layout", "chw", "-o", "c.npy").exit_code == 0

    def test_filter_bank_on_chw_keeps_channels_first(self, invoke, tmp_path):
        x = np.random.default_rng(3).random((2, 8, 10))
        np.save(tmp_path / "x.npy", x)
        result = invoke("convolve", "x.npy", "-k", "sobel_v", "-k", "sobel_h", "--combine", "sum", "-o", "m.npy", "--layout", "chw")
        assert result.exit_code == 0, result.stderr
        maps = np.load(tmp_path / "m.npy")
        assert maps.shape == (2, 8, 10) and "-> m.npy 2x8x10" in result.stderr
        np.testing.assert_allclose(maps[0], _correlate_channels_first(x, SOBEL_V).sum(axis=0), atol=1e-9)

    def test_pad_and_pool_take_the_flag(self, invoke, tmp_path):
        x = np.arange(2 * 4 * 6, dtype=np.float64).reshape(2, 4, 6)
        np.save(tmp_path / "x.npy", x)
        assert invoke("pad", "x.npy", "--p", "1", "-o", "p.npy", "--layout", "chw").exit_code == 0
        np.testing.assert_array_equal(np.load(tmp_path / "p.npy"), np.pad(x, ((0, 0), (1, 1), (1, 1))))
        assert invoke("pool", "x.npy", "--size", "2", "-o", "q.npy", "--layout", "chw").exit_code == 0
        np.testing.assert_array_equal(np.load(tmp_path / "q.npy"), x.reshape(2, 2, 2, 3, 2).max(axis=(2, 4)))

    def test_plausible_channels_and_images_need_no_flag(self, invoke, tmp_path):
        np.save(tmp_path / "rgb.npy", np.random.default_rng(4).random((9, 7, 3)))
        assert invoke("convolve", "rgb.npy", "-k", "box:3", "-o", "o.npy").exit_code == 0
        assert np.load(tmp_path / "o.npy").shape == (9, 7, 3)
        result = invoke("convolve", str(SAMPLES / "rgb.png"), "-k", "box:3", "-o", "o.png", "--layout", "chw")
        assert result.exit_code == 2 and "stored (H, W, C)" in result.stderr

    @pytest.mark.parametrize("command", [("convolve", "-k", "box:3", "-o", "o.npy"), ("convolve", "-k", "box:3", "-k", "sobel_v", "-d", "maps"),
                                         ("pool", "--size", "2", "-o", "o.npy"), ("pad", "--p", "1", "-o", "o.npy"), ("gallery", "-o", "o.png"),
                                         ("learn", "{x}", "--size", "3", "-o", "o.json")], ids=lambda c: "_".join(c[:3]))
    @pytest.mark.parametrize("name", ["m.npy", "g.png"])
    def test_chw_on_a_2d_input_says_it_changes_nothing(self, invoke, tmp_path, command, name):
        # it was taken in silence (a 2-D input is one channel, read the same either way); an RGB PNG is refused
        x = np.random.default_rng(6).integers(0, 256, (9, 7)).astype(np.uint8)
        np.save(tmp_path / "m.npy", x)
        Image.fromarray(x).save(tmp_path / "g.png")
        args = [command[0], name, *(name if word == "{x}" else word for word in command[1:])]
        plain = invoke(*args)
        assert plain.exit_code == 0, plain.stderr
        assert "--layout" not in plain.stderr
        given = invoke(*args, "--layout", "chw", "--force")
        assert given.exit_code == 0, given.stderr
        assert f"note: {name}: a 2-D input is one channel, (1, H, W) and (H, W, 1) alike: --layout chw changes nothing" in given.stderr
        # hwc names no axis of a 2-D input either: noted as chw is (it was silent: audit 149 #4)
        assert "alike: --layout hwc changes nothing" in invoke(*args, "--layout", "hwc", "--force").stderr

    def test_2d_layouts_on_the_tiled_path_as_in_memory(self, invoke, tmp_path):
        pytest.importorskip("dask")
        np.save(tmp_path / "m.npy", np.arange(20.0).reshape(4, 5))
        refused = invoke("convolve", "m.npy", "-k", "box:3", "-o", "z.npy", "--layout", "zyx", "--tiled", "--chunks", "2")
        assert refused.exit_code == 2 and "--layout zyx needs a 3-D (Z, Y, X) array; this one is 2-D, 4x5" in refused.stderr
        assert not (tmp_path / "z.npy").exists()
        noted = invoke("convolve", "m.npy", "-k", "box:3", "-o", "c.npy", "--layout", "chw", "--tiled", "--chunks", "2", "--json")
        assert noted.exit_code == 0, noted.stderr
        assert any("--layout chw changes nothing" in text for text in json.loads(noted.stdout)["notes"])
        assert invoke("convolve", "m.npy", "-k", "box:3", "-o", "h.npy").exit_code == 0
        assert (tmp_path / "c.npy").read_bytes() == (tmp_path / "h.npy").read_bytes()

    def test_volume_files_take_only_zyx(self, invoke):
        pytest.importorskip("nibabel")
        for command in (("convolve", "-k", "box:3"), ("pool", "--size", "2")):
            result = invoke(command[0], str(SAMPLES / "phantom3d.nii.gz"), *command[1:], "--layout", "chw", "-o", "v.nii.gz")
            assert result.exit_code == 2 and "read (Z, Y, X)" in result.stderr

    def test_layout_functions(self):
        assert array_layout((5, 5, 4), None, "a") == "hwc"
        assert array_layout((3, 5, 5), "CHW", "a") == "chw"
        with pytest.raises(UsageError, match="2-D"):
            array_layout((5, 5), "zyx", "a")
        assert shape_layout((224, 224, 3), None, "--in") == "hwc"
        with pytest.raises(UsageError, match="reads two ways"):
            shape_layout((1, 28, 28), None, "--in")


class TestOtherCommands:
    def test_params_flatten_names_the_axes_it_was_given(self, invoke):
        assert invoke("params", "--flatten", "8x64x64", "--layout", "chw").stdout.splitlines()[1] == "(8, 64, 64) (C, H, W) -> (32768, 1)"
        assert invoke("params", "--flatten", "64x64x8").stdout.splitlines()[1] == "(64, 64, 8) -> (32768, 1)"
        doc = json.loads(invoke("params", "--flatten", "8x64x64", "--layout", "chw", "--json").stdout)
        assert doc["layout"] == "chw" and doc["out"] == 32768

    def test_learn_reads_channels_first_arrays(self, invoke, tmp_path):
        rng = np.random.default_rng(6)
        x = rng.random((2, 16, 18))
        k = np.array([[0.0, 1, 0], [2, -1, 0], [0, 0, 3]])
        target = np.stack([ndimage.correlate(p, k, mode="constant") for p in x])
        np.save(tmp_path / "x.npy", x)
        np.save(tmp_path / "t.npy", target)
        refused = invoke("learn", "x.npy", "t.npy", "--size", "3")
        assert refused.exit_code == 2 and "--layout" in refused.stderr
        result = invoke("learn", "x.npy", "t.npy", "--size", "3", "--layout", "chw", "--json")
        assert result.exit_code == 0, result.stderr
        learned = np.array(json.loads(result.stdout)["kernel"])  # one kernel per channel
        np.testing.assert_allclose(learned, np.stack([k, k]), atol=1e-8)

    def test_gallery_refuses_then_reads(self, invoke, tmp_path):
        np.save(tmp_path / "x.npy", np.random.default_rng(8).random((3, 24, 20)))
        refused = invoke("gallery", "x.npy", "--family", "edge", "-o", "s.png")
        assert refused.exit_code == 2 and "(C, H, W) = 3 channels of 24x20" in refused.stderr
        assert invoke("gallery", "x.npy", "--family", "edge", "-o", "s.png", "--layout", "chw").exit_code == 0


@settings(max_examples=12, deadline=None)
@given(
    st.integers(1, 6), st.integers(3, 9), st.integers(3, 9), st.sampled_from(["chw", "zyx"]),
    st.sampled_from(["sobel_v", "box:2", "laplacian_4"]), st.sampled_from(["same", "valid"]),
)
def test_first_axis_layouts_filter_each_plane_alone(c, h, w, layout, kernel, padding):
    """Property: with --layout chw or zyx, every plane of the first axis is filtered exactly as a 2-D array."""
    import tempfile
    from pathlib import Path

    from kernelcli.catalog import load_kernel
    from kernelcli.jobs import ConvolveOptions, convolve_file

    x = np.random.default_rng(c * 100 + h * 10 + w).random((c, h, w))
    options = ConvolveOptions(padding=padding, layout=layout)
    with tempfile.TemporaryDirectory() as folder:
        np.save(Path(folder) / "x.npy", x)
        convolve_file(Path(folder) / "x.npy", kernel, options, out=Path(folder) / "y.npy")
        got = np.load(Path(folder) / "y.npy")
        for k, plane in enumerate(x):
            np.save(Path(folder) / f"p{k}.npy", plane)
            convolve_file(Path(folder) / f"p{k}.npy", kernel, ConvolveOptions(padding=padding), out=Path(folder) / f"q{k}.npy")
            np.testing.assert_array_equal(got[k], np.load(Path(folder) / f"q{k}.npy"))
    assert got.shape[0] == c and load_kernel(kernel)


@pytest.mark.parametrize("shape", [(3, 3, 3), (3, 5, 4), (2, 6, 2), (4, 5, 3)])
def test_an_array_whose_first_and_last_axes_are_both_channel_counts_is_refused(shape, tmp_path):
    # the convolve audit: (3, 3, 3) was read (H, W, C) without a word, 8.85 off the (C, H, W) reading
    import numpy as np
    from conftest import run_in_process

    np.save(tmp_path / "a.npy", np.random.default_rng(5).normal(size=shape))
    r = run_in_process("convolve", str(tmp_path / "a.npy"), "-k", "sobel_v", "-o", str(tmp_path / "o.npy"))
    assert r.returncode == 2 and "reads two ways" in r.stderr and "--layout chw" in r.stderr and not (tmp_path / "o.npy").exists()
    assert run_in_process("convolve", str(tmp_path / "a.npy"), "-k", "sobel_v", "--layout", "hwc", "-o", str(tmp_path / "o.npy")).returncode == 0


def test_weights_pick_the_reading_their_channels_name(tmp_path):
    # the lecture's 4x4x3 RGB example under (K, 3, f, f) weights; a 3x4x4 array under one 3-channel kernel file is a
    # volume of 3 slices too, that kernel's 3-D correlation (audit 202 #3): refused naming both, --layout chw picks one
    import numpy as np
    from conftest import run_in_process

    rng = np.random.default_rng(0)
    np.save(tmp_path / "hwc.npy", rng.random((4, 4, 3)))
    np.save(tmp_path / "chw.npy", rng.random((3, 4, 4)))
    np.save(tmp_path / "w.npy", rng.random((2, 3, 2, 2)))
    np.save(tmp_path / "k3.npy", rng.random((3, 2, 2)))
    for name, want in (("hwc.npy", (3, 3, 2)), ("chw.npy", (2, 3, 3))):
        r = run_in_process("convolve", str(tmp_path / name), "--weights", str(tmp_path / "w.npy"), "--padding", "valid",
                    "-o", str(tmp_path / f"o_{name}"))
        assert r.returncode == 0 and np.load(tmp_path / f"o_{name}").shape == want, r.stderr
    r = run_in_process("convolve", str(tmp_path / "chw.npy"), "-k", str(tmp_path / "k3.npy"), "--padding", "valid", "-o", str(tmp_path / "k.npy"))
    assert r.returncode == 2 and "give --layout chw or --layout zyx" in r.stderr and not (tmp_path / "k.npy").exists()
    r = run_in_process("convolve", str(tmp_path / "chw.npy"), "-k", str(tmp_path / "k3.npy"), "--padding", "valid", "--layout", "chw",
                "-o", str(tmp_path / "k.npy"))
    assert r.returncode == 0 and np.load(tmp_path / "k.npy").shape == (3, 3), r.stderr
    np.save(tmp_path / "big.npy", rng.random((3, 16, 16)))  # a last axis of 16: refused without --layout, weights or not
    r = run_in_process("convolve", str(tmp_path / "big.npy"), "--weights", str(tmp_path / "w.npy"), "-o", str(tmp_path / "g.npy"))
    assert r.returncode == 2 and "reads two ways" in r.stderr
    np.save(tmp_path / "both.npy", rng.random((3, 4, 3)))  # 3 channels either way: still two readings
    r = run_in_process("convolve", str(tmp_path / "both.npy"), "--weights", str(tmp_path / "w.npy"), "-o", str(tmp_path / "b.npy"))
    assert r.returncode == 2 and "reads two ways" in r.stderr


@pytest.mark.parametrize("call", [
    ["convolve", "v.npy", "--layout", "zyx", "-k", "box:3", "--rescale", "minmax", "-o", "o.png"],
    ["pool", "v.npy", "--layout", "zyx", "-f", "2", "-o", "o.png"],
    ["pad", "v.npy", "--layout", "zyx", "-p", "1", "-o", "o.tif"],
    ["convolve", "v.npy", "--layout", "zyx", "-k", "box:3", "-o", "o.csv"],
], ids=["convolve-png", "pool-png", "pad-tif", "convolve-csv"])
def test_a_zyx_volume_is_never_written_as_a_pictures_colours(tmp_path, call):
    """A --layout zyx result written to a picture took its slices for colours: 3 slices under box:3 became an RGB PNG,
    and a (6, 12, 6) volume pooled to (3, 6, 3) a 6x3 RGB PNG whose colours were its X axis (exit 0). Refused now, for
    every picture and matrix type, naming the volume and .npy; the .npy output is the volume."""
    from conftest import run_in_process

    np.save(tmp_path / "v.npy", np.random.default_rng(3).integers(0, 256, (6, 12, 6)).astype(np.uint8))
    r = run_in_process(*call, cwd=tmp_path)
    read = "pools v.npy in 3-D to a volume of 3 slices (3x6x3" if call[0] == "pool" else "reads v.npy as a volume of 6 slices (6x12x6"
    assert r.returncode == 2 and f"--layout zyx {read} as (Z, Y, X))" in r.stderr, r.stderr
    assert "write .npy to keep the volume (Z, Y, X)" in r.stderr and not list(tmp_path.glob("o.*"))
    npy = run_in_process(*call[:-1], "o.npy", cwd=tmp_path)
    assert npy.returncode == 0 and np.load(tmp_path / "o.npy").ndim == 3, npy.stderr
