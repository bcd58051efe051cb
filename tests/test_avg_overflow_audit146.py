"""An average pool whose window sum overflows float32 (audit 146 #6).

``pool --op avg`` of a float32 array of 3e38 was refused "the result overflows float32 ...; use a smaller kernel scale
or input values": the average, 3e38, fits float32; the window's sum, taken in float32 as PyTorch takes it (the
README's dtype rule: PyTorch's sum, to the bit), is what overflows, and pool has no kernel scale.  PyTorch's
avg_pool2d gives inf there.  A volume pooled in memory wrote that inf, exit 0, where --tiled refused it.
"""

from __future__ import annotations

import numpy as np
import pytest

from conftest import TILED_OR_NOT, run_in_process

SAID = ("avgpool2: a window's sum overflows float32 (an average is summed in the result's dtype, as PyTorch's avg_pool2d "
        "and avg_pool3d sum it, which give inf there too; the average itself would fit); give a float64 input (.npy) or "
        "smaller input values")


@pytest.fixture
def big(tmp_path):
    np.save(tmp_path / "f4.npy", np.full((4, 4), 3e38, np.float32))
    np.save(tmp_path / "f8.npy", np.full((4, 4), 3e38, np.float64))
    np.save(tmp_path / "v4.npy", np.full((4, 4, 4), 3e38, np.float32))
    return tmp_path


@pytest.mark.parametrize("extra", [pytest.param([], id="memory"), TILED_OR_NOT[1]])
def test_the_refusal_names_the_window_sum_and_what_to_do(big, extra):
    r = run_in_process("pool", "f4.npy", "-f", "2", "--op", "avg", *extra, "-o", "o.npy", cwd=big)
    assert r.returncode == 2, r.stderr
    assert r.stderr.strip() == f"error: f4.npy: {SAID}", r.stderr
    assert not (big / "o.npy").exists()


def test_a_zyx_array_is_refused_alike(big):
    r = run_in_process("pool", "v4.npy", "-f", "2", "--op", "avg", "--layout", "zyx", "-o", "o.npy", cwd=big)
    assert r.returncode == 2 and r.stderr.strip() == f"error: v4.npy: {SAID}", r.stderr


@pytest.mark.parametrize("extra", [pytest.param([], id="memory"), TILED_OR_NOT[1]])
def test_a_volume_is_refused_and_nothing_written(big, extra):
    nib = pytest.importorskip("nibabel")
    nib.save(nib.Nifti1Image(np.full((4, 4, 4), 3e38, np.float32), np.eye(4)), str(big / "v.nii"))
    r = run_in_process("pool", "v.nii", "-f", "2", "--op", "avg", *extra, "-o", "o.nii", cwd=big)
    assert r.returncode == 2, r.stderr
    # (a volume's float64 input is a volume file, which keeps its geometry: audit 202 #4)
    volume_said = SAID.replace("a float64 input (.npy)", "a float64 volume (saved as a float64 NIfTI it keeps its geometry; "
                               "a .npy drops it)")
    assert r.stderr.strip().endswith(f"v.nii: {volume_said}"), r.stderr
    assert not (big / "o.nii").exists()


def test_a_chain_names_the_avgpool_step_as_a_possible_cause(big):
    r = run_in_process("convolve", "f4.npy", "-k", "box:1", "--then", "avgpool:2", "-o", "o.npy", cwd=big)
    assert r.returncode == 2 and "an avgpool step's window sum may be what overflowed" in r.stderr, r.stderr


def test_a_float64_input_gives_the_average(big):
    r = run_in_process("pool", "f8.npy", "-f", "2", "--op", "avg", "-o", "o.npy", cwd=big)
    assert r.returncode == 0, r.stderr
    assert np.array_equal(np.load(big / "o.npy"), np.full((2, 2), 3e38))


def test_torch_sums_alike():
    """The documented design: PyTorch's avg_pool2d overflows on the same float32 values, and equals the pool bit for
    bit where it does not."""
    torch = pytest.importorskip("torch")
    from kernelcli import api

    x = np.full((4, 4), 3e38, np.float32)
    assert np.isinf(torch.nn.functional.avg_pool2d(torch.from_numpy(x)[None, None], 2).numpy()).all()
    assert np.isinf(api.pool2d(x, 2, op="avg")).all()
    rng = np.random.default_rng(146)
    y = (rng.standard_normal((9, 11)) * 1e37).astype(np.float32)
    want = torch.nn.functional.avg_pool2d(torch.from_numpy(y)[None, None], 3, stride=2, padding=1).numpy()[0, 0]
    assert np.array_equal(api.pool2d(y, 3, stride=2, padding=1, op="avg"), want)
