"""Review 240: what a round trip, a memory cap and a batch say is what is done.

#1: ``kernels show FILE --json`` of a kernel file that says ``"axes": ["z", "y", "x"]`` dropped "axes"; the document
it printed read back as a (channels, f, f) layer filter, whose z taps summed an RGB image's channels (exit 0), where
the first file is refused (exit 3).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from conftest import run_in_process
from kernelcli.errors import EXIT_KERNEL
from test_readme_audit234 import one_line_refusal

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


class TestAZyxKernelFileShownKeepsItsAxes:
    def test_show_file_show_file_keeps_axes_and_the_refusal(self, tmp_path):
        shown = run_in_process("kernels", "show", "box_3d", "--json")
        assert shown.returncode == 0, shown.stderr
        (tmp_path / "k0.json").write_text(shown.stdout, encoding="utf-8")
        for before, after in (("k0.json", "k1.json"), ("k1.json", "k2.json")):
            again = run_in_process("kernels", "show", before, "--json", cwd=tmp_path)
            assert again.returncode == 0, again.stderr
            document = json.loads(again.stdout)
            assert document["axes"] == ["z", "y", "x"]
            assert document["values"] == json.loads(shown.stdout)["values"]
            (tmp_path / after).write_text(again.stdout, encoding="utf-8")
        for name in ("k1.json", "k2.json"):
            refused = run_in_process("convolve", str(SAMPLES / "rgb.png"), "-k", name, "-o", "f.npy", cwd=tmp_path)
            one_line_refusal(refused, EXIT_KERNEL, f'{name}: a 3-D kernel file whose "axes" say z, y, x is for a volume input')
        assert not (tmp_path / "f.npy").exists()

    def test_the_round_tripped_file_gives_the_first_files_answer_on_a_zyx_array(self, tmp_path):
        np.save(tmp_path / "arr3.npy", np.random.default_rng(2).normal(size=(4, 9, 9)))
        (tmp_path / "k0.json").write_text(run_in_process("kernels", "show", "box_3d", "--json").stdout, encoding="utf-8")
        (tmp_path / "k1.json").write_text(run_in_process("kernels", "show", "k0.json", "--json", cwd=tmp_path).stdout,
                                          encoding="utf-8")
        for kernel, out in (("k0.json", "n.npy"), ("k1.json", "f.npy")):
            done = run_in_process("convolve", "arr3.npy", "--layout", "zyx", "-k", kernel, "-o", out, cwd=tmp_path)
            assert done.returncode == 0, done.stderr
        assert np.array_equal(np.load(tmp_path / "n.npy"), np.load(tmp_path / "f.npy"))


class TestAVolumeMaxPoolUnderAMemoryCapCountsItsOwn:
    """#2: ``KERNELCLI_MAX_MEMORY=50M pool v16.nii -f 2`` (120x256x256 int16) was refused by the NIfTI reader's guard
    (the voxels and two float32 copies, 75 MiB), after the tiled choice had kept it in memory by pool's own count
    (19 MiB); a .nii.gz too.  Here a 64x96x96 int16 volume: 5.6 MiB by the reader's old count, 3.3 MiB by a max pool's."""

    CAP = "4.5M"

    @pytest.fixture
    def folder(self, tmp_path):
        nib = pytest.importorskip("nibabel")
        x = np.random.default_rng(3).integers(-1000, 2000, (96, 96, 64)).astype(np.int16)  # (i, j, k): 64x96x96 z, y, x
        for name in ("v.nii", "v.nii.gz"):
            img = nib.Nifti1Image(x, np.eye(4))
            img.header.set_xyzt_units("mm")
            nib.save(img, str(tmp_path / name))
        return tmp_path

    @pytest.mark.parametrize("name", ["v.nii", "v.nii.gz"])
    def test_a_cap_between_the_two_counts_pools_in_memory(self, folder, name):
        nib = pytest.importorskip("nibabel")
        free = run_in_process("pool", name, "-f", "2", "-o", "free.nii", cwd=folder)
        assert free.returncode == 0, free.stderr
        capped = run_in_process("pool", name, "-f", "2", "-o", "capped.nii", cwd=folder, env={"KERNELCLI_MAX_MEMORY": self.CAP})
        assert capped.returncode == 0, capped.stderr
        assert "tile by tile" not in capped.stderr
        assert np.array_equal(np.asarray(nib.load(folder / "capped.nii").dataobj), np.asarray(nib.load(folder / "free.nii").dataobj))

    def test_a_cap_below_the_pools_count_names_it(self, folder):
        refused = run_in_process("pool", "v.nii.gz", "-f", "2", "-o", "p.nii", cwd=folder, env={"KERNELCLI_MAX_MEMORY": "2M"})
        one_line_refusal(refused, 2, "v.nii.gz: a 64x96x96 volume would need about 3.3 MiB of memory "
                                     "(the voxels and the arrays they are pooled with), more than the 2.0 MiB allowed")
        assert not (folder / "p.nii").exists()

    @pytest.mark.parametrize("op", ["max", "avg"])
    def test_the_tiled_choice_is_the_readers_refusal(self, folder, monkeypatch, op):
        from kernelcli.errors import ImageReadError
        from kernelcli.io.read_words import ReadWords
        from kernelcli.medical.nifti import read_nifti
        from kernelcli.medical.pooling import pool_job_bytes
        from kernelcli.tiled.nifti import wanted

        job_bytes = pool_job_bytes(2, op=op, stride=None, padding=0, ceil_mode=False)
        for cap in ("2M", "3M", "4.5M", "5.5M", "6M", "1G"):
            monkeypatch.setenv("KERNELCLI_MAX_MEMORY", cap)
            tiled = wanted(folder / "v.nii", tiled=False, chunks=None, scheduler=None, job_bytes=job_bytes)
            try:
                read_nifti(folder / "v.nii", words=ReadWords(cli=True, done="pooled", job_bytes=job_bytes))
                refused = False
            except ImageReadError:
                refused = True
            assert tiled == refused, (op, cap)


class TestAZyxKernelFileInAnImageOnlyBatchIsRefusedOnce:
    """#3: ``convolve b1 -k box_3d.json --out-dir o --report r.json`` (b1: two images) ran each input and failed each
    (exit 1, the refusal printed twice, items "failed"), where ``-k box_3d`` is refused once before anything runs
    (exit 3, items "not run")."""

    @pytest.fixture
    def folder(self, tmp_path):
        import shutil

        (tmp_path / "k.json").write_text(run_in_process("kernels", "show", "box_3d", "--json").stdout, encoding="utf-8")
        (tmp_path / "b1").mkdir()
        for name in ("phantom.png", "rgb.png"):
            shutil.copy(SAMPLES / name, tmp_path / "b1")
        return tmp_path

    def test_refused_once_as_the_name_is(self, folder):
        named = run_in_process("convolve", "b1", "-k", "box_3d", "--out-dir", "on", "--report", "rn.json", cwd=folder)
        filed = run_in_process("convolve", "b1", "-k", "k.json", "--out-dir", "of", "--report", "rf.json", cwd=folder)
        one_line_refusal(named, EXIT_KERNEL, "box_3d: a named 3-D kernel is for a volume input")
        one_line_refusal(filed, EXIT_KERNEL, 'k.json: a 3-D kernel file whose "axes" say z, y, x is for a volume input '
                                             "(NIfTI, DICOM or a DICOM series folder) or a --layout zyx array")
        assert not filed.stderr.startswith("error: b1")
        for report in ("rn.json", "rf.json"):
            items = json.loads((folder / report).read_text(encoding="utf-8"))["items"]
            assert [(item["status"], item["code"]) for item in items] == [("not run", EXIT_KERNEL)] * 2, report
        assert not (folder / "of").exists()

    def test_a_zyx_array_batch_still_takes_it(self, folder):
        (folder / "b3").mkdir()
        for i in range(2):
            np.save(folder / "b3" / f"a{i}.npy", np.random.default_rng(i).normal(size=(4, 9, 9)))
        done = run_in_process("convolve", "b3", "--layout", "zyx", "-k", "k.json", "--out-dir", "o", cwd=folder)
        assert done.returncode == 0, done.stderr
        assert sorted(p.name for p in (folder / "o").iterdir()) == ["a0_box_3d.npy", "a1_box_3d.npy"]


class TestThatMaxAndMinKeepTheDtypeIsReadFromModes:
    """#7: medical/pooling.pool_volume_bytes and volume_args.pool3d_bytes each wrote "max/min keep the input's dtype"
    again (``op == "avg"``) after 1c038fb made modes.KEEPS_DTYPE its one declaration: changed there, they did not follow."""

    def test_the_counts_follow_modes_keeps_dtype(self, monkeypatch):
        from kernelcli import modes
        from kernelcli.medical.pooling import pool_volume_bytes
        from kernelcli.volume_args import pool3d_bytes

        def counts():
            return (pool_volume_bytes((8, 16, 16), np.int16, 2, op="max", stride=2, padding=1, ceil_mode=False),
                    pool3d_bytes((8, 16, 16), (2,) * 3, (2,) * 3, (1,) * 3, "max", (5, 9, 9), np.float32, np.int16))

        kept = counts()
        monkeypatch.setattr(modes, "KEEPS_DTYPE", frozenset({"min"}))
        now = counts()
        assert now[0] != kept[0] and now[1] != kept[1], (kept, now)


class TestAHeaderWithoutPixelsAtAHeldPositionIsExtra:
    """#4: IM003_hdr.dcm, IM003.dcm without its PixelData and with another InstanceNumber (or SOPInstanceUID), was told
    'the volume would be a slice short; copy the file again whole', and a whole copy then met 'IM003.dcm and
    IM003_hdr.dcm are at the same slice position ...: more than one volume'."""

    @pytest.fixture(params=["InstanceNumber", "SOPInstanceUID"])
    def series(self, request, tmp_path):
        pydicom = pytest.importorskip("pydicom")
        from test_medical_audit104 import ct_series

        folder = tmp_path / "ct"
        ct_series(folder, n=5)
        ds = pydicom.dcmread(folder / "IM003.dcm")
        del ds.PixelData
        if request.param == "InstanceNumber":
            ds.InstanceNumber = 99
        else:
            ds.SOPInstanceUID = "1.2.3.105.99"
        ds.save_as(folder / "IM003_hdr.dcm")
        return folder

    def test_named_as_extra_and_the_advice_reads(self, series):
        done = run_in_process("volume", "ct", "-k", "box:3vox", "-o", "ct.nii.gz", cwd=series.parent)
        said = one_line_refusal(done, 2, "ct/IM003_hdr.dcm: a header without pixel data at the slice position of IM003.dcm",
                                "not a lost slice, the series has that position whole in IM003.dcm; IM003_hdr.dcm is extra: remove it")
        assert "slice short" not in said and not (series.parent / "ct.nii.gz").exists()
        (series / "IM003_hdr.dcm").unlink()
        assert run_in_process("volume", "ct", "-k", "box:3vox", "-o", "ct.nii.gz", cwd=series.parent).returncode == 0

    def test_at_a_position_no_image_holds_it_is_still_a_slice_short(self, series):
        (series / "IM003.dcm").unlink()
        done = run_in_process("volume", "ct", "-k", "box:3vox", "-o", "ct.nii.gz", cwd=series.parent)
        one_line_refusal(done, 2, "ct/IM003_hdr.dcm: a slice of this series without pixel data", "the volume would be a slice short")


class TestAReportBesideAPatternThatMatchedNothing:
    """#6: 'convolve bb/phantom.png "bb/*.jpg" -k sobel_v --out-dir eo --report rb.json --force' kept rb.json, noting
    'exists, and a folder or pattern among the inputs is not read yet: it may be one of its files': the pattern had
    matched nothing, so the report could not be one of its files."""

    @pytest.fixture
    def folder(self, tmp_path):
        (tmp_path / "bb").mkdir()
        (tmp_path / "bb" / "phantom.png").write_bytes((SAMPLES / "phantom.png").read_bytes())
        (tmp_path / "rb.json").write_text('{"old": 1}', encoding="utf-8")
        return tmp_path

    def test_force_writes_the_refusals_report(self, folder):
        done = run_in_process("convolve", "bb/phantom.png", "bb/*.jpg", "-k", "sobel_v", "--out-dir", "eo", "--report",
                              "rb.json", "--force", cwd=folder)
        assert done.returncode == 2, done.stderr
        assert "not written" not in done.stderr and "bb/*.jpg: no files match this pattern" in done.stderr
        items = json.loads((folder / "rb.json").read_text(encoding="utf-8"))["items"]
        assert [item["input"] for item in items] == ["bb/phantom.png", "bb/*.jpg"]
        assert not (folder / "eo").exists()

    def test_a_pattern_matching_the_report_keeps_it_naming_the_pattern(self, folder):
        (folder / "bb" / "r.json").write_text('{"old": 1}', encoding="utf-8")
        done = run_in_process("convolve", "bb/*.json", "bb/*.jpg", "-k", "sobel_v", "--out-dir", "eo", "--report",
                              "bb/r.json", "--force", cwd=folder)
        assert done.returncode == 2
        assert ("--report bb/r.json: not written: exists, and bb/*.json among the inputs may name it (its files are not "
                "listed yet)") in done.stderr
        assert (folder / "bb" / "r.json").read_text(encoding="utf-8") == '{"old": 1}'
