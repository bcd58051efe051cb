"""A call that fails before a command body takes it: a bad option value, a setting it cannot run with, a stop.

The error line goes to stderr; with ``--json`` stdout carries one failure record, read from the
command line as Click reads it (:func:`options_given`), since no command has parsed it yet.

>>> options_given(["pool", "x.png", "--json", "-o", "-"], {"-o": 1})
[('pool', None), ('x.png', None), ('--json', None), ('-o', '-')]
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from ..errors import EXIT_USAGE
from ._common import OUT_NEVER_STDOUT, error, failure_record, json_printed, print_json
from ._signals import interrupted_message


def interrupted(argv: list[str], exc: BaseException) -> int:
    """Say that a signal stopped the call before a command body took it, and return its exit code: the error
    line, and with ``--json`` a record of it on stdout, which always carries JSON (it was left empty)."""
    from ..errors import interrupt_exit_code

    message = interrupted_message(exc)
    code = interrupt_exit_code(exc)
    said: list[str] = []

    def say(line: str) -> None:
        said.append(line)
        sys.stderr.write(f"error: {line}\n")

    if json_printed():
        say(message)
        return code
    try:  # (the record in every record's words: a batch's, one input's)
        from ..batch_records import not_run_error, stopped_by

        failure_before_parsing(argv, code, message, "not run", record=not_run_error(stopped_by(code)), say=say)
    except Exception:  # noqa: BLE001 - a stdout that cannot take it: the error line says it all
        if not said:
            say(message)
    return code


def refused_at_start(argv: list[str], message: str) -> int:
    """Refuse a call before any command takes it (a setting in the environment it cannot run with): the error
    line, and with ``--json`` a record of it on stdout, as a bad option value gives; exit 2."""
    failure_before_parsing(argv, EXIT_USAGE, message)
    return EXIT_USAGE


#: the options that name what a call writes: their values are none of the files it reads
WRITTEN = {"-o": 1, "--out": 1, "-d": 1, "--out-dir": 1, "--report": 1, "--plot": 1, "--montage": 1}


def failure_before_parsing(argv: list[str], code: int, line: str, status: str = "failed", takes_value: dict[str, int] | None = None,
                           *, record: str | None = None, say: Callable[[str], None] = error) -> None:
    """Say the error ``line`` (with ``say``) and, with ``--json`` among ``argv``'s options (read before Click has parsed
    them), print the failure record (its error ``record``, else ``line``): stdout always carries JSON.  Not with
    ``--out -``, where stdout carries the image (``learn``'s never: :data:`OUT_NEVER_STDOUT`), nor where stdout is a file
    the call names (``convolve m.csv --stride 0 --json >> m.csv``): the record would be written into it, so the line ends
    with :func:`~._stdout_input.json_withheld`'s words, the one check every failure's record asks.
    ``takes_value``: the command's options that take values, and how many, when known (:func:`options_given`), so that a
    ``--json`` or ``--`` given as an option's value is read as Click reads it."""
    if takes_value is None:
        options = argv[: argv.index("--")] if "--" in argv else argv
        given = [(a, None) for a in options]
        stdout_out = out_is_stdout(options)
    else:
        given = options_given(argv, takes_value)
        stdout_out = any(name in ("-o", "--out") and value == "-" for name, value in given)
    command = next((a for a, _ in given if not a.startswith("-")), None)
    asked = any(name == "--json" for name, _ in given) and not (stdout_out and command not in OUT_NEVER_STDOUT)
    withheld = None
    if asked:
        from ._stdout_input import json_withheld

        withheld = json_withheld(None, files_named(argv, takes_value))
    say(line + (withheld or ""))
    if asked and withheld is None:
        print_json(failure_record(code, line if record is None else record, status))


def files_named(argv: list[str], takes_value: dict[str, int] | None = None) -> list[str]:
    """The words of ``argv`` that may name a file the call reads, read before Click has parsed them: its arguments and
    the values of its options (``-`` for stdin), but not the command, the options' names, nor what :data:`WRITTEN`'s
    options name.  ``takes_value``: as for :func:`options_given` (the options that name outputs are always known).

    >>> files_named(["convolve", "m.csv", "-k", "k.npy", "--stride=0", "-o", "x.png", "--json", "--", "-"])
    ['m.csv', 'k.npy', '0', '-']
    """
    ends = argv.index("--") if "--" in argv else len(argv)
    given = options_given(argv[:ends], {**(takes_value or {}), **WRITTEN})
    words: list[str] = []
    command = None
    for name, value in given:
        if name in WRITTEN:
            continue
        if value is not None:
            words.append(value)
        elif name == "-" or not name.startswith("-"):
            if command is None:
                command = name
            else:
                words.append(name)
    return words + argv[ends + 1:]


def options_given(argv: list[str], takes_value: dict[str, int]) -> list[tuple[str, str | None]]:
    """``argv``'s options with their (last) values, and its arguments (value None), up to the ``--`` that ends the
    options, read as Click reads them: an option of ``takes_value`` takes that many next words as its values, whatever
    they are (``--suffix --json``, ``--stride --``, ``params --dense 5 --json``: two), or the rest of its word
    (``--out=-``, ``-o-``, ``-qo-``).

    >>> options_given(["convolve", "--suffix", "--json", "-qo", "-", "--", "--json"], {"--suffix": 1, "-o": 1})
    [('convolve', None), ('--suffix', '--json'), ('-q', None), ('-o', '-')]
    >>> options_given(["params", "--dense", "5", "--json"], {"--dense": 2})
    [('params', None), ('--dense', '--json')]
    """
    given: list[tuple[str, str | None]] = []
    words = iter(argv)
    for word in words:
        if word == "--":
            break
        if word.startswith("--") and "=" in word:
            name, value = word.split("=", 1)
            given.append((name, value))
        elif word.startswith("--") or not word.startswith("-") or word == "-":
            values = [next(words, None) for _ in range(takes_value.get(word, 0))]
            given.append((word, values[-1] if values else None))
        else:  # a cluster of short options: the first that takes a value takes the rest, or the next word
            for at, letter in enumerate(word[1:], start=2):
                count = takes_value.get(f"-{letter}", 0)
                if count:
                    values = [word[at:]] if word[at:] else []
                    values += [next(words, None) for _ in range(count - len(values))]
                    given.append((f"-{letter}", values[-1]))
                    break
                given.append((f"-{letter}", None))
    return given


def out_is_stdout(args: list[str]) -> bool:
    """Whether ``args`` give ``--out -`` (``-o -``, ``--out=-``, ``-o-``), read before Click has parsed them.

    >>> out_is_stdout(["convolve", "x.png", "-o", "-"]), out_is_stdout(["pad", "--out=-"]), out_is_stdout(["-o", "y.png"])
    (True, True, False)
    """
    pairs = zip(args, args[1:])
    return any(a in ("-o", "--out") and b == "-" for a, b in pairs) or any(a in ("--out=-", "-o-") for a in args)
