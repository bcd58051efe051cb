"""``kernelcli pool``: max, min or average pooling, exactly as PyTorch's; one file or many."""

from __future__ import annotations

from typing import Annotated, Any, Optional

from ._batch import (BatchOptions, chosen_output, note_one_input, one_volume, run_batch, run_inputs, refuse_tiled_with_out_dir,
                     run_reported)
from ._batch_found import refuse_batch_without_out_dir, unfound_said
from ..batch_kinds import by_kind, input_kinds, refuse_what_no_kind_takes
from .options import (
    SIDE_RANGE,
    AffineOption,
    CompressOption,
    ForceOption,
    FormatOption,
    InputsArgument,
    JsonOption,
    LayoutOption,
    MaxPixelsOption,
    OutDirOption,
    OutOption,
    PoolAxisOption,
    QualityOption,
    QuietOption,
    RecursiveOption,
    ReportOption,
    RescaleOption,
    SuffixOption,
    WindowOption,
    WorkersOption,
    TiledOption,
    ChunksOption,
    SchedulerOption,
    option,
)
from ._early import starts_early
from .option_values import pool_side


from ._stdio import image_output_check, piped
from ._tiled import check_tiled_before_stdin, run_single, single_tiled
from ._common import cli_paths, guarded

EPILOG = """\b
Examples:
  kernelcli pool samples/example5.csv --op max --size 2
  kernelcli pool samples/phantom.png --op avg -f 3 -s 2 -p 1 --ceil --out small.png
  kernelcli pool scans/ --recursive --size 2 --out-dir pooled --format tif --report pooled.json
"""


@guarded
@piped(before=lambda kwargs: _before_stdin(**kwargs))
@starts_early
def pool(
    input: InputsArgument,
    size: Annotated[int, option("size", parser=pool_side, metavar="F|FxF|FxFxF", extra=SIDE_RANGE, show_default=False)],
    op: Annotated[str, option("pool_op")] = "max",
    stride: Annotated[Optional[int], option("stride", min=1, extra="[default: the size]", show_default=False)] = None,
    padding: Annotated[str, option("padding", metavar="valid|P", help=POOL_PADDING_HELP)] = "valid",
    ceil: Annotated[bool, option("ceil")] = False,
    exclude_pad: Annotated[bool, option("exclude_pad")] = False,
    rescale: RescaleOption = None,
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
    window: WindowOption = None,
    axis: PoolAxisOption = None,
    volume_index: Annotated[Optional[int], option("volume_index", min=0, extra="By default every volume is pooled.",
                                                  show_default=False)] = None,
    series: Annotated[Optional[str], option("series", show_default=False)] = None,
    resample_slices: Annotated[bool, option("resample_slices")] = False,
    affine: AffineOption = None,
    quiet: QuietOption = False,
) -> None:
    """Pool each channel of an image or matrix (stride defaults to the size, as in the lecture).

    Several inputs, folders or quoted patterns are processed in parallel into --out-dir."""
    from functools import partial

    from ..io.image_writing import Encoding
    from ..jobs import pool_file
    from ..layout import canonical_layout
    from ..modes import canonical_pool_op, canonical_rescale, exclude_pad_matters
    from ..result_names import pool_label

    op = canonical_pool_op(op)
    refuse_tiled_with_out_dir(input, out, out_dir, tiled=tiled, chunks=chunks)  # (-d 2 is --out-dir: one input is no batch)
    volume = one_volume(input, out_dir)  # (a volume file is pooled in 3-D: its --padding refused in 3-D's words)
    one = input[0] if len(input) == 1 and out_dir is None and str(input[0]) != "-" else None
    padding_text, padding = padding, pool_padding(padding, size, in_3d=volume or canonical_layout(layout) == "zyx", src=one)
    label = pool_label(op, size, stride, padding, ceil, exclude_pad)
    if exclude_pad and not exclude_pad_matters(op, padding):
        from ._common import call_note

        why = f"{op} pooling" if op != "avg" else "no padding"
        call_note(f"--exclude-pad changes only averages of windows over padding; with {why} it changes nothing", quiet=quiet)
    # for images and arrays alone: a volume given one is refused, naming it (as by convolve)
    image_only = {"--rescale": rescale, "--max-pixels": max_pixels, "--quality": quality, "--compress": compress}
    if volume:
        from ..medical.writers import refuse_volume_url
        from ..tiled import nifti as tiled_nifti
        from ..volume_inputs import refuse_image_options

        refuse_volume_url(out)  # (a URL sent it down the image's tiled path: 'p3.nii: the tiled path reads Zarr stores, ...')
        refuse_image_options(input[0], image_only, command="pool")
        from ..medical.pooling import pool_job_bytes

        # (the in-memory run's own guard: tile by tile where it would refuse)
        job_bytes = pool_job_bytes(size, op=op, stride=stride, padding=padding, ceil_mode=ceil)
        if tiled_nifti.wanted(input[0], tiled=tiled, chunks=chunks, scheduler=scheduler, out=out, job_bytes=job_bytes):
            _pool_volume_tiled(input[0], size, op=op, stride=stride, padding=padding, ceil=ceil, exclude_pad=exclude_pad,
                               window=window, axis=axis, volume_index=volume_index, series=series,
                               resample_slices=resample_slices, affine=affine, out=out, force=force, chunks=chunks,
                               scheduler=scheduler, workers=workers, json_out=json_out, quiet=quiet, report_file=report,
                               name=suffix, fmt=fmt)
            return
    from ..io.common import pool_need

    big = single_tiled(input, out_dir, out, tiled=tiled, chunks=chunks, scheduler=scheduler,
                       need=pool_need(op, size, stride, padding))
    if big is not None:
        def build(x, tile):
            from ..shapes import refuse_cube_in_2d
            from ..tiled import arrays

            refuse_cube_in_2d(size, str(big), zyx_taken=x.ndim == 3 and big.suffix.lower() not in (".tif", ".tiff"))
            return arrays.pool2d(x, size, stride=stride, op=op, padding=padding, ceil_mode=ceil,
                                 count_include_pad=not exclude_pad, chunks=tile, paths=cli_paths(), screened=True)

        def volume_build(x, tile):  # (a store whose axes say Z, Y, X: pooled in 3-D without --layout zyx)
            from ..tiled import arrays

            pool_padding(padding_text, in_3d=True, src=big)
            from ..medical.pooling import check_slices

            check_slices(big, x.shape, size, padding, stride=stride, ceil_mode=ceil, array=True)
            return arrays.pool3d(x, size, stride=stride, op=op, padding=padding, ceil_mode=ceil, count_include_pad=not exclude_pad, chunks=tile, paths=cli_paths(),
                                 screened=True)

        run_single(big, label, build, out=out, force=force, rescale=canonical_rescale(rescale) if rescale else None,
                   layout=canonical_layout(layout), chunks=chunks, scheduler=scheduler, workers=workers, json_out=json_out,
                   quiet=quiet, volume_build=volume_build, report_file=report, fmt=fmt, name=suffix,
                   encoding=Encoding(quality=quality, compress=compress), max_pixels=max_pixels)
        return
    if volume:  # NIfTI or DICOM: pooled in 3-D, as max_pool3d/avg_pool3d
        from ..layout import check_volume_layout

        check_volume_layout(layout, str(input[0]))
        from ..medical import VolumeOptions, parse_window, pool_volume_file
        from ._report import render_report

        options = VolumeOptions(window=parse_window(window) if window is not None else None, volume=volume_index,
                                series=series, resample_slices=resample_slices, affine=affine, axis=axis, paths=cli_paths())
        note_one_input(BatchOptions(suffix=suffix, recursive=recursive, workers=workers), quiet=quiet, out=out)
        target = _volume_target(input[0], out, size, options, op=op, stride=stride, padding=padding, ceil=ceil,
                                exclude_pad=exclude_pad, name=suffix, fmt=fmt)
        report_ = run_reported(input[0], partial(pool_volume_file, input[0], size, op=op, stride=stride, padding=padding,
                                                 ceil_mode=ceil, count_include_pad=not exclude_pad, out=out, force=force,
                                                 options=options, name=suffix, fmt=fmt, zarr_offered=True, words="cli"),
                               outputs=[target], report=report, force=force)
        render_report(report_, json_out=json_out, quiet=quiet)
        return
    image_job = partial(
        pool_file, size=size, op=op, stride=stride, padding=padding, ceil_mode=ceil, count_include_pad=not exclude_pad,
        force=force, rescale=canonical_rescale(rescale) if rescale else None, max_pixels=max_pixels,
        layout=canonical_layout(layout),
        paths=cli_paths(), encoding=Encoding(quality=quality, compress=compress),
    )
    # (an image given one is refused; in a batch, it fails alone)
    volume_only = _volume_only(window=window, axis=axis, volume_index=volume_index, series=series,
                               resample_slices=resample_slices, affine=affine)
    from ..volume_inputs import refuse_volume_options

    with unfound_said(input, BatchOptions(out_dir, report=report), force=force, json_out=json_out, quiet=quiet):
        kinds = input_kinds(input, recursive) if out_dir is not None else None
    if kinds is not None and kinds.volumes:  # each volume pooled in 3-D into a volume
        from ..medical import VolumeOptions, parse_window

        if not kinds.images:  # every input pooled in 3-D: an option none of them takes is refused once (exit 2)
            pool_padding(padding_text, in_3d=True)
        refuse_what_no_kind_takes(kinds, images=lambda src: refuse_volume_options([src], volume_only),
                                  volumes=partial(_volume_checks, image_only=image_only, layout=layout, fmt=fmt))

        options = VolumeOptions(window=parse_window(window) if window is not None else None, volume=volume_index,
                                series=series, resample_slices=resample_slices, affine=affine, axis=axis, paths=cli_paths())
        volume_job = partial(_pool_volume_file, padding_text=padding_text, layout=layout, size=size, op=op, stride=stride, padding=padding,
                             ceil_mode=ceil, count_include_pad=not exclude_pad, force=force, options=options,
                             words="cli")
        from ..medical.views import is_png_output

        run_batch(input, partial(by_kind, image_job=image_job, volume_job=volume_job, image_options=image_only,
                                 volume_options=volume_only, command="pool"), label=label,
                  options=BatchOptions(out_dir, suffix, fmt, recursive, workers, report, scheduler),
                  out=out, force=force, json_out=json_out, quiet=quiet,
                  volume_label=options.label(label, png=is_png_output(None, fmt)))  # as one volume alone
        return
    refuse_batch_without_out_dir(input, BatchOptions(out_dir, recursive=recursive, scheduler=scheduler), out=out, quiet=quiet,
                                 tiled=tiled, chunks=chunks)
    refuse_volume_options(input, volume_only, out_dir=out_dir)
    run_inputs(
        input, image_job, label=label, out=out, force=force, json_out=json_out, quiet=quiet,
        options=BatchOptions(out_dir, suffix, fmt, recursive, workers, report, scheduler),
    )


def _volume_only(*, window, axis, volume_index, series, resample_slices, affine) -> dict[str, Any]:
    """The options only volumes take, by name (an image given one is refused; in a batch, it fails alone)."""
    return {"--window": window, "--axis": axis, "--volume": volume_index, "--series": series,
            "--resample-slices": resample_slices, "--affine": affine}


def _before_stdin(*, input, size, op="max", padding="valid", rescale=None, layout=None, quality=None, compress=None, out=None,
                  force=False, window=None, axis=None, volume_index=None, series=None, resample_slices=False, affine=None,
                  tiled=False, chunks=None, scheduler=None, **_: Any) -> Any:
    """``pool -``'s checks that need no pixel, in the body's order for an image file, before stdin is read
    (:func:`kernelcli.cli._stdio.piped`); returns the check of ``--out``, which a file's call makes before reading it."""
    from ..io.image_writing import Encoding
    from ..layout import canonical_layout
    from ..modes import canonical_pool_op, canonical_rescale
    from ..volume_inputs import refuse_volume_options

    canonical_pool_op(op)
    pool_padding(padding, size, in_3d=canonical_layout(layout) == "zyx")
    if rescale:
        canonical_rescale(rescale)
    canonical_layout(layout)
    Encoding(quality=quality, compress=compress)
    refuse_volume_options(input, _volume_only(window=window, axis=axis, volume_index=volume_index, series=series,
                                              resample_slices=resample_slices, affine=affine))
    check_tiled_before_stdin(out, tiled=tiled, chunks=chunks, scheduler=scheduler)
    return image_output_check(out, force)


POOL_PADDING_HELP = (
    "valid (none) or P: P virtual cells on every side, which never win a max/min (at most size // 2, as PyTorch); "
    "T,B,L,R with four equal values is P on an image (a volume pooled in 3-D takes P alone: all six sides). "
    "same and unequal sides are refused."
)


def pool_padding(text: str, size: int | None = None, *, in_3d: bool = False, src: Any = None) -> int:
    """The one padding width pooling takes: ``valid`` (0), ``P``, or ``T,B,L,R`` with four equal values; with the
    window's ``size``, at most size // 2 (PyTorch's rule, in ``shape --pool``'s words), checked here with the options
    rather than after reading an input (a large padding was refused as "out of memory", a batch failed file by file).
    ``in_3d``: pooled in 3-D (a volume ``src``, or ``--layout zyx``), where four widths are refused as convolve refuses
    them (:func:`kernelcli.shapes.refuse_yx_widths`): they name Y and X alone, and P pads Z too.

    >>> pool_padding("valid"), pool_padding("1", 2), pool_padding("2,2,2,2")
    (0, 1, 2)
    >>> pool_padding("3", 2)
    Traceback (most recent call last):
    ...
    kernelcli.whole_numbers.BadValue: Invalid value for '--padding': '3': padding 3 is more than half the pool size 2: at most 1 (PyTorch's rule)
    """
    from ..shapes import POOL_PADDING_RULE, parse_padding, pool_padding_refusal
    from ..whole_numbers import refused_value

    if in_3d:
        value = _padding_in_3d(text, src)
    else:
        value = parse_padding(text, forms="valid, P or T,B,L,R (four equal values) in whole numbers")
    if value == "valid":
        width = 0
    elif isinstance(value, tuple) and len(set(value)) == 1:
        width = value[0]
    elif isinstance(value, int):
        width = value
    else:
        raise refused_value("--padding", text, POOL_PADDING_RULE)  # (in Click's form, as every value refused: review 52 #4)
    refused = pool_padding_refusal(width, size) if size is not None else None
    if refused is not None:  # (the rule's words alone named no option)
        raise refused_value("--padding", text, refused)
    return width


def _padding_in_3d(text: str, src: Any = None) -> Any:
    """``valid`` or P, which pooling in 3-D takes; any other form refused in 3-D's words alone
    (:data:`kernelcli.shapes.VOLUME_POOL_PADDING_FORMS`; ``src``, the volume, named in them), a volume file's and a
    --layout zyx array's alike, in Click's form as the 2-D path's (the 2-D rule's forms, four equal widths, are refused
    there next).

    >>> _padding_in_3d("1,1,1", "v.nii")
    Traceback (most recent call last):
    ...
    kernelcli.whole_numbers.BadValue: Invalid value for '--padding': '1,1,1': three widths; a volume pooled in 3-D takes valid or P (all six sides, as max_pool3d's padding=P), and Z cannot be left unpadded (v.nii is pooled in 3-D)
    """
    from ..numtext import whole_in_any_form
    from ..shapes import VOLUME_POOL_PADDING_FORMS, parse_padding, yx_widths_refusal
    from ..whole_numbers import refused_value

    takes = VOLUME_POOL_PADDING_FORMS + (f" ({src} is pooled in 3-D)" if src is not None else "")
    key = text.strip().lower()
    widths = key.split(",")
    if len(widths) > 1 and None not in map(whole_in_any_form, widths):
        said = {2: "two", 3: "three", 5: "five", 6: "six"}.get(len(widths), str(len(widths)))
        refused = yx_widths_refusal(tuple(whole_in_any_form(w) for w in widths), takes) or f"{said} widths; {takes}"
        raise refused_value("--padding", text, refused)
    if key == "same":
        raise refused_value("--padding", text, f"same is a convolution's; {takes}")
    return parse_padding(text, forms="valid or P (all six sides) in whole numbers")


def _pool_volume_file(path: Any, *, padding_text: str, layout: str | None = None, **given: Any) -> Any:
    """One volume of a batch pooled in 3-D, as ``pool VOLUME`` alone: four ``--padding`` widths, or a ``--layout`` other
    than zyx, fail it alone."""
    from ..layout import check_volume_layout
    from ..medical import pool_volume_file

    pool_padding(padding_text, in_3d=True, src=path)
    check_volume_layout(layout, str(path))
    return pool_volume_file(path, **given)


def _volume_checks(path: str, *, image_only: dict[str, Any], layout: str | None, fmt: Any) -> None:
    """The checks ``pool VOLUME`` alone makes of its options before reading it (in its order), which a batch whose every
    input is a volume makes once (:func:`kernelcli.batch_kinds.refuse_what_no_kind_takes`)."""
    from ..layout import check_volume_layout
    from ..medical.writers import check_volume_format
    from ..volume_inputs import refuse_image_options

    refuse_image_options(path, image_only, command="pool")
    check_volume_layout(layout, path)
    check_volume_format(getattr(fmt, "value", fmt))


def register(app: Any) -> None:
    """Add ``pool`` to the app."""
    app.command("pool", epilog=EPILOG)(pool)


def _pool_volume_tiled(path, size, *, op, stride, padding, ceil, exclude_pad, window, axis, volume_index, series, resample_slices,
                       affine, out, force, chunks, scheduler, workers, json_out, quiet, report_file=None, name=None, fmt=None) -> None:
    """One ``.nii`` volume pooled in 3-D tile by tile (kernelcli.tiled.nifti), as the in-memory volume path pools it."""
    import sys

    from ..medical import VolumeOptions, parse_window
    from ..tiled.files import parse_chunks
    from ..tiled.nifti import pool_volume_tiled
    from ._report import render_report
    from ._tiled import _TileBar

    options = VolumeOptions(window=parse_window(window) if window is not None else None, volume=volume_index,
                            series=series, resample_slices=resample_slices, affine=affine, axis=axis, paths=cli_paths())
    def run() -> Any:
        with _TileBar(enabled=not quiet and sys.stderr.isatty()) as bar:
            return pool_volume_tiled(path, size, op=op, stride=stride, padding=padding, ceil_mode=ceil,
                                     count_include_pad=not exclude_pad, options=options, out=out, force=force,
                                     chunks=parse_chunks(chunks), scheduler=scheduler, workers=workers, progress=bar.update,
                                     name=name, fmt=fmt)

    target = _volume_target(path, out, size, options, op=op, stride=stride, padding=padding, ceil=ceil,
                            exclude_pad=exclude_pad, name=name, fmt=fmt, extension=".nii")
    render_report(run_reported(path, run, outputs=[target], report=report_file, force=force), json_out=json_out, quiet=quiet)


def _volume_target(path, out, size, options, *, op, stride, padding, ceil, exclude_pad, name, fmt, extension=".nii.gz"):
    """The file a volume's pooling writes (``--out``, else its default name, as the job names it), known before
    ``--report`` is checked against it."""
    from ..medical.jobs import default_volume_output
    from ..medical.pooling import pool_volume_label

    return chosen_output(out, lambda: default_volume_output(path, pool_volume_label(
        options, size, op=op, stride=stride, padding=padding, ceil_mode=ceil, count_include_pad=not exclude_pad, fmt=fmt),
        name=name, fmt=fmt, extension=extension))
