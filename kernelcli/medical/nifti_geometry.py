"""Where a NIfTI's (or MGH's) voxels are and how big they are, read from its header without a guess.

A NIfTI states its grid twice, the qform and the sform, each with a code, and its voxel sizes a
third time, in pixdim.  :func:`nifti_affine` picks the reading (or refuses a file that reads two
ways, or whose reading places no grid); :func:`nifti_spacing` takes the voxel sizes; and
:func:`voxel_size_conflict` says where pixdim and the affine disagree, which a kernel sized in mm
then refuses (:func:`kernelcli.medical.filtering.check_spacing_known`).  :func:`nifti_geometry` does all
of it for :func:`~.nifti.read_nifti` and the tiled path alike.

Example
-------
>>> voxel_size_conflict([1.0, 1.0, 1.0], np.eye(4), "sform") is None
True
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ImageReadError, UsageError
from ..io.read_words import API, ReadWords
from ..modes import AFFINE_READINGS, canonical_affine
from ..records import record
from .geometry import GRID_TOLERANCE, grids_apart, sheared_pair, stated_voxel_size

_NIFTI_UNITS_MM = {"mm": 1.0, "meter": 1000.0, "micron": 0.001}



def spatial_unit_mm(header: Any) -> float:
    """Millimetres in the spatial unit of a NIfTI ``header`` (1000 for metres, 0.001 for microns); 1 for mm, for
    a header that does not say, and for none (a DICOM's affine is in mm).

    >>> import nibabel as nib
    >>> header = nib.Nifti1Header(); header.set_xyzt_units("meter")
    >>> spatial_unit_mm(header), spatial_unit_mm(None)
    (1000.0, 1.0)
    """
    units = getattr(header, "get_xyzt_units", None)
    return _NIFTI_UNITS_MM.get(units()[0], 1.0) if units is not None else 1.0


#: a qform and an sform that place a corner voxel of the grid farther apart than this fraction of the smallest
#: voxel side are two readings: the one rule for two grids (:func:`~.geometry.grids_apart`)
AFFINE_TOLERANCE = GRID_TOLERANCE
#: voxel sizes (pixdim) and the lengths of the affine's columns differing by more than this fraction are two readings
#: of the voxel size (float32 storage moves them by about 1e-7)
VOXEL_SIZE_TOLERANCE = 1e-3


def stored_pixdim(img: Any, p: Path) -> list[float] | None:
    """pixdim[1..3] of a NIfTI as the file stores them: nibabel's loader has already set a 0 to 1 and a negative
    value to its absolute value (with a log line), which would pass a voxel size the file does not give for one
    it does.  None for an MGH file, or where the header cannot be read again (nibabel's values are used then).
    """
    klass = type(img.header)
    if not hasattr(klass, "template_dtype") or "pixdim" not in klass.template_dtype.names:
        return None
    from nibabel.openers import ImageOpener

    try:
        with ImageOpener(str(p)) as f:
            block = f.read(klass.template_dtype.itemsize)
        raw = klass(block, check=False)
    except Exception:  # noqa: BLE001 - nibabel read it a moment ago; its own (fixed) values serve then
        return None
    if not np.array_equal(raw["dim"], img.header["dim"]):  # not the header nibabel read (a pair's .img): its values serve
        return None
    rank = max(0, min(3, int(raw["dim"][0])))
    return [float(v) for v in raw["pixdim"][1 : 1 + rank]]


def mgh_ras_flag(p: Path) -> int:
    """An MGH file's goodRASFlag as stored (big-endian int16 at byte 28 of the header, inflated for ``.mgz``): 0 (or
    below) says the header holds no voxel size, orientation or position, which FreeSurfer and nibabel's loader then
    replace with 1 mm, LIA and 0 (nibabel setting the flag to 1, so its header no longer tells).  1 where the file
    cannot be read again here (nibabel's values serve then).

    >>> mgh_ras_flag(Path("no-such.mgz"))
    1
    """
    from nibabel.openers import ImageOpener

    try:
        with ImageOpener(str(p)) as f:
            head = f.read(30)
    except Exception:  # noqa: BLE001 - nibabel read it a moment ago; its own (repaired) values serve then
        return 1
    return int.from_bytes(head[28:30], "big", signed=True) if len(head) == 30 else 1


def nifti_spacing(header: Any, p: Path, notes: list[str], *, mgh: bool = False, assumed: list[str] | None = None,
                  stored: list[float] | None = None, axes: list[str] | None = None) -> list[float]:
    """The voxel sizes (x, y, z) in mm from a NIfTI/MGH header; what is assumed is added to ``notes``, and
    a voxel size taken as 1 mm to ``assumed`` too, its axis to ``axes``.  ``stored``: pixdim as the file holds it
    (:func:`stored_pixdim`), in place of nibabel's repaired values.  A 2-D image (dim[0] 2) has no depth: 1 mm is
    taken, as for a single DICOM slice without SliceThickness (its pixdim[3] means nothing).

    >>> import nibabel as nib; h = nib.Nifti1Header(); h.set_data_shape((2, 2, 2)); h.set_zooms((0.8, 1, 2.5))
    >>> h.set_xyzt_units("mm"); nifti_spacing(h, Path("a.nii"), [])
    [0.8, 1.0, 2.5]
    >>> h.set_data_shape((2, 2)); notes, axes = [], []; nifti_spacing(h, Path("a.nii"), notes, axes=axes), axes
    ([0.8, 1.0, 1.0], ['z'])
    """
    if mgh:
        zooms = [stated_voxel_size(v) for v in header.get_zooms()[:3]]  # 0.8, not 0.800000011920929
    else:
        unit = header.get_xyzt_units()[0]
        factor = _NIFTI_UNITS_MM.get(unit, 1.0)
        if unit not in _NIFTI_UNITS_MM:
            notes.append(f"{p.name}: the header does not say the spatial unit; assuming millimetres")
        zooms = [stated_voxel_size(v) * factor for v in (stored if stored is not None else header.get_zooms())[:3]]
    rank = len(zooms)
    spacing = []
    for axis, size in zip("xyz", zooms + [math.nan] * (3 - rank)):
        if not (math.isfinite(size) and size > 0):
            what = (f"voxel size {size:g} along {axis} in the header" if axis in "xyz"[:rank] else
                    f"a {rank}-D image (dim[0] {rank}): no voxel size along {axis}")
            notes.append(f"{p.name}: {what}; assuming 1 mm")
            if assumed is not None:
                assumed.append(what)
            if axes is not None:
                axes.append(axis)
            size = 1.0
        spacing.append(size)
    return spacing


#: how far past 1 the b^2+c^2+d^2 of a stored qform quaternion is still read, as niftilib reads any past 1 - 1e-7, as a
#: half turn (a = 0, (b, c, d) made unit length): float32 storage of a half turn puts it up to about 4e-7 past; nibabel
#: refuses what is more than 3 eps past ("w2 should be positive"), and a quaternion further off is not a rotation
QUATERNION_SLACK = 1e-4


def repair_quaternion(header: Any) -> float | None:
    """Store a NIfTI header's qform quaternion so that nibabel reads it, as niftilib reads it: where b^2+c^2+d^2 is
    past 1 by more than nibabel's threshold (the rounding of a rotation by 180 degrees, a = 0), (b, c, d) is scaled to
    unit length, the half turn ``nifti_quatern_to_mat44`` makes of it.  Returns how far past 1 it was where it changed
    the header, else None; a ValueError (in our words) where it is more than :data:`QUATERNION_SLACK` past: not a rotation.

    >>> import nibabel as nib; h = nib.Nifti1Header(); h["quatern_d"] = 1.000001
    >>> round(repair_quaternion(h), 7), float(h["quatern_d"]), h.get_qform()[:3, :3].diagonal().tolist()
    (1.9e-06, 1.0, [-1.0, -1.0, 1.0])
    """
    from nibabel.quaternions import fillpositive

    keys = ("quatern_b", "quatern_c", "quatern_d")
    stored = np.array([header[k] for k in keys])
    try:
        fillpositive(stored, header.quaternion_threshold)
        return None
    except ValueError:
        pass
    wide = stored.astype(np.longdouble)
    excess = float(wide @ wide - 1)
    if not excess <= QUATERNION_SLACK:
        shown = ", ".join(f"{float(v):.7g}" for v in stored)
        raise ValueError(f"not a rotation: its quaternion (b, c, d) = ({shown}) has b^2+c^2+d^2 = {1 + excess:.7g}, past 1")
    unit = (wide / np.sqrt(wide @ wide)).astype(stored.dtype)
    while True:  # (a rounding up to unit length in the stored type can leave it a few eps past: shortened an eps at a time)
        for key, value in zip(keys, unit):
            header[key] = value
        try:
            fillpositive(unit, header.quaternion_threshold)
            return excess
        except ValueError:
            unit = np.nextafter(unit, np.zeros_like(unit))


def niftilib_image_class(kind: Any) -> Any:
    """A subclass of the NIfTI image class ``kind`` whose header reads a qform quaternion just past unit length as
    niftilib does (:func:`repair_quaternion`) where nibabel refuses it, so that nibabel's loader,
    which computes the affine, reads the file; one further off gives a NaN affine, which the geometry refuses in our
    words.  The geometry reader then stores the repaired quaternion in the header itself.

    >>> import nibabel as nib; h = nib.Nifti1Header(); h["quatern_d"], h["qform_code"] = 1.000001, 1
    >>> niftilib_image_class(nib.Nifti1Image).header_class.from_header(h).get_best_affine()[:3, :3].diagonal().tolist()
    [-1.0, -1.0, 1.0]
    """

    class Header(kind.header_class):  # type: ignore[name-defined, misc]
        def get_qform_quaternion(self) -> np.ndarray:
            fixed = self.copy()
            try:
                repair_quaternion(fixed)
            except ValueError:
                return np.full(4, np.nan)
            return super(Header, fixed).get_qform_quaternion()

    class Image(kind):  # type: ignore[valid-type, misc]
        header_class = Header

    return Image


def _qform_read(header: Any, p: Path, notes: list[str] | None) -> tuple[np.ndarray, str | None]:
    """The qform's affine and why it places no grid (None when it does): a quaternion just past unit length is
    stored again as niftilib reads it (:func:`repair_quaternion`, in ``header`` itself, so an output keeps one that
    nibabel reads), with a note."""
    try:
        excess = repair_quaternion(header)
    except ValueError as exc:
        return np.full((4, 4), np.nan), str(exc)
    if excess is not None and notes is not None:
        notes.append(f"{p.name}: the qform's quaternion has b^2+c^2+d^2 = 1 + {excess:.2g}, which nibabel refuses: read as "
                     "niftilib reads it, a 180-degree rotation (b, c, d made unit length)")
    return np.asarray(header.get_qform(), dtype=np.float64), None


def _reading(header: Any, name: str, affine: np.ndarray) -> str:
    """``qform (code 1, scanner: RAS axes, voxel 0 at (0, 0, 0) mm)``: one reading of the geometry, for a message
    (``affine`` in mm)."""
    from nibabel.orientations import aff2axcodes

    code = int(header[f"{name}_code"])
    try:
        label = header.get_value_label(f"{name}_code")
    except (KeyError, ValueError):  # a code the standard does not define
        label = "unknown code"
    axes = "".join(str(c) for c in aff2axcodes(affine))
    origin = ", ".join(f"{v:.4g}" for v in affine[:3, 3])
    return f"the {name} (code {code}, {label}: {axes} axes, voxel 0 at ({origin}) mm)"


def _affine_problem(affine: np.ndarray) -> str | None:
    """Why ``affine`` places no grid (``not finite``, ``singular``), or None.

    >>> _affine_problem(np.eye(4)), _affine_problem(np.zeros((4, 4))), _affine_problem(np.full((4, 4), np.nan))
    (None, 'singular (its 3x3 part has rank 0: it maps the grid onto a plane, a line or a point)', 'not finite (NaN or infinity)')
    """
    if not np.all(np.isfinite(affine)):
        return "not finite (NaN or infinity)"
    rank = int(np.linalg.matrix_rank(affine[:3, :3]))
    if rank < 3:
        return f"singular (its 3x3 part has rank {rank}: it maps the grid onto a plane, a line or a point)"
    return None


def _check_readings(readings: dict[str, np.ndarray], codes: dict[str, int], p: Path, choice: str | None,
                    problems: dict[str, str | None], words: ReadWords = API) -> None:
    """Refuse a reading to be used (``choice``, or any set one without it) that places no grid (``problems``: what is
    known to be wrong with one already), naming it; where the other reading is valid, ``affine`` (in ``words``) picks that one."""
    def problem_of(name: str) -> str | None:
        return problems.get(name) or _affine_problem(readings[name])

    for name in ([choice] if choice is not None else list(readings)):
        problem = problem_of(name)
        if problem is None:
            continue
        other = next((o for o in readings if o != name and problem_of(o) is None), None)
        hint = f"; give {words.given('affine', other)} to read the {other} (code {codes[other]})" if other and choice is None else (
            "; fix the header (or set its code to 0)")
        raise ImageReadError(f"{p}: the {name} (code {codes[name]}) is {problem}: it places no grid{hint}")


def _base_affine(header: Any) -> np.ndarray:
    """The made-up affine of a file with both codes 0: nibabel's, from pixdim, with a voxel size that is not a
    positive number taken as 1 (as :func:`nifti_spacing` takes it, with its note)."""
    affine = np.asarray(header.get_best_affine(), dtype=np.float64)
    if _affine_problem(affine) is None:
        return affine
    from nibabel.volumeutils import shape_zoom_affine

    shape = [max(1, int(n)) for n in header.get_data_shape()[:3]]
    zooms = [float(z) if math.isfinite(float(z)) and float(z) > 0 else 1.0 for z in header.get_zooms()[: len(shape)]]
    return np.asarray(shape_zoom_affine(shape, zooms, x_flip=True), dtype=np.float64)


def nifti_affine(header: Any, p: Path, choice: str | None = None, notes: list[str] | None = None,
                 words: ReadWords = API) -> tuple[np.ndarray, str | None]:
    """The voxel -> RAS+ affine of a NIfTI header, and why the orientation is unknown (None when it is known).

    * only one of qform and sform is set (its code > 0): that one; ``choice`` naming the other is refused;
    * both set and placing the grid alike (within :data:`AFFINE_TOLERANCE` of a voxel), or the qform what a qform
      holds of the sform (:func:`_as_qform`: a gantry tilt's sheared sform, with a note, or a half turn in float32):
      the sform (as nibabel and FSL read it), or ``choice``;
    * both set and placing it differently: two readings; ``choice`` picks one, without it
      :class:`~kernelcli.errors.UsageError` names both and ``affine=`` (``--affine`` in the command line's ``words``);
    * neither set: nibabel's affine from the voxel sizes (pixdim), and the orientation is unknown: a note
      in ``notes`` says so; ``choice`` is refused.

    A reading to be used that is singular or not finite is refused (:class:`~kernelcli.errors.ImageReadError`)
    naming it: it places no grid, and a reader that took it would fail or place every voxel at one point.

    >>> import nibabel as nib
    >>> h = nib.Nifti1Header(); h.set_data_shape((4, 4, 4)); flipped = np.diag([-1.0, 1, 1, 1])
    >>> h.set_qform(np.eye(4), code=1); h.set_sform(flipped, code=1)
    >>> float(nifti_affine(h, Path("a.nii"), "qform")[0][0, 0]), float(nifti_affine(h, Path("a.nii"), "sform")[0][0, 0])
    (1.0, -1.0)
    >>> nifti_affine(h, Path("a.nii"))
    Traceback (most recent call last):
    ...
    kernelcli.errors.UsageError: a.nii: the geometry reads two ways: the sform (code 1, scanner: LAS axes, ...
    """
    affine, unknown, _ = _nifti_reading(header, p, choice, notes, words)
    return affine, unknown


def _nifti_reading(header: Any, p: Path, choice: str | None, notes: list[str] | None,
                   words: ReadWords = API) -> tuple[np.ndarray, str | None, str]:
    """:func:`nifti_affine`, and the name of the reading taken (``sform``, ``qform``, ``pixdim`` for codes 0)."""
    choice = canonical_affine(choice) if choice is not None else None
    codes = {name: int(header[f"{name}_code"]) for name in AFFINE_READINGS}
    readings, problems = {}, {}
    if codes["sform"] > 0:
        readings["sform"] = np.asarray(header.get_sform(), dtype=np.float64)
    if codes["qform"] > 0:
        readings["qform"], problems["qform"] = _qform_read(header, p, notes)
    if not readings:
        if choice is not None:
            raise UsageError(f"{p}: {words.given('affine', choice)}: the file sets neither a qform nor an sform (both codes are 0)")
        if notes is not None:
            notes.append(f"{p.name}: qform_code and sform_code are 0: the orientation is unknown; the grid is taken from the "
                         "voxel sizes (pixdim) alone, with no claim about left and right")
        return _base_affine(header), "qform_code and sform_code are 0", "pixdim"
    if choice is not None:
        if choice not in readings:
            other = next(iter(readings))
            raise UsageError(f"{p}: {words.given('affine', choice)}: the file has no {choice} ({choice}_code 0); its geometry is {other}'s alone, "
                             f"so leave out {words.name('affine')} or give {words.given('affine', other)}")
        _check_readings(readings, codes, p, choice, problems, words)
        return readings[choice], None, choice
    _check_readings(readings, codes, p, None, problems, words)
    if len(readings) == 1:
        name = next(iter(readings))
        return readings[name], None, name
    sform, qform = readings["sform"], readings["qform"]
    shape = header.get_data_shape()[:3]
    in_mm = np.diag([spatial_unit_mm(header)] * 3 + [1.0])  # (the message's distances and origins are in mm)
    apart = grids_apart(in_mm @ sform, in_mm @ qform, shape)
    if apart is None:
        return sform, None, "sform"
    sheared = sheared_pair(sform, ("z", "y", "x"))
    shear = f"the sform is sheared (its {sheared[0]} and {sheared[1]} axes {sheared[2]:.3g} degrees from perpendicular)" if sheared else ""
    held = _as_qform(header, sform)
    if held is not None and grids_apart(in_mm @ held, in_mm @ qform, shape, apart.side) is None:  # the qform stands for the sform: what a qform holds of it
        note = sheared_grid_note(p.name, sform, shape, qform=qform, unit_mm=spatial_unit_mm(header))
        if note and notes is not None:
            notes.append(note)
        return sform, None, "sform"
    at = [", ".join(f"{v:.4g}" for v in xyz) for xyz in (apart.first, apart.second)]
    raise UsageError(
        f"{p}: the geometry reads two ways: {_reading(header, 'sform', in_mm @ sform)} or {_reading(header, 'qform', in_mm @ qform)}, "
        f"which place the grid up to {apart.distance:.3g} mm apart, at voxel ({', '.join(map(str, apart.voxel))}): "
        f"({at[0]}) or ({at[1]}) mm{'; ' + shear + ', which a qform cannot hold' if shear else ''}; give {words.given('affine', 'sform')} or {words.given('affine', 'qform')}"
    )


def sheared_grid_note(name: str, affine: np.ndarray, shape: Any, *, qform: np.ndarray | None = None,
                      unit_mm: float = 1.0) -> str | None:
    """The note for a grid whose axes are not perpendicular (:func:`~.geometry.sheared_pair`), which a NIfTI qform
    cannot hold, where the qform places it more than 1% of a voxel off (:func:`~.geometry.grids_apart`): the shear,
    and how far the qform is off; else None.  ``shape``: the voxels (i, j, k); ``qform``: a NIfTI input's own, else
    the one a NIfTI output stores (the nearest unsheared grid, as :func:`~.nifti.nifti_header` writes it; None without
    nibabel, which a NIfTI output needs); ``unit_mm``: millimetres in the affines' unit.  A sheared NIfTI says it
    when read, of its own qform; an MGH, an NRRD/MetaImage and a tilted DICOM series where a NIfTI is written
    (:func:`~.nifti.sheared_output_note`), of the qform that output stores: a .png or .npy stores none.

    >>> tilt = np.eye(4); tilt[1, 2] = 0.5  # each slice 0.5 mm further along y
    >>> sheared_grid_note("t.mgz", tilt, (10, 10, 20))[:92]
    't.mgz: the grid is sheared (its z and y axes 26.6 degrees from perpendicular), which a qform'
    """
    sheared = sheared_pair(affine, ("z", "y", "x"))
    own = qform is not None
    if sheared is None:
        return None
    if qform is None:
        try:
            import nibabel as nib
        except ImportError:
            return None
        qform = _as_qform(nib.Nifti1Header(), affine)
        if qform is None:
            return None
    scale = np.diag([unit_mm] * 3 + [1.0])
    apart = grids_apart(scale @ affine, scale @ qform, shape)
    if apart is None:
        return None
    where, read = ("its qform holds", "the sform is read, as nibabel and FSL read it") if own else (
        "a NIfTI output's qform holds", "its sform holds the grid exactly, as nibabel and FSL read it")
    return (f"{name}: the {'sform' if own else 'grid'} is sheared (its {sheared[0]} and {sheared[1]} axes {sheared[2]:.3g} "
            f"degrees from perpendicular), which a qform cannot hold: {where} the nearest unsheared grid, which places voxel "
            f"({', '.join(map(str, apart.voxel))}) {apart.distance:.3g} mm off (readers of the qform, SimpleITK's among them, "
            f"place the voxels by it); {read}")


def _as_qform(header: Any, affine: np.ndarray) -> np.ndarray | None:
    """``affine`` as a qform of ``header``'s type holds it: its nearest unsheared grid (nibabel's set_qform, which
    kernelcli's writer uses), with the stored type's precision (a float32 quaternion holds a half turn to 1e-3 rad);
    None where nibabel cannot make one of it."""
    scratch = type(header)()
    try:
        scratch.set_qform(affine, code=1, strip_shears=True)
        repair_quaternion(scratch)
        return np.asarray(scratch.get_qform(), dtype=np.float64)
    except Exception:  # noqa: BLE001 - (HeaderDataError, LinAlgError): then it stands for no qform
        return None


def voxel_size_conflict(zooms: list[float], affine: np.ndarray, reading: str, units: str = "mm") -> str | None:
    """The two voxel sizes a header states, where the voxel sizes (``zooms``, x, y, z: pixdim, or an MGH's delta) and
    the columns of the affine it is read with (``reading``) differ by more than :data:`VOXEL_SIZE_TOLERANCE`; else None.

    The two are one fact told twice (a qform is built from pixdim); a tool that resampled a file and rewrote
    only its sform leaves them apart, and readers differ: nibabel, ITK and FSL size kernels by pixdim, a viewer
    places the voxels by the sform.  Voxel sizes that are not positive numbers are another matter (see
    :func:`nifti_spacing`) and give None here.

    >>> voxel_size_conflict([1.0, 1.0, 1.0], np.diag([0.5, 0.8, 3.0, 1.0]), "sform")
    'pixdim 1x1x1 mm or the sform 0.5x0.8x3 mm (x, y, z)'
    >>> voxel_size_conflict([0.5, 0.8, 3.0], np.diag([-0.5, 0.8, 3.0, 1.0]), "sform") is None
    True
    """
    sizes = np.array([float(z) for z in zooms[:3]] + [1.0] * (3 - len(zooms[:3])))
    if not np.all(np.isfinite(sizes) & (sizes > 0)):
        return None
    columns = np.linalg.norm(np.asarray(affine, dtype=np.float64)[:3, :3], axis=0)
    if np.all(np.abs(columns - sizes) <= VOXEL_SIZE_TOLERANCE * np.maximum(sizes, columns)):
        return None
    text = lambda v: "x".join(f"{float(str(np.float32(x))):g}" for x in v)  # noqa: E731 - float32's shortest decimal
    first = "delta" if reading == "affine" else "pixdim"
    return f"{first} {text(sizes)} {units} or the {reading} {text(columns)} {units} (x, y, z)"


@record(frozen=True)
class NiftiGeometry:
    """Where a NIfTI/MGH file's voxels are and how big they are, as :func:`nifti_geometry` reads them:
    the affine, why its orientation is unknown, the voxel sizes (z, y, x) in mm, what of them was assumed,
    and the two voxel sizes the header states where they disagree (:func:`voxel_size_conflict`)."""

    affine: np.ndarray
    orientation_unknown: str | None
    spacing: tuple[float, float, float]
    spacing_assumed: str | None
    spacing_conflict: str | None
    assumed_axes: tuple[str, ...] = ()  # the voxel axes ("x", "y", "z": i, j, k) whose size was assumed


def nifti_geometry(img: Any, p: Path, choice: str | None, notes: list[str], *, mgh: bool = False,
                   words: ReadWords = API) -> NiftiGeometry:
    """The geometry of a loaded NIfTI or MGH image (``choice``: ``affine``, named in ``words``; notes go to ``notes``), read alike by
    :func:`read_nifti` and the tiled path (:func:`kernelcli.tiled.nifti.open_volume`)."""
    flag = mgh_ras_flag(p) if mgh else 1
    if flag <= 0:  # (nibabel has put its 1 mm LIA default in the header, as FreeSurfer does: a grid, not a fact)
        grid, unknown, reading = np.asarray(img.affine, dtype=np.float64), f"goodRASFlag {flag}", "affine"
        notes.append(f"{p.name}: goodRASFlag {flag}: the MGH header states no voxel size, orientation or position; 1 mm "
                     "assumed along x, y and z, and the grid is FreeSurfer's default (NIfTI outputs keep qform/sform codes 0)")
    elif mgh:
        grid, unknown, reading = np.asarray(img.affine, dtype=np.float64), None, "affine"
        problem = _affine_problem(grid)
        if problem is not None:
            raise ImageReadError(f"{p}: the affine (Mdc, delta and Pxyz_c of the MGH header) is {problem}: it places no grid")
    else:
        grid, unknown, reading = _nifti_reading(img.header, p, choice, notes, words)
    header = img.header
    stored = None if mgh else stored_pixdim(img, p)
    assumed: list[str] = [f"goodRASFlag {flag}: no voxel size stated"] if flag <= 0 else []
    axes: list[str] = ["x", "y", "z"] if flag <= 0 else []
    spacing = [1.0, 1.0, 1.0] if flag <= 0 else nifti_spacing(header, p, notes, mgh=mgh, assumed=assumed, stored=stored, axes=axes)
    if stored is not None:  # the header as the file stores it (nibabel's loader set a 0 to 1): an output on its grid keeps it
        header["pixdim"][1 : 1 + len(stored)] = stored
    conflict = None
    if unknown is None:
        raw = list(header.get_zooms()[:3]) if mgh or stored is None else stored
        unit = "mm" if mgh else header.get_xyzt_units()[0]
        conflict = voxel_size_conflict(raw, grid, reading, unit if unit in _NIFTI_UNITS_MM else "units")
        if conflict and reading == "sform" and int(header["qform_code"]) > 0:
            conflict += f" ({words.given('affine', 'qform')} reads the qform, whose voxel sizes are pixdim's)"
    return NiftiGeometry(grid, unknown, (spacing[2], spacing[1], spacing[0]), "; ".join(assumed) or None, conflict, tuple(axes))
