"""Audit 183 (gallery and --montage): its findings, checked."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image


# 1: gallery --layout zyx of 16-bit data computed in float64 (the image rule), where convolve computes the same
# slices in float32 (a volume's dtype): another dtype in the record and other tile pixels

def test_a_16bit_zyx_gallery_computes_convolves_maps(invoke, tmp_path, monkeypatch):
    import kernelcli.montage as montage

    np.save(tmp_path / "v16.npy", np.random.default_rng(5).integers(0, 65535, (3, 40, 50)).astype(np.uint16))
    shown, labels = [], []
    display, draw = montage.to_display, montage.render_montage
    monkeypatch.setattr(montage, "to_display", lambda maps, *a, **k: shown.append(maps) or display(maps, *a, **k))
    monkeypatch.setattr(montage, "render_montage", lambda source, tiles, **k: labels.extend(t[0] for t in tiles) or draw(source, tiles, **k))
    r = invoke("gallery", "v16.npy", "--layout", "zyx", "--family", "smoothing", "-o", "g.png", "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["dtype"] == "float32", r.stdout
    r = invoke("convolve", "v16.npy", "--layout", "zyx", "-k", "box_3x3", "-o", "one.npy", "-q")
    assert r.exit_code == 0, r.output
    one = np.load(tmp_path / "one.npy")
    tiles = dict(zip(labels, shown[:len(labels)]))  # (the maps, drawn before the sheet draws its source)
    for z in range(3):
        assert tiles[f"box_3x3[{z}]"].dtype == one.dtype == np.float32
        np.testing.assert_array_equal(tiles[f"box_3x3[{z}]"], one[z])


# 2: several inputs with --montage (--weights, --bias-file, --tiled, --chunks) were told to add --out-dir, which was then
# refused for the option: the option no batch takes is named first, with or without --out-dir

@pytest.mark.parametrize("args, named", [
    (["--montage", "m.png"], "--montage works on one input; several inputs take --kernel"),
    (["--weights", "w.npy"], "--weights works on one input; several inputs take --kernel"),
    (["--montage", "m.png", "--bias-file", "b.npy"], "--bias-file and --montage work on one input; several inputs take --kernel"),
    (["--tiled"], "--tiled works on one input; several inputs take --scheduler or --workers"),
    (["--chunks", "64"], "--chunks works on one input; several inputs take --scheduler or --workers"),
])
@pytest.mark.parametrize("out_dir", [[], ["--out-dir", "od"]])
def test_an_option_no_batch_takes_is_named_before_out_dir(invoke, tmp_path, args, named, out_dir):
    for name in ("a.png", "b.png"):
        Image.fromarray(np.zeros((8, 8), np.uint8)).save(tmp_path / name)
    r = invoke("convolve", "a.png", "b.png", "-k", "sobel_v", "-k", "sobel_h", *args, *out_dir)
    assert r.exit_code == 2, r.output
    assert f"error: {named}" in r.output, r.output
    assert "--out-dir DIR" not in r.output, r.output
    assert not (tmp_path / "od").exists()


# 3: a sheet refused for memory gave its size width-first ('a sheet of 2400 tiles (1438x100062 pixels)'), where the
# same sheet's summary and record are height-first (100062x1438x3)

@pytest.mark.parametrize("args", [
    ["gallery", "c.npy", "--family", "edge", "--layout", "chw", "-o", "s.png"],
    ["convolve", "c.npy", "--layout", "chw", "-k", "sobel_v", "-k", "sobel_h", "--montage", "s.png"],
])
def test_a_sheet_refused_for_memory_gives_its_size_height_first(invoke, tmp_path, monkeypatch, args):
    channels = 6 if args[0] == "gallery" else 20  # (sheets taller than wide)
    np.save(tmp_path / "c.npy", np.random.default_rng(0).random((channels, 8, 8)).astype(np.float32))
    written = invoke(*args, "--json", "-q")
    assert written.exit_code == 0, written.output
    height, width, _ = json.loads(written.stdout)["output_shape"]
    assert height > width, (height, width)  # (a column of tiles: the two orders differ)
    monkeypatch.setenv("KERNELCLI_MAX_MEMORY", "1M")
    refused = invoke(*args[:-1], "t.png")
    assert refused.exit_code == 2 and f"tiles ({height}x{width} pixels) would need about" in refused.stderr, refused.stderr
    assert not (tmp_path / "t.png").exists()


# 4: gallery's record did not name a border that is not the constant 0: '-m wrap' and '--pad-value 9' were both
# "gallery edge", where convolve --montage names it ('convolve sobel_v, sobel_h (circular)')

@pytest.mark.parametrize("border, words", [([], ""), (["-m", "wrap"], " (circular)"), (["--pad-value", "9"], " (fill9)"),
                                           (["-m", "reflect", "--pad-value", "9"], " (reflect)")])
def test_a_gallerys_record_names_its_border_as_convolve_does(invoke, tmp_path, border, words):
    Image.fromarray(np.random.default_rng(1).integers(0, 255, (20, 24)).astype(np.uint8)).save(tmp_path / "p.png")
    r = invoke("gallery", "p.png", "--family", "edge", *border, "-o", "g.png", "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["operation"] == f"gallery edge{words}", r.stdout
    assert f"gallery edge{words} -> g.png" in r.stderr, r.stderr
    if words:
        bank = invoke("convolve", "p.png", "-k", "sobel_v", "-k", "sobel_h", *border, "--montage", "m.png", "--json", "-q")
        assert json.loads(bank.stdout)["operation"] == f"convolve sobel_v, sobel_h{words}", bank.stdout


# 5: an output (a sheet, -o, --report) under a path that is a file was told "the folder p.png does not exist"

@pytest.mark.parametrize("args, refused", [
    (["convolve", "p.png", "-k", "sobel_v", "-k", "sobel_h", "--montage", "p.png/m.png"], "--montage p.png/m.png"),
    (["gallery", "p.png", "-o", "p.png/g.png"], "p.png/g.png"),
    (["convolve", "p.png", "-k", "sobel_v", "-o", "p.png/a/b.png"], "p.png/a/b.png"),
    (["pool", "p.png", "-f", "2", "-o", "x.png", "--report", "p.png/r.json"], "--report p.png/r.json"),
])
def test_an_output_under_a_file_is_told_the_file_is_no_folder(invoke, tmp_path, args, refused):
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(tmp_path / "p.png")
    r = invoke(*args)
    assert r.exit_code == 2, r.output
    assert f"error: {refused}: p.png is a file, not a folder" in r.stderr, r.stderr
    assert "does not exist" not in r.stderr and sorted(p.name for p in tmp_path.iterdir()) == ["p.png"]


def test_an_output_in_a_missing_folder_is_still_told_it_does_not_exist(invoke, tmp_path):
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(tmp_path / "p.png")
    r = invoke("convolve", "p.png", "-k", "sobel_v", "-o", "no/b.png")
    assert r.exit_code == 2 and "error: no/b.png: the folder no does not exist" in r.stderr, r.stderr
