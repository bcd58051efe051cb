"""`kernels show NAME --json > k.json` then `-k k.json` is the same kernel: the document show prints is a one-kernel file.

Before, its "family" key sent it down the family-file branch, which called "name" unknown (exit 3); a named 3-D kernel's
document had no "matrix" at all.  Its informational keys are checked against the matrix: a stale one is refused.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from conftest import run_in_process
from kernelcli.catalog import list_kernels, load_kernel
from kernelcli.errors import EXIT_KERNEL, InvalidKernel

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
NAMED_3D = ("box_3d", "gaussian_3d", "sobel_3d", "sobel_3d_y", "sobel_3d_z")


def shown(tmp_path: Path, spec: str, name: str = "k.json") -> Path:
    """``kernels show SPEC --json``'s document, written to ``tmp_path/name``."""
    result = run_in_process("kernels", "show", spec, "--json")
    assert result.returncode == 0, result.stderr
    path = tmp_path / name
    path.write_text(result.stdout, encoding="utf-8")
    return path


def edited(path: Path, **changes) -> Path:
    document = json.loads(path.read_text(encoding="utf-8"))
    document.update(changes)
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def refused(result, *words: str) -> None:
    assert result.returncode == EXIT_KERNEL, (result.returncode, result.stderr[:400])
    assert len(result.stderr.splitlines()) == 1 and "Traceback" not in result.stderr, result.stderr[:400]
    for word in words:
        assert word in result.stderr, (word, result.stderr[:400])


class TestEveryShownKernelReadsBack:
    @pytest.mark.parametrize("name", [k.name for k in list_kernels()])
    def test_every_catalogue_kernel_is_the_same_array(self, tmp_path, name):
        path = shown(tmp_path, name)
        again = load_kernel(str(path))
        assert again.name == name
        assert again.array().tobytes() == load_kernel(name).array().tobytes()

    @pytest.mark.parametrize("name", ["sobel_v", "gaussian_3x3", "sharpen"])
    def test_convolve_gives_the_same_bytes(self, tmp_path, name):
        path = shown(tmp_path, name)
        first = run_in_process("convolve", str(SAMPLES / "example1.csv"), "-k", name, "-o", "a.npy", cwd=tmp_path)
        second = run_in_process("convolve", str(SAMPLES / "example1.csv"), "-k", str(path), "-o", "b.npy", cwd=tmp_path)
        assert first.returncode == second.returncode == 0, second.stderr
        assert np.load(tmp_path / "a.npy").tobytes() == np.load(tmp_path / "b.npy").tobytes()

    @pytest.mark.parametrize("name", NAMED_3D)
    def test_a_named_3d_kernel_is_the_same_taps(self, tmp_path, name):
        from kernelcli.volumes import kernel_3d

        path = shown(tmp_path, name)
        assert load_kernel(str(path), max_ndim=3).array().tobytes() == kernel_3d(name).array().tobytes()

    def test_volume_takes_a_named_3d_kernels_document(self, tmp_path):
        path = shown(tmp_path, "box_3d")
        result = run_in_process("volume", str(SAMPLES / "phantom3d.nii.gz"), "-k", str(path), "-o", "v.nii.gz", cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert (tmp_path / "v.nii.gz").exists()

    def test_a_layer_kernel_of_a_npy_file(self, tmp_path):
        weights = np.arange(18, dtype=np.float64).reshape(2, 3, 3) / 7
        np.save(tmp_path / "lay.npy", weights)
        result = run_in_process("kernels", "show", "lay.npy", "--json", cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        (tmp_path / "lay.json").write_text(result.stdout)
        assert load_kernel(str(tmp_path / "lay.json"), max_ndim=3).array().tobytes() == weights.tobytes()

    def test_scale_null_is_no_scale_and_scale_is_kept(self, tmp_path):
        path = shown(tmp_path, "gaussian_3x3")
        assert json.loads(path.read_text())["scale"] == 16
        assert load_kernel(str(path)).scale == 16.0
        assert load_kernel(str(shown(tmp_path, "sobel_v", "s.json"))).scale is None


class TestStaleFieldsAreRefused:
    def test_an_edited_matrix_beside_stale_values(self, tmp_path):
        path = edited(shown(tmp_path, "sobel_v"), matrix=[[1, 0, -1], [3, 0, -3], [1, 0, -1]])
        refused(run_in_process("convolve", str(SAMPLES / "example1.csv"), "-k", str(path)),
                "k.json: values: says 2 at row 2, column 1, the matrix gives 3 there", 'drop "values" or make it agree')

    @pytest.mark.parametrize("field, value, words", [
        ("shape", [3, 4], "shape: says [3, 4], the matrix gives [3, 3]"),
        ("sum", 1, "sum: says 1, the matrix gives 0 (after scale)"),
        ("separable", False, "separable: says false, the matrix gives true"),
        ("values", [[1, 0], [2, 0]], "values: says a 2x2 matrix, the matrix gives 3x3"),
    ])
    def test_each_informational_field_is_checked(self, tmp_path, field, value, words):
        path = edited(shown(tmp_path, "sobel_v"), **{field: value})
        refused(run_in_process("kernels", "show", str(path)), words, f'drop "{field}"')
        with pytest.raises(InvalidKernel, match=field):
            load_kernel(str(path))

    def test_a_3d_kernels_stale_values_separable_and_factors(self, tmp_path):
        path = shown(tmp_path, "box_3d")
        document = json.loads(path.read_text())
        matrix = json.loads(json.dumps(document["matrix"]))
        matrix[0][0][0] = 1
        refused(run_in_process("kernels", "show", str(edited(path, matrix=matrix))),
                "values: says 0.037037037037037035 at slice 1, row 1, column 1, the matrix gives 1 there")
        del document["values"], document["sum"]
        path.write_text(json.dumps({**document, "matrix": matrix}))
        refused(run_in_process("volume", str(SAMPLES / "phantom3d.nii.gz"), "-k", str(path), "-o", "v.nii.gz", cwd=tmp_path),
                "separable: says true, the matrix gives false")
        del document["separable"]
        path.write_text(json.dumps({**document, "matrix": matrix}))
        refused(run_in_process("kernels", "show", str(path)), "factors: their outer product is 0.037037037037037035 at slice 1, row 1, "
                                                              "column 1, the matrix gives 1 there")
        assert not (tmp_path / "v.nii.gz").exists()

    def test_a_3d_document_without_matrix_is_told_to_copy_values(self, tmp_path):
        path = shown(tmp_path, "box_3d")
        document = json.loads(path.read_text())
        del document["matrix"]
        path.write_text(json.dumps(document))
        refused(run_in_process("kernels", "show", str(path)), 'missing key "matrix"', 'copy them as "matrix"')

    def test_a_specs_name_says_the_name_a_file_takes(self, tmp_path):
        path = shown(tmp_path, "gaussian:1.5")
        refused(run_in_process("kernels", "show", str(path)), '"gaussian:1.5" is a spec\'s name', '"gaussian_1_5"', "-k gaussian:1.5 itself")


class TestTheReadingsStayApart:
    def test_family_and_kernels_is_a_family_file(self):
        from kernelcli.catalog import parse_kernels

        kernels = parse_kernels({"family": "mine", "kernels": [{"name": "a", "matrix": [[1]]}]})
        assert kernels[0].family == "mine"
        with pytest.raises(InvalidKernel, match='missing key "kernels"'):
            parse_kernels({"family": "mine", "description": "x"})

    def test_family_with_a_name_and_matrix_is_one_kernel(self):
        from kernelcli.catalog import parse_kernels

        (kernel,) = parse_kernels({"family": "edge", "name": "d", "matrix": [[1, -1]], "path": "/x/edge.json", "notes": []})
        assert (kernel.name, kernel.family, kernel.matrix) == ("d", "custom", ((1.0, -1.0),))
        with pytest.raises(InvalidKernel, match=r'family: "Edge Things" is not a valid name'):
            parse_kernels({"family": "Edge Things", "name": "d", "matrix": [[1, -1]]})

    def test_an_unknown_key_is_still_refused_with_its_hint(self):
        from kernelcli.catalog import parse_kernels

        with pytest.raises(InvalidKernel, match=r'unknown key "valeus"; did you mean "values"\?'):
            parse_kernels({"name": "d", "family": "edge", "matrix": [[1, -1]], "valeus": [[1, -1]]}, origin="k.json")
