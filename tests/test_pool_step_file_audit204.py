"""Audit 204 #3: ``--then`` refused a kernel file named like a pooling step (``carpool:v1.npy``) that ``-k`` reads, as a
misspelt pooling step, before looking for the file (and so did ``-k`` itself when a ``--then`` followed); and a
malformed pooling step exited 3 with ``-k`` (an invalid kernel) but 2 with ``--then`` (an option value).  Now a step is
read as ``-k`` reads a kernel (an existing file first, then the pooling grammar, modes.POOL_STEP), and every pooling
step refused is an invalid kernel (exit 3) naming its option, in the same words."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import run_in_process

FILE = "carpool:v1.npy"


@pytest.fixture
def folder(tmp_path):
    np.save(tmp_path / "x.npy", np.random.default_rng(204).random((12, 12)))
    np.save(tmp_path / FILE, np.full((3, 3), 1 / 9))
    return tmp_path


@pytest.mark.parametrize("where", [["-k", FILE], ["-k", "box:1", "--then", FILE], ["-k", FILE, "--then", "box:1"]],
                         ids=["kernel", "then", "kernel-then"])
def test_a_kernel_file_named_like_a_pooling_step_is_read(folder, where):
    r = run_in_process("convolve", "x.npy", *where, "-o", "y.npy", "-q", cwd=folder)
    assert r.returncode == 0, r.stderr
    box = run_in_process("convolve", "x.npy", "-k", "box:3", "-o", "b.npy", "-q", cwd=folder)
    assert box.returncode == 0 and np.allclose(np.load(folder / "y.npy"), np.load(folder / "b.npy"))


@pytest.mark.parametrize("step", ["avgpool:2x3", "carpool:v2.npy", "maxpool:x", "maxpool", "avgpool2", "maxpool:0",
                                  "maxpool:2:0", "maxpool:2:1e40"])
def test_a_step_refused_is_an_invalid_kernel_with_k_and_then_alike(folder, step):
    alone = run_in_process("convolve", "x.npy", "-k", step, "-o", "y.npy", "-q", cwd=folder)
    then = run_in_process("convolve", "x.npy", "-k", "box:1", "--then", step, "-o", "y.npy", "-q", cwd=folder)
    assert (alone.returncode, then.returncode) == (3, 3), (alone.stderr, then.stderr)
    assert alone.stderr.startswith(f"error: invalid --kernel '{step}': "), alone.stderr
    assert then.stderr == alone.stderr.replace("invalid --kernel", "invalid --then")
    assert not (folder / "y.npy").exists()
