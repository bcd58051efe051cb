"""A value a command refused, in the words Click refuses one its option's parser refuses (the line of a
:class:`kernelcli.whole_numbers.BadValue`: :func:`kernelcli.cli._common.error_line`)."""

from __future__ import annotations

import sys
from typing import Any


def value_refused(exc: Any, command: str) -> str:
    """A value the command refused, in the words Click refuses one its option's parser refuses (a size, a padding
    read in the command's body: ``shape -f 0`` as ``learn -f 0``): every spelling of the option, then where the
    command's help is (:func:`kernelcli.cli.click_error_line`).

    >>> from ..shapes import refused_value
    >>> value_refused(refused_value("--size", "0", low=1), "shape")
    "Invalid value for '--size' / '-f' / '--f': 0 is not in the range x>=1. (see 'kernelcli shape -h')"
    """
    from .options import CONCEPTS

    names = next((concept.names for concept in CONCEPTS.values() if concept.names[0] == exc.option), (exc.option,))
    ctx = None
    if "typer" in sys.modules:  # (the plain path runs without it: its commands are named as their functions)
        from ._click import get_current_context

        ctx = get_current_context(silent=True)
    path = ctx.command_path if ctx is not None else f"kernelcli {command}"
    return f"Invalid value for {' / '.join(repr(name) for name in names)}: {exc.detail} (see '{path} -h')"
