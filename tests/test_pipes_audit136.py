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


# F2: an output or --report that is, or links to, an open descriptor is refused by what it is (exit 2), never renamed over

def stdout_to_file(tmp_path: Path, name: str) -> tuple[Path, Path]:
    """``name`` in ``tmp_path``, a link to /proc/self/fd/1 (a stand-in for /dev/stdout), and the file stdout goes to."""
    link = tmp_path / name
    link.symlink_to("/proc/self/fd/1")
    return link, tmp_path / "captured.txt"


needs_proc = pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc")


@needs_proc
@pytest.mark.parametrize("args, said", [
    (["--report", "so", "-o", "x.npy"], "error: --report 'so': the report is a file, not stdout (a link to its "
                                        "descriptor); give a path (--json prints its records on stdout)\n"),
    (["-o", "so.npy"], "error: --out 'so.npy': stdout is written as --out -, not through its device file (a link to "
                       "its descriptor); give --out - --format bmp|csv|jpg|npy|png|tif\n"),
], ids=["report", "out"])
def test_a_link_to_stdout_is_refused_and_left_a_link(grey, args, said):
    link, captured = stdout_to_file(grey, "so" if args[0] == "--report" else "so.npy")
    with captured.open("wb") as f:
        r = kernelcli("convolve", "g.png", "-k", "box:3", *args, "--force", cwd=grey, stdout=f)
    assert r.returncode == 2 and r.stderr == said, r.stderr
    assert link.is_symlink() and os.readlink(link) == "/proc/self/fd/1"
    assert captured.read_bytes() == b"" and not (grey / "x.npy").exists()


@needs_proc
def test_a_link_to_stdout_on_a_pipe_is_refused_as_stdout_not_as_a_pipe(grey):
    link, _ = stdout_to_file(grey, "so")
    r = kernelcli("convolve", "g.png", "-k", "box:3", "--report", "so", "-o", "x.npy", "--force", cwd=grey)
    assert r.returncode == 2 and "the report is a file, not stdout" in r.stderr, r.stderr  # was exit 4, 'a pipe'


@needs_proc
@pytest.mark.parametrize("target, stream", [
    ("/proc/self/fd/1", "stdout"), ("/proc/self/fd/2", "stderr"), ("/proc/self/fd/5", "descriptor 5 of this process"),
    ("so", "stdout")])
def test_the_report_is_refused_through_every_link_to_a_descriptor(invoke, grey, target, stream):
    # (links in tmp_path only: a --report of /dev/stdout itself, run on the code before, replaced the system's link)
    (grey / "so").symlink_to("/proc/self/fd/1")
    (grey / "r").symlink_to(target)
    r = invoke("convolve", "g.png", "-k", "box:3", "--report", "r", "-o", "x.npy", "--force")
    assert r.exit_code == 2, r.output
    assert f"--report 'r': the report is a file, not {stream} (a link to its descriptor); give a path" in r.stderr, r.stderr
    assert (grey / "r").is_symlink() and not (grey / "x.npy").exists()


@pytest.mark.parametrize("path, stream", [
    ("/dev/stdout", "stdout"), ("//dev/stdout", "stdout"), ("/dev/../dev/stdout", "stdout"), ("/dev/stderr", "stderr"),
    ("/dev/stdin", "stdin"), ("/dev/fd/1", "stdout"), ("/proc/self/fd/1", "stdout"), ("/proc/thread-self/fd/2", "stderr"),
    ("/dev/null", None), ("x.npy", None)])
def test_descriptors_are_told_by_what_the_path_is(path, stream):
    from kernelcli.io.output_checks import descriptor_of

    if path.startswith("/proc/thread-self") and not os.path.isdir("/proc/thread-self"):
        pytest.skip("needs /proc/thread-self")
    assert descriptor_of(path) == stream


@needs_proc
def test_an_output_linking_to_stderr_is_refused_naming_it(invoke, grey):
    (grey / "se.npy").symlink_to("/proc/self/fd/2")
    r = invoke("convolve", "g.png", "-k", "box:3", "-o", "se.npy", "--force")
    assert r.exit_code == 2 and "--out 'se.npy': the output is a file, not stderr (a link to its descriptor)" in r.stderr
    assert (grey / "se.npy").is_symlink()


@needs_proc
def test_a_write_never_renames_over_a_link_to_a_descriptor(tmp_path):
    from kernelcli.errors import OutputRefused
    from kernelcli.io.outputs import write_bytes_atomic

    link = tmp_path / "so.npy"
    link.symlink_to("/proc/self/fd/1")
    with pytest.raises(OutputRefused, match="so.npy: links to /proc/self/fd/1, a device or an open descriptor"):
        write_bytes_atomic(link, b"data", force=True)
    assert link.is_symlink() and sorted(p.name for p in tmp_path.iterdir()) == ["so.npy"]


# F4: a terminal on stdout: --format csv is suggested only where a csv can hold the result

class Terminal:
    """sys.stdout as a terminal."""

    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("name, hinted", [("g.png", True), ("m.npy", True), ("rgb.png", False), ("v.npy", False),
                                          ("anatomical.nii", False)])
def test_a_terminal_on_stdout_suggests_csv_only_where_csv_holds_the_result(tmp_path, monkeypatch, name, hinted):
    from PIL import Image

    from kernelcli.errors import UsageError
    from kernelcli.io.pipes import Pipes

    rng = np.random.default_rng(2)
    Image.fromarray(rng.integers(0, 256, (5, 6), dtype=np.uint8)).save(tmp_path / "g.png")
    Image.fromarray(rng.integers(0, 256, (5, 6, 3), dtype=np.uint8)).save(tmp_path / "rgb.png")
    np.save(tmp_path / "m.npy", rng.random((5, 6)))
    np.save(tmp_path / "v.npy", rng.random((4, 5, 6)))
    (tmp_path / "anatomical.nii").write_bytes(b"")
    monkeypatch.setattr(sys, "stdout", Terminal())
    with pytest.raises(UsageError, match="which is a terminal") as refused:
        with Pipes(tmp_path / name, "-", "npy"):
            pass
    assert str(refused.value).endswith("--format csv prints a matrix as text") == hinted, refused.value


# F6: the alpha note for -o - names --format, which stdout's format is chosen by

@pytest.mark.parametrize("out, keep", [(["-o", "-", "--format", "npy"], "give --format png|tif to keep it"),
                                       (["-o", "o.npy"], "write .png or .tif to keep it")])
def test_the_dropped_alpha_note_names_what_keeps_it(tmp_path, out, keep):
    from PIL import Image

    Image.fromarray(np.random.default_rng(3).integers(0, 256, (5, 6, 4), dtype=np.uint8)).save(tmp_path / "rgba.png")
    r = kernelcli("convolve", "-", "-k", "box:3", *out, cwd=tmp_path, data=(tmp_path / "rgba.png").read_bytes())
    assert r.returncode == 0, r.stderr
    assert f"does not hold the alpha channel, so it is dropped; {keep}\n" in r.stderr, r.stderr


# F6: `summary -` is refused as `learn -` and `--report -` are: the pipes' words, exit 2

def test_summary_of_a_dash_is_refused_in_the_pipes_words(invoke, tmp_path):
    r = invoke("summary", "-")
    assert r.exit_code == 2, r.output  # was 3, '-: no such spec file and no built-in network of that name'
    assert "SPEC '-': summary reads a spec file or a built-in name, not stdin; give a path or a name" in r.stderr, r.stderr
