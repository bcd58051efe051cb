"""Jobs with several feature maps: a filter bank, a conv layer (``--weights``), and the montage pieces the gallery
(:mod:`kernelcli.jobs_gallery`) draws with.

One map is written like any single result; several go to ``.npy`` (H', W', K) or a
multi-page float32 TIFF, and/or a labelled montage picture (:func:`run_maps_job`).
Split from :mod:`kernelcli.jobs`, which re-exports every name.

>>> bank_label(["sobel_h", "sobel_v"])
'sobel_h_sobel_v'
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import numtext
from .errors import UsageError
from .io.naming import safe_stem
from .job_checks import one_3d_correlation, zyx_kernels
from .jobs_common import (ConvolveOptions, Report, _named, _write_single, alpha_not_carried, check_conv_peak,
                          convolve_volume_array, float32_tiff_note, with_alpha)
from .jobs_montage import bank_tile_shapes, check_sheet_memory, check_sheet_sides, montage_tiles  # noqa: F401 - re-exported (their former home)
from .maps_outputs import check_maps_outputs
from .volume_inputs import VOLUME_SUFFIXES

# ---------------------------------------------------------------- layers: several feature maps

def bank_label(names: list[str]) -> str:
    """The default-output label for a bank: its kernel names, or the first three and a count.

    >>> bank_label(["sobel_v", "sobel_h"]), bank_label(list("abcde"))
    ('sobel_v_sobel_h', 'a_b_c_and_2_more')
    """
    shown = "_".join(safe_stem(n) for n in names[:3])
    return shown + (f"_and_{len(names) - 3}_more" if len(names) > 3 else "")


def _layer_words(options: ConvolveOptions, bias: Any, summed: bool | None = None) -> str:
    """`` [sum, bias, relu]``: the layer options that changed the maps (``summed``: whether --combine sum summed
    a 2-D kernel over several channels; None: as --combine says)."""
    words = layer_word_list(options, bias, summed)
    return f" [{', '.join(words)}]" if words else ""


def layer_word_list(options: ConvolveOptions, bias: Any, summed: bool | None = None) -> list[str]:
    """The layer options that change the maps, as words: ``sum`` (``--combine sum``; ``summed``: whether it summed
    something, None: as --combine says), ``bias`` and the activation.

    >>> layer_word_list(ConvolveOptions(combine="sum", activation="relu"), bias=[0.5])
    ['sum', 'bias', 'relu']
    """
    words = ["sum"] if (options.combine == "sum" if summed is None else summed) else []
    words += ["bias"] if bias is not None else []
    return words + ([options.activation] if options.activation not in (None, "none") else [])


def layer_name(options: ConvolveOptions, bias: Any, name: str) -> str:
    """A layer's default output label: kernel(s) ``name``, the convolution's words (:meth:`ConvolveOptions.label`),
    then the layer's (:func:`layer_word_list`), so that a run with ``--activation relu`` is not named as one without.

    >>> layer_name(ConvolveOptions(stride=2, activation="relu"), None, "sobel_v")
    'sobel_v_s2_relu'
    """
    return "_".join([options.label(name), *layer_word_list(options, bias)])


def convolve_bank_file(
    input_path: str | Path,
    kernels: list[Any],
    options: ConvolveOptions,
    *,
    bias: Any = None,
    out: str | Path | None,
    montage: str | Path | None = None,
    force: bool = False,
) -> Report:
    """Apply a bank of kernels (2-D or 3-D ``Kernel`` values) to one input as one layer.

    One kernel gives today's kind of result (per channel unless ``combine="sum"``); several
    give one map each (C maps each with "per-channel" on a C-channel input), written to
    ``.npy`` (H', W', M) or a multi-page float32 TIFF, and/or drawn to ``montage``.
    """
    from .banks import SAME_PADDING_OPTION, MapSizesDiffer, filter_bank

    names = [k.name for k in kernels]
    if options.layout == "zyx" and zyx_kernels([tuple(k.shape) for k in kernels], combine=options.combine,
                                               activation=options.activation, bias=bias, montage=montage):
        return convolve_volume_array(input_path, kernels[0], options, out=out, force=force)  # (as on the tiled path)
    stated = next((k for k in kernels if hasattr(k, "refused_as_layer")), None)
    if stated is not None:  # its file says (z, y, x): read as a layer's (C, f, f) its z taps were the channels, summed
        from .io.naming import shown_path

        raise stated.refused_as_layer(shown_path(input_path))
    words = options.words()  # (one kernel: sobel_v_s2, as its default output name; a bank: its names, then (s2))
    shown = options.label(names[0]) if len(names) == 1 else ", ".join(names) + (f" ({'_'.join(words)})" if words else "")
    flat = any(len(k.shape) == 2 for k in kernels)

    seen: list[int] = []  # the input's channels, once read

    def label(data) -> str:  # [sum] where --combine sum summed something: the same maps, the same name
        channels = data.shape[2] if data.ndim == 3 else 1
        seen.append(channels)
        return f"convolve {shown}{_layer_words(options, bias, options.combine == 'sum' and flat and channels > 1)}"

    def compute(data, picked: list[int] | None = None):  # picked: these kernels alone (a montage's, one at a time)
        chosen = kernels if picked is None else [kernels[i] for i in picked]
        channels = data.shape[2] if data.ndim == 3 else 1
        per_map = channels if options.combine in (None, "per-channel") else 1
        check_conv_peak(data, max((k.shape for k in chosen), key=lambda sh: sh[-1] * sh[-2]), options, label(data),
                        maps=max(2, len(chosen) * per_map) if len(chosen) > 1 else 1,
                        layer=any(len(k.shape) == 3 for k in chosen) or per_map == 1 and channels > 1)
        try:
            return filter_bank(data, chosen, [k.name for k in chosen], bias=part_bias(bias, picked), **options.conv_kwargs())
        except MapSizesDiffer as exc:  # (the API's words: padding='same')
            raise exc.worded(SAME_PADDING_OPTION) from None

    # maps of one size whichever kernels are computed together: "same" padding, or kernels of one size
    alike = options.padding == "same" or len({k.shape[-2:] for k in kernels}) == 1

    depths = {k.shape[0] for k in kernels if len(k.shape) == 3}  # (C, f, f) kernels name C (a volume is opt-in: zyx)
    deep = next((k for k in kernels if len(k.shape) == 3), None)

    def refuse(have: int, alpha: bool) -> str:
        spans = _channels_text(deep.shape[0], have, alpha).split(", ", 1)[1]  # (the API's words, and the alpha)
        return (f"kernel {deep.name} is 3-D with depth {deep.shape[0]} ({'x'.join(map(str, deep.shape))}), {spans}: "
                "a 3-D kernel's depth must equal the channels")

    report = run_maps_job(
        input_path, label, compute, single=len(kernels) == 1, out=out, montage=montage, force=force,
        rescale=options.rescale, max_pixels=options.max_pixels, describe=_describe_options(options, bias), layout=options.layout,
        encoding=options.encoding, channels=depths.pop() if len(depths) == 1 else None, refuse_channels=refuse,
        volume_too=one_3d_correlation([tuple(k.shape) for k in kernels], combine=options.combine,
                                      activation=options.activation, bias=bias, montage=montage),
        compute_part=(lambda data, i: compute(data, [i])) if alike else None, parts=len(kernels),
        tile_shapes=lambda shape, colour: bank_tile_shapes(shape, [k.shape for k in kernels], options, colour),
        tiled=options.plain and bias is None and all(len(k.shape) == 2 for k in kernels), one_map=options.combine == "sum" or not flat,
    )
    if len(kernels) == 1:
        report.kernel = names[0]
    if options.combine is not None and not flat:  # as an unused --pad-value is named
        deep = ", ".join(f"{k.name} ({'x'.join(map(str, k.shape))})" for k in kernels)
        report.notes.append(f"--combine {options.combine}: {deep} {'is a 3-D kernel, which sums' if len(kernels) == 1 else 'are 3-D kernels, which sum'} "
                            "over the channels whatever --combine says; --combine is for 2-D kernels")
    elif options.combine == "sum" and seen[-1:] == [1]:
        report.notes.append(f"{Path(str(input_path)).name}: --combine sum: the input has one channel, so each map is the "
                            "kernel's own (as per-channel)")
    if options.flip and any(len(k.shape) == 3 for k in kernels):
        report.notes.append(flipped_channels_note([(k.name, k.shape) for k in kernels if len(k.shape) == 3]))
    return report


def flipped_channels_note(kernels: list[tuple[str, Any]], zyx: bool = True) -> str:
    """What ``--flip`` did to kernels with channels, (name, shape) each, on an image: PyTorch's flip, the spatial
    axes alone (a volume's 3-D kernel, under ``--layout zyx``, is flipped on every axis, as scipy.ndimage.convolve).

    >>> print(flipped_channels_note([("k333", (3, 3, 3))]))
    --flip: k333 (3x3x3) is flipped along y and x; its channels keep their order (--layout zyx flips z too)
    """
    named = ", ".join(f"{name} ({'x'.join(map(str, shape))})" for name, shape in kernels)
    one = len(kernels) == 1
    return (f"--flip: {named} {'is' if one else 'are'} flipped along y and x; {'its' if one else 'their'} channels keep "
            f"their order{' (--layout zyx flips z too)' if zyx else ''}")


def layer_file(
    input_path: str | Path,
    weights: Any,
    options: ConvolveOptions,
    *,
    name: str = "weights",
    bias: Any = None,
    out: str | Path | None,
    montage: str | Path | None = None,
    force: bool = False,
    bias_file: str | None = None,
) -> Report:
    """Run a trained first layer, ``weights`` (K, C, f, f) and ``bias`` (K,), on one input (``bias_file``: the file the
    bias was read from, named on a montage's option line).

    The result is ``activation(conv2d(x, weights) + bias)`` with PyTorch's numbers, as
    (H', W', K); one filter gives a single map written like any single result.
    """
    from .banks import BankResult
    from .layers import conv_layer

    if options.layout == "zyx":  # (refused: the slices summed as channels, or -k's 3-D correlation)
        zyx_kernels([], combine=options.combine, activation=options.activation, bias=bias, montage=montage,
                    weights=tuple(weights.shape))
    filters = weights.shape[0]
    if options.flip:  # (PyTorch's spatial flip: a (K, C, f, f) bank's channels keep their order, noted below)
        weights = weights[..., ::-1, ::-1]
    words = f" ({'_'.join(options.words())})" if options.words() else ""
    label = f"layer {name} {'x'.join(map(str, weights.shape))}{words}{_layer_words(options, bias)}"
    labels = [f"{name}[{k}]" for k in range(filters)]

    def compute(data, picked: list[int] | None = None):  # picked: these filters alone (a montage's, one at a time)
        chosen = list(range(filters)) if picked is None else picked
        wanted = weights if picked is None else weights[chosen]
        check_conv_peak(data, weights.shape, options, label, maps=max(len(chosen), 2) if len(chosen) > 1 else 1, layer=True)
        maps = conv_layer(
            data, wanted, part_bias(bias, picked), stride=options.stride, padding=options.padding, pad_mode=options.pad_mode,
            pad_value=options.pad_value, dilation=options.dilation, activation=options.activation, paths=options.paths,
        )
        names = [labels[k] for k in chosen]
        return BankResult(maps, names, names, [(j, j + 1) for j in range(len(chosen))], ["sum"] * len(chosen))

    def refuse(have: int, alpha: bool) -> str:  # (convolve has no --groups: each filter spans every channel)
        hint = f"give filters of {numtext.counted(have, 'channel')}"
        if weights.shape[1] == 1 and have > 1:
            hint += ", or, to filter each channel on its own, a 2-D kernel with -k (--combine per-channel, the default)"
        return f"weights {tuple(weights.shape)}: each filter spans {_channels_text(int(weights.shape[1]), have, alpha)}; {hint}"

    report = run_maps_job(
        input_path, label, compute, single=filters == 1, out=out, montage=montage, force=force,
        rescale=options.rescale, max_pixels=options.max_pixels, describe=_describe_options(options, bias, bias_file),
        layout=options.layout, encoding=options.encoding, channels=int(weights.shape[1]), refuse_channels=refuse,
        compute_part=lambda data, k: compute(data, [k]), parts=filters,
        tile_shapes=lambda shape, colour: bank_tile_shapes(shape, [weights.shape[1:]] * filters, options, colour),
        one_map=True,  # (each filter sums over the channels; the tiled path takes no --weights)
    )
    if options.flip and weights.shape[1] > 1:
        report.notes.append(flipped_channels_note([(name, weights.shape)], zyx=False))
    return report


def _in_volume_dtype(compute: Callable[..., Any]) -> Callable[..., Any]:
    """``compute`` of a zyx array's voxels in a volume's dtype (:func:`kernelcli.jobs_common.in_volume_dtype`)."""
    from .jobs_common import in_volume_dtype

    return lambda data, *more: compute(in_volume_dtype(data, "zyx"), *more)


def part_bias(bias: Any, picked: list[int] | None) -> Any:
    """The biases of the ``picked`` kernels or filters alone (a montage draws one at a time): ``bias`` itself when every
    map is computed, or when it is None or one value for every map (a number, or a sequence of one).

    >>> part_bias([1.0, 2.0, 3.0], [2]), part_bias(0.5, [2]), part_bias([0.5], [1]), part_bias(None, [0])
    ([3.0], 0.5, [0.5], None)
    """
    try:
        one_for_all = bias is None or picked is None or len(bias) == 1
    except TypeError:  # a number (one --bias for every filter of --weights)
        return bias
    return bias if one_for_all else [bias[i] for i in picked]


def _channels_text(spans: int, have: int, alpha: bool) -> str:
    """``4 channels, but the input has 3 colour channels (the alpha is not an input)``: a refusal's middle.

    >>> _channels_text(1, 3, False)
    '1 channel, but the input has 3 channels'
    """
    said = numtext.counted(have, "colour channel" if alpha and have == 3 else "channel")
    return f"{numtext.counted(spans, 'channel')}, but the input has {said}" + (" (the alpha is not an input)" if alpha else "")


def _describe_options(options: ConvolveOptions, bias: Any = None, bias_file: str | None = None) -> str:
    """One line for a montage: every option the maps were made with (padding and its border where something is
    padded, stride, dilation, and a --flip, --kernel-scale, --bias (its values, or ``bias_file``: the --bias-file
    they came from) or --activation given), as the record's operation names them.

    >>> _describe_options(ConvolveOptions(pad_value=255, flip=True, kernel_scale="0.5"))
    'padding same (constant 255), stride 1, dilation 1, flipped (true convolution), --kernel-scale 0.5'
    >>> _describe_options(ConvolveOptions(padding="valid", pad_mode="reflect")), _describe_options(ConvolveOptions(padding=(1, 1, 1, 1)))
    ('padding valid, stride 1, dilation 1', 'padding 1 (constant), stride 1, dilation 1')
    >>> _describe_options(ConvolveOptions(activation="relu"), [3.0, -2.5])
    'padding same (constant), stride 1, dilation 1, --bias 3,-2.5, --activation relu'
    """
    from .modes import canonical_padding, pads_nothing

    padding = canonical_padding(options.padding)  # (-p 0 is "valid" and -p 1,1,1,1 is "1", as the title's words say)
    padding = ",".join(map(str, padding)) if isinstance(padding, tuple) else str(padding)
    fill = f" {options.pad_value:g}" if options.pad_mode == "constant" and options.pad_value != 0 else ""
    border = "" if pads_nothing(options.padding) else f" ({options.pad_mode}{fill})"
    text = f"padding {padding}{border}, stride {options.stride}, dilation {options.dilation}"
    text += ", flipped (true convolution)" if options.flip else ""
    text += f", --kernel-scale {options.kernel_scale}" if options.kernel_scale is not None else ""
    if bias_file is not None:
        text += f", --bias-file {bias_file}"
    elif bias is not None:  # (the values as the maps took them: 3 and 300 drew different maps under one title)
        import numpy as np

        from .io.matrices import format_number

        text += f", --bias {','.join(format_number(float(b)) for b in np.ravel(bias))}"
    return text + (f", --activation {options.activation}" if options.activation not in (None, "none") else "")


def run_maps_job(
    input_path: str | Path,
    label: str | Callable[[Any], str],
    compute: Callable[[Any], Any],
    *,
    single: bool,
    out: str | Path | None,
    montage: str | Path | None = None,
    force: bool = False,
    rescale: str | None = None,
    max_pixels: int | None = None,
    describe: str = "",
    layout: str | None = None,
    encoding: Any = None,
    channels: int | None = None,
    refuse_channels: Callable[[int, bool], str] | None = None,
    compute_part: Callable[[Any, int], Any] | None = None,
    parts: int = 1,
    tile_shapes: Callable[[Any, bool], Any] | None = None,
    tiled: bool = False,
    one_map: bool = False,
    volume_too: bool = False,
) -> Report:
    """Read one input, compute a :class:`~kernelcli.banks.BankResult`, write the maps and/or a montage.
    ``tiled``: the call's options leave it to the tiled path (one plain 2-D kernel: no bias, activation or sum over
    channels), which writes a ``.zarr``; ``one_map``: each kernel's channels are summed into one map.  Both say what a
    refused output type is offered instead (:class:`~kernelcli.io.offered.OutputOffer`).
    ``label`` may be a function of the (H, W[, C]) input.  ``channels``: the channel count the call's weights or (C, f, f) kernels take (it picks an array's layout where
    both readings are plausible: :func:`kernelcli.layout.array_layout`); an input of another count is refused
    (ShapeError) with ``refuse_channels(its channels, whether an alpha was set aside)``; ``volume_too``: the call is the
    3-D correlation of a (Z, Y, X) reading as well (one 3-D kernel), so ``channels`` picks no reading by itself.

    ``single`` (one kernel or filter): the result is written exactly like
    :func:`run_file_job` writes one (an (H', W', C) image for a per-channel kernel).
    Otherwise the maps go to ``out`` as ``.npy`` (H', W', M) or a float32 page each in a
    TIFF.  A matrix input without ``out`` keeps the numbers in ``Report.matrix``: (H', W')
    for one map, (M, H', W') for several, in the order of ``Report.maps``.

    ``compute_part(data, i)``: the bank of kernel (or filter) ``i`` of ``parts`` alone, the maps ``compute``
    gives it.  With it, a montage that is the only output is drawn one kernel at a time, each kernel's maps
    turned into tiles before the next is computed (a 12-megapixel photo's bank held 0.9-1.2 GB for 3-4 kernels).
    ``tile_shapes(input shape, colour)``: the montage's tiles' shapes (:func:`kernelcli.jobs_montage.bank_tile_shapes`),
    so that a sheet too large is refused before any map is computed.
    """
    from .io import formats

    from .io.offered import OutputOffer

    src = formats.check_input_path(input_path)
    offer = OutputOffer((src,), tiled=tiled and single and montage is None, maps=not single, layout=layout, rescale=rescale,
                        one_map=one_map)
    out_path, montage_path = check_maps_outputs(src, out, montage, single=single, force=force, layout=layout, offer=offer)
    loaded = formats.read_input(src, max_pixels=max_pixels, volumes=VOLUME_SUFFIXES, words="cli")  # (convolve's: it reads volumes)
    start = time.perf_counter()
    order, data = "hwc", loaded.data
    if loaded.kind == "array" or layout is not None:
        from .layout import input_layout, to_hwc

        order = input_layout(loaded.data, loaded.kind, layout, str(src), loaded.format, loaded.notes, channels, volume_too)
        data = to_hwc(loaded.data, order)  # channels last for the maps and the montage's input tile
    if order == "zyx":  # (computed as a volume is; the montage's input tile stays the voxels as read)
        compute = _in_volume_dtype(compute)
        compute_part = _in_volume_dtype(compute_part) if compute_part is not None else None
    have = 1 if data.ndim == 2 else data.shape[2]
    if channels is not None and refuse_channels is not None and have != channels and order != "zyx":
        from .errors import ShapeError

        raise ShapeError(f"{src}: {refuse_channels(have, loaded.alpha is not None)}")
    label = label(data) if callable(label) else label  # (a bank's [sum] depends on the input's channels)
    if montage_path is not None and tile_shapes is not None:
        from .jobs_montage import check_sheet

        check_sheet(src, montage_path, label, describe, data.shape, tile_shapes(data.shape, order != "zyx"))
    if compute_part is not None and not single and montage_path is not None and out_path is None and loaded.kind != "matrix":
        # the montage alone is written: no map is needed at full size once it is a tile
        from .jobs_montage import montage_alone, montage_by_part

        drawn = _named(src, lambda: montage_by_part(src, data, label, compute_part, parts, order))
        return montage_alone(src, label, loaded, data, drawn, time.perf_counter() - start, montage_path, describe,
                              rescale, force, encoding)
    bank = _named(src, lambda: compute(data))
    if order == "zyx":
        from .banks import as_slices

        bank = as_slices(bank)
    seconds = time.perf_counter() - start
    maps = bank.maps
    several = maps.shape[2] > 1 and not single
    if several:
        result = maps
    elif maps.shape[2] == 1:  # one map: a plane, but a (1, H, W) array's .npy keeps its first axis, as one kernel's does
        kept = order != "hwc" and have == 1 and out_path is not None and out_path.suffix.lower() == ".npy"
        result = maps if kept else maps[:, :, 0]
    else:  # one kernel, per channel: an image like the input
        result = maps
    from .banks import maps_first, volumes_note

    volumes = maps_first(maps, len(bank.spans)) if several and order == "zyx" and out_path is not None else None  # (K, Z, Y', X')
    report = Report.of(src, label, loaded.data, result, seconds, out_path, loaded.notes, maps=list(bank.labels) if several else None)
    if loaded.alpha is not None:
        report.input_shape = with_alpha(report.input_shape)
    if out_path is not None and out_path.suffix.lower() == ".npy" and order != "hwc":
        from .layout import from_hwc

        report.output_shape = list(from_hwc(result, order).shape if volumes is None else volumes.shape)  # the input's order
        if volumes is not None:
            report.notes.append(volumes_note(out_path.name, volumes.shape))
    if loaded.alpha is not None:
        if several or out_path is None:  # (a sheet is a picture of the maps: it has no alpha either)
            report.notes.append(alpha_not_carried(src.name))
        elif result.shape[:2] != loaded.alpha.shape:
            report.notes.append(f"{src.name}: the output size differs from the input's, so the alpha channel is dropped")
    if out_path is None and montage_path is None and loaded.kind != "matrix":
        raise UsageError(f"{src}: an image result needs an output path (--out) or --montage")
    if out_path is None and loaded.kind == "matrix":
        report.matrix = (maps.transpose(2, 0, 1) if several else result).tolist()
        if rescale not in (None, "none") and montage_path is None:  # (a sheet's own note says it beside a --montage)
            from .jobs_common import rescale_not_printed

            report.notes.append(rescale_not_printed(rescale))
    if montage_path is not None:  # refused before --out is written, not after
        from .jobs_montage import check_sheet

        tiles, planes = montage_tiles(bank, colour=order != "zyx"), "slice" if order == "zyx" else "channel"
        title, sheet_notes = check_sheet(src, montage_path, label, describe, data.shape,  # type: ignore[misc]
                                         [values.shape for _, values in tiles])
    from .io.outputs import written_together

    with written_together():  # --out and --montage: both or neither (a sheet that failed left --out published)
        if out_path is not None:
            from .layout import from_hwc

            if not several:
                if out_path.suffix.lower() == ".npy":
                    result = from_hwc(result, order)
                _write_single(report, out_path, result, loaded, rescale=rescale, force=force, encoding=encoding,
                              zarr=offer.writes_zarr())
            else:
                if out_path.suffix.lower() == ".npy":
                    formats.write_result(out_path, from_hwc(maps, order) if volumes is None else volumes, force=force)
                else:
                    from .io.tiff_writing import write_tiff_pages

                    write_tiff_pages(out_path, maps, force=force)
                    float32_tiff_note(report, out_path, maps)  # (the single map's note; several maps went without it)
                if rescale not in (None, "none"):  # given, and nothing done: the maps are written raw
                    report.notes.append(f"{out_path.name}: --rescale {rescale} is for one map in an image; several maps are "
                                        "written as they are")
        if montage_path is not None:
            from .montage import render_montage, write_sheet

            sheet = render_montage(data, tiles, title=title, notes=sheet_notes, planes=planes, source_shape=report.input_shape)
            write_sheet(montage_path, sheet, force=force, encoding=encoding)
            report.montage = str(montage_path)
            if out_path is None and rescale is not None:  # given, and nothing done: as for several maps in a .tif
                report.notes.append(f"{montage_path.name}: --rescale {rescale} is for the data output (--out); a montage "
                                    "stretches each map from its min to its max")
            if report.output is None and report.matrix is None:  # the sheet is the file written: its array, as every record
                # gives it (not the maps'); a matrix's maps went to stdout, which the record names (its `montage`: the sheet)
                report.output = str(montage_path)
                report.output_shape = [sheet.height, sheet.width, 3]
                report.total = sheet.height * sheet.width * 3
    if encoding is not None:  # (no file: a matrix printed as CSV text on stdout)
        written = [path for path in (out_path, montage_path) if path is not None] or [Path("stdout.csv")]
        report.notes.extend(encoding.ignored_by(*written))
    return report
