"""Batch options and output shared by the file commands (convolve, pad, pool).

A command declares the batch options with the ``Annotated`` aliases below, builds its
per-file job (a ``functools.partial`` of a ``kernelcli.jobs`` function, called as
``job(input, out=path)``) and hands everything to :func:`run_inputs`:

* one input file and no ``--out-dir``: exactly the single-file behaviour (``--out`` or
  ``<stem>_<label>.<ext>``; the matrix of a ``.csv`` input on stdout);
* several inputs, a folder or a quoted pattern: :mod:`kernelcli.batch` plans every
  output (exit 4 with the list of problems, nothing done), runs the files in
  ``--workers`` processes with a progress bar on stderr (files done/total, rate, ETA;
  off with ``--quiet`` or when stderr is not a terminal), prints the written paths (or
  one ``--json`` document) on stdout, the summary ("118 ok, 2 failed, 3.1 s") on stderr,
  writes ``--report FILE``, and exits 1 if any file failed.

Only the standard library is imported at module level.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Callable

from ._common import _click_control, call_note, echo, error, error_line, exit_with, internal_error_message, note, print_json
from ._batch_call import BatchOptions, is_batch, one_volume, refuse_missing_input, refuse_one_input_options  # noqa: F401 - (the commands import them from here)
from ._batch_call import refuse_out_with_out_dir, refuse_tiled_with_out_dir, suffix_unused  # noqa: F401 - (as above)
from ._batch_found import discover_inputs, unfound_said
from ..limits import out_of_memory
from ._lines import path_line
from ._report import output_for, print_matrix_record, printed_before_sheet, printed_result, render_report
from ._report_writes import report_unwritten, write_refused_report


# declared once in options.py; re-exported for the commands that import them from here
from .options import (  # noqa: E402,F401
    FormatOption, InputsArgument, OutDirOption, OutFormat, RecursiveOption, ReportOption, SuffixOption, WorkersOption,
)


def run_inputs(
    inputs: list[Path],
    job: Callable[..., Any],
    *,
    label: str,
    options: BatchOptions,
    out: Path | None,
    force: bool,
    json_out: bool,
    quiet: bool,
) -> None:
    """Run ``job`` on one input (today's single-file behaviour) or on many (a batch).

    ``job(input, out=path)`` must do one file and return a ``jobs.Report``; ``label``
    names the default output suffix (``<stem>_<label>.<ext>``).
    """
    if is_batch(inputs, options):
        run_batch(inputs, job, label=label, options=options, out=out, force=force, json_out=json_out, quiet=quiet)
    else:
        _run_single(inputs[0], job, label=label, options=options, out=out, force=force, json_out=json_out, quiet=quiet)


def note_one_input(options: BatchOptions, *, quiet: bool, out: Any = None, input: Any = None) -> None:
    """Say that ``--workers`` and ``--recursive`` change nothing for this call: one input, run in memory
    (and ``--suffix``, which names default outputs, nothing beside ``--out``, nor for a matrix ``input`` printed on stdout).

    >>> from kernelcli.cli import _common
    >>> note_one_input(BatchOptions(workers=4), quiet=True); _common._CALL_NOTES.pop()
    '--workers 4: the processes of a batch or of --scheduler local; one input runs in this process, so it changes nothing'
    """
    if options.workers is not None:
        from ..tiled.cluster import WORKERS_SET  # (here: a call without --workers imports no cluster module)

        call_note(f"--workers {options.workers}: {WORKERS_SET}; one input runs in this process, so it changes nothing",
                  quiet=quiet)
    if options.recursive:
        call_note("--recursive: looks into the subfolders of folder inputs; one input was given", quiet=quiet)
    if said := suffix_unused(options.suffix, out, input, options.fmt):
        call_note(said, quiet=quiet)


def _run_single(input: Path, job, *, label, options: BatchOptions, out, force, json_out, quiet) -> None:
    note_one_input(options, quiet=quiet, out=out, input=input)
    label = options.suffix if options.suffix is not None else label
    target = output_for(input, out, label)
    if out is None and options.fmt:
        from ..io.naming import default_output

        target = default_output(input, label, fmt=options.fmt)
    report = run_reported(input, lambda: job(input, out=target), outputs=[target], report=options.report, force=force,
                          printed=printed_result(json_out))
    render_report(report, json_out=json_out, quiet=quiet)


def _timed(result: Any, start: float) -> Any:
    """``result`` (a job's report) with its ``seconds`` set to the time since ``start``: the whole job's."""
    import time

    if hasattr(result, "seconds"):
        result.seconds = time.perf_counter() - start
    return result


class _NotChosen:
    """The output of a call whose default name could not be chosen (:func:`chosen_output`): no file, and not stdout."""

    def __repr__(self) -> str:
        return "NOT_CHOSEN"


#: what :func:`chosen_output` gives where naming the output fails: its record's ``output`` is null (None is stdout)
NOT_CHOSEN: Any = _NotChosen()


def chosen_output(out: Any, choose: Callable[[], Any]) -> Any:
    """``out``, else the file the job names by default (a volume's, a tiled run's), chosen here, before
    :func:`run_reported` checks ``--report`` against it: a report of that name replaced the result it was written beside.
    :data:`NOT_CHOSEN` where naming it fails (an invalid kernel): the job then fails the same way, in its record,
    whose ``output`` is null.

    >>> chosen_output(None, lambda: Path("t_maxpool2.nii.gz")), chosen_output(Path("o.nii"), lambda: 1 / 0)
    (PosixPath('t_maxpool2.nii.gz'), PosixPath('o.nii'))
    >>> from kernelcli.errors import InvalidKernel
    >>> def unknown(): raise InvalidKernel("nosuch")
    >>> chosen_output(None, unknown)
    NOT_CHOSEN
    """
    from ..errors import KernelcliError

    if out is not None:
        return out
    try:
        return choose()
    except KernelcliError:
        return NOT_CHOSEN


def run_reported(input: Path, call: Callable[[], Any], *, outputs: list[Any], report: Path | None, force: bool,
                 printed: Callable[[Any], None] | None = None, sheet: Any = None) -> Any:
    """``call()`` for one input; with ``--report FILE`` also write the batch document with one record.

    ``outputs`` are the paths ``call`` will write (None for stdout, :data:`NOT_CHOSEN` for a default name that could
    not be chosen: the record's ``output`` null): the report may not be one of them.  The report is written whether the job succeeds or fails; errors then
    propagate to ``guarded`` as without ``--report``.  The result's ``seconds`` become the whole
    call's (read, compute and write), as a batch's records and the report's time them: one measure.  ``printed(result)``
    prints a result that is printed on stdout (a matrix or its --json record: :func:`~._report.printed_result`) before the record says ok, as
    ``-o -``'s is copied there: a stdout that did not take it was recorded 'ok', code 0, the call exiting 1.  A --json
    record printed so carries the notes, as a file output's does: the report is written just before it (the record
    "--report r.json: not written: ..."), and written again, failed, where stdout then does not take the record.
    A ``--montage`` ``sheet`` beside a matrix printed on stdout is published once stdout has taken it
    (:func:`~._report.printed_before_sheet`): the report is written first there too.
    """
    import time
    import traceback

    from ..batch import BatchResult, Record
    from ..batch_targets import check_report_path
    from ..errors import KernelcliError
    from ..io.pipes import is_stdio
    from ..io.published_stops import arm
    from ..stops import stop_replaced_by

    arm()  # one input: a stop once its output is published waits until the record and the listing say it (audit 199 #2)
    outputs = [None if o is not NOT_CHOSEN and is_stdio(o) else o for o in outputs]  # (a refused --montage -: stdout)
    written = [Path(o) for o in outputs if o is not None and o is not NOT_CHOSEN]
    if report is not None:
        check_report_path(report, inputs=_files_read(input), outputs=written, force=force)
    from ..io.naming import shown_path

    shown_input = shown_path(input)  # (a pipe's stand-in file is "stdin", a URL keeps its //, as a success's record says)
    call = _out_of_memory_named(call, shown_input)
    stdout = (not written or outputs[0] is None) and not any(o is NOT_CHOSEN for o in outputs)  # a matrix printed on stdout
    record = Record(shown_input, "stdout" if stdout else shown_path(written[0]) if written else None, "failed")
    start = time.perf_counter()
    if report is None:
        try:
            return _timed(printed_before_sheet(call, sheet, printed)(), start)
        except KernelcliError as exc:  # --json prints the record --report would hold (guarded: exc.record)
            record.failed(exc, shown_input, path=input)
            record.error = error_line(exc)  # (one input's call: its record's error is the line on stderr, as the README says)
            record.seconds, exc.record = time.perf_counter() - start, record  # type: ignore[attr-defined]
            raise
    stop, said_first, unwritten, shown = None, False, None, False

    def show(result: Any) -> None:  # a matrix printed on stdout (--json: the record that carries it, timed as the report's)
        nonlocal said_first, unwritten, shown
        shown = True
        _named_output(record, result)
        result = _timed(result, start)
        if said_first := printed is print_matrix_record and record.output == "stdout":  # (its notes say the report's)
            import copy

            done = copy.copy(record)  # (the record stays "failed" until stdout has taken it)
            done.finished(result)
            done.seconds = result.seconds
            unwritten = report_unwritten(report, BatchResult([done], done.seconds, 1), force=force, written=_written(done))
        printed(result)  # type: ignore[misc]

    try:
        result = printed_before_sheet(call, sheet, show if printed is not None else None)()
        from ..io.pipes import deliver_stdout

        _named_output(record, result)
        deliver_stdout()  # -o -: on stdout before the record says ok (a full disk's error is the record's)
        if printed is not None and not shown:
            show(result)
        record.finished(result)
    except BaseException as exc:  # recorded as a batch records it, then handled by `guarded` as without --report
        if not (isinstance(exc, SystemExit) or _click_control(exc)):
            replaced = stop_replaced_by(exc)  # a stop an extension's import replaced by its own error: the stop, not a bug
            record.failed(replaced or exc, shown_input, traceback.format_exc(), path=input)
            stop = replaced or (exc if isinstance(exc, KeyboardInterrupt) else None)
            if isinstance(exc, KernelcliError) and replaced is None:
                record.error = error_line(exc)  # (the line on stderr, as without --report)
            if isinstance(exc, KernelcliError):
                exc.record = record  # type: ignore[attr-defined] # --json prints it too (its seconds set below)
            if replaced is not None:
                raise replaced from exc  # (after the report is written below; `guarded` reports it as any stop)
        raise
    finally:
        record.seconds = getattr(result, "seconds", None) if stop is None and record.status == "ok" else time.perf_counter() - start
        totals = BatchResult([record], record.seconds, 1)
        if stop is not None:  # as a batch's totals; the record as --json prints it (guarded's): its error, no seconds
            totals.interrupted, totals.interrupt_code = True, record.code
            from ..batch_records import not_run_error, stopped_by

            record.error, record.seconds = not_run_error(stopped_by(record.code)), None  # type: ignore[assignment]
            stop.reported = True  # type: ignore[attr-defined] # (guarded writes no other)
        if record.status != "ok":  # (the job's error stays the call's; a report not written is said in a note)
            write_refused_report(report, totals, force=force or (said_first and unwritten is None), quiet=False,
                                 make_folder=False)
    # the output is written: a report that cannot be is said after the result, as a batch says it (render_report)
    result.report_unwritten = unwritten if said_first else report_unwritten(report, totals, force=force, written=_written(record))
    return result


def _named_output(record: Any, result: Any) -> None:
    """Name in ``record`` the output the job chose: its default name (a volume's, a tiled run's), or stdout where a
    matrix's maps are printed there (a --montage's sheet beside them too)."""
    if getattr(result, "output", None) is not None:
        record.output = str(result.output)
    elif getattr(result, "matrix", None) is not None:
        record.output = "stdout"


def _written(record: Any) -> str:
    """What one input's call has written, for the error of its ``--report`` (:func:`report_unwritten`).

    >>> from kernelcli.batch import Record
    >>> _written(Record("a.png", "o.png", "ok")), _written(Record("m.csv", "stdout", "ok"))
    ('the output o.png is written', 'the result is printed on stdout')
    """
    from ..io.naming import shown_path

    if record.output in (None, "stdout"):
        return "the result is printed on stdout"
    return f"the output {shown_path(record.output)} is written"


def _out_of_memory_named(call: Callable[[], Any], name: str) -> Callable[[], Any]:
    """``call`` whose MemoryError is the input's own error (:func:`kernelcli.limits.out_of_memory`), so that its line,
    its ``--json`` record and its ``--report`` record are one (a batch's record says the same)."""

    def named() -> Any:
        try:
            return call()
        except MemoryError:
            pass  # raised below, once the call's frames (and the arrays they hold) are freed: its report needs memory
        raise out_of_memory(name)

    return named


def read_reported(input: Path, read: Callable[[], Any], *, out: Any, report: Path | None, force: bool,
                  montage: Any = None) -> Any:
    """``read()``: what one input's job reads before the input (its kernels: an unknown one is exit 3); where that
    fails with ``--report``, the report is written as for the job failing (:func:`run_reported`; ``--json`` prints
    its record), the output null where its default name would have come from what was read.  As a volume's call,
    which reads its kernel inside the job: the image, chain and tiled paths wrote no report for ``-k nosuch``
    (audit 150 #5).  Without ``--report`` the error goes as it is (its record is the command line's).

    >>> read_reported(Path("a.png"), lambda: "read", out=None, report=None, force=False)
    'read'
    """
    from ..errors import KernelcliError

    try:
        return read()
    except KernelcliError as exc:
        if report is None:
            raise
        refused = exc

    def refuse() -> Any:
        raise refused

    named = out if out is not None else montage if montage is not None else NOT_CHOSEN
    return run_reported(input, refuse, outputs=[named, montage], report=report, force=force)  # (raises `refused`)


def _files_read(input: Path) -> list[Path]:
    """``input`` and, for a folder (a DICOM series), the files in it its reader opens: each an input, known before
    anything is done (a ``--report`` over one of them replaced a slice of the series).

    >>> _files_read(Path("no/such.nii"))
    [PosixPath('no/such.nii')]
    """
    try:
        return [input, *(e for e in input.iterdir() if not e.name.startswith(".") and e.is_file())]
    except OSError:  # not a folder (or not one to list: the reader says so)
        return [input]


def run_batch(
    inputs: list[Path],
    job: Callable[..., Any],
    *,
    label: str,
    options: BatchOptions,
    out: Path | None = None,
    force: bool = False,
    json_out: bool = False,
    quiet: bool = False,
    volume_label: str | None = None,
) -> None:
    """Plan, run and report a batch: ``job(input, out=path)`` for every input found (``volume_label``: a volume
    input's ``label``, where a volume is named by other words than an image).

    Exits (:func:`~kernelcli.cli._common.exit_with`) with 1 when a file failed, 70 when one hit a bug, 130 on Ctrl-C;
    planning problems raise our errors (exit 2 or 4) before anything is written.
    """
    from ..batch import BatchInterrupted, run
    from ..batch_targets import plan
    from ..errors import KernelcliError

    with unfound_said(inputs, options, force=force, json_out=json_out, quiet=quiet):
        found = discover_inputs(inputs, options, out=out, quiet=quiet)
    suffix = options.suffix if options.suffix is not None else label  # '' is given: <stem>.<ext>
    try:
        items = plan(found, out_dir=options.out_dir, suffix=suffix, fmt=options.fmt, force=force, report=options.report,
                     image_fmt=options.image_format, volume_suffix=None if options.suffix is not None else volume_label)
    except KernelcliError as refused:  # as a one-input call's refused output is recorded (not when --report is the problem)
        records = getattr(refused, "records", None)
        if records is not None:  # --report and --json: one document, the batch's
            from ..batch_records import BatchResult

            if options.report is not None and not getattr(refused, "report_refused", False):
                write_refused_report(options.report, BatchResult(records, None, 0), force=force, quiet=quiet)
            if json_out:
                print_json(BatchResult(records, None, 0).as_dict())
        raise
    from ..tiled.cluster import unused_workers
    if (said := unused_workers(options.workers, options.scheduler, tiles=False)) is not None:  # (a running cluster's)
        call_note(said, quiet=quiet)
    show_bar = not quiet and sys.stderr.isatty()
    from ._batch_display import BatchDisplay  # (a batch's alone: one input's call does not import it)

    display = BatchDisplay(len(items), bar=show_bar, quiet=quiet, order=[str(item.input) for item in items])
    try:
        with display:
            result = run(items, job, workers=options.workers, progress=display.update, scheduler=options.scheduler)
    except BatchInterrupted as stop:
        result = stop.result
        unwritten = report_unwritten(options.report, result, force=force, written=f"the run's {result.ok} output(s) are written")
        _say_result(result, display, json_out=json_out, quiet=quiet, unwritten=unwritten)  # (as a finished run says it)
        error(f"interrupted after {result.ok + result.failed} of {len(items)} files; finished outputs are kept, temporary files removed")
        raise exit_with(result.exit_code) from None  # (an unwritten report does not hide the interruption)
    from ..io.outputs import signals_deferred

    try:
        with signals_deferred():  # every file is done: a signal now waits until the report and the document are out
            unwritten = report_unwritten(options.report, result, force=force, written=f"the run's {result.ok} output(s) are written")
            _say_result(result, display, json_out=json_out, quiet=quiet, unwritten=unwritten)
    except KeyboardInterrupt as stop:  # (raised at the block's end: the report is this run's, not an earlier one's)
        stop.reported = True  # type: ignore[attr-defined]
        raise
    internal = [r for r in result.records if r.internal]
    if internal:
        from ._common import debug_enabled

        if debug_enabled():
            for r in internal:
                sys.stderr.write(r.traceback or "")
        error(internal_error_message(f"{len(internal)} file(s) hit an unexpected error (first: {internal[0].error})"))
    elif unwritten is not None:  # (a bug in a file still says 70)
        raise exit_with(unwritten.exit_code)
    if result.exit_code:
        raise exit_with(result.exit_code)


def _say_result(result: Any, display: Any, *, json_out: bool, quiet: bool, unwritten: Any = None) -> None:
    """What a batch says at its end, finished or stopped: the files' notes (grouped) and the run's on stderr, then the
    JSON document or the outputs written, one per line, then the summary (``-q``: the document alone, if asked), then
    ``unwritten``, the error of a report that could not be written (:func:`~._report_writes.report_unwritten`): also where stdout
    failed (the same full disk), whose error ends the call.

    >>> _say_result(None, None, json_out=False, quiet=True)
    """
    try:
        _say_outcome(result, display, json_out=json_out, quiet=quiet)
    finally:
        if unwritten is not None:
            error(str(unwritten))


def _say_outcome(result: Any, display: Any, *, json_out: bool, quiet: bool) -> None:
    if not quiet:
        display.print_notes()
        for line in result.notes:
            note(f"note: {line}")
    if json_out:
        print_json(result.as_dict())
    elif not quiet:  # -q: the files are the answer; nothing is printed
        for record in result.records:
            if record.status == "ok":
                echo(path_line(record.output))
    if not quiet:
        note(result.summary())
