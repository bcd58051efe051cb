"""Audit 102 (pipes, stdin/stdout and chains): what its findings asked for, checked."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import process_env


def kernelcli(*args: str, cwd: Path, stdin=None, stdout=subprocess.PIPE, data: bytes | None = None,
              **env: str) -> subprocess.CompletedProcess:
    """``python -m kernelcli ARGS`` in a process of its own (stdin/stdout as given, stderr as text)."""
    return subprocess.run([sys.executable, "-m", "kernelcli", *args], stdin=stdin, stdout=stdout, stderr=subprocess.PIPE,
                          input=data, cwd=cwd, env=process_env(**env), timeout=120)


@pytest.fixture
def grey(tmp_path):
    """g.png (20x23 grey) and g.npy, the same pixels, in ``tmp_path``."""
    from PIL import Image

    g = np.random.default_rng(1).integers(0, 256, (20, 23), dtype=np.uint8)
    Image.fromarray(g).save(tmp_path / "g.png")
    np.save(tmp_path / "g.npy", g)
    return g


class TestStdoutIntoStdinsFile:
    """F1: `< f >> f` was refused only when the result went to stdout: after the work, after `-o FILE` was written,
    exit 1; a named input gets exit 4 with nothing done, as the README's exit codes table says for both."""

    @pytest.mark.parametrize("command", [["convolve", "-", "-k", "box:3"], ["pool", "-", "-f", "2"], ["pad", "-", "-p", "1"]])
    @pytest.mark.parametrize("how", ["append", "read-write"])
    def test_refused_before_any_work(self, tmp_path, grey, command, how):
        (tmp_path / "y.npy").write_bytes((tmp_path / "g.npy").read_bytes())
        before = (tmp_path / "y.npy").read_bytes()
        with open(tmp_path / "y.npy", "rb") as stdin, open(tmp_path / "y.npy", "ab" if how == "append" else "r+b") as out:
            r = kernelcli(*command, "-o", "side.npy", cwd=tmp_path, stdin=stdin, stdout=out)
        assert r.returncode == 4, r.stderr
        assert r.stderr.decode().strip() == ("error: stdout: is the input read on stdin (the same file): what it prints "
                                             "would be written into it; redirect stdout to another file")
        assert (tmp_path / "y.npy").read_bytes() == before and not (tmp_path / "side.npy").exists()

    def test_with_out_dash_too(self, tmp_path, grey):
        (tmp_path / "x.npy").write_bytes((tmp_path / "g.npy").read_bytes())
        before = (tmp_path / "x.npy").read_bytes()
        with open(tmp_path / "x.npy", "rb") as stdin, open(tmp_path / "x.npy", "ab") as out:
            r = kernelcli("convolve", "-", "-k", "box:3", "-o", "-", "--format", "npy", cwd=tmp_path, stdin=stdin, stdout=out)
        assert r.returncode == 4 and b"stdout: is the input read on stdin" in r.stderr, r.stderr
        assert (tmp_path / "x.npy").read_bytes() == before

    def test_stdin_from_another_file_runs(self, tmp_path, grey):
        with open(tmp_path / "g.npy", "rb") as stdin, open(tmp_path / "listed.txt", "ab") as out:
            r = kernelcli("convolve", "-", "-k", "box:3", "-o", "side.npy", cwd=tmp_path, stdin=stdin, stdout=out)
        assert r.returncode == 0, r.stderr
        assert (tmp_path / "listed.txt").read_text() == "side.npy\n"

    def test_stdin_unread_is_no_input(self, tmp_path, grey):
        """A call that does not read stdin may have stdout on the file stdin comes from (stdin is not its input)."""
        (tmp_path / "x.txt").write_text("")
        with open(tmp_path / "x.txt", "rb") as stdin, open(tmp_path / "x.txt", "ab") as out:
            r = kernelcli("convolve", "g.npy", "-k", "box:3", "-o", "o.npy", cwd=tmp_path, stdin=stdin, stdout=out)
        assert r.returncode == 0, r.stderr


class TestAFileNamedLikeTheStandIn:
    """F2: the pipe's stand-in file was `<tmp>/stdin.<ext>`, and its bare name was shown as 'stdin': a user's own
    `-o stdin.png` was left off stdout, recorded as "output": "stdin", refused as 'stdin: already exists', and a
    kernel file stdin.npy was blamed on stdin.  The stand-in's name now carries its folder's token."""

    def test_the_output_is_listed_and_named(self, tmp_path, grey):
        r = kernelcli("convolve", "-", "-k", "box:3", "-o", "stdin.png", cwd=tmp_path, data=(tmp_path / "g.png").read_bytes())
        assert r.returncode == 0, r.stderr
        assert r.stdout == b"stdin.png\n"
        assert "-> stdin.png 20x23" in r.stderr.decode() and r.stderr.decode().startswith("stdin 20x23")

    def test_an_existing_output_is_named_in_the_refusal(self, tmp_path, grey):
        (tmp_path / "stdin.png").write_bytes(b"mine")
        r = kernelcli("convolve", "-", "-k", "box:3", "-o", "stdin.png", cwd=tmp_path, data=(tmp_path / "g.png").read_bytes())
        assert r.returncode == 4 and r.stderr.decode().strip() == "error: stdin.png: already exists; use --force to overwrite it"
        assert (tmp_path / "stdin.png").read_bytes() == b"mine"

    @pytest.mark.parametrize("command, source, out", [
        (["convolve", "-", "-k", "box:3"], "g.png", "stdin.png"),
        (["convolve", "-", "-k", "box:3"], "m.csv", "stdin.csv"),
        (["pool", "-", "-f", "2"], "g.npy", "stdin.npy"),
        (["pad", "-", "-p", "1"], "g.npy", "stdin.npy"),
        (["pool", "-", "-f", "2"], "g.npy", "stdout.npy"),
    ])
    def test_the_record_names_the_file(self, tmp_path, grey, command, source, out):
        import json

        np.savetxt(tmp_path / "m.csv", grey[:6, :7], fmt="%d", delimiter=",")
        r = kernelcli(*command, "-o", out, "--json", cwd=tmp_path, data=(tmp_path / source).read_bytes())
        assert r.returncode == 0, r.stderr
        record = json.loads(r.stdout)
        assert (record["input"], record["output"]) == ("stdin", out) and (tmp_path / out).is_file()

    def test_a_kernel_file_is_named_not_stdin(self, tmp_path, grey):
        np.save(tmp_path / "stdin.npy", np.ones((2, 2, 2, 2, 2)))
        r = kernelcli("convolve", "-", "-k", "stdin.npy", "-o", "o.npy", cwd=tmp_path, data=(tmp_path / "g.npy").read_bytes())
        assert r.returncode == 3 and r.stderr.decode().startswith("error: stdin.npy: expected a non-empty 2-D"), r.stderr

    def test_a_kernel_file_named_like_stdout_is_named(self, tmp_path, grey):
        np.save(tmp_path / "stdout.npy", np.ones((2, 2, 2, 2, 2)))
        r = kernelcli("convolve", "g.npy", "-k", "stdout.npy", "-o", "-", "--format", "npy", cwd=tmp_path)
        assert r.returncode == 3 and r.stderr.decode().startswith("error: stdout.npy: expected a non-empty 2-D"), r.stderr

    def test_piped_names_stay_stdin(self, tmp_path, grey):
        """The default output of a piped input is still stdin_<label>.<ext>, and notes still say stdin and stdout."""
        r = kernelcli("convolve", "-", "-k", "box:3", "--format", "png", cwd=tmp_path, data=(tmp_path / "g.png").read_bytes())
        assert r.returncode == 0 and r.stdout == b"stdin_box_3.png\n", r.stderr
        from PIL import Image

        Image.fromarray(np.dstack([grey, grey, grey, grey])).save(tmp_path / "rgba.png")
        r = kernelcli("convolve", "-", "-k", "box:3", "-o", "-", "--format", "npy", cwd=tmp_path,
                      data=(tmp_path / "rgba.png").read_bytes())
        assert r.returncode == 0 and "note: stdin: stdout does not hold the alpha channel" in r.stderr.decode(), r.stderr
        assert "kernelcli-pipe-" not in r.stderr.decode()

    def test_a_piped_montage_is_titled_stdin(self, tmp_path, grey):
        """The sheet's title is drawn in its pixels: 'stdin', whatever the stand-in file is called."""
        args = ["convolve", "-", "-k", "sobel_v", "-k", "sobel_h", "--montage", "m1.png", "-o", "o1.npy"]
        first = kernelcli(*args, cwd=tmp_path, data=(tmp_path / "g.png").read_bytes())
        second = kernelcli(*[a.replace("1", "2") for a in args], cwd=tmp_path, data=(tmp_path / "g.png").read_bytes())
        assert first.returncode == second.returncode == 0, (first.stderr, second.stderr)
        assert (tmp_path / "m1.png").read_bytes() == (tmp_path / "m2.png").read_bytes()


def _file_size_limit(limit: int):
    """A preexec_fn: files the process writes stop at ``limit`` bytes (EFBIG past it: Python ignores SIGXFSZ)."""
    import resource

    return lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


class TestAFullTemporaryFolderIsNotStdout:
    """F3: with -o -, a full or size-limited temporary folder was 'stdout: write failed: ... the destination is untouched'
    (stdout, a pipe with room to spare, was not what failed), and a .npy output said numpy's '262144 requested and
    2016 written' where the cause is a file-size limit or a full disk."""

    @pytest.fixture
    def big(self, tmp_path):
        from PIL import Image

        Image.fromarray(np.random.default_rng(2).integers(0, 256, (512, 512), dtype=np.uint8)).save(tmp_path / "big.png")
        np.save(tmp_path / "big.npy", np.random.default_rng(0).random((300, 300)))
        (tmp_path / "tmp").mkdir()
        return tmp_path

    def run_limited(self, big, *args):
        return subprocess.run([sys.executable, "-m", "kernelcli", *args], capture_output=True, cwd=big, timeout=120,
                              env=process_env(TMPDIR=str(big / "tmp")), preexec_fn=_file_size_limit(8192))

    @pytest.mark.parametrize("args", [
        ["convolve", "big.png", "-k", "box:3", "-o", "-", "--format", "npy"],
        ["pool", "big.png", "-f", "1", "-o", "-", "--format", "png"],
        ["convolve", "big.png", "-k", "box:3", "-o", "-", "--format", "csv"],
        ["convolve", "big.npy", "-k", "box:3", "--tiled", "--chunks", "100", "-o", "-", "--format", "npy"],
    ], ids=["npy", "png", "csv", "tiled"])
    def test_the_temporary_folder_is_named(self, big, args):
        if "--tiled" in args:
            pytest.importorskip("dask")
        r = self.run_limited(big, *args)
        assert r.returncode == 1 and r.stdout == b"", r.stderr
        assert r.stderr.decode().strip() == (f"error: stdout: cannot write the result to a temporary file in {big / 'tmp'}: "
                                             "File too large; nothing was written on stdout")
        assert list((big / "tmp").iterdir()) == []

    def test_a_npy_file_says_the_cause(self, big):
        r = self.run_limited(big, "convolve", "big.png", "-k", "box:3", "-o", "o.npy")
        assert r.returncode == 1, r.stderr
        assert r.stderr.decode().strip() == "error: o.npy: write failed: File too large; the destination is untouched"
        assert not (big / "o.npy").exists() and not [p for p in big.iterdir() if p.name.endswith(".part")]

    def test_a_npy_file_is_written_as_numpy_saves_it(self, tmp_path):
        """Written through f.write now (not tofile): the same bytes as numpy.save, C and Fortran order."""
        from kernelcli.io.arrays import write_npy

        for i, arr in enumerate([np.arange(12.0).reshape(3, 4), np.asfortranarray(np.arange(12).reshape(3, 4)),
                                 np.zeros((0, 3), np.uint16)]):
            write_npy(tmp_path / f"k{i}.npy", arr)
            np.save(tmp_path / f"r{i}.npy", arr, allow_pickle=False)
            assert (tmp_path / f"k{i}.npy").read_bytes() == (tmp_path / f"r{i}.npy").read_bytes()


class TestAPoolingStepTakesANumberInAnyForm:
    """F5: 'maxpool:+2' and 'maxpool:2.0' were refused ('a pooling step is maxpool:F ...', repeating the form the user
    wrote) where box:+3, box:3.0 and pool -f +2 are taken, and the README says a chain step's number is typed in any form."""

    @pytest.mark.parametrize("step, same", [("maxpool:+2", "maxpool:2"), ("maxpool:2.0", "maxpool:2"),
                                            ("avgpool:2e0", "avgpool:2"), ("minpool:3:+1.0", "minpool:3:1"),
                                            ("MaxPool:2.", "maxpool:2")])
    @pytest.mark.parametrize("where", ["--then", "--kernel"])
    def test_the_same_step(self, invoke, grey, step, same, where):
        # in this process (how a step is read is the test, not the process: 20 fresh interpreters cost 15-25 s)
        def run(text):
            args = ["-k", "box:1", "--then", text] if where == "--then" else ["-k", text]
            return invoke("convolve", "g.npy", *args, "-o", "-", "--format", "npy")

        got, expected = run(step), run(same)
        assert got.exit_code == 0 and expected.exit_code == 0, got.stderr
        assert got.stdout_bytes == expected.stdout_bytes and got.stdout_bytes.startswith(b"\x93NUMPY")
        import re

        def timeless(r):
            return re.sub(r", [0-9.]+ ms$", "", r.stderr.strip())

        assert timeless(got) == timeless(expected)  # the step's label too: maxpool2, minpool3s1

    @pytest.mark.parametrize("step", ["maxpool:2.5", "maxpool:0", "maxpool:-2", "avgpool:2:0.5", "maxpool:0.0"])
    def test_a_number_that_is_not_a_size_says_so(self, invoke, grey, step):
        r = invoke("convolve", "g.npy", "-k", "box:1", "--then", step, "-o", "-", "--format", "npy")
        assert r.exit_code == 3 and r.stdout_bytes == b""  # (an invalid kernel, as -k's: audit 204 #3)
        assert r.stderr.strip() == (f"error: invalid --then '{step}': the size and stride of a pooling "
                                             "step are whole numbers >= 1, e.g. maxpool:2 or avgpool:3:2")

    def test_the_parser(self):
        from kernelcli.chain import parse_step

        assert (parse_step("maxpool:+2").size, parse_step("avgpool:3.0:2e0").stride) == (2, 2)


class TestAVolumeToStdoutIsToldItsFormats:
    """F6: '-o -' without --format on a volume suggested 'bmp|csv|jpg|npy|png|tif', and four of them are refused
    for a volume ('stdout: unsupported output type '.tif' for a volume'): the hint names npy and png."""

    @pytest.fixture
    def volume(self, tmp_path):
        nibabel = pytest.importorskip("nibabel")
        data = np.random.default_rng(0).random((6, 7, 5)).astype(np.float32)
        nibabel.save(nibabel.Nifti1Image(data, np.diag([1.0, 1.0, 2.0, 1.0])), tmp_path / "v.nii.gz")
        return tmp_path

    @pytest.mark.parametrize("command", [["convolve", "v.nii.gz", "-k", "gaussian:1vox"], ["pool", "v.nii.gz", "-f", "2"]])
    def test_the_hint_names_what_a_volume_writes(self, volume, command):
        r = kernelcli(*command, "-o", "-", cwd=volume)
        assert r.returncode == 2 and r.stdout == b""
        assert r.stderr.decode().strip() == ("error: --out - writes to stdout, which has no file name to tell the format: "
                                             "add --format npy|png (what a volume writes through a pipe: its voxels, or a "
                                             "slice's picture)")
        for fmt in ("npy", "png"):  # and following it works
            done = kernelcli(*command, "-o", "-", "--format", fmt, cwd=volume)
            assert done.returncode == 0 and done.stdout, done.stderr

    def test_an_image_keeps_every_format(self, tmp_path, grey):
        r = kernelcli("convolve", "g.png", "-k", "box:3", "-o", "-", cwd=tmp_path)
        assert r.returncode == 2 and r.stderr.decode().strip().endswith("add --format bmp|csv|jpg|npy|png|tif")
