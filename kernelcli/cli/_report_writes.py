"""Writing ``--report`` where the run's own refusal or outputs come first: a report that cannot be written does not
hide them.  A batch's and one input's report alike (:mod:`kernelcli.cli._batch`): the outputs written are listed, the
summary and the ``--json`` record or document say them, and the report's error, worded to say the outputs are
written, ends the call.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ._common import write_report


def report_unwritten(report: Path | None, result: Any, *, force: bool, written: str) -> Any:
    """Write the ``--report`` of a run whose outputs are written (a batch's, finished or stopped; one input's that
    succeeded); return, not raise, the error of one that cannot be written (it appeared meanwhile: exit 4; a full
    disk: exit 1), worded for the end of the run (``written``: what is written, "the run's 2 output(s) are written"),
    and noted in the records: the document or record, the summary and the exit code still tell of the outputs.

    >>> report_unwritten(None, None, force=False, written="the output o.png is written") is None
    True
    """
    from ..errors import KernelcliError
    from ._common import call_note

    if report is None:
        return None
    try:
        write_report(report, result, force=force)
    except KernelcliError as exc:
        reason = str(exc).removeprefix(f"{report}: ")
        call_note(f"--report {report}: not written: {reason}", quiet=True)
        unwritten = type(exc)(f"--report {report}: {reason}; {written}")
        unwritten.exit_code = exc.exit_code
        return unwritten
    return None


def write_refused_report(report: Path, result: Any, *, force: bool, quiet: bool, make_folder: bool = True) -> None:
    """Write the report of a run refused while planning (``make_folder``: in a folder the run would have made,
    ``--out-dir results --report results/r.json``, made for it: nothing else is written), or of one input's job that
    failed.  A report that cannot be written is said in one note, and in the records: the failure's error and code
    stay the run's (a full disk for the report hid the job's own error)."""
    from ..errors import KernelcliError
    from ._common import call_note

    try:
        if make_folder:
            Path(report).absolute().parent.mkdir(parents=True, exist_ok=True)
        write_report(report, result, force=force)
    except (OSError, KernelcliError) as exc:
        reason = exc.strerror or str(exc) if isinstance(exc, OSError) else str(exc).removeprefix(f"{report}: ")
        call_note(f"--report {report}: not written: {reason}", quiet=quiet)
