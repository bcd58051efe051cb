"""Audit 159 (DICOM and NIfTI, round 8): what a medical reader or writer stated wrongly or said badly.

Each class reproduces one finding on small files built here in ``tmp_path`` (pydicom series, nibabel images with a
patched header, SimpleITK 4-D images); pydicom's ``eCT_Supplemental.dcm`` is one of its own test files.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from kernelcli import medical

pydicom = pytest.importorskip("pydicom")
nib = pytest.importorskip("nibabel")
from conftest import run_in_process  # noqa: E402
from test_medical_audit127 import ct_series  # noqa: E402


def _record(result) -> dict:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


class TestRescaleTypeNotHU:
    """Finding 1: a CT whose RescaleType says its values are not HU was labelled HU (units "HU", "HU/mm"), and a CT
    window preset ran on it without the note a PT or MR series gets."""

    @staticmethod
    def _typed(kind: str):
        def per(k, ds):
            ds.RescaleType = kind
        return per

    def test_a_series_whose_rescale_type_is_us_has_no_units_and_says_why(self, tmp_path):
        ct_series(tmp_path / "us", per=self._typed("US"))
        vol = medical.read_volume(tmp_path / "us")
        assert vol.units is None
        assert "us: RescaleType US (unspecified): its values are not HU" in vol.notes

    def test_the_record_of_a_gradient_and_a_smoothing_states_no_hu(self, tmp_path):
        ct_series(tmp_path / "us", per=self._typed("US"))
        for spec in ("gradient", "gaussian:1mm"):
            record = _record(run_in_process("convolve", "us", "-k", spec, "-o", f"o_{spec[:4]}.nii.gz", "--json", cwd=tmp_path))
            assert record["units"] is None, (spec, record["units"])

    def test_a_ct_preset_on_it_gets_the_not_hu_note(self, tmp_path):
        ct_series(tmp_path / "us", per=self._typed("US"))
        result = run_in_process("convolve", "us", "--window", "brain", "-o", "us.png", cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert "--window brain is a CT preset in HU (40,80), and us does not say its values are HU" in result.stderr

    def test_another_stated_type_is_the_unit(self, tmp_path):
        ct_series(tmp_path / "od", per=self._typed("OD"))
        vol = medical.read_volume(tmp_path / "od")
        assert vol.units == "OD" and "od: RescaleType OD (optical density): its values are not HU" in vol.notes

    @pytest.mark.parametrize("kind", [None, "HU"])
    def test_a_ct_without_it_or_with_hu_stays_hu_without_a_note(self, tmp_path, kind):
        ct_series(tmp_path / "hu", per=self._typed(kind) if kind else None)
        vol = medical.read_volume(tmp_path / "hu")
        assert vol.units == "HU" and not any("RescaleType" in n for n in vol.notes)
        result = run_in_process("convolve", "hu", "--window", "brain", "-o", "hu.png", cwd=tmp_path)
        assert result.returncode == 0 and "CT preset" not in result.stderr, result.stderr

    def test_pydicoms_derived_perfusion_map_is_not_hu(self, tmp_path):
        # eCT_Supplemental.dcm: FrameType DERIVED\PRIMARY\PERFUSION\RCBF, RescaleType US in its shared
        # PixelValueTransformationSequence (enhanced CT)
        from pydicom.data import get_testdata_file

        path = get_testdata_file("eCT_Supplemental.dcm")
        vol = medical.read_volume(path)
        assert vol.modality == "CT" and vol.units is None
        record = _record(run_in_process("convolve", path, "-k", "gradient", "-o", "g.nii.gz", "--json", cwd=tmp_path))
        assert record["units"] is None
        result = run_in_process("convolve", path, "--window", "brain", "-o", "e.png", cwd=tmp_path)
        assert "does not say its values are HU" in result.stderr, result.stderr
