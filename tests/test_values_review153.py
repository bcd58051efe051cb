"""Review 153: values that float64 reads as another, and the one sentence each is refused in.

#5: ``--kernel-scale 1e-400`` was refused with the advice "at least 4.9e-324 in magnitude, or 0", though
``--kernel-scale 0`` is refused; ``1e-322%`` (0 once divided by 100) got another sentence.
"""

from __future__ import annotations

import pytest

from kernelcli import numtext
from kernelcli.errors import UsageError
from kernelcli.kernel_syntax import parse_kernel_scale

NON_ZERO = "(below the float range), expected a number float64 holds (at least 4.9e-324 in magnitude)"


class TestKernelScaleUnderflow:
    @pytest.mark.parametrize("typed, shown", [("1e-400", "1e-400"), ("1e-322%", "1e-322%"), ("-1e-400!", "-1e-400"),
                                              ("1e-400%^", "1e-400%")])
    def test_refused_without_offering_0(self, typed, shown):
        with pytest.raises(UsageError) as refused:
            parse_kernel_scale(typed)
        assert str(refused.value) == f"invalid --kernel-scale {typed!r}: {shown} {NON_ZERO}"
        assert "or 0" not in str(refused.value)

    def test_0_keeps_its_sentence_and_a_subnormal_is_taken(self):
        with pytest.raises(UsageError, match="the factor must be a finite non-zero number"):
            parse_kernel_scale("0")
        assert parse_kernel_scale("1e-320").factor == 1e-320
        assert parse_kernel_scale("1e-300%").factor == 1e-302

    def test_the_cli_says_it(self, tmp_path):
        import numpy as np

        from conftest import run_in_process

        np.save(tmp_path / "one.npy", np.ones((5, 5)))
        r = run_in_process("convolve", "one.npy", "-k", "box:3", "--kernel-scale", "1e-322%", "-o", "o.npy", cwd=tmp_path)
        assert r.returncode == 2 and f"1e-322% {NON_ZERO}" in r.stderr, r.stderr
        assert not (tmp_path / "o.npy").exists()


def test_below_range_where_0_is_no_answer():
    assert numtext.below_range("1e-400", zero=False) == f"1e-400 {NON_ZERO}"
    assert numtext.below_range("1e-400").endswith(", or 0)")
