"""What a batch found: its input files, or the refusal of a batch that named a file that is not there.

:func:`discover_inputs` finds the files of a batch's arguments (folders, patterns, files) or refuses the call (exit 2);
:func:`unfound_said` says such a refusal as a refused plan says it (the ``--json`` document, the ``--report`` file);
:func:`refuse_batch_without_out_dir` refuses a batch without ``--out-dir`` before any kernel or option is read.

>>> from kernelcli.cli._batch_call import BatchOptions
>>> with unfound_said([Path("a.png")], BatchOptions(), force=False, json_out=False, quiet=True):
...     pass
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ._batch_call import BatchOptions, is_batch, refuse_one_input_options, refuse_out_with_out_dir
from ._common import print_json
from ._report_writes import write_refused_report


@contextlib.contextmanager
def unfound_said(inputs: list[Path], options: BatchOptions, *, force: bool, json_out: bool, quiet: bool) -> Iterator[None]:
    """Around a batch's discovery (a refusal raised as it is): where a file named in it is missing or not a regular
    file, the refusal's records (:func:`kernelcli.batch_plan.named_records`) are printed with ``--json`` as a batch's
    document, and written to ``--report``, checked as a plan checks it, and not over an existing file where a folder not
    read yet or a pattern that matches files may name it as an input (:func:`kernelcli.batch_patterns.may_name`): as a
    refused plan says them.

    >>> with unfound_said([Path("a.png")], BatchOptions(), force=False, json_out=False, quiet=True):
    ...     pass
    """
    from ..errors import KernelcliError

    try:
        yield
    except KernelcliError as refused:
        records = getattr(refused, "records", None)
        if records is not None and options.out_dir is not None:
            _say_unfound(records, inputs, options, force=force, json_out=json_out, quiet=quiet)
        raise


def _say_unfound(records: list[Any], inputs: list[Path], options: BatchOptions, *, force: bool, json_out: bool,
                 quiet: bool) -> None:
    from ..batch_patterns import may_name
    from ..batch_plan import is_batch_argument
    from ..batch_records import BatchResult
    from ..batch_targets import check_report_path
    from ..errors import KernelcliError, OutputRefused
    from ._common import call_note
    from ._stdout_input import json_withheld

    result = BatchResult(records, None, 0)
    report = options.report
    if report is not None:
        named = [Path(arg) for arg in inputs if os.path.isfile(arg)]
        try:
            check_report_path(report, inputs=named, force=force)
            # (a missing file is no folder or pattern: it names no file that may be the report)
            naming = next((arg for arg in inputs if is_batch_argument(arg) and may_name(arg, report, options.recursive)), None)
            if os.path.lexists(report) and naming is not None:  # (a pattern that matched nothing names none)
                raise OutputRefused(f"--report {report}: exists, and {naming} among the inputs may name it (its files are "
                                    "not listed yet)")
        except KernelcliError as exc:
            call_note(f"--report {report}: not written: {str(exc).removeprefix(f'--report {report}: ')}", quiet=quiet)
        else:
            write_refused_report(report, result, force=force, quiet=quiet)
    if json_out and json_withheld(None, inputs, options.recursive) is None:
        print_json(result.as_dict())  # (else `guarded` says why none is: stdout is one of the inputs)


def discover_inputs(inputs: list[Path], options: BatchOptions, *, out: Path | None, quiet: bool) -> Any:
    """The batch's input files (:func:`kernelcli.batch_plan.discover`), or its refusal: one folder holding DICOM
    series folders alone, a pattern that matches nothing, ``--out`` given, or no ``--out-dir`` (exit 2, in that order)."""
    from ..batch_patterns import refuse_unmatched
    from ..batch_plan import discover, refuse_a_study_folder
    from ..errors import UsageError
    from ._common import call_note

    if len(inputs) == 1 and options.out_dir is None:  # a study folder: its series first, the --out advice after
        refuse_a_study_folder(inputs[0])
    refuse_out_with_out_dir(inputs, out, options.out_dir)
    if out is not None:
        refuse_unmatched(inputs)  # (said as without --out: the advice below would only lead there)
        raise UsageError("--out names one output file; for several inputs, a folder or a pattern use --out-dir DIR")
    found = discover(inputs, recursive=options.recursive)  # first: a pattern that matches nothing says so
    if said := found.skipped_note():
        call_note(said, quiet=quiet)
    if options.recursive and not any(os.path.isdir(arg) for arg in map(os.fspath, inputs)):
        call_note("--recursive: looks into the subfolders of folder inputs; none was given", quiet=quiet)
    if options.out_dir is None:
        raise UsageError("several inputs, a folder or a pattern need --out-dir DIR for the results")
    return found


def refuse_batch_without_out_dir(inputs: list[Path], options: BatchOptions, *, out: Path | None, quiet: bool,
                                 tiled: bool = False, chunks: Any = None, one_input: dict[str, Any] | None = None) -> None:
    """Refuse a batch without ``--out-dir`` as :func:`run_batch` would, but before a kernel or option is read:
    several volumes and a kernel in mm were an 'invalid kernel' (exit 3), the image path's reading of them.
    One input the tiled path takes (a Zarr store is a folder) is no batch.  An option no batch takes (``--tiled``,
    ``--chunks``, and ``one_input``: a batch's kernels instead, ``--montage`` say) is refused first, naming it: the
    ``--out-dir`` advice would only lead to that refusal."""
    from ..tiled import files

    if options.out_dir is None and is_batch(inputs, options) and not (
            len(inputs) == 1 and files.wanted(inputs[0], out, tiled=tiled, chunks=chunks, scheduler=options.scheduler)):
        refuse_one_input_options({"--tiled": tiled or None, "--chunks": chunks}, "--scheduler or --workers")
        refuse_one_input_options(one_input or {}, "--kernel")
        discover_inputs(inputs, options, out=out, quiet=quiet)
