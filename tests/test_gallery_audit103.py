"""The gallery and montage audit (103): what a sheet draws and says, with any Pillow."""

from __future__ import annotations

import json

import numpy as np
import pytest


class TestSlicesAreNotColours:
    """Finding 2: the three slices of a --layout zyx volume were labelled [R], [G], [B] (5 slices: [0]..[4])."""

    @pytest.mark.parametrize("command", [["gallery", "--family", "edge", "--out", "s.png"],
                                         ["convolve", "-k", "sobel_v", "-k", "sobel_h", "--montage", "s.png"]])
    def test_three_slices_are_numbered_as_any_other_count(self, invoke, tmp_path, command):
        np.save(tmp_path / "vol3.npy", np.random.default_rng(3).normal(size=(3, 40, 30)))
        r = invoke(command[0], "vol3.npy", "--layout", "zyx", *command[1:], "--json", "-q")
        assert r.exit_code == 0, r.output
        first = json.loads(r.stdout)["maps"][:3]
        name = first[0].split("[")[0]
        assert first == [f"{name}[0]", f"{name}[1]", f"{name}[2]"]

    def test_three_channels_of_an_image_keep_their_colour_names(self, invoke, tmp_path):
        from PIL import Image

        Image.fromarray(np.random.default_rng(0).integers(0, 256, (20, 30, 3), dtype=np.uint8)).save(tmp_path / "c.png")
        r = invoke("convolve", "c.png", "-k", "sobel_v", "-k", "sobel_h", "--montage", "s.png", "--json", "-q")
        assert r.exit_code == 0 and json.loads(r.stdout)["maps"][:3] == ["sobel_v[R]", "sobel_v[G]", "sobel_v[B]"]


class TestRangeEnds:
    """Finding 7: 99999.5..100000.5 was labelled [99999.5, 100000], a range half as wide as it is."""

    @pytest.mark.parametrize(("lo", "hi", "text"), [
        (99999.5, 100000.5, "[99999.5, 100000.5]"),
        (1000.0, 1004.0, "[1000, 1004]"),
        (-3340.0, 3340.0, "[-3.34e3, 3.34e3]"),
        (0.03125, 0.96875, "[0.0312, 0.969]"),
    ])
    def test_each_end_is_shown_close_enough_to_keep_the_width(self, lo, hi, text):
        from kernelcli.montage import range_text

        assert range_text(np.array([lo, hi])) == text

    def test_the_shown_width_is_the_true_width_within_two_percent(self):
        from kernelcli.numtext import range_pair

        rng = np.random.default_rng(7)
        for _ in range(2000):
            lo = float(rng.normal() * 10.0 ** rng.integers(-6, 8))
            hi = lo + float(rng.random() * 10.0 ** rng.integers(-8, 8)) * max(abs(lo), 1e-300)
            if hi == lo:
                continue
            shown = [float(t) for t in range_pair(lo, hi)]
            assert abs((shown[1] - shown[0]) - (hi - lo)) <= 0.02 * (hi - lo), (lo, hi, shown)


LONG_NAME = "très_long_名前_filename_for_a_phantom_image_to_be_cut.png"


@pytest.fixture
def phantom_copy(tmp_path):
    from conftest import SAMPLES

    data = (SAMPLES / "phantom.png").read_bytes()
    (tmp_path / "in.png").write_bytes(data)
    (tmp_path / LONG_NAME).write_bytes(data)
    return tmp_path


class TestWithoutFreeType:
    """Finding 1: with a Pillow built without FreeType (the bitmap font, Latin-1 only), a sheet with a cut label,
    title or note, or a file name past Latin-1, failed with exit 70 (UnicodeEncodeError on the ellipsis)."""

    @pytest.fixture(autouse=True)
    def no_freetype(self, monkeypatch):
        from PIL import ImageFont, _util

        # what Pillow itself installs when its _imagingft module is missing
        monkeypatch.setattr(ImageFont, "core", _util.DeferredError(ImportError("The _imagingft C module is not installed")))

    @pytest.mark.parametrize("args", [
        ["convolve", "in.png", "-k", "sobel_v", "-k", "sobel_h", "--montage", "m.png"],
        ["convolve", "{samples}/example1.csv", "-k", "sobel_v", "-k", "sobel_h", "--montage", "m.png"],
        ["gallery", "in.png", "--out", "m.png", "--tile", "16"],
        ["gallery", LONG_NAME, "--out", "m.png"],
    ])
    def test_every_sheet_is_drawn(self, invoke, phantom_copy, args):
        from conftest import SAMPLES

        r = invoke(*[a.format(samples=SAMPLES) for a in args])
        assert r.exit_code == 0, r.output
        assert (phantom_copy / "m.png").exists()

    def test_text_is_cut_with_dots_the_font_has(self):
        from PIL import Image, ImageDraw

        from kernelcli.sheet_text import fit, sheet_font

        draw, font = ImageDraw.Draw(Image.new("RGB", (10, 10))), sheet_font(13)
        cut = fit(draw, "padding same (constant), stride 1, dilation 1 " * 3, font, 120)
        assert cut.endswith("...") and draw.textlength(cut, font=font) <= 120
        assert fit(draw, LONG_NAME, font, 2000) == LONG_NAME.replace("名前", "??")  # è is Latin-1: kept


class TestGlyphsTheFontLacks:
    """Finding 6: with the bundled font (a limited character set), any non-ASCII character of a file name was drawn
    as a missing-glyph box: 'tr▯s_long_▯▯_filename…'."""

    def test_a_character_without_a_glyph_is_its_base_letter_or_a_question_mark(self):
        from PIL import Image, ImageDraw

        from kernelcli.sheet_text import fit, sheet_font

        draw, font = ImageDraw.Draw(Image.new("RGB", (10, 10))), sheet_font(15)
        assert fit(draw, "très_名前_ü.png", font, 2000) == "tres_??_u.png"

    def test_the_title_is_drawn_as_its_drawable_text(self):
        from kernelcli.montage import render_montage

        x = np.arange(16.0).reshape(4, 4)
        sheets = [np.asarray(render_montage(x, [("dx", x)], title=title, tile=64)) for title in ("très_名前.png", "tres_??.png")]
        np.testing.assert_array_equal(sheets[0], sheets[1])


class TestOptionsLine:
    """Finding 4: under --padding valid the montage's options line named a pad mode, 'padding valid (reflect)', while
    the same run's note said valid pads nothing; the record's operation names none."""

    @pytest.mark.parametrize(("given", "line"), [
        ({"padding": "valid"}, "padding valid, stride 1, dilation 1"),
        ({"padding": "valid", "pad_mode": "reflect"}, "padding valid, stride 1, dilation 1"),
        ({"padding": 0, "pad_value": 7.0}, "padding valid, stride 1, dilation 1"),  # (one name for one padding: audit 134 #6)
    ])
    def test_a_border_is_named_only_where_something_is_padded(self, given, line):
        from kernelcli.jobs_common import ConvolveOptions
        from kernelcli.jobs_maps import _describe_options

        assert _describe_options(ConvolveOptions(**given)) == line

    def test_a_padded_border_is_still_named(self):
        from kernelcli.jobs_common import ConvolveOptions
        from kernelcli.jobs_maps import _describe_options

        assert _describe_options(ConvolveOptions(pad_mode="reflect")) == "padding same (reflect), stride 1, dilation 1"
        assert _describe_options(ConvolveOptions(padding=1, pad_value=3)).startswith("padding 1 (constant 3),")


class TestInputTileShape:
    """Finding 5: the input tile's size read 40x30x3 (the channels-last array drawn) under a title and a record of
    3x40x30 (the file's)."""

    @pytest.mark.parametrize(("command", "layout", "size"), [
        (["gallery", "--family", "edge", "--out", "s.png"], "zyx", "3x40x30, slice 0 of 3"),
        (["gallery", "--family", "edge", "--out", "s.png"], "chw", "3x40x30"),
        (["convolve", "-k", "sobel_v", "-k", "sobel_h", "--montage", "s.png"], "zyx", "3x40x30, slice 0 of 3"),
    ])
    def test_the_input_tile_gives_the_files_shape(self, invoke, tmp_path, monkeypatch, command, layout, size):
        from kernelcli import montage

        drawn = []
        label = montage._label
        monkeypatch.setattr(montage, "_label", lambda draw, x, y, w, name, details, *a: drawn.append((name, details))
                            or label(draw, x, y, w, name, details, *a))
        np.save(tmp_path / "v.npy", np.random.default_rng(3).normal(size=(3, 40, 30)))
        r = invoke(command[0], "v.npy", "--layout", layout, *command[1:], "--json", "-q")
        assert r.exit_code == 0, r.output
        assert json.loads(r.stdout)["input_shape"] == [3, 40, 30]
        name, [details] = drawn[0]  # (then how the float input is drawn: audit 156 #6)
        assert name == "input" and details.startswith(f"{size}, ") and details.endswith(" stretched"), drawn[0]


class TestOneScale:
    """Finding 3: each picture was enlarged by its own whole factor, so a 3x3 'valid' map of a 5x5 input was drawn
    at 192 pixels beside the input's 190, and 64x64 stride-2 maps of a 128x128 input at 192 beside its 128."""

    @staticmethod
    def _sizes(monkeypatch, run):
        from kernelcli import montage

        pasted = []
        paste = montage._paste
        monkeypatch.setattr(montage, "_paste", lambda sheet, draw, img, *a: pasted.append(img.size) or paste(sheet, draw, img, *a))
        run()
        return pasted

    @pytest.mark.parametrize(("source", "maps", "reduced", "expected"), [
        ((5, 5), (3, 3), 1, [(190, 190), (114, 114)]),  # 'valid': smaller, as 3 is to 5
        ((128, 128), (64, 64), 1, [(128, 128), (64, 64)]),  # a stride 2: half
        ((300, 300), (150, 150), 1, [(192, 192), (96, 96)]),  # the input reduced to fit: the maps by as much
        ((777, 1000), (259, 333), 3, [(192, 149), (192, 149)]),  # a gallery's maps, computed on the image reduced 3x3
        ((20, 20), (20, 20), 1, [(180, 180), (180, 180)]),
    ])
    def test_the_input_and_its_maps_are_drawn_at_one_scale(self, monkeypatch, source, maps, reduced, expected):
        from kernelcli.montage import render_montage

        x, m = np.random.default_rng(0).random(source), np.random.default_rng(1).random(maps)
        drawn = self._sizes(monkeypatch, lambda: render_montage(x, [("a", m), ("b", m)], maps_reduced=reduced))
        assert drawn == [expected[0], expected[1], expected[1]]

    def test_a_strided_layer_is_drawn_smaller_than_its_input(self, invoke, tmp_path, monkeypatch):
        from PIL import Image

        Image.fromarray(np.random.default_rng(0).integers(0, 256, (128, 128, 3), dtype=np.uint8)).save(tmp_path / "rgb.png")
        np.save(tmp_path / "w.npy", np.random.default_rng(0).normal(size=(4, 3, 5, 5)).astype(np.float32))
        drawn = self._sizes(monkeypatch, lambda: invoke("convolve", "rgb.png", "--weights", "w.npy", "--stride", "2",
                                                        "--montage", "wm.png", "-q"))
        assert drawn == [(128, 128)] + [(64, 64)] * 4

    def test_a_gallery_draws_its_maps_as_large_as_its_input(self, invoke, tmp_path, monkeypatch):
        from PIL import Image

        Image.fromarray(np.random.default_rng(2).integers(0, 256, (800, 1000), dtype=np.uint8)).save(tmp_path / "big.png")
        drawn = self._sizes(monkeypatch, lambda: invoke("gallery", "big.png", "--family", "edge", "--out", "s.png", "-q"))
        assert drawn[0] == (192, 154) and all(abs(w - 192) <= 1 and abs(h - 154) <= 1 for w, h in drawn[1:])
