"""Kernels anywhere (issue 12): ImageMagick's inline syntax, JSON lists, .npy files, --kernel-scale,
and KERNELCLI_KERNEL_PATH folders holding other JSON files."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import ndimage

from conftest import REPO, SAMPLES, imagemagick, pixels, run_cli, run_in_process
from kernelcli.catalog import load_kernel
from kernelcli.errors import InvalidKernel, UsageError
from kernelcli.kernel_syntax import inline_kernel, parse_kernel_scale, scale_kernel

SOBEL = [[1, 0, -1], [2, 0, -2], [1, 0, -1]]
IMAGEMAGICK = imagemagick()


class TestInlineSyntax:
    @pytest.mark.parametrize(
        "spec",
        [
            "3x3: 1,0,-1 2,0,-2 1,0,-1",
            "3x3:1,0,-1,2,0,-2,1,0,-1",
            "3: 1 0 -1 2 0 -2 1 0 -1",
            "3x3+1+1: 1,0,-1 2,0,-2 1,0,-1",
            "1,0,-1,2,0,-2,1,0,-1",
            "[[1,0,-1],[2,0,-2],[1,0,-1]]",
            " [[1, 0, -1], [2, 0, -2], [1, 0, -1]] ",
        ],
    )
    def test_every_form_gives_sobel(self, spec):
        k = load_kernel(spec)
        assert k.array().tolist() == load_kernel("sobel_v").array().tolist()

    def test_width_then_height_row_by_row(self):
        k = load_kernel("3x2: 1,2,3 4,5,6")
        assert k.shape == (2, 3) and k.matrix == ((1, 2, 3), (4, 5, 6)) and k.name == "inline_3x2"
        assert load_kernel("[[1,2,3],[4,5,6]]").name == "list_3x2"

    @pytest.mark.parametrize(
        "spec, header, description",
        [("3x2: 1,2,3 4,5,6", "inline_3x2  (custom, 2 rows x 3 columns,", "inline kernel 3x2 (ImageMagick syntax, width x height: 2 rows of 3)"),
         ("1x3: 1 2 3", "inline_1x3  (custom, 3 rows x 1 column,", "width x height: 3 rows of 1"),
         ("[[1,2,3],[4,5,6]]", "list_3x2  (custom, 2 rows x 3 columns,", "JSON list (2 rows of 3; the name gives width x height)"),
         ("3x3: 1,0,-1 2,0,-2 1,0,-1", "inline_3x3  (custom, 3x3,", "inline kernel 3x3 (ImageMagick syntax)")],
    )
    def test_show_states_a_non_square_size_one_way(self, invoke, spec, header, description):
        # the name is ImageMagick's WxH (inline_3x2) and the size was printed HxW (2x3): both ways round
        lines = invoke("kernels", "show", spec).stdout.splitlines()
        assert lines[0].startswith(header) and description in lines[1]

    def test_nan_and_dash_cells_weigh_nothing(self):
        assert load_kernel("3: 1,-,3 4,nan,6 7,8,9").matrix[:2] == ((1, 0, 3), (4, 0, 6))

    def test_even_sizes_take_imagemagicks_origin(self):
        assert load_kernel("2x2+0+0: 1 2 3 4").shape == (2, 2)
        assert load_kernel("4x4+1+1: " + " ".join("1" * 16)).shape == (4, 4)

    @pytest.mark.parametrize(
        ("spec", "words"),
        [
            ("3x3+0+0: 1,2,3 4,5,6 7,8,9", "origin +0+0 is not supported"),
            ("3x3@: 1,2,3 4,5,6 7,8,9", "rotated kernels"),
            ("3x1: 1,2,3;1x3: 1,2,3", "load_kernel reads one kernel: load each one"),
            ("3x3: 1,2", "3x3 needs 9 values"),
            ("1,2,3", "square number"),
            ("2x2: 1 2 x 4", "row 2, column 1 is 'x', expected a number"),
            ("2x2: 1 2 inf 4", "row 2, column 1 is inf, expected a finite number"),
            ("[[1,2],[3]]", "row 2 has 1 value, expected 2"),
            ("[1, 2", "not a JSON list"),
            # a JSON list's NaN, Infinity or 1e400 named where it stands, as in a kernel file (was "values are too large")
            ("[[NaN]]", "row 1, column 1 is NaN, expected a finite number"),
            ("[[1, 2], [3, -Infinity]]", "row 2, column 2 is -Infinity, expected a finite number"),
            ("[[1e400, 0]]", "row 1, column 1 is 1e400 .beyond the float range., expected a finite number"),
        ],
    )
    def test_refused_clearly(self, spec, words):
        with pytest.raises(InvalidKernel, match=words.replace("+", r"\+").replace("(", r"\(")):
            load_kernel(spec)

    @pytest.mark.parametrize("spec,what", [("gaussian:1mm", "a size in mm is"), ("gaussian:1.5vox", "a size in voxels is"),
                                           ("box:3mm", "a size in mm is"), ("fwhm:4mm", "a size in mm is"),
                                           ("box_3d", "a named 3-D kernel is"), ("sobel_3d_z", "a named 3-D kernel is")])
    def test_a_volume_kernel_on_an_image_says_so(self, spec, what, tmp_path):
        # it read "sigma '1mm' is not a number; write e.g. gaussian:1.5" or "unknown kernel 'box_3d'"
        with pytest.raises(InvalidKernel, match=f"^{spec}: {what} for a volume: a \\(Z, Y, X\\) array takes .*e.g. gaussian:1.5"):
            load_kernel(spec)  # (the API's words: where it builds the kernel for an array; audit 196 #3)
        r = run_in_process("convolve", str(SAMPLES / "phantom.png"), "-k", spec, "-o", "x.png", cwd=tmp_path)
        assert r.returncode == 3 and r.stderr.count("\n") == 1 and f"{what} for a volume input" in r.stderr

    def test_a_non_finite_float_from_python_is_named_too(self):
        from kernelcli.catalog import parse_kernels
        with pytest.raises(InvalidKernel, match="row 1, column 2 is nan, expected a finite number"):
            parse_kernels({"name": "a", "matrix": [[1.0, float("nan")]]}, origin="x")

    def test_names_and_files_are_not_inline(self):
        assert inline_kernel("sobel_v") is None and inline_kernel("gaussian:2") is None and inline_kernel("k.json") is None

    def test_cli_exit_3_before_reading_the_image(self, tmp_path):
        result = run_in_process("convolve", "missing.png", "-k", "3x3+0+0: 1 2 3 4 5 6 7 8 9", cwd=tmp_path)
        assert result.returncode == 3 and "origin +0+0" in result.stderr


class TestNpyKernels:
    def test_npy_file_is_a_kernel(self, tmp_path):
        np.save(tmp_path / "edge.npy", np.array(SOBEL, dtype=np.int16))
        k = load_kernel(str(tmp_path / "edge.npy"))
        assert k.name == "edge" and k.array().tolist() == SOBEL

    def test_three_d_only_for_layers(self, tmp_path):
        np.save(tmp_path / "k3.npy", np.ones((3, 2, 2)))
        with pytest.raises(InvalidKernel, match="2-D"):
            load_kernel(str(tmp_path / "k3.npy"))
        assert load_kernel(str(tmp_path / "k3.npy"), max_ndim=3).shape == (3, 2, 2)

    @pytest.mark.parametrize(
        ("array", "words"),
        [(np.array([1.0, np.nan]).reshape(1, 2), "NaN"), (np.array(["a"]).reshape(1, 1), "real numbers"), (np.ones(3), "2-D")],
    )
    def test_bad_npy(self, tmp_path, array, words):
        np.save(tmp_path / "bad.npy", array)
        with pytest.raises(InvalidKernel, match=words):
            load_kernel(str(tmp_path / "bad.npy"))

    def test_missing_npy_exits_3(self, tmp_path):
        assert run_in_process("convolve", str(SAMPLES / "example1.csv"), "-k", "nope.npy", cwd=tmp_path).returncode == 3

    def test_cli_npy_json_inline_and_name_agree(self, invoke, tmp_path):
        np.save(tmp_path / "k.npy", np.array(SOBEL, dtype=np.float64))
        outputs = []
        for spec in ("sobel_v", "k.npy", json.dumps(SOBEL), "3x3: 1,0,-1 2,0,-2 1,0,-1"):
            result = invoke("convolve", str(SAMPLES / "example1.csv"), "-k", spec, "-q")
            assert result.exit_code == 0, result.stderr
            outputs.append(result.stdout)
        assert len(set(outputs)) == 1


class TestKernelScale:
    def test_forms(self):
        assert {parse_kernel_scale(t).factor for t in ("2", "200%", "2.0")} == {2.0}
        assert parse_kernel_scale("0.5!").normalize == "!" and parse_kernel_scale("^").factor == 1.0
        for bad in ("", "x", "%", "!^", "1,50%", "0", "nan"):
            with pytest.raises(UsageError):
                parse_kernel_scale(bad)

    def test_imagemagick_semantics(self):
        sobel = load_kernel("sobel_v")
        assert scale_kernel(sobel, parse_kernel_scale("2")).array().tolist() == (2 * np.array(SOBEL)).tolist()
        # "!" on a zero-sum kernel: the positive weights add up to 1 (showkernel: 0.25 0.5 0.25)
        assert scale_kernel(sobel, parse_kernel_scale("!")).array()[:, 0].tolist() == [0.25, 0.5, 0.25]
        # "!" divides by |sum|: a kernel summing to -1 keeps its values (as convert -define showkernel=1 shows)
        skew = load_kernel("3x3: 1,0,-1 2,0,-3 1,0,-1")
        assert scale_kernel(skew, parse_kernel_scale("!")).matrix == skew.matrix
        # "^": positives to 1, negatives to -1
        hat = scale_kernel(skew, parse_kernel_scale("^")).array()
        assert hat[hat > 0].sum() == pytest.approx(1) and hat[hat < 0].sum() == pytest.approx(-1)
        assert scale_kernel(load_kernel("[[1,2,1]]"), parse_kernel_scale("sum")).matrix == ((0.25, 0.5, 0.25),)
        with pytest.raises(InvalidKernel, match="sums to 0"):
            scale_kernel(sobel, parse_kernel_scale("sum"))

    @settings(max_examples=40, deadline=None)
    @given(st.lists(st.integers(-9, 9), min_size=9, max_size=9), st.sampled_from(["sum", "!", "^", "3", "25%", "2!", "2^"]))
    def test_against_a_direct_formula(self, values, text):
        k = load_kernel("3x3: " + ",".join(map(str, values)))
        v = np.array(values, dtype=np.float64).reshape(3, 3)
        pos, neg, total = v[v > 0].sum(), v[v < 0].sum(), v.sum()
        scale = parse_kernel_scale(text)
        try:  # (an all-zero kernel under "!" was skipped here: it divided by 0, exit 70)
            got = scale_kernel(k, scale).array()
        except InvalidKernel:
            assert text == "sum" and total == 0
            return
        if scale.normalize == "sum":
            want = v / total
        elif scale.normalize == "!":
            d = abs(total) if total != 0 else pos
            want = v / d if d else v
        elif scale.normalize == "^":
            want = np.where(v >= 0, v / (pos or 1.0), v / (-neg or 1.0))
        else:
            want = v
        np.testing.assert_allclose(got, want * scale.factor, rtol=1e-12, atol=1e-12)

    def test_an_all_zero_kernel_stays_zero_and_an_overflowing_scale_is_refused_up_front(self, invoke):
        zero = load_kernel("[[0,0],[0,0]]")
        for text in ("!", "2!", "^"):
            assert scale_kernel(zero, parse_kernel_scale(text)).array().tolist() == [[0.0, 0.0], [0.0, 0.0]]
        with pytest.raises(InvalidKernel, match=r"--kernel-scale 1e308 makes weights beyond float64's range"):
            scale_kernel(load_kernel("[[10]]"), parse_kernel_scale("1e308"))
        # refused as a kernel (exit 3) before the input is read: it exited 2 naming the image, after reading it
        result = invoke("convolve", "missing.npy", "-k", "[[10]]", "--kernel-scale", "1e308")
        assert result.exit_code == 3 and "beyond float64's range" in result.stderr

    def test_cli(self, invoke):
        result = invoke("convolve", str(SAMPLES / "example1.csv"), "-k", "box_3x3", "--kernel-scale", "9", "--padding", "valid", "-q")
        x = np.loadtxt(SAMPLES / "example1.csv", delimiter=",")
        want = ndimage.correlate(x, np.ones((3, 3)))[1:-1, 1:-1]
        got = np.array([[float(v) for v in line.split()] for line in result.stdout.splitlines()])
        np.testing.assert_allclose(got, want)
        bad = invoke("convolve", str(SAMPLES / "example1.csv"), "-k", "sobel_v", "--kernel-scale", "sum")
        assert bad.exit_code == 3 and "sums to 0" in bad.stderr
        assert invoke("convolve", str(SAMPLES / "example1.csv"), "-k", "sobel_v", "--kernel-scale", "1,50%").exit_code == 2


@pytest.mark.skipif(IMAGEMAGICK is None, reason="ImageMagick is not installed")
class TestAgainstImageMagick:
    @pytest.mark.parametrize(
        ("kernel", "scale"),
        [("3x3: 1,0,-1 2,0,-2 1,0,-1", "50%"), ("3x3: 0,1,0 0,0,0 0,0,3", "1"), ("3x3: 1,2,1 2,4,2 1,2,1", "!"), ("5x3: 1,2,3,4,5 0,0,0,0,0 -1,-2,-3,-4,-5", "^")],
    )
    def test_correlate_equals_default_and_convolve_equals_flip(self, invoke, tmp_path, kernel, scale):
        rng = np.random.default_rng(7)
        from PIL import Image

        Image.fromarray(rng.integers(0, 256, (10, 12)).astype(np.uint8)).save(tmp_path / "g.png")
        for method, flip in (("Correlate", []), ("Convolve", ["--flip"])):
            subprocess.run(
                [IMAGEMAGICK, "g.png", "-define", f"convolve:scale={scale}", "-morphology", method, kernel, "-depth", "8", f"im_{method}.png"],
                cwd=tmp_path, check=True, capture_output=True,
            )
            result = invoke("convolve", "g.png", "-k", kernel, "--kernel-scale", scale, "--pad-mode", "replicate", *flip,
                            "-o", f"k_{method}.npy")
            assert result.exit_code == 0, result.stderr
            exact = np.clip(np.load(tmp_path / f"k_{method}.npy"), 0, 255)
            theirs = pixels(tmp_path / f"im_{method}.png", "L").astype(float)
            # ImageMagick 6 (Q16) writes the 8-bit level at or just below the exact value
            # (it truncates; 1/257 is a 16-bit quantum)
            assert (exact - theirs).min() >= -1 / 257 and (exact - theirs).max() < 1 + 1 / 257


    @pytest.mark.parametrize("kernel", ["2x2: 0.5,0.25 0,0.25", "3x2: 1,2,3 4,5,6", "4x4: " + " ".join(["1"] * 16)])
    def test_an_even_convolve_is_flip_one_pixel_right_and_down(self, invoke, tmp_path, kernel):
        # the audit: the README said Convolve is --flip, true for odd sizes only; it now states the shift
        from PIL import Image
        from scipy import ndimage

        image = np.random.default_rng(8).integers(0, 256, (12, 14)).astype(np.uint8)
        Image.fromarray(image).save(tmp_path / "g.png")
        subprocess.run([IMAGEMAGICK, "g.png", "-define", "convolve:scale=!", "-morphology", "Convolve", kernel, "-depth", "8", "im.png"],
                       cwd=tmp_path, check=True, capture_output=True)
        result = invoke("convolve", "g.png", "-k", kernel, "--kernel-scale", "!", "--pad-mode", "replicate", "--flip", "-o", "k.npy")
        assert result.exit_code == 0, result.stderr
        flipped = np.load(tmp_path / "k.npy")
        w, h = (int(v) for v in kernel.split(":")[0].split("x"))
        weights = np.array(re.split(r"[\s,]+", kernel.split(":")[1].strip()), float).reshape(h, w)
        np.testing.assert_allclose(flipped, ndimage.convolve(image.astype(float), weights / weights.sum(), mode="nearest"))
        theirs = pixels(tmp_path / "im.png", "L").astype(float)
        dy, dx = 1 - h % 2, 1 - w % 2
        shifted = np.clip(flipped[: flipped.shape[0] - dy, : flipped.shape[1] - dx], 0, 255)
        below = shifted - theirs[dy:, dx:]  # ImageMagick's level at or just below the exact value, as above
        assert below.min() >= -1 / 257 and below.max() < 1 + 1 / 257
        unshifted = np.clip(flipped, 0, 255) - theirs
        assert unshifted.min() < -1 or unshifted.max() > 2  # (the shift is real: without it they differ)


class TestKernelPath:
    def test_a_network_spec_is_skipped_with_one_note(self, tmp_path):
        folder = tmp_path / "mine"
        folder.mkdir()
        shutil.copy(REPO / "kernels" / "networks" / "resnet18.json", folder)
        (folder / "ridge.json").write_text(json.dumps({"name": "ridge", "matrix": [[1, 2, 1]]}))
        env = {"KERNELCLI_KERNEL_PATH": str(folder)}
        result = run_cli("convolve", str(SAMPLES / "example1.csv"), "-k", "ridge", env=env)
        assert result.returncode == 0, result.stderr
        assert result.stderr.count("resnet18.json: not a kernel file") == 1
        # the kernels audit: -q printed it too; it is a note on the call, in the --json notes
        quiet = run_cli("convolve", str(SAMPLES / "example1.csv"), "-k", "ridge", "-q", env=env)
        assert quiet.returncode == 0 and quiet.stderr == "", quiet.stderr
        for args in (["-q"], ["kernels", "show", "ridge", "-q"]):
            call = args if args[0] == "kernels" else ["convolve", str(SAMPLES / "example1.csv"), "-k", "ridge", *args]
            assert run_cli(*call, env=env).stderr == ""
        document = json.loads(run_cli("convolve", str(SAMPLES / "example1.csv"), "-k", "ridge", "--json", env=env).stdout)
        assert any("resnet18.json: not a kernel file" in n for n in document["notes"]), document["notes"]
        assert run_cli("convolve", str(SAMPLES / "example1.csv"), "-k", "sobel_v", "-q", env=env).returncode == 0

    def test_a_broken_kernel_file_is_skipped_with_a_note_and_named_where_a_lookup_fails(self, tmp_path):
        # (one broken file refused every named kernel, the shipped sobel_v too: exit 3)
        folder = tmp_path / "mine"
        folder.mkdir()
        (folder / "bad.json").write_text(json.dumps({"name": "bad", "matrix": [[1, 2], [3]]}))
        env = {"KERNELCLI_KERNEL_PATH": str(folder)}
        result = run_cli("convolve", str(SAMPLES / "example1.csv"), "-k", "sobel_v", env=env)
        assert result.returncode == 0 and "bad.json: matrix: row 2 has 1 value" in result.stderr and "skipped" in result.stderr
        result = run_cli("convolve", str(SAMPLES / "example1.csv"), "-k", "bad", env=env)
        assert result.returncode == 3 and "skipped as broken" in result.stderr and "bad.json" in result.stderr


class TestKernelsAuditRound:
    """The kernels audit: an int64 or uint64 .npy weight of 2**53 + 1, or a JSON float 9007199254740993.0, was
    read as 2**53 (2**53 + 3 and the integer literal were refused); a user file UP.JSON was passed over in
    silence; 'box: 3' was refused where 'gaussian: 1' was taken."""

    @pytest.mark.parametrize("dtype", [np.int64, np.uint64])
    def test_a_whole_npy_weight_float64_rounds_is_refused(self, tmp_path, dtype):
        np.save(tmp_path / "k.npy", np.array([[2**53 + 1, 0]], dtype))
        with pytest.raises(InvalidKernel, match="9007199254740993, which float64 reads as 9007199254740992"):
            load_kernel(str(tmp_path / "k.npy"))

    @pytest.mark.parametrize("text", ["9007199254740993.0", "9.007199254740993e15", "-9007199254740993.00"])
    def test_a_whole_json_float_float64_rounds_is_refused(self, tmp_path, text):
        with pytest.raises(InvalidKernel, match="which float64 reads as"):
            load_kernel(f"[[{text}, 1]]")
        (tmp_path / "k.json").write_text('{"name": "big", "matrix": [[' + text + ', 1]]}')
        with pytest.raises(InvalidKernel, match="which float64 reads as"):
            load_kernel(str(tmp_path / "k.json"))
        assert load_kernel("[[9007199254740992.0, 1.5]]").array()[0, 0] == 2**53  # held exactly: taken

    def test_a_user_file_in_capitals_is_read_and_box_takes_blanks(self, tmp_path, monkeypatch):
        (tmp_path / "UP.JSON").write_text('{"name": "upper", "matrix": [[7]]}')
        monkeypatch.setenv("KERNELCLI_KERNEL_PATH", str(tmp_path))
        assert load_kernel("upper").array().tolist() == [[7.0]]
        assert load_kernel("box: 3").array().shape == (3, 3) and load_kernel("box:3 ").array().shape == (3, 3)
