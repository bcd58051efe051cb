"""Review 148 #3: a ``--weights`` file of one filter (1, C, f, f) makes one map, not a bank.

Every weights file was taken for a bank: ``-o -`` and ``-o /dev/stdout`` were told ``--format npy|tif (what several
feature maps write through a pipe)`` where png, csv... work, and a terminal's refusal withheld the csv hint.
"""

from __future__ import annotations

import numpy as np
import pytest

from conftest import run_in_process
from test_terminal import on_a_terminal

SIX = "bmp|csv|jpg|npy|png|tif"
BANK = "npy|tif (what several feature maps write through a pipe)"


@pytest.fixture
def files(tmp_path):
    from PIL import Image

    rng = np.random.default_rng(3)
    Image.fromarray(rng.integers(0, 256, (8, 9), dtype=np.uint8)).save(tmp_path / "g.png")
    Image.fromarray(rng.integers(0, 256, (8, 9, 3), dtype=np.uint8)).save(tmp_path / "rgb.png")
    np.save(tmp_path / "w1.npy", np.full((1, 1, 3, 3), 0.1))
    np.save(tmp_path / "w13.npy", np.full((1, 3, 3, 3), 0.1))
    np.save(tmp_path / "w2.npy", np.full((2, 1, 3, 3), 0.1))
    return tmp_path


@pytest.mark.parametrize("weights, formats", [("w1.npy", SIX), ("w2.npy", BANK)])
def test_a_bare_stdout_lists_what_the_weights_write(files, weights, formats):
    done = run_in_process("convolve", "g.png", "--weights", weights, "-o", "-", cwd=files)
    assert done.returncode == 2 and done.stdout == "", done.stderr
    assert done.stderr == ("error: --out - writes to stdout, which has no file name to tell the format: add --format "
                           f"{formats}\n")


@pytest.mark.parametrize("weights, formats", [("w1.npy", SIX), ("w2.npy", BANK)])
def test_stdouts_device_file_lists_what_the_weights_write(files, weights, formats):
    done = run_in_process("convolve", "g.png", "--weights", weights, "-o", "/dev/stdout", cwd=files)
    assert done.returncode == 2, done.stderr
    assert done.stderr.endswith(f"give --out - --format {formats}\n"), done.stderr


def test_one_filter_is_written_as_csv_through_a_pipe(files):
    done = run_in_process("convolve", "g.png", "--weights", "w1.npy", "-o", "-", "--format", "csv", "-q", cwd=files)
    assert done.returncode == 0 and len(done.stdout.splitlines()) == 8, done.stderr


@pytest.mark.parametrize("args, hinted", [
    (("g.png", "--weights", "w1.npy"), True),
    (("rgb.png", "--weights", "w13.npy"), True),  # the three channels weighed into the filter's one map
    (("g.png", "--weights", "w2.npy"), False),  # two maps: csv refuses them
    (("g.png", "--weights", "missing.npy"), True),  # unreadable: taken as one filter; the reader says why when it runs
], ids=["grey", "rgb-one-filter", "two-filters", "missing"])
def test_a_terminal_suggests_csv_for_one_filter(files, args, hinted):
    code, shown = on_a_terminal("convolve", *args, "-o", "-", "--format", "npy", env={"NO_COLOR": "1"}, columns=400,
                                cwd=files)
    assert code == 2 and "which is a terminal" in shown, shown
    assert ("; --format csv prints a matrix as text" in shown) == hinted, shown
