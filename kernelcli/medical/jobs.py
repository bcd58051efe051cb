"""Volume file jobs: resolve the kernel, check the output, read, filter or pool, write.

Example
-------
>>> VolumeOptions(pad_mode="renormalise", truncate=4).pad_mode
'renormalise'
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import UsageError
from ..jobs_common import Report, _named
from ..records import record
from ..volume_inputs import volume_suffix
from .geometry import SHEAR_DEGREES, sheared_pair  # noqa: F401 - (their former home)
from .kernels import VolumeKernel, resolve_volume_kernel
from .nifti import sheared_output_note, write_nifti
from .volume import Volume, read_volume, volume_stem
from .window import preset_note, windowed
from .views import EVERY_AXIS, axis_for_output, is_png_output, unused_view_note, view_axis  # noqa: F401 - (their former home)
from .writers import assumed_output_note, bare_array_note, check_volume_format, check_volume_output, stated_sizes, write_npy, write_png_slice

# the edge mode of fslmaths -s, declared with the other pad modes
from ..modes import AXES, RENORMALISE, RENORMALISE_ALIASES as _RENORMALISE_ALIASES  # noqa: E402,F401


@record(frozen=True)
class VolumeOptions:
    """Options of a volume job.

    ``axis``: for a 2-D kernel, the axis across which slices are taken (default z); for a
    kernel in mm or voxels, an axis to leave alone (smooth within those slices only); for a
    PNG output, the view (z axial, y coronal, x sagittal).  ``pad_mode`` defaults to replicate:
    scans have air (-1000 HU) at their borders, and zero padding would draw a bright rim (ITK,
    behind c3d, also smooths with a zero-flux, i.e. replicate, boundary); ``renormalise`` is
    fslmaths' edge rule (smoothing kernels only; with ``mask``, inside the mask).
    ``truncate``: Gaussian radius in sigmas (default 3; fslmaths uses 4, scipy 4).
    ``volume``, ``series``, ``resample_slices``, ``affine`` (``sform`` or ``qform``: a NIfTI's geometry where
    the two disagree): passed to :func:`~.volume.read_volume`.
    ``paths``: the path policy (:mod:`kernelcli._core.policy`; None: the API's default, warm);
    the CLI passes its cold one, as for images.
    """

    axis: str | None = None
    pad_mode: str = "replicate"
    pad_value: float = 0.0
    flip: bool = False
    window: tuple[float, float] | None = None
    keep_dtype: bool = False
    truncate: float | None = None
    mask: str | os.PathLike | None = None
    volume: int | None = None
    series: str | None = None
    resample_slices: bool = False
    affine: str | None = None
    paths: Any = None

    def __post_init__(self) -> None:
        from ..modes import canonical_pad_mode

        key = str(self.pad_mode).strip().lower()
        object.__setattr__(self, "pad_mode", RENORMALISE if key in _RENORMALISE_ALIASES else canonical_pad_mode(self.pad_mode))
        if self.axis is not None:
            key = str(self.axis).strip().lower()
            if key not in ("z", "y", "x"):
                raise UsageError(f"invalid axis {self.axis!r}: expected z, y or x (the volume is (Z, Y, X))")
            object.__setattr__(self, "axis", key)
        if self.truncate is not None and not (0 < float(self.truncate) <= 20):
            raise UsageError(f"--truncate {self.truncate}: expected a number of sigmas above 0 and at most 20 (scipy's default is 4, fslmaths' 4)")
        if self.volume is not None and int(self.volume) < 0:
            raise UsageError(f"--volume {self.volume}: expected an index >= 0")
        if self.affine is not None:
            from ..modes import canonical_affine

            object.__setattr__(self, "affine", canonical_affine(self.affine))
        if self.mask is not None and self.pad_mode != RENORMALISE:
            object.__setattr__(self, "pad_mode", RENORMALISE)  # fslmaths' masked smoothing renormalises inside the mask

    def label(self, kernel: VolumeKernel | str, *, png: bool = False) -> str:
        """A result's name for ``kernel``: its name, then what these options change from a volume's defaults
        (:func:`kernelcli.modes.volume_words`), so that two results that differ are named apart and one result is
        named one way: an ``--axis`` or ``--truncate`` given at the kernel's default is no word (``--axis z`` for a
        2-D kernel, ``--truncate 3``, 4 for ``log:``), nor the ``--axis`` of a kernel along every axis, which picks a
        view alone, but where it picks a ``png`` output's coronal or sagittal one (:func:`view_axis`).  ``kernel``
        as a name (``maxpool2``, ``copy``): a job along every axis that pads nothing, named by its view and what
        is read (``--volume``, ``--resample-slices``), as a pooling (:func:`~.pooling.pool_volume_file`).

        >>> from .kernels import resolve_volume_kernel as k
        >>> VolumeOptions(pad_mode="reflect", flip=True).label(k("box:3vox")), VolumeOptions(mask="m.nii").label(k("gaussian:2mm"))
        ('box:3vox_reflect_flip', 'gaussian:2mm_mask')
        >>> VolumeOptions(axis="z", truncate=3).label(k("gaussian:2mm")), VolumeOptions(axis="z").label(k("sharpen"))
        ('gaussian:2mm_axisz', 'sharpen')
        >>> VolumeOptions(axis="y").label(k("sobel_3d")), VolumeOptions(axis="y").label(k("sobel_3d"), png=True)
        ('sobel_3d', 'sobel_3d_axisy')
        >>> VolumeOptions(axis="x", volume=1).label("maxpool2", png=True), VolumeOptions(axis="x").label("maxpool2")
        ('maxpool2_axisx_vol1', 'maxpool2')
        """
        from ..modes import volume_words

        if isinstance(kernel, str):
            words = volume_words(axis=view_axis(self.axis, png), volume=self.volume, resample_slices=self.resample_slices)
            return "_".join([kernel, *words])
        if kernel.kind in EVERY_AXIS:
            axis = view_axis(self.axis, png)  # the view alone (axial without --axis)
        else:
            axis = None if kernel.kind == "2d" and self.axis == "z" else self.axis  # a 2-D kernel goes across z unless told
        truncate = None if self.truncate is None or float(self.truncate) == kernel.default_truncate else self.truncate
        words = volume_words("replicate" if self.mask is not None else self.pad_mode, self.pad_value, self.flip, axis,
                             truncate, self.mask is not None, self.volume, self.resample_slices)
        return "_".join([kernel.name, *words])

    def read(self, path: str | os.PathLike) -> Volume:
        """Read ``path`` with this job's input options."""
        return read_volume(path, volume=self.volume, series=self.series, resample_slices=self.resample_slices, affine=self.affine)


@record
class VolumeReport(Report):
    """A :class:`~kernelcli.jobs.Report` with the volume's facts."""

    spacing: list[float] | None = None
    format: str | None = None
    units: str | None = None


def default_volume_output(input_path: str | os.PathLike, label: str, directory: Path = Path("."), *,
                          name: str | None = None, fmt: str | None = None, extension: str = ".nii.gz") -> Path:
    """``<stem>_<label>.nii.gz`` in ``directory``; ``name`` (``--suffix``) replaces the label, ``fmt``
    (``--format``) the extension, as in a batch (:func:`kernelcli.io.naming.default_output`).

    >>> default_volume_output(Path("scans/ct.nii.gz"), "gaussian:1.5mm")
    PosixPath('ct_gaussian_1.5mm.nii.gz')
    >>> default_volume_output(Path("scans/ct.nii.gz"), "gaussian:1.5mm", name="smooth", fmt="npy")
    PosixPath('ct_smooth.npy')
    """
    from ..io.naming import labelled

    suffix = "." + fmt.lower().lstrip(".") if fmt else extension
    return directory / f"{labelled(volume_stem(input_path), label if name is None else name)}{suffix}"


#: kernel kinds whose result depends on the voxel size in mm: sizes in mm, and derivatives per mm
IN_MM = ("gaussian_mm", "box_mm", "gradient", "sobel_mm", "log_mm")


def check_spacing_known(vol: Volume, kernel: VolumeKernel | None, axis: str | None = None) -> None:
    """Refuse a kernel sized in mm (or a derivative per mm) on a volume whose voxel size the file does not give:
    the 1 mm assumed would size it silently (a 2-D kernel slice by slice, or one in voxels, does not need it);
    on one whose header gives it two ways (``vol.spacing_conflict``: pixdim against the affine); and on a sheared
    grid (a gantry tilt) where the kernel runs along two axes that are not perpendicular: built along the voxel
    axes, a Gaussian of 2 mm would be an ellipse, a gradient per mm a mix of two directions.  ``axis``: the one
    ``--axis`` leaves alone (a Gaussian or box across the other two only).

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
    if vol.spacing_assumed:
        raise UsageError(f"{vol.path}: {kernel.name} is sized in mm, but the voxel size is not in the file ({vol.spacing_assumed}; "
                         "1 mm was assumed): give the size in voxels (e.g. gaussian:1.5vox, box:3vox) or add the spacing to the file")
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
    factors, factor_notes = _filter3d_factors(spacing, kernel, options)
    notes.extend(factor_notes)
    if options.pad_mode == "renormalise":
        where = "inside the mask (outside voxels unchanged)" if mask is not None else "inside the volume"
        notes.append(f"edges renormalised over the voxels {where}, as fslmaths -s")
        return volume_filters.smooth_renormalised(data, factors, mask=mask, paths=options.paths), notes
    return volumes.correlate_separable(data, factors, pad_mode=options.pad_mode, pad_value=options.pad_value, paths=options.paths), notes


def _filter3d_factors(spacing: tuple[float, float, float], kernel: VolumeKernel, options: VolumeOptions) -> tuple[list[Any], list[str]]:
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


def _to_input_dtype(result: np.ndarray, dtype: np.dtype, scaling: tuple[float, float] | None = None) -> tuple[np.ndarray, int, int]:
    """Round and clip to an integer dtype (never wraps), storing ``(value - inter) / slope`` for a scaled input;
    returns (array, clipped low, clipped high)."""
    info = np.iinfo(dtype)
    slope, inter = scaling or (1.0, 0.0)
    low = high = 0
    out = np.empty(result.shape, dtype=dtype)
    flat_in, flat_out = result.reshape(-1, result.shape[-1]), out.reshape(-1, out.shape[-1])
    for start in range(0, flat_in.shape[0], 4096):  # row blocks: no full float64 temporary
        r = flat_in[start : start + 4096].astype(np.float64)
        if scaling is not None:
            r = (r - inter) / slope
        r = np.rint(r)
        low += int(np.count_nonzero(r < info.min))
        high += int(np.count_nonzero(r > info.max))
        flat_out[start : start + 4096] = np.clip(r, info.min, info.max)
    return out, low, high


def _write_result(
    out_path: Path, result: np.ndarray, vol: Volume, options: VolumeOptions, report: VolumeReport, *,
    force: bool, affine: np.ndarray | None = None, keeps_units: bool = True,
) -> None:
    from .preview import preview, shown_pixel_mm, square_pixel_note

    suffix = volume_suffix(out_path)
    window = options.window
    if said := preset_note(window, vol.path, vol.modality, vol.units):
        report.notes.append(said)
    if suffix == ".png":
        frame = result if result.ndim == 3 else result[0]
        if result.ndim == 4:
            report.notes.append(f"PNG: volume 0 of {result.shape[0]} (--volume N picks another)")
        shown_vol = vol if affine is None else Volume(frame, tuple(report.spacing or vol.spacing), affine, vol.path, vol.format,
                                                      window=vol.window, inverted=vol.inverted,
                                                      orientation_unknown=vol.orientation_unknown,
                                                      spacing_assumed=vol.spacing_assumed)
        image, notes, (report.clipped_low, report.clipped_high) = preview(frame, shown_vol, options.axis, window, keeps_units)
        report.notes.extend(notes)
        pixel = shown_pixel_mm(shown_vol, options.axis)
        if pixel is not None:
            report.notes.append(square_pixel_note(*pixel))
        if options.keep_dtype:
            report.notes.append("--keep-dtype is for .nii and .npy outputs; a .png preview is 8-bit")
        write_png_slice(out_path, image, force=force, pixel_mm=pixel)  # (report.dtype stays the result's as computed, as an image's)
        report.output_shape = list(image.shape)
        return
    scaling = None
    if window is not None:
        # values past the window saturate at 0 or 255: counted as the writer counts what it clips
        result, report.clipped_low, report.clipped_high = windowed(result, *window)
        report.notes.append(f"windowed at {window[0]:g},{window[1]:g} to uint8 0..255")
        if options.keep_dtype:
            report.notes.append("--keep-dtype does nothing with --window, which maps the result to uint8")
    elif options.keep_dtype:
        stored = np.dtype(vol.stored_dtype if vol.stored_dtype is not None else vol.data.dtype)
        if stored.kind not in "iu":
            report.notes.append(f"--keep-dtype: the input's values are {stored} (floats in the file, or after its rescale not "
                                f"whole numbers within int16's range), so the result stays {result.dtype}")
        elif result.dtype != stored or vol.scaling is not None:
            computed = result.dtype  # what leaving --keep-dtype off would write
            scaling = vol.scaling if suffix != ".npy" else None
            result, report.clipped_low, report.clipped_high = _to_input_dtype(result, stored, scaling)
            if scaling is not None:
                report.notes.append(f"--keep-dtype: stored as {stored} with the input's scl_slope {scaling[0]:g}, scl_inter {scaling[1]:g}")
            elif vol.scaling is not None:  # a .npy has no header to carry the scaling: the values themselves, rounded
                report.notes.append(f"--keep-dtype: a .npy has no scl_slope ({vol.scaling[0]:g}) or scl_inter "
                                    f"({vol.scaling[1]:g}) to carry, so it holds the values rounded to whole {stored} units; "
                                    "write .nii or .nii.gz to keep the input's scaling, or leave --keep-dtype off")
            if report.clipped_low or report.clipped_high:
                report.notes.append(
                    f"--keep-dtype: {report.clipped_low + report.clipped_high} value(s) outside {stored} were clipped; "
                    f"leave --keep-dtype off to keep {computed}"
                )
    if suffix == ".npy":
        write_npy(out_path, result, force=force)
        report.notes.append(bare_array_note(result.ndim))
    else:
        report.notes.extend(filter(None, [sheared_output_note(result, vol, affine), assumed_output_note(vol, affine)]))
        write_nifti(out_path, result, vol, affine=affine, force=force, scaling=scaling)


def convolve_volume_output(input_path: str | os.PathLike, kernel_spec: str | None, options: VolumeOptions | None = None, *,
                           out: str | os.PathLike | None = None, name: str | None = None, fmt: str | None = None,
                           tiled: bool = False, **_: Any) -> Path:
    """The file a volume's convolution writes: ``out``, else the default name :func:`convolve_volume_file` gives it
    (``tiled``: :func:`kernelcli.tiled.nifti.convolve_volume_tiled`'s, a ``.nii``), known before the run (the CLI
    checks ``--report`` against it); it takes a runner's arguments (:func:`convolve_volume_for_cli`).

    >>> convolve_volume_output("ct.nii", "box:3vox"), convolve_volume_output("ct.nii", "box:3vox", tiled=True)
    (PosixPath('ct_box_3vox.nii.gz'), PosixPath('ct_box_3vox.nii'))
    """
    if out is not None:
        return Path(out)
    options = options or VolumeOptions()
    kernel = resolve_volume_kernel(kernel_spec) if kernel_spec is not None else None  # None alone is a copy: '' is refused
    label = options.label(kernel or "copy", png=not tiled and is_png_output(out, fmt))
    return default_volume_output(input_path, label, name=name, fmt=fmt, extension=".nii" if tiled else ".nii.gz")


def convolve_volume_file(
    input_path: str | os.PathLike,
    kernel_spec: str | None,
    options: VolumeOptions | None = None,
    *,
    out: str | os.PathLike | None = None,
    force: bool = False,
    name: str | None = None,
    fmt: str | None = None,
) -> VolumeReport:
    """Filter one volume (NIfTI, DICOM file or series folder) and write the result.

    The kernel is resolved first (exit 3), then the output path is checked (exit 4), then
    the input is read.  ``out=None`` writes ``<stem>_<kernel>.nii.gz`` in the current folder
    (``name`` and ``fmt``: see :func:`default_volume_output`).
    """
    options = options or VolumeOptions()
    kernel = resolve_volume_kernel(kernel_spec) if kernel_spec is not None else None  # None alone is a copy: '' is refused
    label = options.label(kernel or "copy", png=is_png_output(out, fmt))
    src = Path(input_path)
    read = (src,) + ((Path(options.mask),) if options.mask is not None else ())  # the mask is an input too
    check_volume_format(fmt)  # (before the name it gives: a batch of volumes and stdout say the same)
    out_path = check_volume_output(out if out is not None else default_volume_output(src, label, name=name, fmt=fmt), read,
                                   force=force)
    filtering, axis_note = axis_for_output(kernel, options, out_path)
    vol = options.read(src)
    mask = _read_mask(options.mask, vol, options.affine) if options.mask is not None else None
    start = time.perf_counter()
    result, notes = _named(src, lambda: filter_volume(vol, kernel, filtering, mask))  # a kernel the input's type cannot hold
    notes = notes + axis_note
    seconds = time.perf_counter() - start
    from ..jobs_common import check_finite_result, min_max

    # an overflow (inf or NaN) is refused, never written
    minimum, maximum = min_max(result)  # ints for whole numbers: an int64 past 2**53 is not rounded
    check_finite_result(src, f"convolve {label}", minimum, maximum, result.dtype)
    report = VolumeReport(
        input=str(src), operation=f"convolve {label}" if kernel else label, input_shape=list(vol.data.shape),
        output_shape=list(result.shape), output=str(out_path), minimum=minimum, maximum=maximum,
        seconds=seconds, dtype=str(result.dtype), total=int(result.size), notes=vol.notes + notes,
        kernel=kernel.name if kernel else None, spacing=stated_sizes(list(vol.spacing), vol.assumed_axes), format=vol.format,
        units=kernel.result_units(vol.units) if kernel else vol.units,
    )
    if result is not vol.data:  # the input's voxels are not needed to write: free them (peak memory while writing)
        vol.stored_dtype = vol.stored_dtype if vol.stored_dtype is not None else vol.data.dtype
        vol.data = np.empty((0,) * vol.data.ndim, dtype=vol.data.dtype)  # a view would keep the buffer alive
    _write_result(out_path, result, vol, options, report, force=force, keeps_units=kernel is None or kernel.keeps_units)
    return report


def _read_mask(path: str | os.PathLike, vol: Volume, affine: str | None = None) -> np.ndarray:
    """The ``--mask`` volume as a (Z, Y, X) array on ``vol``'s grid, else an error: the same shape, and the same grid
    in mm (:func:`~.geometry.grids_apart`, the qform/sform rule: every corner voxel within 1% of a voxel), whatever
    unit each header states.

    ``affine`` (``--affine``) reads a NIfTI mask's geometry as the input's was read: a mask made from
    the input carries its header.
    """
    from ..io.reads import note_input
    from ..volume_inputs import NIFTI_SUFFIXES

    note_input(path)  # an input: no output of this call (a --report) is written over it
    m = read_volume(path, affine=affine if volume_suffix(Path(path)) in NIFTI_SUFFIXES else None)
    shape = vol.data.shape[-3:]
    if m.data.ndim != 3 or m.data.shape != shape:
        raise UsageError(f"--mask {path}: shape {'x'.join(map(str, m.data.shape))} differs from the input's {'x'.join(map(str, shape))} (Z, Y, X)")
    from .geometry import grids_apart

    apart = grids_apart(m.affine_mm, vol.affine_mm, shape[::-1])
    if apart is not None:
        raise UsageError(f"--mask {path}: another grid: {apart.text('the mask', 'the input')}; resample it onto the input first")
    return m.data


