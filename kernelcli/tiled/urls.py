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
"""

from __future__ import annotations

import re
from typing import Any

from . import require

#: fsspec's names of the local file system: their URLs are local paths (``local:///tmp/a`` is ``/tmp/a``)
LOCAL = ("file", "local")
#: ``scheme:/`` or ``scheme://`` at the start (two letters at least: never a drive letter)
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]+):/+")


def as_url(path: Any) -> str | None:
    """The URL a command-line path spells, or None for a local path.

    The command line hands paths over as ``pathlib.Path``, which folds ``s3://b/k`` into
    ``s3:/b/k``; both spellings give the URL back.
    """
    if path is None:
        return None
    text = str(path)
    match = _SCHEME.match(text)
    if match is None:
        return None
    scheme, rest = match.group(1).lower(), text[match.end():]
    return f"file:///{rest}" if scheme in LOCAL else f"{scheme}://{rest}"


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
    ``option`` first where one is given; a ``file://`` URL is told the local path it spells.

    >>> refuse_url("o/r.json", "the report is a file"), refuse_url(None, "the report is a file")
    (None, None)
    >>> refuse_url("s3:/b/r.json", "the report is a file", option="--report")
    Traceback (most recent call last):
    ...
    kernelcli.errors.UsageError: --report s3://b/r.json: is a URL, and the report is a file: give a local path
    """
    url = as_url(path)
    if url is None:
        return
    from ..errors import UsageError

    if url.startswith("file://"):
        fix = f"give it as the local path {url[len('file://'):]}"
    raise UsageError(f"{option + ' ' if option else ''}{url}: is a URL, and {what}: {fix}")


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
