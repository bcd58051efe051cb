"""`kernelcli kernels`: list the kernel catalogue, or show one kernel's matrix.

A thin adapter over :mod:`kernelcli.catalog`: parse options, call ``list_kernels`` or
``load_kernel``, print.  The catalogue (and rich) are imported inside the commands.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ._click import CLICK_SUGGESTS_COMMANDS
from ..catalog_format import LOOKUP_RULE, kernel_size_text as size_text
from ..errors import writing_stdout
from ._common import call_note, console, echo, guarded, note, print_json
from .option_values import complete_family, complete_kernel
from .options import JsonOption, option

if TYPE_CHECKING:
    from ..catalog_format import Kernel

kernels_app = typer.Typer(
    name="kernels",
    add_completion=False,
    suggest_commands=not CLICK_SUGGESTS_COMMANDS,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)

#: ``ctx.meta`` key: the note on a ``--family`` given before a subcommand (``kernels --family edge show sobel_v``)
_UNUSED_FAMILY = "kernelcli.kernels.unused_family"


@kernels_app.callback(invoke_without_command=True)
@guarded
def list_command(
    ctx: typer.Context,
    family: Annotated[
        str | None,
        option("family", show_default=False, autocompletion=complete_family),
    ] = None,
    as_json: JsonOption = False,
    quiet: Annotated[bool, option("quiet", extra="The names alone, one a line (with show: the matrix alone).")] = False,
) -> None:
    """List the kernel catalogue: name, family, size, sum, separable, description.

    The catalogue is the shipped kernels/ folder plus the folders in KERNELCLI_KERNEL_PATH
    (separated by the OS path separator; an entry that is missing or not a folder is skipped
    with a note). Sum is that of the applied weights (after scale):
    1 keeps flat areas, 0 turns them to 0.

    \b
    Examples:
      kernelcli kernels
      kernelcli kernels --family edge
      kernelcli kernels --json
      kernelcli kernels show sobel_v
    """
    if ctx.invoked_subcommand is not None:  # `kernels --json show NAME` is `kernels show NAME --json`
        given = {name: True for name, value in (("as_json", as_json), ("quiet", quiet)) if value}
        if given:
            ctx.default_map = {**(ctx.default_map or {}), ctx.invoked_subcommand: given}
        if family is not None:  # said by the subcommand, which alone knows its -q and --json
            from ..numtext import clipped

            ctx.meta[_UNUSED_FAMILY] = f"--family {clipped(family)} picks the kernels the list shows; " \
                                       f"`kernels {ctx.invoked_subcommand}` does not use it"
        return
    from ..catalog import kernel_path_note, list_kernels

    kernels = list_kernels(family)
    skipped = kernel_path_note()
    if skipped:  # a folder of KERNELCLI_KERNEL_PATH that is missing or a file
        call_note(skipped, quiet=quiet)
    if as_json:
        print_json({"kernels": [kernel.to_dict() for kernel in kernels], "notes": []})  # (call_note's fill notes)
        return
    if quiet:
        echo("\n".join(kernel.name for kernel in kernels))
        return
    _print_table(kernels)
    note("Also: gaussian:SIGMA, box:N, a path to your own .json or .npy file, or the matrix inline ('3x3: 1,0,-1 2,0,-2 1,0,-1'); `kernelcli kernels show NAME` prints a matrix. "
         "For volumes: box_3d, gaussian_3d, sobel_3d (_y, _z), and sizes in mm or voxels (gaussian:1.5mm, box:3vox).")


@kernels_app.command("show")
@guarded
def show_command(
    ctx: typer.Context,
    spec: Annotated[
        str,
        typer.Argument(
            metavar="KERNEL",
            help=f"A catalogue NAME ({LOOKUP_RULE}), a JSON file (FILE.json, FILE.json:NAME, ./dir/FILE) or .npy file "
            "(f x f, or channels x f x f), gaussian:SIGMA, box:N, an inline '3x3: 1,0,-1 2,0,-2 1,0,-1', a JSON list "
            "'[[1,0,-1],[2,0,-2],[1,0,-1]]', a named 3-D kernel (box_3d, gaussian_3d, sobel_3d, sobel_3d_y, sobel_3d_z) "
            "or a size in voxels (gaussian:SIGMAvox, fwhm:Xvox, box:Nvox).",
            show_default=False,
            autocompletion=complete_kernel,
        ),
    ],
    as_json: JsonOption = False,
    quiet: Annotated[bool, option("quiet", extra="The matrix alone (a 3-D kernel: its z planes, a blank line between).")] = False,
) -> None:
    """Print one kernel's matrix as applied (after scale), with its scale, sum and source.

    Each value is the shortest text that reads back to the same number: the matrix pasted
    into --kernel 'WxH: ...' is the same kernel. With --json it prints a kernel file:
    kernels show NAME --json > k.json, then -k k.json is the same kernel (its shape, sum,
    separable and values are checked against the matrix when it is read: after editing
    the matrix, drop them or make them agree).

    \b
    Examples:
      kernelcli kernels show sobel_v
      kernelcli kernels show gaussian_3x3 --json
      kernelcli kernels show gaussian:1.5
      kernelcli kernels show ./my_kernels.json:ridge
    """
    from ..catalog import load_kernel
    from ..kernel_build import KERNELS_3D
    from ..volume_grammar import voxel_kernel

    if ctx.meta.get(_UNUSED_FAMILY):
        call_note(ctx.meta[_UNUSED_FAMILY], quiet=quiet)
    # a volume's kernel that needs no volume: 'a named 3-D kernel is for a volume input' was all it said
    named_3d = KERNELS_3D.get(spec.strip().lower().replace("-", "_")) or voxel_kernel(spec)
    if named_3d is not None:
        _refuse_too_large_to_print(spec, named_3d.shape)
        _show_3d(named_3d, as_json, quiet)
        return
    _refuse_volume_spec(spec)
    from ..kernel_syntax import KernelTextRefused

    try:
        kernel = load_kernel(spec, max_ndim=3)  # a (channels, f, f) file too, as convolve reads it for a layer
    except KernelTextRefused as exc:  # (an argument, not --kernel: the spec alone, as the API says it)
        raise exc.worded("") from None
    if as_json:
        document = kernel.to_dict()
        document["values"] = kernel.array().tolist()
        document["notes"] = []
        print_json(document)
        return
    if quiet:
        echo("\n\n".join("\n".join(plane) for plane in matrix_planes(kernel.array())))
        return
    echo(render_kernel(kernel))


#: the longest side of a 3-D kernel `kernels show` prints: 31x31x31 is 29,791 numbers (gaussian:30vox, 181 a side,
#: printed 142 MB; gaussian:100vox took 11 GB before it was stopped)
SHOW_3D_MAX_SIDE = 31


def _refuse_too_large_to_print(spec: str, shape: tuple[int, ...]) -> None:
    """Refuse (InvalidKernel, exit 3) a 3-D kernel with a side past :data:`SHOW_3D_MAX_SIDE`, before it is built."""
    from ..errors import InvalidKernel

    if max(shape) > SHOW_3D_MAX_SIDE:
        import math

        raise InvalidKernel(f"{spec}: a {'x'.join(map(str, shape))} kernel ({math.prod(shape):,} values) is too large to print; "
                            f"kernels show prints at most {SHOW_3D_MAX_SIDE} a side (a volume applies it as three 1-D passes: "
                            f"kernelcli volume SCAN -k {spec.strip()})")


def _refuse_volume_spec(spec: str) -> None:
    """Exit 3 for a volume's kernel that no kernel is before a volume: a size in mm or a derivative per mm, built
    from each volume's spacing (the named 3-D kernels and sizes in voxels are shown before), and a Laplacian of
    Gaussian in voxels, a sum of three separable passes.  It was refused as if an image had been given ("an image
    or array takes a 2-D kernel"), then as 'a size in mm' for a size in voxels too (exit 2)."""
    import re

    from ..catalog import is_volume_kernel
    from ..errors import InvalidKernel

    if not is_volume_kernel(spec):
        return
    sized = re.fullmatch(r"\s*(gaussian|box|fwhm|log)\s*:\s*(.*?)\s*(mm|vox)\s*", spec, re.IGNORECASE)
    if sized and sized.group(1).lower() == "log":  # log:Nvox, and log:Nmm, whose log:Nvox is refused the same
        in_mm = " in mm, made voxels per volume from its spacing and" if sized.group(3).lower() == "mm" else ","
        why = (f"a Laplacian of Gaussian{in_mm} applied as three separable passes summed (one along each axis); "
               "`kernels show` prints one separable 3-D kernel (gaussian:2vox, box:3vox, sobel_3d) or a 2-D one")
    elif sized:
        why = (f"a size in mm, made voxels per volume from its spacing as it is read, so there is no kernel before a "
               f"volume; `kernels show` prints {_voxel_size_offer(sized.group(1).lower(), sized.group(2))}")
    else:
        why = ("a derivative in units per mm, built per volume from its voxel spacing as it is read, so there is no kernel "
               "before a volume; `kernels show` prints the named 3-D ones (sobel_3d, sobel_3d_y, sobel_3d_z) and sizes "
               "in voxels (gaussian:2vox)")
    raise InvalidKernel(f"{spec}: {why}")


def _voxel_size_offer(family: str, number: str) -> str:
    """What `kernels show` prints in place of ``family:NUMBERmm``: ``family:NUMBERvox`` when that is printed, else
    the rule it breaks (box:2.5mm offered box:2.5vox, refused as not an odd whole number; gaussian:100mm offered
    gaussian:100vox, too large to print).

    >>> _voxel_size_offer("box", "3"), _voxel_size_offer("box", "4")
    ('a size in voxels (box:3vox)', 'a box in voxels, box:Nvox with N an odd whole number up to 31 (box:3vox)')
    """
    from ..errors import InvalidKernel
    from ..volume_grammar import voxel_kernel

    try:
        kernel = voxel_kernel(f"{family}:{number}vox")
    except InvalidKernel:
        kernel = None
    if kernel is not None and max(kernel.shape) <= SHOW_3D_MAX_SIDE:
        return f"a size in voxels ({family}:{number}vox)"
    if family == "box":
        return f"a box in voxels, box:Nvox with N an odd whole number up to {SHOW_3D_MAX_SIDE} (box:3vox)"
    return f"a size in voxels of at most {SHOW_3D_MAX_SIDE} voxels a side ({family}:2vox)"


def _show_3d(kernel: Any, as_json: bool, quiet: bool = False) -> None:
    """``kernels show`` of a named 3-D kernel (:class:`kernelcli.kernel_build.Kernel3D`): its (z, y, x) taps, a matrix
    per z plane, and the 1-D factors it is the outer product of."""
    values = kernel.array()
    total = kernel.sum  # (its factors' sums multiplied: box_3d's 1, where the 27 taps add up to 0.9999999999999998)
    if as_json:
        print_json({"name": kernel.name, "family": "3d", "shape": list(values.shape), "sum": total, "separable": True,
                    "axes": ["z", "y", "x"], "factors": [list(f) for f in kernel.factors], "description": kernel.description,
                    "source": kernel.source, "matrix": values.tolist(), "values": values.tolist(), "notes": []})
        return
    planes = matrix_planes(values)
    if quiet:
        echo("\n\n".join("\n".join(plane) for plane in planes))
        return
    factors = " x ".join(f"[{', '.join(format_number(v) for v in f)}]" for f in kernel.factors)
    lines = [f"{kernel.name}  (3-D, {'x'.join(map(str, values.shape))} (z, y, x), sum {format_number(total)}, separable: {factors})",
             kernel.description, "for volumes, per voxel: kernelcli volume SCAN -k " + kernel.name, f"source: {kernel.source}"]
    for z, plane in enumerate(planes):
        lines.append(f"\nz {z - len(planes) // 2:+d}:")
        lines.extend(plane)
    echo("\n".join(lines))


def register(app: typer.Typer) -> None:
    """Add ``kernels`` (list) and ``kernels show`` to the app."""
    app.add_typer(kernels_app, name="kernels")


def format_number(value: float) -> str:
    """A weight as the shortest text that reads back to the same float64: ``2``, ``-1``, ``0.0625``,
    ``0.1111111111111111``; whole numbers as integers.  The project's one number format
    (:func:`kernelcli.io.matrices.format_number`, as a ``.csv`` or a printed matrix writes it), so
    a matrix pasted from ``kernels show`` into ``--kernel '3x3: ...'`` gives the same kernel.

    >>> [format_number(v) for v in (2.0, -0.0, 0.0625, 1 / 9, 476 / 256, 1e-07)]
    ['2', '0', '0.0625', '0.1111111111111111', '1.859375', '1e-07']
    """
    from ..io.matrices import format_number as shortest

    return shortest(float(value))


def matrix_planes(values: Any) -> list[list[str]]:
    """A kernel's matrices as ``kernels show`` prints them, one list of lines a plane (a 2-D kernel has one; a
    (channels, f, f) or (z, y, x) kernel one per channel or z): the shortest exact numbers (:func:`format_number`),
    right-aligned to one width.

    >>> import numpy as np
    >>> matrix_planes(np.array([[1.0, 0.5], [-2.0, 0.0]]))
    [['  1  0.5', ' -2    0']]
    """
    planes = [values] if values.ndim == 2 else list(values)
    cells = [[[format_number(v) for v in row] for row in plane.tolist()] for plane in planes]
    width = max(len(cell) for plane in cells for row in plane for cell in row)
    return [["  ".join(cell.rjust(width) for cell in row) for row in plane] for plane in cells]


def render_kernel(kernel: Kernel) -> str:
    """The text ``kernels show`` prints: a header, the facts, a blank line, the aligned matrix.

    Every number is the shortest text that reads back exactly (:func:`format_number`): the
    matrix lines, pasted after ``'WxH: '``, are the same kernel as ``--kernel``.

    >>> from kernelcli.catalog import load_kernel
    >>> print(render_kernel(load_kernel("box:2")).splitlines()[-1])
    0.25  0.25
    """
    from ..numtext import path_line

    def escaped(text: str) -> str:  # (a .npy kernel's name, description and source come from its file's name)
        return text if text.isprintable() else path_line(text)

    shape = size_text(tuple(kernel.shape))
    lines = [
        f"{escaped(kernel.name)}  ({kernel.family}, {shape}, sum {format_number(kernel.sum)}, "
        f"{'separable' if kernel.separable else 'not separable'})",
    ]
    if kernel.description:
        lines.append(escaped(kernel.description))
    if kernel.scale is None:
        lines.append("scale: none (the values are the matrix as written)")
    elif kernel.scale == "sum":
        lines.append(f"scale: sum (the matrix divided by its sum, {format_number(kernel.divisor)})")
    else:
        lines.append(f"scale: {format_number(kernel.divisor)} (the matrix divided by {format_number(kernel.divisor)})")
    if kernel.source:
        lines.append(f"source: {escaped(kernel.source)}")
    if kernel.path is not None:
        lines.append(f"file: {path_line(kernel.path)}")
    planes = matrix_planes(kernel.array())  # a (channels, f, f) kernel: one matrix per channel
    for c, plane in enumerate(planes):
        lines.append("" if len(planes) == 1 else f"\nchannel {c}:")
        lines.extend(plane)
    return "\n".join(lines)


def _print_table(kernels: list[Kernel]) -> None:
    """The catalogue as a table: coloured and fitted to a terminal, full width and plain in a pipe.

    On a terminal only the description gives way, cut short: the names are what the list is for, and
    rich shared a narrow width out among every column (``gau…``, ``shift_d…``, the size column ``…``).
    """
    import io

    from rich import box
    from rich.measure import Measurement
    from rich.table import Table
    from rich.text import Text

    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, header_style="bold")
    for column in ("name", "family"):
        table.add_column(column, no_wrap=True)
    table.add_column("size", no_wrap=True, justify="right")
    table.add_column("sum", no_wrap=True, justify="right")
    table.add_column("separable", no_wrap=True)
    # the one column rich may narrow (not no_wrap); each cell stays one line, cut with an ellipsis
    table.add_column("description")
    for kernel in kernels:
        table.add_row(
            Text(kernel.name),
            Text(kernel.family),
            size_text(kernel.shape),  # (1x3 read as width x height elsewhere)
            format_number(kernel.sum),
            "yes" if kernel.separable else "no",
            Text(kernel.description, no_wrap=True, overflow="ellipsis"),
        )
    if sys.stdout.isatty():
        shown = console(highlight=False)
        # narrower than the other columns and a word of description, rich would cut the names too:
        # drawn that wide, the terminal folds the lines instead
        least = Measurement.get(shown, shown.options.update_width(10_000), table).minimum
        if shown.width < least:
            shown = console(highlight=False, width=least)
        with writing_stdout():
            shown.print(table)
        return
    # in a pipe nothing is cut: render wide, then drop the padding rich adds to the right
    buffer = io.StringIO()
    console(file=buffer, width=10_000, highlight=False, color_system=None).print(table)
    echo("\n".join(line.rstrip() for line in buffer.getvalue().splitlines()))
