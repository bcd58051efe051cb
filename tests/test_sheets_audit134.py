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
        from kernelcli.montage import _font, drawable
        from kernelcli.numtext import path_line

        font = _font(13)
        for name in ("two\nlines.png", "cr\rhere", "tab\there", "esc\x1b[31m", "nel\x85x"):
            assert drawable(name, font) == path_line(name), repr(name)
            assert "\n" not in drawable(name, font)

    @pytest.mark.parametrize("args", [
        ("gallery", "two\nlines.png", "--family", "edge", "--out", "s.png"),
        ("convolve", "two\nlines.png", "-k", "sobel_v", "-k", "sobel_h", "--montage", "s.png"),
        ("convolve", "phantom.png", "-k", "k\nx.npy", "-k", "sobel_h", "--montage", "s.png"),
        ("convolve", "rgb.png", "--weights", "w\nx.npy", "--montage", "s.png"),
    ])
    def test_a_sheet_of_a_name_with_a_line_break_is_drawn(self, invoke, phantom, args):
        shutil.copy(phantom / "phantom.png", phantom / "two\nlines.png")
        np.save(phantom / "k\nx.npy", np.array([[1.0, 0, -1]] * 3))
        np.save(phantom / "w\nx.npy", np.random.default_rng(0).normal(size=(2, 3, 3, 3)).astype(np.float32))
        r = invoke(*args, "--force", "-q")
        assert r.exit_code == 0, r.output
        assert (phantom / "s.png").is_file()
