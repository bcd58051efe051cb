"""Every output a call names is refused inside a Zarr store, as ``-o`` is (review 169 #3): ``--montage grp.zarr/m.png``,
``--report grp.zarr/r.json``, ``learn -o grp.zarr/k.json`` and ``learn --plot grp.zarr/c.png`` were written into the
group (exit 0) where ``-o grp.zarr/x.npy`` was refused (exit 2, "writes a store of its own, never inside another")."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import listing, run_in_process, zarr_group

zarr = pytest.importorskip("zarr")


@pytest.fixture()
def files(tmp_path):
    rng = np.random.default_rng(0)
    np.save(tmp_path / "f.npy", rng.random((24, 24)))
    zarr_group(tmp_path)
    return tmp_path


def _refusal(option, path):
    return (f"error: {option} {path}: is inside the Zarr store grp.zarr: kernelcli reads an array inside a group but "
            f"writes a store of its own, never inside another; give {option} a path outside grp.zarr\n")


@pytest.mark.parametrize("args, option, path", [
    (["convolve", "f.npy", "-k", "box:3", "-k", "sobel_v", "-o", "m.npy", "--montage", "grp.zarr/m.png"], "--montage", "grp.zarr/m.png"),
    (["convolve", "f.npy", "-k", "box:3", "-o", "o.npy", "--report", "grp.zarr/r.json"], "--report", "grp.zarr/r.json"),
    (["pool", "f.npy", "-f", "2", "-o", "o.npy", "--report", "grp.zarr/r.json"], "--report", "grp.zarr/r.json"),
    (["pad", "f.npy", "-p", "1", "-o", "o.npy", "--report", "grp.zarr/r.json"], "--report", "grp.zarr/r.json"),
    (["learn", "f.npy", "f.npy", "-f", "3", "-o", "grp.zarr/k.json"], "--out", "grp.zarr/k.json"),
    (["learn", "f.npy", "f.npy", "-f", "3", "--method", "gd", "--epochs", "2", "--plot", "grp.zarr/c.png"], "--plot", "grp.zarr/c.png"),
], ids=["montage", "convolve-report", "pool-report", "pad-report", "learn-out", "learn-plot"])
def test_every_output_inside_a_store_is_refused_as_out_is(files, args, option, path):
    before = listing(files / "grp.zarr")
    r = run_in_process(*args, "--force", "-q", cwd=files)
    expected = _refusal(option, path)
    if option == "--out":  # (-o's own words name the path alone, as every command's -o refusal does)
        expected = expected.replace("error: --out ", "error: ", 1)
    assert (r.returncode, r.stderr) == (2, expected)
    assert listing(files / "grp.zarr") == before and not (files / "o.npy").exists() and not (files / "m.npy").exists()


def test_a_report_inside_the_output_store_keeps_its_exit_4(files):
    r = run_in_process("convolve", "f.npy", "-k", "box:3", "-o", "o.zarr", "--report", "o.zarr/r.json", "--force", "-q", cwd=files)
    assert (r.returncode, r.stderr) == (4, "error: --report o.zarr/r.json: is inside the output o.zarr: write it outside the output store\n")


def test_a_report_inside_the_input_store_keeps_its_exit_4(files):
    store = zarr.open_array(str(files / "in.zarr"), mode="w", shape=(8, 8), chunks=(4, 4), dtype="u1")
    store[:] = 1
    r = run_in_process("convolve", "in.zarr", "-k", "box:3", "-o", "o.zarr", "--report", "in.zarr/r.json", "--force", "-q", cwd=files)
    assert (r.returncode, r.stderr) == (4, "error: --report in.zarr/r.json: is inside the input in.zarr: write it outside the input store\n")
    assert not (files / "in.zarr" / "r.json").exists()


def test_outputs_beside_a_store_are_taken(files):
    r = run_in_process("convolve", "f.npy", "-k", "box:3", "-o", "o.npy", "--report", "r.json", "-q", cwd=files)
    assert r.returncode == 0 and (files / "r.json").exists(), r.stderr


@pytest.mark.parametrize("args", [["convolve", "f.npy", "-k", "box:3"], ["pool", "f.npy", "-f", "2"],
                                  ["pad", "f.npy", "-p", "1"]], ids=["convolve", "pool", "pad"])
def test_a_report_inside_a_store_the_call_never_writes_is_refused_without_out(files, args):
    # (the early check skipped --report whenever -o was left out: `--report grp.zarr/r.json` beside an .npy input was
    # written into the group, exit 0; its default output f_box_3x3.npy is no store)
    before = listing(files / "grp.zarr")
    r = run_in_process(*args, "--report", "grp.zarr/r.json", "--force", "-q", cwd=files)
    assert (r.returncode, r.stderr) == (2, _refusal("--report", "grp.zarr/r.json"))
    assert listing(files / "grp.zarr") == before


def test_a_report_inside_the_default_output_store_keeps_its_exit_4(files):
    store = zarr.open_array(str(files / "in.zarr"), mode="w", shape=(8, 8), chunks=(4, 4), dtype="u1")
    store[:] = 1
    first = run_in_process("convolve", "in.zarr", "-k", "box:3", "-q", cwd=files)
    assert first.returncode == 0, first.stderr
    out = next(p.name for p in files.glob("in_*.zarr"))
    r = run_in_process("convolve", "in.zarr", "-k", "box:3", "--report", f"{out}/r.json", "--force", "-q", cwd=files)
    assert (r.returncode, r.stderr) == (4, f"error: --report {out}/r.json: is inside the output {out}: write it outside the output store\n")
