"""Where DICOM slices are: sorting along the normal, even gaps, gantry tilt, and the NIfTI affine.

DICOM places each slice by ``ImagePositionPatient`` (its first voxel, LPS+ mm) and
``ImageOrientationPatient`` (row and column directions).  The slices of one volume are sorted
by their position along the normal ``row x column``; the volume is a regular grid only when
the gaps between them are equal.  Where they are not (a missing slice, a localizer in the
series) nothing is guessed: :func:`stack_slices` refuses, naming the gap, unless asked to
resample onto an even grid (linear interpolation along the normal, between the two
neighbouring slices) when no gap would need more than :data:`MAX_INTERPOLATED_IN_A_ROW`
made-up slices.  That is what dicom2nifti does (it refuses non-uniform series unless
told to resample); SimpleITK's reader would take the first gap for all.

A gantry tilt shifts each slice within its plane: the step from one slice to the next is not
along the normal.  The affine then has a sheared third column, which places every voxel where
the scanner put it; NIfTI's sform holds it exactly, its qform (rotation and zooms only) cannot.

Example
-------
>>> s = stack_slices([np.array([0, 0, 2.0]), np.array([0, 0, 0.0])], np.array([1.0, 0, 0, 0, 1, 0]), ["b", "a"], "ct")
>>> s.order, s.gap, s.step.tolist()
([1, 0], 2.0, [0.0, 0.0, 2.0])
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from ..errors import ImageReadError
from ..io.read_words import API, ReadWords
from ..records import field, record

#: slices closer than this along the normal are "at the same position" (mm)
SAME_POSITION_MM = 1e-4
#: gaps differing from the median by more than this (mm, or this fraction of it) are uneven
GAP_TOLERANCE_MM = 0.01
GAP_TOLERANCE_FRACTION = 0.01
#: a tilt below this (degrees) is rounding in the positions, not a tilt
TILT_DEGREES = 0.01
#: --resample-slices fills a gap with at most this many made-up slices in a row; a wider gap is
#: two stacks or a localizer in one series, which interpolation would silently invent anatomy for
MAX_INTERPOLATED_IN_A_ROW = 3
#: row x column shorter than this: the two directions of ImageOrientationPatient (unit vectors, 90 degrees apart) are
#: zero or parallel (within 0.06 degrees), and span no plane
DEGENERATE_ORIENTATION = 1e-3
#: how far ImageOrientationPatient's two directions may be from unit length and perpendicular (cosine): the
#: rounding of a header's decimal digits is far below it
DIRECTION_TOLERANCE = 1e-3


#: the largest departure from perpendicular, in degrees, of two voxel axes a kernel in mm runs along: what
#: ImageOrientationPatient's own check allows (a cosine of 0.001: 0.057 degrees; a header's 3 decimals, or positions
#: to 6 digits, stay below it; a kernel's shape is then off by 0.1%), where a gantry tilt of 0.5 degrees is above it
SHEAR_DEGREES = math.degrees(math.asin(DIRECTION_TOLERANCE))


#: how many double ulps from a float32 a voxel size may lie and still be read as that float32: ITK's NRRD reader
#: recomputes a spacing as the length of its ``space directions`` column (direction x spacing, each written to 17
#: digits), which rounds it by a few ulps (the products, three squares summed, a square root: about 3 ulps at most);
#: 4 ulps is 1e-15 of the size, so no two sizes a header can mean apart are taken for one
FLOAT32_SLACK_ULPS = 4


def stated_voxel_size(size: float) -> float:
    """A voxel size in the file as every reader takes it: one that is a float32 (a NIfTI's or MGH's pixdim, or ITK's
    double of one: SimpleITK writes a NIfTI's 0.9 to an NRRD or MetaImage as 0.89999997615814209), or lies within
    :data:`FLOAT32_SLACK_ULPS` double ulps of one (an oblique NRRD's column length, 2.199999094009399 for the float32
    2.1999990940093994), is the float32's shortest decimal, 0.9 or 2.199999, so one grid gives one kernel whatever its
    container; any other number (DICOM's decimal strings, an NRRD's 0.9 typed as text) is kept.

    >>> stated_voxel_size(0.89999997615814209), stated_voxel_size(np.float32(0.8)), stated_voxel_size(2.199999094009399)
    (0.9, 0.8, 2.199999)
    >>> stated_voxel_size(1 / 3), stated_voxel_size(0.9)
    (0.3333333333333333, 0.9)
    """
    with np.errstate(over="ignore"):  # a size past float32's range is not one: kept as it is
        single = np.float32(size)
    # compared as doubles: numpy 2 compares a float32 with a Python float in float32, where 1/3 would equal its float32
    near = math.isfinite(float(single)) and abs(float(size) - float(single)) <= FLOAT32_SLACK_ULPS * math.ulp(float(size))
    return float(str(single)) if near else float(size)


def sheared_pair(affine: np.ndarray, axes: tuple[str, ...]) -> tuple[str, str, float] | None:
    """Two of ``axes`` ("z", "y", "x") whose directions in ``affine`` are further than :data:`SHEAR_DEGREES` from
    perpendicular, with their angle's departure from 90 degrees; None when every pair is perpendicular.

    >>> tilt = np.eye(4); tilt[1, 2] = 1.0  # each slice 1 mm further along y
    >>> sheared_pair(tilt, ("z", "y", "x")), sheared_pair(tilt, ("y", "x"))
    (('z', 'y', 45.0), None)
    """
    columns = {"x": affine[:3, 0], "y": affine[:3, 1], "z": affine[:3, 2]}
    for i, a in enumerate(axes):
        for b in axes[i + 1:]:
            u, v = columns[a], columns[b]
            cosine = float(np.dot(u, v) / (np.linalg.norm(u) * np.linalg.norm(v)))
            departure = abs(90.0 - float(np.degrees(np.arccos(min(1.0, max(-1.0, cosine))))))
            if departure > SHEAR_DEGREES:
                return a, b, round(departure, 6)
    return None


#: two affines place one grid where they put every corner voxel of it within this fraction of the smallest voxel side
#: (float32 storage alone moves them by about 1e-5 mm; nibabel's own test files by <0.004 mm): a NIfTI's qform and sform,
#: a --mask and its input
GRID_TOLERANCE = 0.01


@record(frozen=True)
class GridsApart:
    """Where two affines place one grid differently: the corner voxel ``(i, j, k)`` where they differ most, where each
    puts it (``first``, ``second``), the ``distance`` between the two, and the smallest voxel ``side`` it was held
    against (all in the affines' unit)."""

    voxel: tuple[int, int, int]
    first: tuple[float, float, float]
    second: tuple[float, float, float]
    distance: float
    side: float

    def text(self, first: str = "the first", second: str = "the second", unit: str = "mm") -> str:
        """``voxel (9, 0, 0) at (1, 2, 3) mm in the mask, (1, 2, 3.5) mm in the input: 0.5 mm apart, more than 1% of a
        1 mm voxel``: the difference, for a message."""
        at = [", ".join(f"{v:.4g}" for v in xyz) for xyz in (self.first, self.second)]
        return (f"voxel ({', '.join(map(str, self.voxel))}) at ({at[0]}) {unit} in {first}, ({at[1]}) {unit} in {second}: "
                f"{self.distance:.3g} {unit} apart, more than {GRID_TOLERANCE:.0%} of a {self.side:.3g} {unit} voxel")


def grids_apart(a: np.ndarray, b: np.ndarray, shape: Sequence[int], side: float | None = None) -> GridsApart | None:
    """How the affines ``a`` and ``b`` (in one unit) place a grid of ``shape`` voxels (i, j, k) differently, or None
    where they place every corner voxel within :data:`GRID_TOLERANCE` of the smallest voxel side (of ``a`` and ``b``,
    or ``side``), in distance (not along each axis: a corner 0.9% off along all three is 1.6% away): the one rule for
    "the same grid", a NIfTI's qform and sform as a ``--mask`` and its input.

    >>> moved = np.eye(4); moved[0, 3] = 0.5
    >>> grids_apart(np.eye(4), np.eye(4), (4, 4, 4)) is None, grids_apart(np.eye(4), moved, (4, 4, 4)).distance
    (True, 0.5)
    >>> near = np.eye(4); near[:3, 3] = 0.009  # 0.9% of a voxel along each axis, 0.0156 voxel away
    >>> round(grids_apart(np.eye(4), near, (4, 4, 4)).distance, 4)
    0.0156
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    n = [max(1, int(v)) for v in shape[:3]] + [1] * (3 - len(shape[:3]))
    corners = np.array([[i, j, k, 1.0] for i in (0, n[0] - 1) for j in (0, n[1] - 1) for k in (0, n[2] - 1)]).T
    if side is None:
        side = float(min(np.linalg.norm(m[:3, :3], axis=0).min() for m in (a, b))) or 1.0
    placed_a, placed_b = (a @ corners)[:3], (b @ corners)[:3]
    distances = np.linalg.norm(placed_a - placed_b, axis=0)
    if float(distances.max()) <= GRID_TOLERANCE * side:
        return None
    worst = int(np.flatnonzero(distances >= distances.max() * (1 - 1e-9))[0])  # the first of equals: the same on every run
    return GridsApart(tuple(int(v) for v in corners[:3, worst]), tuple(float(v) for v in placed_a[:, worst]),  # type: ignore[arg-type]
                      tuple(float(v) for v in placed_b[:, worst]), float(distances[worst]), side)  # type: ignore[arg-type]


def dicom_affine(iop: np.ndarray, origin: np.ndarray, step: np.ndarray, dy: float, dx: float) -> np.ndarray:
    """NIfTI affine (voxel (column, row, slice) -> RAS+ mm) from DICOM's LPS+ geometry.

    DICOM: position = origin + column * dx * iop[:3] + row * dy * iop[3:] + slice * step, in
    LPS+; negating the first two rows turns LPS+ into RAS+ (as dcm2niix, nibabel's nicom and
    SimpleITK's NIfTI writer do).

    >>> dicom_affine(np.array([1.0, 0, 0, 0, 1, 0]), np.array([10.0, 20, 30]), np.array([0, 0, 2.0]), 0.5, 0.5)[:3].tolist()
    [[-0.5, 0.0, 0.0, -10.0], [0.0, -0.5, 0.0, -20.0], [0.0, 0.0, 2.0, 30.0]]
    """
    lps = np.eye(4)
    lps[:3, 0] = iop[:3] * dx
    lps[:3, 1] = iop[3:] * dy
    lps[:3, 2] = step
    lps[:3, 3] = origin
    return np.diag([-1.0, -1.0, 1.0, 1.0]) @ lps


def normal_of(iop: np.ndarray) -> np.ndarray:
    """The unit slice normal ``row x column`` (of an orientation that :func:`is_degenerate` passed)."""
    n = np.cross(iop[:3], iop[3:])
    return n / (np.linalg.norm(n) or 1.0)


def is_degenerate(iop: np.ndarray) -> bool:
    """True when the row and column directions of ``iop`` span no plane (zero, or parallel): no normal to sort along.

    >>> is_degenerate(np.array([1.0, 0, 0, 0, 1, 0])), is_degenerate(np.zeros(6)), is_degenerate(np.array([1.0, 0, 0, 1, 0, 0]))
    (False, True, True)
    """
    return not float(np.linalg.norm(np.cross(iop[:3], iop[3:]))) > DEGENERATE_ORIENTATION


@record
class Stack:
    """How sorted slices make a regular grid.

    ``order``: indices of the input slices from the first to the last along the normal;
    ``origin``: LPS+ position of the first voxel; ``step``: LPS+ vector from a slice to the
    next (along the normal, or sheared by a gantry tilt); ``gap``: its length along the normal.
    ``blend``: for a resampled stack, one ``(j, w)`` per output slice: ``(1 - w) * sorted[j] +
    w * sorted[j + 1]``; None when the slices are used as they are.
    """

    order: list[int]
    origin: np.ndarray
    step: np.ndarray
    gap: float
    blend: list[tuple[int, float]] | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def spacing(self) -> float:
        """The voxel size along the slice axis: the length of ``step`` (the affine's third column)."""
        return float(np.linalg.norm(self.step))


def stack_slices(
    positions: Sequence[np.ndarray], iop: np.ndarray, names: Sequence[str], where: str, *, resample: bool = False,
    keep_order: bool = False, words: ReadWords = API,
) -> Stack:
    """Sort slices along the normal and check they make one regular grid (see the module notes).

    ``positions`` are the slices' ImagePositionPatient (LPS+ mm), ``names`` name them in
    messages (file names, or "frame 3").  ``keep_order`` (the frames of one file) keeps slices stored against the
    normal in their order (the step then points against it), and advises on frames that share a position as frames.  Two slices at one position, and uneven gaps without
    ``resample``, raise :class:`~kernelcli.errors.ImageReadError` naming the slices and the gap (and ``resample``, or the
    volume to pick, in ``words``).
    """
    normal = normal_of(iop)
    pos = np.asarray(positions, dtype=np.float64).reshape(-1, 3)
    bad = [names[i] for i in range(len(pos)) if not np.all(np.isfinite(pos[i]))]
    if bad or not np.all(np.isfinite(iop)):  # (the readers refuse these first, naming the tag; a NaN would sort anywhere)
        raise ImageReadError(f"{where}: ImagePositionPatient or ImageOrientationPatient of {', '.join(bad) or 'the slices'} "
                             "is not finite; expected finite numbers")
    keys = pos @ normal
    order = sorted(range(len(pos)), key=lambda i: (keys[i], i))
    if keep_order and len(pos) > 1 and np.all(np.diff(keys) < 0):
        order = list(range(len(pos)))  # frames stored against the normal: kept as stored (SimpleITK does)
        normal = -normal
        keys = -keys
    k = keys[order]
    if len(order) == 1:
        return Stack(order, pos[order[0]], normal.copy(), 0.0)
    gaps = np.diff(k)
    for n, g in enumerate(gaps):
        if g < SAME_POSITION_MM:
            # frames of one file cannot be put in folders: the advice names what splits a 4-D object
            advice = ("the file holds more than one volume (a 4-D multi-frame object: time points, echoes or b-values?), "
                      f"which is not read as one; convert it to a 4-D NIfTI (dcm2niix) and give that, {words.takes('volume', 'N')} picks one"
                      ) if keep_order else "more than one volume (time points, echoes or segments?); put each in its own folder"
            raise ImageReadError(
                f"{where}: {names[order[n]]} and {names[order[n + 1]]} are at the same slice position ({k[n]:.3f} mm along the "
                f"normal): {advice}"
            )
    median = float(np.median(gaps))
    worst = int(np.argmax(np.abs(gaps - median)))
    uneven = abs(gaps[worst] - median) > max(GAP_TOLERANCE_MM, GAP_TOLERANCE_FRACTION * median)
    # in-plane offset of each slice from the first, against its distance along the normal: a straight line
    inplane = (pos[order] - pos[order[0]]) - np.outer(k - k[0], normal)
    slope = inplane[-1] / (k[-1] - k[0])
    off_line = float(np.max(np.linalg.norm(inplane - np.outer(k - k[0], slope), axis=1)))
    if off_line > max(0.1, GAP_TOLERANCE_FRACTION * median):
        raise ImageReadError(
            f"{where}: the slices are not on one line (a slice is {off_line:.3g} mm off the line through the first and the "
            "last): not one volume"
        )
    notes: list[str] = []
    tilt = math.degrees(math.atan(float(np.linalg.norm(slope))))
    # the even grid --resample-slices makes: from the first slice to the last, its gap the nearest to the median
    count = int(round((k[-1] - k[0]) / median)) + 1
    even_gap = (k[-1] - k[0]) / (count - 1)
    # gaps each within the tolerance can still add up: the slices placed on the even grid from the first to the last
    placed = np.abs(k - (k[0] + (k[-1] - k[0]) / (len(k) - 1) * np.arange(len(k))))
    drift = int(np.argmax(placed))
    if not uneven and placed[drift] > max(GAP_TOLERANCE_MM, GAP_TOLERANCE_FRACTION * median):
        if not resample:
            raise ImageReadError(
                f"{where}: the slices drift from an even grid: {names[order[drift]]} is {placed[drift]:.4g} mm from where an even "
                f"spacing of {(k[-1] - k[0]) / (len(k) - 1):.4g} mm from the first slice to the last puts it (its gaps, "
                f"{gaps.min():.4g} to {gaps.max():.4g} mm, each near the median, add up); no single slice spacing is right, so "
                f"nothing is written; {words.flag('resample_slices')} interpolates linearly along the normal onto {count} slices "
                f"{even_gap:.4g} mm apart"
            )
        uneven = True
    if uneven and gaps[worst] > (MAX_INTERPOLATED_IN_A_ROW + 1) * median + GAP_TOLERANCE_MM:
        # asked first, with or without --resample-slices: it was suggested, then refused (the README audit, 95)
        a, b = names[order[worst]], names[order[worst + 1]]
        made_up = int(round(gaps[worst] / median)) - 1
        raise ImageReadError(
            f"{where}: uneven slice gaps: {gaps[worst]:.4g} mm between {a} and {b}, where the median gap is {median:.4g} mm; "
            f"{words.flag('resample_slices')} would fill it with {made_up} interpolated slices (at most {MAX_INTERPOLATED_IN_A_ROW} in a row "
            "are made up): that is two stacks or a localizer in one series, not a missing slice; put each stack's files in a "
            "folder of its own"
        )
    if uneven and not resample:
        a, b = names[order[worst]], names[order[worst + 1]]
        raise ImageReadError(
            f"{where}: uneven slice gaps: {gaps[worst]:.4g} mm between {a} and {b}, where the median gap is {median:.4g} mm "
            f"({gaps.min():.4g} to {gaps.max():.4g} mm; a missing slice, or a localizer in the series?); no single slice "
            f"spacing is right, so nothing is written; {words.flag('resample_slices')} interpolates linearly along the normal onto "
            f"{count} slices {even_gap:.4g} mm apart (the first to the last, the gap nearest the median that fits)"
        )
    blend = None
    if uneven:
        gap = even_gap
        targets = k[0] + gap * np.arange(count)
        blend = []
        for t in targets:
            j = int(min(max(np.searchsorted(k, t, side="right") - 1, 0), len(k) - 2))
            blend.append((j, float(min(max((t - k[j]) / (k[j + 1] - k[j]), 0.0), 1.0))))
        notes.append(
            f"{where}: uneven slice gaps ({gaps.min():.4g} to {gaps.max():.4g} mm, the widest {gaps.max():.4g} mm); "
            f"{words.flag('resample_slices')}: {len(k)} slices interpolated linearly along the normal onto {count} slices {gap:.4g} mm apart"
        )
    else:
        gap = (k[-1] - k[0]) / (len(k) - 1)
    step = normal * gap + slope * gap
    if tilt > TILT_DEGREES:
        shift = float(np.linalg.norm(slope) * (k[-1] - k[0]))
        notes.append(
            f"{where}: gantry tilt of {tilt:.2f} degrees (each slice shifted {np.linalg.norm(slope) * gap:.3g} mm within its plane, "
            f"{shift:.3g} mm over the volume): the NIfTI affine is sheared so that every voxel is where the scanner put it, "
            "and readers that ignore the tilt (SimpleITK's DICOM reader) place the last slices off by up to that shift"
        )
    return Stack(order, pos[order[0]].copy(), step, float(gap), blend, notes)
