"""Issue 14, NIfTI side: scaled integers, header codes kept by pool, 4-D inputs, a series folder is a volume.

Built on nibabel's shipped test data (``nibabel.testing.data_path``) and pydicom's; every test
skips cleanly without them.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from conftest import SAMPLES, run_in_process
from kernelcli import medical, volumes

nib = pytest.importorskip("nibabel")
PHANTOM = SAMPLES / "phantom3d.nii.gz"


def nibabel_file(name: str) -> Path:
    from nibabel.testing import data_path

    path = Path(data_path) / name
    if not path.is_file():
        pytest.skip(f"nibabel does not ship {name}")
    return path


def scaled_ct(path: Path, shape=(6, 7, 5), inter=-1024.0, slope=1.0, seed=0) -> np.ndarray:
    """An int16 NIfTI whose stored values 0..3000 mean stored*slope + inter (a CT stored with scl_inter)."""
    rng = np.random.default_rng(seed)
    stored = rng.integers(0, 3000, size=shape[::-1]).astype(np.int16)  # (i, j, k)
    img = nib.Nifti1Image(stored, np.diag([0.7, 0.7, 2.5, 1.0]))
    img.header.set_data_dtype(np.int16)
    img.header.set_slope_inter(slope, inter)
    img.header.set_qform(img.affine, code=1)
    img.header.set_sform(img.affine, code=1)
    nib.save(img, str(path))
    return (stored.astype(np.float64) * slope + inter).transpose(2, 1, 0)


class TestScaledIntegers:
    """Defect 3: an int16 file with scl_inter -1024 was read, filtered and written as float64."""

    def test_scaled_int16_reads_as_int16_hounsfield_units(self, tmp_path):
        expected = scaled_ct(tmp_path / "ct.nii.gz")
        vol = medical.read_volume(tmp_path / "ct.nii.gz")
        assert vol.data.dtype == np.int16  # -1024..1975 fits int16 exactly: no float copy at all
        np.testing.assert_array_equal(vol.data, expected)
        assert vol.stored_dtype == np.int16 and vol.scaling == (1.0, -1024.0)

    def test_shipped_scaled_fmri_is_float32_and_keep_dtype_round_trips(self, tmp_path):
        src = nibabel_file("functional.nii")  # int16, scl_slope 0.0754, scl_inter 3100.76, 4-D
        img = nib.load(src)
        vol = medical.read_volume(src)
        assert vol.data.dtype == np.float32 and vol.data.shape == (20, 3, 21, 17)
        np.testing.assert_allclose(vol.data, img.get_fdata().transpose(3, 2, 1, 0), rtol=1e-6)
        medical.convolve_volume_file(src, "box:1vox", medical.VolumeOptions(keep_dtype=True), out=tmp_path / "k.nii.gz")
        back = nib.load(tmp_path / "k.nii.gz")
        assert back.get_data_dtype() == np.int16
        assert (back.dataobj.slope, back.dataobj.inter) == pytest.approx((img.dataobj.slope, img.dataobj.inter))
        np.testing.assert_array_equal(np.asanyarray(back.dataobj.get_unscaled()), np.asanyarray(img.dataobj.get_unscaled()))
        medical.convolve_volume_file(src, "gaussian:4mm", out=tmp_path / "s.nii.gz")
        assert nib.load(tmp_path / "s.nii.gz").get_data_dtype() == np.float32

    def test_uint16_with_an_intercept_reads_as_int16(self, tmp_path):
        rng = np.random.default_rng(3)
        stored = rng.integers(0, 4096, size=(5, 6, 7)).astype(np.uint16)
        img = nib.Nifti1Image(stored, np.eye(4))
        img.header.set_data_dtype(np.uint16)
        img.header.set_slope_inter(1.0, -1024.0)
        nib.save(img, str(tmp_path / "u.nii.gz"))
        vol = medical.read_volume(tmp_path / "u.nii.gz")
        assert vol.data.dtype == np.int16 and vol.stored_dtype == np.uint16
        np.testing.assert_array_equal(vol.data, (stored.astype(np.int32) - 1024).transpose(2, 1, 0))
        medical.convolve_volume_file(tmp_path / "u.nii.gz", "box:1vox", medical.VolumeOptions(keep_dtype=True), out=tmp_path / "k.nii.gz")
        back = nib.load(tmp_path / "k.nii.gz")
        assert back.get_data_dtype() == np.uint16 and (back.dataobj.slope, back.dataobj.inter) == (1.0, -1024.0)
        np.testing.assert_array_equal(np.asanyarray(back.dataobj.get_unscaled()), stored)

    def test_fractional_slope_reads_as_float32(self, tmp_path):
        expected = scaled_ct(tmp_path / "ct.nii.gz", slope=0.5, inter=-1024.0)
        vol = medical.read_volume(tmp_path / "ct.nii.gz")
        assert vol.data.dtype == np.float32
        np.testing.assert_allclose(vol.data, expected, rtol=0, atol=1e-3)

    def test_smoothing_writes_float32_not_float64(self, tmp_path):
        scaled_ct(tmp_path / "ct.nii.gz")
        report = medical.convolve_volume_file(tmp_path / "ct.nii.gz", "gaussian:1mm", out=tmp_path / "s.nii.gz")
        out = nib.load(tmp_path / "s.nii.gz")
        assert out.get_data_dtype() == np.float32 and report.dtype == "float32"
        assert (out.dataobj.slope, out.dataobj.inter) == (1.0, 0.0)

    def test_keep_dtype_writes_the_input_type_and_scaling(self, tmp_path):
        expected = scaled_ct(tmp_path / "ct.nii.gz")
        options = medical.VolumeOptions(keep_dtype=True)
        medical.convolve_volume_file(tmp_path / "ct.nii.gz", "box:1vox", options, out=tmp_path / "k.nii.gz")
        out = nib.load(tmp_path / "k.nii.gz")
        assert out.get_data_dtype() == np.int16
        assert (out.dataobj.slope, out.dataobj.inter) == (1.0, -1024.0)  # nibabel moves the header's scaling here on load
        np.testing.assert_array_equal(np.asanyarray(out.dataobj).transpose(2, 1, 0), expected)  # identity kernel: exact

    def test_keep_dtype_on_the_command_line(self, invoke, tmp_path):
        scaled_ct(tmp_path / "ct.nii.gz")
        done = invoke("volume", str(tmp_path / "ct.nii.gz"), "-k", "gaussian:1mm", "--keep-dtype", "--out", str(tmp_path / "k.nii.gz"))
        assert done.exit_code == 0, done.stderr
        assert nib.load(tmp_path / "k.nii.gz").get_data_dtype() == np.int16


class TestHeaderKept:
    """Defect 4: pool reset qform/sform codes 1/1 to 0/2; convolve kept them."""

    @pytest.mark.parametrize("codes", [(1, 1), (1, 4), (0, 2), (2, 2)])
    def test_pool_keeps_the_codes(self, tmp_path, codes):
        src = tmp_path / "in.nii.gz"
        img = nib.load(PHANTOM)
        img.header.set_qform(img.affine, code=codes[0])
        img.header.set_sform(img.affine, code=codes[1])
        nib.save(img, str(src))
        medical.pool_volume_file(src, 2, out=tmp_path / "p.nii.gz")
        medical.convolve_volume_file(src, "box_3d", out=tmp_path / "c.nii.gz")
        for name in ("p.nii.gz", "c.nii.gz"):
            h = nib.load(tmp_path / name).header
            assert (int(h["qform_code"]), int(h["sform_code"])) == codes, name

    def test_example4d_pool_keeps_codes_tr_and_the_grid(self, tmp_path):
        src = nibabel_file("example4d.nii.gz")
        medical.pool_volume_file(src, 2, out=tmp_path / "p.nii.gz")
        out, before = nib.load(tmp_path / "p.nii.gz"), nib.load(src)
        assert (int(out.header["qform_code"]), int(out.header["sform_code"])) == (1, 1)
        assert out.shape == (64, 48, 12, 2)
        assert out.header.get_zooms()[3] == before.header.get_zooms()[3]  # TR
        # by hand: voxel n of the pooled grid is at old voxel 2n + 0.5
        np.testing.assert_allclose(out.affine, before.affine @ np.array([[2, 0, 0, 0.5], [0, 2, 0, 0.5], [0, 0, 2, 0.5], [0, 0, 0, 1]]), atol=1e-4)

    def test_header_fields_survive_a_round_trip(self, tmp_path):
        src = nibabel_file("example4d.nii.gz")
        medical.convolve_volume_file(src, "gaussian:2mm", out=tmp_path / "s.nii.gz")
        a, b = nib.load(src).header, nib.load(tmp_path / "s.nii.gz").header
        for key in ("dim", "pixdim", "xyzt_units", "qform_code", "sform_code", "descrip", "intent_code", "slice_code", "toffset",
                    "quatern_b", "quatern_c", "quatern_d", "qoffset_x", "qoffset_y", "qoffset_z", "srow_x", "srow_y", "srow_z"):
            assert np.array_equal(a[key], b[key]), key  # bit for bit: the grid is the input's
        np.testing.assert_allclose(a.get_best_affine(), b.get_best_affine(), atol=1e-5)


class TestFourD:
    def test_every_volume_is_smoothed_like_a_3d_volume(self, invoke, tmp_path):
        src = nibabel_file("example4d.nii.gz")
        done = invoke("convolve", str(src), "--kernel", "gaussian:2mm", "--out", str(tmp_path / "s.nii.gz"))
        assert done.exit_code == 0, done.stderr
        out = nib.load(tmp_path / "s.nii.gz")
        assert out.shape == (128, 96, 24, 2) and out.get_data_dtype() == np.float32
        assert out.header.get_zooms()[3] == pytest.approx(2000.0)  # TR kept (pixdim[4], ms in this file)
        whole = np.asanyarray(nib.load(src).dataobj).transpose(3, 2, 1, 0)
        spacing = medical.read_volume(src).spacing
        for t in range(2):
            expected = volumes.correlate_separable(whole[t], volumes.gaussian_mm(2.0, spacing), pad_mode="replicate")
            np.testing.assert_allclose(np.asanyarray(out.dataobj)[..., t].transpose(2, 1, 0), expected, rtol=0, atol=1e-3)

    def test_volume_picks_one(self, invoke, tmp_path):
        src = nibabel_file("example4d.nii.gz")
        done = invoke("volume", str(src), "--volume", "1", "--out", str(tmp_path / "one.nii.gz"))
        assert done.exit_code == 0, done.stderr
        out = nib.load(tmp_path / "one.nii.gz")
        assert out.shape == (128, 96, 24)
        np.testing.assert_array_equal(np.asanyarray(out.dataobj), np.asanyarray(nib.load(src).dataobj)[..., 1])
        flat = invoke("volume", str(PHANTOM), "--volume", "0", "--out", str(tmp_path / "flat.nii.gz"))
        assert flat.exit_code == 2 and "the file is 3-D (64x64x64), not 4-D" in flat.stderr
        bad = invoke("volume", str(src), "--volume", "5", "--out", str(tmp_path / "bad.nii.gz"))
        assert bad.exit_code == 2 and "holds 2 volume(s), indices 0 to 1" in bad.stderr and "Traceback" not in bad.stderr


class TestWriter:
    @pytest.mark.parametrize("threads", [1, 2, 3])
    def test_the_bytes_do_not_depend_on_the_threads(self, threads):
        import io

        pytest.importorskip("isal")
        data = np.random.default_rng(0).integers(0, 50, size=3 << 20, dtype=np.uint8).tobytes()
        sinks = []
        for n in (1, threads):
            sink = io.BytesIO()
            gz, _ = medical.nifti.gzip_writer(sink, threads=n)
            for start in range(0, len(data), 1 << 20):
                gz.write(data[start : start + (1 << 20)])
            gz.close()
            sinks.append(sink.getvalue())
        assert sinks[0] == sinks[1] and gzip.decompress(sinks[0]) == data

    def test_streamed_gzip_is_plain_nifti(self, tmp_path):
        data = np.arange(4 * 5 * 6, dtype=np.float32).reshape(4, 5, 6)
        medical.write_nifti(tmp_path / "a.nii.gz", data)
        medical.write_nifti(tmp_path / "a.nii", data)
        assert gzip.decompress((tmp_path / "a.nii.gz").read_bytes()) == (tmp_path / "a.nii").read_bytes()
        back = nib.load(tmp_path / "a.nii")
        np.testing.assert_array_equal(np.asanyarray(back.dataobj).transpose(2, 1, 0), data)
        assert np.frombuffer((tmp_path / "a.nii").read_bytes()[108:112], "<f4")[0] == 352  # vox_offset, as the standard says

    def test_zlib_fallback_without_isal(self, tmp_path, monkeypatch):
        import builtins

        real = builtins.__import__

        def no_isal(name, *args, **kwargs):
            if name.startswith("isal"):
                raise ImportError(name)
            return real(name, *args, **kwargs)

        monkeypatch.setattr(builtins, "__import__", no_isal)
        import io

        assert medical.nifti.gzip_writer(io.BytesIO())[1] == "zlib"
        data = np.ones((2, 3, 4), np.int16)
        medical.write_nifti(tmp_path / "z.nii.gz", data)
        monkeypatch.undo()
        np.testing.assert_array_equal(medical.read_volume(tmp_path / "z.nii.gz").data, data)


class TestSeriesFolderIsAVolume:
    """Defect 7: `convolve <series folder> -k gaussian:1mm` exited 3 (the folder was a batch of images)."""

    def test_convolve_takes_a_series_folder(self, invoke, tmp_path):
        pytest.importorskip("pydicom")
        from test_medical import make_series

        make_series(tmp_path / "ct", [0, 2.5, 5, 7.5])
        for spec in ("gaussian:1mm", "box_3d"):
            out = tmp_path / f"{spec.replace(':', '_')}.nii.gz"
            done = invoke("convolve", str(tmp_path / "ct"), "-k", spec, "--out", str(out))
            assert done.exit_code == 0, done.stderr
            assert nib.load(out).shape == (128, 128, 4)

    def test_a_folder_of_pngs_stays_a_batch(self, invoke, tmp_path):
        import shutil

        (tmp_path / "imgs").mkdir()
        shutil.copy(SAMPLES / "phantom.png", tmp_path / "imgs" / "a.png")
        done = invoke("convolve", str(tmp_path / "imgs"), "-k", "box_3x3", "--out-dir", str(tmp_path / "o"))
        assert done.exit_code == 0, done.stderr
        assert (tmp_path / "o" / "a_box_3x3.png").is_file()


class TestOtherFormats:
    def test_mgz_through_nibabel(self, tmp_path):
        src = nibabel_file("test.mgz")
        img = nib.load(src)
        vol = medical.read_volume(src)
        assert vol.format == "MGH" and vol.data.shape == (2, 5, 4, 3)
        np.testing.assert_array_equal(vol.data, np.asanyarray(img.dataobj).transpose(3, 2, 1, 0))
        np.testing.assert_allclose(vol.affine, img.affine)
        medical.convolve_volume_file(src, "box_3d", out=tmp_path / "m.nii.gz")
        out = nib.load(tmp_path / "m.nii.gz")
        np.testing.assert_allclose(out.affine, img.affine, atol=1e-5)
        assert (int(out.header["qform_code"]), int(out.header["sform_code"])) == (1, 1)

    def test_a_4d_mgz_keeps_its_tr(self, tmp_path):
        """A 4-D MGZ's TR (ms) became a NIfTI time step of 1 s (nibabel's default) in every output."""
        src = nibabel_file("test.mgz")
        assert float(nib.load(src).header["tr"]) == 2.0  # ms
        medical.convolve_volume_file(src, "box_3d", out=tmp_path / "c.nii.gz")
        one_size = nib.MGHImage(np.asarray(nib.load(src).dataobj), nib.load(src).affine)  # (test.mgz's delta, 1 mm, is not
        one_size.header["tr"] = 2.0  # its affine's 3.74 mm: a pool of it is refused, audit 227 #1)
        nib.save(one_size, str(tmp_path / "tr.mgz"))
        medical.pool_volume_file(tmp_path / "tr.mgz", 2, out=tmp_path / "p.nii.gz")
        for name in ("c.nii.gz", "p.nii.gz"):
            header = nib.load(tmp_path / name).header
            assert float(header["pixdim"][4]) == pytest.approx(0.002) and header.get_xyzt_units() == ("mm", "sec")
        made = nib.MGHImage(np.zeros((4, 5, 6, 3), np.float32), np.eye(4))  # no TR stated: none claimed
        nib.save(made, str(tmp_path / "no_tr.mgz"))
        medical.convolve_volume_file(tmp_path / "no_tr.mgz", "box_3d", out=tmp_path / "n.nii.gz")
        assert float(nib.load(tmp_path / "n.nii.gz").header["pixdim"][4]) == 0.0

    @pytest.mark.parametrize("suffix", [".nrrd", ".mha", ".mhd"])
    def test_nrrd_and_metaimage_geometry_match_simpleitk(self, tmp_path, suffix):
        sitk = pytest.importorskip("SimpleITK")
        rng = np.random.default_rng(5)
        arr = rng.integers(-1000, 1000, size=(5, 6, 7)).astype(np.int16)  # (Z, Y, X)
        img = sitk.GetImageFromArray(arr)
        c, s = np.cos(0.3), np.sin(0.3)
        img.SetDirection((c, -s, 0.0, s, c, 0.0, 0.0, 0.0, 1.0))  # oblique about z
        img.SetSpacing((0.7, 0.8, 2.5))
        img.SetOrigin((-100.0, 50.0, -20.0))
        src = tmp_path / f"ct{suffix}"
        sitk.WriteImage(img, str(src))
        vol = medical.read_volume(src)
        np.testing.assert_array_equal(vol.data, arr)
        assert vol.spacing == pytest.approx((2.5, 0.8, 0.7))
        # by hand: LPS columns direction * spacing, origin; then x and y negated (RAS+)
        hand = np.array([[-0.7 * c, 0.8 * s, 0, 100], [-0.7 * s, -0.8 * c, 0, -50], [0, 0, 2.5, -20], [0, 0, 0, 1]])
        np.testing.assert_allclose(vol.affine, hand, atol=1e-6)
        # the NIfTI result overlays the input: SimpleITK reads back the same geometry
        medical.convolve_volume_file(src, "gaussian:1mm", out=tmp_path / "s.nii.gz")
        back = sitk.ReadImage(str(tmp_path / "s.nii.gz"))
        np.testing.assert_allclose(back.GetOrigin(), img.GetOrigin(), atol=1e-4)
        np.testing.assert_allclose(back.GetSpacing(), img.GetSpacing(), atol=1e-5)
        np.testing.assert_allclose(back.GetDirection(), img.GetDirection(), atol=1e-5)

    def test_without_simpleitk_the_message_names_the_extra(self, tmp_path, monkeypatch):
        import builtins

        from kernelcli.errors import MissingExtra

        real = builtins.__import__

        def no_sitk(name, *args, **kwargs):
            if name == "SimpleITK":
                raise ImportError(name)
            return real(name, *args, **kwargs)

        (tmp_path / "x.nrrd").write_bytes(b"NRRD0004\n")
        monkeypatch.setattr(builtins, "__import__", no_sitk)
        with pytest.raises(MissingExtra, match=r"kernelcli\[itk\]"):
            medical.read_volume(tmp_path / "x.nrrd")


def test_memory_guard_refuses_before_reading(tmp_path):
    """A volume larger than KERNELCLI_MAX_MEMORY is refused from its header, before any voxel is inflated."""
    scaled_ct(tmp_path / "ct.nii.gz", shape=(20, 30, 40))
    done = run_in_process("volume", str(tmp_path / "ct.nii.gz"), "-k", "box_3d", "--out", str(tmp_path / "o.nii.gz"),
                          env={"KERNELCLI_MAX_MEMORY": "100K"})
    assert done.returncode == 2 and "20x30x40 volume would need about" in done.stderr and "KERNELCLI_MAX_MEMORY" in done.stderr
    assert not (tmp_path / "o.nii.gz").exists()


def test_pool_takes_the_volume_read_options(tmp_path, invoke):
    src = nibabel_file("example4d.nii.gz")
    done = invoke("pool", str(src), "--size", "2", "--volume", "1", "--out", str(tmp_path / "p.nii.gz"))
    assert done.exit_code == 0, done.stderr
    whole = np.asanyarray(nib.load(src).dataobj)[..., 1].transpose(2, 1, 0)
    np.testing.assert_array_equal(medical.read_volume(tmp_path / "p.nii.gz").data, volumes.pool3d(whole, 2))
    bad = invoke("pool", str(SAMPLES / "phantom.png"), "--size", "2", "--series", "0", "--out", str(tmp_path / "x.png"))
    assert bad.exit_code == 2 and "--series: only for volume inputs" in bad.stderr


def test_pad_names_a_volume_for_what_it_is(invoke):
    done = invoke("pad", str(PHANTOM), "--p", "1")
    assert done.exit_code == 2 and "a volume (NIfTI, DICOM or a DICOM series folder); pad takes images and arrays" in done.stderr


@pytest.mark.parametrize("out", ["w3.zarr", "w3.npy"])
def test_pad_names_a_volume_for_what_it_is_before_the_tiled_path(tmp_path, invoke, out):
    # 'pad p3.nii -p 2 -o w3.zarr' (an uncompressed NIfTI, a .zarr output: the tiled path) said "the tiled path reads
    # Zarr stores, TIFF and .npy; this file is none of them", not that pad takes no volume; --tiled alike
    source = tmp_path / "p3.nii"
    nib.save(nib.load(PHANTOM), source)
    for tiled in ([], ["--tiled"]):
        done = invoke("pad", str(source), "-p", "2", "-o", str(tmp_path / out), *tiled)
        assert done.exit_code == 2 and "pad takes images and arrays" in done.stderr and "tiled" not in done.stderr, done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p3.nii"]


def test_memory_guard_counts_the_float64_of_a_wide_integer_volume(tmp_path, monkeypatch):
    """An int32 volume is computed in float64: its guard counts 4 + 8 + 8 bytes a voxel (it counted float32's 4 + 4)."""
    from kernelcli.errors import ImageReadError
    from kernelcli.medical.volume import check_volume_memory

    limit = str(20 * 30 * 40 * 16)  # enough for int16 + two float32, not for int32 + two float64
    nib.save(nib.Nifti1Image(np.zeros((40, 30, 20), np.int32), np.eye(4)), str(tmp_path / "i32.nii.gz"))
    done = run_in_process("convolve", str(tmp_path / "i32.nii.gz"), "-k", "box:3vox", "--out", str(tmp_path / "o.nii.gz"),
                          env={"KERNELCLI_MAX_MEMORY": limit})
    assert done.returncode == 2 and "(the voxels, a float64 result and a temporary)" in done.stderr, done.stderr
    monkeypatch.setenv("KERNELCLI_MAX_MEMORY", limit)
    check_volume_memory(tmp_path / "ct.nii.gz", (20, 30, 40), np.int16)  # 2 + 4 + 4 bytes a voxel: within it
    with pytest.raises(ImageReadError, match="float64 result"):
        check_volume_memory(tmp_path / "i32.nii.gz", (20, 30, 40), np.int32)


def test_a_scaled_16_bit_volume_past_int16_is_computed_in_float32(tmp_path):
    """A uint16 file with scl_inter -1024 and values past int16 was read as int32, and so (once 32-bit integers were
    computed in float64) written as float64: 16-bit data is float32, as before, which holds its values exactly."""
    stored = np.array([0, 65535, 3000, 40000] * 30, np.uint16).reshape(4, 5, 6)
    img = nib.Nifti1Image(stored, np.eye(4))
    img.header.set_data_dtype(np.uint16)
    img.header.set_slope_inter(1.0, -1024.0)
    nib.save(img, str(tmp_path / "u16.nii.gz"))
    vol = medical.read_volume(tmp_path / "u16.nii.gz")
    assert vol.data.dtype == np.float32
    np.testing.assert_array_equal(vol.data, stored.T.astype(np.float64) - 1024)
    done = run_in_process("convolve", str(tmp_path / "u16.nii.gz"), "-k", "box:3vox", "-o", str(tmp_path / "o.nii.gz"))
    assert done.returncode == 0 and nib.load(tmp_path / "o.nii.gz").get_data_dtype() == np.float32, done.stderr


def test_keep_dtype_names_the_dtype_it_would_keep(tmp_path):
    """Clipped by --keep-dtype, a uint32 volume's note said 'leave --keep-dtype off to keep float32'; it is float64."""
    ramp = np.broadcast_to(np.arange(10, 70, 10, dtype=np.uint32)[:, None, None], (6, 5, 4)).copy()  # rises along x: sobel_v < 0
    nib.save(nib.Nifti1Image(ramp, np.eye(4)), str(tmp_path / "u32.nii.gz"))
    done = run_in_process("convolve", str(tmp_path / "u32.nii.gz"), "-k", "sobel_v", "--keep-dtype", "-o", str(tmp_path / "k.nii.gz"))
    assert done.returncode == 0 and "leave --keep-dtype off to keep float64" in done.stderr, done.stderr


@pytest.mark.parametrize("name", ["Scan.Nii", "Scan.Nii.Gz", "SCAN.NII.GZ", "scan.nii.Gz"])
def test_a_suffix_in_any_case_is_read(tmp_path, name):
    # batch audit F3: 'Scan.Nii' was 'no such file' (nibabel looked for 'Scan.nii'), in a batch and alone
    import gzip
    import shutil

    from conftest import SAMPLES, run_in_process

    source = SAMPLES / "phantom3d.nii.gz"
    if name.lower().endswith(".gz"):
        shutil.copy(source, tmp_path / name)
    else:
        (tmp_path / name).write_bytes(gzip.decompress(source.read_bytes()))
    expected = medical.read_volume(source)
    got = medical.read_volume(tmp_path / name)
    np.testing.assert_array_equal(got.data, expected.data)
    np.testing.assert_array_equal(got.affine, expected.affine)
    (tmp_path / "in").mkdir()
    (tmp_path / name).rename(tmp_path / "in" / name)
    batch = run_in_process("convolve", "in", "-k", "box:3vox", "-d", "out", "-q", cwd=tmp_path)
    assert batch.returncode == 0, batch.stderr
    if not name.lower().endswith(".gz"):
        tiled = run_in_process("volume", f"in/{name}", "-k", "box:3vox", "--tiled", "-o", "t.nii", "-q", cwd=tmp_path)
        if "dask" not in tiled.stderr:
            assert tiled.returncode == 0, tiled.stderr


@pytest.mark.parametrize("name", ["minc2_4d.mnc", "analyze.hdr", "tinypet.v"])
def test_a_volume_format_not_read_is_named_not_the_kernel(invoke, tmp_path, name):
    """The volume audit: MINC, Analyze and ECAT files given a kernel in mm were 'a size in mm is for a volume input
    ...; an image or array takes a 2-D kernel' (exit 3, an invalid kernel), whose advice then failed on the output."""
    import nibabel

    path = Path(nibabel.__file__).parent / "tests" / "data" / name
    if not path.exists():
        pytest.skip(f"nibabel does not ship {name}")
    r = invoke("convolve", str(path), "-k", "gaussian:1mm", "-o", str(tmp_path / "m.nii.gz"))
    suffix = path.suffix
    assert r.exit_code == 2 and f"unsupported file type '{suffix}'" in r.stderr and "a volume: .nii.gz" in r.stderr, r.stderr
