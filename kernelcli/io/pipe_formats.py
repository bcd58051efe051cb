"""What ``-o -`` may write for a call's result: the ``--format`` values its hints name, as the writers decide them.

Told from the input's header and the call's options before any pixel is read, so that the hint of a bare ``-o -``
and of ``-o /dev/stdout`` never offers a format the next call refuses (csv for a colour result, bmp or jpg for 16-bit
data, a picture for several maps).

Example
-------
>>> stdout_formats(Path("a.png"), maps=True)
'npy|tif (what several feature maps write through a pipe)'
"""

from __future__ import annotations

from pathlib import Path

#: formats that only the content can name (an image on stdout needs --format)
_IMAGE_FORMATS = {"png", "tif", "jpg", "bmp"}
#: what holds one 2-D plane (a grey picture, a matrix), beside npy's any array
_PLANE_FORMATS = tuple(sorted(_IMAGE_FORMATS | {"csv"}))


def stdout_formats(input: Path | None, *, maps: bool = False, layout: str | None = None, combined: bool = False,
                   rescale: object = None) -> str:
    """The ``--format`` values ``-o -`` takes for the result of ``input``, joined by ``|``, and why where they are
    fewer than an image's: a volume's, a filter bank's (``maps``: several kernels or ``--weights``), a ``--layout zyx``
    array's, a colour result's (no csv, unless ``combined``: its channels summed into one map), 16-bit data's (no
    bmp or jpg) and one under ``--rescale none`` (float outputs only).  The hint of a bare ``-o -`` and of ``-o /dev/stdout`` (:func:`kernelcli.cli._stdio.refuse_pipe_not_taken`),
    which listed an image's six formats for a volume and a bank, and the next refusal named what they take.

    >>> stdout_formats(Path("t.nii"))
    "npy|png (what a volume writes through a pipe: its voxels, or a slice's picture)"
    >>> stdout_formats(Path("a.png"), maps=True), stdout_formats(Path("a.png"))
    ('npy|tif (what several feature maps write through a pipe)', 'bmp|csv|jpg|npy|png|tif')
    >>> stdout_formats(Path("z.npy"), layout="zyx")
    'npy (what a --layout zyx array writes through a pipe: its volume, (Z, Y, X); a result of one slice also bmp|csv|jpg|png|tif, as its plane)'
    """
    names, why = stdout_format_names(input, maps=maps, layout=layout, combined=combined, rescale=rescale)
    return "|".join(names) + (f" ({why})" if why else "")


def stdout_format_names(input: Path | None, *, maps: bool = False, layout: str | None = None,
                        combined: bool = False, rescale: object = None) -> tuple[tuple[str, ...], str]:
    """:func:`stdout_formats` apart: the format names, and why they are fewer than an image's ('' when they are not).
    ``rescale``: as given; ``none`` leaves the float outputs (npy; tif and csv for one channel), as the writers refuse
    the rest (a bare ``-o -`` offered ``bmp|jpg|npy|png|tif`` for a colour image, and four of the five were refused).

    >>> stdout_format_names(Path("a.png"), maps=True)
    (('npy', 'tif'), 'what several feature maps write through a pipe')
    >>> stdout_format_names(Path("samples/rgb.png")), stdout_format_names(Path("samples/rgb.png"), combined=True)[0]
    ((('bmp', 'jpg', 'npy', 'png', 'tif'), 'not csv: it holds one matrix, and this result has several channels'), ('bmp', 'csv', 'jpg', 'npy', 'png', 'tif'))
    >>> stdout_format_names(Path("samples/rgb.png"), rescale="none")[0], stdout_format_names(Path("samples/phantom16.png"), rescale="none")[0]
    (('npy',), ('csv', 'npy', 'tif'))
    """
    from ..volume_inputs import is_volume_input

    if input is not None and is_volume_input(input):
        return ("npy", "png"), "what a volume writes through a pipe: its voxels, or a slice's picture"
    zyx = layout is not None and str(layout).lower() == "zyx"
    if maps and zyx:  # (4 axes: no picture holds them)
        return ("npy",), "what several feature maps of a --layout zyx array write through a pipe: (maps, Z, Y, X)"
    if maps:
        return ("npy", "tif"), "what several feature maps write through a pipe"
    if zyx:
        # (the result's slices are known only once computed, a 3-D pooling's too: one takes a picture's formats)
        return ("npy",), ("what a --layout zyx array writes through a pipe: its volume, (Z, Y, X); a result of one "
                          f"slice also {'|'.join(_PLANE_FORMATS)}, as its plane")
    # (the writer's own refusals, told from the input's header: a csv holds one matrix, JPEG and BMP 8 bits)
    names, why = set(_PLANE_FORMATS) | {"npy"}, []
    channels = input is not None and input.exists() and not csv_may_hold(input, combined)
    if channels:
        names.discard("csv")
        why.append("not csv: it holds one matrix, and this result has several channels")
    if _no_rescale(rescale):  # (the writers' float outputs: npy, and a float32 TIFF of one channel)
        names -= {"bmp", "jpg", "png"} | ({"tif"} if channels else set())
        why.append("not bmp, jpg, png or tif: --rescale none needs a float output, and a float32 TIFF holds one channel"
                   if channels else "not bmp, jpg or png: --rescale none needs a float output")
    elif sixteen_bit(input):
        names -= {"bmp", "jpg"}
        why.append("not bmp or jpg: they hold 8 bits, and this input 16")
    return tuple(sorted(names)), "; ".join(why)


def _no_rescale(rescale: object) -> bool:
    """Whether ``rescale`` (as given: a name, an enum member, None) is ``none``, which only a float output takes."""
    return rescale is not None and str(getattr(rescale, "value", rescale)).strip().lower() == "none"


def csv_may_hold(path: Path | None, combined: bool = False) -> bool:
    """Whether a .csv may hold one map per channel of the input ``path``: a 2-D array, an image of one channel once
    its alpha is dropped (grey, grey+alpha, 16-bit grey), not a volume (a terminal's refusal suggested ``--format
    csv`` for an RGB image, a (Z, Y, X) array, a NIfTI, and csv refused them next).  ``combined``: the channels are
    summed into one map, so any image's result is one matrix.

    >>> import tempfile, numpy as np; folder = Path(tempfile.mkdtemp())
    >>> np.save(folder / "m.npy", np.zeros((2, 3))); np.save(folder / "v.npy", np.zeros((2, 3, 4)))
    >>> csv_may_hold(folder / "m.npy"), csv_may_hold(folder / "v.npy"), csv_may_hold(Path("v.nii.gz"))
    (True, False, False)
    """
    if path is None:
        return False
    suffix = path.suffix.lower()
    if suffix in (".csv", ".txt"):
        return True
    from ..volume_inputs import is_volume_input

    if is_volume_input(path):
        return False
    try:
        if suffix == ".npy":
            import numpy as np

            return np.load(path, mmap_mode="r").ndim == 2
        from PIL import Image

        from .stored_samples import grey_alpha_16
        from .images import grey_palette

        with Image.open(path) as im:  # (a palette of greys is read as one channel: any GIF Pillow writes from grey)
            return (combined or im.mode in ("1", "L", "LA", "La", "I", "F") or im.mode.startswith("I;16") or grey_alpha_16(im)
                    or (im.mode in ("P", "PA") and grey_palette(im)))
    except Exception:  # unreadable: the reader says why, after; no hint is no wrong hint
        return False


def sixteen_bit(path: Path | None) -> bool:
    """Whether the result of the input ``path`` goes into a picture as 16-bit samples, which JPEG and BMP refuse: a
    16-bit grey image (with its alpha too), a 16-bit integer array (a ``.npy``, an integer TIFF) once rescaled.

    >>> import tempfile, numpy as np; folder = Path(tempfile.mkdtemp())
    >>> np.save(folder / "u.npy", np.zeros((2, 3), np.uint16)); np.save(folder / "f.npy", np.zeros((2, 3)))
    >>> sixteen_bit(folder / "u.npy"), sixteen_bit(folder / "f.npy"), sixteen_bit(Path("samples/phantom16.png"))
    (True, False, True)
    """
    if path is None or path.suffix.lower() in (".csv", ".txt"):
        return False
    try:
        if path.suffix.lower() == ".npy":
            import numpy as np

            return np.load(path, mmap_mode="r").dtype.newbyteorder("=") in (np.uint16, np.int16)  # (a '>u2' too)
        from PIL import Image

        from .stored_samples import grey_alpha_16

        with Image.open(path) as im:
            if im.mode.startswith("I;16") or grey_alpha_16(im):
                return True
            bits = getattr(im, "tag_v2", {}).get(258) if im.format == "TIFF" else None
            return im.mode == "I" and (im.format == "PNG" or bits in (16, (16,)))
    except Exception:  # unreadable: the reader says why, after; the hint keeps the formats
        return False
