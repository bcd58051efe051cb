"""Batch step 2: plan every output of the files :func:`kernelcli.batch_plan.discover` found (:func:`plan`).

An output that exists (without ``force``), that is an input, that two inputs share, an output that is also a folder
other outputs go in, a non-folder where an output folder goes, or an output folder whose real path is one the
inputs are read from is refused (OutputRefused, exit 4) before any work; :func:`refused_records` gives such a
refusal the records ``--report`` writes.  Split from :mod:`kernelcli.batch_plan` (step 1); :mod:`kernelcli.batch`
runs the plan (step 3) and re-exports both.

>>> output_path(Source(Path("scans/a/ct.png"), Path("scans"), "scans"), Path("out"), "sobel_v", None)
PosixPath('out/a/ct_sobel_v.png')
"""

from __future__ import annotations

import glob
import os
from collections.abc import Collection, Sequence
from pathlib import Path

from .batch_plan import MAX_LISTED, Discovery, Source
from .batch_rereads import folders_in_inputs, report_in_inputs
from .errors import KernelcliError, OutputRefused, UsageError, WriteError
from .io.naming import batch_output, pasted_pattern, refuse_inside_store
from .io.output_checks import (exists_message, folder_writable, name_problem, no_folder, output_folder, output_problem, same_file,
                                store_problem)
from .io.reads import input_identities
from .io.store_paths import enclosing_store
from .records import record

@record(frozen=True)
class Item:
    """One unit of work: read ``input``, write ``output``."""

    input: Path
    output: Path


def output_path(source: Source, out_dir: Path, suffix: str, fmt: str | None) -> Path:
    """``out_dir / <folder relative to the input's root> / <stem>_<suffix>.<ext>``.

    >>> output_path(Source(Path("scans/a/ct.png"), Path("scans"), "scans"), Path("out"), "sobel_v", None)
    PosixPath('out/a/ct_sobel_v.png')
    """
    return batch_output(source.path, source.root, out_dir, suffix, fmt)


def plan(
    found: Discovery | Sequence[Source],
    *,
    out_dir: str | os.PathLike,
    suffix: str,
    fmt: str | None = None,
    force: bool = False,
    report: str | os.PathLike | None = None,
    image_fmt: str | None = None,
    volume_suffix: str | None = None,
) -> list[Item]:
    """Compute and check every output before any work; return the items in input order.

    ``image_fmt``: the format of an image's output (not a volume's) where ``fmt`` is None (a filter bank's npy);
    ``volume_suffix``: a volume's ``suffix`` where it is named by other words than an image (None: ``suffix``).

    Raises
    ------
    OutputRefused
        With one line per problem (exit 4): an output that exists (without ``force``),
        that is an input, that two inputs share, that is a folder or links to a descriptor; an output folder
        inside the folders being read.  Nothing has been written.
    UsageError
        An output name too long, or an output folder below ``out_dir`` in a Zarr store or made with a store's name
        (exit 2, as ``--out-dir`` in a store), one line per input; ``out_dir`` a URL (exit 2: a batch writes local files).
    WriteError
        The output folder cannot be created or written (read-only).

    The error carries ``records``: what ``--json`` (and ``--report``, unless ``report_refused``: the report is itself
    refused) say of each input (:func:`refused_records`).
    """
    from .tiled.urls import as_url, refuse_url

    discovery = found if isinstance(found, Discovery) else Discovery(list(found))
    to_url = (" (one input goes to a URL with -o URL.zarr)"
              if as_url(out_dir) is not None and any(map(_goes_to_a_url, discovery.sources)) else "")
    refuse_url(out_dir, "a batch writes local files", f"give --out-dir a local folder{to_url}",
               option="--out-dir")  # (its folded spelling was made as the local folder ./s3:/...)
    out = Path(out_dir)
    problems: list[str] = []

    if os.path.lexists(out) and not out.is_dir():
        problems.append(f"--out-dir {out}: exists and is not a folder")

    identities = input_identities([src.path for src in discovery.sources])

    items: list[Item] = []
    long_names: list[str] = []
    claimed: dict[str, tuple[Path, Path]] = {}
    targets = [(src.path, output_path(src, out, _suffix_of(src.path, suffix, volume_suffix), fmt or _image_format(src.path, image_fmt)))
               for src in discovery.sources]
    folders = _output_folders(targets, out)
    problems.extend(folders_in_inputs(out, folders, discovery.scanned))
    own: dict[Path | None, str] = {}  # the first problem of each input's output (None: of --report's)
    for folder, src in folders.items():
        if folder != out and os.path.lexists(folder) and not os.path.isdir(folder):
            problems.append(f"{folder}: exists and is not a folder; the output of {src} goes in it")
            own.setdefault(src, problems[-1])
    in_stores: list[str] = []  # (one line per input, for its own folder: not one per folder above it too)
    for source, (_src, dest) in zip(discovery.sources, targets):
        if line := _folder_in_store(source, dest.parent, out):
            in_stores.append(line)
            own.setdefault(source.path, line)
    real = _RealPaths()
    folder_keys = {real.folder(folder): src for folder, src in folders.items()}
    if report is not None:  # in a folder of the outputs (--out-dir results --report results/r.json): made with them
        check_report_folder(report, made={os.path.abspath(dest.parent) for _src, dest in targets})
        folder = os.path.abspath(report) + os.sep  # (--report o beside --out-dir o: the outputs written, then exit 4)
        shared = None
        if any(os.path.abspath(dest).startswith(folder) for _src, dest in targets):
            problems.append(f"--report {report}: is the folder the outputs go in; choose a file for the report")
        elif shared := _is_an_output(Path(report), [dest for _src, dest in targets]):  # (also a link to one: as one input's)
            problems.append(f"--report {shared}")
            own[None] = problems[-1]
        elif inside := store_problem(report, [src.path for src in discovery.sources], [dest for _src, dest in targets]):
            problems.append(f"--report {inside}")
        elif read := report_in_inputs(report, discovery.scanned):  # (sl/r.csv: the next run read it, and failed on it)
            problems.append(read)
        if not shared:  # (else also "already exists" or "would both be written there": one refusal is enough)
            targets.append((None, Path(report)))
    input_paths = frozenset(os.path.abspath(s) for s in identities.values())
    for src_path, dest in targets:
        key = real.file(dest)  # (a link among the output folders can make two spelled paths one file)
        found_here = []
        if key in claimed:
            first, first_dest = claimed[key]
            what = f"{first} and {src_path}" if src_path is not None else f"{first} and --report"
            through = "" if os.path.abspath(first_dest) == os.path.abspath(dest) else \
                f" ({first_dest} is the same file, through a link)"
            found_here.append(f"{dest}: {what} would both be written there{through}")
        else:
            claimed[key] = (src_path if src_path is not None else Path("--report"), dest)
        if src_path is not None and key in folder_keys:
            found_here.append(f"{dest}: the output of {src_path}, and a folder of the output of {folder_keys[key]}; "
                              "a path cannot be both: rename one")
        problem = name_problem(dest) and f"{dest.name[:40]}...: {name_problem(dest)}"
        if problem:
            long_names.append(problem)
            own.setdefault(src_path, problem)
        found = output_problem(dest, force=force, identities=identities, input_paths=input_paths, listed=True)
        found_here.append(f"--report {found}" if found and src_path is None else found)  # (named as its folder is)
        problems.extend(filter(None, found_here))
        if any(found_here):
            own.setdefault(src_path, next(filter(None, found_here)))
        if src_path is not None:
            items.append(Item(src_path, dest))
    if report is not None and any(p.startswith(f"--report {report}:") for p in problems):
        own.setdefault(None, "--report")
    refusal = _refusal(problems, long_names, out, in_stores)
    if refusal is not None:  # --json prints the records, --report writes them where the report is not at fault
        refusal.records = refused_records(items, own, refusal)  # type: ignore[attr-defined]
        refusal.report_refused = None in own  # type: ignore[attr-defined]
        raise refusal
    return items


def _goes_to_a_url(source: Source) -> bool:
    """Whether ``source``, given alone, may be written to a URL (``-o s3://b/x.zarr``): an input the tiled path reads
    (a Zarr store, TIFF, .npy); not an image read in memory (a PNG), nor a volume, whose outputs are local.

    >>> _goes_to_a_url(Source(Path("a.npy"), Path("."), "a.npy")), _goes_to_a_url(Source(Path("a.png"), Path("."), "a.png"))
    (True, False)
    """
    from .tiled.stores import TIFF_SUFFIXES, is_store_input

    return Path(source.path).suffix.lower() in (".npy", *TIFF_SUFFIXES) or is_store_input(source.path)


def _refusal(problems: list[str], long_names: list[str], out: Path, in_stores: Sequence[str] = ()) -> KernelcliError | None:
    """The error that refuses the plan (exit 2, 4 or 1: nothing done), or None.  An output folder in a Zarr store is
    exit 2, as ``--out-dir`` in one is (:func:`kernelcli.cli._stdio.refuse_outputs_in_stores`)."""
    usage = [*long_names, *in_stores]
    if len(usage) == 1:  # one problem, one line (as every other error)
        return UsageError(f"{usage[0]}; nothing was done")
    if usage:
        what = "output name(s) too long" if not in_stores else "problem(s) with the output folders and names" \
            if long_names else "output folder(s) named as a Zarr store or in one"
        listed = usage[:MAX_LISTED]
        more = f"\n  ... and {len(usage) - MAX_LISTED} more" if len(usage) > MAX_LISTED else ""
        return UsageError(f"{len(usage)} {what}; nothing was done:\n  " + "\n  ".join(listed) + more)
    if len(problems) == 1:
        return OutputRefused(f"{problems[0]}; nothing was done")
    if problems:
        listed = problems[:MAX_LISTED]
        more = f"\n  ... and {len(problems) - MAX_LISTED} more" if len(problems) > MAX_LISTED else ""
        return OutputRefused(f"{len(problems)} problem(s) with the outputs; nothing was done:\n  " + "\n  ".join(listed) + more)
    ancestor = _nearest_existing(out)
    if not ancestor.is_dir():  # 'a.png/sub': was "permission denied (read-only folder)", exit 1
        return UsageError(f"{out}: {ancestor} is a file, not a folder; nothing was done")
    if not folder_writable(ancestor):
        return WriteError(f"{out}: cannot write in {ancestor}: permission denied (read-only folder); nothing was done")
    return None


def _folder_in_store(source: Source, folder: Path, out: Path) -> str | None:
    """What is wrong with the output folder ``folder`` of ``source`` below ``--out-dir`` ``out``, if it is (or is
    inside) a Zarr store: an existing one (a link to a group, a group made there), or a folder the batch would make,
    mirroring the inputs' folders, with a name kernelcli reads as a store's (``scans.zarr``), where the advice is to
    give the inputs from inside that folder (their output folders then mirror what is below it); else None.

    >>> _folder_in_store(Source(Path("x/scans.zarr/a.png"), Path("x"), "x/**/*.png"), Path("/no/o/scans.zarr"), Path("/no/o"))
    '--out-dir /no/o: the output of x/scans.zarr/a.png would go in /no/o/scans.zarr, a folder named as a Zarr store is, which kernelcli reads as one and writes no file into: give the inputs so that no folder mirrored below --out-dir is named *.zarr'
    """
    if folder == out or (store := enclosing_store(folder, itself=True)) is None:
        return None
    if os.path.isdir(store):
        where = "is" if os.path.realpath(folder) == os.path.realpath(store) else "is inside"
        return (f"--out-dir {out}: its folder {folder} for the output of {source.path} {where} the Zarr store {store}; "
                "kernelcli writes no file into a store: give --out-dir a folder with no store below it")
    mirrored = None  # (the input folder mirrored there: from the pattern's or the folder input's root on)
    if source.root is not None and Path(store).is_relative_to(out):
        mirrored = Path(source.root) / Path(store).relative_to(out)
    named = "a folder" if store == folder else f"inside {store}, a folder"
    pattern = pasted_pattern(mirrored, "/**/*" + glob.escape(source.path.suffix)) if mirrored is not None else ""
    advice = (f"give the inputs from inside {mirrored} ({pattern}): their output folders "
              "mirror only what is below it" if mirrored is not None and os.path.isdir(mirrored) else
              "give the inputs so that no folder mirrored below --out-dir is named *.zarr")
    return (f"--out-dir {out}: the output of {source.path} would go in {folder}, {named} named as a Zarr store is, which "
            f"kernelcli reads as one and writes no file into: {advice}")


def refused_records(items: list[Item], own: dict[Path | None, str], refusal: KernelcliError) -> list:
    """The ``--report`` records of a batch refused while planning, as one input's refused ``-o`` is recorded: an
    input whose output was refused "failed" with that problem, the others "not run", with the refusal's code.

    >>> [(r.status, r.code, r.error) for r in refused_records([Item(Path("a.png"), Path("o/a_x.png")), Item(Path("b.png"),
    ...     Path("o/b_x.png"))], {Path("a.png"): "o/a_x.png: already exists"}, OutputRefused("o/a_x.png: already exists"))]
    [('failed', 4, 'a.png: o/a_x.png: already exists; nothing was done'), ('not run', 4, 'not run: o/a_x.png: already exists')]
    """
    from .batch_records import not_run

    why = str(refusal).splitlines()[0].rstrip(":")
    records = []
    for item in items:
        record = not_run(str(item.input), str(item.output), refusal.exit_code, why)
        if item.input in own:  # named as a batch names a file's error (run_one)
            problem = type(refusal)(f"{own[item.input]}; nothing was done")
            record.failed(problem, str(item.input), path=item.input)
        records.append(record)
    return records


def _output_folders(targets: list[tuple[Path, Path]], out: Path) -> dict[Path, Path]:
    """Each folder the outputs go in, ``out`` and those below it, with the first input whose output goes there.

    >>> _output_folders([(Path("in/s/a.png"), Path("o/s/t/a_x.png"))], Path("o"))
    {PosixPath('o/s/t'): PosixPath('in/s/a.png'), PosixPath('o/s'): PosixPath('in/s/a.png'), PosixPath('o'): PosixPath('in/s/a.png')}
    """
    folders: dict[Path, Path] = {}
    for src, dest in targets:
        folder = dest.parent
        while folder not in folders:
            folders[folder] = src
            if folder == out or folder == folder.parent:
                break
            folder = folder.parent
    return folders


class _RealPaths:
    """Comparable keys of output paths by their real paths: each folder's existing part resolved (once per folder),
    the rest as spelled; a file's own name is not resolved (``--force`` replaces a link by a file).

    >>> _RealPaths().file(Path("/no/such/a.png"))
    '/no/such/a.png'
    """

    def __init__(self) -> None:
        self._folders: dict[Path, str] = {}

    def folder(self, folder: Path) -> str:
        key = self._folders.get(folder)
        if key is None:
            key = self._folders[folder] = os.path.normcase(os.path.realpath(folder))
        return key

    def file(self, path: Path) -> str:
        return os.path.join(self.folder(path.parent), os.path.normcase(path.name))


def _image_format(path: Path, image_fmt: str | None) -> str | None:
    """``image_fmt`` for an image or array input, None (its own format) for a volume."""
    if image_fmt is None:
        return None
    from .volume_inputs import is_volume_input

    return None if is_volume_input(path) else image_fmt


def _suffix_of(path: Path, suffix: str, volume_suffix: str | None) -> str:
    """``volume_suffix`` for a volume input where one is given, else ``suffix``."""
    if volume_suffix is None:
        return suffix
    from .volume_inputs import is_volume_input

    return volume_suffix if is_volume_input(path) else suffix


def check_report_path(
    report: str | os.PathLike, *, inputs: Sequence[Path], outputs: Sequence[Path] = (), force: bool = False
) -> None:
    """Check a ``--report`` file like an output: not an input, not an output, not existing without ``force``, not
    inside a Zarr store but ``outputs``' (exit 2, as the check before the call says where the default output is not
    named yet: :func:`kernelcli.io.naming.refuse_inside_store`)."""
    refuse_report_stream(report)
    dest = Path(report)
    too_long = name_problem(dest)
    if too_long:
        raise UsageError(f"--report: {too_long}")
    problem = output_problem(dest, inputs, force=force)
    if problem is None or problem == exists_message(dest):  # (not "use --force": it would not help)
        problem = store_problem(dest, inputs, outputs) or _is_an_output(dest, outputs) or problem
    if problem:  # named as its missing folder is, and as the README quotes it ("adir: is a folder" said no option)
        raise OutputRefused(f"--report {problem}")
    refuse_inside_store(dest, inputs, "--report", outputs)  # (grp.zarr/img's call wrote --report grp2.zarr/r.json)
    check_report_folder(report)


def _is_an_output(dest: Path, outputs: Sequence[Path]) -> str | None:
    """The refusal of a ``--report`` that is one of ``outputs`` (also through a link, made or to be made), or None.

    >>> _is_an_output(Path("o.png"), [Path("o.png")])
    'o.png: is also the output; choose another --report file'
    """
    if any(same_file(dest, o) for o in outputs):
        return f"{dest}: is also the output; choose another --report file"
    return None


def check_report_folder(report: str | os.PathLike, made: Collection[str] = ()) -> None:
    """A ``--report`` file whose folder is missing (exit 2) or read-only (exit 1) is refused while planning,
    as an ``--out`` file is; so is ``-`` (a file of that name was written).  ``made``: absolute folders the
    run creates (the outputs'), where a report may go too."""
    refuse_report_stream(report)
    dest = Path(report)
    folder = dest.absolute().parent
    if not folder.is_dir() and str(folder) not in made:
        raise UsageError(f"--report {dest}: {no_folder(output_folder(dest))}")
    if not folder_writable(folder if folder.is_dir() else _nearest_existing(folder)):
        raise WriteError(f"--report {dest}: cannot write in {output_folder(dest)}: permission denied (read-only folder); nothing was done")


def refuse_report_stream(report: str | os.PathLike) -> None:
    """Refuse (exit 2) a ``--report`` of ``-``, or a path that is or links to an open descriptor (``/dev/stdout``,
    ``/proc/self/fd/1``): the report is written by renaming a new file onto its path, which replaced such a link.

    >>> refuse_report_stream("/dev/stdout")
    Traceback (most recent call last):
    ...
    kernelcli.errors.UsageError: --report '/dev/stdout': the report is a file, not stdout; give a path (--json prints its records on stdout)
    """
    from .io.output_checks import descriptor_of, pipe_refused, stream_named

    from .tiled.urls import refuse_url

    refuse_url(report, "the report is a file", option="--report")  # (written as the local file ./s3:/b/r.json)
    dash = os.fspath(report) == "-"
    stream = "stdout" if dash else descriptor_of(report)
    if stream is not None:
        raise UsageError(pipe_refused("--report", report, "the report is a file",
                                      stream=stream if dash else stream_named(report, stream),
                                      fix="give a path (--json prints its records on stdout)"))


def _nearest_existing(folder: Path) -> Path:
    p = folder.absolute()
    while not p.exists() and p != p.parent:
        p = p.parent
    return p
