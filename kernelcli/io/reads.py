"""What this command call reads: every input it opens (kernel files, weights, specs, a batch's files), so that
no output, and no stdout redirected to a file, is written over one of them (:mod:`kernelcli.io.outputs` checks
its outputs against :func:`input_identities`).

The CLI opens one :func:`input_session` per command call; outside it :func:`note_input` does nothing (a
long-lived program is not a command call).  Standard library only, and the kernel file format's selector
(``-k FILE.json:NAME``).

Example
-------
>>> import tempfile, pathlib
>>> k = pathlib.Path(tempfile.mkdtemp()) / "k.json"; _ = k.write_text("[[1]]")
>>> with input_session():
...     note_input(k)
...     list(input_identities().values()) == [str(k)]
True
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from ..catalog_format import split_selector
from ..errors import BEFORE_STDOUT, OutputRefused

_session: dict[tuple[int, int], str] | None = None
#: every file this call reads (:func:`note_input`'s and :func:`note_read`'s: its main inputs too, which the output
#: checks are given anyway): for stdout's check
_read: dict[tuple[int, int], str] = {}


@contextlib.contextmanager
def input_session() -> Iterator[None]:
    """Within this block, every file passed to :func:`note_input` counts as an input of
    every output check.  The CLI opens one per command call; outside a session
    :func:`note_input` does nothing (a long-lived program is not a command call)."""
    global _session, _read
    previous, _session = _session, {}
    previous_read, _read = _read, {}
    try:
        yield
    finally:
        _session, _read = previous, previous_read


def note_input(path: str | os.PathLike | int, name: str | None = None) -> None:
    """Record that this command call reads ``path`` (a kernel file, weights, a spec...), or the open file
    descriptor ``path`` (stdin redirected from a file: ``< scan.png``), shown as ``name``."""
    key = _file_key(path) if _session is not None else None
    if key is not None:
        _session[key] = _read[key] = name or os.fspath(path)


def _file_key(path: str | os.PathLike | int) -> tuple[int, int] | None:
    """(device, inode) of the file ``path`` names (or of the open descriptor: None unless a regular file, as a pipe
    or a terminal is no file an output could overwrite); None when there is none."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    if isinstance(path, int) and not stat.S_ISREG(st.st_mode):
        return None
    return st.st_dev, st.st_ino


#: a command's parameters that name files it reads; and those that name one only when the text is a path (``-k k.json``,
#: not ``-k sobel_v``; ``summary net.json``, not ``summary vgg16``): a name, a size or a format is no file it opens
READ_PARAMETERS = frozenset({"input", "inputs", "target", "weights", "bias_file", "mask"})
READ_IF_A_PATH = frozenset({"kernel", "spec", "then"})
#: what a path given where a name may stand ends with (a kernel file, a spec, a matrix)
_PATH_SUFFIXES = (".json", ".npy", ".csv", ".txt", ".tsv")


def _stdout_file() -> os.stat_result | None:
    """stdout's status when it is a regular file (``> f``, ``>> f``, ``1<> f``), else None."""
    try:
        st = os.fstat(1)
    except OSError:
        return None
    return st if stat.S_ISREG(st.st_mode) else None


def _read_paths(parameters: dict[str, Any]) -> Iterator[str]:
    """The paths among a command's ``parameters`` that name files it reads."""
    for name, value in parameters.items():
        if name not in READ_PARAMETERS and name not in READ_IF_A_PATH:
            continue
        for item in value if isinstance(value, (list, tuple)) else [value]:
            if not isinstance(item, (str, os.PathLike)) or os.fspath(item) in ("", "-"):
                continue
            text = os.fspath(item)
            if name in READ_IF_A_PATH:
                text = split_selector(text)[0]  # -k fam.json:sharp reads fam.json
            if name in READ_PARAMETERS or "/" in text or text.lower().endswith(_PATH_SUFFIXES):
                yield text


def note_named_inputs(parameters: dict[str, Any]) -> None:
    """:func:`note_input` each file among a command's ``parameters`` that names one it reads (:func:`_read_paths`), as
    the call starts: where its reader opens it only inside the job (a volume's ``--mask`` and kernel file), after
    ``--report`` was checked.

    >>> import tempfile, pathlib
    >>> k = pathlib.Path(tempfile.mkdtemp()) / "k.npy"; _ = k.write_bytes(b"x")
    >>> with input_session():
    ...     note_named_inputs({"kernel": [str(k), "box:3vox"], "mask": None})
    ...     list(input_identities().values()) == [str(k)]
    True
    """
    for path in _read_paths(parameters):
        note_input(path)


def _reads_stdin(parameters: dict[str, Any]) -> bool:
    """True when one of the files a command reads is ``-``, stdin (``convolve - ...``)."""
    for name in READ_PARAMETERS & parameters.keys():
        value = parameters[name]
        if any(isinstance(item, (str, os.PathLike)) and os.fspath(item) == "-"
               for item in (value if isinstance(value, (list, tuple)) else [value])):
            return True
    return False


def _same_status(fd: int, st: os.stat_result) -> bool:
    """True when the open descriptor ``fd`` is the file ``st`` describes."""
    try:
        return os.path.samestat(os.fstat(fd), st)
    except (OSError, ValueError):
        return False


class StdoutIsInput(OutputRefused):
    """stdout is a file the call reads (:func:`refuse_stdout_among`): nothing may be printed on it, a ``--json``
    failure record neither (it would be written into the input the refusal protects).  ``name``: that input."""

    def __init__(self, message: str, name: str) -> None:
        super().__init__(message)
        self.name = name


def refuse_stdout_among(parameters: dict[str, Any], paths: Iterable[str | os.PathLike] = ()) -> None:
    """Before a command runs: refuse (OutputRefused, exit 4, nothing done) a stdout that is a file the call reads,
    as GNU ``cat f >> f`` refuses ("input file is output file"): ``>> m.csv`` appended a matrix's result to the input
    m.csv (read back next time with twice the rows), ``1<> in.png`` wrote over it; stdin's file is one of them when
    the input is ``-`` (``< in.png >> in.png``).  ``parameters``: the command's, by
    name (:func:`_read_paths`); ``paths``: files found for it (a folder's, a pattern's).  A name, a size or a format
    is no file: ``summary vgg16 > vgg16`` and ``shape --in 24 > 24`` run."""
    st = _stdout_file()
    if st is None:
        return
    if _reads_stdin(parameters) and _same_status(0, st):  # '< f >> f': stdin's file is an input as a named one is
        raise StdoutIsInput("stdout: is the input read on stdin (the same file): what it prints would be written into it; "
                            "redirect stdout to another file", "stdin")
    for item in [*_read_paths(parameters), *map(os.fspath, paths)]:
        try:
            same = os.path.samestat(os.stat(item), st)
        except (OSError, ValueError):
            continue
        if same:
            raise StdoutIsInput(f"stdout: is {item}, which this call reads (the same file): what it prints "
                                "would be written into it; redirect stdout to another file", item)


def note_read(path: str | os.PathLike) -> None:
    """Record that this command call reads the file ``path`` (an input of a batch: :func:`refuse_stdout_into_input`
    looks here; the output checks take their inputs as arguments, and a session of every input made them quadratic)."""
    key = _file_key(path) if _session is not None else None
    if key is not None:
        _read[key] = os.fspath(path)


def refuse_stdout_into_input() -> None:
    """While a command writes on stdout: a stdout that is a file the call has read (one of a folder's, which
    :func:`refuse_stdout_among` could not see) is a :class:`~kernelcli.errors.StdoutError` (exit 1: the outputs
    written stay; what goes on stdout is not written)."""
    st = _stdout_file() if _read else None
    name = _read.get((st.st_dev, st.st_ino)) if st is not None else None
    if name is not None:
        from ..errors import StdoutError

        raise StdoutError(f"stdout: is the input {name} (the same file): not written into it; redirect stdout to another file")


BEFORE_STDOUT.append(refuse_stdout_into_input)


def input_identities(inputs: Sequence[str | os.PathLike] = ()) -> dict[tuple[int, int], str]:
    """(device, inode) -> path of ``inputs`` and of every file noted in this call."""
    found = dict(_session or {})
    for src in inputs:
        try:
            st = os.stat(src)
        except OSError:
            continue
        found[(st.st_dev, st.st_ino)] = os.fspath(src)
    return found
