"""`kernelcli summary`: output shape, parameters and mult-adds of every layer of a network."""

from __future__ import annotations

import io
import sys
from typing import Annotated

import typer

from ..errors import writing_stdout
from ._common import console as rich_console, guarded, note, print_json, write_stdout
from ._lines import path_line
from .options import PlaneLayoutOption, option

#: shown in --help; a test keeps it equal to the files in kernels/networks/
BUILTIN_NETWORKS = ("alexnet", "vgg16", "resnet18", "resnet34", "resnet50", "densenet121", "googlenet", "inception_v3", "unet")
DEFAULT_DEPTH = 3


def _spec_named(text: str) -> str:
    """SPEC as typed; an empty one is refused as every command's empty path is (it read ": is not a regular file")."""
    if text == "":
        from ..netspec.spec import EMPTY_SPEC
        from ._click import click

        raise click.exceptions.BadParameter(EMPTY_SPEC)
    return text


def summary(
    spec: Annotated[
        str,
        typer.Argument(
            metavar="SPEC",
            help=f"A network spec file (.json, format in kernels/networks/README.md) or a built-in: {', '.join(BUILTIN_NETWORKS)}.",
            show_default=False,
            parser=_spec_named,
        ),
    ],
    input_shape: Annotated[
        str | None,
        option("input_shape", metavar="CxHxW", extra="CxHxW, e.g. 3x224x224 (or N for a vector); default: the spec's 'input'. HxWxC with --layout hwc.", show_default=False),
    ] = None,
    layout: PlaneLayoutOption = None,
    as_json: Annotated[bool, option("json", extra="Rows and totals instead of the table.")] = False,
    depth: Annotated[
        int,
        option("depth", min=1),
    ] = DEFAULT_DEPTH,
    max_layers: Annotated[
        int,
        option("max_layers", min=1),
    ] = 100_000,
    quiet: Annotated[bool, option("quiet", extra="The total parameter count, e.g. 11689512.")] = False,
) -> None:
    """Output shape, parameters and mult-adds of every layer of a network, without PyTorch.

    Counts match torchvision's: batchnorm has 2*C parameters; mult-adds are
    out_h*out_w*K*(C/groups)*fh*fw per conv and in*out per dense layer.

    \b
    Examples:
      kernelcli summary resnet18
      kernelcli summary unet --depth 1
      kernelcli summary vgg16 -q
      kernelcli summary my_net.json --input 1x128x128 --json
    """
    from ..netspec import load_spec, summarize
    from ..netspec.spec import input_dims
    from ..whole_numbers import check_positive

    # (at most 30 digits, as every count and size typed: a 4,000-digit --depth was taken)
    depth, max_layers = check_positive("--depth", depth), check_positive("--max-layers", max_layers)
    if layout is not None and input_shape is None:
        from ..errors import UsageError

        raise UsageError(f"--layout {layout} says how --input is written; give --input too (the spec's own input is read as its 'layout' field says, CxHxW by default)")
    from ..io.pipes import is_stdio

    if is_stdio(spec):  # ('-: no such spec file', exit 3): the words and code of learn's '-' and --report's
        from ..errors import UsageError
        from ..io.output_checks import pipe_refused

        raise UsageError(pipe_refused("SPEC", spec, "summary reads a spec file or a built-in name", stream="stdin",
                                      fix="give a path or a name"))
    net_spec = load_spec(spec)
    # (an --input the network cannot take, where the spec's own input works, is refused naming --input: exit 2)
    dims = input_dims(input_shape) if input_shape is not None else None
    net = summarize(net_spec, dims, layout=layout, max_layers=max_layers, words="cli")
    if as_json:
        print_json(net.to_dict(depth))
        return
    if quiet:
        write_stdout(f"{net.params}\n")
        return
    with writing_stdout():  # rich's Console writes on stdout itself
        _render(net, depth, layout)
    for message in net.notes:  # (after the answer, as shape's and params'; --json's "notes", -q none)
        note(f"note: {message}")


def _human(n: int) -> str:
    """2_834_161_664 -> '2.83 G'; zero -> '-'; beyond 10**15 T stays the unit (3058560.12 G was printed).

    Rounded first, then the unit: 999_999 is '1.00 M' ('1000.00 K' was printed).

    >>> _human(2_834_161_664), _human(3_058_560_120_000_000), _human(999_999)
    ('2.83 G', '3058.56 T', '1.00 M')
    """
    if n == 0:
        return "-"
    if n < 1000:
        return str(n)
    for unit, scale in (("K", 10**3), ("M", 10**6), ("G", 10**9)):
        text = _rounded(n, scale, 2)
        if int(text.split(".")[0]) < 1000:
            return f"{text} {unit}"
    return f"{_rounded(n, 10**12, 2)} T"


def _rounded(n: int, scale: int, places: int) -> str:
    """``n / scale`` to ``places`` decimals, in integers: a float's 17 digits misprinted a 50-digit count.

    >>> _rounded(2_834_161_664, 10**9, 2), _rounded(10**40 + 5 * 10**9, 10**12, 2), _rounded(-2_834_161_664, 10**9, 0)
    ('2.83', '10000000000000000000000000000.01', '-3')
    """
    units = (abs(n) * 10**places * 2 + scale) // (2 * scale)  # half up (away from zero)
    whole, part = divmod(units, 10**places)
    return ("-" if n < 0 else "") + (f"{whole}.{part:0{places}d}" if places else str(whole))


def _bytes(n: int) -> str:
    """A byte count in B, KiB or MiB, one decimal: never 0.0 for a non-zero total (a small network's
    48,712 bytes printed '0.0 MiB').

    >>> _bytes(48_712), _bytes(29_884_416), _bytes(1023)
    ('47.6 KiB', '28.5 MiB', '1,023 B')
    """
    if n < 1024:
        return f"{n:,} B"
    text = _rounded(n, 1024, 1)
    if int(text[:-2]) < 1024:  # rounded first, as _human: 1,048,575 bytes is 1.0 MiB, not 1024.0 KiB
        return f"{text} KiB"
    text = _rounded(n, 2**20, 1)
    return f"{int(text[:-2]):,}{text[-2:]} MiB"


def _render(net, depth: int, layout: str | None = None) -> None:
    from rich import box
    from rich.measure import Measurement
    from rich.table import Table

    from ..layout import canonical_layout, hwc_dims
    from ..netspec import fmt_shape as fmt_chw

    hwc = canonical_layout(layout) == "hwc"

    def fmt_shape(shape):  # shapes in the layout the input was given in
        return fmt_chw(hwc_dims(tuple(shape), "chw")) if hwc else fmt_chw(shape)

    named = " (HxWxC)" if hwc and len(net.input) == 3 else ""  # a vector input (784) has no axes to name
    # a spec's title and names are its text: a line break or an ESC sequence in one is written escaped, as a
    # listing writes a file name (path_line), not drawn (a row split in two, a terminal cleared or recoloured)
    heading = f"{path_line(net.name)}, input {fmt_shape(net.input)}{named}"
    table = Table(box=box.SIMPLE_HEAD)
    table.add_column("Layer", overflow="fold")
    table.add_column("Type")
    table.add_column("Output", no_wrap=True)
    table.add_column("Params", justify="right", no_wrap=True)
    table.add_column("Mult-adds", justify="right", no_wrap=True)
    for layer, folded in net.rows(depth):
        kind = f"{layer.kind} ({folded} layers)" if folded else layer.kind
        params = f"{layer.params:,}" if layer.params else "-"
        local = layer.name.rsplit(".", 1)[-1]  # the full name is the path of indented names above
        table.add_row("  " * (layer.depth - 1) + path_line(local), kind, fmt_shape(layer.shape), params, _human(layer.mult_adds))
    # on a terminal rich writes itself; elsewhere its text goes through write_stdout, which writes every byte
    buffer = None if sys.stdout.isatty() else io.StringIO()
    # names and titles are the spec's text: '[/]' in one was Rich markup (exit 70), 'head[i]' printed 'head'
    console = rich_console(highlight=False, markup=False, emoji=False, file=buffer)
    # never narrower than the rows: squeezed, rich gave the Layer and Type columns no width at all (COLUMNS=40)
    # and cut 30-digit numbers with '...'; a line wider than the terminal wraps there, nothing is lost
    console.width = max(console.width, Measurement.get(console, console.options.update_width(10**6), table).maximum)
    # the title and the heading are one line each, whatever their length: rich folded a table's title to the table's
    # width (a file name cut mid-word, "..._v" / "2, input 3x8x8") and a spec's title at 80 columns, piped too
    if net.title:
        console.print(path_line(net.title), soft_wrap=True)
    console.print(heading, style="table.title", soft_wrap=True)  # (the look of the table's own title it was)
    console.print(table)
    console.print(f"Output:                 {fmt_shape(net.output)}")
    console.print(f"Total params:           {net.params:,}")
    console.print(f"Trainable params:       {net.trainable_params:,}")
    console.print(f"Non-trainable params:   {net.params - net.trainable_params:,}")
    console.print(f"Mult-adds:              {net.mult_adds:,} ({_human(net.mult_adds)})")
    console.print(f"Forward activations:    {_bytes(net.activation_bytes)} (float32, batch 1)")
    if buffer is not None:  # rich pads every line to the table's width: the README's lines, piped, have no trailing blanks
        write_stdout("".join(line.rstrip() + "\n" for line in buffer.getvalue().splitlines()))


def register(app: typer.Typer) -> None:
    """Add ``summary`` to the app."""
    app.command("summary")(guarded(summary))
