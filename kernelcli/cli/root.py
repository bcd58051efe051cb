"""The Typer app of ``kernelcli``, with one module per command.

Command modules import only typer and the standard library at module level; each
command imports the API (and so numpy/numba) inside its body, so ``kernelcli --help``,
``shape`` and ``params`` start fast.  The entry point is :func:`kernelcli.cli.main`.
"""

from __future__ import annotations

import importlib
from typing import Annotated

import typer

from .. import __version__
from . import COMMAND_MODULES
from ._common import DEBUG_KEY
from ._click import CLICK_SUGGESTS_COMMANDS
from .options import option

app = typer.Typer(
    name="kernelcli",
    help="Convolution, kernels, padding, pooling and layer arithmetic for deep learning on medical images.",
    no_args_is_help=True,
    add_completion=True,
    suggest_commands=not CLICK_SUGGESTS_COMMANDS,  # else "Did you mean 'kernels'?" comes twice
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"kernelcli {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    ctx: typer.Context,
    debug: Annotated[bool, option("debug")] = False,
    version: Annotated[bool, option("version", callback=_version, is_eager=True)] = False,
) -> None:
    """Convolution, kernels, padding, pooling and layer arithmetic for deep learning on medical images."""
    # in the command's context, not in the environment: nothing below the CLI sees it
    ctx.meta[DEBUG_KEY] = debug


for _name in COMMAND_MODULES:
    importlib.import_module(f"{__package__}.{_name}").register(app)
