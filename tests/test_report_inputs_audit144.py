"""``--report FILE --force`` never writes over a file the call reads (audit 144 #1).

On the volume path the report was checked before the call only against the input argument: a file of the DICOM
series folder read, the ``--mask`` NIfTI and a 3-D kernel ``.npy`` were replaced by the JSON report (exit 0), and a
failing run's record replaced the slice.  Now a series folder's files are inputs before anything is done, the mask and
the kernel file are noted as the call starts, and :func:`kernelcli.cli._common.write_report` checks the report against
every file noted (the readers note theirs) again when it writes it: exit 4 in ``-o``'s words.
"""

from __future__ import annotations

import numpy as np
import pytest

from conftest import run_in_process

nib = pytest.importorskip("nibabel")


def _volume(tmp_path):
    v = np.arange(5 * 6 * 7, dtype=np.float32).reshape(5, 6, 7)
    nib.save(nib.Nifti1Image(np.ascontiguousarray(v.transpose(2, 1, 0)), np.diag([0.9, 1.1, 2.5, 1.0])), str(tmp_path / "sc.nii"))
    mask = (v > 60).astype(np.uint8)
    nib.save(nib.Nifti1Image(np.ascontiguousarray(mask.transpose(2, 1, 0)), np.diag([0.9, 1.1, 2.5, 1.0])),
             str(tmp_path / "mask.nii.gz"))
    np.save(tmp_path / "k3.npy", np.random.default_rng(1).normal(size=(3, 3, 5)))


def _series(tmp_path):
    pytest.importorskip("pydicom")
    from test_medical import make_series

    make_series(tmp_path / "ser", [0.0, 2.0, 4.0, 6.0])
    return sorted((tmp_path / "ser").iterdir())


def _refused_before_any_work(done, kept, before, *unwritten):
    assert done.returncode == 4, done.stderr
    assert "(same file): the output would overwrite the input" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
    assert kept.read_bytes() == before, "the input is untouched"
    for path in unwritten:
        assert not path.exists(), f"{path.name}: nothing is done"


@pytest.mark.parametrize("argv", [["pool", "ser", "-f", "2", "-o", "sp.nii.gz"],
                                  ["convolve", "ser", "-k", "box:3vox", "-o", "sp.nii.gz"],
                                  ["pool", "ser", "-f", "2"]], ids=["pool", "convolve", "pool-default-name"])
def test_a_report_over_a_file_of_the_series_read_is_refused(tmp_path, argv):
    files = _series(tmp_path)
    before = files[1].read_bytes()
    done = run_in_process(*argv, "--report", f"ser/{files[1].name}", "--force", "-q", cwd=tmp_path)
    _refused_before_any_work(done, files[1], before, tmp_path / "sp.nii.gz")


def test_a_failing_run_does_not_write_its_record_over_a_file_of_the_series(tmp_path):
    files = _series(tmp_path)
    before = files[2].read_bytes()
    done = run_in_process("convolve", "ser", "-k", "gaussian:1mm", "--tiled", "-o", "o.zarr",
                          "--report", f"ser/{files[2].name}", "--force", "-q", cwd=tmp_path)
    _refused_before_any_work(done, files[2], before, tmp_path / "o.zarr")


def test_a_report_over_the_mask_is_refused(tmp_path):
    _volume(tmp_path)
    before = (tmp_path / "mask.nii.gz").read_bytes()
    done = run_in_process("convolve", "sc.nii", "-k", "gaussian:2mm", "--mask", "mask.nii.gz", "-o", "mo.nii.gz",
                          "--report", "mask.nii.gz", "--force", "-q", cwd=tmp_path)
    _refused_before_any_work(done, tmp_path / "mask.nii.gz", before, tmp_path / "mo.nii.gz")


@pytest.mark.parametrize("out", [["-o", "o.nii"], []], ids=["out", "default-name"])
def test_a_report_over_a_volume_s_kernel_file_is_refused(tmp_path, out):
    _volume(tmp_path)
    before = (tmp_path / "k3.npy").read_bytes()
    done = run_in_process("convolve", "sc.nii", "-k", "k3.npy", *out, "--report", "k3.npy", "--force", "-q", cwd=tmp_path)
    _refused_before_any_work(done, tmp_path / "k3.npy", before, tmp_path / "o.nii", tmp_path / "sc_k3.nii.gz")


def test_the_series_reader_notes_each_file_it_opens(tmp_path):
    files = _series(tmp_path)
    from kernelcli.io.reads import input_identities, input_session
    from kernelcli.medical import read_volume

    with input_session():
        read_volume(tmp_path / "ser")
        noted = set(input_identities().values())
    assert {str(f) for f in files} <= noted


def test_write_report_refuses_a_file_noted_as_an_input_after_the_report_was_checked(tmp_path):
    from kernelcli.batch_records import BatchResult, Record
    from kernelcli.cli._common import write_report
    from kernelcli.errors import OutputRefused
    from kernelcli.io.reads import input_session, note_input

    kept = tmp_path / "weights.npy"
    kept.write_bytes(b"weights")
    with input_session():
        note_input(kept)  # (a reader opening it inside the call)
        with pytest.raises(OutputRefused, match="is the input .*weights.npy \\(same file\\): the output would overwrite the input"):
            write_report(kept, BatchResult([Record("a.nii", "o.nii", "ok")], 0.0, 1), force=True)
    assert kept.read_bytes() == b"weights"
