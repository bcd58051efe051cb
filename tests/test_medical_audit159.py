"""Audit 159 (DICOM and NIfTI, round 8): what a medical reader or writer stated wrongly or said badly.

Each class reproduces one finding on small files built here in ``tmp_path`` (pydicom series, nibabel images with a
patched header, SimpleITK 4-D images); pydicom's ``eCT_Supplemental.dcm`` is one of its own test files.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from kernelcli import medical

pydicom = pytest.importorskip("pydicom")
nib = pytest.importorskip("nibabel")
from conftest import run_in_process  # noqa: E402
from test_medical_audit127 import ct_series  # noqa: E402


def _record(result) -> dict:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


class TestRescaleTypeNotHU:
    """Finding 1: a CT whose RescaleType says its values are not HU was labelled HU (units "HU", "HU/mm"), and a CT
    window preset ran on it without the note a PT or MR series gets."""

    @staticmethod
    def _typed(kind: str):
        def per(k, ds):
            ds.RescaleType = kind
        return per

    def test_a_series_whose_rescale_type_is_us_has_no_units_and_says_why(self, tmp_path):
        ct_series(tmp_path / "us", per=self._typed("US"))
        vol = medical.read_volume(tmp_path / "us")
        assert vol.units is None
        assert "us: RescaleType US (unspecified): its values are not HU" in vol.notes

    def test_the_record_of_a_gradient_and_a_smoothing_states_no_hu(self, tmp_path):
        ct_series(tmp_path / "us", per=self._typed("US"))
        for spec in ("gradient", "gaussian:1mm"):
            record = _record(run_in_process("convolve", "us", "-k", spec, "-o", f"o_{spec[:4]}.nii.gz", "--json", cwd=tmp_path))
            assert record["units"] is None, (spec, record["units"])

    def test_a_ct_preset_on_it_gets_the_not_hu_note(self, tmp_path):
        ct_series(tmp_path / "us", per=self._typed("US"))
        result = run_in_process("convolve", "us", "--window", "brain", "-o", "us.png", cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert "--window brain is a CT preset in HU (40,80), and us does not say its values are HU" in result.stderr

    def test_another_stated_type_is_the_unit(self, tmp_path):
        ct_series(tmp_path / "od", per=self._typed("OD"))
        vol = medical.read_volume(tmp_path / "od")
        assert vol.units == "OD" and "od: RescaleType OD (optical density): its values are not HU" in vol.notes

    @pytest.mark.parametrize("kind", [None, "HU"])
    def test_a_ct_without_it_or_with_hu_stays_hu_without_a_note(self, tmp_path, kind):
        ct_series(tmp_path / "hu", per=self._typed(kind) if kind else None)
        vol = medical.read_volume(tmp_path / "hu")
        assert vol.units == "HU" and not any("RescaleType" in n for n in vol.notes)
        result = run_in_process("convolve", "hu", "--window", "brain", "-o", "hu.png", cwd=tmp_path)
        assert result.returncode == 0 and "CT preset" not in result.stderr, result.stderr

    def test_pydicoms_derived_perfusion_map_is_not_hu(self, tmp_path):
        # eCT_Supplemental.dcm: FrameType DERIVED\PRIMARY\PERFUSION\RCBF, RescaleType US in its shared
        # PixelValueTransformationSequence (enhanced CT)
        from pydicom.data import get_testdata_file

        path = get_testdata_file("eCT_Supplemental.dcm")
        vol = medical.read_volume(path)
        assert vol.modality == "CT" and vol.units is None
        record = _record(run_in_process("convolve", path, "-k", "gradient", "-o", "g.nii.gz", "--json", cwd=tmp_path))
        assert record["units"] is None
        result = run_in_process("convolve", path, "--window", "brain", "-o", "e.png", cwd=tmp_path)
        assert "does not say its values are HU" in result.stderr, result.stderr


def _small_nii(path: Path, dims: dict[int, int] | None = None) -> Path:
    """An (8, 10, 6) int16 NIfTI (0.8 x 0.9 x 2 mm), its header's dim[k] then patched to ``dims[k]`` on disk."""
    import struct

    data = np.random.default_rng(0).integers(0, 1000, (8, 10, 6)).astype(np.int16)
    image = nib.Nifti1Image(data, np.diag([0.8, 0.9, 2.0, 1.0]))
    image.header.set_xyzt_units("mm")
    nib.save(image, path)
    raw = bytearray(path.read_bytes())
    for k, value in (dims or {}).items():
        if k > int(struct.unpack_from("<h", raw, 40)[0]):
            struct.pack_into("<h", raw, 40, k)  # dim[0]: the rank, so that dim[k] is read
        struct.pack_into("<h", raw, 40 + 2 * k, value)
    path.write_bytes(bytes(raw))
    return path


def _one_line(result, code: int, *words: str) -> None:
    assert result.returncode == code, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr, result.stderr
    for word in words:
        assert word in result.stderr, result.stderr


_TILED = pytest.mark.skipif(__import__("importlib.util").util.find_spec("dask") is None, reason="tile by tile needs dask")


class TestNegativeDimension:
    """Finding 2: a NIfTI whose header gives an axis -4 voxels was an internal error tile by tile (exit 70: "memory
    mapped length must be positive"), and in memory a refusal in numpy's words naming no header field."""

    CALLS = [
        pytest.param(["convolve", "d.nii", "-k", "box:3vox", "-o", "o.nii.gz"], {}, id="in-memory"),
        pytest.param(["pool", "d.nii", "-f", "2", "-o", "p.nii.gz"], {}, id="pool-in-memory"),
        pytest.param(["convolve", "d.nii", "-k", "box:3vox", "-o", "o.nii", "--tiled"], {}, id="tiled", marks=_TILED),
        pytest.param(["convolve", "d.nii", "-k", "box:3vox", "-o", "o.zarr"], {}, id="zarr", marks=_TILED),
        pytest.param(["pool", "d.nii", "-f", "2", "-o", "p.nii", "--tiled"], {}, id="pool-tiled", marks=_TILED),
        pytest.param(["convolve", "d.nii", "-k", "box:3vox", "-o", "o.nii"], {"KERNELCLI_MAX_MEMORY": "1000"},
                     id="memory-cap", marks=_TILED),
    ]

    @pytest.mark.parametrize("args, env", CALLS)
    @pytest.mark.parametrize("k, value", [(1, -4), (3, 0), (4, -2)])
    def test_every_path_refuses_it_naming_the_field(self, tmp_path, args, env, k, value):
        _small_nii(tmp_path / "d.nii", {k: value})
        result = run_in_process(*args, cwd=tmp_path, env=env)
        _one_line(result, 2, f"d.nii: dim[{k}] is {value}; expected a positive number of voxels")
        assert sorted(p.name for p in tmp_path.iterdir()) == ["d.nii"]

    def test_the_api_reader_refuses_it_too(self, tmp_path):
        from kernelcli.errors import ImageReadError

        with pytest.raises(ImageReadError, match=r"dim\[1\] is -4; expected a positive number of voxels"):
            medical.read_volume(_small_nii(tmp_path / "d.nii", {1: -4}))


@_TILED
class TestTiledOutputRefusal:
    """Finding 3: a .nii sent tile by tile by the memory cap (no --tiled given) had its .png or .nii.gz output refused
    as "the tiled volume path writes .nii ..." without saying why it went tiled or how to run it in memory, and a .png
    was told to "gzip the .nii afterwards"."""

    CAP = {"KERNELCLI_MAX_MEMORY": "1000"}
    REASON = ("it went tile by tile because its in-memory run would exceed KERNELCLI_MAX_MEMORY: "
              "raise KERNELCLI_MAX_MEMORY to run it in memory")

    @pytest.mark.parametrize("args", [["convolve", "s.nii", "-k", "box:3vox"], ["pool", "s.nii", "-f", "2"]])
    @pytest.mark.parametrize("out", ["o.png", "o.nii.gz"])
    def test_the_memory_caps_choice_is_said_with_its_remedy(self, tmp_path, args, out):
        _small_nii(tmp_path / "s.nii")
        result = run_in_process(*args, "-o", out, cwd=tmp_path, env=self.CAP)
        _one_line(result, 2, f"{out}: the tiled volume path writes .nii", self.REASON)
        assert "--tiled" not in result.stderr
        assert ("gzip" in result.stderr) == out.endswith(".nii.gz"), result.stderr
        # the same words as the refusal of an option on that path
        window = run_in_process("convolve", "s.nii", "-k", "box:3vox", "--window", "brain", "-o", "w.nii", cwd=tmp_path, env=self.CAP)
        _one_line(window, 2, self.REASON)

    def test_with_tiled_given_a_png_is_told_to_leave_it_out_not_to_gzip(self, tmp_path):
        _small_nii(tmp_path / "s.nii")
        result = run_in_process("convolve", "s.nii", "-k", "box:3vox", "--tiled", "-o", "o.png", cwd=tmp_path)
        _one_line(result, 2, "got .png: leave out --tiled/--chunks")
        assert "gzip" not in result.stderr
        gz = run_in_process("convolve", "s.nii", "-k", "box:3vox", "--tiled", "-o", "o.nii.gz", cwd=tmp_path)
        _one_line(gz, 2, "written in order: leave out --tiled/--chunks, or write the .nii and gzip it afterwards")

    def test_an_output_no_volume_path_writes_gets_no_advice_that_leads_to_another_refusal(self, tmp_path):
        _small_nii(tmp_path / "s.nii")
        result = run_in_process("convolve", "s.nii", "-k", "box:3vox", "--tiled", "-o", "o.tif", cwd=tmp_path)
        _one_line(result, 2, "got .tif")
        assert "--tiled" not in result.stderr and "gzip" not in result.stderr


class TestFiveDimensional:
    """Finding 4: tile by tile, a 5-D NIfTI (a vector field) was told to take "--volume N in memory", which the
    in-memory reader refuses too; both paths now say the same thing, with no --volume advice."""

    WORDS = "v.nii: 5-D image (6x7x5x1x3); expected 3-D or 4-D (vector or tensor images are not volumes)"

    @staticmethod
    def _vector(path: Path) -> None:
        image = nib.Nifti1Image(np.random.default_rng(0).random((6, 7, 5, 1, 3)).astype(np.float32), np.eye(4))
        image.header.set_intent("vector")
        nib.save(image, path)

    @pytest.mark.parametrize("args", [
        pytest.param(["-o", "o.nii", "--tiled"], id="tiled", marks=_TILED),
        pytest.param(["-o", "o.zarr"], id="zarr", marks=_TILED),
        pytest.param(["-o", "o.nii.gz"], id="in-memory"),
        pytest.param(["--volume", "0", "-o", "o.nii.gz"], id="volume-0"),
    ])
    def test_every_path_says_it_is_not_a_volume(self, tmp_path, args):
        self._vector(tmp_path / "v.nii")
        result = run_in_process("convolve", "v.nii", "-k", "box:3vox", *args, cwd=tmp_path)
        _one_line(result, 2, self.WORDS)
        assert "--volume N" not in result.stderr


def _raw_tag(ds, tag: int, vr: str, text: str) -> None:
    """Put ``text`` into ``ds`` as stored bytes (pydicom refuses to set a DS of 'thick', but reads one)."""
    from pydicom.dataelem import RawDataElement
    from pydicom.tag import Tag

    value = text.encode() + (b" " if len(text) % 2 else b"")
    ds._dict[Tag(tag)] = RawDataElement(Tag(tag), vr, len(value), value, 0, False, True)


class TestUnusableSliceThickness:
    """Finding 5: one slice whose SliceThickness is there but unusable (-2, 'thick') was noted as having "no
    SliceThickness or SpacingBetweenSlices"; the note and the mm-kernel refusal now name the tag and its value."""

    CASES = [
        pytest.param(lambda k, ds: setattr(ds, "SliceThickness", "-2"), "SliceThickness -2 is not positive", id="negative"),
        pytest.param(lambda k, ds: _raw_tag(ds, 0x00180050, "DS", "thick"), "SliceThickness thick is not a number", id="text"),
        pytest.param(lambda k, ds: (setattr(ds, "SliceThickness", "0"), setattr(ds, "SpacingBetweenSlices", "-3")),
                     "SpacingBetweenSlices -3 and SliceThickness 0 are not positive", id="both"),
        pytest.param(lambda k, ds: delattr(ds, "SliceThickness"), "no SliceThickness or SpacingBetweenSlices", id="absent"),
    ]

    @pytest.mark.parametrize("per, why", CASES)
    def test_the_note_and_the_mm_refusal_say_what_is_wrong(self, tmp_path, per, why):
        ct_series(tmp_path / "one", n=1, per=per)
        vol = medical.read_volume(tmp_path / "one" / "IM000.dcm")
        assert f"IM000.dcm: one slice and {why}: its depth is taken as 1 mm" in vol.notes, vol.notes
        refused = run_in_process("convolve", "one/IM000.dcm", "-k", "gaussian:1mm", "-o", "o.nii.gz", cwd=tmp_path)
        _one_line(refused, 2, f"(one slice and {why}; 1 mm was assumed)")
        assert vol.spacing[0] == 1.0 and "z" in vol.assumed_axes

    def test_a_series_placed_by_the_header_alone_names_it_too(self, tmp_path):
        def per(k, ds):
            ds.SliceThickness = "-2"
            del ds.ImagePositionPatient

        ct_series(tmp_path / "s", n=3, per=per)
        vol = medical.read_volume(tmp_path / "s")
        assert any(n.endswith("1 mm apart (assumed: SliceThickness -2 is not positive)") for n in vol.notes), vol.notes
        refused = run_in_process("convolve", "s", "-k", "gaussian:1mm", "-o", "o.nii.gz", cwd=tmp_path)
        _one_line(refused, 2, "(no slice spacing (no position per slice, and SliceThickness -2 is not positive)")


class TestItkTimeStep:
    """Finding 6: a 4-D NRRD/MetaImage lost its time step: the NIfTI output stored pixdim[4] 0 (with xyzt_units
    seconds) where SimpleITK's own NIfTI writer keeps ITK's fourth spacing (1.5)."""

    @staticmethod
    def _four_d(path: Path) -> None:
        sitk = pytest.importorskip("SimpleITK")
        volumes = []
        for t in range(3):
            vol = sitk.GetImageFromArray(np.random.default_rng(t).integers(0, 100, (6, 7, 8)).astype(np.int16))
            vol.SetSpacing((0.5, 0.6, 2.0))
            vol.SetOrigin((1, 2, 3))
            volumes.append(vol)
        sitk.WriteImage(sitk.JoinSeries(volumes, 0, 1.5), str(path))

    @pytest.mark.parametrize("name", ["t4.mha", "t4.nrrd"])
    @pytest.mark.parametrize("command", [["convolve", "-k", "box:3vox"], ["pool", "-f", "2"]])
    def test_the_nifti_output_keeps_it_as_simpleitk_does(self, tmp_path, name, command):
        sitk = pytest.importorskip("SimpleITK")
        self._four_d(tmp_path / name)
        result = run_in_process(command[0], name, *command[1:], "-o", "o.nii.gz", cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert f"{name}: its volumes are 1.5 apart (the fourth spacing; the file names no unit)" in result.stderr
        sitk.WriteImage(sitk.ReadImage(str(tmp_path / name)), str(tmp_path / "sitk.nii.gz"))
        ours, theirs = (nib.load(tmp_path / f).header for f in ("o.nii.gz", "sitk.nii.gz"))
        assert float(ours["pixdim"][4]) == float(theirs["pixdim"][4]) == 1.5
        assert ours.get_xyzt_units()[1] == theirs.get_xyzt_units()[1] == "sec"

    def test_one_volume_of_it_is_3d_and_says_nothing_of_time(self, tmp_path):
        self._four_d(tmp_path / "t4.mha")
        vol = medical.read_volume(tmp_path / "t4.mha", volume=1)
        assert vol.data.ndim == 3 and vol.time_step is None and not any("apart" in n for n in vol.notes)

    def test_a_header_without_the_fourth_spacing_says_it_is_not_given(self, tmp_path):
        self._four_d(tmp_path / "t4.mha")
        raw = (tmp_path / "t4.mha").read_bytes()
        start = raw.index(b"ElementSpacing")
        (tmp_path / "n.mha").write_bytes(raw[:start] + raw[raw.index(b"\n", start) + 1:])  # ITK then takes 1
        result = run_in_process("convolve", "n.mha", "-k", "box:3vox", "-o", "o.nii.gz", cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert "n.mha: no time between its volumes in the header (a fourth spacing): a NIfTI output stores pixdim[4] 0" in result.stderr
        assert float(nib.load(tmp_path / "o.nii.gz").header["pixdim"][4]) == 0.0
