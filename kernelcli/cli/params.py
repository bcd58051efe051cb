"""`kernelcli params`: learnable parameters of a conv or dense layer, and flatten sizes.

Pure arithmetic from :mod:`kernelcli.shapes`: no numpy, numba or rich, so it answers at once.
"""

from __future__ import annotations

from typing import Annotated, Any

from .. import shapes, whole_numbers
from ..errors import UsageError
from ._common import echo, guarded, note, print_json
from .options import JsonOption, LayoutOption, option

EPILOG = """\b
Examples (the lecture's tasks):
  $ kernelcli params --in-ch 228 --filters 32
  [(3*3*228) + 1] * 32 = 65696
  $ kernelcli params --dense 32768 10 -q          -> 327690
  $ kernelcli params --flatten 64x64x8
  64*64*8 = 32768
  (64, 64, 8) -> (32768, 1)
"""


def _conv(in_ch: int, filters: int, f_text: str, bias: bool, groups: int) -> tuple[list[str], dict[str, Any], int]:
    sizes = shapes.parse_dims(f_text, name="--size", max_len=2, forms="F or FxG (a filter always spans every input channel)")
    fh, fw = sizes if len(sizes) == 2 else (sizes[0], sizes[0])
    if in_ch % groups or filters % groups:  # (conv_params says it too, in its parameters' names)
        raise UsageError(f"--groups {groups} must divide both --in-ch {in_ch} and --filters {filters}")
    total = shapes.conv_params(in_ch, filters, fh, fw, bias=bias, groups=groups)
    per_filter = f"{fh}*{fw}*{in_ch}" + (f"/{groups}" if groups != 1 else "")
    formula = f"[({per_filter}) + 1] * {filters} = {total}" if bias else f"({per_filter}) * {filters} = {total}"
    weights = fh * fw * (in_ch // groups) * filters
    lines = [formula, f"weights {weights} + biases {filters if bias else 0}"]
    if groups != 1:
        lines.append(f"groups={groups}: each filter sees {in_ch} / {groups} = {in_ch // groups} of the input channels")
    document = {
        "layer": "conv",
        "in_ch": in_ch,
        "filters": filters,
        "f": fh if len(sizes) == 1 else [fh, fw],  # as --f was given (README: a size follows its option)
        "groups": groups,
        "weights": weights,
        "biases": filters if bias else 0,
        "params": total,
        "formula": [formula],
    }
    return lines, document, total


def _dense(n_in: int, n_out: int, bias: bool) -> tuple[list[str], dict[str, Any], int]:
    total = shapes.dense_params(n_in, n_out, bias=bias)
    formula = f"({n_in} + 1) * {n_out} = {total}" if bias else f"{n_in} * {n_out} = {total}"
    document = {"layer": "dense", "in": n_in, "out": n_out, "biases": n_out if bias else 0, "params": total, "formula": [formula]}
    return [formula], document, total


def _flatten(text: str, layout: str | None) -> tuple[list[str], dict[str, Any], int, list[str]]:
    from ..layout import AXES, canonical_layout

    dims = shapes.parse_dims(text, name="--flatten", max_len=8, forms="HxWxC (or any sizes joined by x)")
    given = canonical_layout(layout)
    layout = given or "hwc"
    total = shapes.flatten_size(dims)
    formula = f"{'*'.join(map(str, dims))} = {total}"
    shape_in = "(" + ", ".join(map(str, dims)) + ("," if len(dims) == 1 else "") + ")"
    if len(dims) == 3 and given is not None:  # the axes named only when asked: the lecture's line stays as it was
        shape_in += f" ({', '.join(AXES[layout])})"
    lines = [formula, f"{shape_in} -> ({total}, 1)"]
    document = {"layer": "flatten", "in": dims[0] if len(dims) == 1 else list(dims), "layout": layout if len(dims) == 3 else None, "out": total,
                "shape": [total, 1], "formula": [formula]}
    notes = [] if given is None or len(dims) == 3 else [
        f"note: --layout {given} names the axes of a 3-D --flatten HxWxC; {'x'.join(map(str, dims))} has {len(dims)}, so it changes nothing"]
    return lines, document, total, notes


@guarded
def params(
    in_ch: Annotated[int | None, option("in_ch", min=1, show_default=False)] = None,
    filters: Annotated[int | None, option("filters", min=1, show_default=False)] = None,
    f: Annotated[str | None, option("size", metavar="F|FxG", extra="FxG: f rows, g columns.  [default: 3]", show_default=False)] = None,
    no_bias: Annotated[bool, option("no_bias")] = False,
    groups: Annotated[int | None, option("groups", min=1, extra="[default: 1]", show_default=False)] = None,
    dense: Annotated[tuple[int, int] | None, option("dense", min=1, show_default=False)] = None,
    flatten: Annotated[str | None, option("flatten", show_default=False)] = None,
    layout: LayoutOption = None,
    json_: JsonOption = False,
    quiet: Annotated[bool, option("quiet", extra="E.g. 65696.")] = False,
) -> None:
    """Learnable parameters of a layer, with the lecture's formula.

    \b
        conv:    [(f*f*C) + 1] * K      (each of K filters: f*f*C weights + 1 bias)
        dense:   (IN + 1) * OUT
        flatten: H*W*C values, a (H*W*C, 1) vector

    Give exactly one of: --in-ch C with --filters K (a conv layer), --dense IN OUT,
    or --flatten HxWxC. The spatial size of a conv layer's input does not matter.
    """
    conv_given = in_ch is not None or filters is not None
    chosen = [name for name, given in (("--in-ch/--filters", conv_given), ("--dense", dense is not None), ("--flatten", flatten is not None)) if given]
    if len(chosen) != 1:
        what = "none was given" if not chosen else f"got {' and '.join(chosen)}"
        raise UsageError(f"give exactly one of --in-ch C --filters K (conv), --dense IN OUT, --flatten HxWxC; {what}")
    if not conv_given:
        extra = [name for name, given in (("--size", f is not None), ("--groups", groups is not None)) if given]
        if extra:
            raise UsageError(f"{' and '.join(extra)}: only for a conv layer (--in-ch C --filters K)")
    if flatten is not None and no_bias:
        raise UsageError("--no-bias does not apply to --flatten: flattening has no parameters")

    for name, value in (("--in-ch", in_ch), ("--filters", filters), ("--groups", groups), *(("--dense", n) for n in dense or ())):
        if value is not None:
            whole_numbers.check_positive(name, value)  # and at most 30 digits: a product past 4300 digits cannot be printed
    notes: list[str] = []
    if layout is not None and flatten is None:  # (a note, as --layout on a --flatten of two sizes: audit 132 #4)
        notes.append(f"note: --layout {layout} names the axes of a 3-D --flatten HxWxC; a conv or dense layer's count has "
                     "none, so it changes nothing")
    if conv_given:
        if in_ch is None or filters is None:
            missing = "--in-ch C" if in_ch is None else "--filters K"
            raise UsageError(f"a conv layer needs both --in-ch C and --filters K; {missing} is missing")
        lines, document, total = _conv(in_ch, filters, "3" if f is None else f, not no_bias, groups or 1)
    elif dense is not None:
        lines, document, total = _dense(dense[0], dense[1], not no_bias)
    else:
        assert flatten is not None
        lines, document, total, notes = _flatten(flatten, layout)  # (no note above: --flatten was given)

    if json_:
        print_json({**document, "notes": [message.removeprefix("note: ") for message in notes]})
    elif quiet:
        echo(str(total))
    else:
        for line in lines:
            echo(line)
        for message in notes:
            note(message)


def register(app: Any) -> None:
    """Add ``kernelcli params`` to the app."""
    app.command("params", epilog=EPILOG, no_args_is_help=True)(params)
