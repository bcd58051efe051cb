"""Audit 107 (the README read through): a volume kernel's size read and named as an image kernel's is.

F3: a sign on a volume size (``box:+3vox``, ``gaussian:+1.5mm``) was refused (exit 3) with a message offering the form
typed, where ``box:+3`` and ``gaussian:+2`` are taken; a trailing point (``box:3.vox``) too.
F4: a volume kernel was named by its digits as typed (``box_3.0vox``, ``gaussian_1.50mm``), an image kernel by its
value (``box_3``, ``gaussian_2``): one result got two names, and the overwrite guard missed the second run.
Oracle: the unsigned spec's kernel and name (and the image grammar's reading of the same number).
"""

from __future__ import annotations

import numpy as np
import pytest

from conftest import run_in_process
from kernelcli.errors import EXIT_KERNEL, InvalidKernel
from kernelcli.volume_grammar import resolve_volume_kernel, voxel_kernel

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


class TestNamedByValue:
    @pytest.mark.parametrize("typed, name", [("box:3.0vox", "box:3vox"), ("box:3e0vox", "box:3vox"), ("box:+3vox", "box:3vox"),
                                             ("gaussian:1.50mm", "gaussian:1.5mm"), ("gaussian:15e-1mm", "gaussian:1.5mm"),
                                             ("fwhm:4.0mm", "fwhm:4mm"), ("log:2.000vox", "log:2vox"), ("box:05mm", "box:5mm"),
                                             ("Gaussian:2VOX", "gaussian:2vox")])
    def test_a_volume_kernel_is_named_by_its_value(self, typed, name):
        assert resolve_volume_kernel(typed).name == name

    def test_the_name_is_the_image_grammars_name_of_the_same_number(self):
        from kernelcli.catalog import load_kernel

        for typed in ("2.0", "1.50", "+0.25", "1e1", "0.1"):
            image = load_kernel(f"gaussian:{typed}").name  # gaussian:2, gaussian:1.5, ...
            assert resolve_volume_kernel(f"gaussian:{typed}mm").name == image + "mm"

    def test_one_result_has_one_name_and_the_second_run_is_refused(self, tmp_path):
        name = volume(tmp_path)
        first = run_in_process("convolve", name, "-k", "box:3.0vox", "-q", cwd=tmp_path)
        assert first.returncode == 0, first.stderr
        assert (tmp_path / "v_box_3vox.nii.gz").exists()
        again = run_in_process("convolve", name, "-k", "box:3vox", "--json", cwd=tmp_path)
        assert again.returncode == 4, again.stderr  # (it was a second file, v_box_3vox.nii.gz beside v_box_3.0vox.nii.gz)
        assert "v_box_3vox.nii.gz: already exists" in again.stderr
        assert sorted(p.name for p in tmp_path.iterdir()) == ["v.nii.gz", "v_box_3vox.nii.gz"]

    def test_the_operation_names_the_value(self, tmp_path):
        import json

        r = run_in_process("convolve", volume(tmp_path), "-k", "gaussian:1.50mm", "-o", "o.npy", "--json", cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout)["operation"] == "convolve gaussian:1.5mm"
