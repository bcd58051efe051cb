"""A volume with no kernel to filter with (audit 146 #1, #2).

#1: ``-k ''`` on one volume was a copy, exit 0 (``if kernel_spec`` took '' for no kernel), where an image, the tiled
path and a batch of volumes refuse it "empty kernel spec", exit 3.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import run_in_process

nib = pytest.importorskip("nibabel")


@pytest.fixture
def vol(tmp_path):
    v = np.arange(5 * 6 * 7, dtype=np.float32).reshape(5, 6, 7)
    for name in ("ok.nii", "two.nii"):
        nib.save(nib.Nifti1Image(np.ascontiguousarray(v.transpose(2, 1, 0)), np.eye(4)), str(tmp_path / name))
    return tmp_path


@pytest.mark.parametrize("extra", [[], ["--tiled"], ["--json"]], ids=["memory", "tiled", "json"])
@pytest.mark.parametrize("command", ["convolve", "volume"])
def test_an_empty_kernel_spec_on_one_volume_is_refused(vol, command, extra):
    r = run_in_process(command, "ok.nii", "-k", "", *extra, "-o", "e.nii", cwd=vol)
    assert r.returncode == 3, r.stderr
    assert "empty kernel spec ''" in (r.stderr + r.stdout) and "Traceback" not in r.stderr, r.stderr
    assert not (vol / "e.nii").exists()
    if "--json" in extra:
        assert json.loads(r.stdout)["status"] == "failed"


def test_an_empty_kernel_spec_without_out_is_refused_before_naming_the_output(vol):
    r = run_in_process("convolve", "ok.nii", "-k", "", cwd=vol)
    assert r.returncode == 3 and "empty kernel spec" in r.stderr, r.stderr
    assert sorted(p.name for p in vol.iterdir()) == ["ok.nii", "two.nii"]


def test_a_batch_of_volumes_refuses_it_alike(vol):
    r = run_in_process("convolve", "ok.nii", "two.nii", "-k", "", "--out-dir", "o", cwd=vol)
    assert r.returncode == 3 and "empty kernel spec" in r.stderr, r.stderr


def test_the_api_refuses_it_and_none_is_still_a_copy(vol):
    from kernelcli.errors import InvalidKernel
    from kernelcli.medical.jobs import convolve_volume_file, convolve_volume_output

    with pytest.raises(InvalidKernel, match="empty kernel spec"):
        convolve_volume_file(vol / "ok.nii", "", out=vol / "e.nii")
    with pytest.raises(InvalidKernel, match="empty kernel spec"):
        convolve_volume_output(vol / "ok.nii", "")
    assert not (vol / "e.nii").exists()
    report = convolve_volume_file(vol / "ok.nii", None, out=vol / "c.nii")
    assert report.operation == "copy"
