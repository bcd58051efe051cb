"""The cold command line builds and imports only what the call needs (issue 17).

``kernelcli.cli.build_command`` builds a subcommand when it is looked up; the whole app
(``typer.main.get_command(app)``) must stay the same command, with the same names in the
same order and the same help.  A plain ``convolve`` of a PNG, in a fresh process, must not
import other command modules, rich, or what only a batch, a tiled run or a volume needs.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
import typer.main

from kernelcli.cli import COMMANDS, build_command
from kernelcli.cli.root import app

from conftest import REPO, SAMPLES, run_cli


class TestLazyGroup:
    def test_the_table_lists_every_command_of_the_app_in_its_order(self):
        assert list(typer.main.get_command(app).commands) == list(COMMANDS)

    def test_nothing_is_built_until_looked_up(self):
        command = build_command()
        assert command.commands.loaded() == []
        assert command.get_command(None, "pool").name == "pool"
        assert command.commands.loaded() == ["pool"]
        assert command.get_command(None, "nope") is None and "nope" not in command.commands

    def test_every_command_built_lazily_equals_the_eager_one(self):
        eager, lazy = typer.main.get_command(app), build_command(every=True)
        for name in COMMANDS:
            a, b = eager.commands[name], lazy.commands[name]
            assert type(a) is type(b) and a.help == b.help and a.epilog == b.epilog
            assert [(p.name, p.opts, p.secondary_opts, p.default, p.multiple) for p in a.params] == \
                   [(p.name, p.opts, p.secondary_opts, p.default, p.multiple) for p in b.params]
            assert sorted(getattr(a, "commands", {})) == sorted(getattr(b, "commands", {}))

    @pytest.mark.parametrize("argv", [["--help"], ["kernels", "--help"], ["convolv"], ["pool", "--help"]])
    def test_help_and_errors_are_those_of_the_whole_app(self, argv, tmp_path):
        lazy = run_cli(*argv)
        probe = ("import sys, typer.main\nfrom kernelcli.cli.root import app\nfrom kernelcli.cli import run\n"
                 "import kernelcli.cli as cli\ncli.build_command = lambda every=False: typer.main.get_command(app)\n"
                 f"sys.exit(run({argv!r}))")
        eager = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=REPO)
        assert (lazy.returncode, lazy.stdout, lazy.stderr) == (eager.returncode, eager.stdout, eager.stderr)


#: modules a plain ``convolve image.png -k NAME -o out.png`` has no use for
NOT_FOR_ONE_IMAGE = (
    "rich", "kernelcli.cli.pad", "kernelcli.cli.pool", "kernelcli.cli.shape", "kernelcli.cli.params",
    "kernelcli.cli.summary", "kernelcli.cli.kernels", "kernelcli.cli.gallery", "kernelcli.cli.learn",
    "kernelcli.cli.worker", "kernelcli.cli.volume", "kernelcli.cli.root.app", "numba", "scipy", "pydantic",
)


def test_a_plain_convolve_imports_only_what_it_needs(tmp_path):
    """In a fresh process whose stdout and stderr are not terminals."""
    probe = (
        "import sys\nfrom kernelcli.cli import run\n"
        f"code = run(['convolve', {str(SAMPLES / 'phantom.png')!r}, '-k', 'sobel_v', '-o', {str(tmp_path / 'o.png')!r}, '-q'])\n"
        "import kernelcli.cli.root as root\n"
        "loaded = [m for m in sys.modules if m.split('.')[0] in ('rich', 'numba', 'scipy', 'pydantic') or m.startswith('kernelcli.cli.')]\n"
        "print(code, sorted(set(loaded) | ({'kernelcli.cli.root.app'} if 'app' in vars(root) else set())))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=REPO,
                          stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr
    code, loaded = done.stdout.strip().split(" ", 1)
    assert code == "0" and (tmp_path / "o.png").exists()
    unwanted = [m for m in NOT_FOR_ONE_IMAGE if f"'{m}'" in loaded or f"'{m}." in loaded]
    assert unwanted == [], loaded
