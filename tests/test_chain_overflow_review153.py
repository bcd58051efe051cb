"""A chain step that overflows in the middle of a chain is named as that step (review 153 #6).

``convolve big.npy -k '1x1: 1' --then avgpool:2 --then maxpool:1`` (3e38 in float32) was refused by step 3 as
"x: 4 value(s) are NaN or infinite; kernelcli expects finite input": an API argument no user typed, blaming the next
step's input; tile by tile without even the file's name.  Step 2, the avgpool, overflowed in its window sum.
"""

from __future__ import annotations

import numpy as np
import pytest

from conftest import TILED_OR_NOT, run_in_process

AVG = ("step 2 of 3 (--then avgpool:2, on the 4x4 result of step 1): avgpool2: a window's sum overflows float32 (an "
       "average is summed in the result's dtype, as PyTorch's avg_pool2d and avg_pool3d sum it, which give inf there "
       "too; the average itself would fit); give a float64 input (.npy) or smaller input values")
CONV = ("step 1 of 2 (--kernel 1x1: 2): convolve inline_1x1: the result overflows float32 (values beyond its range "
        "became infinite or NaN); use a smaller kernel scale or input values, or a float64 input (.npy)")


@pytest.fixture
def big(tmp_path):
    np.save(tmp_path / "big.npy", np.full((4, 4), 3e38, np.float32))
    np.save(tmp_path / "big3.npy", np.full((4, 4, 4), 3e38, np.float32))
    return tmp_path


@pytest.mark.parametrize("extra", [pytest.param([], id="memory"), TILED_OR_NOT[1]])
@pytest.mark.parametrize("then, said", [
    (["-k", "1x1: 1", "--then", "avgpool:2", "--then", "maxpool:1"], AVG),
    (["-k", "1x1: 1", "--then", "avgpool:2", "--then", "sobel_v"], AVG),
    (["-k", "1x1: 2", "--then", "sobel_v"], CONV),
], ids=["avg-then-pool", "avg-then-kernel", "kernel-then-kernel"])
def test_the_step_that_overflowed_is_named(big, extra, then, said):
    r = run_in_process("convolve", "big.npy", *then, *extra, "-o", "o.npy", cwd=big)
    assert r.returncode == 2, r.stderr
    assert r.stderr.strip() == f"error: big.npy: {said}", r.stderr
    assert not (big / "o.npy").exists()


def test_a_zyx_chain_alike(big):
    r = run_in_process("convolve", "big3.npy", "--layout", "zyx", "-k", "1x1: 1", "--then", "avgpool:2", "--then",
                       "maxpool:1", "-o", "o.npy", cwd=big)
    assert r.returncode == 2 and r.stderr.strip() == f"error: big3.npy: {AVG.replace('4x4 result', '4x4x4 result')}", r.stderr


def test_a_finite_chain_runs(big):
    np.save(big / "f8.npy", np.full((4, 4), 3e38, np.float64))
    r = run_in_process("convolve", "f8.npy", "-k", "1x1: 1", "--then", "avgpool:2", "--then", "maxpool:1", "-o", "o.npy",
                       cwd=big)
    assert r.returncode == 0, r.stderr
    assert np.array_equal(np.load(big / "o.npy"), np.full((2, 2), 3e38))
