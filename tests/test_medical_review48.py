"""Review 48: a pooled volume's view in its name, the shear note only where a NIfTI is written, one distance rule.

Finding 5: ``pool ct.nii.gz -f 2 --format png`` and the same with ``--axis y`` both wrote ``ct_maxpool2.png`` (the
second refused, exit 4; with --force the coronal view replaced the axial one), where ``convolve -k sobel_3d`` names a
coronal .png ``_axisy``: pool now takes the words of :meth:`VolumeOptions.label` (a .png's view, ``--volume``,
``--resample-slices``), alone and in a batch, and so does a copy (no --kernel).
Finding 6: a sheared MGH/NRRD/DICOM read said "a NIfTI output's qform holds the nearest unsheared grid ..." whatever
was written (a .png, a .npy): the note now comes with a NIfTI output, of the grid that output holds.
Finding 7: ``grids_apart`` held each coordinate's difference to 1% of a voxel while its message speaks of the
distance: a grid (0.009, 0.009, 0.009) mm off on 1 mm voxels, 0.0156 mm away, was "the same grid".
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from conftest import write_nifti
from kernelcli import medical
from kernelcli.errors import UsageError

nib = pytest.importorskip("nibabel")


def mgz(tmp_path: Path) -> Path:
    """nibabel's sheared test.mgz (51.8 degrees), copied into ``tmp_path``."""
    from nibabel.testing import data_path

    return Path(shutil.copy(Path(data_path) / "test.mgz", tmp_path / "test.mgz"))


def shear_notes(notes: list[str]) -> list[str]:
    return [n for n in notes if "which a qform cannot hold" in n]


class TestGridsApartIsADistance:
    def test_a_diagonal_shift_past_one_percent_is_another_grid(self):
        from kernelcli.medical.geometry import grids_apart

        moved = np.eye(4)
        moved[:3, 3] = 0.009  # 0.0156 mm from the grid: 1.56% of a 1 mm voxel
        apart = grids_apart(np.eye(4), moved, (4, 4, 4))
        assert apart is not None and apart.distance == pytest.approx(0.009 * 3 ** 0.5)
        assert "more than 1% of a 1 mm voxel" in apart.text()

    def test_within_one_percent_in_distance_is_the_same_grid(self):
        from kernelcli.medical.geometry import grids_apart

        moved = np.eye(4)
        moved[:3, 3] = 0.0057  # 0.00987 mm
        assert grids_apart(np.eye(4), moved, (4, 4, 4)) is None

    def test_a_mask_off_diagonally_by_more_than_one_percent_is_refused(self, tmp_path):
        src = write_nifti(tmp_path / "in.nii", shape=(6, 6, 6), spacing=(1.0, 1.0, 1.0))
        moved = np.eye(4)
        moved[:3, 3] = 0.009
        nib.save(nib.Nifti1Image(np.ones((6, 6, 6), np.uint8), moved), str(tmp_path / "m.nii.gz"))
        with pytest.raises(UsageError, match=r"another grid: .*0\.0156 mm apart, more than 1% of a 1 mm voxel"):
            medical.convolve_volume_file(src, "gaussian:1mm", medical.VolumeOptions(mask=tmp_path / "m.nii.gz"),
                                         out=tmp_path / "o.nii.gz")
        assert not (tmp_path / "o.nii.gz").exists()
