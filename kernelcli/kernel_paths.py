"""Which kernel file a ``--kernel`` text names, and the kernel it picks there: ``k.json``, ``./dir/k.json``,
``fam.json:NAME`` (one kernel of a family file).

Split from :mod:`kernelcli.catalog` (finding and loading kernels by name), which keeps these names importable; how a
text splits into a file and a kernel name is :func:`kernelcli.catalog_format.split_selector`, reading and checking one
file :mod:`kernelcli.catalog_files`'s.

>>> looks_like_path("./ridge"), looks_like_path("fam.json:sharp"), looks_like_path("sobel_v")
(True, True, False)
"""

from __future__ import annotations

import os
from pathlib import Path

from . import numtext
from .catalog_files import read_kernel_file
from .catalog_format import _FILE_SELECTOR, Kernel, split_selector
from .errors import InvalidKernel, KernelcliError, KernelNotFound
from .kernel_names import LOOKUP_RULE, NAME_RULE, SPEC_NAME_PATTERN, fold_name


def looks_like_path(spec: str) -> bool:
    """Whether a kernel text is a path: anything with a path separator or ending in ``.json``, and ``FILE.json:NAME``
    (a name is looked up only in the catalogue's folders, never in the current one)."""
    separators = {"/", os.sep} | ({os.altsep} if os.altsep else set())
    return any(sep in spec for sep in separators) or spec.lower().endswith(".json") or bool(_FILE_SELECTOR.fullmatch(spec))


def load_from_path(spec: str, max_ndim: int = 2) -> Kernel:
    """The kernel of the JSON file ``spec`` names: its one kernel, or the one ``FILE.json:NAME`` picks.

    >>> import json, tempfile; path = Path(tempfile.mkdtemp()) / "fam.json"
    >>> _ = path.write_text(json.dumps({"family": "f", "kernels": [{"name": "a", "matrix": [[1]]}, {"name": "b", "matrix": [[2]]}]}))
    >>> load_from_path(f"{path}:B").matrix
    ((2.0,),)
    """
    _refuse_a_folder(spec)
    file_text, selector = split_selector(spec)
    if selector is None:
        _refuse_two_readings(spec, max_ndim)
    path = Path(file_text).expanduser()
    kernels = read_kernel_file(path, max_ndim=max_ndim, shown=file_text)
    names = ", ".join(k.name for k in kernels)
    if selector is not None and not SPEC_NAME_PATTERN.fullmatch(selector):  # ('fam.json:' was "fam.json:: no such file")
        raise InvalidKernel(f"{file_text}: {numtext.quoted(selector, 120)} is no kernel name ({NAME_RULE}; {LOOKUP_RULE}); "
                            f"after ':' give one of: {names}")
    if selector is not None:
        wanted = fold_name(selector)
        for kernel in kernels:
            if kernel.name == wanted:
                return kernel
        raise KernelNotFound(f"{file_text}: no kernel named '{selector}'; it holds: {names}")
    if len(kernels) == 1:
        return kernels[0]
    raise InvalidKernel(f"{file_text}: holds {len(kernels)} kernels ({names}); pick one with {file_text}:NAME")


def _refuse_two_readings(spec: str, max_ndim: int) -> None:
    """Refuse ``FILE.json:NAME`` where a file is named so and ``FILE.json`` holds a kernel NAME too: it reads two ways,
    and no spelling picks one (``./fam.json:a`` is both too), so the way out is a rename.  Where ``FILE.json`` is
    missing, broken or holds no such kernel, the file named so is the one reading."""
    selected = _FILE_SELECTOR.fullmatch(spec)
    if selected is None or not SPEC_NAME_PATTERN.fullmatch(selected.group(2)) or not os.path.isfile(spec):
        return
    family, name = selected.groups()
    try:
        kernels = read_kernel_file(Path(family).expanduser(), max_ndim=max_ndim, shown=family)
    except KernelcliError:
        return
    if any(kernel.name == fold_name(name) for kernel in kernels):
        raise InvalidKernel(f"'{spec}' reads two ways: the file {spec}, or the kernel {fold_name(name)} of the family "
                            f"file {family}; rename one of them")


def _refuse_a_folder(spec: str) -> None:
    """Refuse a kernel path ending with ``/`` or ``/.``: it names a folder, as an output spelt so does.  pathlib drops
    the ending, so ``k.npy/`` was read as a JSON file ("not UTF-8 text"), ``k.json/`` as ``k.json``, and a family file's
    advice was ``fam.json/:NAME``, which fails.  (Every text ending so reaches here: it has a ``/`` and is no
    ``.npy``, and an inline kernel is read, or refused, before.)

    >>> _refuse_a_folder("kernels/")
    Traceback (most recent call last):
    kernelcli.errors.InvalidKernel: kernels/ names a folder (it ends with '/'): expected a kernel file (.json or .npy); give one in that folder (kernels/NAME.json) or drop the '/'
    """
    from .io.folder_names import refuse_a_file_named_as_folder, refuse_a_folder_named_output

    refuse_a_file_named_as_folder(spec, InvalidKernel, home=True)
    refuse_a_folder_named_output(spec, InvalidKernel, expected="a kernel file (.json or .npy)", example="NAME.json")
