"""``kernelcli learn``: recover the kernel that turns an input into a target."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from ..limits import MAX_MOMENTUM
from ._common import echo, guarded, note, print_json
from ._early import one_blas_thread_under_memory_cap
from .option_values import learn_side, number_in
from .options import (
    IMAGE_FORMATS,
    SIDE_RANGE,
    DilationOption,
    LayoutOption,
    ForceOption,
    MaxPixelsOption,
    PaddingOption,
    PadModeOption,
    PadValueOption,
    StrideOption,
    Words,
    option,
)

EPILOG = """\b
Examples:
  kernelcli convolve samples/phantom.png --kernel sobel_v --out edges.npy
  kernelcli learn samples/phantom.png edges.npy --size 3
  kernelcli learn samples/phantom.png edges.npy --size 3 --method gd --plot loss.png --out learned.json
"""

NAME_PATTERN = re.compile(r"[a-z0-9_]{1,64}")


class Method(Words):
    lstsq = "lstsq"
    gd = "gd"


class Combine(Words):
    per_channel = "per-channel"
    shared = "shared"
    sum = "sum"

    @classmethod
    def aliases(cls) -> dict[str, str]:
        return {"per_channel": "per-channel"}  # as convolve --combine takes it

    @classmethod
    def what(cls) -> str:
        return "combine mode"  # as convolve's --combine is refused


class Optimizer(Words):
    sgd = "sgd"
    adam = "adam"


@guarded
@one_blas_thread_under_memory_cap
def learn(
    input: Annotated[Path, typer.Argument(help=f"The input: image ({IMAGE_FORMATS}), .npy array or .csv/.txt matrix.", show_default=False)],
    target: Annotated[Path, typer.Argument(help="What the input should become (same formats); keep it float (.npy, .tif) for exact answers.", show_default=False)],
    size: Annotated[int, option("size", parser=learn_side, metavar="F|FxF", extra=SIDE_RANGE, show_default=False)],
    method: Annotated[Method, option("method")] = Method.lstsq,
    combine: Annotated[Combine, option("combine", vocabulary=False, help="Multi-channel inputs: a kernel per channel, one kernel shared by all channels, or one C x f x f kernel whose responses are summed.")] = Combine.per_channel,
    fit_bias: Annotated[bool, option("fit_bias")] = False,
    epochs: Annotated[Optional[int], option("epochs", min=1, show_default=False)] = None,
    lr: Annotated[float, option("lr", parser=number_in(0, above=True))] = 0.1,
    batch_size: Annotated[int, option("batch_size", min=1)] = 64,
    step_size: Annotated[Optional[int], option("step_size", min=1, show_default=False)] = None,
    gamma: Annotated[float, option("gamma", parser=number_in(0, 1, above=True))] = 0.1,
    optimizer: Annotated[Optimizer, option("optimizer")] = Optimizer.sgd,
    momentum: Annotated[float, option("momentum", parser=number_in(0, MAX_MOMENTUM))] = 0.9,
    seed: Annotated[int, option("seed", min=0)] = 0,
    stride: StrideOption = 1,
    padding: PaddingOption = "same",
    pad_mode: PadModeOption = None,
    pad_value: PadValueOption = None,
    dilation: DilationOption = 1,
    flip: Annotated[bool, option("flip", help="The target was made by true convolution (flipped kernel).")] = False,
    out: Annotated[Optional[Path], option("out", help="Write the kernel as a catalogue JSON file (usable with convolve --kernel FILE).", show_default=False)] = None,
    name: Annotated[Optional[str], option("name", show_default=False)] = None,
    plot: Annotated[Optional[Path], option("plot", show_default=False)] = None,
    force: ForceOption = False,
    json_out: Annotated[bool, option("json", extra="Kernel, bias, loss history, fit, max diff vs lstsq.")] = False,
    max_pixels: MaxPixelsOption = None,
    layout: LayoutOption = None,
    quiet: Annotated[bool, option("quiet", extra="The kernel is the answer.")] = False,
) -> None:
    """Learn the kernel that turns INPUT into TARGET (target = convolve(input, kernel)).

    Prints the kernel (7 significant digits of each channel's largest tap). lstsq solves the im2col system exactly;
    gd trains it like the lecture's loop and compares the result with lstsq. The target
    must have the shape convolve gives with the same --size/--padding/--stride.
    """
    from ..errors import UsageError
    from ..io.formats import check_input_path, read_input
    from ..learn import LearnOptions, kernel_name
    from ..modes import check_fill_reading
    from ..shapes import parse_padding

    check_fill_reading(pad_mode, pad_value)  # (before any input is read, as every command: review 50 #7)
    options = LearnOptions(
        size=size, method=method.value, combine=combine.value, fit_bias=fit_bias, stride=stride,
        padding=parse_padding(padding), pad_mode=pad_mode or "constant", pad_value=0.0 if pad_value is None else pad_value, dilation=dilation, flip=flip,
        epochs=epochs, lr=lr, batch_size=batch_size, step_size=step_size,
        gamma=gamma, optimizer=optimizer.value, momentum=momentum, seed=seed,
    )
    if plot is not None and options.method != "gd":
        raise UsageError("--plot draws the training curve of --method gd; lstsq solves in one step and has none")
    from ..tiled.stores import refuse_store_input
    from ..volume_inputs import refuse_volume_input

    for given, what in ((input, "input"), (target, "target"), (out, "--out"), (plot, "--plot")):
        if str(given) == "-":  # ('-' was 'no such file', and --out - "a .json kernel file; got '(no extension)'")
            from ..io.output_checks import pipe_refused

            raise UsageError(pipe_refused(what, given, "learn reads and writes files", stream="stdin or stdout", fix="give a path"
                                          + (" (the kernel is printed on stdout without --out)" if what == "--out" else "")))
    from ..tiled.urls import refuse_url
    from ._stdio import refuse_descriptors, refuse_outputs_in_stores

    for given in (input, target):  # (its folded spelling 's3:/b/in.npy' was "no such file")
        refuse_url(given, "learn reads local files")

    # (before their extension's check: '--plot /dev/stdout' was told the curve is a .png, 'got (no extension)')
    refuse_descriptors({"out": out, "plot": plot}, {"out": "the learned kernel is a file"})
    refuse_outputs_in_stores({"out": out, "plot": plot}, [input, target])  # (-o grp.zarr/k.json was written into the group)
    from ..batch_patterns import refuse_unmatched

    refuse_unmatched([input, target], one_file="learn")  # ('nosuch*.png' was "no such file", where convolve names it)
    for given in (input, target):  # ("unsupported file type '.gz'" named no volume)
        refuse_volume_input(given, "learn")
        refuse_store_input(given, "learn")  # ("not a regular file (a directory)" named no store)
    sources = [check_input_path(input), check_input_path(target)]
    out_path = _check_json_output(out, sources, force=force) if out is not None else None
    plot_path = _check_plot_output(plot, sources + ([out_path] if out_path else []), force=force) if plot is not None else None
    if name is not None and not NAME_PATTERN.fullmatch(name):
        from ..numtext import quoted

        raise UsageError(f"--name {quoted(name)}: expected 1 to 64 lower-case letters, digits or underscores (a catalogue name)")
    label = name or kernel_name(out_path.stem if out_path else f"{Path(input).stem}_learned")
    if name is not None and out_path is None:
        from ._common import call_note

        call_note(f"--name {name} names the kernel in the --out file; without --out nothing is named", quiet=quiet)

    x = read_input(sources[0], max_pixels=max_pixels, words="cli")
    t = read_input(sources[1], max_pixels=max_pixels, words="cli")
    from ..layout import input_layout, plane_word, to_hwc

    layouts, stored = [], []
    for loaded, path in ((x, input), (t, target)):  # both channels-last, whatever the files hold
        if loaded is t and _one_summed_plane(t.data, x.data, layout, options):
            layouts.append("hwc")
        else:
            layouts.append(input_layout(loaded.data, loaded.kind, layout, str(path), loaded.format, loaded.notes))
        stored.append(tuple(loaded.data.shape))
        loaded.data = to_hwc(loaded.data, layouts[-1])
    if layout is not None:  # (one --layout reads both: an (H, W, C) input beside a (C, H, W) target is its fault)
        from ..layout import canonical_layout
        from ..learn_checks import check_one_layout
        from ..learn_options import WORDINGS

        movable = tuple(loaded.kind == "array" and len(shape) == 3 for loaded, shape in zip((x, t), stored))
        check_one_layout(tuple(stored), tuple(layouts), movable, canonical_layout(layout), options, (str(input), str(target)),
                         words=WORDINGS["cli"])
    plane = plane_word(layouts[0])  # a volume's kernels are per slice, as gallery and the README say
    # (the --layout a 3-D input was read with is among the convolve options that give the target: without it the
    # printed command read a volume as (H, W, C), or was refused as ambiguous)
    read_as = layouts[0] if layout is not None and x.data.ndim == 3 else None
    from ._common import call_note
    from ..modes import unused_border, unused_fill

    alphas = (x.alpha is not None, t.alpha is not None)
    if any(alphas):  # (before the fit's own check: its count of channels would not say the alpha was set aside)
        from ..learn_checks import check_channels
        from ..learn_options import WORDINGS

        check_channels(x.data, t.data, options, str(input), str(target), alphas, plane, words=WORDINGS["cli"])
    input_notes = list(dict.fromkeys(x.notes + t.notes + [_alpha_note(loaded, path) for loaded, path in ((x, input), (t, target))
                                                           if loaded.alpha is not None]))  # (an input given as its own target: its note once)
    if not quiet:
        for line in input_notes:
            note(f"note: {line}")
    if said := unused_fill(pad_value, options.pad_mode):
        call_note(said, quiet=quiet)
    if said := unused_border(options.padding, padding, pad_mode is not None, pad_value is not None):
        call_note(said, quiet=quiet)
    if options.combine != "per-channel" and (x.data.ndim == 2 or x.data.shape[2] == 1):  # (as convolve notes it)
        call_note(f"{Path(str(input)).name}: --combine {options.combine}: the input has one {plane}, so the kernel "
                  f"learned is that {plane}'s own (as per-{plane})", quiet=quiet)
    result = _run(x.data, t.data, options, str(input), str(target), plane, show_progress=not quiet and sys.stderr.isatty())
    if plot_path is not None:
        _check_plottable(result.history, plot_path)  # before any output: nothing is written then
    _write_outputs(out_path, plot_path, result, label, str(input), str(target), options, read_as, force=force)
    file_notes = _file_notes(result, options, out_path, label, str(input), read_as) if out_path is not None else []
    if json_out:  # the notes printed, with or without -q (the call's own go first: print_json)
        document = result.as_dict()
        document["notes"] = input_notes + document["notes"] + file_notes
        document.update(input=str(input), target=str(target), output=str(out_path) if out_path else None,
                        plot=str(plot_path) if plot_path else None, name=label if out_path else None)
        print_json(document)
    else:
        _print_kernel(result, plane)
    if not quiet:
        _summary(result, options, out_path, plot_path, file_notes, plane)
    for line in result.warnings:  # with -q too: a warning says the kernel printed may not be the answer
        echo(f"warning: {line}", err=True, fg="yellow")


def _alpha_note(loaded, path: Path) -> str:
    """What learn does with an image's alpha channel: sets it aside, as read_input does.

    >>> import numpy as np
    >>> from kernelcli.io.common import Loaded
    >>> _alpha_note(Loaded(Path("a.png"), np.zeros((2, 2, 3)), "image", "PNG", alpha=np.zeros((2, 2))), Path("a.png"))
    'a.png: its alpha channel is not learned; learn fits its 3 colour channels'
    """
    count = loaded.data.shape[2] if loaded.data.ndim == 3 else 1
    return f"{path}: its alpha channel is not learned; learn fits its {'grey channel' if count == 1 else f'{count} colour channels'}"


def _run(x, t, options, input_name: str, target_name: str, plane: str, *, show_progress: bool):
    """Learn, with a rich progress bar on stderr for gd when asked; every message names learn's options."""
    from ..learn import learn_kernel

    if not (show_progress and options.method == "gd"):
        return learn_kernel(x, t, options, input_name=input_name, target_name=target_name, plane=plane, words="cli")
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from ._common import console

    columns = (
        TextColumn("training"), BarColumn(), MofNCompleteColumn(), TextColumn("epochs  loss {task.fields[loss]}  lr {task.fields[lr]}"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console(stderr=True), transient=False) as bar:
        task = bar.add_task("train", total=None, loss="-", lr="-")

        def progress(epoch: int, epochs: int, loss: float, lr: float) -> None:
            bar.update(task, completed=epoch, total=epochs, loss=f"{loss:.4g}", lr=f"{lr:.3g}")

        return learn_kernel(x, t, options, progress=progress, input_name=input_name, target_name=target_name, plane=plane,
                            words="cli")


def _check_json_output(out: Path, inputs: list[Path], *, force: bool) -> Path:
    """The --out kernel file: a .json path that is no input and not an existing file (unless --force)."""
    from ..io.not_held import UnsupportedOutput
    from ..io.output_checks import check_output, refuse_folder

    refuse_folder(out)
    if out.suffix.lower() != ".json":
        raise UnsupportedOutput(out, (".json",), what="a learned kernel")
    return check_output(out, inputs, force=force)


def _check_plot_output(plot: Path, others: list[Path], *, force: bool) -> Path:
    """The --plot curve's path checked as an output file, each refusal named ``--plot ...`` as ``--montage``'s and
    ``--report``'s are: beside ``-o``, "p.png: already exists" did not say which option was at fault."""
    from ..errors import KernelcliError
    from ..io.formats import check_output_path
    from ..io.not_held import UnsupportedOutput
    from ..io.output_checks import refuse_folder
    from ..maps_outputs import named_option

    try:
        refuse_folder(plot)
        if plot.suffix.lower() != ".png":
            raise UnsupportedOutput(plot, (".png",), what="the loss curve")
        return check_output_path(plot, others, force=force)
    except KernelcliError as refused:
        raise named_option(refused, "--plot") from None


def _write_outputs(out_path: Path | None, plot_path: Path | None, result, label: str, input_name: str, target_name: str,
                   options, layout: str | None, *, force: bool) -> None:
    """Write the kernel file and the loss curve together: both or neither (a curve that failed to write had left the
    kernel file published, unmentioned, and the rerun refused for it)."""
    from ..io.outputs import atomic_write_all
    from ..learn import kernel_document, kernel_json_text

    items = []
    if out_path is not None:
        document = kernel_document(result, name=label, input_name=input_name, target_name=target_name, options=options,
                                   layout=layout)
        text = kernel_json_text(document).encode("utf-8")
        items.append((out_path, lambda f: f.write(text)))
    if plot_path is not None:
        from ..learn_plot import render_loss_curve

        changes = [i + 1 for i in range(len(result.lrs) - 1) if result.lrs[i + 1] != result.lrs[i]]
        image = render_loss_curve(result.history, lr_changes=changes)
        items.append((plot_path, lambda f: image.save(f, format="PNG")))
    if items:
        atomic_write_all(items, force=force)


def _check_plottable(history: list[float], plot: Path) -> None:
    """Refuse a curve that cannot be drawn: epoch losses beyond float64's range (data near 1e154 and up)."""
    import math

    from ..errors import UsageError

    beyond = [i + 1 for i, loss in enumerate(history) if not math.isfinite(loss)]
    if beyond:
        together = len(beyond) == beyond[-1] - beyond[0] + 1
        where = (f"epoch {beyond[0]}" if len(beyond) == 1 else f"epochs {beyond[0]}-{beyond[-1]}" if together
                 else f"{len(beyond)} epochs from epoch {beyond[0]} on")
        raise UsageError(f"{plot}: the loss of {where} is beyond float64's range (the data's squares overflow); "
                         "no curve can be drawn: scale the input and target down, or drop --plot")


def _print_kernel(result, plane: str) -> None:
    from ..learn import format_kernel, format_values

    echo(format_kernel(result.kernel, plane=plane), nl=False)
    if result.bias is not None:
        echo("bias " + " ".join(format_values([b])[0] for b in result.bias))  # (each its own kernel's: its own scale)


def _summary(result, options, out_path: Path | None, plot_path: Path | None, file_notes: list[str], plane: str) -> None:
    """Notes and the one-line facts of the fit, on stderr (the warnings follow them, with -q too)."""
    from ..learn_report import residual_text

    fit = result.lstsq
    kh, kw = result.size
    for line in result.notes:
        note(f"note: {line}")
    residual = residual_text(fit.relative_residual, fit.relative_residuals, result.combine == "per-channel", plane)
    note(
        f"lstsq: {kh}x{kw} kernel from {result.windows_used} windows: rank {fit.rank}/{fit.unknowns}, "
        f"condition {fit.condition:.3g}, MSE {fit.mse:.3g}, {residual}"
    )
    if options.method == "gd":
        epochs = len(result.history)
        opt = f"sgd momentum {options.momentum:g}" if options.optimizer == "sgd" else "adam"
        drops = sorted({lr for lr in result.lrs}, reverse=True)
        schedule = " -> ".join(f"{lr:.3g}" for lr in drops)
        note(
            f"gd: {epochs} epochs ({opt}, batch {options.batch_size}, lr {schedule}): epoch loss "
            f"{result.history[0]:.3g} -> {result.history[-1]:.3g}, final MSE {result.loss:.3g}; "
            f"max |gd - lstsq| = {result.max_diff_vs_lstsq:.3g}"
        )
    if out_path is not None:
        note(f"wrote {out_path}")
        for line in file_notes:
            note(f"note: {line}")
    if plot_path is not None:
        note(f"wrote {plot_path}")


def _one_summed_plane(target: Any, x: Any, layout: str | None, options: Any) -> bool:
    """Is ``target`` the one (H, W) plane a ``--combine sum`` kernel makes from the 3-D ``x`` read with a ``--layout``?
    Then it is read as that plane, the layout left to the input it is for: there is no other reading, the ``convolve``
    command ``learn`` prints for such a kernel writes it 2-D (under ``zyx``: refused as 'not a (Z, Y, X) array', the
    round trip failed), and under ``chw`` the target was noted '--layout chw changes nothing' beside that command,
    which names it."""
    return (layout is not None and options.combine == "sum" and getattr(target, "ndim", 0) == 2
            and getattr(x, "ndim", 0) == 3)


def _kernel_arg(out_path: Path, name: str | None = None) -> str:
    """``convolve --kernel``'s argument for ``out_path`` (one ``name`` in it: ``FILE:NAME``), quoted for a shell: every
    note that prints a command prints it this way, so the command runs as pasted ('my k.json:k_c1' unquoted did not).

    >>> _kernel_arg(Path("my k.json"), "k_c1"), _kernel_arg(Path("k.json"))
    ("'my k.json:k_c1'", 'k.json')
    """
    import shlex

    return shlex.quote(f"{out_path}:{name}" if name else str(out_path))


def _file_notes(result, options, out_path: Path, label: str, input_name: str, layout: str | None) -> list[str]:
    """How the written file reproduces the target: the kernel names, a flipped kernel, convolve's options (``layout``:
    the ``--layout`` a 3-D input was read with, among them); each command as a shell takes it (:func:`_kernel_arg`)."""
    import shlex

    import numpy as np

    from ..learn_report import channel_kernel_names, convolve_options

    notes = []
    per_channel = result.combine == "per-channel" and result.kernel.ndim == 3
    if per_channel:
        first = channel_kernel_names(label, result.kernel.shape[0], result.plane)[0]
        notes.append(f"{out_path} holds one kernel per {result.plane}; convolve takes one at a time "
                     f"({_kernel_arg(out_path, first)}, ...), and --combine shared learns one kernel for every {result.plane}")
    if options.flip:
        notes.append(f"{out_path} holds the printed kernel rotated 180 degrees: a kernel file is applied by correlation, "
                     "so convolve reproduces the target with it without --flip")
    if per_channel:  # each kernel's own --bias is in its description, and named here: without it the command was off
        words = convolve_options(options, layout=layout)
        names = channel_kernel_names(label, result.kernel.shape[0], result.plane)
        biased = result.bias is not None and np.any(result.bias != 0)
        if biased:
            each = ", ".join(f"{_kernel_arg(out_path, name)} {convolve_options(options, [b])[-1]}"
                             for name, b in zip(names, result.bias))
            notes.append(f"each kernel gives its {result.plane} of the target with convolve --kernel "
                         f"{_kernel_arg(out_path, 'NAME')} {' '.join(words + ['--bias B'])}, B its own bias (its description "
                         f"holds it): {each}")
        elif words:
            notes.append(f"each kernel gives its {result.plane} of the target with convolve --kernel "
                         f"{_kernel_arg(out_path, 'NAME')} {' '.join(words)}")
        return notes
    words = convolve_options(options, result.bias, layout)
    if words:
        command = f"kernelcli convolve {shlex.quote(input_name)} --kernel {_kernel_arg(out_path)} {' '.join(words)}"
        notes.append(f"the target is {command}")
    return notes


def register(app: typer.Typer) -> None:
    """Add ``learn`` to the app."""
    app.command("learn", epilog=EPILOG)(learn)
