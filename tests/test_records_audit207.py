"""Audit 207 (exit codes and records).

#1: a failed call's ``--json`` record and ``--report`` item named a URL input and output with one slash
(``memory:/b/none.zarr``: the command line's ``Path`` folds ``//``), where its own error and an ok record keep the URL.
"""

from __future__ import annotations

import json

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
