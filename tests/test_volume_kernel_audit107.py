"""Audit 107 (the README read through): a volume kernel's size read and named as an image kernel's is.

F3: a sign on a volume size (``box:+3vox``, ``gaussian:+1.5mm``) was refused (exit 3) with a message offering the form
typed, where ``box:+3`` and ``gaussian:+2`` are taken; a trailing point (``box:3.vox``) too.
Oracle: the unsigned spec's kernel and name (and the image grammar's reading of the same number).
"""

from __future__ import annotations

import numpy as np
import pytest

from conftest import run_in_process
from kernelcli.errors import EXIT_KERNEL, InvalidKernel
from kernelcli.kernel_build import resolve_volume_kernel, voxel_kernel

nib = pytest.importorskip("nibabel")


def volume(folder) -> str:
    data = np.arange(7 * 8 * 9, dtype=np.int16).reshape(7, 8, 9) % 23
    nib.save(nib.Nifti1Image(data, np.diag([0.8, 0.9, 1.5, 1.0])), str(folder / "v.nii.gz"))
    return "v.nii.gz"


class TestASignedSize:
    @pytest.mark.parametrize("typed, plain", [("box:+3vox", "box:3vox"), ("gaussian:+1.5mm", "gaussian:1.5mm"),
                                              ("fwhm:+4mm", "fwhm:4mm"), ("log:+2mm", "log:2mm"), ("box:+5mm", "box:5mm"),
                                              ("gaussian:+2vox", "gaussian:2vox"), ("box:3.vox", "box:3vox"),
                                              ("GAUSSIAN: +1.5E0 MM", "gaussian:1.5mm")])
    def test_a_sign_or_a_trailing_point_is_read_as_every_number_is(self, typed, plain):
        read, expected = resolve_volume_kernel(typed), resolve_volume_kernel(plain)
        assert (read.kind, read.size) == (expected.kind, expected.size)

    def test_a_signed_size_in_voxels_is_the_same_kernel(self):
        assert voxel_kernel("box:+3vox").factors == voxel_kernel("box:3vox").factors

    @pytest.mark.parametrize("spec", ["gaussian:-1.5mm", "box:-3vox", "fwhm:-0mm", "log:+0mm"])
    def test_a_negative_or_zero_size_says_it_must_be_positive(self, spec):
        with pytest.raises(InvalidKernel, match="the size must be a positive finite number"):
            resolve_volume_kernel(spec)

    def test_on_the_command_line_a_signed_size_runs_as_the_plain_one(self, tmp_path):
        name = volume(tmp_path)
        for spec, out in (("box:+3vox", "a.npy"), ("box:3vox", "b.npy"), ("gaussian:+1.5mm", "c.npy"), ("gaussian:1.5mm", "d.npy")):
            r = run_in_process("convolve", name, "-k", spec, "-o", out, "-q", cwd=tmp_path)
            assert r.returncode == 0, (spec, r.stderr)
        assert np.array_equal(np.load(tmp_path / "a.npy"), np.load(tmp_path / "b.npy"))
        assert np.array_equal(np.load(tmp_path / "c.npy"), np.load(tmp_path / "d.npy"))

    def test_a_negative_size_on_the_command_line_is_exit_3_in_one_line(self, tmp_path):
        r = run_in_process("convolve", volume(tmp_path), "-k", "gaussian:-1mm", "-o", "o.npy", cwd=tmp_path)
        assert r.returncode == EXIT_KERNEL and len(r.stderr.splitlines()) == 1, r.stderr
        assert "the size must be a positive finite number" in r.stderr
