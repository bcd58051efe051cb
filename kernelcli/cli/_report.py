"""What a file job prints when it is done: notes and a summary line on stderr, the output on stdout.

>>> from types import SimpleNamespace
>>> report = SimpleNamespace(input="ct.png", input_shape=(4, 4), output_shape=(2, 2), operation="maxpool2",
...                          minimum=0, maximum=255, seconds=0.0012)
>>> summary_line(report, "ct_maxpool2.png")
'ct.png 4x4, maxpool2 -> ct_maxpool2.png 2x2, range [0, 255], 1.2 ms'
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ._common import echo, note, print_json
from ._lines import SHOWN_AS, path_line, shown, single_line


def render_report(report: Any, *, json_out: bool, quiet: bool) -> None:
    """Print a file job's result: notes and a one-line summary on stderr; the output path,
    the matrix or one JSON document (the record a batch gives this input) on stdout.
    ``quiet`` leaves only the matrix or the JSON document.  With ``--out -`` stdout carries the result alone: no
    name is listed there (a ``--montage``'s sheet is named in the summary line, ``-> stdout 3x3x2, sheet ex.png``)."""
    destination = "stdout" if report.output is None or to_stdout(report.output) else report.output
    if not quiet:
        for line in report.notes:
            note(shown(f"note: {line}"))
    if json_out:
        print_record(report)
    elif report.matrix is not None:
        print_matrix(report)
    elif not quiet and destination != "stdout":  # -q: a written file is the answer.  Every file written, the sheet too
        for written in dict.fromkeys(str(path) for path in (report.output, report.montage) if path):
            echo(path_line(written))
    if not quiet:
        note(summary_line(report, destination))
    if (unwritten := getattr(report, "report_unwritten", None)) is not None:
        raise unwritten  # (--report could not be written; the output is: said above, and in the record's notes)


def print_matrix(report: Any) -> None:
    """Print the matrix that is a job's result on stdout as a table (several maps, each under a ``# label`` line), once:
    :func:`kernelcli.cli._batch.run_reported` prints it before its ``--report`` record says ok (a stdout that did not
    take it was recorded 'ok', code 0, the call exiting 1), :func:`render_report` where that did not.

    >>> from types import SimpleNamespace
    >>> report = SimpleNamespace(matrix=[[1, 2]], maps=None)
    >>> print_matrix(report); print_matrix(report)
    1 2
    """
    if report.matrix is None or getattr(report, "matrix_printed", False):
        return
    from ..io.matrices import format_matrix_table

    report.matrix_printed = True
    if report.maps:
        echo("\n".join(f"# {label}\n{format_matrix_table(matrix)}" for label, matrix in zip(report.maps, report.matrix)), nl=False)
    else:
        echo(format_matrix_table(report.matrix), nl=False)


def printed_result(json_out: bool) -> Any:
    """How :func:`kernelcli.cli._batch.run_reported` prints a result on stdout before its ``--report`` record says ok:
    the matrix (:func:`print_matrix`), or with ``--json`` the record that carries it (:func:`print_matrix_record`).

    >>> printed_result(True).__name__, printed_result(False).__name__
    ('print_matrix_record', 'print_matrix')
    """
    return print_matrix_record if json_out else print_matrix


def printed_before_sheet(call: Callable[[], Any], montage: Any, printed: Callable[[Any], None] | None) -> Callable[[], Any]:
    """``call`` (a job that may print a matrix on stdout beside its ``--montage`` sheet) whose sheet is published only
    once stdout has taken the matrix, printed inside the job's :func:`~kernelcli.io.outputs.written_together` (a full
    stdout left the sheet published, unmentioned, and the rerun refused for it); ``--out -``'s bytes are sent there too.
    The job's seconds are its own (read, compute, write), as :func:`kernelcli.cli._batch.run_reported` times them.
    ``call`` itself where there is no sheet, or nothing printed.

    >>> printed_before_sheet(print, None, print) is print
    True
    """
    if montage is None or printed is None:
        return call

    def held() -> Any:
        import time

        from ..io.outputs import written_together

        start = time.perf_counter()
        with written_together():  # (the job's own block publishes inside this one: at its end, after the print)
            result = call()
            if getattr(result, "matrix", None) is not None:
                result.seconds = time.perf_counter() - start
                printed(result)
        return result

    return held


def print_matrix_record(report: Any) -> None:
    """With ``--json``, print the record of a job whose result is a matrix on stdout (the record carries it): there the
    record is the result, so it is printed before ``--report`` says ok, as :func:`print_matrix` prints a table.  A job
    that wrote a file has its record printed by :func:`render_report`, after the report."""
    if report.matrix is not None:
        print_record(report)


def print_record(report: Any) -> None:
    """Print a job's ``--json`` record on stdout, once (a matrix printed on stdout: its output "stdout", as the summary
    line and a ``--report`` record name it)."""
    if getattr(report, "record_printed", False):
        return
    from ..batch import record_document

    report.record_printed = True
    print_json(record_document(report, output="stdout" if report.output is None and report.matrix is not None else None))


def to_stdout(path: Any) -> bool:
    """Whether ``path`` is the stand-in file of ``--out -`` (shown as ``stdout``), whose bytes go to stdout.

    >>> to_stdout("ct_sobel_v.png")
    False
    """
    return SHOWN_AS.get(str(path)) == "stdout"


def summary_line(report: Any, destination: str) -> str:
    """The one-line summary of a file job: shapes, operation, where it went, range, time; a matrix's maps printed on
    stdout beside a sheet (``--montage``) name the sheet after them (``-> stdout 3x3x2, sheet ex.png``)."""
    shape_in = "x".join(map(str, report.input_shape))
    shape_out = "x".join(map(str, report.output_shape))
    montage = getattr(report, "montage", None)
    sheet = f", sheet {montage}" if destination == "stdout" and montage and not to_stdout(montage) else ""  # (gallery's sheet is the output)
    return single_line(shown(
        f"{report.input} {shape_in}, {report.operation} -> {destination} {shape_out}{sheet}, "
        f"range [{_extreme(report.minimum)}, {_extreme(report.maximum)}], {report.seconds * 1000:.1f} ms"
    ))


def _extreme(value: Any) -> str:
    """A record's minimum or maximum for the summary line: an int in full (as the record has it), a float to 6 digits."""
    return str(value) if isinstance(value, int) else f"{value:.6g}"


def output_for(input: Any, out: Any, label: str) -> Any:
    """The output path: ``out`` if given, None for a matrix (printed), else ``<stem>_<label>.<ext>``."""
    from ..io.naming import default_output, is_matrix_path

    if out is not None or is_matrix_path(input):
        return out
    return default_output(input, label)
