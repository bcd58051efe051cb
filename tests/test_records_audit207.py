"""Audit 207 (exit codes and records).

#1: a failed call's ``--json`` record and ``--report`` item named a URL input and output with one slash
(``memory:/b/none.zarr``: the command line's ``Path`` folds ``//``), where its own error and an ok record keep the URL.

#3: a study folder with a text file beside its series folder (a disc's README.TXT) lost the study refusal: sent to
--out-dir, then the README read as a matrix ("'Exported' is not a number"); the series folder never named.

#2: what stdin holds refused (empty, a volume, no known format, another than --format) wrote no --report, where any
other refusal of one input's content writes it with the record --json prints.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import run_in_process


class TestAFailedRecordNamesAURLAsGiven:
    @pytest.mark.parametrize("kernel, code", [("box:3", 2), ("nosuch", 3)])
    def test_json_and_report_keep_the_double_slash(self, tmp_path, kernel, code):
        pytest.importorskip("fsspec")
        r = run_in_process("convolve", "memory://b207/none.zarr", "-k", kernel, "-o", "memory://b207/o.zarr",
                           "--json", "--report", "rep.json", cwd=tmp_path)
        assert r.returncode == code, r.stderr
        record = json.loads(r.stdout)
        item = json.loads((tmp_path / "rep.json").read_text())["items"][0]
        for shown in (record, item):
            assert (shown["input"], shown["output"]) == ("memory://b207/none.zarr", "memory://b207/o.zarr")

    def test_a_file_url_is_the_local_path_an_ok_record_names(self, tmp_path):
        r = run_in_process("convolve", f"file://{tmp_path}/in.zarr", "-k", "nosuch", "-o", f"file://{tmp_path}/o.zarr",
                           "--json", cwd=tmp_path)
        assert r.returncode == 3, r.stderr
        assert (json.loads(r.stdout)["input"], json.loads(r.stdout)["output"]) == (f"{tmp_path}/in.zarr", f"{tmp_path}/o.zarr")

    def test_a_refused_option_s_record_too(self, tmp_path):
        r = run_in_process("convolve", "memory://b207/none.zarr", "-k", "box:3", "-o", "memory://b207/o.zarr",
                           "--padding", "3x", "--json", cwd=tmp_path)
        assert r.returncode == 2, r.stderr
        assert json.loads(r.stdout)["input"] == "memory://b207/none.zarr"


@pytest.fixture
def study_with_readme(tmp_path):
    pytest.importorskip("pydicom")
    from test_medical_audit104 import ct_series

    ct_series(tmp_path / "study" / "ct", n=6)
    (tmp_path / "study" / "README.TXT").write_text("Exported by PACS\n")
    return tmp_path


class TestAStudyFolderWithAReadmeNamesItsSeries:
    NAMED = (f"(a series is read from one folder's own files); DICOM files are in {Path('study/ct')} (6): give that folder"
             "{alone}; not read: " + str(Path("study/README.TXT")) + ", text, not a matrix")

    @pytest.mark.parametrize("command, args", [("convolve", ["-k", "gaussian:1mm", "-o", "s.nii.gz"]),
                                               ("pool", ["-f", "2", "-o", "p.nii.gz"])])
    def test_given_alone_the_series_is_named(self, study_with_readme, command, args):
        r = run_in_process(command, "study", *args, "--json", cwd=study_with_readme)
        assert r.returncode == 2, r.stderr
        line = f"study: no DICOM images in this folder {self.NAMED.format(alone='')}"
        assert r.stderr.strip().splitlines()[-1] == f"error: {line}"
        assert json.loads(r.stdout)["error"] == line

    @pytest.mark.parametrize("kernel", ["gaussian:1mm", "box:3"])
    def test_with_out_dir_the_series_is_named_not_the_readme_read(self, study_with_readme, kernel):
        r = run_in_process("convolve", "study", "-k", kernel, "--out-dir", "o", cwd=study_with_readme)
        assert r.returncode == 2, r.stderr
        assert r.stderr.strip().splitlines()[-1] == (
            f"error: study: no supported input files in this folder {self.NAMED.format(alone=', alone, without --out-dir')}")

    def test_a_folder_of_matrices_beside_a_series_is_still_a_batch(self, study_with_readme):
        (study_with_readme / "study" / "README.TXT").write_text("# a kernel\n1, 2\n3, 4\n")
        r = run_in_process("convolve", "study", "-k", "box:1", "--out-dir", "o", "-q", cwd=study_with_readme)
        assert r.returncode == 0, r.stderr
        assert (study_with_readme / "o" / "README_box_1.csv").exists()


class TestWhatStdinHoldsRefusedWritesTheReport:
    PNG = bytes.fromhex("89504e470d0a1a0a") + b"rest"

    @pytest.mark.parametrize("command, given, held", [
        (["convolve", "-k", "box:3"], [], b""),
        (["convolve", "-k", "box:3"], [], b"\x1f\x8b\x08\x00" + bytes(60)),
        (["convolve", "-k", "box:3"], [], b"\x00\x01\x02\x03abc"),
        (["convolve", "-k", "box:3"], ["--format", "jpg"], PNG),
        (["pool", "-f", "2"], [], b""),
    ], ids=["empty", "gzip", "unknown", "format", "pool-empty"])
    @pytest.mark.parametrize("out", ["o.png", "-"])
    def test_the_report_holds_the_record_json_prints(self, tmp_path, command, given, held, out):
        fmt = ["--format", "png"] if out == "-" and not given else []
        json_flag = [] if out == "-" else ["--json"]
        r = run_in_process(command[0], "-", *command[1:], "-o", out, *given, *fmt, *json_flag, "--report", "rep.json",
                           cwd=tmp_path, input=held)
        assert r.returncode == 2, r.stderr
        item = json.loads((tmp_path / "rep.json").read_text())["items"][0]
        assert (item["input"], item["output"], item["code"]) == ("stdin", "stdout" if out == "-" else "o.png", 2)
        assert f"error: {item['error']}" == r.stderr.strip().splitlines()[-1]
        if json_flag:
            assert json.loads(r.stdout) == item
        assert not (tmp_path / "o.png").exists()
