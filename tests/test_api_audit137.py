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


class TestAHandMadeKernelIsChecked:
    """A hand-made Kernel was taken as given: a list matrix's .sum, .to_dict() and scale="sum" were Python's
    TypeError, a numpy matrix had shape (), scale=0 reached conv2d as "values must be finite", scale=True divided by
    1, scale="SUM" was a ValueError, and a name "A B", NaN weights and empty matrices were all taken (finding 4)."""

    X = np.arange(16.0).reshape(4, 4)

    @pytest.mark.parametrize("matrix", [[[1, 1]], ((1, 1),), np.array([[1, 1]]), np.array([[1.0, 1.0]], np.float32),
                                        [np.array([1.0, 1.0])], [(1.0, 1)]])
    def test_a_list_or_array_matrix_is_kept_as_tuples_of_floats(self, matrix):
        from kernelcli import Kernel, conv2d

        k = Kernel("pair", matrix, scale="sum")
        assert k.matrix == ((1.0, 1.0),) and all(type(v) is float for v in k.matrix[0])
        assert k.shape == (1, 2) and k.sum == 1.0 and k.divisor == 2.0 and k.separable
        assert k.to_dict()["matrix"] == [[1, 1]] and k.array().tolist() == [[0.5, 0.5]]
        assert np.array_equal(conv2d(self.X, k), conv2d(self.X, [[0.5, 0.5]]))

    @pytest.mark.parametrize("kwargs, said", [
        ({"name": "A B"}, r'^Kernel \'A B\': name: "A B" is not a valid name: use .*\(e\.g\. "a_b"\)$'),
        ({"name": 3}, r"^Kernel: name: is 3, expected a string$"),
        ({"matrix": [[1, float("nan")]]}, r"^Kernel 'k': matrix: row 1, column 2 is nan, expected a finite number$"),
        ({"matrix": [[1, 2], [3]]}, r"^Kernel 'k': matrix: row 2 has 1 value, expected 2$"),
        ({"matrix": []}, r"^Kernel 'k': matrix: is empty, expected at least one row$"),
        ({"matrix": [1, 2]}, r"^Kernel 'k': matrix: is 1-D"),
        ({"matrix": np.ones((1, 1, 1, 1))}, r"^Kernel 'k': matrix: is 4-D"),
        ({"matrix": [["1", "2"]]}, r"^Kernel 'k': matrix: row 1, column 1 is the string \"1\", expected a number"),
        ({"matrix": [[1 + 2j]]}, r"^Kernel 'k': matrix: row 1, column 1 is \(1\+2j\), expected a number$"),
        ({"matrix": [[1e308, 1e308]]}, r"^Kernel 'k': matrix: values are too large"),
        ({"scale": 0}, r'^Kernel \'k\': scale: is 0 and cannot be divided by; expected a non-zero number or "sum"$'),
        ({"scale": True}, r'^Kernel \'k\': scale: is true, expected a number \(the divisor\) or "sum"$'),
        ({"scale": "SUM"}, r'^Kernel \'k\': scale: is the string "SUM", expected a number \(the divisor\) or "sum"$'),
        ({"scale": float("inf")}, r'^Kernel \'k\': scale: is inf, expected a finite non-zero number or "sum"$'),
        ({"scale": float("nan")}, r'^Kernel \'k\': scale: is nan, expected a finite non-zero number or "sum"$'),
        ({"matrix": [[1, -1]], "scale": "sum"}, r"^Kernel 'k': scale: \"sum\", but the matrix sums to 0"),
    ])
    def test_each_failure_names_the_field(self, kwargs, said):
        from kernelcli import Kernel

        given = {"name": "k", "matrix": [[1, 2]], **kwargs}
        with pytest.raises(InvalidKernel, match=said):
            Kernel(**given)

    def test_the_kernels_kernelcli_builds_are_taken(self, tmp_path):
        from kernelcli import Kernel, list_kernels, load_kernel

        assert len(list_kernels()) >= 40
        for spec in ("gaussian:1.5", "box:3", "3x1: 1 2 1", "[[1, 2]]", "sobel_v"):
            k = load_kernel(spec)
            assert Kernel(k.name, k.matrix, k.family, k.description, k.source, k.scale, k.path) == k
        np.save(tmp_path / "My Kernel.npy", np.ones((3, 3)))  # a file's kernel is named after the file
        assert load_kernel(str(tmp_path / "My Kernel.npy")).name == "My Kernel"
        assert Kernel("c3", np.ones((2, 3, 3))).shape == (2, 3, 3)  # as a 3-D kernel file's C x f x f
        np.save(tmp_path / "deep.npy", np.ones((300, 3, 3)))  # 255 a side bounds rows and columns, not a .npy's planes
        assert load_kernel(str(tmp_path / "deep.npy"), max_ndim=3).shape == (300, 3, 3)


class TestAWeightBelowTheFloatRangeIsRefused:
    """A weight typed non-zero that float64 reads as 0 (1e-400) became 0 in silence from a JSON file, a JSON list and
    the inline form ([[1e-400]] ran as an all-zero kernel, exit 0), where 1e400 is refused (finding 5)."""

    BELOW = r"is {} \(below the float range\), expected a number float64 holds \(at least 4.9e-324 in magnitude, or 0\)$"

    @pytest.mark.parametrize("spec, where, typed", [
        ("[[1e-400, 1]]", "matrix: row 1, column 1", "1e-400"),
        ("[[1, 1], [1, -2.5E-330]]", "matrix: row 2, column 2", "-2.5E-330"),
        ("1x2: 1e-400 1", "row 1, column 1", "1e-400"),
        ("3x2: 1 1 1 1 1e-999 1", "row 2, column 2", "1e-999"),
        ("1 1 1e-400 1", "cell 3", "1e-400"),
    ])
    def test_inline_and_json_list(self, spec, where, typed):
        from kernelcli import load_kernel

        with pytest.raises(InvalidKernel, match=f"{where} " + self.BELOW.format(typed.replace("+", r"\+"))):
            load_kernel(spec)

    def test_a_kernel_file_and_its_scale(self, tmp_path):
        from kernelcli import load_kernel

        (tmp_path / "tiny.json").write_text('{"name": "tiny", "matrix": [[1e-400, 1]]}')
        with pytest.raises(InvalidKernel, match=r"tiny\.json: matrix: row 1, column 1 " + self.BELOW.format("1e-400")):
            load_kernel(str(tmp_path / "tiny.json"))
        (tmp_path / "s.json").write_text('{"name": "s", "matrix": [[1, 1]], "scale": 1e-400}')
        with pytest.raises(InvalidKernel, match=r's\.json: scale: is 1e-400 \(below the float range\), expected a finite'):
            load_kernel(str(tmp_path / "s.json"))

    @pytest.mark.parametrize("spec, first", [("[[1e-320, 1]]", 1e-320), ("1x2: 5e-324 1", 5e-324), ("[[0e-999, 1]]", 0.0),
                                             ("2: 0.0e-500 1 1 1", 0.0), ("[[-0.000e5, 1]]", 0.0)])
    def test_a_subnormal_that_keeps_its_value_and_a_typed_zero_are_taken(self, spec, first):
        from kernelcli import load_kernel

        assert load_kernel(spec).array().ravel()[0] == first

    def test_the_command_line_exits_3(self, tmp_path, cli):
        (tmp_path / "x.csv").write_text("1,2\n3,4\n")
        done = cli("convolve", "x.csv", "-k", "[[1e-400]]", "-q", cwd=tmp_path)
        assert done.returncode == 3 and "(below the float range)" in done.stderr and done.stdout == ""


class TestTorchTensorsAndKernelNames:
    """A torch tensor that requires grad, or a bfloat16 one, raised torch's own RuntimeError/TypeError from every
    array argument; conv2d(x, "sobel_v") said only "text values, expected real numbers" (finding 6)."""

    @pytest.mark.parametrize("call, name", [
        (lambda t: __import__("kernelcli").conv2d(t, [[1.0]]), "x"),
        (lambda t: __import__("kernelcli").conv2d(np.ones((4, 4)), t[:3, :3]), "kernel"),
        (lambda t: __import__("kernelcli").pool2d(t, 2), "x"),
        (lambda t: __import__("kernelcli").conv3d(t[None].repeat(2, 1, 1), np.ones((1, 1, 1))), "volume"),
        (lambda t: __import__("kernelcli").conv_layer(np.ones((4, 4, 1)), t[:3, :3][None, None]), "weights"),
        (lambda t: __import__("kernelcli").learn_kernel(np.random.default_rng(0).random((4, 4)), t), "target"),
    ])
    def test_refused_naming_the_argument_and_the_fix(self, call, name):
        torch = pytest.importorskip("torch")
        with pytest.raises(UsageError, match=rf"^{name}: a torch tensor that requires grad \(kernelcli computes no "
                                             rf"gradients\); pass {name}\.detach\(\)$"):
            call(torch.ones(4, 4, requires_grad=True))
        with pytest.raises(UsageError, match=rf"^{name}: a torch\.bfloat16 tensor, a dtype numpy does not hold; pass "
                                             rf"{name}\.float\(\) \(float32\) or {name}\.double\(\) \(float64\)$"):
            call(torch.ones(4, 4, dtype=torch.bfloat16))

    def test_tensors_numpy_holds_are_taken(self):
        torch = pytest.importorskip("torch")
        from kernelcli import conv2d

        for dtype in (torch.float16, torch.float32, torch.int64):
            assert np.array_equal(conv2d(torch.ones(4, 4, dtype=dtype), [[1.0]]), conv2d(np.ones((4, 4)), [[1.0]]))
        assert np.array_equal(conv2d(torch.ones(4, 4, requires_grad=True).detach(), [[1.0]]), np.ones((4, 4)))

    def test_a_kernel_name_points_to_load_kernel(self):
        from kernelcli import conv2d, load_kernel

        with pytest.raises(UsageError, match=r"^kernel: the text 'sobel_v', expected real numbers; a kernel named or "
                                             r"written as text is read by load_kernel: pass load_kernel\('sobel_v'\)$"):
            conv2d(np.ones((4, 4)), "sobel_v")
        assert conv2d(np.ones((4, 4)), load_kernel("sobel_v")).shape == (4, 4)


class TestAHandMadeKernelOfPythonsAndNumpysNumbers:
    """Review 53 #1, #2: after the Kernel's checks, a Python int past float64's range was OverflowError (a traceback;
    before, a UsageError), and scale=np.int64(2) or np.float32(2) was refused as "expected a number" (it worked)."""

    @pytest.mark.parametrize("kwargs, said", [
        ({"matrix": [[1, 10**400]]}, "matrix: row 1, column 2 is an integer of 401 digits (beyond the float range)"),
        ({"matrix": [[1, -(10**5000)]]}, "matrix: row 1, column 2 is an integer of 5001 digits (beyond the float range)"),
        ({"matrix": [[1.0]], "scale": 10**400}, "scale: is an integer of 401 digits (beyond the float range)"),
    ])
    def test_an_int_past_the_float_range_is_refused_naming_its_field(self, kwargs, said):
        from kernelcli import Kernel

        with pytest.raises(InvalidKernel, match=said.replace("(", r"\(").replace(")", r"\)")):
            Kernel("a", **kwargs)

    @pytest.mark.parametrize("scale", [np.int64(2), np.float32(2.0), np.uint8(2), 2, 2.0])
    def test_a_numpy_scale_divides_as_pythons(self, scale):
        from kernelcli import Kernel

        k = Kernel("a", [[1, 2]], scale=scale)
        assert k.scale == 2.0 and k.array().tolist() == [[0.5, 1.0]]
        assert Kernel("b", np.array([[1, 2]]), scale=np.str_("sum")).array().tolist() == [[1 / 3, 2 / 3]]


@pytest.mark.parametrize("args, said", [
    (["convolve", "x.npy", "-k", "box:3", "--pad-value", "1e-400"],
     "error: Invalid value for '--pad-value' / '--value': '1e-400' (below the float range), expected a number float64 holds"),
    (["pad", "x.npy", "-p", "1", "--pad-value", "-2.5E-330"],
     "error: Invalid value for '--pad-value' / '--value': '-2.5E-330' (below the float range)"),
    (["convolve", "x.npy", "-k", "box:3", "-k", "box:3", "--bias", "1,1e-400"],
     "error: Invalid value for '--bias': '1,1e-400': value 2 is 1e-400 (below the float range), expected a number float64 holds"),
])
def test_a_fill_or_bias_typed_non_zero_that_reads_as_0_is_refused(tmp_path, args, said):
    """Review 53 #6: --pad-value 1e-400 filled 0s (exit 0, no note) and --bias 1e-400 added 0, where 1e400 is refused
    and a kernel weight of 1e-400 is (finding 5); a subnormal that keeps a value and a typed 0 are taken."""
    from conftest import run_in_process

    np.save(tmp_path / "x.npy", np.ones((5, 5)))
    r = run_in_process(*args, "-o", "o.npy", cwd=tmp_path)
    assert r.returncode == 2 and r.stderr.startswith(said), r.stderr
    assert not (tmp_path / "o.npy").exists()
    for kept in (["--pad-value", "1e-320"], ["--pad-value", "0e-999"], ["--bias", "1e-320"]):
        ok = run_in_process("convolve", "x.npy", "-k", "box:3", *kept, "-o", "k.npy", "--force", "-q", cwd=tmp_path)
        assert ok.returncode == 0, ok.stderr
