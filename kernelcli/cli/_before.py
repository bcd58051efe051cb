"""A call that fails before a command body takes it: a bad option value, a setting it cannot run with, a stop.

The error line goes to stderr; with ``--json`` stdout carries one failure record, read from the
command line as Click reads it (:func:`options_given`), since no command has parsed it yet.

>>> options_given(["pool", "x.png", "--json", "-o", "-"], {"-o": 1})
[('pool', None), ('x.png', None), ('--json', None), ('-o', '-')]
"""

from __future__ import annotations

import sys

from ..errors import EXIT_USAGE
from ._common import OUT_NEVER_STDOUT, error, failure_record, json_printed, print_json
from ._signals import interrupted_message


def interrupted(argv: list[str], exc: BaseException) -> int:
    """Say that a signal stopped the call before a command body took it, and return its exit code: the error
    line, and with ``--json`` a record of it on stdout, which always carries JSON (it was left empty)."""
    from ..errors import interrupt_exit_code

    message = interrupted_message(exc)
    sys.stderr.write(f"error: {message}\n")
    code = interrupt_exit_code(exc)
    if not json_printed():
        from ..batch_records import not_run_error, stopped_by

        try:  # (the record in every record's words: a batch's, one input's)
            failure_before_parsing(argv, code, not_run_error(stopped_by(code)), "not run")
        except Exception:  # noqa: BLE001 - a stdout that cannot take it: the error line said it all
            pass
    return code


def refused_at_start(argv: list[str], message: str) -> int:
    """Refuse a call before any command takes it (a setting in the environment it cannot run with): the error
    line, and with ``--json`` a record of it on stdout, as a bad option value gives; exit 2."""
    error(message)
    failure_before_parsing(argv, EXIT_USAGE, message)
    return EXIT_USAGE


def failure_before_parsing(argv: list[str], code: int, message: str, status: str = "failed",
                           takes_value: dict[str, int] | None = None) -> None:
    """With ``--json`` among ``argv``'s options (read before Click has parsed them), print the failure record: stdout
    always carries JSON.  Not with ``--out -``, where stdout carries the image (``learn``'s never: :data:`OUT_NEVER_STDOUT`).
    ``takes_value``: the command's options that take values, and how many, when known (:func:`options_given`), so that a ``--json``
    or ``--`` given as an option's value is read as Click reads it."""
    if takes_value is None:
        options = argv[: argv.index("--")] if "--" in argv else argv
        given = [(a, None) for a in options]
        stdout_out = out_is_stdout(options)
    else:
        given = options_given(argv, takes_value)
        stdout_out = any(name in ("-o", "--out") and value == "-" for name, value in given)
    command = next((a for a, _ in given if not a.startswith("-")), None)
    if any(name == "--json" for name, _ in given) and not (stdout_out and command not in OUT_NEVER_STDOUT):
        print_json(failure_record(code, message, status))


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
