"""Chunked files in and out: Zarr (v2 and v3), OME-Zarr, TIFF, .npy, as dask arrays.

Reading never loads the whole image: a Zarr array (or an OME-Zarr group's highest-resolution
level, ``multiscales[0].datasets[0]``, its axes giving the layout) through
``dask.array.from_zarr``; a TIFF's first page (tiled, striped or BigTIFF) through tifffile's
Zarr store (``imread(aszarr=True)``), converted as the in-memory reader converts it (palette,
1-bit, MinIsWhite, alpha: :func:`kernelcli.tiled.tiff.tiff_reading`) or refused; a ``.npy`` through a read-only
memory map.

Writing: a ``.zarr`` output is written chunk by chunk (each chunk one file of the store)
into a temporary folder beside the destination, renamed into place when every chunk is
there, so the destination is either absent or complete; the installed zarr's default
format is used (v3 for zarr 3, v2 for zarr 2).  A ``.npy`` output is streamed band by
band through :func:`kernelcli.io.outputs.atomic_write`.

Example
-------
>>> is_chunked("scan.zarr"), is_chunked("scan.png")
(True, False)
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..io.input_files import named_only_words
from ..io.store_paths import enclosing_store, is_store_node, named_only, read_metadata
from . import require
from .reading import ChunkReads, codec_refusal, naming_missing_codecs
from .tiff import missing_codec, neither_reads, read_in_memory, tiff_reading

#: suffixes read and written as chunked stores
CHUNKED_SUFFIXES = (".zarr",)
#: inputs the tiled path can read without loading them whole
TILED_INPUTS = (".zarr", ".tif", ".tiff", ".npy")
#: the TIFF suffixes: read with tifffile's store, which stays in this process (it cannot be pickled)
TIFF_SUFFIXES = (".tif", ".tiff")
#: outputs the tiled path writes without holding them whole
TILED_OUTPUTS = (".zarr", ".npy")


def is_chunked(path: Any) -> bool:
    """True for a path a chunked store lives at (``.zarr``), existing or not, or an existing node inside one (an
    array of a group: ``grp.zarr/img``, as the refusal of a group of several arrays advises; the store found as
    :func:`enclosing_store` finds it, where the folder really is); a plain folder inside a store is a folder.

    >>> is_chunked("grp.zarr/not_there"), is_chunked("scan.zarr")
    (False, True)
    """
    from . import urls
    from .urls import as_url

    if path is None or str(path) == "-":
        return False
    p = Path(str(path).rstrip("/"))
    if p.suffix.lower() in CHUNKED_SUFFIXES:
        return True
    url = as_url(path)
    if url is not None:  # (a node inside a store behind a URL: asked of the URL's filesystem, not the local disk)
        return in_store_by_name(p) and urls.is_folder(url)
    return p.is_dir() and enclosing_store(p) is not None and is_store_node(p)  # (a plain folder in it: a folder)


def in_store_by_name(path: Any) -> bool:
    """True when a folder above ``path`` is named as a Zarr store (``grp.zarr/img``, ``s3:/b/slide.ome.zarr/0``).

    >>> in_store_by_name(Path("s3:/b/grp.zarr/img")), in_store_by_name(Path("s3:/b/img"))
    (True, False)
    """
    return any(parent.suffix.lower() in CHUNKED_SUFFIXES for parent in Path(str(path)).parents)


def is_store_input(path: Any) -> bool:
    """True for an input read as one Zarr store or an array of one: a path :func:`is_chunked` takes, or an existing
    folder that is a store itself though named otherwise (a group found by its metadata: ``plaingrp``) or reached
    through a link (``linkgrp`` -> ``grp.zarr``), as the batch's planner and the reader take it.  (An output is
    :func:`is_chunked`'s: an existing folder given as ``--out`` is no store to write.)

    >>> is_store_input("scan.zarr"), is_store_input("scan.png"), is_store_input("/dev")
    (True, False, False)
    """
    from .urls import as_url

    if is_chunked(path):
        return True
    return path is not None and str(path) != "-" and as_url(path) is None and Path(str(path)).is_dir() \
        and is_store_node(path)


def note_name(path: Any) -> str:
    """A path or URL as a note names it: its last part, or from the Zarr store's folder on for an array inside one
    (``img`` is no path the user gave).

    >>> note_name("scans/grp.zarr/img"), note_name("s3://bucket/slide.zarr/"), note_name("data/x.npy")
    ('grp.zarr/img', 'slide.zarr', 'x.npy')
    """
    parts = Path(str(path).rstrip("/")).parts
    store = enclosing_store(path, itself=True)  # (a group named otherwise too: plaingrp/img; None for a URL)
    if store is not None and store.parts == parts[: len(store.parts)]:
        return "/".join(parts[len(store.parts) - 1 :])
    for i, part in enumerate(parts[:-1]):  # (the outermost store: a store is never written inside another)
        if part.lower().endswith(CHUNKED_SUFFIXES):
            return "/".join(parts[i:])
    return parts[-1] if parts else str(path)


def refuse_store_input(path: Any, command: str, reads: str | None = None) -> None:
    """Refuse (exit 2) a Zarr store, or an array in one (``grp.zarr/img``; a group found by its metadata too, as
    :func:`enclosing_store` finds it), given to ``command``, which reads one image file in memory: said so, where the
    regular-file check read it as a mistaken folder ("not a regular file (a directory)").  Anything else passes (a
    missing path is "no such file" later, as for every input).  ``reads``: what the option reads instead and how to
    give it, where that is not an image file (``--mask``: a volume).

    >>> refuse_store_input("nosuch.zarr", "gallery")
    """
    if path is None or str(path) == "-" or not is_store_input(path) or not Path(str(path)).is_dir():
        return
    from ..errors import UsageError

    if named_only(path):  # (no store: not "save the array as .npy")
        raise UsageError(f"{path}: a folder named as a Zarr store is (it holds no Zarr metadata): no store, and "
                         f"{command} reads one file, not a folder")
    store = enclosing_store(path, itself=True) or Path(str(path))  # named by its metadata too, through links
    what = "a Zarr store" if os.path.samefile(store, path) else f"an array in the Zarr store {store}"
    reads = reads or f"{command} reads one image file in memory: save the array as .npy (numpy.save) to give it here"
    raise UsageError(f"{path}: {what}, which convolve, pad and pool read tile by tile; {reads}")


def is_array_store(folder: Any) -> bool:
    """True when the folder ``folder`` (a path, or an fsspec URL string) is one Zarr array (v2 ``.zarray``, or v3
    ``zarr.json`` of an array) and holds nothing but its own metadata and chunks: what kernelcli writes, and what
    ``--force`` may replace; a group holds other arrays, and an array with a ``notes.txt`` or a store inside it was
    deleted whole.

    >>> is_array_store("/nonexistent.zarr"), is_array_store("memory://nonexistent.zarr")
    (False, False)
    """
    import json
    import re

    try:
        names, read = _store_listing(folder)
        if ".zarray" not in names and json.loads(read("zarr.json")).get("node_type") != "array":
            return False
    except (OSError, ValueError, AttributeError):  # (FileNotFoundError, a bad zarr.json, a JSON list)
        return False
    own = {".zarray", ".zattrs", ".zmetadata", "zarr.json", "c"}  # metadata, and v3's chunk folder
    return all(name in own or re.fullmatch(r"[0-9]+([./][0-9]+)*", name) for name in names)  # chunk keys


def holds_anything(folder: Any) -> bool:
    """True when the folder ``folder`` (a path, or an fsspec URL string) holds any entry.

    >>> import tempfile; holds_anything(tempfile.mkdtemp())
    False
    """
    return bool(_store_listing(folder)[0])


def _store_listing(folder: Any) -> tuple[list[str], Any]:
    """``(the names in folder, read(name) -> bytes)`` for a local folder or an fsspec URL string."""
    from . import urls

    if isinstance(folder, str) and urls.as_url(folder) is not None:
        fs, root = urls.filesystem(urls.as_url(folder))
        root = root.rstrip("/")
        names = [entry.rstrip("/").rsplit("/", 1)[-1] for entry in fs.ls(root, detail=False)]
        return names, lambda name: fs.cat_file(f"{root}/{name}")
    root = Path(folder)
    return os.listdir(root), lambda name: read_metadata(root / name)


#: what a TIFF with an alpha sample is said to lose on the tiled path (its record counts the alpha in the input's shape)
ALPHA_DROPPED = "; its alpha channel is dropped (a tiled output holds the filtered channels alone)"


def refuse_untileable(path: Any, advice: str) -> None:
    """Refuse (exit 2) a file the tiled path cannot read: a store is a folder (or a URL), and of files only .npy and
    TIFF are read tile by tile; a PNG, a JPEG, a text matrix ... is read in memory.  Checked before the output is
    named: a matrix's default output (.csv) was refused first, as 'an image format needs the whole result in memory'."""
    from ..errors import ImageReadError

    if isinstance(path, Path) and path.is_file() and path.suffix.lower() not in (".npy", *TIFF_SUFFIXES):
        raise ImageReadError(f"{path}: the tiled path reads Zarr stores, TIFF and .npy; this file is none of them: {advice}")


def refuse_untileable_url(path: Any) -> None:
    """Refuse (exit 2) a URL input the tiled path cannot read, named as typed, before its output is named: of other
    URLs it reads Zarr stores alone, and a ``file://`` URL is a local path, read tile by tile where that path would be
    (a store, TIFF, .npy).  (``convolve s3://b/x.png -o q.png`` was refused for its output, "a Zarr input is read tile
    by tile only".)

    >>> refuse_untileable_url("s3://b/x.zarr"), refuse_untileable_url("x.png")
    (None, None)
    >>> refuse_untileable_url(Path("s3://b/x.png"))
    Traceback (most recent call last):
    ...
    kernelcli.errors.UsageError: s3://b/x.png: is a URL, and a URL input is a Zarr store (.zarr), read tile by tile: copy other files to a local path first
    """
    from . import urls

    url = urls.as_url(path)
    if url is None:
        return
    if url.startswith("file://"):
        local = Path(urls.local_path(url))
        if not local.is_file() or local.suffix.lower() in (".npy", *TIFF_SUFFIXES):  # (a store is a folder)
            return
        urls.refuse_url(path, "a file:// URL is read tile by tile, which reads Zarr stores, TIFF and .npy")
    if not (in_store_by_name(url) or is_chunked(url)):  # (in that order: a node in a store is asked of its filesystem)
        urls.refuse_url(path, "a URL input is a Zarr store (.zarr), read tile by tile", "copy other files to a local path first")


def refuse_untileable_url_output(out: Any) -> None:
    """Refuse (exit 2) a URL output the tiled path cannot write, named as typed, before the input is checked (its
    advice named options never given: ``-o file://q.png`` was told to "leave out --tiled/--chunks"): a URL output is
    written tile by tile, a ``file://`` one as its local path would be (.zarr or .npy; told that path), any other a
    Zarr store alone (:func:`refuse_untileable_url`'s words for an input).

    >>> refuse_untileable_url_output("s3://b/x.zarr"), refuse_untileable_url_output("x.png")
    (None, None)
    >>> refuse_untileable_url_output(Path("memory://b/x.png"))
    Traceback (most recent call last):
    ...
    kernelcli.errors.UsageError: memory://b/x.png: is a URL, and a URL output is a Zarr store (.zarr), written tile by tile: write other files to a local path
    """
    from . import urls

    url = urls.as_url(out)
    if url is None:
        return
    if url.startswith("file://"):
        if Path(urls.local_path(url)).suffix.lower() not in TILED_OUTPUTS:
            urls.refuse_url(out, "a file:// URL output is written tile by tile, which writes .zarr and .npy")
    elif not is_chunked(url):
        urls.refuse_url(out, "a URL output is a Zarr store (.zarr), written tile by tile", "write other files to a local path")


def open_array(path: Path, advice: str = "leave out --tiled/--chunks", max_pixels: int | None = None) -> tuple[Any, str, Any, Any]:
    """The input as a lazy dask array: ``(array, description for a note, close, declared)``; call ``close()`` when done.

    ``declared`` is what a Zarr array's axes declare (:class:`kernelcli.tiled.axes.Declared`), else None.
    A TIFF is read with the in-memory reader's meaning (:func:`kernelcli.tiled.tiff.tiff_reading`), or refused; one of more
    pixels than ``max_pixels`` (``--max-pixels`` given) is refused as in memory.
    Raises ImageReadError (exit 2) naming the path when it holds no readable array; ``advice``
    ends a refusal (what to do instead of the tiled path).
    """
    from ..errors import ImageReadError, KernelcliError
    from . import urls

    url = urls.as_url(path)
    if url is not None:
        return _open_url(url)
    if not path.exists():  # said first, whether or not dask is installed (it asked for dask before)
        raise ImageReadError(f"{path}: no such file")
    da = require("dask.array", f"reading {path.name} tile by tile")
    suffix = path.suffix.lower()
    if suffix == ".npy":
        from ..io.arrays import map_npy
        from ..io.common import stat_input

        stat_input(path)  # ("cannot read as .npy: [Errno 2] No such file or directory")
        data = map_npy(path)  # refused in the in-memory reader's words (an object array, an .npz, a 1-D array)
        from .reading import NpyReads, npy_blocks

        # read block by block from the path (not a memory map dask would pickle whole into a cluster's graph),
        # in blocks of about a default tile (dask's "auto" made 128 MiB ones, every tile cut from one)
        reads = NpyReads(path, data.shape, data.dtype)
        return (da.from_array(reads, chunks=npy_blocks(data.shape, data.dtype.itemsize), asarray=False, fancy=False),
                ".npy", _nothing, None)
    if suffix in TIFF_SUFFIXES:
        tifffile = require("tifffile", f"reading {path.name} tile by tile")
        zarr = require("zarr", f"reading {path.name} tile by tile")
        store = None
        try:
            with tifffile.TiffFile(path) as tif:
                page = tif.pages[0]
                missing = missing_codec(page)
                convert, problem = tiff_reading(page)
                leads_somewhere = problem is None or read_in_memory(path, page)  # (leaving the tiled path is a way out)
                pages = len(tif.pages)
                pixels = int(tif.pages[0].imagelength) * int(tif.pages[0].imagewidth)
                alpha = tuple(int(e) for e in (tif.pages[0].extrasamples or ())) == (2,)
                unit = "tile" if tif.pages[0].is_tiled else "strip"
            if max_pixels is not None and pixels > max_pixels:
                from ..io.decode import bomb_refusal

                raise bomb_refusal(path, f"{pixels} pixels, more than the limit of {max_pixels}")
            if missing is not None:
                raise ImageReadError(f"{path}: {missing}, which tifffile decodes only with the imagecodecs package: "
                                     f"pip install imagecodecs to read it tile by tile, or {advice}")
            if not leads_somewhere:
                raise neither_reads(path, problem)
            if problem is not None:
                raise ImageReadError(f"{path}: {problem}: the tiled path cannot read it as the in-memory reader does; "
                                     f"convert it first (to .npy, .zarr or an 8-bit grey or RGB TIFF), or {advice}")
            store = tifffile.imread(path, aszarr=True, key=0)  # the first page, as in memory
            node = zarr.open(store, mode="r")
            array, what = _array_in(node, path)
        except Exception as exc:  # tifffile raises many kinds for a bad file
            if store is not None:
                store.close()
            if isinstance(exc, KernelcliError):
                raise
            raise ImageReadError(f"{path}: cannot read as TIFF: {' '.join(str(exc).split())}") from None
        if pages > 1:
            what += f"; {pages} pages, using the first"
        if alpha:  # as in memory for a .npy output: a tiled output (.npy, .zarr) holds the result alone
            what += ALPHA_DROPPED
        tiles = ChunkReads(array, path, unit=unit)  # (a damaged tile is found when dask reads it)
        return convert(da.from_array(tiles, chunks=tiles.chunks, asarray=False, fancy=False)), f"TIFF{what}", store.close, None
    if named_only(path):  # (zarr's "No group found in store StorePath(...)" said what it is not, not what it is)
        raise ImageReadError(f"{path}: not a Zarr store: {named_only_words(path, out_dir=True)}")
    zarr = require("zarr", f"reading {note_name(path)}")
    if not path.exists():
        raise ImageReadError(f"{path}: no such file")
    refuse_untileable(path, advice)
    root = os.path.abspath(path)  # a cluster's workers open it: from their own folder, a relative path is another store
    try:
        node = zarr.open(root, mode="r")
    except Exception as exc:  # zarr raises several kinds for a folder that is no store
        raise codec_refusal(path, exc) or ImageReadError(f"{path}: not a Zarr store: {' '.join(str(exc).split())}") from None
    with naming_missing_codecs(path):  # (an OME-Zarr level, a group's array: opened here)
        array, what, layout = _array_in(node, path, with_layout=True)
    return da.from_array(ChunkReads(array, path, root=root), chunks=array.chunks, asarray=False, fancy=False), f"Zarr{what}", \
        _nothing, layout


def _nothing() -> None:
    return None


def _open_url(url: str) -> tuple[Any, str, Any, Any]:
    """:func:`open_array` of a Zarr store behind an fsspec URL (see :mod:`kernelcli.tiled.urls`)."""
    from ..errors import ImageReadError, UsageError
    from . import urls

    if not is_chunked(url):
        if in_store_by_name(url) and not urls.exists(url):  # (an array of a group not there: not "copy it")
            raise ImageReadError(f"{url}: no such store")
        raise UsageError(f"{url}: a URL input on the tiled path is a Zarr store (.zarr); "
                         "copy other files to a local path first")
    da = require("dask.array", f"reading {url}")
    zarr = require("zarr", f"reading {url}")
    if not urls.exists(url):
        raise ImageReadError(f"{url}: no such store")
    try:
        node = zarr.open(url, mode="r")
    except Exception as exc:  # zarr and the filesystem raise several kinds for what is no store
        raise codec_refusal(url, exc) or ImageReadError(f"{url}: not a Zarr store: {' '.join(str(exc).split())}") from None
    with naming_missing_codecs(url):
        array, what, layout = _array_in(node, url, with_layout=True)
    return da.from_array(ChunkReads(array, url), chunks=array.chunks, asarray=False, fancy=False), f"Zarr{what}", _nothing, layout


def _array_in(node: Any, path: Path, with_layout: bool = False) -> tuple:
    """The array of a Zarr node: itself, an OME-Zarr group's first (highest-resolution) level, or a group's only array.

    ``(array, what)``, or with ``with_layout`` ``(array, what, declared)``: what its axes declare
    (:class:`kernelcli.tiled.axes.Declared`: OME-Zarr axes, kernelcli's ``axes`` attribute, Zarr v3
    ``dimension_names``, xarray's ``_ARRAY_DIMENSIONS``), else None.
    """
    from ..errors import ImageReadError
    from . import axes

    declared = None
    if hasattr(node, "shape") and hasattr(node, "dtype"):
        # (a volume of 3 slices was read as an image of 3 channels: another computation, exit 0)
        array, named, declared = axes.of_array(node, path)
        what = f" ({named})" if named else ""
    else:
        attrs = dict(node.attrs)
        multiscales = attrs.get("multiscales") or (attrs.get("ome") or {}).get("multiscales")
        arrays = [] if multiscales else sorted(name for name, _ in node.arrays())
        if multiscales:
            level = multiscales[0]["datasets"][0]["path"]
            names = [a["name"] if isinstance(a, dict) else str(a) for a in multiscales[0].get("axes", [])]
            array, layout = axes.drop_singletons(node[level], names, path)
            declared = axes.Declared(layout, "Zarr axes") if names else None
            what = f" (OME-Zarr level {level!r}, the highest resolution)"
        elif len(arrays) == 1:  # read as its own path is (grp.zarr/img): the axes it declares give the layout
            array, named, declared = axes.of_array(node[arrays[0]], path)
            what = f" (array {arrays[0]!r}{'; ' + named if named else ''})"
        else:
            listed = ", ".join(arrays) if arrays else "none"
            inner = arrays[0] if arrays else _first_array(node)
            where = f"a Zarr group with {len(arrays)} arrays ({listed})" if arrays or inner is None else \
                f"a Zarr group of groups, its first array {inner}"
            raise ImageReadError(f"{path}: {where}; give the array's path, e.g. {path}/{inner or 'NAME'}")
    return (array, what, declared) if with_layout else (array, what)


def _first_array(group: Any, depth: int = 4) -> str | None:
    """The path of the first array under ``group``'s subgroups (``level/img``), at most ``depth`` groups down; or None."""
    if depth <= 0:
        return None
    for name, sub in sorted(group.groups(), key=lambda pair: pair[0]):
        arrays = sorted(child for child, _ in sub.arrays())
        found = arrays[0] if arrays else _first_array(sub, depth - 1)
        if found is not None:
            return f"{name}/{found}"
    return None


#: the attributes of a volume's grid that a Zarr array may record (kernelcli's own outputs: geometry_attributes)
GRID_ATTRIBUTES = ("spacing_mm", "affine")
#: the axes each layout names, as an output's ``axes`` attribute records them
LAYOUT_AXES = {"zyx": ["z", "y", "x"], "hwc": ["y", "x", "c"], "chw": ["c", "y", "x"]}


def recorded_grid(path: Any) -> dict:
    """The grid a local Zarr input's array records (:data:`GRID_ATTRIBUTES`, as kernelcli writes them), else {}."""
    if not is_store_input(path) or not Path(str(path)).exists():
        return {}
    try:
        import zarr

        array = _array_in(zarr.open(os.path.abspath(path), mode="r"), Path(path))[0]
        attrs = dict(getattr(array, "attrs", None) or {})
    except Exception:  # noqa: BLE001 - opened once already; anything odd here records nothing
        return {}
    return {key: attrs[key] for key in GRID_ATTRIBUTES if key in attrs}


