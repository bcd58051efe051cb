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
