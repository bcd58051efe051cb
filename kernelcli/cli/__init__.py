"""The ``kernelcli`` command: a Typer app with one module per command.

Command modules import only typer and the standard library at module level; each
command imports the API (and so numpy/numba) inside its body, so ``kernelcli --help``,
``shape`` and ``params`` start fast.
"""

from __future__ import annotations

import importlib
import os
from typing import Annotated

import typer

from .. import __version__

app = typer.Typer(
    name="kernelcli",
    help="Convolution, kernels, padding, pooling and layer arithmetic for deep learning on medical images.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)

#: command modules, each exposing ``register(app)``; listed once here
COMMAND_MODULES = (
    "convolve",
    "pad",
    "pool",
    "shape",
    "params",
    "kernels",
    "summary",
    "volume",
    "gallery",
    "learn",
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"kernelcli {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    debug: Annotated[bool, typer.Option("--debug", help="Show the full traceback of an internal error.")] = False,
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")] = False,
) -> None:
    """Convolution, kernels, padding, pooling and layer arithmetic for deep learning on medical images."""
    if debug:
        os.environ["KERNELCLI_DEBUG"] = "1"


for _name in COMMAND_MODULES:
    importlib.import_module(f"{__name__}.{_name}").register(app)


def main() -> None:
    """Console-script entry point.

    Run without Click's standalone mode so that a Ctrl-C before a command body starts
    (while Python imports, say) still exits 130, as the command bodies do, instead of
    Click's "Aborted!" with exit 1.
    """
    import sys

    import click

    # Each CLI call is a short process: the core takes the paths that are cheapest for a
    # fresh one (plain numpy while it beats loading the jitted core), as a pure function of
    # the call, so batch workers write the same bytes as separate calls.
    os.environ.setdefault("KERNELCLI_PATHS", "cold")
    try:
        code = app(prog_name="kernelcli", standalone_mode=False)
    except click.exceptions.Abort:
        typer.secho("error: interrupted", fg=typer.colors.RED, err=True)
        sys.exit(130)
    except click.exceptions.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    sys.exit(code if isinstance(code, int) else 0)
