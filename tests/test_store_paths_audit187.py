"""Audit 187 #4: a folder only named as a Zarr store (``scans.zarr`` of images, no Zarr metadata) was called "a Zarr
store ... give it alone" by the ``-r`` walk and the batch's refusal, advice which then failed "not a Zarr store: No
group found in store StorePath(...)": it is now said to be a folder named as a store, with the patterns that read it."""

from __future__ import annotations

import pytest

from conftest import GROUP_METADATA, listing, run_in_process, small_png

NAMED_ONLY = ("a folder named as a Zarr store is (it holds no Zarr metadata), which kernelcli reads as one and does "
              "not look into: give its images by a pattern ('x/scans.zarr/**/*.png')")


@pytest.fixture()
def scans(tmp_path):
    small_png(tmp_path / "x" / "scans.zarr" / "pngs" / "a.png")
    small_png(tmp_path / "x" / "scans.zarr" / "pngs" / "day2" / "b.png")
    return tmp_path


class TestAFolderOnlyNamedAsAStore:
    def test_the_walk_says_what_it_is_and_the_pattern_it_gives_runs(self, scans):
        r = run_in_process("convolve", "x", "-r", "-k", "box:3", "--out-dir", "o8", "-q", cwd=scans)
        assert (r.returncode, r.stderr) == (2, f"error: x: no supported input files in this folder; not read: "
                                               f"x/scans.zarr, {NAMED_ONLY}\n")
        r = run_in_process("convolve", "x/scans.zarr/**/*.png", "-k", "box:3", "--out-dir", "o8", "-q", cwd=scans)
        assert r.returncode == 0 and listing(scans / "o8") == ["pngs", "pngs/a_box_3.png", "pngs/day2",
                                                               "pngs/day2/b_box_3.png"], r.stderr

    def test_given_as_a_folder_it_is_refused_alike(self, scans):
        for recursive in (["-r"], []):
            r = run_in_process("convolve", "x/scans.zarr", *recursive, "-k", "box:3", "--out-dir", "o", "-q", cwd=scans)
            assert (r.returncode, r.stderr) == (2, f"error: x/scans.zarr: {NAMED_ONLY}\n")
        assert not (scans / "o").exists()

    def test_a_walk_that_reads_other_files_notes_it(self, scans):
        small_png(scans / "x" / "top.png")
        r = run_in_process("convolve", "x", "-r", "-k", "box:3", "--out-dir", "o", cwd=scans)
        assert r.returncode == 0 and f"note: not read: x/scans.zarr, {NAMED_ONLY}" in r.stderr, r.stderr
        assert listing(scans / "o") == ["top_box_3.png"]

    def test_given_alone_it_is_no_store_and_told_the_pattern(self, scans):
        pytest.importorskip("zarr")
        pytest.importorskip("dask")
        r = run_in_process("convolve", "x/scans.zarr", "-k", "box:3", "-o", "y.npy", "-q", cwd=scans)
        assert (r.returncode, r.stderr) == (2, f"error: x/scans.zarr: not a Zarr store: {NAMED_ONLY} with --out-dir DIR\n")
        assert not (scans / "y.npy").exists()

    def test_a_one_file_command_is_not_told_to_save_an_array(self, scans):
        r = run_in_process("gallery", "x/scans.zarr", "-q", cwd=scans)
        assert (r.returncode, r.stderr) == (2, "error: x/scans.zarr: a folder named as a Zarr store is (it holds no Zarr "
                                               "metadata): no store, and gallery reads one file, not a folder\n")

    def test_a_store_with_metadata_is_still_one_input(self, scans):
        (scans / "x" / "scans.zarr" / "zarr.json").write_text(GROUP_METADATA)
        r = run_in_process("convolve", "x", "-r", "-k", "box:3", "--out-dir", "o8", "-q", cwd=scans)
        assert r.returncode == 2 and "not read: x/scans.zarr, a Zarr store is one input, read tile by tile: give it " \
                                     "alone" in r.stderr, r.stderr
