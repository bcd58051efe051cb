"""Audit 141 (the README read top to bottom): the feature-map sheets' findings, checked."""

from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import drawn_text

LONG = "a_very_long_file_name_for_a_matrix_that_goes_on_and_on_and_on_and_on_and_on_and_on.csv"


@pytest.fixture
def matrix(tmp_path):
    """A 5x5 matrix under a file name wider than a sheet's line, in ``tmp_path``."""
    np.savetxt(tmp_path / LONG, np.random.default_rng(6).random((5, 5)), delimiter=",")
    return tmp_path


# 6: a title wider than the sheet "is wrapped onto more lines, not cut": a long file name was cut with '…'

@pytest.mark.parametrize("kernels", [("-k", "box:3"), ("-k", "box:3", "-k", "sobel_v")])
def test_a_long_file_name_in_the_title_is_wrapped_not_cut(invoke, matrix, monkeypatch, kernels):
    shown = drawn_text(monkeypatch)
    r = invoke("convolve", LONG, *kernels, "--montage", "m.png", "-q")
    assert r.exit_code == 0, r.output
    assert not any("…" in line for line in shown), shown
    assert LONG in "".join(shown), shown  # (its end, '_and_on.csv', was lost)


def test_a_word_wider_than_a_line_is_broken_at_characters():
    from PIL import Image, ImageDraw

    from kernelcli.sheet_text import sheet_font, wrap

    draw, font = ImageDraw.Draw(Image.new("RGB", (1, 1))), sheet_font(15)
    lines = wrap(draw, f"{LONG}: convolve box:3", font, 300)
    assert len(lines) <= 4 and all(draw.textlength(line, font=font) <= 300 for line in lines), lines
    assert " ".join(lines).replace(" ", "") == f"{LONG}:convolvebox:3", lines
    assert wrap(draw, "short words only", font, 300) == ["short words only"]


# 7: the README said a --layout zyx or RGB sheet's maps are in the record's `maps` "in gallery and convolve alike";
# `maps` is gallery's and a bank's field: one kernel's record has none (the README now says so; this pins it)

def test_maps_is_a_banks_field_and_one_kernels_sheet_labels_the_slices(invoke, tmp_path, monkeypatch):
    import kernelcli.montage as montage

    np.save(tmp_path / "v.npy", np.random.default_rng(7).random((3, 10, 12)))
    labels: list[list[str]] = []
    draw = montage.render_montage

    def spy(source, tiles, **kwargs):
        labels.append([t[0] for t in tiles])
        return draw(source, tiles, **kwargs)

    monkeypatch.setattr(montage, "render_montage", spy)
    r = invoke("convolve", "v.npy", "--layout", "zyx", "-k", "sobel_v", "--montage", "m.png", "--json", "-q")
    assert r.exit_code == 0, r.output
    assert "maps" not in json.loads(r.stdout) and labels[-1] == ["sobel_v[0]", "sobel_v[1]", "sobel_v[2]"], labels
    r = invoke("convolve", "v.npy", "--layout", "zyx", "-k", "sobel_v", "-k", "sobel_h", "--montage", "m.png", "--force",
               "--json", "-q")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["maps"] == [f"{k}[{z}]" for k in ("sobel_v", "sobel_h") for z in range(3)], r.stdout
