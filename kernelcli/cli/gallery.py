"""``kernelcli gallery``: every catalogue kernel (or one family) applied to one image, as one sheet."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from ..modes import SHEET_FORMATS_TEXT
from ._common import cli_paths, guarded
from ._lines import shown
from ._report import render_report
from ._stdio import piped
from .option_values import complete_family
from .options import (
    CompressOption,
    ForceOption,
    ImageInputArgument,
    JsonOption,
    LayoutOption,
    MaxPixelsOption,
    PadModeOption,
    PadValueOption,
    QualityOption,
    QuietOption,
    option,
)

EPILOG = """\b
Examples:
  kernelcli gallery samples/phantom.png --out sheet.png
  kernelcli gallery samples/phantom.png --family edge
  kernelcli gallery samples/rgb.png --family edge --out edges.png --force
"""


@guarded
@piped(out_format="png", before=lambda kwargs: _before_stdin(**kwargs))
def gallery(
    input: ImageInputArgument,
    out: Annotated[Optional[Path], option("out", help=f"The sheet to write ({SHEET_FORMATS_TEXT}); - writes a PNG to "
                                          "stdout.  [default: <stem>_gallery.png, <stem>_gallery_<family>.png with --family]",
                                          show_default=False)] = None,
    family: Annotated[Optional[str], option("family", show_default=False, autocompletion=complete_family)] = None,
    pad_mode: PadModeOption = None,
    pad_value: PadValueOption = None,
    tile: Annotated[int, option("tile", min=16, max=1024)] = 192,
    quality: QualityOption = None,
    compress: CompressOption = None,
    force: ForceOption = False,
    json_out: JsonOption = False,
    max_pixels: MaxPixelsOption = None,
    layout: LayoutOption = None,
    quiet: QuietOption = False,
) -> None:
    """Apply every catalogue kernel to one image and draw the results as one labelled sheet.

    The input is on the left; each kernel's result ("same" padding, cross-correlation,
    each channel filtered alone: a colour tile for an RGB image) is stretched from its
    own minimum (black) to its own maximum (white), a colour tile's three maps together
    (from the lowest minimum to the highest maximum), and labelled with its name, family,
    size and range.
    """
    from ..batch_patterns import refuse_unmatched
    from ..io.image_writing import Encoding
    from ..jobs_gallery import gallery_file
    from ..modes import check_fill_reading, unused_fill
    from ..tiled.stores import refuse_store_input
    from ..volume_inputs import refuse_volume_input
    from ._batch import run_reported
    from ._common import call_note

    from ..tiled.urls import refuse_url

    refuse_url(input, "gallery reads a local file")  # (its folded spelling 's3:/b/in.png' was "no such file")
    refuse_unmatched([input], one_file="gallery")  # ('nosuch*.png' was "no such file", where convolve names the pattern)
    refuse_volume_input(input, "gallery")  # ("unsupported file type '.gz'" named no volume)
    refuse_store_input(input, "gallery")  # ("not a regular file (a directory)" named no store)
    check_fill_reading(pad_mode, pad_value)
    if said := unused_fill(pad_value, pad_mode):
        call_note(said, quiet=quiet)
    if out is None:  # as every other file command: a default name in the current folder ('Missing option --out' before)
        out = sheet_name(input, family)

    fill = 0.0 if pad_value is None else pad_value  # (None when not given: a 0 given with another mode is named too)
    report = run_reported(input, lambda: gallery_file(  # (seconds: the whole call's, as every command's record)
        input, out=out, family=family, pad_mode=pad_mode or "constant", pad_value=fill, tile=tile, force=force, max_pixels=max_pixels,
        layout=layout, paths=cli_paths(), encoding=Encoding(quality=quality, compress=compress),
        shown_name=shown(Path(input).name)), outputs=[out], report=None, force=force)  # title: 'stdin', not its stand-in
    render_report(report, json_out=json_out, quiet=quiet)


def sheet_name(input: Path, family: Optional[str]) -> Path:
    """The sheet's default name: ``<stem>_gallery.png``, ``<stem>_gallery_<family>.png`` with ``--family``, the family
    as the catalogue spells it (as convolve -k Sobel-V writes sobel_v: My-Edges and my_edges, one name;
    ``stdin_gallery.png`` for a piped input, whatever its format).

    >>> sheet_name(Path("scans/ct.png"), "Edge"), sheet_name(Path("-"), None)
    (PosixPath('ct_gallery_edge.png'), PosixPath('stdin_gallery.png'))
    """
    from ..catalog import family_name
    from ..io.naming import default_output
    from ..io.pipes import is_stdio

    return default_output(Path("stdin") if is_stdio(input) else Path(input),
                          f"gallery_{family_name(family)}" if family else "gallery", fmt="png")


def _before_stdin(*, input, out=None, family=None, force=False, pad_mode=None, pad_value=None, **_: Any) -> Any:
    """``gallery -``'s checks that need no pixel, in the body's order (the fill's reading, the family), and its check
    of the sheet's path (named by ``--out`` or by default), which a file's call makes before reading the file, returned
    to be made before stdin is read (:func:`kernelcli.cli._stdio.piped`)."""
    from functools import partial

    from ..catalog import list_kernels
    from ..io.pipes import is_stdio
    from ..jobs_gallery import check_sheet_output
    from ..modes import check_fill_reading

    check_fill_reading(pad_mode, pad_value)
    list_kernels(family)  # (an unknown family before the sheet, as gallery_file checks them)
    if is_stdio(out):
        return None
    return partial(check_sheet_output, out if out is not None else sheet_name(input, family), force=force)


def register(app: typer.Typer) -> None:
    """Add ``gallery`` to the app."""
    app.command("gallery", epilog=EPILOG)(gallery)
