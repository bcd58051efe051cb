"""Which inputs are volumes (NIfTI, DICOM, MGH, NRRD, MetaImage): a cheap check, standard library only.

Kept apart from :mod:`kernelcli.medical` so that the file commands can ask it on every
call without importing the medical readers.

Example
-------
>>> is_volume_input("samples/phantom.png"), volume_suffix("ct.nii.gz")
(False, '.nii.gz')
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

NIFTI_SUFFIXES = (".nii.gz", ".nii")
DICOM_SUFFIXES = (".dcm", ".dicom", ".ima")
#: FreeSurfer's MGH format, read through nibabel
MGH_SUFFIXES = (".mgz", ".mgh")
NRRD_SUFFIXES = (".nrrd", ".nhdr")
METAIMAGE_SUFFIXES = (".mha", ".mhd")
#: read through SimpleITK (the optional [itk] extra)
ITK_SUFFIXES = NRRD_SUFFIXES + METAIMAGE_SUFFIXES
VOLUME_SUFFIXES = NIFTI_SUFFIXES + DICOM_SUFFIXES + MGH_SUFFIXES + ITK_SUFFIXES
#: each volume format by name, with its suffixes (a DICOM series is a folder too)
VOLUME_FORMATS = {"NIfTI": NIFTI_SUFFIXES[::-1], "DICOM": DICOM_SUFFIXES, "MGH": MGH_SUFFIXES, "NRRD": NRRD_SUFFIXES,
                  "MetaImage": METAIMAGE_SUFFIXES}
#: what ``--help`` says of the volumes read, said once (the inputs of convolve, volume and pool)
VOLUME_FORMATS_HELP = (f"{', '.join(list(VOLUME_FORMATS)[:-1])} or {list(VOLUME_FORMATS)[-1]} volumes ("
                       + ", ".join("/".join(suffixes) for suffixes in VOLUME_FORMATS.values()) + " or a DICOM series folder)")
#: entries of a folder looked at to decide whether it holds DICOM files
_SNIFF_ENTRIES = 64


def volume_suffix(path: str | os.PathLike) -> str:
    """The lower-case suffix that names a volume format (``.nii.gz`` counts as one).

    >>> volume_suffix("scans/CT.NII.GZ"), volume_suffix("a.dcm")
    ('.nii.gz', '.dcm')
    """
    name = Path(path).name.lower()
    return ".nii.gz" if name.endswith(".nii.gz") else Path(name).suffix


def volume_stem(path: str | os.PathLike) -> str:
    """The name without a volume suffix: ``ct.nii.gz`` -> ``ct``; a folder keeps its name.

    >>> volume_stem("data/ct.nii.gz")
    'ct'
    """
    p = Path(path)
    suffix = volume_suffix(p)
    name = p.name
    if suffix in VOLUME_SUFFIXES:
        return name[: len(name) - len(suffix)] or "volume"
    return name or "volume"


def _has_dicom_magic(path: Path) -> bool:
    """True when the file has DICOM's 128-byte preamble followed by ``DICM``."""
    try:
        with path.open("rb") as f:
            f.seek(128)
            return f.read(4) == b"DICM"
    except OSError:
        return False


#: why a folder's sub-folders are not read as its series
SERIES_OWN_FILES = "a series is read from one folder's own files"


def dicom_folders(folder: Path, depth: int) -> list[tuple[Path, int]]:
    """The folders below ``folder`` (at most ``depth`` levels down, not below one that holds some) that hold DICOM
    files, with how many: what a series read from ``folder``'s own files passes over, for a note or a refusal.

    >>> dicom_folders(Path("samples"), 1)
    []
    """
    found: list[tuple[Path, int]] = []
    todo, looked = [(folder, 0)], 0
    while todo and looked < 256:  # (a bound: links may loop, and this is only for a message)
        here, level = todo.pop(0)
        looked += 1
        try:
            entries = sorted((e for e in os.scandir(here) if not e.name.startswith(".")), key=lambda e: e.name)
        except OSError:
            continue
        subs = [Path(e.path) for e in entries if e.is_dir()]
        count = 0 if here == folder else sum(
            1 for e in entries if e.is_file() and e.name.upper() != "DICOMDIR"
            and (volume_suffix(e.name) in DICOM_SUFFIXES or _has_dicom_magic(Path(e.path))))
        if count:
            found.append((here, count))
        elif level < depth:
            todo.extend((sub, level + 1) for sub in subs)
    return found


def dicom_folders_below(folder: Path, *, alone: bool = False, unreadable: Callable[[Path], str | None] | None = None) -> str:
    """The end of a refusal of ``folder`` for holding no input of its own, naming the folders below it (up to four
    levels down) that hold DICOM files: a study exported as ``study/series/IM*``.  "" where there are none.
    ``alone``: say that a series folder is given without ``--out-dir`` (the call had it).  ``unreadable``: as for
    :func:`series_folders_said`.

    >>> dicom_folders_below(Path("samples"))
    ''
    """
    below = dicom_folders(folder, 4)
    return f" ({SERIES_OWN_FILES}); {series_folders_said(below, alone=alone, unreadable=unreadable)}" if below else ""


def series_folders_said(below: list[tuple[Path, int]], *, alone: bool = False,
                        unreadable: Callable[[Path], str | None] | None = None) -> str:
    """What a refusal or a note says of ``below``, folders holding DICOM files (:func:`dicom_folders`): those to give
    first, then the others with why.  ``unreadable(path)``, asked of every folder: why it would be refused as a series
    too (its files hold no image; Siemens mosaics), or None: it is named with that reason, and not as a folder to give.

    >>> series_folders_said([(Path("s/a"), 3), (Path("s/b"), 2)], unreadable=lambda p: "mosaics" if p.name == "a" else None)
    'DICOM files are in s/b (2): give that folder; not s/a (3): mosaics'
    """
    why = {path: unreadable(path) for path, _ in below} if unreadable is not None else {}
    good = [(path, count) for path, count in below if not why.get(path)]
    refused = [f"{path} ({count}): {why[path]}" for path, count in below if why.get(path)]
    bad = "; ".join(refused[:3]) + ("; ..." if len(refused) > 3 else "")
    if not good:
        return f"the folders below hold DICOM files but no series to read: {bad}"
    where = ", ".join(f"{path} ({count})" for path, count in good[:3]) + (", ..." if len(good) > 3 else "")
    which = "that folder" if len(good) == 1 else "one of those folders"
    return (f"DICOM files are in {where}: give {which}" + (", alone, without --out-dir" if alone else "")
            + (f"; not {bad}" if bad else ""))


def is_volume_input(path: str | os.PathLike) -> bool:
    """True for volume inputs: NIfTI, DICOM files, folders holding DICOM files, ``.mgz``, ``.nrrd``, ``.mha``, ``.mhd``.

    A file without a known suffix counts when it carries the DICOM magic bytes; a folder
    counts when one of its first entries is a DICOM file.  Standard library only.

    >>> is_volume_input("samples/phantom.png")
    False
    """
    p = Path(path)
    suffix = volume_suffix(p)
    if suffix in VOLUME_SUFFIXES:
        return True
    try:
        st = p.stat()
    except OSError:
        return False
    if stat.S_ISDIR(st.st_mode):
        try:
            with os.scandir(p) as entries:
                for count, entry in enumerate(entries):
                    if count >= _SNIFF_ENTRIES:
                        break
                    if entry.name.startswith(".") or not entry.is_file():
                        continue
                    if volume_suffix(entry.name) in DICOM_SUFFIXES or _has_dicom_magic(Path(entry.path)):
                        return True
        except OSError:
            return False
        return False
    if stat.S_ISREG(st.st_mode) and suffix not in (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".npy", ".csv", ".txt", ".gif"):
        return _has_dicom_magic(p)
    return False


#: the commands that take a volume, as a refusal by one that does not names them
VOLUME_COMMANDS = "convolve, volume and pool take volumes"


def refuse_volume_input(path: str | os.PathLike, command: str, instead: str = VOLUME_COMMANDS) -> None:
    """Refuse ``path`` (exit 2) when it is a volume, given to ``command``, which takes images and arrays alone;
    ``instead`` says what takes one.  A missing file is "no such file" first, whatever its suffix: a mistyped
    ``.nii.gz`` is no volume, and every command words a missing input alike.

    >>> refuse_volume_input("samples/phantom3d.nii.gz", "gallery")
    Traceback (most recent call last):
    ...
    kernelcli.errors.UsageError: samples/phantom3d.nii.gz: a volume (NIfTI, DICOM or a DICOM series folder); gallery takes images and arrays (convolve, volume and pool take volumes)
    >>> refuse_volume_input("nosuch.nii.gz", "gallery")
    Traceback (most recent call last):
    ...
    kernelcli.errors.InputError: nosuch.nii.gz: no such file
    """
    if is_volume_input(path):
        from .errors import UsageError
        from .io.common import stat_input

        stat_input(Path(path))

        raise UsageError(f"{path}: a volume (NIfTI, DICOM or a DICOM series folder); {command} takes images and arrays ({instead})")


#: convolve's options for images and arrays alone, by parameter name: a volume refuses each one given, in
#: :func:`refuse_image_options`' words (``stride``, ``dilation`` and ``padding`` set away from 1, 1 and same:
#: ``check_volume_call``'s own arguments), and ``volume --help`` marks each so (the one list: they drifted apart)
IMAGE_ONLY_OPTIONS = ("weights", "bias_file", "bias", "activation", "combine", "montage", "rescale", "max_pixels",
                      "kernel_scale", "then", "quality", "compress", "stride", "dilation", "padding")
#: those of :data:`IMAGE_ONLY_OPTIONS` that always have a value, refused where it is not their default
_REFUSED_AWAY_FROM_DEFAULT = ("stride", "dilation", "padding")


def image_only_given(values: dict[str, object]) -> dict[str, object]:
    """The options of :data:`IMAGE_ONLY_OPTIONS` that have no default, as :func:`refuse_image_options` takes them
    (``--name``: the value, None where not given), from ``values`` (convolve's parameters by name).

    >>> image_only_given({"kernel_scale": "2", "then": [], "axis": "z"})["--kernel-scale"], image_only_given({})["--then"]
    ('2', None)
    """
    def given(value: object) -> object:
        return None if isinstance(value, (list, tuple)) and not value else value  # (no --then: an empty list)

    return {"--" + name.replace("_", "-"): given(values.get(name)) for name in IMAGE_ONLY_OPTIONS
            if name not in _REFUSED_AWAY_FROM_DEFAULT}


def refuse_image_options(input_path: str | os.PathLike, given: dict[str, object], *, command: str | None = None) -> None:
    """Refuse the options in ``given`` (name: value, None or False when not given) that a volume input
    was given: they work on images and arrays, and a volume job would pass over them in silence.
    ``command``: the command run (``pool``, ``convolve``, ``volume``), named in the message with what to do.

    >>> refuse_image_options("ct.nii.gz", {"--rescale": None, "--quality": 80}, command="pool")
    Traceback (most recent call last):
    ...
    kernelcli.errors.UsageError: ct.nii.gz: --quality not supported for volumes (NIfTI, DICOM): `kernelcli pool` takes it for images and arrays; drop it
    """
    names = given_names(given)
    if not names:
        return
    from .errors import UsageError

    them = "it" if len(names) == 1 else "them"
    takes = f"`kernelcli {command}` takes {them}" if command else f"{'it is' if len(names) == 1 else 'they are'}"
    said = f"{input_path}: {', '.join(names)} not supported for volumes (NIfTI, DICOM): {takes} for images and arrays; drop {them}"
    if "--rescale" in names:  # what a volume has instead: pool keeps no integer type (no --keep-dtype there)
        ways = ([] if command == "pool" else ["--keep-dtype rounds it into the input's integer type"]) + [
            "--window C,W maps it to 0-255"]
        said += f" (a volume's result is written as computed; {', '.join(ways)})"
    raise UsageError(said)


def refuse_volume_options(inputs: list, given: dict[str, object], *, out_dir: object = None) -> None:
    """Refuse the options in ``given`` (as for :func:`refuse_image_options`) that only volumes take, where the
    input is an image or array, or a batch's inputs (several, or ``out_dir`` given) hold no volume.  One input that
    does not exist is "no such file" first, as in :func:`refuse_volume_input`: a mistyped series folder is no image.

    >>> refuse_volume_options(["samples/phantom.png"], {"--window": None, "--volume": 0})
    Traceback (most recent call last):
    ...
    kernelcli.errors.UsageError: --volume: only for volume inputs (NIfTI, DICOM); got samples/phantom.png, an image or array
    >>> refuse_volume_options(["ct_series"], {"--window": "lung"})
    Traceback (most recent call last):
    ...
    kernelcli.errors.InputError: ct_series: no such file
    """
    names = given_names(given)
    if names:
        from .errors import UsageError

        one = len(inputs) == 1 and out_dir is None
        if one and str(inputs[0]) != "-":
            from .io.common import stat_input
            from .tiled.urls import as_url

            if as_url(inputs[0]) is None:
                stat_input(Path(inputs[0]))
        shown = "stdin" if str(inputs[0]) == "-" else inputs[0]  # (checked before stdin is read, as its stand-in file is named)
        what = f"{shown}, an image or array" if one else "no volume among the inputs"
        raise UsageError(f"{', '.join(names)}: only for volume inputs (NIfTI, DICOM); got {what}")


def given_names(given: dict[str, object]) -> list[str]:
    """The option names in ``given`` that were typed: a value other than None and False (0 and '' were typed).

    >>> given_names({"--volume": 0, "--series": None, "--keep-dtype": False, "--window": ""})
    ['--volume', '--window']
    """
    return [name for name, value in given.items() if value is not None and value is not False]
