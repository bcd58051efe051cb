"""What a file job checks and says about its work: a convolution's memory peak and its padding before it runs, a
result that overflowed, and the notes on what writing it into integers or a TIFF did (clipped responses, a result
that keeps only a few whole numbers, float64 stored as float32, an alpha channel written beside it).
Split from :mod:`kernelcli.jobs_common`, which re-exports every name.

>>> clip_note(1, [0.0, -1.0]) is not None, as_written(-0.3)
(True, 0.0)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .errors import UsageError
from .io.naming import keep_as


#: Share of the non-zero responses clipped below 0 that earns a "--rescale abs" hint: counted
#: among the responses, not all pixels, since an edge filter is zero on most of an image.
CLIP_NOTE_SHARE = 0.10


def float32_tiff_note(report: Any, out_path: Path, result: Any) -> None:
    """Say that a float64 ``result`` went into a float32 TIFF (one map, or the pages of several), counting the values
    float32 rounds to 0 and those it keeps with fewer digits (below its normal range): 1e-50 was 0 in the file
    without a word.  (A value beyond float32's range is refused before writing: :func:`kernelcli.io.tiff_writing.as_float32`.)"""
    if str(getattr(result, "dtype", "")) == "float64":
        report.notes.append(f"{out_path.name}: the float64 result is stored as float32 (a TIFF here holds at most float32, "
                            f"about 7 significant digits{_below_float32(result)}); {keep_as(out_path, 'npy')} to keep every digit")


def _below_float32(result: Any) -> str:
    """The words on ``result``'s non-zero values below float32's normal range: how many float32 rounds to 0, how
    many more it keeps as subnormals, with fewer digits; "" for none.

    >>> import numpy as np
    >>> _below_float32(np.array([1e-50, 1e-40, 0.0, 1.0]))
    "; 1 non-zero value(s) are 0 there (float32's smallest is about 1.4e-45), 1 more below float32's normal range (about 1.2e-38) keep(s) fewer digits"
    """
    import numpy as np

    tiny = np.finfo(np.float32)
    small = result[(result != 0) & (np.abs(result) < float(tiny.tiny))]  # (none, almost always: a short pass)
    if not small.size:
        return ""
    zeroed = int(np.count_nonzero(small.astype(np.float32) == 0))
    said = [f"{zeroed} non-zero value(s) are 0 there (float32's smallest is about {float(tiny.smallest_subnormal):.2g})"] if zeroed else []
    if small.size > zeroed:
        said.append(f"{small.size - zeroed} {'more' if zeroed else 'value(s)'} below float32's normal range (about "
                    f"{float(tiny.tiny):.2g}) keep(s) fewer digits")
    return "; " + ", ".join(said)


def with_alpha(shape: list[int]) -> list[int]:
    """An image's ``shape`` (H, W) or (H, W, C) of its colour channels with its alpha channel counted.

    >>> with_alpha([5, 7]), with_alpha([5, 7, 3])
    ([5, 7, 2], [5, 7, 4])
    """
    return [*shape[:2], (shape[2] if len(shape) == 3 else 1) + 1]


def alpha_not_carried(name: str) -> str:
    """The note of an RGBA input whose maps (a bank's, a sheet's, a gallery's) leave its alpha channel out: said, not
    dropped in silence, in one wording wherever it happens.

    >>> alpha_not_carried("a.png")
    'a.png: the alpha channel is not carried into the maps'
    """
    return f"{name}: the alpha channel is not carried into the maps"


def few_levels_note(out_path: Path, low: Any, high: Any, written: str, rescale: str | None, result: Any) -> str | None:
    """A note when a float result spanning at most 2 (a sigmoid's 0..1, tanh's -1..1, a blur of a 0/1 mask)
    went into integers by clipping: the output keeps only its few whole numbers, a binary image without a word.

    ``result``: the array, or the bands of an 8-bit picture made band by band (gone by now): then only
    fractional extremes tell that something was rounded away.  And the fewest levels of all: a constant result
    under ``--rescale minmax``, which has no range to stretch, written as all 0.

    >>> print(few_levels_note(Path("o.png"), 200.0, 200.0, "uint8", "minmax", None))
    o.png: the result is constant (200): --rescale minmax has no range to stretch, so every pixel is 0; --rescale clip writes the value where the output's range holds it, or write .npy
    """
    if not written.startswith(("uint", "int")) or low is None or high is None:
        return None
    if rescale == "minmax" and float(low) == float(high):
        return (f"{out_path.name}: the result is constant ({float(low):g}): --rescale minmax has no range to stretch, so every "
                f"pixel is 0; --rescale clip writes the value where the output's range holds it, or {keep_as(out_path, 'npy')}")
    if (rescale or "clip") != "clip":
        return None
    if getattr(getattr(result, "dtype", None), "kind", "") != "f" or not float(high) - float(low) <= 2:
        return None
    import numpy as np

    if isinstance(result, np.ndarray):  # (span <= 2: rare, so this pass is too)
        if not np.any(result != np.rint(result)):  # whole numbers (a 0/1 mask kept as it is): nothing is lost
            return None
    elif float(low).is_integer() and float(high).is_integer():
        return None
    info = np.iinfo(np.dtype(written))  # clipped into the type: tanh's -1..1 as uint8 keeps 0 and 1, not -1
    kept = sorted({min(max(as_written(v), float(info.min)), float(info.max)) for v in (low, high)})
    return (f"{out_path.name}: the result lies within [{float(low):.3g}, {float(high):.3g}]: as {written} it keeps only the whole "
            f"numbers {' to '.join(f'{v:g}' for v in kept)}; --rescale minmax stretches it over the full range, or {keep_as(out_path, 'npy')}")


def as_written(value: float) -> float:
    """A float result as an integer output holds it, before any clipping: rounded, never -0.

    >>> as_written(-2.1e-05), as_written(116.4), as_written(-1020.0)
    (0.0, 116.0, -1020.0)
    """
    return float(round(value)) + 0.0


def clip_note(low_clipped: int, result: Any, responses: int | None = None) -> str | None:
    """The note when clipping to 0 removed at least CLIP_NOTE_SHARE of the non-zero responses.

    ``responses``: the non-zero values of ``result`` when already counted (the writer does, as
    it converts), else counted here.

    >>> import numpy as np
    >>> clip_note(2, np.array([0.0, 0.0, 0.0, -1.0, -2.0, 3.0]))[:60]
    '67% of the non-zero responses (2 of 3) were negative and cli'
    >>> clip_note(0, np.array([1.0])) is None
    True
    """
    if low_clipped <= 0:
        return None
    import numpy as np

    if responses is None:
        responses = int(np.count_nonzero(result))
    if low_clipped < CLIP_NOTE_SHARE * responses:
        return None
    return (
        f"{100.0 * low_clipped / responses:.0f}% of the non-zero responses ({low_clipped} of {responses}) were negative "
        "and clipped to 0, so edges of one sign vanish; --rescale abs shows both signs, --rescale minmax stretches the full range"
    )


def check_conv_peak(data: Any, kernel_shape: Any, options: Any, label: str, *, maps: int = 1, layer: bool = False) -> None:
    """Refuse (exit 2, with the estimate) a convolution whose padded input and outputs
    would need more memory than allowed (see :mod:`kernelcli.limits`); ``layer``: some of its
    ``maps`` are a convolution layer's (:func:`kernelcli.limits.layer_peak` counts what that holds)."""
    from .limits import check_peak, conv_peak, layer_peak
    from .shapes import resolve_padding

    check_plane_padding(options.padding)
    kh, kw = int(kernel_shape[-2]), int(kernel_shape[-1])
    pads = resolve_padding(options.padding, kh, kw, (options.dilation, options.dilation))
    itemsize = 4 if data.dtype.itemsize == 1 else 8
    need = conv_peak(data.shape, (kh, kw), maps=maps, stride=options.stride, pads=pads, dilation=options.dilation,
                     itemsize=itemsize, input_itemsize=data.dtype.itemsize)
    if layer:
        need = max(need, layer_peak(data.shape, (kh, kw), filters=maps, stride=options.stride, pads=pads,
                                    dilation=options.dilation, itemsize=itemsize, input_itemsize=data.dtype.itemsize))
    check_peak(need, label)


#: why an average pool overflows though its average fits (the README's dtype rule: PyTorch's sum, to the bit)
AVG_SUM = ("summed in the result's dtype, as PyTorch's avg_pool2d and avg_pool3d sum it, which give inf there too; "
           "the average itself would fit")


def check_finite_result(src: Any, label: str, minimum: float, maximum: float, dtype: Any) -> None:
    """A result with NaN or infinite values is an overflow: refuse it (exit 2), naming the cause (:func:`overflow_said`).

    >>> check_finite_result("a.npy", "avgpool2", float("inf"), float("inf"), "float32")
    Traceback (most recent call last):
    ...
    kernelcli.errors.UsageError: a.npy: avgpool2: a window's sum overflows float32 (an average is summed in the result's dtype, as PyTorch's avg_pool2d and avg_pool3d sum it, which give inf there too; the average itself would fit); give a float64 input (.npy) or smaller input values
    """
    import math

    if math.isfinite(minimum) and math.isfinite(maximum):
        return
    raise UsageError(f"{src}: {overflow_said(label, dtype, src)}")


def overflow_said(label: str, dtype: Any, src: Any = None) -> str:
    """Why the ``dtype`` result of ``label``, from a finite input, holds NaN or infinity, and what to do (a float64
    input of ``src``'s kind: :func:`float64_input`).  An average pool alone (``label`` ``avgpool...``) can only
    overflow in a window's sum (:data:`AVG_SUM`).

    >>> overflow_said("convolve box:3", "float64")
    'convolve box:3: the result overflows float64 (values beyond its range became infinite or NaN); use a smaller kernel scale or input values'
    """
    wider = str(dtype) != "float64"  # (a float64 result has no wider type)
    if label.startswith("avgpool"):
        return (f"{label}: a window's sum overflows {dtype} (an average is {AVG_SUM}); give "
                f"{float64_input(src) + ' or ' if wider else ''}smaller input values")
    pooled = f"; an avgpool step's window sum may be what overflowed (it is {AVG_SUM})" if "| avgpool" in label else ""
    return (f"{label}: the result overflows {dtype} (values beyond its range became infinite or NaN); "
            f"use a smaller kernel scale or input values{', or ' + float64_input(src) if wider else ''}{pooled}")


def float64_input(src: Any = None) -> str:
    """The float64 input that computes ``src``'s call in float64, in words that keep what ``src`` holds beside its
    values: a volume's geometry is kept by a volume file (a .npy drops its spacing and orientation), a Zarr store's
    axes by a store.

    >>> float64_input("a.npy"), float64_input("ct.nii.gz")
    ('a float64 input (.npy)', 'a float64 volume (saved as a float64 NIfTI it keeps its geometry; a .npy drops it)')
    """
    if src is not None:
        from .tiled.stores import is_store_input
        from .volume_inputs import is_volume_input

        if is_volume_input(src):
            return "a float64 volume (saved as a float64 NIfTI it keeps its geometry; a .npy drops it)"
        if is_store_input(src):
            return "a float64 input (a float64 Zarr store keeps its axes; or .npy)"
    return "a float64 input (.npy)"


#: what ``--layout zyx`` does with kernels: the first half of each of its refusals (:func:`zyx_kernels`)
ZYX_KERNELS = ("--layout zyx filters a volume slice by slice with 2-D kernels, and takes one 3-D kernel alone (a 3-D "
               "correlation)")


def zyx_kernels(shapes: list[tuple[int, ...]], *, combine: str | None, activation: str | None, bias: Any,
                montage: Any, weights: tuple[int, ...] | None = None) -> bool:
    """How an array read ``--layout zyx`` takes kernels of these ``shapes``: True for one 3-D kernel alone (a 3-D
    correlation), False for 2-D kernels (slice by slice); a UsageError naming what this call gave that would treat the
    slices as channels (several 3-D kernels, or a 3-D kernel with a bias, an activation or a montage; ``--combine
    sum``; ``weights``, a ``--weights`` layer's (K, C, f, f) shape), and the two readings it could mean: ``--layout
    chw`` or one 3-D kernel.  One rule for a file's call and for stdin's checks before it is read (a file was refused,
    exit 2, where stdin first refused an existing ``-o``, exit 4).

    >>> zyx_kernels([(3, 3, 3)], combine=None, activation=None, bias=None, montage=None)
    True
    >>> zyx_kernels([(3, 3, 3), (3, 3, 3)], combine=None, activation=None, bias=None, montage=None)
    Traceback (most recent call last):
    ...
    kernelcli.errors.UsageError: --layout zyx filters a volume slice by slice with 2-D kernels, and takes one 3-D kernel alone (a 3-D correlation); several 3-D kernels would treat the slices as channels: --layout chw reads them so
    """
    if weights is not None:  # (K, C, f, f) sums its C over the slices: chw's reading, where -k's is a 3-D correlation
        raise UsageError(
            f"{ZYX_KERNELS}; --weights {tuple(weights)} would sum the slices as a layer's channels: give --layout chw for "
            "that (the slices as the weights' channels, summed), or -k FILE with one (Z, f, f) kernel for a 3-D correlation"
        )
    if one_3d_correlation(shapes, combine=combine, activation=activation, bias=bias, montage=montage):
        return True
    deep = sum(len(shape) == 3 for shape in shapes)
    given = []  # (a bias, an activation and a montage run slice by slice with 2-D kernels: refused with a 3-D one alone)
    if deep:
        given += ["several 3-D kernels" if deep > 1 else "a 3-D kernel beside other kernels"] if len(shapes) > 1 else []
        given += ["a bias"] if bias is not None else []
        given += ["an activation"] if activation not in (None, "none") else []
        given += ["a montage"] if montage is not None else []
    given += ["--combine sum"] if combine == "sum" else []
    if given:
        said = ", ".join(given[:-1]) + (" and " if len(given) > 1 else "") + given[-1]
        raise UsageError(f"{ZYX_KERNELS}; {said} would treat the slices as channels: --layout chw reads them so")
    return False


def one_3d_correlation(shapes: list[tuple[int, ...]], *, combine: str | None, activation: str | None, bias: Any,
                       montage: Any) -> bool:
    """Whether ``--layout zyx`` takes kernels of these ``shapes`` as a 3-D correlation: one 3-D kernel alone, without
    a bias, an activation, a montage or ``--combine sum`` (:func:`zyx_kernels`); such a call reads a 3-D array as a
    volume as plausibly as an image with channels, which its depth cannot decide.

    >>> one_3d_correlation([(3, 3, 3)], combine=None, activation=None, bias=None, montage=None)
    True
    """
    plain = combine in (None, "per-channel") and activation in (None, "none")
    return len(shapes) == 1 and len(shapes[0]) == 3 and plain and bias is None and montage is None


def check_volume_kernel(src: Any, options: Any) -> None:
    """Refuse what a 3-D kernel on a (Z, Y, X) array cannot do: it is a 3-D correlation at stride 1 and
    dilation 1 (:func:`kernelcli.volumes.conv3d`), on the in-memory and the tiled path alike.

    >>> from kernelcli.jobs_common import ConvolveOptions
    >>> check_volume_kernel("v.npy", ConvolveOptions(stride=2))
    Traceback (most recent call last):
    kernelcli.errors.UsageError: v.npy: --stride 2 not supported for a 3-D kernel on a (Z, Y, X) volume: it runs at stride 1 and dilation 1
    """
    from .shapes import VOLUME_PADDING_FORMS, refuse_yx_widths

    given = [f"{name} {shown_widths(value)}" for name, value in (("--stride", options.stride), ("--dilation", options.dilation))
             if any(int(v) != 1 for v in (value if isinstance(value, (tuple, list)) else (value,)))]
    if given:
        raise UsageError(f"{src}: {', '.join(given)} not supported for a 3-D kernel on a (Z, Y, X) volume: "
                         "it runs at stride 1 and dilation 1")
    refuse_yx_widths(options.padding, f"a 3-D kernel on a (Z, Y, X) volume takes {VOLUME_PADDING_FORMS} (e.g. 0,1,1 to leave "
                     "Z unpadded)", src)


def check_plane_padding(padding: Any) -> None:
    """Refuse three or six ``--padding`` widths for a 2-D kernel (each slice's, an image's): they are a 3-D kernel's.

    >>> check_plane_padding((1, 1, 1))
    Traceback (most recent call last):
    ...
    kernelcli.errors.UsageError: --padding 1,1,1: three widths are for a 3-D kernel on a (Z, Y, X) volume (Z, Y and X); a 2-D kernel takes same, valid, P or T,B,L,R
    """
    if isinstance(padding, tuple) and len(padding) in (3, 6):
        raise UsageError(f"--padding {shown_widths(padding)}: {'three' if len(padding) == 3 else 'six'} widths are for a 3-D kernel on "
                         "a (Z, Y, X) volume (Z, Y and X); a 2-D kernel takes same, valid, P or T,B,L,R")


def shown_widths(value: Any) -> str:
    return ",".join(map(str, value)) if isinstance(value, (tuple, list)) else str(value)
