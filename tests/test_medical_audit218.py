"""Audit 218 (medical inputs with real data): what a medical reader read silently wrong or said badly.

Real files: nibabel's Siemens mosaics (``nicom/tests/data``), its ``tests/data`` images, pydicom's ``dicomdirtests``;
the rest is built here in ``tmp_path``.
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np
import pytest

from kernelcli import medical
from kernelcli.errors import ImageReadError

pydicom = pytest.importorskip("pydicom")
nib = pytest.importorskip("nibabel")
from conftest import run_in_process  # noqa: E402
from test_medical_audit127 import ct_series  # noqa: E402

NICOM = Path(nib.__file__).parent / "nicom" / "tests" / "data"
NIB_DATA = Path(nib.__file__).parent / "tests" / "data"


def _mosaic(path: Path) -> Path:
    """nibabel's mosaic siemens_dwi_0.dcm (48 slices of 128x128 tiled 7x7 in one 896x896 image), unpacked."""
    source = NICOM / "siemens_dwi_0.dcm.gz"
    if not source.exists():
        pytest.skip("nibabel's nicom test data is not installed")
    path.write_bytes(gzip.decompress(source.read_bytes()))
    return path


class TestSiemensMosaic:
    """Finding 1: a Siemens mosaic (ImageType ...\\MOSAIC, NumberOfImagesInMosaic 48) was read as one 896x896 slice: a
    kernel in mm blurred neighbouring slices into each other, and the NIfTI put the slab ~700 mm off, exit 0."""

    WHY = "a Siemens mosaic (ImageType ORIGINAL\\PRIMARY\\DIFFUSION\\NONE\\ND\\MOSAIC, NumberOfImagesInMosaic (0019,100A) 48)"

    def test_a_mosaic_file_is_refused_naming_the_tags_and_dcm2niix(self, tmp_path):
        _mosaic(tmp_path / "mosaic.dcm")
        r = run_in_process("volume", "mosaic.dcm", "-k", "gaussian:3mm", "-o", "g.nii.gz", cwd=tmp_path)
        assert r.returncode == 2, r.stderr
        line = r.stderr.strip()
        assert line.startswith(f"error: mosaic.dcm: {self.WHY}: 48 slices are tiled in one 896x896 image") and "dcm2niix" in line
        assert len(line.splitlines()) == 1 and "Traceback" not in line
        assert not (tmp_path / "g.nii.gz").exists()

    def test_the_api_refuses_it_too(self, tmp_path):
        with pytest.raises(ImageReadError, match="Siemens mosaic"):
            medical.read_volume(_mosaic(tmp_path / "m.dcm"))

    def test_a_folder_of_mosaics_is_refused_before_any_pixel_data(self, tmp_path):
        for name in ("0.dcm", "1.dcm"):
            if not (NICOM / name).exists():
                pytest.skip("nibabel's nicom test data is not installed")
            (tmp_path / "ser").mkdir(exist_ok=True)
            (tmp_path / "ser" / name).write_bytes((NICOM / name).read_bytes())
        r = run_in_process("volume", "ser", "-o", "s.nii.gz", cwd=tmp_path)
        assert r.returncode == 2 and f"error: {Path('ser') / '0.dcm'}: {self.WHY}: 48 slices are tiled in one 256x256" in r.stderr
        assert not (tmp_path / "s.nii.gz").exists()

    def test_image_type_alone_is_enough(self, tmp_path):
        """A mosaic whose Siemens private header is gone (an anonymiser drops private tags) says so by ImageType."""
        ds = pydicom.dcmread(_mosaic(tmp_path / "m.dcm"))
        del ds[0x0019, 0x0010]
        for tag in [t for t in ds.keys() if t.group == 0x0019]:
            del ds[tag]
        ds.save_as(tmp_path / "bare.dcm")
        with pytest.raises(ImageReadError, match=r"mosaic \(ImageType [^)]*MOSAIC\): its slices are tiled"):
            medical.read_volume(tmp_path / "bare.dcm")

    def test_a_series_that_is_no_mosaic_still_reads(self, tmp_path):
        ct_series(tmp_path / "ct", per=lambda k, ds: setattr(ds, "ImageType", ["ORIGINAL", "PRIMARY", "AXIAL"]))
        assert medical.read_volume(tmp_path / "ct").data.shape == (6, 8, 10)
