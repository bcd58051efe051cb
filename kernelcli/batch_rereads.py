"""What the next run of a batch would read of what this one writes: an output folder (:func:`folders_in_inputs`) or a
``--report`` (:func:`report_in_inputs`) inside the folders its inputs are read from, each refused while planning
(exit 4).  Split from :mod:`kernelcli.batch_targets` (the plan's other checks).

>>> report_in_inputs("sl/r.csv", [Scanned("/nonexistent/sl", False, "sl")]) is None  # (not the folder read)
True
"""

from __future__ import annotations

import fnmatch
import os
import re
from collections.abc import Sequence
from pathlib import Path

from .batch_plan import Scanned
from .io.input_files import is_input_name
from .io.naming import has_glob


class InputFolders:
    """The folders a batch's inputs are read from (``scanned``), asked whether the next run would read a folder."""

    def __init__(self, scanned: Sequence[Scanned]) -> None:
        self.exact: dict[str, Scanned] = {}
        self.below: dict[str, Scanned] = {}
        self.reached = [s for s in scanned if s.reach is not None]
        for s in scanned:
            if s.reach is None:
                self.exact.setdefault(s.folder, s)
            if s.recursive:
                self.below.setdefault(s.folder, s)

    def reads(self, folder: Path, real: str) -> Scanned | None:
        """The scan that reads ``folder`` (real path ``real``), or None: by its ancestors too, as a pattern's scan
        names a folder per match."""
        if real in self.exact:
            return self.exact[real]
        for s in self.reached:  # ('pt/*/*.png' reads pt/o5 once it exists, pt/lnk -> ../elsewhere too: as the next run would)
            if any(re.fullmatch(s.reach, spelled) for spelled in _spellings(folder)):  # type: ignore[arg-type]
                return Scanned(real, False, s.arg)
        up = os.path.dirname(real)
        while True:
            if up in self.below:
                return self.below[up]
            if os.path.dirname(up) == up:
                return None
            up = os.path.dirname(up)


def _where(s: Scanned) -> str:
    return f"{s.folder}, through the link {s.through}" if s.through else s.folder


def folders_in_inputs(out: Path, folders: dict[Path, Path], scanned: Sequence[Scanned]) -> list[str]:
    """The output folders that are (by their real paths) folders the inputs are read from: ``--out-dir`` itself, or
    a folder below it that a link takes into the inputs.  A link in the inputs to the output folder, or one from the
    output folder into the inputs, let a run write into its inputs (the next run read its own outputs)."""
    inputs = InputFolders(scanned)
    s = inputs.reads(out, os.path.realpath(out))
    if s is not None:
        return [f"--out-dir {out}: is inside the input {s.arg} ({_where(s)}); the results would become inputs "
                "on the next run: choose a folder outside it"]
    inside = {folder: (real, s) for folder, src in folders.items()
              if (s := inputs.reads(folder, real := os.path.realpath(folder))) is not None}

    def linked(folder: Path, real: str) -> str:
        return "" if os.path.normcase(os.path.abspath(folder)) == real else f" {real} through a link,"

    return [f"{folder}: is{linked(folder, real)} inside the input {s.arg} ({_where(s)}); the output of {folders[folder]} "
            "would become an input on the next run: choose a folder outside it"
            for folder, (real, s) in inside.items() if folder.parent not in inside]  # (the link's folder, not each below it)


def report_in_inputs(report: str | os.PathLike, scanned: Sequence[Scanned]) -> str | None:
    """The refusal of a ``--report`` the next run would read as an input, or None: named as an input file is
    (``r.csv``, ``r.png``; a ``.json`` is none), in a folder the inputs are read from, and, for a pattern, a name its
    last part matches (``'sl/*.png'`` reads no ``sl/r.csv``).  Said as an output folder there is
    (:func:`folders_in_inputs`).

    >>> report_in_inputs("/nonexistent/sl/r.csv", [Scanned("/nonexistent/sl", False, "sl")])
    '--report /nonexistent/sl/r.csv: is inside the input sl (/nonexistent/sl); the report would be read as an input on the next run: choose a file outside it, or a .json name'
    >>> report_in_inputs("/nonexistent/sl/r.json", [Scanned("/nonexistent/sl", False, "sl")]) is None
    True
    """
    dest = Path(report)
    hidden = dest.name.startswith(".")
    if not is_input_name(dest, hidden=True):
        return None
    folder = dest.absolute().parent
    s = InputFolders(scanned).reads(folder, os.path.realpath(folder))
    if s is None or not _named_by(s.arg, dest.name, hidden):
        return None
    return (f"--report {report}: is inside the input {s.arg} ({_where(s)}); the report would be read as an input on the "
            "next run: choose a file outside it, or a .json name")


def _named_by(arg: str, name: str, hidden: bool) -> bool:
    """Whether the input argument ``arg`` (a folder, or a pattern) would read a file named ``name`` in a folder it
    reads: a folder its files not hidden, a pattern those its last part matches (a hidden one only where that part
    starts with ``.``, as glob reads it).

    >>> _named_by("sl", "r.csv", False), _named_by("sl/*.png", "r.csv", False), _named_by("sl/*", ".r.csv", True)
    (True, False, False)
    """
    if not has_glob(arg):
        return not hidden
    last = os.path.basename(arg.rstrip("/"))
    if hidden and not last.startswith("."):
        return False
    return fnmatch.fnmatchcase(name, last)


def _spellings(folder: Path) -> list[str]:
    """``folder``'s absolute paths with its links resolved up to each of its ancestors, the rest as spelled: a
    pattern follows a link below its root as it is named ('pt/lnk', for 'pt/*/*.png'), a folder that does not exist
    yet too.

    >>> _spellings(Path("/nonexistent/a"))
    ['/nonexistent/a']
    """
    path = os.path.abspath(folder)
    found = [os.path.realpath(path)]
    head, rest = path, ""
    while True:
        head, name = os.path.split(head)
        if not name:
            break
        rest = os.path.join(name, rest) if rest else name
        found.append(os.path.join(os.path.realpath(head), rest))
    return list(dict.fromkeys(found))
