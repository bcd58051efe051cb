"""Audit 124 #1: with '-' as the input, --montage, --report and a bank's -o are checked before stdin is read."""

from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import empty_stdin_answers_as_an_empty_file, refused_while_stdin_open


@pytest.fixture
def grey(tmp_path):
    """g.png (20x23 grey), an empty input, existing outputs and w2.npy (two 3x3 filters) in ``tmp_path``."""
    from PIL import Image

    Image.fromarray(np.random.default_rng(1).integers(0, 256, (20, 23), dtype=np.uint8)).save(tmp_path / "g.png")
    for name in ("empty.png", "exists.png", "exists.json"):
        (tmp_path / name).write_bytes(b"")
    np.save(tmp_path / "w2.npy", np.ones((2, 1, 3, 3), np.float32))
    return tmp_path


CALLS = [
    (["convolve", "-k", "sobel_v", "-k", "sobel_h", "--montage", "exists.png", "-o", "j.npy"], 4),
    (["convolve", "-k", "sobel_v", "--montage", "exists.png"], 4),
    (["convolve", "-k", "sobel_v", "--montage", "m.npy"], 2),
    (["convolve", "-k", "sobel_v", "-k", "sobel_h", "-o", "j.png"], 2),
    (["convolve", "-k", "sobel_v", "-k", "sobel_h", "-o", "exists.png"], 4),
    (["convolve", "--weights", "w2.npy", "-o", "j.png"], 2),
    (["convolve", "--weights", "w2.npy", "--montage", "exists.png", "-o", "j.npy"], 4),
    (["convolve", "-k", "box:3", "--report", "exists.json", "-o", "j.npy"], 4),
    (["convolve", "-k", "sobel_v", "-k", "sobel_h", "--report", "exists.json", "-o", "j.npy"], 4),
    (["convolve", "-k", "box:3", "--then", "maxpool:2", "--report", "exists.json", "-o", "j.npy"], 4),
    (["convolve", "-k", "sobel_v", "-k", "sobel_h", "--montage", "j.png", "--report", "j.png", "-o", "j.npy"], 4),
    (["pool", "-f", "2", "--report", "exists.json", "-o", "j.npy"], 4),
    (["pad", "-p", "1", "--report", "exists.json", "-o", "j.npy"], 4),
]


@pytest.mark.parametrize("args, code", CALLS)
def test_an_empty_stdin_is_refused_for_the_output_as_an_empty_file_is(invoke, grey, args, code):
    on_stdin = empty_stdin_answers_as_an_empty_file(invoke, args, code)
    assert "stdin is empty" not in on_stdin.stderr
    assert not list(grey.glob("j.*")) and (grey / "exists.png").read_bytes() == b"" == (grey / "exists.json").read_bytes()


def test_an_existing_montage_is_recorded_in_the_report_as_for_a_file(invoke, grey):
    r = invoke("convolve", "-", "-k", "sobel_v", "-k", "sobel_h", "--montage", "exists.png", "--report", "r.json", "--json")
    assert r.exit_code == 4, r.output
    record = json.loads(r.stdout)
    assert record["code"] == 4 and record["error"] == "--montage exists.png: already exists; use --force to overwrite it", record  # (the line on stderr)
    assert json.loads((grey / "r.json").read_text())["items"][0]["error"] == record["error"]


@pytest.mark.parametrize("args", [
    ["convolve", "-", "-k", "sobel_v", "-k", "sobel_h", "--montage", "exists.png", "-o", "j.npy"],
    ["pool", "-", "-f", "2", "--report", "exists.json", "-o", "j.npy"],
])
def test_an_existing_montage_or_report_is_refused_while_the_stream_still_flows(grey, args):
    code, said = refused_while_stdin_open(args, grey, (grey / "g.png").read_bytes())
    assert code == 4 and "already exists; use --force to overwrite it" in said, said
    assert not (grey / "j.npy").exists()


def test_a_bank_from_stdin_still_writes_its_maps_and_montage(invoke, grey):
    from conftest import CliRunner
    from kernelcli.cli import app

    data = (grey / "g.png").read_bytes()
    args = ["convolve", "-", "-k", "sobel_v", "-k", "sobel_h", "-o", "s.npy", "--montage", "s.png"]
    r = CliRunner().invoke(app, args, input=data, prog_name="kernelcli")
    on_file = invoke("convolve", "g.png", "-k", "sobel_v", "-k", "sobel_h", "-o", "f.npy")
    assert r.exit_code == 0 and on_file.exit_code == 0, (r.output, on_file.output)
    assert np.array_equal(np.load(grey / "s.npy"), np.load(grey / "f.npy")) and (grey / "s.png").stat().st_size > 0
