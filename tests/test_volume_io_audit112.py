"""Audit 112: a volume's inputs and outputs say what they hold (a Zarr given a volume kernel, a .png's voxel size)."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import run_in_process, write_nifti


def _nifti(path, shape=(6, 7, 8), spacing=(2.5, 0.9, 0.8)):
    return write_nifti(path, shape, spacing, seed=3)


@pytest.mark.parametrize("kernel, what", [("box_3d", "a named 3-D kernel"), ("gaussian:1.5mm", "a size in mm"),
                                          ("fwhm:2vox", "a size in voxels")])
def test_a_zarr_given_a_volume_kernel_is_refused_as_an_npy_is(tmp_path, kernel, what):
    """F2: a .zarr (one kernelcli wrote from a NIfTI, spacing_mm recorded) given a volume kernel was refused as
    'unsupported file type .zarr' (exit 2), where a .npy gets the kernel's refusal (exit 3)."""
    pytest.importorskip("zarr")
    pytest.importorskip("dask")
    _nifti(tmp_path / "v.nii")
    made = run_in_process("convolve", "v.nii", "-k", "box:3vox", "--tiled", "-o", "tc.zarr", "-q", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    np.save(tmp_path / "v.npy", np.zeros((6, 7, 8), np.float32))
    npy = run_in_process("convolve", "v.npy", "--layout", "zyx", "-k", kernel, "-o", "o.npy", cwd=tmp_path)
    zarr = run_in_process("convolve", "tc.zarr", "-k", kernel, "-o", "o.zarr", cwd=tmp_path)
    assert npy.returncode == zarr.returncode == 3, (npy.stderr, zarr.stderr)
    assert zarr.stderr == npy.stderr.replace("v.npy", "tc.zarr")
    assert f"tc.zarr: {kernel}: {what} is for a volume input" in zarr.stderr and "unsupported" not in zarr.stderr
    assert not (tmp_path / "o.zarr").exists()


class TestAPngSaysItsVoxelsAreNotSquare:
    """F3: a volume written as .png showed non-square voxels (2.5 mm slices in a coronal view, DICOM PixelSpacing
    2.0\\0.5) as square pixels without a word, and no pHYs chunk; the .npy output of the same call says what it drops."""

    @staticmethod
    def _png(path):
        from PIL import Image

        with Image.open(path) as im:
            return im.size, im.info.get("dpi")

    @pytest.mark.parametrize("command, args, width, height", [
        ("convolve", ["--axis", "y"], 0.8, 2.5),  # coronal: x across, z down
        ("convolve", ["--axis", "x"], 0.9, 2.5),  # sagittal: y across
        ("convolve", [], 0.8, 0.9),  # axial: x across, y down
        ("pool", ["-f", "2", "--axis", "y"], 1.6, 5.0),  # the pooled voxels
    ])
    def test_the_note_names_the_two_shown_sizes_and_phys_holds_them(self, tmp_path, command, args, width, height):
        _nifti(tmp_path / "v.nii.gz")
        r = run_in_process(command, "v.nii.gz", *args, "-o", "p.png", cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        looks = f"{height / width:.3g} times too short" if height > width else f"{width / height:.3g} times too narrow"
        assert (f"note: PNG: each voxel, {width:g} mm wide and {height:g} mm tall, is one square pixel, so the picture "
                f"looks {looks} (its pHYs chunk holds the aspect, for viewers that honour it); write .nii.gz to keep the "
                "voxel size") in r.stderr.splitlines(), r.stderr
        _, dpi = self._png(tmp_path / "p.png")
        assert [round(d * 1000 / 25.4) for d in dpi] == [round(1000 / width), round(1000 / height)]  # pixels per metre

    def test_square_voxels_say_nothing_and_write_no_phys(self, tmp_path):
        _nifti(tmp_path / "v.nii.gz", spacing=(0.7, 0.7, 0.7))
        r = run_in_process("convolve", "v.nii.gz", "--axis", "y", "-o", "p.png", cwd=tmp_path)
        assert r.returncode == 0 and "square pixel" not in r.stderr, r.stderr
        assert self._png(tmp_path / "p.png")[1] is None

    def test_the_pixels_are_the_same_with_or_without_the_chunk(self, tmp_path):
        from PIL import Image

        _nifti(tmp_path / "v.nii.gz")
        assert run_in_process("convolve", "v.nii.gz", "--axis", "y", "-o", "p.png", cwd=tmp_path).returncode == 0
        assert run_in_process("convolve", "v.nii.gz", "-o", "c.nii.gz", cwd=tmp_path).returncode == 0
        from kernelcli.medical.preview import canonical_plane
        from kernelcli.medical.volume import read_volume
        from kernelcli.medical.window import stretched

        vol = read_volume(tmp_path / "c.nii.gz")
        image = canonical_plane(vol.data, vol.affine, "y")[0]
        with Image.open(tmp_path / "p.png") as im:
            np.testing.assert_array_equal(np.asarray(im), stretched(image, float(image.min()), float(image.max())))

    def test_a_guessed_voxel_size_claims_nothing(self):
        from types import SimpleNamespace

        from kernelcli.medical.preview import shown_pixel_mm

        vol = SimpleNamespace(spacing=(2.5, 1.0, 1.0), affine=np.diag([1.0, 1.0, 2.5, 1.0]), spacing_assumed="no PixelSpacing")
        assert shown_pixel_mm(vol, "y") is None
        assert shown_pixel_mm(SimpleNamespace(**{**vol.__dict__, "spacing_assumed": None}), "y") == (1.0, 2.5)
