"""Audit 178 (the warm worker, round 9): a worker whose code folder was swapped out by a rename,
a store refusal for a group not named *.zarr, summary's spec input in the caller's layout, and a
written file's name that stdout cannot encode."""

from __future__ import annotations

import os
import shutil
import socket
import sys
from pathlib import Path

import pytest

from kernelcli.worker import protocol, server

from conftest import run_cli
from test_worker import serve_a_copy, status, wait_for

unix = pytest.mark.skipif(not hasattr(socket, "AF_UNIX") or os.name != "posix", reason="Unix sockets")


# -- 1. a code folder renamed away and replaced under a running worker --------------------------

@unix
def test_a_package_folder_renamed_away_and_replaced_makes_the_worker_stale(tmp_path, monkeypatch):
    """inotify follows the folder, not its path: only the folder's identity at its path tells."""
    code = tmp_path / "app" / "kernelcli"
    code.mkdir(parents=True)
    monkeypatch.setattr(protocol, "package_dir", lambda: str(code))
    serving = server.Server("/nonexistent/w.sock", 60)
    assert not serving.code_changed()
    (tmp_path / "app").rename(tmp_path / "app.old")
    code.mkdir(parents=True)  # the new release at the old path
    assert serving.code_changed()
    assert serving._refusal({"stamp": protocol.version_stamp()}, []) == "changed code" and serving.stopping


@unix
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="inotify")
def test_a_worker_whose_checkout_is_renamed_and_replaced_stops_serving(tmp_path):
    """A worker runs a copy; the copy's folder is renamed away and another copy put at its path (a
    release-style swap): the next call runs in-process and the worker exits, as for edited code."""
    package, env, path, worker = serve_a_copy(tmp_path, idle_seconds=120)
    try:
        wait_for(lambda: status(env) is not None, timeout=300.0)
        shape = ("shape", "--in", "24", "--f", "5", "-q")
        r = run_cli(*shape, env=env)
        assert (r.returncode, r.stdout, r.stderr) == (0, "20\n", "") and status(env)["calls"] == 1
        checkout = package.parent
        checkout.rename(checkout.with_name("other.old"))
        shutil.copytree(checkout.with_name("other.old"), checkout, copy_function=shutil.copy2)
        r = run_cli(*shape, env=env)
        assert (r.returncode, r.stdout, r.stderr) == (0, "20\n", "")
        worker.wait(timeout=30)  # stale: it exits
        assert not path.exists()
    finally:
        if worker.poll() is None:
            worker.kill()
        worker.wait()


# -- 2. an array of a group reached through a link, or of a group not named *.zarr ---------------

def _groups(folder: Path) -> None:
    """grp.zarr/img, the same group as plaingrp/img (no .zarr name) and through the link linkgrp (v2 metadata by hand:
    the refusal comes before anything reads it)."""
    for group in ("grp.zarr", "plaingrp"):
        (folder / group / "img").mkdir(parents=True)
        (folder / group / ".zgroup").write_text('{"zarr_format": 2}')
        (folder / group / "img" / ".zarray").write_text("{}")
    (folder / "linkgrp").symlink_to("grp.zarr")
    (folder / "phantom.npy").write_bytes(b"")  # (never read: the store is refused first)


@pytest.mark.parametrize("array", ["linkgrp/img", "plaingrp/img"])
@pytest.mark.parametrize("args", [["gallery", "{a}", "-o", "g.png"], ["learn", "phantom.npy", "{a}", "-f", "3"],
                                  ["learn", "{a}", "phantom.npy", "-f", "3"]])
def test_gallery_and_learn_name_the_store_of_a_group_not_named_zarr(tmp_path, array, args):
    """Was: 'internal error: IndexError' (exit 70): the store was looked for by its .zarr name among the spelt parents."""
    from conftest import run_in_process

    _groups(tmp_path)
    done = run_in_process(*[a.format(a=array) for a in args], cwd=tmp_path)
    store = array.split("/")[0]
    assert (done.returncode, done.stderr) == (2, f"error: {array}: an array in the Zarr store {store}, which convolve, pad "
                                                 f"and pool read tile by tile; {args[0]} reads one image file in memory: "
                                                 "save the array as .npy (numpy.save) to give it here\n")
    assert not (tmp_path / "g.png").exists()


def test_the_tiled_note_names_an_array_from_its_store_on_whatever_the_store_is_named(tmp_path, monkeypatch):
    from kernelcli.tiled.stores import note_name

    _groups(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert [note_name(p) for p in ("plaingrp/img", "linkgrp/img", "grp.zarr/img", "s3://b/s.zarr/img", "x.npy")] == [
        "plaingrp/img", "linkgrp/img", "grp.zarr/img", "s.zarr/img", "x.npy"]


# -- 3. summary --layout hwc writes the spec's input HxWxC in its channel refusals too ------------

@pytest.mark.parametrize("network, given, said", [
    ("alexnet", "20x20x1", "read as HxWxC it has 1 channel, but alexnet is built for 3 (its input is 224x224x3); "
                           "neither CxHxW nor HxWxC gives 3 channels"),
    ("resnet18", "224x224x4", "read as HxWxC it has 4 channels, but resnet18 is built for 3 (its input is 224x224x3); "
                              "neither CxHxW nor HxWxC gives 3 channels"),
    ("resnet18", "3x224x224", "read as HxWxC it has 224 channels, but resnet18 takes 3 (its input is 224x224x3); "
                              "read as CxHxW it has 3: give --layout chw"),
])
def test_summary_hwc_channel_refusals_write_the_spec_input_hwc(network, given, said):
    """Was '(its input is 3x224x224)' beside 'does not fit alexnet (its input is 224x224x3)' in the same layout."""
    import json

    from conftest import run_in_process

    done = run_in_process("summary", network, "--input", given, "--layout", "hwc")
    assert (done.returncode, done.stderr) == (2, f"error: --input {given}: {said}\n")
    done = run_in_process("summary", network, "--input", given, "--layout", "hwc", "--json")
    assert json.loads(done.stdout)["error"] == f"--input {given}: {said}"


def test_the_api_writes_the_spec_input_in_the_layout_it_was_given():
    from kernelcli import summarize
    from kernelcli.errors import UsageError

    with pytest.raises(UsageError, match=r"\(its input is 224x224x3\)"):
        summarize("resnet18", (224, 224, 4), layout="hwc")
    with pytest.raises(UsageError, match=r"\(its input is 3x224x224\)"):
        summarize("resnet18", (4, 224, 224))


# -- 4. a written file's name that stdout's encoding cannot carry ---------------------------------

def test_a_written_name_stdout_cannot_encode_is_a_stdout_that_cannot_take_it(tmp_path):
    """Was 'internal error: UnicodeEncodeError' (exit 70) after the file was written; escaped, the name would name
    no file: it is a stdout that cannot take the list of files written (exit 1, the file written)."""
    import numpy as np

    np.save(tmp_path / "é.npy", np.arange(64, dtype=np.float32).reshape(8, 8))
    done = run_cli("convolve", "é.npy", "-k", "box:3", "-o", "ö3.npy", cwd=tmp_path,
                   env={"PYTHONIOENCODING": "ascii", "KERNELCLI_WORKER": "off"})
    assert done.returncode == 1, done.stderr
    assert done.stderr.startswith("error: stdout: cannot write: its encoding (ascii) cannot carry '\\xf6'; give it one "
                                  "that can (PYTHONIOENCODING=utf-8)\n"), done.stderr
    assert "internal error" not in done.stderr and done.stdout == ""
    assert np.load(tmp_path / "ö3.npy").shape == (8, 8)
