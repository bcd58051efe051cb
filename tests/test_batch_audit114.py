"""Audit 114 (batches and output safety, round 3): outputs that are one file through a linked output folder,
a pool worker killed by SIGKILL, one run's cleanup and another run's temporary files, a report that cannot be
written at the end, one shape for a "not run" record, and a file reached through two arguments."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import run_in_process


def png(path: Path, seed: int = 0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.random.default_rng(seed).integers(0, 256, (20, 24), dtype=np.uint8)).save(path)
    return path


class TestOneFileThroughALinkedOutputFolder:
    """Finding 1: the plan compared outputs by spelled paths; two spelled through a link were one file, both 'ok'."""

    @pytest.fixture
    def linked(self, tmp_path):
        png(tmp_path / "in" / "x" / "a.png", 1)
        png(tmp_path / "in" / "y" / "a.png", 2)
        (tmp_path / "o" / "y").mkdir(parents=True)
        (tmp_path / "o" / "x").symlink_to("y")
        return tmp_path

    @pytest.mark.parametrize("force", [[], ["--force"]])
    def test_a_link_to_a_sibling_output_folder_is_refused_before_any_work(self, linked, force):
        # with --force: exit 0, both records ok, one file holding whichever finished last; without: exit 4 after one write
        r = run_in_process("convolve", "in", "-r", "-k", "sobel_v", "--out-dir", "o", "--workers", "1", *force, cwd=linked)
        assert r.returncode == 4, r.stderr
        line = r.stderr.strip().splitlines()[0]
        assert "in/x/a.png and in/y/a.png would both be written there" in line and "o/y/a_sobel_v.png" in line, line
        assert "o/x/a_sobel_v.png" in line and "nothing was done" in line, line
        assert os.listdir(linked / "o" / "y") == []

    def test_a_link_to_the_output_folder_itself_is_refused_with_the_records(self, tmp_path):
        png(tmp_path / "in" / "a.png", 1)
        png(tmp_path / "in" / "sub" / "a.png", 2)
        (tmp_path / "o").mkdir()
        (tmp_path / "o" / "sub").symlink_to(".")
        r = run_in_process("convolve", "in", "-r", "-k", "sobel_v", "--out-dir", "o", "--force", "--json", cwd=tmp_path)
        assert r.returncode == 4, r.stderr
        items = json.loads(r.stdout)["items"]
        assert [i["status"] for i in items] == ["not run", "failed"] and all(i["code"] == 4 for i in items)
        assert "in/a.png and in/sub/a.png would both be written there" in items[1]["error"]
        assert sorted(os.listdir(tmp_path / "o")) == ["sub"]

    def test_distinct_folders_are_not_refused(self, linked):
        (linked / "o" / "x").unlink()
        r = run_in_process("convolve", "in", "-r", "-k", "sobel_v", "--out-dir", "o", "--workers", "1", "-q", cwd=linked)
        assert r.returncode == 0, r.stderr
        assert (linked / "o" / "x" / "a_sobel_v.png").is_file() and (linked / "o" / "y" / "a_sobel_v.png").is_file()

