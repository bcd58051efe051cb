"""Audit 102 (pipes, stdin/stdout and chains): what its findings asked for, checked."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import SAMPLES


def process_env(**extra: str) -> dict:
    """The environment of a ``python -m kernelcli`` process: this checkout first on PYTHONPATH, no worker."""
    import kernelcli

    env = dict(os.environ, KERNELCLI_WORKER="off", **extra)
    here = str(Path(kernelcli.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [here, env.get("PYTHONPATH")]))
    return env


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
