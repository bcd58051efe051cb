"""Audit 131 (the README after the session's changes): the words of a volume's --format refusal, alone, in a batch and
on stdout (#1, #2); --activation named among what --layout zyx cannot take with a 3-D kernel (#6); a 2-D NIfTI on the
tiled path told it is one slice, not to extract a volume (#7).  (#5, a stopped call's report not written said in a
note: test_batch_records_audit126.)"""

from __future__ import annotations

import numpy as np
import pytest

from conftest import run_in_process

FORMAT_WORDS = ("unsupported output type '.tif' for a volume: --format takes npy or png for a volume (a .nii.gz or .nii "
                "output is named with -o)")


@pytest.fixture
def vols(tmp_path):
    nib = pytest.importorskip("nibabel")
    (tmp_path / "vols").mkdir()
    image = nib.Nifti1Image(np.ones((6, 7, 5), np.float32), np.diag([1, 1, 2, 1]))
    image.header.set_xyzt_units("mm")
    for name in ("a", "b"):
        nib.save(image, tmp_path / "vols" / f"{name}.nii.gz")
    nib.save(nib.Nifti1Image(np.ones((9, 8), np.float32), np.eye(4)), tmp_path / "two.nii")
    return tmp_path


@pytest.mark.parametrize("command", [["convolve", "-k", "box_3d"], ["pool", "-f", "2"]])
def test_a_volumes_format_is_refused_in_one_wording_alone_in_a_batch_and_on_stdout(vols, command):
    """#1, #2: alone 'a_box_3d.tif: ... expected one of .nii.gz, .nii, .npy, .png', on stdout the same (stdout takes no
    .nii.gz), in a batch '--format tif: ... expected npy or png (without --format: .nii.gz)'."""
    name, *rest = command
    alone = run_in_process(name, "vols/a.nii.gz", *rest, "--format", "tif", cwd=vols)
    stdout = run_in_process(name, "vols/a.nii.gz", *rest, "-o", "-", "--format", "tif", cwd=vols)
    batch = run_in_process(name, "vols", *rest, "--format", "tif", "--out-dir", "o", cwd=vols)
    for done in (alone, stdout, batch):
        assert done.returncode == 2 and done.stderr.startswith(f"error: --format tif: {FORMAT_WORDS}"), done.stderr
    assert not (vols / "o").exists() and not list(vols.glob("*.tif"))


def test_an_activation_is_named_among_what_a_zyx_3d_kernel_cannot_take(tmp_path):
    np.save(tmp_path / "v.npy", np.ones((6, 7, 8), np.float32))
    np.save(tmp_path / "k3.npy", np.ones((3, 3, 3)))
    done = run_in_process("convolve", "v.npy", "--layout", "zyx", "-k", "k3.npy", "--activation", "relu", "-o", "o.npy",
                          cwd=tmp_path)
    # (the refusal names what this call gave, review of audit 158: "an activation would treat the slices as channels")
    assert done.returncode == 2 and "an activation would treat the slices as channels" in done.stderr, done.stderr


def test_a_2d_nifti_on_the_tiled_path_is_told_it_is_one_slice(vols):
    pytest.importorskip("dask")
    done = run_in_process("convolve", "two.nii", "-k", "box_3d", "--tiled", "-o", "t.nii", cwd=vols)
    said = "a 2-D image (1x8x9 as (Z, Y, X)): its header has no slice axis, so no slice thickness; the tiled path takes a 3-D volume"
    assert done.returncode == 2 and said in done.stderr  # (not "one slice": a one-slice 3-D header runs, review 52 #5)
    assert "extract one" not in done.stderr and "--volume" not in done.stderr
