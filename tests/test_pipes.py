"""Pipes (issue 12): ``-`` reads stdin (format sniffed, ``--format`` to force) and ``-o -`` writes stdout."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import SAMPLES, pixels, run_cli
from kernelcli.errors import UsageError
from kernelcli.io.pipes import Pipes, sniff_bytes


@pytest.fixture
def pipe(runner, monkeypatch, tmp_path):
    """Run the app in-process in ``tmp_path`` with ``data`` on stdin: ``pipe(*args, data=b"...")``.

    The result has ``returncode``, ``stdout`` (bytes) and ``stderr`` (text), like a subprocess.
    """
    from types import SimpleNamespace

    from kernelcli.cli import app

    monkeypatch.chdir(tmp_path)

    def run(*args: str, data: bytes, cwd: Path | None = None) -> SimpleNamespace:
        result = runner.invoke(app, [str(a) for a in args], input=data, prog_name="kernelcli")
        return SimpleNamespace(returncode=result.exit_code, stdout=result.stdout_bytes, stderr=result.stderr.encode())

    return run


def process_env(**extra: str) -> dict:
    """The environment of a ``python -m kernelcli`` process of a test: this checkout first on PYTHONPATH."""
    import kernelcli

    env = dict(os.environ, **extra)
    here = str(Path(kernelcli.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [here, env.get("PYTHONPATH")]))
    return env


def pipe_process(*args: str, data: bytes, cwd: Path) -> subprocess.CompletedProcess:
    """``python -m kernelcli ARGS`` with ``data`` on stdin, in a process of its own; stdout kept as bytes."""
    return subprocess.run([sys.executable, "-m", "kernelcli", *args], input=data, capture_output=True, cwd=cwd,
                          env=process_env(), timeout=120)


def test_the_issues_command_equals_the_file_run(tmp_path):
    import kernelcli

    here = str(Path(kernelcli.__file__).resolve().parent.parent)
    command = (
        f"cat {SAMPLES / 'phantom.png'} | PYTHONPATH={here} {sys.executable} -m kernelcli convolve - -k sobel_v -o - --format png > out.png"
    )
    done = subprocess.run(["bash", "-c", command], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert run_cli("convolve", str(SAMPLES / "phantom.png"), "-k", "sobel_v", "-o", "ref.png", cwd=tmp_path).returncode == 0
    assert (tmp_path / "out.png").read_bytes() == (tmp_path / "ref.png").read_bytes()
    assert "stdin 256x256, convolve sobel_v -> stdout 256x256" in done.stderr


def test_stdout_carries_only_the_image(pipe, invoke, tmp_path):
    result = pipe("convolve", "-", "-k", "gaussian:1", "-o", "-", "--format", "tif", "--rescale", "none", data=(SAMPLES / "phantom.png").read_bytes(), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    (tmp_path / "o.tif").write_bytes(result.stdout)
    assert invoke("convolve", str(SAMPLES / "phantom.png"), "-k", "gaussian:1", "-o", "r.tif", "--rescale", "none").exit_code == 0
    np.testing.assert_array_equal(pixels(tmp_path / "o.tif"), pixels(tmp_path / "r.tif"))
    assert list(tmp_path.iterdir()) != [] and not list(tmp_path.glob("stdout*"))


def test_csv_in_matrix_out(pipe, invoke, tmp_path):
    piped = pipe("convolve", "-", "-k", "prewitt_v", "--padding", "valid", "-q", data=(SAMPLES / "example1.csv").read_bytes(), cwd=tmp_path)
    direct = invoke("convolve", str(SAMPLES / "example1.csv"), "-k", "prewitt_v", "--padding", "valid", "-q")
    assert piped.returncode == 0 and piped.stdout.decode() == direct.stdout == " 6 -9 -8\n-3 -2 -3\n-3  0 -2\n"


def test_npy_in_npy_out_with_a_layout(pipe, invoke, tmp_path):
    x = np.random.default_rng(5).random((3, 9, 11))
    buffer = io.BytesIO()
    np.save(buffer, x)
    result = pipe("pool", "-", "--size", "2", "--op", "avg", "--layout", "chw", "-o", "-", data=buffer.getvalue(), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    got = np.load(io.BytesIO(result.stdout))
    np.testing.assert_allclose(got, x[:, :8, :10].reshape(3, 4, 2, 5, 2).mean(axis=(2, 4)))


def test_pad_through_a_pipe(pipe, invoke, tmp_path):
    result = pipe("pad", "-", "--p", "1", "-o", "-", "--format", "csv", data=b"1 2\n3 4\n", cwd=tmp_path)
    assert result.returncode == 0 and result.stdout == b"0,0,0,0\n0,1,2,0\n0,3,4,0\n0,0,0,0\n"


@pytest.mark.parametrize(
    ("args", "data", "words"),
    [
        (("convolve", "SAMPLE", "-k", "sobel_v", "-o", "-"), b"", "add --format"),
        (("convolve", "-", "-k", "sobel_v", "-o", "-", "--format", "png"), b"garbage\n", "stdin: line 1: 'garbage' is not a number"),
        (("convolve", "-", "-k", "sobel_v", "-o", "x.png", "--format", "npy"), None, "stdin starts like PNG, but --format says npy"),
        (("convolve", "-", "-k", "sobel_v", "-o", "-", "--format", "png", "--json"), None, "--json prints on stdout"),
        (("convolve", "-", "-k", "sobel_v", "-o", "-", "--format", "png"), b"", "stdin is empty"),
        (("pool", "-", "SAMPLE", "--size", "2", "--out-dir", "o"), None, "give it alone"),
        (("convolve", "-", "-k", "box:3", "-o", "v.nii.gz"), b"\x1f\x8b\x08\x00rest", "volumes (NIfTI, DICOM, MGH, NRRD, MetaImage) are read from files"),
    ],
)
def test_refusals_leave_stdout_empty(pipe, invoke, tmp_path, args, data, words):
    args = tuple(str(SAMPLES / "phantom.png") if a == "SAMPLE" else a for a in args)
    result = pipe(*args, data=(SAMPLES / "phantom.png").read_bytes() if data is None else data, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stdout == b""
    assert words in result.stderr.decode()
    assert not (tmp_path / "x.png").exists()


def test_a_failed_process_writes_nothing_on_stdout(tmp_path):
    result = pipe_process("convolve", "-", "-k", "sobel_v", "-o", "-", "--format", "png", data=b"garbage\n", cwd=tmp_path)
    assert result.returncode == 2 and result.stdout == b"" and "stdin: line 1" in result.stderr.decode()


@pytest.mark.parametrize("command", [["convolve", "-", "-k", "sobel_v"], ["pool", "-", "-f", "2"], ["pad", "-", "-p", "1"]])
def test_stdin_redirected_from_the_output_is_an_input(tmp_path, command):
    """`< a.png` with `-o a.png --force` overwrote the input (exit 0); a pipe from the same file is fine."""
    original = (SAMPLES / "phantom.png").read_bytes()
    (tmp_path / "a.png").write_bytes(original)
    env = process_env(KERNELCLI_WORKER="off")
    with open(tmp_path / "a.png", "rb") as stdin:
        r = subprocess.run([sys.executable, "-m", "kernelcli", *command, "-o", "a.png", "--force"], stdin=stdin,
                           capture_output=True, cwd=tmp_path, env=env, timeout=120)
    assert r.returncode == 4 and b"a.png: is the input read on stdin (same file)" in r.stderr, r.stderr
    assert (tmp_path / "a.png").read_bytes() == original
    with open(tmp_path / "a.png", "rb") as stdin:  # another output: done
        r = subprocess.run([sys.executable, "-m", "kernelcli", *command, "-o", "b.png"], stdin=stdin,
                           capture_output=True, cwd=tmp_path, env=env, timeout=120)
    assert r.returncode == 0 and (tmp_path / "b.png").is_file(), r.stderr


def test_a_closed_stdin_is_named_closed(tmp_path):
    """`kernelcli convolve - ... <&-` said stdin was a terminal."""
    r = subprocess.run(["bash", "-c", f"{sys.executable} -m kernelcli convolve - -k box:3 -o x.png <&-"], capture_output=True,
                       cwd=tmp_path, env=process_env(KERNELCLI_WORKER="off"), timeout=120)
    assert r.returncode == 2 and b"input '-' reads from stdin, but stdin is closed" in r.stderr, r.stderr


def test_stdin_beyond_the_memory_limit_is_refused(pipe, monkeypatch):
    monkeypatch.setenv("KERNELCLI_MAX_MEMORY", "1000")
    result = pipe("convolve", "-", "-k", "sobel_v", "-o", "-", "--format", "npy", data=b"1 2 3\n" * 1000)
    assert result.returncode == 2 and result.stdout == b"" and "memory limit (KERNELCLI_MAX_MEMORY)" in result.stderr.decode()
    assert "give the file's path instead (convolve, pad and pool run a .npy or TIFF file that large tile by tile)" in result.stderr.decode()


def test_sniffing():
    assert sniff_bytes((SAMPLES / "phantom.png").read_bytes()[:16]) == "png"
    assert sniff_bytes(b"II*\x00rest") == "tif" and sniff_bytes(b"\xff\xd8\xff\xe0") == "jpg"
    assert sniff_bytes(b"0.5, 1\n") == "csv"


def test_pipes_object(tmp_path):
    out = io.BytesIO()
    with Pipes("-", "-", "npy", stdin=io.BytesIO(b"1 2\n"), stdout=out) as p:
        assert p.input.suffix == ".csv" and p.out.suffix == ".npy"
        np.save(p.out, np.array([1.0]))
        folder = p.out.parent
    assert np.load(io.BytesIO(out.getvalue())).tolist() == [1.0]
    assert not folder.exists()
    failed = io.BytesIO()
    with pytest.raises(UsageError, match="stdout"):
        with Pipes(None, "-", "png", stdout=failed) as p:
            p.out.write_bytes(b"partial")
            raise UsageError(f"{p.out}: broken")
    assert failed.getvalue() == b""


@pytest.mark.parametrize("suffix", [".tif", ".bmp", ".npy"])
def test_every_sniffed_format_equals_the_file_run(pipe, invoke, tmp_path, suffix):
    from PIL import Image

    x = np.asarray(Image.open(SAMPLES / "phantom.png"))[::4, ::4].copy()
    source = tmp_path / f"x{suffix}"
    if suffix == ".npy":
        np.save(source, x.astype(np.float32))
    else:
        Image.fromarray(x).save(source)
    piped = pipe("convolve", "-", "-k", "laplacian_4", "-o", "-", "--format", "npy", data=source.read_bytes(), cwd=tmp_path)
    assert piped.returncode == 0, piped.stderr
    assert invoke("convolve", str(source), "-k", "laplacian_4", "-o", "ref.npy").exit_code == 0
    np.testing.assert_array_equal(np.load(io.BytesIO(piped.stdout)), np.load(tmp_path / "ref.npy"))


def test_format_without_out_names_the_output(pipe, tmp_path):
    result = pipe("convolve", "-", "-k", "sobel_v", "--format", "npy", data=(SAMPLES / "phantom.png").read_bytes())
    assert result.returncode == 0, result.stderr
    assert np.load(tmp_path / "stdin_sobel_v.npy").shape == (256, 256)


def test_json_and_report_name_stdin_and_stdout(pipe, tmp_path):
    import json

    data = (SAMPLES / "phantom.png").read_bytes()
    result = pipe("convolve", "-", "-k", "sobel_v", "-o", "e.png", "--json", data=data)
    assert result.returncode == 0 and json.loads(result.stdout)["input"] == "stdin"
    result = pipe("convolve", "-", "-k", "sobel_v", "-o", "-", "--format", "png", "--report", "r.json", data=data)
    assert result.returncode == 0 and result.stdout.startswith(b"\x89PNG")
    record = json.loads((tmp_path / "r.json").read_text())["items"][0]
    assert record["input"] == "stdin" and record["output"] == "stdout"


def test_notes_name_stdin(pipe, tmp_path):
    # notes named the stand-in file: "note: stdin.png: e.jpg does not hold the alpha channel", under "stdin 30x40x3, ..."
    from PIL import Image

    Image.fromarray(np.random.default_rng(0).integers(0, 256, (30, 40, 4), dtype=np.uint8)).save(tmp_path / "in.png")
    result = pipe("convolve", "-", "-k", "sobel_v", "-o", "e.jpg", data=(tmp_path / "in.png").read_bytes())
    assert result.returncode == 0
    assert "note: stdin: e.jpg does not hold the alpha channel" in result.stderr.decode()
    assert "stdin.png" not in result.stderr.decode()


def test_gallery_reads_stdin_and_writes_its_sheet_to_stdout(pipe, invoke, tmp_path):
    result = pipe("gallery", "-", "--family", "edge", "-o", "-", data=(SAMPLES / "phantom.png").read_bytes())
    assert result.returncode == 0, result.stderr
    from kernelcli.jobs_gallery import gallery_file

    # the sheet's title says 'stdin' (it said 'stdin.png', the pipe's stand-in file), as the record does
    gallery_file(SAMPLES / "phantom.png", out=tmp_path / "ref.png", family="edge", shown_name="stdin")
    np.testing.assert_array_equal(pixels(io.BytesIO(result.stdout)), pixels(tmp_path / "ref.png"))
    (tmp_path / "stdin.png").write_bytes((SAMPLES / "phantom.png").read_bytes())
    assert invoke("gallery", "stdin.png", "--family", "edge", "-o", "file.png").exit_code == 0
    assert not np.array_equal(pixels(io.BytesIO(result.stdout)), pixels(tmp_path / "file.png"))


@pytest.mark.parametrize("sheet", ["sheet.png", "sheet.jpg"])
def test_gallery_reads_any_stdin_format_into_a_sheet_file(pipe, tmp_path, sheet):
    # the sheet's stdout format (png) was taken as a claim about stdin: "stdin starts like JPG, but --format says png"
    from PIL import Image

    Image.fromarray((np.random.default_rng(0).random((40, 50, 3)) * 255).astype(np.uint8)).save(tmp_path / "in.jpg")
    np.save(tmp_path / "in.npy", np.random.default_rng(1).random((40, 50)))
    for source in ("in.jpg", "in.npy"):
        result = pipe("gallery", "-", "--family", "edge", "-o", sheet, "--force", data=(tmp_path / source).read_bytes())
        assert result.returncode == 0, result.stderr
        assert (tmp_path / sheet).stat().st_size > 0


def test_a_reader_that_stops_early_gets_no_summary_of_the_output(tmp_path):
    # `| head -c 10` ended the call with exit 1 while stderr said "... -> stdout 1500x1500, range ...": a success
    import kernelcli

    np.save(tmp_path / "big.npy", np.random.default_rng(0).random((1500, 1500)))
    here = str(Path(kernelcli.__file__).resolve().parent.parent)
    command = (f"PYTHONPATH={here} KERNELCLI_WORKER=off {sys.executable} -m kernelcli convolve big.npy -k sobel_v -o - "
               "--format npy 2>err.txt | head -c 10 > /dev/null; echo ${PIPESTATUS[0]}")
    done = subprocess.run(["bash", "-c", command], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == "1"
    assert (tmp_path / "err.txt").read_text() == ""


@pytest.mark.parametrize("call", [("gallery", "-", "-o", "sstdin.png"), ("convolve", "-", "-k", "sobel_v", "-o", "my_stdin.png")])
def test_an_output_whose_name_ends_like_the_stand_in_keeps_its_name(tmp_path, call):
    # the learn/gallery audit: the stand-in 'stdin.png' was replaced inside any text, so the record of
    # `-o my_stdin.png` said "output": "my_stdin" (the file was written with its name)
    import json

    r = subprocess.run([sys.executable, "-m", "kernelcli", *call, "--json"], input=(SAMPLES / "rgb.png").read_bytes(),
                       capture_output=True, env=process_env(), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    record = json.loads(r.stdout)
    assert (record["input"], record["output"]) == ("stdin", call[-1]) and (tmp_path / call[-1]).exists()
    assert f"-> {call[-1]} " in r.stderr.decode()


def test_a_non_blocking_stdin_is_read_to_its_end(tmp_path):
    """The pipes audit: a parent that leaves stdin O_NONBLOCK (Node.js) and writes a matrix in two parts got
    the first part alone, exit 0 (a 6x4 matrix came out 3x4, its last number '20' for '203')."""
    import fcntl
    import time

    text = "".join(",".join(str(100 * r + c) for c in range(4)) + "\n" for r in range(6)).encode()
    read, write = os.pipe()
    fcntl.fcntl(read, fcntl.F_SETFL, fcntl.fcntl(read, fcntl.F_GETFL) | os.O_NONBLOCK)
    os.write(write, text[:38])
    proc = subprocess.Popen([sys.executable, "-m", "kernelcli", "pad", "-", "-p", "0", "-o", "-"], stdin=read,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path, env=process_env())
    os.close(read)
    time.sleep(1.0)  # (the process reads the first part and waits)
    os.write(write, text[38:])
    os.close(write)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert out.decode().replace("\r\n", "\n") == text.decode()


def test_a_failed_copy_of_stdin_is_a_write_error(tmp_path):
    # the pipes audit: a file size limit (or a full disk) while stdin was copied was "internal error ... a bug", exit 70
    import resource

    data = io.BytesIO()
    np.save(data, np.zeros((300, 300)))
    limit = lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (100 * 1024, 100 * 1024))  # noqa: E731
    r = subprocess.run([sys.executable, "-m", "kernelcli", "convolve", "-", "-k", "box:3", "-o", "o.npy"], input=data.getvalue(),
                       capture_output=True, cwd=tmp_path, env=process_env(), timeout=120, preexec_fn=limit)
    assert r.returncode == 1, r.stderr
    assert r.stderr.decode().startswith("error: input '-': cannot copy stdin to a temporary file") and b"bug" not in r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_a_failure_record_names_stdin_as_a_success_does(pipe, tmp_path):
    import json

    data = io.BytesIO()
    np.save(data, np.ones((4, 4)))
    for args in (["-f", "2"], ["-f", "2"], ["-f", "9"]):  # ok; the output exists: exit 4; a window too large: exit 2
        r = pipe("pool", "-", *args, "-o", "p.npy", "--json", data=data.getvalue())
        assert json.loads(r.stdout)["input"] == "stdin", r.stdout


def test_a_bigtiff_is_read_from_stdin_as_from_its_path(pipe, tmp_path):
    tifffile = pytest.importorskip("tifffile")
    tifffile.imwrite(tmp_path / "bt.tif", np.arange(12, dtype=np.uint8).reshape(3, 4), bigtiff=True)
    r = pipe("pad", "-", "-p", "0", "-o", "-", "--format", "csv", data=(tmp_path / "bt.tif").read_bytes())
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode().split() == ["0,1,2,3", "4,5,6,7", "8,9,10,11"]


def test_a_whole_number_float64_would_round_is_refused(pipe):
    # the pipes audit: 9007199254740993 was padded as 9007199254740992, exit 0
    r = pipe("pad", "-", "-p", "1", "-o", "-", data=b"9007199254740993,2\n3,4\n")
    assert r.returncode == 2 and b"which float64 reads as 9007199254740992" in r.stderr and r.stdout == b""
    r = pipe("pad", "-", "-p", "0", "-o", "-", data=b"9007199254740992,-9007199254740992\n")
    assert r.returncode == 0 and r.stdout.split() == [b"9007199254740992,-9007199254740992"]


@pytest.mark.parametrize("how", ["append", "in place"])
@pytest.mark.parametrize("command, name", [
    (["convolve", "m.csv", "-k", "box_3x3", "-q"], "m.csv"),
    (["convolve", "in.png", "-k", "sobel_v", "-o", "-", "--format", "png"], "in.png"),
    (["convolve", "in.png", "-k", "sobel_v", "-o", "o.png"], "in.png"),
    (["convolve", "in.png", "-k", "k.json", "-o", "o.png"], "k.json"),
])
def test_stdout_that_is_an_input_is_refused_before_any_work(tmp_path, how, command, name):
    """`kernelcli convolve m.csv ... >> m.csv` appended the result to its input (exit 0; read back with twice the rows),
    `-o - 1<> in.png` wrote over it: refused, as GNU `cat f >> f`, with nothing written."""
    (tmp_path / "m.csv").write_bytes((SAMPLES / "example1.csv").read_bytes())
    (tmp_path / "in.png").write_bytes((SAMPLES / "phantom.png").read_bytes())
    (tmp_path / "k.json").write_text('{"name": "k", "matrix": [[0, 1, 0], [1, 1, 1], [0, 1, 0]]}')
    before = (tmp_path / name).read_bytes()
    with open(tmp_path / name, "ab" if how == "append" else "r+b") as stdout:
        r = subprocess.run([sys.executable, "-m", "kernelcli", *command], stdout=stdout, stderr=subprocess.PIPE, cwd=tmp_path,
                           env=process_env(KERNELCLI_WORKER="off"), timeout=120)
    assert r.returncode == 4 and f"stdout: is {name}, which this call reads".encode() in r.stderr, r.stderr
    assert (tmp_path / name).read_bytes() == before and not (tmp_path / "o.png").exists()
    with open(tmp_path / "other.txt", "ab") as stdout:  # the control: another file takes it
        r = subprocess.run([sys.executable, "-m", "kernelcli", *command], stdout=stdout, stderr=subprocess.PIPE, cwd=tmp_path,
                           env=process_env(KERNELCLI_WORKER="off"), timeout=120)
    assert r.returncode == 0, r.stderr


def test_stdout_that_is_a_file_of_an_input_folder_is_refused_before_any_work(tmp_path):
    """A folder's file as stdout: the list of outputs was appended to it, exit 0, in a batch of several workers (the files
    read were noted in the workers, not where the list is printed)."""
    (tmp_path / "d").mkdir()
    for name in ("a.png", "b.png", "c.png"):
        (tmp_path / "d" / name).write_bytes((SAMPLES / "phantom.png").read_bytes())
    before = (tmp_path / "d" / "c.png").read_bytes()
    with open(tmp_path / "d" / "c.png", "ab") as stdout:
        r = subprocess.run([sys.executable, "-m", "kernelcli", "convolve", "d", "-k", "box_3x3", "-d", "out", "--workers", "2"],
                           stdout=stdout, stderr=subprocess.PIPE, cwd=tmp_path, env=process_env(KERNELCLI_WORKER="off"), timeout=120)
    assert r.returncode == 4 and b"stdout: is d/c.png, which this call reads (the same file)" in r.stderr, r.stderr
    assert (tmp_path / "d" / "c.png").read_bytes() == before and not (tmp_path / "out").exists()


@pytest.mark.parametrize("command, name", [
    (["summary", "vgg16", "-q"], "vgg16"), (["shape", "--in", "24", "-f", "3", "-q"], "24"),
    (["kernels", "show", "sobel_v"], "sobel_v"), (["kernels", "--family", "edge", "-q"], "edge"),
    (["convolve", "m.csv", "-k", "box_3x3", "-o", "-", "--format", "csv"], "csv"),
])
def test_a_name_that_is_no_file_read_may_be_stdouts_file(tmp_path, command, name):
    """The check refused `summary vgg16 > vgg16` (a built-in's name, not the file), `shape --in 24 > 24`, `--format csv
    > csv`: only the files a call reads count."""
    (tmp_path / "m.csv").write_bytes((SAMPLES / "example1.csv").read_bytes())
    with open(tmp_path / name, "wb") as stdout:
        r = subprocess.run([sys.executable, "-m", "kernelcli", *command], stdout=stdout, stderr=subprocess.PIPE, cwd=tmp_path,
                           env=process_env(KERNELCLI_WORKER="off"), timeout=120)
    assert r.returncode == 0 and (tmp_path / name).stat().st_size > 0, r.stderr


def test_a_report_records_a_stdout_that_did_not_take_the_result(tmp_path):
    """`-o - --report r.json > /dev/full` exited 1 with a report saying ok, code 0: the copy to stdout came after it."""
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full here")
    data = (SAMPLES / "phantom.png").read_bytes()
    with open("/dev/full", "wb") as full:
        r = subprocess.run([sys.executable, "-m", "kernelcli", "convolve", "-", "-k", "box_3x3", "-o", "-", "--format", "npy",
                            "--report", "r.json"], input=data, stdout=full, stderr=subprocess.PIPE, cwd=tmp_path,
                           env=process_env(KERNELCLI_WORKER="off"), timeout=120)
    import json

    item = json.loads((tmp_path / "r.json").read_text())["items"][0]
    assert r.returncode == 1 and item["status"] == "failed" and item["code"] == 1, (r.stderr, item)
    assert "stdout: cannot write" in item["error"]
    r = pipe_process("convolve", "-", "-k", "box_3x3", "-o", "-", "--format", "npy", "--report", "ok.json", data=data, cwd=tmp_path)
    assert r.returncode == 0 and json.loads((tmp_path / "ok.json").read_text())["items"][0]["status"] == "ok"
    assert np.load(io.BytesIO(r.stdout)).shape == (256, 256)


def test_a_text_matrix_past_its_cap_is_refused_as_it_arrives(pipe, monkeypatch):
    """`yes 1 | kernelcli convolve -` copied gigabytes (up to 3/4 of the memory) before the 64 MiB text cap refused it."""
    from kernelcli.io import matrices, pipes

    monkeypatch.setattr(matrices, "MAX_MATRIX_BYTES", 4 << 20)
    read = []
    real_read = pipes.read_up_to

    def counted(stream, size):
        data = real_read(stream, size)
        read.append(len(data))
        return data

    monkeypatch.setattr(pipes, "read_up_to", counted)
    result = pipe("convolve", "-", "-k", "box_3x3", "-q", data=b"1\n" * (16 << 20))
    assert result.returncode == 2 and "stdin: text matrix larger than 4 MiB" in result.stderr.decode(), result.stderr
    assert sum(read) <= (5 << 20), sum(read)  # stopped within a chunk of the cap, not at the stream's 32 MiB


@pytest.mark.parametrize("text_format", [True, False])
def test_a_terminal_stdout_hint_names_only_options_the_command_has(tmp_path, monkeypatch, text_format):
    """`gallery x.png -o -` on a terminal suggested `--format csv`, an option gallery does not have."""

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    from PIL import Image

    Image.fromarray(np.zeros((3, 4), np.uint8)).save(tmp_path / "a.png")  # grey: a csv holds it (audit 136 F4)
    monkeypatch.setattr(sys, "stdout", Terminal())
    with pytest.raises(UsageError) as refused:
        with Pipes(tmp_path / "a.png", "-", "png", text_format=text_format):
            pass
    assert "which is a terminal: redirect it to a file (> out.png)" in str(refused.value)
    assert ("--format csv" in str(refused.value)) == text_format


@pytest.mark.parametrize("args", [["-d", "out"], ["-o", "x.png"]])
def test_a_file_named_like_a_pattern_of_other_files_reads_two_ways(invoke, tmp_path, monkeypatch, args):
    """`[ab].png` beside a.png and b.png was the one file, in silence (a batch of it alone)."""
    monkeypatch.chdir(tmp_path)
    for name in ("a.png", "b.png", "[ab].png"):
        (tmp_path / name).write_bytes((SAMPLES / "phantom.png").read_bytes())
    r = invoke("convolve", "[ab].png", "-k", "box_3x3", *args)
    assert r.exit_code == 2 and "[ab].png: reads two ways: the file of that name, or the pattern that also matches a.png, b.png" \
        in r.stderr and "give '[[]ab].png' with --out-dir for the file alone (a pattern is a batch)" in r.stderr, r.output
    assert not (tmp_path / "out").exists() and not (tmp_path / "x.png").exists()
    assert invoke("convolve", "[[]ab].png", "-k", "box_3x3", "-d", "out2").exit_code == 0  # the escaped pattern: the file
    assert [p.name for p in (tmp_path / "out2").iterdir()] == ["[ab]_box_3x3.png"]
    (tmp_path / "a.png").unlink(), (tmp_path / "b.png").unlink()
    assert invoke("convolve", "[ab].png", "-k", "box_3x3", *args).exit_code == 0  # nothing else matches: one reading


def test_an_out_dir_of_a_dash_is_refused(invoke, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.png").write_bytes((SAMPLES / "phantom.png").read_bytes())
    r = invoke("convolve", "a.png", "-k", "box_3x3", "-d", "-", "--format", "npy")
    assert r.exit_code == 2 and "--out-dir -: an output folder, not stdout" in r.stderr, r.output
    assert not (tmp_path / "-").exists()  # it made a folder named '-'
