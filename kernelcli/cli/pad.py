"""``kernelcli pad``: pad an image or matrix, every channel, with any pad mode; one file or many."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ._batch import (
    BatchOptions,
    FormatOption,
    InputsArgument,
    OutDirOption,
    RecursiveOption,
    ReportOption,
    SuffixOption,
    WorkersOption,
    run_inputs,
)
from .semantics_options import LayoutOption
from ._stdio import piped
from ._common import CLI_PATHS, guarded

EPILOG = """Examples:

  kernelcli pad samples/example2.csv --p 1

  kernelcli pad samples/phantom.png --p 16 --mode reflect --out padded.png

  kernelcli pad samples/example1.csv --p 0,0,2,2 --mode circular --json

  kernelcli pad 'scans/**/*.png' --p 8 --mode reflect --out-dir padded --workers 4
"""


@guarded
@piped
def pad(
    input: InputsArgument,
    p: Annotated[str, typer.Option("--p", help="Pad width P on every side, or T,B,L,R.", show_default=False)],
    mode: Annotated[str, typer.Option(help="constant, replicate, reflect, symmetric or circular (aliases: zero, edge, mirror, wrap...).")] = "constant",
    value: Annotated[float, typer.Option(help="Fill value for --mode constant.")] = 0.0,
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="Output path for one input; the extension picks the format.", show_default=False)] = None,
    layout: LayoutOption = None,
    out_dir: OutDirOption = None,
    suffix: SuffixOption = None,
    fmt: FormatOption = None,
    recursive: RecursiveOption = False,
    workers: WorkersOption = None,
    report: ReportOption = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite existing outputs.")] = False,
    json_out: Annotated[bool, typer.Option("--json", help="Print one JSON document with the facts (and the matrix for matrix inputs).")] = False,
    max_pixels: Annotated[Optional[int], typer.Option(min=1, help="Refuse images with more pixels.", show_default=False)] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress, summary or notes on stderr.")] = False,
) -> None:
    """Pad an image or matrix (the same pad modes as convolve; wider than the input works
    the way numpy.pad does). The result keeps the input's dtype and bit depth.

    Several inputs, folders or quoted patterns are processed in parallel into --out-dir."""
    from functools import partial

    from ..errors import UsageError
    from ..jobs import pad_file
    from ..layout import canonical_layout
    from ..modes import canonical_pad_mode
    from ..shapes import parse_padding

    widths = parse_padding(p)
    if isinstance(widths, str):
        raise UsageError(f"--p {p!r}: expected P or T,B,L,R (same/valid are for convolve)")
    mode = canonical_pad_mode(mode)
    job = partial(pad_file, widths=widths, mode=mode, value=value, force=force, max_pixels=max_pixels, layout=canonical_layout(layout),
                  paths=CLI_PATHS)
    run_inputs(
        input, job, label=f"pad_{mode}", out=out, force=force, json_out=json_out, quiet=quiet,
        options=BatchOptions(out_dir, suffix, fmt, recursive, workers, report),
    )


def register(app: typer.Typer) -> None:
    """Add ``pad`` to the app."""
    app.command("pad", epilog=EPILOG)(pad)
