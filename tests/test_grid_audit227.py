"""Audit 227 (3-D differential testing: the volume command and the 3-D API): what its findings 1-2 asked for, checked."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

nib = pytest.importorskip("nibabel")

from conftest import run_in_process  # noqa: E402
from test_medical_audit import one_line_error  # noqa: E402

TWO_SIZES = "pixdim 3x3x3 mm or the sform 0.9x1.2x2 mm (x, y, z)"


def two_sizes(path: Path, *, qform_code: int = 0) -> Path:
    """The audit's NIfTI: an oblique sform (code 2) of 0.9 x 1.2 x 2 mm columns beside pixdim 3 mm (a qform of 3 mm,
    code ``qform_code``, elsewhere)."""
    data = np.random.default_rng(11).integers(-500, 500, (12, 10, 8)).astype(np.int16)
    th = 0.4
    sform = np.eye(4)
    sform[:3, :3] = np.array([[np.cos(th), -np.sin(th), 0], [np.sin(th), np.cos(th), 0], [0, 0, 1]]) @ np.diag([0.9, 1.2, 2.0])
    sform[:3, 3] = [10, -20, 5]
    qform = np.diag([3.0, 3.0, 3.0, 1])
    qform[:3, 3] = 100
    img = nib.Nifti1Image(data, None)
    img.set_qform(qform, qform_code)
    img.set_sform(sform, 2)
    img.header.set_xyzt_units("mm", "sec")
    nib.save(img, path)
    return path


class TestOneVoxelSizePerCall:
    """#1: ``pool g.nii -f 2`` (pixdim 3 mm, sform columns 0.9/1.2/2 mm) ran, exit 0, no note: its .nii.gz's affine
    (and pixdim) 1.8/2.4/4.0 mm, its --json record's spacing and a .zarr's spacing_mm 6 mm, beside that .zarr's own
    affine of 1.8-4 mm columns; ``volume g.nii -k box_3d -o g.zarr`` alike (spacing_mm 3 beside 0.9-2 mm columns).
    Where the header gives the voxel size two ways, an output that states one grid is refused as a kernel in mm is."""

    @pytest.mark.parametrize("out, tiled", [("p.nii.gz", ()), ("p.npy", ()), ("p.png", ()), ("p.nii", ("--tiled",)),
                                            ("p.zarr", ())], ids=["nii.gz", "npy", "png", "tiled", "zarr"])
    def test_pool_is_refused_naming_both_readings(self, tmp_path, out, tiled):
        if out.endswith(".zarr") or tiled:
            pytest.importorskip("dask")
            pytest.importorskip("zarr")
        two_sizes(tmp_path / "g.nii")
        r = run_in_process("pool", "g.nii", "-f", "2", "-o", out, *tiled, "--json", cwd=tmp_path)
        one_line_error(r, ["g.nii: the pooled grid states one voxel size", "two ways", TWO_SIZES])
        assert not (tmp_path / out).exists()

    def test_the_qform_reading_is_named_and_pools_on_one_grid(self, tmp_path):
        two_sizes(tmp_path / "g.nii", qform_code=1)
        r = run_in_process("pool", "g.nii", "-f", "2", "-o", "p.nii.gz", "--affine", "sform", cwd=tmp_path)
        one_line_error(r, [TWO_SIZES, "--affine qform reads the qform"])
        r = run_in_process("pool", "g.nii", "-f", "2", "-o", "p.nii.gz", "--affine", "qform", "--json", cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout)["spacing"] == [6.0, 6.0, 6.0]
        assert nib.load(tmp_path / "p.nii.gz").header.get_zooms() == (6.0, 6.0, 6.0)

    @pytest.mark.parametrize("tiled", [(), ("--tiled",)], ids=["in-memory", "tiled"])
    def test_a_zarr_on_the_input_grid_is_refused(self, tmp_path, tiled):
        pytest.importorskip("dask")
        pytest.importorskip("zarr")
        two_sizes(tmp_path / "g.nii")
        r = run_in_process("volume", "g.nii", "-k", "box_3d", "-o", "g.zarr", *tiled, cwd=tmp_path)
        one_line_error(r, ["g.nii: a .zarr output states one voxel size", TWO_SIZES, "write .nii"])
        assert not (tmp_path / "g.zarr").exists()

    @pytest.mark.parametrize("out, tiled", [("o.nii", ()), ("o.nii", ("--tiled",)), ("o.npy", ()), ("o.png", ())],
                             ids=["nii", "tiled", "npy", "png"])
    def test_the_input_grid_runs_and_says_which_reading_it_states(self, tmp_path, out, tiled):
        if tiled:
            pytest.importorskip("dask")
        two_sizes(tmp_path / "g.nii")
        r = run_in_process("volume", "g.nii", "-k", "box_3d", "-o", out, *tiled, "--json", cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        record = json.loads(r.stdout)
        assert record["spacing"] == [3.0, 3.0, 3.0]
        said = [n for n in record["notes"] if "two ways" in n]
        assert len(said) == 1 and TWO_SIZES in said[0] and "pixdim's" in said[0], record["notes"]
        if out.endswith(".nii"):  # the header kept as the input's: both readings, as the input
            img = nib.load(tmp_path / out)
            assert img.header.get_zooms() == (3.0, 3.0, 3.0)
            np.testing.assert_allclose(img.get_sform(), nib.load(tmp_path / "g.nii").get_sform())


class TestA3DKernelOnAZyxArrayIsToldItsFile:
    """#2: ``volume n3.npy --layout zyx -k box_3d`` was refused advising a 2-D kernel (``box:3``), which filters the
    slices one by one, another result; the API's refusal names kernel_3d(...). The command line's now names the 3-D
    kernel forms the README gives such an array and where the named kernel's taps are, and following it gives the 3-D
    correlation."""

    @pytest.mark.parametrize("command", ["volume", "convolve"])
    def test_the_advice_names_the_3d_forms_and_works(self, tmp_path, command):
        from scipy import ndimage

        from kernelcli.volumes import kernel_3d

        data = np.random.default_rng(0).normal(size=(9, 10, 11)).astype(np.float32)
        np.save(tmp_path / "n3.npy", data)
        r = run_in_process(command, "n3.npy", "--layout", "zyx", "-k", "box_3d", "-o", "o.npy", cwd=tmp_path)
        assert r.returncode == 3 and len(r.stderr.splitlines()) == 1, r.stderr
        advice = ("a --layout zyx array, whose slices a 2-D kernel filters one by one, takes a 3-D kernel as a file (.npy, "
                  "JSON) or a JSON list of (z, y, x) taps: kernelcli kernels show box_3d --json > box_3d.json, then -k box_3d.json")
        assert advice in r.stderr, r.stderr
        shown = run_in_process("kernels", "show", "box_3d", "--json", cwd=tmp_path)  # the advice, followed
        taps = json.loads(shown.stdout)["values"]
        np.save(tmp_path / "box_3d.npy", np.array(taps))
        (tmp_path / "box_3d.json").write_text(shown.stdout, encoding="utf-8")
        expected = ndimage.correlate(data.astype(np.float64), kernel_3d("box_3d").array(), mode="constant")
        for given in ("box_3d.json", json.dumps(taps), "box_3d.npy"):
            r = run_in_process(command, "n3.npy", "--layout", "zyx", "-k", given, "-o", "o.npy", "--force", cwd=tmp_path)
            assert r.returncode == 0, r.stderr
            np.testing.assert_allclose(np.load(tmp_path / "o.npy"), expected, atol=1e-6)

    def test_a_size_in_mm_names_the_3d_forms_too(self, tmp_path):
        np.save(tmp_path / "n3.npy", np.zeros((4, 5, 6), np.float32))
        r = run_in_process("volume", "n3.npy", "--layout", "zyx", "-k", "gaussian:1.5mm", "-o", "o.npy", cwd=tmp_path)
        assert r.returncode == 3 and "takes a 3-D kernel as a file (.npy, JSON) or a JSON list of (z, y, x) taps" in r.stderr, \
            r.stderr
