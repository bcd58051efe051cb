"""One vocabulary, round 5 (audit 168): a Python caller is told keyword arguments (``rescale='none'``), the command
line its options (``--rescale none``); one form per situation."""

from __future__ import annotations

import numpy as np
import pytest

import kernelcli as K
from kernelcli.errors import UsageError


class TestRescaleNoneOnAnIntegerImage:
    """#1: ``write_output(..., rescale='none')`` said "--rescale none needs a float output (.npy or .tif)", without the
    file, and the list left out .csv (and .zarr on the command line), which take none."""

    def test_the_api_says_the_keyword_and_starts_with_the_path(self, tmp_path):
        out = tmp_path / "a.png"
        with pytest.raises(UsageError) as got:
            K.write_output(out, np.random.default_rng(0).random((4, 4)), rescale="none")
        assert str(got.value) == f"{out}: rescale='none' needs a float output (.npy, .tif or .csv); this output is 8-bit"
        assert not out.exists()

    @pytest.mark.parametrize("given", [["big.npy", "-o", "t.png"], ["small.png", "-o", "t.jpg"]])
    def test_the_command_line_says_the_option_and_every_float_output(self, invoke, tmp_path, given):
        np.save(tmp_path / "big.npy", np.ones((8, 8)))
        K.write_output(tmp_path / "small.png", np.full((8, 8), 7, np.uint8))
        r = invoke("convolve", *given[:1], "-k", "box:1", *given[1:], "--rescale", "none")
        assert r.exit_code == 2, (r.exit_code, r.output)
        kinds = ".npy, .tif, .csv or .zarr" if given[0].endswith(".npy") else ".npy, .tif or .csv"  # (review 170 #2: a
        assert r.stderr.strip() == (f"error: {given[-1]}: --rescale none needs a float output ({kinds}); "  # PNG's call
                                    "this output is 8-bit"), r.stderr  # writes no .zarr)

    def test_a_float_output_takes_none(self, invoke, tmp_path):
        np.save(tmp_path / "big.npy", np.ones((8, 8)))
        for out in ("t.csv", "t.npy", "t.tif"):
            r = invoke("convolve", "big.npy", "-k", "box:1", "-o", out, "--rescale", "none")
            assert r.exit_code == 0, (out, r.output)


class TestLoadKernelNamesTheSpecAlone:
    """#2: ``load_kernel('1x2: 1 1e400')`` (the Python API) said "--kernel '1x2: 1 1e400': ...", an option it has not;
    ``load_kernel('gaussian:0')`` names the spec alone.  The command line keeps ``--kernel``."""

    @pytest.mark.parametrize("spec", ["1x2: 1 1e400", "[[1, 1e400]]", "[[1, 2", "2x2: 1 2 3"])
    def test_the_api_names_the_spec_alone(self, spec):
        from kernelcli.errors import InvalidKernel

        with pytest.raises(InvalidKernel) as got:
            K.load_kernel(spec)
        assert str(got.value).startswith(f"'{spec}': ") and "--kernel" not in str(got.value), str(got.value)

    @pytest.mark.parametrize("spec", ["1x2: 1 1e400", "[[1, 1e400]]"])
    def test_the_command_line_puts_its_option_first(self, invoke, tmp_path, spec):
        np.save(tmp_path / "x.npy", np.ones((4, 4)))
        r = invoke("convolve", "x.npy", "-k", spec, "-o", "y.npy")
        assert r.exit_code == 3 and r.stderr.startswith(f"error: --kernel '{spec}': "), (r.exit_code, r.stderr)

    LIST = "3x3: 1,0,-1 2,0,-2 1,0,-1; 3x3: 1 1 1 1 1 1 1 1 1"

    def test_a_list_of_kernels_gets_advice_per_caller(self, invoke, tmp_path):
        # (load_kernel of a ';' list told a Python caller to "repeat --kernel ... or use --then")
        from kernelcli.errors import InvalidKernel

        with pytest.raises(InvalidKernel) as got:
            K.load_kernel(self.LIST)
        assert "--" not in str(got.value) and "load each one" in str(got.value), str(got.value)
        np.save(tmp_path / "x.npy", np.ones((4, 4)))
        r = invoke("convolve", "x.npy", "-k", self.LIST, "-o", "y.npy")
        assert r.exit_code == 3 and r.stderr == (f"error: --kernel '{self.LIST}': a list of kernels (';'); kernelcli takes "
                                                 "one kernel per --kernel: repeat --kernel for a filter bank, or use --then "
                                                 "for one after the other\n"), r.stderr


class TestPadPaddingInOneForm:
    """#3: ``pad -p abc`` was refused in Click's form, ``pad -p same``, ``-p valid`` and three widths on a --layout zyx
    array in a second ("--padding 'same': expected ..."), where pool refuses ``same`` in Click's form."""

    @pytest.mark.parametrize(("given", "layout"), [("abc", None), ("same", None), ("valid", None), ("1,1,1", "zyx"),
                                                   ("1,1,1,1,1,1", "zyx")])
    def test_every_refused_value_has_the_click_form(self, invoke, tmp_path, given, layout):
        np.save(tmp_path / "x.npy", np.ones((3, 4, 4) if layout else (4, 4)))
        r = invoke("pad", "x.npy", "-p", given, *(["--layout", layout] if layout else []), "-o", "y.npy")
        assert r.exit_code == 2, (r.exit_code, r.output)
        line = r.stderr.strip()
        assert line.startswith(f"error: Invalid value for '--padding' / '-p' / '--p': '{given}': "), line
        assert line.endswith("(see 'kernelcli pad -h')") and "\n" not in line, line
        assert not (tmp_path / "y.npy").exists()


class TestUnsupportedOutputType:
    """#4: a 2-D result to ``t.nii.gz`` was refused as "unsupported output type '.gz'", where the volume message names
    '.nii.gz' as one type; and the command line's list left out .zarr, which it writes (the API's does not)."""

    @pytest.mark.parametrize(("out", "typed"), [("t.nii.gz", ".nii.gz"), ("t.NII.GZ", ".nii.gz"), ("t.nii", ".nii"),
                                                ("t.xyz", ".xyz"), ("t", "(no extension)")])
    @pytest.mark.parametrize("command", [["convolve", "-k", "box:3"], ["pad", "-p", "1"]])
    def test_the_command_line_names_the_type_as_typed_and_lists_zarr(self, invoke, tmp_path, out, typed, command):
        np.save(tmp_path / "x.npy", np.ones((6, 6)))
        r = invoke(command[0], "x.npy", *command[1:], "-o", out)
        assert r.exit_code == 2, (r.exit_code, r.output)
        line = r.stderr.strip()
        assert line.startswith(f"error: {out}: unsupported output type '{typed}'"), line
        assert line.endswith("expected one of .npy, .zarr"), line  # (a float .npy, maybe colour: review 170 #2)
        assert ("(a volume's output type)" in line) == typed.startswith(".nii"), line
        assert not (tmp_path / out).exists()

    @pytest.mark.parametrize(("out", "typed"), [("w.nii.gz", ".nii.gz"), ("w.zarr", ".zarr"), ("w.xyz", ".xyz")])
    def test_the_api_names_the_type_as_typed_and_lists_what_write_output_writes(self, tmp_path, out, typed):
        with pytest.raises(UsageError) as got:
            K.write_output(tmp_path / out, np.ones((4, 4)))
        assert str(got.value).startswith(f"{tmp_path / out}: unsupported output type '{typed}'"), str(got.value)
        assert str(got.value).endswith("expected one of .csv, .npy, .tif, .tiff"), str(got.value)  # (a float result)


class TestApiRangeRefusalsInOneShape:
    """#6: LearnOptions refused a value out of its keyword's range in three shapes ("batch_size must be an integer >= 1,
    got 0", "invalid lr 0: expected a number > 0", "invalid seed -1: expected a whole number >= 0"); conv2d called its
    pad_value "pad value"; pad2d called its p "padding" in one refusal and "p=" in the other."""

    @pytest.mark.parametrize(("given", "said"), [
        ({"batch_size": 0}, "batch_size must be an integer >= 1, got 0"),
        ({"lr": 0}, "lr must be a number > 0, got 0"),
        ({"lr": "a"}, "lr must be a number > 0, got 'a'"),
        ({"seed": -1}, "seed must be an integer >= 0, got -1"),
        ({"seed": 1.5}, "seed must be an integer >= 0, got 1.5"),
        ({"gamma": 2}, "gamma must be a number with 0 < gamma <= 1 (the StepLR factor), got 2"),
        ({"momentum": 1}, "momentum must be a number with 0 <= momentum <= 0.999, got 1"),
    ])
    def test_learn_options_say_name_must_be_got_value(self, given, said):
        from kernelcli.learn_options import LearnOptions

        with pytest.raises(UsageError) as got:
            LearnOptions(**given)
        assert str(got.value) == said

    def test_learn_options_size_past_the_largest_side(self):
        from kernelcli.learn_options import LearnOptions
        from kernelcli.limits import MAX_KERNEL_SIDE

        with pytest.raises(UsageError) as got:
            LearnOptions(size=MAX_KERNEL_SIDE + 1)
        side = MAX_KERNEL_SIDE + 1
        assert str(got.value) == f"size must be at most {MAX_KERNEL_SIDE} per side, got {side}x{side}"

    @pytest.mark.parametrize("call", [
        lambda x: K.conv2d(x, np.ones((3, 3)), pad_value=float("nan")),
        lambda x: K.pad2d(x, 1, pad_value=float("nan")),
        lambda x: __import__("kernelcli.learn_options").learn_options.LearnOptions(pad_value=float("nan")),
    ], ids=["conv2d", "pad2d", "LearnOptions"])
    def test_pad_value_is_named_as_the_keyword_in_one_shape(self, call):
        with pytest.raises(UsageError) as got:
            call(np.ones((5, 5)))
        assert str(got.value) == "pad_value nan: expected a finite number"

    @pytest.mark.parametrize(("p", "said"), [(-1, "invalid p -1: pad widths must be >= 0"),
                                             ("same", "invalid p 'same': 'same' and 'valid' are conv2d's paddings"),
                                             ("full", "invalid p 'full': expected ")])
    def test_pad2d_names_its_p(self, p, said):
        with pytest.raises(UsageError) as got:
            K.pad2d(np.ones((4, 4)), p)
        assert str(got.value).startswith(said), str(got.value)

    def test_conv2d_keeps_its_padding(self):
        with pytest.raises(UsageError, match=r"^invalid padding -1: pad widths must be >= 0$"):
            K.conv2d(np.ones((4, 4)), np.ones((3, 3)), padding=-1)


class TestAWrongOutputExtensionInOneForm:
    """#5: one situation, an output whose extension cannot take the result, was worded three ways: "unsupported output
    type 'X': expected one of ...", "a gallery's sheet is a picture: expected one of ..." (the extension not said),
    "a learned kernel is written as a .json kernel file; got 'X'"."""

    PICTURES = ".png, .jpg, .jpeg, .bmp, .tif, .tiff"

    @pytest.mark.parametrize(("args", "out", "said"), [
        (["convolve", "x.npy", "-k", "box:3", "-o"], "t.xyz",
         "unsupported output type '.xyz': expected one of .npy, .zarr"),
        (["gallery", "x.npy", "-o"], "t.xyz", f"unsupported output type '.xyz' for a gallery's sheet (a picture): expected one of {PICTURES}"),
        (["gallery", "x.npy", "-o"], "t.npy", f"unsupported output type '.npy' for a gallery's sheet (a picture): expected one of {PICTURES}"),
        (["convolve", "x.npy", "-k", "box:3", "-o", "a.npy", "--montage"], "t.xyz",
         f"unsupported output type '.xyz' for a montage (a picture): expected one of {PICTURES}"),
        (["learn", "x.npy", "x.npy", "-f", "3", "-o"], "t.xyz", "unsupported output type '.xyz' for a learned kernel: expected .json"),
        (["learn", "x.npy", "x.npy", "-f", "3", "-o"], "t", "unsupported output type '(no extension)' for a learned kernel: expected .json"),
        (["learn", "x.npy", "x.npy", "-f", "3", "--method", "gd", "--epochs", "1", "--plot"], "t.xyz",
         "unsupported output type '.xyz' for the loss curve: expected .png"),
    ], ids=["convolve", "gallery", "gallery-npy", "montage", "learn", "learn-bare", "plot"])
    def test_one_form(self, invoke, tmp_path, args, out, said):
        np.save(tmp_path / "x.npy", np.random.default_rng(0).random((12, 12)))
        r = invoke(*args, out)
        assert r.exit_code == 2, (r.exit_code, r.output)
        shown = f"{args[-1]} {out}" if args[-1] in ("--montage", "--plot") else out  # (named as --report's are: audit 213 F4)
        assert r.stderr.strip() == f"error: {shown}: {said}", r.stderr
        assert not (tmp_path / out).exists()


def test_learn_names_plot_in_each_refusal_of_its_path(invoke, tmp_path):
    """Beside -o, 'p.png: already exists' did not say it was --plot's file (--montage's and --report's are named)."""
    np.save(tmp_path / "x.npy", np.random.default_rng(0).random((12, 12)))
    (tmp_path / "p.png").write_bytes(b"")
    r = invoke("learn", "x.npy", "x.npy", "-f", "3", "--method", "gd", "--epochs", "1", "-o", "k.json", "--plot", "p.png")
    assert (r.exit_code, r.stderr) == (4, "error: --plot p.png: already exists; use --force to overwrite it\n")
    assert not (tmp_path / "k.json").exists()
