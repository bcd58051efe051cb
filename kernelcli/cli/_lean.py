"""Keep start-up lean on every typer: plain-Python value conversion for our simple option types.

typer 0.25 and later convert each option's value through a pydantic ``TypeAdapter``,
built on first use: the first call of any command then imports pydantic and builds an
adapter per option, 60-100 ms of a ``kernelcli shape ... -q`` that otherwise takes
about 150 ms.  kernelcli's options are all simple (str, int, float, Path, bool, Enum,
their Optional/list/tuple forms, or a ``parser``), so :func:`lean_command` gives each
such parameter a converter of a few lines instead, with typer's own range and choice
checks and messages.  It relies on two attributes of typer's parameters
(``type_descriptor`` and the lazily built ``_runtime_param``); a typer without them (up
to 0.24, which converts through click and never loads pydantic) is left as it is, and so
is any parameter whose type is not one of ours.

>>> from kernelcli.cli.root import app
>>> import typer.main
>>> lean_command(typer.main.get_command(app)).name
'kernelcli'
"""

from __future__ import annotations

import types
import typing
from enum import Enum
from pathlib import Path
from typing import Any, Callable


def lean_command(command: Any) -> Any:
    """Give every parameter of ``command`` (and of its subcommands) a plain converter; return it."""
    for param in getattr(command, "params", ()):
        _seed(param)
    help_option = getattr(command, "get_help_option", None)
    if help_option is not None:  # --help is made per call: seed it as it is made

        def get_help_option(ctx: Any) -> Any:
            option = help_option(ctx)
            if option is not None:
                _seed(option)
            return option

        command.get_help_option = get_help_option
    subcommands = getattr(command, "commands", {})
    if hasattr(subcommands, "prepare"):  # built when looked up (cli._lazy): seeded then
        subcommands.prepare = lean_command
        for name in subcommands.loaded():
            lean_command(subcommands[name])
    else:
        for sub in subcommands.values():
            lean_command(sub)
    return command


def _seed(param: Any) -> None:
    descriptor = getattr(param, "type_descriptor", None)
    if descriptor is None or getattr(param, "_runtime_param", False) is not None:
        return  # a typer without runtime params, or already built
    convert = _converter(descriptor.annotation, descriptor.parameter_info)
    if convert is not None:
        param._runtime_param = _Lean(convert)


class _Lean:
    """The ``coerce`` typer calls on each value: None stays None (or empty for lists)."""

    def __init__(self, convert: Callable[[Any], Any]) -> None:
        self.convert = convert

    def coerce(self, value: Any, param: Any, ctx: Any) -> Any:
        from ._click import click  # typer runs this; a plain call (cli._fast) converts without click

        multi = param.multiple or param.nargs == -1
        if value is None:
            return () if multi else None
        try:
            return self.convert(value)
        except click.exceptions.BadParameter as exc:
            exc.ctx, exc.param = exc.ctx or ctx, exc.param or param
            raise
        except (ValueError, TypeError) as exc:
            raise click.exceptions.BadParameter(str(exc), ctx=ctx, param=param) from None


def _converter(annotation: Any, info: Any) -> Callable[[Any], Any] | None:
    """A function turning a command-line value into ``annotation``, or None when not ours."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _converter(options[0], info) if len(options) == 1 else None
    if origin is list:
        (item,) = typing.get_args(annotation)
        one = _converter(item, info)
        return None if one is None else (lambda values: [one(v) for v in (values if isinstance(values, (list, tuple)) else [values])])
    if origin is tuple:
        parts = [_converter(a, info) for a in typing.get_args(annotation)]
        if any(p is None for p in parts) or Ellipsis in typing.get_args(annotation):
            return None
        return lambda values: tuple(p(v) for p, v in zip(parts, values, strict=True))
    if getattr(info, "parser", None) is not None:
        parser = info.parser
        return lambda value: parser(value)
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return _enum(annotation, getattr(info, "case_sensitive", True))
    if annotation is bool:
        return _bool
    if annotation in (int, float):
        return _number(annotation, info.min, info.max, bool(getattr(info, "clamp", False)))
    if annotation is str:
        return lambda value: value if isinstance(value, str) else str(value)
    if annotation is Path and not any(getattr(info, flag, False) for flag in ("exists", "resolve_path", "allow_dash")):
        return lean_path
    return None


def lean_path(value: Any) -> Path:
    """A path argument or option; an empty one is refused: ``Path("")`` is ``.``, and an unset shell variable
    (``kernelcli convolve "$f" ...``) would run on the whole current folder.  Only the bare ``-`` is stdin or
    stdout: ``./-``, which ``Path`` would shorten to ``-``, is the file named ``-`` (as ``cat ./-`` reads it),
    kept apart as its absolute path.  A URL is a :class:`kernelcli.tiled.urls.URLPath`, which keeps it as typed.

    A path that ends with ``/`` or ``/.`` names a folder (``cat a.png/`` fails so): where it is a file, refused naming
    it (pathlib drops the ending: ``convolve a.png/`` and ``--weights w.npy/`` read the file in silence, where a kernel
    path and an output so spelt are refused).

    >>> lean_path("-"), lean_path("./-") == Path.cwd() / "-", lean_path("a/./b.png")
    (PosixPath('-'), True, PosixPath('a/b.png'))
    """
    if isinstance(value, Path):
        return value
    text = str(value)
    if text == "":
        raise ValueError("'' is an empty path: expected a file or folder name")
    if ":/" in text or text.startswith(("file:", "local:")):  # a URL: pathlib folds 'file://x' and 'file:///x' alike,
        # so it keeps the URL as typed ('file:x', which reads two ways, refused)
        from ..tiled.urls import URLPath, command_line_path

        given = command_line_path(text)
        if isinstance(given, URLPath):
            return given
    path = Path(text)
    if text.endswith("/") or text.endswith("/."):  # (the rule's home is below the command line: the API's readers share it)
        from ..io.folder_names import refuse_a_file_named_as_folder

        refuse_a_file_named_as_folder(text, ValueError)
    if text != "-" and str(path) == "-":
        return Path.cwd() / path
    return path


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "t", "yes", "y", "on"):
        return True
    if text in ("0", "false", "f", "no", "n", "off"):
        return False
    from ..numtext import quoted

    raise ValueError(f"{quoted(value)} is not a valid boolean.")


def _enum(kind: type[Enum], case_sensitive: bool) -> Callable[[Any], Enum]:
    def convert(value: Any) -> Enum:
        if isinstance(value, kind):
            return value
        for member in kind:
            if member.value == value or (not case_sensitive and str(member.value).lower() == str(value).lower()):
                return member
        try:
            return kind(value)  # an Enum of its own words (options.Words): other cases and aliases
        except ValueError:
            pass
        # worded as every choice option's (kernelcli.modes: "invalid pad mode 'x': expected one of constant, ...")
        what = kind.what() if hasattr(kind, "what") else "value"
        from ..modes import not_one_of

        raise ValueError(not_one_of(what, value, [str(m.value) for m in kind]))

    return convert


def _number(kind: type, low: Any, high: Any, clamp: bool) -> Callable[[Any], Any]:
    def convert(value: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError(f"{value!r} is not a valid {kind.__name__}.")
        from .. import numtext, whole_numbers

        if isinstance(value, str):  # a whole number in any form ('2', '+2', '2.0', '2e0'), as the README's vocabulary says
            number = numtext.decimal(value) if kind is not int else numtext.whole_in_any_form(value)
        else:
            try:
                number = kind(value)
            except (TypeError, ValueError):
                number = None
        if kind is int and isinstance(value, str) and (number is None or abs(number) > whole_numbers.MAX_SIZE):
            # every whole number typed has at most 30 digits, refused here, before any input is read (a --stride 1e40
            # passed x>=1 and was refused per input, blamed on the file; 1e5000 had words of its own)
            said = whole_numbers.too_long(value)
            below = whole_numbers.below_floor(value, low)  # (--seed -1e40: as --seed -1)
            if said is not None:  # (an option with a top, --tile 1e40, --quality: its range says more than a digit count)
                raise ValueError(said if high is None and not below else numtext.out_of_range(value, low, high))
        if number is None:
            what = "integer" if kind is int else "float"
            raise ValueError(f"{numtext.quoted(value)} is not a valid {what}.")
        if clamp and number == number:
            number = max(low, number) if low is not None else number
            return min(high, number) if high is not None else number
        if not ((low is None or number >= low) and (high is None or number <= high)):  # NaN is in no range
            raise ValueError(numtext.out_of_range(value if isinstance(value, str) else number, low, high))
        return number

    return convert
