"""Audit 223 #5: the up-front memory refusal counted float32 copies for ``pad`` and max/min ``pool`` of 8-bit inputs,
four times what they hold: ``KERNELCLI_MAX_MEMORY=300M kernelcli pad n6k.png -p 1`` (6000x6000, 8-bit) was refused as
needing 446.3 MiB, where the run peaks under 120 MB.  They are counted in the input's dtype now; avg pooling and
convolve compute in float, and are counted so."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest
from PIL import Image

from conftest import run_in_process

#: 100x100 8-bit: 130,000 bytes counted in float32 (1 + 3 x 4 a pixel), 40,000 in uint8; the cap between them
CAP = "100000"


def kernelcli(*args: str, cwd, cap: str = CAP) -> subprocess.CompletedProcess:
    """``kernelcli ARGS`` under the cap, in this process (the path ``python -m kernelcli`` takes, the JPEG's early
    decode too): the count is what is checked, not the process."""
    return run_in_process(*args, cwd=cwd, env={"KERNELCLI_MAX_MEMORY": cap})


@pytest.fixture(params=["g.png", "g.jpg", "g.npy"])
def grey(request, tmp_path):
    """A 100x100 8-bit input: a PNG, a JPEG (decoded early, before the command's body) and a .npy (over the cap, it
    goes tile by tile: into a .png, refused)."""
    data = (np.arange(10_000) % 251).astype(np.uint8).reshape(100, 100)
    name = request.param
    np.save(tmp_path / name, data) if name.endswith(".npy") else Image.fromarray(data).save(tmp_path / name)
    return tmp_path, name


@pytest.mark.parametrize("args", [["pad", "-p", "1"], ["pool", "-f", "2"], ["pool", "-f", "2", "--op", "min", "-p", "1"]])
def test_runs_that_keep_the_dtype_are_counted_in_it(grey, args):
    folder, name = grey
    r = kernelcli(args[0], name, *args[1:], "-o", "out.png", cwd=folder)
    assert r.returncode == 0, r.stderr
    assert (folder / "out.png").exists()


#: avg pooling of 100x100 8-bit: 70,000 bytes counted in float32 (1 + 4 + 2 x 4 / 4 a pixel: the input, a working copy,
#: the pooled output and a temporary), 25,000 in uint8; convolve: 130,000 in float32 (CAP's comment)
@pytest.mark.parametrize("args, cap, words", [
    (["pool", "-f", "2", "--op", "avg"], "60000", "68.4 KiB of memory (the input, and a working copy, the pooled output and "
                                                  "a temporary in float32), more than the 58.6 KiB allowed"),
    (["convolve", "-k", "box:3"], CAP, "127.0 KiB of memory (the input, and a padded copy, an output and a temporary in "
                                       "float32), more than the 97.7 KiB allowed"),
])
def test_runs_in_float_are_counted_in_float(grey, args, cap, words):
    folder, name = grey
    r = kernelcli(args[0], name, *args[1:], "-o", "out.png", cwd=folder, cap=cap)
    assert r.returncode == 2, r.stderr
    if name.endswith(".npy"):  # (over the cap, a .npy goes tile by tile, and a .png output is refused there)
        assert "it went tile by tile because its in-memory run would exceed KERNELCLI_MAX_MEMORY" in r.stderr, r.stderr
        return
    assert f"{name}: 100x100x1 would need about {words}" in r.stderr, r.stderr
    assert not (folder / "out.png").exists()
