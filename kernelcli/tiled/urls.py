"""Zarr stores behind fsspec URLs on the tiled path: ``s3://bucket/scan.zarr``, ``gs://``, ``file://``, ``memory://``.

``kernelcli convolve s3://bucket/big.zarr -k gaussian:3 -o s3://bucket/out.zarr`` reads and
writes through fsspec (zarr opens the URL with its fsspec store), which the [distributed]
extra installs (``file://`` URLs are local paths); a protocol's own package (``s3fs`` for ``s3://``, ``gcsfs`` for ``gs://``) is
named with exit 2 when it is missing.  Credentials come from where fsspec looks for them
(environment, configuration files), never from the command line.

Object storage cannot rename, so an output store there is written in place, as dask's
``to_zarr`` and the OME-Zarr tools write it: an existing one is refused (exit 4) unless
``--force`` (which removes it first), and a run that fails or is interrupted removes what it
wrote; while a run is under way a reader may see a partial array.

Standard library only at module level.

Example
-------
>>> as_url("s3://bucket/scan.zarr"), as_url("s3:/bucket/scan.zarr"), as_url("scans/a.zarr")
('s3://bucket/scan.zarr', 's3://bucket/scan.zarr', None)
>>> as_url("file:///tmp/a.zarr"), as_url("local:///tmp/a.zarr")
('file:///tmp/a.zarr', 'file:///tmp/a.zarr')
>>> as_url("file://a.zarr") == f"file://{os.getcwd()}/a.zarr"  # (fsspec's reading: relative to the current folder)
True
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from . import require

#: fsspec's names of the local file system: their URLs are local paths (``local:///tmp/a`` is ``/tmp/a``)
LOCAL = ("file", "local")
#: ``scheme:/`` or ``scheme://`` at the start (two letters at least: never a drive letter); or ``file:`` / ``local:``
#: followed by a name (no '/'), which reads two ways (:func:`refuse_bare_local`)
_SCHEME = re.compile(r"^(?:([A-Za-z][A-Za-z0-9+.-]+):/+|(file|local):)")
#: a URL as typed: ``scheme://`` (a ``Path`` folds it into ``scheme:/``)
_UNFOLDED = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+://")


def as_url(path: Any) -> str | None:
    """The URL a command-line path spells, or None for a local path.

    The command line hands paths over as ``pathlib.Path``, which folds ``s3://b/k`` into
    ``s3:/b/k``; both spellings give the URL back.  A ``file://`` (or ``local://``) URL is
    given back as the absolute ``file:///...`` of the local path fsspec reads it as
    (:func:`local_path`).
    """
    if path is None:
        return None
    text = str(path)
    match = _SCHEME.match(text)
    if match is None:
        return None
    if match.group(2):  # (file:NAME: a name, as zarr and the file system read it; the command line refuses it)
        return None
    scheme, rest = match.group(1).lower(), text[match.end():]
    return f"file://{local_path(text)}" if scheme in LOCAL else f"{scheme}://{rest}"


def refuse_bare_local(text: str) -> None:
    """Refuse (exit 2) ``file:NAME`` or ``local:NAME`` (no '/' after the colon) as typed, which reads two ways: fsspec's
    LocalFileSystem strips ``file:`` as it strips ``file://`` (so dask's ``from_zarr`` reads ./NAME), where zarr's own
    stores and the file system take the whole text as a name (``zarr.open_array("file:x.zarr")`` finds no ./x.zarr).
    kernelcli took the name, and wrote a store that ``dask.array.from_zarr`` of the same text did not find.  Refused
    where the text is seen as typed (:func:`command_line_path`, :func:`refuse_url`); a ``Path`` so named is the name
    (``./file:x.zarr``, as advised: pathlib drops the ``./``).  The URL's reading is advised as the local path it names,
    which every option takes: ``file://q.png`` was advised where a URL output is refused (a .png, a volume's output).

    >>> refuse_bare_local("file:x.zarr")
    Traceback (most recent call last):
    ...
    kernelcli.errors.UsageError: file:x.zarr: reads two ways: as a URL, ./x.zarr (fsspec and dask read it so), or as the name of a file or folder file:x.zarr (zarr and the file system read it so): write ./x.zarr for the path the URL names, or ./file:x.zarr for the name
    """
    from ..errors import UsageError

    rest = text.split(":", 1)[1]
    path = rest if rest.startswith("~") else f"./{rest}"
    raise UsageError(f"{text}: reads two ways: as a URL, {path} (fsspec and dask read it so), or as the name of a file or "
                     f"folder {text} (zarr and the file system read it so): write {path} for the path the URL names, or ./{text} "
                     "for the name")


def local_path(url: str) -> str:
    """The local path of a ``file:`` or ``local:`` URL, read exactly as fsspec reads it (its ``LocalFileSystem``):
    what follows ``file://`` (or ``file:``) is the path, so ``file://x.zarr`` is ``./x.zarr`` and ``file:///x.zarr``
    (or ``file:/x.zarr``) is ``/x.zarr``; a relative one is made absolute from the current folder, ``~`` is the home
    folder.  (RFC 8089 would make ``x.zarr`` a host; zarr, dask and fsspec read it as a relative path, so kernelcli
    does too: every path to the same place.)

    >>> local_path("file:///tmp/a.zarr"), local_path("file:/tmp/a.zarr"), local_path("local:///tmp/a.zarr/")
    ('/tmp/a.zarr', '/tmp/a.zarr', '/tmp/a.zarr')
    >>> local_path("file://scans/a.zarr") == os.path.join(os.getcwd(), "scans/a.zarr")
    True
    """
    rest = url.split(":", 1)[1]
    rest = rest[2:] if rest.startswith("//") else rest
    if rest.startswith("~"):
        rest = os.path.expanduser(rest)
    elif not rest.startswith("/"):
        rest = f"{os.getcwd()}/{'' if rest == '.' else rest.removeprefix('./')}"
    return rest.rstrip("/") or "/"


class URLPath(type(Path())):
    """A command-line path that is a URL, as the command line hands it over (a ``Path``), with ``typed``: the URL as
    typed, for messages.  Its own text is the path's, folded (``s3:/b/x``), but never ambiguous: a ``file://`` URL's
    is its absolute local path (``file:/...``), as ``Path`` would fold ``file://x`` and ``file:///x`` alike.

    >>> given = command_line_path("file://x.zarr")
    >>> given.typed, str(given) == f"file:{os.getcwd()}/x.zarr"
    ('file://x.zarr', True)
    >>> command_line_path("s3://b/x.zarr"), command_line_path("a.png")
    (URLPath('s3:/b/x.zarr'), PosixPath('a.png'))
    """

    typed = ""


def command_line_path(text: str) -> Path:
    """``Path(text)``, or a :class:`URLPath` where ``text`` is a URL (``file:NAME`` refused: :func:`refuse_bare_local`)."""
    match = _SCHEME.match(text)
    if match is None:
        return Path(text)
    if match.group(2):
        refuse_bare_local(text)
    given = URLPath(f"file:{local_path(text)}" if match.group(1).lower() in LOCAL else text)
    given.typed = text
    return given


def typed_url(path: Any) -> str | None:
    """The URL ``path`` spells, as typed where the command line kept it (:class:`URLPath`), else :func:`as_url`'s.

    A text with its ``//`` is as typed too (a kernel file's ``-k`` text, which no ``Path`` folded).

    >>> typed_url(command_line_path("file://x.zarr")), typed_url("file://k.json"), typed_url("s3:/b/x"), typed_url("x.png")
    ('file://x.zarr', 'file://k.json', 's3://b/x', None)
    """
    url = as_url(path)
    if url is None:
        return None
    return getattr(path, "typed", "") or (path if isinstance(path, str) and _UNFOLDED.match(path) else url)


def resolve(path: Any) -> Any:
    """A command-line path as the tiled path uses it: a ``Path`` for a local path or a ``file://``
    URL (written atomically, as any local output), the URL string for any other protocol.

    >>> resolve("file:///tmp/a.zarr"), resolve("memory://b/a.zarr")
    (PosixPath('/tmp/a.zarr'), 'memory://b/a.zarr')
    """
    from pathlib import Path

    url = as_url(path)
    if url is None:
        return path
    if url.startswith("file://"):
        return Path(url[len("file://"):])
    return url


def refuse_url(path: Any, what: str, fix: str = "give a local path", option: str = "") -> None:
    """Refuse (exit 2) a URL where kernelcli takes a local path alone (``what`` says why), naming it as typed (the
    command line's ``Path`` folded ``s3://`` into ``s3:/``, which was then made as the local folder ``./s3:``) and
    ``option`` first where one is given; a ``file://`` URL is told the local path it spells (:func:`local_path`).

    >>> refuse_url("o/r.json", "the report is a file"), refuse_url(None, "the report is a file")
    (None, None)
    >>> refuse_url("s3:/b/r.json", "the report is a file", option="--report")
    Traceback (most recent call last):
    ...
    kernelcli.errors.UsageError: --report s3://b/r.json: is a URL, and the report is a file: give a local path
    """
    if isinstance(path, str) and _SCHEME.match(path) and _SCHEME.match(path).group(2):  # (a text as typed: -k file:k.json)
        refuse_bare_local(path)
    url = as_url(path)
    if url is None:
        return
    from ..errors import UsageError

    if url.startswith("file://"):
        fix = f"give it as the local path {url[len('file://'):]}"
    raise UsageError(f"{option + ' ' if option else ''}{typed_url(path)}: is a URL, and {what}: {fix}")


def filesystem(url: str) -> tuple[Any, str]:
    """``(fsspec filesystem, path within it)`` for ``url``; a missing protocol package exits 2 naming it."""
    from ..errors import MissingExtra, UsageError

    fsspec = require("fsspec", url)
    try:
        return fsspec.core.url_to_fs(url)
    except ImportError as exc:  # fsspec: "Install s3fs to access S3"; 'HTTPFileSystem requires "requests" and "aiohttp"'
        named = re.search(r"[Ii]nstall (\S+)", str(exc))
        quoted = re.findall(r'"([A-Za-z0-9_.-]+)"', str(exc)) if "requires" in str(exc) else []
        packages = [named.group(1)] if named else quoted or ["the package for this protocol"]
        raise MissingExtra(f"{url}: the {url.split(':', 1)[0]}:// protocol needs {' and '.join(packages)}, which "
                           f"{'is' if len(packages) == 1 else 'are'} not installed: pip install {' '.join(packages)}") from None
    except ValueError as exc:  # an unknown protocol
        raise UsageError(f"{url}: {' '.join(str(exc).split())}") from None


def exists(url: str) -> bool:
    """True when something is stored at ``url``."""
    fs, path = filesystem(url)
    return bool(fs.exists(path))


def is_folder(url: str) -> bool:
    """True when ``url`` is a folder (an array or group inside a Zarr store) on its filesystem.

    >>> is_folder("memory://nothing_here.zarr/img")
    False
    """
    fs, path = filesystem(url)
    try:
        return bool(fs.isdir(path))
    except OSError:  # (refused or unreachable: no folder to read; opening it says why)
        return False


def remove(url: str) -> None:
    """Remove the store at ``url``, also while cancelled tiles still finish (repeated until it stays gone)."""
    import time

    fs, path = filesystem(url)
    gone = 0
    for _ in range(100):
        try:
            if fs.exists(path):
                fs.rm(path, recursive=True)
        except (OSError, FileNotFoundError):
            pass
        gone = gone + 1 if not fs.exists(path) else 0
        if gone >= 3:
            return
        time.sleep(0.05)
