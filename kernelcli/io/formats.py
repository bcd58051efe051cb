"""``read_input`` and ``write_output``: the file's extension picks the reader or writer.

=================  ==========================================  ====================
extension          reader / writer                             module
=================  ==========================================  ====================
.png .jpg .jpeg    :func:`~kernelcli.io.images.read_image` /   ``io.images`` /
.tif .tiff .bmp    :func:`~kernelcli.io.image_writing.write_image`  ``io.image_writing``
.gif               read only
.npy               ``read_npy`` / ``write_npy``                ``io.arrays``
.csv .txt          ``read_matrix`` / ``write_matrix_csv``      ``io.matrices``
                   (``.txt`` read only)
=================  ==========================================  ====================

The suffix tables live in :mod:`kernelcli.io.naming`; every write goes through
:mod:`kernelcli.io.outputs` (a temporary file beside the destination, published
atomically; create-if-absent without ``force``), so the destination is the complete new
file or untouched.  Volumes (NIfTI, DICOM) are read by :func:`kernelcli.io.read_volume`.

Example
-------
>>> import tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> written = write_output(folder / "m.csv", np.array([[1.0, 2.5]]))
>>> loaded = read_input(folder / "m.csv")
>>> loaded.kind, loaded.format, loaded.data.tolist()
('matrix', 'CSV', [[1.0, 2.5]])
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import numpy as np

from ..errors import ImageReadError, InputError, KernelcliError, UsageError
from ..given_values import as_numpy, refuse_masked, refuse_rounded_listed
from ..limits import OverMemory, default_max_bytes, out_of_memory, ran_out_of_memory
from ..modes import canonical_rescale
from ..whole_numbers import flag, integer_value
from .common import FILTER, Loaded, RunNeed, Written, check_input_path, one_line, path_arg
from .decode import TooManyPixels
from .read_words import CLI, ReadWords, words_for
from .arrays import read_npy, write_npy
from .image_writing import Encoding, check_finite_result, check_real_result, kept_in, write_image, written_types
from .not_held import RESCALE_ARGUMENT, FloatOutputNeeded, UnsupportedOutput, ValuesNotHeld
from .offered import OutputOffer
from .images import read_image
from .matrices import read_matrix, write_matrix_csv
from .naming import ARRAY_SUFFIXES, INPUT_SUFFIXES, MATRIX_SUFFIXES, OUTPUT_SUFFIXES
from .output_checks import FORCE_ARGUMENT, OutputExists


def refuse_unsupported(path: str | os.PathLike, volumes: tuple[str, ...] = ()) -> None:
    """InputError (exit 2) for a file whose type kernelcli does not read as an image, array or matrix (nor as one of
    ``volumes``, the volume types of a command that reads them, named in the message).

    >>> refuse_unsupported("brain.mnc")
    Traceback (most recent call last):
    ...
    kernelcli.errors.InputError: brain.mnc: unsupported file type '.mnc': expected one of .bmp, .csv, .gif, .jpeg, .jpg, .npy, .png, .tif, .tiff, .txt
    """
    from ..volume_inputs import volume_suffix

    name = str(path).lower()
    suffix = Path(path).suffix.lower()
    if suffix not in INPUT_SUFFIXES and not any(name.endswith(v) for v in volumes):
        suffix = volume_suffix(path)  # ('.nii.gz' whole: '.gz' was named)
        raise InputError(
            f"{path}: unsupported file type {suffix or '(no extension)'!r}: expected one of "
            + ", ".join(sorted(INPUT_SUFFIXES)) + (f"; a volume: {', '.join(volumes)}" if volumes else "")
        )


#: what a volume file is called, by :func:`kernelcli.volume_inputs.volume_suffix` (DICOM otherwise: a folder, magic bytes)
_VOLUME_KINDS = {".nii.gz": "NIfTI", ".nii": "NIfTI", ".mgz": "MGH", ".mgh": "MGH", ".nrrd": "NRRD", ".nhdr": "NRRD",
                 ".mha": "MetaImage", ".mhd": "MetaImage"}


def refuse_volume(path: Path) -> None:
    """InputError (exit 2) for a volume given to :func:`read_input`, by the test the command line refuses one by
    (:func:`kernelcli.volume_inputs.is_volume_input`), naming :func:`~kernelcli.io.read_volume`: "unsupported file type
    '.gz'" named neither the format nor the function that reads it.  A missing file is "no such file" first.

    >>> refuse_volume(Path("samples/phantom3d.nii.gz"))
    Traceback (most recent call last):
    ...
    kernelcli.errors.InputError: samples/phantom3d.nii.gz: a medical volume (NIfTI); read it with read_volume(), which returns (Z, Y, X) voxels and their spacing
    """
    from ..volume_inputs import is_volume_input, volume_suffix
    from .common import stat_input

    if not is_volume_input(path):
        return
    st = stat_input(path)
    kind = "a DICOM series folder" if stat.S_ISDIR(st.st_mode) else _VOLUME_KINDS.get(volume_suffix(path), "DICOM")
    raise InputError(f"{path}: a medical volume ({kind}); read it with read_volume(), which returns (Z, Y, X) voxels and "
                     "their spacing")


def read_input(path: str | os.PathLike, *, max_pixels: int | None = None, max_bytes: int | None = None,
               volumes: tuple[str, ...] = (), words: str = "api", need: RunNeed = FILTER) -> Loaded:
    """Read an image, ``.npy`` array or text matrix into a :class:`~kernelcli.io.common.Loaded`.

    ``max_pixels`` caps the decoded image size (decompression-bomb guard, default
    :data:`kernelcli.io.decode.DEFAULT_MAX_PIXELS`); ``max_bytes`` caps the memory a run may
    need, estimated before decoding (default :func:`kernelcli.limits.default_max_bytes`): the input, and what the run
    holds beside it (``need``, :class:`~kernelcli.io.common.RunNeed`: a filter's padded copy, output and temporary by default);
    ``volumes``: the volume types the caller reads elsewhere, named where a file is of no type
    read (:func:`refuse_unsupported`).  Raises only our own errors.  A refusal or note names ``max_pixels=`` as typed;
    ``words="cli"`` names the command line's ``--max-pixels`` instead.  A refusal over a ``max_bytes`` given names it.

    >>> read_input("a.png", max_pixels="100")
    Traceback (most recent call last):
    ...
    kernelcli.errors.UsageError: max_pixels '100': expected None (the default limit) or an integer >= 1
    """
    said = words_for(words)
    max_pixels, max_bytes = _limit("max_pixels", max_pixels), _limit("max_bytes", max_bytes)
    p = path_arg(path, "read_input")
    if not said.cli:  # (the command line routes a volume elsewhere, or refuses it in its own words, before this)
        refuse_volume(p)
    p = check_input_path(p)
    suffix = p.suffix.lower()
    refuse_unsupported(p, volumes)
    try:
        size = p.stat().st_size
    except OSError as exc:
        raise InputError(f"{p}: cannot access: {exc.strerror or exc}") from None
    if size == 0:
        raise ImageReadError(f"{p}: empty file (0 bytes)")
    limit_bytes = default_max_bytes() if max_bytes is None else max_bytes
    try:
        if suffix in MATRIX_SUFFIXES or suffix in ARRAY_SUFFIXES:
            loaded = read_matrix(p, size, limit_bytes) if suffix in MATRIX_SUFFIXES else \
                read_npy(p, limit_bytes, need=need)
            if max_pixels is not None:  # given, and nothing to guard: say so
                loaded.notes.append(unused_max_pixels(p.name, suffix, words=said))
            return loaded
        return read_image(p, max_pixels=max_pixels, max_bytes=limit_bytes, need=need)
    except TooManyPixels as exc:  # (it said --max-pixels)
        raise exc.worded(said.name("max_pixels")) from None
    except OverMemory as exc:  # (it said KERNELCLI_MAX_MEMORY, which a limit given here overrides)
        if max_bytes is None:
            raise
        raise exc.worded("max_bytes=") from None
    except KernelcliError:
        raise
    except MemoryError:
        raise out_of_memory(str(p)) from None
    except OSError as exc:
        if ran_out_of_memory(exc):
            raise out_of_memory(str(p)) from None
        raise InputError(f"{p}: cannot read: {exc.strerror or one_line(exc)}") from None


def _limit(keyword: str, value: object) -> int | None:
    """read_input's ``max_pixels=`` or ``max_bytes=``: None or an int >= 1 (a numpy integer too), else a UsageError;
    a string failed inside the decoder as a broken image, and 0, -5 or True became the limit."""
    number = None if value is None else integer_value(value)
    if value is not None and (number is None or number < 1):
        raise UsageError(f"{keyword} {value!r}: expected None (the default limit) or an integer >= 1")
    return number


def unused_max_pixels(name: str, suffix: str, tiled: bool = False, words: ReadWords = CLI) -> str:
    """The note for ``--max-pixels`` given with an input that is not a decoded image (``tiled``: read tile by
    tile, where the memory limit does not apply either); ``words``: read_input's (``max_pixels=``) or the command's.

    >>> unused_max_pixels("m.npy", ".npy")
    'm.npy: --max-pixels guards the decoding of images; a .npy is read as it is stored (the memory limit still applies)'
    """
    why = "tile by tile" if tiled else "the memory limit still applies"
    return f"{name}: {words.name('max_pixels')} guards the decoding of images; a {suffix} is read as it is stored ({why})"


def _check_suffix(o: Path, offer: OutputOffer | None = None) -> None:
    if o.suffix.lower() not in OUTPUT_SUFFIXES:
        # (the list names what the next call takes: .zarr offered to a PNG input or a bank sent the user to a refusal)
        raise UnsupportedOutput(o, (offer or OutputOffer(command_line=False)).suffixes())


def check_output_path(out: str | os.PathLike, inputs: list[Path] | tuple[Path, ...] = (), *, force: bool = False,
                      offer: OutputOffer | None = None) -> Path:
    """Validate an output path before any work: a format kernelcli writes, then the one
    output check (:func:`kernelcli.io.output_checks.check_output`).  A type of none is told the types the call
    takes, ``offer``'s (:class:`~kernelcli.io.offered.OutputOffer`; default: a single result of ``inputs`` on the
    command line, no option given).

    A default output (beside an input inside a Zarr store, or in the working folder run from inside one) is refused
    there as ``-o`` is (:func:`~kernelcli.io.naming.refuse_inside_store`).

    Raises OutputRefused (exit 4), UsageError (exit 2) or WriteError (read-only folder).
    """
    from .folder_names import refuse_a_folder_named_output
    from .naming import refuse_inside_store
    from .output_checks import check_output

    refuse_a_folder_named_output(out)
    refuse_inside_store(out, list(inputs))
    o = Path(out)
    if not os.path.isdir(o):  # a folder is refused as one (exit 4), not for the suffix it lacks
        _check_suffix(o, offer or OutputOffer(tuple(inputs)))
    return check_output(o, inputs, force=force)


def write_output(
    out: str | os.PathLike,
    result: np.ndarray,
    *,
    like: Loaded | None = None,
    rescale: str | None = None,
    force: bool = False,
    encoding: Encoding | None = None,
) -> Written:
    """Write ``result`` to ``out`` atomically, in the format its extension names.

    Integer image formats get the input's bit depth (or the result's, for uint8/uint16
    results), through ``rescale`` (default ``clip``: round, then clip; never wrap; ``clip``, ``abs``, ``minmax`` or
    ``none`` in any case, as the command line's ``--rescale``, anything else refused);
    ``.npy`` holds the raw result, ``.tif`` with ``rescale="none"`` too where Pillow can
    write its type (float32, uint8, uint16, int8, int16, int32; a float64 result as float32, which
    ``Written.dtype`` says: a value beyond float32's range is refused, one below its smallest subnormal becomes 0;
    uint32 and 64-bit integers are refused); ``.csv`` holds the
    numbers as text.  A float result from a matrix or array input is refused for
    PNG/JPEG/BMP unless a rescale is given; 16-bit data is refused for JPEG/BMP.  A result holding NaN or an
    infinity is refused in every format, as :func:`read_input` refuses such a file.  A result in the other byte
    order (``>u2``: ``np.load`` of a big-endian ``.npy``) is written as the native one.
    ``out`` that is ``like``'s own file is refused (OutputRefused), ``force`` or not: as the CLI refuses it.
    An existing ``out`` is replaced only with ``force=True`` (True or False: ``"no"`` is refused, not read as
    true); without it the refusal says ``force=True``.  ``encoding``: None (JPEG quality 95, fast PNG) or a
    ``kernelcli.io.Encoding(quality=1..100, compress="none"|"fast"|"default"|"best")``, as ``--quality`` and
    ``--compress``; anything else is refused.

    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "m.npy"
    >>> _ = write_output(out, np.zeros((2, 2))); write_output(out, np.ones((2, 2)))
    Traceback (most recent call last):
    ...
    kernelcli.io.output_checks.OutputExists: .../m.npy: already exists; use force=True to overwrite it
    """
    if encoding is not None and not isinstance(encoding, Encoding):  # (a dict or 80 was an AttributeError, 'own_png')
        raise UsageError(f"encoding: expected None or kernelcli.io.Encoding(quality=..., compress=...), got {type(encoding).__name__}"
                         + (": pass Encoding(**that)" if isinstance(encoding, dict) else ""))
    try:
        return write_result(out, result, like=like, rescale=rescale, force=force, encoding=encoding)
    except OutputExists as exc:
        raise exc.worded(FORCE_ARGUMENT) from None
    except ValuesNotHeld as exc:  # (it advised --rescale and the commands that take it)
        raise exc.worded(RESCALE_ARGUMENT) from None
    except FloatOutputNeeded as exc:  # (it said --rescale none)
        raise exc.for_api() from None
    except UnsupportedOutput as exc:  # (the types this result is written to: write_output writes no .zarr)
        raise exc.worded(written_types(result, like, rescale)) from None


def write_result(
    out: str | os.PathLike,
    result: np.ndarray,
    *,
    like: Loaded | None = None,
    rescale: str | None = None,
    force: bool = False,
    encoding: Encoding | None = None,
) -> Written:
    """:func:`write_output` for the command line's jobs: the same writing, an existing output refused in the
    command line's words (``use --force``)."""
    o = path_arg(out, "write_output", "out", writes=True)
    _check_suffix(o)
    force = flag("force", force)
    rescale = None if rescale is None else canonical_rescale(rescale, "rescale")  # refused for a .npy or .csv too: not ignored
    if like is not None and like.path is not None:
        check_output_path(o, [like.path], force=force)
    suffix = o.suffix.lower()
    arr = checked_result(o, result, finite=suffix in (".npy", ".csv"))  # (an image's writer checks its own finiteness)
    if suffix == ".npy":
        write_npy(o, arr, force=force)
        return Written(path=o, dtype=str(arr.dtype), total=int(arr.size))
    if suffix == ".csv":
        write_matrix_csv(o, arr, force=force, kept_in=kept_in(arr, like, rescale, but="csv"))
        return Written(path=o, dtype=str(arr.dtype), total=int(arr.size))
    return write_image(o, arr, like=like, rescale=rescale, force=force, encoding=encoding)


def checked_result(o: Path, result: object, name: str = "result", *, finite: bool = True) -> np.ndarray:
    """``result`` as every array writer takes it (:func:`write_output`, ``kernelcli.medical``'s ``write_npy`` and
    ``write_nifti``), or refused before anything is written, naming ``name``: masked, a list numpy rounds, not real
    numbers (complex, text...), or (``finite``) holding NaN or an infinity, which :func:`read_input` and
    ``read_volume`` refuse in a file.  In this machine's byte order: a ``>u2`` is the uint16 it holds.

    >>> checked_result(Path("v.npy"), np.full((2, 2, 2), np.nan), "data")
    Traceback (most recent call last):
    ...
    kernelcli.errors.UsageError: v.npy: the data holds 8 NaN or infinite value(s); expected finite numbers (an overflow: compute in float64 or scale the input); nothing was written
    """
    from ..ndsupport import native

    refuse_masked(result, name)  # (its masked cells were written as data; a torch tensor numpy cannot read named)
    # (a '>u2' was not taken for uint16 by the image writers' lookups, so clipped to 8 bits)
    arr = native(as_numpy(result, name, "a rectangular array"))
    refuse_rounded_listed(result, arr, name)  # (a list's 2**64 - 1 was written as 2**64, as conv2d refuses it)
    check_real_result(o, arr, name)
    if finite:
        check_finite_result(o, arr, name)
    return arr
