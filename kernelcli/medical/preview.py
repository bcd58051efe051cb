"""PNG previews of a volume: one slice, windowed, oriented as viewers show it.

The volume is first turned to the closest canonical RAS+ orientation (nibabel's
``io_orientation``: flips and axis swaps only, no resampling), as viewers such as ITK-SNAP,
FSLeyes and 3D Slicer do, then the middle slice is shown in the radiological convention:

* axial (across S, the default): anterior at the top, the patient's right on the image's left;
* coronal (across A, ``--axis y``): superior at the top, the patient's right on the left;
* sagittal (across R, ``--axis x``): superior at the top, anterior on the left.

A MONOCHROME1 DICOM (higher values darker) is inverted after windowing, so it looks as the
scanner meant it.

A volume whose orientation is unknown (a NIfTI with qform and sform codes 0, a DICOM without
ImageOrientationPatient) has a made-up affine, a plain scaling: the same image is shown, but
the note names no view and no side of the patient, only the voxel axes as they run on screen.

Example
-------
>>> canonical_plane(np.arange(8).reshape(2, 2, 2), np.eye(4), "z")[0].tolist()   # (Z, Y, X) array, RAS+ affine
[[7, 6], [5, 4]]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import numtext

#: the canonical axis each --axis letter names, and the view's name
VIEWS = {"z": (2, "axial"), "y": (1, "coronal"), "x": (0, "sagittal")}


def canonical_plane(data: np.ndarray, affine: np.ndarray, axis: str = "z", unknown: str | None = None) -> tuple[np.ndarray, str]:
    """The middle slice of a (Z, Y, X) volume across canonical ``axis``, as a display image; and a description.

    The returned image has row 0 at the top of the display (see the module notes).  ``unknown``
    says why the orientation is unknown (the affine was made up); the description then names
    the voxel axes instead of a view.

    >>> canonical_plane(np.zeros((2, 2, 2)), np.diag([-1.0, 1, 1, 1]), "z", "qform_code and sform_code are 0")[1]
    "slice 1 of 2 across voxel axis k (orientation unknown: qform_code and sform_code are 0; not a named view, the patient's right not known; i runs to the right, j upward)"
    """
    from .volume import require

    orientations = require("nibabel.orientations", "PNG previews (reoriented to RAS+)")
    apply_orientation, io_orientation = orientations.apply_orientation, orientations.io_orientation
    xyz = data.transpose(2, 1, 0)  # (i, j, k): nibabel's voxel order
    ornt = io_orientation(affine)
    ras = apply_orientation(xyz, ornt)  # flips and transposes: views, no copy
    a, name = VIEWS[axis]
    index = ras.shape[a] // 2
    plane = np.take(ras, index, axis=a)  # the two remaining canonical axes, in R, A, S order
    # columns: R (or A for sagittal) decreasing, i.e. right/anterior on the left; rows: A or S decreasing (top)
    image = plane.T[::-1, ::-1]
    if unknown is not None:
        return image, _voxel_description(ornt, a, index, ras.shape[a], unknown)
    return image, f"{name} slice {index} of {ras.shape[a]} (closest canonical RAS+ orientation, radiological: the patient's right on the image's left)" if a != 0 else f"{name} slice {index} of {ras.shape[a]} (closest canonical RAS+ orientation: superior at the top, anterior on the left)"


def _voxel_description(ornt: np.ndarray, a: int, index: int, count: int, unknown: str) -> str:
    """What a preview of a volume of unknown orientation shows, in voxel axes (i, j, k): no view, no side named.

    ``ornt`` is nibabel's orientation of the (made-up) affine: voxel axis v went to canonical axis
    ``ornt[v, 0]``, reversed when ``ornt[v, 1]`` is -1; ``a`` is the canonical axis sliced across.
    On screen the first remaining canonical axis decreases to the right, the second downward.
    """
    voxel = {int(c): (v, int(f)) for v, (c, f) in enumerate(ornt)}  # canonical axis -> (voxel axis, flip)
    across = "ijk"[voxel[a][0]]
    (col, col_flip), (row, row_flip) = (voxel[c] for c in sorted(set(range(3)) - {a}))
    # a canonical axis shown decreasing runs its voxel index up where the axis was flipped, down where it was not
    right = "to the right" if col_flip == -1 else "to the left"
    down = "downward" if row_flip == -1 else "upward"
    return (f"slice {index} of {count} across voxel axis {across} (orientation unknown: {unknown}; not a named view, the "
            f"patient's right not known; {'ijk'[col]} runs {right}, {'ijk'[row]} {down})")


def shown_pixel_mm(vol: Any, axis: str | None) -> tuple[float, float] | None:
    """The width and height in mm of the voxel each pixel of a preview across ``axis`` shows, where they differ
    (non-square DICOM pixels, a coronal or sagittal view of thick slices); None where they are equal, or where the
    file did not give the voxel size (``vol.spacing_assumed``: 1 mm guessed, no size to claim).

    ``vol.spacing`` is (z, y, x), the voxel axes (k, j, i); the preview's columns run along the lower of the two
    canonical axes left (:func:`canonical_plane`), its rows along the higher.

    >>> from types import SimpleNamespace as V
    >>> shown_pixel_mm(V(spacing=(2.5, 0.9, 0.8), affine=np.diag([0.8, 0.9, 2.5, 1]), spacing_assumed=None), "y")
    (0.8, 2.5)
    >>> shown_pixel_mm(V(spacing=(2.5, 0.8, 0.8), affine=np.diag([0.8, 0.8, 2.5, 1]), spacing_assumed=None), "z") is None
    True
    """
    from .volume import require

    if getattr(vol, "spacing_assumed", None):
        return None
    ornt = require("nibabel.orientations", "PNG previews (reoriented to RAS+)").io_orientation(vol.affine)
    size = {int(c): float(vol.spacing[2 - v]) for v, (c, _) in enumerate(ornt)}  # canonical axis -> mm
    column, row = sorted(set(range(3)) - {VIEWS[axis or "z"][0]})
    width, height = size[column], size[row]
    return None if np.isclose(width, height, rtol=1e-4, atol=0) else (width, height)


def square_pixel_note(width: float, height: float) -> str:
    """The note of a preview whose voxels (``width`` x ``height`` mm) are not square: drawn one pixel each, the
    anatomy looks squashed along the longer side; a NIfTI output keeps the voxel size.

    >>> square_pixel_note(0.9, 2.5)
    'PNG: each voxel, 0.9 mm wide and 2.5 mm tall, is one square pixel, so the picture looks 2.78 times too short (its pHYs chunk holds the aspect, for viewers that honour it); write .nii.gz to keep the voxel size'
    """
    looks = f"{height / width:.3g} times too short" if height > width else f"{width / height:.3g} times too narrow"
    return (f"PNG: each voxel, {width:g} mm wide and {height:g} mm tall, is one square pixel, so the picture looks {looks} "
            "(its pHYs chunk holds the aspect, for viewers that honour it); write .nii.gz to keep the voxel size")


def preview(result: np.ndarray, vol: Any, axis: str | None, window: tuple[float, float] | None,
            keeps_units: bool) -> tuple[np.ndarray, list[str], tuple[int, int]]:
    """A uint8 display image of a (Z, Y, X) result, the notes that say what it shows, and how many of the
    slice's values lay below and above the window (saturated at 0 and 255)."""
    from .window import stretched, windowed

    notes: list[str] = []
    image, where = canonical_plane(result, vol.affine, axis or "z", getattr(vol, "orientation_unknown", None))
    if window is None and vol.window is not None and keeps_units:
        window = vol.window
        notes.append(f"window {window[0]:g},{window[1]:g} from the DICOM header (give --window to choose)")
    if window is None:
        lo, hi = float(image.min()), float(image.max())
        low, high = numtext.range_pair(lo, hi, 6)
        notes.append(f"no --window: the slice's range {low}..{high} stretched to 0..255")
        shown, below, above, how = stretched(image, lo, hi), 0, 0, ""
    else:
        shown, below, above = windowed(image, *window)
        how = f", windowed at {window[0]:g},{window[1]:g}"
    if vol.inverted:
        shown = 255 - shown
    notes.append(f"PNG: the {where}{how}" + ("; MONOCHROME1: inverted for display" if vol.inverted else ""))
    return shown, notes, (below, above)
