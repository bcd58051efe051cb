"""Audit 194: the kernel catalogue's vocabulary, one way everywhere.

#1: an inline kernel's and a JSON list's ``source`` said ``--kernel`` in ``kernels show`` (and its --json) and on the
API's ``Kernel.source``, where no ``--kernel`` was given.
#2: ``volume --help`` marked 4 options "(images; not volumes)" where a volume refused 15 in the same words.
#3: ImageMagick's ``3x:`` (square, as ``3:``) and ``box : 3`` (a blank before the colon) were "not a kernel name"; on a
volume, ``box: 3`` was "expected a size in mm or voxels" though ``box:3`` is taken there.  Oracle: ImageMagick's
``convert xc: -define morphology:showKernel=1 -morphology Convolve '3x: 1 2 3 4 5 6 7 8 9' null:`` (a 3x3 kernel).
#4: ``kernels show maxpool:2`` and ``load_kernel('maxpool:2')`` called a pooling step, which ``convolve -k`` takes, "not a
kernel name".
#5: a 0/1 kernel of booleans was taken from a bool .npy file and a Python list of bools, and refused written as JSON
``true``/``false`` (exit 3).  One rule now: booleans are 1 and 0 (numpy's reading, and the arrays' "real numbers: bool,
integer or float"), in a JSON list, a kernel file and a Kernel made in Python too.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import run_in_process
from kernelcli.catalog import load_kernel
from kernelcli.errors import EXIT_KERNEL, InvalidKernel


def show(*args: str, cwd=None):
    return run_in_process("kernels", "show", *args, cwd=cwd)


class TestTheSourceOfAKernelGivenInline:
    @pytest.mark.parametrize("spec, source", [("1x1: 2", "given inline"), ("3: 1 2 3 4 5 6 7 8 9", "given inline"),
                                              ("-1", "given inline"), ("[[1,2],[3,4]]", "given as a JSON list")])
    def test_the_api_names_no_option(self, spec, source):
        assert load_kernel(spec).source.startswith(source) and "--" not in load_kernel(spec).source

    def test_kernels_show_and_its_json_name_no_option(self):
        shown = show("--", "-1")
        assert shown.returncode == 0 and "source: given inline" in shown.stdout and "--kernel" not in shown.stdout, shown.stdout
        record = json.loads(show("[[1,2],[3,4]]", "--json").stdout)
        assert record["source"] == "given as a JSON list", record


class TestVolumeHelpMarksWhatAVolumeRefuses:
    #: a value for each option a volume refuses (by parameter name)
    GIVEN = {"weights": "w.npy", "bias_file": "b.npy", "bias": "1", "activation": "relu", "combine": "sum",
             "montage": "m.png", "rescale": "abs", "max_pixels": "9", "kernel_scale": "2", "then": "box:3",
             "quality": "80", "compress": "fast", "stride": "2", "dilation": "2", "padding": "valid"}

    def test_every_option_marked_is_refused_for_a_volume_and_only_those_are_marked(self, invoke, tmp_path):
        from conftest import write_nifti

        pytest.importorskip("nibabel")
        write_nifti(tmp_path / "v.nii.gz")
        np.save(tmp_path / "w.npy", np.ones((1, 1, 3, 3)))
        np.save(tmp_path / "b.npy", np.zeros(1))
        help_text = invoke("volume", "--help").stdout
        assert " ".join(help_text.split()).count("(images; not volumes)") == len(self.GIVEN), help_text
        for name, value in self.GIVEN.items():
            option = "--" + name.replace("_", "-")
            r = invoke("volume", "v.nii.gz", "-k", "box:3vox", option, value, "-o", "o.nii.gz")
            assert r.exit_code == 2 and f"{option} not supported for volumes" in r.stderr, (option, r.stderr)
            assert "(images; not volumes)" in self._help_of(help_text, option), option
        assert not (tmp_path / "o.nii.gz").exists()
        from kernelcli.volume_inputs import IMAGE_ONLY_OPTIONS  # (the one list the refusal and the help read)

        assert set(IMAGE_ONLY_OPTIONS) == set(self.GIVEN)

    @staticmethod
    def _help_of(text: str, option: str) -> str:
        """``option``'s help in a --help ``text``: the line that declares it (options start at the third column) and the
        lines that continue it (further in)."""
        lines = text.splitlines()
        declares = lambda line: option in line.strip().split("  ")[0].replace(",", " ").split()
        start = next(i for i, line in enumerate(lines) if line.startswith("  -") and declares(line))
        end = next((i for i in range(start + 1, len(lines)) if not lines[i].startswith("   ")), len(lines))
        return " ".join(line.strip() for line in lines[start:end])


class TestTheSpellingsImageMagickTakes:
    @pytest.mark.parametrize("spec, same_as", [("3x: 1 2 3 4 5 6 7 8 9", "3x3: 1 2 3 4 5 6 7 8 9"),
                                                ("2X+0+0: 1 2 3 4", "2x2: 1 2 3 4"), ("box : 3", "box:3"),
                                                ("gaussian :2", "gaussian:2"), ("Box : 3", "box:3")])
    def test_read_as_the_spelling_without_the_blank_or_with_the_height(self, spec, same_as):
        assert load_kernel(spec).matrix == load_kernel(same_as).matrix
        assert show(spec, "-q").stdout == show(same_as, "-q").stdout

    def test_a_size_without_a_height_counts_its_values_as_a_square(self):
        shown = show("2x: 1 2 3")
        assert shown.returncode == 3 and "2x2 needs 4 values (row by row), got 3" in shown.stderr, shown.stderr
        assert "not a kernel name" not in shown.stderr

    def test_fwhm_with_a_blank_before_the_colon_asks_for_a_size_in_mm(self):
        shown = show("fwhm : 2")
        assert shown.returncode == 3 and "expected a size in mm or voxels" in shown.stderr, shown.stderr

    @pytest.mark.parametrize("spec", ["box: 3", "box : 3", "Gaussian : 1"])
    def test_a_volume_takes_a_blank_about_the_colon_as_an_image_does(self, invoke, tmp_path, spec):
        from conftest import write_nifti

        pytest.importorskip("nibabel")
        write_nifti(tmp_path / "v.nii.gz")
        r = invoke("volume", "v.nii.gz", "-k", spec, "-o", "spaced.npy", "-q")
        assert r.exit_code == 0, r.stderr
        assert invoke("volume", "v.nii.gz", "-k", spec.replace(" ", ""), "-o", "tight.npy", "-q").exit_code == 0
        assert np.array_equal(np.load(tmp_path / "spaced.npy"), np.load(tmp_path / "tight.npy"))


class TestAPoolingStepIsCalledOne:
    @pytest.mark.parametrize("step", ["maxpool:2", "avgpool: 3 : 2", "MinPool:2"])
    def test_load_kernel_says_it_is_a_pooling_step_in_the_apis_words(self, step):
        with pytest.raises(InvalidKernel) as caught:
            load_kernel(step)
        said = str(caught.value)
        assert "a pooling step, not a kernel" in said and "pool2d" in said and "not a kernel name" not in said, said
        assert "--" not in said, said  # (a Python caller has no options)

    def test_kernels_show_says_so_in_the_command_lines_words(self):
        shown = show("maxpool:2")
        assert shown.returncode == EXIT_KERNEL and len(shown.stderr.splitlines()) == 1, shown.stderr
        assert "'maxpool:2': a pooling step, not a kernel: it has no matrix to show" in shown.stderr, shown.stderr
        assert "not a kernel name" not in shown.stderr and "pool2d" not in shown.stderr


class TestBooleanWeightsAreOneAndZeroEverywhere:
    EXPECTED = [[1.0, 0.0], [0.0, 1.0]]

    def test_a_json_list_a_kernel_file_a_npy_file_and_a_python_list_give_one_kernel(self, tmp_path):
        from kernelcli import conv2d

        (tmp_path / "b.json").write_text('{"name": "b", "matrix": [[true, false], [false, true]]}')
        np.save(tmp_path / "b.npy", np.array([[True, False], [False, True]]))
        kernels = [load_kernel("[[true, false], [false, true]]"), load_kernel(str(tmp_path / "b.json")),
                   load_kernel(str(tmp_path / "b.npy"))]
        assert [k.array().tolist() for k in kernels] == [self.EXPECTED] * 3
        x = np.arange(16.0).reshape(4, 4)
        from_list = conv2d(x, [[True, False], [False, True]])
        for kernel in kernels:
            np.testing.assert_array_equal(conv2d(x, kernel), from_list)

    def test_kernels_show_takes_json_booleans_as_it_takes_a_bool_npy(self, tmp_path):
        np.save(tmp_path / "b.npy", np.array([[True, False], [False, True]]))
        as_json = show("[[true,false],[false,true]]", "-q")
        assert as_json.returncode == 0, as_json.stderr
        assert as_json.stdout == show("./b.npy", "-q", cwd=tmp_path).stdout

    def test_a_scale_of_true_stays_refused(self, tmp_path):
        (tmp_path / "s.json").write_text('{"name": "s", "matrix": [[1, 0]], "scale": true}')
        shown = show("./s.json", cwd=tmp_path)
        assert shown.returncode == EXIT_KERNEL and 'scale: is true, expected a number (the divisor) or "sum"' in shown.stderr
