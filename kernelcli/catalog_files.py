"""One kernel file read and validated: the size checked before reading, the JSON parsed, each kernel checked.

:func:`read_kernel_file` reads a path; :func:`parse_kernels` checks a document already parsed.
Every error is an :class:`~kernelcli.errors.InvalidKernel` (exit 3) naming the file and the
field; a missing file is :class:`~kernelcli.errors.KernelNotFound`.

>>> parse_kernels({"family": "mine", "kernels": [{"name": "avg", "matrix": [[1, 1]], "scale": "sum"}]})[0].family
'mine'
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .catalog_format import (
    _FAMILY_FILE_KEYS, _KERNEL_KEYS, _SINGLE_FILE_KEYS, CUSTOM_FAMILY, MAX_FILE_BYTES, Kernel, _describe, _Validator,
)
from .kernel_json import _parse_json
from .kernel_shown import SHOWN_KEYS, check_shown, is_shown_kernel, missing_matrix_hint, refuse_spec_name, stated_zyx
from .errors import InvalidKernel, KernelNotFound


def read_kernel_file(path: str | os.PathLike[str], *, max_ndim: int = 2, shown: str | None = None) -> list[Kernel]:
    """Read and validate one kernel file; return its kernels in file order (``shown``: the path as typed, which every
    refusal starts with; ``./fam.json`` was named ``fam.json``).

    The size is checked before anything is read (at most ``MAX_FILE_BYTES``).

    Raises
    ------
    KernelNotFound
        The file does not exist.
    InvalidKernel
        Anything else: not a regular file, too large, not UTF-8, not JSON, or a field fails validation.

    >>> import json, tempfile; path = Path(tempfile.mkdtemp()) / "mine.json"
    >>> _ = path.write_text(json.dumps({"name": "diff", "matrix": [[-1, 1]]}))
    >>> [(k.name, k.shape) for k in read_kernel_file(path)]
    [('diff', (1, 2))]
    >>> read_kernel_file(path.with_name("none.json"))
    Traceback (most recent call last):
    kernelcli.errors.KernelNotFound: .../none.json: no such file
    """
    from .tiled.urls import refuse_url

    refuse_url(path if shown is None else shown, "a kernel file is read from a local path")  # (it was "no such file", as if a local file were missing)
    path = Path(path)
    label = str(path) if shown is None else shown
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise KernelNotFound(f"{label}: no such file") from None
    except OSError as exc:
        raise InvalidKernel(f"{label}: cannot read: {exc.strerror or exc}") from None
    if path.is_dir():
        raise InvalidKernel(f"{label}: is a folder, expected a JSON kernel file")
    if not path.is_file():
        raise InvalidKernel(f"{label}: is not a regular file, expected a JSON kernel file")
    if size > MAX_FILE_BYTES:
        raise InvalidKernel(f"{label}: file is {size} bytes, more than the {MAX_FILE_BYTES} (1 MiB) allowed for a kernel file")
    from .io.reads import note_input

    note_input(path)  # a kernel file is an input: never overwritten by this call's outputs
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise InvalidKernel(f"{label}: cannot read: {exc.strerror or exc}") from None
    if len(raw) > MAX_FILE_BYTES:  # the file grew after stat
        raise InvalidKernel(f"{label}: file is more than the {MAX_FILE_BYTES} bytes (1 MiB) allowed for a kernel file")
    key = (label, max_ndim, raw)
    known = _PARSED.get(key)
    if known is not None:
        return list(known)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidKernel(f"{label}: not UTF-8 text (bad byte at offset {exc.start})") from None
    kernels = parse_kernels(_parse_json(text, label), origin=label, path=path, max_ndim=max_ndim)
    if len(_PARSED) < _PARSED_MAX:
        _PARSED[key] = tuple(kernels)
    return kernels


#: Kernel files already parsed, by name and content (the file is still read and checked every
#: time; only an identical content skips the parse).  Kernels are frozen values.  The warm
#: worker parses the catalogue once, before it forks a process per call.
_PARSED: dict[tuple, tuple] = {}


_PARSED_MAX = 256


def parse_kernels(
    document: Any,
    *,
    origin: str = "<data>",
    path: Path | None = None,
    max_ndim: int = 2,
) -> list[Kernel]:
    """Validate a parsed kernel document (family file or single kernel) and return its kernels.

    A single kernel may be what ``kernels show NAME --json`` prints: its ``family``, ``shape``, ``sum``, ``values``...
    are checked against the matrix (:mod:`kernelcli.kernel_shown`).

    Parameters
    ----------
    document : object
        What ``json.loads`` gave for a kernel file.
    origin : str
        The file name (or a label) every error message starts with.
    path : Path, optional
        Stored in each :class:`Kernel`.
    max_ndim : int
        Deepest matrix nesting accepted: 2 for image kernels, 3 for (channels, f, f) layer kernels.

    Examples
    --------
    >>> parse_kernels({"name": "avg", "matrix": [[1, 1]], "scale": "sum"})[0].array().tolist()
    [[0.5, 0.5]]
    >>> parse_kernels({"name": "bad", "matrix": [[1, 2, 3], [4]]}, origin="my.json")
    Traceback (most recent call last):
    ...
    kernelcli.errors.InvalidKernel: my.json: matrix: row 2 has 1 value, expected 3
    """
    check = _Validator(origin, max_ndim=max_ndim)
    if not isinstance(document, dict):
        check.fail("", f'is {_describe(document)}, expected a JSON object: a family file with "kernels" or one kernel with "name" and "matrix"')
    if not is_shown_kernel(document) and ("kernels" in document or "family" in document):
        check.keys(document, "", _FAMILY_FILE_KEYS, required=("family", "kernels"))
        family = check.name(document["family"], "family")
        if "description" in document:
            check.text(document["description"], "description")
        items = document["kernels"]
        if not isinstance(items, list):
            check.fail("kernels", f"is {_describe(items)}, expected a list of kernel objects")
        if not items:
            check.fail("kernels", "is empty, expected at least one kernel")
        kernels: list[Kernel] = []
        first_index: dict[str, int] = {}
        for index, item in enumerate(items):
            field = f"kernels[{index}]"
            kernel = check.kernel(item, field, family=family, path=path, allowed=_KERNEL_KEYS)
            if kernel.name in first_index:
                check.fail(f"{field}.name", f"'{kernel.name}' is already used by kernels[{first_index[kernel.name]}]")
            first_index[kernel.name] = index
            kernels.append(kernel)
        return kernels
    if is_shown_kernel(document):  # one kernel, as a file holds it or as `kernels show --json` prints it
        if "matrix" not in document and "values" in document:
            check.fail("", f'missing key "matrix"{missing_matrix_hint(document)}')
        refuse_spec_name(document, check)
        allowed = (*_SINGLE_FILE_KEYS, *SHOWN_KEYS)
        item = document
        if "scale" in document and document["scale"] is None:  # no scale, as `kernels show --json` prints it
            check.keys(document, "", allowed, required=("name", "matrix"))
            item = {key: value for key, value in document.items() if key != "scale"}
        kernel = check.kernel(item, "", family=CUSTOM_FAMILY, path=path, allowed=allowed)
        check_shown(document, kernel, check)
        return [stated_zyx(document, kernel)]  # (its "axes" kept: a (z, y, x) kernel, never an image's channels)
    keys = ", ".join(f'"{key}"' for key in document) or "none"
    check.fail("", f'expected "family" and "kernels" (a family file) or "name" and "matrix" (one kernel); found keys: {keys}')
    raise AssertionError("unreachable")  # check.fail always raises
