"""The Python API audit, round 8 (audit 137): gaussian_mm's fwhm, write_output's force and dtypes, a hand-made
Kernel, weights below the float range, torch tensors and a kernel name given to conv2d."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from kernelcli.errors import InvalidKernel, UsageError
from kernelcli.kernel_build import FWHM_PER_SIGMA, gaussian_mm, gaussian_vox
from kernelcli.volume_grammar import resolve_volume_kernel

ONE_MM = (1.0, 1.0, 1.0)


def _digest(factors) -> str:
    return hashlib.sha256(b"".join(np.ascontiguousarray(f).tobytes() for f in factors)).hexdigest()[:16]


class TestGaussianFwhmMeansWhatItSays:
    """gaussian_mm(4, sp, fwhm=True) built sigma 4 (25 taps), byte-equal to fwhm=False; fwhm only reworded the
    refusal, which called the sigma given a FWHM 2.35 times larger; fwhm="no" was taken as true (finding 1)."""

    @pytest.mark.parametrize("build, args", [(gaussian_mm, (ONE_MM,)), (gaussian_vox, ())])
    def test_fwhm_true_is_the_gaussian_of_that_fwhm(self, build, args):
        got = build(4.0, *args, fwhm=True)
        want = build(4.0 / FWHM_PER_SIGMA, *args)
        assert [len(f) for f in got] == [13, 13, 13]
        assert all(np.array_equal(g, w) for g, w in zip(got, want))

    def test_a_refusal_names_the_fwhm_given(self):
        with pytest.raises(InvalidKernel, match=r"^fwhm: FWHM 5000 mm \(sigma 2123.3\) is 2123 voxels along z"):
            gaussian_mm(5000.0, ONE_MM, fwhm=True)
        with pytest.raises(InvalidKernel, match=r"^fwhm: FWHM -1.0 mm must be a positive finite number"):
            gaussian_mm(-1.0, ONE_MM, fwhm=True)
        assert len(gaussian_mm(392.4, ONE_MM, fwhm=True)[0]) == 1001  # the largest FWHM the refusal of 500 names

    @pytest.mark.parametrize("value", ["no", 1, None, "true"])
    def test_fwhm_is_checked_as_true_or_false(self, value):
        with pytest.raises(UsageError, match="fwhm must be True or False"):
            gaussian_mm(4.0, ONE_MM, fwhm=value)
        with pytest.raises(UsageError, match="fwhm must be True or False"):
            gaussian_vox(4.0, fwhm=value)

    @pytest.mark.parametrize("spec, spacing, digest", [
        ("fwhm:4mm", (1.0, 0.8, 0.8), "a19135f51086b798"),
        ("fwhm:2.5mm", (3.0, 0.7, 0.7), "024cb57a4839a918"),
        ("fwhm:4vox", ONE_MM, "4497850c3050c73b"),
        ("fwhm:1e-3mm", ONE_MM, "043bef85f470e595"),
    ])
    def test_the_volume_grammar_builds_the_bytes_it_built(self, spec, spacing, digest):
        # (digests taken at 3fccd08, before the change)
        assert _digest(resolve_volume_kernel(spec).factors(spacing)) == digest

    def test_the_grammar_still_refuses_in_the_fwhm_typed(self):
        with pytest.raises(InvalidKernel, match=r"^fwhm: FWHM 5000 mm \(sigma 2123.3"):
            resolve_volume_kernel("fwhm:5000mm").factors(ONE_MM)
