"""Review 170 #1, #1b, #5, #6: "is this path inside a Zarr store, and which" has one answer
(:func:`kernelcli.io.store_paths.enclosing_store`), found where the path really is.

#5: the check read the path as typed: ``-o grp.zarr/../x.npy`` (outside) was refused as inside, and run from inside
the group ``-o x.npy`` and ``--report r.json`` were written into it (exit 0)."""

from __future__ import annotations

import os

import numpy as np
import pytest

from conftest import listing, run_in_process, zarr_group

zarr = pytest.importorskip("zarr")


@pytest.fixture()
def files(tmp_path):
    rng = np.random.default_rng(0)
    np.save(tmp_path / "f.npy", rng.random((24, 24)).astype("float32"))
    np.save(tmp_path / "g.npy", rng.random((24, 24)).astype("float32"))
    zarr_group(tmp_path)
    return tmp_path


def _refusal(option, path, store="grp.zarr"):
    named = "" if option == "--out" else f"{option} "
    return (f"error: {named}{path}: is inside the Zarr store {store}: kernelcli reads an array inside a group but "
            f"writes a store of its own, never inside another; give {option} a path outside {store}\n")


class TestWhereThePathReallyIs:
    def test_a_path_out_of_the_store_through_dot_dot_is_taken(self, files):
        r = run_in_process("convolve", "f.npy", "-k", "box:3", "-o", "grp.zarr/../x.npy", "-q", cwd=files)
        assert r.returncode == 0 and (files / "x.npy").exists(), r.stderr

    @pytest.mark.parametrize("option", ["--out", "--report"])
    def test_run_from_inside_the_store_its_outputs_are_refused(self, files, option):
        before = listing(files / "grp.zarr")
        args = ["-o", "x.npy"] if option == "--out" else ["-o", "../x.npy", "--report", "r.json"]
        r = run_in_process("convolve", "../f.npy", "-k", "box:3", *args, "-q", cwd=files / "grp.zarr")
        path = "x.npy" if option == "--out" else "r.json"
        assert (r.returncode, r.stderr) == (2, _refusal(option, path, os.path.realpath(files / "grp.zarr")))
        assert listing(files / "grp.zarr") == before and not (files / "x.npy").exists()

    def test_a_store_reached_through_dot_dot_is_named_by_its_path(self, files):
        # (run from inside grp.zarr/img, '--report ../r.json' was refused as "inside the Zarr store ..: ... give
        # --report a path outside ..": the shortest typed prefix that resolves to the store; audit 178 #5)
        inside = files / "grp.zarr" / "img"
        inside.mkdir(exist_ok=True)
        r = run_in_process("convolve", "../../f.npy", "-k", "box:3", "-o", "../../o.npy", "--report", "../r.json", "-q",
                           cwd=inside)
        store = os.path.realpath(files / "grp.zarr")
        assert (r.returncode, r.stderr) == (2, _refusal("--report", "../r.json", store)), r.stderr

    def test_a_link_to_the_store_is_the_store(self, files):
        (files / "lnk").symlink_to("grp.zarr")
        before = listing(files / "grp.zarr")
        r = run_in_process("convolve", "f.npy", "-k", "box:3", "-o", "lnk/x.npy", "-q", cwd=files)
        assert (r.returncode, r.stderr) == (2, _refusal("--out", "lnk/x.npy", "lnk"))
        assert listing(files / "grp.zarr") == before

    def test_a_group_named_otherwise_is_a_store_as_a_batch_takes_it(self, files):
        zarr.open_group(str(files / "plain"), mode="w").create_array("img", shape=(4, 4), dtype="u1")
        before = listing(files / "plain")
        r = run_in_process("convolve", "f.npy", "-k", "box:3", "-o", "plain/x.npy", "-q", cwd=files)
        assert (r.returncode, r.stderr) == (2, _refusal("--out", "plain/x.npy", "plain"))
        assert listing(files / "plain") == before


class TestOutDirInsideAStore:
    """#1: ``--out-dir grp.zarr/outs`` (and the store's own root) wrote a batch's results into the group, exit 0, where
    ``-o grp.zarr/x.npy`` and every other output named there is refused."""

    @pytest.mark.parametrize("args", [["convolve", "f.npy", "g.npy", "-k", "box:3"], ["pool", "f.npy", "g.npy", "-f", "2"],
                                      ["pad", "f.npy", "-p", "1"], ["volume", "f.npy", "g.npy", "-k", "box:3"]],
                             ids=["convolve", "pool", "pad", "volume"])
    @pytest.mark.parametrize("folder", ["grp.zarr/outs", "grp.zarr"])
    def test_refused_as_out_is(self, files, args, folder):
        before = listing(files / "grp.zarr")
        r = run_in_process(*args, "--out-dir", folder, "-q", cwd=files)
        expected = _refusal("--out-dir", folder)
        if folder == "grp.zarr":
            expected = expected.replace("is inside the Zarr store", "is the Zarr store")
        assert (r.returncode, r.stderr) == (2, expected)
        assert listing(files / "grp.zarr") == before

    def test_a_folder_beside_the_store_is_taken(self, files):
        r = run_in_process("convolve", "f.npy", "g.npy", "-k", "box:3", "--out-dir", "grp.zarr/../outs", "-q", cwd=files)
        assert r.returncode == 0 and sorted(p.name for p in (files / "outs").iterdir()) == ["f_box_3.npy", "g_box_3.npy"], r.stderr


class TestReportWithoutOut:
    """#1b: without ``-o`` a Zarr input's call (or any input with ".zarr" in its name) wrote ``--report`` into any
    other group: the check was skipped for every store where the default output may be one."""

    def test_a_store_input_s_report_in_another_group_is_refused(self, files):
        zarr.open_group(str(files / "grp2.zarr"), mode="w").create_array("a", shape=(4, 4), dtype="u1")
        before = listing(files / "grp2.zarr")
        r = run_in_process("convolve", "grp.zarr/img", "-k", "box:3", "--report", "grp2.zarr/r.json", "-q", cwd=files)
        assert (r.returncode, r.stderr) == (2, _refusal("--report", "grp2.zarr/r.json", "grp2.zarr"))
        assert listing(files / "grp2.zarr") == before and not list(files.glob("img_*.zarr"))

    def test_a_name_holding_zarr_is_no_store(self, files):
        from PIL import Image

        Image.fromarray(np.zeros((8, 8), np.uint8)).save(files / "x.zarr.png")
        r = run_in_process("convolve", "x.zarr.png", "-k", "box:3", "--report", "grp.zarr/r.json", "-q", cwd=files)
        assert (r.returncode, r.stderr) == (2, _refusal("--report", "grp.zarr/r.json"))
        assert not (files / "grp.zarr" / "r.json").exists()

    def test_a_report_inside_the_default_output_store_keeps_its_exit_4(self, files):
        r = run_in_process("convolve", "grp.zarr/img", "-k", "box:3", "--report", "img_box_3.zarr/r.json", "-q", cwd=files)
        assert (r.returncode, r.stderr) == (4, "error: --report img_box_3.zarr/r.json: is inside the output "
                                               "img_box_3.zarr: write it outside the output store\n")


class TestOneAnswer:
    """#6: "is this path in a Zarr store" was answered five ways (the path's text, a substring, any part, a parent's
    suffix, a batch's look at the metadata): the reader, the output checks and the batch now ask
    :func:`kernelcli.io.store_paths.enclosing_store`."""

    def test_an_array_through_a_link_to_its_group_is_read_as_one(self, files):
        # (it was taken for a folder of inputs: "--out names one output file; for several inputs ... use --out-dir")
        (files / "lnk").symlink_to("grp.zarr")
        r = run_in_process("convolve", "lnk/img", "-k", "box:3", "-o", "l.npy", "-q", cwd=files)
        assert r.returncode == 0 and (files / "l.npy").exists(), r.stderr

    def test_run_from_inside_the_group_its_array_is_read_and_the_default_output_refused(self, files):
        # (it was "img: a Zarr store is one input, ... give it alone, without --out-dir", no --out-dir given)
        before = listing(files / "grp.zarr")
        r = run_in_process("convolve", "img", "-k", "box:3", "-q", cwd=files / "grp.zarr")
        store = os.path.realpath(files / "grp.zarr")
        assert (r.returncode, r.stderr) == (2, _refusal("--out", "img_box_3.zarr", store))
        assert listing(files / "grp.zarr") == before

    @pytest.mark.parametrize("args, out", [(["convolve", "../f.npy", "-k", "box:3"], "f_box_3.npy"),
                                           (["pool", "../f.npy", "-f", "2"], "f_maxpool2.npy")], ids=["convolve", "pool"])
    def test_a_default_output_inside_the_group_is_refused_as_out_is(self, files, args, out):
        before = listing(files / "grp.zarr")
        r = run_in_process(*args, "-q", cwd=files / "grp.zarr")
        assert (r.returncode, r.stderr) == (2, _refusal("--out", out, os.path.realpath(files / "grp.zarr")))
        assert listing(files / "grp.zarr") == before

    def test_a_group_named_otherwise_is_called_a_store(self, files):
        zarr.open_group(str(files / "plain"), mode="w").create_array("img", shape=(4, 4), dtype="u1")
        r = run_in_process("convolve", "plain/img", "-k", "box:3", "-o", "plain/img/x.npy", "-q", cwd=files)
        assert (r.returncode, r.stderr) == (4, "error: plain/img/x.npy: is inside the input plain/img: write it outside the input store\n")
