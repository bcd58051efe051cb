"""The JSON kernel catalogue: find, load and validate kernels, giving frozen :class:`Kernel` values.

A kernel spec (what ``--kernel`` takes) is one of

- a catalogue **name**: names are ``[a-z0-9_]+`` (lower-case letters, digits and ``_``, the rule of
  kernel files); a lookup reads capitals as lower case and ``-`` as ``_`` (``Sobel-V`` finds
  ``sobel_v``; names in files are lower case, so this never chooses between two kernels).  Looked up
  only in the shipped catalogue folder and the folders listed in ``KERNELCLI_KERNEL_PATH``
  (``os.pathsep``-separated), never as a file in the current directory; an entry of that variable
  that is missing or not a folder is named in the message when a lookup or a listing fails;
- a **path** to a user's JSON file: anything containing a path separator or ending in ``.json``
  (``my.json``, ``./ridge``); ``my.json:NAME`` picks one kernel from a file holding several;
- an **inline** kernel (ImageMagick's ``'3x3: 1,0,-1 2,0,-2 1,0,-1'``, a JSON list of rows) or a
  ``.npy`` file: see :mod:`kernelcli.kernel_syntax`;
- a **parametric** spec: ``gaussian:SIGMA`` (size ``2*ceil(3*sigma)+1``, sampled and normalised to sum 1, as
  ImageMagick's ``Gaussian:RxSIGMA``, R = ceil(3*sigma), not its ``0xSIGMA``, often larger) or ``box:N`` (1/N**2 each).

A kernel file is either a family file ``{"family": ..., "description": ..., "kernels": [...]}`` or a
single kernel object ``{"name": ..., "matrix": ..., "scale": ..., "description": ..., "source": ...}``
(the format is in ``kernels/kernel.schema.json``).  Every error is an :class:`~kernelcli.errors.InvalidKernel`
(exit 3) whose one-line message names the file and the field, e.g.
``my.json: kernels[0].matrix: row 2 has 1 value, expected 3``.

The format (the :class:`Kernel` value, limits, validation) lives in :mod:`kernelcli.catalog_format`,
reading one file in :mod:`kernelcli.catalog_files`, ``gaussian:``/``box:`` in :mod:`kernelcli.catalog_parametric`,
all re-exported here; this module finds and loads kernels.

numpy is imported only by the methods that need it (:meth:`Kernel.array`, :attr:`Kernel.separable`),
so finding and validating kernels stays cheap.

Example
-------
>>> k = load_kernel("sobel_v")
>>> k.matrix
((1.0, 0.0, -1.0), (2.0, 0.0, -2.0), (1.0, 0.0, -1.0))
>>> k.shape, k.sum, k.separable
((3, 3), 0.0, True)
>>> load_kernel("gaussian:1").shape
(7, 7)
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

from .catalog_format import (  # noqa: F401 - the file format, re-exported (its former home)
    _FAMILY_FILE_KEYS, _FILE_SELECTOR, _KERNEL_KEYS, _PARAMETRIC, _SINGLE_FILE_KEYS, _ZERO_SUM_RTOL, CUSTOM_FAMILY,
    ENV_PATH, LOOKUP_RULE, MAX_FILE_BYTES, MAX_NAME_LENGTH, MAX_SIDE, NAME_PATTERN, NAME_RULE, SEPARABLE_RTOL,
    SPEC_NAME_PATTERN, Kernel, kernel_size_text, split_selector,
    _axis_names, _describe, _dims_text, _flat, _join, _key_hint, _position, _to_lists, _Validator,
)
from .kernel_json import _NotFinite, _Object, _object_pairs, _parse_float, _parse_int, _parse_json  # noqa: F401
from . import numtext
from .catalog_files import parse_kernels, read_kernel_file  # noqa: F401 - re-exported (their former home)
from .kernel_paths import load_from_path, looks_like_path
from .kernel_names import fold_name as _fold_name
from .kernel_shown import TWO_D
from .catalog_parametric import box_kernel, gaussian_kernel, parametric_kernel  # noqa: F401 - re-exported
from .errors import InvalidKernel, KernelNotFound, UsageError
from .resources import catalog_dir

# --------------------------------------------------------------------------- finding kernels


def load_kernel(spec: str, *, max_ndim: int = 2) -> Kernel:
    """Return the kernel a ``--kernel`` spec names: a catalogue name, a JSON path, or parametric.

    Parameters
    ----------
    spec : str
        ``sobel_v`` (catalogue name), ``my.json`` / ``./dir/k.json`` / ``k.json:NAME`` (a file),
        ``gaussian:SIGMA`` or ``box:N``.  A name (and ``NAME`` after a file) is matched with capitals
        read as lower case and ``-`` as ``_``: ``Sobel-V`` finds ``sobel_v``.
    max_ndim : int
        3 lets a file hold a (channels, f, f) kernel for the layer semantics; names in the
        catalogue are always 2-D.

    Raises
    ------
    KernelNotFound
        An unknown name (with close matches) or a missing file.
    InvalidKernel
        A file or spec that fails validation.

    Examples
    --------
    >>> load_kernel("box:2").array().tolist()
    [[0.25, 0.25], [0.25, 0.25]]
    >>> load_kernel("Sobel-V").name
    'sobel_v'
    """
    if not isinstance(spec, str):
        raise InvalidKernel(f"kernel spec {spec!r}: expected a string (a name, a .json path, gaussian:SIGMA or box:N), "
                            f"got {type(spec).__name__}; a matrix goes to conv2d as it is")
    if type(max_ndim) is not int or max_ndim not in (2, 3):  # ('x', None, 0, True and 2.0 were taken)
        raise UsageError(f"max_ndim: expected 2 (a 2-D kernel) or 3 (a C x f x f one too), got {max_ndim!r}")
    if not spec.strip():
        raise InvalidKernel(
            f"empty kernel spec {spec!r}: give a name (`kernelcli kernels` lists them), "
            "a path to a .json file, gaussian:SIGMA or box:N"
        )
    spec = spec.strip()  # (as the inline forms and the volume grammar read it: ' sobel_v' was refused on an image alone)
    from .kernel_syntax import inline_kernel, pooling_step_refused

    inline = inline_kernel(spec, max_ndim=max_ndim)  # ImageMagick syntax, a JSON list or a .npy file
    if inline is not None:
        _refuse_a_named_number(spec)
        return inline
    other = _other_format(spec)
    if other is not None:
        raise other
    if looks_like_path(spec):
        return load_from_path(spec, max_ndim)
    volume_only = _volume_kernel(spec)
    if volume_only:
        raise _volume_refusal(spec, f"{volume_only} for a volume", numtext.clipped(spec, 120))
    if re.fullmatch(r"(fwhm|log)\s*:.*", spec, re.IGNORECASE | re.DOTALL):  # (was "'fwhm:2' is not a kernel name")
        raise _volume_refusal(spec, "expected a size in mm or voxels such as fwhm:4mm or log:2mm, for a volume",
                              numtext.quoted(spec, 120))
    parametric = _PARAMETRIC.fullmatch(spec)
    if parametric:
        kind, argument = parametric.group(1).lower(), parametric.group(2)
        return parametric_kernel(spec, kind, argument)
    if SPEC_NAME_PATTERN.fullmatch(spec):
        try:
            return _load_by_name(spec)
        except KernelNotFound:  # (a pooling step misspelt, maxpool2, was "unknown kernel" here and its form in convolve)
            pooling = pooling_step_refused(spec)
            if pooling is None:
                raise
            raise pooling from None
    pooling = pooling_step_refused(spec)
    if pooling is not None:
        raise pooling
    shown = numtext.quoted(spec, 120) if not spec.isprintable() or len(spec) > 120 else f"'{spec}'"  # 'a\b' as typed, not 'a\\b'
    raise InvalidKernel(
        f"{shown} is not a kernel name ({NAME_RULE}; {LOOKUP_RULE}), a path to a .json or .npy file, "
        "gaussian:SIGMA, box:N, an inline kernel ('3x3: 1,0,-1 2,0,-2 1,0,-1') or a JSON list ('[[1,0,-1],[2,0,-2],[1,0,-1]]')"
    )


def list_kernels(family: str | None = None) -> list[Kernel]:
    """Return every catalogue kernel (shipped folder, then ``KERNELCLI_KERNEL_PATH``), optionally one family.

    Files are read in name order within each folder; kernels keep their order in the file.

    Raises
    ------
    UsageError
        ``family`` is not in the catalogue (the message lists close matches, and the entries of
        ``KERNELCLI_KERNEL_PATH`` that were skipped as missing or not a folder).
    InvalidKernel
        A catalogue file fails validation, or two files define the same name.

    Examples
    --------
    >>> [k.name for k in list_kernels("gaussian")]
    ['gaussian_3x3', 'gaussian_5x5', 'gaussian_7x7']
    """
    kernels = _load_catalogue()
    if family is None:
        return kernels
    if not isinstance(family, str):  # (list_kernels(3) was an AttributeError)
        raise UsageError(f"family: expected a family name (a string), got {family!r}")
    chosen = [k for k in kernels if k.family == family_name(family)]
    if not chosen:
        import difflib

        known = sorted({k.family for k in kernels})
        close = difflib.get_close_matches(family, known, n=1)
        hint = f"did you mean '{close[0]}'? " if close else ""
        skipped = kernel_path_note()
        raise UsageError(f"unknown kernel family {numtext.quoted(family)}; {hint}families: {', '.join(known)}" + (f"; {skipped}" if skipped else ""))
    return chosen


def family_name(text: str) -> str:
    """A family as the catalogue spells it, read as kernel names are (capitals or ``-`` find it): what
    :func:`list_kernels` looks for, and what a default output name says.

    >>> family_name(" My-Edges "), family_name("EDGE")
    ('my_edges', 'edge')
    """
    return _fold_name(text.strip())


def families() -> list[str]:
    """Return the catalogue's family names, sorted.

    >>> "edge" in families()
    True
    """
    return sorted({k.family for k in _load_catalogue()})


def search_dirs() -> list[Path]:
    """The folders searched for catalogue names: the shipped catalogue, then ``KERNELCLI_KERNEL_PATH``.

    An entry that is missing or not a folder stays in the list (it holds no kernels);
    :func:`kernel_path_note` names it.

    >>> search_dirs()[0] == catalog_dir()
    True
    """
    folders = [catalog_dir()]
    for entry in os.environ.get(ENV_PATH, "").split(os.pathsep):
        if entry.strip():
            folders.append(Path(entry).expanduser())
    unique: dict[Path, Path] = {}
    for folder in folders:
        unique.setdefault(folder.resolve(), folder)
    return list(unique.values())


#: what KERNELCLI_KERNEL_PATH holds, as the messages say it
_PATH_HOLDS = f"folders of kernel .json files, separated by '{os.pathsep}'"
PATH_RULE = f"{ENV_PATH} lists {_PATH_HOLDS}"


def _folder_state(folder: Path) -> str:
    """``""`` for a folder, else why it holds no kernels: ``" (missing)"`` or ``" (not a folder)"``.

    >>> _folder_state(catalog_dir()), _folder_state(catalog_dir() / "edge.json"), _folder_state(Path("/no/such"))
    ('', ' (not a folder)', ' (missing)')
    """
    if folder.is_dir():
        return ""
    return " (not a folder)" if folder.exists() else " (missing)"


def kernel_path_note(value: str | None = None) -> str:
    """The entries of ``KERNELCLI_KERNEL_PATH`` (or of ``value``) skipped because they are missing or
    not folders, as one clause for a message or a note; ``""`` when every entry is a folder.

    >>> kernel_path_note(os.pathsep.join([str(catalog_dir()), "", "/no/such"]))
    "KERNELCLI_KERNEL_PATH: /no/such (missing) skipped; it lists folders of kernel .json files, separated by ':'"
    >>> kernel_path_note(str(catalog_dir()))
    ''
    """
    text = os.environ.get(ENV_PATH, "") if value is None else value
    bad = [f"{folder}{state}" for folder in (Path(e).expanduser() for e in text.split(os.pathsep) if e.strip())
           if (state := _folder_state(folder))]
    if not bad:
        return ""
    return f"{ENV_PATH}: {', '.join(bad)} skipped; it lists {_PATH_HOLDS}"


# --------------------------------------------------------------------------- reading files


# --------------------------------------------------------------------------- the catalogue


def _catalogue_files(folder: Path) -> list[Path]:
    """The kernel files of one folder: ``*.json`` at the top level, not ``*.schema.json``, not hidden."""
    if not folder.is_dir():
        return []
    return sorted(  # (any case: an UP.JSON was passed over in silence, where -k ./UP.JSON read it)
        file
        for file in folder.iterdir()
        if file.suffix.lower() == ".json" and file.is_file() and not file.name.startswith(".")
        and not file.name.lower().endswith(".schema.json")
    )


#: files of KERNELCLI_KERNEL_PATH already reported as "not a kernel file" or broken (once per process)
_NOTED: set[object] = set()
#: kernel files of KERNELCLI_KERNEL_PATH that failed validation, with why: skipped (one broken file in a user's
#: folder refused every call, `-k sobel_v` too), and named where a lookup then fails
_BROKEN: dict[Path, str] = {}
#: names a KERNELCLI_KERNEL_PATH kernel shares with an earlier one, with the clash: that kernel is skipped, and a
#: lookup of the name is refused (it reads two ways); any other name is looked up as before
_CLASHES: dict[str, str] = {}


def _note_once(key: object, text: str) -> None:
    """Say ``text`` once per process (the command line shows it as a note on the call)."""
    if key not in _NOTED:
        import logging

        _NOTED.add(key)
        logging.getLogger("kernelcli").warning("%s", text)


def _not_a_kernel_file(file: Path) -> str | None:
    """Why a JSON file found on KERNELCLI_KERNEL_PATH is not a kernel file at all, or None if it tries to be one.

    A JSON object with none of "kernels", "family" and "matrix" (a network spec, a
    settings file) is someone else's file; a broken kernel file is still an error.
    """
    try:
        document = json.loads(file.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError):  # (a deep one: exit 70 after its note was made)
        return None
    if not isinstance(document, dict) or any(key in document for key in ("kernels", "family", "matrix")):
        return None
    keys = ", ".join(f'"{key}"' for key in list(document)[:4]) or "no keys"
    return f"{file}: not a kernel file ({keys}; no \"kernels\" or \"matrix\"), skipped"


def _load_catalogue() -> list[Kernel]:
    from .volume_grammar import volume_kernel_names

    kernels: list[Kernel] = []
    seen: dict[str, Kernel] = {}
    reserved = volume_kernel_names()
    _BROKEN.clear()
    _CLASHES.clear()
    shipped = catalog_dir().resolve()
    for folder in search_dirs():
        for file in _catalogue_files(folder):
            try:
                found = read_kernel_file(file)
            except InvalidKernel as exc:
                if folder.resolve() == shipped:
                    raise
                why = _not_a_kernel_file(file)
                if why is None:  # a kernel file, broken: skipped with a note, named if a lookup fails
                    _BROKEN[file] = str(exc)
                    why = f"{exc} (a broken kernel file: skipped)"
                _note_once(file, why)
                continue
            for kernel in found:
                earlier = seen.get(kernel.name)
                if kernel.name in reserved:  # listed, never used: box_3d ran as the built-in 3-D box, in silence
                    problem = (f"kernel name '{kernel.name}' in {file} is a volume kernel's (the built-in {kernel.name} "
                               "is used wherever it is named); rename it")
                elif earlier is not None:
                    problem = (f"duplicate kernel name '{kernel.name}': defined in {earlier.path} and in {file}; "
                               "names must be unique across the catalogue and KERNELCLI_KERNEL_PATH, rename one")
                else:
                    problem = ""
                if problem:
                    if folder.resolve() == shipped:
                        raise InvalidKernel(problem)
                    # a user's kernel skipped with a note, as a broken file is (one clash stopped every call); the
                    # name itself reads two ways, so a lookup of it is refused naming both (_load_by_name)
                    if earlier is not None:
                        _CLASHES[kernel.name] = problem
                    asked = f"; -k {kernel.name} is refused until one is renamed" if earlier is not None else ""
                    _note_once((file, kernel.name), f"{problem} (this one skipped{asked})")
                    continue
                seen[kernel.name] = kernel
                kernels.append(kernel)
    return kernels


def _suggestions(wanted: str, names: list[str]) -> list[str]:
    import difflib

    close = difflib.get_close_matches(wanted, names, n=3, cutoff=0.6)
    prefixed = [n for n in names if n.startswith(wanted)]
    return list(dict.fromkeys(close + prefixed))[:5]


def _refuse_a_named_number(spec: str) -> None:
    """Refuse one number that a catalogue kernel is also named (``1``, ``1e3``): it reads two ways."""
    from .kernel_syntax import one_value

    if one_value(spec) and SPEC_NAME_PATTERN.fullmatch(spec):
        named = next((k for k in _load_catalogue() if k.name == _fold_name(spec)), None)
        if named is not None:
            raise InvalidKernel(f"'{spec}' reads two ways: the catalogue kernel {named.name} (in {named.path}) or ImageMagick's "
                                f"1x1 kernel of one value; give {named.path}:{named.name} for the kernel, or '1x1: {spec}' for the value")


def _load_by_name(spec: str) -> Kernel:
    wanted = _fold_name(spec)
    kernels = _load_catalogue()
    if wanted in _CLASHES:
        raise InvalidKernel(f"{spec}: reads two ways: {_CLASHES[wanted]}")
    for kernel in kernels:
        if kernel.name == wanted:
            return kernel
    names = [k.name for k in kernels]
    if "3d" in wanted:  # a volume's named 3-D kernel was meant: box_3dd is close to box_3d (sobel_x is no 3-D one)
        from .kernel_build import KERNELS_3D

        names += sorted(KERNELS_3D)
    close = _suggestions(wanted, names)
    parts = [f"unknown kernel '{numtext.clipped(spec, 120)}'" + (f" (did you mean {', '.join(close)}?)" if close else "")]
    for candidate in (spec + ".json", spec):
        if os.path.isfile(candidate):  # False, not an error, for a name too long to be a file
            parts.append(f"a file '{candidate}' is here, but names are looked up only in the catalogue: give it as ./{candidate}")
            break
    broken = list(_BROKEN.values())
    if broken:  # (it may be the file that defines it)
        parts.append(f"skipped as broken: {'; '.join(broken[:2])}" + (f"; and {len(broken) - 2} more" if len(broken) > 2 else ""))
    if os.environ.get(ENV_PATH, "").strip():
        shown = [f"{folder}{_folder_state(folder)}" for folder in search_dirs()]
        parts.append(f"searched {', '.join(shown)}")
        if any(_folder_state(folder) for folder in search_dirs()):
            parts.append(PATH_RULE)
    parts.append("`kernelcli kernels` lists the catalogue")
    raise KernelNotFound("; ".join(parts))


def is_volume_kernel(spec: str) -> bool:
    """True for a spec of the volume grammar alone (``gaussian:1.5mm``, ``box:3vox``, ``box_3d``, ``gradient``).

    >>> is_volume_kernel("box:3vox"), is_volume_kernel("box:3")
    (True, False)
    """
    return bool(_volume_kernel(spec))


_TWO_D = TWO_D  # (kernel_shown's: a kernel file whose axes say z, y, x is refused in the same words)


def _volume_refusal(spec: str, what: str, named: str) -> Exception:
    """The refusal of a volume's kernel by :func:`load_kernel`, which builds 2-D kernels: to a Python caller, where
    the API builds it for a (Z, Y, X) array (:func:`kernelcli.volume_grammar.volume_kernel_advice`); on the command line (``worded``), that
    the input must be a volume file, or for a ``--layout zyx`` array a 3-D kernel file or JSON list (a named kernel's: ``kernels show NAME --json > NAME.json``, read back whole).

    >>> str(_volume_refusal("sobel_3d", "a named 3-D kernel is for a volume", "sobel_3d")).split(";")[0]
    "sobel_3d: a named 3-D kernel is for a volume: a (Z, Y, X) array takes kernel_3d('sobel_3d') (conv3d"
    >>> print(str(_volume_refusal("sobel_3d", "a named 3-D kernel is for a volume", "sobel_3d").worded("")).split("; ")[-1])
    a --layout zyx array, whose slices a 2-D kernel filters one by one, takes a 3-D kernel as a file (.npy, JSON) or a JSON list of (z, y, x) taps: kernelcli kernels show sobel_3d --json > sobel_3d.json, then -k sobel_3d.json
    """
    from .kernel_syntax import VolumeKernelRefused
    from .volume_grammar import volume_kernel_advice, volume_kernel_names

    key = spec.strip().lower().replace("-", "_")
    # a 2-D kernel filters a --layout zyx array slice by slice, another result: its 3-D form is a file (the README's)
    taps = f": kernelcli kernels show {key} --json > {key}.json, then -k {key}.json" if key in volume_kernel_names() else ""
    cli = (f"{what} input (NIfTI, DICOM or a DICOM series folder); {_TWO_D}; a --layout zyx array, whose slices a 2-D "
           f"kernel filters one by one, takes a 3-D kernel as a file (.npy, JSON) or a JSON list of (z, y, x) taps{taps}")
    return VolumeKernelRefused(spec, f"{what}: a (Z, Y, X) array takes {volume_kernel_advice(spec)}; {_TWO_D}",
                             on_command_line=cli, named=named)


def _volume_kernel(spec: str) -> str:
    """What a spec of the volume grammar is ("a size in mm", "a named 3-D kernel"), or "" for any other spec:
    on an image it was refused as "sigma '1mm' is not a number" or "unknown kernel 'box_3d'".

    >>> _volume_kernel("gaussian:1.5mm"), _volume_kernel("box_3d"), _volume_kernel("gaussian:1.5")
    ('a size in mm is', 'a named 3-D kernel is', '')
    """

    sized = re.fullmatch(r"\s*(gaussian|box|fwhm|log)\s*:\s*[0-9.eE+-]+\s*(mm|vox)\s*", spec, re.IGNORECASE)
    if sized:
        return f"a size in {'voxels' if sized.group(2).lower() == 'vox' else 'mm'} is"
    from .volume_grammar import volume_kernel_names

    if spec.strip().lower().replace("-", "_") in volume_kernel_names():
        return "a named 3-D kernel is"
    return ""


def _other_format(spec: str) -> InvalidKernel | None:
    """The refusal of a spec naming an image, a text matrix or a volume file, or None for any other spec (``./k.csv``
    was read as JSON, "not valid JSON: Extra data"; ``k.csv`` was "not a kernel name").  A text matrix goes inline: in
    load_kernel's words from the API, with the option it was given with on the command line.

    >>> str(_other_format("./k.csv")).split(";")[0], _other_format("k.json"), _other_format("sobel_v")
    ('./k.csv: a kernel file is .json (a kernel object) or .npy (an array saved with numpy.save), not .csv', None, None)
    """
    from .io.naming import INPUT_SUFFIXES, MATRIX_SUFFIXES, VOLUME_KINDS, shell_word
    from .kernel_syntax import KernelTextRefused

    name = spec.strip().lower()
    others = sorted({*INPUT_SUFFIXES, *VOLUME_KINDS, ".tsv"} - {".npy"}, key=len, reverse=True)  # .nii.gz before .gz
    suffix = next((s for s in others if name.endswith(s)), None)
    if suffix is None:
        return None
    why = f"a kernel file is .json (a kernel object) or .npy (an array saved with numpy.save), not {suffix}"
    if suffix not in MATRIX_SUFFIXES | {".tsv"}:
        return KernelTextRefused(spec, why, named=numtext.clipped(spec.strip(), 120))
    inline, saved = "; a matrix written as text goes inline as it is, ", " (W columns, H rows), or save it with numpy.save as .npy"
    return KernelTextRefused(spec, f"{why}{inline}load_kernel(\"WxH: \" + its text){saved}", named=numtext.clipped(spec.strip(), 120),
                             on_command_line=f"{why}{inline}{{option}} \"WxH: $(cat {shell_word(numtext.clipped(spec.strip()))})\"{saved}")

