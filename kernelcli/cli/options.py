"""Every command-line option kernelcli has, declared once: names, aliases, help, choices.

One concept has one set of names in every command (``CONCEPTS``, the table a test
checks every command's ``--help`` against), one help text (``HELP``) and, for a
vocabulary, the choices of the table in :mod:`kernelcli.modes` that the code itself
uses (so ``--help`` lists them, completion offers them and aliases still work).
Commands take the ready ``Annotated`` aliases below, or build an option of their own
type with :func:`option`::

    size: Annotated[int, option("size", min=1)]

Only the standard library is imported here: :func:`option` and :func:`argument` return
:class:`~kernelcli.cli._declared.Declared` settings, which :mod:`kernelcli.cli._typed` turns into typer's own when a
command is built, and which a plain call's parser (:mod:`kernelcli.cli._fast`) reads without
importing typer.

>>> CONCEPTS["stride"].names
('--stride', '-s', '--s')
>>> choices_metavar("pool_op")
'[max|min|avg]'
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, Optional

from .. import layout, limits, modes
from ..records import record
from ..shapes import VOLUME_PADDING_FORMS
from ..volume_inputs import VOLUME_FORMATS_HELP
from ._declared import Declared
from .option_values import (bias_text, checked_chunks, checked_file_path, checked_scheduler, checked_suffix,
                            checked_window, complete_kernel, parse_fill, scale_text)


@record(frozen=True)
class Concept:
    """The option names of one concept (long name first), whether it takes a value and how ``--help``
    shows that value (a vocabulary's metavar lists its choices: :func:`choices_metavar`)."""

    names: tuple[str, ...]
    flag: bool = False
    metavar: str | None = None


#: concept -> the names it has in every command. The lecture's short spellings
#: (--f, --s, --p, --in) and older names (pad's --mode/--value) are aliases.
CONCEPTS: dict[str, Concept] = {
    # shared by the array commands
    "kernel": Concept(("--kernel", "-k"), metavar="KERNEL"),
    "kernel_scale": Concept(("--kernel-scale",), metavar="sum|N|N%|!|^"),
    "then": Concept(("--then",), metavar="KERNEL|maxpool:F|minpool:F|avgpool:F"),
    "size": Concept(("--size", "-f", "--f"), metavar="F"),
    "stride": Concept(("--stride", "-s", "--s"), metavar="S"),
    "padding": Concept(("--padding", "-p", "--p"), metavar="same|valid|P|T,B,L,R"),
    "pad_mode": Concept(("--pad-mode", "-m", "--mode")),
    "pad_value": Concept(("--pad-value", "--value"), metavar="VALUE"),
    "dilation": Concept(("--dilation",), metavar="D"),
    "flip": Concept(("--flip",), flag=True),
    "layout": Concept(("--layout",)),
    "rescale": Concept(("--rescale",)),
    "combine": Concept(("--combine",)),
    "activation": Concept(("--activation",)),
    "bias": Concept(("--bias",), metavar="B|B1,B2,..."),  # a value (B or B1,B2,...); learn's flag is --fit-bias
    "bias_file": Concept(("--bias-file",), metavar="PATH"),
    "weights": Concept(("--weights",), metavar="PATH"),
    "montage": Concept(("--montage",), metavar="PATH"),
    "max_pixels": Concept(("--max-pixels",), metavar="N"),
    "pool_op": Concept(("--op",)),
    "ceil": Concept(("--ceil",), flag=True),
    "exclude_pad": Concept(("--exclude-pad",), flag=True),
    # volumes
    "axis": Concept(("--axis",)),
    "truncate": Concept(("--truncate",), metavar="T"),
    "mask": Concept(("--mask",), metavar="PATH"),
    "volume_index": Concept(("--volume",), metavar="N"),
    "series": Concept(("--series",), metavar="UID|N"),
    "resample_slices": Concept(("--resample-slices",), flag=True),
    "affine": Concept(("--affine",)),
    "window": Concept(("--window",), metavar="C,W|PRESET"),
    "keep_dtype": Concept(("--keep-dtype",), flag=True),
    # outputs and the batch
    "out": Concept(("--out", "-o"), metavar="PATH"),
    "out_dir": Concept(("--out-dir", "-d"), metavar="DIR"),
    "suffix": Concept(("--suffix",), metavar="TEXT"),
    "format": Concept(("--format",)),
    "quality": Concept(("--quality",), metavar="Q"),
    "compress": Concept(("--compress",)),
    "recursive": Concept(("--recursive", "-r"), flag=True),
    "workers": Concept(("--workers", "-j"), metavar="N"),
    "tiled": Concept(("--tiled",), flag=True),
    "chunks": Concept(("--chunks",), metavar="N|N,M"),
    "scheduler": Concept(("--scheduler",), metavar="local|ADDRESS"),
    "report": Concept(("--report",), metavar="PATH"),
    "force": Concept(("--force",), flag=True),
    "json": Concept(("--json",), flag=True),
    "quiet": Concept(("--quiet", "-q"), flag=True),
    # layer arithmetic
    "input_shape": Concept(("--input", "--in", "-i")),
    "same": Concept(("--same",), flag=True),
    "valid": Concept(("--valid",), flag=True),
    "pool": Concept(("--pool",), flag=True),
    "filters": Concept(("--filters",), metavar="K"),
    "in_ch": Concept(("--in-ch",), metavar="C"),
    "no_bias": Concept(("--no-bias",), flag=True),
    "groups": Concept(("--groups",), metavar="G"),
    "dense": Concept(("--dense",), metavar="IN OUT"),
    "flatten": Concept(("--flatten",), metavar="HxWxC"),
    "depth": Concept(("--depth",), metavar="N"),
    "max_layers": Concept(("--max-layers",), metavar="N"),
    # kernels and gallery
    "family": Concept(("--family",), metavar="FAMILY"),
    "tile": Concept(("--tile",), metavar="PX"),
    # learn
    "method": Concept(("--method",)),
    "fit_bias": Concept(("--fit-bias",), flag=True),
    "epochs": Concept(("--epochs",), metavar="N"),
    "lr": Concept(("--lr",), metavar="LR"),
    "batch_size": Concept(("--batch-size",), metavar="N"),
    "step_size": Concept(("--step-size",), metavar="K"),
    "gamma": Concept(("--gamma",), metavar="GAMMA"),
    "optimizer": Concept(("--optimizer",)),
    "momentum": Concept(("--momentum",), metavar="M"),
    "seed": Concept(("--seed",), metavar="N"),
    "name": Concept(("--name",), metavar="NAME"),
    "plot": Concept(("--plot",), metavar="PATH"),
    # worker
    "idle_timeout": Concept(("--idle-timeout",), metavar="SECONDS"),
    # the root command
    "debug": Concept(("--debug",), flag=True),
    "version": Concept(("--version", "-V"), flag=True),
}

#: concept -> (its choices, the function that turns a value or an alias into one of them)
VOCABULARIES: dict[str, tuple[tuple[str, ...], Callable[[str], str]]] = {
    "pad_mode": (modes.PAD_MODES, modes.canonical_pad_mode),
    "volume_pad_mode": (modes.VOLUME_PAD_MODES, modes.canonical_volume_pad_mode),
    "pool_op": (modes.POOL_OPS, modes.canonical_pool_op),
    "rescale": (modes.RESCALE_MODES, modes.canonical_rescale),
    "activation": (modes.ACTIVATIONS, modes.canonical_activation),
    "combine": (modes.COMBINE_MODES, modes.canonical_combine),
    "axis": (modes.AXES, modes.canonical_axis),
    "layout": (layout.LAYOUTS, layout.canonical_layout),
    "plane_layout": (layout.PLANE_LAYOUTS, layout.canonical_plane_layout),
    "compress": (tuple(modes.PNG_COMPRESSION), modes.canonical_compression),
    "affine": (modes.AFFINE_READINGS, modes.canonical_affine),
}


def _aliases(table: dict[str, str]) -> str:
    return ", ".join(table)


#: concept -> its help text (a command may add a sentence with ``extra=``)
HELP: dict[str, str] = {
    "kernel": "A catalogue name (see `kernelcli kernels`), a JSON or .npy file, gaussian:SIGMA, box:N, ImageMagick's inline '3x3: 1,0,-1 2,0,-2 1,0,-1' or a JSON list '[[1,0,-1],[2,0,-2],[1,0,-1]]'. "
    "Repeat it for a filter bank: one feature map per kernel. Volumes: one kernel, gaussian:1.5mm, fwhm:4mm or box:5mm "
    "(mm, per-axis spacing), gaussian:2vox, box:3vox, gradient, sobel_mm, log:2mm, gaussian_3d, box_3d, sobel_3d, a "
    "3-D kernel file of (z, y, x) taps, or a 2-D kernel slice by slice; left out, a volume is only converted or windowed.",
    "then": "Chain: apply this to the result of the step before, in order, the intermediates kept in float. A 2-D kernel "
    "(any --kernel form, with the same padding, stride and scale) or a pooling step (maxpool:2, avgpool:3:2 for stride 2; "
    "in 3-D on a --layout zyx array, as pool). "
    "Repeat for more steps; repeated --kernel stays a filter bank.",
    "kernel_scale": "Rescale every kernel as ImageMagick's -define convolve:scale: N or N% multiplies; ! divides by |sum| "
    "(zero-sum: positives to 1); ^ positives to 1 and negatives to -1; N! or N^ normalise then multiply; "
    "sum divides by the sum, as a kernel file's \"scale\": \"sum\".",
    "size": "Window side f (an f x f window).",
    "stride": "Step between windows.",
    "padding": "same, valid, P (every side) or T,B,L,R.",
    "pad_mode": f"How borders are filled (aliases: {_aliases(modes.PAD_ALIASES)}).",
    "pad_value": "Fill value for --pad-mode constant.",
    "dilation": "Spacing between kernel taps: the kernel spans d*(f-1)+1 cells.",
    "flip": "True convolution (flip the kernel); the default is cross-correlation, as in PyTorch. A channels x f x f "
    "kernel (or --weights) on an image is flipped along y and x, its channels keeping their order (as PyTorch's "
    "conv_transpose); a volume's 3-D kernel (--layout zyx) along z, y and x (as scipy.ndimage.convolve).",
    "layout": layout.LAYOUT_HELP,
    "rescale": "Map results to the output's integer range: clip, abs, minmax, or none (float outputs only).",
    "combine": "2-D kernels on a multi-channel image: per-channel (each channel filtered alone) or sum (summed over the "
    "channels into one map: a convolution layer).",
    "activation": f"Applied after the bias; leaky_relu has slope 0.01 (aliases: {_aliases(modes.ACTIVATION_ALIASES)}).",
    "bias": "Added to each map before the activation: one value, or one per kernel separated by commas.",
    "bias_file": "The bias (K,) for --weights, saved with numpy.save.",
    "weights": "A trained filter bank (K, C, f, f) saved with numpy.save, PyTorch's layout (model.conv1.weight); "
    "replaces --kernel.",
    "montage": "Also draw the input and every map, each stretched on its own and labelled (a colour tile's three "
    "maps stretched together, from the lowest minimum to the highest maximum), into this picture "
    f"({modes.SHEET_FORMATS_TEXT}; a file, not stdout).",
    "max_pixels": f"Refuse images with more pixels (decompression-bomb guard; default {limits.DEFAULT_MAX_PIXELS:,}).",
    "pool_op": f"Pooling operation (aliases: {_aliases(modes.POOL_ALIASES)}).",
    "ceil": "Round the output size up (PyTorch's ceil_mode).",
    "exclude_pad": "avg: divide by the real cells only (PyTorch count_include_pad=False).",
    "axis": "Volumes: a 2-D kernel filters each slice across this voxel axis (default z); a kernel in mm or voxels "
    "leaves this voxel axis alone (smooths within the slices); a .png output shows the axial (z), coronal (y) or sagittal (x) "
    "middle slice of the volume turned to the closest RAS+ orientation (with a 3-D kernel or a derivative, which "
    "filter along every axis, the view alone).",
    "window": "Volumes: CENTRE,WIDTH in HU, or " + ", ".join(f"{k} ({c:g},{w:g})" for k, (c, w) in modes.WINDOW_PRESETS.items())
    + ": maps values to 0-255.",
    "truncate": "Volumes: Gaussian radius in sigmas: ceil(T*sigma/spacing) voxels per axis (default 3, and 4 for log:, "
    "whose second derivative reaches further; fslmaths and scipy use 4).",
    "mask": "Volumes: smooth inside this mask only (voxels > 0.5, same grid), renormalising the weights inside it and "
    "keeping the voxels outside, as fslmaths' masked convolution.",
    "volume_index": "Volumes: one volume (from 0) of a 4-D input.",
    "series": "Volumes: in a folder holding several DICOM series, the SeriesInstanceUID or index (as the error lists "
    "them) of the one to read; a bare-number UID that is also another series' index is refused as reading two ways: "
    "uid:UID or index:N says which.",
    "resample_slices": "Volumes: a DICOM series with uneven slice gaps is refused; this interpolates it linearly along "
    "the normal onto an even grid instead (at most 3 made-up slices in a row; a wider gap stays refused).",
    "affine": "Volumes: a NIfTI whose qform and sform are both set but place the voxels differently reads two ways and "
    "is refused; this picks the one to use (it must be set). By default the one that is set is used, the sform when "
    "both agree.",
    "idle_timeout": "Exit after this many seconds without a call.",
    "keep_dtype": "Volumes: write the input's stored integer type, with its NIfTI scaling (rounded; out-of-range "
    "values clipped, with a note) instead of float32.",
    "out": "Output path; the extension picks the format.",
    "out_dir": "Folder for the results of several inputs (required then); folder structure under a folder input is kept.",
    "suffix": "Output names are <stem>_<suffix>.<ext> (default: the operation); '' keeps the input's name (<stem>.<ext>, "
    "with --out-dir).",
    "format": "Output format (default: the input's). With '-': the format written to stdout (required for images); "
    "with stdin and --out FILE, the format stdin holds (otherwise sniffed from its first bytes), FILE's extension "
    "giving the output's.",
    "quality": "JPEG outputs: quality from 1 to 100 (Pillow's own default is 75).",
    "compress": "PNG outputs: deflate effort, none (zlib level 0), fast (rows Up-filtered, deflate level 1, ISA-L's with "
    "the [fast] extra: 5-25% larger than default, 4-30x faster than Pillow's level 1), default (zlib 6) or best (zlib 9); "
    "lossless either way.",
    "recursive": "Descend into subfolders of folder inputs.",
    "workers": "Parallel processes for several inputs (default: the number of cores).",
    "tiled": "Compute tile by tile with halos, the same bytes as in memory (automatic for .zarr inputs and outputs "
    "and for inputs over the memory cap).",
    "chunks": "Tile side of the tiled path: 1024, or one per axis such as 512,2048 (default: the input's chunks, at least 1024 or the whole axis, halved while a tile holds more than 1024x1024 cells or 32 MiB: a volume's is about 64x128x128).",
    "scheduler": "Run on a dask.distributed cluster: local (a LocalCluster of --workers processes) or a scheduler "
    "address such as tcp://host:8786; needs the [distributed] extra.",
    "report": "Also write the JSON report (a record per input and the totals) to this file.",
    "force": "Overwrite an existing output.",
    "json": "Print one JSON document on stdout (schema in the README).",
    "quiet": "Print only the answer (a matrix or a number on stdout), warnings and errors: no paths, notes, summary or progress; "
    "--json wins over it.",
    "input_shape": "Input size.",
    "same": "Same padding, as convolve's: the lecture's p = f // 2 on each side for an odd f (dilated: d*(f//2)); an even f "
    "pads f-1 in all (d*(f-1)), the extra cell at the bottom/right; the same as --padding same.",
    "valid": "No padding, p = 0 (the default); the same as --padding valid.",
    "pool": "Pooling (PyTorch MaxPool2d/AvgPool2d rule); stride defaults to f.",
    "filters": "Number of filters K (output channels).",
    "in_ch": "Input channels C (the input's depth).",
    "no_bias": "The layer has no bias terms.",
    "groups": "Grouped convolution: G must divide C and K.",
    "dense": "A fully connected layer from IN to OUT units.",
    "flatten": "The length of the flattened volume.",
    "max_layers": "Refuse a spec that expands to more layers (repeats, templates); a guard against specs that would "
    "exhaust the machine.",
    "depth": "Fold blocks nested deeper than N into one row (top-level layers are depth 1).",
    "family": "Only this family (edge, smoothing, gaussian, ...; see `kernelcli kernels`).",
    "tile": "Largest side of each tile, in pixels.",
    "method": "lstsq: the exact least-squares answer (past 8,000,000 equation values, of a random subset of the windows: --seed picks it); gd: a training loop (mini-batches, MSE, SGD, StepLR).",
    "fit_bias": "Learn a constant added to every output too.",
    "epochs": "gd: passes over the data (default 30, more for small inputs: at least 1000 steps).",
    "lr": "gd: learning rate (a number > 0), on internally normalised data.",
    "batch_size": "gd: windows per mini-batch.",
    "step_size": "gd: StepLR, multiply the lr by --gamma every K epochs (default: a third of the epochs).",
    "gamma": "gd: StepLR factor (0 < gamma <= 1).",
    "optimizer": ("gd: sgd, SGD with --momentum whose step is divided by the mini-batch's mean window energy where that "
                  "exceeds 1, so one --lr fits every image; or adam, as torch.optim.Adam."),
    "momentum": f"gd: SGD momentum (0 <= momentum <= {limits.MAX_MOMENTUM}).",
    "seed": "Seed of gd's mini-batch shuffle, and of the random subset of windows lstsq and gd keep past 8,000,000 equation values.",
    "name": "Kernel name in the JSON file (default: the --out file's stem).",
    "plot": "gd: draw the loss curve to this PNG.",
    "debug": "Show the full traceback of an internal error.",
    "version": "Print the version and exit.",
}


#: the concepts the README's option table shows (every command that has one spells it so)
SHARED = (
    "kernel", "size", "stride", "padding", "pad_mode", "pad_value", "dilation", "flip", "layout", "rescale",
    "out", "out_dir", "format", "force", "json", "quiet", "input_shape", "version",
)


def markdown_table(concepts: tuple[str, ...] = SHARED) -> str:
    """The README's table of shared options, generated from :data:`CONCEPTS` and :data:`VOCABULARIES`.

    >>> markdown_table(("stride",)).splitlines()[-1]
    '| `--stride` | `-s`, `--s` | Step between windows. |'
    """
    rows = ["| option | also | what it takes |", "|---|---|---|"]
    for concept in concepts:
        long, *aliases = CONCEPTS[concept].names
        text = HELP[concept]
        if concept in VOCABULARIES:
            text = ", ".join(VOCABULARIES[concept][0]) + ". " + text
        also = ", ".join(f"`{a}`" for a in aliases) or "-"
        rows.append(f"| `{long}` | {also} | {text.replace('|', '/')} |")
    return "\n".join(rows)


def choices_metavar(concept: str) -> str:
    """``[a|b|c]``: how ``--help`` shows the choices of a vocabulary option."""
    return "[" + "|".join(VOCABULARIES[concept][0]) + "]"


def _vocabulary(concept: str) -> dict[str, Any]:
    """Parser, metavar and completion of a vocabulary option: choices listed, aliases accepted."""
    names, canonical = VOCABULARIES[concept]

    def complete(incomplete: str) -> list[str]:
        return [name for name in names if name.startswith(incomplete)]

    def parse(value: str) -> str:
        try:
            return canonical(value)
        except ValueError as exc:  # typer names the option and exits 2
            from ._click import click

            raise click.exceptions.BadParameter(str(exc)) from None

    return {"parser": parse, "metavar": choices_metavar(concept), "autocompletion": complete}


def argument(**settings: Any) -> Declared:
    """A ``typer.Argument`` with these settings (see :class:`Declared`)."""
    return Declared((), dict(settings), argument=True)


def option(
    concept: str, *, extra: str = "", help: str | None = None, vocabulary: bool | str = True, **kwargs: Any
) -> Declared:
    """A ``typer.Option`` with the concept's names, help and (for a vocabulary) choices (:class:`Declared`).

    ``extra`` adds a command's own sentence to the shared help; ``help`` replaces it
    (for a concept whose meaning a command narrows); ``vocabulary=False`` leaves the
    choices to the parameter's own Enum type, ``vocabulary="volume_pad_mode"`` picks
    another table of :data:`VOCABULARIES` for the concept's names.  Other keywords go to typer.

    >>> option("stride", extra="[default: the size]").help
    'Step between windows. [default: the size]'
    >>> option("stride", min=1).min, option("stride").max, option("flip").names
    (1, None, ('--flip',))
    """
    text = help if help is not None else HELP[concept]
    if extra:
        text = f"{text} {extra}"
    settings: dict[str, Any] = {"help": text}
    table = vocabulary if isinstance(vocabulary, str) else concept if vocabulary else None
    if table in VOCABULARIES:
        settings.update(_vocabulary(table))
    if not CONCEPTS[concept].flag and "show_default" not in kwargs:
        settings["show_default"] = True
    if CONCEPTS[concept].metavar and "metavar" not in settings:
        settings["metavar"] = CONCEPTS[concept].metavar
    if concept in FILE_OUTPUTS:  # a trailing '/' names a folder: refused, not dropped
        settings["parser"] = checked_file_path(CONCEPTS[concept].names[0])
    settings.update(kwargs)
    return Declared(CONCEPTS[concept].names, settings)


#: the concepts that name one file a command writes, each refused when it names a folder (a trailing '/' or '/.':
#: :func:`~.option_values.checked_file_path`) -> what it writes when only a file can be it (a descriptor such as
#: /dev/stdout, or a link to one, is refused naming the option: :func:`~._stdio.refuse_descriptors`), or None where
#: the command's own rules say (``--out -`` is stdout)
FILE_OUTPUTS: dict[str, str | None] = {"out": None, "report": None, "montage": "the montage is a file",
                                       "plot": "the loss curve is a file"}


class Words(str, Enum):
    """The values of a choice option of its own (``--format``, ``learn --method``), read as the vocabulary options
    are: in any case, and with the aliases :meth:`aliases` gives (``--format TIFF`` is ``tif``).

    >>> OutFormat("JPEG"), OutFormat(" Png ")
    (<OutFormat.jpg: 'jpg'>, <OutFormat.png: 'png'>)
    """

    @classmethod
    def aliases(cls) -> dict[str, str]:
        """Other spellings, in lower case, of the values."""
        return {}

    @classmethod
    def what(cls) -> str:
        """What a value is, for the refusal of one that is none of them (``invalid method 'x': expected one of ...``,
        worded as :mod:`kernelcli.modes` words the vocabulary options'): the class name in lower case."""
        return cls.__name__.lower()

    @classmethod
    def _missing_(cls, value: object) -> "Words | None":
        key = str(value).strip().lower()
        key = cls.aliases().get(key, key)
        return next((member for member in cls if member.value == key), None)


class OutFormat(Words):
    """Output formats a batch (or a single input with no --out) can choose with ``--format``."""

    png = "png"
    tif = "tif"
    npy = "npy"
    csv = "csv"
    jpg = "jpg"
    bmp = "bmp"

    @classmethod
    def aliases(cls) -> dict[str, str]:
        return {"tiff": "tif", "jpeg": "jpg"}

    @classmethod
    def what(cls) -> str:
        return "format"


# The ready-made options most commands share.
KernelsOption = Annotated[Optional[list[str]], option("kernel", show_default=False, autocompletion=complete_kernel)]
#: (a step is read where the chain is built, as --kernel is: an invalid one is an invalid kernel, exit 3)
ThenOption = Annotated[Optional[list[str]], option("then", show_default=False, autocompletion=complete_kernel)]
#: ``--bias`` as typed: each value checked as the option is read (exit 2), the count where the kernels are known
BiasOption = Annotated[Optional[str], option("bias", show_default=False, parser=bias_text)]
KernelScaleOption = Annotated[Optional[str], option("kernel_scale", show_default=False, parser=scale_text)]
StrideOption = Annotated[int, option("stride", min=1)]
#: the range shown after a ``--size`` its own parser reads (pool_side, learn_side), as Click shows ``min=1``'s
SIDE_RANGE = " [x>=1]"
PaddingOption = Annotated[str, option("padding")]
#: convolve's: the shared words, and what a 3-D kernel on a (Z, Y, X) array takes (the widths its refusals name)
ConvolvePaddingOption = Annotated[str, option("padding", extra=f"A 3-D kernel on a --layout zyx array: {VOLUME_PADDING_FORMS}.")]
#: pad, learn and gallery: None is the constant border (shown as the default), so a --pad-mode given is told from none
#: (an explicit constant where nothing is padded was noted by convolve alone: review 52 #3); the default is shown as
#: ``extra``, as every other one is: Click puts a string ``show_default`` in parentheses ("[default: (constant)]")
PadModeOption = Annotated[Optional[str], option("pad_mode", extra="[default: constant]", show_default=False)]


#: ``--pad-value``: None when not given (0 is filled then), so that a 0 given with a mode that does not fill is named too
PadValueOption = Annotated[Optional[float], option("pad_value", parser=parse_fill, extra="[default: 0]", show_default=False)]
DilationOption = Annotated[int, option("dilation", min=1)]
FlipOption = Annotated[bool, option("flip")]
LayoutOption = Annotated[Optional[str], option("layout", show_default=False)]
#: ``--layout`` of a layer's shape (shape, summary): hwc or chw, no volume
PlaneLayoutOption = Annotated[Optional[str], option("layout", vocabulary="plane_layout", help=layout.PLANE_LAYOUT_HELP, show_default=False)]
RescaleOption = Annotated[
    Optional[str], option("rescale", extra="[default: clip for an image input; none for float outputs; an array, a matrix or a "
                            "float image (a 32-bit float TIFF) written to an 8- or 16-bit image needs it given]", show_default=False)
]
MaxPixelsOption = Annotated[Optional[int], option("max_pixels", min=1, show_default=False)]
OutOption = Annotated[Optional[Path], option("out", show_default=False)]
OutDirOption = Annotated[Optional[Path], option("out_dir", show_default=False)]


SuffixOption = Annotated[Optional[str], option("suffix", parser=checked_suffix, show_default=False)]
FormatOption = Annotated[Optional[OutFormat], option("format", show_default=False)]
# None: not given (the writer's default, and a note where the output does not use a value given)
QualityOption = Annotated[Optional[int], option("quality", min=1, max=100, extra=f"[default: {modes.JPEG_QUALITY}]",
                                               show_default=False)]
CompressOption = Annotated[Optional[str], option("compress", extra="[default: fast]", show_default=False)]
RecursiveOption = Annotated[bool, option("recursive")]
WorkersOption = Annotated[Optional[int], option("workers", min=1, show_default=False)]
TiledOption = Annotated[bool, option("tiled")]
ChunksOption = Annotated[Optional[str], option("chunks", parser=checked_chunks, show_default=False)]
SchedulerOption = Annotated[Optional[str], option("scheduler", parser=checked_scheduler, show_default=False)]
ReportOption = Annotated[Optional[Path], option("report", show_default=False)]
ForceOption = Annotated[bool, option("force")]
JsonOption = Annotated[bool, option("json")]
QuietOption = Annotated[bool, option("quiet")]
AxisOption = Annotated[Optional[str], option("axis", show_default=False)]
#: pool's ``--axis``: a pooling works along every axis, so the axis picks a .png preview's view alone
POOL_AXIS_HELP = ("Volumes: the view of a .png output: the axial (z, the default), coronal (y) or sagittal (x) middle "
                  "slice of the pooled volume turned to the closest RAS+ orientation; pooling works along every axis.")
PoolAxisOption = Annotated[Optional[str], option("axis", help=POOL_AXIS_HELP, show_default=False)]


WindowOption = Annotated[Optional[str], option("window", parser=checked_window, show_default=False)]
KeepDtypeOption = Annotated[bool, option("keep_dtype")]
AffineOption = Annotated[Optional[str], option("affine", show_default=False)]
#: ``--affine`` where ``--mask`` is taken too (convolve, volume): the shared help says only what every command's does
MASK_AFFINE_HELP = "It picks a NIfTI --mask's too (the mask's alone where the input is DICOM, MGH, NRRD or MetaImage)."
MaskAffineOption = Annotated[Optional[str], option("affine", extra=MASK_AFFINE_HELP, show_default=False)]

#: the image formats every command reads, said once (learn's input named four: GIF was left out)
IMAGE_FORMATS = "PNG, JPEG, TIFF, BMP, GIF"
#: what a command reading images takes, said once: by ``convolve``'s inputs and ``gallery``'s one
IMAGE_FORMATS_HELP = f"Images ({IMAGE_FORMATS}), .npy arrays or .csv/.txt matrices"
#: a chunked store, read tile by tile (convolve, volume, pool, pad; docs/scaling-out.md)
ZARR_INPUTS_HELP = "Zarr stores (a .zarr folder, an array of one, or its URL: s3://...)"
_INPUTS_HELP = (IMAGE_FORMATS_HELP + ", {volumes}" + ZARR_INPUTS_HELP
                + ", '-' for stdin; folders; quoted patterns such as 'scans/**/*.png'.")
InputsArgument = Annotated[list[Path], argument(help=_INPUTS_HELP.format(volumes=VOLUME_FORMATS_HELP + ", "),
                                                show_default=False)]
#: the inputs of a command that takes no volumes (pad)
ImageInputsArgument = Annotated[list[Path], argument(help=_INPUTS_HELP.format(volumes=""), show_default=False)]
#: the one input of a command that draws one image (gallery): no folder, pattern or volume
ImageInputArgument = Annotated[Path, argument(help=f"One input. {IMAGE_FORMATS_HELP}; '-' for stdin.", show_default=False)]
