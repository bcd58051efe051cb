"""An option given a value that is false in Python (0, '') is given all the same, and an output-naming
option reaches every path.

Before: ``params -f ''`` counted a 3x3 filter; ``--volume 0``, ``--truncate 0``, ``--window ''`` and
``--series ''`` on an image ran in silence where any other value was refused; ``--suffix ''`` named the
outputs as if it were not given; and a single volume input (``convolve``/``volume``/``pool``, in memory
or tile by tile) took neither ``--suffix`` nor ``--format``: ``volume ct.nii.gz -k box:3vox --suffix s
--format npy`` wrote ``ct_box_3vox.nii.gz``.
"""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from conftest import SAMPLES, run_in_process

VOLUME = SAMPLES / "phantom3d.nii.gz"


def one_line_error(result, code, *words):
    assert result.returncode == code, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    for word in words:
        assert word in result.stderr


def test_params_refuses_an_empty_size(tmp_path):
    result = run_in_process("params", "--in-ch", "4", "--filters", "8", "-f", "", "-q", cwd=tmp_path)
    one_line_error(result, 2, "Invalid value for '--size' / '-f' / '--f': ''")
    assert run_in_process("params", "--in-ch", "4", "--filters", "8", "-q", cwd=tmp_path).stdout == "296\n"


@pytest.mark.parametrize("dims, noted", [("4x4", True), ("4", True), ("4x4x3", False)])
def test_params_layout_on_a_flatten_that_is_not_3d_is_noted(tmp_path, dims, noted):
    result = run_in_process("params", "--flatten", dims, "--layout", "chw", cwd=tmp_path)
    assert result.returncode == 0
    assert ("--layout chw names the axes of a 3-D --flatten" in result.stderr) is noted
    quiet = run_in_process("params", "--flatten", dims, "--layout", "chw", "-q", cwd=tmp_path)
    assert quiet.stderr == ""


@pytest.mark.parametrize("command, option, value", [  # (--truncate 0 is out of its range, refused as typed)
    ("convolve", "--volume", "0"), ("convolve", "--window", ""),
    ("convolve", "--series", ""), ("pool", "--volume", "0"), ("pool", "--window", ""), ("pool", "--series", ""),
])
def test_a_volume_option_given_a_false_value_is_refused_on_an_image(tmp_path, command, option, value):
    size = ["-k", "box:3"] if command == "convolve" else ["-f", "2"]
    result = run_in_process(command, str(SAMPLES / "example1.csv"), *size, option, value, "-o", "o.csv", cwd=tmp_path)
    # (an empty --window is refused by its own option first, as every bad window is: audit 98 #10)
    one_line_error(result, 2, option, "invalid window ''" if option == "--window" else "only for volume inputs")
    assert not (tmp_path / "o.csv").exists()


def test_an_empty_suffix_keeps_the_input_name(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("phantom.png", "rgb.png"):
        shutil.copy(SAMPLES / name, folder)
    batch = run_in_process("convolve", "in", "-k", "box:3", "-d", "out", "--suffix", "", "-q", cwd=tmp_path)
    assert batch.returncode == 0, batch.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["phantom.png", "rgb.png"]
    single = run_in_process("pool", str(SAMPLES / "phantom.png"), "-f", "2", "--suffix", "", "-q", cwd=tmp_path)
    assert single.returncode == 0 and (tmp_path / "phantom.png").exists()
    # in the input's own folder it names the input: refused, the input untouched
    before = (folder / "phantom.png").read_bytes()
    again = run_in_process("convolve", "phantom.png", "-k", "box:3", "--suffix", "", cwd=folder)
    one_line_error(again, 4, "phantom.png", "overwrite the input")
    assert (folder / "phantom.png").read_bytes() == before


@pytest.mark.parametrize("command, operation", [("volume", ["-k", "box:3vox"]), ("pool", ["-f", "2"])])
def test_a_single_volume_takes_suffix_and_format(tmp_path, command, operation):
    from nibabel import load

    named = run_in_process(command, str(VOLUME), *operation, "--suffix", "s", "--json", cwd=tmp_path)
    assert named.returncode == 0, named.stderr
    assert json.loads(named.stdout)["output"] == "phantom3d_s.nii.gz"
    as_npy = run_in_process(command, str(VOLUME), *operation, "--format", "npy", "-q", cwd=tmp_path)
    assert as_npy.returncode == 0, as_npy.stderr
    stem = "phantom3d_box_3vox" if command == "volume" else "phantom3d_maxpool2"
    nifti = np.asarray(load(tmp_path / "phantom3d_s.nii.gz").dataobj)  # (X, Y, Z); a .npy is (Z, Y, X)
    np.testing.assert_array_equal(np.load(tmp_path / f"{stem}.npy"), nifti.transpose(2, 1, 0))
    kept = run_in_process(command, str(VOLUME), *operation, "--suffix", "", "-q", cwd=tmp_path)
    assert kept.returncode == 0 and (tmp_path / "phantom3d.nii.gz").exists()


def test_a_single_volume_tile_by_tile_takes_suffix_and_format(tmp_path):
    pytest.importorskip("dask")
    import gzip

    (tmp_path / "v.nii").write_bytes(gzip.decompress(VOLUME.read_bytes()))
    named = run_in_process("volume", "v.nii", "-k", "box:3vox", "--tiled", "--suffix", "t", "-q", cwd=tmp_path)
    assert named.returncode == 0 and (tmp_path / "v_t.nii").exists(), named.stderr
    pooled = run_in_process("pool", "v.nii", "-f", "2", "--tiled", "--format", "npy", "-q", cwd=tmp_path)
    assert pooled.returncode == 0 and (tmp_path / "v_maxpool2.npy").exists(), pooled.stderr
    png = run_in_process("volume", "v.nii", "-k", "box:3vox", "--tiled", "--format", "png", cwd=tmp_path)
    one_line_error(png, 2, "v_box_3vox.png", "the tiled volume path writes .nii")


def test_suffix_beside_out_is_noted_for_a_volume(tmp_path):
    result = run_in_process("volume", str(VOLUME), "-k", "box:3vox", "--suffix", "s", "-o", "a.nii.gz", cwd=tmp_path)
    assert result.returncode == 0 and "--suffix 's' names the outputs --out does not" in result.stderr


def test_resample_slices_on_a_volume_that_is_not_dicom_is_refused(tmp_path):
    # medical audit F3: it ran and changed nothing, where --series on a file is refused
    result = run_in_process("volume", str(VOLUME), "-k", "box:3vox", "--resample-slices", "-o", "o.nii.gz", cwd=tmp_path)
    one_line_error(result, 2, "--resample-slices", "not DICOM")
    assert not (tmp_path / "o.nii.gz").exists()


@pytest.mark.parametrize("out, fmt, named", [("o.nii.gz", "png", "NIfTI"), ("o.nii", "npy", "NIfTI"), ("o.zarr", "npy", "Zarr")])
def test_a_format_that_contradicts_a_volume_output_is_refused(tmp_path, out, fmt, named):
    # medical audit F4: 'volume ct.nii.gz --format png -o x.nii.gz' wrote NIfTI in silence; an image's is refused
    for command, operation in (("volume", ["-k", "box:3vox"]), ("pool", ["-f", "2"])):
        result = run_in_process(command, str(VOLUME), *operation, "--format", fmt, "-o", out, cwd=tmp_path)
        one_line_error(result, 2, f"--out {out} names {named} but --format {fmt}")
    assert list(tmp_path.iterdir()) == []


def test_keep_dtype_into_a_npy_says_the_scaling_is_not_carried(tmp_path):
    # medical audit F2: an int16 NIfTI with scl_slope 0.1 gave an int16 .npy of values rounded to whole units, 10 times
    # coarser than its .nii.gz, with no note
    nib = pytest.importorskip("nibabel")
    data = (np.arange(4 * 5 * 6, dtype=np.int16).reshape(4, 5, 6) * 7) % 300
    image = nib.Nifti1Image(data, np.eye(4))
    image.header.set_slope_inter(0.1, 0)
    nib.save(image, tmp_path / "s.nii.gz")
    npy = run_in_process("volume", "s.nii.gz", "-k", "gaussian:1mm", "--keep-dtype", "-o", "s.npy", cwd=tmp_path)
    assert npy.returncode == 0 and "a .npy has no scl_slope (0.1)" in npy.stderr, npy.stderr
    nii = run_in_process("volume", "s.nii.gz", "-k", "gaussian:1mm", "--keep-dtype", "-o", "k.nii.gz", cwd=tmp_path)
    assert nii.returncode == 0 and "no scl_slope" not in nii.stderr and "scl_slope 0.1" in nii.stderr
