"""Review 148 #10: a montage title that needs more than four lines keeps the file name's end and the command.

The fifth line on was joined to the fourth with spaces and the line cut at its end: a 248-character file name lost
``_END.png: convolve sobel_v``, and the pieces of a name broken across lines were re-joined with spaces inside it.
Now the longest word is shortened in the middle (as a tile's label is) until the title fits four lines.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from conftest import drawn_text
from kernelcli.sheet_text import MAX_WRAPPED_LINES, sheet_font, wrap

NAME = ("scan_" + "_".join(f"part{i:02d}" for i in range(40)))[:240] + "_END.png"


def _lines(text: str, width: int) -> list[str]:
    return wrap(ImageDraw.Draw(Image.new("RGB", (1, 1))), text, sheet_font(15), width)


def test_a_title_past_four_lines_keeps_the_names_end_and_the_command():
    lines = _lines(f"{NAME}: convolve sobel_v", 200)
    assert len(lines) <= MAX_WRAPPED_LINES, lines
    joined = "".join(lines)
    assert joined.startswith("scan_part00") and joined.endswith("_END.png: convolve sobel_v") and "…" in joined, lines


def test_a_name_broken_across_lines_has_no_space_put_inside_it():
    name = "a_very_long_file_name_that_goes_on_and_on_and_on_and_on_and_on_and_on_and_on_and_on_and_on_end.csv"
    lines = _lines(f"g.png convolve sobel_v: {name}", 120)
    assert len(lines) <= MAX_WRAPPED_LINES, lines
    rest = "".join(lines).split("sobel_v:", 1)[1]
    assert " " not in rest and rest.startswith("a_very") and rest.endswith("_end.csv") and "…" in rest, lines


def test_prose_is_not_turned_into_ellipses():
    lines = _lines(" ".join(["word"] * 60), 100)
    assert len(lines) == MAX_WRAPPED_LINES and "…" not in "".join(lines), lines


def test_the_sheet_draws_the_names_end_and_the_command(invoke, tmp_path, monkeypatch):
    Image.fromarray(np.random.default_rng(8).integers(0, 256, (32, 32), dtype=np.uint8)).save(tmp_path / NAME)
    shown = drawn_text(monkeypatch)
    r = invoke("convolve", NAME, "-k", "sobel_v", "--montage", "sheet.png", "-o", "o.npy", "-q")
    assert r.exit_code == 0, r.output
    title = "".join(line for line in shown if line.startswith("scan_") or "part" in line or "_END.png" in line)
    assert "_END.png: convolve sobel_v" in title, shown
