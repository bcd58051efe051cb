"""``kernelcli pad``: pad an image or matrix, every channel, with any pad mode."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ._common import guarded, output_for, render_report

EPILOG = """Examples:

  kernelcli pad samples/example2.csv --p 1

  kernelcli pad samples/phantom.png --p 16 --mode reflect --out padded.png

  kernelcli pad samples/example1.csv --p 0,0,2,2 --mode circular --json
"""


@guarded
def pad(
    input: Annotated[Path, typer.Argument(help="Image (PNG, JPEG, TIFF, BMP), .npy array or .csv/.txt matrix.", show_default=False)],
    p: Annotated[str, typer.Option("--p", help="Pad width P on every side, or T,B,L,R.", show_default=False)],
    mode: Annotated[str, typer.Option(help="constant, replicate, reflect, symmetric or circular (aliases: zero, edge, mirror, wrap...).")] = "constant",
    value: Annotated[float, typer.Option(help="Fill value for --mode constant.")] = 0.0,
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="Output path; the extension picks the format.", show_default=False)] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing output.")] = False,
    json_out: Annotated[bool, typer.Option("--json", help="Print one JSON document with the facts (and the matrix for matrix inputs).")] = False,
    max_pixels: Annotated[Optional[int], typer.Option(min=1, help="Refuse images with more pixels.", show_default=False)] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No summary or notes on stderr.")] = False,
) -> None:
    """Pad an image or matrix (the same pad modes as convolve; wider than the input works
    the way numpy.pad does). The result keeps the input's dtype and bit depth."""
    from ..jobs import pad_file
    from ..modes import canonical_pad_mode
    from ..shapes import parse_padding

    widths = parse_padding(p)
    if isinstance(widths, str):
        from ..errors import UsageError

        raise UsageError(f"--p {p!r}: expected P or T,B,L,R (same/valid are for convolve)")
    mode = canonical_pad_mode(mode)
    report = pad_file(input, widths, mode=mode, value=value, out=output_for(input, out, f"pad_{mode}"), force=force, max_pixels=max_pixels)
    render_report(report, json_out=json_out, quiet=quiet)


def register(app: typer.Typer) -> None:
    """Add ``pad`` to the app."""
    app.command("pad", epilog=EPILOG)(pad)
