"""samples/: the files are what samples/make_samples.py writes, byte for byte, and hold what they claim.

References: the lecture's matrices typed in from worked-examples.md, and the Shepp-Logan ellipse table
read at a few points whose grey level follows from the table by hand.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "samples"
SCRIPT = SAMPLES / "make_samples.py"

PNGS = ("phantom.png", "phantom16.png", "rgb.png")

#: worked-examples.md, sections 1-5, typed in from the lecture
WORKED_EXAMPLES = {
    "example1.csv": [[7, 2, 3, 3, 8], [4, 5, 3, 8, 4], [3, 3, 2, 8, 4], [2, 8, 7, 2, 7], [5, 4, 4, 5, 4]],
    "example2.csv": [
        [105, 102, 100, 97, 96],
        [103, 99, 103, 101, 102],
        [101, 98, 104, 102, 100],
        [99, 101, 106, 104, 99],
        [104, 104, 104, 100, 98],
    ],
    "example3.csv": [[10, 10, 10, 0, 0, 0] for _ in range(6)],
    "step_mirrored.csv": [[0, 0, 0, 10, 10, 10] for _ in range(6)],
    "example4.csv": [
        [3, 0, 1, 2, 7, 4],
        [1, 5, 8, 9, 3, 1],
        [2, 7, 2, 5, 1, 3],
        [0, 1, 3, 1, 7, 8],
        [4, 2, 1, 6, 2, 8],
        [2, 4, 5, 2, 3, 9],
    ],
    "example5.csv": [[7, 3, 5, 2], [8, 7, 1, 6], [4, 9, 3, 9], [0, 8, 4, 5]],
}

ALL_FILES = (*PNGS, *WORKED_EXAMPLES)


def read(name: str) -> np.ndarray:
    with Image.open(SAMPLES / name) as image:
        return np.asarray(image)


def pixel(x: float, y: float, n: int = 256) -> tuple[int, int]:
    """(row, col) of the pixel centre nearest to (x, y) in the phantom's [-1, 1] frame, y up."""
    half = (n - 1) / 2
    return round(half - y * half), round(half + x * half)


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("samples")
    proc = subprocess.run([sys.executable, str(SCRIPT), "--out", str(out)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return out


class TestScript:
    @pytest.mark.parametrize("name", ALL_FILES)
    def test_regenerates_the_committed_files_byte_for_byte(self, regenerated, name):
        assert (regenerated / name).read_bytes() == (SAMPLES / name).read_bytes()

    def test_writes_nothing_else(self, regenerated):
        assert sorted(p.name for p in regenerated.iterdir()) == sorted(ALL_FILES)

    def test_uses_only_stdlib_numpy_and_pillow(self):
        probe = (
            "import json, runpy, sys; before = set(sys.modules); runpy.run_path(sys.argv[1]);"
            "print(json.dumps(sorted({m.split('.')[0] for m in set(sys.modules) - before})))"
        )
        proc = subprocess.run([sys.executable, "-c", probe, str(SCRIPT)], capture_output=True, text=True, timeout=60)
        imported = set(json.loads(proc.stdout))
        assert {"numpy", "PIL"} <= imported
        assert not {m for m in imported - set(sys.stdlib_module_names) - {"numpy", "PIL"} if not m.startswith("_")}

    def test_files_are_small(self):
        assert sum((SAMPLES / name).stat().st_size for name in ALL_FILES) < 100_000


class TestPhantom:
    def test_8bit(self):
        with Image.open(SAMPLES / "phantom.png") as image:
            assert (image.format, image.mode, image.size) == ("PNG", "L", (256, 256))
        data = read("phantom.png")
        assert data.dtype == np.uint8 and (data.min(), data.max()) == (0, 255)

    def test_16bit_reads_back_as_uint16_above_255(self):
        with Image.open(SAMPLES / "phantom16.png") as image:
            assert (image.format, image.mode, image.size) == ("PNG", "I;16", (256, 256))
        data = read("phantom16.png")
        assert data.dtype == np.uint16
        assert (data.min(), data.max()) == (0, 65535)
        assert np.count_nonzero(data > 255) > 10_000

    def test_16bit_is_the_8bit_phantom_at_finer_steps(self):
        eight, sixteen = read("phantom.png").astype(np.int64), read("phantom16.png").astype(np.int64)
        assert np.abs(np.round(sixteen * 255 / 65535) - eight).max() == 0

    @pytest.mark.parametrize(
        ("x", "y", "value", "where"),
        [
            (0.0, 0.0, 0.2, "brain: 1.0 - 0.8"),
            (0.0, 0.9, 1.0, "skull, above the brain ellipse (top at 0.8556)"),
            (0.0, -0.9, 1.0, "skull, below"),
            (0.95, 0.95, 0.0, "outside the head"),
            (0.22, 0.0, 0.0, "right ventricle: 1.0 - 0.8 - 0.2"),
            (-0.22, 0.0, 0.0, "left ventricle"),
            (-0.36, 0.0, 0.0, "the left ventricle is the wider one (a = 0.16)"),
            (0.36, 0.0, 0.2, "so the same offset on the right is brain (a = 0.11)"),
            (0.0, 0.45, 0.3, "ellipse V above the centre: y is up"),
            (0.0, -0.45, 0.2, "nothing at the mirrored point below"),
            (0.0, -0.1, 0.3, "ellipse VII"),
        ],
    )
    def test_grey_levels_from_the_ellipse_table(self, x, y, value, where):
        row, col = pixel(x, y)
        assert read("phantom.png")[row, col] == round(value * 255), where

    def test_left_right_mirror_differs_only_in_the_ventricles_and_small_features(self):
        data = read("phantom.png")
        differs = np.argwhere(data != data[:, ::-1])
        assert differs.size  # the phantom is not symmetric ...
        rows = differs[:, 0]
        y = (127.5 - rows) / 127.5
        assert np.all((np.abs(y) < 0.45) | (y < -0.55))  # ... only where ellipses III/IV and VIII/X lie


class TestRgb:
    def test_mode_size_and_channels(self):
        with Image.open(SAMPLES / "rgb.png") as image:
            assert (image.format, image.mode, image.size) == ("PNG", "RGB", (128, 128))
        data = read("rgb.png").astype(int)
        assert data[0, 0].tolist() == [0, 0, 0]
        assert data[0, :64, 0].tolist() == sorted(data[0, :64, 0].tolist())  # red rises to the right
        assert data[64:, 127, 1].tolist() == sorted(data[64:, 127, 1].tolist())  # green rises downwards
        assert all(len(np.unique(data[..., c])) > 2 for c in range(3))


class TestMatrices:
    @pytest.mark.parametrize("name", WORKED_EXAMPLES)
    def test_equals_the_worked_example(self, name):
        with open(SAMPLES / name, newline="", encoding="ascii") as handle:
            rows = [[int(v) for v in row] for row in csv.reader(handle)]
        assert rows == WORKED_EXAMPLES[name]

    @pytest.mark.parametrize("name", WORKED_EXAMPLES)
    def test_numpy_reads_it(self, name):
        assert np.loadtxt(SAMPLES / name, delimiter=",", dtype=int).tolist() == WORKED_EXAMPLES[name]
