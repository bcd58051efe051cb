"""The third kernels audit (audit 90): kernel specs read one way, refused in one line, never a bug.

F1: an inline JSON list nested ~1000 deep was Python's RecursionError (exit 70); a file said "nested too deeply" (exit 3).
Oracle: the kernel file's own message and exit code for the same matrix.
"""

from __future__ import annotations

import numpy as np
import pytest

from conftest import run_in_process
from kernelcli.catalog import load_kernel
from kernelcli.errors import EXIT_KERNEL, InvalidKernel


def show(*args: str, cwd=None):
    return run_in_process("kernels", "show", *args, cwd=cwd)


def refused(result, *words: str) -> None:
    """Exit 3, one line on stderr, holding ``words``."""
    assert result.returncode == EXIT_KERNEL, (result.returncode, result.stderr[:300])
    assert len(result.stderr.splitlines()) == 1, result.stderr[:300]
    for word in words:
        assert word in result.stderr, (word, result.stderr[:300])


class TestDeepLists:
    DEEP = "[" * 5000 + "1" + "]" * 5000

    def test_an_inline_list_nested_too_deeply_is_an_invalid_kernel_as_in_a_file(self, tmp_path):
        (tmp_path / "deep.json").write_text('{"name": "a", "matrix": ' + self.DEEP + "}")
        refused(show("./deep.json", cwd=tmp_path), "deep.json: not valid JSON for a kernel: lists or objects nested too deeply")
        refused(show(self.DEEP), "error: '[[[[", "not valid JSON for a kernel: lists or objects nested too deeply")  # (the spec alone)
        np.save(tmp_path / "x.npy", np.ones((3, 3)))
        refused(run_in_process("convolve", "x.npy", "-k", self.DEEP, "-o", "o.npy", cwd=tmp_path), "nested too deeply")
        assert not (tmp_path / "o.npy").exists()

    def test_a_deep_file_on_the_kernel_path_is_skipped_as_broken(self, tmp_path):
        (tmp_path / "deep.json").write_text('{"name": "a", "matrix": ' + self.DEEP + "}")
        env = {"KERNELCLI_KERNEL_PATH": str(tmp_path)}
        r = run_in_process("kernels", "show", "sobel_v", "-q", env=env)
        assert r.returncode == 0, r.stderr[:300]
        refused(run_in_process("kernels", "show", "a", env=env), "skipped as broken", "deep.json: not valid JSON for a kernel")


class TestHugeSizes:
    """F2: a size of more than 4300 digits reached int() (exit 70), and one of 4300 was quoted whole (4,360 characters)."""

    W = "9" * 4301

    @pytest.mark.parametrize("spec, words", [
        (f"{W}x1: 1", "is larger than 255 per side"), (f"{W}: 1", "is larger than 255 per side"),
        (f"3x{W}: 1", "is larger than 255 per side"), (f"3x3+{W}+1: 1 2 3 4 5 6 7 8 9", "is not supported"),
        (f"box:{W}", "N must be a whole number from 1 to 255"), (f"box:{W[:4300]}", "N must be a whole number from 1 to 255"),
        (f"gaussian:{W}", "sigma must be a positive finite number"), (f"box:{W}vox", "the size must be a positive finite number"),
        (f"1x1: {W}", "row 1, column 1 is"), (W, "beyond the float range"),  # (a number of any length is one: review 185)
    ], ids=["WxH", "W", "3xH", "origin", "box", "box4300", "gaussian", "boxvox", "value", "name"])
    def test_refused_in_one_short_line(self, spec, words):
        r = show(spec)
        refused(r, words, "characters")
        assert len(r.stderr) < 600, len(r.stderr)

    def test_sizes_that_fit_are_read_as_before(self):
        assert load_kernel("0003x1: 1 2 3").shape == (1, 3)
        assert load_kernel("3x3+001+1: 1 2 3 4 5 6 7 8 9").shape == (3, 3)
        assert load_kernel("box:007").shape == (7, 7)
        with pytest.raises(InvalidKernel, match=r"'256x1: 1': 256x1 is larger than 255 per side"):
            load_kernel("256x1: 1")


class TestLongDoubleNpy:
    """F3: a long-double .npy weight of 2**53 + 1 was convolved as 2**53 (exit 0), where the int64 file, the JSON list
    and the inline form refuse it.  Oracle: the int64 file's refusal, word for word."""

    def test_a_whole_weight_float64_rounds_is_refused_in_the_int64_words(self, tmp_path):
        if np.finfo(np.longdouble).nmant <= 52:
            pytest.skip("long double is float64 here")
        np.save(tmp_path / "ld.npy", np.array([[2**53 + 1, -(2**60 + 1)]], dtype=np.longdouble))
        np.save(tmp_path / "i64.npy", np.array([[2**53 + 1, -(2**60 + 1)]], dtype=np.int64))
        np.save(tmp_path / "one.npy", np.ones((1, 1)))
        for name in ("ld.npy", "i64.npy"):
            r = run_in_process("convolve", "one.npy", "-k", name, "-o", "o.npy", cwd=tmp_path)
            refused(r, f"{name}: the weight at (0, 0) is 9007199254740993, which float64 reads as 9007199254740992")
            assert not (tmp_path / "o.npy").exists()

    def test_other_weights_are_read_as_float64_with_a_note(self, tmp_path):
        if np.finfo(np.longdouble).nmant <= 52:
            pytest.skip("long double is float64 here")
        np.save(tmp_path / "ld.npy", np.array([[np.longdouble("0.1"), 2**53]], dtype=np.longdouble))
        np.save(tmp_path / "exact.npy", np.array([[0.5, 2**53]], dtype=np.longdouble))
        assert load_kernel(str(tmp_path / "ld.npy")).matrix == ((0.1, 2.0**53),)
        r = run_in_process("kernels", "show", "ld.npy", "--json", cwd=tmp_path)
        assert r.returncode == 0 and f"ld.npy: a {np.dtype(np.longdouble)} kernel is read as float64" in r.stderr, r.stderr
        assert "1 of its 2 weights rounded" in r.stderr
        r = run_in_process("kernels", "show", "exact.npy", cwd=tmp_path)
        assert r.returncode == 0 and "note" not in r.stderr, r.stderr  # nothing rounded, nothing to say

    def test_a_weight_beyond_float64_is_named(self, tmp_path):
        if np.finfo(np.longdouble).max <= np.finfo(np.float64).max:
            pytest.skip("long double is float64 here")
        np.save(tmp_path / "big.npy", np.array([[1, np.longdouble("1e400")]], dtype=np.longdouble))
        refused(show("big.npy", cwd=tmp_path), "big.npy: the weight at (0, 1) is 1e+400, beyond float64's range")


class TestEmptyCells:
    """F4: '2x2: 1,,2,3,4' was [[1, 2], [3, 4]] (exit 0): the empty cell vanished, where ImageMagick reads it as 0 and
    kernelcli's own CSV reader refuses it; '3x1: 1,,2' said 'got 2 values', hiding why; a trailing comma was taken."""

    @pytest.mark.parametrize("spec, cell, where", [
        ("2x2: 1,,2,3,4", 2, "between two commas"), ("3x1: 1,,2", 2, "between two commas"),
        ("3x1: 1, ,2", 2, "between two commas"), ("2x2: 1 2 3 4,", 5, "after the last comma"),
        ("2x2: ,1 2 3 4", 1, "before the first comma"), ("1,,2,3", 2, "between two commas"),
        ("1,2,3,4,", 5, "after the last comma"),
    ])
    def test_an_empty_cell_is_refused_naming_it(self, spec, cell, where):
        with pytest.raises(InvalidKernel, match=rf"cell {cell} is empty \({where}\): ImageMagick reads an empty cell as 0"):
            load_kernel(spec)
        refused(show(spec), f"{spec!r}: cell {cell} is empty", "write 0, or nan or -")

    @pytest.mark.parametrize("spec", ["2x2: 1, 2 ,3 ,4", "2x2: 1,2,\n3,4", "2x2: 1 2\n3 4", "2x2: 1,-,nan,4"])
    def test_commas_and_blanks_between_values_still_separate(self, spec):
        assert load_kernel(spec).shape == (2, 2)


class TestOtherFormats:
    """F6: '-k ./k.csv' was read as JSON ('not valid JSON: Extra data (line 1, column 2)'), '-k k.csv' was 'not a kernel
    name': a kernel file is .json or .npy (README, Kernels), and a text matrix goes inline."""

    @pytest.mark.parametrize("spec, suffix", [("./k.csv", ".csv"), ("k.csv", ".csv"), ("./k.txt", ".txt"), ("k.TSV", ".tsv"),
                                              ("./x.png", ".png"), ("v.nii.gz", ".nii.gz")])
    def test_a_file_of_another_format_is_refused_naming_the_kernel_formats(self, tmp_path, spec, suffix):
        (tmp_path / "k.csv").write_text("1,0,-1\n2,0,-2\n1,0,-1\n")
        (tmp_path / "k.txt").write_text("1 0 -1\n2 0 -2\n1 0 -1\n")
        np.save(tmp_path / "x.npy", np.ones((5, 5)))
        r = run_in_process("convolve", "x.npy", "-k", spec, "-o", "o.npy", cwd=tmp_path)
        refused(r, f"{spec}: a kernel file is .json (a kernel object) or .npy (an array saved with numpy.save), not {suffix}")
        assert "JSON: Extra data" not in r.stderr and "not a kernel name" not in r.stderr
        if suffix in (".csv", ".txt", ".tsv"):
            assert '--kernel "WxH: $(cat ' in r.stderr

    def test_the_inline_form_takes_the_csv_text_as_it_is(self, tmp_path):
        text = "1,0,-1\n2,0,-2\n1,0,-1\n"
        assert load_kernel("3x3: " + text).matrix == load_kernel("sobel_v").matrix


class TestOneReadingOfASpec:
    """F7: ' sobel_v' ran on a volume and was 'not a kernel name' on an image; ' gaussian:1' was refused where
    'gaussian: 1' and 'box:3 ' were taken; 'fwhm:2' on an image got the catch-all message; box:3.0vox was taken and
    box:3.0 refused."""

    @pytest.mark.parametrize("spec, same", [(" sobel_v", "sobel_v"), ("sobel_v\n", "sobel_v"), (" gaussian:1", "gaussian:1"),
                                            ("box:3 ", "box:3"), (" 3x1: 1 2 3 ", "3x1: 1 2 3"), ("box:3.0", "box:3"),
                                            ("box:1e1", "box:10"), ("box:30e-1", "box:3")])
    def test_the_forms_of_one_kernel_are_one_kernel(self, spec, same):
        assert load_kernel(spec).array().tolist() == load_kernel(same).array().tolist()
        assert load_kernel(spec).name == load_kernel(same).name

    def test_an_image_and_a_volume_read_blanks_alike(self, tmp_path):
        nib = pytest.importorskip("nibabel")
        nib.save(nib.Nifti1Image(np.arange(8 * 9 * 5, dtype=np.int16).reshape(8, 9, 5), np.eye(4)), str(tmp_path / "v.nii.gz"))
        np.save(tmp_path / "x.npy", np.arange(25.0).reshape(5, 5))
        for name in ("v.nii.gz", "x.npy"):
            r = run_in_process("convolve", name, "-k", " sobel_v", "-o", "o" + name[1:], cwd=tmp_path)
            assert r.returncode == 0, r.stderr

    @pytest.mark.parametrize("spec", ["fwhm:2", "log:2", "FWHM:4"])
    def test_fwhm_and_log_without_a_unit_say_what_they_take(self, spec):
        with pytest.raises(InvalidKernel, match="expected a size in mm or voxels such as fwhm:4mm"):
            load_kernel(spec)
        refused(show(spec), "expected a size in mm or voxels", "gaussian:1.5 (sigma in pixels)")

    @pytest.mark.parametrize("spec", ["box:3.5", "box:3.0000000000000001", "box:0.0", "box:256.0"])
    def test_a_box_that_is_not_a_whole_number_is_refused(self, spec):
        with pytest.raises(InvalidKernel, match="N must be a whole number from 1 to 255"):
            load_kernel(spec)

    def test_a_box_in_voxels_is_read_the_same_way(self):
        from kernelcli.volume_grammar import resolve_volume_kernel

        assert resolve_volume_kernel("box:3.0vox").size == 3
        with pytest.raises(InvalidKernel, match="an odd whole number of voxels"):
            resolve_volume_kernel("box:3.0000000000000001vox")  # (float() made it 3: taken)


class TestRobertsAgainstScikitImage:
    """F8: roberts_* cited scikit-image for their names, whose functions convolve (scipy.ndimage.convolve with the same
    table: skimage.filters.edges), so every value has the other sign; the source now says so and that --flip gives
    scikit-image's.  Oracle: scikit-image's function body on scipy (mode 'reflect', kernelcli's 'symmetric')."""

    @pytest.mark.parametrize("name, table", [("roberts_pos_diag", [[1, 0], [0, -1]]), ("roberts_neg_diag", [[0, 1], [-1, 0]])])
    def test_the_source_states_the_relation_it_has_to_scikit_image(self, tmp_path, name, table):
        from scipy import ndimage

        image = np.random.default_rng(3).random((7, 8))
        np.save(tmp_path / "x.npy", image)
        skimage = ndimage.convolve(image, np.array(table, float))  # skimage.filters.roberts_pos_diag/neg_diag's body
        for flip, expected in ((False, -skimage), (True, skimage)):
            r = run_in_process("convolve", "x.npy", "-k", name, "--pad-mode", "symmetric", "-o", "o.npy", "--force",
                               *(["--flip"] if flip else []), cwd=tmp_path)
            assert r.returncode == 0, r.stderr
            np.testing.assert_allclose(np.load(tmp_path / "o.npy"), expected, rtol=0, atol=1e-15)
        source = load_kernel(name).source
        assert "convolves" in source and "negative of this correlation" in source and "--flip gives scikit-image" in source


class TestSeparableIsTheComputePathsWord:
    """F9: '2x2: 1 1 1 1.0000000001' was listed 'separable' (second singular value within 1e-9 of the first) where it
    is no outer product and the compute path (8 eps) applies it in 2-D.  Oracle: the compute path's own test."""

    @pytest.mark.parametrize("spec", ["2x2: 1 1 1 1.0000000001", "3x3: 1 2 1 2 4 2 1 2 1.000001", "sobel_v", "gaussian:1.5",
                                      "box:4", "gaussian_5x5", "laplacian_4", "[[0.1, 0.7], [0.03, 0.21]]", "1x3: 1 2 3"])
    def test_the_label_is_what_the_compute_path_finds(self, spec):
        from kernelcli._core.forms import separable_factors

        kernel = load_kernel(spec)
        values = kernel.array()
        path = min(values.shape) == 1 or separable_factors(values, np.dtype(np.float64)) is not None
        assert kernel.separable is path, spec

    def test_show_does_not_call_a_rank_two_kernel_separable(self):
        r = show("2x2: 1 1 1 1.0000000001")
        assert r.returncode == 0 and r.stdout.splitlines()[0].endswith("not separable)"), r.stdout
