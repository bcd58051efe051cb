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

from kernelcli import batch_patterns

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
            assert sorted(batch_patterns.expand(pattern)) == sorted(glob.glob(pattern, recursive=True)), pattern

    def test_a_negated_class_never_matches_a_folder_separator(self, tree):
        assert batch_patterns.expand("r/**/x[!a]y.png") == glob.glob("r/**/x[!a]y.png", recursive=True) == []

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


class TestOutputFoldersWhilePlanning:
    def test_an_output_that_is_also_an_output_folder_is_refused_before_any_work(self, tmp_path):
        # in/a.png -> out/a_box_3.png, and in/a_box_3.png/b.png -> out/a_box_3.png/b_box_3.png: one file was
        # written, then a.png failed, exit 4 with '1 ok'
        png(tmp_path / "in" / "a.png"), png(tmp_path / "in" / "a_box_3.png" / "b.png")
        r = run_in_process("convolve", "in", "-r", "-k", "box:3", "--out-dir", "out", "--report", "r.json", cwd=tmp_path)
        assert r.returncode == 4, r.stderr
        assert "out/a_box_3.png: the output of in/a.png, and a folder of the output of in/a_box_3.png/b.png" in r.stderr
        assert "nothing was done" in r.stderr and "ok" not in r.stderr
        assert not (tmp_path / "out").exists()

    def test_a_recursive_scan_does_not_call_a_folder_it_read_not_read(self, tmp_path):
        # 'note: not read: in/x.png, a folder named like an input', though its b.png was read
        png(tmp_path / "in" / "a.png"), png(tmp_path / "in" / "x.png" / "b.png")
        r = run_in_process("convolve", "in", "-r", "-k", "box:3", "--out-dir", "out", cwd=tmp_path)
        assert r.returncode == 0 and "not read" not in r.stderr, r.stderr
        assert files_under(tmp_path / "out") == ["a_box_3.png", "x.png/b_box_3.png"]
        r = run_in_process("convolve", "in", "-k", "box:3", "--out-dir", "out2", cwd=tmp_path)  # without -r, it is not
        assert r.returncode == 0 and "not read: in/x.png, a folder named like an input" in r.stderr, r.stderr

    def test_a_file_where_an_output_folder_goes_is_refused_before_any_work(self, tmp_path):
        # 'error: out/sub: cannot create the output folder: File exists', exit 1, found as the run began, no --report
        png(tmp_path / "in" / "a.png"), png(tmp_path / "in" / "sub" / "b.png")
        (tmp_path / "out").mkdir()
        (tmp_path / "out" / "sub").write_text("x")
        r = run_in_process("convolve", "in", "-r", "-k", "box:3", "--out-dir", "out", cwd=tmp_path)
        assert r.returncode == 4, r.stderr
        assert r.stderr == "error: out/sub: exists and is not a folder; the output of in/sub/b.png goes in it; nothing was done\n"
        assert files_under(tmp_path / "out") == ["sub"]

    def test_an_output_folder_linked_from_the_inputs_is_inside_them(self, tmp_path):
        # in/link -> ../out: both runs exit 0, and the second read the first's output (out/link/a_box_3_sobel_v.png)
        png(tmp_path / "in" / "a.png")
        (tmp_path / "out").mkdir()
        (tmp_path / "in" / "link").symlink_to("../out")
        for inputs in (["in", "-r"], ["in/**/*.png"]):
            r = run_in_process("convolve", *inputs, "-k", "box:3", "--out-dir", "out", cwd=tmp_path)
            assert r.returncode == 4 and "--out-dir out: is inside the input" in r.stderr, r.stderr
            assert "through the link in/link" in r.stderr
        assert files_under(tmp_path / "out") == []

    def test_an_output_subfolder_linking_into_the_inputs_is_refused(self, tmp_path):
        # out/sub -> ../in/sub: b_box_3.png was written into in/sub, exit 0
        png(tmp_path / "in" / "a.png"), png(tmp_path / "in" / "sub" / "b.png")
        (tmp_path / "out").mkdir()
        (tmp_path / "out" / "sub").symlink_to("../in/sub")
        for inputs in (["in", "-r"], ["in/**/*.png"]):
            r = run_in_process("convolve", *inputs, "-k", "box:3", "--out-dir", "out", cwd=tmp_path)
            assert r.returncode == 4 and "out/sub: is " in r.stderr and "through a link, inside the input" in r.stderr, r.stderr
        assert files_under(tmp_path / "in") == ["a.png", "sub/b.png"] and files_under(tmp_path / "out") == ["sub"]


class TestReportOfARefusal:
    def test_a_refused_output_writes_the_report_with_out_dir_as_with_o(self, tmp_path):
        # -o refused (exit 4) wrote the report, with its record 'failed', code 4; --out-dir refused wrote none
        png(tmp_path / "a.png"), png(tmp_path / "b.png", 1), png(tmp_path / "o" / "a_box_3.png", 2)
        r = run_in_process("convolve", "a.png", "-k", "box:3", "-o", "o/a_box_3.png", "--report", "single.json", cwd=tmp_path)
        assert r.returncode == 4
        single = json.loads((tmp_path / "single.json").read_text())["items"]
        r = run_in_process("convolve", "a.png", "b.png", "-k", "box:3", "--out-dir", "o", "--report", "batch.json", cwd=tmp_path)
        assert r.returncode == 4 and "nothing was done" in r.stderr, r.stderr
        doc = json.loads((tmp_path / "batch.json").read_text())
        assert [(i["input"], i["status"], i["code"]) for i in doc["items"]] == [("a.png", "failed", 4), ("b.png", "not run", 4)]
        assert (single[0]["status"], single[0]["code"]) == ("failed", 4)
        assert doc["items"][0]["error"].startswith(f"a.png: {single[0]['error']}") and doc["totals"]["ok"] == 0
        assert files_under(tmp_path / "o") == ["a_box_3.png"]

    def test_a_file_where_an_output_folder_goes_writes_the_report(self, tmp_path):
        png(tmp_path / "in" / "a.png"), png(tmp_path / "in" / "sub" / "b.png")
        (tmp_path / "out").mkdir()
        (tmp_path / "out" / "sub").write_text("x")
        r = run_in_process("convolve", "in", "-r", "-k", "box:3", "--out-dir", "out", "--report", "r.json", cwd=tmp_path)
        assert r.returncode == 4, r.stderr
        doc = json.loads((tmp_path / "r.json").read_text())
        assert [(i["input"], i["status"]) for i in doc["items"]] == [("in/a.png", "not run"), ("in/sub/b.png", "failed")]
        assert files_under(tmp_path / "out") == ["sub"]

    def test_a_refused_report_is_not_written(self, tmp_path):
        png(tmp_path / "a.png"), png(tmp_path / "b.png", 1), png(tmp_path / "o" / "a_box_3.png", 2)
        before = (tmp_path / "o" / "a_box_3.png").read_bytes()
        r = run_in_process("convolve", "a.png", "b.png", "-k", "box:3", "--out-dir", "o", "--report", "o/a_box_3.png", cwd=tmp_path)
        assert r.returncode == 4 and (tmp_path / "o" / "a_box_3.png").read_bytes() == before
        assert sorted(p.name for p in tmp_path.iterdir()) == ["a.png", "b.png", "o"]


class TestLinkedNames:
    def test_a_file_and_a_link_to_it_read_under_its_own_name_with_a_note(self, tmp_path):
        # 0latest.png -> scan.png: the output was 0latest_box_3.png, no scan_box_3.png, and nothing said so
        png(tmp_path / "in" / "scan.png"), png(tmp_path / "in" / "b.png", 1)
        (tmp_path / "in" / "0latest.png").symlink_to("scan.png")
        for n, inputs in enumerate((["in"], ["in/*.png"], ["in/**/*.png"])):
            r = run_in_process("convolve", *inputs, "-k", "box:3", "--out-dir", f"o{n}", cwd=tmp_path)
            assert r.returncode == 0 and "not read: in/0latest.png, the same file as in/scan.png" in r.stderr, r.stderr
            assert files_under(tmp_path / f"o{n}") == ["b_box_3.png", "scan_box_3.png"]

    def test_a_folder_and_a_link_to_it_read_under_its_own_name_with_a_note(self, tmp_path):
        png(tmp_path / "in" / "real" / "a.png")
        (tmp_path / "in" / "0link").symlink_to("real")
        r = run_in_process("convolve", "in", "-r", "-k", "box:3", "--out-dir", "o", cwd=tmp_path)
        assert r.returncode == 0 and "not read: in/0link, the same folder as in/real" in r.stderr, r.stderr
        assert files_under(tmp_path / "o") == ["real/a_box_3.png"]
