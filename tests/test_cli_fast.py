"""A plain call parsed without typer (kernelcli.cli._fast) is the call typer would make.

For many command lines, the keyword arguments :func:`kernelcli.cli._fast.parse` gives the
command function equal those typer's parser gives it (the command ``build_command`` builds,
with typer's own normalisation of list options); what the plain parser is not sure of, it
leaves to typer (None).  End to end, ``python -m kernelcli`` and the typer path print the
same and exit with the same code, and a plain ``convolve`` of a PNG imports no typer.
"""

from __future__ import annotations

import functools
import importlib
import random
import re
import subprocess
import sys

import pytest

from kernelcli.cli import build_command
from kernelcli.cli._fast import PLAIN_COMMANDS, parse

from conftest import REPO, SAMPLES, run_cli


def typer_kwargs(command: str, args: list[str]) -> dict:
    """The keyword arguments typer calls ``command``'s function with for ``args``: the same
    signature, built by typer with the lean converters of every call, run on a recorder."""
    click_command, captured = _recorder(command)
    captured.clear()
    click_command.main(args=list(args), prog_name=command, standalone_mode=False)
    return dict(captured)


@functools.lru_cache(maxsize=None)
def _recorder(command: str):
    import typer.main

    from kernelcli.cli._lean import lean_command
    from kernelcli.cli._typed import typed

    module, name = PLAIN_COMMANDS[command]
    func = getattr(importlib.import_module(f"kernelcli.cli.{module}"), name)
    captured: dict = {}

    @functools.wraps(func)
    def record(**kwargs):
        captured.update(kwargs)

    app = typer.Typer()
    app.command(command)(typed(record))
    return lean_command(typer.main.get_command(app)), captured


ACCEPTED = [
    ["in.png", "-k", "sobel_v"],
    ["in.png"],
    ["in.png", "-k", "sobel_v", "-k", "sobel_h", "--then", "maxpool:2", "--stride", "2", "-p", "valid", "--pad-mode", "edge",
     "--pad-value=3.5", "--dilation", "2", "--flip", "-o", "out.png", "--force", "-q", "--json"],
    ["-", "-k", "sobel_v", "-o", "-", "--format", "png"],
    ["a.png", "b.png", "-d", "outdir", "--suffix", "x", "-r", "-j", "2", "--report", "r.json", "--quality", "80",
     "--compress", "best"],
    ["in.png", "-ksobel_v", "-oout.png", "--s", "3", "--p", "1,2,3,4", "--mode", "wrap", "--value", "-2"],
    ["in.png", "-k", "x", "--bias", "-10", "--activation", "relu", "--combine", "sum", "--rescale", "abs", "--layout", "chw",
     "--max-pixels", "100", "--kernel-scale", "!"],
    ["ct.nii.gz", "-k", "gaussian:1mm", "--axis", "y", "--window", "lung", "--keep-dtype", "--truncate", "4", "--mask", "m.nii",
     "--volume", "1", "--series", "2", "--resample-slices", "--tiled", "--chunks", "64", "--scheduler", "local",
     "--weights", "w.npy", "--bias-file", "b.npy", "--montage", "m.png", "--pad-mode", "renormalise"],
    ["in.png", "-k", "a", "--stride", "2", "--stride", "3", "--format", "jpg", "--format", "npy"],
    ["in.png", "--kernel=-1", "--out=-", "--format=tif", "--compress=none", "--quality=1"],
]

OTHERS = [
    ("pad", ["in.png", "-p", "2", "-m", "reflect", "-o", "o.png", "--force", "-q"]),
    ("pad", ["m.csv", "--padding", "1,2,3,4", "--value", "5", "--layout", "hwc", "--json"]),
    ("pad", ["a.png", "b.png", "-p", "same", "-d", "outs", "--format", "npy", "-j", "2", "-r", "--compress=best", "--quality", "70"]),
    ("pool", ["in.png", "-f", "2", "--op", "avg", "-s", "1", "--ceil", "--exclude-pad", "--rescale", "minmax", "-o", "-", "--format", "png"]),
    ("pool", ["ct.nii.gz", "--size", "3", "--window", "lung", "--volume", "0", "--series", "1", "--resample-slices", "--tiled"]),
    ("shape", ["--in", "224x224", "--f", "3", "--same", "-q"]),
    ("shape", ["-i", "32", "-f", "2", "--pool", "--ceil", "--s", "2", "--p", "1", "--dilation", "2", "--filters", "8", "--json"]),
    ("shape", ["--input=3x64x64", "--size=5", "--layout", "chw", "--valid"]),
    ("params", ["--in-ch", "228", "--filters", "32"]),
    ("params", ["--dense", "32768", "10", "-q"]),
    ("params", ["--dense", "5", "7", "--no-bias", "--dense", "2", "3", "--json"]),  # Click keeps the last pair
    ("params", ["--flatten=64x64x8", "--layout", "chw"]),
    ("params", ["--in-ch", "3", "--filters", "2", "-f", "2x3", "--groups", "1", "--no-bias"]),
]


@pytest.mark.parametrize("command, args", OTHERS, ids=range(len(OTHERS)))
def test_the_other_plain_commands_parse_as_typer_does(command, args):
    assert parse(command, args) == typer_kwargs(command, args)


@pytest.mark.parametrize("command, args", [("shape", []), ("shape", ["x"]), ("pad", ["in.png", "-o", "x.png"]), ("pool", ["in.png", "--op", "median"]), ("params", ["--in", "3"]),
    ("params", ["--dense", "5", "--json"]), ("params", ["--json", "--dense", "5"]), ("params", ["--dense=5", "7"]),
    ("params", ["--dense", "5", "x"]), ("params", ["--in-ch", "0", "--filters", "2"])])
def test_the_other_plain_commands_leave_to_typer(command, args):
    assert parse(command, args) is None


DECLINED = [
    [], ["-k", "sobel_v"], ["in.png", "-h"], ["in.png", "--help"], ["in.png", "--nope"], ["in.png", "--", "x"], ["in.png", "-k"],
    ["in.png", "--stride", "x"], ["in.png", "--stride", "0"], ["in.png", "--pad-mode", "edgy"], ["in.png", "--quality", "0"],
    ["in.png", "--force=1"], ["in.png", "-k=sobel_v"], ["in.png", "-qk", "x"], ["in.png", "-qf"], ["in.png", "--format", "gif"],
    ["in.png", "--kern", "x"], ["in.png", "-5"],
]


@pytest.mark.parametrize("args", ACCEPTED, ids=range(len(ACCEPTED)))
def test_the_plain_parser_gives_what_typer_gives(args):
    assert parse("convolve", args) == typer_kwargs("convolve", args)


@pytest.mark.parametrize("args", DECLINED, ids=range(len(DECLINED)))
def test_what_the_plain_parser_is_not_sure_of_is_left_to_typer(args):
    assert parse("convolve", args) is None


#: (option spellings, values) for random command lines
POOL = [
    (["-k", "--kernel"], ["sobel_v", "gaussian:2", "-1", "-"]), (["--then"], ["maxpool:2", "box:3"]),
    (["-s", "--stride", "--s"], ["1", "3"]), (["-p", "--padding", "--p"], ["same", "2", "1,0,1,0"]),
    (["-m", "--pad-mode", "--mode"], ["reflect", "edge", "wrap", "Zero"]), (["--pad-value", "--value"], ["0", "-1.5", "1e3"]),
    (["--flip"], None), (["-q", "--quiet"], None), (["--json"], None), (["--force"], None), (["-r", "--recursive"], None),
    (["-o", "--out"], ["o.png", "-", "x/y.npy"]), (["-d", "--out-dir"], ["outs"]), (["--format"], ["png", "npy", "csv"]),
    (["--rescale"], ["clip", "abs", "minmax", "none"]), (["--quality"], ["1", "95", "100"]), (["--compress"], ["fast", "best"]),
    (["-j", "--workers"], ["1", "4"]), (["--layout"], ["hwc", "chw", "zyx"]), (["--bias"], ["0.5", "-1,2"]),
]


def test_random_command_lines_parse_alike():
    rng = random.Random(17)
    declined = 0
    for _ in range(300):
        args: list[str] = [rng.choice(["in.png", "-", "a b.png"])]
        for _ in range(rng.randint(0, 8)):
            names, values = rng.choice(POOL)
            name = rng.choice(names)
            if values is None:
                args.append(name)
            elif name.startswith("--") and rng.random() < 0.3:
                args.append(f"{name}={rng.choice(values)}")
            elif not name.startswith("--") and rng.random() < 0.3:
                args.append(name + rng.choice(values))
            else:
                args += [name, rng.choice(values)]
        if rng.random() < 0.3:
            args.insert(rng.randrange(len(args) + 1), "second.png")
        got = parse("convolve", args)
        if got is None:  # only where typer refuses the line too (a value out of place, say)
            from kernelcli.cli._click import click

            with pytest.raises(click.exceptions.ClickException):
                typer_kwargs("convolve", args)
            declined += 1
        else:
            assert got == typer_kwargs("convolve", args), args
    assert declined < 60


def _typer_run(args: list[str], cwd) -> subprocess.CompletedProcess:
    """``kernelcli ARGS`` through typer (kernelcli.cli.run), in a fresh process."""
    code = f"import sys\nsys.path.insert(0, {str(REPO)!r})\nfrom kernelcli.cli import run\nsys.exit(run({args!r}))"
    return subprocess.run([sys.executable, "-P", "-c", code], capture_output=True, text=True, cwd=cwd)


@pytest.mark.parametrize("extra", [
    ["-o", "out.png", "-q"],  # written, nothing printed
    ["-o", "out.png"],  # the note, the path and the summary
    ["-o", "exists.png"],  # exit 4: exists
    ["-k", "no_such", "-o", "x.png"],  # exit 3 with suggestions
    ["--quality", "0", "-o", "x.jpg"],  # typer's own usage error, exit 2
    ["-o", "out.npy", "--json", "-q"],
])
def test_a_plain_call_prints_and_exits_as_through_typer(extra, tmp_path):
    _same_both_ways(["convolve", str(SAMPLES / "phantom.png"), "-k", "sobel_v", *extra], tmp_path)


@pytest.mark.parametrize("args", [
    ["shape", "--in", "224x224", "--f", "3", "--same"],
    ["shape", "--in", "224", "--f", "3", "-q", "--json"],
    ["shape", "--in", "224", "--f", "0"],
    ["pool", str(SAMPLES / "phantom.png"), "-f", "2", "-o", "p.png"],
    ["pad", str(SAMPLES / "example1.csv"), "-p", "1", "-m", "reflect"],
    ["pad", str(SAMPLES / "phantom.png"), "-o", "x.png"],
    ["params", "--in-ch", "228", "--filters", "32"],
    ["params", "--dense", "32768", "10", "--json"],
    ["params", "--dense", "0", "3"],  # the option's min=1, checked for each of the pair's two words
    ["params", "--dense", "5", "--json"],  # typer's: '--json' is not a valid integer
    ["params", "--flatten", "64x64x8", "--no-bias"],
])
def test_the_other_plain_commands_print_and_exit_as_through_typer(args, tmp_path):
    _same_both_ways(args, tmp_path)


def _same_both_ways(args: list[str], tmp_path) -> None:
    (tmp_path / "exists.png").write_bytes(b"")
    plain = run_cli(*args, cwd=tmp_path)
    produced = sorted(p.name for p in tmp_path.iterdir())
    for p in tmp_path.iterdir():
        if p.name != "exists.png":
            p.unlink()
    typed = _typer_run(args, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == produced

    def same(text: str) -> str:
        return re.sub(r"\d+\.\d+ ms|\"seconds\": [0-9.e-]+", "T", text)

    assert (plain.returncode, same(plain.stdout), same(plain.stderr)) == (typed.returncode, same(typed.stdout), same(typed.stderr))


def test_a_plain_convolve_of_a_png_imports_no_typer(tmp_path):
    probe = (
        "import sys\nfrom kernelcli.cli import main\n"
        f"sys.argv = ['kernelcli', 'convolve', {str(SAMPLES / 'phantom.png')!r}, '-k', 'sobel_v', '-o', {str(tmp_path / 'o.png')!r}]\n"
        "try:\n    main()\nexcept SystemExit as exc:\n    code = exc.code\n"
        "print(code, sorted(m for m in sys.modules if m.split('.')[0] in ('typer', 'click', 'rich', 'pydantic', 'numba')))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=REPO, stdin=subprocess.DEVNULL,
                          env={**__import__("os").environ, "KERNELCLI_WORKER": "off"})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "0 []", done.stdout
    assert (tmp_path / "o.png").exists()


def _plain_call(argv: list[str], loaded: str) -> list[str]:
    """Run ``kernelcli ARGV`` through ``kernelcli.cli.main`` in a fresh interpreter: its stdout, then its exit code and
    the sorted modules of ``sys.modules`` for which the Python expression ``loaded`` (of ``m``) holds."""
    probe = (
        f"import sys\nfrom kernelcli.cli import main\nsys.argv = ['kernelcli', *{argv!r}]\n"
        "try:\n    main()\nexcept SystemExit as exc:\n    code = exc.code\n"
        f"print(code, sorted(m for m in sys.modules if {loaded}))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=REPO, stdin=subprocess.DEVNULL,
                          env={**__import__("os").environ, "KERNELCLI_WORKER": "off"})
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()


def test_params_takes_the_plain_path():
    """params answered through typer (83-135 ms against shape's 46-51, audit 113): its pair --dense IN OUT is plain now."""
    heavy = "m.split('.')[0] in ('typer', 'click', 'rich', 'numpy', 'numba')"
    assert _plain_call(["params", "--dense", "32768", "10", "-q"], heavy) == ["327690", "0 []"]


def test_shape_loads_no_output_writing():
    """io.pipes imported io.outputs (13 ms) at its import to register stdout's sender (66cd6a1): every shape paid it;
    the sender is registered once a call writes to stdout."""
    writing = "m in ('kernelcli.io.outputs', 'kernelcli.io.temporary', 'numpy')"
    assert _plain_call(["shape", "--in", "24", "--f", "5", "-q"], writing) == ["20", "0 []"]


def test_every_plain_command_exists():
    assert set(PLAIN_COMMANDS) <= set(build_command().commands)
