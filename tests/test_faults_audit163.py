"""Audit 163's findings: the data file an NRRD/MetaImage header names (a FIFO hung, /dev/zero was read as voxels),
a DICOM series folder's broken link or FIFO named like a slice (dropped in silence), MetaIO's own lines on stderr
and a stale errno for the reason, and a pattern matching nothing given with -o (refused as "several inputs")."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from conftest import run_cli, run_in_process

VOXELS = np.arange(6 * 7 * 8, dtype="<f4").reshape(6, 7, 8)  # (Z, Y, X)


def _nhdr(folder: Path, data_file: str, name: str = "v.nhdr") -> Path:
    header = folder / name  # (a LIST's names run to the end of the file: no blank line after them)
    header.write_text("NRRD0004\ntype: float\ndimension: 3\nsizes: 8 7 6\nspacings: 1 1 1\nencoding: raw\n"
                      f"endian: little\ndata file: {data_file}\n" + ("" if data_file.startswith("LIST") else "\n"))
    return header


def _mhd(folder: Path, data_file: str, name: str = "v.mhd") -> Path:
    header = folder / name
    header.write_text("ObjectType = Image\nNDims = 3\nBinaryData = True\nBinaryDataByteOrderMSB = False\n"
                      "CompressedData = False\nElementSpacing = 1 1 1\nDimSize = 8 7 6\nElementType = MET_FLOAT\n"
                      f"ElementDataFile = {data_file}\n")
    return header


HEADERS = {"nhdr": (_nhdr, "data file"), "mhd": (_mhd, "ElementDataFile")}


class TestADetachedHeadersDataFileIsCheckedAsAnInput:
    @pytest.mark.parametrize("fmt", HEADERS)
    def test_a_fifo_data_file_is_refused_not_waited_on(self, tmp_path, fmt):
        pytest.importorskip("SimpleITK")
        os.mkfifo(tmp_path / "fifo.raw")
        write, field = HEADERS[fmt]
        write(tmp_path, "fifo.raw")
        # before: ITK opened the FIFO and blocked for ever (the call timed out)
        done = run_cli("volume", f"v.{fmt}", "-k", "box:3vox", "-o", "o.nii.gz", cwd=tmp_path, timeout=60)
        assert done.returncode == 2, done.stderr
        assert done.stderr.splitlines() == [
            f"error: v.{fmt}: its data file fifo.raw, named by its {field!r} field, is not a regular file (a device, pipe or "
            "socket); expected the regular file holding its voxels"]
        assert not (tmp_path / "o.nii.gz").exists()

    @pytest.mark.parametrize("fmt", HEADERS)
    def test_a_device_data_file_is_refused_not_read_as_voxels(self, tmp_path, fmt):
        pytest.importorskip("SimpleITK")
        write, field = HEADERS[fmt]
        write(tmp_path, "/dev/zero")
        # before: exit 0, an output of zeros ("range [0, 0]")
        done = run_in_process("volume", f"v.{fmt}", "-k", "box:3vox", "-o", "o.nii.gz", cwd=tmp_path)
        assert done.returncode == 2, done.stderr
        assert done.stderr.splitlines() == [
            f"error: v.{fmt}: its data file /dev/zero, named by its {field!r} field, is not a regular file (a device, pipe "
            "or socket); expected the regular file holding its voxels"]
        assert not (tmp_path / "o.nii.gz").exists()

    @pytest.mark.parametrize("fmt", HEADERS)
    @pytest.mark.parametrize("kind, why", [("missing", "does not exist"), ("link", "does not exist (a broken link)"),
                                           ("folder", "is a folder")])
    def test_a_missing_or_folder_data_file_says_so(self, tmp_path, fmt, kind, why):
        pytest.importorskip("SimpleITK")
        from kernelcli.errors import ImageReadError
        from kernelcli.medical import read_volume

        (tmp_path / "sub").mkdir()
        if kind == "link":
            (tmp_path / "sub" / "d.raw").symlink_to("/nonexistent/d.raw")
        elif kind == "folder":
            (tmp_path / "sub" / "d.raw").mkdir()
        write, field = HEADERS[fmt]
        header = write(tmp_path, "sub/d.raw")
        with pytest.raises(ImageReadError) as refused:
            read_volume(header)
        assert str(refused.value) == (f"{header}: its data file sub/d.raw ({tmp_path / 'sub' / 'd.raw'}), named by its "
                                      f"{field!r} field, {why}; expected the regular file holding its voxels")

    @pytest.mark.parametrize("fmt", HEADERS)
    def test_each_file_of_a_list_or_pattern_is_checked_and_good_ones_read_as_one_file(self, tmp_path, fmt):
        pytest.importorskip("SimpleITK")
        from kernelcli.medical import read_volume

        for z in range(6):
            (tmp_path / f"s{z}.raw").write_bytes(VOXELS[z].tobytes())
        write, field = HEADERS[fmt]
        listed = "LIST 2\n" + "\n".join(f"s{z}.raw" for z in range(6)) if fmt == "nhdr" else \
            "LIST 2D\n" + "\n".join(f"s{z}.raw" for z in range(6))
        for data_file in (listed, "s%d.raw 0 5 1"):
            got = read_volume(write(tmp_path, data_file))
            np.testing.assert_array_equal(got.data, VOXELS)
        os.unlink(tmp_path / "s3.raw")
        os.mkfifo(tmp_path / "s3.raw")
        for data_file in (listed, "s%d.raw 0 5 1"):
            write(tmp_path, data_file)
            done = run_cli("volume", f"v.{fmt}", "-k", "box:3vox", "-o", "o.nii.gz", cwd=tmp_path, timeout=60)  # (hung)
            assert done.returncode == 2, done.stderr
            assert done.stderr.splitlines() == [
                f"error: v.{fmt}: its data file s3.raw (file 4 of 6), named by its {field!r} field, is not a regular file "
                "(a device, pipe or socket); expected the regular file holding its voxels"]

    def test_an_attached_file_and_a_local_one_are_read_as_before(self, tmp_path):
        sitk = pytest.importorskip("SimpleITK")
        from kernelcli.medical import read_volume

        for name in ("a.nrrd", "a.mha"):
            sitk.WriteImage(sitk.GetImageFromArray(VOXELS), str(tmp_path / name))
            np.testing.assert_array_equal(read_volume(tmp_path / name).data, VOXELS)


def _metaimage(folder: Path, name: str) -> bytes:
    sitk = pytest.importorskip("SimpleITK")
    sitk.WriteImage(sitk.GetImageFromArray(VOXELS), str(folder / name))
    return (folder / name).read_bytes()


class TestMetaIOsOwnLinesBecomeTheOneReason:
    def test_a_truncated_mha_says_so_in_one_line_even_quiet(self, tmp_path):
        whole = _metaimage(tmp_path, "ok.mha")
        (tmp_path / "t.mha").write_bytes(whole[:len(whole) // 2])
        header = whole.index(b"ElementDataFile = LOCAL\n") + len(b"ElementDataFile = LOCAL\n")
        # before: "MetaImage: M_ReadElementsData: data not read completely", "   ideal = 1344 : actual = 526", then
        # "error: t.mha: not a readable .mha image: Reason: No such file or directory" (a stale errno)
        done = run_cli("volume", "t.mha", "-k", "box:3vox", "-o", "o.nii.gz", "-q", cwd=tmp_path)
        assert done.returncode == 2
        assert done.stderr.splitlines() == [
            f"error: t.mha: not a readable .mha image: truncated: {len(whole) // 2 - header} of the {VOXELS.nbytes} bytes "
            "of voxel data its header states are there"]

    def test_a_short_raw_file_of_an_mhd_says_so_in_one_line(self, tmp_path):
        _metaimage(tmp_path, "v.mhd")
        raw = tmp_path / "v.raw"
        raw.write_bytes(raw.read_bytes()[:100])
        done = run_cli("convolve", "v.mhd", "-k", "gaussian:1mm", "-o", "o.nii.gz", cwd=tmp_path)
        assert done.returncode == 2
        assert done.stderr.splitlines() == [
            f"error: v.mhd: not a readable .mhd image: truncated: 100 of the {VOXELS.nbytes} bytes of voxel data its header "
            "states are there"]

    def test_a_header_metaio_cannot_parse_gives_its_first_line(self, tmp_path):
        _metaimage(tmp_path, "v.mhd")
        header = tmp_path / "v.mhd"
        header.write_text(header.read_text().replace("DimSize = 8 7 6", "DimSize = 8 x 6"))
        done = run_cli("volume", "v.mhd", "-k", "box:3vox", "-o", "o.nii.gz", cwd=tmp_path)
        assert done.returncode == 2
        assert done.stderr.splitlines() == [
            "error: v.mhd: not a readable .mhd image: ElementType required and not defined. (MetaIO)"]

    def test_data_that_does_not_uncompress_is_refused_not_read_as_the_buffer(self, tmp_path):
        _metaimage(tmp_path, "v.mhd")
        header = tmp_path / "v.mhd"
        header.write_text(header.read_text().replace("CompressedData = False", "CompressedData = True\nCompressedDataSize = 100"))
        # before: "Uncompress failed" on stderr, and exit 0 with voxels of whatever the buffer held (about 1e32)
        done = run_cli("volume", "v.mhd", "-k", "box:3vox", "-o", "o.nii.gz", cwd=tmp_path)
        assert done.returncode == 2
        assert done.stderr.splitlines() == ["error: v.mhd: not a readable .mhd image: Uncompress failed (MetaIO)"]
        assert not (tmp_path / "o.nii.gz").exists()

    def test_the_reader_writes_nothing_on_stderr_itself(self, tmp_path, capfd):
        from kernelcli.errors import ImageReadError
        from kernelcli.medical import read_volume

        whole = _metaimage(tmp_path, "ok.mha")
        (tmp_path / "t.mha").write_bytes(whole[:len(whole) // 2])
        capfd.readouterr()
        with pytest.raises(ImageReadError, match="truncated"):
            read_volume(tmp_path / "t.mha")
        np.testing.assert_array_equal(read_volume(tmp_path / "ok.mha").data, VOXELS)
        print("stderr is back", file=__import__("sys").stderr)
        assert capfd.readouterr().err == "stderr is back\n"


def _two_slices(folder: Path) -> None:
    pydicom = pytest.importorskip("pydicom")
    from pydicom.data import get_testdata_file

    folder.mkdir()
    for i in range(2):
        ds = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
        ds.InstanceNumber, ds.ImagePositionPatient, ds.SOPInstanceUID = i + 1, [0, 0, i * 5.0], ds.SOPInstanceUID + f".{i}"
        ds.save_as(folder / f"s{i}.dcm")


class TestASeriesFolderSaysWhatIsNoRegularFile:
    def test_a_broken_link_named_like_a_slice_is_noted(self, tmp_path):
        pytest.importorskip("nibabel")
        _two_slices(tmp_path / "ser")
        (tmp_path / "ser" / "s2.dcm").symlink_to("/nonexistent/archive/s2.dcm")
        # before: "notes": [] and exit 0, the third slice dropped in silence
        done = run_in_process("volume", "ser", "-k", "box:3vox", "-o", "o.nii.gz", "--json", cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        import json

        assert json.loads(done.stdout)["notes"] == [
            "ser: skipped 1 name(s) that are no regular file (s2.dcm (a broken link)): a slice among them would be missing "
            "from the volume"]

    def test_a_fifo_is_noted_beside_a_file_that_is_not_dicom(self, tmp_path):
        from kernelcli.medical import read_volume

        _two_slices(tmp_path / "ser")
        os.mkfifo(tmp_path / "ser" / "zz.dcm")
        (tmp_path / "ser" / "readme.txt").write_text("junk")
        vol = read_volume(tmp_path / "ser")  # (the FIFO is never opened: that would block)
        assert vol.data.shape == (2, 128, 128)
        assert vol.notes[:2] == [
            "ser: skipped 1 file(s) that are not DICOM images (readme.txt)",
            "ser: skipped 1 name(s) that are no regular file (zz.dcm (a device, pipe or socket)): a slice among them would "
            "be missing from the volume"]

    def test_a_folder_of_broken_links_alone_says_them(self, tmp_path):
        pytest.importorskip("pydicom")
        from kernelcli.errors import InputError
        from kernelcli.medical import read_volume

        (tmp_path / "ser").mkdir()
        (tmp_path / "ser" / "s0.dcm").symlink_to("/nonexistent/archive/s0.dcm")
        with pytest.raises(InputError) as refused:
            read_volume(tmp_path / "ser")
        assert str(refused.value) == f"{tmp_path / 'ser'}: no DICOM images in this folder (skipped, no regular file: s0.dcm (a broken link))"


class TestAPatternThatMatchesNothingIsNamedWhateverOutSays:
    @pytest.mark.parametrize("args", [
        ["convolve", "nosuch*.png", "-k", "sobel_v", "-o", "x.png"],
        ["pad", "nosuch*.png", "-p", "1", "-o", "x.png"],
        ["pool", "nosuch*.png", "-f", "2", "-o", "x.npy"],
        ["convolve", "nosuch*.png", "-k", "sobel_v", "-d", "od"],
        ["gallery", "nosuch*.png", "-o", "g.png"],
        ["gallery", "nosuch*.png"],
        ["learn", "nosuch*.png", "a.png", "-f", "3"],
        ["learn", "a.png", "nosuch*.png", "-f", "3"],
    ], ids=" ".join)
    def test_the_refusal_names_the_pattern(self, tmp_path, args):
        from PIL import Image

        Image.fromarray(np.zeros((8, 8), np.uint8)).save(tmp_path / "a.png")
        # before: convolve/pad/pool with -o "--out names one output file; for several inputs, a folder or a pattern use
        # --out-dir DIR", whose advice led to "no files match this pattern"; gallery and learn "nosuch*.png: no such file"
        done = run_in_process(*args, cwd=tmp_path)
        assert done.returncode == 2
        assert done.stderr.splitlines() == ["error: nosuch*.png: no files match this pattern"]

    @pytest.mark.parametrize("command", [["gallery"], ["learn", "-f", "3"]])
    def test_a_one_file_command_given_a_pattern_that_matches_names_the_files(self, tmp_path, command):
        from PIL import Image

        for name in ("a.png", "b.png"):
            Image.fromarray(np.zeros((8, 8), np.uint8)).save(tmp_path / name)
        done = run_in_process(command[0], "?.png", *(["a.png"] if command[0] == "learn" else []), *command[1:], cwd=tmp_path)
        assert done.returncode == 2
        assert done.stderr.splitlines() == [f"error: ?.png: no such file; {command[0]} reads one file and expands no pattern "
                                            "(this one matches a.png, b.png): give one by name"]

    def test_a_pattern_that_matches_with_out_is_still_told_to_use_out_dir(self, tmp_path):
        from PIL import Image

        for name in ("a.png", "b.png"):
            Image.fromarray(np.zeros((8, 8), np.uint8)).save(tmp_path / name)
        done = run_in_process("convolve", "?.png", "-k", "sobel_v", "-o", "x.png", cwd=tmp_path)
        assert done.returncode == 2
        assert done.stderr.splitlines() == [
            "error: --out names one output file; for several inputs, a folder or a pattern use --out-dir DIR"]
