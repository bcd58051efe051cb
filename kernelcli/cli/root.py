"""The Typer app of ``kernelcli``, with one module per command.

Command modules import only typer and the standard library at module level; each
command imports the API (and so numpy/numba) inside its body, so ``kernelcli --help``,
``shape`` and ``params`` start fast.  The entry point is :func:`kernelcli.cli.main`, which
runs :func:`lazy_command`: the root group whose subcommands are built when looked up, so a
call builds (and imports) only the command it runs.  ``app`` is the whole Typer app, every
command registered (for ``typer.main.get_command(app)``, Typer's test runner, the docs).

>>> command = lazy_command()
>>> command.commands.loaded(), command.get_command(None, "shape").name, command.commands.loaded()
([], 'shape', ['shape'])
"""

from __future__ import annotations

import importlib
from typing import Annotated, Any

import typer

from .. import __version__
from . import COMMANDS, COMMAND_MODULES
from ._common import DEBUG_KEY
from ._click import CLICK_SUGGESTS_COMMANDS
from ._typed import typed_app
from .options import option


def make_app(*, commands: bool = True) -> typer.Typer:
    """The root Typer app (its options and settings); with every command registered unless ``commands`` is False."""
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
    app.callback()(_root)
    if commands:
        for name in COMMAND_MODULES:
            importlib.import_module(f"{__package__}.{name}").register(app)
    return typed_app(app)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"kernelcli {__version__}")
        raise typer.Exit()


def _root(
    ctx: typer.Context,
    debug: Annotated[bool, option("debug")] = False,
    version: Annotated[bool, option("version", callback=_version, is_eager=True)] = False,
) -> None:
    """Convolution, kernels, padding, pooling and layer arithmetic for deep learning on medical images."""
    from ..io.store_paths import forget_store_lookups

    # in the command's context, not in the environment: nothing below the CLI sees it
    ctx.meta[DEBUG_KEY] = debug
    # (the app invoked by itself, as Typer's test runner does, calls no begin_call: its look-ups are its own)
    forget_store_lookups()
    ctx.call_on_close(lambda: forget_store_lookups(remember=False))


def lazy_command() -> Any:
    """The app's click group as ``typer.main.get_command(app)`` builds it, except that each
    subcommand is built (its module imported, its parameters made) when first looked up."""
    import typer.main

    from ._lazy import LazyCommands

    root = make_app(commands=False)
    group = typer.main.get_command(root)

    def build(module: str) -> dict[str, Any]:
        one = typer.Typer()
        importlib.import_module(f"{__package__}.{module}").register(one)
        typed_app(one)
        built = [typer.main.get_command_from_info(info, pretty_exceptions_short=root.pretty_exceptions_short,
                                                  rich_markup_mode=root.rich_markup_mode)
                 for info in one.registered_commands]
        built += [typer.main.get_group_from_info(info, pretty_exceptions_short=root.pretty_exceptions_short,
                                                 rich_markup_mode=root.rich_markup_mode,
                                                 suggest_commands=root.suggest_commands)
                  for info in one.registered_groups]
        return {command.name: command for command in built}

    group.commands = LazyCommands(COMMANDS, build)
    return group


def __getattr__(name: str) -> Any:
    if name == "app":  # built on first use: the lazy path never imports every command module
        global app
        app = make_app()
        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
