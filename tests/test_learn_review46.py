"""`learn`, the review of round 46: each finding's repro, held against what the README says."""

from __future__ import annotations

import numpy as np
import pytest

from kernelcli.errors import UsageError
from kernelcli.learn import LearnOptions, learn_kernel

from conftest import documentation, run_in_process


def past_2_53() -> np.ndarray:
    """A textured int64 image near 2**60: most values are odd multiples past 2**53 that float64 rounds."""
    yy, xx = np.mgrid[0:20, 0:20]
    return (2**60 + (yy * 20 + xx) * 7919 % 1000 + (yy * 20 + xx) * 3).astype(np.int64)


class TestWholeNumbersPast2To53:
    """Finding 6: learn rounded int64 inputs and targets past 2**53 in silence: 'learn lin.npy lin.npy -f 1' (the exact
    answer [[1]], MSE 0) printed MSE 9.66e+05, 211% of the target's std, and a warning blaming the kernel size."""

    def test_the_cli_refuses_naming_the_file(self, tmp_path):
        np.save(tmp_path / "lin.npy", past_2_53())
        r = run_in_process("learn", "lin.npy", "lin.npy", "-f", "1", cwd=tmp_path)
        assert r.returncode == 2, (r.returncode, r.stderr)
        line = r.stderr.strip()
        assert line.startswith("error: lin.npy: ") and "past 2**53 that float64 would round" in line, line
        assert "x:" not in line and "dtype=" not in line and len(line.splitlines()) == 1, line

    def test_a_target_past_2_53_is_refused_by_its_name(self, tmp_path):
        x = past_2_53()
        np.save(tmp_path / "x.npy", (x - 2**60).astype(float))
        np.save(tmp_path / "t.npy", x)
        r = run_in_process("learn", "x.npy", "t.npy", "-f", "1", cwd=tmp_path)
        assert r.returncode == 2 and r.stderr.startswith("error: t.npy: ") and "2**53" in r.stderr, r.stderr

    @pytest.mark.parametrize("which", ["input", "target"])
    def test_the_api_refuses_by_the_names_given(self, which):
        x = past_2_53()
        with pytest.raises(UsageError, match=f"^{which}: 391 value"):
            if which == "input":
                learn_kernel(x, np.zeros((20, 20)), LearnOptions(size=1))
            else:
                learn_kernel((x - 2**60).astype(float), x, LearnOptions(size=1))

    def test_int64_within_2_53_is_exact(self):
        x = (past_2_53() - 2**60).astype(np.int64) * 2**40
        r = learn_kernel(x, 3 * x, LearnOptions(size=1))
        assert r.fits and abs(r.kernel[0, 0] - 3.0) < 1e-12 and r.warnings == []

    def test_the_same_values_as_float64_are_taken(self):  # (the rounding taken by the caller: not refused)
        x = past_2_53().astype(np.float64)
        r = learn_kernel(x, x, LearnOptions(size=1))
        assert abs(r.kernel[0, 0] - 1.0) < 1e-12

    def test_the_readme_says_so(self):

        readme = documentation()
        assert "`learn_kernel` (and `learn`, naming the input or target file) refuses such an input" in readme
