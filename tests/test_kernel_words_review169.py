"""An inline kernel refused in ``--then`` or in ``kernels show SPEC`` names where it was given (review 169 #6): both were
labelled ``--kernel '1x2: 1 x': ...``, whichever option or argument gave the spec."""

from __future__ import annotations

import shutil

from conftest import SAMPLES, run_in_process

WHY = "'1x2: 1 x': value 2 is 'x', expected a number"


def test_a_then_step_is_named_then(tmp_path):
    shutil.copy(SAMPLES / "phantom.png", tmp_path / "phantom.png")
    r = run_in_process("convolve", "phantom.png", "-k", "box:3", "--then", "1x2: 1 x", "-o", "th.png", cwd=tmp_path)
    assert r.returncode == 3 and r.stderr.startswith("error: --then '1x2: 1 x': "), r.stderr
    assert not (tmp_path / "th.png").exists()


def test_the_first_kernel_is_still_named_kernel(tmp_path):
    shutil.copy(SAMPLES / "phantom.png", tmp_path / "phantom.png")
    r = run_in_process("convolve", "phantom.png", "-k", "1x2: 1 x", "--then", "box:3", "-o", "th.png", cwd=tmp_path)
    assert r.returncode == 3 and r.stderr.startswith("error: --kernel '1x2: 1 x': "), r.stderr
    r = run_in_process("convolve", "phantom.png", "-k", "1x2: 1 x", "-o", "k.png", cwd=tmp_path)
    assert r.returncode == 3 and r.stderr.startswith("error: --kernel '1x2: 1 x': "), r.stderr


def test_kernels_show_names_the_spec_alone(tmp_path):
    r = run_in_process("kernels", "show", "1x2: 1 x", cwd=tmp_path)
    assert r.returncode == 3 and r.stderr.startswith("error: '1x2: 1 x': "), r.stderr
