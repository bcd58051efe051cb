"""Where several feature maps may be written: the types that hold them, and the checks made before any pixel is read.

A filter bank's or a layer's maps go to a ``.npy`` (H', W', maps) or a multi-page float32 TIFF,
(maps, Z, Y, X) in a ``.npy`` alone for a ``--layout zyx`` array; a ``--montage`` draws them as a
picture.  Each refusal is one line naming the output and what holds the maps, for a file, for
``-o -`` before stdin is read, and for a batch's ``--format``.

Example
-------
>>> maps_suffixes(None)
('.npy', '.tif', '.tiff')
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .errors import UsageError
from .io.naming import piped_stream
from .io.offered import MAPS_SUFFIXES, OutputOffer, maps_suffixes  # noqa: F401 - MAPS_SUFFIXES, maps_suffixes: their former home
from .modes import MONTAGE_NOT_STDOUT, SHEET_SUFFIXES

#: picture formats a montage may be written in
MONTAGE_SUFFIXES = SHEET_SUFFIXES


#: what a filter bank's several maps are written as (a montage draws them as a picture)
MAPS_TYPES = "several feature maps need .npy (H', W', maps) or .tif (one float32 page per map)"
#: what they are written as on a ``--layout zyx`` array: 4 axes, which only a .npy holds
ZYX_MAPS_TYPES = "several feature maps of a --layout zyx array are written (maps, Z, Y, X), which .npy alone holds"
#: the advice of a zyx bank's refused output type
ONE_VOLUME_EACH = "give one -k per call for a (Z, Y, X) volume each"
#: the advice ending a refusal of a maps output where a montage may be asked for
_MONTAGE_ADVICE = "; --montage FILE.png draws them as a picture"


def refuse_maps_format(fmt: str | None, layout: str | None = None) -> None:
    """Refuse a batch's ``--format`` that a filter bank's maps (of inputs read in ``layout``) cannot be written as
    (exit 2), as :func:`check_maps_outputs` refuses one output's name (a batch takes no ``--montage``).

    >>> refuse_maps_format("png")
    Traceback (most recent call last):
    ...
    kernelcli.errors.UsageError: --format png: several feature maps need npy (H', W', maps) or tif (one float32 page per map): give --format npy|tif
    """
    if fmt is not None and f".{fmt}".lower() not in maps_suffixes(layout):
        said = str(maps_type_refused("stdout", layout)).removeprefix("stdout: ")  # (in --format's words, as stdout's)
        raise UsageError(f"--format {fmt}: {said.removesuffix(_MONTAGE_ADVICE)}")  # (a batch takes no --montage)


def maps_type_refused(shown: Any, layout: str | None = None) -> UsageError:
    """The refusal of an output (``shown``: its name, ``stdout`` for ``-o -``) whose type cannot hold several maps (of
    an input read in ``layout``), in one wording for a file, stdout's stand-in after stdin is read and ``-o - --format
    F`` before (:func:`refuse_maps_on_stdout`); stdout is told the ``--format`` to give, a file the extensions.

    >>> print(maps_type_refused("maps.png"))
    maps.png: several feature maps need .npy (H', W', maps) or .tif (one float32 page per map); --montage FILE.png draws them as a picture
    >>> print(maps_type_refused("stdout"))
    stdout: several feature maps need npy (H', W', maps) or tif (one float32 page per map): give --format npy|tif; --montage FILE.png draws them as a picture
    >>> print(maps_type_refused("maps.tif", "zyx"))
    maps.tif: several feature maps of a --layout zyx array are written (maps, Z, Y, X), which .npy alone holds: give a .npy, or one -k per call for a (Z, Y, X) volume each; --montage FILE.png draws them as a picture
    """
    stdout = str(shown) == "stdout" or piped_stream(shown) == "stdout"  # (its type is --format's: no extension to change)
    if layout == "zyx":
        npy = "--format npy" if stdout else "a .npy"
        said = ZYX_MAPS_TYPES.replace(".npy", "npy") if stdout else ZYX_MAPS_TYPES
        return UsageError(f"{'stdout' if stdout else shown}: {said}: give {npy}, or {ONE_VOLUME_EACH.removeprefix('give ')}; "
                          "--montage FILE.png draws them as a picture")
    if stdout:
        return UsageError("stdout: several feature maps need npy (H', W', maps) or tif (one float32 page per map): "
                          "give --format npy|tif; --montage FILE.png draws them as a picture")
    return UsageError(f"{shown}: {MAPS_TYPES}; --montage FILE.png draws them as a picture")


def refuse_maps_on_stdout(fmt: Any, layout: str | None = None) -> None:
    """Refuse ``-o - --format F`` for several maps (of an input read in ``layout``) where F cannot hold them (exit 2),
    as :func:`check_maps_outputs` refuses stdout's stand-in file: from the options alone, so that ``convolve -``
    refuses it before stdin is read (an open stream made the call wait, an empty one was told "stdin is empty").

    >>> refuse_maps_on_stdout("tif"), refuse_maps_on_stdout(None)
    (None, None)
    """
    fmt = getattr(fmt, "value", fmt)
    if fmt is not None and f".{fmt}".lower() not in maps_suffixes(layout):
        raise maps_type_refused("stdout", layout)


def check_maps_outputs(src: Path | None, out: Any, montage: Any, *, single: bool, force: bool,
                        picture: str = "a montage", layout: str | None = None,
                        offer: OutputOffer | None = None, option: str | None = "--montage") -> tuple[Path | None, Path | None]:
    """Validate the data output and the montage path (``picture``: what a message calls it) before any pixel is read
    (exit 2/4); ``layout``: the input's, given (a zyx bank's maps take .npy alone: :func:`maps_suffixes`); ``offer``:
    the call's facts, which say what a refused output type is offered instead (default: a layer's, no .zarr);
    ``option``: the picture's option, put before its refusals (None: ``-o``, as gallery's sheet is, named as -o is)."""
    from .errors import OutputRefused
    from .io import formats

    inputs = [src] if src is not None else []  # (None: stdin, checked before it is read)
    clash = _one_file(out, montage)  # (said before "already exists": --force would not help)
    offer = offer or OutputOffer(tuple(inputs), tiled=False, maps=not single, layout=layout)
    out_path = formats.check_output_path(out, inputs, force=force or clash, offer=offer) if out is not None else None
    if out_path is not None and not single and out_path.suffix.lower() not in maps_suffixes(layout):
        raise maps_type_refused(out_path, layout)
    montage_path = None
    if montage is not None:
        from .io.pipes import is_stdio

        if is_stdio(montage):  # (it was refused as a file name with no picture's extension)
            raise UsageError(MONTAGE_NOT_STDOUT)
        montage_path = _checked_montage(montage, inputs, force=force or clash, picture=picture, option=option)
        if clash:
            raise OutputRefused(f"{montage_path}: --out and --montage name the same file")
    return out_path, montage_path


def _checked_montage(montage: Any, inputs: list[Path], *, force: bool, picture: str, option: str | None = "--montage") -> Path:
    """The ``--montage`` path checked as an output file (a folder, a type no picture is, an existing file without
    ``force``, an input, a missing folder), each refusal named ``--montage ...`` as ``--report``'s are: with ``-o``
    given too, "mm.png: already exists" did not say which option was at fault.

    >>> _checked_montage("m.txt", [], force=False, picture="a montage")
    Traceback (most recent call last):
    ...
    kernelcli.io.not_held.UnsupportedOutput: --montage m.txt: unsupported output type '.txt' for a montage (a picture): expected one of .png, .jpg, .jpeg, .bmp, .tif, .tiff
    """
    from .errors import KernelcliError
    from .io import formats
    from .io.not_held import UnsupportedOutput
    from .io.output_checks import refuse_folder
    from .tiled.urls import refuse_url

    refuse_url(montage, f"{picture} is a file", option=option or "")  # (gallery -o memory://g/g.png wrote ./memory:/g/g.png)
    try:
        refuse_folder(montage)
        if Path(montage).suffix.lower() not in MONTAGE_SUFFIXES:  # first: the general list names .csv and .npy too
            raise UnsupportedOutput(montage, MONTAGE_SUFFIXES, what=f"{picture} (a picture)")
        return formats.check_output_path(montage, inputs, force=force)
    except KernelcliError as refused:
        if option is None or str(refused).startswith(f"{option} "):  # (a store's refusal names it already)
            raise
        raise named_option(refused, option) from None


def named_option(refused: Exception, option: str) -> Exception:
    """``refused`` with ``option`` put before its message: the same type, code and attributes.

    >>> str(named_option(UsageError("m.txt: bad"), "--montage"))
    '--montage m.txt: bad'
    """
    import copy

    named = copy.copy(refused)  # (by the error's own __reduce__: its attributes kept)
    named.args = (f"{option} {refused}", *refused.args[1:])
    return named


def _one_file(out: Any, montage: Any) -> bool:
    """True when ``--out`` and ``--montage`` name one file (also through a link, made or to be made).

    >>> _one_file("m.tif", "./m.tif"), _one_file("m.npy", "m.png"), _one_file("-", "-")
    (True, False, False)
    """
    from .io.output_checks import same_file
    from .io.pipes import is_stdio

    if out is None or montage is None or is_stdio(out) or is_stdio(montage):
        return False
    return Path(out) == Path(montage) or same_file(Path(out), Path(montage))
