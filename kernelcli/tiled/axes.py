"""The axes a Zarr array declares, read as the layout it is filtered in.

Four declarations are read: an OME-Zarr group's ``multiscales`` axes, kernelcli's own ``axes``
attribute (its outputs record it), Zarr v3's ``dimension_names`` and xarray's
``_ARRAY_DIMENSIONS`` attribute (how xarray names a Zarr v2 array's dimensions).  Dimension
names are matched in any case: z, y, x, t or time, c, channel(s) or band(s).  What is left once
a single time point and channel (and a single plane beside them) are dropped must be (y, x),
(z, y, x), (c, y, x) or (y, x, c); anything else is refused naming the axes.  A 3-D array whose
names kernelcli does not know (``lat``, ``dim_0``) is read only as ``--layout`` says.

Example
-------
>>> letters(["Z", "row", "Band"])
['z', None, 'c']
"""

from __future__ import annotations

from typing import Any

from ..records import record

#: the usual names of each axis, in lower case -> its letter
NAMES = {"t": "t", "time": "t", "c": "c", "channel": "c", "channels": "c", "band": "c", "bands": "c",
         "z": "z", "y": "y", "x": "x"}
#: the axes kept (after dropping single time points, channels and planes) -> the layout they declare
LAYOUTS = {("y", "x"): None, ("z", "y", "x"): "zyx", ("c", "y", "x"): "chw", ("y", "x", "c"): "hwc"}
#: each layout's axes, for messages
SAID = {"hwc": "(H, W, C)", "chw": "(C, H, W)", "zyx": "(Z, Y, X)"}


@record(frozen=True)
class Declared:
    """What an array's metadata says of its axes: ``layout`` (None for a 2-D image, or names not known),
    ``said`` (how a message names the declaration) and ``known`` (every name is one of :data:`NAMES`)."""

    layout: str | None
    said: str
    known: bool = True


def letters(names: list[Any]) -> list[str | None]:
    """Each dimension name's axis letter (t, c, z, y, x), None for a name not known.

    >>> letters(["time", "Y", "x", None])
    ['t', 'y', 'x', None]
    """
    return [NAMES.get(name.lower()) if isinstance(name, str) else None for name in names]


def of_array(node: Any, path: Any) -> tuple[Any, str, Declared | None]:
    """``(array, what, declared)`` for a Zarr array: itself (or seen without its single time point, channel...)
    as its ``axes`` attribute, ``dimension_names`` or ``_ARRAY_DIMENSIONS`` declare it; ``what`` says which for a
    note (``"its dimension_names: z, y, x"``; empty for none, or kernelcli's own ``axes``).

    >>> import numpy as np; from types import SimpleNamespace as N
    >>> of_array(N(shape=(4, 5, 3), attrs={"_ARRAY_DIMENSIONS": ["z", "y", "x"]}, chunks=(4, 5, 3)), "a.zarr")[2].layout
    'zyx'
    """
    from ..errors import ImageReadError

    found = []
    attrs = dict(node.attrs)
    own = attrs.get("axes")  # kernelcli's own outputs (geometry_attributes); another tool's ['row', 'col'] is not read
    if isinstance(own, list) and len(own) == len(node.shape) and all(a in ("t", "c", "z", "y", "x") for a in own):
        found.append(("axes attribute", "Zarr axes", own))
    for key, said in (("dimension_names", "Zarr dimension_names"), ("_ARRAY_DIMENSIONS", "xarray _ARRAY_DIMENSIONS")):
        names = getattr(getattr(node, "metadata", None), key, None) if key == "dimension_names" else attrs.get(key)
        if isinstance(names, (list, tuple)) and len(names) == len(node.shape) and any(n is not None for n in names):
            shown = ", ".join("null" if n is None else str(n) for n in names)
            found.append((key, f"{said} ({shown})", list(names)))
    if not found:
        return node, "", None
    mapped = [(key, said, names) for key, said, names in found if None not in letters(names)]
    if len({tuple(letters(names)) for _, _, names in mapped}) > 1:
        raise ImageReadError(f"{path}: its {' and its '.join(said for _, said, _ in mapped)} disagree: "
                             "give the array a single declaration of its axes")
    if not mapped:
        if len(node.shape) != 3:  # (a 2-D array reads one way; any other rank is refused by its shape)
            return node, "", None
        return node, "", Declared(None, found[0][1], known=False)
    key, said, names = mapped[0]
    array, layout = drop_singletons(node, names, path, said)
    return array, "" if key == "axes attribute" else f"its {key}: {', '.join(map(str, names))}", Declared(layout, said)


def drop_singletons(array: Any, names: list[str], path: Any, said: str = "OME-Zarr axes") -> tuple[Any, str | None]:
    """``(array, layout)`` for axes named ``names`` (OME-Zarr's t, c, z, y, x, or dimension names): a single
    time point and channel dropped, and a single plane where there is a time or channel axis (a 2-D image, grey
    or colour, as OME-Zarr writes it); what is left must be (y, x), (z, y, x), (c, y, x) or (y, x, c); ``said``
    names the declaration in a refusal.

    >>> import numpy as np
    >>> drop_singletons(np.zeros((4, 5, 3)), ["z", "y", "x"], "a.zarr")[1]
    'zyx'
    >>> drop_singletons(np.zeros((1, 1, 1, 5, 3)), ["t", "c", "z", "y", "x"], "a.zarr")[0].shape
    (5, 3)
    """
    from ..errors import ImageReadError

    axes = letters(names)
    if not axes:
        return array, None
    if not said.endswith(")"):  # (a declaration named with its names already: "Zarr dimension_names (y, y, x)")
        said = f"{said} {','.join(map(str, names))}"
    if len(axes) != len(array.shape):
        raise ImageReadError(f"{path}: {said} do not match the array's shape {tuple(array.shape)}")
    # a single plane is dropped where the axes name a time or a channel too: OME-Zarr writes a 2-D image, grey or not,
    # as (1, C, 1, H, W); an array that declares exactly (z, y, x) is a volume, of one slice or more
    image = "t" in axes or "c" in axes
    index = []
    kept = []
    for name, n in zip(axes, array.shape):
        if n == 1 and (name in ("t", "c") or (name == "z" and image)):
            index.append(0)
        else:
            index.append(slice(None))
            kept.append(name)
    if tuple(kept) not in LAYOUTS:
        raise ImageReadError(f"{path}: {said} with shape {tuple(array.shape)}: "
                             "kernelcli takes (y, x), (z, y, x) or channels with (y, x), one time point")
    return (Indexed(array, tuple(index)) if len(kept) != len(axes) else array), LAYOUTS[tuple(kept)]


def layout_to_read(declared: Declared | None, given: str | None, path: Any) -> str | None:
    """The layout a 3-D input is read in: the declared one, or ``given`` (``--layout``) where nothing is declared
    or the names are not known; a ``given`` against the declared one, or neither, is refused naming both readings.

    >>> layout_to_read(Declared("zyx", "Zarr axes"), None, "a.zarr")
    'zyx'
    """
    from ..errors import UsageError

    if declared is None:
        return given
    if not declared.known:
        if given is None:
            raise UsageError(f"{path}: its {declared.said} are not all axes kernelcli knows (z, y, x, t or time, c, "
                             "channel or band, in any case): it reads as (H, W, C), (C, H, W) or (Z, Y, X); give --layout "
                             "hwc, --layout chw or --layout zyx")
        return given
    if given not in (None, declared.layout):
        raise UsageError(f"{path}: its {declared.said} declare {declared.layout} ({SAID[declared.layout]}); --layout {given} "
                         f"reads it as {SAID[given]}: leave out --layout or give --layout {declared.layout}")
    return declared.layout


class Indexed:
    """A Zarr array seen through a fixed index (dropped singleton axes), for ``dask.array.from_array``; its ``path``
    is the array's own (in its store), so a read watches the metadata of the array read, not its group's.

    >>> import numpy as np; Indexed(np.zeros((1, 4, 5)), (0, slice(None), slice(None))).shape
    (4, 5)
    """

    def __init__(self, array: Any, index: tuple) -> None:
        self.array, self.index = array, index
        self.path = getattr(array, "path", "")
        self.shape = tuple(n for n, i in zip(array.shape, index) if not isinstance(i, int))
        self.dtype = array.dtype
        self.ndim = len(self.shape)
        chunks = getattr(array, "chunks", array.shape)
        self.chunks = tuple(c for c, i in zip(chunks, index) if not isinstance(i, int))

    def __getitem__(self, key: tuple) -> Any:
        key = list(key if isinstance(key, tuple) else (key,))
        full = tuple(i if isinstance(i, int) else key.pop(0) for i in self.index)
        return self.array[full]

