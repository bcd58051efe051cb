"""Output naming, declared once: file-name-safe stems, default names, output suffixes.

Pure Python (no numpy), shared by single-file jobs, batches and volumes, so that
``kernelcli.jobs`` and ``kernelcli.batch`` both import it and neither imports the other.

Example
-------
>>> default_output(Path("scans/ct.png"), "gaussian:1.5")
PosixPath('ct_gaussian_1.5.png')
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

#: image formats kernelcli writes, by extension -> Pillow format name
IMAGE_SUFFIXES = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".tif": "TIFF", ".tiff": "TIFF", ".bmp": "BMP"}
ARRAY_SUFFIXES = {".npy"}
MATRIX_SUFFIXES = {".csv", ".txt"}
READ_ONLY_IMAGE_SUFFIXES = {".gif"}
INPUT_SUFFIXES = set(IMAGE_SUFFIXES) | READ_ONLY_IMAGE_SUFFIXES | ARRAY_SUFFIXES | MATRIX_SUFFIXES
OUTPUT_SUFFIXES = set(IMAGE_SUFFIXES) | ARRAY_SUFFIXES | {".csv"}
#: output extension for input types kernelcli cannot write back
OUTPUT_FOR_INPUT = {".txt": ".csv", ".gif": ".png"}


def safe_stem(text: str) -> str:
    """A file-name-safe version of a kernel name or spec: ``gaussian:1.5`` -> ``gaussian_1.5``.

    >>> safe_stem("gaussian:1.5"), safe_stem("::")
    ('gaussian_1.5', 'kernel')
    """
    return safe_text(text) or "kernel"


def safe_text(text: str) -> str:
    """``text`` with every run of characters a file name should not hold as ``_``, and no ``_`` at either end:
    empty when nothing is left (``--suffix /`` is refused for that: :func:`kernelcli.cli.option_values.checked_suffix`).
    Letters, digits and the marks that belong to them (vowel signs, accents) of any script are kept, as an input's
    stem keeps them (``café`` was ``caf``, ``σ`` nothing, ``हिन्दी`` ``ह_न_द``); the text is first composed (NFC), so
    an accent typed apart from its letter (a macOS file name) names the same output as one typed with it.

    >>> safe_text("a b/c"), safe_text("//"), safe_text("café"), safe_text("σ:2"), safe_text("हिन्दी")
    ('a_b_c', '', 'café', 'σ_2', 'हिन्दी')
    >>> safe_text("cafe\u0301") == safe_text("caf\u00e9") == "caf\u00e9"
    True
    """
    import unicodedata  # (here: shape's cold path imports this module but names no output)

    kept = [c if c in "_.-" or unicodedata.category(c)[0] in "LMN" else "/" for c in unicodedata.normalize("NFC", text)]
    return re.sub(r"/+", "_", "".join(kept)).strip("_")


def is_matrix_path(path: str | Path) -> bool:
    """True for text-matrix inputs (``.csv``/``.txt``), whose results print on stdout by default.

    >>> is_matrix_path("a.CSV"), is_matrix_path("a.png")
    (True, False)
    """
    return Path(path).suffix.lower() in MATRIX_SUFFIXES


def output_suffix(input_path: Path, fmt: str | None) -> str:
    """The output extension: ``.<fmt>`` if given, else the input's (``.txt`` -> ``.csv``, ``.gif`` -> ``.png``).

    >>> output_suffix(Path("a.TIF"), None), output_suffix(Path("a.png"), "npy")
    ('.tif', '.npy')
    """
    if fmt:
        return "." + fmt.lower().lstrip(".")
    suffix = Path(input_path).suffix.lower()
    if suffix in OUTPUT_SUFFIXES:
        return suffix
    return OUTPUT_FOR_INPUT.get(suffix, ".png")


def default_output(input_path: Path, label: str, directory: Path = Path("."), fmt: str | None = None) -> Path:
    """``<stem>_<label>.<ext>`` in ``directory`` (the current one by default); ``<stem>.<ext>`` for an empty label
    (``--suffix ''``: the input's own name, in another folder).

    The extension is ``fmt``'s, else the input's, or, for a type kernelcli cannot write,
    the one a batch uses (``.gif`` -> ``.png``, ``.txt`` -> ``.csv``); a volume file's result
    is a NIfTI volume (``ct.nii.gz`` -> ``ct_<label>.nii.gz``, as ``convolve ct.nii.gz`` names it).

    >>> default_output(Path("scans/ct.png"), "sobel_v"), default_output(Path("cine.gif"), "box_3x3")
    (PosixPath('ct_sobel_v.png'), PosixPath('cine_box_3x3.png'))
    >>> default_output(Path("mr.nii.gz"), "gaussian:1mm", Path("out"))
    PosixPath('out/mr_gaussian_1mm.nii.gz')
    >>> default_output(Path("scans/ct.png"), "", Path("out"))
    PosixPath('out/ct.png')
    """
    from ..volume_inputs import VOLUME_SUFFIXES, volume_stem, volume_suffix

    if volume_suffix(input_path) in VOLUME_SUFFIXES:
        suffix = "." + fmt.lower().lstrip(".") if fmt else ".nii.gz"
        return Path(directory) / f"{labelled(volume_stem(input_path), label)}{suffix}"
    return Path(directory) / f"{labelled(input_stem(input_path), label)}{output_suffix(Path(input_path), fmt)}"


#: the folder a pipe's stand-in files are in (:mod:`kernelcli.io.pipes`): ``kernelcli-pipe-<token>/stdin-<token>.png``
PIPE_FOLDER = "kernelcli-pipe-"
#: what a stand-in file stands for, by its stem before ``-<token>``
PIPE_STREAMS = ("stdin", "stdout")


def stand_in(folder: str | os.PathLike, stream: str, suffix: str) -> Path:
    """The stand-in file for ``stream`` (stdin or stdout) in a pipe's ``folder``: named with the folder's token, so that
    no file of the user's has its name (messages show it as ``stdin``; a user's ``stdin.png`` keeps its name).

    >>> stand_in("/tmp/kernelcli-pipe-ab_12", "stdin", ".png")
    PosixPath('/tmp/kernelcli-pipe-ab_12/stdin-ab_12.png')
    """
    folder = Path(folder)
    return folder / f"{stream}-{folder.name.removeprefix(PIPE_FOLDER)}{suffix}"


def piped_stream(path: str | os.PathLike) -> str | None:
    """``stdin`` or ``stdout`` where ``path`` is a pipe's stand-in file (:func:`stand_in`), else None.

    >>> piped_stream("/tmp/kernelcli-pipe-ab_12/stdin-ab_12.png"), piped_stream("scans/stdin-ab_12.png")
    ('stdin', None)
    """
    p = Path(path)
    if p.parent.name.startswith(PIPE_FOLDER):
        for stream in PIPE_STREAMS:
            if p == stand_in(p.parent, stream, p.suffix):
                return stream
    return None


def shown_path(path: str | os.PathLike) -> str:
    """A command-line path as a record names it: ``stdin``/``stdout`` for a pipe's stand-in file, a URL with its
    ``//`` (the command line's ``Path`` folded ``memory://b/a.zarr`` into ``memory:/b/a.zarr``; a ``file://`` URL is
    the local path it reads, as an ok record says), else the path as given.

    >>> shown_path(Path("memory://b/a.zarr")), shown_path(Path("file:///tmp/a.zarr")), shown_path(Path("a.png"))
    ('memory://b/a.zarr', '/tmp/a.zarr', 'a.png')
    """
    from ..tiled.urls import resolve

    return piped_stream(path) or str(resolve(path))


def keep_as(path: str | os.PathLike, *formats: str) -> str:
    """The advice to write the result in one of ``formats`` instead of ``path``'s type, in the words that change it:
    another extension for a file, ``--format`` for stdout (a pipe's stand-in: :func:`piped_stream`), whose type is
    ``--format``'s, not an extension's ("write .tif or .npy" sent a pipe's user to a file name stdout has none of).

    >>> keep_as("o.png", "tif", "npy"), keep_as("/tmp/kernelcli-pipe-ab_12/stdout-ab_12.png", "tif", "npy")
    ('write .tif or .npy', 'give --format tif|npy')
    """
    if piped_stream(path) == "stdout":
        return "give --format " + "|".join(formats)
    return "write " + " or ".join(f".{name}" for name in formats)


def input_stem(input_path: str | os.PathLike) -> str:
    """The stem an input's outputs are named after: the file's, and ``stdin`` for a pipe's stand-in
    (a piped input's default output is ``stdin_<label>.<ext>``).

    >>> input_stem("/tmp/kernelcli-pipe-ab_12/stdin-ab_12.png"), input_stem("ct.png")
    ('stdin', 'ct')
    """
    return piped_stream(input_path) or Path(input_path).stem


def labelled(stem: str, label: str) -> str:
    """An output's name before its extension: ``<stem>_<label>``, or the stem alone for an empty label (``--suffix ''``).

    >>> labelled("ct", "gaussian:1.5mm"), labelled("ct", "")
    ('ct_gaussian_1.5mm', 'ct')
    """
    return f"{stem}_{safe_stem(label)}" if label != "" else stem


def batch_output(path: Path, root: Path | None, out_dir: Path, suffix: str, fmt: str | None) -> Path:
    """``out_dir / <folder of path relative to root> / <stem>_<suffix>.<ext>``.

    >>> batch_output(Path("scans/a/ct.png"), Path("scans"), Path("out"), "sobel_v", None)
    PosixPath('out/a/ct_sobel_v.png')
    """
    rel = Path()
    if root is not None:
        try:
            rel = Path(path).parent.relative_to(root)
        except ValueError:
            rel = Path()
    if ".." in rel.parts:
        rel = Path()
    return default_output(path, suffix, Path(out_dir) / rel, fmt)


#: the volume formats an output's extension names (``--format`` names none of them)
VOLUME_KINDS = {".nii": "NIfTI", ".nii.gz": "NIfTI", ".mgz": "MGH", ".mgh": "MGH", ".nrrd": "NRRD", ".mha": "MetaImage",
                ".mhd": "MetaImage", ".zarr": "Zarr"}


def check_format_agrees(out: str | os.PathLike[str] | None, fmt: str | None, *, from_stdin: bool = False) -> None:
    """Refuse ``--format`` naming another format than the extension of ``--out`` (a file, not ``-``).

    With stdin as the input, ``--format`` is stdin's format (:mod:`kernelcli.io.pipes`), so nothing conflicts.

    >>> check_format_agrees("o.tiff", "tif")
    >>> check_format_agrees("o.png", "tif")
    Traceback (most recent call last):
    ...
    kernelcli.errors.UsageError: --out o.png names PNG but --format tif names TIFF: give one of them (the extension of --out picks the format)
    """
    name = getattr(fmt, "value", fmt)
    if out is None or not name or from_stdin or os.fspath(out) == "-":
        return
    from ..volume_inputs import volume_suffix

    suffix, given = volume_suffix(Path(out)) or Path(out).suffix.lower(), "." + str(name).lower().lstrip(".")
    kinds = {**IMAGE_SUFFIXES, ".npy": "NPY", ".csv": "CSV", **VOLUME_KINDS}
    if suffix in kinds and kinds.get(given, given) != kinds[suffix]:
        from ..errors import UsageError

        raise UsageError(f"--out {os.fspath(out)} names {kinds[suffix]} but --format {name} names {kinds.get(given, given.lstrip('.').upper())}: "
                         "give one of them (the extension of --out picks the format)")


def refuse_inside_store(out: str | os.PathLike[str] | None, inputs: list[Any] | tuple[Any, ...] = (),
                        option: str = "--out", outputs: list[Any] | tuple[Any, ...] = (), *, folder: bool = False) -> None:
    """Refuse an output inside a local Zarr store: ``-o grp.zarr/img``, an array of a group, is an input form, and
    kernelcli writes a store of its own, never into another (a group's arrays stay as they were); said alike whether the
    store and the array exist or not (exit 2), or, inside one of ``inputs`` or ``outputs`` (the stores the call
    writes), as every output there is (exit 4).  ``option`` names the output: an option other than ``--out`` is put
    first (``--montage grp.zarr/m.png: ...``), as its other refusals are.  The store is found where the path really
    is (:func:`kernelcli.io.store_paths.enclosing_store`): ``grp.zarr/../x.npy`` is outside, ``x.npy`` run from inside
    ``grp.zarr`` is not.  A ``folder`` the call writes its files in (``--out-dir``) is refused inside a store too, and
    as the store itself.

    >>> refuse_inside_store("o.zarr"), refuse_inside_store("out/o.npy"), refuse_inside_store("grp.zarr/../o.npy")
    (None, None, None)
    >>> refuse_inside_store("grp.zarr", option="--out-dir", folder=True)
    Traceback (most recent call last):
    ...
    kernelcli.errors.UsageError: --out-dir grp.zarr: is the Zarr store grp.zarr: kernelcli reads an array inside a group but writes a store of its own, never inside another; give --out-dir a path outside grp.zarr
    >>> refuse_inside_store("grp.zarr/img")
    Traceback (most recent call last):
    ...
    kernelcli.errors.UsageError: grp.zarr/img: is inside the Zarr store grp.zarr: kernelcli reads an array inside a group but writes a store of its own, never inside another; give --out a path outside grp.zarr
    """
    from .store_paths import enclosing_store

    store = enclosing_store(out, itself=folder)  # (None for a URL's store: the tiled path's checks, "holds the input" among them)
    if store is None:
        return
    from ..errors import OutputRefused, UsageError
    from .output_checks import store_problem

    named = "" if option == "--out" else f"{option} "
    problem = store_problem(out, [i for i in inputs if os.fspath(i) != "-"], [o for o in outputs if os.fspath(o) != "-"])
    if problem is not None:  # (inside the input: "write it outside the input store", as on the tiled path)
        raise OutputRefused(named + problem)
    where = "is the" if os.path.realpath(out) == os.path.realpath(store) else "is inside the"
    raise UsageError(f"{named}{os.fspath(out)}: {where} Zarr store {store}: kernelcli reads an array inside a group "
                     f"but writes a store of its own, never inside another; give {option} a path outside {store}")


def pasted_pattern(path: str | os.PathLike, tail: str = "") -> str:
    """A glob pattern, as advice gives it for a user to paste: ``path`` escaped so that it matches itself alone (its
    ``*``, ``?`` and ``[`` in brackets, :func:`glob.escape`), then ``tail``, all quoted as a shell needs (a ``'`` in a
    name closed the quotes).  The one spelling of every such advice.

    >>> print(pasted_pattern("x/d[1].zarr", "/**/*.png"), pasted_pattern("[ab].png"), pasted_pattern("it's", "/*.png"))
    'x/d[[]1].zarr/**/*.png' '[[]ab].png' 'it'"'"'s/*.png'
    """
    import glob

    return "'" + (glob.escape(os.fspath(path)) + tail).replace("'", "'\"'\"'") + "'"


def has_glob(text: str) -> bool:
    """True when ``text`` holds glob metacharacters (here, not in the batch planner: a single input's check asks too,
    without loading the planner).

    >>> has_glob("scans/**/*.png"), has_glob("scan.png")
    (True, False)
    """
    return any(c in text for c in "*?[")


def shell_word(path: str) -> str:
    """``path`` as one word of a shell command that advice gives, to run as written: quoted where it holds a space or a
    quote (``$(cat my k.csv)`` read two files), behind ``./`` where it starts with a dash (read as an option).

    >>> print(shell_word("kt.txt"), shell_word("my k.csv"), shell_word("it's.txt"), shell_word("-k.csv"))
    kt.txt 'my k.csv' 'it'"'"'s.txt' ./-k.csv
    """
    import shlex

    return shlex.quote(f"./{path}" if path.startswith("-") else path)
