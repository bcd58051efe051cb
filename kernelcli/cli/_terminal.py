"""Writing on stdout and stderr: :func:`echo` (typer's echo without importing typer unless the stream is a
terminal), :func:`write_stdout` (every byte, or an error), and the one place colours and styles are decided
(:func:`colour_off`: ``NO_COLOR``; :func:`console`: every rich Console).  No numpy, rich or typer at module level.

Example
-------
>>> echo("a\\x1b[31mb")
ab
"""

from __future__ import annotations

import contextlib
import os
import sys
from typing import Any

from ..errors import writing_stdout


#: what click.echo strips from text written to something other than a terminal
_ANSI = None


#: the variable that turns colours and styles off (https://no-color.org)
NO_COLOR_ENV = "NO_COLOR"


def colour_off() -> bool:
    """True when ``NO_COLOR`` is set to anything but '' (https://no-color.org): nothing is coloured or styled,
    on a terminal too.  Every colour and style kernelcli prints is decided here (:func:`echo`, :func:`console`)."""
    return bool(os.environ.get(NO_COLOR_ENV))


def console(**settings: Any) -> Any:
    """A rich ``Console(**settings)`` that styles nothing under ``NO_COLOR`` (:func:`colour_off`): rich's own
    reading of it drops the colours but keeps bold and italic.  Off a terminal rich styles nothing anyway."""
    from rich.console import Console

    if colour_off():
        settings["color_system"] = None
    return Console(**settings)


def echo(message: Any = "", *, err: bool = False, nl: bool = True, fg: str | None = None) -> None:
    """``typer.echo`` (``typer.secho(..., fg=fg)`` with a colour) without importing typer unless the
    stream is a terminal: the text and a newline, written and flushed; escape sequences removed
    when the stream is not a terminal, as click does, and no colour under ``NO_COLOR``.

    >>> echo("a\x1b[31mb")
    ab
    """
    stream = sys.stderr if err else sys.stdout
    if stream is None:
        return
    if _isatty(stream):
        import typer

        with contextlib.nullcontext() if err else writing_stdout():
            if fg is not None and not colour_off():
                typer.secho(message, fg=fg, err=err, nl=nl)
            else:
                typer.echo(message, err=err, nl=nl)
        return
    text = message if isinstance(message, str) else str(message)
    if "\x1b" in text:
        global _ANSI
        if _ANSI is None:
            import re

            _ANSI = re.compile(r"\033\[[;?0-9]*[a-zA-Z]")  # click.termui's pattern
        text = _ANSI.sub("", text)
    if err:
        try:
            stream.write(text + "\n" if nl else text)
            stream.flush()
        except (OSError, ValueError):  # stderr full or closed: the diagnostics are lost, the call's work is not
            pass
    else:
        write_stdout(text + "\n" if nl else text)


def write_stdout(text: str) -> None:
    """Write ``text`` on stdout and flush it (see :func:`writing_stdout`): every byte, or an error.

    Under ``PYTHONUNBUFFERED`` (``python -u``, common in containers) ``sys.stdout`` writes straight to
    the descriptor and drops what a short write leaves over (a full disk, ``ulimit -f``): the bytes
    go through its binary layer here, counted, so the rest is written or its error raised.
    """
    with writing_stdout():
        sys.stdout.flush()
        buffer = getattr(sys.stdout, "buffer", None)
        if buffer is None:  # a text-only stand-in (a test's capture): it has no short writes
            sys.stdout.write(text)
            sys.stdout.flush()
            return
        from ..io.pipes import write_all

        write_all(buffer, text.encode(sys.stdout.encoding or "utf-8", sys.stdout.errors or "strict"))


def _isatty(stream: Any) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
