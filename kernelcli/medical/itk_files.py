"""The data files a detached NRRD or MetaImage header names, checked as an input is before SimpleITK opens them.

A header (``.nhdr``, ``.mhd``, or a ``.nrrd``/``.mha`` that says so) names the file(s) holding its voxels: NRRD's
``data file`` field, MetaImage's ``ElementDataFile``.  ITK opens them as named: a FIFO blocked for ever and
``/dev/zero`` was read as voxels of 0.  Each is checked as kernelcli checks an input file (a regular file it can
open), and a refusal names the header, the field and the path.  The forms read: one file name; ``LIST`` and the
names on the lines after it; a ``printf`` pattern with its first, last and step numbers (NRRD: ``data file:
slice%03d.raw 1 40 1``; MetaImage: ``ElementDataFile = slice%03d.raw 1 40 1``).

Example
-------
>>> data_files("NRRD0004\\ntype: short\\ndata file: s%02d.raw 1 3 1\\n", "NRRD")
('data file', ['s01.raw', 's02.raw', 's03.raw'])
>>> data_files("NDims = 3\\nElementDataFile = LOCAL\\n", "MetaImage")
('ElementDataFile', [])
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from ..errors import ImageReadError
from ..io.outputs import signals_deferred

#: the most of a header read for the names of its data files (as :data:`~.itk.HEADER_LIMIT`)
NAMES_LIMIT = 1 << 20
#: the most files of a pattern checked (a pattern of more is left to ITK, which names a missing one)
PATTERN_LIMIT = 1 << 16


def data_files(text: str, kind: str) -> tuple[str, list[str]]:
    """The field naming the data files of the header ``text`` ("NRRD" or "MetaImage" ``kind``) and the names it
    gives, as written (relative to the header's folder unless absolute); none where the voxels are in the file."""
    if kind == "NRRD":
        field, value, rest = "data file", None, []
        lines = text.splitlines()
        for k, line in enumerate(lines[1:], start=1):  # (the first line is the magic NRRD000N)
            if not line.strip():  # the header's end (but for LIST's names, which run to the file's end: teem's reading)
                break
            if line.lstrip().startswith("#") or ":=" in line:
                continue
            key, sep, found = line.partition(":")
            if sep and re.sub(r"\s+", "", key.lower()) == "datafile":
                value, rest = found.strip(), lines[k + 1:]
                break
    else:
        field, value, rest = "ElementDataFile", None, []
        lines = text.splitlines()
        for k, line in enumerate(lines):
            key, sep, found = line.partition("=")
            if sep and key.strip() == "ElementDataFile":
                value, rest = found.strip(), lines[k + 1:]
                break
    if value is None or (kind != "NRRD" and value.lower() == "local"):
        return field, []
    words = value.split()
    if words and words[0] == "LIST":
        return field, [name.strip() for name in rest if name.strip()]
    if "%" in value and len(words) >= 4:
        return field, _pattern_names(words)
    return field, [value]


def _pattern_names(words: list[str]) -> list[str]:
    """The names of ``format first last step``; none where they cannot be made (ITK refuses the header itself)."""
    try:
        first, last, step = (int(w) for w in words[1:4])
        count = (last - first) // step + 1 if step else 0
        if not 0 < count <= PATTERN_LIMIT:
            return []
        return [words[0] % i for i in range(first, last + (1 if step > 0 else -1), step)]
    except (ValueError, TypeError, OverflowError):
        return []


def check_data_files(header: Path, kind: str) -> None:
    """Refuse (ImageReadError, exit 2) a header whose data file is missing, a folder, a device, pipe or socket, or
    cannot be opened, naming the header, the field and the file; each is recorded as an input of the call."""
    from ..io.reads import note_input

    with open(header, "rb") as fh:  # (a regular file: checked by the caller)
        text = fh.read(NAMES_LIMIT).decode("latin-1")
    if kind == "NRRD" and not text.startswith("NRRD"):
        return  # not NRRD after all: ITK says what it is not
    field, names = data_files(text, kind)
    for k, name in enumerate(names):
        path = Path(name) if os.path.isabs(name) else header.parent / name
        which = f"data file {name}" if len(names) == 1 else f"data file {name} (file {k + 1} of {len(names)})"
        shown = "" if str(path) == name else f" ({path})"
        if why := _not_readable(path):
            raise ImageReadError(f"{header}: its {which}{shown}, named by its {field!r} field, {why}; "
                                 "expected the regular file holding its voxels")
        note_input(path)


def _not_readable(path: Path) -> str | None:
    """Why ``path`` cannot be read as a data file, or None; checked before it is opened (a FIFO blocks the open)."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return "does not exist" + (" (a broken link)" if os.path.islink(path) else "")
    except OSError as exc:
        return f"cannot be read: {exc.strerror or exc}"
    if stat.S_ISDIR(st.st_mode):
        return "is a folder"
    if not stat.S_ISREG(st.st_mode):
        return "is not a regular file (a device, pipe or socket)"
    try:
        with open(path, "rb"):
            pass
    except OSError as exc:
        return f"cannot be read: {exc.strerror or exc}"
    return None


@contextlib.contextmanager
def library_stderr() -> Iterator[list[str]]:
    """Catch what the libraries under SimpleITK write on the process's stderr (file descriptor 2) meanwhile, as the
    lines of the list yielded: MetaIO writes its errors there itself ("MetaImage: M_ReadElementsData: data not read
    completely"), beside the exception ITK raises, and our one line says them.  With no stderr, nothing is caught."""
    told: list[str] = []
    try:
        caught = tempfile.TemporaryFile()
    except OSError:  # no temporary file: read without catching
        yield told
        return
    saved = None
    with caught:
        try:
            sys.stderr.flush()  # (what Python holds for stderr is not the library's)
            with signals_deferred():  # (a stop between the two steps would leave stderr in the file)
                saved = os.dup(2)
                os.dup2(caught.fileno(), 2)
        except (OSError, ValueError, AttributeError):  # no stderr (closed, None): nothing to catch
            pass
        try:
            yield told
        finally:
            if saved is not None:
                os.dup2(saved, 2)
                os.close(saved)
                caught.seek(0)
                text = caught.read(1 << 16).decode("utf-8", "replace")
                told.extend(line.strip() for line in text.splitlines() if line.strip() and "\x1b" not in line)


def truncated(told: list[str]) -> str | None:
    """MetaIO's lines on a short data file, said as the reason, or None.

    >>> truncated(["MetaImage: M_ReadElementsData: data not read completely", "ideal = 1344 : actual = 526"])
    'truncated: 526 of the 1344 bytes of voxel data its header states are there'
    """
    said = " ".join(told)
    sizes = re.search(r"ideal\s*=\s*(\d+)\s*:\s*actual\s*=\s*(\d+)", said)
    if "not read completely" in said and sizes:
        return f"truncated: {sizes.group(2)} of the {sizes.group(1)} bytes of voxel data its header states are there"
    return None


def library_reason(told: list[str], exc: BaseException | None) -> str:
    """The reason a read failed: what MetaIO said (its first line; the exception's last line then carries a stale
    ``errno``, "Reason: No such file or directory" of a file that is there), else the exception's last line."""
    if told:
        return truncated(told) or f"{told[0]} (MetaIO)"
    text = str(exc or "").strip()
    return text.splitlines()[-1] if text else "unreadable"


def library_warnings(told: list[str]) -> tuple[list[str], list[str]]:
    """(warnings, errors) of the lines a successful read wrote: ITK's warnings (a ``WARNING: In file, line N`` line,
    then the message) are notes; any other line is MetaIO's error about voxels it returned anyway ("Uncompress
    failed": the voxels are whatever the buffer held), which refuses the file."""
    if not any(line.startswith("WARNING:") for line in told):
        return [], told
    said = [line for line in told if not line.startswith("WARNING:")]
    return [re.sub(r"^\w+ \(0x[0-9a-fA-F]+\): ", "", line) for line in said], []
