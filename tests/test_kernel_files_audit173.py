"""Audit 173: the kernel catalogue and the kernel syntax.

1. ``--flip`` has two meanings, each right for its layout, and says which: a volume's 3-D kernel (``--layout zyx``)
   is flipped along z, y and x (scipy.ndimage.convolve); a channels x f x f kernel (or ``--weights``) on an image
   along y and x alone, its channels keeping their order (PyTorch's conv_transpose).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import scipy.ndimage as ndi

from conftest import SAMPLES, documentation, run_in_process

RNG = np.random.default_rng(3)
STACK = RNG.integers(0, 10, (3, 6, 7)).astype(float)
K333 = RNG.integers(-3, 4, (3, 3, 3)).astype(float)
CHANNELS_NOTE = "--flip: k333 (3x3x3) is flipped along y and x; its channels keep their order (--layout zyx flips z too)"


def _spatial_convolution_by_torch(stack: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """The valid true convolution summed over the channels, by PyTorch: conv_transpose2d flips the spatial axes alone."""
    torch = pytest.importorskip("torch")
    f = kernel.shape[-1]
    full = torch.nn.functional.conv_transpose2d(torch.from_numpy(stack)[None], torch.from_numpy(kernel.copy())[:, None])
    return full[0, 0, f - 1: stack.shape[1], f - 1: stack.shape[2]].numpy()


class TestFlipSaysWhichAxes:
    @pytest.fixture()
    def files(self, tmp_path):
        np.save(tmp_path / "s3.npy", STACK)
        np.save(tmp_path / "k333.npy", K333)
        np.save(tmp_path / "w.npy", K333[None])
        return tmp_path

    def test_a_volume_kernel_is_flipped_on_all_three_axes_as_scipy(self, files):
        r = run_in_process("convolve", "s3.npy", "--layout", "zyx", "-k", "k333.npy", "-p", "valid", "--flip", "-o", "z.npy",
                           cwd=files)
        assert r.returncode == 0, r.stderr
        assert np.array_equal(np.load(files / "z.npy")[0], ndi.convolve(STACK, K333, mode="constant")[1, 1:-1, 1:-1])
        assert "channels keep" not in r.stderr

    def test_a_kernel_with_channels_is_flipped_along_y_and_x_as_torch_and_says_so(self, files):
        r = run_in_process("convolve", "s3.npy", "--layout", "chw", "-k", "k333.npy", "-p", "valid", "--flip", "-o", "c.npy",
                           "--json", cwd=files)
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout)["notes"] == [CHANNELS_NOTE]
        assert np.allclose(np.load(files / "c.npy"), _spatial_convolution_by_torch(STACK, K333), rtol=0, atol=1e-9)

    def test_weights_are_flipped_as_torch_and_say_so(self, files):
        r = run_in_process("convolve", "s3.npy", "--layout", "chw", "--weights", "w.npy", "-p", "valid", "--flip", "-o", "w_o.npy",
                           cwd=files)
        assert r.returncode == 0, r.stderr
        assert "note: --flip: w (1x3x3x3) is flipped along y and x; its channels keep their order\n" in r.stderr
        assert np.allclose(np.load(files / "w_o.npy"), _spatial_convolution_by_torch(STACK, K333), rtol=0, atol=1e-9)

    def test_no_note_without_flip_or_without_channels(self, files):
        r = run_in_process("convolve", "s3.npy", "--layout", "chw", "-k", "k333.npy", "-p", "valid", "-o", "n.npy", cwd=files)
        assert r.returncode == 0 and "flipped" not in r.stderr, r.stderr
        r = run_in_process("convolve", "s3.npy", "--layout", "chw", "-k", "sobel_v", "--flip", "-o", "s.npy", cwd=files)
        assert r.returncode == 0 and "flipped" not in r.stderr, r.stderr

    def test_the_api_gives_the_same_two_meanings(self):
        from kernelcli.banks import filter_bank
        from kernelcli.volumes import conv3d

        image = np.moveaxis(STACK, 0, -1)
        maps = filter_bank(image, [K333], padding="valid", flip=True).maps[..., 0]
        assert np.allclose(maps, _spatial_convolution_by_torch(STACK, K333), rtol=0, atol=1e-9)
        assert np.array_equal(conv3d(STACK, K333, padding="valid", flip=True)[0],
                              ndi.convolve(STACK, K333, mode="constant")[1, 1:-1, 1:-1])

    def test_the_help_and_the_readme_say_both(self):
        from kernelcli.cli.options import HELP

        assert "its channels keeping their order" in HELP["flip"] and "along z, y and x" in HELP["flip"]

        readme = " ".join(documentation().split())
        assert "Under `--flip` such a kernel (and `--weights`) is flipped along y and x" in readme


class TestAScaleThatZeroesWeightsIsRefused:
    """2. A scale that turns non-zero weights into 0 (below the float range) is refused, as one that overflows is."""

    ONE = "makes 1 of 1 non-zero weight 0 (below the float range), the first at (0, 0): 1e-30; use a scale that keeps them"

    def test_a_file_scale(self, tmp_path):
        (tmp_path / "under.json").write_text('{"name":"x","matrix":[[1e-30]],"scale":1e300}')
        for args in (["convolve", str(SAMPLES / "example1.csv"), "-k", "./under.json", "-q"], ["kernels", "show", "./under.json"]):
            r = run_in_process(*args, cwd=tmp_path)
            assert r.returncode == 3 and r.stdout == "", (r.stdout, r.stderr)
            assert r.stderr == f"error: ./under.json: scale: is 1e+300: dividing the matrix by it {self.ONE}\n"

    def test_a_file_scale_that_zeroes_some_weights(self, tmp_path):
        (tmp_path / "under3.json").write_text('{"name":"x","matrix":[[3, 1e-30, 2e-30]],"scale":1e300}')
        r = run_in_process("kernels", "show", "./under3.json", "--json", cwd=tmp_path)
        assert r.returncode == 3 and json.loads(r.stdout)["code"] == 3, r.stdout
        assert "makes 2 of 3 non-zero weights 0 (below the float range), the first at (0, 1): 1e-30" in r.stderr

    def test_a_volume_kernel_file_and_sum(self, tmp_path):
        from kernelcli.catalog import Kernel
        from kernelcli.errors import InvalidKernel

        with pytest.raises(InvalidKernel, match=r"is 1e\+300: dividing the matrix by it makes 1 of 2 non-zero weights 0 "
                                                r"\(below the float range\), the first at \(1, 0, 0\): 1e-30;"):
            Kernel("x", (((2.0,),), ((1e-30,),)), scale=1e300)
        with pytest.raises(InvalidKernel, match=r'is "sum": dividing the matrix by it makes 1 of 2 non-zero weights 0'):
            Kernel("x", ((1e308, 1e-300),), scale="sum")

    def test_kernel_scale(self, tmp_path):
        r = run_in_process("convolve", str(SAMPLES / "example1.csv"), "-k", "1x1: 1e-30", "--kernel-scale", "1e-300", "-q",
                           cwd=tmp_path)
        assert r.returncode == 3 and r.stdout == "", r.stdout
        assert r.stderr == f"error: inline_1x1: --kernel-scale 1e-300 {self.ONE}\n"

    def test_kernel_scale_in_the_api_words(self):
        from kernelcli.catalog import load_kernel
        from kernelcli.errors import InvalidKernel
        from kernelcli.kernel_syntax import parse_kernel_scale, scale_kernel

        with pytest.raises(InvalidKernel, match=r"--kernel-scale 1e-300 makes 1 of 2 non-zero weights 0 .* at \(0, 1\): 1e-30;"):
            scale_kernel(load_kernel("[[3, 1e-30]]"), parse_kernel_scale("1e-300"))
        assert scale_kernel(load_kernel("[[3, 1e-30]]"), parse_kernel_scale("1e-290")).matrix[0][1] == 1e-320  # (kept)


class TestImageMagicksOtherInlineForms:
    """3. ``'3X3: ...'`` and one bare value are ImageMagick kernels (``-morphology Convolve``), not unknown names."""

    @pytest.mark.parametrize(("spec", "expected"), [
        ("3X3: 1 2 3 4 5 6 7 8 9", [[1, 2, 3], [4, 5, 6], [7, 8, 9]]),
        ("2X1: 1 -1", [[1, -1]]),
        ("2.5", [[2.5]]),
        ("1", [[1]]),
        (" -1e3 ", [[-1000]]),
    ])
    def test_read_as_imagemagick_reads_them(self, spec, expected):
        from kernelcli.catalog import load_kernel

        kernel = load_kernel(spec)
        assert kernel.array().tolist() == expected and kernel.name == f"inline_{len(expected[0])}x{len(expected)}"

    @pytest.mark.parametrize("spec", ["3X3: 1 2 3 4 5 6 7 8 9", "2.5", "-1"])
    def test_the_same_kernel_as_imagemagick_shows(self, spec):
        from conftest import imagemagick

        convert = imagemagick() or pytest.skip("no ImageMagick")
        import subprocess

        shown = subprocess.run([convert, "xc:", "-define", "morphology:showKernel=1", "-morphology", "Convolve", spec, "null:"],
                               capture_output=True, text=True, timeout=60).stderr.splitlines()
        rows = [[float(v) for v in line.split(":", 1)[1].split()] for line in shown if line.strip()[:1].isdigit()]
        from kernelcli.catalog import load_kernel

        assert load_kernel(spec).array().tolist() == rows

    def test_on_the_command_line(self, tmp_path):
        r = run_in_process("convolve", str(SAMPLES / "example1.csv"), "-k", "3X3: 0 0 0 0 1 0 0 0 0", "-q", cwd=tmp_path)
        s = run_in_process("convolve", str(SAMPLES / "example1.csv"), "-k", "1", "-q", cwd=tmp_path)
        assert r.returncode == s.returncode == 0 and r.stdout == s.stdout != "", (r.stderr, s.stderr)
        r = run_in_process("kernels", "show", "2.5", "-q", cwd=tmp_path)
        assert r.returncode == 0 and r.stdout.strip() == "2.5", r.stderr

    def test_names_that_are_no_number_stay_names(self):
        from kernelcli.catalog import load_kernel
        from kernelcli.errors import KernelNotFound

        for name in ("nan", "e", "inf"):
            with pytest.raises(KernelNotFound, match=f"unknown kernel '{name}'"):
                load_kernel(name)

    def test_a_number_that_is_also_a_kernel_name_reads_two_ways(self, tmp_path):
        (tmp_path / "kp").mkdir()
        (tmp_path / "kp" / "num.json").write_text('{"family":"num","kernels":[{"name":"1","matrix":[[1,0,-1]]}]}')
        env = {"KERNELCLI_KERNEL_PATH": str(tmp_path / "kp")}
        r = run_in_process("kernels", "show", "1", cwd=tmp_path, env=env)
        assert r.returncode == 3, r.stderr
        assert r.stderr.startswith("error: '1' reads two ways: the catalogue kernel 1 (in "), r.stderr
        assert f"give {tmp_path / 'kp' / 'num.json'}:1 for the kernel, or '1x1: 1' for the value" in r.stderr
        r = run_in_process("kernels", "show", f"{tmp_path / 'kp' / 'num.json'}:1", "-q", cwd=tmp_path, env=env)
        assert r.returncode == 0 and r.stdout.split() == ["1", "0", "-1"], (r.stdout, r.stderr)


class TestTextFieldsShowAsWritten:
    """4. A kernel's description and source are refused with a control character or a Unicode line break in them, as a
    line break is: a terminal title set by ``kernels show``, a bell, NUL, a piped table cut at U+2028 were taken."""

    @pytest.mark.parametrize(("text", "said"), [
        ("src \x1b]0;title\x07", r"the control character \x1b at column 5"),
        ("bell\x07", r"the control character \x07 at column 5"),
        ("nul\x00", r"the control character \x00 at column 4"),
        ("tab\there", r"the control character \t at column 4"),
        ("NEL\x85", r"the control character \x85 at column 4"),
        ("cut \u2028 here", r"the line separator \u2028 at column 5"),
        ("par\u2029", r"the paragraph separator \u2029 at column 4"),
    ])
    @pytest.mark.parametrize("field", ["description", "source"])
    def test_refused_naming_the_field_and_the_character(self, tmp_path, field, text, said):
        (tmp_path / "kp").mkdir()
        (tmp_path / "kp" / "esc.json").write_text(json.dumps({"family": "esc", "kernels": [{"name": "e1", "matrix": [[1]],
                                                                                         field: text}]}))
        r = run_in_process("kernels", "show", "./kp/esc.json:e1", cwd=tmp_path)
        assert r.returncode == 3 and r.stdout == "", r.stdout
        assert r.stderr == (f"error: ./kp/esc.json: kernels[0].{field}: holds {said}; expected one line of text, shown as "
                            "written (no control characters)\n")

    def test_a_catalogue_file_with_one_is_skipped_with_the_reason_escaped(self, tmp_path):
        (tmp_path / "esc.json").write_text(json.dumps({"family": "esc", "kernels": [{"name": "e1", "matrix": [[1]],
                                                                                    "source": "src \x1b]0;title\x07"}]}))
        r = run_in_process("kernels", "--family", "basic", cwd=tmp_path, env={"KERNELCLI_KERNEL_PATH": str(tmp_path)})
        assert r.returncode == 0 and "\x1b" not in r.stdout + r.stderr and "\x07" not in r.stdout + r.stderr
        assert r"kernels[0].source: holds the control character \x1b at column 5" in r.stderr

    def test_text_a_terminal_shows_is_taken(self, tmp_path):
        from kernelcli.catalog import load_kernel

        text = {"description": "3 × 3, ½ — naïve “quotes”\u00a0ok", "source": "Gonzalez–Woods, Fig. 10.21"}
        (tmp_path / "ok.json").write_text(json.dumps({"name": "ok", "matrix": [[1]], **text}))
        kernel = load_kernel(str(tmp_path / "ok.json"))
        assert (kernel.description, kernel.source) == (text["description"], text["source"])

    def test_the_api_and_the_schema_refuse_them_too(self, tmp_path):
        from kernelcli.catalog import catalog_dir, load_kernel
        from kernelcli.errors import InvalidKernel

        (tmp_path / "one.json").write_text(json.dumps({"name": "e1", "matrix": [[1]], "description": "a\u2028b"}))
        with pytest.raises(InvalidKernel, match=r"description: holds the line separator \\u2028 at column 2"):
            load_kernel(str(tmp_path / "one.json"))
        jsonschema = pytest.importorskip("jsonschema")
        schema = jsonschema.Draft202012Validator(json.loads((catalog_dir() / "kernel.schema.json").read_text()))
        assert schema.is_valid({"name": "ok", "matrix": [[1]], "description": "3 × 3 naïve"})
        for text in ("a\x1bb", "a\u2028b", "a\x85b", "a\tb", "a\nb"):
            assert not schema.is_valid({"name": "ok", "matrix": [[1]], "source": text}), text


class TestNotFiniteNamedByPosition:
    """5. A NaN or infinity in a .npy kernel, ``--weights`` or ``--bias-file`` is named by its position, with the count,
    as a JSON list's cell and an int64 past 2**53 are."""

    def test_a_npy_kernel(self, tmp_path):
        k = np.ones((3, 3))
        k[1, 2] = np.nan
        np.save(tmp_path / "nank.npy", k)
        np.save(tmp_path / "r.npy", np.random.default_rng(0).random((9, 11)))
        r = run_in_process("convolve", "r.npy", "-k", "nank.npy", "-q", cwd=tmp_path)
        assert (r.returncode, r.stdout) == (3, "")
        assert r.stderr == "error: nank.npy: the weight at (1, 2) is nan, expected a finite number (1 value is NaN or infinite)\n"

    def test_weights_and_bias(self, tmp_path):
        w = np.ones((2, 1, 3, 3))
        w[0, 0, 1, 1], w[1, 0, 0, 0] = np.inf, np.nan
        np.save(tmp_path / "infw.npy", w)
        np.save(tmp_path / "okw.npy", np.ones((2, 1, 3, 3)))
        np.save(tmp_path / "b.npy", np.array([1.0, -np.inf]))
        np.save(tmp_path / "r.npy", np.random.default_rng(0).random((9, 11)))
        r = run_in_process("convolve", "r.npy", "--weights", "infw.npy", "-q", cwd=tmp_path)
        assert r.returncode == 3 and r.stderr == ("error: infw.npy: the value at (0, 0, 1, 1) is inf, expected a finite number "
                                                  "(2 values are NaN or infinite)\n"), r.stderr
        r = run_in_process("convolve", "r.npy", "--weights", "okw.npy", "--bias-file", "b.npy", "-q", cwd=tmp_path)
        assert r.returncode == 3 and r.stderr == ("error: b.npy: the value at (1,) is -inf, expected a finite number "
                                                  "(1 value is NaN or infinite)\n"), r.stderr

    def test_the_api_reads_them_alike(self, tmp_path):
        from kernelcli.catalog import load_kernel
        from kernelcli.errors import InvalidKernel
        from kernelcli.layer_files import read_weights

        k = np.ones((2, 3, 3))
        k[1, 0, 2] = -np.inf
        np.save(tmp_path / "k3.npy", k)
        with pytest.raises(InvalidKernel, match=r"k3\.npy: the weight at \(1, 0, 2\) is -inf, expected a finite number \(1 value"):
            load_kernel(str(tmp_path / "k3.npy"), max_ndim=3)
        np.save(tmp_path / "w.npy", k[None])
        with pytest.raises(InvalidKernel, match=r"w\.npy: the value at \(0, 1, 0, 2\) is -inf"):
            read_weights(tmp_path / "w.npy")


class TestTheNameAfterTheColon:
    """6. ``FILE.json:`` with an empty or malformed NAME names that fault, not "no such file", and the path as typed."""

    HOLDS = "after ':' give one of: s, g"
    RULE = "(lower-case letters, digits and _ ([a-z0-9_]+); capitals and - are read as lower case and _)"

    @pytest.fixture()
    def here(self, tmp_path):
        (tmp_path / "fam.json").write_text(json.dumps({"family": "mine", "kernels": [{"name": "s", "matrix": [[1, 0, -1]]},
                                                                                    {"name": "g", "matrix": [[1, 2, 1]]}]}))
        return tmp_path

    @pytest.mark.parametrize(("spec", "said"), [
        ("./fam.json:", "./fam.json: ''"),
        ("fam.json:", "fam.json: ''"),
        ("./fam.json:my kernel", "./fam.json: 'my kernel'"),
    ])
    def test_a_malformed_name_is_named(self, here, spec, said):
        r = run_in_process("kernels", "show", spec, cwd=here)
        assert r.returncode == 3 and r.stderr == f"error: {said} is no kernel name {self.RULE}; {self.HOLDS}\n", r.stderr

    def test_the_path_as_typed(self, here):
        r = run_in_process("convolve", str(SAMPLES / "example1.csv"), "-k", "./fam.json", "-q", cwd=here)
        assert r.returncode == 3 and r.stderr.startswith("error: ./fam.json: holds 2 kernels (s, g)"), r.stderr
        r = run_in_process("kernels", "show", "./none.json:s", cwd=here)
        assert r.returncode == 3 and r.stderr == "error: ./none.json: no such file\n", r.stderr
        r = run_in_process("kernels", "show", "./fam.json:S", "-q", cwd=here)
        assert r.returncode == 0 and r.stdout.split() == ["1", "0", "-1"], r.stderr

    def test_the_api_says_the_same(self, here, monkeypatch):
        from kernelcli.catalog import load_kernel
        from kernelcli.errors import InvalidKernel

        monkeypatch.chdir(here)
        with pytest.raises(InvalidKernel, match=r"^\./fam\.json: '' is no kernel name .*after ':' give one of: s, g$"):
            load_kernel("./fam.json:")
