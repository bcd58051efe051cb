"""A plain call of a file command, parsed without importing typer (issue 17: the cold path).

Importing typer and building a command with it costs a cold ``kernelcli convolve g512.png
-k sobel_v -o out.png`` about 30 ms of 140.  :func:`run_plain` parses such a call from the
command's own signature and the same declarations typer builds from
(:class:`kernelcli.cli.options.Declared`, converted by :mod:`kernelcli.cli._lean`'s
converters), and runs the same command function with the same arguments.  It takes only
what it is sure Click would read the same way: the command's known options (``--name
VALUE``, ``--name=VALUE``, ``-k VALUE``, ``-kVALUE``, flags) and its arguments.  Anything
else (``--help``, ``--debug`` or another root option, an unknown option, a cluster of short
flags, ``--``, a missing value, a value its converter refuses, shell completion) returns
None, and :func:`kernelcli.cli.run` parses the call with typer: the same messages and exit
codes, from one place.  A test compares the arguments both parsers give on many command lines.

>>> sorted(parse("convolve", ["in.png", "-k", "sobel_v", "-qo", "x.png"]) or {})  # a cluster: typer's
[]
>>> args = parse("convolve", ["in.png", "-k", "sobel_v", "--stride=2", "-q"])
>>> args["input"], args["kernel"], args["stride"], args["quiet"], args["out"]
([PosixPath('in.png')], ['sobel_v'], 2, True, None)
"""

from __future__ import annotations

import importlib
import inspect
import os
import sys
import types
import typing
from typing import Any, Callable

#: commands a plain call may take without typer: name -> (module, function)
PLAIN_COMMANDS = {
    "convolve": ("convolve", "convolve"),
    "pad": ("pad", "pad"),
    "pool": ("pool", "pool"),
    "shape": ("shape", "shape"),
    "params": ("params", "params"),
}

_EMPTY = inspect.Parameter.empty
#: the variable shell completion sets (Click's ``_{PROG}_COMPLETE``): typer answers it
COMPLETE_VAR = "_KERNELCLI_COMPLETE"


class _Param:
    """One parameter of a command as Click parses it."""

    __slots__ = ("name", "flag", "multiple", "argument", "default", "convert", "required", "nargs")

    def __init__(self, name: str, flag: bool, multiple: bool, argument: bool, default: Any,
                 convert: Callable[[Any], Any], required: bool, nargs: int = 1) -> None:
        self.name, self.flag, self.multiple, self.argument = name, flag, multiple, argument
        self.default, self.convert, self.required, self.nargs = default, convert, required, nargs


#: options that change parsing in ways this parser does not follow: typer takes the call
_UNSUPPORTED = ("callback", "is_eager", "envvar", "count", "prompt", "is_flag", "flag_value", "default_factory",
                "click_type")


def _params(func: Callable[..., Any]) -> tuple[dict[str, _Param], list[_Param], list[_Param]] | None:
    """(option name -> parameter, arguments, every parameter) of ``func``, or None when one is not plain."""
    from ._declared import Declared
    from ._lean import _converter

    options: dict[str, _Param] = {}
    arguments: list[_Param] = []
    every: list[_Param] = []
    for p in inspect.signature(inspect.unwrap(func), eval_str=True).parameters.values():
        if typing.get_origin(p.annotation) is not typing.Annotated:
            return None
        kind, *metadata = typing.get_args(p.annotation)
        declared = [m for m in metadata if isinstance(m, Declared)]
        if len(declared) != 1 or any(name in declared[0].settings for name in _UNSUPPORTED):
            return None
        info = declared[0]
        convert = _converter(kind, info)
        if convert is None:
            return None
        plain = _strip_optional(kind)
        multiple = typing.get_origin(plain) is list
        nargs = len(typing.get_args(plain)) if typing.get_origin(plain) is tuple else 1
        if nargs != 1 and (info.argument or p.default is not None):
            return None  # a pair (--dense IN OUT) is plain as an option whose default is None
        default = None if p.default is _EMPTY else p.default
        param = _Param(p.name, plain is bool and not info.argument, multiple, info.argument, default, convert,
                       required=p.default is _EMPTY, nargs=nargs)
        every.append(param)
        if info.argument:
            arguments.append(param)
        else:
            for name in info.names:
                options[name] = param
    if len(arguments) > 1 or any(not a.multiple for a in arguments):
        return None  # one list argument (the inputs) is all these commands take
    return options, arguments, every


def _strip_optional(kind: Any) -> Any:
    if typing.get_origin(kind) in (typing.Union, types.UnionType):
        rest = [a for a in typing.get_args(kind) if a is not type(None)]
        return rest[0] if len(rest) == 1 else kind
    return kind


def parse(command: str, args: list[str]) -> dict[str, Any] | None:
    """The keyword arguments typer would call ``command``'s function with, or None (see the module)."""
    if command not in PLAIN_COMMANDS or not args:
        return None  # no arguments: a missing input, or the help of a no_args_is_help command
    module, name = PLAIN_COMMANDS[command]
    func = getattr(importlib.import_module(f"{__package__}.{module}"), name)
    table = _params(func)
    if table is None:
        return None
    options, arguments, every = table
    given: dict[str, list[Any]] = {}
    positional: list[str] = []
    i = 0
    while i < len(args):
        token = args[i]
        i += 1
        if token == "--" or (token.startswith("-") and token != "-" and token in ("-h", "--help")):
            return None
        if token.startswith("--"):
            name, eq, value = token.partition("=")
            param = options.get(name)
            if param is None or (param.flag and eq):
                return None
        elif token.startswith("-") and token != "-":
            param = options.get(token[:2])
            if param is None or token[:2] != token and (param.flag or "=" in token):
                return None  # a cluster of short flags, or -k=V (Click keeps the '='): typer's to read
            eq, value = ("=", token[2:]) if len(token) > 2 else ("", "")
        else:
            positional.append(token)
            continue
        if param.flag:
            given.setdefault(param.name, []).append(True)
            continue
        if param.nargs != 1:  # Click takes the next N words, whatever they look like
            if eq or i + param.nargs > len(args):
                return None  # --dense=5 7, or a value missing: typer's to read (and to refuse)
            given.setdefault(param.name, []).append(tuple(args[i:i + param.nargs]))
            i += param.nargs
            continue
        if not eq:
            if i >= len(args):
                return None  # "requires an argument": typer says so
            value = args[i]
            i += 1
        given.setdefault(param.name, []).append(value)
    if arguments:
        if not positional:
            return None
        given[arguments[0].name] = positional
    elif positional:
        return None
    if any(param.required and param.name not in given for param in every):
        return None  # "Missing option": typer says so
    kwargs: dict[str, Any] = {}
    try:
        for param in every:
            values = given.get(param.name)
            if param.multiple:  # typer gives None for a list not given whose default is None
                if values:
                    kwargs[param.name] = param.convert(tuple(values))
                else:
                    kwargs[param.name] = None if param.default is None else list(param.convert(param.default))
            elif values is not None:
                kwargs[param.name] = param.convert(values[-1])  # Click keeps the last of a repeated option
            else:
                kwargs[param.name] = None if param.default is None else param.convert(param.default)
    except Exception:  # noqa: BLE001 - a value typer would refuse: typer refuses it, with its message
        return None
    return kwargs


def run_plain(argv: list[str]) -> int | None:
    """Run ``kernelcli ARGV`` without typer when :func:`parse` takes it; its exit code, or None."""
    if not argv or argv[0] not in PLAIN_COMMANDS or COMPLETE_VAR in os.environ:
        return None
    from ._common import begin_call, end_call

    try:
        begin_call()  # SIGTERM and SIGHUP unwind like Ctrl-C: exit 143 / 129, as run() does
        kwargs = parse(argv[0], argv[1:])
        if kwargs is None:
            return None
        module, name = PLAIN_COMMANDS[argv[0]]
        func = getattr(sys.modules[f"{__package__}.{module}"], name)
        try:
            func(**kwargs)
        except SystemExit as exc:
            return exc.code if isinstance(exc.code, int) else 1
        except Exception as exc:  # typer's Exit, if a terminal's message loaded typer
            code = getattr(exc, "exit_code", None)
            if "typer" in sys.modules and isinstance(code, int):
                return code
            raise
    except KeyboardInterrupt as exc:
        from ._before import interrupted

        return interrupted(argv, exc)
    finally:
        end_call()
    return 0
