"""When an image format cannot hold a result's values as they are: the refusal, and the rescale it advises;
``rescale none`` asked of an integer image (:class:`FloatOutputNeeded`); and an output type no image or array result
is written to (:class:`UnsupportedOutput`).  Each says the command line's words, and ``worded`` a Python caller's.

Example
-------
>>> str(ValuesNotHeld("o.png: PNG cannot hold them", "pad's advice", image="an 8-bit image"))
'o.png: PNG cannot hold them, or pass --rescale clip|abs|minmax (convolve, pool) for an 8-bit image'
>>> str(FloatOutputNeeded("o.png", 8).for_api())
"o.png: rescale='none' needs a float output (.npy, .tif or .csv); this output is 8-bit"
"""

from __future__ import annotations

from pathlib import PurePath

from ..errors import UsageError
from .naming import OUTPUT_SUFFIXES


#: how a caller asks for a rescale into an integer image: the command line's option, the Python API's argument
RESCALE_OPTION, RESCALE_ARGUMENT = "--rescale clip|abs|minmax (convolve, pool)", "rescale='clip'|'abs'|'minmax'"
#: the option as pad's advice names it, where convolve is the command it names
RESCALE_PAD = RESCALE_OPTION.removesuffix(" (convolve, pool)")
#: the outputs an image or array result is written to: the command line's (a .zarr store, tile by tile, too), the
#: Python API's (:func:`kernelcli.io.formats.write_output`)
OUTPUTS_OPTION, OUTPUTS_ARGUMENT = tuple(sorted(OUTPUT_SUFFIXES | {".zarr"})), tuple(sorted(OUTPUT_SUFFIXES))


class KeepAdvised(UsageError):
    """A refusal whose advice names the types that keep the result: ``said``, the words of the message that name
    ``kinds`` (:func:`~kernelcli.io.naming.keep_as`: extensions for a file); :meth:`by_format` says them as the
    ``--format`` values to give, where ``--format`` names the output's type (a batch's outputs).

    >>> str(KeepAdvised("o.csv: a .csv holds a 2-D matrix: write .npy to keep it", ("npy",), "write .npy").by_format())
    'o.csv: a .csv holds a 2-D matrix: give --format npy to keep it'
    """

    def __init__(self, message: str, kinds: tuple[str, ...] = (), said: str | None = None) -> None:
        super().__init__(message)
        self.kinds, self.said = tuple(kinds), said

    def by_format(self) -> KeepAdvised:
        """The same refusal, the types named as ``--format`` values (as it is where it names them so already)."""
        return KeepAdvised(self._by_format(str(self)), self.kinds) if self._reworded() else self

    def _reworded(self) -> bool:
        return bool(self.kinds) and self.said is not None and not self.said.startswith("give --format")

    def _by_format(self, text: str) -> str:
        """``text`` with its last ``said`` (the path, which may hold anything, comes first) said as ``--format``'s."""
        before, found, after = text.rpartition(self.said or "")
        return f"{before}give --format {'|'.join(self.kinds)}{after}" if found else text


class ValuesNotHeld(KeepAdvised):
    """An image format cannot hold a result's values as they are.  The message is ``head``, then the advice to pass
    :data:`RESCALE_OPTION` for ``image``; :attr:`without_rescale` is the advice for a command that has none (pad), and
    :meth:`worded` says it in a Python caller's words (:data:`RESCALE_ARGUMENT`); ``kinds`` and ``said``: the types
    that keep the values, as :class:`KeepAdvised`.

    >>> str(ValuesNotHeld("o.png: PNG cannot hold them", "pad's advice", image="an 8-bit image").worded(RESCALE_ARGUMENT))
    "o.png: PNG cannot hold them, or pass rescale='clip'|'abs'|'minmax' for an 8-bit image"
    """

    def __init__(self, head: str, without_rescale: str, *, image: str | None = None, allow: str = RESCALE_OPTION,
                 kinds: tuple[str, ...] = (), said: str | None = None) -> None:
        super().__init__(head if image is None else f"{head}, or pass {allow} for {image}", kinds, said)
        self.head, self.image, self.without_rescale, self.allow = head, image, without_rescale, allow

    def worded(self, allow: str) -> ValuesNotHeld:
        """The same refusal, advising ``allow`` for a rescale."""
        return ValuesNotHeld(self.head, self.without_rescale, image=self.image, allow=allow, kinds=self.kinds, said=self.said)

    def by_format(self) -> ValuesNotHeld:
        if not self._reworded():
            return self
        return ValuesNotHeld(self._by_format(self.head), self._by_format(self.without_rescale), image=self.image,
                             allow=self.allow, kinds=self.kinds)

    def for_pad(self) -> KeepAdvised:
        """The refusal for a command that has no ``--rescale`` (pad): :attr:`without_rescale`."""
        return KeepAdvised(self.without_rescale, self.kinds, self.said)


class FloatOutputNeeded(UsageError):
    """``rescale none`` (the values as they are) asked of an integer image output of ``bits`` bits, for a result of
    ``ndim`` axes: the message is the output, then the float outputs that take it (a ``.csv`` holds a 2-D result; a
    ``.zarr`` where ``zarr``, the command line's tiled path, writes it) or ``keep``, the words that name them where the
    command line's extensions are not what a caller gives (:meth:`worded`, :meth:`by_format`).

    >>> str(FloatOutputNeeded("o.png", 8))
    'o.png: --rescale none needs a float output (.npy, .tif or .csv); this output is 8-bit'
    >>> str(FloatOutputNeeded("o.png", 8, ndim=3, zarr=True))
    'o.png: --rescale none needs a float output (.npy or .zarr); this output is 8-bit'
    """

    def __init__(self, out: object, bits: int, *, ndim: int = 2, zarr: bool = False, keep: str | None = None) -> None:
        kinds = (".npy",) + ((".tif", ".csv") if ndim == 2 else ()) + ((".zarr",) if zarr else ())  # (float TIFF: 1 channel)
        said = keep if keep is not None else f"--rescale none needs a float output ({_listed(kinds)})"
        super().__init__(f"{out}: {said}; this output is {bits}-bit")
        self.out, self.bits, self.ndim, self.keep = out, bits, ndim, keep

    def worded(self, keep: str) -> FloatOutputNeeded:
        """The same refusal, in ``keep``'s words."""
        return FloatOutputNeeded(self.out, self.bits, ndim=self.ndim, keep=keep)

    def offering(self, zarr: bool) -> FloatOutputNeeded:
        """The same refusal of a file, a ``.zarr`` offered where ``zarr`` (the call's tiled path writes it); one in other
        words (stdout's ``--format``) as it is."""
        if self.keep is not None:
            return self
        return FloatOutputNeeded(self.out, self.bits, ndim=self.ndim, zarr=zarr)

    def for_api(self) -> FloatOutputNeeded:
        """The same refusal in a Python caller's words (``write_output`` writes no ``.zarr``).

        >>> str(FloatOutputNeeded("o.png", 8, ndim=3).for_api())
        "o.png: rescale='none' needs a float output (.npy); this output is 8-bit"
        """
        return self.worded(f"rescale='none' needs a float output ({_listed(('.npy', '.tif', '.csv') if self.ndim == 2 else ('.npy',))})")

    def by_format(self) -> FloatOutputNeeded:
        """The same refusal where ``--format`` names the output's type (stdout, a batch's outputs): the values to give.

        >>> str(FloatOutputNeeded("stdout", 8, ndim=3).by_format())
        'stdout: --rescale none needs a float output: give --format npy; this output is 8-bit'
        """
        return self.worded(f"--rescale none needs a float output: give --format {'npy|tif|csv' if self.ndim == 2 else 'npy'}")


def _listed(kinds: tuple[str, ...]) -> str:
    return kinds[0] if len(kinds) == 1 else f"{', '.join(kinds[:-1])} or {kinds[-1]}"


class UnsupportedOutput(UsageError):
    """An output type the result is not written to, in one form: the type as typed (``.nii.gz`` is one type, a
    volume's), ``what`` the output is where it is not an image or array result ("a montage (a picture)"), then
    ``outputs`` (default :data:`OUTPUTS_OPTION`); :meth:`worded` lists a Python caller's (:data:`OUTPUTS_ARGUMENT`).

    >>> str(UnsupportedOutput("t.nii.gz").worded(OUTPUTS_ARGUMENT))
    "t.nii.gz: unsupported output type '.nii.gz' (a volume's output type): expected one of .bmp, .csv, .jpeg, .jpg, .npy, .png, .tif, .tiff"
    >>> str(UnsupportedOutput("k", (".json",), what="a learned kernel"))
    "k: unsupported output type '(no extension)' for a learned kernel: expected .json"
    """

    def __init__(self, out: object, outputs: tuple[str, ...] = OUTPUTS_OPTION, *, what: str | None = None) -> None:
        name = str(out).lower()
        typed = ".nii.gz" if name.endswith(".nii.gz") else PurePath(name).suffix
        if what is not None:
            kind = f" for {what}"
        else:
            kind = " (a volume's output type)" if typed in (".nii.gz", ".nii") else ""
        expected = outputs[0] if len(outputs) == 1 else "one of " + ", ".join(outputs)
        super().__init__(f"{out}: unsupported output type {typed or '(no extension)'!r}{kind}: expected {expected}")
        self.out, self.what = out, what

    def worded(self, outputs: tuple[str, ...]) -> UnsupportedOutput:
        """The same refusal, listing ``outputs``."""
        return UnsupportedOutput(self.out, outputs, what=self.what)
