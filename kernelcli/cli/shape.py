"""`kernelcli shape`: the output size of a convolution or pooling layer, with the formula shown.

Pure arithmetic from :mod:`kernelcli.shapes`: no numpy, numba or rich, so it answers at once.
"""

from __future__ import annotations

from typing import Annotated, Any

from .. import shapes, whole_numbers
from ..errors import UsageError
from ..layout import hwc_dims, layout_dims, shape_layout
from ..modes import canonical_padding
from ..records import record
from ._common import echo, guarded, note, print_json
from .options import JsonOption, PlaneLayoutOption, option

EPILOG = """\b
Examples (the lecture's tasks and more):
  $ kernelcli shape --in 24 --f 5 --s 2 --same
  p = f // 2 = 5 // 2 = 2  (same)
  out_d = (24 + 2*2 - 5) // 2 + 1 = 12
  $ kernelcli shape --in 16 --f 4 -q                    -> 13
  $ kernelcli shape --input 4x4 --size 2 --pool -q      -> 2x2
  $ kernelcli shape -i 28 -f 3 --stride 2 -p 1 -q       -> 14
  $ kernelcli shape --in 64x64x3 --f 3 --same --filters 8 -q   -> 64x64x8
  $ kernelcli shape --in 24x24 --f 4 -p 1,2,1,2 -q      -> 24x24
"""


@record(frozen=True)
class _Axis:
    """One spatial axis: its numbers, the output size and how it was reached."""

    size: int
    f: int
    s: int
    p: int  # padding before (top/left)
    out: int
    expression: str  # the formula with numbers substituted, without "= out"
    dropped: bool = False  # ceil_mode dropped a last window that would start in the padding
    p_after: int | None = None  # padding after (bottom/right) when it differs from ``p``

    @property
    def padding(self) -> int | list[int]:
        """``p``, or ``[before, after]`` when the two sides differ (what ``--json`` shows)."""
        return self.p if self.p_after is None else [self.p, self.p_after]


def _span_text(f: int, dilation: int) -> str:
    return f"{f}" if dilation == 1 else f"{dilation}*({f}-1) - 1"


def _conv_axis(size: int, f: int, s: int, p: int, dilation: int, p_after: int | None = None) -> _Axis:
    after = p if p_after is None or p_after == p else p_after
    out = shapes.conv_output_size(size, f, stride=s, pad_before=p, pad_after=after, dilation=dilation)
    pads = f"2*{p}" if after == p else f"{p} + {after}"
    return _Axis(size, f, s, p, out, f"({size} + {pads} - {_span_text(f, dilation)}) // {s} + 1", p_after=None if after == p else after)


def _pool_axis(size: int, f: int, s: int, p: int, dilation: int, ceil_mode: bool) -> _Axis:
    out = shapes.pool_output_size(size, f, stride=s, padding=p, dilation=dilation, ceil_mode=ceil_mode)
    inner = f"{size} + 2*{p} - {_span_text(f, dilation)}"
    if not ceil_mode:
        return _Axis(size, f, s, p, out, f"({inner}) // {s} + 1")
    expression = f"ceil(({inner}) / {s}) + 1"
    span = dilation * (f - 1) + 1
    dropped = out != -(-(size + 2 * p - span) // s) + 1
    return _Axis(size, f, s, p, out, expression + (" - 1" if dropped else ""), dropped)


def _even_same_note(where: str, size: int, f: int, s: int, dilation: int, before: int, out: int) -> str:
    """What the lecture's p = f // 2 on both sides would give for an even f: one cell (d cells) more than "same" needs."""
    lecture = dilation * (f // 2)
    lecture_out = shapes.conv_output_size(size, f, stride=s, pad_before=lecture, pad_after=lecture, dilation=dilation)
    extra = 2 * lecture - dilation * (f - 1)
    shift = lecture - before
    gives = (f"give out = {lecture_out}, not {out}" if lecture_out != out else
             f"give the same out = {out} at this stride, its windows {shift} cell{'s' if shift != 1 else ''} further up/left")
    return (
        f"note: f={f} is even{where}: the lecture's p = {'f // 2' if dilation == 1 else 'd*(f//2)'} = {lecture} on both sides "
        f"would pad {2 * lecture} cells, {'one' if extra == 1 else extra} more than {'f-1' if dilation == 1 else 'd*(f-1)'} = "
        f"{dilation * (f - 1)}, and {gives}."
    )


def _strided_same_note(where: str, size: int, f: int, s: int, dilation: int, ours: tuple[int, int]) -> str:
    """Where TensorFlow's "SAME" and ours part at a stride above 1: same size, the windows shifted (or the same, with
    only an unreached last cell of padding apart)."""
    before, after = shapes.tf_same_padding(size, f, stride=s, dilation=dilation)
    shift = ours[0] - before  # >= 0: TensorFlow pads at most what we do
    windows = " and windows" if shift == 0 else f", its windows {shift} cell{'s' if shift != 1 else ''} further down/right"
    return (
        f"note: at stride {s}{where} TensorFlow's padding='SAME' pads {before} before and {after} after (only what the last "
        f"window needs), not {ours[0]} and {ours[1]}: the same output size{windows}. kernelcli convolve --padding same pads "
        f"{ours[0]} and {ours[1]}, as here (PyTorch's 'same' allows only stride 1)."
    )


def _fmt(values: tuple[int, ...] | list[int]) -> str:
    return "x".join(str(v) for v in values)


@guarded
def shape(
    in_: Annotated[str, option("input_shape", metavar="N|HxW|HxWxC", extra="One axis, HxW, or HxWxC (C channels).", show_default=False)],
    f: Annotated[str, option("size", metavar="F|FxG", extra="FxG: f rows, g columns (a filter's window; with --pool one side F, as pool takes).", show_default=False)],
    s: Annotated[int | None, option("stride", min=1, extra="[default: 1; with --pool the window size]", show_default=False)] = None,
    padding: Annotated[str | None, option("padding", extra="[default: valid]", show_default=False)] = None,
    same: Annotated[bool, option("same")] = False,
    valid: Annotated[bool, option("valid")] = False,
    dilation: Annotated[int, option("dilation", min=1)] = 1,
    pool: Annotated[bool, option("pool")] = False,
    ceil: Annotated[bool, option("ceil", extra="With --pool.")] = False,
    layout: PlaneLayoutOption = None,
    filters: Annotated[int | None, option("filters", min=1, extra="The output volume is HxWxK.", show_default=False)] = None,
    json_: JsonOption = False,
    quiet: Annotated[bool, option("quiet", extra="E.g. 12 or 12x12.")] = False,
) -> None:
    """Output size of a convolution or pooling layer, with the lecture's formula.

    \b
        out_d = (in_d + 2p - f) // s + 1
        out_d = (in_d + 2p - d*(f-1) - 1) // s + 1      (dilation d)

    With HxW each axis follows the formula on its own; with HxWxC and
    --filters K the output volume is HxWxK (one channel per filter).
    -p T,B,L,R pads the sides unequally: 2p becomes T + B on the height
    and L + R on the width (convolution only; pooling here takes one padding
    for every side).
    --layout chw reads --in as CxHxW and writes the volume KxHxW; a shape
    that reads both ways (3x224x224) is refused without it.
    """
    p: int | None = None
    sides: tuple[int, int, int, int] | None = None  # T,B,L,R when they differ
    if padding is not None:
        # one padding, one name however it is spelt (modes.canonical_padding): -p 0 and 0,0,0,0 are valid, so --json
        # says "valid" and -p 0 --valid is said twice the same way, as -p valid --valid ("explicit", and refused, were)
        parsed = canonical_padding(shapes.parse_padding(padding))
        if isinstance(parsed, tuple):
            if pool:
                raise whole_numbers.refused_value("--padding", padding, shapes.POOL_PADDING_RULE)
            sides, parsed = parsed, parsed[0]
        if (parsed == "same" and same) or (parsed == "valid" and valid):
            same = valid = False  # said twice, the same way
        p, same, valid = (None, True, valid) if parsed == "same" else (None, same, True) if parsed == "valid" else (int(parsed), same, valid)
    if sum((p is not None, same, valid)) > 1:
        raise UsageError("give at most one of --padding P, --same and --valid")
    # each named as typed (31 digits was "stride must be an integer of at most 30 digits", "width: padding ...")
    for name, value in (("--stride", s), ("--dilation", dilation)):
        if value is not None:
            whole_numbers.check_positive(name, value)
    for value in (*(sides or ()), *(() if p is None else (p,))):
        whole_numbers.check_nonnegative("--padding", value)
    unused_ceil = ceil and not pool  # (a note, as every option given where it changes nothing: audit 132 #4)
    ceil = ceil and pool
    if pool and same:
        if padding is not None and padding.strip().lower() == "same":  # (a value refused, in Click's form: review 52 #4)
            raise whole_numbers.refused_value("--padding", padding, shapes.POOL_PADDING_RULE)
        raise UsageError(f"--same: {shapes.POOL_PADDING_RULE}")  # (a flag: no value to quote)
    if pool and dilation != 1:  # a pooling pool cannot run is not computed (as -f 2x1)
        raise whole_numbers.refused_value("--dilation", str(dilation), shapes.POOL_DILATION_RULE)
    if pool and filters is not None:
        raise UsageError("--filters is for convolution; pooling keeps the number of channels")

    given = shapes.parse_dims(in_, name="--input", max_len=3)
    ks = shapes.parse_dims(f, name="--size", max_len=2, forms="F or FxG (a filter always spans every input channel)")
    if pool and len(set(ks)) > 1:  # a pooling pool cannot run (its loops take one size) is not computed either
        raise whole_numbers.refused_value("--size", f, shapes.POOL_SIZE_RULE)  # (in pool's words: its parser refuses it)
    if pool and p is not None and (refused := shapes.pool_padding_refusal(p, ks[0])) is not None:
        raise whole_numbers.refused_value("--padding", padding, refused)  # (pool's words and form: one rule)
    # the padding in all along each axis: top + bottom, left + right (-p 1,2,0,0 was checked as 2 x 1)
    pads = tuple(sides[2 * axis] + sides[2 * axis + 1] if sides else dilation * (ks[-1 if axis else 0] - 1) if same else 2 * (p or 0)
                 for axis in (0, 1))
    layout_given = layout is not None
    layout = shape_layout(given, layout, "--input", kernel=tuple(dilation * (k - 1) + 1 for k in (ks[0], ks[-1])), padding=pads)
    dims = hwc_dims(given, layout)
    spatial = dims[:2]
    channels = dims[2] if len(dims) == 3 else None
    if sides is not None and len(spatial) == 1:
        raise UsageError(f"--padding {padding!r} gives four sides but --input {in_} has one axis: give --input HxW, or -p P")
    if len(ks) == 2 and len(spatial) == 1:
        raise UsageError(f"--size {f} gives two kernel sizes but --input {in_} has one axis: give --input HxW")
    if filters is not None:  # (Click took any integer: 4,000 digits printed, where params refuses past 30)
        filters = whole_numbers.check_positive("--filters", filters)
    if filters is not None and len(dims) == 1:
        raise UsageError(f"--filters needs an image size: --input HxW or HxWxC, got --input {in_}")
    if len(ks) == 1:
        ks = ks * len(spatial)

    mode = "same" if same else "explicit" if p is not None else "valid"
    axes, lines, notes = _explain(spatial, ks, s=s, p=p, same=same, dilation=dilation, pool=pool, ceil_mode=ceil, sides=sides)
    if unused_ceil:
        notes.append("note: --ceil rounds a pooling's output size up (PyTorch's ceil_mode); without --pool it changes nothing")
    out: list[int] = [a.out for a in axes]
    if filters is not None:
        out = layout_dims(out + [filters], layout)
        depth = f"x{channels}" if channels else ""
        lines.append(f"out = {_fmt(out)}  ({filters} filters of {_fmt(ks)}{depth}: one output channel each)")
    elif channels is not None and pool:
        out = layout_dims(out + [channels], layout)
        each = "its 1 channel" if channels == 1 else f"each of the {channels} channels separately"
        lines.append(f"out = {_fmt(out)}  (pooling works on {each})")
    elif len(spatial) == 2:
        lines.append(f"out = {_fmt(out)}")
    if len(given) == 3 and len(set(given)) == 1 and not layout_given and (filters is not None or pool):
        # the audit of shapes (94): 64x64x64 --filters 128 gave 64x64x128 where PyTorch, reading it CxHxW, gives 128x64x64;
        # a cube is the same input either way (the lecture's 228x228x228 is HxWxC), but the answer's order is not
        notes.append(f"note: {_fmt(list(given))} is read HxWxC (the default), so the answer is {_fmt(out)}; "
                     f"--layout chw reads it CxHxW and writes {_fmt(layout_dims(out, 'chw'))}")
    if layout_given and len(given) < 3 and filters is None:  # (as params says of --flatten: one vocabulary)
        notes.append(f"note: --layout {layout} names the axes of a 3-D --input HxWxC; {_fmt(list(given))} has {len(given)}, "
                     "so it changes nothing")
    if channels is not None and filters is None and not pool:
        notes.append(f"note: the output has one channel per filter; add --filters K for the volume {'Kx' + _fmt(out) if layout == 'chw' else _fmt(out) + 'xK'}")

    if json_:
        one = len(dims) == 1

        def pick(values: list[Any]) -> Any:
            return values[0] if one else values

        document: dict[str, Any] = {
            "in": pick(list(given)),
            # as params': null where neither --input nor the answer has a third axis (the note's "changes nothing")
            "layout": layout if 3 in (len(given), len(out)) else None,
            "f": pick(list(ks)),
            "s": pick([a.s for a in axes]),
            "p": pick([a.padding for a in axes]),
            "dilation": dilation,
            "padding": mode,
            "pool": pool,
            "ceil": ceil,
            "filters": filters,
            "out": pick(out),
            "formula": [f"{a.expression} = {a.out}" for a in axes],
        }
        if same and any(a.s > 1 for a in axes):  # TensorFlow's SAME, where it may pad otherwise (at stride 1 all pad alike)
            document["framework_same"] = {
                "out": pick([shapes.same_output_size(a.size, a.s) for a in axes]),
                "pad": pick([list(shapes.tf_same_padding(a.size, a.f, stride=a.s, dilation=dilation)) for a in axes]),
            }
        document["notes"] = [message.removeprefix("note: ") for message in notes]
        print_json(document)
    elif quiet:
        echo(_fmt(out))
    else:
        for line in lines:
            echo(line)
        for message in notes:
            note(message)


def _explain(
    spatial: tuple[int, ...], ks: tuple[int, ...], *, s: int | None, p: int | None, same: bool, dilation: int, pool: bool, ceil_mode: bool,
    sides: tuple[int, int, int, int] | None = None,
) -> tuple[list[_Axis], list[str], list[str]]:
    """Each axis's answer, the lines that show how it was reached, and the notes for stderr.

    Two identical axes are explained once (``out_d``); axes that differ get ``out_h`` and ``out_w``.
    ``sides``: T,B,L,R when the padding differs between sides (convolution only).
    """
    axes: list[_Axis] = []
    lines: list[str] = []
    notes: list[str] = []
    differ = len(spatial) == 2 and (spatial[0] != spatial[1] or ks[0] != ks[1] or (sides is not None and sides[:2] != sides[2:]))
    labels = ("h", "w") if differ else ("d", "d")
    for index, (label, size, k) in enumerate(zip(labels, spatial, ks)):
        stride = s if s is not None else (k if pool else 1)
        pad, after = shapes.same_padding(k, dilation) if same else (p or 0, None)  # same: convolve's (before, after)
        if sides is not None:
            pad, after = sides[2 * index], sides[2 * index + 1]
        try:
            axis = _pool_axis(size, k, stride, pad, dilation, ceil_mode) if pool else _conv_axis(size, k, stride, pad, dilation, after)
        except UsageError as exc:
            where = {"h": "height: ", "w": "width: "}.get(label, "")
            raise type(exc)(f"{where}{exc}") from None
        axes.append(axis)
        if index == 1 and not differ:
            continue  # both axes identical: the first one's lines say it all
        if same:
            on = f", {label} axis" if differ else ""
            if k % 2:  # the lecture's p = f // 2 on both sides
                rule = f"p = f // 2 = {k} // 2 = {pad}" if dilation == 1 else f"p = d*(f//2) = {dilation}*({k}//2) = {pad}"
                lines.append(f"{rule}  (same{on})")
            else:  # f-1 in all, the extra cell after: what convolve, learn and PyTorch pad
                total = f"f - 1 = {k - 1}" if dilation == 1 else f"d*(f-1) = {dilation}*({k}-1) = {dilation * (k - 1)}"
                split = "the extra cell at the bottom/right" if after != pad else "split evenly"
                lines.append(f"p = {total} in all: {pad} before, {after} after  "
                             f"(same{on}; f is even: {split}, as convolve{' and PyTorch' if stride == 1 else ''})")
            where = f" (out_{label})" if differ else ""
            if k % 2 == 0:
                notes.append(_even_same_note(where, size, k, stride, dilation, pad, axis.out))
            if shapes.tf_same_padding(size, k, stride=stride, dilation=dilation) != (pad, after):
                notes.append(_strided_same_note(where, size, k, stride, dilation, (pad, after)))
        if pool and s is None:
            lines.append(f"s = f = {k}  (pooling: the stride defaults to the window size)")
        if axis.dropped:  # (PyTorch: a last window must start inside the input or its left padding)
            start = axis.out * axis.s - pad
            where = (f"in the padding after the input's last index {size - 1}" if start < size + pad else
                     f"past the padded input's last index {size + pad - 1}" if pad else f"past the input's last index {size - 1}")
            notes.append(f"note: out_{label}: the last window would start at {start}, {where}: PyTorch's ceil_mode drops it (- 1)")
        lines.append(f"out_{label} = {axis.expression} = {axis.out}")
    return axes, lines, notes


def register(app: Any) -> None:
    """Add ``kernelcli shape`` to the app."""
    app.command("shape", epilog=EPILOG, no_args_is_help=True)(shape)
