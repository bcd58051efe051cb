"""Issue 16: random option values through every command.

Whatever the value (huge, negative, zero, NaN, infinite, overflowing integers, not a
number), a command ends with a documented exit code (never 70), one-line messages and no
traceback, and leaves no output file (nor temporary file) behind when it fails.  The
memory cap is small so that no accepted value can allocate much; options whose large
values only mean more work (``--epochs``, ``--workers``) are left out.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from kernelcli.cli import app

DOCUMENTED = {0, 1, 2, 3, 4}

#: command -> (base arguments, the options that take a number)
COMMANDS = {
    "convolve": (["g.png", "-k", "box:3", "--out", "o.png"], ["--stride", "--padding", "--pad-value", "--dilation", "--max-pixels", "--bias"]),
    "convolve-chain": (["g.png", "-k", "box:3", "--then", "maxpool:2", "--out", "o.png"], ["--stride", "--padding", "--dilation"]),
    "convolve-csv": (["m.csv", "-k", "gaussian:1", "--json"], ["--stride", "--padding", "--dilation"]),
    "pad": (["g.png", "--out", "o.png"], ["--p", "--value", "--max-pixels"]),
    "pool": (["g.png", "--out", "o.png"], ["--size", "--stride", "--padding"]),
    "shape": (["--in", "24", "--f", "3"], ["--in", "--f", "--s", "--p", "--dilation"]),
    "shape-pool": (["--in", "24", "--f", "2", "--pool"], ["--in", "--f", "--s", "--p"]),
    "params": (["--in-ch", "3", "--filters", "8", "--f", "3"], ["--in-ch", "--filters", "--f", "--groups"]),
    "summary": (["alexnet", "--json"], ["--depth", "--max-layers", "--input"]),
    "gallery": (["g.png", "--family", "edge", "--out", "sheet.png"], ["--tile", "--max-pixels"]),
    "learn": (["g.png", "t.npy"], ["--size", "--stride", "--dilation", "--lr", "--pad-value", "--padding"]),
    "volume": (["v.nii.gz", "-k", "box_3d", "--out", "o.nii.gz"], ["--pad-value", "--truncate", "--volume"]),
}

NUMBERS = st.one_of(
    st.sampled_from(["0", "-1", "1", "2", "nan", "NaN", "inf", "-inf", "1e308", "1e400", "-1e400", "1e-300",
                     "9223372036854775808", "18446744073709551616", "-9223372036854775809", "1" + "0" * 400,
                     "3.5", "abc", "", "1,2", "1,2,3,4", "-5,0,0,0"]),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(min_value=0, max_value=20).map(lambda k: str(10**k)),
)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("fuzz")
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (12, 12), dtype=np.uint8)).save(root / "g.png")
    np.save(root / "t.npy", rng.random((12, 12)))
    (root / "m.csv").write_text("\n".join(",".join(str(v) for v in row) for row in rng.integers(0, 9, (5, 5))) + "\n")
    try:
        import nibabel as nib

        nib.save(nib.Nifti1Image(rng.random((6, 6, 6)).astype(np.float32), np.eye(4)), root / "v.nii.gz")
    except ImportError:
        pass
    return root


def _files(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()}


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_random_option_values(command, folder, runner, monkeypatch):
    base, numeric = COMMANDS[command]
    if command == "volume":
        pytest.importorskip("nibabel")
    monkeypatch.chdir(folder)
    monkeypatch.setenv("KERNELCLI_MAX_MEMORY", "64M")
    before = _files(folder)
    name = command.split("-")[0]

    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
    @given(option=st.sampled_from(numeric), value=NUMBERS)
    def run(option, value):
        result = runner.invoke(app, [name, *base, option, value], prog_name="kernelcli")
        text = result.output + (result.stderr if result.stderr_bytes is not None else "")
        assert result.exit_code in DOCUMENTED, (option, value, result.exit_code, text[-600:])
        assert "Traceback" not in text and "RuntimeWarning" not in text, (option, value, text[-600:])
        if "--json" in base and result.exit_code == 0:
            json.loads(result.stdout)  # always valid JSON (no bare NaN)
        left = _files(folder) - before
        if result.exit_code != 0:
            assert not left, (option, value, left)
        assert not [n for n in left if n.endswith(".part")]
        for extra in left:
            os.unlink(folder / extra)

    run()
