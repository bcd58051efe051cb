"""Review 170 #1, #1b, #5, #6: "is this path inside a Zarr store, and which" has one answer
(:func:`kernelcli.tiled.stores.enclosing_store`), found where the path really is.

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
