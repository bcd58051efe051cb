"""`kernelcli convolve` as a layer: filter banks, --combine, --bias, --activation, --weights, several maps out."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from kernelcli import api
from kernelcli.catalog import load_kernel
from kernelcli.cli import app
from kernelcli.layers import conv_layer

from conftest import SAMPLES, pixels

EX1 = "7 2 3 3 8\n4 5 3 8 4\n3 3 2 8 4\n2 8 7 2 7\n5 4 4 5 4\n"
PREWITT_V_EX1 = [[6, -9, -8], [-3, -2, -3], [-3, 0, -2]]
# prewitt_h (top row minus bottom row of each window) on example 1:
#   (0,0): 7+2+3 - (3+3+2) = 4    (0,1): 2+3+3 - (3+2+8) = -5   (0,2): 3+3+8 - (2+8+4) = 0
#   (1,0): 4+5+3 - (2+8+7) = -5   (1,1): 5+3+8 - (8+7+2) = -1   (1,2): 3+8+4 - (7+2+7) = -1
#   (2,0): 3+3+2 - (5+4+4) = -5   (2,1): 3+2+8 - (4+4+5) = 0    (2,2): 2+8+4 - (4+5+4) = 1
PREWITT_H_EX1 = [[4, -5, 0], [-5, -1, -1], [-5, 0, 1]]




@pytest.fixture
def ex1(tmp_path):
    p = tmp_path / "ex1.csv"
    p.write_text(EX1)
    return p


@pytest.fixture
def rgb(tmp_path):
    """A small RGB image with structure in every channel."""
    rng = np.random.default_rng(0)
    data = rng.integers(0, 256, (40, 48, 3), dtype=np.uint8)
    p = tmp_path / "rgb.png"
    Image.fromarray(data).save(p)
    return p, data


@pytest.fixture
def grey(tmp_path):
    data = np.zeros((32, 40), dtype=np.uint8)
    data[8:24, 10:30] = 200
    p = tmp_path / "grey.png"
    Image.fromarray(data).save(p)
    return p, data


def tables(stdout: str) -> dict[str, list[list[float]]]:
    """Parse the ``# label`` blocks of several maps printed on stdout."""
    out: dict[str, list[list[float]]] = {}
    label = None
    for line in stdout.splitlines():
        if line.startswith("# "):
            label = line[2:]
            out[label] = []
        elif line.strip():
            out[label].append([float(v) for v in line.split()])
    return out


class TestTodayUnchanged:
    """A single 2-D kernel without the layer options: the same outputs as before."""

    def test_matrix_printed_as_before(self, invoke, ex1):
        r = invoke("convolve", ex1, "--kernel", "prewitt_v", "--padding", "valid", "-q")
        assert r.exit_code == 0, r.output
        assert r.stdout == " 6 -9 -8\n-3 -2 -3\n-3  0 -2\n"

    def test_json_has_no_layer_fields(self, invoke, ex1):
        doc = json.loads(invoke("convolve", ex1, "-k", "prewitt_v", "--padding", "valid", "--json", "-q").stdout)
        assert doc["matrix"] == PREWITT_V_EX1 and doc["kernel"] == "prewitt_v"
        assert "maps" not in doc and "montage" not in doc

    def test_rgb_image_default_name_and_per_channel_values(self, invoke, rgb, tmp_path):
        path, data = rgb
        r = invoke("convolve", path, "-k", "box_3x3", "-q")
        assert r.exit_code == 0, r.output
        written = pixels(tmp_path / "rgb_box_3x3.png")
        want = np.clip(np.rint(api.conv2d(data, load_kernel("box_3x3").array())), 0, 255)
        np.testing.assert_array_equal(written, want)

    def test_explicit_per_channel_gives_the_same_bytes(self, invoke, rgb, tmp_path):
        path, _ = rgb
        invoke("convolve", path, "-k", "sobel_v", "--out", "a.png", "-q")
        invoke("convolve", path, "-k", "sobel_v", "--combine", "per-channel", "--out", "b.png", "-q")
        invoke("convolve", path, "-k", "sobel_v", "--montage", "m.png", "--out", "c.png", "-q")
        a = (tmp_path / "a.png").read_bytes()
        assert a == (tmp_path / "b.png").read_bytes() == (tmp_path / "c.png").read_bytes()
        assert (tmp_path / "m.png").is_file()


class TestBankOnMatrices:
    def test_two_kernels_print_two_maps(self, invoke, ex1):
        r = invoke("convolve", ex1, "-k", "prewitt_v", "-k", "prewitt_h", "--padding", "valid")
        assert r.exit_code == 0, r.output
        assert tables(r.stdout) == {"prewitt_v": PREWITT_V_EX1, "prewitt_h": PREWITT_H_EX1}
        assert "convolve prewitt_v, prewitt_h (valid) -> stdout 3x3x2" in r.stderr  # (audit 93 F5: the options named)

    def test_bias_per_kernel_then_relu(self, invoke, ex1):
        r = invoke("convolve", ex1, "-k", "prewitt_v", "-k", "prewitt_h", "--padding", "valid", "--bias=-2,1", "--activation", "relu", "-q")
        got = tables(r.stdout)
        np.testing.assert_array_equal(got["prewitt_v"], np.maximum(np.array(PREWITT_V_EX1) - 2, 0))
        np.testing.assert_array_equal(got["prewitt_h"], np.maximum(np.array(PREWITT_H_EX1) + 1, 0))

    def test_one_kernel_with_bias_and_leaky_relu(self, invoke, ex1):
        r = invoke("convolve", ex1, "-k", "prewitt_v", "--padding", "valid", "--bias", "1", "--activation", "leaky_relu", "--json", "-q")
        doc = json.loads(r.stdout)
        v = np.array(PREWITT_V_EX1) + 1.0
        np.testing.assert_allclose(doc["matrix"], np.where(v >= 0, v, 0.01 * v))
        assert doc["operation"] == "convolve prewitt_v_valid [bias, leaky_relu]"

    def test_json_holds_maps_in_order(self, invoke, ex1):
        doc = json.loads(invoke("convolve", ex1, "-k", "prewitt_h", "-k", "prewitt_v", "--padding", "valid", "--json", "-q").stdout)
        assert doc["maps"] == ["prewitt_h", "prewitt_v"] and doc["output_shape"] == [3, 3, 2]
        assert doc["matrix"] == [PREWITT_H_EX1, PREWITT_V_EX1]

    def test_npy_out_is_height_width_maps(self, invoke, ex1, tmp_path):
        r = invoke("convolve", ex1, "-k", "prewitt_v", "-k", "prewitt_h", "--padding", "valid", "--out", "maps.npy", "-q")
        assert r.exit_code == 0, r.output
        maps = np.load(tmp_path / "maps.npy")
        assert maps.shape == (3, 3, 2)
        np.testing.assert_array_equal(maps[:, :, 0], PREWITT_V_EX1)
        np.testing.assert_array_equal(maps[:, :, 1], PREWITT_H_EX1)


class TestBankOnImages:
    def test_default_output_is_npy_of_all_maps(self, invoke, grey, tmp_path):
        path, data = grey
        r = invoke("convolve", path, "-k", "sobel_v", "-k", "sobel_h", "-k", "laplacian_4")
        assert r.exit_code == 0, r.output
        assert r.stdout.strip() == "grey_sobel_v_sobel_h_laplacian_4.npy"
        maps = np.load(tmp_path / "grey_sobel_v_sobel_h_laplacian_4.npy")
        for i, name in enumerate(["sobel_v", "sobel_h", "laplacian_4"]):
            np.testing.assert_array_equal(maps[:, :, i], api.conv2d(data, load_kernel(name).array()))

    def test_multipage_tiff_holds_float32_pages(self, invoke, grey, tmp_path):
        path, data = grey
        r = invoke("convolve", path, "-k", "sobel_v", "-k", "gaussian:1", "--out", "maps.tif", "-q")
        assert r.exit_code == 0, r.output
        with Image.open(tmp_path / "maps.tif") as im:
            assert im.n_frames == 2
            pages = []
            for page in range(2):
                im.seek(page)
                assert im.mode == "F"
                pages.append(np.asarray(im).copy())
        np.testing.assert_array_equal(pages[0], api.conv2d(data, load_kernel("sobel_v").array()))
        np.testing.assert_array_equal(pages[1], api.conv2d(data, load_kernel("gaussian:1").array()))

    def test_per_channel_bank_on_rgb_is_kernel_major(self, invoke, rgb, tmp_path):
        path, data = rgb
        r = invoke("convolve", path, "-k", "sobel_v", "-k", "box_3x3", "--out", "m.npy", "--json", "-q")
        doc = json.loads(r.stdout)
        assert doc["maps"] == ["sobel_v[R]", "sobel_v[G]", "sobel_v[B]", "box_3x3[R]", "box_3x3[G]", "box_3x3[B]"]
        maps = np.load(tmp_path / "m.npy")
        np.testing.assert_array_equal(maps[:, :, :3], api.conv2d(data, load_kernel("sobel_v").array()))
        np.testing.assert_array_equal(maps[:, :, 3:], api.conv2d(data, load_kernel("box_3x3").array()))

    def test_combine_sum_is_the_kernel_on_every_channel_summed(self, invoke, rgb, tmp_path):
        path, data = rgb
        r = invoke("convolve", path, "-k", "sobel_v", "--combine", "sum", "--bias=-10", "--activation", "relu", "--out", "e.npy", "-q")
        assert r.exit_code == 0, r.output
        k = load_kernel("sobel_v").array()
        want = np.maximum(sum(api.conv2d(data[:, :, c], k) for c in range(3)) - 10, 0)
        np.testing.assert_array_equal(np.load(tmp_path / "e.npy"), want)  # integers: exact in float32

    def test_montage_only(self, invoke, grey, tmp_path):
        path, _ = grey
        r = invoke("convolve", path, "-k", "sobel_v", "-k", "sobel_h", "--montage", "sheet.png")
        assert r.exit_code == 0, r.output
        assert r.stdout.strip() == "sheet.png"
        assert sorted(p.name for p in tmp_path.iterdir()) == ["grey.png", "sheet.png"]
        with Image.open(tmp_path / "sheet.png") as im:
            assert im.format == "PNG" and im.mode == "RGB" and im.width > 3 * 40

    def test_montage_and_out(self, invoke, grey, tmp_path):
        path, _ = grey
        doc = json.loads(invoke("convolve", path, "-k", "sobel_v", "-k", "sobel_h", "--montage", "s.png", "--out", "m.npy", "--json", "-q").stdout)
        assert doc["output"] == "m.npy" and doc["montage"] == "s.png"
        assert (tmp_path / "m.npy").is_file() and (tmp_path / "s.png").is_file()

    def test_phantom_sample(self, invoke, tmp_path):
        phantom = SAMPLES / "phantom.png"
        r = invoke("convolve", phantom, "-k", "sobel_v", "-k", "sobel_h", "-k", "laplacian_4", "--montage", "maps.png", "-q")
        assert r.exit_code == 0, r.output


class TestWeights:
    def write(self, tmp_path, name, array):
        p = tmp_path / name
        np.save(p, np.asarray(array))
        return p

    def test_worked_example_as_a_trained_layer(self, invoke, tmp_path):
        from test_layers import rgb_example

        x, w = rgb_example()
        self.write(tmp_path, "x.npy", x)
        self.write(tmp_path, "w.npy", w)
        r = invoke("convolve", "x.npy", "--weights", "w.npy", "--bias", "1", "--activation", "relu", "--padding", "valid", "--out", "y.npy", "-q")
        assert r.exit_code == 0, r.output
        np.testing.assert_array_equal(np.load(tmp_path / "y.npy"), [[9, 0], [0, 7]])

    def test_bank_with_bias_file_matches_conv_layer(self, invoke, tmp_path):
        rng = np.random.default_rng(1)
        x, w, b = rng.normal(size=(20, 18, 3)), rng.normal(size=(4, 3, 3, 3)), rng.normal(size=4)
        for name, arr in (("x.npy", x), ("conv1.npy", w), ("b.npy", b)):
            self.write(tmp_path, name, arr)
        r = invoke("convolve", "x.npy", "--weights", "conv1.npy", "--bias-file", "b.npy", "--activation", "tanh", "--stride", "2", "--padding", "1", "--json", "-q")
        assert r.exit_code == 0, r.output
        doc = json.loads(r.stdout)
        assert doc["output"] == "x_conv1_s2_p1_bias_tanh.npy" and doc["maps"] == [f"conv1[{k}]" for k in range(4)]
        want = conv_layer(x, w, b, stride=2, padding=1, activation="tanh")
        np.testing.assert_array_equal(np.load(tmp_path / "x_conv1_s2_p1_bias_tanh.npy"), want)

    @pytest.mark.parametrize(
        ("weights", "extra", "code", "message"),
        [
            (np.ones((3, 3, 3)), [], 3, "weights must be 4-D (K filters, C channels, f, f)"),
            (np.full((1, 3, 3, 3), np.nan), [], 3, "the value at (0, 0, 0, 0) is nan, expected a finite number (27 values are NaN or infinite)"),
            (np.ones((2, 1, 3, 3)), [], 2, "each filter spans 1 channel, but the input has 3 channels; give filters of 3 channels"),
            (np.ones((2, 3, 3, 3)), ["--bias", "1,2,3"], 2, "--bias has 3 values for 2 filters"),
            (np.ones((2, 3, 3, 3)), ["--bias-file", "bad_bias.npy"], 2, "--bias-file bad_bias.npy has 3 values for 2 filters"),
            (np.ones((2, 3, 3, 3)), ["--combine", "sum"], 2, "--combine is for 2-D --kernel filters"),
            (np.ones((2, 3, 3, 3)), ["-k", "sobel_v"], 2, "either --kernel"),
        ],
    )
    def test_errors(self, invoke, tmp_path, weights, extra, code, message):
        self.write(tmp_path, "x.npy", np.ones((8, 8, 3)))
        self.write(tmp_path, "w.npy", weights)
        self.write(tmp_path, "bad_bias.npy", np.ones(3))
        r = invoke("convolve", "x.npy", "--weights", "w.npy", "--out", "y.npy", *extra)
        assert r.exit_code == code, r.output
        assert message in r.stderr
        assert not (tmp_path / "y.npy").exists()

    @pytest.mark.parametrize("option", ["--weights", "--bias-file", "-k"])
    def test_a_broken_npy_header_is_a_clear_error(self, invoke, tmp_path, option):
        """A .npy whose header numpy's tokenizer chokes on exited 70 ("internal error") for --weights."""
        self.write(tmp_path, "x.npy", np.ones((8, 8, 3)))
        self.write(tmp_path, "w.npy", np.ones((2, 3, 3, 3)))
        good = (tmp_path / "w.npy").read_bytes()
        (tmp_path / "bad.npy").write_bytes(good.replace(b"'descr'", b"'descr'(", 1))
        extra = ["--weights", "w.npy"] if option == "--bias-file" else []
        r = invoke("convolve", "x.npy", *extra, option, "bad.npy", "--out", "y.npy")
        assert r.exit_code == 3, r.output
        assert "bad.npy: not a valid .npy array" in r.stderr and "internal error" not in r.stderr
        assert not (tmp_path / "y.npy").exists()

    def test_missing_weights_file(self, invoke, tmp_path):
        self.write(tmp_path, "x.npy", np.ones((8, 8)))
        r = invoke("convolve", "x.npy", "--weights", "nope.npy", "--out", "y.npy")
        assert r.exit_code == 3 and "nope.npy: no such file" in r.stderr


class TestThreeDKernelFiles:
    def test_three_d_kernel_file_sums_channels(self, invoke, tmp_path):
        from kernelcli import jobs
        from test_layers import rgb_example

        x, w = rgb_example()
        np.save(tmp_path / "x.npy", x)
        (tmp_path / "rgb3.json").write_text(json.dumps({"name": "rgb3", "matrix": w[0].tolist()}))
        assert jobs.load_layer_kernel(str(tmp_path / "rgb3.json")).shape == (3, 3, 3)
        r = invoke("convolve", "x.npy", "-k", "rgb3.json", "--bias", "1", "--activation", "relu", "--padding", "valid", "--out", "y.npy", "-q")
        assert r.exit_code == 0, r.output
        np.testing.assert_array_equal(np.load(tmp_path / "y.npy"), [[9, 0], [0, 7]])
        np.save(tmp_path / "g.npy", x[:, :, 0])
        r = invoke("convolve", "g.npy", "-k", "rgb3.json", "--out", "g_out.npy")
        assert r.exit_code == 2 and "depth 3" in r.stderr

    def test_three_d_kernel_through_the_cli(self, invoke, tmp_path, monkeypatch):
        """The CLI path for a 3-D kernel, with the catalogue's loading stood in for."""
        from kernelcli import layer_files  # the CLI imports load_layer_kernel from its home
        from kernelcli.catalog import Kernel
        from test_layers import rgb_example

        x, w = rgb_example()
        kernel = Kernel("rgb3", tuple(tuple(tuple(row) for row in plane) for plane in w[0].tolist()))
        monkeypatch.setattr(layer_files, "load_layer_kernel", lambda spec: kernel if spec == "rgb3" else load_kernel(spec))
        np.save(tmp_path / "x.npy", x)
        r = invoke("convolve", "x.npy", "-k", "rgb3", "--bias", "1", "--activation", "relu", "--padding", "valid", "--out", "y.npy", "--json", "-q")
        assert r.exit_code == 0, r.output
        assert json.loads(r.stdout)["operation"] == "convolve rgb3_valid [bias, relu]"
        np.testing.assert_array_equal(np.load(tmp_path / "y.npy"), [[9, 0], [0, 7]])
        # with a 2-D kernel in the same bank, summed over channels
        r = invoke("convolve", "x.npy", "-k", "rgb3", "-k", "box_3x3", "--combine", "sum", "--padding", "valid", "--out", "z.npy", "-q")
        assert r.exit_code == 0, r.output
        z = np.load(tmp_path / "z.npy")
        np.testing.assert_array_equal(z[:, :, 0], [[8, -1], [-2, 6]])
        np.testing.assert_allclose(z[:, :, 1], sum(api.conv2d(x[:, :, c], load_kernel("box_3x3").array(), padding="valid") for c in range(3)))
        np.save(tmp_path / "g.npy", x[:, :, 0])
        r = invoke("convolve", "g.npy", "-k", "rgb3", "--out", "g_out.npy")
        assert r.exit_code == 2 and "kernel rgb3 is 3-D with depth 3 (3x3x3), but the input has 1 channel:" in r.stderr


class TestUsageErrors:
    @pytest.mark.parametrize(
        ("args", "code", "message"),
        [
            (["--padding", "valid"], 2, "missing --kernel"),
            (["-k", "sobel_v", "-k", "sobel_h", "--out", "o.png"], 2, "several feature maps need .npy"),
            (["-k", "sobel_v", "-k", "sobel_h", "--out", "o.csv"], 2, "several feature maps need .npy"),
            (["-k", "sobel_v", "-k", "sobel_h", "--montage", "m.npy"], 2, "'.npy' for a montage (a picture)"),
            (["-k", "sobel_v", "--activation", "softmax"], 2, "invalid activation 'softmax'"),
            (["-k", "sobel_v", "--combine", "mean"], 2, "invalid combine mode 'mean'"),
            (["-k", "sobel_v", "-k", "sobel_h", "--bias", "1,2,3"], 2, "3 values for 2 kernels"),
            (["-k", "sobel_v", "--bias", "x"], 2, "Invalid value for '--bias': 'x'"),
            (["-k", "sobel_v", "--bias-file", "b.npy"], 2, "--bias-file goes with --weights"),
            (["-k", "sobel_v", "-k", "gaussian:1", "--padding", "valid"], 2, "kernels of different sizes give maps of different sizes"),
            (["-k", "sobel_v", "-k", "no_such_kernel"], 3, "no_such_kernel"),
        ],
    )
    def test_messages(self, invoke, grey, tmp_path, args, code, message):
        path, _ = grey
        before = sorted(p.name for p in tmp_path.iterdir())
        r = invoke("convolve", path, *args)
        assert r.exit_code == code, r.output
        assert message in r.stderr
        assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing written

    def test_existing_outputs_refused_before_reading(self, invoke, grey, tmp_path):
        path, _ = grey
        (tmp_path / "m.npy").write_bytes(b"keep")
        r = invoke("convolve", path, "-k", "sobel_v", "-k", "sobel_h", "--out", "m.npy")
        assert r.exit_code == 4 and "already exists" in r.stderr
        assert (tmp_path / "m.npy").read_bytes() == b"keep"
        (tmp_path / "s.png").write_bytes(b"keep")
        r = invoke("convolve", path, "-k", "sobel_v", "-k", "sobel_h", "--montage", "s.png")
        assert r.exit_code == 4 and (tmp_path / "s.png").read_bytes() == b"keep"

    def test_out_and_montage_must_differ(self, invoke, grey):
        path, _ = grey
        r = invoke("convolve", path, "-k", "sobel_v", "--montage", "x.png", "--out", "x.png")
        assert r.exit_code == 4 and "--out and --montage name the same file" in r.stderr
