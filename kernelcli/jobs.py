"""File-level jobs: read an input, compute, write the result, and report what happened.

This is the layer between the CLI (which parses and prints) and the array API (which
knows nothing of files).  Each job checks everything it can before reading any pixel:
the kernel first (exit 3), then the output path (exit 4), then the input.

Several feature maps (a filter bank, ``--weights``, the gallery) go through
:func:`run_maps_job`: one map is written like any single result; several go to ``.npy``
(H', W', K) or a multi-page float32 TIFF, and/or a labelled montage picture.

Example
-------
>>> from kernelcli.jobs import ConvolveOptions, convolve_file       # doctest: +SKIP
>>> report = convolve_file("samples/phantom.png", "sobel_v", ConvolveOptions(), out="edges.png")  # doctest: +SKIP
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .errors import UsageError
from .io.naming import default_output, is_matrix_path, safe_stem  # noqa: F401 - their former home
from .modes import canonical_pad_mode, canonical_rescale


@dataclass(frozen=True)
class ConvolveOptions:
    """Options of a convolution job, validated once."""

    stride: int = 1
    padding: Any = "same"
    pad_mode: str = "constant"
    pad_value: float = 0.0
    dilation: int = 1
    flip: bool = False
    rescale: str | None = None
    max_pixels: int | None = None
    #: 2-D kernels on several channels: "per-channel" (None means it) or "sum"
    combine: str | None = None
    #: applied after the bias: none, relu, leaky_relu, sigmoid or tanh (None: none)
    activation: str | None = None
    #: axis order of a 3-D array input: hwc, chw or zyx (None: hwc when unambiguous)
    layout: str | None = None
    #: the path policy passed to the API (``"cold"`` from the CLI; see kernelcli._core.policy)
    paths: Any = None
    #: how image outputs are encoded (an :class:`kernelcli.io.images.Encoding`; None: the defaults)
    encoding: Any = None

    def __post_init__(self) -> None:
        import math

        if not math.isfinite(self.pad_value):
            raise UsageError(f"--pad-value {self.pad_value}: expected a finite number")
        object.__setattr__(self, "pad_mode", canonical_pad_mode(self.pad_mode))
        if self.rescale is not None:
            object.__setattr__(self, "rescale", canonical_rescale(self.rescale))
        if self.combine is not None or self.activation is not None:
            from .modes import canonical_activation, canonical_combine

            if self.combine is not None:
                object.__setattr__(self, "combine", canonical_combine(self.combine))
            if self.activation is not None:
                object.__setattr__(self, "activation", canonical_activation(self.activation))

    @property
    def plain(self) -> bool:
        """True when nothing asks for layer semantics (no sum over channels, no activation)."""
        return self.combine in (None, "per-channel") and self.activation in (None, "none")

    def conv_kwargs(self) -> dict[str, Any]:
        """The options :func:`kernelcli.layers.filter_bank` takes."""
        return {
            "stride": self.stride, "padding": self.padding, "pad_mode": self.pad_mode, "pad_value": self.pad_value,
            "dilation": self.dilation, "flip": self.flip, "combine": self.combine or "per-channel",
            "activation": self.activation, "paths": self.paths,
        }


@dataclass
class Report:
    """What one job did, for the summary line and ``--json``."""

    input: str
    operation: str
    input_shape: list[int]
    output_shape: list[int]
    output: str | None
    minimum: float
    maximum: float
    seconds: float
    dtype: str
    clipped_low: int = 0
    clipped_high: int = 0
    total: int = 0
    notes: list[str] = field(default_factory=list)
    matrix: list[Any] | None = None
    kernel: str | None = None
    #: labels of the feature maps, in the order of the last axis (several maps only)
    maps: list[str] | None = None
    montage: str | None = None

    @classmethod
    def of(cls, src: Path, label: str, data: Any, result: Any, seconds: float, out_path: Path | None, notes: list[str], **extra: Any) -> "Report":
        """The report of one input array turned into one result array (refused if it overflowed)."""
        minimum, maximum = float(result.min()), float(result.max())
        check_finite_result(src, label, minimum, maximum, result.dtype)
        return cls(
            input=str(src),
            operation=label,
            input_shape=list(data.shape),
            output_shape=list(result.shape),
            output=str(out_path) if out_path else None,
            minimum=minimum,
            maximum=maximum,
            seconds=seconds,
            dtype=str(result.dtype),
            total=int(result.size),
            notes=list(notes),
            **extra,
        )

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (``matrix`` only for matrix inputs; ``maps``/``montage`` when there are any)."""
        d = asdict(self)
        for key in ("matrix", "kernel", "maps", "montage"):
            if d[key] is None:
                d.pop(key)
        return d


#: Share of the non-zero responses clipped below 0 that earns a "--rescale abs" hint: counted
#: among the responses, not all pixels, since an edge filter is zero on most of an image.
CLIP_NOTE_SHARE = 0.10


def run_file_job(
    input_path: str | Path,
    label: str,
    compute: Callable[[Any], Any],
    *,
    out: str | Path | None,
    force: bool = False,
    rescale: str | None = None,
    max_pixels: int | None = None,
    layout: str | None = None,
    volume_compute: Callable[[Any], Any] | None = None,
    encoding: Any = None,
) -> Report:
    """Read one input, apply ``compute`` to its array, write the result (or keep the matrix).

    The output path is checked (exit 4) before the input is read.  ``out=None`` is only
    for matrix inputs, whose result is returned in ``Report.matrix``.  A 3-D array input
    is read in ``layout`` (see :mod:`kernelcli.layout`): ``compute`` sees it channels-last
    and a ``.npy`` output gets the input's axis order back; ``volume_compute``, when given,
    takes a ``zyx`` array as it is (3-D pooling, say).
    """
    from .io import formats

    src = formats.check_input_path(input_path)
    out_path = formats.check_output_path(out, [src], force=force) if out is not None else None
    loaded = formats.read_input(src, max_pixels=max_pixels)
    start = time.perf_counter()
    result = _named(src, lambda: _compute_in_layout(loaded, compute, layout, out_path, volume_compute))
    seconds = time.perf_counter() - start
    report = Report.of(src, label, loaded.data, result, seconds, out_path, loaded.notes)
    if loaded.alpha is not None and result.shape[:2] != loaded.alpha.shape:
        report.notes.append(f"{src.name}: the output size differs from the input's, so the alpha channel is dropped")
    if out_path is None:
        if loaded.kind != "matrix":
            raise UsageError(f"{src}: an image result needs an output path (--out)")
        report.matrix = result.tolist()
        return report
    _write_single(report, out_path, result, loaded, rescale=rescale, force=force, encoding=encoding)
    return report


def _named(src: Path, call: Callable[[], Any]) -> Any:
    """``call()``, with the input's name put in front of a resource or value error that lacks it."""
    from .errors import KernelcliError

    try:
        return call()
    except KernelcliError as exc:
        if str(src) in str(exc) or src.name in str(exc):
            raise
        raise type(exc)(f"{src}: {exc}") from None


def _compute_in_layout(loaded: Any, compute: Callable[[Any], Any], layout: str | None, out_path: Path | None, volume_compute: Callable[[Any], Any] | None = None) -> Any:
    """``compute`` on the input read in its layout; the result back in that layout for an array output."""
    from .layout import from_hwc, input_layout, to_hwc

    data = loaded.data
    if loaded.kind != "array" and layout is None:
        return compute(data)
    chosen = input_layout(data, loaded.kind, layout, str(loaded.path), loaded.format)
    if chosen == "zyx" and volume_compute is not None:
        return volume_compute(data)
    result = compute(to_hwc(data, chosen))
    keep_order = out_path is None or out_path.suffix.lower() == ".npy"
    return from_hwc(result, chosen) if keep_order else result


def _write_single(report: Report, out_path: Path, result: Any, loaded: Any, *, rescale: str | None, force: bool, encoding: Any = None) -> None:
    """Write one result like the input, and note when the rescale clipped many values."""
    from .io import formats

    written = formats.write_output(out_path, result, like=loaded, rescale=rescale, force=force, encoding=encoding)
    report.clipped_low, report.clipped_high = written.low_clipped, written.high_clipped
    if written.dtype.startswith(("uint", "int")):
        # the output holds integers: a float wobble such as -2.1e-05 from a blur is 0 there
        report.minimum, report.maximum = _as_written(report.minimum), _as_written(report.maximum)
    note = clip_note(written.low_clipped, result)
    if note:
        report.notes.append(note)


def _as_written(value: float) -> float:
    """A float result as an integer output holds it, before any clipping: rounded, never -0.

    >>> _as_written(-2.1e-05), _as_written(116.4), _as_written(-1020.0)
    (0.0, 116.0, -1020.0)
    """
    return float(round(value)) + 0.0


def clip_note(low_clipped: int, result: Any) -> str | None:
    """The note when clipping to 0 removed at least CLIP_NOTE_SHARE of the non-zero responses.

    >>> import numpy as np
    >>> clip_note(2, np.array([0.0, 0.0, 0.0, -1.0, -2.0, 3.0]))[:60]
    '67% of the non-zero responses (2 of 3) were negative and cli'
    >>> clip_note(0, np.array([1.0])) is None
    True
    """
    if low_clipped <= 0:
        return None
    import numpy as np

    responses = int(np.count_nonzero(result))
    if low_clipped < CLIP_NOTE_SHARE * responses:
        return None
    return (
        f"{100.0 * low_clipped / responses:.0f}% of the non-zero responses ({low_clipped} of {responses}) were negative "
        "and clipped to 0, so edges of one sign vanish; --rescale abs shows both signs, --rescale minmax stretches the full range"
    )


def check_conv_peak(data: Any, kernel_shape: Any, options: ConvolveOptions, label: str, *, maps: int = 1) -> None:
    """Refuse (exit 2, with the estimate) a convolution whose padded input and outputs
    would need more memory than allowed (see :mod:`kernelcli.limits`)."""
    from .limits import check_peak, conv_peak
    from .shapes import resolve_padding

    kh, kw = int(kernel_shape[-2]), int(kernel_shape[-1])
    pads = resolve_padding(options.padding, kh, kw, (options.dilation, options.dilation))
    itemsize = 4 if data.dtype.itemsize == 1 else 8
    need = conv_peak(data.shape, (kh, kw), maps=maps, stride=options.stride, pads=pads, dilation=options.dilation,
                     itemsize=itemsize, input_itemsize=data.dtype.itemsize)
    check_peak(need, label)


def check_finite_result(src: Any, label: str, minimum: float, maximum: float, dtype: Any) -> None:
    """A result with NaN or infinite values is an overflow: refuse it (exit 2), naming the cause."""
    import math

    if math.isfinite(minimum) and math.isfinite(maximum):
        return
    raise UsageError(
        f"{src}: {label}: the result overflows {dtype} (values beyond its range became infinite or NaN); "
        "use a smaller kernel scale or input values, or a float64 input (.npy)"
    )


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
        check_conv_peak(data, k.shape, options, f"convolve {kernel.name}")
        return api.conv2d(
            data, k, stride=options.stride, padding=options.padding, pad_mode=options.pad_mode,
            pad_value=options.pad_value, dilation=options.dilation, flip=options.flip, paths=options.paths,
        )

    report = run_file_job(input_path, f"convolve {kernel.name}", compute, out=out, force=force, rescale=options.rescale, encoding=options.encoding,
                          max_pixels=options.max_pixels, layout=options.layout)
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

    mode = canonical_pad_mode(mode)

    def compute(data):
        from .limits import check_peak, pad_peak
        from .shapes import resolve_padding

        check_pad_value(value, data.dtype, mode)
        pads = resolve_padding(widths, 1, 1)
        check_peak(pad_peak(data.shape, pads, data.dtype.itemsize), f"pad_{mode} by {','.join(map(str, pads))}")
        return api.pad2d(data, widths, mode=mode, value=value, paths=paths)

    return run_file_job(
        input_path, f"pad_{mode}", compute,
        out=out, force=force, max_pixels=max_pixels, layout=layout, encoding=encoding,
    )


def check_pad_value(value: float, dtype: Any, mode: str = "constant") -> None:
    """``--value`` must be finite, and for an integer image a whole number in its range.

    >>> import numpy as np
    >>> check_pad_value(300, np.dtype(np.uint8))
    Traceback (most recent call last):
    ...
    kernelcli.errors.UsageError: --value 300 does not fit this uint8 input: expected a whole number from 0 to 255
    """
    import math

    import numpy as np

    if not math.isfinite(value):
        raise UsageError(f"--value {value}: expected a finite number")
    if mode != "constant" or np.dtype(dtype).kind not in "biu":
        return
    info = np.iinfo(dtype)
    if not (float(value).is_integer() and info.min <= value <= info.max):
        raise UsageError(f"--value {value:g} does not fit this {np.dtype(dtype)} input: expected a whole number from {info.min} to {info.max}")


def pool_file(
    input_path: str | Path, size: int, *, op: str, stride: int | None, padding: int, ceil_mode: bool,
    count_include_pad: bool, out: str | Path | None, force: bool = False, rescale: str | None = None,
    max_pixels: int | None = None, layout: str | None = None, paths: Any = None, encoding: Any = None,
) -> Report:
    """Pool one input file, each channel separately; a ``zyx`` array in 3-D, as a volume is.

    ``paths`` is the path policy passed to the API (the CLI passes ``"cold"``).
    """
    from . import api

    def compute(data):
        from .limits import check_peak, conv_peak

        need = conv_peak(data.shape, (size, size), stride=stride or size, pads=(padding,) * 4, itemsize=8,
                         input_itemsize=data.dtype.itemsize)
        check_peak(need, f"{op}pool{size}")
        return api.pool2d(
            data, size, stride=stride, op=op, padding=padding, ceil_mode=ceil_mode, count_include_pad=count_include_pad,
            paths=paths,
        )

    def compute_volume(data):
        from .volumes import pool3d

        return pool3d(data, size, stride=stride, op=op, padding=padding, ceil_mode=ceil_mode, count_include_pad=count_include_pad,
                      paths=paths)

    return run_file_job(input_path, f"{op}pool{size}", compute, out=out, force=force, rescale=rescale, max_pixels=max_pixels,
                        layout=layout, volume_compute=compute_volume, encoding=encoding)


# ---------------------------------------------------------------- layers: several feature maps

#: picture formats a montage may be written in
MONTAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff")
#: formats that hold several maps as numbers
MAPS_SUFFIXES = (".npy", ".tif", ".tiff")
#: largest --weights/--bias-file accepted (a first layer's weights are kilobytes)
MAX_WEIGHTS_BYTES = 64 * 1024 * 1024


def load_layer_kernel(spec: str) -> Any:
    """Load a ``--kernel`` spec, allowing a 3-D (C x f x f) kernel file for the layer semantics."""
    from .catalog import load_kernel

    return load_kernel(spec, max_ndim=3)


def parse_bias(text: str) -> list[float]:
    """Parse ``--bias``: one number, or numbers separated by commas (one per kernel).

    >>> parse_bias("0.5"), parse_bias("1, -2,0")
    ([0.5], [1.0, -2.0, 0.0])
    """
    import math

    values = []
    for part in str(text).split(","):
        try:
            value = float(part.strip())
        except ValueError:
            raise UsageError(f"invalid --bias {text!r}: expected a number, or numbers separated by commas (one per kernel)") from None
        if not math.isfinite(value):
            raise UsageError(f"invalid --bias {text!r}: values must be finite")
        values.append(value)
    return values


def _read_npy_file(path: str | Path, what: str) -> Any:
    """np.load for a weights or bias file; every problem is an InvalidKernel naming the file."""
    import numpy as np

    from .errors import InvalidKernel, KernelNotFound

    p = Path(path)
    if p.suffix.lower() != ".npy":
        raise InvalidKernel(f"{p}: {what} must be a .npy file (numpy.save), got {p.suffix or 'no extension'!r}")
    if not p.exists():
        raise KernelNotFound(f"{p}: no such file")
    if not p.is_file():
        raise InvalidKernel(f"{p}: not a regular file")
    size = p.stat().st_size
    from .io.outputs import note_input

    note_input(p)  # weights and bias are inputs: never overwritten by this call's outputs
    if size > MAX_WEIGHTS_BYTES:
        raise InvalidKernel(f"{p}: {size} bytes, more than the {MAX_WEIGHTS_BYTES // 2**20} MiB allowed for {what}")
    from .io.arrays import load_npy

    arr = load_npy(p, InvalidKernel)
    if not isinstance(arr, np.ndarray) or arr.dtype.kind not in "biuf":
        raise InvalidKernel(f"{p}: {what} must hold real numbers, got dtype {getattr(arr, 'dtype', type(arr))}")
    if arr.size == 0:
        raise InvalidKernel(f"{p}: {what} is empty (shape {arr.shape})")
    arr = arr.astype(np.float64)
    if not np.isfinite(arr).all():
        raise InvalidKernel(f"{p}: {what} holds NaN or infinite values")
    return arr


def read_weights(path: str | Path) -> Any:
    """Read a filter bank (K, C, f, f) saved with numpy.save: PyTorch's conv weight layout.

    For instance ``numpy.save("w.npy", model.conv1.weight.detach().numpy())``.  Checked
    before any image is read; problems are InvalidKernel (exit 3).
    """
    from .catalog import MAX_SIDE
    from .errors import InvalidKernel

    w = _read_npy_file(path, "weights")
    if w.ndim != 4:
        hint = "; one filter (C, f, f) is w[None]" if w.ndim == 3 else ""
        raise InvalidKernel(f"{path}: weights must be 4-D (K filters, C channels, f, f) as PyTorch stores them, got shape {w.shape}{hint}")
    if max(w.shape[2:]) > MAX_SIDE:
        raise InvalidKernel(f"{path}: filters of {w.shape[2]}x{w.shape[3]} exceed {MAX_SIDE} per side")
    return w


def read_bias_file(path: str | Path, filters: int) -> Any:
    """Read a bias vector (K,) saved with numpy.save; its length must equal the filter count."""
    from .errors import InvalidKernel

    b = _read_npy_file(path, "bias")
    if b.shape != (filters,):
        raise InvalidKernel(f"{path}: bias must have shape ({filters},), one value per filter of the weights; got {b.shape}")
    return b


def bank_label(names: list[str]) -> str:
    """The default-output label for a bank: its kernel names, or the first three and a count.

    >>> bank_label(["sobel_v", "sobel_h"]), bank_label(list("abcde"))
    ('sobel_v_sobel_h', 'a_b_c_and_2_more')
    """
    shown = "_".join(safe_stem(n) for n in names[:3])
    return shown + (f"_and_{len(names) - 3}_more" if len(names) > 3 else "")


def _layer_words(options: ConvolveOptions, bias: Any) -> str:
    words = []
    if options.combine == "sum":
        words.append("sum")
    if bias is not None:
        words.append("bias")
    if options.activation not in (None, "none"):
        words.append(options.activation)
    return f" [{', '.join(words)}]" if words else ""


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
    from .layers import filter_bank

    names = [k.name for k in kernels]
    if options.layout == "zyx" and (any(len(k.shape) == 3 for k in kernels) or options.combine == "sum"):
        raise UsageError(
            "--layout zyx filters a volume slice by slice with 2-D kernels; a 3-D (channels x f x f) kernel or "
            "--combine sum would add the slices up as if they were channels (save the volume as NIfTI for 3-D kernels)"
        )
    label = f"convolve {', '.join(names)}{_layer_words(options, bias)}"

    def compute(data):
        channels = data.shape[2] if data.ndim == 3 else 1
        per_map = channels if options.combine in (None, "per-channel") else 1
        check_conv_peak(data, max((k.shape for k in kernels), key=lambda sh: sh[-1] * sh[-2]), options, label,
                        maps=max(2, len(kernels) * per_map) if len(kernels) > 1 else 1)
        return filter_bank(data, kernels, names, bias=bias, **options.conv_kwargs())

    report = run_maps_job(
        input_path, label, compute, single=len(kernels) == 1, out=out, montage=montage, force=force,
        rescale=options.rescale, max_pixels=options.max_pixels, describe=_describe_options(options), layout=options.layout,
        encoding=options.encoding,
    )
    if len(kernels) == 1:
        report.kernel = names[0]
    return report


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
) -> Report:
    """Run a trained first layer, ``weights`` (K, C, f, f) and ``bias`` (K,), on one input.

    The result is ``activation(conv2d(x, weights) + bias)`` with PyTorch's numbers, as
    (H', W', K); one filter gives a single map written like any single result.
    """
    from .layers import BankResult, conv_layer

    filters = weights.shape[0]
    if options.flip:
        weights = weights[..., ::-1, ::-1]
    label = f"layer {name} {'x'.join(map(str, weights.shape))}{_layer_words(options, bias)}"
    labels = [f"{name}[{k}]" for k in range(filters)]

    def compute(data):
        check_conv_peak(data, weights.shape, options, label, maps=max(filters, 2) if filters > 1 else 1)
        maps = conv_layer(
            data, weights, bias, stride=options.stride, padding=options.padding, pad_mode=options.pad_mode,
            pad_value=options.pad_value, dilation=options.dilation, activation=options.activation, paths=options.paths,
        )
        return BankResult(maps, labels, labels, [(k, k + 1) for k in range(filters)], ["sum"] * filters)

    return run_maps_job(
        input_path, label, compute, single=filters == 1, out=out, montage=montage, force=force,
        rescale=options.rescale, max_pixels=options.max_pixels, describe=_describe_options(options), layout=options.layout,
        encoding=options.encoding,
    )


def _describe_options(options: ConvolveOptions) -> str:
    """One line for a montage: the padding, stride and dilation the maps were made with."""
    padding = ",".join(map(str, options.padding)) if isinstance(options.padding, tuple) else str(options.padding)
    return f"padding {padding} ({options.pad_mode}), stride {options.stride}, dilation {options.dilation}"


def _check_maps_outputs(src: Path, out: Any, montage: Any, *, single: bool, force: bool) -> tuple[Path | None, Path | None]:
    """Validate the data output and the montage path before any pixel is read (exit 2/4)."""
    from .errors import OutputRefused
    from .io import formats
    from .io.outputs import same_file

    out_path = formats.check_output_path(out, [src], force=force) if out is not None else None
    if out_path is not None and not single and out_path.suffix.lower() not in MAPS_SUFFIXES:
        raise UsageError(
            f"{out_path}: several feature maps need .npy (H', W', maps) or .tif (one float32 page per map); "
            "--montage FILE.png draws them as a picture"
        )
    montage_path = None
    if montage is not None:
        montage_path = formats.check_output_path(montage, [src], force=force)
        if montage_path.suffix.lower() not in MONTAGE_SUFFIXES:
            raise UsageError(f"{montage_path}: a montage is a picture: expected one of {', '.join(MONTAGE_SUFFIXES)}")
        if out_path is not None and (out_path == montage_path or same_file(out_path, montage_path)):
            raise OutputRefused(f"{montage_path}: --out and --montage name the same file")
    return out_path, montage_path


def run_maps_job(
    input_path: str | Path,
    label: str,
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
) -> Report:
    """Read one input, compute a :class:`~kernelcli.layers.BankResult`, write the maps and/or a montage.

    ``single`` (one kernel or filter): the result is written exactly like
    :func:`run_file_job` writes one (an (H', W', C) image for a per-channel kernel).
    Otherwise the maps go to ``out`` as ``.npy`` (H', W', M) or a float32 page each in a
    TIFF.  A matrix input without ``out`` keeps the numbers in ``Report.matrix``: (H', W')
    for one map, (M, H', W') for several, in the order of ``Report.maps``.
    """
    from .io import formats

    src = formats.check_input_path(input_path)
    out_path, montage_path = _check_maps_outputs(src, out, montage, single=single, force=force)
    loaded = formats.read_input(src, max_pixels=max_pixels)
    start = time.perf_counter()
    order, data = "hwc", loaded.data
    if loaded.kind == "array" or layout is not None:
        from .layout import input_layout, to_hwc

        order = input_layout(loaded.data, loaded.kind, layout, str(src), loaded.format)
        data = to_hwc(loaded.data, order)  # channels last for the maps and the montage's input tile
    bank = _named(src, lambda: compute(data))
    seconds = time.perf_counter() - start
    maps = bank.maps
    several = maps.shape[2] > 1 and not single
    if several:
        result = maps
    elif maps.shape[2] == 1:
        result = maps[:, :, 0]
    else:  # one kernel, per channel: an image like the input
        result = maps
    report = Report.of(src, label, loaded.data, result, seconds, out_path, loaded.notes, maps=list(bank.labels) if several else None)
    if out_path is not None and out_path.suffix.lower() == ".npy" and order != "hwc":
        from .layout import from_hwc

        report.output_shape = list(from_hwc(result, order).shape)  # the file keeps the input's axis order
    if loaded.alpha is not None and out_path is not None:
        if several:
            report.notes.append(f"{src.name}: the alpha channel is not carried into feature maps")
        elif result.shape[:2] != loaded.alpha.shape:
            report.notes.append(f"{src.name}: the output size differs from the input's, so the alpha channel is dropped")
    if out_path is None and montage_path is None and loaded.kind != "matrix":
        raise UsageError(f"{src}: an image result needs an output path (--out) or --montage")
    if out_path is None and loaded.kind == "matrix":
        report.matrix = (maps.transpose(2, 0, 1) if several else result).tolist()
    if out_path is not None:
        from .layout import from_hwc

        if not several:
            if out_path.suffix.lower() == ".npy":
                result = from_hwc(result, order)
            _write_single(report, out_path, result, loaded, rescale=rescale, force=force, encoding=encoding)
        elif out_path.suffix.lower() == ".npy":
            formats.write_output(out_path, from_hwc(maps, order), force=force)
        else:
            from .io.images import write_tiff_pages

            write_tiff_pages(out_path, maps, force=force)
    if montage_path is not None:
        from .montage import render_montage, write_sheet

        sheet = render_montage(
            data, montage_tiles(bank), title=f"{src.name}: {label}",
            notes=[f"{describe}; each map stretched from its min (black) to its max (white)"] if describe else (),
        )
        write_sheet(montage_path, sheet, force=force, encoding=encoding)
        report.montage = str(montage_path)
        if report.output is None:
            report.output = str(montage_path)
    return report


#: a gallery computes its maps on the image reduced to at most this many tiles per side
GALLERY_WORK_TILES = 2


def tile_scale_image(data: Any, tile: int) -> tuple[Any, int]:
    """``(image, f)``: ``data`` reduced f x f by area averaging (f whole, the smallest that
    brings the longer side to at most ``GALLERY_WORK_TILES * tile``), or ``data`` itself with f = 1.

    A gallery's maps are thumbnails: computed at that scale, a 12-megapixel photo costs what
    a 400-pixel image does, and each tile shows what the kernel does at the scale seen.
    Rows or columns past the last whole f x f block are left out.

    >>> import numpy as np
    >>> image, f = tile_scale_image(np.ones((1000, 800)), 192)
    >>> image.shape, f
    ((333, 266), 3)
    """
    import numpy as np

    side = max(data.shape[:2])
    factor = -(-side // (GALLERY_WORK_TILES * tile))
    if factor <= 1:
        return data, 1
    h, w = data.shape[0] // factor, data.shape[1] // factor
    rest = data.shape[2:]
    channels = int(np.prod(rest, dtype=np.int64))
    # Sum the f rows of each block, then the f columns: two passes that read memory in
    # order (uint8 sums stay whole numbers in float32, below 2**24 for f < 256).
    dtype = np.float32 if data.dtype == np.uint8 and factor < 256 else np.float64
    rows = data[: h * factor, : w * factor].reshape(h, factor, w * factor * channels).sum(axis=1, dtype=dtype)
    blocks = rows.reshape(h, w, factor, channels).sum(axis=2)
    blocks /= factor * factor
    return blocks.reshape(h, w, *rest), factor


def montage_tiles(bank: Any) -> list[tuple[str, Any]]:
    """Tiles for :func:`kernelcli.montage.render_montage`: a colour tile for a kernel applied per
    channel to three channels, else one grey tile per map."""
    tiles = []
    for name, (start, stop), kind in zip(bank.names, bank.spans, bank.combine):
        if kind == "per-channel" and stop - start == 3:
            tiles.append((name, bank.maps[:, :, start:stop]))
        else:
            tiles.extend((bank.labels[j], bank.maps[:, :, j]) for j in range(start, stop))
    return tiles


def gallery_file(
    input_path: str | Path,
    *,
    out: str | Path,
    family: str | None = None,
    pad_mode: str = "constant",
    tile: int | None = None,
    force: bool = False,
    max_pixels: int | None = None,
    layout: str | None = None,
    paths: Any = None,
    encoding: Any = None,
) -> Report:
    """Apply every catalogue kernel (or one family) to one image and draw them as one sheet.

    "same" padding, per channel (a colour tile for an RGB input); each map stretched on its
    own.  Kernels are applied one at a time and reduced to a tile at once, so a large
    image never holds every full-size map in memory.  A 3-D kernel whose depth differs
    from the image's channels is left out, with a note.
    """
    from .io import formats
    from .catalog import list_kernels
    from .layers import filter_bank
    from .montage import DEFAULT_TILE, range_text, render_montage, to_display, write_sheet

    kernels = list_kernels(family)
    src = formats.check_input_path(input_path)
    _, sheet_path = _check_maps_outputs(src, None, out, single=False, force=force)
    mode = canonical_pad_mode(pad_mode)
    loaded = formats.read_input(src, max_pixels=max_pixels)
    from .layout import input_layout, to_hwc

    data = to_hwc(loaded.data, input_layout(loaded.data, loaded.kind, layout, str(src), loaded.format))
    channels = 1 if data.ndim == 2 else data.shape[2]
    notes = list(loaded.notes)
    tiles: list[tuple[str, Any, str]] = []
    low, high = float("inf"), float("-inf")
    applied = 0
    start = time.perf_counter()
    work, factor = tile_scale_image(data, tile or DEFAULT_TILE)
    sheet_notes = [f"padding same ({mode}), cross-correlation; each map stretched from its min (black) to its max (white)"]
    if factor > 1:
        reduced = f"maps computed on the image reduced {factor}x{factor} (area average) to {work.shape[1]}x{work.shape[0]}, the tiles' scale"
        notes.append(f"{src.name}: {reduced}; ranges are those of the reduced maps")
        sheet_notes.append(reduced)
    for kernel in kernels:
        shape = kernel.shape
        if len(shape) == 3 and shape[0] != channels:
            notes.append(f"{kernel.name}: a {'x'.join(map(str, shape))} kernel needs {shape[0]} channels, the image has {channels}; left out")
            continue
        bank = filter_bank(work, [kernel], [kernel.name], padding="same", pad_mode=mode, paths=paths)
        applied += 1
        caption = f"{kernel.family} {'x'.join(map(str, shape))}"
        for label, maps in montage_tiles(bank):
            low, high = min(low, float(maps.min())), max(high, float(maps.max()))
            tiles.append((label, (to_display(maps), range_text(maps)), caption))
    seconds = time.perf_counter() - start
    if not tiles:
        raise UsageError(f"{src}: no catalogue kernel fits an image of {channels} channel(s)")
    title = f"{src.name} ({'x'.join(map(str, data.shape))}): {applied} kernels" + (f", family {family}" if family else "")
    sheet = render_montage(
        data, tiles, title=title, tile=tile or DEFAULT_TILE, notes=sheet_notes,
    )
    write_sheet(sheet_path, sheet, force=force, encoding=encoding)
    return Report(
        input=str(src),
        operation=f"gallery {family or 'all families'}",
        input_shape=list(data.shape),
        output_shape=[sheet.height, sheet.width, 3],
        output=str(sheet_path),
        minimum=low,
        maximum=high,
        seconds=seconds,
        dtype="uint8",
        total=sheet.height * sheet.width * 3,
        notes=notes,
        maps=[t[0] for t in tiles],
        montage=str(sheet_path),
    )
