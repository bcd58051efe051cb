"""Audit 134: gallery, `convolve --montage` and the feature-map sheets, round 5 (control characters in drawn names,
a sheet too large for its format, an RGBA input's alpha, an interrupted run's record, colour maps' names, the option
line's padding, a one-kernel sheet's words, --format/--suffix beside a montage alone)."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from PIL import Image


@pytest.fixture
def phantom(tmp_path):
    """A small grey picture and a small RGB one in ``tmp_path``."""
    rng = np.random.default_rng(3)
    Image.fromarray(rng.integers(0, 255, (40, 50), dtype=np.uint8)).save(tmp_path / "phantom.png")
    Image.fromarray(rng.integers(0, 255, (30, 36, 3), dtype=np.uint8)).save(tmp_path / "rgb.png")
    return tmp_path


class TestControlCharactersInNames:
    """Finding 1: a line break in the input's, a kernel file's or a --weights file's name crashed the sheet (exit 70,
    "can't measure length of multiline text"); it is drawn as the listings write it (``ls -b``: ``two\\nlines.png``)."""

    def test_drawable_escapes_control_characters_as_listings_do(self):
        from kernelcli.sheet_text import drawable, sheet_font
        from kernelcli.numtext import path_line

        font = sheet_font(13)
        for name in ("two\nlines.png", "cr\rhere", "tab\there", "esc\x1b[31m", "nel\x85x"):
            assert drawable(name, font) == path_line(name), repr(name)
            assert "\n" not in drawable(name, font)

    @pytest.mark.parametrize("args", [
        ("gallery", "two\nlines.png", "--family", "edge", "--out", "s.png"),
        ("convolve", "two\nlines.png", "-k", "sobel_v", "-k", "sobel_h", "--montage", "s.png"),
        ("convolve", "phantom.png", "-k", "k\nx.npy", "-k", "sobel_h", "--montage", "s.png"),
        ("convolve", "rgb.png", "--weights", "w\nx.npy", "--montage", "s.png"),
    ])
    def test_a_sheet_of_a_name_with_a_line_break_is_drawn(self, invoke, phantom, monkeypatch, args):
        shutil.copy(phantom / "phantom.png", phantom / "two\nlines.png")
        np.save(phantom / "k\nx.npy", np.array([[1.0, 0, -1]] * 3))
        np.save(phantom / "w\nx.npy", np.random.default_rng(0).normal(size=(2, 3, 3, 3)).astype(np.float32))
        drawn = sheet_words(monkeypatch)
        r = invoke(*args, "--force", "-q")
        assert r.exit_code == 0, r.output
        assert (phantom / "s.png").is_file()
        assert "\\n" in " ".join(drawn["shown"]) and "\\\\" not in " ".join(drawn["shown"]), drawn["shown"]


class TestSheetTooLargeForItsFormat:
    """Finding 2: `convolve --out v.npy --montage v.jpg` with 1800 tiles (a 1438x70862 sheet) wrote v.npy, then
    refused the JPEG (exit 2, "nothing done"); the retry with .png was refused (v.npy exists, exit 4).  The sheet's
    sides are checked with its memory, before anything is written."""

    def test_a_jpeg_sheet_too_tall_is_refused_before_out_is_written(self, invoke, tmp_path, monkeypatch):
        monkeypatch.setenv("KERNELCLI_MAX_MEMORY", "64G")  # (the sheet's sides are refused, not its memory)
        np.save(tmp_path / "vol.npy", np.random.default_rng(0).normal(size=(600, 16, 16)).astype(np.float32))
        r = invoke("convolve", "vol.npy", "--layout", "zyx", "-k", "sobel_v", "-k", "sobel_h", "-k", "box_3x3",
                   "--out", "v.npy", "--montage", "v.jpg")
        assert r.exit_code == 2, r.output
        assert "v.jpg: JPEG holds at most 65500 pixels a side, and this image is 1438x70862 (width x height)" in r.stderr
        assert not (tmp_path / "v.npy").exists() and not (tmp_path / "v.jpg").exists()

    def test_the_extent_known_before_drawing_is_the_drawn_sheets(self):
        from kernelcli.montage import render_montage, sheet_extent

        rng = np.random.default_rng(1)
        for source, maps, reduced, kwargs in (
                ((40, 50), [(40, 50)] * 3, 1, {}),
                ((5, 7), [(3, 5)] * 9, 1, {"title": "t" * 300, "notes": ["n, " * 200, "short"]}),
                ((400, 300, 3), [(200, 150, 3), (200, 150)], 1, {"title": "x"}),
                ((400, 300), [(100, 75)] * 2, 4, {"notes": ["a"]})):
            tiles = [(f"m{i}", rng.random(shape)) for i, shape in enumerate(maps)]
            sheet = render_montage(rng.random(source), tiles, maps_reduced=reduced, **kwargs)
            assert sheet_extent(source, maps, maps_reduced=reduced, **kwargs) == sheet.size, (source, maps)

    def test_a_gallery_sheet_too_tall_for_jpeg_is_refused_before_any_map(self, invoke, tmp_path, monkeypatch):
        import kernelcli.banks

        monkeypatch.setenv("KERNELCLI_MAX_MEMORY", "64G")
        np.save(tmp_path / "z.npy", np.random.default_rng(0).normal(size=(250, 8, 8)).astype(np.float32))
        monkeypatch.setattr(kernelcli.banks, "filter_bank", lambda *a, **k: pytest.fail("a map was computed"))
        r = invoke("gallery", "z.npy", "--layout", "zyx", "--family", "edge", "--out", "g.jpg")
        assert r.exit_code == 2 and "g.jpg: JPEG holds at most 65500 pixels a side" in r.stderr, r.output


class TestAlphaNote:
    """Finding 3: `convolve rgba.png -k sobel_v -k sobel_h --montage m.png` (and `-k sobel_v --stride 2 --montage`)
    dropped the alpha with no note; with --out the note said "into feature maps", the gallery's "into the maps"."""

    NOTE = "rgba.png: the alpha channel is not carried into the maps"

    @pytest.mark.parametrize("args", [
        ("convolve", "rgba.png", "-k", "sobel_v", "-k", "sobel_h", "--montage", "m.png"),
        ("convolve", "rgba.png", "--weights", "w.npy", "--montage", "m.png"),
        ("convolve", "rgba.png", "-k", "sobel_v", "--stride", "2", "--montage", "m.png"),
        ("convolve", "rgba.png", "-k", "sobel_v", "-k", "sobel_h", "--montage", "m.png", "--out", "m.npy"),
        ("gallery", "rgba.png", "--family", "edge", "--out", "g.png"),
    ])
    def test_every_sheet_of_an_rgba_input_says_its_alpha_is_dropped(self, invoke, tmp_path, args):
        a = np.random.default_rng(2).integers(0, 255, (30, 40, 4), dtype=np.uint8)
        Image.fromarray(a, "RGBA").save(tmp_path / "rgba.png")
        np.save(tmp_path / "w.npy", np.ones((2, 3, 3, 3), np.float32))
        r = invoke(*args, "--force", "--json", "-q")
        assert r.exit_code == 0, r.output
        assert json.loads(r.stdout)["notes"].count(self.NOTE) == 1, r.stdout


class TestPaddingOnTheSheet:
    """Finding 6: the montage's option line spelt the padding as typed: "padding 0" under a title that says "(valid)",
    "padding 1,1,1,1 (reflect)" for "p1_reflect"; one padding has one name (modes.canonical_padding)."""

    @pytest.mark.parametrize("typed, said", [("0", "padding valid,"), ("0,0,0,0", "padding valid,"), ("valid", "padding valid,"),
                                             ("1", "padding 1 (reflect),"), ("1,1,1,1", "padding 1 (reflect),"),
                                             ("2,1,1,2", "padding 2,1,1,2 (reflect),"), ("same", "padding same (reflect),")])
    def test_the_option_line_names_the_padding_one_way(self, invoke, phantom, monkeypatch, typed, said):
        drawn = sheet_words(monkeypatch)
        r = invoke("convolve", "phantom.png", "-k", "sobel_v", "-k", "sobel_h", "--padding", typed, "--pad-mode", "reflect",
                   "--montage", "m.png", "--force", "-q")
        assert r.exit_code == 0, r.output
        assert drawn["notes"][0].startswith(said), drawn["notes"]


def sheet_words(monkeypatch) -> dict:
    """What render_montage is given (title, notes, tile labels) on the next call, filled in when it is called."""
    import kernelcli.montage

    drawn: dict = {"shown": []}
    draw, fit = kernelcli.montage.render_montage, kernelcli.sheet_text.fit

    def spy(source, tiles, **kwargs):
        drawn.update(kwargs, labels=[t[0] for t in tiles])
        return draw(source, tiles, **kwargs)

    def fitted(*args, **kwargs):  # (each text as drawn)
        drawn["shown"].append(fit(*args, **kwargs))
        return drawn["shown"][-1]

    monkeypatch.setattr(kernelcli.montage, "render_montage", spy)
    monkeypatch.setattr(kernelcli.sheet_text, "fit", fitted)
    return drawn


class TestFormatAndSuffixBesideAMontageAlone:
    """Finding 8: `--montage fs.png --suffix edges` and `--montage fm.png --format jpg` wrote the sheet alone, exit 0, with
    no note: nothing was named `edges` and nothing was a JPEG (with --out, --suffix is noted and --format checked)."""

    @pytest.mark.parametrize("option, said", [
        (("--suffix", "edges"), "--suffix 'edges' names the data output, which is not written: only --montage m.png is"),
        (("--format", "jpg"), "--format jpg is the data output's type, which is not written: only --montage m.png is"),
    ])
    @pytest.mark.parametrize("kernels", [("-k", "sobel_v"), ("-k", "sobel_v", "-k", "sobel_h")])
    def test_an_option_of_the_unwritten_data_output_is_noted(self, invoke, phantom, option, said, kernels):
        r = invoke("convolve", "phantom.png", *kernels, "--montage", "m.png", *option, "--force")
        assert r.exit_code == 0, r.output
        assert said in r.stderr, r.stderr
        assert sorted(p.name for p in phantom.iterdir()) == ["m.png", "phantom.png", "rgb.png"]
        r = invoke("convolve", "phantom.png", *kernels, "--montage", "m.png", *option, "--force", "--json", "-q")
        assert any(said in n for n in json.loads(r.stdout)["notes"]), r.stdout


class TestOneKernelSheet:
    """Finding 7: a one-kernel sheet (428 px wide) cut its option line at '--kerne…' and its title, so the
    --kernel-scale the maps were made with could not be read; a one-kernel gallery said '1 kernels'."""

    def test_long_header_lines_wrap_and_nothing_is_cut(self, monkeypatch):
        import kernelcli.montage as montage
        import kernelcli.sheet_text as sheet_text

        drawn: list[str] = []
        real = sheet_text.fit

        def fit(draw, text, font, width, middle=False):
            out = real(draw, text, font, width, middle)
            drawn.append(out)
            return out

        monkeypatch.setattr(sheet_text, "fit", fit)
        x = np.random.default_rng(0).random((40, 50))
        note = ("padding 2,1,1,2 (reflect), stride 2, dilation 2, flipped (true convolution), --kernel-scale 0.5; each map "
                "stretched from its min (black) to its max (white)")
        title = "phantom.png: convolve sobel_v_s2_d2_p2-1-1-2_reflect_flip_scale0.5"
        sheet = montage.render_montage(x, [("sobel_v", x)], title=title, notes=[note])
        words = " ".join(drawn)
        assert "…" not in words and "--kernel-scale 0.5;" in words and "scale0.5" in words, drawn
        assert montage.sheet_extent(x.shape, [x.shape], title=title, notes=[note]) == sheet.size

    def test_a_one_kernel_gallery_says_1_kernel(self, invoke, phantom, monkeypatch):
        folder = phantom / "uf"
        folder.mkdir()
        (folder / "solo.json").write_text(json.dumps({"family": "solo", "kernels": [{"name": "dx", "matrix": [[-1, 0, 1]]}]}))
        monkeypatch.setenv("KERNELCLI_KERNEL_PATH", str(folder))
        drawn = sheet_words(monkeypatch)
        r = invoke("gallery", "phantom.png", "--family", "solo", "--out", "g.png", "--force", "-q")
        assert r.exit_code == 0, r.output
        assert drawn["title"].endswith(": 1 kernel, family solo"), drawn["title"]


class TestColourMapNames:
    """Finding 5: the README said a colour image's maps are `sobel_v[R]`, `[G]`, `[B]` "on the sheet and in the record's
    maps"; gallery's record named one map per colour tile (`prewitt_v`), convolve's one per channel (`prewitt_v[R]`...),
    and both sheets label the colour tile `prewitt_v`.  The record names each map computed, in both commands."""

    def test_gallery_and_convolve_name_the_maps_of_one_input_and_kernel_alike(self, invoke, phantom, monkeypatch):
        drawn = sheet_words(monkeypatch)
        g = invoke("gallery", "rgb.png", "--family", "edge", "--out", "g.png", "--force", "--json", "-q")
        assert g.exit_code == 0, g.output
        tiles = drawn["labels"]
        c = invoke("convolve", "rgb.png", "-k", "prewitt_v", "-k", "prewitt_h", "--montage", "m.png", "--force", "--json", "-q")
        assert c.exit_code == 0, c.output
        names = ["prewitt_v[R]", "prewitt_v[G]", "prewitt_v[B]", "prewitt_h[R]", "prewitt_h[G]", "prewitt_h[B]"]
        assert json.loads(c.stdout)["maps"] == names
        gallery_maps = json.loads(g.stdout)["maps"]
        assert gallery_maps[gallery_maps.index("prewitt_v[R]"):][:6] == names
        assert "prewitt_v" in tiles and "prewitt_v" in drawn["labels"]  # (a colour tile carries the kernel's name)
