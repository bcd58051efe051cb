"""``kernelcli volume``: filter a CT/MR volume (NIfTI, DICOM file or series folder) in 3-D or slice by slice."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ._common import guarded, render_report

EPILOG = """Examples:

  kernelcli volume samples/phantom3d.nii.gz --kernel gaussian:1.5mm --out smooth.nii.gz

  kernelcli volume ct_series/ --kernel sobel_3d --window 0,400 --out edges.png

  kernelcli volume scan.nii.gz --kernel sharpen --axis z --pad-mode reflect --out sharp.nii.gz

  kernelcli volume ct_series/ --window lung --out lung.png

Needs the medical extra: pip install 'kernelcli[medical]'.
"""


@guarded
def volume(
    input: Annotated[Path, typer.Argument(help="A NIfTI file (.nii, .nii.gz; 3-D or 4-D), .mgz, .nrrd/.mha/.mhd, a DICOM file, or a folder holding a DICOM series.", show_default=False)],
    kernel: Annotated[Optional[str], typer.Option(
        "--kernel", "-k",
        help="gaussian:1.5mm, fwhm:4mm or box:5mm (size in mm, per-axis voxel spacing); gaussian:2vox, box:3vox; "
        "gradient, sobel_mm (gradient magnitude per mm), log:2mm (Laplacian of Gaussian per mm^2); "
        "gaussian_3d, box_3d, sobel_3d (sobel_3d_y, sobel_3d_z); or a 2-D catalogue kernel, applied slice by slice. "
        "Omit it to convert or window only.",
        show_default=False,
    )] = None,
    axis: Annotated[Optional[str], typer.Option(
        help="z, y or x. A 2-D kernel filters each slice across this axis (default z); a kernel in mm or voxels "
        "leaves this axis alone (smooths within the slices).", show_default=False,
    )] = None,
    pad_mode: Annotated[str, typer.Option(help="replicate (default for volumes: scans have air at their borders), constant, reflect, symmetric, circular, or renormalise (fslmaths -s: outside voxels dropped, the weights inside renormalised; smoothing kernels only).")] = "replicate",
    pad_value: Annotated[float, typer.Option(help="Fill value for --pad-mode constant.")] = 0.0,
    flip: Annotated[bool, typer.Option("--flip", help="True convolution (flip the kernel); the default is cross-correlation.")] = False,
    window: Annotated[Optional[str], typer.Option(
        help="CENTRE,WIDTH in HU, or brain (40,80), lung (-600,1500), bone (400,1800), soft-tissue (50,350): maps values to 0-255.",
        show_default=False,
    )] = None,
    keep_dtype: Annotated[bool, typer.Option("--keep-dtype", help="Write the input's integer type (rounded; out-of-range values clipped, with a note) instead of float32.")] = False,
    truncate: Annotated[Optional[float], typer.Option(help="Gaussian radius in sigmas: ceil(T*sigma/spacing) voxels per axis (default 3; fslmaths and scipy use 4).", show_default=False)] = None,
    mask: Annotated[Optional[Path], typer.Option(help="Smooth inside this mask only (voxels > 0.5, same grid), renormalising the weights inside it and keeping the voxels outside, as fslmaths' masked convolution.", show_default=False)] = None,
    volume_index: Annotated[Optional[int], typer.Option("--volume", min=0, help="One volume (from 0) of a 4-D input; by default every volume is filtered.", show_default=False)] = None,
    series: Annotated[Optional[str], typer.Option(help="In a folder holding several DICOM series: the SeriesInstanceUID or index (as the error lists them) of the one to read.", show_default=False)] = None,
    resample_slices: Annotated[bool, typer.Option("--resample-slices", help="A DICOM series with uneven slice gaps is refused; this interpolates it linearly along the normal onto an even grid instead.")] = False,
    out: Annotated[Optional[Path], typer.Option(
        "--out", "-o",
        help=".nii.gz or .nii (the input's affine and header), .npy (the (Z, Y, X) array) or .png (the middle slice, windowed). "
        "Default: <stem>_<kernel>.nii.gz here.", show_default=False,
    )] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing output.")] = False,
    json_out: Annotated[bool, typer.Option("--json", help="Print one JSON document with the facts (spacing, shapes, range, notes).")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No summary or notes on stderr.")] = False,
) -> None:
    """Filter a 3-D medical volume: kernels in mm, 3-D kernels, or 2-D kernels slice by slice.

    Volumes are (Z, Y, X): slices, rows, columns. DICOM values are rescaled to Hounsfield
    units; NIfTI outputs keep the input's affine, so they overlay it in a viewer.
    """
    from ..medical import VolumeOptions, convolve_volume_file, parse_window

    options = VolumeOptions(
        axis=axis, pad_mode=pad_mode, pad_value=pad_value, flip=flip,
        window=parse_window(window) if window is not None else None, keep_dtype=keep_dtype,
        truncate=truncate, mask=mask, volume=volume_index, series=series, resample_slices=resample_slices,
    )
    report = convolve_volume_file(input, kernel, options, out=out, force=force)
    render_report(report, json_out=json_out, quiet=quiet)


def register(app: typer.Typer) -> None:
    """Add ``volume`` to the app."""
    app.command("volume", epilog=EPILOG)(volume)
