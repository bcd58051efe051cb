"""Audit 110: a volume's words (names, notes, refusals, help) say what is true, one way in every command."""

from __future__ import annotations

import pytest

from conftest import run_in_process


@pytest.mark.parametrize("args, missing", [
    (["volume", "missing_dir/", "--window", "lung", "--out", "lung.png"], "missing_dir"),
    (["volume", "missing_dir", "--keep-dtype", "-o", "o.nii.gz"], "missing_dir"),
    (["pool", "missing_dir", "-f", "2", "--series", "1", "-o", "o.png"], "missing_dir"),
    (["pool", "missing.png", "-f", "2", "--axis", "y"], "missing.png"),
    (["convolve", "missing.png", "-k", "sobel_v", "--keep-dtype"], "missing.png"),
])
def test_a_volume_option_on_a_missing_input_says_no_such_file(tmp_path, args, missing):
    """F2: 'volume ct_series/ --window lung' with the folder mistyped said '--window: only for volume inputs ...;
    got missing_dir, an image or array' (exit 2): the path is the fault, as without the option."""
    r = run_in_process(*args, cwd=tmp_path)
    assert r.returncode == 2 and r.stderr == f"error: {missing}: no such file\n", r.stderr


def test_a_volume_option_on_an_image_is_still_refused_by_name(tmp_path):
    from PIL import Image
    import numpy as np

    Image.fromarray(np.zeros((4, 4), np.uint8)).save(tmp_path / "g.png")
    r = run_in_process("convolve", "g.png", "-k", "sobel_v", "--keep-dtype", cwd=tmp_path)
    assert r.returncode == 2 and "--keep-dtype: only for volume inputs (NIfTI, DICOM); got g.png, an image or array" in r.stderr
    r = run_in_process("convolve", "-", "-k", "sobel_v", "--keep-dtype", cwd=tmp_path, input=(tmp_path / "g.png").read_bytes())
    assert r.returncode == 2 and "only for volume inputs" in r.stderr and "no such file" not in r.stderr, r.stderr
