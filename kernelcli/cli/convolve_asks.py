"""What a ``convolve`` call asks for, read and checked before any pixel: its kernels (exit 3), ``--weights`` and
``--bias`` (exit 2), ``--then`` steps, the options only volumes take, and the checks of ``convolve -`` made before
stdin is read (:func:`before_stdin`).  :mod:`kernelcli.cli.convolve` runs the call with what they return.

>>> [k.name for k in load_for(Path("a.png"), ["sobel_v", "box:3"], None)]
['sobel_v', 'box:3']
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

from ._common import call_note
from ._stdio import image_output_check
from ._tiled import check_tiled_before_stdin


def volume_only(*, axis, window, keep_dtype, truncate, mask, volume_index, series, resample_slices, affine, pad_mode) -> dict[str, Any]:
    """The options only volumes take, by name (an image given one is refused; in a batch, it fails alone)."""
    from ..modes import RENORMALISE

    return {"--axis": axis, "--window": window, "--keep-dtype": keep_dtype, "--truncate": truncate, "--mask": mask,
            "--volume": volume_index, "--series": series, "--resample-slices": resample_slices, "--affine": affine,
            "--pad-mode renormalise": pad_mode == RENORMALISE}


def padding_widths(padding: str, layout: str | None, store: Any = None) -> Any:
    """``--padding`` as the call reads it: a ``--layout zyx`` array's 3-D kernel also takes PZ,PY,PX and six widths
    (the same words on a file and on stdin, before it is read), and so does a Zarr ``store`` read without ``--layout``,
    whose own axes may say (Z, Y, X): the reading settled on when it is opened decides, as pool's does (a 2-D kernel
    refuses three or six widths there, :func:`kernelcli.job_checks.check_plane_padding`).

    >>> padding_widths("1,1,1", "zyx"), padding_widths("same", None), padding_widths("1,0,2", None, "scan.zarr")
    ((1, 1, 1), 'same', (1, 0, 2))
    """
    from ..layout import canonical_layout
    from ..shapes import parse_padding

    if layout is None and store is not None:
        from ..tiled.outputs import store_input

        return parse_padding(padding, volume=store_input(store))
    return parse_padding(padding, volume=canonical_layout(layout) == "zyx")


def before_stdin(*, input, kernel=None, kernel_scale=None, then=None, padding="same", pad_value=None, layout=None,
                  quality=None, compress=None, weights=None, bias_file=None, bias=None, combine=None, activation=None,
                  montage=None, out=None, force=False, **given: Any) -> Any:
    """``convolve -``'s checks that need no pixel, in the order the body makes them for an image file (which stdin
    is), before stdin is read (:func:`kernelcli.cli._stdio.piped`): the options, then the kernels, ``--weights``
    or ``--then`` steps; returns the check of ``--out`` and ``--montage`` (a file's call checks them before reading
    the file: :func:`maps_output_check`); ``--tiled``/``--chunks`` as the tiled path checks them before opening a file.

    >>> before_stdin(input=["-"], kernel=["nosuch"])
    Traceback (most recent call last):
    ...
    kernelcli.errors.KernelNotFound: unknown kernel 'nosuch'; `kernelcli kernels` lists the catalogue

    Its kernels, ``--weights`` and ``--then`` steps are read as a file's call reads them (:func:`kernelcli.cli._batch.read_reported`):
    a refused one writes ``--report`` with the record ``--json`` prints (``-k nosuch`` on stdin wrote none).
    """
    from functools import partial

    from ..chain import is_pool_step
    from ..io.image_writing import Encoding
    from ._batch import read_reported
    from ..layout import canonical_layout
    from ..modes import check_fill_reading
    from ..volume_inputs import refuse_volume_options

    widths = padding_widths(padding, layout)
    check_fill_reading(given.get("pad_mode"), pad_value)
    Encoding(quality=quality, compress=compress)
    names = ("axis", "window", "keep_dtype", "truncate", "mask", "volume_index", "series", "resample_slices", "affine", "pad_mode")
    refuse_volume_options(input, volume_only(**{name: given.get(name) for name in names}))
    scale = None
    if kernel_scale is not None:
        from ..kernel_syntax import parse_kernel_scale

        scale = parse_kernel_scale(kernel_scale)
    layer = {"--weights": weights, "--bias-file": bias_file, "--bias": bias, "--activation": activation,
             "--combine": combine, "--montage": montage}
    tiled = {"tiled": given.get("tiled", False), "chunks": given.get("chunks"), "scheduler": given.get("scheduler")}
    from ..tiled import tiles_asked

    read = partial(read_reported, Path("stdin"), out=out, montage=montage, report=given.get("report_file"), force=force)
    if tiles_asked(**tiled):  # as single_tiled sends a file
        from ..tiled.files import instead_of_tiles

        refuse_off_the_tiled_path(kernel or [], layer, instead_of_tiles(Path("stdin"), out, tiled["chunks"], tiled["scheduler"]))
    if then or any(is_pool_step(spec) for spec in kernel or []):
        read(lambda: chain_steps(list(input), kernel or [], then or [], scale, layer))
        check_tiled_before_stdin(out, **tiled)
        return image_output_check(out, force)
    if weights is not None:
        w = read(lambda: layer_weights(kernel, kernel_scale, combine, weights, bias_file, bias))[0]
        if canonical_layout(layout) == "zyx":  # (refused, as on a file)
            from ..job_checks import zyx_kernels

            zyx_kernels([], combine=None, activation=None, bias=None, montage=None, weights=tuple(w.shape))
        maps = w.shape[0]
    else:
        kernels = read(lambda: kernel_bank(input[0], kernel, bias_file, bias, scale))[0]
        if canonical_layout(layout) == "zyx":  # (as on a file: what the slices take, then a 3-D kernel's geometry)
            from types import SimpleNamespace

            from ..job_checks import check_volume_kernel, zyx_kernels
            from ..modes import canonical_activation, canonical_combine

            if zyx_kernels([tuple(k.shape) for k in kernels], combine=canonical_combine(combine) if combine else None,
                           activation=canonical_activation(activation) if activation else None, bias=bias, montage=montage):
                check_volume_kernel("stdin", SimpleNamespace(stride=given.get("stride", 1), dilation=given.get("dilation", 1),
                                                             padding=widths))
        maps = len(kernels)
    check_tiled_before_stdin(out, **tiled)
    return maps_output_check(out, montage, maps, force, fmt=given.get("fmt"), layout=canonical_layout(layout))


def maps_output_check(out: Any, montage: Any, filters: int, force: bool, fmt: Any = None, layout: str | None = None) -> Any:
    """The check of a layer's ``--out`` and ``--montage`` (``filters`` kernels or filters), made before stdin is read as
    :func:`kernelcli.jobs_maps.run_maps_job` makes it before reading a file: a picture's type for the montage and several
    maps' types for ``--out`` (of an input read in ``layout``), a file's or the ``--format`` of ``-o -`` (exit 2), then an existing file (exit 4); None
    where there is nothing to check yet.

    >>> maps_output_check("maps.png", None, 2, False)()
    Traceback (most recent call last):
    ...
    kernelcli.errors.UsageError: maps.png: several feature maps need .npy (H', W', maps) or .tif (one float32 page per map); --montage FILE.png draws them as a picture
    """
    from functools import partial

    from ..io.pipes import is_stdio
    from ._stdio import checked_before_stdin_read

    if montage is None and filters == 1:
        return image_output_check(out, force)
    data = out if checked_before_stdin_read(out) else None
    stdout_fmt = fmt if is_stdio(out) and filters > 1 else None
    if data is None and montage is None and stdout_fmt is None:
        return None
    return partial(_check_maps_outputs, data, montage, single=filters == 1, force=force, stdout_fmt=stdout_fmt, layout=layout)


def _check_maps_outputs(out: Any, montage: Any, *, single: bool, force: bool, stdout_fmt: Any, layout: str | None) -> None:
    """:func:`kernelcli.maps_outputs.check_maps_outputs` of stdin's call, ``-o -``'s ``--format`` first, as ``--out``'s
    type is checked first for a file."""
    from ..maps_outputs import check_maps_outputs, refuse_maps_on_stdout

    refuse_maps_on_stdout(stdout_fmt, layout)
    check_maps_outputs(None, out, montage, single=single, force=force, layout=layout)


def load_spec(spec: str, scale: Any) -> Any:
    """Load a --kernel spec (3-D kernels allowed) and apply the --kernel-scale, if any."""
    from ..errors import InvalidKernel
    from ..layer_files import load_layer_kernel
    from ..kernel_syntax import scale_kernel

    try:
        kernel = load_layer_kernel(spec)
    except InvalidKernel:
        from ..chain import pool_step_refusal

        refusal = pool_step_refusal(spec)  # '-k maxpool2' is told the form --then maxpool2 is told
        if refusal is None:
            raise
        raise refusal from None
    return scale_kernel(kernel, scale)


def load_for(input: Path, specs: list[str], scale: Any) -> list[Any]:
    """The ``--kernel`` specs of one input, loaded (:func:`load_spec`); a volume's kernel given an image or array is
    refused naming the input, which is what is wrong (as in a batch), tiled or not; given stdin, saying that volumes
    are read from files."""
    from ..catalog import is_volume_kernel
    from ..errors import InvalidKernel

    try:
        return [load_spec(spec, scale) for spec in specs]
    except InvalidKernel as exc:
        if any(is_volume_kernel(spec) for spec in specs):
            raise volume_kernel_refused(input, exc) from None
        raise


def volume_kernel_refused(input: Any, exc: Exception) -> Exception:
    """The refusal of a volume's kernel (``gaussian:1mm``, ``box:3vox``) given the image or array ``input``, whose
    refusal ``exc`` is: naming the input, which is what is wrong; given stdin, saying that volumes are read from files
    (a volume there, told to take a 2-D kernel, was refused next).  An input of a type nothing reads is refused first
    (a .mnc was told to take a 2-D kernel, exit 3, then its .nii.gz output refused).

    >>> str(volume_kernel_refused("a.png", ValueError("gaussian:1mm: a size in mm is for a volume input")))
    'a.png: gaussian:1mm: a size in mm is for a volume input'
    >>> str(volume_kernel_refused(Path("memory://b/a.zarr"), ValueError("box:3vox: a size in voxels ...")))
    'memory://b/a.zarr: box:3vox: a size in voxels ...'
    """
    from ..errors import InvalidKernel
    from ..io.pipes import VOLUMES_NOT_PIPED, is_stdio

    from ..kernel_syntax import KernelTextRefused

    if isinstance(exc, KernelTextRefused):  # (load_kernel's words are the API's)
        exc = exc.worded("")
    if is_stdio(input):
        return InvalidKernel(f"stdin: {exc}; {VOLUMES_NOT_PIPED}: give the volume's path")
    refuse_unsupported(Path(input))
    from ..io.naming import shown_path

    return InvalidKernel(f"{shown_path(input)}: {exc}")  # (a URL whole: the Path folded memory:// to memory:/)


def chain_steps(inputs: list[Any], specs: list[str], then: list[str], scale: Any, given: dict[str, Any]) -> list[Any]:
    """The steps of ``--kernel K --then A ...`` parsed (exit 3 for a kernel, 2 for a step), after the refusals of
    what a chain cannot take (exit 2)."""
    from ..catalog import is_volume_kernel
    from ..chain import is_pool_step, parse_chain
    from ..errors import InvalidKernel, UsageError
    from ..volume_inputs import is_volume_input

    if len(specs) != 1 and not then:  # a pooling step among several --kernel: no chain was asked for
        pool = next(spec for spec in specs if is_pool_step(spec))
        raise UsageError(f"--kernel {pool} is a pooling step; a filter bank ({len(specs)} --kernel options, one map each) "
                         "takes kernels alone: pool in a call of its own, or as a step of a chain (see --help)")
    if len(specs) != 1:
        what = "no --kernel" if not specs else f"{len(specs)} --kernel options (a filter bank)"
        raise UsageError(f"--then chains steps after one --kernel (a pooling step such as maxpool:2 is one too); got {what}")
    extra = layer_options_given(given)
    if extra:
        raise UsageError(f"{', '.join(extra)}: not available in a chain (--then); run the layer as its own call")
    if len(inputs) == 1 and is_volume_input(inputs[0]):
        raise UsageError(f"{inputs[0]}: --then chains work on images and arrays; for a volume run one call per step")
    try:
        return parse_chain(specs[0], list(then), scale=scale)
    except InvalidKernel as exc:  # (a volume's kernel in --then, as in --kernel: load_for)
        if len(inputs) == 1 and any(is_volume_kernel(spec) for spec in [specs[0], *then]):
            raise volume_kernel_refused(inputs[0], exc) from None
        raise


def layer_options_given(given: dict[str, Any]) -> list[str]:
    """The layer options among ``given`` (name -> value or None) that a chain or the tiled path cannot take:
    the ones given, but for their defaults (``--activation none``, ``--combine per-channel`` change nothing)."""
    from ..modes import canonical_activation, canonical_combine

    default = {"--activation": lambda v: canonical_activation(v) == "none", "--combine": lambda v: canonical_combine(v) == "per-channel"}
    return [name for name, value in given.items() if value is not None and not default.get(name, lambda v: False)(value)]


def refuse_off_the_tiled_path(specs: list[str], given: dict[str, Any], advice: str) -> None:
    """Refuse (exit 2) what the tiled path cannot take, before any kernel is loaded: the layer's options
    (:func:`layer_options_given`) and more than one ``--kernel``; ``advice`` ends the sentence.

    >>> refuse_off_the_tiled_path(["box:3", "sobel_v"], {}, "leave out --tiled/--chunks")
    Traceback (most recent call last):
    ...
    kernelcli.errors.UsageError: the tiled path takes one --kernel (and --then steps); got 2; leave out --tiled/--chunks
    """
    from ..errors import UsageError

    extra = layer_options_given(given)
    if extra:
        raise UsageError(f"{', '.join(extra)}: not available on the tiled path, which takes one --kernel and --then steps; {advice}")
    if len(specs) != 1:
        raise UsageError(f"the tiled path takes one --kernel (and --then steps); got {len(specs)}; {advice}")


def pool_only_note(steps: list[Any], options: Any, scale: Any, quiet: bool) -> None:
    """Note the convolution options a chain of pooling steps alone does not use (in memory and tile by tile)."""
    if any(step.kernel is not None for step in steps):
        return
    unused = [name for name, used in (
        ("--stride", options.stride not in (1, (1, 1))), ("--padding", str(options.padding).lower() != "same"),
        ("--dilation", options.dilation not in (1, (1, 1))), ("--flip", options.flip),
        ("--pad-mode", options.pad_mode != "constant"), ("--pad-value", options.pad_value != 0),
        ("--kernel-scale", scale is not None)) if used]
    if unused:
        call_note(f"{', '.join(unused)}: for a chain's kernels; this chain only pools (maxpool:F:S gives a stride)", quiet=quiet)


def montage_only_note(batch: Any, out: Any, montage: Any, input: Any = None, *, quiet: bool) -> None:
    """Say that ``--suffix`` and ``--format`` change nothing where ``--montage`` is the only output: they name and type
    the data output, which is then not written (with ``--out``, ``--suffix`` is noted and ``--format`` checked).  A
    text matrix ``input`` has a data output beside the sheet, as without it: printed on stdout, or with ``--format``
    the file ``--suffix`` names (``--suffix`` alone is noted as without ``--montage``: :func:`suffix_unused`).

    >>> from kernelcli.cli import _common
    >>> from kernelcli.cli._batch import BatchOptions
    >>> montage_only_note(BatchOptions(format="jpg"), None, "m.png", quiet=True); _common._CALL_NOTES.pop()
    "--format jpg is the data output's type, which is not written: only --montage m.png is written (its type is its extension)"
    """
    from ..io.naming import is_matrix_path

    if out is not None or montage is None or input is not None and is_matrix_path(input):
        return
    if batch.suffix is not None:
        call_note(f"--suffix {batch.suffix!r} names the data output, which is not written: only --montage {montage} is "
                  "written", quiet=quiet)
    if batch.fmt:
        call_note(f"--format {batch.fmt} is the data output's type, which is not written: only --montage {montage} is "
                  "written (its type is its extension)", quiet=quiet)


def refuse_unsupported(input: Path) -> None:
    """Exit 2 for an input of a type neither the image nor the volume path reads (MINC, Analyze, PAR/REC...); a Zarr
    store (``a.zarr``, ``grp.zarr/img``, a URL) is read, tile by tile, as an array."""
    from ..io.formats import refuse_unsupported
    from ..tiled.outputs import store_input
    from ..volume_inputs import VOLUME_SUFFIXES

    if str(input) != "-" and not store_input(input):
        refuse_unsupported(input, VOLUME_SUFFIXES)


def kernel_bank(input: Any, specs: Optional[list[str]], bias_file: Optional[Path], bias: Optional[str], scale: Any) -> tuple[list[Any], Any]:
    """The ``--kernel`` filters of one input, loaded (exit 3), and their ``--bias`` values (exit 2), before the input is read."""
    from ..errors import UsageError
    from ..layer_files import parse_bias

    if not specs:
        raise UsageError("missing --kernel: give a kernel name, file or spec (repeat it for a filter bank), or --weights FILE.npy")
    if bias_file is not None:
        raise UsageError("--bias-file goes with --weights; for --kernel filters use --bias B or --bias B1,B2,...")
    values = None if bias is None else parse_bias(bias, len(specs))
    return load_for(input, specs, scale), values


def layer_weights(kernel: Optional[list[str]], kernel_scale: Optional[str], combine: Optional[str], weights: Path,
                   bias_file: Optional[Path], bias: Optional[str]) -> tuple[Any, Any]:
    """A ``--weights`` layer's filters (exit 3) and biases (exit 2), read before the input is."""
    from ..errors import UsageError
    from ..layer_files import parse_bias, read_bias_file, read_weights

    if kernel:
        raise UsageError("give either --kernel (one or more) or --weights, not both")
    if kernel_scale is not None:
        raise UsageError("--kernel-scale rescales --kernel filters; --weights are used as trained")
    if combine is not None:
        raise UsageError("--combine is for 2-D --kernel filters; --weights filters (K, C, f, f) already span the channels")
    w = read_weights(weights)
    if bias is not None and bias_file is not None:
        raise UsageError("give either --bias or --bias-file, not both")
    values: Any = None
    if bias_file is not None:
        values = read_bias_file(bias_file, w.shape[0])
    elif bias is not None:
        values = parse_bias(bias, w.shape[0], "filter")
        values = values[0] if len(values) == 1 else values
    return w, values
