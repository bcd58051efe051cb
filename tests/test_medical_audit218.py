"""Audit 218 (medical inputs with real data): what a medical reader read silently wrong or said badly.

Real files: nibabel's Siemens mosaics (``nicom/tests/data``), its ``tests/data`` images, pydicom's ``dicomdirtests``;
the rest is built here in ``tmp_path``.
"""

from __future__ import annotations

import gzip
import math
from pathlib import Path

import numpy as np
import pytest

from kernelcli import medical
from kernelcli.errors import ImageReadError

pydicom = pytest.importorskip("pydicom")
nib = pytest.importorskip("nibabel")
from conftest import run_in_process  # noqa: E402
from test_medical_audit127 import ct_series  # noqa: E402

NICOM = Path(nib.__file__).parent / "nicom" / "tests" / "data"
NIB_DATA = Path(nib.__file__).parent / "tests" / "data"


def _mosaic(path: Path) -> Path:
    """nibabel's mosaic siemens_dwi_0.dcm (48 slices of 128x128 tiled 7x7 in one 896x896 image), unpacked."""
    source = NICOM / "siemens_dwi_0.dcm.gz"
    if not source.exists():
        pytest.skip("nibabel's nicom test data is not installed")
    path.write_bytes(gzip.decompress(source.read_bytes()))
    return path


class TestSiemensMosaic:
    """Finding 1: a Siemens mosaic (ImageType ...\\MOSAIC, NumberOfImagesInMosaic 48) was read as one 896x896 slice: a
    kernel in mm blurred neighbouring slices into each other, and the NIfTI put the slab ~700 mm off, exit 0."""

    WHY = "a Siemens mosaic (ImageType ORIGINAL\\PRIMARY\\DIFFUSION\\NONE\\ND\\MOSAIC, NumberOfImagesInMosaic (0019,100A) 48)"

    def test_a_mosaic_file_is_refused_naming_the_tags_and_dcm2niix(self, tmp_path):
        _mosaic(tmp_path / "mosaic.dcm")
        r = run_in_process("volume", "mosaic.dcm", "-k", "gaussian:3mm", "-o", "g.nii.gz", cwd=tmp_path)
        assert r.returncode == 2, r.stderr
        line = r.stderr.strip()
        assert line.startswith(f"error: mosaic.dcm: {self.WHY}: 48 slices are tiled in one 896x896 image") and "dcm2niix" in line
        assert len(line.splitlines()) == 1 and "Traceback" not in line
        assert not (tmp_path / "g.nii.gz").exists()

    def test_the_api_refuses_it_too(self, tmp_path):
        with pytest.raises(ImageReadError, match="Siemens mosaic"):
            medical.read_volume(_mosaic(tmp_path / "m.dcm"))

    def test_a_folder_of_mosaics_is_refused_before_any_pixel_data(self, tmp_path):
        for name in ("0.dcm", "1.dcm"):
            if not (NICOM / name).exists():
                pytest.skip("nibabel's nicom test data is not installed")
            (tmp_path / "ser").mkdir(exist_ok=True)
            (tmp_path / "ser" / name).write_bytes((NICOM / name).read_bytes())
        r = run_in_process("volume", "ser", "-o", "s.nii.gz", cwd=tmp_path)
        assert r.returncode == 2 and f"error: {Path('ser') / '0.dcm'}: {self.WHY}: 48 slices are tiled in one 256x256" in r.stderr
        assert not (tmp_path / "s.nii.gz").exists()

    def test_image_type_alone_is_enough(self, tmp_path):
        """A mosaic whose Siemens private header is gone (an anonymiser drops private tags) says so by ImageType."""
        ds = pydicom.dcmread(_mosaic(tmp_path / "m.dcm"))
        del ds[0x0019, 0x0010]
        for tag in [t for t in ds.keys() if t.group == 0x0019]:
            del ds[tag]
        ds.save_as(tmp_path / "bare.dcm")
        with pytest.raises(ImageReadError, match=r"mosaic \(ImageType [^)]*MOSAIC\): its slices are tiled"):
            medical.read_volume(tmp_path / "bare.dcm")

    def test_a_series_that_is_no_mosaic_still_reads(self, tmp_path):
        ct_series(tmp_path / "ct", per=lambda k, ds: setattr(ds, "ImageType", ["ORIGINAL", "PRIMARY", "AXIAL"]))
        assert medical.read_volume(tmp_path / "ct").data.shape == (6, 8, 10)


def _mgh_without_ras(folder: Path, flag: int = 0) -> Path:
    """nibabel's anatomical.nii (2 mm voxels) as an MGH whose stored goodRASFlag is ``flag``."""
    img = nib.load(NIB_DATA / "anatomical.nii")
    nib.save(nib.MGHImage(np.asarray(img.dataobj).astype(np.float32), img.affine), folder / "good.mgz")
    block = bytearray(gzip.decompress((folder / "good.mgz").read_bytes()))
    block[28:30] = flag.to_bytes(2, "big", signed=True)
    # (.mgz: nibabel's MGHImage leaves an uncompressed .mgh's file open, a ResourceWarning under pytest)
    (folder / "bad_ras.mgz").write_bytes(gzip.compress(bytes(block)))
    return folder / "bad_ras.mgz"


class TestMghWithoutRas:
    """Finding 2: an MGH whose goodRASFlag is 0 (no voxel size or orientation stated) was filtered in mm on nibabel's
    made-up 1 mm LIA grid, its NIfTI output claiming that grid (codes 1), with no note."""

    def test_a_kernel_in_mm_is_refused(self, tmp_path):
        _mgh_without_ras(tmp_path)
        r = run_in_process("volume", "bad_ras.mgz", "-k", "gaussian:3mm", "-o", "g.nii.gz", cwd=tmp_path)
        assert r.returncode == 2, r.stderr
        assert "error: bad_ras.mgz: gaussian:3mm is sized in mm, but the voxel size is not in the file (goodRASFlag 0" in r.stderr
        assert not (tmp_path / "g.nii.gz").exists()

    def test_a_kernel_in_voxels_runs_and_the_output_states_no_geometry(self, tmp_path):
        _mgh_without_ras(tmp_path)
        r = run_in_process("volume", "bad_ras.mgz", "-k", "gaussian:1.5vox", "-o", "g.nii.gz", cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        assert "bad_ras.mgz: goodRASFlag 0: the MGH header states no voxel size, orientation or position" in r.stderr
        from nibabel.openers import ImageOpener

        with ImageOpener(str(tmp_path / "g.nii.gz")) as f:
            header = nib.Nifti1Header.from_fileobj(f, check=False)
        assert int(header["qform_code"]) == int(header["sform_code"]) == 0
        assert header["pixdim"][1:4].tolist() == [0.0, 0.0, 0.0]

    def test_the_api_says_what_was_assumed(self, tmp_path):
        vol = medical.read_volume(_mgh_without_ras(tmp_path))
        assert vol.assumed_axes == ("x", "y", "z") and vol.orientation_unknown == "goodRASFlag 0"
        good = medical.read_volume(tmp_path / "good.mgz")
        assert good.assumed_axes == () and good.orientation_unknown is None and good.spacing == (2.0, 2.0, 2.0)


class TestObliqueNrrdOneKernel:
    """Finding 3: the NRRD SimpleITK writes of nibabel's oblique example4d read its z spacing as the length of its
    ``space directions`` column, 2.199999094009399, one double ulp from the float32 2.1999990940093994 its .mha and
    .nii read as 2.199999: `gaussian:3mm` then differed in 14% of voxels between containers of one grid."""

    def test_one_grid_gives_one_kernel_in_nrrd_mha_and_nii(self, tmp_path):
        sitk = pytest.importorskip("SimpleITK")
        first = sitk.ReadImage(str(NIB_DATA / "example4d.nii.gz"))[:, :, :, 0]
        names = ("v0.nrrd", "v0.mha", "v0.nii.gz")
        for name in names:
            sitk.WriteImage(first, str(tmp_path / name))
        assert 0 < abs(sitk.ReadImage(str(tmp_path / "v0.nrrd")).GetSpacing()[2] - 2.1999990940093994) < 1e-15  # (the case)
        results = {}
        for name in names:
            vol = medical.read_volume(tmp_path / name)
            assert vol.spacing == (2.199999, 2.0, 2.0), name
            r = run_in_process("volume", name, "-k", "gaussian:3mm", "-o", f"g_{name}.npy", "-q", cwd=tmp_path)
            assert r.returncode == 0, r.stderr
            results[name] = np.load(tmp_path / f"g_{name}.npy")
        assert np.array_equal(results["v0.nrrd"], results["v0.nii.gz"]) and np.array_equal(results["v0.mha"], results["v0.nii.gz"])

    def test_a_size_stated_as_a_decimal_is_kept(self):
        from kernelcli.medical.geometry import stated_voxel_size

        assert stated_voxel_size(0.9) == 0.9 and stated_voxel_size(1 / 3) == 1 / 3 and stated_voxel_size(2.2) == 2.2
        assert stated_voxel_size(float(np.float32(2.2)) + 2 * math.ulp(2.2)) == 2.2


def _headers_alone(folder: Path, n: int = 3) -> Path:
    """``n`` CT Image Storage files holding headers alone (no Rows, Columns or Pixel Data), as pydicom's TINY_ALPHA."""
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    folder.mkdir(parents=True)
    for k in range(n):
        ds = Dataset()
        ds.file_meta = FileMetaDataset()
        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
        ds.Modality, ds.InstanceNumber = "CT", k + 1
        ds.save_as(folder / f"IM{k:06d}", enforce_file_format=True)
    return folder


class TestFolderOfHeadersAlone:
    """Finding 4: a study folder was told to give a series folder whose files are headers without pixel data, which was
    then refused as holding "no DICOM images", with no word of why."""

    def test_pydicoms_tiny_alpha_says_why_at_both_levels(self):
        from pydicom.data import get_testdata_file

        top = Path(get_testdata_file("CT_small.dcm")).parent / "dicomdirtests" / "TINY_ALPHA"
        if not (top / "PT000000" / "ST000000" / "SE000000").is_dir():
            pytest.skip("pydicom's dicomdirtests are not installed")
        series = top / "PT000000" / "ST000000" / "SE000000"
        with pytest.raises(medical_errors().InputError) as study:
            medical.read_volume(top)
        assert "give that folder" not in str(study.value)
        assert str(study.value).endswith(f"no series to read: {series} (50): DICOM files without an image (headers "
                                         "without pixel data)")
        with pytest.raises(medical_errors().InputError) as folder:
            medical.read_volume(series)
        assert str(folder.value) == (f"{series}: no DICOM images in this folder (50 DICOM file(s) without an image "
                                     "(headers without pixel data): IM000000, IM000001, IM000002, ...)")

    def test_the_cli_names_the_series_to_give_and_not_the_empty_one(self, tmp_path):
        _headers_alone(tmp_path / "study" / "hdr")
        ct_series(tmp_path / "study" / "ct")
        r = run_in_process("volume", "study", "-o", "x.nii.gz", cwd=tmp_path)
        assert r.returncode == 2
        assert r.stderr.strip() == (f"error: study: no DICOM images in this folder (a series is read from one folder's own "
                                    f"files); DICOM files are in {Path('study/ct')} (6): give that folder; not "
                                    f"{Path('study/hdr')} (3): DICOM files without an image (headers "
                                    "without pixel data)")
        r = run_in_process("volume", "study", "--out-dir", "out", cwd=tmp_path)
        assert r.returncode == 2 and "give that folder, alone, without --out-dir; not " in r.stderr

    def test_a_study_of_mosaics_is_not_sent_to_them(self, tmp_path):
        (tmp_path / "study" / "dwi").mkdir(parents=True)
        _mosaic(tmp_path / "study" / "dwi" / "m.dcm")
        r = run_in_process("volume", "study", "-o", "x.nii.gz", cwd=tmp_path)
        assert r.returncode == 2 and "give that folder" not in r.stderr
        assert f"no series to read: {Path('study/dwi')} (1): Siemens mosaics, which kernelcli does not unpack" in r.stderr

    def test_a_series_note_does_not_send_to_a_folder_of_headers(self, tmp_path):
        ct_series(tmp_path / "ct")
        _headers_alone(tmp_path / "ct" / "hdr")
        notes = medical.read_volume(tmp_path / "ct").notes
        note = next(n for n in notes if "sub-folders not read" in n)
        assert "no series to read: " in note and ": DICOM files without an image" in note and "give that folder" not in note


def medical_errors():
    import kernelcli.errors

    return kernelcli.errors
