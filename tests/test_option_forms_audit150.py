"""Audit 150 #4: a ``--bias`` or ``--then`` value refused is refused in Click's one form, as ``--pad-value``'s and
``--stride``'s are (``Invalid value for '--X': ... (see 'kernelcli convolve -h')``, exit 2, before any input is
read), and ``--bias 1e400`` in ``--pad-value 1e400``'s words."""

from __future__ import annotations

import pytest

from conftest import run_in_process

HELP = " (see 'kernelcli convolve -h')"


def _refusal(tmp_path, *args: str, code: int = 2) -> str:
    done = run_in_process("convolve", "MISSING.csv", "-k", "box:3", *args, "-o", "o.npy", cwd=tmp_path)
    assert done.returncode == code and done.stdout == "", done
    assert not (tmp_path / "o.npy").exists()
    return done.stderr.strip()


class TestBias:
    @pytest.mark.parametrize("typed", ["1e400", "-1e400", "nan", "inf"])
    def test_a_value_that_is_not_finite_is_worded_as_pad_values(self, tmp_path, typed):
        bias = _refusal(tmp_path, "--bias", typed)
        fill = _refusal(tmp_path, "--pad-value", typed)
        assert bias == f"error: Invalid value for '--bias': {typed!r}: expected a finite number{HELP}"
        assert bias.replace("'--bias'", "'--pad-value' / '--value'") == fill

    def test_a_value_below_the_float_range_is_worded_as_pad_values(self, tmp_path):
        bias = _refusal(tmp_path, "--bias", "1e-400")
        assert bias.replace("'--bias'", "'--pad-value' / '--value'") == _refusal(tmp_path, "--pad-value", "1e-400")
        assert bias.startswith("error: Invalid value for '--bias': '1e-400' (below the float range), expected a number")

    @pytest.mark.parametrize("typed, why", [
        ("abc", "'abc': expected a number, or numbers separated by commas (one per kernel)"),
        ("1,1e-400", "'1,1e-400': value 2 is 1e-400 (below the float range), expected a number float64 holds "
                     "(at least 4.9e-324 in magnitude, or 0)"),
        ("0.5,1e400", "'0.5,1e400': value 2 is 1e400, expected a finite number"),
        ("9007199254740993", "'9007199254740993', which float64 reads as 9007199254740992: bias values are float64, "
                             "exact for whole numbers up to 2**53"),
    ])
    def test_every_refusal_has_the_one_form(self, tmp_path, typed, why):
        assert _refusal(tmp_path, "-k", "box:3", "--bias", typed) == f"error: Invalid value for '--bias': {why}{HELP}"

    def test_a_value_taken(self, tmp_path):
        import numpy as np

        np.savetxt(tmp_path / "x.csv", np.ones((4, 4)), delimiter=",")
        done = run_in_process("convolve", "x.csv", "-k", "box:1", "--bias", "0.5", "-o", "o.npy", "-q", cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        assert np.load(tmp_path / "o.npy").tolist() == [[1.5] * 4] * 4


class TestThen:
    @pytest.mark.parametrize("step, why", [
        ("maxpool:2:1e40", "'maxpool:2:1e40': a stride of 41 digits (100000000000...); expected at most 30 digits"),
        ("maxpool:0", "'maxpool:0': the size and stride of a pooling step are whole numbers >= 1, e.g. maxpool:2 or "
                      "avgpool:3:2"),
        ("maxpool:x", "'maxpool:x': a pooling step is maxpool:F, minpool:F or avgpool:F (meanpool:F too; :S for a "
                      "stride)"),
        ("avgpool2", "'avgpool2': a pooling step is maxpool:F, minpool:F or avgpool:F (meanpool:F too; :S for a "
                     "stride), e.g. avgpool:2"),
    ])
    def test_a_step_refused_has_the_one_form(self, tmp_path, step, why):
        # (an invalid kernel, exit 3, as -k's: audit 204 #3; it was Click's "Invalid value for '--then'", exit 2)
        assert _refusal(tmp_path, "--then", step, code=3) == f"error: invalid --then {why}"

    def test_the_first_kernel_stays_an_invalid_kernel(self, tmp_path):
        done = run_in_process("convolve", "MISSING.csv", "-k", "maxpool:0", "-o", "o.npy", cwd=tmp_path)
        assert done.returncode == 3 and "invalid --kernel 'maxpool:0'" in done.stderr
