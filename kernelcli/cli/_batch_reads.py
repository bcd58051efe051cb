"""What a batch reads before its plan (its kernels, ``--then`` steps), refused as a plan's refusal is said: the batch's
``--report`` checked first (an existing one is exit 4, as for one input), then written with each input "not run",
the refusal's code and words, and ``--json`` printing that document, not one bare record of the folder.  One input's
call does the same with :func:`~kernelcli.cli._batch.read_reported`: a bad ``-k`` is recorded alike in both.

>>> from kernelcli.cli._batch_call import BatchOptions
>>> read_for_batch([Path("a.png"), Path("b.png")], lambda: "kernels", BatchOptions(Path("o")), force=False,
...                json_out=False, quiet=True)
'kernels'
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

#: the suffix the report's check plans outputs with where none was given and the kernels that name them were refused
_UNNAMED = "unnamed"


def read_for_batch(inputs: list[Path], read: Callable[[], Any], options: Any, *, force: bool, json_out: bool, quiet: bool,
                   out: Path | None = None, refusals: type[BaseException] | None = None) -> Any:
    """``read()`` for a batch of ``inputs`` (``options``, a :class:`~._batch_call.BatchOptions`); where it fails with
    one of ``refusals`` (default: any of ours, as one input's :func:`~._batch.read_reported`), say it as
    :func:`refuse_batch_read` does, then raise it."""
    from ..errors import KernelcliError

    try:
        return read()
    except KernelcliError as exc:
        if not isinstance(exc, refusals or KernelcliError):
            raise
        refused = exc
    refuse_batch_read(inputs, refused, options, force=force, json_out=json_out, quiet=quiet, out=out)
    raise refused


def refuse_batch_read(inputs: list[Path], refused: Any, options: Any, *, force: bool, json_out: bool, quiet: bool,
                      out: Path | None = None) -> None:
    """Record the refusal ``refused`` of what a batch read before its plan: the batch's inputs found and planned as
    :func:`~._batch.run_batch` plans them (``out``, an ``-o`` given a batch, refused first as there), where ``--report`` is checked (a refusal of the report itself, an existing
    one, raised as the plan raises it: exit 4, its ``--json`` document printed); then ``--report`` written and
    ``--json`` printed, each input "not run" with ``refused``'s code and line (its ``output`` null where its name was to
    come from what was refused, with no ``--suffix``)."""
    from ..batch_records import BatchResult, not_run
    from ..batch_targets import plan
    from ..errors import KernelcliError
    from ._batch_found import discover_inputs, unfound_said
    from ._common import error_line, print_json
    from ._report_writes import write_refused_report

    with unfound_said(inputs, options, force=force, json_out=json_out, quiet=quiet):
        found = discover_inputs(inputs, options, out=out, quiet=quiet)
    suffix = options.suffix if options.suffix is not None else _UNNAMED
    try:
        items = [(item.input, item.output) for item in plan(
            found, out_dir=options.out_dir, suffix=suffix, fmt=options.fmt, force=force, report=options.report,
            image_fmt=options.image_format)]
    except KernelcliError as planned:
        records = getattr(planned, "records", None)
        if getattr(planned, "report_refused", False) or (records is None and str(planned).startswith("--report")):
            if json_out and records is not None:  # (as run_batch says a plan refused for its report)
                for record in records if options.suffix is None else ():
                    record.output = None  # (named by what was refused: not by the plan's stand-in)
                print_json(BatchResult(records, None, 0).as_dict())
            raise
        # (the outputs' own problems are said once the kernels are right, as one input's are; an --out-dir refused
        # names no output)
        items = [(r.input, r.output) for r in records] if records else [(src.path, None) for src in found.sources]
    why = error_line(refused)
    result = BatchResult([not_run(str(src), str(dest) if options.suffix is not None and dest else None, refused.exit_code, why)
                          for src, dest in items], None, 0)  # type: ignore[arg-type]
    if options.report is not None:
        write_refused_report(options.report, result, force=force, quiet=quiet)
    if json_out:
        print_json(result.as_dict())
