"""A name longer than the file system takes (255 bytes) is the user's input, never kernelcli's bug.

The kernel audit of 2026-12-05 found ``convolve -k "[[...260 characters...]]"`` (a JSON list written
with spaces, as ``kernels show --json`` prints it) exiting 70, "internal error: OSError: File name too
long": a probe for a file of that name raised.  So did ``-d``, ``--weights``, ``summary``, ``volume``,
a Zarr input and ``kernels show`` with such a name.  Now a name that could be a file and is too long is
none (a kernel, a network spec), and the file system's ENAMETOOLONG anywhere else is a usage error naming the path (exit 2).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

LONG = "a" * 300


@pytest.fixture
def files(tmp_path):
    Image.fromarray(np.arange(35, dtype=np.uint8).reshape(5, 7)).save(tmp_path / "g.png")
    np.save(tmp_path / "m.npy", np.arange(35.0).reshape(5, 7))
    return tmp_path


def test_a_long_json_list_kernel_is_a_kernel(invoke, files):
    values = np.arange(25.0).reshape(5, 5) / 300.0
    spelled = json.dumps(values.tolist())  # with spaces, as `kernels show --json` prints values
    assert len(spelled) > 255
    r = invoke("convolve", "m.npy", "-k", spelled, "-o", "o.npy")
    assert r.exit_code == 0, r.stderr
    assert invoke("convolve", "m.npy", "-k", spelled.replace(" ", ""), "-o", "p.npy").exit_code == 0
    assert (files / "o.npy").read_bytes() == (files / "p.npy").read_bytes()
    shown = invoke("kernels", "show", spelled, "--json")
    assert shown.exit_code == 0 and json.loads(shown.stdout)["values"] == values.tolist()


@pytest.mark.parametrize("args", [["kernels", "show", LONG], ["convolve", "g.png", "-k", LONG, "-o", "o.png"],
                                  ["convolve", "g.png", "-k", "box:3", "--then", LONG, "-o", "o.png"],
                                  ["convolve", "g.png", "-k", f"{LONG}.json:x", "-o", "o.png"],
                                  ["summary", LONG], ["summary", f"{LONG}.json"]],
                         ids=["show", "kernel", "then", "file-selector", "summary-name", "summary-json"])
def test_a_long_name_that_could_be_a_file_is_none(invoke, files, args):
    r = invoke(*args)
    assert r.exit_code == 3, r.stderr
    assert "internal error" not in r.stderr
    assert any(said in r.stderr for said in ("unknown kernel", "File name too long", "no such spec file and no built-in network"))


@pytest.mark.parametrize("args, shown", [
    (["convolve", "g.png", "-k", "box:3", "-d", LONG], "the file name is 300 bytes long"),
    (["convolve", "g.png", "m.npy", "-k", "box:3", "-d", LONG], "the file name is 300 bytes long"),
    (["convolve", "g.png", "m.npy", "-k", "box:3", "-d", f"new/{LONG}/x"], "300 bytes long"),  # (made by the batch: was exit 1)
    (["convolve", "g.png", "--weights", f"{LONG}.npy"], "the file name is 304 bytes long"),
    (["volume", f"{LONG}.nii.gz", "-k", "box:3"], "the file name is 307 bytes long"),
    (["convolve", f"{LONG}.zarr", "-k", "box:3", "-o", "x.zarr"], "the file name is 305 bytes long"),
], ids=["out-dir", "out-dir-batch", "out-dir-made", "weights", "volume", "zarr"])
def test_a_long_path_is_a_usage_error_naming_it(invoke, files, args, shown):
    if args[1].endswith(".zarr"):
        pytest.importorskip("zarr")
    r = invoke(*args, "--json")
    assert r.exit_code == 2, r.stderr
    assert shown in r.stderr and "more than the 255 a" in r.stderr and "internal error" not in r.stderr
    assert json.loads(r.stdout)["code"] == 2
