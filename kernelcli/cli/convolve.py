"""``kernelcli convolve``: one input, one kernel, one result."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ._common import guarded, output_for, render_report

EPILOG = """Examples:

  kernelcli convolve samples/phantom.png --kernel sobel_v --rescale abs

  kernelcli convolve samples/example1.csv --kernel prewitt_v --padding valid

  kernelcli convolve scan.png --kernel gaussian:2 --pad-mode reflect --out smooth.png
"""


@guarded
def convolve(
    input: Annotated[Path, typer.Argument(help="Image (PNG, JPEG, TIFF, BMP), .npy array or .csv/.txt matrix.", show_default=False)],
    kernel: Annotated[str, typer.Option("--kernel", "-k", help="Catalogue name (see `kernelcli kernels`), a JSON file, gaussian:SIGMA or box:N.", show_default=False)],
    stride: Annotated[int, typer.Option(min=1, help="Step between windows.")] = 1,
    padding: Annotated[str, typer.Option(help="same, valid, P, or T,B,L,R.")] = "same",
    pad_mode: Annotated[str, typer.Option(help="constant, replicate, reflect, symmetric or circular (aliases: zero, edge, mirror, wrap...).")] = "constant",
    pad_value: Annotated[float, typer.Option(help="Fill value for --pad-mode constant.")] = 0.0,
    dilation: Annotated[int, typer.Option(min=1, help="Spacing between kernel taps.")] = 1,
    flip: Annotated[bool, typer.Option("--flip", help="True convolution (flip the kernel); the default is cross-correlation, as in PyTorch.")] = False,
    rescale: Annotated[Optional[str], typer.Option(help="Map results to the output's integer range: clip (default), abs, minmax, or none (float outputs only).", show_default=False)] = None,
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="Output path; the extension picks the format (.png .jpg .tif .bmp .npy .csv).", show_default=False)] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing output.")] = False,
    json_out: Annotated[bool, typer.Option("--json", help="Print one JSON document with the facts (and the matrix for matrix inputs).")] = False,
    max_pixels: Annotated[Optional[int], typer.Option(min=1, help="Refuse images with more pixels (decompression-bomb guard).", show_default=False)] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No summary or notes on stderr.")] = False,
) -> None:
    """Convolve an image or matrix with a kernel (cross-correlation, as in deep learning).

    A matrix input prints its result on stdout unless --out is given; an image input is
    written as <stem>_<kernel>.<ext> in the current folder unless --out is given.
    """
    from ..catalog import load_kernel
    from ..jobs import ConvolveOptions, convolve_file
    from ..shapes import parse_padding

    options = ConvolveOptions(
        stride=stride, padding=parse_padding(padding), pad_mode=pad_mode, pad_value=pad_value,
        dilation=dilation, flip=flip, rescale=rescale, max_pixels=max_pixels,
    )
    k = load_kernel(kernel)
    report = convolve_file(input, k, options, out=output_for(input, out, k.name), force=force)
    render_report(report, json_out=json_out, quiet=quiet)


def register(app: typer.Typer) -> None:
    """Add ``convolve`` to the app."""
    app.command("convolve", epilog=EPILOG)(convolve)
