"""Audit 127 (DICOM and NIfTI values and geometry): what a read or a written header got wrong or said badly.

Each class reproduces one finding on small files built here in ``tmp_path`` (pydicom datasets, nibabel images,
a MetaImage header); SimpleITK, where installed, is the second reader of what kernelcli writes.
"""

from __future__ import annotations

import importlib.util
import json
import struct
from pathlib import Path

import numpy as np
import pytest

from kernelcli import medical
from kernelcli.errors import ImageReadError

pydicom = pytest.importorskip("pydicom")
nib = pytest.importorskip("nibabel")
from conftest import run_in_process  # noqa: E402

CT_STORAGE = "1.2.840.10008.5.1.2.1.1.2"
ENHANCED_MR_STORAGE = "1.2.840.10008.5.1.4.1.1.4.1"
RT_DOSE_STORAGE = "1.2.840.10008.5.1.4.1.1.481.2"


def _dataset(sop_class: str) -> "pydicom.Dataset":
    """An empty dataset of ``sop_class`` with its file meta (explicit VR little endian)."""
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    ds, meta = Dataset(), FileMetaDataset()
    meta.TransferSyntaxUID, meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID = ExplicitVRLittleEndian, sop_class, generate_uid()
    ds.file_meta, ds.SOPClassUID, ds.SOPInstanceUID = meta, sop_class, meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.PatientName, ds.PatientID = "1.2.3", "1.2.3.127", "X", "1"
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    return ds


def ct_series(folder: Path, *, n: int = 6, rows: int = 8, cols: int = 10, gap: float = 2.5, drop: tuple[str, ...] = (),
              per: object = None) -> np.ndarray:
    """A CT series of ``n`` uint16 slices (pixels 0.7 x 0.9 mm, ``gap`` mm apart along z, rescale 1/-1024), the tags
    ``drop`` left out of every file and ``per(k, ds)`` applied to slice k; returns the stored values (n, rows, cols)."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    stored = []
    for k in range(n):
        ds = _dataset(CT_STORAGE)
        ds.Modality, ds.InstanceNumber, ds.FrameOfReferenceUID = "CT", k + 1, "1.2.3.4"
        ds.ImagePositionPatient = [10.0, -20.0, 30.0 + gap * k]
        ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
        ds.PixelSpacing, ds.SliceThickness = [0.7, 0.9], gap
        ds.Rows, ds.Columns, ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = rows, cols, 16, 16, 15, 0
        ds.RescaleSlope, ds.RescaleIntercept = 1, -1024
        raw = rng.integers(0, 3000, size=(rows, cols)).astype(np.uint16)
        ds.PixelData = raw.tobytes()
        for tag in drop:
            delattr(ds, tag)
        if per is not None:
            per(k, ds)
        ds.save_as(folder / f"IM{k:03d}.dcm", enforce_file_format=True)
        stored.append(raw)
    return np.stack(stored)


def enhanced(path: Path, positions: list[tuple[float, float, float]]) -> None:
    """An enhanced MR file whose frame k is at ``positions[k]`` (axial, 0.8 x 1.2 mm pixels, 2 mm thick)."""
    from pydicom.dataset import Dataset
    from pydicom.sequence import Sequence

    ds = _dataset(ENHANCED_MR_STORAGE)
    ds.Modality = "MR"
    shared, plane, measures = Dataset(), Dataset(), Dataset()
    plane.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    measures.PixelSpacing, measures.SliceThickness = [0.8, 1.2], 2.0
    shared.PlaneOrientationSequence, shared.PixelMeasuresSequence = Sequence([plane]), Sequence([measures])
    ds.SharedFunctionalGroupsSequence = Sequence([shared])
    frames = []
    for position in positions:
        frame, where = Dataset(), Dataset()
        where.ImagePositionPatient = list(position)
        frame.PlanePositionSequence = Sequence([where])
        frames.append(frame)
    ds.PerFrameFunctionalGroupsSequence = Sequence(frames)
    ds.NumberOfFrames, ds.Rows, ds.Columns = len(positions), 6, 7
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
    ds.PixelData = np.arange(len(positions) * 42, dtype=np.uint16).tobytes()
    ds.save_as(path, enforce_file_format=True)


def rt_dose(path: Path, iop: tuple[float, ...], offsets: list[float]) -> None:
    """An RT Dose of 4x5 uint32 frames at ``offsets`` (GridFrameOffsetVector) from (5, -7, 11) on the grid ``iop``."""
    ds = _dataset(RT_DOSE_STORAGE)
    ds.Modality, ds.ImagePositionPatient, ds.ImageOrientationPatient = "RTDOSE", [5, -7, 11], list(iop)
    ds.PixelSpacing, ds.GridFrameOffsetVector, ds.FrameIncrementPointer = [2, 3], list(offsets), 0x3004000C
    ds.DoseGridScaling, ds.DoseUnits, ds.DoseType, ds.DoseSummationType = 0.001, "GY", "PHYSICAL", "PLAN"
    ds.NumberOfFrames, ds.Rows, ds.Columns = len(offsets), 4, 5
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 32, 32, 31, 0
    ds.PixelData = np.arange(len(offsets) * 20, dtype=np.uint32).tobytes()
    ds.save_as(path, enforce_file_format=True)


class TestDoseZCoordinatesOnlyOnAnAxialGrid:
    """Finding 4: an RT Dose whose GridFrameOffsetVector holds z coordinates (first value not 0) on a sagittal grid was
    refused as "frames at the same slice position ... put each in its own folder"; on a tilted grid it was read, the
    frames placed along z (a sheared grid nobody stated).  PS3.3 C.8.8.3.2 allows z coordinates only for 1\\0\\0\\0\\1\\0."""

    @pytest.mark.parametrize("iop", [(0, 1, 0, 0, 0, -1), (1, 0, 0, 0, 0.8660254, 0.5), (0.8660254, 0.5, 0, -0.5, 0.8660254, 0)],
                             ids=["sagittal", "tilted", "rotated"])
    def test_z_coordinates_on_another_grid_are_refused_naming_both_tags(self, tmp_path, iop):
        rt_dose(tmp_path / "dose.dcm", iop, [11, 13.5, 16, 18.5])
        with pytest.raises(ImageReadError) as caught:
            medical.read_volume(tmp_path / "dose.dcm")
        message = str(caught.value)
        assert "GridFrameOffsetVector" in message and "ImageOrientationPatient" in message and "axial" in message
        assert "same slice position" not in message and "folder" not in message

    def test_the_cli_refuses_it_on_one_line_with_exit_2(self, tmp_path):
        rt_dose(tmp_path / "dose.dcm", (0, 1, 0, 0, 0, -1), [11, 13.5, 16, 18.5])
        answer = run_in_process("convolve", "dose.dcm", "-k", "box:1vox", "-o", "d.nii.gz", cwd=tmp_path)
        assert answer.returncode == 2 and answer.stderr.count("\n") == 1 and "GridFrameOffsetVector" in answer.stderr
        assert not (tmp_path / "d.nii.gz").exists()

    def test_z_coordinates_on_an_axial_grid_and_offsets_on_any_grid_still_read(self, tmp_path):
        rt_dose(tmp_path / "axial.dcm", (1, 0, 0, 0, 1, 0), [11, 13.5, 16, 18.5])
        rt_dose(tmp_path / "sagittal.dcm", (0, 1, 0, 0, 0, -1), [0, 2.5, 5, 7.5])
        axial = medical.read_volume(tmp_path / "axial.dcm")
        np.testing.assert_allclose(axial.affine[:3, 2:], [[0, -5], [0, 7], [2.5, 11]], atol=1e-9)
        sagittal = medical.read_volume(tmp_path / "sagittal.dcm")
        assert sagittal.spacing == pytest.approx((2.5, 2.0, 3.0))


class TestFramesSharingAPositionGetAdviceForAFile:
    """Finding 5: a 4-D enhanced file (frames of one file at the same positions: time points or echoes) was told to
    "put each in its own folder", which frames of one file cannot be."""

    def test_frames_of_one_file_are_told_to_convert_the_file(self, tmp_path):
        z = [(5.0, -7.0, 11.0 + 3 * k) for k in range(3)]
        enhanced(tmp_path / "enh.dcm", z + z)
        with pytest.raises(ImageReadError) as caught:
            medical.read_volume(tmp_path / "enh.dcm")
        message = str(caught.value)
        assert "frame 1 and frame 4 are at the same slice position" in message
        assert "folder" not in message and "4-D NIfTI" in message and "dcm2niix" in message

    def test_files_of_a_series_keep_the_folder_advice(self, tmp_path):
        ct_series(tmp_path / "s", n=4, per=lambda k, ds: setattr(ds, "ImagePositionPatient", [10.0, -20.0, 30.0 + 2.5 * (k % 2)]))
        with pytest.raises(ImageReadError, match="own folder"):
            medical.read_volume(tmp_path / "s")


class TestSeriesWithAndWithoutRescale:
    """Finding 3: a CT series in which one slice (IM003.dcm) had no RescaleSlope/RescaleIntercept was read as one
    volume, five slices in HU and that one as stored values (a 1024 step), with the note "CT without
    RescaleSlope/RescaleIntercept" naming the folder, as if no slice had them."""

    @staticmethod
    def _drop_rescale(k, ds):
        if k == 3:
            del ds.RescaleSlope, ds.RescaleIntercept

    def test_refused_naming_the_file_without_the_tags_and_one_with_them(self, tmp_path):
        ct_series(tmp_path / "s", per=self._drop_rescale)
        with pytest.raises(ImageReadError) as caught:
            medical.read_volume(tmp_path / "s")
        message = str(caught.value)
        assert "IM003.dcm: no RescaleSlope or RescaleIntercept, but IM000.dcm has RescaleSlope 1, RescaleIntercept -1024" in message

    def test_the_cli_refuses_it_with_exit_2_and_writes_nothing(self, tmp_path):
        ct_series(tmp_path / "s", per=self._drop_rescale)
        answer = run_in_process("convolve", "s", "-k", "box:1vox", "-o", "x.nii.gz", cwd=tmp_path)
        assert answer.returncode == 2 and answer.stderr.count("\n") == 1 and "IM003.dcm" in answer.stderr
        assert not (tmp_path / "x.nii.gz").exists()

    def test_a_series_rescaled_throughout_or_nowhere_still_reads(self, tmp_path):
        stored = ct_series(tmp_path / "hu")
        np.testing.assert_array_equal(medical.read_volume(tmp_path / "hu").data, stored.astype(np.int32) - 1024)
        ct_series(tmp_path / "raw", drop=("RescaleSlope", "RescaleIntercept"))
        assert any("CT without RescaleSlope/RescaleIntercept" in n for n in medical.read_volume(tmp_path / "raw").notes)

    def test_an_identity_rescale_beside_none_reads_alike(self, tmp_path):
        def identity(k, ds):
            ds.RescaleSlope, ds.RescaleIntercept = 1, 0
            if k == 2:
                del ds.RescaleSlope, ds.RescaleIntercept

        stored = ct_series(tmp_path / "s", per=identity)
        np.testing.assert_array_equal(medical.read_volume(tmp_path / "s").data, stored)


def _pixdim(path: Path) -> list[float]:
    """pixdim[1..3] as ``path`` stores them (nibabel's loader sets a 0 to 1: the header is read raw here)."""
    import gzip

    head = (gzip.open(path).read(348) if path.suffix == ".gz" else path.read_bytes()[:348])
    return [float(v) for v in struct.unpack("<8f", head[76:108])[1:4]]


def nifti_pixdim0(path: Path) -> None:
    """An oblique int16 NIfTI (qform code 1) whose stored pixdim[1] is 0: its voxel size along x is not given."""
    from scipy.spatial.transform import Rotation

    affine = np.eye(4)
    affine[:3, :3] = Rotation.from_euler("xyz", [10, -20, 30], degrees=True).as_matrix() @ np.diag([0.9, 1.1, 2.5])
    affine[:3, 3] = [-30, 20, 10]
    data = np.random.default_rng(2).integers(0, 1000, (8, 10, 6)).astype(np.int16)
    img = nib.Nifti1Image(data, affine)
    img.header.set_xyzt_units("mm")
    img.set_qform(affine, 1)
    img.set_sform(None, 0)
    nib.save(img, path)
    raw = bytearray(path.read_bytes())
    struct.pack_into("<f", raw, 80, 0.0)
    path.write_bytes(bytes(raw))


def metaimage_without_spacing(path: Path) -> None:
    """A 10x8x6 int16 MetaImage whose header states no ElementSpacing (nor orientation or origin)."""
    head = ("ObjectType = Image\nNDims = 3\nBinaryData = True\nBinaryDataByteOrderMSB = False\nDimSize = 10 8 6\n"
            "ElementType = MET_SHORT\nElementDataFile = LOCAL\n")
    path.write_bytes(head.encode() + (np.arange(480) % 97).astype(np.int16).tobytes())


def sitk_grid(path: Path) -> np.ndarray:
    """SimpleITK's placement of the voxels of ``path`` as a NIfTI (RAS+) affine."""
    sitk = pytest.importorskip("SimpleITK")
    img = sitk.ReadImage(str(path))
    affine = np.eye(4)
    affine[:3, :3] = np.array(img.GetDirection()).reshape(3, 3) @ np.diag(img.GetSpacing())
    affine[:3, 3] = img.GetOrigin()
    return np.diag([-1.0, -1.0, 1.0, 1.0]) @ affine


class TestAssumedVoxelSizeIsNotWrittenAsAFact:
    """Finding 1: a voxel size kernelcli assumed (pixdim 0, no PixelSpacing, no ElementSpacing) was written into NIfTI
    outputs as a real one (pixdim 1, pooled 2; on the input's own grid too, where the header is kept "bit for bit"),
    and into a .zarr's spacing_mm; read back, gaussian:1mm ran on the guess with exit 0."""

    INPUTS = {"nifti": ("p0.nii", nifti_pixdim0, ["x"]), "dicom": ("s", lambda p: ct_series(p, drop=("PixelSpacing",)), ["x", "y"]),
              "metaimage": ("nosp.mha", metaimage_without_spacing, ["x", "y", "z"])}

    @pytest.mark.parametrize("command", ["convolve", "pool"])
    @pytest.mark.parametrize("kind", list(INPUTS))
    def test_round_trip_keeps_the_size_unknown(self, tmp_path, kind, command):
        name, build, axes = self.INPUTS[kind]
        if kind == "metaimage":
            pytest.importorskip("SimpleITK")
        build(tmp_path / name)
        args = ["-k", "box:1vox"] if command == "convolve" else ["-f", "2"]
        written = run_in_process(command, name, *args, "-o", "out.nii.gz", cwd=tmp_path)
        assert written.returncode == 0, written.stderr
        assert f"the voxel size along {' and '.join(axes) if len(axes) < 3 else 'x, y and z'} is not in the input" in written.stderr
        pixdim = _pixdim(tmp_path / "out.nii.gz")
        for n, axis in enumerate("xyz"):
            assert (pixdim[n] == 0) == (axis in axes), pixdim
        back = medical.read_volume(tmp_path / "out.nii.gz")
        assert back.assumed_axes == tuple(axes) and back.spacing_assumed
        refused = run_in_process("convolve", "out.nii.gz", "-k", "gaussian:1mm", "-o", "g.nii.gz", cwd=tmp_path)
        assert refused.returncode == 2 and "the voxel size is not in the file" in refused.stderr
        assert not (tmp_path / "g.nii.gz").exists()
        # nibabel (and SimpleITK, where installed) place every voxel where kernelcli does, and read every value
        np.testing.assert_allclose(nib.load(tmp_path / "out.nii.gz").affine, back.affine, atol=1e-4)
        # (codes 0, the MetaImage's: SimpleITK puts voxel 0 at the origin, nibabel centres the grid, as for any such file)
        if kind != "metaimage" and importlib.util.find_spec("SimpleITK") is not None:
            np.testing.assert_allclose(sitk_grid(tmp_path / "out.nii.gz"), back.affine, atol=1e-4)

    def test_the_input_grid_keeps_the_stored_header_bit_for_bit(self, tmp_path):
        nifti_pixdim0(tmp_path / "p0.nii")
        assert run_in_process("convolve", "p0.nii", "-k", "box:1vox", "-o", "out.nii", "--keep-dtype", cwd=tmp_path).returncode == 0
        source, output = (tmp_path / "p0.nii").read_bytes(), (tmp_path / "out.nii").read_bytes()
        assert source[76:108] == output[76:108]  # pixdim, the qform's qfac among them
        assert source[252:344] == output[252:344]  # codes, quaternion, offsets, sform rows

    def test_a_pooled_grid_takes_the_step_readers_take_for_pixdim_0(self, tmp_path):
        ct_series(tmp_path / "s", drop=("PixelSpacing",))
        assert run_in_process("pool", "s", "-f", "2", "-o", "p.nii.gz", cwd=tmp_path).returncode == 0
        vol, pooled = medical.read_volume(tmp_path / "s"), medical.read_volume(tmp_path / "p.nii.gz")
        # voxel 0 at the first window's centre; a step of 1 along x and y (pixdim 0, as readers take it); 5 mm along z
        np.testing.assert_allclose(pooled.affine[:3, 3], vol.affine[:3] @ [0.5, 0.5, 0.5, 1], atol=1e-4)
        np.testing.assert_allclose(np.linalg.norm(pooled.affine[:3, :3], axis=0), [1, 1, 5], atol=1e-5)

    def test_the_nifti_and_the_zarr_of_a_pool_give_one_grid(self, tmp_path):
        """Review 51 #1: a pool of an input whose x size is not given wrote a .nii with a step of 1 along x and a .zarr
        whose affine said the input's sform step times 2 (1.0 against 1.4): two grids for one call."""
        pytest.importorskip("dask")
        zarr = pytest.importorskip("zarr")
        img = nib.Nifti1Image(np.random.default_rng(1).integers(0, 99, (8, 9, 10)).astype(np.int16), np.diag([0.7, 0.5, 2, 1]))
        img.header.set_xyzt_units("mm")
        img.set_sform(np.diag([0.7, 0.5, 2, 1]), 2)
        nib.save(img, tmp_path / "px0.nii")
        raw = bytearray((tmp_path / "px0.nii").read_bytes())
        struct.pack_into("<f", raw, 80, 0.0)  # pixdim[1]: the voxel size along x not given
        (tmp_path / "px0.nii").write_bytes(bytes(raw))
        for out, tiled in (("p.nii", []), ("t.nii", ["--tiled"]), ("p.zarr", ["--tiled"])):
            done = run_in_process("pool", "px0.nii", "-f", "2", *tiled, "-o", out, cwd=tmp_path)
            assert done.returncode == 0, done.stderr
        sform = nib.load(tmp_path / "p.nii").get_sform()
        np.testing.assert_allclose(nib.load(tmp_path / "t.nii").get_sform(), sform)
        np.testing.assert_allclose(np.asarray(zarr.open(str(tmp_path / "p.zarr"), mode="r").attrs["affine"]), sform, atol=1e-6)
        np.testing.assert_allclose(np.diag(sform)[:3], [1.0, 1.0, 4.0], atol=1e-6)  # x: the step pixdim 0 is read as
        assert medical.read_volume(tmp_path / "p.nii").data.shape == (5, 4, 4)  # kernelcli reads it back: one reading

    def test_a_zarr_leaves_the_assumed_axis_out_of_spacing_mm(self, tmp_path):
        pytest.importorskip("dask")
        zarr = pytest.importorskip("zarr")
        nifti_pixdim0(tmp_path / "p0.nii")
        answer = run_in_process("convolve", "p0.nii", "-k", "box:3vox", "--tiled", "-o", "p0.zarr", cwd=tmp_path)
        assert answer.returncode == 0, answer.stderr
        assert "spacing_mm holds null" in answer.stderr
        assert zarr.open(str(tmp_path / "p0.zarr"), mode="r").attrs["spacing_mm"] == [2.5, 1.1, None]

    def test_the_tiled_nii_output_states_no_size_either(self, tmp_path):
        pytest.importorskip("dask")
        nifti_pixdim0(tmp_path / "p0.nii")
        for tiled, out in ((["--tiled"], "t.nii"), ([], "m.nii")):
            answer = run_in_process("pool", "p0.nii", "-f", "2", *tiled, "-o", out, cwd=tmp_path)
            assert answer.returncode == 0, answer.stderr
        assert _pixdim(tmp_path / "t.nii")[0] == 0
        assert (tmp_path / "t.nii").read_bytes()[:352] == (tmp_path / "m.nii").read_bytes()[:352]


class TestTwoDimensionalNiftiHasNoDepth:
    """Finding 2: a 2-D NIfTI (dim[0] 2) was given a 1 mm depth without a word; gaussian:1mm ran on it, and with
    --pad-mode constant its 7 z-taps took in zeros: a constant 100 image gave 39.9 at its centre."""

    @staticmethod
    def _plane(path: Path) -> None:
        img = nib.Nifti1Image(np.full((9, 9), 100, np.float32), np.diag([0.8, 0.8, 1, 1]))
        img.header.set_xyzt_units("mm")
        nib.save(img, path)

    @pytest.mark.parametrize("command", [["convolve", "-k", "box:1vox"], ["pool", "-f", "1"]])
    def test_the_json_record_states_no_depth_either(self, tmp_path, command):
        """Review 51 #9: the record's spacing gave the assumed 1 mm as a number, where a .zarr writes null."""
        self._plane(tmp_path / "twod.nii")
        done = run_in_process(command[0], "twod.nii", *command[1:], "-o", "x.npy", "--json", cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["spacing"] == [None, 0.8, 0.8]

    def test_the_depth_is_assumed_with_a_note(self, tmp_path):
        self._plane(tmp_path / "twod.nii")
        vol = medical.read_volume(tmp_path / "twod.nii")
        assert vol.assumed_axes == ("z",) and "2-D image" in vol.spacing_assumed
        assert any("no voxel size along z; assuming 1 mm" in n for n in vol.notes)

    def test_a_kernel_in_mm_is_refused_as_for_a_dicom_slice_without_thickness(self, tmp_path):
        self._plane(tmp_path / "twod.nii")
        answer = run_in_process("convolve", "twod.nii", "-k", "gaussian:1mm", "--pad-mode", "constant", "-o", "z.nii", cwd=tmp_path)
        assert answer.returncode == 2 and "the voxel size is not in the file" in answer.stderr and "2-D image" in answer.stderr
        assert not (tmp_path / "z.nii").exists()

    def test_a_kernel_in_voxels_runs_and_the_output_states_no_depth(self, tmp_path):
        self._plane(tmp_path / "twod.nii")
        answer = run_in_process("convolve", "twod.nii", "-k", "box:3", "-o", "z.nii", cwd=tmp_path)
        assert answer.returncode == 0, answer.stderr
        assert _pixdim(tmp_path / "z.nii") == pytest.approx([0.8, 0.8, 0.0])
        assert medical.read_volume(tmp_path / "z.nii").assumed_axes == ("z",)
