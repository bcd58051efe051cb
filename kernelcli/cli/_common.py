"""What every command shares: error handling, exit codes, notes on stderr.

Commands stay thin: parse options, call the API, print.  ``guarded`` turns our own
errors into a one-line red message and the error's exit code, Ctrl-C into 130, and any
other exception into exit 70 with a request to report it (the traceback only with
``--debug``).  Nothing here imports numpy, numba or rich at module level.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import typer

from ..errors import EXIT_INTERNAL, EXIT_INTERRUPTED, KernelcliError

F = TypeVar("F", bound=Callable[..., Any])

ISSUES_URL = "https://github.com/kernelcli/kernelcli/issues"


def debug_enabled() -> bool:
    """True when ``--debug`` was given (or KERNELCLI_DEBUG=1 is set)."""
    return os.environ.get("KERNELCLI_DEBUG", "") not in ("", "0")


def error(message: str) -> None:
    """Print a one-line error in red on stderr."""
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)


def note(message: str) -> None:
    """Print a one-line note on stderr (never on stdout, which carries results)."""
    typer.echo(message, err=True)


def guarded(func: F) -> F:
    """Wrap a command so that no traceback reaches the user without ``--debug``.

    >>> @guarded
    ... def cmd() -> None:
    ...     raise UsageError("bad")   # doctest: +SKIP
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (typer.Exit, typer.Abort):
            raise
        except KernelcliError as exc:
            if debug_enabled():
                raise
            error(str(exc))
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            error("interrupted")
            raise typer.Exit(EXIT_INTERRUPTED) from None
        except Exception as exc:  # an exception we did not expect is a bug
            if debug_enabled():
                raise
            error(
                f"internal error: {type(exc).__name__}: {exc}. This is a bug in kernelcli; "
                f"run again with --debug and report the traceback at {ISSUES_URL}"
            )
            raise typer.Exit(EXIT_INTERNAL) from None

    return wrapper  # type: ignore[return-value]


def print_json(document: Any) -> None:
    """Print exactly one JSON document on stdout."""
    import json
    import re

    text = json.dumps(document, indent=2)
    # Keep each innermost list of numbers on one line, so a matrix reads as rows.
    text = re.sub(
        r"\[\s+([-+0-9.eE,\s]+?)\s+\]",
        lambda m: "[" + ", ".join(item.strip() for item in m.group(1).split(",")) + "]",
        text,
    )
    sys.stdout.write(text + "\n")


def render_report(report: Any, *, json_out: bool, quiet: bool) -> None:
    """Print a file job's result: notes and a one-line summary on stderr; the output path,
    the matrix or one JSON document on stdout."""
    if not quiet:
        for line in report.notes:
            note(f"note: {line}")
    if json_out:
        print_json(report.as_dict())
    elif report.matrix is not None:
        from ..images import format_matrix_table

        typer.echo(format_matrix_table(report.matrix), nl=False)
    else:
        typer.echo(report.output)
    if not quiet:
        shape_in = "x".join(map(str, report.input_shape))
        shape_out = "x".join(map(str, report.output_shape))
        note(
            f"{report.input} {shape_in}, {report.operation} -> {report.output or 'stdout'} {shape_out}, "
            f"range [{report.minimum:.6g}, {report.maximum:.6g}], {report.seconds * 1000:.1f} ms"
        )


def output_for(input: Any, out: Any, label: str) -> Any:
    """The output path: ``out`` if given, None for a matrix (printed), else ``<stem>_<label>.<ext>``."""
    from ..jobs import default_output, is_matrix_path

    if out is not None or is_matrix_path(input):
        return out
    return default_output(input, label)
