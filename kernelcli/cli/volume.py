"""``kernelcli volume``: an alias of ``convolve``, kept for scripts written before convolve took volumes.

``convolve`` reads NIfTI and DICOM volumes and takes every volume option (``--window`` and
its presets, ``--axis``, ``--keep-dtype``, kernels in mm); ``volume`` is the same command
under its old name, so ``kernelcli volume ct.dcm --window lung -o lung.png`` keeps working.
"""

from __future__ import annotations

import typer

EPILOG = """\b
Examples:
  kernelcli volume samples/phantom3d.nii.gz --kernel gaussian:1.5mm --out smooth.nii.gz
  kernelcli volume ct_series/ --kernel sobel_3d --window 0,400 --out edges.png
  kernelcli volume scan.nii.gz --kernel sharpen --axis z --pad-mode reflect --out sharp.nii.gz
  kernelcli volume ct_series/ --window lung --out lung.png

Needs the medical extra: pip install 'kernelcli[medical]'.
"""

HELP = """Alias of `kernelcli convolve` for 3-D medical volumes (NIfTI, DICOM file or series folder).

Volumes are (Z, Y, X): slices, rows, columns. DICOM values are rescaled to Hounsfield
units; NIfTI outputs keep the input's affine, so they overlay it in a viewer. Kernels
in mm (gaussian:1.5mm), 3-D kernels, or 2-D kernels slice by slice; without --kernel
the volume is only converted or windowed.
"""


def register(app: typer.Typer) -> None:
    """Add ``volume``, the same command as ``convolve``, to the app."""
    from .convolve import convolve

    app.command("volume", help=HELP, epilog=EPILOG)(convolve)
