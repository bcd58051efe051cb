"""NRRD and MetaImage inputs (``.nrrd``, ``.nhdr``, ``.mha``, ``.mhd``) through SimpleITK.

SimpleITK is optional (``pip install 'kernelcli[itk]'``); without it these inputs fail with
exit 2 naming that command.  ITK gives an origin, a spacing and a direction matrix in LPS+
(DICOM's patient coordinates); the NIfTI affine is ``diag(-1, -1, 1) @ [direction * spacing |
origin]``, exactly what SimpleITK's own NIfTI writer stores, so a result overlays the input.
A 4-D image (an ITK image of dimension 4, or a 3-D vector image is refused) is read whole or
one volume with ``volume=N``, as NIfTI; read whole, its fourth spacing is the time between volumes that a NIfTI
output states (pixdim[4], in seconds, as SimpleITK's writer stores it), where the header gives one.

Where the header does not state a voxel size, an orientation or an origin, ITK silently takes
1 mm, the identity and zero; :func:`header_geometry` reads the header itself (NRRD's fields up to
the first blank line, attached or a detached ``.nhdr``; MetaImage's ``key = value`` lines up to
``ElementDataFile``) and the volume says what was assumed (``spacing_assumed``,
``orientation_unknown``, ``position_unknown``, with notes), as a DICOM file without the tags does.

Example
-------
>>> itk_affine((1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0), (2.0, 2.0, 3.0), (10.0, 20.0, 30.0))[:3].tolist()
[[-2.0, 0.0, 0.0, -10.0], [0.0, -2.0, 0.0, -20.0], [0.0, 0.0, 3.0, 30.0]]
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np

from ..errors import ImageReadError, MissingExtra, UsageError
from ..extras import install_hint
from ..io.read_words import API, ReadWords, words_for
from .geometry import stated_voxel_size
from .itk_files import check_data_files, library_reason, library_stderr, library_warnings
from .volume import Volume, every_volume_note

ITK_HINT = install_hint("itk")
#: the formats read through SimpleITK whose header kernelcli reads too (:func:`header_geometry`), by suffix
FORMATS = {".nrrd": "NRRD", ".nhdr": "NRRD", ".mha": "MetaImage", ".mhd": "MetaImage"}


def itk_affine(direction: Sequence[float], spacing: Sequence[float], origin: Sequence[float]) -> np.ndarray:
    """The NIfTI (RAS+) affine of an ITK image's first three axes (direction row-major, LPS+)."""
    n = int(round(len(direction) ** 0.5))
    d = np.asarray(direction, dtype=np.float64).reshape(n, n)[:3, :3]
    lps = np.eye(4)
    lps[:3, :3] = d @ np.diag(np.asarray(spacing, dtype=np.float64)[:3])
    lps[:3, 3] = np.asarray(origin, dtype=np.float64)[:3]
    return np.diag([-1.0, -1.0, 1.0, 1.0]) @ lps


def read_itk(path: str | os.PathLike, *, volume: int | None = None, words: ReadWords = API) -> Volume:
    """Read an NRRD or MetaImage file as a (Z, Y, X) or (T, Z, Y, X) :class:`Volume` through SimpleITK."""
    try:
        import SimpleITK as sitk
    except ImportError:
        raise MissingExtra(f"{path}: reading .nrrd/.mha/.mhd needs SimpleITK, which is not installed: {ITK_HINT}") from None
    from ..io.folder_names import refuse_a_file_named_as_folder

    refuse_a_file_named_as_folder(path)  # ('x.nii.gz/' names a folder: pathlib would read x.nii.gz)
    p, words = Path(path), words_for(words)
    if p.suffix.lower() in FORMATS:  # before ITK opens them: a FIFO blocked for ever, /dev/zero read as voxels
        try:
            check_data_files(p, FORMATS[p.suffix.lower()])
        except OSError as exc:
            raise ImageReadError(f"{p}: cannot read its header: {exc.strerror or exc}") from None
    try:
        with library_stderr() as told:  # MetaIO's own lines: said in our one line, not printed beside it
            img = sitk.ReadImage(str(p))
    except RuntimeError as exc:
        raise ImageReadError(f"{p}: not a readable {p.suffix} image: {library_reason(told, exc)}") from None
    warned, failed = library_warnings(told)
    if failed:
        raise ImageReadError(f"{p}: not a readable {p.suffix} image: {library_reason(failed, None)}")
    if img.GetNumberOfComponentsPerPixel() != 1:
        raise ImageReadError(f"{p}: {img.GetNumberOfComponentsPerPixel()} components per voxel (a vector or colour image); expected a scalar volume")
    dim = img.GetDimension()
    if dim not in (2, 3, 4):
        raise ImageReadError(f"{p}: {dim}-D image; expected 3-D or 4-D")
    data = sitk.GetArrayViewFromImage(img)  # (Z, Y, X) or (T, Z, Y, X); a view, copied below
    notes: list[str] = [f"{p.name}: {line} (ITK)" for line in warned]
    if dim == 4:
        if volume is not None:
            if not 0 <= volume < data.shape[0]:
                raise UsageError(f"{p}: {words.given('volume', volume)}: the file holds {data.shape[0]} volume(s), indices 0 to {data.shape[0] - 1}")
            data = data[volume]
        elif data.shape[0] > 1:
            notes.append(every_volume_note(p.name, data.shape[0], words))
        else:
            data = data[0]
    elif volume is not None:
        raise UsageError(f"{p}: {words.given('volume', volume)}: the file is {dim}-D, not 4-D")
    arr = np.array(data)
    if arr.ndim == 2:
        arr = arr[np.newaxis]
    if arr.dtype.kind not in "biuf":
        raise ImageReadError(f"{p}: voxel type {arr.dtype} is not real numbers; expected a scalar volume")
    spacing = tuple(float(s) for s in img.GetSpacing()) + (1.0,) * max(0, 3 - dim)  # the affine's: what the file holds
    direction = img.GetDirection()
    origin = tuple(img.GetOrigin()) + (0.0,) * max(0, 3 - dim)
    if dim == 2:
        direction = (direction[0], direction[1], 0.0, direction[2], direction[3], 0.0, 0.0, 0.0, 1.0)
    reader = img.GetMetaData("ITK_InputFilterName") if img.HasMetaDataKey("ITK_InputFilterName") else ""
    kind = {"NrrdImageIO": "NRRD", "MetaImageIO": "MetaImage"}.get(reader) or (None if reader else FORMATS.get(p.suffix.lower()))
    stated = header_geometry(p, kind, dim) if kind else HeaderGeometry(None, None, None)
    # what ITK made up, said as a DICOM file without PixelSpacing/ImagePositionPatient/ImageOrientationPatient says it
    geometry_notes = []
    if stated.spacing_missing:
        geometry_notes.append(f"{p.name}: {stated.spacing_missing}; assuming 1 mm")
    if stated.position_missing:
        geometry_notes.append(f"{p.name}: {stated.position_missing}: the position is unknown (voxel 0 put at 0, 0, 0 mm; "
                              "NIfTI outputs keep qform/sform codes 0, unknown)")
    if stated.orientation_missing:
        geometry_notes.append(f"{p.name}: {stated.orientation_missing}; the NIfTI affine is a plain scaling (orientation unknown)")
    spacing_missing, spacing_axes = stated.spacing_missing, tuple(stated.spacing_axes)
    if dim == 2 and "z" not in spacing_axes:  # no depth in the file: as a 2-D NIfTI's and a DICOM slice without a thickness
        depth = "a 2-D image: no voxel size along z"
        geometry_notes.append(f"{p.name}: {depth}; assuming 1 mm")
        spacing_missing, spacing_axes = "; ".join(filter(None, [spacing_missing, depth])), spacing_axes + ("z",)
    affine = itk_affine(direction, spacing, origin)  # (a sheared one: a NIfTI output says what its qform holds of it)
    time_step = None
    if arr.ndim == 4:  # ITK's fourth spacing, in no unit: kept as SimpleITK's NIfTI writer keeps it (pixdim[4], seconds)
        step = float(img.GetSpacing()[3])
        if stated.time_step_stated and math.isfinite(step) and step > 0:
            time_step = step
            notes.append(f"{p.name}: its volumes are {step:g} apart (the fourth spacing; the file names no unit): a NIfTI "
                         "output stores that as pixdim[4] in seconds, as SimpleITK's NIfTI writer does")
        else:
            notes.append(f"{p.name}: no time between its volumes in the header (a fourth spacing): a NIfTI output stores "
                         "pixdim[4] 0, not given")
    return Volume(
        data=arr, spacing=tuple(stated_voxel_size(s) for s in spacing[2::-1]), affine=affine, path=p,  # as a NIfTI's pixdim
        format=FORMATS.get(p.suffix.lower(), "ITK"),
        notes=geometry_notes + notes, stored_dtype=arr.dtype, spacing_assumed=spacing_missing,
        assumed_axes=spacing_axes,
        orientation_unknown=stated.orientation_missing, position_unknown=stated.position_missing, time_step=time_step,
    )


# ---------------------------------------------------------------- what the header states

#: the most of a file read for its header (a header is a few hundred bytes; the rest is not looked at)
HEADER_LIMIT = 1 << 20
#: NRRD kinds of a domain axis (an ITK image axis); any other kind is a range axis (ITK's pixel components)
NRRD_DOMAIN_KINDS = ("domain", "space", "time", "???", "none")


class HeaderGeometry(NamedTuple):
    """Why the header gives no voxel size, orientation, origin (a short reason each), or None where it gives it."""

    spacing_missing: str | None
    orientation_missing: str | None
    position_missing: str | None
    spacing_axes: tuple[str, ...] = ()  # the image axes ("x", "y", "z") whose spacing is not stated
    time_step_stated: bool = False  # a 4-D image's fourth spacing is in the header (else ITK's 1 is made up)


def header_geometry(path: str | os.PathLike, kind: str, dim: int) -> HeaderGeometry:
    """What an NRRD (``kind`` "NRRD") or MetaImage header does not state of the first ``min(dim, 3)`` axes' geometry.

    >>> import tempfile
    >>> f = Path(tempfile.mkdtemp()) / "n.nhdr"
    >>> _ = f.write_bytes(b"NRRD0004\\ntype: short\\ndimension: 3\\nsizes: 6 5 4\\nspacings: 1 1 2\\ndata file: n.raw\\n")
    >>> header_geometry(f, "NRRD", 3)
    HeaderGeometry(spacing_missing=None, orientation_missing='no space directions field', position_missing='no space origin field', spacing_axes=(), time_step_stated=False)
    """
    p = Path(path)
    try:
        text = _header_text(p, kind)
    except OSError as exc:
        raise ImageReadError(f"{p}: cannot read its header: {exc.strerror or exc}") from None
    spatial = min(dim, 3)
    if kind == "NRRD":
        return _nrrd_geometry(text, dim, spatial)
    return _metaimage_geometry(text, dim, spatial)


def _header_text(p: Path, kind: str) -> str:
    """The header of ``p``: NRRD's lines up to the first blank one, MetaImage's up to ``ElementDataFile``
    (at most :data:`HEADER_LIMIT` bytes; the voxels after it are not read)."""
    end = re.compile(rb"\r?\n\r?\n" if kind == "NRRD" else rb"(?m)^[ \t]*ElementDataFile[ \t]*=[^\n]*(\n|$)")
    buf = b""
    with open(p, "rb") as fh:
        while len(buf) < HEADER_LIMIT:
            chunk = fh.read(min(65536, HEADER_LIMIT - len(buf)))
            buf += chunk
            found = end.search(buf)
            if found and (found.group(0).endswith(b"\n") or not chunk):
                buf = buf[:found.end()]
                break
            if not chunk:
                break
    return buf.decode("latin-1")


def _numbers(text: str) -> list[float] | None:
    """The numbers of a header value (``nan`` allowed), or None if it is not a list of numbers."""
    try:
        return [float(t) for t in re.split(r"[\s,]+", text.strip()) if t]
    except ValueError:
        return None


def _axes_text(axes: list[int]) -> str:
    return f"axis {axes[0]}" if len(axes) == 1 else "axes " + ", ".join(map(str, axes))


def _nrrd_geometry(text: str, dim: int, spatial: int) -> HeaderGeometry:
    """NRRD: ``space directions`` gives the spacing and the orientation of an axis, ``spacings`` its spacing
    alone, ``space origin`` the origin (without a space, ITK takes it from ``axis mins``).  Field names are
    case-insensitive, with or without their spaces, as teem reads them."""
    fields: dict[str, str] = {}
    for line in text.splitlines()[1:]:  # the first line is the magic NRRD000N
        if line.lstrip().startswith("#") or ":=" in line:  # a comment, or a key/value pair (not a field)
            continue
        key, sep, value = line.partition(":")
        if sep:
            fields.setdefault(re.sub(r"\s+", "", key.lower()), value.strip())
    kinds = fields.get("kinds", "").split()
    axes = [i for i, k in enumerate(kinds) if k.lower() in NRRD_DOMAIN_KINDS] if kinds else list(range(dim))
    axes = axes[:spatial] if len(axes) >= spatial else list(range(spatial))  # ITK's first image axes
    directions: list[list[float] | None] = []
    if "spacedirections" in fields:
        for vector, none in re.findall(r"\(([^)]*)\)|(none)", fields["spacedirections"], flags=re.IGNORECASE):
            numbers = None if none else _numbers(vector)
            directions.append(numbers if numbers and all(map(math.isfinite, numbers)) and any(numbers) else None)
    spacings = _numbers(fields.get("spacings", "")) or []

    def given(values: list, i: int) -> bool:
        value = values[i] if i < len(values) else None
        return value is not None and (not isinstance(value, float) or math.isfinite(value))

    no_spacing = [i for i in axes if not given(directions, i) and not given(spacings, i)]
    spacing_missing = None
    if no_spacing:
        spacing_missing = ("no spacings or space directions field" if "spacedirections" not in fields and "spacings" not in fields
                           else f"no spacing for {_axes_text(no_spacing)} in the spacings or space directions field")
    no_direction = [i for i in axes if not given(directions, i)]
    orientation_missing = None
    if no_direction:
        orientation_missing = ("no space directions field" if "spacedirections" not in fields
                               else f"no space direction for {_axes_text(no_direction)}")
    origin = _numbers(fields["spaceorigin"].strip("() \t")) if "spaceorigin" in fields else None
    position_missing = None
    if not (origin and len(origin) >= spatial and all(map(math.isfinite, origin[:spatial]))):
        mins, maxs = _numbers(fields.get("axismins", "")) or [], _numbers(fields.get("axismaxs", "")) or []
        spaced = "space" in fields or "spacedimension" in fields  # with a space, ITK reads space origin alone
        if spaced or not all(given(mins, i) and (given(maxs, i) or given(spacings, i)) for i in axes):
            position_missing = "no space origin field" if "spaceorigin" not in fields else "no usable space origin"
    domain = [i for i, k in enumerate(kinds) if k.lower() in NRRD_DOMAIN_KINDS] if kinds else list(range(dim))
    timed = dim == 4 and len(domain) == 4 and (given(directions, domain[3]) or given(spacings, domain[3]))
    return HeaderGeometry(spacing_missing, orientation_missing, position_missing, tuple("xyz"[axes.index(i)] for i in no_spacing),
                          timed)


def _metaimage_geometry(text: str, dim: int, spatial: int) -> HeaderGeometry:
    """MetaImage: ``ElementSpacing`` (or ``ElementSize``) the spacing, ``TransformMatrix`` (``Orientation``,
    ``Rotation``) the direction, ``Offset`` (``Origin``, ``Position``) the origin.  MetaIO reads the keys in
    this case only: a key spelled in another case is named in the reason, not taken as given."""
    fields: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            fields.setdefault(key.strip(), value.strip())
            if key.strip() == "ElementDataFile":
                break

    def missing(names: tuple[str, ...], count: int) -> str | None:
        for name in names:
            numbers = _numbers(fields[name]) if name in fields else None
            if numbers and len(numbers) >= count and all(map(math.isfinite, numbers[:count])):
                return None
        why = "no " + (f"{names[0]} or {names[1]}" if len(names) == 2 else f"{', '.join(names[:-1])} or {names[-1]}")
        other = [k for k in fields if k.lower() in {n.lower() for n in names} and k not in names]
        if other:
            why += f" (SimpleITK does not read {', '.join(map(repr, other))}: MetaImage keys are case-sensitive)"
        return why

    no_spacing = missing(("ElementSpacing", "ElementSize"), spatial)
    return HeaderGeometry(
        no_spacing,
        missing(("TransformMatrix", "Orientation", "Rotation"), dim * dim),
        missing(("Offset", "Origin", "Position"), spatial),
        tuple("xyz"[:spatial]) if no_spacing else (),
        dim == 4 and missing(("ElementSpacing", "ElementSize"), 4) is None,
    )
