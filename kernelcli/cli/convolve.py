"""``kernelcli convolve``: one input, one kernel (or a bank of them, or a trained layer), one result."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Annotated, Any, Optional

from ._batch import (
    BatchOptions, is_batch, note_one_input, one_volume, refuse_missing_input, refuse_one_input_options,
    refuse_tiled_with_out_dir,
    run_batch,
    run_inputs,
    chosen_output,
    read_reported,
    run_reported,
)
from ._batch_found import refuse_batch_without_out_dir, unfound_said
from ..batch_kinds import by_kind, input_kinds, refuse_what_no_kind_takes
from ._batch_reads import read_for_batch
from .option_values import number_in
from .options import (
    AxisOption,
    CompressOption,
    DilationOption,
    FlipOption,
    ForceOption,
    FormatOption,
    InputsArgument,
    JsonOption,
    KeepDtypeOption,
    MaskAffineOption,
    KernelScaleOption,
    KernelsOption,
    LayoutOption,
    MaxPixelsOption,
    OutDirOption,
    ConvolvePaddingOption,
    PadValueOption,
    QualityOption,
    QuietOption,
    RecursiveOption,
    ReportOption,
    RescaleOption,
    StrideOption,
    SuffixOption,
    WindowOption,
    WorkersOption,
    ThenOption,
    BiasOption,
    TiledOption,
    ChunksOption,
    SchedulerOption,
    option,
)
from ._tiled import single_tiled
from ._early import starts_early
from ._stdio import piped
from .convolve_asks import (
    before_stdin, chain_steps, kernel_bank, layer_weights, load_spec, montage_only_note, padding_widths, pool_only_note,
    volume_only,
)
from .convolve_tiled import tiled_convolve, tiled_volume
from ._common import call_note, cli_paths, guarded, invoked_as
from ._report import output_for, printed_result, render_report

PAD_MODE_HELP = (
    "renormalise is for volumes (fslmaths -s: outside voxels dropped, the weights inside renormalised; smoothing "
    "kernels only). [default: constant for images, replicate for volumes]"
)
OUT_HELP = (
    "Images: .png .jpg .tif .bmp .npy .csv; several maps: .npy (H', W', maps) or .tif (one float32 page per map). "
    "Volumes: .nii.gz or .nii (the input's affine), .npy (Z, Y, X) or .png (the middle slice, windowed)."
)

EPILOG = """\b
Examples:
  kernelcli convolve samples/phantom.png --kernel sobel_v --rescale abs
  kernelcli convolve samples/example1.csv --kernel prewitt_v --padding valid
  kernelcli convolve scan.png --kernel gaussian:2 --pad-mode reflect --out smooth.png
  kernelcli convolve samples/phantom.png -k sobel_v -k sobel_h -k laplacian_4 --montage maps.png
  kernelcli convolve samples/rgb.png -k sobel_v --combine sum --bias -10 --activation relu --out edges.npy
  kernelcli convolve scan.png --weights conv1_weight.npy --bias-file conv1_bias.npy --activation relu --out maps.npy
"""


@guarded
@piped(before=lambda kwargs: before_stdin(**kwargs))
@starts_early
def convolve(
    input: InputsArgument,
    kernel: KernelsOption = None,
    kernel_scale: KernelScaleOption = None,
    then: ThenOption = None,
    stride: StrideOption = 1,
    padding: ConvolvePaddingOption = "same",
    pad_mode: Annotated[Optional[str], option("pad_mode", vocabulary="volume_pad_mode", extra=PAD_MODE_HELP, show_default=False)] = None,
    pad_value: PadValueOption = None,
    dilation: DilationOption = 1,
    flip: FlipOption = False,
    combine: Annotated[Optional[str], option("combine", extra="[default: per-channel]", show_default=False)] = None,
    bias: BiasOption = None,
    activation: Annotated[Optional[str], option("activation", extra="[default: none]", show_default=False)] = None,
    weights: Annotated[Optional[Path], option("weights", show_default=False)] = None,
    bias_file: Annotated[Optional[Path], option("bias_file", show_default=False)] = None,
    rescale: RescaleOption = None,
    axis: AxisOption = None,
    window: WindowOption = None,
    keep_dtype: KeepDtypeOption = False,
    truncate: Annotated[Optional[float], option("truncate", parser=number_in(0, 20, above=True), show_default=False)] = None,
    mask: Annotated[Optional[Path], option("mask", show_default=False)] = None,
    volume_index: Annotated[Optional[int], option("volume_index", min=0, extra="By default every volume is filtered.",
                                                  show_default=False)] = None,
    series: Annotated[Optional[str], option("series", show_default=False)] = None,
    resample_slices: Annotated[bool, option("resample_slices")] = False,
    affine: MaskAffineOption = None,
    out: Annotated[Optional[Path], option("out", extra=OUT_HELP, show_default=False)] = None,
    montage: Annotated[Optional[Path], option("montage", show_default=False)] = None,
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
    report_file: ReportOption = None,
    force: ForceOption = False,
    json_out: JsonOption = False,
    max_pixels: MaxPixelsOption = None,
    quiet: QuietOption = False,
) -> None:
    """Convolve an image or matrix with a kernel (cross-correlation, as in deep learning).

    A matrix input prints its result on stdout unless --out is given; an image input is
    written as <stem>_<kernel>.<ext> in the current folder unless --out is given.

    Several --kernel options (or --weights) make a convolution layer: one feature map
    per kernel, each with its --bias and --activation. A 3-D kernel file (C x f x f)
    sums over the channels, as the lecture's 3-D convolution; its depth must equal the
    image's channels. Several maps go to .npy (H', W', maps), a multi-page .tif, and/or
    a --montage picture (without --out, only the montage is written).
    """
    passed = dict(locals())  # (the parameters by name, before any local: a volume refuses those IMAGE_ONLY_OPTIONS names)
    from ..errors import UsageError
    from ..io.image_writing import Encoding
    from ..jobs_common import ConvolveOptions
    from ..volume_inputs import image_only_given, refuse_volume_options
    from ..layout import canonical_layout
    from ..modes import check_fill_reading, unused_border, unused_fill

    check_fill_reading(pad_mode, pad_value)
    refuse_missing_input(input, out_dir, kernel or [])
    refuse_tiled_with_out_dir(input, out, out_dir, tiled=tiled, chunks=chunks)  # (-d 2 is --out-dir: one input is no batch)
    fill = 0.0 if pad_value is None else pad_value  # (pad_value stays None when not given: a 0 given is named in the notes)
    if one_volume(input, out_dir):  # a DICOM series is a folder; 'scans/*.nii' is a batch
        from ..layout import check_volume_layout
        from ..medical import convolve_volume_for_cli
        from ..medical.writers import refuse_volume_url

        refuse_volume_url(out)  # (before the route is chosen: --tiled said 'the folder memory:/b does not exist')
        check_volume_layout(layout, str(input[0]))
        if said := unused_fill(pad_value, pad_mode, "replicate"):
            call_note(said, quiet=quiet)
        given = image_only_given(passed)
        run = partial(convolve_volume_for_cli,
            input[0], kernel, stride=stride, padding=padding, dilation=dilation, pad_mode=pad_mode,
            pad_value=fill, flip=flip, out=out, force=force, axis=axis, window=window, keep_dtype=keep_dtype,
            truncate=truncate, mask=mask, volume=volume_index, series=series, resample_slices=resample_slices,
            affine=affine, paths=cli_paths(), unsupported={name: value is not None for name, value in given.items()},
            name=suffix, fmt=fmt, command=invoked_as("convolve"),
        )
        from ..tiled import nifti as tiled_nifti

        from ..medical.jobs import convolve_volume_output

        tiles = tiled_nifti.wanted(input[0], tiled=tiled, chunks=chunks, scheduler=scheduler, out=out)
        if tiles:
            call = partial(tiled_volume, run, chunks=chunks, scheduler=scheduler, workers=workers, quiet=quiet)
        else:
            note_one_input(BatchOptions(suffix=suffix, recursive=recursive, workers=workers), quiet=quiet, out=out)
            call = run
        from ..io.reads import note_named_inputs

        note_named_inputs({"mask": mask, "kernel": kernel})  # inputs of --report's check too, read inside the job
        target = chosen_output(out, lambda: run(runner=partial(convolve_volume_output, tiled=tiles)))
        render_report(run_reported(input[0], call, outputs=[target], report=report_file, force=force), json_out=json_out, quiet=quiet)
        return
    refuse_batch_without_out_dir(input, BatchOptions(out_dir, recursive=recursive, scheduler=scheduler), out=out, quiet=quiet,
                                 tiled=tiled, chunks=chunks, one_input={"--weights": weights, "--bias-file": bias_file, "--montage": montage})
    from ..io.naming import has_glob

    one = input[0] if len(input) == 1 and out_dir is None and not has_glob(str(input[0])) else None  # (a store's axes decide)
    image_options = partial(  # (built where images are met: --pad-mode renormalise is for volumes alone)
        ConvolveOptions, stride=stride, padding=padding_widths(padding, layout, one), pad_mode=pad_mode or "constant", pad_value=fill,
        dilation=dilation, flip=flip, rescale=rescale, max_pixels=max_pixels, combine=combine, activation=activation,
        layout=canonical_layout(layout), paths=cli_paths(), encoding=Encoding(quality=quality, compress=compress),
        kernel_scale=kernel_scale,
    )
    with unfound_said(input, BatchOptions(out_dir, report=report_file), force=force, json_out=json_out, quiet=quiet):
        kinds = input_kinds(input, recursive) if out_dir is not None else None
    # a volume fills by replicate unless told, an image by constant: no default where the inputs are of both kinds
    default_mode = ("constant" if not kinds.volumes else "replicate" if not kinds.images else None) if kinds else "constant"
    if said := unused_fill(pad_value, pad_mode, default_mode):
        call_note(said, quiet=quiet)
    for_volumes = volume_only(axis=axis, window=window, keep_dtype=keep_dtype, truncate=truncate, mask=mask,
                               volume_index=volume_index, series=series, resample_slices=resample_slices, affine=affine,
                               pad_mode=pad_mode)
    if kinds is not None and kinds.volumes:  # each volume file as `convolve VOLUME` alone; images beside them as images
        from ..errors import InvalidKernel, KernelcliError
        from ..kernel_syntax import parse_kernel_scale
        from ..medical import convolve_volume_for_cli
        from ..medical.volume_calls import volume_label_for_cli

        refuse_one_input_options({"--weights": weights, "--bias-file": bias_file, "--montage": montage}, "--kernel")
        if then:
            raise UsageError("--then chains work on images and arrays; for the volumes among the inputs run one call per step")
        if mask is not None:  # an input of the plan's checks: an output over it was refused only as its volume ran
            from ..io.reads import note_input

            note_input(mask)
        # as for one volume: what a volume cannot take fails each volume alone, naming the option
        given = {**image_only_given(passed), "--tiled": tiled or None, "--chunks": chunks}  # (one volume tiles; a batch's do not)
        volume_job = partial(convolve_volume_for_cli, kernels=kernel, stride=stride, padding=padding, dilation=dilation,
                             pad_mode=pad_mode, pad_value=fill, flip=flip, force=force, axis=axis, window=window,
                             keep_dtype=keep_dtype, truncate=truncate, mask=mask, volume=volume_index, series=series,
                             resample_slices=resample_slices, affine=affine, paths=cli_paths(), layout=layout,
                             unsupported={name: value is not None for name, value in given.items()},
                             command=invoked_as("convolve"))
        image_job, label, refusal, several = None, "_".join(kernel or []) or "convolve", None, False
        reported = BatchOptions(out_dir, suffix, fmt, recursive, workers, report_file, scheduler)
        if kinds.images:
            from ..layer_files import parse_bias
            from ..medical.kernels import resolve_volume_kernel

            scale = parse_kernel_scale(kernel_scale) if kernel_scale is not None else None  # bad text: exit 2 now
            if bias is not None:  # a count that cannot match the kernels too: exit 2 before any file
                parse_bias(bias, len(kernel) if kernel else None)
            try:
                image_job, label, several = _image_job(kernel, bias, image_options(), scale, force)
            except KernelcliError as exc:
                # a kernel neither kind takes (a missing file) is refused now, exit 3, in the batch's report
                read_for_batch(input, lambda: [resolve_volume_kernel(spec) for spec in kernel or []], reported,
                               force=force, json_out=json_out, quiet=quiet, out=out)
                refusal = exc  # a kernel in mm, say: the images fail alone, saying why
        # (a kernel no kind takes is in the report; an option no kind takes is refused as a bad value: no report)
        read_for_batch(input, partial(
            refuse_what_no_kind_takes, kinds, images=partial(_image_check, refusal=refusal, volume_options=for_volumes,
                                                             several=several, fmt=fmt, layout=canonical_layout(layout)),
            volumes=partial(volume_job, out=None, runner=_checked_only, fmt=fmt)), reported, force=force, json_out=json_out,
            quiet=quiet, out=out, refusals=InvalidKernel)
        said = unused_fill(pad_value, pad_mode, "replicate") if default_mode is None else None  # (else a call note, above)
        job = partial(by_kind, image_job=image_job, volume_job=volume_job, image_refusal=refusal, volume_options=for_volumes,
                      volume_notes=(said,) if said else ())
        maps = "npy" if several else None  # a filter bank's images: .npy (H', W', maps), as without volumes
        named = volume_label_for_cli(kernel, pad_mode=pad_mode, pad_value=fill, flip=flip, fmt=fmt, axis=axis, truncate=truncate,
                                     mask=mask, volume=volume_index, resample_slices=resample_slices)  # as one volume alone
        run_batch(input, job, label=label, options=BatchOptions(out_dir, suffix, fmt, recursive, workers, report_file, scheduler, maps),
                  out=out, force=force, json_out=json_out, quiet=quiet, volume_label=named)
        return
    refuse_volume_options(input, for_volumes, out_dir=out_dir)
    options = image_options()
    if said := unused_border(options.padding, padding, pad_mode is not None, pad_value is not None):
        call_note(said, quiet=quiet)
    batch = BatchOptions(out_dir, suffix, fmt, recursive, workers, report_file, scheduler)
    scale = None
    if kernel_scale is not None:
        from ..kernel_syntax import parse_kernel_scale

        scale = parse_kernel_scale(kernel_scale)
    big = single_tiled(input, out_dir, out, tiled=tiled, chunks=chunks, scheduler=scheduler)
    if big is not None:
        given = {"--weights": weights, "--bias-file": bias_file, "--bias": bias, "--activation": activation,
                 "--combine": combine, "--montage": montage}
        tiled_convolve(big, kernel or [], then or [], scale, options, given=given, out=out, force=force, chunks=chunks,
                   scheduler=scheduler, workers=workers, json_out=json_out, quiet=quiet, report_file=report_file, fmt=fmt,
                   suffix=suffix)
        return
    from ..chain import is_pool_step

    if then or any(is_pool_step(spec) for spec in kernel or []):  # '-k maxpool:2' alone: a chain of one step
        given = {"--weights": weights, "--bias-file": bias_file, "--bias": bias, "--activation": activation,
                 "--combine": combine, "--montage": montage}
        _run_chain(input, kernel or [], then or [], scale, options, batch, given=given, out=out, force=force, json_out=json_out, quiet=quiet)
        return
    if is_batch(input, batch):
        _run_many(input, kernel, bias, options, batch, kinds, scale=scale, weights=weights, bias_file=bias_file, montage=montage, out=out,
                  force=force, json_out=json_out, quiet=quiet)
        return
    input = input[0]
    note_one_input(batch, quiet=quiet, out=out, input=input)  # (a matrix's --suffix: the same note, --montage or not)
    montage_only_note(batch, out, montage, input, quiet=quiet)
    read = partial(read_reported, input, out=out, montage=montage, report=report_file, force=force)
    printed = printed_result(json_out)  # (a matrix on stdout before its --report record says ok; --json: its record)
    if weights is not None:
        layer = read(lambda: layer_weights(kernel, kernel_scale, combine, weights, bias_file, bias))
        report = _run_weights(input, weights, *layer, options, batch, out=out, montage=montage, force=force, bias_file=bias_file,
                              printed=printed)
    else:
        kernels, values = read(lambda: kernel_bank(input, kernel, bias_file, bias, scale))
        report = _run_kernels(input, kernels, values, options, batch, out=out, montage=montage, force=force, printed=printed)
    render_report(report, json_out=json_out, quiet=quiet)  # (a matrix's maps: each under a '# label' line)


def _run_chain(inputs, specs, then, scale, options, batch, *, given, out, force, json_out, quiet) -> None:
    """--kernel K --then A --then B: one operation after the other, on one input or many."""
    from functools import partial

    from ..chain import chain_file, chain_name

    steps = partial(chain_steps, inputs, specs, then, scale, given)  # exit 3 before any image is read
    if is_batch(inputs, batch):
        steps = read_for_batch(inputs, steps, batch, force=force, json_out=json_out, quiet=quiet, out=out)
    else:
        steps = read_reported(inputs[0], steps, out=out, report=batch.report, force=force)
    pool_only_note(steps, options, scale, quiet)
    label = chain_name(steps, options.words())
    job = partial(chain_file, steps=steps, options=options, force=force)
    run_inputs(inputs, job, label=label, options=batch, out=out, force=force, json_out=json_out, quiet=quiet)


def _run_many(inputs, specs, bias, options, batch, kinds, *, scale, weights, bias_file, montage, out, force, json_out,
              quiet) -> None:
    """Several inputs, folders or patterns (images and arrays, of ``kinds``): one job per file, in parallel, into --out-dir."""
    refuse_one_input_options({"--weights": weights, "--bias-file": bias_file, "--montage": montage}, "--kernel")
    several = bool(specs) and len(specs) > 1  # (a bank's outputs are .npy: so are those its report names)
    maps = BatchOptions(batch.out_dir, batch.suffix, batch.format or ("npy" if several else None), batch.recursive,
                        batch.workers, batch.report, batch.scheduler)
    job, label, several = read_for_batch(inputs, partial(_image_job, specs, bias, options, scale, force), maps, force=force,
                                         json_out=json_out, quiet=quiet, out=out)
    refuse_what_no_kind_takes(kinds, images=partial(_image_check, refusal=None, volume_options={}, several=several,
                                                    fmt=batch.fmt, layout=options.layout))
    if several:  # several maps per file: .npy (H', W', maps)
        batch = maps
    run_batch(inputs, job, label=label, options=batch, out=out, force=force, json_out=json_out, quiet=quiet)


def _image_check(src: str, *, refusal: Exception | None, volume_options: dict[str, Any], several: bool, fmt: Any,
                 layout: str | None = None) -> None:
    """What a batch's image ``src`` is refused for before its pixels are read (as :func:`kernelcli.batch_kinds.by_kind`
    and the bank's job refuse it): the image job's ``refusal``, an option for volumes alone, a bank's ``--format`` (of
    arrays read in ``layout``)."""
    from ..maps_outputs import refuse_maps_format
    from ..volume_inputs import refuse_volume_options

    if refusal is not None:
        raise refusal
    refuse_volume_options([src], volume_options)
    if several:
        refuse_maps_format(getattr(fmt, "value", fmt), layout)


def _checked_only(_input: Any = None, kernel: Any = None, *_: Any, fmt: Any = None, **__: Any) -> None:
    """The runner of a volume's call made for its checks alone (:func:`kernelcli.medical.convolve_volume_for_cli`'s
    before its runner reads the volume): its ``kernel`` read as a volume reads it (an unknown name: exit 3 once for
    a batch of volumes, not once a file), and the output type ``--format`` gives it."""
    from ..medical.kernels import resolve_volume_kernel
    from ..medical.writers import check_volume_format

    if kernel is not None:
        resolve_volume_kernel(kernel)
    check_volume_format(getattr(fmt, "value", fmt))


def _image_job(specs, bias, options, scale, force) -> tuple[Any, str, bool]:
    """The job of a batch's images: (``job(input, out=...)``, its label, whether it writes several maps);
    the kernels are read now (exit 3 before any image is read)."""
    from functools import partial

    from ..errors import UsageError
    from ..jobs import convolve_file
    from ..jobs_maps import bank_label, convolve_bank_file, layer_name
    from ..layer_files import parse_bias

    if not specs:
        raise UsageError("missing --kernel: give a kernel name, file or spec (repeat it for a filter bank)")
    values = None if bias is None else parse_bias(bias, len(specs))  # before any image is read (exit 2)
    kernels = [load_spec(spec, scale) for spec in specs]
    stated = next((k for k in kernels if hasattr(k, "refused_as_layer")), None)
    if stated is not None and options.layout != "zyx":  # (its file says z, y, x: no image or chw/hwc array takes it)
        raise stated.refused_as_layer(cli=True)  # once, before any input runs, as a named 3-D kernel is
    if len(kernels) == 1 and len(kernels[0].shape) == 2 and options.plain and bias is None:
        job = partial(convolve_file, kernel_spec=kernels[0], options=options, force=force)
    else:
        job = partial(convolve_bank_file, kernels=kernels, options=options, force=force, bias=values)
    return job, layer_name(options, values, bank_label([k.name for k in kernels])), len(kernels) > 1


def _data_output(input: Path, target: Any, montage: Any) -> Any:
    """What a call with a ``--montage`` writes its data to, for its record: ``target``; else stdout (None) for a
    matrix, whose maps are printed there (a failed call's record named the sheet); else the sheet, the one file.

    >>> _data_output(Path("m.csv"), None, Path("s.png")), _data_output(Path("g.png"), None, Path("s.png"))
    (None, PosixPath('s.png'))
    """
    from ..io.naming import is_matrix_path

    return target if target is not None else None if is_matrix_path(input) else montage


def _target(input: Path, out: Optional[Path], montage: Optional[Path], label: str, several: bool, batch: BatchOptions) -> Any:
    """Where the numbers go: --out; nothing if only --montage (a matrix's are printed on stdout, and its --format makes
    them a file, as without --montage); else the default name ``<stem>_<--suffix or label>``, with the --format
    extension (.npy for several maps)."""
    from ..io.naming import is_matrix_path

    if out is not None or montage is not None and not (batch.fmt and is_matrix_path(input)):
        return out
    label = batch.suffix if batch.suffix is not None else label
    if batch.fmt:
        from ..io.naming import default_output

        return default_output(input, label, fmt=batch.fmt)
    target = output_for(input, out, label)
    if target is not None and several:
        target = target.with_suffix(".npy")
    return target


def _run_kernels(input: Path, kernels: list[Any], values: Any, options: Any, batch: BatchOptions, *, out, montage, force,
                 printed: Any = None) -> Any:
    from ..jobs import convolve_file
    from ..jobs_maps import bank_label, convolve_bank_file, layer_name

    if len(kernels) == 1 and len(kernels[0].shape) == 2 and options.plain and values is None and montage is None:
        k = kernels[0]
        target = _target(input, out, None, options.label(k.name), False, batch)
        return run_reported(input, lambda: convolve_file(input, k, options, out=target, force=force),
                            outputs=[target], report=batch.report, force=force, printed=printed)
    label = layer_name(options, values, kernels[0].name if len(kernels) == 1 else bank_label([k.name for k in kernels]))
    target = _target(input, out, montage, label, len(kernels) > 1, batch)
    call = partial(convolve_bank_file, input, kernels, options, bias=values, out=target, montage=montage, force=force)
    return run_reported(
        input, call, outputs=[_data_output(input, target, montage), montage], report=batch.report, force=force,
        printed=printed, sheet=montage,
    )


def _run_weights(input: Path, weights: Path, w: Any, values: Any, options: Any, batch: BatchOptions, *, out, montage, force,
                 bias_file: Optional[Path] = None, printed: Any = None) -> Any:
    from ..jobs_maps import layer_file, layer_name

    target = _target(input, out, montage, layer_name(options, values, weights.stem), w.shape[0] > 1, batch)
    call = partial(layer_file, input, w, options, name=weights.stem, bias=values, out=target, montage=montage, force=force,
                   bias_file=None if bias_file is None else str(bias_file))
    return run_reported(
        input, call, outputs=[_data_output(input, target, montage), montage], report=batch.report, force=force,
        printed=printed, sheet=montage,
    )


def register(app: Any) -> None:
    """Add ``convolve`` to the app."""
    app.command("convolve", epilog=EPILOG)(convolve)
