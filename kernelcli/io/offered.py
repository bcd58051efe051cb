"""The output types a refusal offers: the types the same call takes, told from the facts known when it refuses.

An output type no result is written to (:class:`~kernelcli.io.not_held.UnsupportedOutput`), ``--rescale none`` into
an integer image (:class:`~kernelcli.io.not_held.FloatOutputNeeded`) and a volume's output type are refused with a
list of types; following the list must not lead to a second refusal.  Before an input is read only its type is
known (a PNG may be 16-bit or colour, a ``.npy`` may hold floats in 3 channels), so the list holds the types that
take the result of any input of that type: ``.jpg`` is offered to a JPEG's result, not to a PNG's, which may be
16-bit; ``.tif`` to a float ``.npy``'s only where its result is one map (a float TIFF holds one channel).

Example
-------
>>> from pathlib import Path
>>> OutputOffer((Path("ct.png"),)).suffixes()
('.npy', '.png', '.tif', '.tiff')
>>> OutputOffer((Path("ct.npy"),)).suffixes(), OutputOffer((Path("ct.npy"),), tiled=False, one_map=True).suffixes()
(('.npy', '.zarr'), ('.csv', '.npy', '.tif', '.tiff'))
"""

from __future__ import annotations

from pathlib import Path

from ..records import record

#: formats that hold several maps as numbers, and those of a ``--layout zyx`` array's maps (4 axes)
MAPS_SUFFIXES, ZYX_MAPS_SUFFIXES = (".npy", ".tif", ".tiff"), (".npy",)
#: what holds any result as its numbers
NUMBERS = (".npy", ".tif", ".tiff")
#: pictures of 8 bits alone (a 16-bit result is refused), and all the pictures
EIGHT_BIT_PICTURES, PICTURES = (".bmp", ".jpeg", ".jpg"), (".bmp", ".jpeg", ".jpg", ".png")
#: inputs whose result goes into a picture of 8 bits whatever their content (read as 8-bit images)
EIGHT_BIT_INPUTS = (".bmp", ".gif", ".jpeg", ".jpg")
#: text matrices: one 2-D float array each
MATRIX_INPUTS = (".csv", ".txt")
#: the types a volume's result is written to in memory
VOLUME_SUFFIXES = (".nii.gz", ".nii", ".npy", ".png")


def maps_suffixes(layout: str | None) -> tuple[str, ...]:
    """The output types several maps of an input read in ``layout`` can be written as.

    >>> maps_suffixes("zyx"), maps_suffixes(None)
    (('.npy',), ('.npy', '.tif', '.tiff'))
    """
    return ZYX_MAPS_SUFFIXES if layout == "zyx" else MAPS_SUFFIXES


@record(frozen=True)
class OutputOffer:
    """The facts of a call that decide which output types it takes.

    ``inputs``: the call's inputs (none: stdin, not read yet); ``tiled``: its options leave it to the tiled path, the
    only one that writes a ``.zarr`` (one ``--kernel``, no ``--montage``, no ``--bias``/``--activation``/``--combine``/
    ``--weights``); ``command_line``: False for a Python caller, whose ``write_output`` writes no ``.zarr``; ``maps``:
    several feature maps; ``layout``: the layout the input is read in; ``rescale``: as given; ``one_map``: the channels
    summed into one map (``--combine sum``, ``--weights``), which a ``.csv`` holds whatever the input's channels.

    >>> OutputOffer((Path("ct.png"),), rescale="none").suffixes()
    ('.npy',)
    >>> OutputOffer((Path("ct.npy"),), rescale="clip", one_map=True, tiled=False).suffixes()
    ('.csv', '.npy', '.png', '.tif', '.tiff')
    """

    inputs: tuple[Path, ...] = ()
    tiled: bool = True
    command_line: bool = True
    maps: bool = False
    layout: str | None = None
    rescale: str | None = None
    one_map: bool = False

    def suffixes(self) -> tuple[str, ...]:
        """The output types the call takes, whatever the inputs of its inputs' types hold."""
        if self.maps:
            return maps_suffixes(self.layout)
        if self.layout == "zyx":  # (a (Z, Y, X) result: no picture or matrix holds it)
            return (".npy",) + ((".zarr",) if self.writes_zarr() else ())
        pictures = self.pictures()
        offered = {".npy"} | pictures | (set(NUMBERS) if pictures else set())  # (an integer TIFF, as a picture)
        if self.one_map or (self.inputs and all(_suffix(i) in MATRIX_INPUTS for i in self.inputs)):
            offered |= {".csv", ".tif", ".tiff"}  # (one matrix: a float TIFF holds one channel, a .csv one matrix)
        if self.writes_zarr():
            offered.add(".zarr")
        return tuple(sorted(offered))

    def float_suffixes(self, ndim: int) -> tuple[str, ...]:
        """The float outputs ``--rescale none`` takes for a result of ``ndim`` axes (a ``.csv`` holds a 2-D one).

        >>> OutputOffer((Path("ct.png"),)).float_suffixes(2), OutputOffer((Path("ct.npy"),)).float_suffixes(3)
        (('.npy', '.tif', '.csv'), ('.npy', '.zarr'))
        """
        # (a float TIFF holds one channel, a .csv one matrix)
        return (".npy",) + ((".tif", ".csv") if ndim == 2 else ()) + ((".zarr",) if self.writes_zarr() else ())

    def pictures(self) -> set[str]:
        """The picture types that take the result of every input: none for ``--rescale none`` (a picture holds
        integers), the 8-bit ones for an 8-bit input's, ``.png`` for a PNG's (8 or 16 bits); an input with no depth
        to go back to (``.npy``, TIFF, a matrix, stdin) needs ``--rescale`` given, then a matrix's result is 8-bit."""
        if self.rescale == "none":
            return set()
        offered = set(PICTURES)
        for path in self.inputs or (None,):
            suffix = _suffix(path) if path is not None else None
            if suffix in EIGHT_BIT_INPUTS:
                continue
            if suffix == ".png":
                offered -= set(EIGHT_BIT_PICTURES)
            elif suffix in MATRIX_INPUTS:
                offered &= set(PICTURES) if self.rescale is not None else set()
            else:  # (float or 16-bit content: the rescale gives 8 or 16 bits)
                offered &= {".png"} if self.rescale is not None else set()
        return offered

    def writes_zarr(self) -> bool:
        """Whether the call writes a ``.zarr``: the command line's tiled path, which reads every input.

        >>> OutputOffer((Path("ct.zarr"),)).writes_zarr(), OutputOffer((Path("ct.png"),)).writes_zarr()
        (True, False)
        """
        return self.command_line and self.tiled and not self.maps and bool(self.inputs) and all(map(tiled_reads, self.inputs))

    def volume_suffixes(self) -> tuple[str, ...]:
        """The output types of a volume's call: ``.zarr`` too where the tiled path reads the volume (a ``.nii``).

        >>> OutputOffer((Path("ct.nii"),)).volume_suffixes(), OutputOffer((Path("ct.nii.gz"),)).volume_suffixes()
        (('.nii.gz', '.nii', '.npy', '.png', '.zarr'), ('.nii.gz', '.nii', '.npy', '.png'))
        """
        tiled = self.command_line and self.tiled and bool(self.inputs) and all(_suffix(i) == ".nii" for i in self.inputs)
        return VOLUME_SUFFIXES + ((".zarr",) if tiled else ())


def tiled_reads(path: Path) -> bool:
    """Whether the tiled path reads ``path``: a Zarr store, a TIFF, a ``.npy``, an uncompressed NIfTI.

    >>> tiled_reads(Path("ct.png")), tiled_reads(Path("ct.npy")), tiled_reads(Path("ct.nii")), tiled_reads(Path("ct.nii.gz"))
    (False, True, True, False)
    """
    from ..tiled.stores import TIFF_SUFFIXES, is_store_input

    return is_store_input(path) or _suffix(path) in (".npy", ".nii", *TIFF_SUFFIXES)


def _suffix(path: Path) -> str:
    return Path(path).suffix.lower()
