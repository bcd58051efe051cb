"""What ``kernels show NAME --json`` prints, read back as a one-kernel file: its informational keys checked.

A shown kernel is ``name`` and ``matrix`` (with ``scale``, ``description``, ``source``) as any one-kernel file,
plus what ``kernels show --json`` says about it: ``shape``, ``sum``, ``separable``, ``values`` (the weights after
scale) and, for a named 3-D kernel, ``axes`` and ``factors``.  Each is checked against the kernel the matrix
makes, so a matrix edited while a stale ``values`` or ``sum`` stays beside it is refused (which one was meant?),
naming the field, what it says and what the matrix gives.  ``family``, ``path`` and ``notes`` say where the kernel
came from: checked for their type only (a one-kernel file's kernel is of the family ``custom``).

>>> from kernelcli.catalog_files import parse_kernels
>>> parse_kernels({"name": "d", "family": "edge", "matrix": [[1, -1]], "sum": 0, "values": [[1.0, -1.0]]})[0].family
'custom'
>>> parse_kernels({"name": "d", "matrix": [[1, -2]], "sum": 0}, origin="k.json")
Traceback (most recent call last):
...
kernelcli.errors.InvalidKernel: k.json: sum: says 0, the matrix gives -1 (after scale); drop "sum" or make it agree
"""

from __future__ import annotations

import math
from typing import Any

from .catalog_format import Kernel
from .errors import InvalidKernel

#: the keys ``kernels show --json`` adds to a one-kernel file's (``notes``: the call's notes)
SHOWN_KEYS = ("family", "shape", "sum", "separable", "path", "values", "axes", "factors", "notes")
#: a stated sum agrees within this share of the weights' magnitudes (a named 3-D kernel's sum is its factors'
#: sums multiplied: box_3d's 1, where its 27 taps add up to 0.9999999999999998)
_SUM_RTOL = 1e-12
#: factors agree when their outer product is within this share of the largest weight (float64 rounding)
_FACTORS_RTOL = 8 * 2.0**-52


#: what an image or array takes, in the words of every refusal of a volume's kernel there
TWO_D = "an image or array takes a 2-D kernel, e.g. gaussian:1.5 (sigma in pixels) or box:3"


class ZyxKernel(Kernel):
    """A 3-D kernel whose document states ``"axes": ["z", "y", "x"]`` (a named 3-D kernel's, as ``kernels show --json``
    prints it): its taps are (z, y, x), for a volume or a ``--layout zyx`` array, never an image's channels."""

    axes = ("z", "y", "x")

    def __post_init__(self) -> None:
        super().__post_init__()
        if len(self.shape) != 3:
            raise InvalidKernel(f"Kernel {self.name!r}: axes: names the axes of a 3-D kernel, and the matrix is {len(self.shape)}-D")

    def to_dict(self) -> dict[str, Any]:
        """:meth:`Kernel.to_dict` with ``"axes": ["z", "y", "x"]``: ``kernels show FILE --json`` of this file reads back
        as this kernel again, not as a (channels, f, f) layer filter.

        >>> ZyxKernel("b", [[[1.0]], [[1.0]]]).to_dict()["axes"]
        ['z', 'y', 'x']
        """
        document = super().to_dict()
        document["axes"] = list(self.axes)
        return document

    def refused_as_layer(self, input: str | None = None, *, cli: bool | None = None) -> InvalidKernel:
        """Why it is no layer's (channels, f, f) filter, in a named 3-D kernel's words (``catalog._volume_refusal``):
        to the Python API (``filter_bank`` asks), or on the command line (``cli``, the default with an ``input``) to
        ``input`` (an image, a chw or hwc array), or to a batch none of whose inputs takes it (no ``input``).

        >>> from pathlib import Path
        >>> k = ZyxKernel("b", [[[1.0]], [[1.0]]], path=Path("b.json"))
        >>> print(str(k.refused_as_layer("rgb.png")).split("; ")[0])
        rgb.png: b.json: a 3-D kernel file whose "axes" say z, y, x is for a volume input (NIfTI, DICOM or a DICOM series folder) or a --layout zyx array
        """
        named = str(self.path) if self.path is not None else self.name
        what = 'a 3-D kernel file whose "axes" say z, y, x is for a volume'
        layer = 'a (channels, f, f) layer filter, summed over the channels, is a file without "axes"'
        if not (input is not None if cli is None else cli):
            return InvalidKernel(f"{named}: {what}: a (Z, Y, X) array takes it in conv3d (from kernelcli.volumes); {TWO_D}; {layer}")
        return InvalidKernel(f"{'' if input is None else f'{input}: '}{named}: {what} input (NIfTI, DICOM or a DICOM series folder) "
                             f"or a --layout zyx array; {TWO_D}; {layer}")


def is_shown_kernel(document: dict) -> bool:
    """True for a document read as one kernel: ``name`` or ``matrix`` and no ``kernels`` (a ``family`` then is the
    family ``kernels show`` names, not a family file's).

    >>> is_shown_kernel({"name": "k", "family": "edge", "matrix": [[1]]}), is_shown_kernel({"family": "f", "kernels": []})
    (True, False)
    """
    return "kernels" not in document and ("name" in document or "matrix" in document)


def missing_matrix_hint(document: dict) -> str:
    """What a shown kernel without ``matrix`` is told (a 3-D kernel's document printed before it carried one).

    >>> missing_matrix_hint({"name": "b", "values": [[1]]})
    '; "values" are the weights after scale: copy them as "matrix"'
    """
    return '; "values" are the weights after scale: copy them as "matrix"' if "values" in document and "matrix" not in document else ""


def refuse_spec_name(document: dict, check: Any) -> None:
    """Refuse a ``name`` that a spec gives its kernel (``gaussian:1.5``, ``box:3vox``: what ``kernels show SPEC --json``
    prints), saying the name a file takes and that the spec itself needs no file.

    >>> from kernelcli.catalog_format import _Validator
    >>> refuse_spec_name({"name": "gaussian:1.5"}, _Validator("g.json"))
    Traceback (most recent call last):
    ...
    kernelcli.errors.InvalidKernel: g.json: name: "gaussian:1.5" is a spec's name; a kernel file's name is lower-case letters, digits and _ (e.g. "gaussian_1_5"), or give -k gaussian:1.5 itself
    """
    import re

    from .kernel_names import NAME_PATTERN

    name = document.get("name")
    if isinstance(name, str) and re.fullmatch(r"(gaussian|box|fwhm):[0-9.e+-]+(vox)?", name) and not NAME_PATTERN.fullmatch(name):
        folded = re.sub(r"[^a-z0-9_]+", "_", name.lower()).strip("_")
        check.fail("name", f'"{name}" is a spec\'s name; a kernel file\'s name is lower-case letters, digits and _ '
                           f'(e.g. "{folded}"), or give -k {name} itself')


def check_shown(document: dict, kernel: Any, check: Any) -> None:
    """Refuse (through ``check.fail``: InvalidKernel naming the field) a shown key that does not agree with ``kernel``."""
    import numpy as np

    from .io.matrices import format_number
    from .numtext import beyond_float

    values = kernel.array()
    if "family" in document:
        check.name(document["family"], "family")
    if "path" in document and document["path"] is not None and not isinstance(document["path"], str):
        check.fail("path", f"is {_describe(document['path'])}, expected a string or null (where the kernel was read from)")
    if "notes" in document and not (isinstance(document["notes"], list) and all(isinstance(n, str) for n in document["notes"])):
        check.fail("notes", "expected a list of strings (the notes of the call that printed the kernel)")

    def stale(field: str, said: str, gives: str) -> None:
        check.fail(field, f'says {said}, the matrix gives {gives}; drop "{field}" or make it agree')

    if "shape" in document:
        shape = document["shape"]
        if not (isinstance(shape, list) and all(type(n) is int for n in shape)):
            check.fail("shape", f"is {_describe(shape)}, expected a list of whole numbers")
        if tuple(shape) != values.shape:
            stale("shape", _listed(shape), _listed(values.shape))
    if "values" in document:
        from .catalog_format import _Validator

        shown = _Validator(check.origin, max_ndim=3).matrix(document["values"], "values")
        given = np.array(shown, dtype=np.float64)
        if given.shape != values.shape:
            stale("values", f"a {_by(given.shape)} matrix", f"{_by(values.shape)}")
        differ = np.argwhere(given != values)
        if differ.size:
            at = tuple(int(i) for i in differ[0])
            where = ", ".join(f"{axis} {i + 1}" for axis, i in zip(_axes(values.ndim), at))
            stale("values", f"{format_number(float(given[at]))} at {where}",
                  f"{format_number(float(values[at]))} there (after scale; {len(differ)} of {values.size} values differ)")
    if "sum" in document:
        said = document["sum"]
        if isinstance(said, bool) or not isinstance(said, (int, float)) or not abs(said) <= 1.7976931348623157e308:
            told = beyond_float(said) if type(said) is int else _describe(said)
            check.fail("sum", f"is {told}, expected a number (the sum of the weights after scale)")
        magnitude = math.fsum(abs(v) for v in values.ravel().tolist())
        if abs(said - kernel.sum) > _SUM_RTOL * magnitude:
            stale("sum", format_number(float(said)), f"{format_number(kernel.sum)} (after scale)")
    if "separable" in document:
        said = document["separable"]
        if not isinstance(said, bool):
            check.fail("separable", f"is {_describe(said)}, expected true or false")
        # a 3-D kernel file is applied whole (false, as kernels show says of it); true claims 1-D factors: checked
        if said != kernel.separable and (values.ndim == 2 or said and not _outer_product(values)):
            stale("separable", _json(said), _json(not said))
    if "axes" in document:
        if values.ndim != 3:
            check.fail("axes", f'names the axes of a 3-D kernel, and the matrix is {values.ndim}-D; drop "axes"')
        if document["axes"] != ["z", "y", "x"]:
            check.fail("axes", f'is {_describe(document["axes"])}, expected ["z", "y", "x"] (a 3-D kernel\'s taps, as kernels show prints them)')
    if "factors" in document:
        _check_factors(document["factors"], values, check, stale)


def stated_zyx(document: dict, kernel: Any) -> Any:
    """``kernel`` as a :class:`ZyxKernel` where its document states ``"axes": ["z", "y", "x"]`` (checked first by
    :func:`check_shown`), else as it is: a plain 3-D matrix stays a (channels, f, f) layer's filter, as the README says.

    >>> from kernelcli.catalog_format import Kernel
    >>> k = Kernel("b", [[[1.0]], [[1.0]]])
    >>> type(stated_zyx({"axes": ["z", "y", "x"]}, k)).__name__, type(stated_zyx({}, k)).__name__
    ('ZyxKernel', 'Kernel')
    """
    if "axes" not in document:
        return kernel
    from .records import field_names

    return ZyxKernel(**{name: getattr(kernel, name) for name in field_names(kernel)})


def _check_factors(factors: Any, values: Any, check: Any, stale: Any) -> None:
    """``factors``: one list of numbers an axis, whose outer product is the matrix (after scale)."""
    import numpy as np

    from .io.matrices import format_number

    if not (isinstance(factors, list) and len(factors) == values.ndim and all(isinstance(f, list) and f for f in factors)
            and all(type(v) in (int, float) and math.isfinite(v) for f in factors for v in f)):
        check.fail("factors", f"expected {values.ndim} lists of numbers, one an axis (the matrix is {values.ndim}-D)")
    lengths = tuple(len(f) for f in factors)
    if lengths != values.shape:
        stale("factors", f"factors of {_by(lengths)}", _by(values.shape))
    product = np.ones(())
    for factor in factors:
        product = np.multiply.outer(product, np.array(factor, dtype=np.float64))
    off = np.argwhere(np.abs(product - values) > _FACTORS_RTOL * float(np.abs(values).max()))
    if off.size:
        at = tuple(int(i) for i in off[0])
        where = ", ".join(f"{axis} {i + 1}" for axis, i in zip(_axes(values.ndim), at))
        check.fail("factors", f"their outer product is {format_number(float(product[at]))} at {where}, the matrix gives "
                              f'{format_number(float(values[at]))} there (after scale); drop "factors" or make them agree')


def _outer_product(values: Any) -> bool:
    """True when a 3-D kernel is an outer product of three 1-D factors: each way of flattening it to 2-D is rank 1.

    >>> import numpy as np
    >>> _outer_product(np.ones((3, 3, 3))), _outer_product(np.arange(8.0).reshape(2, 2, 2))
    (True, False)
    """
    import numpy as np

    from ._core.forms import rank1_factors

    def rank1(matrix: Any) -> bool:
        return min(matrix.shape) == 1 or rank1_factors(np.ascontiguousarray(matrix), np.dtype(np.float64)) is not None

    return rank1(values.reshape(values.shape[0], -1)) and rank1(values.reshape(-1, values.shape[-1]))


def _axes(ndim: int) -> tuple[str, ...]:
    return ("slice",) * (ndim - 2) + ("row", "column")


def _by(shape: tuple[int, ...]) -> str:
    return "x".join(map(str, shape))


def _listed(shape: Any) -> str:
    return "[" + ", ".join(map(str, shape)) + "]"


def _json(value: bool) -> str:
    return "true" if value else "false"


def _describe(value: Any) -> str:
    from .catalog_format import _describe as described

    return described(value)
