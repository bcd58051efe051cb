"""Audit 156 (gallery, ``convolve --montage`` and the sheets, round 6): the findings, checked."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from conftest import drawn_text, pixels

SAMPLE = Path(__file__).resolve().parents[1] / "samples" / "phantom.png"


@pytest.fixture
def phantom(tmp_path):
    """samples/phantom.png copied into ``tmp_path``."""
    shutil.copy(SAMPLE, tmp_path / "phantom.png")
    return tmp_path


# 8: two outputs that name one file through a link whose target does not exist yet were both written (exit 0, the
# link replaced by a regular file); with the target present the pair was refused (exit 4)

PAIRS = [
    (["-k", "sobel_v", "-k", "sobel_h", "--out", "{a}.tif", "--montage", "{b}.tif"], "--out and --montage"),
    (["-k", "sobel_v", "-k", "sobel_h", "--out", "{b}.tif", "--montage", "{a}.tif"], "--out and --montage"),
    (["-k", "sobel_v", "-o", "{a}.png", "--report", "{b}.png"], "is also the output"),
    (["-k", "sobel_v", "-o", "{b}.png", "--report", "{a}.png"], "is also the output"),
    (["-k", "sobel_v", "-k", "sobel_h", "--montage", "{a}.png", "--report", "{b}.png"], "is also the output"),
]


@pytest.mark.parametrize("target_exists", [False, True], ids=["dangling", "existing"])
@pytest.mark.parametrize("args, words", PAIRS)
def test_two_outputs_naming_one_file_through_a_link_are_refused(invoke, phantom, args, words, target_exists):
    suffix = args[-1][-4:]
    (phantom / f"lnk{suffix}").symlink_to(f"real{suffix}")
    if target_exists:
        (phantom / f"real{suffix}").write_bytes(b"")
    r = invoke("convolve", "phantom.png", *[a.format(a="real", b="lnk") for a in args], "--force", "-q")
    assert r.exit_code == 4, r.output
    assert words in r.stderr, r.stderr
    assert os.path.islink(phantom / f"lnk{suffix}")
    assert os.path.exists(phantom / f"real{suffix}") == target_exists


def test_same_file_follows_a_dangling_link(tmp_path):
    from kernelcli.io.output_checks import same_file

    (tmp_path / "l1").symlink_to("l2")
    (tmp_path / "l2").symlink_to("sub/../t")
    assert same_file(tmp_path / "l1", tmp_path / "t") and same_file(tmp_path / "t", tmp_path / "l1")
    assert not same_file(tmp_path / "l1", tmp_path / "u")


# 1: a colour tile stretches its three maps together (which keeps their hue), but the sheet's note, the README and
# --help said each map is stretched on its own, and the tile's one range read as a grey map's

def _rgb(path):
    from PIL import Image

    rng = np.random.default_rng(0)
    a = np.zeros((64, 64, 3), np.uint8)
    a[..., 1], a[..., 2] = rng.integers(0, 255, (64, 64)), rng.integers(0, 4, (64, 64))
    Image.fromarray(a).save(path)


@pytest.mark.parametrize("args", [
    ["convolve", "r0.png", "-k", "sobel_v", "-k", "sobel_h", "--montage", "m.png"],
    ["convolve", "r0.png", "-k", "sobel_v", "-k", "sobel_h", "--montage", "m.png", "--out", "m.npy"],
    ["gallery", "r0.png", "--family", "edge", "--out", "m.png"],
], ids=["montage", "montage+out", "gallery"])
def test_a_colour_tile_says_its_three_maps_are_stretched_together(invoke, tmp_path, monkeypatch, args):
    from kernelcli.montage import COLOUR_STRETCHED

    _rgb(tmp_path / "r0.png")
    shown = drawn_text(monkeypatch)
    r = invoke(*args, "-q")
    assert r.exit_code == 0, r.output
    text = " ".join(shown)
    assert COLOUR_STRETCHED in text.replace("  ", " ") or "stretched together" in text, shown
    assert "each map stretched from its min (black) to its max (white)" in text, shown
    assert any(line.startswith("RGB together: [") for line in shown), shown


def test_a_grey_sheet_says_nothing_of_colour_tiles(invoke, phantom, monkeypatch):
    shown = drawn_text(monkeypatch)
    r = invoke("convolve", "phantom.png", "-k", "sobel_v", "-k", "sobel_h", "--montage", "m.png", "-q")
    assert r.exit_code == 0, r.output
    assert not any("together" in line for line in shown), shown


def test_the_joint_stretch_is_kept_and_the_colour_tiles_range_is_the_three_maps(tmp_path):
    from kernelcli.montage import range_text, to_display

    maps = np.zeros((4, 4, 3))
    maps[..., 1] = np.arange(16).reshape(4, 4) * 10 - 80.0
    assert range_text(maps) == "RGB together: [-80, 70]"
    shown = to_display(maps)
    assert shown[..., 0].min() == shown[..., 0].max() == to_display(np.array([-80.0, 0.0, 70.0]))[1]  # (not black)


def test_montage_help_says_a_colour_tile_is_stretched_together(invoke):
    r = invoke("convolve", "--help")
    assert "stretched together" in " ".join(r.stdout.split()), r.stdout


# 2: the gallery's reduction summed a float64 block before dividing: finite values near 1.5e308 became inf and were
# refused in the API's words ("x: 79800 value(s) are NaN or infinite"), exit 2; convolve took the same file

def test_a_gallery_of_float64_values_near_the_top_is_drawn(invoke, tmp_path):
    np.save(tmp_path / "big64.npy", np.full((800, 900), 1.5e308))
    r = invoke("gallery", "big64.npy", "--family", "basic", "--out", "g.png", "--json")
    assert r.exit_code == 0, r.output
    assert "NaN or infinite" not in r.output and (tmp_path / "g.png").exists()


def test_the_reduction_cannot_overflow_and_keeps_ordinary_pixels():
    from kernelcli.jobs_gallery import tile_scale_image

    big = np.full((800, 900), 1.5e308)
    big[:3, :3] = [[1.7e308, -1.7e308, 1e308]] * 3
    image, f = tile_scale_image(big, 192)
    assert f == 3 and np.isfinite(image).all()
    assert image[1, 1] == 1.5e308 and image[0, 0] == pytest.approx(1e308 / 3, rel=1e-12)
    x = np.random.default_rng(2).normal(size=(800, 900, 2)) * 1e300
    plain = x[:798].reshape(266, 3, 900 * 2).sum(axis=1).reshape(266, 300, 3, 2).sum(axis=2) / 9  # (as before)
    assert np.array_equal(tile_scale_image(x, 192)[0], plain)


# 3: `convolve --montage` computed every map (with --out, the whole bank) before it refused a sheet too tall for JPEG
# or too large for the memory allowed; the gallery refuses both before any map

@pytest.fixture
def maps_made(monkeypatch):
    """The kernels each filter bank is computed with, as it is called."""
    import kernelcli.banks as banks

    made: list[int] = []
    bank = banks.filter_bank

    def counted(x, kernels, *args, **kwargs):
        made.append(len(kernels))
        return bank(x, kernels, *args, **kwargs)

    monkeypatch.setattr(banks, "filter_bank", counted)
    return made


KERNELS3 = ["-k", "sobel_v", "-k", "sobel_h", "-k", "box_3x3"]


@pytest.mark.parametrize("out", [[], ["--out", "c.npy"]], ids=["alone", "with-out"])
def test_a_sheet_too_tall_for_jpeg_is_refused_before_any_map(invoke, tmp_path, maps_made, out):
    np.save(tmp_path / "ch.npy", np.random.default_rng(0).normal(size=(4, 4, 1000)).astype(np.float32))
    r = invoke("convolve", "ch.npy", "--layout", "hwc", *KERNELS3, "--montage", "c.jpg", *out, "-q")
    assert r.exit_code == 2, r.output
    assert "65500" in r.stderr, r.stderr
    assert maps_made == [] and not (tmp_path / "c.npy").exists()


@pytest.mark.parametrize("out", [[], ["--out", "c.npy"]], ids=["alone", "with-out"])
def test_a_sheet_too_large_for_memory_is_refused_before_any_map(invoke, tmp_path, maps_made, monkeypatch, out):
    monkeypatch.setenv("KERNELCLI_MAX_MEMORY", "100M")
    np.save(tmp_path / "ch.npy", np.random.default_rng(0).normal(size=(4, 4, 1000)).astype(np.float32))
    r = invoke("convolve", "ch.npy", "--layout", "hwc", *KERNELS3, "--montage", "c.png", *out, "-q")
    assert r.exit_code == 2, r.output
    assert "a sheet of 3000 tiles" in r.stderr, r.stderr
    assert maps_made == []


@pytest.mark.parametrize("shape, kernels, kw", [
    ((9, 11, 3), [(3, 3), (5, 5)], {}),
    ((9, 11, 3), [(3, 3), (3, 3, 3)], {"padding": "valid", "stride": 2}),
    ((9, 11, 3), [(3, 3)], {"combine": "sum", "dilation": 2}),
    ((9, 11), [(2, 2), (2, 2)], {"padding": (1, 0, 2, 1)}),
    ((9, 11, 4), [(3, 3), (3, 3)], {"padding": "valid"}),
], ids=["rgb", "rgb-3d-stride", "sum", "grey-padding", "four-channels"])
@pytest.mark.parametrize("colour", [True, False])
def test_the_tiles_shapes_are_known_before_the_maps(shape, kernels, kw, colour):
    from kernelcli.banks import filter_bank
    from kernelcli.jobs_common import ConvolveOptions
    from kernelcli.jobs_montage import bank_tile_shapes, montage_tiles

    options = ConvolveOptions(**kw)
    x = np.random.default_rng(3).random(shape)
    weights = [np.ones(k) for k in kernels]
    bank = filter_bank(x, weights, [f"k{i}" for i in range(len(kernels))], **options.conv_kwargs())
    assert bank_tile_shapes(shape, kernels, options, colour) == [v.shape for _, v in montage_tiles(bank, colour)]


# 4: a matrix input with --montage printed its maps on stdout, but the record's output/output_shape were the sheet's
# ('ex.png', [296, 624, 3]) and the summary named only the sheet

MATRIX = "3,1,2,7,4\n1,5,8,9,3\n2,7,2,5,1\n0,1,3,1,7\n4,2,1,6,2\n"


@pytest.mark.parametrize("kernels, shape", [(["-k", "prewitt_v", "-k", "prewitt_h"], [3, 3, 2]), (["-k", "prewitt_v"], [3, 3])],
                         ids=["bank", "one"])
def test_a_matrix_with_a_montage_records_the_maps_on_stdout(invoke, tmp_path, kernels, shape):
    (tmp_path / "m.csv").write_text(MATRIX)
    r = invoke("convolve", "m.csv", *kernels, "--padding", "valid", "--montage", "ex.png", "--json", "--report", "r.json")
    assert r.exit_code == 0, r.output
    for record in (json.loads(r.stdout), json.loads((tmp_path / "r.json").read_text())["items"][0]):
        assert record["output"] == "stdout" and record["output_shape"] == shape, record
        assert record["total"] == int(np.prod(shape)) and record["montage"] == "ex.png", record
    assert (tmp_path / "ex.png").exists()


def test_a_matrix_with_a_montage_names_both_in_its_summary(invoke, tmp_path):
    (tmp_path / "m.csv").write_text(MATRIX)
    r = invoke("convolve", "m.csv", "-k", "prewitt_v", "-k", "prewitt_h", "--padding", "valid", "--montage", "ex.png")
    assert r.exit_code == 0, r.output
    assert "-> stdout 3x3x2, sheet ex.png, range" in r.stderr, r.stderr
    assert r.stdout.startswith("# prewitt_v\n"), r.stdout


# 7: a sheet's title said `[bias]` but not the bias: --bias 3 and --bias 300 (with relu) drew different maps under
# identical titles and option lines

@pytest.mark.parametrize("bias, said", [("3", "--bias 3, --activation relu"), ("300", "--bias 300, --activation relu"),
                                        ("3,-2.5", "--bias 3,-2.5, --activation relu")])
def test_the_option_line_gives_the_bias_and_the_activation(invoke, phantom, monkeypatch, bias, said):
    shown = drawn_text(monkeypatch)
    r = invoke("convolve", "phantom.png", "-k", "sobel_v", "-k", "sobel_h", "--bias", bias, "--activation", "relu",
               "--montage", "m.png", "-q")
    assert r.exit_code == 0, r.output
    assert said in " ".join(shown), shown


def test_the_option_line_names_the_bias_file(invoke, phantom, monkeypatch):
    np.save(phantom / "w5.npy", np.random.default_rng(5).normal(size=(2, 1, 3, 3)))
    np.save(phantom / "b5.npy", np.array([0.5, -1.0]))
    shown = drawn_text(monkeypatch)
    r = invoke("convolve", "phantom.png", "--weights", "w5.npy", "--bias-file", "b5.npy", "--montage", "m.png", "-q")
    assert r.exit_code == 0, r.output
    assert "--bias-file b5.npy" in " ".join(shown), shown


# 6: the input tile did not say how it was drawn: 8-bit data as it is, anything else stretched min..max, so a constant
# 16-bit image of 200 was drawn black under a label of only '30x40'

@pytest.mark.parametrize("dtype, said", [(np.uint8, "30x40"), (np.uint16, "30x40, constant 200")])
def test_the_input_tile_says_how_it_is_drawn(invoke, tmp_path, monkeypatch, dtype, said):
    from PIL import Image

    Image.fromarray(np.full((30, 40), 200, dtype)).save(tmp_path / "c.png")
    shown = drawn_text(monkeypatch)
    r = invoke("gallery", "c.png", "--family", "edge", "--out", "g.png", "-q")
    assert r.exit_code == 0, r.output
    assert said in shown and not any(line.startswith("30x40,") and line != said for line in shown), shown


def test_a_stretched_input_tile_gives_its_range(invoke, tmp_path, monkeypatch):
    np.save(tmp_path / "x.npy", np.linspace(1000, 9000, 30 * 40).reshape(30, 40))
    shown = drawn_text(monkeypatch)
    r = invoke("convolve", "x.npy", "-k", "sobel_v", "-k", "sobel_h", "--montage", "m.png", "-q")
    assert r.exit_code == 0, r.output
    assert "30x40, [1e3, 9e3] stretched" in shown, shown
