"""Volume file jobs: resolve the kernel, check the output, read, filter (:mod:`kernelcli.medical.filtering`) or pool,
write.

Example
-------
>>> default_volume_output("scans/ct.nii.gz", "box:3vox")
PosixPath('ct_box_3vox.nii.gz')
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError, UsageError
from ..jobs_common import Report, _named
from ..records import record
from ..volume_inputs import volume_suffix
from .filtering import filter_volume
from .kernels import resolve_volume_kernel
from .nifti import sheared_output_note, write_nifti
from .volume import Volume, read_volume, volume_stem
from .window import preset_note, windowed
from .views import axis_for_output, is_png_output
from .volume_options import VolumeOptions
from .writers import (assumed_output_note, bare_array_note, check_volume_format, check_volume_output, stated_sizes, two_sizes_note,
                      write_npy, write_png_slice)


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


def write_result(
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
    zarr_offered: bool = False,
) -> VolumeReport:
    """Filter one volume (NIfTI, DICOM file or series folder) and write the result.  ``zarr_offered``: the command
    line's call, whose tiled path writes a ``.zarr``, named where an output type is refused.

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
    from .tiled_options import tiled_takes

    out_path = check_volume_output(out if out is not None else default_volume_output(src, label, name=name, fmt=fmt), read,
                                   force=force, tiled=zarr_offered and tiled_takes(options, kernel))
    vol = _mask_takes_affine(options, src).read(src)
    filtering, axis_note = axis_for_output(kernel, options, out_path, vol.affine)  # the view is anatomical: the affine says which voxel axis it is across
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
    report.notes.extend(filter(None, [two_sizes_note(vol, out_path)]))
    if result is not vol.data:  # the input's voxels are not needed to write: free them (peak memory while writing)
        vol.stored_dtype = vol.stored_dtype if vol.stored_dtype is not None else vol.data.dtype
        vol.data = np.empty((0,) * vol.data.ndim, dtype=vol.data.dtype)  # a view would keep the buffer alive
    write_result(out_path, result, vol, options, report, force=force, keeps_units=kernel is None or kernel.keeps_units)
    return report


def _mask_takes_affine(options: VolumeOptions, src: Path) -> VolumeOptions:
    """The options to read the input ``src`` with: ``--affine`` picks a NIfTI's qform or sform, so with an input that is
    no NIfTI (a DICOM, MGH, NRRD or MetaImage, which read one way) and a NIfTI ``--mask`` it is the mask's alone; with
    neither a NIfTI the input's read refuses it.

    >>> _mask_takes_affine(VolumeOptions(affine="sform", mask="m.nii.gz"), Path("ct_series")).affine is None
    True
    >>> _mask_takes_affine(VolumeOptions(affine="sform", mask="m.nii.gz"), Path("ct.nii")).affine
    'sform'
    """
    from ..volume_inputs import NIFTI_SUFFIXES

    nifti = lambda path: volume_suffix(Path(path)) in NIFTI_SUFFIXES  # noqa: E731
    if options.affine is None or options.mask is None or nifti(src) or not nifti(options.mask):
        return options
    from ..records import replace

    return replace(options, affine=None)


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
    from ..tiled.stores import refuse_store_input

    refuse_store_input(path, "--mask", "--mask reads a NIfTI or DICOM mask in memory: save it as .nii.gz (nibabel) to "
                       "give it here")  # (a folder was sent to the DICOM series reader: "no DICOM images in this folder")
    try:
        m = read_volume(path, affine=affine if volume_suffix(Path(path)) in NIFTI_SUFFIXES else None, words="cli")
    except (UsageError, InputError) as exc:  # said of the mask, not of an input: "--mask m.nii.gz: the geometry reads two ways"
        exc.args = (f"--mask {exc}",)
        raise
    shape = vol.data.shape[-3:]
    if m.data.ndim != 3 or m.data.shape != shape:
        raise UsageError(f"--mask {path}: shape {'x'.join(map(str, m.data.shape))} differs from the input's {'x'.join(map(str, shape))} (Z, Y, X)")
    from .geometry import grids_apart

    apart = grids_apart(m.affine_mm, vol.affine_mm, shape[::-1])
    if apart is not None:
        raise UsageError(f"--mask {path}: another grid: {apart.text('the mask', 'the input')}; resample it onto the input first")
    return m.data


