"""Which view a volume's ``--axis`` picks, where a job works along every axis (a 3-D kernel, a derivative, a
pooling, a copy): the axis then only picks a .png preview's view, and with another output it is noted as unused.

Example
-------
>>> unused_view_note("x", Path("p.npy"))
'--axis x picks the view of a .png preview; pooling works along every axis, and a .npy output has no view'
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..records import replace
from ..volume_inputs import volume_suffix

#: kernel kinds that filter along every axis: ``--axis`` cannot leave one alone (only pick a .png's view)
EVERY_AXIS = ("3d", "dense3d", "gradient", "sobel_mm", "log_mm", "log_vox")


def axis_for_output(kernel: Any, options: Any, out_path: Path, affine: Any = None) -> tuple[Any, list[str]]:
    """The options to filter with, and a note, where ``--axis`` also picks a .png preview's view: a kernel that
    filters along every axis (or none: a copy) keeps doing so, the axis picks the view alone, and with an output that
    has no view the axis is noted as unused, as pool notes it (:func:`unused_view_note`); a smoothing kernel leaves
    that voxel axis alone too, as documented, and the note says both (:func:`kept_axis_note`, from the input's
    ``affine``: the view is anatomical, the filtered axis a voxel axis, and they differ on a sagittal acquisition).

    >>> from ..volume_grammar import resolve_volume_kernel
    >>> from .volume_options import VolumeOptions
    >>> axis_for_output(resolve_volume_kernel("sobel_3d"), VolumeOptions(axis="y"), Path("e.nii.gz"))[1]
    ['--axis y picks the view of a .png preview; sobel_3d filters along every axis, and a .nii.gz output has no view']
    """
    if options.axis is None:
        return options, []
    if volume_suffix(out_path) != ".png":
        if kernel is not None and kernel.kind not in EVERY_AXIS:
            return options, []
        why = f"{kernel.name} filters along every axis" if kernel is not None else "a copy (no --kernel) filters nothing"
        return replace(options, axis=None), [unused_view_note(options.axis, out_path, why)]  # type: ignore[list-item]
    if kernel is None:
        return options, []
    from .preview import VIEWS

    if kernel.kind in EVERY_AXIS:
        return replace(options, axis=None), [f"--axis {options.axis} picks the PNG's {VIEWS[options.axis][1]} view; {kernel.name} filters along every axis"]
    return options, [kept_axis_note(kernel, options.axis, affine)]


#: each canonical RAS+ axis: the direction it runs, and the view across it
ANATOMICAL = (("left-right", "sagittal"), ("anterior-posterior", "coronal"), ("superior-inferior", "axial"))


def kept_axis_note(kernel: Any, axis: str, affine: Any = None) -> str:
    """The note of ``--axis`` with a smoothing or 2-D ``kernel`` and a .png output: the kernel leaves voxel axis
    ``axis`` alone (or filters each slice across it), the PNG shows the anatomical view the letter names, across
    the voxel axis closest to that view's normal in ``affine`` (None: a canonical volume).  Where the two differ
    (a sagittal DICOM series, whose voxel x runs anterior-posterior) the note says what the picture shows, and
    how to filter the slices shown: one meaning of ``--axis`` in every output, a voxel axis, and the note true.

    >>> from ..volume_grammar import resolve_volume_kernel
    >>> import numpy as np
    >>> sagittal = np.array([[0, 0, 2.0, 0], [1, 0, 0, 0], [0, -1, 0, 0], [0, 0, 0, 1]])   # i: A, j: S (down), k: R
    >>> kept_axis_note(resolve_volume_kernel("gaussian:1.5mm"), "x", sagittal)
    "--axis x: gaussian:1.5mm leaves voxel axis x alone, which runs anterior-posterior here, while the PNG's sagittal view is across voxel axis z (left-right): the picture is smoothed top to bottom only (along voxel axis y) and across its slices; to smooth within the sagittal slices give --axis z with a .nii.gz output, then preview that with --axis x"
    """
    from .preview import VIEWS

    shown, view = VIEWS[axis]
    ornt = _orientation(affine)
    canonical = {int(c): "xyz"[v] for v, (c, _) in enumerate(ornt)}  # canonical axis -> voxel axis letter
    kept = int(ornt["xyz".index(axis), 0])  # the canonical axis the voxel axis left alone is closest to
    if kind_2d := kernel.kind == "2d":
        done = f"{kernel.name} filters each slice across {axis}"
    else:
        done = f"{kernel.name} leaves the {axis} axis alone (smooths within those slices)"
    if kept == shown:
        return f"--axis {axis}: {done}, and the PNG shows the {view} view" + (
            "" if kind_2d else "; leave --axis out for a 3-D smoothing shown axially")
    across = canonical[shown]
    way = f"to {'filter' if kind_2d else 'smooth within'} the {view} slices give --axis {across} with a .nii.gz output, then preview that with --axis {axis}"
    here = f"which runs {ANATOMICAL[kept][0]} here"
    seen = f"the PNG's {view} view is across voxel axis {across} ({ANATOMICAL[shown][0]})"
    if kind_2d:
        return (f"--axis {axis}: {kernel.name} filters each slice across voxel axis {axis}, {here} ({ANATOMICAL[kept][1]} "
                f"slices), while {seen}: a cut through those filtered slices, not one of them; {way}")
    column, row = sorted(set(range(3)) - {shown})  # the picture's columns run along the lower canonical axis
    smoothed = row if kept == column else column
    how = "top to bottom" if smoothed == row else "side to side"
    return (f"--axis {axis}: {kernel.name} leaves voxel axis {axis} alone, {here}, while {seen}: the picture is smoothed "
            f"{how} only (along voxel axis {canonical[smoothed]}) and across its slices; {way}")


def _orientation(affine: Any) -> Any:
    """nibabel's closest canonical orientation of ``affine`` (rows: voxel axes i, j, k), the identity without one."""
    import numpy as np

    if affine is None:
        return np.array([[0, 1], [1, 1], [2, 1]])
    from .volume import require

    return require("nibabel.orientations", "PNG previews (reoriented to RAS+)").io_orientation(np.asarray(affine))


def view_axis(axis: str | None, png: bool) -> str | None:
    """The ``--axis`` that names the result of a job along every axis (a 3-D kernel, a derivative, a pooling, a
    copy): a ``png`` output's coronal or sagittal view; None for the axial view (z, the default) or an output with
    no view, whose name is then the same as without ``--axis`` (:meth:`~.jobs.VolumeOptions.label`).

    >>> view_axis("y", True), view_axis("z", True), view_axis("y", False), view_axis(None, True)
    ('y', None, None, None)
    """
    return axis if png and axis != "z" else None


def is_png_output(out: str | Path | None, fmt: str | None = None) -> bool:
    """True where a volume job writes a .png preview, the one output with a view: ``out``'s type, or without
    ``out`` the ``--format`` (``fmt``) of the default name.

    >>> is_png_output("v.png"), is_png_output(None, ".PNG"), is_png_output("v.nii.gz", "png"), is_png_output(None)
    (True, True, False, False)
    """
    if out is not None:
        return volume_suffix(Path(out)) == ".png"
    return (fmt or "").lower().lstrip(".") == "png"


def unused_view_note(axis: str | None, out_path: Path, why: str = "pooling works along every axis") -> str | None:
    """The note for ``--axis`` given to a job that works along every axis (``why`` says so: a pooling, a 3-D kernel)
    whose output is no .png preview, or None: the axis only picks a preview's view.

    >>> unused_view_note("y", Path("p.nii.gz"))
    '--axis y picks the view of a .png preview; pooling works along every axis, and a .nii.gz output has no view'
    """
    suffix = volume_suffix(out_path)
    if axis is None or suffix == ".png":
        return None
    return f"--axis {axis} picks the view of a .png preview; {why}, and a {suffix} output has no view"
