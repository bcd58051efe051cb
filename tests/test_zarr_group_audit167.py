"""An output inside a Zarr store (audit 167 #2): ``-o grp.zarr/img`` was told "write another format than .zarr (only
the tiled path writes it)" where the group existed (the run on the tiled path, no .zarr named), and "unsupported
output type '(no extension)'" where it did not; ``-o grp.zarr/sub.zarr`` wrote an array into the group."""

from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import SAMPLES, listing, run_in_process, zarr_group

zarr = pytest.importorskip("zarr")


@pytest.fixture()
def files(tmp_path):
    import shutil

    np.save(tmp_path / "g.npy", np.arange(1200, dtype=np.uint8).reshape(40, 30))
    shutil.copy(SAMPLES / "phantom.png", tmp_path / "phantom.png")
    zarr_group(tmp_path)
    return tmp_path


@pytest.mark.parametrize("out", ["grp.zarr/img", "grp.zarr/new", "new.zarr/img", "grp.zarr/sub.zarr", "grp.zarr/img.npy",
                                 "grp.zarr/img/x"])
@pytest.mark.parametrize("args", [["convolve", "g.npy", "-k", "box:3"], ["convolve", "g.npy", "-k", "box:3", "--tiled"],
                                  ["convolve", "phantom.png", "-k", "box:3"], ["pool", "g.npy", "-f", "2"],
                                  ["pad", "g.npy", "-p", "1"]], ids=["convolve", "tiled", "png", "pool", "pad"])
def test_one_refusal_whether_the_group_exists_or_not(files, args, out):
    before = listing(files / "grp.zarr")
    store = out.split("/")[0]
    r = run_in_process(*args, "-o", out, "--force", cwd=files)
    assert r.returncode == 2, r.stderr
    assert r.stderr == (f"error: {out}: is inside the Zarr store {store}: kernelcli reads an array inside a group but "
                        f"writes a store of its own, never inside another; give --out a path outside {store}\n"), r.stderr
    assert listing(files / "grp.zarr") == before and not (files / "new.zarr").exists()


def test_the_record_says_it_too(files):
    r = run_in_process("convolve", "g.npy", "-k", "box:3", "-o", "grp.zarr/img", "--json", cwd=files)
    record = json.loads(r.stdout)
    assert r.returncode == 2 and record["error"] == r.stderr.removeprefix("error: ").strip(), (r.stdout, r.stderr)
    assert record["error"].startswith("grp.zarr/img: is inside the Zarr store grp.zarr: ") and record["output"] == "grp.zarr/img"


def test_an_array_of_a_group_is_still_read(files):
    r = run_in_process("convolve", "grp.zarr/img", "-k", "box:3", "-o", "o.npy", cwd=files)
    assert r.returncode == 0 and np.load(files / "o.npy").shape == (5, 5), r.stderr


@pytest.mark.parametrize("out", ["in.zarr/sub.zarr", "in.zarr/img", "in.zarr/x.npy"])
def test_inside_the_input_store_is_refused_as_every_output_there(files, out):
    store = zarr.open_array(str(files / "in.zarr"), mode="w", shape=(8, 8), chunks=(4, 4), dtype="u1")
    store[:] = 1
    r = run_in_process("convolve", "in.zarr", "-k", "box:3", "-o", out, "--force", cwd=files)
    assert r.returncode == 4 and r.stderr == f"error: {out}: is inside the input in.zarr: write it outside the input store\n", r.stderr
    assert not (files / out).exists()
