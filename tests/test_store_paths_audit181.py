"""Audit 181 #1-#5: the Zarr store look-up (:mod:`kernelcli.io.store_paths`) and the checks that ask it: a large
group's metadata, the look-up cache's keys and life, a store given by another name, a batch's folders named *.zarr."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from conftest import GROUP_METADATA, listing, run_in_process, small_png


class TestALargeGroupIsAStore:
    """#1: a group whose zarr.json was over 1 MiB (consolidated metadata of ~1,200 arrays, a large attribute) was no
    store: an output was written into it and a batch walked it."""

    @pytest.fixture()
    def big(self, tmp_path):
        small_png(tmp_path / "a.png")
        (tmp_path / "big").mkdir()
        # (as zarr writes it: the attributes first, "zarr_format" after a megabyte of them)
        document = {"attributes": {"note": "x" * 1_100_000}, "zarr_format": 3, "node_type": "group"}
        (tmp_path / "big" / "zarr.json").write_text(json.dumps(document, indent=2))
        small_png(tmp_path / "big" / "img" / "b.png")
        return tmp_path

    def test_an_output_inside_it_is_refused(self, big):
        r = run_in_process("convolve", "a.png", "-k", "box:3", "-o", "big/x.png", "-q", cwd=big)
        assert r.returncode == 2 and "big/x.png: is inside the Zarr store big" in r.stderr, r.stderr
        assert not (big / "big" / "x.png").exists()

    def test_a_walk_takes_it_as_one_input(self, big):
        r = run_in_process("convolve", "big", "-r", "-k", "box:3", "--out-dir", "ob", "-q", cwd=big)
        assert r.returncode == 2 and "big: a Zarr store is one input" in r.stderr, r.stderr
        assert not (big / "ob").exists()

    def test_over_the_parse_bound_a_json_object_is_still_a_store_and_only_its_head_is_read(self, tmp_path, monkeypatch):
        from kernelcli.io import store_paths

        monkeypatch.setattr(store_paths, "METADATA_LIMIT", 1000)
        (tmp_path / "grp").mkdir()
        (tmp_path / "grp" / "zarr.json").write_text(json.dumps({"attributes": {"n": "x" * 5000}, "zarr_format": 3}))
        (tmp_path / "notes").mkdir()
        (tmp_path / "notes" / "zarr.json").write_text("x" * 5000)
        sizes = []
        real = os.fdopen

        def watched(fd, *args, **kwargs):
            opened = real(fd, *args, **kwargs)
            read = opened.read
            opened.read = lambda size=-1: sizes.append(size) or read(size)  # type: ignore[method-assign]
            return opened

        monkeypatch.setattr(os, "fdopen", watched)
        store_paths.forget_store_lookups(remember=False)
        assert store_paths.enclosing_store(tmp_path / "grp" / "x.png") == tmp_path / "grp"
        assert store_paths.enclosing_store(tmp_path / "notes" / "x.png") is None
        assert sizes == [store_paths.METADATA_HEAD] * 2
        with pytest.raises(ValueError, match="more than 1000 bytes of metadata"):
            store_paths.read_metadata(tmp_path / "grp" / "zarr.json")

    def test_an_array_with_large_metadata_is_still_an_array_store(self, tmp_path):
        from kernelcli.tiled.stores import is_array_store

        (tmp_path / "o.zarr" / "c").mkdir(parents=True)
        document = {"zarr_format": 3, "node_type": "array", "attributes": {"note": "x" * 1_100_000}}
        (tmp_path / "o.zarr" / "zarr.json").write_text(json.dumps(document))
        assert is_array_store(tmp_path / "o.zarr")

    def test_a_fifo_is_still_not_read(self, tmp_path):
        from kernelcli.io.store_paths import enclosing_store

        if not hasattr(os, "mkfifo"):
            pytest.skip("no FIFOs here")
        (tmp_path / "d").mkdir()
        os.mkfifo(tmp_path / "d" / "zarr.json")
        assert enclosing_store(tmp_path / "d" / "x.png") is None


class TestTheLookUpCacheKeysARealFolder:
    """#2: the call's cache keyed a typed path by its lexical abspath: ``lnk/..`` (a group, physically) answered for
    the working folder, and the working folder for it."""

    @pytest.fixture()
    def poison(self, tmp_path, monkeypatch):
        (tmp_path / "plaingrp").mkdir()
        (tmp_path / "plaingrp" / "zarr.json").write_text(GROUP_METADATA)
        small_png(tmp_path / "plaingrp" / "pngs" / "a.png")
        (tmp_path / "lnk").symlink_to("plaingrp/pngs")
        return tmp_path

    def test_a_group_reached_through_a_link_and_dot_dot_is_one_input(self, poison):
        r = run_in_process("convolve", "lnk/..", "-r", "-k", "box:3", "--out-dir", "o", "-q", cwd=poison)
        assert (r.returncode, r.stderr) == (2, "error: lnk/..: a Zarr store is one input, read tile by tile: give it "
                                               "alone, without --out-dir (--out NAME.zarr or NAME.npy)\n")
        assert not (poison / "o").exists()

    def test_either_order_of_asking_gives_each_folder_its_own_answer(self, poison, monkeypatch):
        from kernelcli.io import store_paths

        monkeypatch.chdir(poison)
        try:
            store_paths.forget_store_lookups()
            assert store_paths.enclosing_store("x.png") is None and store_paths.is_store_node("lnk/..")
            store_paths.forget_store_lookups()
            assert store_paths.is_store_node("lnk/..") and store_paths.enclosing_store("x.png") is None
        finally:
            store_paths.forget_store_lookups(remember=False)


class TestAStoreByAnotherNameIsAStoreInput:
    """#3: a store not named *.zarr (a group found by its metadata, a link to a store) was "no DICOM images in this
    folder" for --mask, "not a regular file (a directory)" for gallery and learn, and a batch for ``-o NAME.npy``."""

    @pytest.fixture()
    def stores(self, tmp_path):
        zarr = pytest.importorskip("zarr")
        for name in ("plaingrp", "grp.zarr"):
            zarr.open_group(str(tmp_path / name), mode="w").create_array("img", data=np.ones((20, 20), "float32"))
        (tmp_path / "linkgrp").symlink_to("grp.zarr")
        small_png(tmp_path / "a.png")
        return tmp_path

    @pytest.mark.parametrize("store", ["plaingrp", "linkgrp"])
    @pytest.mark.parametrize("args, reads", [
        (["gallery", "{}", "-o", "g.png"], "gallery reads one image file in memory"),
        (["learn", "{}", "a.png", "-f", "3"], "learn reads one image file in memory"),
        (["learn", "a.png", "{}", "-f", "3"], "learn reads one image file in memory"),
    ])
    def test_an_in_memory_command_names_it_a_store(self, stores, store, args, reads):
        r = run_in_process(*(a.format(store) for a in args), "-q", cwd=stores)
        assert (r.returncode, r.stderr) == (2, f"error: {store}: a Zarr store, which convolve, pad and pool read tile "
                                               f"by tile; {reads}: save the array as .npy (numpy.save) to give it here\n")

    @pytest.mark.parametrize("store", ["plaingrp", "linkgrp"])
    def test_a_mask_names_it_a_store(self, stores, store):
        pytest.importorskip("nibabel")
        volume = stores / "v.nii.gz"
        import nibabel

        nibabel.save(nibabel.Nifti1Image(np.ones((6, 6, 6), "float32"), np.eye(4)), volume)
        r = run_in_process("convolve", "v.nii.gz", "-k", "gaussian:1mm", "--mask", store, "-o", "o.nii.gz", "-q",
                           cwd=stores)
        assert r.returncode == 2 and r.stderr.startswith(f"error: {store}: a Zarr store, which convolve") \
            and "--mask reads a NIfTI or DICOM mask" in r.stderr, r.stderr

    @pytest.mark.parametrize("store", ["plaingrp", "linkgrp"])
    def test_it_is_one_input_of_the_tiled_path_as_grp_zarr_is(self, stores, store):
        r = run_in_process("convolve", store, "-k", "box:3", "-o", "o.npy", "-q", cwd=stores)
        assert r.returncode == 0 and np.load(stores / "o.npy").shape == (20, 20), r.stderr
        r = run_in_process("pool", store, "-f", "2", "-q", cwd=stores)
        assert r.returncode == 0 and (stores / f"{store}_maxpool2.zarr").is_dir(), r.stderr

    def test_an_existing_group_as_the_output_is_still_a_folder(self, stores):
        np.save(stores / "in.npy", np.ones((8, 8), "float32"))
        before = listing(stores / "plaingrp")
        r = run_in_process("convolve", "in.npy", "-k", "box:3", "-o", "plaingrp", "--force", "-q", cwd=stores)
        assert (r.returncode, r.stderr) == (4, "error: plaingrp: is a folder, expected a file path\n")
        assert listing(stores / "plaingrp") == before


class TestNoStoreLookUpOutlivesItsCall:
    """#4: the look-up cache begun by a call was never ended: after ``cli.run`` the Typer app and the Python API
    answered from it, and an output was written into a folder made a Zarr group since."""

    @pytest.fixture()
    def folder(self, tmp_path, monkeypatch):
        from kernelcli.io import store_paths

        monkeypatch.chdir(tmp_path)
        small_png(tmp_path / "a.png")
        (tmp_path / "d").mkdir()
        yield tmp_path
        store_paths.forget_store_lookups(remember=False)

    @pytest.mark.parametrize("entry", ["run", "run_plain"])
    def test_a_store_made_after_a_call_is_seen_by_the_app_and_the_api(self, folder, invoke, entry):
        from kernelcli import cli
        from kernelcli.io import store_paths

        assert getattr(cli, entry)(["convolve", "a.png", "-k", "box:3", "-o", "d/x.png", "-q"]) == 0
        assert store_paths._ANSWERS is None
        (folder / "d" / "zarr.json").write_text(GROUP_METADATA)
        assert str(store_paths.enclosing_store("d/z.npy")) == "d"
        r = invoke("convolve", "a.png", "-k", "box:3", "-o", "d/y.png", "-q")
        assert r.exit_code == 2 and "d/y.png: is inside the Zarr store d" in r.output, r.output
        assert not (folder / "d" / "y.png").exists() and store_paths._ANSWERS is None

    def test_the_app_looks_at_each_folder_once_per_invocation(self, folder, invoke, monkeypatch):
        from kernelcli.io import store_paths

        for i in range(3):
            small_png(folder / "in" / f"d{i}" / "s.png")
        looked: list[str] = []
        real = store_paths._looks_like_metadata
        monkeypatch.setattr(store_paths, "_looks_like_metadata", lambda f: looked.append(str(f)) or real(f))
        r = invoke("convolve", "in", "-r", "-k", "box:3", "--out-dir", "o", "-q", "-j", "1")
        assert r.exit_code == 0, r.output
        assert looked and len(looked) == len(set(looked)) and store_paths._ANSWERS is None


class TestABatchFolderNamedAsAStore:
    """#5: a pattern whose mirrored tree passes through ``scans.zarr`` was refused as "is the Zarr store
    o7/scans.zarr" (a folder not made yet), one line per ancestor folder, with advice no --out-dir could follow,
    and exit 4 where --out-dir in a store is exit 2."""

    @pytest.fixture()
    def scans(self, tmp_path):
        (tmp_path / "x" / "scans.zarr").mkdir(parents=True)
        (tmp_path / "x" / "scans.zarr" / "zarr.json").write_text(GROUP_METADATA)
        small_png(tmp_path / "x" / "scans.zarr" / "pngs" / "a.png")
        small_png(tmp_path / "x" / "scans.zarr" / "pngs" / "day2" / "b.png")
        return tmp_path

    def test_one_true_line_per_input_exit_2_and_advice_that_works(self, scans):
        r = run_in_process("convolve", "x/**/*.png", "-k", "box:3", "--out-dir", "o7", "-q", cwd=scans)
        said = ("would go in {}, inside o7/scans.zarr, a folder named as a Zarr store is, which kernelcli reads as one "
                "and writes no file into: give the inputs from inside x/scans.zarr ('x/scans.zarr/**/*.png'): their "
                "output folders mirror only what is below it")
        assert (r.returncode, r.stderr) == (2, "error: 2 output folder(s) named as a Zarr store or in one; nothing was "
                                               "done:\n  --out-dir o7: the output of x/scans.zarr/pngs/a.png "
                                               + said.format("o7/scans.zarr/pngs") + "\n  --out-dir o7: the output of "
                                               "x/scans.zarr/pngs/day2/b.png " + said.format("o7/scans.zarr/pngs/day2")
                                               + "\n")
        assert not (scans / "o7").exists()
        r = run_in_process("convolve", "x/scans.zarr/**/*.png", "-k", "box:3", "--out-dir", "o7", "-q", cwd=scans)
        assert r.returncode == 0 and listing(scans / "o7") == ["pngs", "pngs/a_box_3.png", "pngs/day2",
                                                               "pngs/day2/b_box_3.png"], r.stderr

    def test_an_existing_store_below_out_dir_is_exit_2_as_out_dir_in_one(self, scans):
        (scans / "o").mkdir()
        (scans / "o" / "day2").symlink_to("../x/scans.zarr")
        r = run_in_process("convolve", "x/scans.zarr/pngs", "-r", "-k", "box:3", "--out-dir", "o", "-q", cwd=scans)
        assert (r.returncode, r.stderr) == (2, "error: --out-dir o: its folder o/day2 for the output of "
                                               "x/scans.zarr/pngs/day2/b.png is the Zarr store o/day2; kernelcli writes "
                                               "no file into a store: give --out-dir a folder with no store below it; "
                                               "nothing was done\n")
        r = run_in_process("convolve", "x/scans.zarr/pngs", "-r", "-k", "box:3", "--out-dir", "o/day2", "-q", cwd=scans)
        assert r.returncode == 2 and r.stderr.startswith("error: --out-dir o/day2: is the Zarr store o/day2"), r.stderr
        assert listing(scans / "o") == ["day2"]
