"""Review 148 #6: every ``pool --padding`` refusal in Click's one form, the 3-D (volume) path's too.

A volume's ``-p same``, ``-p 1,1,1`` and a --layout zyx array's ``-p 1,2,1,2`` were refused in a sentence of their own
("t.nii: --padding same: ..."), and ``-p 3`` past half the window ("padding 3 is more than half the pool size 2: ...")
named no option, where ``-p abc`` and the 2-D path's refusals are Click's "Invalid value for '--padding' ...".
"""

from __future__ import annotations

import numpy as np
import pytest

from conftest import run_in_process
from kernelcli.shapes import VOLUME_POOL_PADDING_FORMS

CLICK = "error: Invalid value for '--padding' / '-p' / '--p': "


@pytest.fixture
def folder(tmp_path):
    nib = pytest.importorskip("nibabel")
    from PIL import Image

    rng = np.random.default_rng(4)
    nib.save(nib.Nifti1Image(rng.random((10, 12, 9)).astype(np.float32), np.eye(4)), str(tmp_path / "t.nii"))
    np.save(tmp_path / "v.npy", rng.random((6, 8, 8)))
    Image.fromarray(rng.integers(0, 256, (16, 16), dtype=np.uint8)).save(tmp_path / "g.png")
    return tmp_path


@pytest.mark.parametrize("args, text, reason", [
    (["t.nii", "-o", "po.nii"], "same", f"same is a convolution's; {VOLUME_POOL_PADDING_FORMS} (t.nii is pooled in 3-D)"),
    (["t.nii", "-o", "po.nii"], "1,1,1", f"three widths; {VOLUME_POOL_PADDING_FORMS} (t.nii is pooled in 3-D)"),
    (["v.npy", "--layout", "zyx", "-o", "po.npy"], "1,2,1,2",
     f"four widths (T,B,L,R) name the Y and X sides alone; {VOLUME_POOL_PADDING_FORMS} (v.npy is pooled in 3-D)"),
    (["g.png", "-o", "po.npy"], "3", "padding 3 is more than half the pool size 2: at most 1 (PyTorch's rule)"),
    (["t.nii", "-o", "po.nii"], "3", "padding 3 is more than half the pool size 2: at most 1 (PyTorch's rule)"),
], ids=["volume-same", "volume-three", "zyx-four", "image-past-half", "volume-past-half"])
def test_pool_padding_is_refused_in_clicks_form(folder, args, text, reason):
    done = run_in_process("pool", *args, "--size", "2", "-p", text, cwd=folder)
    assert done.returncode == 2 and not list(folder.glob("po.*")), done.stderr
    assert done.stderr == f"{CLICK}'{text}': {reason} (see 'kernelcli pool -h')\n"


def test_shape_pool_says_the_rule_as_pool_does(folder):
    shape = run_in_process("shape", "--in", "16", "-f", "2", "--pool", "-p", "3", cwd=folder)
    pool = run_in_process("pool", "g.png", "--size", "2", "-p", "3", "-o", "po.npy", cwd=folder)
    assert shape.returncode == pool.returncode == 2
    assert shape.stderr == pool.stderr.replace("kernelcli pool -h", "kernelcli shape -h"), (shape.stderr, pool.stderr)
