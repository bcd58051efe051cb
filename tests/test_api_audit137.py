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


class TestWriteOutputForce:
    """write_output(force="no") replaced an existing file (any truthy value did), and its refusal told a Python
    caller to "use --force", an option it does not have (finding 2)."""

    @pytest.mark.parametrize("force", ["no", "false", 1, 0.0, None, []])
    def test_force_is_checked_as_true_or_false_before_anything_is_written(self, tmp_path, force):
        from kernelcli import write_output

        kept = tmp_path / "keep.npy"
        np.save(kept, np.zeros((2, 2)))
        before = kept.read_bytes()
        with pytest.raises(UsageError, match=r"^force must be True or False, got "):
            write_output(kept, np.full((2, 2), 7.0), force=force)
        assert kept.read_bytes() == before

    @pytest.mark.parametrize("suffix", [".npy", ".csv", ".png"])
    def test_the_api_refusal_names_force_true(self, tmp_path, suffix):
        from kernelcli import write_output
        from kernelcli.errors import OutputRefused

        out = tmp_path / f"keep{suffix}"
        write_output(out, np.zeros((2, 2), np.uint8))
        with pytest.raises(OutputRefused) as exc:
            write_output(out, np.ones((2, 2), np.uint8))
        assert str(exc.value) == f"{out}: already exists; use force=True to overwrite it"
        write_output(out, np.ones((2, 2), np.uint8), force=np.True_)  # numpy's bool is a bool

    def test_the_command_line_still_says_force_option(self, tmp_path, cli):
        (tmp_path / "x.csv").write_text("1,2\n3,4\n")
        (tmp_path / "o.csv").write_text("kept\n")
        done = cli("convolve", "x.csv", "-k", "identity", "-o", "o.csv", cwd=tmp_path)
        assert done.returncode == 4 and done.stderr.strip().endswith("o.csv: already exists; use --force to overwrite it")
        assert (tmp_path / "o.csv").read_text() == "kept\n"


NOT_REAL = {
    "complex128": np.full((2, 2), 1 + 2j),
    "object": np.array([[1, None]], object),
    "datetime64[D]": np.array([["2026-12-06", "2026-12-07"]], "datetime64[D]"),
    "<U1": np.array([["a", "b"]]),
}


class TestWriteOutputRefusesWhatIsNotRealNumbers:
    """write_output wrote a complex result to .csv as its real part, None as nan, dates as day counts, a complex
    .npy that read_input then refuses, and raised numpy's ValueError for text (finding 3)."""

    @pytest.mark.parametrize("suffix", [".csv", ".npy", ".png", ".tif"])
    @pytest.mark.parametrize("dtype", list(NOT_REAL))
    def test_refused_naming_the_dtype_and_nothing_written(self, tmp_path, suffix, dtype):
        from kernelcli import write_output

        out = tmp_path / f"w{suffix}"
        with pytest.raises(UsageError) as exc:
            write_output(out, NOT_REAL[dtype])
        said = str(exc.value)
        assert said.startswith(f"{out}: ") and f"dtype {dtype}" in said and "expected real numbers" in said, said
        assert "\n" not in said and not out.exists()
        assert list(tmp_path.iterdir()) == []

    @pytest.mark.parametrize("dtype", list(NOT_REAL))
    def test_an_existing_file_is_kept_under_force(self, tmp_path, dtype):
        from kernelcli import write_output

        out = tmp_path / "w.csv"
        out.write_text("kept\n")
        with pytest.raises(UsageError, match="expected real numbers"):
            write_output(out, NOT_REAL[dtype], force=True)
        assert out.read_text() == "kept\n"

    @pytest.mark.parametrize("values", [np.array([[True, False]]), np.array([[1, -2]], np.int16),
                                        np.array([[3, 4]], np.uint64), np.array([[0.5, 1.0]], np.float16)])
    def test_real_numbers_are_written(self, tmp_path, values):
        from kernelcli import write_output

        write_output(tmp_path / "r.npy", values)
        assert np.array_equal(np.load(tmp_path / "r.npy"), values)
