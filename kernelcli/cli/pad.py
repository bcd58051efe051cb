"""``kernelcli pad``: pad an image or matrix, every channel, with any pad mode; one file or many."""

from __future__ import annotations

from typing import Annotated, Any

from ._batch import BatchOptions, refuse_tiled_with_out_dir, run_inputs
from .options import (
    CompressOption,
    ForceOption,
    FormatOption,
    ImageInputsArgument,
    JsonOption,
    LayoutOption,
    MaxPixelsOption,
    OutDirOption,
    OutOption,
    PadModeOption,
    PadValueOption,
    QualityOption,
    QuietOption,
    RecursiveOption,
    ReportOption,
    SuffixOption,
    WorkersOption,
    TiledOption,
    ChunksOption,
    SchedulerOption,
    option,
)
from ._early import starts_early
from ._stdio import image_output_check, piped
from ._tiled import check_tiled_before_stdin, run_single, single_tiled
from ._common import cli_paths, guarded

EPILOG = """\b
Examples:
  kernelcli pad samples/example2.csv -p 1
  kernelcli pad samples/phantom.png --padding 16 --pad-mode reflect --out padded.png
  kernelcli pad samples/example1.csv -p 0,0,2,2 -m circular --json
  kernelcli pad 'scans/**/*.png' -p 8 -m reflect --out-dir padded --workers 4
"""


@guarded
@piped(before=lambda kwargs: _before_stdin(**kwargs))
@starts_early
def pad(
    input: ImageInputsArgument,
    padding: Annotated[str, option("padding", metavar="P|T,B,L,R", help="Pad width P on every side, or T,B,L,R (same is convolve's; valid (no padding) is convolve's and pool's); a --layout zyx array is padded slice by slice: "
                                    "Y and X, not Z.", show_default=False)],
    pad_mode: PadModeOption = None,
    pad_value: PadValueOption = None,
    out: OutOption = None,
    layout: LayoutOption = None,
    tiled: TiledOption = False,
    chunks: ChunksOption = None,
    scheduler: SchedulerOption = None,
    out_dir: OutDirOption = None,
    suffix: SuffixOption = None,
    fmt: FormatOption = None,
    quality: QualityOption = None,
    compress: CompressOption = None,
    recursive: RecursiveOption = False,
    workers: WorkersOption = None,
    report: ReportOption = None,
    force: ForceOption = False,
    json_out: JsonOption = False,
    max_pixels: MaxPixelsOption = None,
    quiet: QuietOption = False,
) -> None:
    """Pad an image or matrix (the same pad modes as convolve; wider than the input works
    the way numpy.pad does). The result keeps the input's dtype and bit depth.

    Several inputs, folders or quoted patterns are processed in parallel into --out-dir."""
    from functools import partial

    from ..io.image_writing import Encoding
    from ..jobs import pad_file
    from ..layout import canonical_layout
    from ..modes import canonical_pad_mode, check_fill_reading, unused_border, unused_fill
    from ..result_names import pad_label
    from ._common import call_note

    widths = pad_widths(padding, layout)
    mode = canonical_pad_mode(pad_mode or "constant")
    check_fill_reading(pad_mode, pad_value)
    if said := unused_fill(pad_value, mode):  # (None: not given; a 0 given is named too)
        call_note(said, quiet=quiet)
    if said := unused_border(widths, padding, pad_mode is not None, pad_value is not None):  # (-p 0)
        call_note(said, quiet=quiet)
    pad_value = 0.0 if pad_value is None else pad_value
    label = pad_label(widths, mode, pad_value)
    refuse_tiled_with_out_dir(input, out, out_dir, tiled=tiled, chunks=chunks)  # (-d 2 is --out-dir: one input is no batch)
    # a volume is refused before the tiled path looks at it: 'pad p3.nii -o w3.zarr' said "the tiled path reads Zarr
    # stores, TIFF and .npy", not that pad takes no volume
    if len(input) == 1 and out_dir is None:
        from ..volume_inputs import is_volume_input

        if is_volume_input(input[0]):
            refuse_volume(input[0])
    from ..io.common import PAD

    big = single_tiled(input, out_dir, out, tiled=tiled, chunks=chunks, scheduler=scheduler, need=PAD)
    if big is not None:
        def build(x, tile):
            from ..jobs import check_pad_value
            from ..tiled import arrays

            check_pad_value(pad_value, x.dtype, mode)  # in the option's words, as in memory
            return arrays.pad2d(x, widths, pad_mode=mode, pad_value=pad_value, chunks=tile)

        run_single(big, label, build, out=out, force=force, rescale=None, layout=canonical_layout(layout),
                   chunks=chunks, scheduler=scheduler, workers=workers, json_out=json_out, quiet=quiet, report_file=report, fmt=fmt,
                   name=suffix, encoding=Encoding(quality=quality, compress=compress), max_pixels=max_pixels)
        return
    job = partial(pad_file, widths=widths, mode=mode, value=pad_value, force=force, max_pixels=max_pixels, layout=canonical_layout(layout),
                  paths=cli_paths(), encoding=Encoding(quality=quality, compress=compress))
    if out_dir is not None:  # a volume among several inputs fails alone, saying so ("unsupported output type '.gz'")
        from ..batch_kinds import by_kind

        job = partial(by_kind, image_job=job, volume_job=refuse_volume)
    run_inputs(
        input, job, label=label, out=out, force=force, json_out=json_out, quiet=quiet,
        options=BatchOptions(out_dir, suffix, fmt, recursive, workers, report, scheduler),
    )


def pad_widths(padding: str, layout: str | None = None) -> Any:
    """``--padding`` of pad: P or T,B,L,R (exit 2 for anything else, ``same`` and ``valid`` too); a ``--layout zyx``
    array is padded slice by slice, so three or six widths (Z's too) are refused saying so.

    >>> pad_widths("1"), pad_widths("1,2,0,3")
    (1, (1, 2, 0, 3))
    """
    from ..layout import canonical_layout
    from ..shapes import parse_padding
    from ..whole_numbers import refused_value

    forms = "P or T,B,L,R in whole numbers (same is convolve's; valid (no padding) is convolve's and pool's)"
    widths = parse_padding(padding, forms=forms, volume=canonical_layout(layout) == "zyx")
    if isinstance(widths, str):  # (in the one form of a value the option refuses, as 'abc' is)
        raise refused_value("--padding", padding, f"expected {forms}")
    if isinstance(widths, tuple) and len(widths) in (3, 6):  # (taken above only to say this)
        raise refused_value("--padding", padding, "pad pads a --layout zyx array slice by slice, the Y and X sides of each "
                            "(Z is not padded): it takes P or T,B,L,R")
    return widths


def _before_stdin(*, padding, pad_mode=None, pad_value=None, layout=None, quality=None, compress=None, out=None, force=False,
                  tiled=False, chunks=None, scheduler=None, **_: Any) -> Any:
    """``pad -``'s checks that need no pixel, in the body's order for an image file, before stdin is read
    (:func:`kernelcli.cli._stdio.piped`); returns the check of ``--out``, which a file's call makes before reading it."""
    from ..io.image_writing import Encoding
    from ..layout import canonical_layout
    from ..modes import canonical_pad_mode, check_fill_reading

    pad_widths(padding, layout)
    check_fill_reading(canonical_pad_mode(pad_mode or "constant"), pad_value)
    canonical_layout(layout)
    Encoding(quality=quality, compress=compress)
    check_tiled_before_stdin(out, tiled=tiled, chunks=chunks, scheduler=scheduler)
    return image_output_check(out, force)


def refuse_volume(path: Any, out: Any = None) -> None:
    """Refuse a volume input (exit 2), alone or as one file of a batch: pad takes images and arrays (a DICOM
    series folder would otherwise read as "a directory", a ``.nii.gz`` as an unsupported output type)."""
    from ..volume_inputs import refuse_volume_input

    refuse_volume_input(path, "pad", "convolve and volume pad a volume as they filter it: --pad-mode")


def register(app: Any) -> None:
    """Add ``pad`` to the app."""
    app.command("pad", epilog=EPILOG)(pad)
