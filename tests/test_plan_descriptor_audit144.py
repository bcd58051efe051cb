"""A batch output in ``--out-dir`` that links to stdout's descriptor is one of the plan's listed problems (audit 143 #3).

``output_problem`` raised (exit 2) in the middle of the plan's loop: the other refused outputs went unlisted, no
``--report`` was written and ``--json`` printed one flat record of the folder.  Now it is listed as the others are:
exit 4 with the list, nothing done, the report written and the batch document printed; the link is left alone.
"""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
from PIL import Image

from conftest import run_in_process


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc/self/fd")
def test_an_output_linking_to_stdout_is_listed_with_the_plan_s_other_problems(tmp_path):
    (tmp_path / "b3").mkdir()
    for name in ("g0", "g1", "g2"):
        Image.fromarray(np.arange(40 * 50, dtype=np.uint8).reshape(40, 50)).save(tmp_path / "b3" / f"{name}.png")
    (tmp_path / "dd").mkdir()
    os.symlink("/proc/self/fd/1", tmp_path / "dd" / "g0_box_3.png")
    os.symlink("/dev/null", tmp_path / "dd" / "g1_box_3.png")
    done = run_in_process("convolve", "b3", "-k", "box:3", "--out-dir", "dd", "--force", "--report", "dr.json", "--json",
                          cwd=tmp_path)
    assert done.returncode == 4, done.stderr
    assert "2 problem(s) with the outputs; nothing was done" in done.stderr, done.stderr
    assert "dd/g0_box_3.png" in done.stderr and "stdout" in done.stderr and "dd/g1_box_3.png" in done.stderr, done.stderr
    printed = json.loads(done.stdout)
    assert [(r["input"], r["status"], r["code"]) for r in printed["items"]] == [
        ("b3/g0.png", "failed", 4), ("b3/g1.png", "failed", 4), ("b3/g2.png", "not run", 4)]
    assert "stdout" in printed["items"][0]["error"]
    assert json.loads((tmp_path / "dr.json").read_text()) == printed
    assert os.readlink(tmp_path / "dd" / "g0_box_3.png") == "/proc/self/fd/1", "the link is left alone"
    assert not (tmp_path / "dd" / "g2_box_3.png").exists(), "nothing is done"


def test_a_single_output_linking_to_stdout_is_still_refused_alone(tmp_path):
    from kernelcli.errors import UsageError
    from kernelcli.io.output_checks import check_output

    os.symlink("/proc/self/fd/1", tmp_path / "so.png")
    with pytest.raises(UsageError, match="not stdout"):
        check_output(tmp_path / "so.png", force=True)
