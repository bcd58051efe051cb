"""Output-size, padding and parameter-count formulas, in pure Python (no numpy).

These are the lecture's formulas; ``kernelcli shape``/``params`` and the array API share them.

Example
-------
>>> conv_output_size(24, 5, stride=2, pad_before=2, pad_after=2)
12
>>> conv_params(228, 32, 3, 3)
65696
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from .errors import ShapeError, UsageError


def check_positive(name: str, value: int) -> int:
    """Return ``value`` if it is an integer >= 1, else raise a UsageError naming it."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise UsageError(f"{name} must be an integer >= 1, got {value!r}")
    return value


def conv_output_size(size: int, f: int, *, stride: int = 1, pad_before: int = 0, pad_after: int = 0, dilation: int = 1) -> int:
    """Output length of a convolution along one axis.

    ``out = (in + pad_before + pad_after - dilation*(f-1) - 1) // stride + 1``; with
    symmetric padding p and dilation 1 this is the lecture's ``(in + 2p - f) // s + 1``.
    Raises ShapeError, naming both sizes, when the kernel does not fit.

    >>> conv_output_size(16, 4)
    13
    """
    span = dilation * (f - 1) + 1
    padded = size + pad_before + pad_after
    if padded < span:
        raise ShapeError(
            f"kernel span {span} (f={f}, dilation={dilation}) is larger than the padded input {padded} "
            f"(in={size}, padding {pad_before}+{pad_after}): the output would be empty"
        )
    return (padded - span) // stride + 1


def pool_output_size(size: int, f: int, *, stride: int, padding: int = 0, dilation: int = 1, ceil_mode: bool = False) -> int:
    """Output length of pooling along one axis, exactly as PyTorch's MaxPool2d/AvgPool2d.

    With ``ceil_mode`` the division rounds up, but a window that would start in the
    right/bottom padding is dropped.

    >>> pool_output_size(5, 2, stride=2, ceil_mode=True)
    3
    """
    span = dilation * (f - 1) + 1
    padded = size + 2 * padding
    numerator = padded - span
    out = (-(-numerator // stride) if ceil_mode else numerator // stride) + 1
    if ceil_mode and (out - 1) * stride >= size + padding:
        out -= 1
    if out < 1:
        raise ShapeError(f"pool window {span} is larger than the padded input {padded} (in={size}, padding={padding})")
    return out


def same_padding(f: int, dilation: int = 1) -> tuple[int, int]:
    """Padding (before, after) for "same": total ``dilation*(f-1)``, the extra cell after.

    For odd f this is the lecture's p = f // 2 on both sides; for an even f the extra
    row/column goes to the bottom/right, as PyTorch and TensorFlow do.

    >>> same_padding(4)
    (1, 2)
    """
    total = dilation * (f - 1)
    return total // 2, total - total // 2


def resolve_padding(padding: str | int | Sequence[int], kh: int, kw: int, dilation: tuple[int, int] = (1, 1)) -> tuple[int, int, int, int]:
    """Turn "same", "valid", an int or (top, bottom, left, right) into four pad widths.

    >>> resolve_padding("same", 3, 3)
    (1, 1, 1, 1)
    >>> resolve_padding((0, 1, 2, 3), 3, 3)
    (0, 1, 2, 3)
    """
    if isinstance(padding, str):
        key = padding.strip().lower()
        if key == "same":
            return (*same_padding(kh, dilation[0]), *same_padding(kw, dilation[1]))
        if key == "valid":
            return (0, 0, 0, 0)
        raise UsageError(f"invalid padding {padding!r}: expected 'same', 'valid', an integer or four integers T,B,L,R")
    if isinstance(padding, bool):
        raise UsageError(f"invalid padding {padding!r}: expected 'same', 'valid', an integer or four integers T,B,L,R")
    if isinstance(padding, int):
        widths: tuple[int, ...] = (padding,) * 4
    else:
        widths = tuple(padding)
        if len(widths) == 2:
            widths = (widths[0], widths[0], widths[1], widths[1])
        if len(widths) != 4 or not all(isinstance(w, int) and not isinstance(w, bool) for w in widths):
            raise UsageError(f"invalid padding {padding!r}: expected one integer, (ph, pw) or (top, bottom, left, right)")
    if any(w < 0 for w in widths):
        raise UsageError(f"invalid padding {padding!r}: pad widths must be >= 0")
    return widths  # type: ignore[return-value]


def parse_padding(text: str) -> str | int | tuple[int, int, int, int]:
    """Parse a CLI padding value: ``same``, ``valid``, ``P`` or ``T,B,L,R``.

    >>> parse_padding("1,1,2,2")
    (1, 1, 2, 2)
    """
    key = text.strip().lower()
    if key in ("same", "valid"):
        return key
    parts = [p.strip() for p in key.split(",")]
    try:
        values = [int(p) for p in parts]
    except ValueError:
        raise UsageError(f"invalid padding {text!r}: expected same, valid, P or T,B,L,R with integers") from None
    if len(values) == 1:
        return resolve_padding(values[0], 1, 1)[0]
    if len(values) != 4:
        raise UsageError(f"invalid padding {text!r}: expected one integer or four (T,B,L,R), got {len(values)}")
    return resolve_padding(tuple(values), 1, 1)


def conv_params(in_channels: int, filters: int, fh: int, fw: int | None = None, *, bias: bool = True, groups: int = 1) -> int:
    """Learnable parameters of a convolution layer: ``[(fh*fw*C/groups) + 1] * K``.

    >>> conv_params(228, 32, 3)
    65696
    """
    fw = fh if fw is None else fw
    if in_channels % groups or filters % groups:
        raise ShapeError(f"groups={groups} must divide both in_channels={in_channels} and filters={filters}")
    return (fh * fw * (in_channels // groups) + (1 if bias else 0)) * filters


def dense_params(n_in: int, n_out: int, *, bias: bool = True) -> int:
    """Parameters of a fully connected layer: ``(n_in + 1) * n_out``.

    >>> dense_params(32768, 10)
    327690
    """
    return (n_in + (1 if bias else 0)) * n_out


def flatten_size(dims: Sequence[int]) -> int:
    """Length of the flattened vector: the product of the dimensions.

    >>> flatten_size((64, 64, 8))
    32768
    """
    return math.prod(dims)


def same_output_size(size: int, stride: int = 1) -> int:
    """Output length of the frameworks' "same" padding: ``ceil(in / s)``.

    TensorFlow's ``padding="SAME"`` (and PyTorch's ``padding="same"``, which allows only
    stride 1) keep this length for every kernel size, odd or even.

    >>> same_output_size(24, 2)
    12
    """
    return -(-size // stride)


def tf_same_padding(size: int, f: int, *, stride: int = 1, dilation: int = 1) -> tuple[int, int]:
    """Padding (before, after) TensorFlow's "SAME" uses along one axis.

    The total is whatever makes the output ``ceil(in / s)``:
    ``max((out - 1)*s + dilation*(f-1) + 1 - in, 0)``, split with the extra cell after
    (bottom/right).  At stride 1 the total is ``dilation*(f-1)``, as :func:`same_padding`.

    >>> tf_same_padding(24, 4)
    (1, 2)
    >>> tf_same_padding(24, 5, stride=2)
    (1, 2)
    """
    out = same_output_size(size, stride)
    total = max((out - 1) * stride + dilation * (f - 1) + 1 - size, 0)
    return total // 2, total - total // 2


def parse_dims(text: str, *, name: str, min_len: int = 1, max_len: int = 3, forms: str | None = None) -> tuple[int, ...]:
    """Parse sizes written ``N``, ``HxW``, ``HxWxC`` (or ``(64,64,8)``) into positive integers.

    ``name`` is the option the text came from and ``forms`` the accepted spellings; a
    UsageError names both and the value.

    >>> parse_dims("64x64x8", name="--flatten")
    (64, 64, 8)
    >>> parse_dims("(3, 3, 1)", name="--flatten")
    (3, 3, 1)
    """
    if forms is None:
        forms = {1: "N", 2: "N or HxW", 3: "N, HxW or HxWxC"}.get(max_len, "sizes separated by x")
    body = text.strip().strip("()[]").strip()
    for sep in ("×", "X", ",", "*"):
        body = body.replace(sep, "x")
    parts = [part.strip() for part in body.split("x")]
    try:
        dims = tuple(int(part) for part in parts)
    except ValueError:
        raise UsageError(f"invalid {name} {text!r}: expected {forms} with integers >= 1") from None
    if not min_len <= len(dims) <= max_len:
        raise UsageError(f"invalid {name} {text!r}: expected {forms}, got {len(dims)} sizes")
    if any(d < 1 for d in dims):
        raise UsageError(f"invalid {name} {text!r}: every size must be an integer >= 1")
    return dims


def conv_transpose_output_size(size: int, f: int, *, stride: int = 1, padding: int = 0, output_padding: int = 0, dilation: int = 1) -> int:
    """Output length of a transposed convolution ("up-convolution") along one axis.

    ``out = (in - 1)*stride - 2*padding + dilation*(f - 1) + output_padding + 1``, as PyTorch's
    ConvTranspose2d; U-Net's 2x2 up-convolution with stride 2 doubles the size.
    Raises ShapeError when the padding would leave nothing.

    >>> conv_transpose_output_size(28, 2, stride=2)
    56
    """
    out = (size - 1) * stride - 2 * padding + dilation * (f - 1) + output_padding + 1
    if out < 1:
        raise ShapeError(
            f"transposed convolution output would be {out} (in={size}, f={f}, stride={stride}, "
            f"padding={padding}, output_padding={output_padding}, dilation={dilation}): padding too large"
        )
    return out
