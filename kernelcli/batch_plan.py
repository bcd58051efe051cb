"""Batch step 1: find the input files (:func:`discover`); :mod:`kernelcli.batch_targets` plans their outputs (step 2).

A missing path, or a folder or pattern that yields nothing, is a UsageError (exit 2); a pattern that reads two
ways is refused naming both (how a pattern is read: :mod:`kernelcli.batch_patterns`).  Split from
:mod:`kernelcli.batch` (which runs the plan, step 3, and re-exports every name here).

>>> has_glob("scans/**/*.png"), has_glob("scans/ct.png")
(True, False)
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from .batch_patterns import expand, folders_reached, glob_root, linked_folders, refuse_two_readings, refuse_two_way_patterns
from .errors import InputError, UsageError
from .io.input_files import is_input_file as _is_input_file  # (its former home: batch re-exports the name)
from .io.naming import has_glob  # noqa: F401 - has_glob re-exported (its former home)
from .records import field, record

#: problems listed in one refusal before "... and N more"
MAX_LISTED = 50


# ---------------------------------------------------------------- discovery


@record(frozen=True)
class Source:
    """One input file, and the folder whose structure is kept under the output folder."""

    path: Path
    root: Path | None  # a folder or glob input's base; None for a file named directly
    arg: str  # the argument it came from


@record(frozen=True)
class Scanned:
    """A folder the inputs are read from (to keep the output folder out of it)."""

    folder: str  # real path
    recursive: bool
    arg: str
    through: str | None = None  # the link a recursive scan reached it by
    #: a pattern's: a regular expression of every real folder its wildcard folder parts reach ('pt/*/*.png': each
    #: folder of pt, one made later too), or None
    reach: str | None = None


@record
class Discovery:
    """What :func:`discover` found."""

    sources: list[Source]
    scanned: list[Scanned] = field(default_factory=list)
    #: what a folder or pattern held that looks like an input but is not read: (path, why), in order
    skipped: list[tuple[Path, str]] = field(default_factory=list)

    def skipped_note(self, listed: int = 3) -> str | None:
        """One line naming what was passed over (a DICOM series folder, a folder or broken link named like
        an image), or None.

        >>> Discovery([], skipped=[(Path("s/x.png"), "a folder named like an input")]).skipped_note()
        'not read: s/x.png, a folder named like an input'
        """
        if not self.skipped:
            return None
        shown = "; ".join(f"{path}, {why}" for path, why in self.skipped[:listed])
        more = f"; and {len(self.skipped) - listed} more" if len(self.skipped) > listed else ""
        return f"not read: {shown}{more}"


def is_batch_argument(arg: str | os.PathLike) -> bool:
    """True for an argument that stands for several files: a folder, or a pattern that is not a path."""
    text = os.fspath(arg)
    if os.path.lexists(text):
        return os.path.isdir(text)
    return has_glob(text)


def discover(args: Sequence[str | os.PathLike], *, recursive: bool = False) -> Discovery:
    """Expand paths, folders and glob patterns into input files, in argument order.

    A path that exists literally is taken as it is, unless it is also a pattern that matches other files
    (``[ab].png`` beside a.png and b.png), which is refused naming both readings.
    Folders yield their supported, non-hidden regular files (``recursive``: also below);
    patterns are expanded with ``**`` support.  The same file named twice is kept once.

    Raises
    ------
    InputError
        A missing path, or one that is not a regular file or folder (exit 2).
    UsageError
        A folder or pattern that yields no supported file, or a URL (exit 2: a batch reads local files).
    """
    from .io.common import check_input_path

    sources: list[Source] = []
    scanned: list[Scanned] = []
    skipped: list[tuple[Path, str]] = []
    where: dict[str, int] = {}  # real file -> its place in sources

    def add(path: Path, root: Path | None, arg: str) -> None:
        key = os.path.normcase(os.path.realpath(path))  # a file reached through a link (or a loop of links) is one file
        if key not in where:
            where[key] = len(sources)
            sources.append(Source(path, root, arg))
            return
        kept = sources[where[key]]
        if os.path.normpath(kept.path) == os.path.normpath(path):
            if kept.root != root and kept.arg != arg:  # its output goes where the first argument places it: say so
                skipped.append((Path(path), f"reached again through {arg}; placed as {kept.arg}, the first argument that reaches it, places it"))
            return
        if _linked_rank(path) < _linked_rank(kept.path):  # its own name, not a link's ('0latest.png' -> scan.png)
            sources[where[key]], path, kept = Source(path, root, arg), kept.path, Source(path, root, arg)
        skipped.append((Path(path), f"the same file as {kept.path}"))

    from .tiled.urls import refuse_url

    for raw in args:  # (a URL was read as the local path its folded spelling names: "memory:/b/a.zarr: no such file")
        refuse_url(raw, "a batch reads local files", "give each URL input alone, without --out-dir (-o URL.zarr or -o PATH.zarr)")
    for raw in args:
        arg = os.fspath(raw)
        p = Path(arg)
        if os.path.lexists(arg):
            refuse_two_readings(arg, recursive)
            if p.is_dir() and _zarr_store(p):  # (it was "no supported input files in this folder")
                raise UsageError(f"{arg}: {_store_why(p, recursive)}")
            if p.is_dir():
                before = len(skipped)
                links: list[tuple[str, str]] = []
                files = _scan_folder(p, recursive, skipped, links)
                if not files:
                    raise _with_records(UsageError(f"{arg}: no supported input files in this folder"
                                                   f"{_why_none(p, recursive, skipped[before:])}"), args, arg)
                scanned.append(Scanned(os.path.realpath(p), recursive, arg))
                scanned.extend(Scanned(real, True, arg, link) for link, real in links)
                for f in files:
                    add(f, p, arg)
            else:
                try:
                    add(check_input_path(p), None, arg)
                except InputError as refused:
                    refused.records = named_records(args, refused)  # type: ignore[attr-defined]
                    raise
        elif has_glob(arg):
            refuse_two_way_patterns(arg)
            root = glob_root(arg)
            links = []
            matches = [Path(m) for m in sorted(expand(arg, links))]
            # (each real file once: add); a hidden file is there because the pattern named it, as glob reads it
            files = [m for m in matches if _is_input_file(m, hidden=True)]
            before = len(skipped)
            _passed_over(matches, skipped, hidden=True, recursive="**" in arg or recursive)
            files = _without_notes_beside_series(files, skipped)
            if not files:
                if matches:
                    raise _with_records(UsageError(f"{arg}: the pattern matched {len(matches)} path(s), none a supported "
                                                   f"input file{_passed_over_note(skipped[before:])}"), args, arg)
                raise _with_records(UsageError(f"{arg}: no files match this pattern"), args, arg)
            if "**" in arg:
                scanned.append(Scanned(os.path.realpath(root), True, arg))
                scanned.extend(Scanned(real, True, arg, link) for link, real in links)
            for folder in sorted({os.path.realpath(f.parent) for f in files}):
                scanned.append(Scanned(folder, False, arg))
            if (reach := folders_reached(arg)) is not None and "**" not in arg:
                scanned.append(Scanned(os.path.realpath(root), False, arg, reach=reach))
                scanned.extend(Scanned(real, False, arg, link) for link, real in linked_folders(arg))
            for f in files:
                add(f, root, arg)
        else:
            refused = InputError(f"{arg}: no such file")
            refused.records = named_records(args, refused)  # type: ignore[attr-defined]
            raise refused
    if not sources:
        raise UsageError("no inputs given")
    from .io.reads import refuse_stdout_among

    refuse_stdout_among({}, (source.path for source in sources))  # a folder's file as stdout: before any work
    return Discovery(sources, scanned, skipped)


def _with_records(refusal: Exception, args: Sequence[str | os.PathLike], arg: str) -> Exception:
    """``refusal`` of the folder or pattern ``arg``, which found no input, with the batch's records (:func:`named_records`),
    as a missing named file's: the batch document on stdout and in ``--report``."""
    refusal.records = named_records(args, refusal, failed=arg)  # type: ignore[attr-defined]
    return refusal


def named_records(args: Sequence[str | os.PathLike], refusal: Exception, failed: str | None = None) -> list:
    """The records of a batch refused as it found its inputs (``refusal``: a file named in it is missing, or not a
    regular file; or ``failed``, a folder or pattern that found no input), as one input's call records it: each
    argument that names a file, in order, "failed" where it is such a file (its own error, code 2), else "not run"
    with the refusal; ``failed`` "failed" with the refusal; another folder's or pattern's files are not found yet
    (none listed), as a batch stopped then lists none.

    >>> [(r.input, r.status, r.error) for r in named_records(["no/a.png", "no/*.png"], InputError("no/a.png: no such file"))]
    [('no/a.png', 'failed', 'no/a.png: no such file')]
    >>> [(r.input, r.status) for r in named_records(["no/a.png", "no/*.png"], InputError("x"), failed="no/*.png")]
    [('no/a.png', 'failed'), ('no/*.png', 'failed')]
    """
    from .batch_records import not_run
    from .io.common import check_input_path

    why = str(refusal).splitlines()[0]
    records = []
    for raw in args:
        arg = os.fspath(raw)
        if arg == failed:
            record = not_run(arg, None, refusal.exit_code, why)  # type: ignore[attr-defined, arg-type]
            record.failed(refusal, arg)
            records.append(record)
            continue
        if is_batch_argument(arg):
            continue
        try:
            problem = None if os.path.lexists(arg) else InputError(f"{arg}: no such file")
            if problem is None:
                check_input_path(arg)
        except InputError as exc:
            problem = exc
        record = not_run(arg, None, refusal.exit_code, why)  # type: ignore[arg-type]
        if problem is not None:  # (as a refused plan's: nothing measured)
            record.failed(problem, arg)
        records.append(record)
    return records


def _why_none(folder: Path, recursive: bool, passed_over: list[tuple[Path, str]]) -> str:
    """The end of the refusal of a folder that gave a batch no input: the folders below that hold DICOM files (a
    study exported as ``study/series/IM*``: each series is one volume, given alone), else where else to look.

    >>> _why_none(Path("samples"), False, [])
    ' (--recursive looks in subfolders too)'
    """
    from .volume_inputs import dicom_folders, dicom_folders_below

    if below := dicom_folders_below(folder, alone=True, unreadable=_why_not_a_series):
        series = {os.path.realpath(path) for path, _ in dicom_folders(folder, 4)}
        return below + _passed_over_note([(path, why) for path, why in passed_over if os.path.realpath(path) not in series])
    return ("" if recursive else " (--recursive looks in subfolders too)") + _passed_over_note(passed_over)


def _why_not_a_series(folder: Path) -> str | None:
    """Why a study's sub-folder would be refused as a series (:func:`~kernelcli.medical.series.why_not_a_series`),
    the DICOM reader imported only where a study has such folders."""
    from .medical.series import why_not_a_series

    return why_not_a_series(folder)


def refuse_a_study_folder(arg: str | os.PathLike) -> None:
    """Refuse one folder given alone (no ``--out-dir``) that holds no input of its own but DICOM series below it,
    naming them, in the words of a DICOM folder with only a DICOMDIR on top: a study exported as
    ``study/series/IM*`` is read one series folder at a time (exit 2).  Anything else passes.

    >>> refuse_a_study_folder("samples")
    """
    from .volume_inputs import dicom_folders_below

    folder = Path(arg)
    if not folder.is_dir() or _zarr_store(folder):
        return
    try:
        own = [folder / name for name in sorted(os.listdir(folder)) if _is_input_file(folder / name)]
    except OSError:
        return  # (the batch's scan names what cannot be listed)
    if own and not notes_beside_series(folder, own):
        return
    if below := dicom_folders_below(folder, unreadable=_why_not_a_series):
        raise InputError(f"{arg}: no DICOM images in this folder{below}{_passed_over_note([(p, NOT_A_MATRIX) for p in own])}")


#: what a batch says of a text file beside DICOM series that is no matrix (a disc's README.TXT)
NOT_A_MATRIX = "text, not a matrix"


def notes_beside_series(folder: Path, files: Sequence[Path]) -> bool:
    """True where ``files``, a folder's own inputs, are text files that are no matrix (a study disc's ``README.TXT``)
    and DICOM series are below ``folder``, or ``folder`` is one (a README beside the slices, which reading the folder
    alone sets aside with a note): the folder is a study or a series, refused naming its series, not a batch of notes.
    A folder of CSV matrices stays a batch.

    >>> notes_beside_series(Path("samples"), [])
    False
    """
    from .io.matrices import starts_like_a_matrix
    from .io.naming import MATRIX_SUFFIXES
    from .volume_inputs import dicom_folders, is_volume_input

    return (bool(files) and all(f.suffix.lower() in MATRIX_SUFFIXES and not starts_like_a_matrix(f) for f in files)
            and (is_volume_input(folder) or bool(dicom_folders(folder, 4))))


def _without_notes_beside_series(files: list[Path], skipped: list[tuple[Path, str]]) -> list[Path]:
    """``files`` but those a folder holds as notes beside DICOM series (:func:`notes_beside_series`: a study's
    ``README.TXT``), which go to ``skipped``: a pattern reads a study as a folder does (``'study/**'`` read the README
    as a matrix, "'Exported' is not a number").

    >>> _without_notes_beside_series([Path("samples/example1.csv")], [])
    [PosixPath('samples/example1.csv')]
    """
    by_folder: dict[Path, list[Path]] = {}
    for path in files:
        by_folder.setdefault(path.parent, []).append(path)
    notes = {path for folder, own in by_folder.items() if notes_beside_series(folder, own) for path in own}
    skipped.extend((path, NOT_A_MATRIX) for path in files if path in notes)
    return [path for path in files if path not in notes]


def _passed_over_note(skipped: list[tuple[Path, str]]) -> str:
    """What a folder or pattern that gave no input passed over, to end its refusal ("; not read: ..."), or "".

    >>> _passed_over_note([(Path("d/ct"), "8 DICOM files: a DICOM series is one volume, given alone without --out-dir")])
    '; not read: d/ct, 8 DICOM files: a DICOM series is one volume, given alone without --out-dir'
    """
    note = Discovery([], skipped=skipped).skipped_note()
    return f"; {note}" if note else ""


def _linked_rank(path: str | os.PathLike) -> tuple[bool, int]:
    """Which of two paths of one file names it: the one not through a link, then the shorter.

    >>> _linked_rank("/nonexistent/a.png")
    (False, 3)
    """
    return os.path.realpath(path) != os.path.abspath(path), len(Path(path).parts)


def _shortest_paths(files: list[Path]) -> list[Path]:
    """``files`` in their order, each real file once, under its shortest path: '**' follows linked folders, and a
    link to a folder above ('a/loop' -> '..') made 'a/loop/a/loop/.../p.png' of one 'a/p.png', 40 deep.

    >>> _shortest_paths([Path("a/loop/a/p.png"), Path("a/p.png")])  # (no such files: each its own real path)
    [PosixPath('a/loop/a/p.png'), PosixPath('a/p.png')]
    """
    shortest: dict[str, Path] = {}
    for path in files:
        key = os.path.normcase(os.path.realpath(path))
        if key not in shortest or len(path.parts) < len(shortest[key].parts):
            shortest[key] = path
    kept = set(map(id, shortest.values()))
    return [path for path in files if id(path) in kept]


#: what a batch says of a Zarr store among its inputs
ZARR_ALONE = "a Zarr store is one input, read tile by tile: give it alone, without --out-dir (--out NAME.zarr or NAME.npy)"


def _zarr_store(path: Path) -> bool:
    """True for a folder that is a Zarr store or a node of one (named ``.zarr``, or holding Zarr metadata:
    :func:`kernelcli.io.store_paths.is_store_node`); a plain folder inside a store is a folder of inputs.

    >>> _zarr_store(Path("/nonexistent")), _zarr_store(Path("/nonexistent.zarr"))
    (False, True)
    """
    from .io.store_paths import is_store_node

    return is_store_node(path)


def _store_why(path: Path, recursive: bool) -> str:
    """Why the folder ``path``, a store to :func:`_zarr_store`, is not read as a folder of inputs: a store is one input;
    a folder only named as one (no metadata) has its images read by the patterns named.

    >>> _store_why(Path("/nonexistent.zarr"), True) == ZARR_ALONE
    True
    """
    from .io.input_files import named_only_words
    from .io.store_paths import named_only

    return named_only_words(path, recursive) if named_only(path) else ZARR_ALONE


def _passed_over(paths: Sequence[Path], skipped: list[tuple[Path, str]], *, hidden: bool = False,
                 recursive: bool = True) -> None:
    """Add to ``skipped`` what of ``paths`` a batch does not read but a user may have meant: DICOM files (a
    series is one volume; one entry per folder) and non-files named like an input (a folder ``x.png``, a
    broken link); hidden names too where ``hidden`` (a pattern's, which named them).  A folder only named as a
    Zarr store gets the patterns that read its images, into its folders too where ``recursive``."""
    from .io.naming import INPUT_SUFFIXES
    from .volume_inputs import DICOM_SUFFIXES, VOLUME_SUFFIXES, volume_suffix

    series: dict[str, tuple[Path, set[str]]] = {}  # by real folder: a pattern through links meets one many times
    for path in _shortest_paths(list(paths)):
        if path.name.startswith(".") and not hidden:
            continue
        volume = volume_suffix(path)
        if volume in DICOM_SUFFIXES:
            if os.path.isfile(path):
                folder, files = series.setdefault(os.path.realpath(path.parent), (path.parent, set()))
                files.add(os.path.realpath(path))
        elif os.path.isdir(path) and _zarr_store(path):  # (passed over in silence)
            skipped.append((path, _store_why(path, recursive)))
        elif (path.suffix.lower() in INPUT_SUFFIXES or volume in VOLUME_SUFFIXES) and not _is_input_file(path, hidden=hidden):
            why = "a folder" if os.path.isdir(path) else "a broken link" if not os.path.exists(path) else "not a regular file"
            skipped.append((path, f"{why} named like an input"))
    for folder, files in series.values():
        count = f"{len(files)} DICOM file{'s' if len(files) != 1 else ''}"
        skipped.append((folder, f"{count}: a DICOM series is one volume, given alone without --out-dir"))


def _scan_folder(folder: Path, recursive: bool, skipped: list[tuple[Path, str]] | None = None,
                 links: list[tuple[str, str]] | None = None) -> list[Path]:
    """The input files of ``folder`` (``recursive``: and below, following links; ``links`` gets each linked
    folder gone into, as (link, real folder)); what looks like an input and is not read goes to ``skipped``."""
    def refuse(exc: OSError) -> None:
        raise InputError(f"{exc.filename or folder}: cannot list the folder: {exc.strerror or exc}")

    skipped = [] if skipped is None else skipped
    if not recursive:
        try:
            names = sorted(os.listdir(folder))
        except OSError as exc:
            refuse(exc)
        _passed_over([folder / n for n in names], skipped, recursive=False)
        own = [folder / n for n in names if _is_input_file(folder / n)]
        if notes_beside_series(folder, own):  # (the refusal names the series below)
            skipped.extend((path, NOT_A_MATRIX) for path in own)
            return []
        return own
    found: list[Path] = []
    named: list[Path] = []  # the folders named like an input
    seen = {os.path.realpath(folder): folder}  # a linked folder is looked into once, as a '**' pattern reads it (a loop ends)
    for dirpath, dirnames, filenames in os.walk(folder, onerror=refuse, followlinks=True):
        kept = []
        stores = sorted(d for d in dirnames if not d.startswith(".") and _zarr_store(Path(dirpath) / d))  # not looked into
        # a folder and a link to it side by side: the folder's own name (the outputs are named after it)
        for d in sorted((d for d in dirnames if not d.startswith(".") and d not in stores),
                        key=lambda d: (os.path.islink(os.path.join(dirpath, d)), d)):
            path = Path(dirpath) / d
            real = os.path.realpath(path)
            if real not in seen:
                seen[real] = path
                kept.append(d)
                if links is not None and os.path.islink(path):
                    links.append((str(path), real))
            elif seen[real] != folder and not Path(seen[real]).is_relative_to(path):  # (not a loop back up)
                skipped.append((path, f"the same folder as {seen[real]}"))
        dirnames[:] = sorted(kept)
        named.extend(Path(dirpath) / d for d in dirnames if Path(d).suffix)
        _passed_over([Path(dirpath) / n for n in sorted(filenames) + stores], skipped)
        own = [Path(dirpath) / n for n in sorted(filenames) if _is_input_file(Path(dirpath) / n)]
        if notes_beside_series(Path(dirpath), own):  # a study's README.TXT beside its series: a note, not a matrix
            skipped.extend((path, NOT_A_MATRIX) for path in own)
            continue
        found.extend(own)
    # a folder named like an image is looked into: 'not read' only where nothing in it was
    _passed_over([d for d in named if not any(f.is_relative_to(d) for f in found)], skipped)
    return found
