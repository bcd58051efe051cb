"""Whether a failing call may print its ``--json`` record: not where stdout is a file the call reads.

``kernelcli convolve m.csv -k box:3 --json >> m.csv`` is refused (exit 4) because what it prints would be written
into m.csv; the failure's record would be too.  So would the record of any failure of a batch whose folder or
pattern holds the stdout file (``pool b3 nosuch.png --json >> b3/a.png``), found before the batch listed its files.
Where the record is withheld, the error line says so (:func:`json_withheld`): nothing at all is printed on stdout.
Only the standard library is imported at module level.
"""

from __future__ import annotations

import os
import stat
from typing import Any


def json_withheld(exc: BaseException | None, inputs: list[Any], recursive: Any = False) -> str | None:
    """What the error line adds where the failure's ``--json`` record may not be printed (stdout is an input:
    ``exc`` the refusal that says so, or a file among the call's ``inputs``, a folder's with ``recursive`` too),
    else None: print it.

    >>> json_withheld(None, ["no/such.png"]) is None  # (stdout here is no input)
    True
    """
    from ..io.reads import StdoutIsInput

    if isinstance(exc, StdoutIsInput):
        return " (--json: no record printed)"
    name = stdout_input(inputs, recursive=bool(recursive))
    return None if name is None else f" (--json: no record printed: stdout is {name}, which this call reads)"


def stdout_input(inputs: list[Any], *, recursive: bool = False) -> str | None:
    """The file among ``inputs`` (a folder's or pattern's too) that stdout is, or None (stdin's file:
    :func:`~kernelcli.io.reads.refuse_stdout_among`'s refusal said it first)."""
    try:
        if not stat.S_ISREG(os.fstat(1).st_mode):
            return None
    except OSError:
        return None
    from ..batch_plan import discover, is_batch_argument
    from ..io.reads import StdoutIsInput, refuse_stdout_among

    try:
        refuse_stdout_among({"inputs": inputs})
        for arg in inputs:
            if isinstance(arg, (str, os.PathLike)) and is_batch_argument(arg):
                try:  # (each on its own: a refusal of one, a missing file, hides no other)
                    discover([arg], recursive=recursive)  # (refuses a file of it as stdout)
                except StdoutIsInput:
                    raise
                except (Exception, KeyboardInterrupt):  # (a stop while a failure is said: that failure is the call's)
                    continue
    except StdoutIsInput as found:
        return found.name
    return None

