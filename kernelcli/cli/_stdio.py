"""``-`` for the file commands: stdin as the input, stdout as ``--out`` (see :mod:`kernelcli.pipes`).

:func:`piped` wraps a command whose parameters include ``input`` (a list of paths),
``out``, ``fmt`` and ``json_out``: it swaps ``-`` for stand-in files, and while the
command runs, messages show ``-`` instead of those files and nothing but the result
reaches stdout.  With ``--out -`` the notes and the summary line wait until the result is
on stdout (:func:`kernelcli.cli._common.notes_held`): a stdout that cannot take it gets
the one error line alone.
"""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from . import _common, _lines

F = TypeVar("F", bound=Callable[..., Any])

#: the file options that no pipe stands for (stdin is the input's alone): parameter -> what the option takes
FILE_ONLY = {"weights": "the weights are a .npy file (numpy.save)", "bias_file": "the biases are a .npy file (numpy.save)",
             "mask": "the mask is a volume file"}


def piped(func: F | None = None, *, out_format: str | None = None, before: Callable[[dict], Any] | None = None) -> Any:
    """Let ``func`` take ``-`` as its input (stdin) and as ``--out`` (stdout).

    ``input`` may be one path or a list of them; ``out_format`` is the stdout format of a
    command without ``--format`` (gallery's sheet: png).  ``before(kwargs)``, for an input
    ``-``, makes the command's checks that need no pixel (options, kernels, ``--then``) and
    returns the check of its output (or None) before stdin is read: as a file's call makes
    them before it reads the file, with the same errors and exit codes (:func:`checked_before_stdin`).
    """
    if func is None:
        return functools.partial(piped, out_format=out_format, before=before)

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from ..errors import UsageError
        from ..io.pipes import Pipes, is_stdio, refuse_terminal_stdout

        refuse_pipe_not_taken(kwargs, out_format)
        given = kwargs.get("input")
        single = given is not None and not isinstance(given, (list, tuple))
        inputs = [given] if single else list(given or [])
        out = kwargs.get("out")
        from_stdin = any(is_stdio(i) for i in inputs)
        from ..io.naming import check_format_agrees

        refuse_outputs_in_stores(kwargs, inputs)  # (grp.zarr/img took the tiled path where the group existed: told of .zarr)
        check_format_agrees(out, kwargs.get("fmt"), from_stdin=from_stdin)  # -o x.png --format tif wrote a PNG in silence
        if is_stdio(kwargs.get("out_dir")):  # (it made a folder named '-')
            raise UsageError("--out-dir -: an output folder, not stdout; name a folder, or give one input with --out -")
        if not from_stdin and not is_stdio(out):
            return func(*args, **kwargs)
        if from_stdin and len(inputs) != 1:
            raise UsageError("input '-' (stdin) is one input: give it alone, without other paths")
        if kwargs.get("out_dir") is not None:
            from ._batch_call import refuse_out_with_out_dir

            refuse_out_with_out_dir(inputs, out, kwargs["out_dir"])  # (-o x.png -d o was told "give --out PATH")
            raise UsageError("--out-dir is for several inputs; with '-' give --out PATH or --out -")
        if is_stdio(out) and kwargs.get("json_out"):
            raise UsageError("--json prints on stdout, which --out - already carries: drop one of them")
        if is_stdio(kwargs.get("montage")):
            from ..modes import MONTAGE_NOT_STDOUT

            raise UsageError(MONTAGE_NOT_STDOUT)
        # out_format is what goes to stdout, never a claim about stdin (gallery - -o sheet.png took only PNG on stdin)
        fmt = kwargs.get("fmt") or (out_format if is_stdio(out) else None)
        if from_stdin and is_stdio(out):  # a terminal on stdout, told before stdin is read as -o /dev/stdout is
            refuse_terminal_stdout(fmt)  # (no csv advice: whether a csv holds the result is stdin's to tell)
        if from_stdin and before is not None:  # the kernel's typo before a stream that never ends, or an empty one
            checked_before_stdin(before, kwargs)
        notes = _common.notes_held() if is_stdio(out) else contextlib.nullcontext()  # outside: the copy comes first
        maps = makes_maps(kwargs)
        with notes, contextlib.ExitStack() as entered:
            pipes = stdin_read_reported(lambda: entered.enter_context(Pipes(
                inputs[0] if inputs else None, out, fmt, text_format="fmt" in kwargs and not maps, combined=_combined(kwargs),
                maps=maps, layout=kwargs.get("layout"), rescale=kwargs.get("rescale"))), kwargs, from_stdin=from_stdin)
            if from_stdin:
                kwargs["input"] = pipes.input if single else [pipes.input]
            if pipes.to_stdout:
                kwargs["out"] = pipes.out
            _lines.SHOWN_AS.update(pipes.display)
            try:
                return func(*args, **kwargs)
            finally:
                for path in pipes.display:
                    _lines.SHOWN_AS.pop(path, None)

    return wrapper


def stdin_read_reported(read: Callable[[], Any], kwargs: dict[str, Any], *, from_stdin: bool) -> Any:
    """``read()``: the pipes entered, stdin read; what stdin holds refused (empty, a volume, no known format, another
    than ``--format``) writes ``--report`` as any refusal of one input's content does, with the record ``--json``
    prints (:func:`kernelcli.cli._batch.read_reported`): the report was checked before stdin was read."""
    report = kwargs.get("report_file", kwargs.get("report"))
    if not from_stdin or report is None:
        return read()
    from ._batch import read_reported

    return read_reported(Path("stdin"), read, out=kwargs.get("out"), report=report, force=bool(kwargs.get("force")),
                         montage=kwargs.get("montage"))


def _combined(kwargs: dict[str, Any]) -> bool:
    """Whether the call's channels make one map: ``--combine sum`` sums them (an unknown mode is refused by the
    command), and a ``--weights`` file of one filter weighs them all into its one map."""
    from ..errors import UsageError
    from ..modes import canonical_combine

    if kwargs.get("weights") is not None and weights_filters(kwargs["weights"]) == 1:
        return True
    try:
        return kwargs.get("combine") is not None and canonical_combine(kwargs["combine"]) == "sum"
    except UsageError:
        return False


def refuse_pipe_not_taken(kwargs: dict[str, Any], out_format: str | None = None) -> None:
    """Refuse ``-`` given to a file option that takes no pipe (:data:`FILE_ONLY`), and stdout's device file as
    ``--out`` (``-o /dev/stdout``, or any link to stdout's descriptor: told by what it is, not how it is spelt), in the words :func:`kernelcli.io.output_checks.pipe_refused` gives (exit 2): they were
    "must be a .npy file, got 'no extension'" (exit 3) and "unsupported output type '(no extension)'".  A
    ``--montage`` that is or links to a descriptor is refused naming ``--montage`` (:func:`refuse_descriptors`), as
    ``--out`` and ``--report`` are.

    >>> refuse_pipe_not_taken({"weights": "-"})
    Traceback (most recent call last):
    ...
    kernelcli.errors.UsageError: --weights '-': the weights are a .npy file (numpy.save), not stdin; give a path (only the input reads '-', stdin)
    """
    from ..errors import UsageError
    from ..io.output_checks import descriptor_of, pipe_refused, refuse_descriptor, stream_named
    from ..io.pipes import csv_may_hold, is_stdio, stdout_format_names, stdout_formats, terminal_advice
    from .options import CONCEPTS

    for name, what in FILE_ONLY.items():
        if is_stdio(kwargs.get(name)):
            raise UsageError(pipe_refused(CONCEPTS[name].names[0], "-", what, stream="stdin",
                                          fix="give a path (only the input reads '-', stdin)"))
    out = kwargs.get("out")
    stream = descriptor_of(out) if out is not None and not is_stdio(out) else None
    if stream == "stdout":  # by what the path is: /dev/stdout, /proc/self/fd/1, a link of the user's to them
        given = kwargs.get("input")
        inputs = list(given) if isinstance(given, (list, tuple)) else [given]
        source = Path(inputs[0]) if len(inputs) == 1 and inputs[0] is not None and not is_stdio(inputs[0]) else None
        maps, combined = makes_maps(kwargs), _combined(kwargs)
        taken = dict(maps=maps, layout=kwargs.get("layout"), combined=combined, rescale=kwargs.get("rescale"))
        formats = stdout_formats(source, **taken)
        chosen = getattr(kwargs.get("fmt"), "value", kwargs.get("fmt"))  # (-o /dev/stdout --format npy: that one)
        if chosen not in stdout_format_names(source, **taken)[0]:
            chosen = None  # (a bank's --format png: the next call refuses it, so the hint names those it takes)
        how = f"--out - (a {out_format.upper()})" if out_format else f"--out - --format {chosen or formats}"
        if (out_format or chosen) != "csv":
            how += terminal_advice("fmt" in kwargs and not maps and csv_may_hold(source, combined))
        through = stream_named(out, "its device file")
        raise UsageError(pipe_refused("--out", out, "stdout is written as --out -", stream=f"through {through}",
                                      fix=f"give {how}"))
    if stream is not None:
        refuse_descriptor(out, "--out")
    refuse_descriptors(kwargs)


def refuse_descriptors(kwargs: dict[str, Any], own: dict[str, str] | None = None) -> None:
    """Refuse (exit 2, before any input is read) each file-only output of ``kwargs`` (those
    :data:`~kernelcli.cli.options.FILE_OUTPUTS` says what they write, and the command's ``own``: parameter -> what it
    writes) that is, or links to, an open descriptor, naming its option: every command's one check of them (``learn --plot so.png``, so.png a link to stdout, was "output 'so.png': the output is
    a file", and ``--plot /dev/stdout`` told of its extension).  ``-`` is left to the command's own refusal.  A URL
    is refused too, named as typed (:func:`kernelcli.tiled.urls.refuse_url`): its folded spelling was written as a
    local file, ``--montage s3://b/m.png`` as ``./s3:/b/m.png``.

    >>> refuse_descriptors({"plot": "/dev/stdout"})
    Traceback (most recent call last):
    ...
    kernelcli.errors.UsageError: --plot '/dev/stdout': the loss curve is a file, not stdout; give a file path
    """
    from ..io.output_checks import refuse_descriptor
    from ..io.pipes import is_stdio
    from .options import CONCEPTS, FILE_OUTPUTS

    from ..tiled.urls import refuse_url

    for name, what in {**FILE_OUTPUTS, **(own or {})}.items():
        path = kwargs.get(name)
        if what is not None and path is not None and not is_stdio(path):  # (output_problem's fallback said "output 'so.png'")
            refuse_url(path, what, option=CONCEPTS[name].names[0])  # (--montage s3://b/m.png was written to ./s3:/b/m.png)
            refuse_descriptor(path, CONCEPTS[name].names[0], what)


def refuse_outputs_in_stores(kwargs: dict[str, Any], inputs: list[Any]) -> None:
    """Refuse each file output of ``kwargs`` (:data:`~kernelcli.cli.options.FILE_OUTPUTS`) that is inside a Zarr store,
    naming its option (:func:`kernelcli.io.naming.refuse_inside_store`): every command's one check of them
    (``--montage grp.zarr/m.png``, ``--report grp.zarr/r.json`` and ``learn -o grp.zarr/k.json`` were written into
    the group where ``-o grp.zarr/x.npy`` was refused), and ``--out-dir``, the folder a batch writes its files in,
    inside a store or a store itself.  ``--out``'s own store counts as one the call writes.

    >>> refuse_outputs_in_stores({"out": "o.npy", "report_file": "grp.zarr/r.json"}, ["f.npy"])
    Traceback (most recent call last):
    ...
    kernelcli.errors.UsageError: --report grp.zarr/r.json: is inside the Zarr store grp.zarr: kernelcli reads an array inside a group but writes a store of its own, never inside another; give --report a path outside grp.zarr
    """
    from ..io.naming import refuse_inside_store
    from .options import CONCEPTS, FILE_OUTPUTS

    out = kwargs.get("out")
    for name in FILE_OUTPUTS:
        if name == "report" and out is None and default_may_be_store(kwargs, inputs):  # (the default output's store, not
            continue  # named yet, may be the one it names: the check as the report is written refuses that one, exit 4)
        path = kwargs.get(name, kwargs.get("report_file") if name == "report" else None)  # (convolve's is report_file)
        outputs = [out] if name != "out" and out is not None else []
        refuse_inside_store(path, inputs, CONCEPTS[name].names[0], outputs)
    refuse_inside_store(kwargs.get("out_dir"), inputs, CONCEPTS["out_dir"].names[0], folder=True)


def default_may_be_store(kwargs: dict[str, Any], inputs: list[Any]) -> bool:
    """Whether a call without ``--out`` may write its default output as a Zarr store: ``--format zarr``, or an input
    that is, or is in, a store (``ct.zarr``, ``grp.zarr/img``, a URL's: :func:`kernelcli.io.store_paths.enclosing_store`,
    never a name holding ".zarr", ``x.zarr.png``); only then can a ``--report`` inside a store be inside the output
    (``--report other.zarr/r.json`` beside ``phantom.png`` was written into a group the call never wrote), which the
    check as the report is written tells, the default output named (a foreign store refused there as here).

    >>> default_may_be_store({}, ["phantom.png"]), default_may_be_store({"fmt": "zarr"}, ["a.png"])
    (False, True)
    >>> default_may_be_store({}, ["slide.zarr/0"]), default_may_be_store({}, ["x.zarr.png"])
    (True, False)

    A batch (``--out-dir``, several inputs, a folder of inputs or a pattern) writes no store, so its ``--report`` may
    go in none (it was written into any group beside inputs inside one):

    >>> default_may_be_store({"out_dir": "o"}, ["slide.zarr/0"]), default_may_be_store({}, ["a.zarr/x.png", "b.png"])
    (False, False)
    """
    from ..io.naming import has_glob
    from ..io.store_paths import enclosing_store
    from ..tiled.stores import is_chunked, is_store_input
    from ..tiled.urls import as_url

    if kwargs.get("out_dir") is not None or len(inputs) != 1 or not isinstance(inputs[0], (str, os.PathLike)):
        return False
    given = inputs[0]
    if as_url(given) is None and (os.path.isdir(given) and not is_store_input(given)  # (a folder of inputs, a pattern)
                                  or not os.path.lexists(given) and has_glob(os.fspath(given))):
        return False
    fmt = kwargs.get("fmt")
    if fmt is not None and str(getattr(fmt, "value", fmt)).lower().lstrip(".") == "zarr":
        return True
    return enclosing_store(given, itself=True) is not None or (as_url(given) is not None and is_chunked(given))


def makes_maps(kwargs: dict[str, Any]) -> bool:
    """Whether a call's result is a filter bank's several maps, as far as its options tell before a kernel is loaded:
    several ``--kernel``, or a ``--weights`` file of several filters (:func:`weights_filters`; one filter makes one
    map, which any format holds: every weights file was taken for a bank, and ``-o -`` was told npy|tif only).

    >>> makes_maps({"kernel": ["sobel_v", "sobel_h"]}), makes_maps({"kernel": ["box:3"]}), makes_maps({})
    (True, False, False)
    """
    weights = kwargs.get("weights")
    return len(kwargs.get("kernel") or []) > 1 or (weights is not None and weights_filters(weights) > 1)


def weights_filters(path: Any) -> int:
    """The number of filters (K) of a ``--weights`` file (K, C, f, f), read from its .npy header without loading its
    data; 1 for a file that cannot tell (missing, not a .npy, not 4-D): its reader says why, later.

    >>> import tempfile, numpy as np; folder = Path(tempfile.mkdtemp())
    >>> np.save(folder / "w2.npy", np.zeros((2, 1, 3, 3))); np.save(folder / "w1.npy", np.zeros((1, 1, 3, 3)))
    >>> weights_filters(folder / "w2.npy"), weights_filters(folder / "w1.npy"), weights_filters(folder / "none.npy")
    (2, 1, 1)
    """
    import numpy as np

    try:
        shape = np.load(path, mmap_mode="r", allow_pickle=False).shape
    except Exception:  # unreadable, or no array: no hint is no wrong hint
        return 1
    return int(shape[0]) if len(shape) == 4 else 1


def checked_before_stdin(before: Callable[[dict], Any], kwargs: dict[str, Any]) -> None:
    """The checks a call with an input file makes before it reads the file, made before stdin is read, in the
    same order: the options and kernels (``before(kwargs)``: exit 2 or 3), stdin closed or a terminal (exit 2, as a
    missing file), the ``--report`` file (exit 4 for an existing one), the outputs ``before`` returns the check of
    (exit 4 for an existing one: recorded as the file's call records it, in ``--report`` and ``--json``).  A stream's
    content (empty, not an image) is checked after, as a file's is."""
    from ..batch_targets import check_report_path
    from ..errors import KernelcliError
    from ..io.pipes import is_stdio, stdin_stream

    check_output = before(kwargs)
    stdin_stream()
    report, force = kwargs.get("report_file", kwargs.get("report")), bool(kwargs.get("force"))
    outputs = [kwargs.get("out"), kwargs.get("montage")]
    if report is not None:  # first, as run_reported checks it before the call it records
        check_report_path(report, inputs=[], outputs=[Path(o) for o in outputs if o is not None and not is_stdio(o)], force=force)
    if check_output is None:
        return
    try:
        check_output()
    except KernelcliError:
        from ._batch import run_reported

        run_reported(Path("stdin"), check_output, outputs=outputs, report=report, force=force)
        raise


def image_output_check(out: Any, force: bool) -> Callable[[], Any] | None:
    """The check of an image's ``--out`` file (its type, then exit 4 for an existing one), to be made before stdin is
    read; None for stdout, and for a volume's type (``-o v.nii.gz``), which only what stdin holds can tell right
    from wrong: a piped volume is refused naming pipes, after the read, an image's output type then."""
    from functools import partial

    if not checked_before_stdin_read(out):
        return None
    return partial(_check_image_output, out, force)


def _check_image_output(out: Any, force: bool) -> None:
    """An output's check before stdin is read: a Zarr store (``o.zarr``, ``grp.zarr/img``, a URL) is written by the
    tiled path from stdin's copy (a ``.npy`` or TIFF on stdin: what the stream holds decides, after it is read), so
    only an existing local store is refused here (exit 4 without ``--force``); it was refused as "unsupported output
    type '.zarr'" whatever stdin held. Any other output: the file check.

    >>> _check_image_output("s3://b/x.zarr", False) is None
    True
    """
    import os

    from ..io.formats import check_output_path
    from ..tiled.stores import is_chunked
    from ..tiled.urls import as_url

    if as_url(out) is not None:
        return
    if is_chunked(out):
        if os.path.isdir(out) and not force:
            from ..io.output_checks import OutputExists

            raise OutputExists(out)
        return
    check_output_path(out, force=force)


def checked_before_stdin_read(out: Any) -> bool:
    """Whether ``--out`` is a file whose type and existence are checked before stdin is read: not stdout, not a
    volume's type (:func:`image_output_check`)."""
    from ..io.pipes import is_stdio
    from ..volume_inputs import VOLUME_SUFFIXES

    return out is not None and not is_stdio(out) and not str(out).lower().endswith(tuple(VOLUME_SUFFIXES))
