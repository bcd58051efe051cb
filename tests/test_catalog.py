"""The kernel catalogue: shipped files, exact matrices, orientation, parametric specs, faults, CLI.

Oracles: matrices written out by hand from their sources, ``numpy.linalg.matrix_rank`` for
separability, ``scipy.ndimage.correlate`` (the lecture's no-flip convention) for orientation and
``scipy.ndimage.gaussian_filter`` of an impulse for ``gaussian:SIGMA``.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import ndimage

from kernelcli.catalog import (
    MAX_FILE_BYTES,
    Kernel,
    families,
    list_kernels,
    load_kernel,
    parse_kernels,
    read_kernel_file,
)
from kernelcli.cli import app
from kernelcli.errors import EXIT_KERNEL, InvalidKernel, KernelNotFound, UsageError
from kernelcli.resources import catalog_dir

CATALOGUE_FILES = sorted(p for p in catalog_dir().glob("*.json") if not p.name.endswith(".schema.json"))
ALL_NAMES = [k.name for k in list_kernels()]


@pytest.fixture(autouse=True)
def _no_user_kernel_path(monkeypatch):
    """Each test sees only the shipped catalogue unless it sets KERNELCLI_KERNEL_PATH itself."""
    monkeypatch.delenv("KERNELCLI_KERNEL_PATH", raising=False)


def write(tmp_path: Path, content, name: str = "my.json") -> Path:
    """Write a kernel file (a JSON-able object, or raw text) and return its path."""
    path = tmp_path / name
    path.write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")
    return path


# --------------------------------------------------------------------------- the shipped files


class TestCatalogueFiles:
    def test_there_are_family_files(self):
        names = {p.stem for p in CATALOGUE_FILES}
        assert {"edge", "smoothing", "gaussian", "sharpen", "laplacian", "emboss", "compass"} <= names

    @pytest.mark.parametrize("path", CATALOGUE_FILES, ids=lambda p: p.name)
    def test_every_file_loads_and_validates(self, path):
        kernels = read_kernel_file(path)
        assert kernels
        document = json.loads(path.read_text(encoding="utf-8"))
        assert [k.name for k in kernels] == [item["name"] for item in document["kernels"]]
        assert all(k.family == document["family"] == path.stem for k in kernels)

    @pytest.mark.parametrize("path", CATALOGUE_FILES, ids=lambda p: p.name)
    def test_every_file_matches_the_json_schema(self, path):
        jsonschema = pytest.importorskip("jsonschema")
        schema = json.loads((catalog_dir() / "kernel.schema.json").read_text(encoding="utf-8"))
        jsonschema.Draft202012Validator.check_schema(schema)
        jsonschema.Draft202012Validator(schema).validate(json.loads(path.read_text(encoding="utf-8")))

    def test_schema_rejects_what_the_validator_rejects(self):
        jsonschema = pytest.importorskip("jsonschema")
        validator = jsonschema.Draft202012Validator(json.loads((catalog_dir() / "kernel.schema.json").read_text()))
        assert validator.is_valid({"name": "ok", "matrix": [[1]], "scale": "sum"})
        assert validator.is_valid({"name": "ok", "matrix": [[True, 0]]})  # (1 and 0, as a bool .npy kernel: audit 194 #5)
        for bad in (
            {"name": "ok", "matrix": [[1]], "normalise": True},
            {"name": "Bad Name", "matrix": [[1]]},
            {"name": "ok", "matrix": [[None]]},
            {"name": "ok", "matrix": [[1]], "scale": True},
            {"name": "ok", "matrix": [[1]], "scale": 0},
            {"family": "f", "kernels": []},
        ):
            assert not validator.is_valid(bad), bad

    @pytest.mark.parametrize("kernel", list_kernels(), ids=lambda k: k.name)
    def test_every_kernel_is_described_with_orientation_and_source(self, kernel):
        assert kernel.description and "\n" not in kernel.description
        assert len(kernel.source) > 10
        assert any(
            phrase in kernel.description for phrase in ("positive where the", "no orientation", "moves the image")
        ), kernel.description
        if kernel.family in ("edge", "compass", "emboss"):
            assert "positive where the" in kernel.description

    def test_names_are_unique_and_families_known(self):
        assert len(ALL_NAMES) == len(set(ALL_NAMES))
        assert {"edge", "smoothing", "gaussian", "sharpen", "laplacian", "emboss", "compass", "basic"} <= set(families())
        assert families() == sorted(families())

    def test_list_by_family(self):
        edge = list_kernels("edge")
        assert edge and all(k.family == "edge" for k in edge)
        assert {"sobel_v", "sobel_h", "prewitt_v", "prewitt_h", "scharr_v", "scharr_h"} <= {k.name for k in edge}

    def test_unknown_family_is_a_usage_error_with_suggestion(self):
        with pytest.raises(UsageError, match=r"unknown kernel family 'edges'; did you mean 'edge'\?"):
            list_kernels("edges")


# --------------------------------------------------------------------------- exact matrices

BINOMIAL5 = np.array([1, 4, 6, 4, 1], dtype=float)
BINOMIAL7 = np.array([math.comb(6, k) for k in range(7)], dtype=float)
REQUIRED = {
    "identity": np.array([[0, 0, 0], [0, 1, 0], [0, 0, 0]]),
    "box_3x3": np.ones((3, 3)) / 9,
    "box_5x5": np.ones((5, 5)) / 25,
    "smooth_weighted": np.array([[0, 1, 0], [1, 4, 1], [0, 1, 0]]) / 8,
    "gaussian_3x3": np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]]) / 16,
    "gaussian_5x5": np.outer(BINOMIAL5, BINOMIAL5) / 256,
    "gaussian_7x7": np.outer(BINOMIAL7, BINOMIAL7) / 4096,
    "sharpen": np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]]),
    "sharpen_strong": np.array([[-1, -1, -1], [-1, 9, -1], [-1, -1, -1]]),
    "prewitt_v": np.array([[1, 0, -1], [1, 0, -1], [1, 0, -1]]),
    "prewitt_h": np.array([[1, 1, 1], [0, 0, 0], [-1, -1, -1]]),
    "sobel_v": np.array([[1, 0, -1], [2, 0, -2], [1, 0, -1]]),
    "sobel_h": np.array([[1, 2, 1], [0, 0, 0], [-1, -2, -1]]),
    "scharr_v": np.array([[3, 0, -3], [10, 0, -10], [3, 0, -3]]),
    "scharr_h": np.array([[3, 10, 3], [0, 0, 0], [-3, -10, -3]]),
    "roberts_pos_diag": np.array([[1, 0], [0, -1]]),
    "roberts_neg_diag": np.array([[0, 1], [-1, 0]]),
    "laplacian_4": np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]]),
    "laplacian_8": np.array([[1, 1, 1], [1, -8, 1], [1, 1, 1]]),
    "log_5x5": np.array(
        [[0, 0, -1, 0, 0], [0, -1, -2, -1, 0], [-1, -2, 16, -2, -1], [0, -1, -2, -1, 0], [0, 0, -1, 0, 0]]
    ),
    "emboss": np.array([[-2, -1, 0], [-1, 1, 1], [0, 1, 2]]),
    # Wikipedia: -1/256 * [[1,4,6,4,1],[4,16,24,16,4],[6,24,-476,24,6],...]
    "unsharp_5x5": -np.array(
        [[1, 4, 6, 4, 1], [4, 16, 24, 16, 4], [6, 24, -476, 24, 6], [4, 16, 24, 16, 4], [1, 4, 6, 4, 1]]
    )
    / 256,
    "shift_down": np.array([[0, 1, 0], [0, 0, 0], [0, 0, 0]]),
    "shift_right": np.array([[0, 0, 0], [1, 0, 0], [0, 0, 0]]),
}


class TestRequiredKernels:
    @pytest.mark.parametrize("name", sorted(REQUIRED))
    def test_exact_matrix(self, name):
        kernel = load_kernel(name)
        expected = REQUIRED[name].astype(float)
        assert kernel.shape == expected.shape
        np.testing.assert_array_equal(kernel.array(), expected)
        assert kernel.array().dtype == np.float64

    @pytest.mark.parametrize("pair", [("prewitt_h", "prewitt_v"), ("sobel_h", "sobel_v"), ("scharr_h", "scharr_v"), ("shift_right", "shift_down")])
    def test_h_is_the_transpose_of_v(self, pair):
        h, v = (load_kernel(name).array() for name in pair)
        np.testing.assert_array_equal(h, v.T)

    def test_unsharp_is_twice_identity_minus_gaussian(self):
        identity = np.zeros((5, 5))
        identity[2, 2] = 1
        np.testing.assert_allclose(load_kernel("unsharp_5x5").array(), 2 * identity - load_kernel("gaussian_5x5").array(), atol=1e-15)

    @pytest.mark.parametrize("family", ["kirsch", "robinson"])
    def test_compass_kernels_are_45_degree_rotations(self, family):
        ring = [(0, 0), (0, 1), (0, 2), (1, 2), (2, 2), (2, 1), (2, 0), (1, 0)]
        north = load_kernel(f"{family}_n").array()
        values = [north[p] for p in ring]
        for steps, direction in enumerate(["n", "ne", "e", "se", "s", "sw", "w", "nw"]):
            expected = np.zeros((3, 3))
            for position, value in zip(ring, values[-steps:] + values[:-steps] if steps else values):
                expected[position] = value
            np.testing.assert_array_equal(load_kernel(f"{family}_{direction}").array(), expected, err_msg=direction)

    def test_robinson_west_is_sobel_v(self):
        np.testing.assert_array_equal(load_kernel("robinson_w").array(), load_kernel("sobel_v").array())

    def test_sums(self):
        for name in ("identity", "box_3x3", "gaussian_5x5", "sharpen", "sharpen_strong", "unsharp_5x5", "emboss"):
            assert load_kernel(name).sum == pytest.approx(1.0, abs=1e-15), name
        for name in ("sobel_v", "prewitt_h", "laplacian_8", "log_5x5", "kirsch_ne"):
            assert load_kernel(name).sum == 0.0, name

    def test_kernel_is_frozen_and_keeps_raw_matrix(self):
        kernel = load_kernel("gaussian_3x3")
        assert kernel.matrix == ((1.0, 2.0, 1.0), (2.0, 4.0, 2.0), (1.0, 2.0, 1.0))
        assert kernel.scale == 16 and kernel.divisor == 16
        assert kernel.path == catalog_dir() / "gaussian.json"
        with pytest.raises(AttributeError):
            kernel.name = "other"  # type: ignore[misc]
        assert kernel.array("float32").dtype == np.float32


# --------------------------------------------------------------------------- orientation

SIDES = {
    "left": lambda i, j, n: j < n // 2,
    "right": lambda i, j, n: j >= n // 2,
    "top": lambda i, j, n: i < n // 2,
    "bottom": lambda i, j, n: i >= n // 2,
    "top-left": lambda i, j, n: i + j < n,
    "bottom-right": lambda i, j, n: i + j >= n,
    "top-right": lambda i, j, n: j - i > 0,
    "bottom-left": lambda i, j, n: j - i <= 0,
}
ORIENTED = {
    "prewitt_v": "left", "sobel_v": "left", "scharr_v": "left",
    "prewitt_h": "top", "sobel_h": "top", "scharr_h": "top",
    "roberts_pos_diag": "top-left", "roberts_neg_diag": "top-right",
    "emboss": "bottom-right",
    **{f"{fam}_{d}": side for fam in ("kirsch", "robinson") for d, side in zip(
        ["n", "ne", "e", "se", "s", "sw", "w", "nw"],
        ["top", "top-right", "right", "bottom-right", "bottom", "bottom-left", "left", "top-left"])},
}
OPPOSITE = {"left": "right", "right": "left", "top": "bottom", "bottom": "top", "top-left": "bottom-right",
            "bottom-right": "top-left", "top-right": "bottom-left", "bottom-left": "top-right"}


def step_image(side: str, n: int = 12) -> np.ndarray:
    """An n x n image, 10 on the given side of a straight edge and 0 on the other."""
    i, j = np.indices((n, n))
    return np.where(SIDES[side](i, j, n), 10.0, 0.0)


def interior_response(kernel: Kernel, image: np.ndarray) -> np.ndarray:
    """Correlate (no flip, as the lecture) and drop a border where the zero padding interferes."""
    weights = kernel.array()
    if kernel.name == "emboss":  # emboss = identity + a zero-sum gradient; test the gradient
        weights = weights - np.pad([[1.0]], 1)
    out = ndimage.correlate(image, weights, mode="constant")
    return out[3:-3, 3:-3]


class TestOrientation:
    def test_every_oriented_kernel_is_tested(self):
        oriented = {k.name for k in list_kernels() if "positive where the" in k.description and k.family != "laplacian"}
        assert oriented == set(ORIENTED)

    @pytest.mark.parametrize("name", sorted(ORIENTED))
    def test_positive_on_the_documented_side(self, name):
        kernel, side = load_kernel(name), ORIENTED[name]
        assert f"positive where the {side} side is brighter" in kernel.description
        bright = interior_response(kernel, step_image(side))
        assert bright.min() >= -1e-12 and bright.max() > 0
        dark = interior_response(kernel, step_image(OPPOSITE[side]))
        assert dark.max() <= 1e-12 and dark.min() < 0

    def test_lecture_step_image(self):
        # worked example 3: six rows of 10 10 10 0 0 0, valid -> four rows of 0 30 30 0
        image = np.tile([10.0, 10, 10, 0, 0, 0], (6, 1))
        out = ndimage.correlate(image, load_kernel("prewitt_v").array(), mode="constant")[1:-1, 1:-1]
        np.testing.assert_array_equal(out, np.tile([0.0, 30, 30, 0], (4, 1)))

    @pytest.mark.parametrize("name, bright_sign", [("laplacian_4", -1), ("laplacian_8", -1), ("log_5x5", +1)])
    def test_laplacian_sign_at_an_edge(self, name, bright_sign):
        kernel = load_kernel(name)
        bright_word = "negative" if bright_sign < 0 else "positive"
        assert f"{bright_word} on the bright side" in kernel.description
        row = ndimage.correlate(step_image("left"), kernel.array(), mode="constant")[6]
        assert np.sign(row[5]) == bright_sign and np.sign(row[6]) == -bright_sign  # last bright, first dark
        assert row[3] == 0 and row[8] == 0  # flat areas

    @pytest.mark.parametrize("name, shift", [("shift_down", (1, 0)), ("shift_right", (0, 1))])
    def test_shift_moves_the_image(self, name, shift):
        image = np.zeros((5, 5))
        image[2, 2] = 1
        out = ndimage.correlate(image, load_kernel(name).array(), mode="constant")
        assert out[2 + shift[0], 2 + shift[1]] == 1 and out.sum() == 1


# --------------------------------------------------------------------------- separable


class TestSeparable:
    @pytest.mark.parametrize("name", ["gaussian_3x3", "gaussian_5x5", "gaussian_7x7", "box_3x3", "box_5x5", "sobel_v", "sobel_h", "prewitt_v", "prewitt_h", "scharr_v", "identity", "gaussian:1.5", "box:4"])
    def test_separable(self, name):
        assert load_kernel(name).separable is True

    @pytest.mark.parametrize("name", ["laplacian_4", "laplacian_8", "log_5x5", "sharpen", "sharpen_strong", "smooth_weighted", "emboss", "kirsch_n", "roberts_pos_diag", "unsharp_5x5"])
    def test_not_separable(self, name):
        assert load_kernel(name).separable is False

    @pytest.mark.parametrize("kernel", list_kernels(), ids=lambda k: k.name)
    def test_agrees_with_matrix_rank(self, kernel):
        assert kernel.separable == (np.linalg.matrix_rank(kernel.array()) <= 1)

    def test_rank_one_with_rounding_noise_and_rows(self):
        row = Kernel("row", ((1.0, 2.0, 3.0),))
        assert row.separable
        outer = np.outer([1, 2, 1], [1, 0, -1])
        rounding = parse_kernels({"name": "r", "matrix": (outer + 1e-13).tolist()})[0]
        # (audit90 F9: this was labelled separable, within 1e-9; the compute path, 8 eps, rightly applies it in 2-D)
        assert rounding.separable is False
        rank_two = parse_kernels({"name": "n", "matrix": (outer + 1e-3).tolist()})[0]
        assert rank_two.separable is False
        exact = np.outer([0.1, 0.7, 0.2], [0.3, 0.3, 0.4])
        assert parse_kernels({"name": "e", "matrix": exact.tolist()})[0].separable is True


# --------------------------------------------------------------------------- parametric


class TestParametric:
    @pytest.mark.parametrize("sigma", [0.3, 0.5, 1.0, 1.5, 2.0, 3.3])
    def test_gaussian_matches_scipy(self, sigma):
        kernel = load_kernel(f"gaussian:{sigma}")
        radius = math.ceil(3 * sigma)
        size = 2 * radius + 1
        assert kernel.shape == (size, size)
        values = kernel.array()
        assert values.sum() == pytest.approx(1.0, abs=1e-12)
        np.testing.assert_array_equal(values, values.T)
        np.testing.assert_array_equal(values, values[::-1, ::-1])
        assert values.argmax() == values.size // 2
        impulse = np.zeros((size, size))
        impulse[radius, radius] = 1
        reference = ndimage.gaussian_filter(impulse, sigma, mode="constant", truncate=radius / sigma)
        np.testing.assert_allclose(values, reference, rtol=1e-12, atol=1e-15)

    def test_gaussian_name_and_family(self):
        kernel = load_kernel("Gaussian:2")
        assert kernel.name == "gaussian:2" and kernel.slug == "gaussian_2" and kernel.family == "gaussian"
        assert kernel.scale == "sum" and kernel.sum == 1.0 and kernel.path is None
        assert load_kernel("gaussian:0.25").name == "gaussian:0.25"

    def test_largest_gaussian(self):
        assert load_kernel("gaussian:42").shape == (253, 253)

    @pytest.mark.parametrize("n", [1, 2, 3, 7])
    def test_box(self, n):
        kernel = load_kernel(f"box:{n}")
        assert kernel.shape == (n, n) and kernel.name == f"box:{n}"
        np.testing.assert_array_equal(kernel.array(), np.full((n, n), 1.0 / n**2))
        assert kernel.sum == pytest.approx(1.0)

    @pytest.mark.parametrize(
        "spec, message",
        [
            ("gaussian:0", "positive finite"),
            ("gaussian:-1", "positive finite"),
            ("gaussian:nan", "positive finite"),
            ("gaussian:inf", "positive finite"),
            ("gaussian:abc", r"sigma 'abc' is not a number"),
            ("gaussian:", "is not a number"),
            ("gaussian:50", r"gives a 301x301 kernel, larger than 255 per side"),
            ("box:0", "whole number from 1 to 255"),
            ("box:256", "whole number from 1 to 255"),
            ("box:2.5", "whole number from 1 to 255"),
            ("box:x", "whole number from 1 to 255"),
        ],
    )
    def test_bad_specs(self, spec, message):
        with pytest.raises(InvalidKernel, match=message) as info:
            load_kernel(spec)
        assert spec.split(":")[0] in str(info.value)


# --------------------------------------------------------------------------- faults in kernel files

ONE = {"name": "k", "matrix": [[1, 0, -1], [2, 0, -2], [1, 0, -1]]}


def family_file(**kernel_fields):
    return {"family": "mine", "kernels": [{**ONE, **kernel_fields}]}


class TestFileFaults:
    @pytest.mark.parametrize(
        "content, message",
        [
            # wrong types
            (family_file(matrix=[[1, {}, 3]]), r"my\.json: kernels\[0\]\.matrix: row 1, column 2 is an object, expected a number$"),
            (family_file(matrix=[[1, "2", 3]]), r"kernels\[0\]\.matrix: row 1, column 2 is the string \"2\", expected a number \(write numbers without quotes\)"),
            (family_file(matrix=[[1, 2], [None, 4]]), r"kernels\[0\]\.matrix: row 2, column 1 is null, expected a number"),
            (family_file(matrix="[[1]]"), r"kernels\[0\]\.matrix: is the string .*, expected 2-D"),
            (family_file(matrix=[[1, 2], 3]), r"kernels\[0\]\.matrix: row 2 is 3, expected a list of 2 values"),
            (family_file(matrix=[[1, 2], [[3], 4]]), r"kernels\[0\]\.matrix: row 2, column 1 is a list, expected a number"),
            # shape
            (family_file(matrix=[[1, 2, 3], [4]]), r"/my\.json: kernels\[0\]\.matrix: row 2 has 1 value, expected 3$"),
            (family_file(matrix=[[1, 2, 3], [4, 5, 6, 7]]), r"kernels\[0\]\.matrix: row 2 has 4 values, expected 3"),
            (family_file(matrix=[]), r"kernels\[0\]\.matrix: is empty, expected at least one row"),
            (family_file(matrix=[[]]), r"kernels\[0\]\.matrix: row 1 is empty"),
            (family_file(matrix=[[[1, 2]], [[3, 4]]]), r"kernels\[0\]\.matrix: is 3-D \(lists nested 3 deep\), expected 2-D"),
            (family_file(matrix=[[[]]]), r"kernels\[0\]\.matrix: is 3-D"),
            (family_file(matrix=[1, 2, 3]), r"kernels\[0\]\.matrix: is 1-D .*expected 2-D.*\[\[\.\.\.\]\]"),
            (family_file(matrix=[[0] * 256]), r"kernels\[0\]\.matrix: has 256 columns, at most 255 per side"),
            (family_file(matrix=[[0]] * 256), r"kernels\[0\]\.matrix: has 256 rows, at most 255 per side"),
            # keys
            (family_file(normalise=True), r'kernels\[0\]: unknown key "normalise"; to divide by the sum write "scale": "sum"'),
            (family_file(sacle=2), r'kernels\[0\]: unknown key "sacle"; did you mean "scale"\?'),
            ({"family": "mine", "kernel": [ONE]}, r'my\.json: unknown key "kernel"; did you mean "kernels"\?'),
            ({"family": "mine", "kernels": [{"name": "k"}]}, r'kernels\[0\]: missing key "matrix"'),
            ({"family": "mine", "kernels": [{"matrix": [[1]]}]}, r'kernels\[0\]: missing key "name"'),
            ({"kernels": [ONE]}, r'my\.json: missing key "family"'),
            ({"family": "mine", "kernels": []}, r"my\.json: kernels: is empty, expected at least one kernel"),
            ({"family": "mine", "kernels": ONE}, r"my\.json: kernels: is an object, expected a list"),
            ({"family": "mine", "kernels": [[1]]}, r"my\.json: kernels\[0\]: is a list, expected an object"),
            ({"family": "My Family", "kernels": [ONE]}, r'my\.json: family: "My Family" is not a valid name.*\(e\.g\. "my_family"\)'),
            ([ONE], r"my\.json: is a list, expected a JSON object"),
            ({"matrx": [[1]]}, r'my\.json: expected "family" and "kernels" .* found keys: "matrx"'),
            # scale
            (family_file(scale="sum"), r'kernels\[0\]\.scale: "sum", but the matrix sums to 0'),
            (family_file(scale=0), r"kernels\[0\]\.scale: is 0 and cannot be divided by"),
            (family_file(scale=True), r'kernels\[0\]\.scale: is true, expected a number \(the divisor\) or "sum"'),
            (family_file(scale=None), r"kernels\[0\]\.scale: is null"),
            (family_file(scale="mean"), r'kernels\[0\]\.scale: is the string "mean", expected'),
            (family_file(scale=1e-320), r"kernels\[0\]\.scale: is 1e-320: dividing the matrix by it overflows"),
            # names and text
            (family_file(name="Sobel V"), r'kernels\[0\]\.name: "Sobel V" is not a valid name: .*\[a-z0-9_\]\+.*"sobel_v"'),
            (family_file(name="sobel.v"), r'kernels\[0\]\.name: "sobel\.v" is not a valid name'),
            (family_file(name=7), r"kernels\[0\]\.name: is 7, expected a string"),
            (family_file(name="k" * 65), r"kernels\[0\]\.name: is 65 characters long"),
            (family_file(description="two\nlines"), r"kernels\[0\]\.description: must be one line"),
            (family_file(source=["a"]), r"kernels\[0\]\.source: is a list, expected a string"),
            ({"family": "mine", "kernels": [ONE, ONE]}, r"kernels\[1\]\.name: 'k' is already used by kernels\[0\]"),
            # single kernel at top level: field paths have no kernels[i] prefix
            ({"name": "k", "matrix": [[1, 2], [3]]}, r"/my\.json: matrix: row 2 has 1 value, expected 2$"),
            ({"name": "k", "matrix": [[1]], "normalize": True}, r'/my\.json: unknown key "normalize"'),
        ],
    )
    def test_fault_names_file_and_field(self, tmp_path, content, message):
        path = write(tmp_path, content)
        with pytest.raises(InvalidKernel, match=message) as info:
            load_kernel(str(path))
        assert str(info.value).startswith(str(path))
        assert "\n" not in str(info.value)

    @pytest.mark.parametrize(
        "text, message",
        [
            ("NaN", r"row 1, column 2 is NaN, expected a finite number"),
            ("Infinity", r"row 1, column 2 is Infinity, expected a finite number"),
            ("-Infinity", r"row 1, column 2 is -Infinity, expected a finite number"),
            ("1e400", r"row 1, column 2 is 1e400 \(beyond the float range\), expected a finite number"),
            pytest.param("1" + "0" * 400, r"row 1, column 2 is 1" + "0" * 19 + r"\.\.\. \(beyond the float range\)", id="10**400"),
        ],
    )
    def test_non_finite_values_are_refused(self, tmp_path, text, message):
        path = write(tmp_path, '{"family": "mine", "kernels": [{"name": "k", "matrix": [[1, %s]]}]}' % text)
        with pytest.raises(InvalidKernel, match=r"my\.json: kernels\[0\]\.matrix: " + message):
            load_kernel(str(path))

    @pytest.mark.parametrize("text", ["NaN", "Infinity", "1e999"])
    def test_non_finite_scale_is_refused(self, tmp_path, text):
        path = write(tmp_path, '{"name": "k", "matrix": [[1, 1]], "scale": %s}' % text)
        with pytest.raises(InvalidKernel, match=r'my\.json: scale: is .*expected a finite non-zero number or "sum"'):
            load_kernel(str(path))

    def test_huge_finite_values_whose_sum_overflows(self, tmp_path):
        path = write(tmp_path, '{"name": "k", "matrix": [[1e308, 1e308]]}')
        with pytest.raises(InvalidKernel, match=r"matrix: values are too large"):
            load_kernel(str(path))

    def test_malformed_json_says_line_and_column(self, tmp_path):
        path = write(tmp_path, '{\n  "name": "k",\n  "matrix": [[1, 2],, [3, 4]]\n}\n')
        with pytest.raises(InvalidKernel, match=r"^.*my\.json: not valid JSON: Expecting value \(line 3, column 21\)$"):
            load_kernel(str(path))

    def test_truncated_json(self, tmp_path):
        path = write(tmp_path, '{"name": "k", "matrix": [[1, 2]')
        with pytest.raises(InvalidKernel, match=r"my\.json: not valid JSON: .*\(line 1, column \d+\)"):
            load_kernel(str(path))

    def test_duplicate_key(self, tmp_path):
        path = write(tmp_path, '{"name": "k", "matrix": [[1]], "matrix": [[2]]}')
        with pytest.raises(InvalidKernel, match=r'my\.json: key "matrix" appears twice'):
            load_kernel(str(path))

    def test_oversized_file_is_refused_before_parsing(self, tmp_path, monkeypatch):
        path = write(tmp_path, "[" * (MAX_FILE_BYTES + 1))
        import kernelcli.catalog_files as catalog_files  # (read_kernel_file's home: the patch must reach what runs)

        def no_parse(*args, **kwargs):
            raise AssertionError("parsed an oversized file")

        monkeypatch.setattr(catalog_files, "_parse_json", no_parse)
        with pytest.raises(InvalidKernel, match=r"my\.json: file is 1048577 bytes, more than the 1048576 \(1 MiB\) allowed"):
            load_kernel(str(path))

    def test_deep_nesting_is_refused(self, tmp_path):
        path = write(tmp_path, '{"name": "k", "matrix": ' + "[" * 200_000 + "]" * 200_000 + "}")
        with pytest.raises(InvalidKernel, match=r"my\.json: "):
            load_kernel(str(path))

    def test_not_utf8(self, tmp_path):
        path = tmp_path / "my.json"
        path.write_bytes(b'{"name": "k\xff", "matrix": [[1]]}')
        with pytest.raises(InvalidKernel, match=r"my\.json: not UTF-8 text"):
            load_kernel(str(path))

    def test_missing_file_and_folder(self, tmp_path):
        with pytest.raises(KernelNotFound, match=r"nope\.json: no such file"):
            load_kernel(str(tmp_path / "nope.json"))
        folder = tmp_path / "dir.json"
        folder.mkdir()
        with pytest.raises(InvalidKernel, match=r"dir\.json: is a folder"):
            load_kernel(str(folder))

    def test_three_d_only_when_asked(self, tmp_path):
        path = tmp_path / "rgb.json"
        cube = [[[1, 0, -1]] * 3] * 3
        path.write_text(json.dumps({"name": "edge_rgb", "matrix": cube}))
        with pytest.raises(InvalidKernel, match=r"rgb\.json: matrix: is 3-D"):
            load_kernel(str(path))
        kernel = load_kernel(str(path), max_ndim=3)
        assert kernel.shape == (3, 3, 3) and kernel.separable is False
        assert kernel.array().tolist() == cube

    def test_exit_code_is_3(self):
        assert InvalidKernel.exit_code == KernelNotFound.exit_code == EXIT_KERNEL == 3


# --------------------------------------------------------------------------- user files and specs


class TestUserFiles:
    def test_single_kernel_file(self, tmp_path):
        path = write(tmp_path, {"$schema": "kernel.schema.json", "name": "avg", "matrix": [[1, 1], [1, 1]], "scale": "sum", "description": "mean"})
        kernel = load_kernel(str(path))
        assert kernel.name == "avg" and kernel.family == "custom" and kernel.path == path
        np.testing.assert_array_equal(kernel.array(), np.full((2, 2), 0.25))
        assert kernel.scale == "sum" and kernel.divisor == 4 and kernel.sum == 1.0

    def test_numeric_scale_and_floats(self, tmp_path):
        path = write(tmp_path, {"name": "k", "matrix": [[0.5, -1.5]], "scale": -2})
        np.testing.assert_array_equal(load_kernel(str(path)).array(), [[-0.25, 0.75]])

    def test_family_file_with_one_kernel_loads_it(self, tmp_path):
        path = write(tmp_path, family_file())
        assert load_kernel(str(path)).family == "mine"

    def test_several_kernels_need_a_selector(self, tmp_path):
        path = write(tmp_path, {"family": "mine", "kernels": [{**ONE, "name": "a"}, {**ONE, "name": "b_c"}]})
        with pytest.raises(InvalidKernel, match=r"my\.json: holds 2 kernels \(a, b_c\); pick one with .*my\.json:NAME"):
            load_kernel(str(path))
        assert load_kernel(f"{path}:b_c").name == "b_c"
        assert load_kernel(f"{path}:B-C").name == "b_c"
        with pytest.raises(KernelNotFound, match=r"my\.json: no kernel named 'zz'; it holds: a, b_c"):
            load_kernel(f"{path}:zz")

    def test_relative_path_and_bare_json_name_are_paths(self, tmp_path, monkeypatch):
        monkeypatch.chdir(tmp_path)
        write(tmp_path, {**ONE, "name": "local"}, name="sobel_v.json")
        assert load_kernel("sobel_v.json").name == "local"  # no separator, but .json: a path
        assert load_kernel("./sobel_v.json").name == "local"
        assert load_kernel("sobel_v").path == catalog_dir() / "edge.json"  # a name: the catalogue

    def test_a_name_with_a_separator_is_never_looked_up(self, tmp_path, monkeypatch):
        monkeypatch.chdir(tmp_path)
        for spec in ("./sobel_v", "kernels/sobel_v", "sobel_v.json", "../sobel_v"):
            with pytest.raises(KernelNotFound, match="no such file"):
                load_kernel(spec)

    def test_a_name_is_never_read_from_the_current_folder(self, tmp_path, monkeypatch):
        monkeypatch.chdir(tmp_path)
        write(tmp_path, {**ONE, "name": "mine"}, name="mine.json")
        with pytest.raises(KernelNotFound, match=r"unknown kernel 'mine'.*a file 'mine\.json' is here.*give it as \./mine\.json"):
            load_kernel("mine")

    def test_unknown_name_suggests_close_matches(self):
        with pytest.raises(KernelNotFound, match=r"unknown kernel 'sobel_x' \(did you mean sobel_v, sobel_h\?\)") as info:
            load_kernel("sobel_x")
        assert "kernelcli kernels" in str(info.value)
        with pytest.raises(KernelNotFound, match=r"unknown kernel 'zzzz'; "):
            load_kernel("zzzz")

    def test_names_fold_case_and_dashes(self):
        assert load_kernel("Sobel-V").name == "sobel_v"

    @pytest.mark.parametrize("spec", ["", "  ", "sobel v", "sobel;rm", "a.b"])
    def test_not_a_spec(self, spec):
        with pytest.raises(InvalidKernel):
            load_kernel(spec)

    def test_kernel_path_env(self, tmp_path, monkeypatch):
        one, two = tmp_path / "one", tmp_path / "two"
        one.mkdir()
        two.mkdir()
        write(one, {"family": "ridges", "kernels": [{**ONE, "name": "ridge_v"}, {**ONE, "name": "ridge_h"}]}, name="ridges.json")
        write(two, {"name": "my_blur", "matrix": [[1, 1, 1]], "scale": 3}, name="blur.json")
        write(two, {"not": "a kernel"}, name="kernel.schema.json")  # schemas are skipped
        (two / "sub").mkdir()
        write(two / "sub", "not json", name="broken.json")  # subfolders are not scanned
        monkeypatch.setenv("KERNELCLI_KERNEL_PATH", os.pathsep.join([str(one), "", str(two), str(tmp_path / "missing")]))
        assert load_kernel("ridge_h").family == "ridges"
        blur = load_kernel("my_blur")
        assert blur.family == "custom" and blur.path == two / "blur.json"
        names = [k.name for k in list_kernels()]
        assert names.index("sobel_v") < names.index("ridge_v") < names.index("my_blur")
        assert "ridges" in families() and "custom" in families()
        with pytest.raises(KernelNotFound, match=r"searched .*missing \(missing\)"):
            load_kernel("nothing_here")

    def test_duplicate_names_across_the_catalogue(self, tmp_path, monkeypatch):
        # the README audit (87): one user file reusing a shipped name refused every lookup, -k prewitt_v and the
        # user's own other kernels too: that kernel is skipped with a note, and its name alone reads two ways
        path = write(tmp_path, {"name": "sobel_v", "matrix": [[1]]}, name="mine.json")
        write(tmp_path, {"name": "ridge", "matrix": [[1, 2, 1]]}, name="ridge.json")
        monkeypatch.setenv("KERNELCLI_KERNEL_PATH", str(tmp_path))
        with pytest.raises(InvalidKernel, match=r"sobel_v: reads two ways: duplicate kernel name 'sobel_v': defined in .*edge\.json and in .*mine\.json") as info:
            load_kernel("sobel_v")
        assert str(path) in str(info.value)
        assert load_kernel("identity").name == "identity" and load_kernel("ridge").array().tolist() == [[1, 2, 1]]
        assert "sobel_v" in [k.name for k in list_kernels()] and "ridge" in [k.name for k in list_kernels()]

    def test_a_broken_file_on_the_kernel_path_is_reported(self, tmp_path, monkeypatch):
        # skipped with a warning, and named where a lookup fails (it refused every lookup, shipped kernels too)
        import logging

        write(tmp_path, {"name": "bad", "matrix": [[1, 2], [3]]}, name="bad.json")
        monkeypatch.setenv("KERNELCLI_KERNEL_PATH", str(tmp_path))
        monkeypatch.setattr("kernelcli.catalog._NOTED", set())
        records: list[logging.LogRecord] = []
        handler = logging.Handler()
        handler.emit = records.append  # (the command line's note handler may hold the logger: pytest's capture would not see it)
        logging.getLogger("kernelcli").addHandler(handler)
        try:
            names = [k.name for k in list_kernels()]
        finally:
            logging.getLogger("kernelcli").removeHandler(handler)
        assert "sobel_v" in names and "bad" not in names
        assert any("bad.json: matrix: row 2 has 1 value, expected 2" in r.getMessage() for r in records)
        with pytest.raises(InvalidKernel, match=r"unknown kernel 'bad'; skipped as broken: .*bad\.json: matrix: row 2 has 1 value"):
            load_kernel("bad")

    def test_catalogue_folder_itself_is_scanned_only_at_top_level(self):
        nested = {p.relative_to(catalog_dir()).parts[0] for p in catalog_dir().rglob("*.json") if p.parent != catalog_dir()}
        loaded = {k.path for k in list_kernels()}
        assert all(path.parent == catalog_dir() for path in loaded)
        assert nested <= {"networks", "3d"}  # network specs, the named 3-D kernels (kernelcli.kernel_build)


def test_importing_and_loading_does_not_import_numpy():
    code = (
        "import sys, kernelcli.catalog as c; k = c.load_kernel('sobel_v'); c.list_kernels(); c.load_kernel('gaussian:2');"
        "print('numpy' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=Path(__file__).parent.parent, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


# --------------------------------------------------------------------------- CLI


class TestCli:
    def test_list_table(self, runner):
        result = runner.invoke(app, ["kernels"])
        assert result.exit_code == 0, result.output
        lines = result.stdout.splitlines()
        assert lines[0].split() == ["name", "family", "size", "sum", "separable", "description"]
        sobel = next(line for line in lines if line.startswith("sobel_v "))
        assert sobel.split()[:5] == ["sobel_v", "edge", "3x3", "0", "yes"]
        assert sobel.endswith(load_kernel("sobel_v").description)  # not cut in a pipe
        lap = next(line for line in lines if line.startswith("laplacian_4 "))
        assert lap.split()[:5] == ["laplacian_4", "laplacian", "3x3", "0", "no"]
        assert set(ALL_NAMES) <= {line.split()[0] for line in lines[2:] if line.strip()}

    def test_list_json(self, runner):
        result = runner.invoke(app, ["kernels", "--json"])
        assert result.exit_code == 0
        document = json.loads(result.stdout)
        by_name = {k["name"]: k for k in document["kernels"]}
        assert set(by_name) == set(ALL_NAMES)
        assert by_name["gaussian_5x5"]["separable"] is True and by_name["gaussian_5x5"]["sum"] == 1.0
        assert by_name["sobel_v"]["matrix"] == [[1, 0, -1], [2, 0, -2], [1, 0, -1]]
        assert by_name["box_3x3"]["scale"] == 9 and by_name["box_3x3"]["shape"] == [3, 3]

    def test_list_family(self, runner):
        result = runner.invoke(app, ["kernels", "--family", "gaussian", "--json"])
        assert [k["name"] for k in json.loads(result.stdout)["kernels"]] == ["gaussian_3x3", "gaussian_5x5", "gaussian_7x7"]
        result = runner.invoke(app, ["kernels", "--family", "edges"])
        assert result.exit_code == 2 and "did you mean 'edge'" in result.stderr

    def test_show(self, runner):
        result = runner.invoke(app, ["kernels", "show", "sobel_v"])
        assert result.exit_code == 0
        out = result.stdout
        assert "sobel_v" in out and "positive where the left side is brighter" in out and "scale: none" in out
        matrix = [line.split() for line in out.strip().splitlines()[-3:]]
        assert matrix == [["1", "0", "-1"], ["2", "0", "-2"], ["1", "0", "-1"]]

    def test_show_scaled_values(self, runner):
        out = runner.invoke(app, ["kernels", "show", "gaussian_3x3"]).stdout
        assert "scale: 16" in out
        assert [line.split() for line in out.strip().splitlines()[-3:]] == [
            ["0.0625", "0.125", "0.0625"], ["0.125", "0.25", "0.125"], ["0.0625", "0.125", "0.0625"]]

    def test_show_json(self, runner):
        result = runner.invoke(app, ["kernels", "show", "gaussian:1", "--json"])
        document = json.loads(result.stdout)
        assert document["shape"] == [7, 7] and document["scale"] == "sum"
        assert sum(map(sum, document["values"])) == pytest.approx(1.0)

    def test_show_user_file(self, runner, tmp_path):
        path = write(tmp_path, {"name": "half", "matrix": [[1, 1]], "scale": 2})
        out = runner.invoke(app, ["kernels", "show", str(path)]).stdout
        assert out.strip().splitlines()[-1].split() == ["0.5", "0.5"]

    def test_show_a_layer_kernel_file(self, runner, tmp_path):
        # a (channels, f, f) file that convolve takes for a layer was refused here as "is 3-D, expected 2-D"
        path = write(tmp_path, {"name": "rgb2", "matrix": [[[1, 0], [0, 1]], [[2, 0], [0, 2]], [[0, 3], [3, 0]]]})
        result = runner.invoke(app, ["kernels", "show", str(path)])
        assert result.exit_code == 0, result.output
        lines = result.stdout.strip().splitlines()
        assert "rgb2  (custom, 3x2x2," in lines[0]
        blocks = result.stdout.split("channel ")[1:]
        assert [b.split(":", 1)[0] for b in blocks] == ["0", "1", "2"]
        assert [line.split() for line in blocks[2].strip().splitlines()[1:]] == [["0", "3"], ["3", "0"]]
        document = json.loads(runner.invoke(app, ["kernels", "show", str(path), "--json"]).stdout)
        assert document["values"][1] == [[2, 0], [0, 2]]

    def test_help_has_examples(self, runner):
        for args in (["kernels", "--help"], ["kernels", "show", "--help"]):
            result = runner.invoke(app, args)
            assert result.exit_code == 0 and "Examples:" in result.stdout and "kernelcli kernels" in result.stdout

    def test_unknown_name_exits_3_with_one_line(self, cli):
        result = cli("kernels", "show", "sobel_x")
        assert result.returncode == 3
        assert result.stdout == ""
        assert result.stderr.strip().splitlines() == [
            "error: unknown kernel 'sobel_x' (did you mean sobel_v, sobel_h?); `kernelcli kernels` lists the catalogue"
        ]
        assert "Traceback" not in result.stderr

    def test_invalid_file_exits_3(self, tmp_path, cli):
        path = write(tmp_path, {"name": "k", "matrix": [[1, 2], [3]]})
        result = cli("kernels", "show", str(path))
        assert result.returncode == 3
        assert result.stderr.strip() == f"error: {path}: matrix: row 2 has 1 value, expected 2"

    def test_subprocess_list(self, cli):
        result = cli("kernels")
        assert result.returncode == 0 and "sobel_v" in result.stdout
        assert "gaussian:SIGMA" in result.stderr  # the hint goes to stderr, stdout keeps the table only


def test_a_kernel_file_is_parsed_again_whenever_its_content_changes(tmp_path):
    """The parse is remembered by content (the warm worker parses the catalogue once): the same
    bytes give the same kernels without a parse, other bytes -- even of the same size and
    time -- are parsed and validated afresh."""
    import os

    from kernelcli import catalog

    f = tmp_path / "mine.json"
    f.write_text('{"name": "k_a", "matrix": [[1, 2], [3, 4]]}')
    stamp = os.stat(f).st_mtime_ns
    first = catalog.read_kernel_file(f)
    assert catalog.read_kernel_file(f) == first
    f.write_text('{"name": "k_b", "matrix": [[5, 6], [7, 8]]}')
    os.utime(f, ns=(stamp, stamp))
    assert [k.name for k in catalog.read_kernel_file(f)] == ["k_b"]
    f.write_text('{"name": "k_c", "matrix": [[5, 6], [7, "x"]]}')
    with pytest.raises(catalog.InvalidKernel):
        catalog.read_kernel_file(f)
