"""Audit 120 (pipes, stdin/stdout and chains): what its findings asked for, checked."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest


def process_env(**extra: str) -> dict:
    """The environment of a ``python -m kernelcli`` process: this checkout first on PYTHONPATH, no worker."""
    import kernelcli

    env = dict(os.environ, KERNELCLI_WORKER="off", **extra)
    here = str(Path(kernelcli.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [here, env.get("PYTHONPATH")]))
    return env


def kernelcli(*args: str, cwd: Path, data: bytes | None = b"", stdin=None) -> subprocess.CompletedProcess:
    """``python -m kernelcli ARGS`` in a process of its own, ``data`` on stdin (stdout as bytes, stderr as text)."""
    r = subprocess.run([sys.executable, "-m", "kernelcli", *args], input=data if stdin is None else None, stdin=stdin,
                       capture_output=True, cwd=cwd, env=process_env(), timeout=120)
    r.stderr = r.stderr.decode()
    return r


@pytest.fixture
def grey(tmp_path):
    """g.png (20x23 grey) and rgb.png (20x23x3) in ``tmp_path``."""
    from PIL import Image

    rng = np.random.default_rng(1)
    Image.fromarray(rng.integers(0, 256, (20, 23), dtype=np.uint8)).save(tmp_path / "g.png")
    Image.fromarray(rng.integers(0, 256, (20, 23, 3), dtype=np.uint8)).save(tmp_path / "rgb.png")
    return tmp_path


# F2: only the bare '-' is stdin or stdout; './-' is the file named '-'

def test_a_dot_slash_dash_input_is_the_file_not_stdin(grey):
    (grey / "-").write_bytes((grey / "g.png").read_bytes())
    r = kernelcli("convolve", "./-", "-k", "box:3", "-o", "fromdash.png", cwd=grey, data=(grey / "rgb.png").read_bytes())
    assert r.returncode == 2, r.stderr
    assert f"{grey / '-'}: unsupported file type '(no extension)'" in r.stderr, r.stderr
    assert not (grey / "fromdash.png").exists()  # it read rgb.png from stdin and wrote it


def test_a_dot_slash_dash_input_is_never_stdin_for_pad_pool_and_gallery(grey):
    # (in a process: the call's own parser, which the in-process test runner's typer does not use)
    for args in (["pad", "./-", "-p", "1"], ["pool", "./-", "-f", "2"], ["gallery", "./-"]):
        r = kernelcli(*args, "-o", "x.png", cwd=grey, data=(grey / "g.png").read_bytes())
        assert r.returncode == 2 and "stdin" not in r.stderr and f"{grey / '-'}: no such file" in r.stderr, (args, r.stderr)
        assert not (grey / "x.png").exists()


def test_a_dot_slash_dash_output_is_the_file_not_stdout(grey):
    r = kernelcli("convolve", "g.png", "-k", "box:3", "-o", "./-", "--format", "png", "--force", cwd=grey)
    assert r.returncode == 2 and r.stdout == b"", r.stderr
    assert f"{grey / '-'}: unsupported output type '(no extension)'" in r.stderr, r.stderr
    r = kernelcli("convolve", "g.png", "-k", "box:3", "-o", "-", "--format", "png", cwd=grey)  # the bare '-': stdout
    assert r.returncode == 0 and r.stdout.startswith(b"\x89PNG"), r.stderr
