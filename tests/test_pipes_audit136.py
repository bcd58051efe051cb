"""Audit 136 (pipes, stdin/stdout and chains, round 7): what its findings asked for, checked."""

from __future__ import annotations

import os
import signal
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import process_env
from kernelcli.errors import Interrupted


def kernelcli(*args: str, cwd: Path, data: bytes | None = b"", stdout=None) -> subprocess.CompletedProcess:
    """``python -m kernelcli ARGS`` in a process of its own, ``data`` on stdin (stdout as bytes, stderr as text)."""
    r = subprocess.run([sys.executable, "-m", "kernelcli", *args], input=data, stdout=stdout or subprocess.PIPE,
                       stderr=subprocess.PIPE, cwd=cwd, env=process_env(), timeout=120)
    r.stderr = r.stderr.decode()
    return r


@pytest.fixture
def grey(tmp_path):
    """g.png (20x23 grey) in ``tmp_path``."""
    from PIL import Image

    Image.fromarray(np.random.default_rng(1).integers(0, 256, (20, 23), dtype=np.uint8)).save(tmp_path / "g.png")
    return tmp_path


# F1: a DICOM on stdin is told by 'DICM' at byte 128 before any image signature; NRRD and MetaImage by their headers

def dual_personality(ct: Path, dest: Path) -> Path:
    """``ct`` (a DICOM file) with an 8x8 TIFF in a private element that its preamble's TIFF header points at: a
    DICOM/TIFF "dual personality" file (PS3.10 7.1), Pillow's 8x8 TIFF and pydicom's CT."""
    pydicom = pytest.importorskip("pydicom")
    ds = pydicom.dcmread(ct)
    ds.add_new((0x0009, 0x0010), "LO", "AUDIT136")
    ds.add_new((0x0009, 0x1001), "OB", b"AUDITBLOB" + bytes(512 - 9))
    ds.preamble = bytes(128)
    ds.save_as(dest, enforce_file_format=True)
    data = bytearray(dest.read_bytes())
    off = data.index(b"AUDITBLOB")
    entries = [(256, 3, 8), (257, 3, 8), (258, 3, 8), (259, 3, 1), (262, 3, 1), (273, 4, off + 200), (277, 3, 1),
               (278, 3, 8), (279, 4, 64)]
    ifd = struct.pack("<H", len(entries)) + b"".join(
        struct.pack("<HHI", tag, kind, 1) + (struct.pack("<HH", value, 0) if kind == 3 else struct.pack("<I", value))
        for tag, kind, value in entries) + struct.pack("<I", 0)
    data[off:off + len(ifd)] = ifd
    data[off + 200:off + 264] = (np.arange(64, dtype=np.uint8) * 4).tobytes()
    data[:128] = (b"II*\x00" + struct.pack("<I", off)).ljust(128, b"\x00")
    dest.write_bytes(bytes(data))
    return dest


def ct_small() -> Path:
    pytest.importorskip("pydicom")
    from pydicom.data import get_testdata_file

    return Path(get_testdata_file("CT_small.dcm"))


@pytest.mark.parametrize("which", ["CT_small", "dual"])
@pytest.mark.parametrize("command", [["convolve", "-", "-k", "box:3"], ["volume", "-", "-k", "box:3"]])
def test_a_dicom_on_stdin_is_refused_as_a_volume_not_read_as_its_preambles_tiff(tmp_path, which, command):
    dcm = ct_small() if which == "CT_small" else dual_personality(ct_small(), tmp_path / "dual.dcm")
    if which == "dual":
        from PIL import Image

        with Image.open(dcm) as im:  # the file this test is about: a TIFF to Pillow
            assert (im.format, im.size) == ("TIFF", (8, 8))
    r = kernelcli(*command, "-o", "o.npy", cwd=tmp_path, data=dcm.read_bytes())
    assert r.returncode == 2, r.stderr
    assert r.stderr == ("error: input '-': stdin holds a DICOM file; volumes (NIfTI, DICOM, MGH, NRRD, MetaImage) "
                        "are read from files, not pipes: give its path\n"), r.stderr
    assert not (tmp_path / "o.npy").exists()


@pytest.mark.parametrize("kind, data", [
    ("an NRRD", b"NRRD0004\ntype: short\ndimension: 3\nsizes: 2 2 2\nencoding: raw\n\n" + bytes(16)),
    ("a MetaImage", b"ObjectType = Image\nNDims = 3\nDimSize = 2 2 2\nElementType = MET_SHORT\nElementDataFile = LOCAL\n"
                    + bytes(16)),
], ids=["nrrd", "metaimage"])
def test_nrrd_and_metaimage_on_stdin_are_refused_as_volumes(tmp_path, kind, data):
    r = kernelcli("volume", "-", "-k", "box:3", "-o", "o.npy", cwd=tmp_path, data=data)
    assert r.returncode == 2, r.stderr
    assert f"error: input '-': stdin holds {kind} file; volumes (" in r.stderr and "not a text matrix" not in r.stderr, r.stderr


# F3: the summary line comes only after stdout took the whole result

class StopsMidCopy:
    """A stdout that takes ``size`` bytes, then is stopped by ``stop`` (Ctrl-C, SIGTERM) as a signal stops a copy."""

    def __init__(self, size: int, stop: BaseException) -> None:
        self.taken, self.size, self.stop = 0, size, stop

    def write(self, data) -> int:
        if self.taken >= self.size:
            raise self.stop
        n = min(len(data), self.size - self.taken)
        self.taken += n
        return n

    def flush(self) -> None:
        pass


@pytest.mark.parametrize("stop", [KeyboardInterrupt(), Interrupted(signal.SIGTERM)], ids=["SIGINT", "SIGTERM"])
def test_a_stop_while_the_result_goes_to_stdout_prints_no_summary(capsys, stop):
    from kernelcli.cli._common import note, notes_held
    from kernelcli.io.pipes import Pipes

    stdout = StopsMidCopy(1 << 16, stop)
    with pytest.raises(type(stop)):
        with notes_held(), Pipes(None, "-", "npy", stdout=stdout) as pipes:
            pipes.out.write_bytes(bytes(1 << 20))
            note("big.png 512x512, convolve box:3 -> stdout 512x512")
    assert stdout.taken == 1 << 16
    assert capsys.readouterr().err == ""


def test_the_summary_still_follows_a_whole_copy(capsys):
    import io

    from kernelcli.cli._common import note, notes_held
    from kernelcli.io.pipes import Pipes

    stdout = io.BytesIO()
    with notes_held(), Pipes(None, "-", "npy", stdout=stdout) as pipes:
        pipes.out.write_bytes(bytes(1 << 20))
        note("big.png 512x512, convolve box:3 -> stdout 512x512")
    assert len(stdout.getvalue()) == 1 << 20
    assert capsys.readouterr().err == "big.png 512x512, convolve box:3 -> stdout 512x512\n"
