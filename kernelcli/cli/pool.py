"""``kernelcli pool``: max, min or average pooling, exactly as PyTorch's; one file or many."""

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

  kernelcli pool samples/example5.csv --op max --size 2

  kernelcli pool samples/phantom.png --op avg --size 3 --stride 2 --padding 1 --ceil --out small.png

  kernelcli pool scans/ --recursive --size 2 --out-dir pooled --format tif --report pooled.json
"""


@guarded
@piped
def pool(
    input: InputsArgument,
    size: Annotated[int, typer.Option("--size", "-f", min=1, help="Window side f.", show_default=False)],
    op: Annotated[str, typer.Option(help="max, min or avg.")] = "max",
    stride: Annotated[Optional[int], typer.Option(min=1, help="Step between windows (default: the size).", show_default=False)] = None,
    padding: Annotated[int, typer.Option(min=0, help="Virtual cells on every side (at most size // 2); they never win a max/min.")] = 0,
    ceil: Annotated[bool, typer.Option("--ceil", help="Round the output size up (PyTorch's ceil_mode).")] = False,
    exclude_pad: Annotated[bool, typer.Option("--exclude-pad", help="avg: divide by the real cells only (PyTorch count_include_pad=False).")] = False,
    rescale: Annotated[Optional[str], typer.Option(help="clip (default), abs, minmax or none, for integer outputs.", show_default=False)] = None,
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
    """Pool each channel of an image or matrix (stride defaults to the size, as in the lecture).

    Several inputs, folders or quoted patterns are processed in parallel into --out-dir."""
    from functools import partial

    from ..jobs import pool_file
    from ..layout import canonical_layout
    from ..modes import canonical_pool_op, canonical_rescale

    op = canonical_pool_op(op)
    if len(input) == 1 and out_dir is None:
        from ..volume_inputs import is_volume_input

        if is_volume_input(input[0]):  # NIfTI or DICOM: pooled in 3-D, as max_pool3d/avg_pool3d
            from ..layout import check_volume_layout

            check_volume_layout(layout, str(input[0]))
            from ..medical import pool_volume_file
            from ._common import render_report

            report_ = pool_volume_file(input[0], size, op=op, stride=stride, padding=padding, ceil_mode=ceil,
                                       count_include_pad=not exclude_pad, out=out, force=force)
            render_report(report_, json_out=json_out, quiet=quiet)
            return
    job = partial(
        pool_file, size=size, op=op, stride=stride, padding=padding, ceil_mode=ceil, count_include_pad=not exclude_pad,
        force=force, rescale=canonical_rescale(rescale) if rescale else None, max_pixels=max_pixels,
        layout=canonical_layout(layout),
        paths=CLI_PATHS,
    )
    run_inputs(
        input, job, label=f"{op}pool{size}", out=out, force=force, json_out=json_out, quiet=quiet,
        options=BatchOptions(out_dir, suffix, fmt, recursive, workers, report),
    )


def register(app: typer.Typer) -> None:
    """Add ``pool`` to the app."""
    app.command("pool", epilog=EPILOG)(pool)
