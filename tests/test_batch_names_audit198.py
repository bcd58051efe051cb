"""Audit 198 #3: with --suffix '' (an output keeps its input's name) a batch's error named the output alone
('error: o/a.png: --rescale none needs a float output ...'): names_input took the output's bare name, after its
folder, for the input named, so neither stderr nor the --report record said in/a.png.  A name after a folder is the
input's only in the input's own path."""

from __future__ import annotations

import json
import shutil

import pytest

from conftest import SAMPLES, run_in_process
from kernelcli.batch_records import Record, names_input

WHY = {"a.png": "--rescale none needs a float output: give --format npy|tif|csv; this output is 8-bit",
       "b.png": "--rescale none needs a float output: give --format npy; this output is 8-bit"}


@pytest.fixture
def inputs(tmp_path):
    (tmp_path / "in").mkdir()
    shutil.copy(SAMPLES / "phantom.png", tmp_path / "in" / "a.png")
    shutil.copy(SAMPLES / "rgb.png", tmp_path / "in" / "b.png")
    return tmp_path


def errors(r) -> list[str]:
    return [line.removeprefix("error: ") for line in r.stderr.splitlines() if line.startswith("error: ")]


@pytest.mark.parametrize("workers", ["1", "2"])
def test_an_output_of_the_same_name_is_not_taken_for_the_input(inputs, workers):
    r = run_in_process("convolve", "in/a.png", "in/b.png", "-k", "sobel_v", "--rescale", "none", "--out-dir", "o",
                       "--suffix", "", "--workers", workers, "--report", "rep.json", cwd=inputs)
    assert r.returncode == 1, r.stderr
    said = [f"in/{name}: o/{name}: {why}" for name, why in WHY.items()]
    assert errors(r) == said
    assert [item["error"] for item in json.loads((inputs / "rep.json").read_text())["items"]] == said


def test_an_input_in_the_working_folder_is_named_before_its_output(inputs):
    for name in WHY:
        shutil.move(inputs / "in" / name, inputs / name)
    r = run_in_process("convolve", "a.png", "b.png", "-k", "sobel_v", "--rescale", "none", "--out-dir", "o",
                       "--suffix", "", cwd=inputs)
    assert r.returncode == 1 and errors(r) == [f"{name}: o/{name}: {why}" for name, why in WHY.items()], r.stderr


def test_an_output_refused_while_planning_names_its_input(inputs):
    (inputs / "o").mkdir()
    shutil.copy(inputs / "in" / "a.png", inputs / "o" / "a.png")
    r = run_in_process("convolve", "in/a.png", "in/b.png", "-k", "sobel_v", "--out-dir", "o", "--suffix", "",
                       "--report", "rep.json", cwd=inputs)
    assert r.returncode == 4, r.stderr
    assert json.loads((inputs / "rep.json").read_text())["items"][0]["error"] == \
        "in/a.png: o/a.png: already exists; use --force to overwrite it; nothing was done"


class TestNamesInput:
    def test_the_input_s_own_path_names_it(self, tmp_path):
        assert names_input("in/a.png: cannot decode", "a.png", "in/a.png")
        assert names_input(f"{tmp_path}/in/a.png: cannot decode", "a.png", tmp_path / "in" / "a.png")
        assert names_input("a.png: 16-bit colour is read as 8 bits", "a.png", "in/a.png")
        assert names_input("my in/a.png: cannot decode", "a.png", "my in/a.png")  # (a folder with a blank)
        assert names_input("in/c\nd.png: cannot decode", "c\nd.png", "in/c\nd.png")

    def test_another_folder_s_file_of_that_name_does_not(self):
        assert not names_input("o/a.png: needs a float output", "a.png", "in/a.png")
        assert not names_input("o/a.png: needs a float output", "a.png", "a.png")

    def test_a_record_prefixes_its_input_where_the_message_names_another_folder_s_file(self):
        from kernelcli.errors import ImageReadError, OutputRefused

        for shown, path in (("in/a.png", "in/a.png"), ("a.png", "a.png"), ("stdin", "/tmp/pipe/a.png")):
            record = Record(shown, "o/a.png", "ok")
            record.failed(OutputRefused("o/a.png: already exists"), shown, path=path)
            assert record.error == f"{shown}: o/a.png: already exists", record.error
            record.failed(ImageReadError(f"{path}: cannot decode"), shown, path=path)
            assert record.error == f"{path}: cannot decode", record.error
