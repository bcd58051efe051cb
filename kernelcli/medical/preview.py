"""PNG previews of a volume: one slice, windowed, oriented as viewers show it.

The volume is first turned to the closest canonical RAS+ orientation (nibabel's
``io_orientation``: flips and axis swaps only, no resampling), as viewers such as ITK-SNAP,
FSLeyes and 3D Slicer do, then the middle slice is shown in the radiological convention:

* axial (across S, the default): anterior at the top, the patient's right on the image's left;
* coronal (across A, ``--axis y``): superior at the top, the patient's right on the left;
* sagittal (across R, ``--axis x``): superior at the top, anterior on the left.

A MONOCHROME1 DICOM (higher values darker) is inverted after windowing, so it looks as the
scanner meant it.

Example
-------
>>> canonical_plane(np.arange(8).reshape(2, 2, 2), np.eye(4), "z")[0].tolist()   # (Z, Y, X) array, RAS+ affine
[[7, 6], [5, 4]]
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: the canonical axis each --axis letter names, and the view's name
VIEWS = {"z": (2, "axial"), "y": (1, "coronal"), "x": (0, "sagittal")}


def canonical_plane(data: np.ndarray, affine: np.ndarray, axis: str = "z") -> tuple[np.ndarray, str]:
    """The middle slice of a (Z, Y, X) volume across canonical ``axis``, as a display image; and a description.

    The returned image has row 0 at the top of the display (see the module notes).
    """
    from .volume import require

    orientations = require("nibabel.orientations", "PNG previews (reoriented to RAS+)")
    apply_orientation, io_orientation = orientations.apply_orientation, orientations.io_orientation
    xyz = data.transpose(2, 1, 0)  # (i, j, k): nibabel's voxel order
    ras = apply_orientation(xyz, io_orientation(affine))  # flips and transposes: views, no copy
    a, name = VIEWS[axis]
    index = ras.shape[a] // 2
    plane = np.take(ras, index, axis=a)  # the two remaining canonical axes, in R, A, S order
    # columns: R (or A for sagittal) decreasing, i.e. right/anterior on the left; rows: A or S decreasing (top)
    image = plane.T[::-1, ::-1]
    return image, f"{name} slice {index} of {ras.shape[a]} (closest canonical RAS+ orientation, radiological: the patient's right on the image's left)" if a != 0 else f"{name} slice {index} of {ras.shape[a]} (closest canonical RAS+ orientation: superior at the top, anterior on the left)"


def preview(result: np.ndarray, vol: Any, axis: str | None, window: tuple[float, float] | None, keeps_units: bool) -> tuple[np.ndarray, list[str]]:
    """A uint8 display image of a (Z, Y, X) result and the notes that say what it shows."""
    from .window import apply_window

    notes: list[str] = []
    image, where = canonical_plane(result, vol.affine, axis or "z")
    if window is None:
        if vol.window is not None and keeps_units:
            window = vol.window
            notes.append(f"window {window[0]:g},{window[1]:g} from the DICOM header (give --window to choose)")
        else:
            lo, hi = float(image.min()), float(image.max())
            window = ((lo + hi) / 2 + 0.5, max(hi - lo + 1, 1.0))
            notes.append(f"no --window: the slice's range {lo:g}..{hi:g} stretched to 0..255")
    shown = apply_window(image, *window)
    if vol.inverted:
        shown = 255 - shown
    notes.append(
        f"PNG: the {where}, windowed at {window[0]:g},{window[1]:g}" + ("; MONOCHROME1: inverted for display" if vol.inverted else "")
    )
    return shown, notes
