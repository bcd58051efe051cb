"""What every file job shares: its options, its report, and the read -> check -> compute -> write frame.

:func:`run_file_job` is the frame of every single-result job (``convolve``, ``pad``, ``pool``,
``chain``); the checks here (peak memory, finite results, clipping notes) are common to them
and to the feature-map jobs.  Split from :mod:`kernelcli.jobs`, which re-exports every name.

>>> ConvolveOptions().padding
'same'
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .errors import UsageError
from .io.common import FILTER, RunNeed
from .job_checks import (  # noqa: F401 - re-exported (their former home)
    CLIP_NOTE_SHARE, alpha_not_carried, as_written, check_conv_peak, check_finite_result, check_plane_padding, check_volume_kernel, clip_note,
    few_levels_note, float32_tiff_note, with_alpha,
)
from .modes import canonical_pad_mode, canonical_rescale
from .records import asdict, field, record, replace
from .volume_inputs import VOLUME_SUFFIXES


@record(frozen=True)
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
    #: how image outputs are encoded (an :class:`kernelcli.io.image_writing.Encoding`; None: the defaults)
    encoding: Any = None
    #: the ``--kernel-scale`` as typed (applied to the kernels as they are read; here for names and the montage)
    kernel_scale: str | None = None

    def __post_init__(self) -> None:
        import math

        if not math.isfinite(self.pad_value):
            raise UsageError(f"--pad-value {self.pad_value}: expected a finite number")
        object.__setattr__(self, "pad_mode", canonical_pad_mode(self.pad_mode))
        if self.pad_mode == "constant" and isinstance(self.pad_value, int) and float(self.pad_value) != self.pad_value:  # before any input, as pad
            raise UsageError(f"--pad-value {self.pad_value}: a fill is exact up to 2**53 = {2**53} in magnitude (it is "
                             f"carried as a float64, which reads it as {int(float(self.pad_value))})")
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

    def words(self) -> list[str]:
        """What these options change from the defaults, as words of a name (:func:`kernelcli.result_names.conv_words`)."""
        from .result_names import conv_words

        return conv_words(self.stride, self.padding, self.dilation, self.pad_mode, self.pad_value, self.flip, self.kernel_scale)

    def label(self, name: str) -> str:
        """A result's name for kernel(s) ``name``: the name, then what differs from the defaults (``sobel_v_s2``).

        >>> ConvolveOptions(stride=2, flip=True).label("sobel_v"), ConvolveOptions().label("sobel_v")
        ('sobel_v_s2_flip', 'sobel_v')
        """
        return "_".join([name, *self.words()])

    def conv_kwargs(self) -> dict[str, Any]:
        """The options :func:`kernelcli.banks.filter_bank` takes."""
        return {
            "stride": self.stride, "padding": self.padding, "pad_mode": self.pad_mode, "pad_value": self.pad_value,
            "dilation": self.dilation, "flip": self.flip, "combine": self.combine or "per-channel",
            "activation": self.activation, "paths": self.paths,
        }


@record
class Report:
    """What one job did, for the summary line and ``--json``."""

    input: str
    operation: str
    input_shape: list[int]
    output_shape: list[int]
    output: str | None
    #: the result's extremes: ints for a whole-number dtype (exact past 2**53), floats for a float one
    minimum: float | int
    maximum: float | int
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
    def of(cls, src: Path, label: str, data: Any, result: Any, seconds: float, out_path: Path | None, notes: list[str],
           extremes: tuple[float, float] | None = None, **extra: Any) -> "Report":
        """The report of one input array turned into one result array (refused if it overflowed).

        ``extremes``: the result's minimum and maximum when already known (``result`` then
        only gives its shape and dtype: :class:`kernelcli.bands.Bands`, say).
        """
        minimum, maximum = min_max(result) if extremes is None else extremes
        if str(result.dtype).startswith("float"):  # (whole-number bands of a float result are counted as ints)
            minimum, maximum = float(minimum), float(maximum)
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


def min_max(values: Any) -> tuple[Any, Any]:
    """:func:`kernelcli.ndsupport.min_max` (its former home; numpy is imported only when called)."""
    from .ndsupport import min_max as reduce

    return reduce(values)


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
    bands: Callable[[Any], Any] | None = None,
    alpha: Callable[[Any], Any] | None = None,
    untiled: str | None = None,
    volumes: tuple[str, ...] = (),
    need: RunNeed = FILTER,
) -> Report:
    """Read one input, apply ``compute`` to its array, write the result (or keep the matrix).

    The output path is checked (exit 4) before the input is read.  ``out=None`` is only
    for matrix inputs, whose result is returned in ``Report.matrix``.  A 3-D array input
    is read in ``layout`` (see :mod:`kernelcli.layout`): ``compute`` sees it channels-last
    and a ``.npy`` output gets the input's axis order back; ``volume_compute``, when given,
    takes a ``zyx`` array as it is (3-D pooling, say).  ``bands``, when given, is ``compute``
    as :class:`kernelcli.bands.Bands`: used when the result becomes an 8-bit picture value by
    value (:func:`kernelcli.io.pictures.takes_bands`), so that no whole float result is held;
    the same bytes and report (``seconds`` then include the conversion to 8 bits).  ``alpha``, when
    given, is the operation an input's alpha channel takes too (``pad`` and ``pool`` change the size: the
    alpha is padded or pooled as numpy.pad and PyTorch treat an RGBA array's fourth channel), its result
    rounded and clipped into the alpha's own type, or None where it cannot follow (dropped, with a note); without
    it an alpha is carried through where the size stays, and dropped with a note where it changes.  ``untiled``,
    when given, is what to do instead of ``--tiled`` where the tiled path cannot take the call (a memory refusal
    of an input it reads offers the tiled path otherwise: see :func:`_named`).  ``volumes``: the volume types the
    command reads on its volume path, named (with the image types) where the input is of no type read.
    ``need``: what ``compute`` holds beside the input (:class:`kernelcli.io.common.RunNeed`: a filter's, in float, by default),
    as the memory cap counts it before the input is decoded.
    """
    from .io import formats
    from .io.offered import OutputOffer

    src = formats.check_input_path(input_path)
    offer = OutputOffer((src,), layout=layout, rescale=rescale)  # (what a refused output type is offered instead)
    out_path = formats.check_output_path(out, [src], force=force, offer=offer) if out is not None else None
    loaded = formats.read_input(src, max_pixels=max_pixels, volumes=volumes, words="cli", need=need)
    if out_path is not None:
        _check_channels_before_work(out_path, loaded, layout)
    if bands is not None and BANDED and out_path is not None and loaded.kind == "image" and layout is None:
        from .io.pictures import takes_bands

        if takes_bands(out_path, loaded, rescale, 1 if loaded.data.ndim == 2 else loaded.data.shape[2]):
            return _banded_job(src, label, bands, loaded, out_path, rescale=rescale, force=force, encoding=encoding)
    start = time.perf_counter()
    result = _named(src, lambda: _compute_in_layout(loaded, compute, layout, out_path, volume_compute), untiled)
    seconds = time.perf_counter() - start
    report = Report.of(src, label, loaded.data, result, seconds, out_path, loaded.notes)
    if loaded.alpha is not None:
        report.input_shape = with_alpha(report.input_shape)
    if alpha is not None and loaded.alpha is not None:
        moved = _named(src, lambda: alpha(loaded.alpha))
        if moved is None:  # (the operation moves the pixels where the alpha cannot follow: a chain's valid kernel step)
            report.notes.append(f"{src.name}: a step moves the pixels off the input's grid, so the alpha channel is dropped")
        loaded = replace(loaded, alpha=None if moved is None else _alpha_of(moved, loaded.alpha.dtype))
    if loaded.alpha is not None and result.shape[:2] != loaded.alpha.shape:
        report.notes.append(f"{src.name}: the output size differs from the input's, so the alpha channel is dropped")
    if out_path is None:
        if loaded.kind != "matrix":
            raise UsageError(f"{src}: an image result needs an output path (--out)")
        report.matrix = result.tolist()
        if encoding is not None:  # printed as CSV text on stdout
            report.notes.extend(encoding.ignored_by(Path("stdout.csv")))
        if rescale not in (None, "none"):  # given, and nothing done: say so (as for a .npy or .csv output)
            report.notes.append(rescale_not_printed(rescale))
        return report
    # the writer needs the input's depth and alpha, not its pixels: freed while it encodes
    loaded = replace(loaded, data=None)
    _write_single(report, out_path, result, loaded, rescale=rescale, force=force, encoding=encoding, zarr=offer.writes_zarr())
    if encoding is not None:
        report.notes.extend(encoding.ignored_by(out_path))
    return report


def _alpha_of(values: Any, dtype: Any) -> Any:
    """An operation's alpha in the input alpha's integer type: rounded half to even and clipped, as the
    colour channels of an image output are (``--rescale clip``).

    >>> import numpy as np
    >>> _alpha_of(np.array([[127.5, 128.5, 300.0]], np.float32), np.dtype(np.uint8))
    array([[128, 128, 255]], dtype=uint8)
    """
    import numpy as np

    if values.dtype == dtype:
        return values
    info = np.iinfo(dtype)
    return np.clip(np.rint(values), info.min, info.max).astype(dtype)


#: whether :func:`run_file_job` may make an 8-bit picture band by band (tests switch it off to compare)
BANDED = True


def _banded_job(src: Path, label: str, bands: Callable[[Any], Any], loaded: Any, out_path: Path, *, rescale: str | None,
                force: bool, encoding: Any) -> Report:
    """:func:`run_file_job` for a result made into an 8-bit picture band by band (see there)."""
    from .io.pictures import picture_8bit, write_picture_8bit

    start = time.perf_counter()
    result = _named(src, lambda: bands(loaded.data))
    picture = _named(src, lambda: picture_8bit(out_path, result, rescale or "clip", encoding,
                                               check=lambda lo, hi: check_finite_result(src, label, lo, hi, result.dtype)))
    seconds = time.perf_counter() - start
    report = Report.of(src, label, loaded.data, result, seconds, out_path, loaded.notes, extremes=(picture.minimum, picture.maximum))
    if loaded.alpha is not None:
        report.input_shape = with_alpha(report.input_shape)
    loaded = replace(loaded, data=None)
    written = write_picture_8bit(out_path, picture, force=force, encoding=encoding)
    if encoding is not None:
        report.notes.extend(encoding.ignored_by(out_path))
    few = few_levels_note(out_path, picture.minimum, picture.maximum, "uint8", rescale, result)
    del picture
    _report_written(report, written, result)
    if few:
        report.notes.append(few)
    _metadata_note(report, loaded, out_path)
    return report


def _metadata_note(report: Report, loaded: Any, out_path: Path) -> None:
    """Say which of the input image's resolution and ICC profile the image output does not carry."""
    from .io.naming import IMAGE_SUFFIXES

    found = getattr(loaded, "metadata", None)
    if found and out_path.suffix.lower() in IMAGE_SUFFIXES:
        report.notes.append(f"{loaded.path.name}: its {' and '.join(found)} {'are' if len(found) > 1 else 'is'} not carried "
                            f"to {out_path.name} (kernelcli writes the pixels only)")


def _named(src: Path, call: Callable[[], Any], untiled: str | None = None) -> Any:
    """``call()``, with the input's name put in front of a resource or value error that lacks it; a memory
    refusal of an input the tiled path reads says so (the automatic switch estimates from the file alone,
    without the kernel's padding, so a large kernel can need more than it thought), or says ``untiled``
    where the tiled path cannot take the call."""
    from .errors import KernelcliError
    from .limits import ResourceLimit
    from .tiled.stores import TILED_INPUTS

    try:
        return call()
    except KernelcliError as exc:
        from .ndsupport import RoundedInput

        if isinstance(exc, RoundedInput):  # the file, not the API's x; no advice for the Python API
            raise exc.for_input(str(src)) from None
        message = str(exc)
        if isinstance(exc, ResourceLimit) and src.suffix.lower() in TILED_INPUTS:
            message += f"; or {untiled or 'run it tile by tile: --tiled'}"
        import re

        # the name as a word of its own: a series folder "s" is not named by the s of "size" or "PyTorch's"
        words = [rf"(?<![\w.'-]){re.escape(name)}(?![\w-])|'{re.escape(name)}'" for name in {str(src), src.name} if name]
        if any(re.search(word, message) for word in words):
            if message == str(exc):
                raise
            raise type(exc)(message) from None
        raise type(exc)(f"{src}: {message}") from None


def in_volume_dtype(data: Any, layout: str | None) -> Any:
    """A ``--layout zyx`` array's voxels as a volume computes them: in :func:`kernelcli.ndsupport.volume_dtype` (float32
    for 8- and 16-bit data) where the image rule's dtype differs (float64 for 16-bit), so that a 2-D kernel slice by
    slice gives the dtype and bytes of the same voxels as a NIfTI, a 3-D kernel or a 3-D pool.  Exact: float32 holds
    every 16-bit integer.  Anything else is returned as it is.

    >>> import numpy as np
    >>> in_volume_dtype(np.ones((2, 2, 2), np.int16), "zyx").dtype, in_volume_dtype(np.ones((2, 2), np.int16), None).dtype
    (dtype('float32'), dtype('int16'))
    """
    from .ndsupport import compute_dtype, volume_dtype

    if layout != "zyx":
        return data
    want = volume_dtype(data.dtype)
    return data.astype(want) if want != compute_dtype(data.dtype) else data


def _check_channels_before_work(out_path: Path, loaded: Any, layout: str | None) -> None:
    """Refuse, before any work, a per-channel result an image output cannot hold as channels
    (:func:`kernelcli.io.image_writing.check_image_channels`): it has the input's channels, in its layout.  A ``zyx``
    volume's slices are checked by :func:`_one_plane` (in :func:`_compute_in_layout`, before the work where a 2-D
    operation keeps them, on the result where a 3-D one makes them)."""
    from .io.image_writing import check_image_channels
    from .io.naming import IMAGE_SUFFIXES
    from .layout import input_layout

    data = loaded.data
    if out_path.suffix.lower() not in IMAGE_SUFFIXES or data.ndim != 3:
        return
    chosen = input_layout(data, loaded.kind, layout, str(loaded.path), loaded.format)
    if chosen != "zyx":
        check_image_channels(out_path, data.shape[0] if chosen == "chw" else data.shape[2])


def _one_plane(out_path: Path | None, name: str, shape: tuple[int, ...], pooled: bool) -> bool:
    """Whether a ``--layout zyx`` result of ``shape`` (Z, Y, X) goes to ``out_path`` as one 2-D plane: a picture or a
    .csv takes one slice as a grey plane; several are refused (exit 2), as its colours or columns would be slices (3
    slices were written as an RGB picture; a pooled (3, 6, 3) as 6x3 pixels of RGB).  ``pooled``: the slices are
    those of a 3-D operation's result (pooled in 3-D: checked once they are known), not the input's.

    >>> _one_plane(Path("o.png"), "v.npy", (1, 8, 8), False), _one_plane(Path("o.npy"), "v.npy", (6, 8, 8), False)
    (True, False)
    >>> _one_plane(Path("o.png"), "v.npy", (3, 4, 4), True)
    Traceback (most recent call last):
    ...
    kernelcli.io.not_held.KeepAdvised: o.png: --layout zyx pools v.npy in 3-D to a volume of 3 slices (3x4x4 as (Z, Y, X)); a .png holds one plane, whose channels are colours, not slices: write .npy to keep the volume (Z, Y, X), or read the array --layout chw to take its planes as an image's channels
    """
    from .io.naming import IMAGE_SUFFIXES, MATRIX_SUFFIXES, keep_as
    from .io.not_held import KeepAdvised

    suffix = out_path.suffix.lower() if out_path is not None else ""
    if (suffix not in IMAGE_SUFFIXES and suffix not in MATRIX_SUFFIXES) or len(shape) != 3:
        return False
    z, y, x = shape
    if z == 1:
        return True
    holds = "one 2-D matrix" if suffix in MATRIX_SUFFIXES else "one plane, whose channels are colours, not slices"
    reads = f"pools {name} in 3-D to" if pooled else f"reads {name} as"
    keep = keep_as(out_path, "npy")
    raise KeepAdvised(f"{out_path}: --layout zyx {reads} a volume of {z} slices ({z}x{y}x{x} as (Z, Y, X)); a {suffix} holds "
                      f"{holds}: {keep} to keep the volume (Z, Y, X), or read the array --layout chw to take its planes "
                      "as an image's channels", ("npy",), keep)


def _compute_in_layout(loaded: Any, compute: Callable[[Any], Any], layout: str | None, out_path: Path | None, volume_compute: Callable[[Any], Any] | None = None) -> Any:
    """``compute`` on the input read in its layout; the result back in that layout for an array output.  A ``zyx``
    result of one slice written to a picture or a .csv is that slice (Y, X) (:func:`_one_plane`)."""
    from .layout import from_hwc, input_layout, to_hwc

    data = loaded.data
    if loaded.kind != "array" and layout is None:
        return compute(data)
    chosen = input_layout(data, loaded.kind, layout, str(loaded.path), loaded.format, loaded.notes)
    if chosen == "zyx" and volume_compute is not None:
        result = volume_compute(data)
        return result[0] if _one_plane(out_path, loaded.path.name, result.shape, True) else result
    if chosen == "zyx" and _one_plane(out_path, loaded.path.name, data.shape, False):
        return compute(data[0])
    result = compute(to_hwc(data, chosen))
    keep_order = out_path is None or out_path.suffix.lower() == ".npy"
    return from_hwc(result, chosen) if keep_order else result


def rescale_not_printed(rescale: str) -> str:
    """The note of a ``--rescale`` given to a call whose result is a matrix printed on stdout, which it leaves raw
    (one kernel, a filter bank's maps, a chain, a pooling).

    >>> rescale_not_printed("clip")
    '--rescale clip is for image outputs; a matrix printed on stdout is the raw result'
    """
    return f"--rescale {rescale} is for image outputs; a matrix printed on stdout is the raw result"


def _write_single(report: Report, out_path: Path, result: Any, loaded: Any, *, rescale: str | None, force: bool, encoding: Any = None,
                  zarr: bool = False) -> None:
    """Write one result like the input, and note when the rescale clipped many values; ``zarr``: the call writes a
    ``.zarr`` too (the tiled path), offered where ``--rescale none`` is refused."""
    from .io import formats
    from .io.not_held import FloatOutputNeeded

    try:
        written = formats.write_result(out_path, result, like=loaded, rescale=rescale, force=force, encoding=encoding)
    except FloatOutputNeeded as exc:
        raise exc.offering(zarr) from None
    if rescale not in (None, "none") and out_path.suffix.lower() in (".npy", ".csv"):  # given, and nothing done: say so
        report.notes.append(f"{out_path.name}: --rescale {rescale} is for image outputs; a {out_path.suffix.lower()} holds "
                            "the raw result")
    few = few_levels_note(out_path, report.minimum, report.maximum, written.dtype, rescale, result)
    _report_written(report, written, result)
    if few:
        report.notes.append(few)
    if written.dtype == "float32":
        float32_tiff_note(report, out_path, result)
    _metadata_note(report, loaded, out_path)
    if loaded.alpha is not None and not written.alpha and loaded.alpha.shape == result.shape[:2]:
        from .io.naming import piped_stream

        keep = ".png" if str(loaded.alpha.dtype) == "uint16" else ".png or .tif"
        if piped_stream(out_path) == "stdout":  # (stdout has no extension to change: its format is --format's)
            keep = "give --format " + ("png" if keep == ".png" else "png|tif")
        else:
            keep = f"write {keep}"
        if out_path.suffix.lower() in (".tif", ".tiff") and written.dtype not in ("uint8", "uint16"):  # a raw TIFF
            keep = f"write an 8- or 16-bit image (--rescale clip|abs|minmax) to keep it with the result; a {written.dtype} TIFF holds no alpha"
        else:
            keep = f"{keep} to keep it"
        report.notes.append(f"{loaded.path.name}: {out_path.name} does not hold the alpha channel, so it is dropped; {keep}")


def _report_written(report: Report, written: Any, result: Any) -> None:
    """What the writer did, into the report: clipped counts, the clipping note, and an alpha channel it
    wrote with the result counted in the output's shape.  The extremes stay the result's as computed
    (they were rounded for an integer output: a 2x2 average of 10.75 said 11 in a .png's record and
    10.75 in a .npy's, beside a note of the true range)."""
    report.clipped_low, report.clipped_high = written.low_clipped, written.high_clipped
    if written.alpha:
        report.output_shape = with_alpha(report.output_shape)
    note = clip_note(written.low_clipped, result, written.nonzero)
    if note:
        report.notes.append(note)


def convolve_volume_array(input_path: str | Path, kernel: Any, options: ConvolveOptions, *, out: str | Path | None,
                           force: bool) -> Report:
    """A 3-D kernel on a ``--layout zyx`` array: the 3-D correlation the tiled path computes for it too
    (:func:`kernelcli.jobs_maps.convolve_bank_file` hands it over)."""
    from .volumes import conv3d

    check_volume_kernel(input_path, options)
    k3 = kernel.array()

    def compute(data):  # a 2-D array: no (Z, Y, X) reading
        raise UsageError(f"{kernel.name}: a 3-D kernel needs a (Z, Y, X) volume (--layout zyx)")

    def compute_volume(data):
        return conv3d(data, k3, padding=options.padding, pad_mode=options.pad_mode, pad_value=options.pad_value,
                      flip=options.flip, paths=options.paths)

    # named by what the options change, as its default file name and the tiled record are (k3_circular)
    report = run_file_job(input_path, f"convolve {options.label(kernel.name)}", compute, out=out, force=force,
                          rescale=options.rescale, max_pixels=options.max_pixels, layout=options.layout,
                          volume_compute=compute_volume, encoding=options.encoding, volumes=VOLUME_SUFFIXES)
    report.kernel = kernel.name
    return report
