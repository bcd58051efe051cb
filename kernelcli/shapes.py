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
from collections.abc import Callable, Sequence
from typing import Any

from .errors import ShapeError, UsageError
from .whole_numbers import (below_floor, flag, integer_value, refused_value, sequence_items, too_many_digits, whole,
                            whole_or_too_long)


#: what ``conv_output_size(padding=)`` takes: conv2d's padding, along one axis
AXIS_PADDING_FORMS = "'same', 'valid', an integer P or (before, after)"


def conv_output_size(size: int, f: int, *, stride: int = 1, pad_before: int = 0, pad_after: int = 0, dilation: int = 1,
                     padding: str | int | Sequence[int] | None = None) -> int:
    """Output length of a convolution along one axis.

    ``size`` is the input's length (``shape --input``) and ``f`` the kernel's (``shape --size``; the window is
    ``size=`` in :func:`~kernelcli.api.pool2d`, a different argument).  ``padding`` takes what conv2d's does, along
    this axis: ``"same"`` (``dilation*(f-1)``, the extra cell after, as ``shape --padding same``), ``"valid"``, P
    or ``(before, after)``; or give the two widths as ``pad_before``/``pad_after`` (not both ways).
    ``out = (in + pad_before + pad_after - dilation*(f-1) - 1) // stride + 1``; with
    symmetric padding p and dilation 1 this is the lecture's ``(in + 2p - f) // s + 1``.
    Raises ShapeError, naming both sizes, when the kernel does not fit.

    >>> conv_output_size(16, 4), conv_output_size(24, 5, stride=2, padding="same")
    (13, 12)
    """
    size, f, stride, dilation = (whole(n, v, 1) for n, v in (("input size", size), ("kernel size", f), ("stride", stride),
                                                               ("dilation", dilation)))
    if padding is not None:
        if (pad_before, pad_after) != (0, 0):
            raise UsageError(f"padding={padding!r} and pad_before={pad_before!r}, pad_after={pad_after!r} both give the "
                             "padding; give one of them")
        pad_before, pad_after = resolve_padding_nd(padding, (f,), (dilation,), forms=AXIS_PADDING_FORMS)
    pad_before, pad_after = whole("padding", pad_before, 0), whole("padding", pad_after, 0)
    span = dilation * (f - 1) + 1
    padded = size + pad_before + pad_after
    if padded < span:
        raise ShapeError(too_large("kernel", f, dilation, size, pad_before, pad_after))
    return (padded - span) // stride + 1


def read_span(out: int, f: int, *, stride: int = 1, dilation: int = 1, whole_strides: bool = False) -> tuple[int, int]:
    """The padded positions that ``out`` windows of ``f`` taps read along one axis, and the stride to walk them at.

    The stride is ``stride``, or 1 where there is one window: a stride past the last window
    moves nothing, and the window reads the same cells at stride 1.  Without that, a stride of
    2**31 gave a map of 2**31 cells for a 1x1 output.  ``whole_strides`` rounds the span up
    to whole strides (the jitted layer splits its columns by stride phase).

    >>> read_span(3, 3, stride=2), read_span(3, 3, stride=2, whole_strides=True), read_span(1, 3, stride=2**63)
    ((7, 2), (8, 2), (3, 1))
    """
    step = stride if out > 1 else 1
    span = (out - 1) * step + dilation * (f - 1) + 1
    return (-(-span // step) * step if whole_strides else span), step


def too_large(what: str, f: int, dilation: int, size: int, pad_before: int, pad_after: int) -> str:
    """The one wording of a window (``"kernel"``, ``"pool window"``) that does not fit its padded input: the span
    with the size and a dilation that makes it (none of 1: ``pool`` has no dilation to name).

    >>> too_large("kernel", 3, 20, 32, 0, 0)
    'kernel span 41 (f=3, dilation=20) is larger than the padded input 32 (in=32, padding 0+0): the output would be empty'
    >>> too_large("pool window", 9, 1, 7, 0, 0)
    'pool window span 9 (f=9) is larger than the padded input 7 (in=7, padding 0+0): the output would be empty'
    """
    dilated = f", dilation={dilation}" if dilation != 1 else ""
    return (f"{what} span {dilation * (f - 1) + 1} (f={f}{dilated}) is larger than the padded input "
            f"{size + pad_before + pad_after} (in={size}, padding {pad_before}+{pad_after}): the output would be empty")


def pool_padding_refusal(padding: int, size: int, along: str = "") -> str | None:
    """The words of PyTorch's pooling padding rule (at most size // 2) where ``padding`` breaks it, else None: one
    wording for ``pool``, ``shape --pool`` and a spec's pooling layer (``along``: the axis, where they differ).

    >>> pool_padding_refusal(1, 3) is None, pool_padding_refusal(2, 3)
    (True, "padding 2 is more than half the pool size 3: at most 1 (PyTorch's rule)")
    """
    if padding > size // 2:
        return f"padding {padding}{along} is more than half the pool size {size}: at most {size // 2} (PyTorch's rule)"
    return None


def check_pool_padding(padding: int, size: int) -> int:
    """PyTorch's rule, one for ``pool`` and ``shape --pool``: pooling padding is at most size // 2.

    >>> check_pool_padding(2, 2)
    Traceback (most recent call last):
    ...
    kernelcli.errors.UsageError: padding 2 is more than half the pool size 2: at most 1 (PyTorch's rule)
    """
    refused = pool_padding_refusal(padding, size)
    if refused is not None:
        raise UsageError(refused)
    return padding


def pool_output_size(size: int, f: int, *, stride: int | None = None, padding: int = 0, dilation: int = 1,
                     ceil_mode: bool = False) -> int:
    """Output length of pooling along one axis, exactly as PyTorch's MaxPool2d/AvgPool2d.

    ``size`` is the input's length and ``f`` the window's (``pool2d``'s ``size=``, ``shape --size``); ``stride``
    defaults to the window, as in pool2d and ``shape --pool``.  With ``ceil_mode`` the division rounds up, but a
    window that would start in the right/bottom padding is dropped.

    >>> pool_output_size(5, 2, stride=2, ceil_mode=True), pool_output_size(24, 2)
    (3, 12)
    """
    stride = f if stride is None else stride
    size, f, stride, dilation = (whole(n, v, 1) for n, v in (("input size", size), ("pool size", f), ("stride", stride),
                                                               ("dilation", dilation)))
    padding = check_pool_padding(whole("padding", padding, 0), f)
    ceil_mode = flag("ceil_mode", ceil_mode)
    span = dilation * (f - 1) + 1
    padded = size + 2 * padding
    numerator = padded - span
    out = (-(-numerator // stride) if ceil_mode else numerator // stride) + 1
    if ceil_mode and (out - 1) * stride >= size + padding:
        out -= 1
    if out < 1:
        raise ShapeError(too_large("pool window", f, dilation, size, padding, padding))
    return out


def same_padding(f: int, dilation: int = 1) -> tuple[int, int]:
    """Padding (before, after) for "same": total ``dilation*(f-1)``, the extra cell after.

    For odd f this is the lecture's p = f // 2 on both sides; for an even f the extra
    row/column goes to the bottom/right, as PyTorch and TensorFlow do at stride 1 (at a larger
    stride TensorFlow pads what :func:`tf_same_padding` says: the same output size).

    >>> same_padding(4)
    (1, 2)
    """
    f, dilation = whole("kernel size", f, 1), whole("dilation", dilation, 1)
    total = dilation * (f - 1)
    return total // 2, total - total // 2


#: what pad2d takes (its messages): widths, never conv2d's 'same' or 'valid'
PAD_WIDTHS = "an int, (ph, pw) or (top, bottom, left, right)"


def resolve_padding(padding: str | int | Sequence[int], kh: int, kw: int, dilation: tuple[int, int] = (1, 1), *,
                    forms: str | None = None, spell: Callable[[Any], str] = repr, name: str = "padding") -> tuple[int, int, int, int]:
    """Turn "same", "valid", an int, (ph, pw) or (top, bottom, left, right) into four pad widths.

    The 2-D form of :func:`resolve_padding_nd` (one rule for every rank); ``forms`` names what the caller takes in
    its messages (pad2d: :data:`PAD_WIDTHS`), ``spell`` writes the value there as the caller's user wrote it
    (a network spec's: JSON), and ``name`` is the caller's keyword (pad2d's ``p``).

    >>> resolve_padding("same", 3, 3)
    (1, 1, 1, 1)
    >>> resolve_padding((0, 1, 2, 3), 3, 3)
    (0, 1, 2, 3)
    """
    return resolve_padding_nd(padding, (kh, kw), dilation, forms=forms, spell=spell, name=name)  # type: ignore[return-value]


#: Why pooling takes no unequal sides and no 'same' (one text for ``pool`` and ``shape --pool``).
POOL_PADDING_RULE = (
    "pooling here takes valid, P or T,B,L,R with four equal values: one padding on every side "
    "(PyTorch's per-axis padding=(ph, pw) is not taken; same is a convolution's)"
)
#: Why pooling takes one window side (``pool --size F``; ``shape --pool`` alike): the pooling loops have one size.
POOL_SIZE_RULE = (
    "pooling here takes one window side F, an F x F window (F x F x F on a volume), as pool --size F does "
    "(PyTorch's kernel_size=(f, g) is not taken; FxG is a convolution's kernel)"
)
class CubeSide(int):
    """A pooling window side typed ``FxFxF`` (``pool --size 2x2x2``): a cube, which only a pool in 3-D takes (a
    volume, a ``zyx`` array).  A pool in 2-D, each channel alone, refuses it (:func:`refuse_cube_in_2d`) rather than
    drop a side: PyTorch's MaxPool3d reads a (C, H, W) tensor's 2x2x2 as a cube.

    >>> CubeSide(2) == 2, f"maxpool{CubeSide(2)}"
    (True, 'maxpool2')
    """


def refuse_cube_in_2d(size: int, name: str, *, zyx_taken: bool = False) -> None:
    """Refuse (exit 2) a :class:`CubeSide` for the input ``name``, pooled in 2-D; any other size passes.  ``--layout
    zyx`` is offered only where the input takes it (``zyx_taken``: a 3-D array, not an image or a 2-D matrix, which
    refuse it in turn).

    >>> refuse_cube_in_2d(2, "rgb.png")
    >>> refuse_cube_in_2d(CubeSide(2), "rgb.png")
    Traceback (most recent call last):
    ...
    kernelcli.errors.UsageError: rgb.png: --size 2x2x2 is a cube, for a volume pooled in 3-D; this input is pooled in 2-D, each channel alone: give --size 2 (a 2x2 window)
    >>> refuse_cube_in_2d(CubeSide(2), "stack.npy", zyx_taken=True)
    Traceback (most recent call last):
    ...
    kernelcli.errors.UsageError: stack.npy: --size 2x2x2 is a cube, for a volume pooled in 3-D; this input is pooled in 2-D, each channel alone: give --size 2 (a 2x2 window), or --layout zyx to read it as a (Z, Y, X) volume
    """
    if isinstance(size, CubeSide):
        from .errors import UsageError

        f = int(size)
        zyx = ", or --layout zyx to read it as a (Z, Y, X) volume" if zyx_taken else ""
        raise UsageError(f"{name}: --size {f}x{f}x{f} is a cube, for a volume pooled in 3-D; this input is pooled in 2-D, "
                         f"each channel alone: give --size {f} (a {f}x{f} window){zyx}")


#: Why ``shape --pool`` takes no dilation: pool has none (its loops step one cell), so shape does not compute one.
POOL_DILATION_RULE = (
    "pooling here takes an undilated window, as pool does (it has no --dilation; PyTorch's MaxPool2d(dilation=d) "
    "is not taken, and AvgPool2d has none)"
)
#: Why ``learn --size`` takes one window side, worded as pool's rule.
LEARN_SIZE_RULE = "learn learns an F x F kernel, one window side F (an FxG kernel is not learned; convolve applies one)"


#: what ``--padding`` takes for a 3-D kernel on a (Z, Y, X) volume (convolve --layout zyx): its messages and help
VOLUME_PADDING_FORMS = "same, valid, P (all six sides), PZ,PY,PX or Z0,Z1,Y0,Y1,X0,X1"
#: what ``--padding`` takes for pooling in 3-D (pool on a volume, or a --layout zyx array): one width
VOLUME_POOL_PADDING_FORMS = "a volume pooled in 3-D takes valid or P (all six sides, as max_pool3d's padding=P), and Z cannot be left unpadded"


def refuse_yx_widths(padding: Any, takes: str, src: Any = None) -> None:
    """The one rule for four ``--padding`` widths where the work is 3-D (a 3-D kernel on a (Z, Y, X) volume, a volume
    pooled in 3-D): T,B,L,R name the Y and X sides alone, where P pads Z too, so they are refused naming the two
    readings' forms (``takes``: what the call takes there); ``src`` names the input, if one.

    >>> refuse_yx_widths((1, 1, 1, 1), VOLUME_POOL_PADDING_FORMS, "v.npy")
    Traceback (most recent call last):
    ...
    kernelcli.errors.UsageError: v.npy: --padding 1,1,1,1: four widths (T,B,L,R) name the Y and X sides alone; a volume pooled in 3-D takes valid or P (all six sides, as max_pool3d's padding=P), and Z cannot be left unpadded
    """
    refused = yx_widths_refusal(padding, takes)
    if refused is not None:
        where = f"{src}: " if src is not None else ""
        raise UsageError(f"{where}--padding {','.join(map(str, padding))}: {refused}")


def yx_widths_refusal(padding: Any, takes: str) -> str | None:
    """The words of :func:`refuse_yx_widths`' rule where four widths break it (``takes``: what the call takes), else
    None: for a caller that refuses the value in Click's form (``pool`` on a volume).

    >>> yx_widths_refusal((1, 2, 1, 2), "P alone"), yx_widths_refusal(1, "P alone")
    ('four widths (T,B,L,R) name the Y and X sides alone; P alone', None)
    """
    if isinstance(padding, tuple) and len(padding) == 4:
        return f"four widths (T,B,L,R) name the Y and X sides alone; {takes}"
    return None


def parse_padding(text: str, *, forms: str = "same, valid, P or T,B,L,R in whole numbers",
                  volume: bool = False) -> str | int | tuple[int, ...]:
    """Parse a CLI padding value: ``same``, ``valid``, ``P`` or ``T,B,L,R``; ``forms`` names what the command
    takes, for the messages (which name ``--padding`` and the text as given).  ``volume``: three or six
    widths are taken too, a 3-D kernel's (:data:`VOLUME_PADDING_FORMS`; the caller refuses them for a 2-D one).

    >>> parse_padding("1,1,2,2"), parse_padding("0,1,1", volume=True)
    ((1, 1, 2, 2), (0, 1, 1))
    >>> parse_padding("1,2,3,-1")
    Traceback (most recent call last):
    ...
    kernelcli.whole_numbers.BadValue: Invalid value for '--padding': '1,2,3,-1': every width must be an integer >= 0
    """
    key = text.strip().lower()
    if key in ("same", "valid"):
        return key
    values = [whole_or_too_long(p) for p in key.split(",")]  # ('1.0' too, as every whole number; 5,000 nines counted)
    if None in values:
        raise refused_value("--padding", text, f"expected {forms}")
    if said := too_many_digits(values, "width", low=0):
        raise refused_value("--padding", text, said)  # (as typed first, as every option's too-long number)
    if len(values) not in ((1, 3, 4, 6) if volume else (1, 4)):
        also = ", or for a 3-D kernel three (PZ,PY,PX) or six (Z0,Z1,Y0,Y1,X0,X1)" if volume else ""
        raise refused_value("--padding", text, f"expected one width or four (T,B,L,R){also}, got {len(values)}")
    if any(below_floor(value, 0) for value in values):  # (-1e5000 too, kept as typed)
        raise refused_value("--padding", text, None if len(values) == 1 else "every width must be an integer >= 0", low=0)
    return values[0] if len(values) == 1 else tuple(values)


def conv_params(in_channels: int, filters: int, fh: int, fw: int | None = None, *, bias: bool = True, groups: int = 1) -> int:
    """Learnable parameters of a convolution layer: ``[(fh*fw*C/groups) + 1] * K``.

    ``bias``: whether the layer has one, True or False as PyTorch's ``nn.Conv2d(bias=)`` (not its values,
    which :func:`kernelcli.layers.conv_layer`'s ``bias=`` takes).

    >>> conv_params(228, 32, 3)
    65696
    """
    fw = fh if fw is None else fw
    in_channels, filters, fh, fw, groups = (whole(n, v, 1) for n, v in (
        ("in_channels", in_channels), ("filters", filters), ("kernel height", fh), ("kernel width", fw), ("groups", groups)))
    bias = flag("bias", bias)
    if in_channels % groups or filters % groups:
        raise ShapeError(f"groups={groups} must divide both in_channels={in_channels} and filters={filters}")
    return (fh * fw * (in_channels // groups) + (1 if bias else 0)) * filters


def dense_params(n_in: int, n_out: int, *, bias: bool = True) -> int:
    """Parameters of a fully connected layer: ``(n_in + 1) * n_out`` (``bias=False``: ``n_in * n_out``).

    >>> dense_params(32768, 10)
    327690
    """
    n_in, n_out, bias = whole("n_in", n_in, 1), whole("n_out", n_out, 1), flag("bias", bias)
    return (n_in + (1 if bias else 0)) * n_out


def flatten_size(dims: Sequence[int]) -> int:
    """Length of the flattened vector: the product of the dimensions.

    ``dims`` is a list, a tuple or a 1-D array of sizes; anything else is refused naming it (a string was read
    character by character, ``'648'`` as the sizes 6, 4 and 8; an int was a bare TypeError).

    >>> flatten_size((64, 64, 8))
    32768
    >>> flatten_size(64)
    Traceback (most recent call last):
    ...
    kernelcli.errors.UsageError: dims must be a sequence of sizes, e.g. (64, 64, 8), got 64
    """
    sizes = sequence_items(dims)
    if not sizes:  # (an empty one too: its product, 1, is the length of nothing)
        raise UsageError(f"dims must be a sequence of sizes, e.g. (64, 64, 8), got {dims!r}")
    return math.prod(whole("size", d, 1) for d in sizes)


def same_output_size(size: int, stride: int = 1) -> int:
    """Output length of the frameworks' "same" padding: ``ceil(in / s)``.

    TensorFlow's ``padding="SAME"`` (and PyTorch's ``padding="same"``, which allows only
    stride 1) keep this length for every kernel size, odd or even.

    >>> same_output_size(24, 2)
    12
    """
    size, stride = whole("input size", size, 1), whole("stride", stride, 1)
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
    f, dilation = whole("kernel size", f, 1), whole("dilation", dilation, 1)
    out = same_output_size(size, stride)
    total = max((out - 1) * stride + dilation * (f - 1) + 1 - size, 0)
    return total // 2, total - total // 2


def parse_dims(text: str, *, name: str, min_len: int = 1, max_len: int = 3, forms: str | None = None) -> tuple[int, ...]:
    """Parse sizes written ``N``, ``HxW``, ``HxWxC`` (or ``(64,64,8)``) into positive integers.

    ``name`` is the option the text came from and ``forms`` the accepted spellings; a
    :class:`BadValue` names both and the value (one size under 1 in Click's range sentence).

    >>> parse_dims("64x64x8", name="--flatten")
    (64, 64, 8)
    >>> parse_dims("(3, 3, 1)", name="--flatten"), parse_dims("+24x+24", name="--in"), parse_dims("24.0x2.4e1", name="--in")
    ((3, 3, 1), (24, 24), (24, 24))
    """
    if forms is None:
        forms = {1: "N", 2: "N or HxW", 3: "N, HxW or HxWxC"}.get(max_len, "sizes separated by x")
    body = text.strip().strip("()[]").strip()
    for sep in ("×", "X", ",", "*"):
        body = body.replace(sep, "x")
    parts = [part.strip().removeprefix("+") for part in body.split("x")]  # '+24', as '--stride +2' (numtext.whole)
    for n, part in enumerate(parts):
        if not (part.isdigit() and part.isascii()):  # int() also takes "1_000", " -3" and "٣"
            written = whole_or_too_long(part)  # '24.0', '2.4e1', as every option reads a whole number
            if written is None:
                raise refused_value(name, text, f"expected {forms} with integers >= 1")
            parts[n] = str(written)
    if said := too_many_digits(parts, "size", low=1):
        raise refused_value(name, text, said)
    if not min_len <= len(parts) <= max_len:
        raise refused_value(name, text, f"expected {forms}, got {len(parts)} sizes")
    if any(below_floor(part, 1) for part in parts):  # (-1e5000 too, which int() does not read)
        raise refused_value(name, text, None if len(parts) == 1 else "every size must be an integer >= 1", low=1)
    return tuple(int(part) for part in parts)


def conv_transpose_output_size(size: int, f: int, *, stride: int = 1, padding: int = 0, output_padding: int = 0, dilation: int = 1) -> int:
    """Output length of a transposed convolution ("up-convolution") along one axis.

    ``out = (in - 1)*stride - 2*padding + dilation*(f - 1) + output_padding + 1``, as PyTorch's
    ConvTranspose2d; U-Net's 2x2 up-convolution with stride 2 doubles the size.
    Raises ShapeError when the padding would leave nothing, and UsageError for what PyTorch
    refuses: sizes, stride or dilation under 1, a negative padding, an ``output_padding`` not
    smaller than the stride or the dilation.

    >>> conv_transpose_output_size(28, 2, stride=2)
    56
    >>> conv_transpose_output_size(10, 3, output_padding=5)
    Traceback (most recent call last):
    ...
    kernelcli.errors.UsageError: output_padding 5 must be smaller than the stride (1) or the dilation (1), as in PyTorch
    """
    size, f, stride, dilation = (whole(n, v, 1) for n, v in (("input size", size), ("kernel size", f), ("stride", stride),
                                                               ("dilation", dilation)))
    padding, output_padding = whole("padding", padding, 0), whole("output_padding", output_padding, 0)
    if output_padding >= max(stride, dilation):
        raise UsageError(f"output_padding {output_padding} must be smaller than the stride ({stride}) or the dilation "
                         f"({dilation}), as in PyTorch")
    out = (size - 1) * stride - 2 * padding + dilation * (f - 1) + output_padding + 1
    if out < 1:
        raise ShapeError(
            f"transposed convolution output would be {out} (in={size}, f={f}, stride={stride}, "
            f"padding={padding}, output_padding={output_padding}, dilation={dilation}): padding too large"
        )
    return out


# ---------------------------------------------------------------- any rank


def resolve_padding_nd(padding: Any, kernel_shape: Sequence[int], dilation: Sequence[int] | None = None, *,
                       forms: str | None = None, spell: Callable[[Any], str] = repr, name: str = "padding") -> tuple[int, ...]:
    """Pad widths (before, after) per axis from "same", "valid", P, one P per axis, or two per axis.

    "same" pads ``dilation*(f-1)`` per axis: f//2 each side for odd f, the extra cell after
    for even f (PyTorch, TensorFlow at stride 1; see :func:`same_padding`).  Returns ``2 * rank`` ints.

    >>> resolve_padding_nd((1, 2), (3, 3))
    (1, 1, 2, 2)
    >>> resolve_padding_nd("same", (3, 3, 2))
    (1, 1, 1, 1, 0, 1)
    """
    rank = len(kernel_shape)
    dil = (1,) * rank if dilation is None else tuple(dilation)
    forms = forms or {
        2: "'same', 'valid', an integer, (ph, pw) or (top, bottom, left, right)",
        3: "'same', 'valid', P, (pz, py, px) or (z0, z1, y0, y1, x0, x1)",
    }.get(rank, "'same', 'valid', an integer, one per axis or two per axis (before, after)")
    if isinstance(padding, str):
        key = padding.strip().lower()
        if key == "same":
            return tuple(w for f, d in zip(kernel_shape, dil) for w in same_padding(f, d))
        if key == "valid":
            return (0,) * (2 * rank)
        raise UsageError(f"invalid {name} {spell(padding)}: expected {forms}")
    single = integer_value(padding)
    if single is not None:
        widths: tuple[Any, ...] = (single,) * (2 * rank)
    else:
        try:
            items = tuple(padding)
        except TypeError:
            raise UsageError(f"invalid {name} {spell(padding)}: expected {forms}") from None
        if len(items) == rank:
            items = tuple(v for v in items for _ in (0, 1))
        widths = tuple(integer_value(v) for v in items)
        if len(widths) != 2 * rank or any(v is None for v in widths):
            raise UsageError(f"invalid {name} {spell(padding)}: expected {forms}")
    if any(w < 0 for w in widths):
        raise UsageError(f"invalid {name} {spell(padding)}: pad widths must be >= 0")
    return widths  # type: ignore[return-value]
