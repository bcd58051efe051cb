"""Records of refused calls (audit 165 #4): a pipe is recorded as ``stdout``, never ``-``; a call's record holds its
error as the line on stderr (README: "the error being the line on stderr"), with or without ``--report``."""

from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import SAMPLES, run_in_process


@pytest.fixture()
def files(tmp_path):
    import shutil

    shutil.copy(SAMPLES / "phantom.png", tmp_path / "phantom.png")
    np.save(tmp_path / "x.npy", np.random.default_rng(0).random((12, 12)))
    np.save(tmp_path / "t.npy", np.random.default_rng(1).random((10, 10)))
    return tmp_path


def _line(r) -> str:
    lines = [line for line in r.stderr.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1, r.stderr
    return lines[0].removeprefix("error: ")


class TestPipesAreRecordedAsStdout:
    """learn's refused ``-o -`` and a refused ``--montage -`` were recorded as ``"output": "-"``."""

    def test_learn_out_stdout(self, files):
        r = run_in_process("learn", "x.npy", "t.npy", "-f", "3", "-o", "-", "--json", cwd=files)
        record = json.loads(r.stdout)
        assert r.returncode == 2 and record["output"] == "stdout", r.stdout
        assert record["error"] == _line(r)

    def test_a_refused_montage_on_stdout(self, files):
        r = run_in_process("convolve", "phantom.png", "-k", "box:3", "--montage", "-", "--json", cwd=files)
        record = json.loads(r.stdout)
        assert r.returncode == 2 and record["output"] == "stdout" and record.get("montage") is None, r.stdout
        assert record["error"] == _line(r)


class TestTheRecordsErrorIsTheLineOnStderr:
    """An output refusal's record said "phantom.png: x.zzz: unsupported output type ..." where stderr said
    "x.zzz: unsupported output type ..."; a bad --stride or an unknown kernel's record was the line already."""

    @pytest.mark.parametrize("args", [
        ["convolve", "phantom.png", "-k", "box:3", "-o", "x.zzz"],
        ["convolve", "phantom.png", "-k", "box:3", "--montage", "x.csv", "-o", "m.npy"],
        ["convolve", "phantom.png", "-k", "box:3", "-o", "old.png"],
        ["pool", "phantom.png", "-f", "2", "-o", "x.zzz"],
        ["pad", "phantom.png", "-p", "1", "-o", "x.zzz"],
        ["convolve", "phantom.png", "-k", "nosuch", "-o", "y.png"],
        ["convolve", "phantom.png", "-k", "box:3", "--stride", "0", "-o", "y.png"],
    ], ids=["convolve-type", "montage-type", "exists", "pool-type", "pad-type", "kernel", "stride"])
    def test_json_and_report(self, files, args):
        (files / "old.png").write_bytes((files / "phantom.png").read_bytes())
        r = run_in_process(*args, "--json", cwd=files)
        assert r.returncode in (2, 3, 4), r.stderr
        assert json.loads(r.stdout)["error"] == _line(r), (r.stdout, r.stderr)
        r = run_in_process(*args, "--report", "rep.json", cwd=files)
        if "--stride" in args:  # (Click refuses --stride 0 before the call that writes a report: the one without)
            assert r.returncode == 2 and not (files / "rep.json").exists(), r.stderr
            return
        # (this half was skipped when no report was written: a regression that stopped writing it passed unseen)
        assert (files / "rep.json").exists(), r.stderr
        (item,) = json.loads((files / "rep.json").read_text())["items"]
        assert item["error"] == _line(r), (item, r.stderr)


def test_an_inline_kernel_refused_prints_the_record_its_report_holds(files):
    # (f459f59..5755f1c: the refusal reworded under --kernel lost the one-input record attached to it, so --json
    # printed a generic failure record, "seconds": null, beside a --report holding the call's own)
    r = run_in_process("convolve", "phantom.png", "-k", "1x2: 1 1e400", "--json", "-o", "k.png", "--report", "r.json",
                       cwd=files)
    assert r.returncode == 3, r.stderr
    printed, reported = json.loads(r.stdout), json.loads((files / "r.json").read_text())["items"][0]
    assert printed == reported
    assert printed["error"] == _line(r) and printed["error"].startswith("--kernel '1x2: 1 1e400': ")
