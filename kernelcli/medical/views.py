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


def axis_for_output(kernel: Any, options: Any, out_path: Path) -> tuple[Any, list[str]]:
    """The options to filter with, and a note, where ``--axis`` also picks a .png preview's view: a kernel that
    filters along every axis (or none: a copy) keeps doing so, the axis picks the view alone, and with an output that
    has no view the axis is noted as unused, as pool notes it (:func:`unused_view_note`); a smoothing kernel leaves
    that axis alone too, as documented, and the note says both.

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

    view = VIEWS[options.axis][1]
    if kernel.kind in EVERY_AXIS:
        return replace(options, axis=None), [f"--axis {options.axis} picks the PNG's {view} view; {kernel.name} filters along every axis"]
    if kernel.kind == "2d":
        return options, [f"--axis {options.axis}: {kernel.name} filters each slice across {options.axis}, and the PNG shows the {view} view"]
    return options, [f"--axis {options.axis}: {kernel.name} leaves the {options.axis} axis alone (smooths within those slices), "
                     f"and the PNG shows the {view} view; leave --axis out for a 3-D smoothing shown axially"]


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
