"""Audit 154: what ``-o -`` is refused for that the options alone tell, told before stdin is read (F2, F5), and the
advice about stdout in ``--format`` words (U1, U2).

Each call runs in its own process with a real pipe on stdin: ``open`` is a pipe never written nor closed until the
call has exited (or the timeout has killed it: a refusal that waits for the stream fails the test, it does not hang
it), ``empty`` is ``/dev/null``; ``terminal`` puts stdout on a pseudo-terminal.
"""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from conftest import documentation

#: seconds a refusal made before stdin is read may take (a fresh interpreter importing numpy on a busy machine)
PROMPT = 60


def _run(folder, stdin: str, *args: str, terminal: bool = False) -> tuple[int | None, str, bytes]:
    """(exit code, stderr, stdout) of ``kernelcli ARGS`` in ``folder``; the code is None where the call still waited
    after :data:`PROMPT` seconds (it is killed then)."""
    env = {**os.environ, "KERNELCLI_WORKER": "off", "NO_COLOR": "1"}
    leader = follower = None
    if terminal:
        leader, follower = os.openpty()
    source = subprocess.PIPE if stdin == "open" else subprocess.DEVNULL
    proc = subprocess.Popen([sys.executable, "-m", "kernelcli", *args], cwd=folder, env=env, stdin=source,
                            stdout=follower if terminal else subprocess.PIPE, stderr=subprocess.PIPE)
    if follower is not None:
        os.close(follower)
    try:
        code = proc.wait(timeout=PROMPT)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        code = None
    finally:
        if proc.stdin is not None:
            proc.stdin.close()  # (only now: the stream stayed open while the call ran)
        if leader is not None:
            os.close(leader)
    out = proc.stdout.read() if proc.stdout is not None else b""
    err = proc.stderr.read().decode("utf-8", "replace").strip()
    proc.stderr.close()
    if proc.stdout is not None:
        proc.stdout.close()
    return code, err, out


@pytest.fixture
def files(tmp_path):
    rng = np.random.default_rng(154)
    Image.fromarray(rng.integers(0, 256, (8, 9), dtype=np.uint8)).save(tmp_path / "g.png")
    np.save(tmp_path / "w2.npy", rng.standard_normal((2, 1, 3, 3)))
    return tmp_path


BANK = ("-k", "sobel_v", "-k", "sobel_h")
WEIGHTS = ("--weights", "w2.npy")


class TestBankFormatBeforeStdin:
    """F2: a filter bank's ``-o - --format png|csv|jpg|bmp`` was refused only once stdin was read whole: an open
    stream made the call wait, an empty one was told "stdin is empty"; ``-o maps.png`` is refused at once."""

    @pytest.mark.parametrize("stdin", ["open", "empty"])
    @pytest.mark.parametrize("layer, fmt", [(BANK, "png"), (BANK, "jpg"), (WEIGHTS, "csv"), (WEIGHTS, "bmp")])
    def test_refused_before_stdin_is_read(self, files, stdin, layer, fmt):
        code, err, out = _run(files, stdin, "convolve", "-", *layer, "-o", "-", "--format", fmt)
        assert code == 2 and err.count("\n") == 0 and out == b"", (code, err)
        assert err.startswith("error: stdout: several feature maps need"), err

    def test_the_same_words_as_a_file_input(self, files):
        _, from_file, _ = _run(files, "empty", "convolve", "g.png", *BANK, "-o", "-", "--format", "png")
        _, from_stdin, _ = _run(files, "empty", "convolve", "-", *BANK, "-o", "-", "--format", "png")
        assert from_stdin == from_file and from_file.startswith("error: stdout: several feature maps"), (from_file, from_stdin)

    @pytest.mark.parametrize("fmt", ["npy", "tif", "tiff"])
    def test_a_format_the_maps_take_still_reads_stdin(self, files, fmt):
        code, err, _ = _run(files, "empty", "convolve", "-", *BANK, "-o", "-", "--format", fmt)
        assert code == 2 and err == "error: input '-': stdin is empty", err

    def test_a_kernel_typo_is_still_told_first(self, files):
        code, err, _ = _run(files, "open", "convolve", "-", "-k", "sobel_v", "-k", "nosuch", "-o", "-", "--format", "png")
        assert code == 3 and "unknown kernel 'nosuch'" in err, (code, err)


TERMINAL = "which is a terminal: redirect it to a file"


class TestTerminalBeforeStdin:
    """F5: with stdout on a terminal, ``-o - --format npy`` (and ``gallery - -o -``, a PNG) was refused only once stdin
    was copied whole: an open stream made the call wait, an empty one was told "stdin is empty"; ``-o /dev/stdout`` is
    refused at once."""

    @pytest.mark.parametrize("stdin", ["open", "empty"])
    @pytest.mark.parametrize("args, fmt", [
        (("convolve", "-", "-k", "box:3", "-o", "-", "--format", "npy"), "NPY"),
        (("pad", "-", "-p", "1", "-o", "-", "--format", "png"), "PNG"),
        (("pool", "-", "-f", "2", "-o", "-", "--format", "tif"), "TIF"),
        (("gallery", "-", "-o", "-"), "PNG"),
    ], ids=["convolve", "pad", "pool", "gallery"])
    def test_refused_before_stdin_is_read(self, files, stdin, args, fmt):
        code, err, _ = _run(files, stdin, *args, terminal=True)
        assert code == 2 and err.count("\n") == 0, (code, err)
        assert err.startswith(f"error: --out - writes {fmt} bytes to stdout, {TERMINAL}"), err

    def test_a_csv_goes_on(self, files):
        code, err, _ = _run(files, "empty", "convolve", "-", "-k", "box:3", "-o", "-", "--format", "csv", terminal=True)
        assert code == 2 and err == "error: input '-': stdin is empty", err

    def test_a_bare_stdout_still_needs_stdins_format(self, files):
        code, err, _ = _run(files, "empty", "convolve", "-", "-k", "box:3", "-o", "-", terminal=True)
        assert code == 2 and err == "error: input '-': stdin is empty", err

    def test_a_pipe_on_stdout_still_reads_stdin(self, files):
        code, err, _ = _run(files, "empty", "convolve", "-", "-k", "box:3", "-o", "-", "--format", "npy")
        assert code == 2 and err == "error: input '-': stdin is empty", err


class TestStdoutAdviceInFormatWords:
    """U1: advice about stdout named file extensions ("write .tif or .npy"), which stdout has none of; the alpha note
    already said "give --format png|tif".  Each says the ``--format`` to give now; a file is still told extensions."""

    @pytest.fixture
    def more(self, files):
        np.savetxt(files / "m.csv", np.arange(42).reshape(6, 7) % 10, fmt="%d", delimiter=",")
        np.save(files / "z3.npy", np.arange(3 * 9 * 8, dtype=np.uint8).reshape(3, 9, 8))
        return files

    @pytest.mark.parametrize("args, stdout_says, file_says", [
        (("convolve", "m.csv", "-k", "box:3", "--format", "png"), "give --format tif|npy to keep them",
         "write .tif or .npy to keep them"),
        (("pad", "m.csv", "-p", "1", "--format", "tif"), "give --format npy to keep every digit",
         "write .npy to keep every digit"),
        (("convolve", "z3.npy", "--layout", "zyx", "-k", "box:3", "--format", "tif"),
         "give --format npy to keep the volume (Z, Y, X)", "write .npy to keep the volume (Z, Y, X)"),
        (("convolve", "g.png", *BANK, "--format", "png"), "give --format npy|tif; --montage FILE.png",
         "need .npy (H', W', maps) or .tif (one float32 page per map); --montage FILE.png"),
    ], ids=["values", "float32-tiff", "one-plane", "bank"])
    def test_stdout_is_told_the_format_to_give(self, more, args, stdout_says, file_says):
        *call, _, fmt = args
        _, piped, _ = _run(more, "empty", *call, "-o", "-", "--format", fmt)
        assert stdout_says in piped and "write ." not in piped, piped
        _, written, _ = _run(more, "empty", *call, "-o", f"o.{fmt}")
        assert file_says in written, written

    def test_stdin_to_stdout_too(self, more):
        code, err, out = _run(more, "empty", "convolve", "-", *BANK, "-o", "-", "--format", "png")
        assert code == 2 and "give --format npy|tif" in err and out == b"", err


class TestOneSliceZyxThroughAPipe:
    """U2: a ``--layout zyx`` array was said to write only npy through a pipe (the ``-o /dev/stdout`` hint, the README),
    though a result of one slice is written as its plane in any of the six formats.  The slices are known only once
    computed, so the hint names npy and says what one slice takes too."""

    @pytest.fixture
    def volumes(self, files):
        rng = np.random.default_rng(2)
        np.save(files / "z1.npy", rng.standard_normal((1, 9, 8)).astype(np.float32))
        np.save(files / "z3.npy", rng.integers(0, 200, (3, 9, 8)).astype(np.uint8))
        return files

    def test_the_hint_says_what_one_slice_takes(self, volumes):
        code, err, _ = _run(volumes, "empty", "convolve", "z1.npy", "--layout", "zyx", "-k", "box:3", "-o", "/dev/stdout")
        assert code == 2 and err.endswith("give --out - --format npy (what a --layout zyx array writes through a pipe: "
                                          "its volume, (Z, Y, X); a result of one slice also bmp|csv|jpg|png|tif, as "
                                          "its plane)"), err

    @pytest.mark.parametrize("fmt", ["bmp", "csv", "jpg", "png", "tif"])
    def test_what_the_hint_says_holds(self, volumes, fmt):
        code, err, piped = _run(volumes, "empty", "pool", "z3.npy", "--layout", "zyx", "-f", "3", "-o", "-", "--format",
                                fmt, "-q")
        assert code == 0, err
        code, err, _ = _run(volumes, "empty", "pool", "z3.npy", "--layout", "zyx", "-f", "3", "-o", f"o.{fmt}", "-q")
        assert code == 0 and piped == (volumes / f"o.{fmt}").read_bytes(), err
        code, err, _ = _run(volumes, "empty", "convolve", "z3.npy", "--layout", "zyx", "-k", "box:3", "-o", "-",
                            "--format", fmt)
        assert code == 2 and "volume of 3 slices" in err, err

    def test_the_readme_says_so(self):

        readme = " ".join(documentation().split())
        assert "for a `--layout zyx` array: `npy`, and where the result is one slice any of the six, its plane" in readme
