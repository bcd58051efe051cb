"""Audit 91 (batches and output safety): patterns read one way with and without ``**``, outputs refused
while planning (folder and file clashes, links into the inputs), filter banks beside volumes, links named."""

from __future__ import annotations

import glob
import json
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from kernelcli import batch_plan

from conftest import SAMPLES, run_in_process


def png(path: Path, seed: int = 0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.random.default_rng(seed).integers(0, 255, (20, 24), dtype=np.uint8)).save(path)
    return path


def files_under(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file() or p.is_symlink())


class TestPatternClasses:
    NAMES = ["a.png", "b.png", "^x.png", "]x.png", "[x.png", "-x.png", "&x.png", "zz.png"]

    @pytest.fixture
    def tree(self, tmp_path, monkeypatch):
        for name in self.NAMES:
            png(tmp_path / "r" / "d" / name)
        png(tmp_path / "r" / "x" / "y.png")
        monkeypatch.chdir(tmp_path)
        return tmp_path

    @pytest.mark.parametrize("klass", ["[a^]", "[!a]", "[[a]", "[a--]", "[z-a]", "[]a]", "[!]a]", "[a&&b]", "[-a]",
                                       "[!z-a]", "[&]", "[!]", "[a"])
    def test_a_double_star_pattern_reads_a_class_as_glob_does(self, tree, klass):
        # '[^a]'-like bodies went into the regex as they were: '[!]a]' and '[a&&b]' read otherwise, '[z-a]' exit 70
        for pattern in (f"r/**/{klass}*.png", f"r/*/{klass}*.png"):
            assert sorted(batch_plan._expand(pattern)) == sorted(glob.glob(pattern, recursive=True)), pattern

    def test_a_negated_class_never_matches_a_folder_separator(self, tree):
        assert batch_plan._expand("r/**/x[!a]y.png") == glob.glob("r/**/x[!a]y.png", recursive=True) == []

    @pytest.mark.parametrize("pattern", ["r/**/[^a]*.png", "r/*/[^a]*.png"])
    def test_a_class_starting_with_a_caret_reads_two_ways(self, tree, pattern):
        # with '**' it was 'not a' (b.png, ^x.png), without it glob's '^ or a' (a.png, ^x.png): both exit 0
        r = run_in_process("convolve", pattern, "-k", "box:3", "--out-dir", "o", cwd=tree)
        assert r.returncode == 2 and "[^a] reads two ways" in r.stderr and "[a^]" in r.stderr and "[!a]" in r.stderr, r.stderr
        assert not (tree / "o").exists()

    @pytest.mark.parametrize("klass", ["[z-a]", "[a--]"])
    def test_a_class_matching_nothing_is_a_pattern_matching_nothing(self, tree, klass):
        # '**/[z-a]*.png' exited 70, '**/[a--]*.png' printed re's FutureWarning, then 70
        for pattern in (f"r/**/{klass}*.png", f"r/*/{klass}*.png"):
            r = run_in_process("convolve", pattern, "-k", "box:3", "--out-dir", "o", cwd=tree)
            assert r.returncode == 2 and r.stderr == f"error: {pattern}: no files match this pattern\n", r.stderr

    def test_a_bracket_in_a_class_prints_no_warning(self, tree):
        # '**/[[a]*.png' printed "FutureWarning: Possible nested set" with the source path
        r = run_in_process("convolve", "r/**/[[a]*.png", "-k", "box:3", "--out-dir", "o", "-q", cwd=tree)
        assert r.returncode == 0 and r.stderr == "", r.stderr
        assert files_under(tree / "o") == ["d/[x_box_3.png", "d/a_box_3.png"]


def test_a_filter_bank_writes_images_as_npy_beside_a_volume_too(tmp_path):
    # with ct.nii among the inputs, a.png and b.png were planned as .png and failed ('several feature maps need .npy');
    # alone they are written as .npy (H', W', maps)
    pytest.importorskip("nibabel")
    png(tmp_path / "a.png"), png(tmp_path / "b.png", 1)
    (tmp_path / "ct.nii.gz").write_bytes((SAMPLES / "phantom3d.nii.gz").read_bytes())
    r = run_in_process("convolve", "a.png", "b.png", "ct.nii.gz", "-k", "sobel_h", "-k", "sobel_v", "--out-dir", "o",
                       "--json", cwd=tmp_path)
    records = {Path(rec["input"]).name: rec for rec in json.loads(r.stdout)["items"]}
    assert r.returncode == 1 and [rec["status"] for rec in records.values()] == ["ok", "ok", "failed"], r.stderr
    assert "at most one --kernel" in records["ct.nii.gz"]["error"]
    assert records["ct.nii.gz"]["output"] == os.path.join("o", "ct_sobel_h_sobel_v.nii.gz")  # a volume keeps its format
    assert files_under(tmp_path / "o") == ["a_sobel_h_sobel_v.npy", "b_sobel_h_sobel_v.npy"]
    alone = run_in_process("convolve", "a.png", "-k", "sobel_h", "-k", "sobel_v", "--out-dir", "o2", "-q", cwd=tmp_path)
    assert alone.returncode == 0
    assert np.array_equal(np.load(tmp_path / "o2" / "a_sobel_h_sobel_v.npy"), np.load(tmp_path / "o" / "a_sobel_h_sobel_v.npy"))
