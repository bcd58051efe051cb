"""Audit 177 #1-#6: the Zarr store look-up (:mod:`kernelcli.io.store_paths`) and the checks that ask it, for
batches and output safety."""

from __future__ import annotations

import os
import subprocess

import numpy as np
import pytest

from conftest import GROUP_METADATA, listing, run_cli, run_in_process, small_png


class TestMetadataIsARegularFile:
    """#1: a FIFO named zarr.json blocked the open for ever, a link to /dev/zero was read until memory ran out."""

    @pytest.fixture()
    def tree(self, tmp_path):
        if not hasattr(os, "mkfifo"):
            pytest.skip("no FIFOs here")
        small_png(tmp_path / "in" / "a.png")
        small_png(tmp_path / "in" / "sub" / "b.png")
        os.mkfifo(tmp_path / "in" / "sub" / "zarr.json")
        (tmp_path / "d").mkdir()
        os.mkfifo(tmp_path / "d" / "zarr.json")
        return tmp_path

    def test_a_walk_past_a_fifo_named_zarr_json_reads_the_folder(self, tree):
        try:
            r = run_cli("convolve", "in", "-r", "-k", "box:3", "--out-dir", "o", "-q", cwd=tree, timeout=30)
        except subprocess.TimeoutExpired:
            pytest.fail("the walk hung on the FIFO named zarr.json")
        assert r.returncode == 0, r.stderr
        assert (tree / "o" / "a_box_3.png").is_file() and (tree / "o" / "sub" / "b_box_3.png").is_file()

    def test_an_output_beside_a_fifo_named_zarr_json_is_written(self, tree):
        try:
            r = run_cli("convolve", "in/a.png", "-k", "box:3", "-o", "d/x.png", "-q", cwd=tree, timeout=30)
        except subprocess.TimeoutExpired:
            pytest.fail("the output check hung on the FIFO named zarr.json")
        assert r.returncode == 0 and (tree / "d" / "x.png").is_file(), r.stderr

    def test_a_forced_store_holding_a_fifo_named_zarr_json_is_refused_not_read(self, tree):
        np.save(tree / "a.npy", np.ones((8, 8), "float32"))
        (tree / "o.zarr").mkdir()
        os.mkfifo(tree / "o.zarr" / "zarr.json")
        try:
            r = run_cli("convolve", "a.npy", "-k", "box:3", "-o", "o.zarr", "--force", "-q", cwd=tree, timeout=30)
        except subprocess.TimeoutExpired:
            pytest.fail("--force's check hung on the FIFO named zarr.json")
        assert r.returncode == 4 and "is a folder that is not a Zarr array" in r.stderr, r.stderr

    def test_a_link_to_dev_zero_is_no_metadata_and_is_not_read(self, tmp_path, monkeypatch):
        from kernelcli.io import store_paths

        if not os.path.exists("/dev/zero"):
            pytest.skip("no /dev/zero here")
        (tmp_path / "z").mkdir()
        (tmp_path / "z" / "zarr.json").symlink_to("/dev/zero")
        import builtins

        opened = []
        for module, name in ((builtins, "open"), (os, "open")):
            real = getattr(module, name)

            def watched(path, *args, _real=real, **kwargs):
                if os.fspath(path).endswith("zarr.json"):
                    opened.append(path)
                    raise OSError("the test stops this open: it would read /dev/zero")
                return _real(path, *args, **kwargs)
            monkeypatch.setattr(module, name, watched)
        assert store_paths.enclosing_store(tmp_path / "z" / "x.png") is None
        assert not opened

    def test_regular_metadata_still_makes_a_store(self, tmp_path):
        from kernelcli.io.store_paths import enclosing_store

        (tmp_path / "grp").mkdir()
        (tmp_path / "grp" / "zarr.json").write_text(GROUP_METADATA)
        assert enclosing_store(tmp_path / "grp" / "x.npy") == tmp_path / "grp"


class TestAPlainFolderInsideAStoreIsAFolderInput:
    """#3: ``scans.zarr/pngs`` (images, no metadata) was refused as "a Zarr store is one input", and the advice
    followed said "not a Zarr store"; a link in a walk to such a folder was passed over.  "Inside a store" is for
    outputs; an input folder is a store only if it is one (named ``.zarr`` or holding metadata)."""

    @pytest.fixture()
    def scans(self, tmp_path):
        (tmp_path / "scans.zarr").mkdir()
        (tmp_path / "scans.zarr" / "zarr.json").write_text(GROUP_METADATA)
        small_png(tmp_path / "scans.zarr" / "pngs" / "a.png")
        small_png(tmp_path / "scans.zarr" / "pngs" / "day2" / "b.png")
        return tmp_path

    def test_the_folder_is_read_as_its_pattern_is(self, scans):
        r = run_in_process("convolve", "scans.zarr/pngs", "-r", "-k", "box:3", "--out-dir", "o", "-q", cwd=scans)
        assert r.returncode == 0, r.stderr
        assert listing(scans / "o") == ["a_box_3.png", "day2", "day2/b_box_3.png"]

    def test_the_folder_with_out_is_told_to_use_out_dir(self, scans):
        r = run_in_process("convolve", "scans.zarr/pngs", "-k", "box:3", "-o", "x.npy", "-q", cwd=scans)
        assert r.returncode == 2 and "use --out-dir" in r.stderr and "Zarr" not in r.stderr, r.stderr

    def test_a_link_in_a_walk_to_a_folder_inside_a_group_is_read(self, scans):
        small_png(scans / "in2" / "d.png")
        (scans / "in2" / "lnk").symlink_to("../scans.zarr/pngs")
        r = run_in_process("convolve", "in2", "-r", "-k", "box:3", "--out-dir", "o", "-q", cwd=scans)
        assert r.returncode == 0 and "not read" not in r.stderr, r.stderr
        assert (scans / "o" / "lnk" / "a_box_3.png").is_file() and (scans / "o" / "d_box_3.png").is_file()

    def test_a_group_named_otherwise_and_an_array_of_it_are_still_one_input(self, scans):
        small_png(scans / "in3" / "d.png")
        (scans / "in3" / "grp").mkdir()
        (scans / "in3" / "grp" / "zarr.json").write_text(GROUP_METADATA)
        r = run_in_process("convolve", "in3", "-r", "-k", "box:3", "--out-dir", "o", cwd=scans)
        assert r.returncode == 0 and "not read: in3/grp, a Zarr store is one input" in r.stderr, r.stderr
        r = run_in_process("convolve", "in3/grp", "-k", "box:3", "--out-dir", "o4", "-q", cwd=scans)
        assert r.returncode == 2 and "a Zarr store is one input" in r.stderr, r.stderr


class TestABatchReportGoesInNoStore:
    """#2: a batch whose inputs lie inside a group wrote ``--report`` into any other group (or its inputs' own), exit 0:
    the early check was skipped as for a call whose default output may be a store, which a batch's never is."""

    @pytest.fixture()
    def stores(self, tmp_path):
        for name in ("scans.zarr", "other.zarr"):
            (tmp_path / name).mkdir()
            (tmp_path / name / "zarr.json").write_text(GROUP_METADATA)
        small_png(tmp_path / "scans.zarr" / "pngs" / "a.png")
        small_png(tmp_path / "scans.zarr" / "pngs" / "day2" / "b.png")
        return tmp_path

    @pytest.mark.parametrize("args, report", [
        (["convolve", "scans.zarr/pngs/a.png", "scans.zarr/pngs/day2/b.png", "-k", "box:3", "--out-dir", "o"], "other.zarr/r.json"),
        (["pad", "scans.zarr/pngs/*.png", "-p", "1", "--out-dir", "o"], "scans.zarr/r.json"),
        (["pool", "scans.zarr/pngs/a.png", "-f", "2", "--out-dir", "o"], "other.zarr/r.json"),
        (["convolve", "scans.zarr/pngs", "-r", "-k", "box:3", "--out-dir", "o"], "other.zarr/r.json"),
        (["convolve", "scans.zarr/pngs/*.png", "-k", "box:3"], "other.zarr/r.json"),
    ])
    def test_refused_before_any_work(self, stores, args, report):
        before = {name: listing(stores / name) for name in ("scans.zarr", "other.zarr")}
        r = run_in_process(*args, "--report", report, "-q", cwd=stores)
        store = report.split("/")[0]
        assert (r.returncode, r.stderr) == (2, f"error: --report {report}: is inside the Zarr store {store}: kernelcli "
                                               "reads an array inside a group but writes a store of its own, never "
                                               f"inside another; give --report a path outside {store}\n")
        assert {name: listing(stores / name) for name in before} == before and not (stores / "o").exists()


class TestTheInputArrayAsTheOutputIsTheInput:
    """#5: ``-o grp.zarr/img`` (or ``--out-dir``) reading ``grp.zarr/img`` was refused as a foreign store, exit 2."""

    @pytest.fixture()
    def group(self, tmp_path):
        zarr = pytest.importorskip("zarr")
        zarr.open_group(str(tmp_path / "grp.zarr"), mode="w").create_array("img", data=np.ones((8, 8), "float32"))
        zarr.open_array(str(tmp_path / "scan.zarr"), mode="w", shape=(8, 8), dtype="float32")[:] = 1
        return tmp_path

    @pytest.mark.parametrize("command, given, args, named", [
        ("convolve", "grp.zarr/img", ["-o", "grp.zarr/img", "--force"], ""),
        ("convolve", "grp.zarr/img", ["-o", "grp.zarr/img"], ""),
        ("convolve", "grp.zarr/img", ["--out-dir", "grp.zarr/img"], "--out-dir "),
        ("pad", "grp.zarr/img", ["-p", "1", "-o", "grp.zarr/img", "--force"], ""),
        ("convolve", "scan.zarr", ["--out-dir", "scan.zarr"], "--out-dir "),
    ])
    def test_exit_4_is_the_input(self, group, command, given, args, named):
        before = listing(group)
        kernel = ["-k", "box:3"] if command == "convolve" else []
        r = run_in_process(command, given, *kernel, *args, "-q", cwd=group)
        out = args[args.index("-o") + 1] if "-o" in args else args[args.index("--out-dir") + 1]
        assert (r.returncode, r.stderr) == (4, f"error: {named}{out}: is the input {given} (same file): the output "
                                               "would overwrite the input\n")
        assert listing(group) == before


class TestAnOutputFolderInAStoreIsRefusedInThePlan:
    """#4: an output sub-folder of --out-dir that is (or links to, or is named as) a Zarr store was found file by file
    while the batch ran: the others written, exit 1, an empty ``o/foo.zarr`` left, and the error said "give --out"."""

    def test_a_link_to_a_group_below_out_dir(self, tmp_path):
        small_png(tmp_path / "in" / "a.png")
        small_png(tmp_path / "in" / "sub" / "b.png")
        (tmp_path / "ext.zarr").mkdir()
        (tmp_path / "ext.zarr" / "zarr.json").write_text(GROUP_METADATA)
        (tmp_path / "o").mkdir()
        (tmp_path / "o" / "sub").symlink_to("../ext.zarr")
        r = run_in_process("convolve", "in", "-r", "-k", "box:3", "--out-dir", "o", "-q", cwd=tmp_path)
        assert r.returncode == 2, r.stderr  # (as --out-dir in a store: audit 181 #5)
        assert r.stderr.startswith("error: --out-dir o: its folder o/sub for the output of in/sub/b.png is the Zarr store o/sub"), r.stderr
        assert "--out " not in r.stderr and listing(tmp_path / "o") == ["sub"] and listing(tmp_path / "ext.zarr") == ["zarr.json"]

    def test_a_pattern_through_a_folder_named_as_a_store_makes_no_folder(self, tmp_path):
        small_png(tmp_path / "in" / "a.png")
        small_png(tmp_path / "in" / "foo.zarr" / "x.png")
        r = run_in_process("convolve", "in/**/*.png", "-k", "box:3", "--out-dir", "o", "-q", cwd=tmp_path)
        assert r.returncode == 2 and "the output of in/foo.zarr/x.png would go in o/foo.zarr, a folder named as a Zarr store is" in r.stderr, r.stderr
        assert not (tmp_path / "o").exists()


class TestEachFolderIsLookedAtOncePerCall:
    """#6: every output check and every walked folder re-read Zarr metadata in every ancestor up to ``/``."""

    def test_a_recursive_batch_looks_at_each_folder_once_and_a_new_call_afresh(self, tmp_path, monkeypatch):
        from kernelcli.io import store_paths

        for i in range(4):
            for j in range(3):
                small_png(tmp_path / "in" / f"d{i}" / f"s{j}.png")
        looked: list[str] = []
        real = store_paths._looks_like_metadata
        monkeypatch.setattr(store_paths, "_looks_like_metadata", lambda folder: looked.append(os.path.abspath(folder)) or real(folder))
        r = run_in_process("convolve", "in", "-r", "-k", "box:3", "--out-dir", "o", "-q", "-j", "1", cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        assert looked and len(looked) == len(set(looked)), sorted(f for f in set(looked) if looked.count(f) > 1)
        (tmp_path / "o" / "d0").rename(tmp_path / "o" / "d0.old")
        (tmp_path / "o" / "d0").mkdir()
        (tmp_path / "o" / "d0" / "zarr.json").write_text(GROUP_METADATA)  # (made between calls: the next call sees it)
        r = run_in_process("convolve", "in", "-r", "-k", "box:3", "--out-dir", "o", "--force", "-q", "-j", "1", cwd=tmp_path)
        assert r.returncode == 2 and "its folder o/d0 for the output of in/d0/s0.png is the Zarr store o/d0" in r.stderr, r.stderr
