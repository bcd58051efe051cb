"""Audit 203 #1: a study folder holding only series sub-folders (``study/ct/IM*``, no DICOMDIR) sent a new user
round three refusals ('--out names one output file', then 'no supported input files in this folder (--recursive looks
in subfolders too)', then a note naming the series) before the series folder was named; the same layout with a
DICOMDIR on top named it at once.  Now the first call names it, in the DICOMDIR case's words."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("pydicom")
from conftest import documentation  # noqa: E402
from test_medical_audit104 import ct_series  # noqa: E402

NAMED = "(a series is read from one folder's own files); DICOM files are in {where} (6): give that folder"


@pytest.fixture
def study(tmp_path):
    ct_series(tmp_path / "study" / "ct", n=6)
    return Path("study") / "ct"


class TestAStudyFolderNamesItsSeries:
    @pytest.mark.parametrize("command", ["convolve", "volume"])
    @pytest.mark.parametrize("out", [["-o", "ct.nii.gz"], []], ids=["out", "no-out"])
    def test_one_study_folder_names_the_series_folder(self, invoke, study, command, out):
        r = invoke(command, "study", "-k", "gaussian:1mm", *out)
        assert r.exit_code == 2, r.output
        assert r.stderr.strip().splitlines()[-1] == f"error: study: no DICOM images in this folder {NAMED.format(where=study)}"

    def test_pool_says_the_same(self, invoke, study):
        r = invoke("pool", "study", "-f", "2", "-o", "p.nii.gz")
        assert r.exit_code == 2, r.output
        assert f"error: study: no DICOM images in this folder {NAMED.format(where=study)}" in r.stderr

    @pytest.mark.parametrize("recursive", [[], ["--recursive"]], ids=["flat", "recursive"])
    def test_with_out_dir_the_series_is_named_to_give_alone(self, invoke, study, recursive):
        r = invoke("convolve", "study", "-k", "gaussian:1mm", "--out-dir", "o", *recursive)
        assert r.exit_code == 2, r.output
        assert r.stderr.strip().splitlines()[-1] == (f"error: study: no supported input files in this folder "
                                                     f"{NAMED.format(where=study)}, alone, without --out-dir")

    def test_the_json_record_carries_the_same_line(self, invoke, study):
        r = invoke("convolve", "study", "-k", "gaussian:1mm", "-o", "ct.nii.gz", "--json")
        assert r.exit_code == 2, r.output
        record = json.loads(r.stdout)
        assert record["code"] == 2 and record["error"] == f"study: no DICOM images in this folder {NAMED.format(where=study)}"

    def test_the_named_folder_is_read(self, invoke, study):
        r = invoke("volume", str(study), "-k", "gaussian:1mm", "-o", "ct.nii.gz", "-q")
        assert r.exit_code == 0, r.output

    def test_an_empty_folder_keeps_its_words(self, invoke, tmp_path):
        (tmp_path / "empty" / "sub").mkdir(parents=True)
        r = invoke("convolve", "empty", "-k", "box:3", "-o", "x.png")
        assert "error: --out names one output file" in r.stderr
        r = invoke("convolve", "empty", "-k", "box:3", "--out-dir", "o")
        assert "error: empty: no supported input files in this folder (--recursive looks in subfolders too)" in r.stderr

    def test_the_readme_shows_a_dicom_folder_read(self):
        readme = documentation()
        assert "$ kernelcli volume study/ct --kernel gaussian:1mm --out ct.nii.gz" in readme
        assert f"error: study: no DICOM images in this folder {NAMED.format(where='study/ct')}" in readme
