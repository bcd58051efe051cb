"""A volume filtered in memory: the checks of a kernel against the volume and the options, then the 3-D kernel, the 2-D
kernel slice by slice, or the separable passes (the file jobs of :mod:`kernelcli.medical.jobs` and the tiled volume
path, :mod:`kernelcli.tiled.nifti`, call these).

Example
-------
>>> from pathlib import Path
>>> from .kernels import resolve_volume_kernel
>>> vol = Volume(np.ones((3, 4, 5), np.float32), (2.0, 1.0, 1.0), np.eye(4), Path("v"), "NIfTI")
>>> result, notes = filter_volume(vol, resolve_volume_kernel("box:3vox"), VolumeOptions())
>>> result.shape, float(result[1, 2, 2])
((3, 4, 5), 1.0)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import UsageError
from ..modes import AXES
from .geometry import sheared_pair
from .kernels import VolumeKernel
from .views import EVERY_AXIS
from .volume import Volume
from .volume_options import VolumeOptions


#: kernel kinds whose result depends on the voxel size in mm: sizes in mm, and derivatives per mm
IN_MM = ("gaussian_mm", "box_mm", "gradient", "sobel_mm", "log_mm")


def check_spacing_known(vol: Volume, kernel: VolumeKernel | None, axis: str | None = None) -> None:
    """Refuse a kernel sized in mm (or a derivative per mm) on a volume whose voxel size the file does not give:
    the 1 mm assumed would size it silently (a 2-D kernel slice by slice, or one in voxels, does not need it, nor a
    smoothing kernel that ``axis`` keeps off the axes assumed: :func:`guessed_axes_used`);
    on one whose header gives it two ways (``vol.spacing_conflict``: pixdim against the affine); and on a sheared
    grid (a gantry tilt) where the kernel runs along two axes that are not perpendicular: built along the voxel
    axes, a Gaussian of 2 mm would be an ellipse, a gradient per mm a mix of two directions.  ``axis``: the one
    ``--axis`` leaves alone (a Gaussian or box across the other two only).

    >>> from pathlib import Path
    >>> vol = Volume(np.zeros((2, 2, 2)), (1.0, 1.0, 1.0), np.eye(4), Path("s"), "DICOM", spacing_assumed="no PixelSpacing")
    >>> from ..volume_grammar import resolve_volume_kernel
    >>> check_spacing_known(vol, resolve_volume_kernel("gaussian:2vox"))
    >>> check_spacing_known(vol, resolve_volume_kernel("gaussian:2mm"))
    Traceback (most recent call last):
    ...
    kernelcli.errors.UsageError: s: gaussian:2mm is sized in mm, but the voxel size is not in the file (no PixelSpacing; 1 mm was assumed): give the size in voxels (e.g. gaussian:1.5vox, box:3vox) or add the spacing to the file
    """
    if kernel is None or kernel.kind not in IN_MM:
        return
    guessed = guessed_axes_used(vol, kernel, axis)
    if guessed:
        only_depth = tuple(vol.assumed_axes) == ("z",) and kernel.kind not in EVERY_AXIS
        within = "; or --axis z to smooth within the slices, whose voxel size is in the file" if only_depth else ""
        raise UsageError(f"{vol.path}: {kernel.name} is sized in mm, but the voxel size is not in the file ({vol.spacing_assumed}; "
                         "1 mm was assumed): give the size in voxels (e.g. gaussian:1.5vox, box:3vox) or add the spacing to the "
                         f"file{within}")
    if vol.spacing_conflict:
        raise UsageError(f"{vol.path}: {kernel.name} is sized in mm, but the header gives the voxel size two ways: "
                         f"{vol.spacing_conflict}; give the size in voxels (e.g. gaussian:1.5vox, box:3vox) or make the header agree")
    affine = np.asarray(vol.affine, dtype=np.float64)
    sheared = sheared_pair(affine, tuple(a for a in AXES if a != axis or kernel.kind in EVERY_AXIS))
    if sheared is None:
        return
    a, b, departure = sheared
    smoothing = kernel.kind in ("gaussian_mm", "box_mm")
    grid = (f"{vol.path}: {kernel.name} is {'sized in mm' if smoothing else 'a derivative per mm'}, but the voxel grid is "
            f"sheared: its {a} and {b} axes are {departure:.3g} degrees from perpendicular (a gantry tilt?), so ")
    if not smoothing:
        raise UsageError(grid + "differences along them mix two directions; a kernel in voxels (sobel_3d, log:1.5vox) runs "
                         "along the grid as it is")
    within = "z" in (a, b) and sheared_pair(affine, ("y", "x")) is None  # (--axis z leaves the slice axis alone)
    raise UsageError(grid + "a kernel built along them is not that size in every direction; give the size in voxels "
                     "(e.g. gaussian:1.5vox, box:3vox)" + (", or --axis z to smooth within the slices" if within else ""))


def guessed_axes_used(vol: Volume, kernel: VolumeKernel, axis: str | None = None) -> tuple[str, ...]:
    """The voxel axes (z, y, x order) whose size the file did not give (1 mm assumed) and along which ``kernel`` runs:
    every axis for a kernel along every axis, the two ``axis`` leaves a smoothing kernel (:func:`filter3d_factors`).
    A volume that says a size was assumed but not along which axis (``assumed_axes`` empty) counts as every axis.

    >>> from pathlib import Path
    >>> from .kernels import resolve_volume_kernel
    >>> vol = Volume(np.zeros((1, 2, 2)), (1.0, 0.5, 0.5), np.eye(4), Path("s"), "NIfTI", spacing_assumed="2-D", assumed_axes=("z",))
    >>> guessed_axes_used(vol, resolve_volume_kernel("gaussian:2mm")), guessed_axes_used(vol, resolve_volume_kernel("gaussian:2mm"), "z")
    (('z',), ())
    >>> guessed_axes_used(vol, resolve_volume_kernel("gradient"), "z")
    ('z',)
    """
    if not vol.spacing_assumed:
        return ()
    assumed = tuple(vol.assumed_axes) or AXES
    run = AXES if axis is None or kernel.kind in EVERY_AXIS else tuple(a for a in AXES if a != axis)
    return tuple(a for a in AXES if a in assumed and a in run)


def check_kernel_options(kernel: VolumeKernel | None, options: VolumeOptions) -> None:
    """Refuse the options ``kernel`` would not use (in memory and tile by tile alike); ``kernel`` None is a copy,
    which uses none of them (its ``--axis`` picks a .png's view alone, and :func:`copy_notes` names the rest).

    A file job first turns ``--axis`` with a kernel along every axis into a note (:func:`axis_for_output`); what
    reaches here with one (:func:`filter_volume` called alone) has no output whose view it could pick.

    >>> from ..volume_grammar import resolve_volume_kernel
    >>> check_kernel_options(resolve_volume_kernel("gradient"), VolumeOptions(axis="z"))
    Traceback (most recent call last):
    ...
    kernelcli.errors.UsageError: --axis z: gradient filters along every axis, so there is no axis to apply it across or leave alone; --axis then only picks a .png output's view
    >>> check_kernel_options(None, VolumeOptions(truncate=2))
    Traceback (most recent call last):
    ...
    kernelcli.errors.UsageError: --truncate is for Gaussians (gaussian:, fwhm:, log:); a copy (no --kernel) filters nothing
    """
    if kernel is None:
        if options.pad_mode == "renormalise":
            raise UsageError(f"--pad-mode renormalise (and --mask) is for smoothing kernels (gaussian, fwhm, box){_in_2d(None)}")
        if options.truncate is not None:
            raise UsageError(f"--truncate is for Gaussians (gaussian:, fwhm:, log:){_in_2d(None)}")
        return
    if options.axis is not None and kernel.kind in EVERY_AXIS:
        raise UsageError(f"--axis {options.axis}: {kernel.name} filters along every axis, so there is no axis to apply it "
                         "across or leave alone; --axis then only picks a .png output's view")
    if options.pad_mode == "renormalise" and kernel.kind not in ("gaussian_mm", "box_mm", "gaussian_vox", "box_vox"):
        raise UsageError(f"--pad-mode renormalise (and --mask) is for smoothing kernels (gaussian, fwhm, box)"
                         f"{_in_2d(kernel, 'gaussian:', 'box:')}")
    if options.truncate is not None and kernel.kind not in ("gaussian_mm", "gaussian_vox", "log_mm", "log_vox"):
        raise UsageError(f"--truncate is for Gaussians (gaussian:, fwhm:, log:){_in_2d(kernel, 'gaussian:')}")


def _in_2d(kernel: VolumeKernel | None, *kinds: str) -> str:
    """Why ``kernel`` is not one of ``kinds`` on a volume: unitless (``gaussian:1``, ``box:3``), it is the 2-D catalogue
    kernel, so the sizes in voxels and in mm are named; else it is another kernel, or none (a copy).

    >>> from .kernels import resolve_volume_kernel
    >>> _in_2d(resolve_volume_kernel("box:3"), "box:"), _in_2d(resolve_volume_kernel("sobel_h"), "box:")
    ('; box:3 is the 2-D kernel (applied slice by slice): on a volume give box:3vox or box:3mm', '; sobel_h is not one')
    """
    if kernel is None:
        return "; a copy (no --kernel) filters nothing"
    if kernel.kind == "2d" and kernel.name.startswith(kinds):
        return f"; {kernel.name} is the 2-D kernel (applied slice by slice): on a volume give {kernel.name}vox or {kernel.name}mm"
    return f"; {kernel.name} is not one"


def filter_volume(vol: Volume, kernel: VolumeKernel | None, options: VolumeOptions, mask: np.ndarray | None = None) -> tuple[np.ndarray, list[str]]:
    """Apply ``kernel`` to every volume of ``vol.data`` as the options say; returns (result, notes).

    The input is not modified.  A 4-D input gives a 4-D result (each volume filtered alike).
    """
    notes: list[str] = []
    data = vol.data
    check_kernel_options(kernel, options)
    if kernel is None:
        return data, copy_notes(options)
    check_spacing_known(vol, kernel, options.axis)
    frames = [data] if data.ndim == 3 else list(data)
    result: np.ndarray | None = None
    for t, frame in enumerate(frames):
        out, frame_notes = _filter3d(frame, vol.spacing, kernel, options, mask)
        if t == 0:
            notes.extend(frame_notes)
            if data.ndim == 3:
                return out, notes
            result = np.empty((len(frames), *out.shape), dtype=out.dtype)
        result[t] = out  # type: ignore[index]
    assert result is not None
    notes.append(f"{len(frames)} volumes filtered alike")
    return result, notes


def copy_notes(options: VolumeOptions) -> list[str]:
    """The note for the filtering options a copy (no kernel) takes and does not use: ``--flip``, a ``--pad-mode``
    away from replicate and a constant's ``--pad-value`` (another mode's is noted where it is read:
    :func:`kernelcli.modes.unused_fill`); those a kernel refuses where it does not use them, a copy refuses too
    (:func:`check_kernel_options`).

    >>> copy_notes(VolumeOptions(flip=True, pad_mode="constant", pad_value=5)), copy_notes(VolumeOptions())
    (['--flip, --pad-mode constant, --pad-value 5: for a --kernel; a copy (no --kernel) filters nothing'], [])
    """
    unused = [name for name, given in (("--flip", options.flip), (f"--pad-mode {options.pad_mode}", options.pad_mode != "replicate"),
                                       (f"--pad-value {getattr(options.pad_value, 'typed', None) or f'{options.pad_value:g}'}",
                                        options.pad_mode == "constant" and options.pad_value != 0)) if given]
    return [f"{', '.join(unused)}: for a --kernel; a copy (no --kernel) filters nothing"] if unused else []


def _filter3d(data: np.ndarray, spacing: tuple[float, float, float], kernel: VolumeKernel, options: VolumeOptions,
              mask: np.ndarray | None) -> tuple[np.ndarray, list[str]]:
    from .. import volume_filters, volumes

    notes: list[str] = []
    if kernel.kind == "2d":
        notes.append(f"{kernel.name} is a 2-D kernel: applied to each slice across {options.axis or 'z'} (kernels in mm: gaussian:1.5mm)")
        return volumes.convolve_slices(
            data, kernel.kernel.array(), options.axis or "z", dtype=volumes.volume_dtype(data.dtype), padding="same",
            pad_mode=options.pad_mode, pad_value=options.pad_value, flip=options.flip, paths=options.paths,
        ), notes
    if kernel.kind == "dense3d":
        notes.append(f"{kernel.name}: a {'x'.join(map(str, kernel.kernel.shape))} kernel of (z, y, x) voxels, applied in 3-D")
        return volumes.conv3d(data, kernel.kernel.array(), pad_mode=options.pad_mode, pad_value=options.pad_value,
                              flip=options.flip, paths=options.paths), notes
    mode = "replicate" if options.pad_mode == "renormalise" else options.pad_mode
    if kernel.kind in ("gradient", "sobel_mm"):
        notes.append(f"{kernel.name}: gradient magnitude in units per mm on {'x'.join(f'{s:g}' for s in spacing)} mm voxels (z, y, x)")
        f = volume_filters.gradient_magnitude if kernel.kind == "gradient" else volume_filters.sobel_magnitude
        return f(data, spacing, pad_mode=mode, pad_value=options.pad_value, paths=options.paths), notes
    if kernel.kind in ("log_mm", "log_vox"):
        steps = spacing if kernel.kind == "log_mm" else None  # (None: sigma in voxels, refused in voxels)
        cut = options.truncate or kernel.default_truncate
        notes.append(f"{kernel.name}: Laplacian of Gaussian in units per {'mm' if kernel.kind == 'log_mm' else 'voxel'}^2, "
                     f"cut at {cut:g} sigma")
        return volume_filters.laplacian_of_gaussian(data, kernel.size, steps, truncate=cut, pad_mode=mode,
                                                    pad_value=options.pad_value, paths=options.paths), notes
    factors, factor_notes = filter3d_factors(spacing, kernel, options)
    notes.extend(factor_notes)
    if options.pad_mode == "renormalise":
        where = "inside the mask (outside voxels unchanged)" if mask is not None else "inside the volume"
        notes.append(f"edges renormalised over the voxels {where}, as fslmaths -s")
        return volume_filters.smooth_renormalised(data, factors, mask=mask, paths=options.paths), notes
    return volumes.correlate_separable(data, factors, pad_mode=options.pad_mode, pad_value=options.pad_value, paths=options.paths), notes


def filter3d_factors(spacing: tuple[float, float, float], kernel: VolumeKernel, options: VolumeOptions) -> tuple[list[Any], list[str]]:
    """The 1-D kernels (z, y, x) of a separable kind as the options give them (flip, --axis), and a note
    (also used by the tiled volume path, :mod:`kernelcli.tiled.nifti`)."""
    from .. import volumes

    notes: list[str] = []
    factors = list(kernel.factors(spacing, options.truncate))
    if options.flip:
        factors = [None if f is None else f[::-1] for f in factors]
    if options.axis is not None:
        factors[volumes.AXES.index(options.axis)] = None
    if kernel.kind in ("gaussian_mm", "box_mm"):
        sides = "x".join(str(len(f)) if f is not None else "1" for f in factors)
        notes.append(f"{kernel.name} on {'x'.join(f'{s:g}' for s in spacing)} mm voxels (z, y, x): a {sides} kernel")
    return factors, notes
