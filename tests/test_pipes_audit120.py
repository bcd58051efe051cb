"""Audit 120 (pipes, stdin/stdout and chains): what its findings asked for, checked."""

from __future__ import annotations


import numpy as np
import pytest

from conftest import empty_stdin_answers_as_an_empty_file, refused_while_stdin_open
from conftest import run_piped as kernelcli


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
            "give --out - --format npy") in r.stderr, r.stderr  # (the format given, which a pipe takes: 1f11487)
    r = invoke("convolve", "g.png", "-k", "box:3", "-o", "/dev/stdout")
    assert r.exit_code == 2 and "give --out - --format bmp|csv|jpg|npy|png|tif" in r.stderr, r.stderr
    r = invoke("gallery", "g.png", "-o", "/dev/stdout")
    assert r.exit_code == 2 and "give --out - (a PNG)" in r.stderr, r.output


def test_the_report_and_learn_refusals_come_from_the_same_words(invoke, grey):
    from kernelcli.io.output_checks import pipe_refused

    r = invoke("convolve", "g.png", "-k", "box:3", "--report", "-", "-o", "o.npy")
    assert r.exit_code == 2 and pipe_refused("--report", "-", "the report is a file", stream="stdout",
                                             fix="give a path (--json prints its records on stdout)") in r.stderr, r.output
    r = invoke("learn", "-", "g.png", "-f", "3")
    assert r.exit_code == 2 and "input '-': learn reads and writes files, not stdin or stdout; give a path" in r.stderr, r.output


# F1: with '-' as the input, the checks that need no pixel come before stdin is read, as for a file

F1_CALLS = [
    (["convolve", "-k", "nosuch", "-o", "j.npy"], 3),
    (["convolve", "-k", "box:3", "--then", "maxpool:x", "-o", "j.npy"], 3),
    (["convolve", "-k", "box:3", "-k", "nosuch", "--bias", "1,2", "-o", "j.npy"], 3),
    (["convolve", "--weights", "nosuch.npy", "-o", "j.npy"], 3),
    (["convolve", "-k", "box:3", "--axis", "z", "-o", "j.npy"], 2),
    (["convolve", "-k", "box:3", "-o", "exists.npy"], 4),
    (["convolve", "-k", "box:3", "--then", "maxpool:2", "-o", "exists.npy"], 4),
    (["convolve", "-k", "box:3", "-o", "g.png"], 4),
    (["pool", "-f", "2", "-o", "exists.npy"], 4),
    (["pool", "-f", "2", "--window", "lung", "-o", "j.npy"], 2),
    (["pad", "-p", "1", "-o", "exists.npy"], 4),
    (["pad", "-p", "same", "-o", "j.npy"], 2),
    (["gallery", "-o", "exists.npy"], 2),
    (["gallery", "-o", "g.png"], 4),
]


@pytest.mark.parametrize("args, code", F1_CALLS)
def test_an_empty_stdin_fails_as_an_empty_file_does(invoke, grey, args, code):
    (grey / "empty.png").write_bytes(b"")
    (grey / "exists.npy").write_bytes(b"")
    empty_stdin_answers_as_an_empty_file(invoke, args, code)
    assert not (grey / "j.npy").exists() and (grey / "exists.npy").read_bytes() == b""


def test_an_existing_output_is_recorded_as_for_a_file(invoke, grey):
    (grey / "exists.npy").write_bytes(b"")
    r = invoke("convolve", "-", "-k", "box:3", "-o", "exists.npy", "--report", "r.json", "--json")
    assert r.exit_code == 4, r.output
    import json

    record = json.loads(r.stdout)
    assert record["input"] == "stdin" and record["code"] == 4, record
    assert record["error"] == "exists.npy: already exists; use --force to overwrite it", record  # (the line on stderr)
    assert json.loads((grey / "r.json").read_text())["items"][0]["error"] == record["error"]


def test_a_kernel_typo_is_refused_while_the_stream_still_flows(grey):
    """The producer has not finished (its stdin is open): the typo is refused now, not once the stream ends."""
    code, said = refused_while_stdin_open(["convolve", "-", "-k", "nosuch", "-o", "k.png"], grey, (grey / "g.png").read_bytes())
    assert code == 3 and "unknown kernel 'nosuch'" in said, said
    assert not (grey / "k.png").exists()


def test_a_good_call_still_reads_stdin_after_its_checks(invoke, grey):
    data = (grey / "g.png").read_bytes()
    for args in (["convolve", "-", "-k", "box:3", "--then", "maxpool:2"], ["pool", "-", "-f", "2"], ["pad", "-", "-p", "1"]):
        on_file = invoke(args[0], "g.png", *args[2:], "-o", "f.npy")
        from conftest import CliRunner
        from kernelcli.cli import app

        on_stdin = CliRunner().invoke(app, [*args, "-o", "s.npy"], input=data, prog_name="kernelcli")
        assert on_file.exit_code == 0 and on_stdin.exit_code == 0, (on_file.output, on_stdin.output)
        assert np.array_equal(np.load(grey / "f.npy"), np.load(grey / "s.npy"))
        (grey / "f.npy").unlink(), (grey / "s.npy").unlink()
