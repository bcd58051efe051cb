"""``kernelcli pool``: max, min or average pooling, exactly as PyTorch's."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ._common import guarded, output_for, render_report

EPILOG = """Examples:

  kernelcli pool samples/example5.csv --op max --size 2

  kernelcli pool samples/phantom.png --op avg --size 3 --stride 2 --padding 1 --ceil --out small.png
"""


@guarded
def pool(
    input: Annotated[Path, typer.Argument(help="Image (PNG, JPEG, TIFF, BMP), .npy array or .csv/.txt matrix.", show_default=False)],
    size: Annotated[int, typer.Option("--size", "-f", min=1, help="Window side f.", show_default=False)],
    op: Annotated[str, typer.Option(help="max, min or avg.")] = "max",
    stride: Annotated[Optional[int], typer.Option(min=1, help="Step between windows (default: the size).", show_default=False)] = None,
    padding: Annotated[int, typer.Option(min=0, help="Virtual cells on every side (at most size // 2); they never win a max/min.")] = 0,
    ceil: Annotated[bool, typer.Option("--ceil", help="Round the output size up (PyTorch's ceil_mode).")] = False,
    exclude_pad: Annotated[bool, typer.Option("--exclude-pad", help="avg: divide by the real cells only (PyTorch count_include_pad=False).")] = False,
    rescale: Annotated[Optional[str], typer.Option(help="clip (default), abs, minmax or none, for integer outputs.", show_default=False)] = None,
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="Output path; the extension picks the format.", show_default=False)] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing output.")] = False,
    json_out: Annotated[bool, typer.Option("--json", help="Print one JSON document with the facts (and the matrix for matrix inputs).")] = False,
    max_pixels: Annotated[Optional[int], typer.Option(min=1, help="Refuse images with more pixels.", show_default=False)] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No summary or notes on stderr.")] = False,
) -> None:
    """Pool each channel of an image or matrix (stride defaults to the size, as in the lecture)."""
    from ..jobs import pool_file
    from ..modes import canonical_pool_op, canonical_rescale

    op = canonical_pool_op(op)
    report = pool_file(
        input, size, op=op, stride=stride, padding=padding, ceil_mode=ceil, count_include_pad=not exclude_pad,
        out=output_for(input, out, f"{op}pool{size}"), force=force,
        rescale=canonical_rescale(rescale) if rescale else None, max_pixels=max_pixels,
    )
    render_report(report, json_out=json_out, quiet=quiet)


def register(app: typer.Typer) -> None:
    """Add ``pool`` to the app."""
    app.command("pool", epilog=EPILOG)(pool)
