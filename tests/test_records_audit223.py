"""Audit 223 (records: --json, --report, limits): what its findings 1-5 asked for, checked."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import process_env, small_png


def kernelcli(*args: str, cwd: Path, stdout=subprocess.PIPE, stdin=None, **env: str) -> subprocess.CompletedProcess:
    """``python -m kernelcli ARGS`` in a process of its own (stderr as text)."""
    return subprocess.run([sys.executable, "-m", "kernelcli", *args], stdin=stdin, stdout=stdout, stderr=subprocess.PIPE,
                          text=True, cwd=cwd, env=process_env(**env), timeout=120)


def appended_to(path: Path, *args: str, cwd: Path, stdin: Path | None = None) -> subprocess.CompletedProcess:
    """``kernelcli ARGS >> path`` (``< stdin``)."""
    with open(path, "ab") as out, open(stdin or path, "rb") as given:
        return kernelcli(*args, cwd=cwd, stdout=out, stdin=given if stdin else None)


class TestNoRecordIntoAnInputOnStdout:
    """#1: with --json, the failure record of a call refused because stdout is an input was printed on that stdout,
    appended to the input it protected (m.csv unreadable after ``convolve m.csv -k box:3 --json >> m.csv``)."""

    @pytest.fixture
    def files(self, tmp_path):
        np.savetxt(tmp_path / "m.csv", np.arange(25.0).reshape(5, 5), delimiter=",")
        small_png(tmp_path / "in.png")
        small_png(tmp_path / "b3" / "a.png")
        small_png(tmp_path / "b3" / "b.png")
        return tmp_path

    @pytest.mark.parametrize("stdout, args", [
        ("m.csv", ["convolve", "m.csv", "-k", "box:3"]),
        ("m.csv", ["pad", "m.csv", "-p", "1"]),
        ("m.csv", ["pool", "m.csv", "-f", "2"]),
        ("m.csv", ["learn", "m.csv", "m.csv", "-f", "3"]),
        ("in.png", ["convolve", "in.png", "-k", "sobel_v", "-o", "xx.png"]),
        ("in.png", ["gallery", "in.png", "-o", "g.png"]),
        ("b3/a.png", ["pool", "b3", "-f", "2", "--out-dir", "ob3"]),
        ("b3/a.png", ["convolve", "b3/*.png", "-k", "nosuch", "--out-dir", "ob3"]),
    ])
    def test_refused_and_the_input_unchanged(self, files, stdout, args):
        before = (files / stdout).read_bytes()
        r = appended_to(files / stdout, *args, "--json", cwd=files)
        assert r.returncode == 4, r.stderr
        assert (files / stdout).read_bytes() == before
        assert r.stderr.startswith(f"error: stdout: is {stdout}, which this call reads (the same file): ")
        assert r.stderr.endswith("redirect stdout to another file (--json: no record printed)\n"), r.stderr
        assert r.stderr.count("\n") == 1

    def test_stdins_file(self, files):
        before = (files / "m.csv").read_bytes()
        r = appended_to(files / "m.csv", "convolve", "-", "-k", "box:3", "--json", cwd=files, stdin=files / "m.csv")
        assert r.returncode == 4 and (files / "m.csv").read_bytes() == before, r.stderr
        assert "stdout: is the input read on stdin" in r.stderr and "(--json: no record printed)" in r.stderr

    @pytest.mark.parametrize("order", ["folder first", "missing first"])
    def test_a_folders_file_before_the_batch_has_listed_it(self, files, order):
        """A missing file is refused before the folder's files are listed: its record (a batch's document) was printed."""
        before = (files / "b3" / "a.png").read_bytes()
        inputs = ["b3", "nosuch.png"] if order == "folder first" else ["nosuch.png", "b3"]
        r = appended_to(files / "b3" / "a.png", "pool", *inputs, "-f", "2", "--out-dir", "ob3", "--json", cwd=files)
        assert r.returncode == 2, r.stderr
        assert (files / "b3" / "a.png").read_bytes() == before
        assert r.stderr == ("error: nosuch.png: no such file (--json: no record printed: stdout is b3/a.png, "
                            "which this call reads)\n")

    def test_a_stdout_beside_the_inputs_gets_the_record(self, files):
        """A file in the folder that is no input (a .json) is no input: the document is printed there as anywhere
        (the batch's, each input "not run": test_batch_reads_audit223)."""
        with open(files / "b3" / "r.json", "wb") as out:
            r = kernelcli("convolve", "b3", "-k", "nosuch", "--out-dir", "ob3", "--json", cwd=files, stdout=out)
        assert r.returncode == 3 and '"status": "not run"' in (files / "b3" / "r.json").read_text(), r.stderr
        assert "no record printed" not in r.stderr


def limited(*args: str, cwd: Path, fsize: int) -> subprocess.CompletedProcess:
    """``python -m kernelcli ARGS`` whose files may hold ``fsize`` bytes at most (a report bigger fails: "File too large")."""
    import resource

    def small_files():
        resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))

    return subprocess.run([sys.executable, "-m", "kernelcli", *args], cwd=cwd, env=process_env(), capture_output=True,
                          text=True, timeout=120, preexec_fn=small_files)


class TestOneInputsReportNotWritten:
    """#2: one input whose --report could not be written, but whose output was: the record said "failed" with every fact
    null, the line did not start ``--report FILE:`` nor say the output was written; a batch said it right."""

    @pytest.fixture
    def folder(self, tmp_path):
        np.savetxt(tmp_path / "m.csv", np.arange(25.0).reshape(5, 5), delimiter=",")
        return tmp_path

    def test_said_as_a_batch_says_it(self, folder):
        r = limited("convolve", "m.csv", "-k", "box:3", "-o", "x.npy", "--report", "r.json", cwd=folder, fsize=450)
        assert r.returncode == 1, r.stderr
        assert np.load(folder / "x.npy").shape == (5, 5) and not (folder / "r.json").exists()
        lines = r.stderr.splitlines()
        assert r.stdout == "x.npy\n" and lines[0].startswith("m.csv 5x5, convolve box:3 -> x.npy 5x5"), r.stderr
        assert lines[1:] == ["error: --report r.json: write failed: File too large; the destination is untouched; "
                             "the output x.npy is written"]

    def test_the_json_record_is_ok_with_a_note(self, folder):
        import json

        r = limited("convolve", "m.csv", "-k", "box:3", "-o", "x.npy", "--report", "r.json", "--json", cwd=folder, fsize=450)
        assert r.returncode == 1, r.stderr
        record = json.loads(r.stdout)
        assert record["status"] == "ok" and record["output_shape"] == [5, 5] and record["error"] is None
        assert record["notes"] == ["--report r.json: not written: write failed: File too large; the destination is untouched"]
        assert r.stderr.splitlines()[-1].endswith("; the output x.npy is written")

    def test_a_matrix_on_stdout(self, folder):
        r = limited("pool", "m.csv", "-f", "2", "--report", "r.json", cwd=folder, fsize=450)
        assert r.returncode == 1 and len(r.stdout.splitlines()) == 2, r.stderr
        assert r.stderr.splitlines()[-1] == ("error: --report r.json: write failed: File too large; the destination is "
                                             "untouched; the result is printed on stdout")

    def test_a_failed_job_keeps_its_own_error(self, folder):
        """Where the job failed too, its error stays the call's (the report's hid it: "r.json: write failed")."""
        (folder / "bad.csv").write_text("1,x\n")
        r = limited("convolve", "bad.csv", "-k", "box:3", "-o", "y.npy", "--report", "r.json", cwd=folder, fsize=100)
        assert r.returncode == 2, r.stderr
        assert r.stderr.splitlines() == [
            "note: --report r.json: not written: write failed: File too large; the destination is untouched",
            "error: bad.csv: line 1: 'x' is not a number"], r.stderr


class TestSpecFileSizeLimit:
    """#4: a network spec file had no size limit: ``summary coco.json`` (a 39 MB annotation file given by mistake) took
    3 s and 290 MB before "unknown field"; a kernel file of that size is refused before it is read."""

    def test_refused_before_it_is_read_as_a_kernel_file_is(self, tmp_path, monkeypatch):
        from kernelcli.catalog_format import MAX_FILE_BYTES
        from kernelcli.netspec.spec import SpecError, load_spec

        big = tmp_path / "coco.json"
        big.write_text('{"images": [' + " " * MAX_FILE_BYTES + "]}")
        monkeypatch.setattr(Path, "read_text", lambda *a, **k: pytest.fail("read whole"))
        with pytest.raises(SpecError, match=rf"coco\.json: file is {MAX_FILE_BYTES + 14} bytes, more than the "
                                            rf"{MAX_FILE_BYTES} \(1 MiB\) allowed for a network spec file$"):
            load_spec(str(big))

    def test_on_the_command_line(self, tmp_path):
        (tmp_path / "coco.json").write_bytes(b"{" + b" " * (1 << 20) + b"}")
        r = kernelcli("summary", "coco.json", cwd=tmp_path)
        assert r.returncode == 3 and r.stderr == ("error: coco.json: file is 1048578 bytes, more than the 1048576 (1 MiB) "
                                                  "allowed for a network spec file\n"), r.stderr

    def test_a_spec_at_the_limit_is_read(self, tmp_path):
        from kernelcli.netspec.spec import load_spec

        text = '{"input": [1, 8, 8], "layers": [{"type": "conv", "out": 2, "k": 3}]}'
        (tmp_path / "n.json").write_text(text + " " * ((1 << 20) - len(text)))
        assert load_spec(str(tmp_path / "n.json")).input == (1, 8, 8)
