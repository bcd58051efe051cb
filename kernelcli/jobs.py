"""File-level jobs: read an input, compute, write the result, and report what happened.

This is the layer between the CLI (which parses and prints) and the array API (which
knows nothing of files).  Each job checks everything it can before reading any pixel:
the kernel first (exit 3), then the output path (exit 4), then the input.

The single-result jobs (``convolve``, ``pad``, ``pool``) live here; what every job shares
(options, :class:`Report`, :func:`run_file_job`) in :mod:`kernelcli.jobs_common`, and the
several-map jobs in :mod:`kernelcli.jobs_maps`; both are re-exported here.

Several feature maps (a filter bank, ``--weights``, the gallery) go through
:func:`run_maps_job`: one map is written like any single result; several go to ``.npy``
(H', W', K) or a multi-page float32 TIFF, and/or a labelled montage picture.

Example
-------
>>> from kernelcli.jobs import ConvolveOptions, convolve_file       # doctest: +SKIP
>>> report = convolve_file("samples/phantom.png", "sobel_v", ConvolveOptions(), out="edges.png")  # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .errors import UsageError
from .io.naming import default_output, is_matrix_path, safe_stem  # noqa: F401 - their former home
from .jobs_common import (  # noqa: F401 - re-exported (their former home)
    CLIP_NOTE_SHARE, ConvolveOptions, Report, as_written, _compute_in_layout, in_volume_dtype, _named, _write_single, check_conv_peak,
    check_finite_result, clip_note, run_file_job,
)
from .jobs_gallery import GALLERY_WORK_TILES, gallery_file, tile_scale_image  # noqa: F401 - re-exported (their former home)
from .jobs_maps import (  # noqa: F401 - re-exported (their former home)
    _describe_options, _layer_words, bank_label, convolve_bank_file, layer_file, montage_tiles, run_maps_job,
)
from .layer_files import (  # noqa: F401 - re-exported (their former home)
    MAX_WEIGHTS_BYTES, _read_npy_file, load_layer_kernel, parse_bias, read_bias_file, read_weights,
)
from .io.common import PAD, pool_need
from .modes import canonical_pad_mode
from .volume_inputs import VOLUME_SUFFIXES


def convolve_file(input_path: str | Path, kernel_spec: Any, options: ConvolveOptions, *, out: str | Path | None, force: bool = False) -> Report:
    """Convolve one input file with one kernel; write to ``out`` (or return the matrix when None).

    ``kernel_spec`` is a catalogue name, a path, a parametric spec or a ``Kernel``; it is
    loaded and validated before anything else (exit 3).
    """
    from . import api
    from .catalog import load_kernel

    kernel = kernel_spec if hasattr(kernel_spec, "array") else load_kernel(str(kernel_spec))
    k = kernel.array()
    if k.ndim != 2 or not options.plain:
        return convolve_bank_file(input_path, [kernel], options, out=out, force=force)

    def compute(data):
        check_conv_peak(data, k.shape, options, f"convolve {options.label(kernel.name)}")
        return api.conv2d(
            in_volume_dtype(data, options.layout), k, stride=options.stride, padding=options.padding, pad_mode=options.pad_mode,
            pad_value=options.pad_value, dilation=options.dilation, flip=options.flip, paths=options.paths,
        )

    def bands(data):
        from .bands import conv2d_bands

        check_conv_peak(data, k.shape, options, f"convolve {options.label(kernel.name)}")
        return conv2d_bands(
            data, k, stride=options.stride, padding=options.padding, pad_mode=options.pad_mode,
            pad_value=options.pad_value, dilation=options.dilation, flip=options.flip, paths=options.paths,
        )

    report = run_file_job(input_path, f"convolve {options.label(kernel.name)}", compute, out=out, force=force, rescale=options.rescale, encoding=options.encoding,
                          max_pixels=options.max_pixels, layout=options.layout, bands=bands, volumes=VOLUME_SUFFIXES)
    report.kernel = kernel.name
    return report


def pad_file(
    input_path: str | Path, widths: Any, *, mode: str, value: float, out: str | Path | None, force: bool = False,
    max_pixels: int | None = None, layout: str | None = None, paths: Any = None, encoding: Any = None,
) -> Report:
    """Pad one input file (every channel); the result keeps the input's dtype and bit depth.

    ``paths`` is the path policy passed to the API (the CLI passes ``"cold"``).
    """
    from . import api
    from .result_names import pad_label

    mode = canonical_pad_mode(mode)
    label = pad_label(widths, mode, value)

    def compute(data):
        from .limits import check_peak, pad_peak
        from .shapes import resolve_padding

        check_pad_value(value, data.dtype, mode)
        pads = resolve_padding(widths, 1, 1)
        check_peak(pad_peak(data.shape, pads, data.dtype.itemsize), label)
        return api.pad2d(data, widths, pad_mode=mode, pad_value=value, paths=paths)

    from .io.not_held import ValuesNotHeld

    try:
        return run_file_job(
            input_path, label, compute,
            out=out, force=force, max_pixels=max_pixels, layout=layout, encoding=encoding, alpha=compute, need=PAD,
        )
    except ValuesNotHeld as exc:  # its advice names --rescale, which pad has not
        raise exc.for_pad() from None


def check_pad_value(value: float, dtype: Any, mode: str = "constant") -> None:
    """``--pad-value`` must be finite, and for a constant fill one the input's dtype holds exactly
    (:func:`kernelcli.ndsupport.check_fill`: a whole number in an integer image's range).

    >>> import numpy as np
    >>> check_pad_value(300, np.dtype(np.uint8))
    Traceback (most recent call last):
    ...
    kernelcli.errors.UsageError: --pad-value 300 does not fit uint8: expected a whole number from 0 to 255
    >>> check_pad_value(1, np.dtype(bool))
    """
    import math

    from .ndsupport import check_fill

    if mode == "constant":
        check_fill(value, dtype, "--pad-value")
        return
    try:
        finite = math.isfinite(value)
    except OverflowError:  # a Python int past float64's range
        finite = False
    if not finite:
        raise UsageError(f"--pad-value {value!r}: expected a finite number")


def pool_file(
    input_path: str | Path, size: int, *, op: str, stride: int | None, padding: int, ceil_mode: bool,
    count_include_pad: bool, out: str | Path | None, force: bool = False, rescale: str | None = None,
    max_pixels: int | None = None, layout: str | None = None, paths: Any = None, encoding: Any = None,
) -> Report:
    """Pool one input file, each channel separately; a ``zyx`` array in 3-D, as a volume is.

    ``paths`` is the path policy passed to the API (the CLI passes ``"cold"``).
    """
    from . import api
    from .result_names import pool_label

    label = pool_label(op, size, stride, padding, ceil_mode, not count_include_pad)
    from .shapes import check_pool_padding

    check_pool_padding(padding, size)  # the rule before the memory it would take (a padding 10**5 was "447 GiB")
    need = pool_need(op, size, stride, padding)

    def compute(data):
        from .limits import check_peak
        from .shapes import refuse_cube_in_2d

        refuse_cube_in_2d(size, str(input_path), zyx_taken=data.ndim == 3 and Path(input_path).suffix.lower() == ".npy")
        h, w = data.shape[:2]
        check_peak(need.bytes(h, w, data.size // max(h * w, 1), data.dtype.itemsize), label)  # (the reader's count)
        return api.pool2d(
            data, size, stride=stride, op=op, padding=padding, ceil_mode=ceil_mode, count_include_pad=count_include_pad,
            paths=paths,
        )

    def compute_volume(data):
        from .medical.pooling import check_slices
        from .volumes import pool3d

        check_slices(Path(input_path), data.shape, size, padding, stride=stride, ceil_mode=ceil_mode, array=True)  # (its advice)
        return pool3d(data, size, stride=stride, op=op, padding=padding, ceil_mode=ceil_mode, count_include_pad=count_include_pad,
                      paths=paths)

    return run_file_job(input_path, label, compute, out=out, force=force, rescale=rescale, max_pixels=max_pixels,
                        layout=layout, volume_compute=compute_volume, encoding=encoding, alpha=compute, volumes=VOLUME_SUFFIXES,
                        need=need)
