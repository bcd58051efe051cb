"""The click that typer runs on, whichever typer is installed.

typer up to 0.24 runs on the ``click`` package; later releases carry their own copy as
``typer._click`` and raise its exception classes, which ``except click.ClickException``
would not catch (a usage error would then escape as a traceback).  Every module of the
CLI takes click from here.

>>> click.exceptions.UsageError("x").exit_code
2
"""

from __future__ import annotations

try:  # typer >= 0.25: its own click
    from typer import _click as click
except ImportError:  # pragma: no cover - depends on the installed typer
    import click  # type: ignore[no-redef]

try:  # not re-exported at the top of typer's copy
    from typer._click.globals import get_current_context
except ImportError:  # pragma: no cover - depends on the installed typer
    from click import get_current_context  # type: ignore[no-redef]

#: click's own "No such command" error suggests close names (click >= 8.2); typer then must not add them again
CLICK_SUGGESTS_COMMANDS = hasattr(click.exceptions, "NoSuchCommand")

__all__ = ["CLICK_SUGGESTS_COMMANDS", "click", "get_current_context"]
