"""Batch step 1's patterns: how a glob pattern among the inputs is read (:func:`expand`, as :func:`glob.glob` reads it,
``**`` walking each real folder once), which folders it reaches, and the patterns refused as reading two ways.

>>> glob_root("scans/*/*.png"), caret_classes("s/[^a].png")
(PosixPath('scans'), ['[^a]'])
"""

from __future__ import annotations

import fnmatch
import glob
import os
import re
import warnings
from collections.abc import Sequence
from pathlib import Path

from .errors import UsageError
from .io.naming import has_glob, pasted_pattern


def folders_reached(pattern: str) -> str | None:
    """A regular expression of the real folders a pattern's folder parts reach where one holds a wildcard (a
    folder made later among them), else None: the output folder must not be one (the results would be inputs of
    the same command run again).

    >>> import re; reach = folders_reached("/d/*/*.png")
    >>> bool(re.fullmatch(reach, os.path.realpath("/d") + "/o5")), bool(re.fullmatch(reach, os.path.realpath("/d") + "/o5/a"))
    (True, False)
    >>> folders_reached("d/*.png") is None
    True
    """
    parts = pattern.split("/")[:-1]
    first = next((k for k, part in enumerate(parts) if has_glob(part)), None)
    if first is None:
        return None
    root = os.path.realpath("/".join(parts[:first]) or ("/" if pattern.startswith("/") else "."))
    with warnings.catch_warnings():  # (as expand: glob's own reading)
        warnings.simplefilter("ignore")
        wild = _pattern_regex([part for part in parts[first:] if part])
    return re.escape(root.rstrip("/")) + "/" + wild


def linked_folders(pattern: str) -> list[tuple[str, str]]:
    """The folders a pattern's folder parts reach now through a link, as (link, real folder), a link to no folder
    yet too, where a part holds a wildcard: glob follows the link ('pt/*/*.png' reads pt/lnk -> ../elsewhere), so
    the output folder must not be one of them either.

    >>> linked_folders("/nonexistent/*/*.png"), linked_folders("d/*.png")
    ([], [])
    """
    reach = folders_reached(pattern)
    if reach is None:
        return []
    found = []
    for path in sorted(glob.glob(pattern.rsplit("/", 1)[0])):
        real = os.path.realpath(path)
        to_be = os.path.islink(path) and not os.path.exists(path)  # (the run would make the folder it names)
        if (os.path.isdir(path) or to_be) and not re.fullmatch(reach, real):
            found.append((path, real))
    return found


def refuse_two_readings(arg: str, recursive: bool = False) -> None:
    """Refuse an argument that names a file or folder and is a pattern that matches input files too (``[ab].png`` with
    a.png and b.png beside it was the one file, in silence).  A match the pattern's reading would not take (a folder,
    a file of no input type) is no other reading: a folder ``d[1]`` beside a folder ``d1`` is the folder (it was
    refused with advice that was refused too).  For a folder the advice is a pattern of its files (``recursive``:
    of the files below it too), as its name escaped alone matches the folder, which a pattern does not read."""
    if not has_glob(arg):
        return
    from .io.input_files import input_suffixes, is_input_file

    others = sorted(m for m in expand(arg) if os.path.normpath(m) != os.path.normpath(arg) and is_input_file(Path(m), hidden=True))
    if not others:
        return
    shown = ", ".join(others[:3]) + (f" and {len(others) - 3} more" if len(others) > 3 else "")
    if not os.path.isdir(arg):
        raise UsageError(f"{arg}: reads two ways: the file of that name, or the pattern that also matches {shown}; "
                         f"give {pasted_pattern(arg)} with --out-dir for the file alone (a pattern is a batch), or "
                         "rename it; or give the files by name")
    wildcard = "**/*" if recursive else "*"
    patterns = " ".join(pasted_pattern(arg.rstrip("/"), f"/{wildcard}{glob.escape(suffix)}")
                           for suffix in input_suffixes(Path(arg), below=recursive))
    advice = f"give {patterns} with --out-dir for its files (a pattern is a batch), or " if patterns else ""
    raise UsageError(f"{arg}: reads two ways: the folder of that name, or the pattern that also matches {shown}; "
                     f"{advice}rename it; or give the files by name")


def refuse_two_way_patterns(pattern: str) -> None:
    """Refuse a pattern that a shell and glob read differently, naming both readings (exit 2): a class that starts
    with '^' (:func:`refuse_caret_classes`), and a backslash before a wildcard (:func:`refuse_shell_escapes`)."""
    refuse_caret_classes(pattern)
    refuse_shell_escapes(pattern)


#: a backslash before a wildcard: a shell's, fnmatch(3)'s and find's escape; to glob, a backslash and the wildcard
_SHELL_ESCAPE = re.compile(r"\\([\[*?])")


def refuse_shell_escapes(pattern: str) -> None:
    r"""Refuse a pattern with a backslash before ``[``, ``*`` or ``?``: a shell (and fnmatch(3), ``find -name``) reads
    the character itself, glob a backslash then the wildcard (``'scan\[1\].png'`` was 'no files match' beside
    scan[1].png); the advice is the glob spelling of the shell's reading.

    >>> refuse_shell_escapes(r"scan\[1\].png")
    Traceback (most recent call last):
    ...
    kernelcli.errors.UsageError: scan\[1\].png: '\[' reads two ways: to glob a backslash then a class, to a shell a literal '['; write 'scan[[]1].png' to read it as a shell does
    """
    found = _SHELL_ESCAPE.search(pattern)
    if found is None:
        return
    char = found.group(1)
    what = {"[": "a class", "*": "any characters", "?": "any one character"}[char]
    spelled = re.sub(r"\\([\]\[*?])", lambda m: "]" if m.group(1) == "]" else f"[{m.group(1)}]", pattern)
    raise UsageError(f"{pattern}: '{found.group(0)}' reads two ways: to glob a backslash then {what}, to a shell a "
                     f"literal '{char}'; write {pasted_pattern('', spelled)} to read it as a shell does")


def refuse_caret_classes(pattern: str) -> None:
    """Refuse a pattern with a class that starts with '^', which reads two ways (see :func:`caret_classes`)."""
    carets = caret_classes(pattern)
    if carets:
        first = carets[0]
        body = first[2:-1]
        raise UsageError(f"{pattern}: {first} reads two ways: as glob reads it, '^' or one of {body!r}; as a shell reads "
                         f"it, none of {body!r}: write [{body}^] for the first, or [!{body}] for the second")



def expand(pattern: str, links: list[tuple[str, str]] | None = None) -> list[str]:
    """The paths ``pattern`` matches, as :func:`glob.glob` gives them; a ``**`` part walks its folder reading each real
    folder once, as ``--recursive`` does: glob follows every link, and two links back up the tree ('d/up' -> '..',
    'd2' -> 'd') made some 2**40 paths of one file, a run that never ended.  ``links`` gets each linked folder the
    walk went into, as (link, real folder).  A hidden name is matched by a part that starts with '.' alone, and
    ``**`` goes into no hidden folder (glob's rule): the walk goes into one only where a part could name it."""
    parts = pattern.split("/")
    if "**" not in parts:
        return glob.glob(pattern)
    with warnings.catch_warnings():  # (fnmatch's regex is glob's: a warning of re's would be glob's too)
        warnings.simplefilter("ignore")
        matcher = re.compile(_pattern_regex(parts))
    literal = []
    for part in parts[:-1]:  # the folders before the first wildcard, as typed ('./s', not Path's 's')
        if has_glob(part):
            break
        literal.append(part)
    start = "/".join(literal) or ("/" if pattern.startswith("/") else ".")
    bare = not literal  # glob's 'a.png' for '**/*.png', not './a.png'
    found: list[str] = []
    seen = {os.path.realpath(start)}
    hidden_named = any(part.startswith(".") for part in parts[len(literal):])
    for dirpath, dirnames, filenames in os.walk(start, followlinks=True):
        kept = []
        for d in sorted(dirnames):
            real = os.path.realpath(os.path.join(dirpath, d))
            if (hidden_named or not d.startswith(".")) and real not in seen:
                seen.add(real)
                kept.append(d)
                if links is not None and os.path.islink(os.path.join(dirpath, d)):
                    links.append((os.path.join(dirpath, d), real))
        dirnames[:] = kept
        for name in [*kept, *filenames]:
            path = os.path.join(dirpath, name)
            shown = os.path.relpath(path, ".") if bare else path
            if matcher.fullmatch(shown):
                found.append(shown)
    return found


def _pattern_regex(parts: list[str]) -> str:
    """A regular expression for a pattern's ``/``-separated parts: ``**`` any folders (none too), ``*`` and ``?``
    within a name, ``[...]`` a class (``[!...]`` its complement), as glob reads them: a hidden name (``.h.png``)
    only for a part that starts with '.', never for ``**``.

    >>> bool(re.fullmatch(_pattern_regex("s/**/*.png".split("/")), "s/a/b/x.png")), bool(re.fullmatch(_pattern_regex(["*.p?g"]), "a/x.png"))
    (True, False)
    >>> [bool(re.fullmatch(_pattern_regex(p.split("/")), "s/.h.png")) for p in ("s/*.png", "s/.*.png", "s/**")]
    [False, True, False]
    """
    out = []
    visible = r"(?!\.)[^/]+"  # a name that is not hidden
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if part == "**":
            out.append(f"(?:{visible}(?:/{visible})*)?" if last else f"(?:{visible}/)*")
            continue
        j, piece = 0, [] if part.startswith(".") else [r"(?!\.)"]
        while j < len(part):
            c = part[j]
            if c == "*":
                piece.append("[^/]*")
            elif c == "?":
                piece.append("[^/]")
            elif c == "[":
                close = _class_end(part, j)
                if close < 0:
                    piece.append(re.escape(c))
                else:
                    piece.append(_class_regex(part[j:close + 1]))
                    j = close
            else:
                piece.append(re.escape(c))
            j += 1
        out.append("".join(piece) + ("" if last else "/"))
    return "".join(out)


def _class_end(part: str, start: int) -> int:
    """The index of the ']' that closes the class opened at ``part[start]`` (after an optional '!' and a first
    ']', fnmatch's rule), or -1 where none does (the '[' is then a character).

    >>> _class_end("[]a]x", 0), _class_end("[!]", 0)
    (3, -1)
    """
    k = start + 1 + (part[start + 1:start + 2] == "!")
    k += part[k:k + 1] == "]"
    return part.find("]", k)


def _class_regex(text: str) -> str:
    """The regular expression of one class ``[...]`` as glob reads it (fnmatch's own translation: '^' and '['
    are characters, a reversed range matches nothing, '--' and '&&' are no set operations), never matching
    a '/' (a name's character).  The class body copied into a regex read ``[^a]`` as 'not a' (glob: '^' or
    'a'), and ``[z-a]`` was an internal error.

    >>> print(_class_regex("[^a]"), _class_regex("[!a]"), _class_regex("[z-a]"))
    [\\^a] [^a/] (?!)
    """
    inner = fnmatch.translate(text)[len("(?s:"):-len(")\\Z")]
    if inner == ".":  # (a negated empty class)
        return "[^/]"
    return inner[:-1] + "/]" if inner.startswith("[^") else inner


def caret_classes(pattern: str) -> list[str]:
    """The classes of ``pattern`` that start with '^' (``[^a]``): glob reads the '^' as a character, a shell
    as 'not'.

    >>> caret_classes("s/**/[^a]*.png"), caret_classes("[!a]*.png"), caret_classes("[a^].png")
    (['[^a]'], [], [])
    """
    found = []
    for part in pattern.split("/"):
        j = 0
        while j < len(part):
            close = _class_end(part, j) if part[j] == "[" else -1
            if close >= 0:
                if part[j + 1:j + 2] == "^":
                    found.append(part[j:close + 1])
                j = close
            j += 1
    return found


def glob_root(pattern: str) -> Path:
    """The leading folders of a pattern, up to the first part with a wildcard; a part whose wildcards are all escaped
    (``d[[]1].zarr``, as :func:`glob.escape` and kernelcli's advice write ``d[1].zarr``) is the folder it names (the
    advised pattern mirrored the folder under ``--out-dir`` again, and was refused as the pattern it replaced was).

    >>> glob_root("scans/2024/**/*.png"), glob_root("*.png"), glob_root("x/d[[]1].zarr/**/*.png")
    (PosixPath('scans/2024'), PosixPath('.'), PosixPath('x/d[1].zarr'))
    """
    parts = Path(pattern).parts
    root: list[str] = []
    for part in parts[:-1]:
        if has_glob(_ESCAPED.sub("", part)):
            break
        root.append(_ESCAPED.sub(r"\1", part))
    return Path(*root) if root else Path(".")


#: a wildcard character escaped in brackets, as :func:`glob.escape` writes it
_ESCAPED = re.compile(r"\[([*?[])\]")


def refuse_unmatched(args: Sequence[str | os.PathLike], *, one_file: str | None = None) -> None:
    """Refuse a pattern among ``args`` (one that is no path) that matches nothing, naming it, as :func:`discover`
    does: before ``--out``'s refusal of several inputs, whose advice (``--out-dir``) led to this refusal next.  With
    ``one_file`` (the command, which reads one file and expands no pattern), one that matches files is refused too.

    >>> refuse_unmatched(["nosuch*.png"])
    Traceback (most recent call last):
    ...
    kernelcli.errors.UsageError: nosuch*.png: no files match this pattern
    """
    for raw in args:
        arg = os.fspath(raw)
        if arg == "-" or os.path.lexists(arg) or not has_glob(arg):
            continue
        refuse_two_way_patterns(arg)
        matches = sorted(expand(arg))
        if not matches:
            raise UsageError(f"{arg}: no files match this pattern")
        if one_file is not None:
            shown = ", ".join(matches[:3]) + (f" and {len(matches) - 3} more" if len(matches) > 3 else "")
            raise UsageError(f"{arg}: no such file; {one_file} reads one file and expands no pattern (this one matches "
                             f"{shown}): give one by name")


def may_name(arg: str | os.PathLike, report: str | os.PathLike, recursive: bool = False) -> bool:
    """Whether the folder or pattern ``arg`` (:func:`kernelcli.batch_plan.is_batch_argument`) may name the existing
    ``report`` among its inputs while they are not listed yet: a folder that holds it (at its top, or at any depth
    ``recursive``), a pattern that matches it (review 250 #2: ``bb/*.png`` or the folder ``bb`` kept ./rb.json, which
    neither can name).

    >>> here = os.path.dirname(__file__)
    >>> may_name("nosuch*.png", __file__), may_name(here, __file__), may_name(os.path.dirname(here), __file__)
    (False, True, False)
    """
    text, real = os.fspath(arg), os.path.realpath(report)
    if os.path.isdir(text):
        folder = os.path.realpath(text)
        return os.path.dirname(real) == folder or (recursive and real.startswith(folder.rstrip(os.sep) + os.sep))
    return any(os.path.realpath(match) == real for match in expand(text))
