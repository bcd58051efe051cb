"""Audit 213 F2: a batch's ``--report`` named as an input file inside a folder the batch reads (``convolve sl
--out-dir o --report sl/r.csv``) was written there, exit 0; the next run read it as an input and failed on it
("sl/r.csv: line 1: '{' is not a number", exit 1).  Now it is refused while planning, exit 4, as an ``--out-dir``
there is; a ``.json`` name, a pattern that does not match it, or a subfolder a run without ``--recursive`` does not
read are taken.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conftest import run_in_process

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


@pytest.fixture
def sl(tmp_path):
    (tmp_path / "sl" / "sub").mkdir(parents=True)
    shutil.copy(SAMPLES / "phantom.png", tmp_path / "sl" / "a.png")
    shutil.copy(SAMPLES / "rgb.png", tmp_path / "sl" / "b.png")
    return tmp_path


@pytest.mark.parametrize("inputs, report", [(["sl"], "sl/r.csv"), (["sl"], "sl/r.png"), (["sl/*"], "sl/r.txt"),
                                            (["sl/*.png"], "sl/r.png"), (["sl", "-r"], "sl/sub/r.npy"),
                                            (["sl"], "sl/r.nii.gz")])
def test_a_report_the_next_run_would_read_is_refused(sl, inputs, report):
    r = run_in_process("convolve", *inputs, "-k", "box:3", "--out-dir", "o", "--report", report, "-q", cwd=sl)
    assert r.returncode == 4, r.stderr
    assert r.stderr.startswith(f"error: --report {report}: is inside the input {inputs[0]} ("), r.stderr
    assert "the report would be read as an input on the next run" in r.stderr
    assert not (sl / report).exists() and not (sl / "o").exists()


@pytest.mark.parametrize("inputs, report", [(["sl"], "sl/r.json"), (["sl/*.png"], "sl/r.csv"), (["sl"], "sl/sub/r.csv"),
                                            (["sl"], "sl/.r.csv")])
def test_a_report_no_run_reads_is_written(sl, inputs, report):
    r = run_in_process("convolve", *inputs, "-k", "box:3", "--out-dir", "o", "--report", report, "-q", cwd=sl)
    assert r.returncode == 0, r.stderr
    assert (sl / report).exists()
    again = run_in_process("convolve", *inputs, "-k", "box:3", "--out-dir", "o2", "-q", cwd=sl)
    assert again.returncode == 0, again.stderr
