"""Small defects earlier audits noticed and left (the leftovers task), each reproduced before its fix.

#4 a refused batch, every input "not run" (``convolve DIR -k nosuch -r --report r.json``, a volume batch alike, a
file named that is missing, outputs that exist), wrote totals with ``"seconds": 0.0``, a time nobody measured: null,
as each of its records says it.
#1 a matrix printed on stdout beside its ``--montage`` sheet, with ``--json`` and a ``--report`` that could not be
written (``convolve m.csv -k box:3 -k sobel_v --montage s.png --report r.json --json``, files limited in size): the
record said ``"notes": []`` where the same call without ``--montage`` notes "--report r.json: not written: ...":
the record was printed before the report was tried.
#5 a DICOM series read a slice short was refused in two wordings: a slice without pixel data "...: the volume would
be a slice short; copy the file again whole" (medical/series.py), a slice cut off "...: read without it the volume
would be a slice short; copy the file again whole, or move it out of the folder" (lost_slices.COPY_AGAIN): one now.
#2 the Python API's pooling of a volume file, ``kernelcli.medical.pool_volume_file``, refused a volume too thin for its
window with the command line's advice ("write the volume as a .npy (kernelcli convolve one.nii.gz -o slices.npy) and
pool that with --layout chw"), and ``read_volume`` (its reader) one past the memory cap with "or gunzip it: convolve
and pool take a .nii tile by tile": a Python caller has neither; ``kernelcli.pool3d`` itself names none.
#3 ``convolve a.npy -k box:3 -d 2 --tiled`` (``-d`` is ``--out-dir``: one input made a batch) was told "--tiled works on
one input; several inputs take --scheduler or --workers", the one input it was given; a volume "--tiled not supported
for volumes ...; every input of the batch is refused alike": the two options conflict, as --out and --out-dir do.
#6 a scaled NIfTI (scl_slope set) was counted by its header's int16 where it is read as float32: a 120x256x256 int16
whose max pool traced 53.0 MiB (the read itself) was counted 18.9 MiB, by the reader's guard and tiled/nifti's
``wanted`` alike, so under ``KERNELCLI_MAX_MEMORY=45M`` a .nii and a .nii.gz were pooled in memory, past the cap.
(Its other half, a NIfTI's pool counted at read time as a filter, review 240 #2 had fixed: one count, ``job_need``.)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import run_in_process, small_png, write_nifti
from test_records_audit223 import limited


def _folder_of_two(tmp_path, volumes=False):
    (tmp_path / "in").mkdir()
    for name in ("a", "b"):
        if volumes:
            write_nifti(tmp_path / "in" / f"{name}.nii.gz")
        else:
            small_png(tmp_path / "in" / f"{name}.png")


@pytest.mark.parametrize("case", ["kernel", "volume-kernel", "missing-input", "outputs-exist"])
def test_a_refused_batch_has_no_made_up_seconds_in_its_totals(tmp_path, case):
    _folder_of_two(tmp_path, volumes=case == "volume-kernel")
    args = {"kernel": ["convolve", "in", "-k", "nosuch", "-r"],
            "volume-kernel": ["volume", "in", "-k", "nosuch"],
            "missing-input": ["convolve", "in/a.png", "nothere.png", "-k", "box:3"],
            "outputs-exist": ["convolve", "in", "-k", "box:3"]}[case]
    if case == "outputs-exist":
        small_png(tmp_path / "o" / "a_box_3.png")
    done = run_in_process(*args, "-d", "o", "--report", "r.json", "--json", cwd=tmp_path)
    assert done.returncode in (2, 3, 4), done.stderr
    printed, written = json.loads(done.stdout), json.loads((tmp_path / "r.json").read_text())
    for document in (printed, written):
        assert document["totals"]["ok"] == 0
        assert document["totals"]["seconds"] is None, document["totals"]
    if case != "outputs-exist":
        assert all(item["seconds"] is None for item in printed["items"])


@pytest.mark.parametrize("sheet", [[], ["--montage", "s.png"]], ids=["matrix", "matrix-and-sheet"])
def test_a_matrix_records_note_of_its_unwritten_report_beside_a_sheet_too(tmp_path, sheet):
    np.savetxt(tmp_path / "m.csv", np.random.default_rng(0).random((30, 30)), delimiter=",")
    # the sheet (about 21 kB) fits under the limit, the report (about 60 kB: it holds both maps) does not
    done = limited("convolve", "m.csv", "-k", "box:3", "-k", "sobel_v", *sheet, "--report", "r.json", "--json",
                    cwd=tmp_path, fsize=40_000)
    assert done.returncode == 1, done.stderr
    record = json.loads(done.stdout)
    assert record["status"] == "ok" and record["output"] == "stdout" and len(record["matrix"]) == 2
    assert record["notes"] == ["--report r.json: not written: write failed: File too large; the destination is untouched"]
    assert done.stderr.splitlines()[-1] == ("error: --report r.json: write failed: File too large; the destination is "
                                            "untouched; the result is printed on stdout")
    assert not (tmp_path / "r.json").exists() and (tmp_path / "s.png").exists() == bool(sheet)


@pytest.mark.parametrize("lost", ["pixels deleted", "cut before Rows"])
def test_a_series_a_slice_short_is_refused_in_one_wording(tmp_path, lost):
    pydicom = pytest.importorskip("pydicom")
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from test_medical_audit104 import ct_series

    from kernelcli.medical.lost_slices import COPY_AGAIN

    ct_series(tmp_path / "ser", n=5)
    path = tmp_path / "ser" / "IM004.dcm"
    if lost == "pixels deleted":
        ds = pydicom.dcmread(path)
        del ds.PixelData
        ds.save_as(path)
    else:
        data = path.read_bytes()
        path.write_bytes(data[:data.index(b"\x28\x00\x10\x00")])  # (0028,0010) Rows
    done = run_in_process("volume", "ser", "-k", "box:3vox", "-o", "s.nii.gz", cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith(f"error: {Path('ser') / 'IM004.dcm'}: ")
    assert done.stderr.endswith(f"): {COPY_AGAIN}\n") and done.stderr.count("\n") == 1, done.stderr
    assert not (tmp_path / "s.nii.gz").exists()


def test_the_apis_volume_pooling_refusals_name_no_command_line(tmp_path, monkeypatch):
    nib = pytest.importorskip("nibabel")
    from kernelcli import medical, read_volume
    from kernelcli.errors import ImageReadError, ShapeError

    monkeypatch.chdir(tmp_path)
    nib.save(nib.Nifti1Image(np.ones((8, 8, 1), np.float32), np.eye(4)), "one.nii.gz")
    nib.save(nib.Nifti1Image(np.ones((32, 32, 32), np.float32), np.eye(4)), "big.nii.gz")
    with pytest.raises(ShapeError) as thin:
        medical.pool_volume_file("one.nii.gz", 2, out="o.nii.gz")
    said = str(thin.value)
    assert said.endswith("and pool_volume_file works in 3-D, as PyTorch's max_pool3d/avg_pool3d; to pool each slice in "
                         "2-D, give pool2d the slices as channels: pool2d(read_volume('one.nii.gz').data.transpose(1, 2, 0), 2)")
    monkeypatch.setenv("KERNELCLI_MAX_MEMORY", "100k")
    for call, counted in ((lambda: read_volume("big.nii.gz"), "the voxels, a float32 result and a temporary"),
                          (lambda: medical.pool_volume_file("big.nii.gz", 2, out="o.nii.gz"),
                           "the voxels and the arrays they are pooled with")):  # (the API's reader counts the pool's own too)
        with pytest.raises(ImageReadError) as big:
            call()
        assert str(big.value).endswith(f"({counted}), more than the 100.0 KiB allowed (set KERNELCLI_MAX_MEMORY to change it)")
    for said in (said, str(big.value)):
        assert "--" not in said and "kernelcli " not in said and "convolve" not in said
    assert not (tmp_path / "o.nii.gz").exists()


def test_the_command_line_keeps_its_own_advice(tmp_path):
    nib = pytest.importorskip("nibabel")
    nib.save(nib.Nifti1Image(np.ones((8, 8, 1), np.float32), np.eye(4)), tmp_path / "one.nii.gz")
    nib.save(nib.Nifti1Image(np.ones((32, 32, 32), np.float32), np.eye(4)), tmp_path / "big.nii.gz")
    done = run_in_process("pool", "one.nii.gz", "-f", "2", "-o", "o.nii.gz", cwd=tmp_path)
    assert done.returncode == 2 and done.stderr.endswith(
        "and pool works in 3-D, as PyTorch's max_pool3d/avg_pool3d; to pool each slice in 2-D, write the volume as a .npy "
        "(kernelcli convolve one.nii.gz -o slices.npy) and pool that with --layout chw\n"), done.stderr
    done = run_in_process("pool", "big.nii.gz", "-f", "2", "-o", "o.nii.gz", cwd=tmp_path, env={"KERNELCLI_MAX_MEMORY": "100k"})
    assert done.returncode == 2 and done.stderr.endswith(
        "(set KERNELCLI_MAX_MEMORY to change it; or gunzip it: convolve and pool take a .nii tile by tile)\n"), done.stderr


def test_a_scaled_nifti_past_the_cap_is_not_told_to_gunzip(tmp_path):
    """Review 250 #4: a scaled .nii.gz past the cap was told "or gunzip it: convolve and pool take a .nii tile by tile",
    and the .nii was then refused by the tiled path, which reads stored values ("scaled voxels (scl_slope 0.5 ...")."""
    nib = pytest.importorskip("nibabel")
    img = nib.Nifti1Image(np.ones((32, 32, 32), np.int16), np.eye(4))
    img.header.set_slope_inter(0.5, -10)
    nib.save(img, tmp_path / "big.nii.gz")
    done = run_in_process("pool", "big.nii.gz", "-f", "2", "-o", "o.nii.gz", cwd=tmp_path, env={"KERNELCLI_MAX_MEMORY": "100k"})
    assert done.returncode == 2 and "scaled copy" in done.stderr and "gunzip" not in done.stderr and done.stderr.endswith(
        "or save it unscaled (float32) as a .nii: convolve and pool take an unscaled .nii tile by tile)\n"), done.stderr


TILED_AND_OUT_DIR = ("error: {0} and --out-dir both given: {0} reads one input tile by tile into one output (--out FILE, "
                     "or its default name), --out-dir the folder of a batch's outputs; give one of them\n")


@pytest.mark.parametrize("argv", [
    ["convolve", "a.npy", "-k", "box:3", "-d", "2", "--tiled"],
    ["convolve", "a.png", "-k", "box:3", "-d", "2", "--chunks", "8"],
    ["pool", "a.npy", "-f", "2", "-d", "2", "--tiled"],
    ["pad", "a.npy", "-p", "1", "--out-dir", "2", "--tiled"],
    ["convolve", "v.nii", "-k", "box:3vox", "-d", "2", "--tiled"],
    ["volume", "v.nii", "-k", "box:3vox", "-d", "2", "--tiled"],
    ["pool", "v.nii", "-f", "2", "-d", "2", "--tiled"],
], ids=["convolve", "chunks", "pool", "pad", "volume-convolve", "volume", "volume-pool"])
def test_tiled_and_out_dir_on_one_input_are_named_as_a_conflict(tmp_path, argv):
    np.save(tmp_path / "a.npy", np.arange(64.0).reshape(8, 8))
    small_png(tmp_path / "a.png")
    if "v.nii" in argv:
        write_nifti(tmp_path / "v.nii")
    before = sorted(p.name for p in tmp_path.iterdir())
    done = run_in_process(*argv, cwd=tmp_path)
    assert (done.returncode, done.stderr) == (2, TILED_AND_OUT_DIR.format("--chunks" if "--chunks" in argv else "--tiled"))
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_several_inputs_keep_the_several_inputs_advice(tmp_path):
    small_png(tmp_path / "a.png")
    small_png(tmp_path / "b.png")
    done = run_in_process("convolve", "a.png", "b.png", "-k", "box:3", "-d", "2", "--tiled", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr == "error: --tiled works on one input; several inputs take --scheduler or --workers\n"


def _int16_nifti(path, scaled: bool):
    nib = pytest.importorskip("nibabel")
    voxels = (np.random.default_rng(0).random((256, 256, 120)) * 3000).astype(np.int16)  # (x, y, z): 120x256x256
    img = nib.Nifti1Image(voxels, np.eye(4))
    if scaled:
        img.header.set_slope_inter(0.5, -10.0)
    nib.save(img, str(path))
    return nib.load(str(path))


@pytest.mark.parametrize("op", ["max", "avg"])
@pytest.mark.parametrize("scaled", [False, True], ids=["stored", "scaled"])
def test_a_nifti_pools_count_holds_its_measured_peak(tmp_path, scaled, op):
    """What pool counts for a .nii (job_need: the read, then pool's own, by the type it is read as) against
    tracemalloc's peak of the read and the pooling: at least the peak, at most 1.5x it; and wanted's choice 1 MiB either
    side of it.  Counted/traced: max 18.9/16.9, avg 51.1/48.8, scaled max and avg 54.0/53.0 MiB."""
    import tracemalloc

    from kernelcli import medical, volumes
    from kernelcli.io.read_words import ReadWords
    from kernelcli.medical.nifti_open import read_dtype
    from kernelcli.medical.pooling import pool_job_bytes
    from kernelcli.medical.volume import job_need
    from kernelcli.tiled import nifti as tiled_nifti

    img = _int16_nifti(tmp_path / "v.nii", scaled)
    job_bytes = pool_job_bytes(2, op=op, stride=None, padding=0, ceil_mode=False)
    words = ReadWords(cli=True, done="pooled", job_bytes=job_bytes)
    counted = job_need((120, 256, 256), img.get_data_dtype(), job_bytes, read_dtype(img))
    for measured in (False, True):  # the first call compiles the loops: measured on the second
        if measured:
            tracemalloc.start()
        vol = medical.read_volume(tmp_path / "v.nii", words=words)
        result = volumes.pool3d(vol.data, 2, op=op)
        del vol, result
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak <= counted <= 1.5 * peak, (peak / 2**20, counted / 2**20)
    for cap, tiles in ((counted + 2**20, False), (counted - 2**20, True)):
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("KERNELCLI_MAX_MEMORY", str(cap))
            assert tiled_nifti.wanted(tmp_path / "v.nii", tiled=False, chunks=None, scheduler=None,
                                      job_bytes=job_bytes) is tiles


@pytest.mark.parametrize("scaled, cap", [(False, "50M"), (True, "60M")], ids=["stored", "scaled"])
def test_a_nifti_pooled_under_a_cap_it_fits_runs_in_memory(tmp_path, scaled, cap):
    _int16_nifti(tmp_path / "v.nii", scaled)
    done = run_in_process("pool", "v.nii", "-f", "2", "-o", "p.nii", "-q", cwd=tmp_path, env={"KERNELCLI_MAX_MEMORY": cap})
    assert done.returncode == 0, done.stderr
    assert "tile by tile" not in done.stderr and (tmp_path / "p.nii").exists()


def test_a_scaled_nifti_past_the_cap_as_read_is_not_pooled_in_memory(tmp_path):
    """45M: under the scaled .nii's 54.0 MiB counted as read (53.0 traced), over the 18.9 its header's int16 gave."""
    nib = pytest.importorskip("nibabel")
    img = _int16_nifti(tmp_path / "v.nii", scaled=True)
    nib.save(img, str(tmp_path / "v.nii.gz"))
    from kernelcli.medical.pooling import pool_job_bytes
    from kernelcli.tiled import nifti as tiled_nifti

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KERNELCLI_MAX_MEMORY", "45M")
        assert tiled_nifti.wanted(tmp_path / "v.nii", tiled=False, chunks=None, scheduler=None,
                                  job_bytes=pool_job_bytes(2, op="max", stride=None, padding=0, ceil_mode=False)) is True
    done = run_in_process("pool", "v.nii", "-f", "2", "-o", "p.nii", cwd=tmp_path, env={"KERNELCLI_MAX_MEMORY": "45M"})
    assert done.returncode == 2 and "the tiled path reads stored values as they are: it went tile by tile because its " \
        "in-memory run would exceed KERNELCLI_MAX_MEMORY" in done.stderr, done.stderr  # (the tiled path's own refusal)
    done = run_in_process("pool", "v.nii.gz", "-f", "2", "-o", "p.nii", cwd=tmp_path, env={"KERNELCLI_MAX_MEMORY": "45M"})
    assert done.returncode == 2 and done.stderr.startswith(
        "error: v.nii.gz: a 120x256x256 volume would need about 54.0 MiB of memory (the voxels, their float32 scaled copy "
        "and the arrays they are pooled with), more than the 45.0 MiB allowed"), done.stderr
    assert not (tmp_path / "p.nii").exists()
