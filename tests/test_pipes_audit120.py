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


# F3: '-' where a file option takes no pipe, and stdout's device file as --out, refused in the pipes' one wording

@pytest.mark.parametrize("args, said", [
    (["--weights", "-"], "--weights '-': the weights are a .npy file (numpy.save), not stdin; give a path (only the input reads '-', stdin)"),
    (["-k", "box:3", "--bias-file", "-"], "--bias-file '-': the biases are a .npy file (numpy.save), not stdin; give a path"),
    (["-k", "box:3", "--mask", "-"], "--mask '-': the mask is a volume file, not stdin; give a path"),
])
def test_a_dash_for_a_file_option_says_stdin_is_not_taken_there(invoke, grey, args, said):
    np.save(grey / "w.npy", np.ones((2, 1, 3, 3)))
    r = invoke("convolve", "g.png", *args, "-o", "o.npy")
    assert r.exit_code == 2 and said in r.stderr, r.output
    assert not (grey / "o.npy").exists()


def test_stdouts_device_file_as_out_points_to_out_dash(invoke, grey):
    r = invoke("convolve", "g.png", "-k", "box:3", "-o", "/dev/stdout", "--format", "npy")
    assert r.exit_code == 2 and r.stdout == "", r.output
    assert ("--out '/dev/stdout': stdout is written as --out -, not through its device file; "
            "give --out - --format bmp|csv|jpg|npy|png|tif") in r.stderr, r.stderr
    r = invoke("gallery", "g.png", "-o", "/dev/stdout")
    assert r.exit_code == 2 and "give --out - (a PNG)" in r.stderr, r.output


def test_the_report_and_learn_refusals_come_from_the_same_words(invoke, grey):
    from kernelcli.io.pipes import pipe_refused

    r = invoke("convolve", "g.png", "-k", "box:3", "--report", "-", "-o", "o.npy")
    assert r.exit_code == 2 and pipe_refused("--report", "-", "the report is a file", stream="stdout",
                                             fix="give a path (--json prints its records on stdout)") in r.stderr, r.output
    r = invoke("learn", "-", "g.png", "-f", "3")
    assert r.exit_code == 2 and "input '-': learn reads and writes files, not stdin or stdout; give a path" in r.stderr, r.output
