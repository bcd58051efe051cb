"""Audit 217 #4: the trailing-'/' rule (35239ed, 0d44726) held on the command line and in load_kernel, not in the API's
readers and writers: ``read_input('phantom.png/')`` and ``read_volume('phantom3d.nii.gz/')`` read the file and
``write_output('wo_new.npy/', ...)`` wrote ``wo_new.npy`` (pathlib drops the ending), where ``convolve phantom.png/``
and ``-o cl_new.png/`` are refused.  Now one rule (kernelcli.io.folder_names), the command line's and the API's."""

from __future__ import annotations

import re
import shutil

import numpy as np
import pytest

import kernelcli as K
from conftest import SAMPLES
from kernelcli.errors import UsageError


@pytest.fixture
def files(tmp_path, monkeypatch):
    shutil.copy(SAMPLES / "phantom.png", tmp_path / "phantom.png")
    np.save(tmp_path / "a.npy", np.ones((4, 4)))
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize("ending", ["/", "/."])
@pytest.mark.parametrize("call, name", [
    (lambda p: K.read_input(p), "phantom.png"),
    (lambda p: K.read_input(p), "a.npy"),
    (lambda p: __import__("kernelcli.io", fromlist=["check_input_path"]).check_input_path(p), "a.npy"),
], ids=["read_input-png", "read_input-npy", "check_input_path"])
def test_a_file_read_through_a_folder_name_is_refused(files, call, name, ending):
    with pytest.raises(UsageError, match=rf"^{name}{ending} names a folder \(it ends with '{ending}'\), but {name} is a "
                                         rf"file: drop the '{ending}'$"):
        call(name + ending)
    assert call(name) is not None  # (the file itself is read)


def test_read_volume_refuses_a_volume_file_so_named(files):
    pytest.importorskip("nibabel")
    shutil.copy(SAMPLES / "phantom3d.nii.gz", files / "v.nii.gz")
    with pytest.raises(UsageError, match=r"^v\.nii\.gz/ names a folder .* but v\.nii\.gz is a file"):
        K.read_volume("v.nii.gz/")
    from kernelcli.medical import read_nifti

    with pytest.raises(UsageError, match=r"^v\.nii\.gz/ names a folder"):
        read_nifti("v.nii.gz/")
    assert K.read_volume("v.nii.gz").data.ndim == 3


@pytest.mark.parametrize("ending", ["/", "/."])
@pytest.mark.parametrize("write", [
    lambda o: K.write_output(o, np.ones((4, 4), np.float32)),
    lambda o: __import__("kernelcli.io", fromlist=["check_output_path"]).check_output_path(o),
    lambda o: __import__("kernelcli.io", fromlist=["check_output"]).check_output(o),
], ids=["write_output", "check_output_path", "check_output"])
def test_a_file_written_through_a_folder_name_is_refused(files, write, ending):
    with pytest.raises(UsageError, match=rf"^wo_new\.npy{ending} names a folder \(it ends with '{ending}'\): expected a "
                                         rf"file name; give one in that folder \(wo_new\.npy/NAME\) or drop the '{ending}'$"):
        write("wo_new.npy" + ending)
    assert not (files / "wo_new.npy").exists()


def test_the_volume_writers_refuse_it_too(files):
    pytest.importorskip("nibabel")
    from kernelcli.medical import check_volume_output, write_nifti, write_npy

    for write in (lambda o: write_nifti(o, np.zeros((2, 2, 2), np.float32)), lambda o: write_npy(o, np.zeros((2, 2, 2))),
                  check_volume_output):
        with pytest.raises(UsageError, match="names a folder"):
            write("o.nii.gz/")
    assert sorted(p.name for p in files.iterdir()) == ["a.npy", "phantom.png"]


def test_a_folder_so_named_is_still_a_folder(files):
    (files / "sub").mkdir()
    from kernelcli.io.folder_names import refuse_a_file_named_as_folder

    refuse_a_file_named_as_folder("sub/")  # (a folder named with its ending: nothing refused here)
    assert K.write_output(files / "sub" / "o.npy", np.ones((2, 2))).path.name == "o.npy"


@pytest.mark.parametrize("ending", ["/", "/."])
def test_a_spec_file_read_through_a_folder_name_is_refused(files, ending, cli):
    """``summary net.json/`` read net.json (exit 0), where ``-k k.npy/`` and every input so named are refused; the API's
    summarize alike.  A folder so named stays "not a regular file"."""
    import json

    from kernelcli.netspec.spec import SpecError

    (files / "net.json").write_text(json.dumps({"name": "n", "input": [1, 8, 8], "layers": [{"type": "conv", "filters": 2, "f": 3}]}))
    words = rf"net.json{ending} names a folder \(it ends with '{ending}'\), but net.json is a file: drop the '{ending}'"
    done = cli("summary", "net.json" + ending, "-q", cwd=files)
    assert (done.returncode, done.stdout) == (3, "")
    assert re.fullmatch(rf"error: {words}\n", done.stderr)
    with pytest.raises(SpecError, match=rf"^{words}$"):
        K.summarize("net.json" + ending)
    assert K.summarize("net.json").params == 20  # (2 filters of 3x3x1, 2 biases)
    (files / "nets").mkdir()
    assert "is not a regular file" in cli("summary", "nets/", cwd=files).stderr


def test_read_dicom_refuses_a_dicom_file_so_named(files):
    """``read_dicom('ct.dcm/')`` read the file (read_volume's check came before it; the reader itself had none)."""
    pydicom_data = pytest.importorskip("pydicom.data")
    from kernelcli.medical import read_dicom

    shutil.copy(pydicom_data.get_testdata_file("CT_small.dcm"), files / "ct.dcm")
    with pytest.raises(UsageError, match=r"^ct\.dcm/ names a folder \(it ends with '/'\), but ct\.dcm is a file"):
        read_dicom("ct.dcm/")
    assert read_dicom("ct.dcm").data.shape == (1, 128, 128)


@pytest.mark.parametrize("ending", ["/./", "/./.", "//"])
def test_endings_of_several_parts_are_refused_too(files, ending, cli):
    """Audit 224 #1 (a regression of 6013b28): ``p.png/./`` was stripped to ``p.png/.``, no file, so read as p.png
    (convolve exit 0, read_input, summary); now every trailing '/' and '/.' is dropped before the file is looked for,
    and the advice names the folder without them (``k.npy/./`` said 'give one in that folder (k.npy/./NAME.json)')."""
    import json

    from kernelcli.netspec.spec import SpecError

    words = rf"phantom\.png{re.escape(ending)} names a folder \(it ends with '{re.escape(ending)}'\), but phantom\.png is a file"
    with pytest.raises(UsageError, match=rf"^{words}: drop the '{re.escape(ending)}'$"):
        K.read_input("phantom.png" + ending)
    done = cli("convolve", "phantom.png" + ending, "-k", "box:3", "-o", "o.png", cwd=files)
    assert done.returncode == 2 and re.search(words, done.stderr) and not (files / "o.png").exists(), done.stderr
    (files / "net.json").write_text(json.dumps({"name": "n", "input": [1, 8, 8], "layers": [{"type": "conv", "filters": 2, "f": 3}]}))
    with pytest.raises(SpecError, match=rf"^net\.json{re.escape(ending)} names a folder"):
        K.summarize("net.json" + ending)
    done = cli("convolve", "phantom.png", "-k", "a.npy" + ending, "-o", "o.png", cwd=files)
    assert done.returncode == 3 and "drop the" in done.stderr and "a.npy/." not in done.stderr.replace("a.npy" + ending, ""), done.stderr
