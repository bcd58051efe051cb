"""What a batch reports: a :class:`Record` per item, the :class:`BatchResult` of them all, and
the JSON record of one input (:func:`record_document`), the same for one input's ``--json``,
each item of a batch and ``--report``.  Split from :mod:`kernelcli.batch` (which runs the
items and re-exports every name here).

>>> result = BatchResult([Record("a.png", "out/a.png", "ok"), Record("b.png", "out/b.png", "failed", code=1)], 0.5, 1)
>>> result.summary(), result.exit_code
('1 ok, 1 failed, 0.5 s', 1)
"""

from __future__ import annotations

import os
import re
from typing import Any

from .errors import (
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_ITEM_FAILED,
    EXIT_OK,
    EXIT_REFUSED,
)
from .limits import out_of_memory, ran_out_of_memory
from .records import field, record


#: a record's error where stdout was closed before it took the result (``| head -c 10``): not a bug
STDOUT_CLOSED = "stdout: closed by the reader (broken pipe)"


@record
class Record:
    """What happened to one item."""

    input: str
    output: str
    status: str  # "ok", "failed" or "not run" (interrupted before it finished)
    error: str | None = None
    #: None where nothing was measured: not run, or found written after the fact (an interrupted run's file, a dead worker's)
    seconds: float | None = None
    notes: list[str] = field(default_factory=list)
    internal: bool = False  # the error was a bug (an exception we did not expect)
    traceback: str | None = None
    #: the exit code this item alone would give (0 ok, 4 refused to write, 2 bad input, ...)
    code: int = EXIT_OK
    #: the job report's own facts (operation, shapes, range, dtype, ...) when it finished
    facts: dict[str, Any] | None = None

    def finished(self, report: Any) -> None:
        """Keep what a job that finished reports: its notes and facts (``report.as_dict()``)."""
        self.status = "ok"
        self.notes = [str(n) for n in (getattr(report, "notes", None) or [])]
        if hasattr(report, "as_dict"):
            self.facts = {k: v for k, v in report.as_dict().items() if k not in ("input", "output", "seconds", "notes")}

    def failed(self, exc: BaseException, name: str, tb: str | None = None, path: Any = None) -> None:
        """Keep why the job failed, with the code the input alone exits with; ``name`` (the input) starts a
        message that does not name it (:func:`names_input`; ``path``, the input's path where ``name`` shows it
        otherwise, a pipe's "stdin").  ``tb``: the traceback of a bug (an exception we did not expect).

        >>> r = Record("a.png", "o.png", "ok"); r.failed(KeyboardInterrupt(), "a.png"); (r.status, r.code)
        ('not run', 130)
        >>> r.failed(BrokenPipeError(32, "Broken pipe"), "a.png"); (r.code, r.error)
        (1, 'stdout: closed by the reader (broken pipe)')
        >>> r.failed(MemoryError(), "a.png"); (r.code, r.error.split(";")[0])
        (2, 'a.png: not enough memory for this operation')
        >>> r.failed(ImportError("m.so: failed to map segment from shared object"), "a.png"); (r.code, r.internal)
        (2, False)
        """
        from .errors import KernelcliError, interrupt_exit_code
        from .io.output_checks import too_long_error
        from .kernel_syntax import VolumeKernelRefused
        from .stops import replaced_stop

        self.status = "failed"
        exc = too_long_error(exc) or exc  # a path the user gave: not a bug
        if ran_out_of_memory(exc):  # not a bug: the input alone says so, in these words and with this code
            exc = out_of_memory(name)
        if isinstance(exc, VolumeKernelRefused):  # (load_kernel's words are the API's; an item's, the command line's)
            exc = exc.worded("")
        if isinstance(exc, KernelcliError):
            message = str(exc)
            named = names_input(message, name) if path is None else names_input(message, os.path.basename(path), path)
            self.error, self.code = message if named else f"{name}: {message}", exc.exit_code
        elif isinstance(exc, BrokenPipeError):  # a reader that closed stdout early (| head): the call exits 1, in silence
            self.error, self.code = STDOUT_CLOSED, EXIT_ITEM_FAILED
        elif isinstance(exc, KeyboardInterrupt) or replaced_stop() is not None:  # Ctrl-C, SIGTERM, SIGHUP: stopped
            # before it finished (also where an extension's import replaced the stop by its own error: not a bug)
            self.status, self.code = "not run", interrupt_exit_code(exc if isinstance(exc, KeyboardInterrupt) else replaced_stop())
            self.error = stopped_by(self.code)
        else:
            self.internal, self.code, self.traceback = True, EXIT_INTERNAL, tb
            self.error = f"{name}: internal error: {type(exc).__name__}: {' '.join(str(exc).split())}"

    def as_dict(self) -> dict[str, Any]:
        """The JSON record of :data:`RECORD_FIELDS`: the same fields as one input's ``--json``."""
        return record_document(self.facts, input=self.input, output=self.output, status=self.status, code=self.code,
                               error=self.error, seconds=self.seconds, notes=self.notes)


def names_input(message: str, name: str, path: Any = None) -> bool:
    """Whether ``message`` names the input ``name`` (a file's name or path) as a path: the whole name, from the start,
    a space, a quote or a ``/`` to a ``:``, a space, punctuation or the end; a batch's error that does not is prefixed
    with it.  A name inside another (``r.npy`` in ``--out-dir r.npy_out``) is not the input named (it went unprefixed).
    ``path``: the input as the batch shows it; then a name after a ``/`` is the input's only in the input's own path
    (``o/a.png``, its output under ``--suffix ''``, is not the input ``in/a.png``).

    >>> names_input("a.png: cannot decode", "a.png"), names_input("in/a.png: cannot decode", "a.png")
    (True, True)
    >>> names_input("r.npy_out/r_sobel_v.png: --rescale none needs a float output", "r.npy")
    False
    >>> names_input("o/a.png: needs a float output", "a.png", "in/a.png"), names_input("in/a.png: bad", "a.png", "in/a.png")
    (False, True)
    """
    for match in re.finditer(rf"(?:^|[\s/'\"(]){re.escape(name)}(?=$|[\s:,;)'\"])", message):
        if path is None or not match.group().startswith("/"):
            return True
        before = message[:match.end()]  # (the name ends the input's path, as given or absolute, whole: a folder of
        for said in (str(path), os.path.abspath(path)):  # the same name at the end of another, o/ of in/, is not it)
            if before.endswith(said) and (len(before) == len(said) or before[-len(said) - 1] in " \t\n'\"("):
                return True
    return False


def stopped_by(code: int) -> str:
    """What stopped a run that exits ``code`` (130, 143, 129), as a "not run" record's error says it.

    >>> stopped_by(130), stopped_by(143), stopped_by(129)
    ('interrupted', 'terminated (SIGTERM)', 'hung up (SIGHUP)')
    """
    import signal

    words = {signal.SIGTERM: "terminated (SIGTERM)", getattr(signal, "SIGHUP", None): "hung up (SIGHUP)"}
    return words.get(code - 128, "interrupted")


def not_run(item_input: str, item_output: str, code: int, why: str) -> Record:
    """The one record of an input that was not run (an interrupted batch's, a refused plan's): its error says why,
    its ``seconds`` are None (nothing was measured), its code is the run's.

    >>> r = not_run("a.png", "o.png", 143, stopped_by(143)); (r.status, r.code, r.error, r.seconds)
    ('not run', 143, 'not run: terminated (SIGTERM)', None)
    """
    return Record(item_input, item_output, "not run", error=not_run_error(why), seconds=None, code=code)


def not_run_error(why: str) -> str:
    """The error of a record that was not run, in every record's words (one input's, a batch's, a report's).

    >>> not_run_error(stopped_by(143))
    'not run: terminated (SIGTERM)'
    """
    return f"not run: {why}"


#: every record (``--json`` of one input, each item of a batch, ``--report``) has these fields;
#: a job may add its own (``matrix``, ``kernel``, a volume's ``spacing``...)
RECORD_FIELDS = (
    "input", "output", "status", "code", "error", "operation", "input_shape", "output_shape",
    "minimum", "maximum", "dtype", "clipped_low", "clipped_high", "total", "seconds", "notes",
)


def record_document(report: Any = None, **given: Any) -> dict[str, Any]:
    """One input's JSON record: :data:`RECORD_FIELDS` in order (None when unknown, e.g. after
    a failure), then the job's own facts.  ``report`` is a job report or its ``as_dict()``.

    >>> list(record_document(None, input="a.png", status="failed", error="bad")) == list(RECORD_FIELDS)
    True
    """
    facts = dict(report if isinstance(report, dict) or report is None else report.as_dict()) if report is not None else {}
    facts.setdefault("status", "ok")
    facts.setdefault("code", EXIT_OK)
    facts.setdefault("error", None)
    facts.update({k: v for k, v in given.items() if v is not None or k == "error"})
    if "seconds" in facts and facts["seconds"] is not None:
        facts["seconds"] = round(float(facts["seconds"]), 6)
    facts["notes"] = [str(n) for n in facts.get("notes") or []]
    document = {name: facts.pop(name, None) for name in RECORD_FIELDS}
    document.update(facts)
    return document


@record
class BatchResult:
    """Every record, in input order, and the totals."""

    records: list[Record]
    #: the run's wall time; None where nothing ran (a refused or stopped-before-the-start batch)
    seconds: float | None
    workers: int
    interrupted: bool = False
    notes: list[str] = field(default_factory=list)
    #: the exit code of the interruption: 130 (Ctrl-C), 143 (SIGTERM), 129 (SIGHUP)
    interrupt_code: int = EXIT_INTERRUPTED

    def count(self, status: str) -> int:
        """How many records have ``status``."""
        return sum(r.status == status for r in self.records)

    @property
    def ok(self) -> int:
        return self.count("ok")

    @property
    def failed(self) -> int:
        return self.count("failed")

    @property
    def exit_code(self) -> int:
        """128 + the signal if interrupted (130 for Ctrl-C), 70 if an item hit a bug, 4 if
        every failed item was refused (its output appeared meanwhile), 1 if an item failed, else 0."""
        if self.interrupted:
            return self.interrupt_code
        if any(r.internal for r in self.records):
            return EXIT_INTERNAL
        failed = [r for r in self.records if r.status == "failed"]
        if failed and all(r.code == EXIT_REFUSED for r in failed):
            return EXIT_REFUSED
        return EXIT_ITEM_FAILED if failed else EXIT_OK

    def summary(self) -> str:
        """``118 ok, 2 failed, 3.1 s`` (and how many were not run after an interruption)."""
        parts = [f"{self.ok} ok", f"{self.failed} failed"]
        not_run = self.count("not run")
        if not_run:
            parts.append(f"{not_run} not run")
        return ", ".join(parts) + ("" if self.seconds is None else f", {self.seconds:.1f} s")

    def as_dict(self) -> dict[str, Any]:
        """One JSON-ready document: ``items`` (a record per input) and ``totals``."""
        return {
            "items": [r.as_dict() for r in self.records],
            "totals": {
                "total": len(self.records),
                "ok": self.ok,
                "failed": self.failed,
                "not_run": self.count("not run"),
                "seconds": None if self.seconds is None else round(self.seconds, 3),
                "workers": self.workers,
                "interrupted": self.interrupted,
            },
        }


class BatchInterrupted(KeyboardInterrupt):
    """Ctrl-C during :func:`run`: temporary files are gone; ``result`` holds what finished."""

    def __init__(self, result: BatchResult) -> None:
        super().__init__("interrupted")
        self.result = result
