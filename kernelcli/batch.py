"""Many inputs -> results: find the inputs, plan every output, run the jobs, report.

No terminal here: progress goes to an injected callback, problems are our own errors,
and the CLI (``kernelcli.cli._batch``) decides what to print.

The three steps
---------------
1. :func:`discover` turns the arguments into input files: paths, folders (``recursive``
   to descend; hidden files and unsupported types are skipped) and quoted glob patterns
   (``'scans/**/*.png'``).  A missing path, or a folder or pattern that yields nothing,
   is a UsageError (exit 2).
2. :func:`plan` computes every output path ``OUT_DIR/<relative folder>/<stem>_<suffix>.<ext>``
   and checks them all before any work: an output that exists (without ``force``), that
   is an input (also through a symlink or hardlink), that two inputs share, or an output
   folder inside the folders being read: OutputRefused (exit 4) listing every problem,
   and nothing is done.
3. :func:`run` calls ``job(input, out=output)`` for each item, in ``workers`` processes
   (default: ``os.cpu_count()``), each capping Numba's threads so that
   workers x threads <= cores.  A failing item is recorded and the others go on.  On
   Ctrl-C the workers are stopped, every temporary file is removed, finished outputs are
   kept, and :class:`BatchInterrupted` (a KeyboardInterrupt) carries the partial result.

Steps 1 and 2 live in :mod:`kernelcli.batch_plan` and :mod:`kernelcli.batch_targets`, the records in :mod:`kernelcli.batch_records`,
both re-exported here; the worker processes in :mod:`kernelcli.batch_pool`, where the pools pickle their functions from
(a worker that dies, in :mod:`kernelcli.batch_watch`).

The results are the same bytes as running the items one by one: each item is computed
by the same code, and the core splits work across threads by whole rows.

Example
-------
>>> from functools import partial                                   # doctest: +SKIP
>>> from kernelcli.jobs import pool_file                            # doctest: +SKIP
>>> found = discover(["scans/"], recursive=True)                    # doctest: +SKIP
>>> items = plan(found, out_dir="pooled", suffix="maxpool2")        # doctest: +SKIP
>>> result = run(items, partial(pool_file, size=2, op="max", stride=None, padding=0,
...              ceil_mode=False, count_include_pad=True), workers=2)   # doctest: +SKIP
>>> result.summary()                                                # doctest: +SKIP
'118 ok, 2 failed, 3.1 s'
"""

from __future__ import annotations

import functools
import os
import pickle
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from .batch_plan import (  # noqa: F401 - step 1, re-exported (its former home)
    MAX_LISTED,
    Discovery,
    Scanned,
    Source,
    _is_input_file,
    _scan_folder,
    discover,
    glob_root,
    has_glob,
    is_batch_argument,
)
from .batch_targets import Item, _nearest_existing, check_report_path, output_path, plan  # noqa: F401 - step 2, re-exported
from .records import replace
from .batch_pool import (  # noqa: F401 - the worker processes; cap_numba_threads, run_one re-exported
    _run_pool, _sigint_ignored, _start_pool, cap_numba_threads, lost_record, run_one, threads_per_worker,
)
from .batch_records import (  # noqa: F401 - re-exported
    RECORD_FIELDS,
    BatchInterrupted,
    BatchResult,
    Record,
    not_run,
    record_document,
    stopped_by,
)
from .errors import (
    EXIT_INTERRUPTED,
    EXIT_ITEM_FAILED,
    EXIT_REFUSED,
    UsageError,
    WriteError,
    interrupt_exit_code,
)
from .io.naming import output_suffix  # noqa: F401 - output_suffix's former home
from .io.outputs import about_to_publish
from .io.published_stops import hold_to_the_end
from .io.temporary import remove_temporary_files_of, run_token
from .io.output_checks import output_folder

#: what a job looks like: ``job(input_path, out=output_path)`` returning a report with ``.notes``
Job = Callable[..., Any]
#: ``progress(record, done, total)``, called in the main process as each item finishes
Progress = Callable[["Record", int, int], None]


# ---------------------------------------------------------------- running


def resolve_workers(workers: int | None, n_items: int) -> int:
    """The number of worker processes: ``workers`` or the core count, at most one per item.

    >>> resolve_workers(8, 3), resolve_workers(None, 0)
    (3, 1)
    """
    if workers is not None and (isinstance(workers, bool) or int(workers) < 1):
        raise UsageError(f"--workers must be an integer >= 1, got {workers!r}")
    wanted = int(workers) if workers is not None else (os.cpu_count() or 1)
    return max(1, min(wanted, n_items))


def run(
    items: Sequence[Item],
    job: Job,
    *,
    workers: int | None = None,
    progress: Progress | None = None,
    scheduler: str | None = None,
) -> BatchResult:
    """Run ``job(item.input, out=item.output)`` for every item; return the records in item order.

    ``scheduler`` (``--scheduler``: ``local`` or a dask scheduler's address) runs the items
    as futures on a dask.distributed cluster instead (:mod:`kernelcli.tiled.cluster`).

    ``workers`` > 1 uses that many processes (the job must be picklable: a module-level
    function or a ``functools.partial`` of one; otherwise the items run here, with a note).
    Output folders are created first.  Ctrl-C raises :class:`BatchInterrupted` after the
    workers are stopped and every temporary file of the planned outputs is removed.
    """
    start = time.perf_counter()
    items = list(items)
    total = len(items)
    records: list[Record | None] = [None] * total
    n_workers = resolve_workers(workers, total)
    notes: list[str] = []
    if n_workers > 1 and not _picklable(job):
        notes.append("the job cannot be sent to worker processes; running in one process")
        n_workers = 1
    _make_folders(items)
    about_to_publish()  # once, here: worker processes forked below each put outputs in place
    before = {it.output: _identity(it.output) for it in items}

    done = 0

    def finished(index: int, record: Record) -> None:
        nonlocal done
        records[index] = record
        done += 1
        if progress is not None:
            progress(record, done, total)

    try:
        if scheduler is not None:
            from .tiled.cluster import client_for, run_items

            sent = [_absolute(item) for item in items]  # (a cluster's worker runs in a folder of its own)
            index_of = {id(item): index for index, item in enumerate(sent)}

            def retried(index: int, record: Record) -> None:
                record = _as_typed(record, sent[index], items[index])
                # A worker that died after writing a file but before reporting it: the scheduler ran the
                # file again, which found the output this run had just written. It is done, once.
                output = items[index].output
                if record.code == EXIT_REFUSED and _identity(output) not in (None, before[output]):
                    record = Record(str(items[index].input), str(output), "ok",
                                    notes=["written by a worker that died before reporting it; the retry kept that file"])
                finished(index, record)

            with client_for(scheduler, workers, threads_per_worker(n_workers)) as client:
                n_workers = len(client.scheduler_info().get("workers", {})) or n_workers
                run_items(sent, functools.partial(run_one, job, token=run_token()), client, retried,
                          lambda item, message: _cluster_failed(items[index_of[id(item)]], message))
            remove_temporary_files_of(it.output for it in items)  # a worker that died mid-file leaves its temporary file
            hold_to_the_end()
            return _result(items, records, start, n_workers, notes)
        pool = _start_pool(job, n_workers, total) if n_workers > 1 else None
        if pool is None:
            if n_workers > 1:
                notes.append("worker processes could not be started; running in one process")
                n_workers = 1
            for index, item in enumerate(items):
                finished(index, run_one(job, item))
        else:
            def lost(index: int, why: str) -> None:
                # A worker killed mid-file (the out-of-memory killer) leaves its temporary file; killed as it
                # returned, it may have put the output in place: that file is done.
                item = items[index]
                remove_temporary_files_of([item.output])
                if _identity(item.output) not in (None, before[item.output]):
                    finished(index, Record(str(item.input), str(item.output), "ok", notes=[f"written; then {why}"]))
                else:
                    finished(index, lost_record(item, why))

            _run_pool(pool, items, finished, lost)
        # every file is done: a stop from here waits until the run is reported and said (the call's end), where it
        # was said with a report of no file at all ("total": 0, "interrupted": true) beside every output written
        hold_to_the_end()
    except KeyboardInterrupt as stop:
        with _sigint_ignored():
            remove_temporary_files_of(it.output for it in items)
            for index, item in enumerate(items):
                # A worker may have finished a file whose record had not reached us yet.
                if records[index] is None and _identity(item.output) not in (None, before[item.output]):
                    records[index] = Record(str(item.input), str(item.output), "ok", notes=["finished as the run was interrupted"])
        code = interrupt_exit_code(stop)
        result = _result(items, records, start, n_workers, notes, interrupted=code)
        result.interrupt_code = code
        raise BatchInterrupted(result) from None
    return _result(items, records, start, n_workers, notes)


def _absolute(item: Item) -> Item:
    """``item`` with absolute local paths: a cluster's worker opens what a task names from its own folder, where the
    typed ``bin/a.png`` is "no such file" (audit 205 #2).  A URL stays as given.

    >>> _absolute(Item(Path("/a/b.png"), Path("s3://b/o.zarr")))
    Item(input=PosixPath('/a/b.png'), output=PosixPath('s3:/b/o.zarr'))
    """
    from .tiled.urls import as_url

    def anywhere(path: Path) -> Path:
        return path if as_url(path) is not None or os.path.isabs(path) else Path(os.path.abspath(path))

    return Item(anywhere(item.input), anywhere(item.output))


def _as_typed(record: Record, sent: Item, typed: Item) -> Record:
    """``record`` of ``sent`` (:func:`_absolute`) in the paths as they were typed: its names, error, notes.

    >>> r = Record("/w/in/a.png", "/w/o/a.png", "failed", error="/w/in/a.png: cannot read")
    >>> _as_typed(r, Item(Path("/w/in/a.png"), Path("/w/o/a.png")), Item(Path("in/a.png"), Path("o/a.png"))).error
    'in/a.png: cannot read'
    """
    pairs = sorted(((str(sent.input), str(typed.input)), (str(sent.output), str(typed.output))), key=lambda p: -len(p[0]))

    def as_typed(text: str | None) -> str | None:
        for absolute, given in pairs:
            if text is not None and absolute != given:
                text = text.replace(absolute, given)
        return text

    return replace(record, input=str(typed.input), output=str(typed.output), error=as_typed(record.error),
                   notes=[as_typed(note) for note in record.notes], traceback=as_typed(record.traceback))


def _cluster_failed(item: Item, message: str) -> Record:
    """The record of an item the cluster could not run (it fails alone, exit 1)."""
    return Record(str(item.input), str(item.output), "failed", error=f"{item.input}: {message}", code=EXIT_ITEM_FAILED)


def _result(items, records, start, workers, notes, *, interrupted: int | None = None) -> BatchResult:
    """The run's records; after an interruption (its exit code ``interrupted``: 130, 143 or 129) an item
    that never finished is "not run" with that code, not the 0 of a success."""
    code = interrupted or EXIT_INTERRUPTED
    filled = [r if r is not None else not_run(str(it.input), str(it.output), code, stopped_by(code))
              for it, r in zip(items, records)]
    return BatchResult(filled, time.perf_counter() - start, workers, interrupted is not None, notes)


def _identity(path: Path) -> tuple[int, int, int] | None:
    """Inode and modification time of ``path`` (None if absent): a rename over it changes both."""
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_dev, st.st_ino, st.st_mtime_ns)


def _picklable(job: Job) -> bool:
    try:
        pickle.dumps(job)
    except Exception:  # noqa: BLE001 - any pickling failure means "not picklable"
        return False
    return True


def _make_folders(items: Sequence[Item]) -> None:
    for folder in sorted({output_folder(it.output) for it in items}):
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            from .io.output_checks import too_long_error

            raise too_long_error(exc) or WriteError(f"{folder}: cannot create the output folder: {exc.strerror or exc}") from None



