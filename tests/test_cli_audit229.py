"""convolve / pad / pool on the command line: what audit 229 found (links, conflicting options, records, notes, .npy).

#1 a batch's ``--report`` that is a link to one of its outputs was taken with ``--force`` (the link replaced by the
report, exit 0) where one input's is refused ("is also the output", exit 4).
"""

from __future__ import annotations

import os

import pytest

from conftest import listing, run_in_process, small_png


@pytest.mark.parametrize("force", [["--force"], []], ids=["force", "no-force"])
@pytest.mark.parametrize("spelling", ["link", "name"])
def test_a_batch_report_that_is_an_output_is_refused_as_one_inputs_is(tmp_path, spelling, force):
    small_png(tmp_path / "b1" / "a.png")
    small_png(tmp_path / "b1" / "c.png")
    (tmp_path / "o").mkdir()
    report = "o/a_maxpool2.png"
    if spelling == "link":
        report = "o/r.json"
        os.symlink("a_maxpool2.png", tmp_path / report)
    before = listing(tmp_path)
    done = run_in_process("pool", "b1", "-f", "2", "-d", "o", "--report", report, *force, "-q", cwd=tmp_path)
    assert done.returncode == 4, done.stderr
    assert f"error: --report {report}: is also the output; choose another --report file; nothing was done" in done.stderr
    assert listing(tmp_path) == before, "nothing written"
