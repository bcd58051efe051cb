"""Whether a call is a batch, and the batch options it was given: what a command decides (and refuses: a missing input,
an option no batch takes) before it runs, and what a stopped call's report is decided by
(:func:`kernelcli.cli._signals.stopped_report`), with none of the batch's running imported (no typer, numpy or batch
runner at module level).

Example
-------
>>> is_batch([Path("samples/phantom.png")], BatchOptions()), is_batch([Path("samples")], BatchOptions())
(False, True)
"""

from __future__ import annotations

import os
from pathlib import Path

from ..records import record
from .options import OutFormat


@record(frozen=True)
class BatchOptions:
    """The batch options of one command call, as Typer parsed them."""

    out_dir: Path | None = None
    suffix: str | None = None
    format: OutFormat | str | None = None
    recursive: bool = False
    workers: int | None = None
    report: Path | None = None
    #: ``--scheduler``: run the files on a dask.distributed cluster (see kernelcli.tiled.cluster)
    scheduler: str | None = None
    #: the format of an image's output (not a volume's) without ``--format``: a filter bank's ``npy``
    image_format: str | None = None

    @property
    def fmt(self) -> str | None:
        """The ``--format`` value as text (``png``), or None."""
        return getattr(self.format, "value", self.format)


def is_batch(inputs: list[Path], options: BatchOptions) -> bool:
    """True unless there is exactly one input file (or one volume: a folder holding a DICOM series) and no ``--out-dir``."""
    from ..volume_inputs import is_volume_input

    if len(inputs) != 1 or options.out_dir is not None:
        return True
    if os.path.lexists(inputs[0]) and not os.path.isdir(inputs[0]):
        from ..io.naming import has_glob

        if has_glob(os.fspath(inputs[0])):  # a file's name that is a pattern too ([ab].png): the planner's rule
            from ..batch_patterns import refuse_two_readings

            refuse_two_readings(os.fspath(inputs[0]))
        return False  # one file (batch_plan.is_batch_argument's first case, without importing the planner)
    from ..batch_plan import is_batch_argument

    # a folder holding a DICOM series is one volume; a pattern such as 'scans/*.dcm' stays a batch
    return is_batch_argument(inputs[0]) and not (Path(inputs[0]).is_dir() and is_volume_input(inputs[0]))


def refuse_missing_input(inputs: list[Path], out_dir: Path | None, kernels: list[str]) -> None:
    """Exit 2 naming one input that does not exist, where a kernel is of the volume grammar (whose refusal on an
    image would say the input is no volume: ``missing.png -k gaussian:1mm`` was "a size in mm is for a volume
    input", exit 3).  Any other kernel is checked first, as the fault catalogue says (exit 3 before any input)."""
    from ..catalog import is_volume_kernel
    from ..io.common import stat_input
    from ..tiled import urls

    if len(inputs) == 1 and out_dir is None and str(inputs[0]) != "-" and urls.as_url(inputs[0]) is None \
            and any(is_volume_kernel(spec) for spec in kernels) and not is_batch(inputs, BatchOptions()):
        stat_input(Path(inputs[0]))


def one_volume(inputs: list[Path], out_dir: Path | None) -> bool:
    """True when the call is one volume input (a file, or a folder holding a DICOM series) without ``--out-dir``;
    a pattern such as ``'scans/*.nii'`` is a batch, whatever its suffix."""
    from ..volume_inputs import is_volume_input

    return (len(inputs) == 1 and out_dir is None and str(inputs[0]) != "-"
            and not is_batch(inputs, BatchOptions()) and is_volume_input(inputs[0]))


def refuse_out_with_out_dir(inputs: list[Path], out: object, out_dir: object) -> None:
    """Refuse ``--out`` and ``--out-dir`` given together on one input (a file, ``-`` or a DICOM series' folder; exit 2),
    naming both: the several-inputs advice ("use --out-dir") was what the call had done.  Several inputs, a folder or
    a pattern are left to that advice.

    >>> refuse_out_with_out_dir([Path("samples/phantom.png")], Path("x.png"), Path("o"))
    Traceback (most recent call last):
    ...
    kernelcli.errors.UsageError: --out and --out-dir both given: --out names one input's output file, --out-dir the folder of a batch's outputs; give one of them
    """
    from ..errors import UsageError

    one = len(inputs) == 1 and (os.fspath(inputs[0]) == "-" or not is_batch(inputs, BatchOptions()))
    if out is not None and out_dir is not None and one:
        raise UsageError("--out and --out-dir both given: --out names one input's output file, --out-dir the folder "
                         "of a batch's outputs; give one of them")


def refuse_tiled_with_out_dir(inputs: list[Path], out: object, out_dir: object, *, tiled: bool, chunks: object) -> None:
    """Refuse ``--tiled`` (or ``--chunks``) and ``--out-dir`` given together on one input (a file or ``-``; exit 2),
    naming both, as :func:`refuse_out_with_out_dir` does (and after it: ``--out`` too is that conflict):
    ``convolve a.npy -k box:3 -d 2 --tiled`` (``-d`` is ``--out-dir``) was told "--tiled works on one input; several
    inputs take ...", the one input it was given.  Several inputs, a folder or a pattern keep that advice; a Zarr
    store its own.

    >>> refuse_tiled_with_out_dir([Path("samples/phantom.png")], None, Path("2"), tiled=True, chunks=None)
    Traceback (most recent call last):
    ...
    kernelcli.errors.UsageError: --tiled and --out-dir both given: --tiled reads one input tile by tile into one output (--out FILE, or its default name), --out-dir the folder of a batch's outputs; give one of them
    """
    from ..errors import UsageError

    refuse_out_with_out_dir(inputs, out, out_dir)
    named = "--tiled" if tiled else "--chunks" if chunks is not None else None
    one = len(inputs) == 1 and (os.fspath(inputs[0]) == "-" or not is_batch(inputs, BatchOptions()))
    if named is not None and out_dir is not None and one:
        raise UsageError(f"{named} and --out-dir both given: {named} reads one input tile by tile into one output (--out "
                         "FILE, or its default name), --out-dir the folder of a batch's outputs; give one of them")


def suffix_unused(suffix: str | None, out: object, input: object = None, fmt: str | None = None) -> str | None:
    """The note of a ``--suffix`` that names no output of one input's call: beside ``--out``, or for a matrix ``input``
    printed on stdout (no ``--out``, no ``--format``, which makes it a file named with the suffix); else None.

    >>> suffix_unused("mine", None, Path("m.csv"))
    "--suffix 'mine' names the outputs --out does not: a matrix without --out or --format is printed on stdout"
    >>> suffix_unused("mine", None, Path("m.csv"), fmt="csv") is None
    True
    """
    if suffix is None:
        return None
    if out is not None:
        return f"--suffix {suffix!r} names the outputs --out does not: {out} is written as given"
    from ..io.naming import is_matrix_path

    if input is not None and not fmt and is_matrix_path(input):
        return f"--suffix {suffix!r} names the outputs --out does not: a matrix without --out or --format is printed on stdout"
    return None


def refuse_one_input_options(given: dict[str, object], instead: str) -> None:
    """Refuse the options of ``given`` (name: value, None when not given) that work on one input alone, naming
    them and what several inputs take ``instead`` (exit 2); nothing when none was given.

    >>> refuse_one_input_options({"--weights": None, "--montage": Path("m.png")}, "--kernel")
    Traceback (most recent call last):
    ...
    kernelcli.errors.UsageError: --montage works on one input; several inputs take --kernel
    """
    from ..errors import UsageError

    named = [name for name, value in given.items() if value is not None]
    if named:
        listed = named[0] if len(named) == 1 else f"{', '.join(named[:-1])} and {named[-1]}"
        raise UsageError(f"{listed} {'works' if len(named) == 1 else 'work'} on one input; several inputs take {instead}")
