"""Audit 142 #1: with stdout on a terminal, the hints of a bare ``-o -`` and of ``-o /dev/stdout`` offered formats that
the next call refused ("writes NPY bytes to stdout, which is a terminal"): every one of them for a filter bank or a
volume.  They say that a terminal takes no such bytes, and offer csv only where a csv holds the result."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

pytestmark = pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal")

TERMINAL = "; stdout is a terminal, which takes no image or array bytes: redirect it to a file (> FILE) or pipe it to a program (| ...)"
CSV = "; --format csv prints a matrix as text"


def _on_a_terminal(tmp_path, *args) -> tuple[int, str]:
    """Exit code and stderr of ``kernelcli ARGS`` with its stdout on a pseudo-terminal."""
    main, side = os.openpty()
    try:
        env = {**os.environ, "KERNELCLI_WORKER": "off", "NO_COLOR": "1"}
        done = subprocess.run([sys.executable, "-m", "kernelcli", *args], cwd=tmp_path, stdout=side,
                              stderr=subprocess.PIPE, text=True, env=env, timeout=120)
    finally:
        os.close(side)
        os.close(main)
    return done.returncode, done.stderr.strip()


@pytest.fixture
def inputs(tmp_path):
    Image.fromarray((np.arange(64).reshape(8, 8) * 3).astype(np.uint8)).save(tmp_path / "g.png")
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(tmp_path / "rgb.png")
    return tmp_path


@pytest.mark.parametrize("out", ["-", "/dev/stdout"])
@pytest.mark.parametrize("args, csv", [
    (["g.png", "-k", "box:3"], True),
    (["rgb.png", "-k", "box:3"], False),  # (a csv holds one channel)
    (["g.png", "-k", "sobel_v", "-k", "sobel_h"], False),  # (a bank's maps)
])
def test_the_hint_says_the_terminal_takes_no_bytes(inputs, out, args, csv):
    code, err = _on_a_terminal(inputs, "convolve", *args, "-o", out)
    assert code == 2 and err.count("\n") == 0, err
    assert err.endswith(TERMINAL + (CSV if csv else "")), err


def test_a_format_given_is_the_one_named(inputs):
    code, err = _on_a_terminal(inputs, "convolve", "g.png", "-k", "box:3", "-o", "/dev/stdout", "--format", "npy")
    assert code == 2 and "give --out - --format npy" + TERMINAL in err, err
    code, err = _on_a_terminal(inputs, "convolve", "g.png", "-k", "box:3", "-o", "/dev/stdout", "--format", "csv")
    assert code == 2 and err.endswith("give --out - --format csv"), err


def test_a_pipe_gets_the_formats_alone(inputs):
    done = subprocess.run([sys.executable, "-m", "kernelcli", "convolve", "g.png", "-k", "box:3", "-o", "-"], cwd=inputs,
                          capture_output=True, text=True, env={**os.environ, "KERNELCLI_WORKER": "off"}, timeout=120)
    assert done.returncode == 2 and done.stderr.strip().endswith("add --format bmp|csv|jpg|npy|png|tif"), done.stderr
