"""Volume outputs: the path check made before any work, and ``.npy``/PNG writers (NIfTI: :mod:`.nifti`)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import UsageError
from ..io.offered import VOLUME_SUFFIXES as OUTPUT_SUFFIXES, OutputOffer
from ..volume_inputs import volume_suffix

#: the axes of a volume array, (t,) z, y, x
VOLUME_AXES = ("t", "z", "y", "x")



def check_volume_output(out: str | os.PathLike, inputs: tuple[Path, ...] = (), *, force: bool = False,
                        tiled: bool = False) -> Path:
    """Validate an output path for a volume result before any work (exit 2 or 4).  A type of none is told the types
    the call takes: ``.zarr`` too where ``tiled`` (the command line's call, whose options the tiled path takes) and the
    tiled path reads the inputs (a ``.nii``: :meth:`~kernelcli.io.offered.OutputOffer.volume_suffixes`).

    >>> check_volume_output("result.mha")
    Traceback (most recent call last):
    ...
    kernelcli.errors.UsageError: result.mha: unsupported output type '.mha' for a volume: expected one of .nii.gz, .nii, .npy, .png
    """
    from ..io.folder_names import refuse_a_folder_named_output
    from ..io.naming import refuse_inside_store
    from ..io.output_checks import check_output, refuse_folder
    refuse_volume_url(out)
    refuse_a_folder_named_output(out, store=tiled)
    o = Path(out)
    refuse_folder(o)
    refuse_inside_store(o, list(inputs))  # (a default name, run from inside a Zarr group, as -o there)
    suffix = volume_suffix(o)
    if suffix not in OUTPUT_SUFFIXES:
        offered = OutputOffer(tuple(inputs), tiled=tiled).volume_suffixes()
        raise UsageError(f"{o}: unsupported output type {suffix or '(no extension)'!r} for a volume: expected one of {', '.join(offered)}")
    return check_output(o, [src for src in inputs if src.is_file()], force=force)



def refuse_volume_url(out: Any) -> None:
    """Refuse (exit 2) a URL output of a volume, named as typed: every route of one volume (in memory, tile by tile, a
    pool, a DICOM series, a copy) asks this before its input is read.  Its folded spelling (``s3:/b/r.nii.gz``) was
    written as a local file under ./s3:, or refused in words of options and types never given.

    >>> refuse_volume_url("r.nii.gz"), refuse_volume_url(None)
    (None, None)
    >>> refuse_volume_url(Path("memory://b/v.zarr"))
    Traceback (most recent call last):
    ...
    kernelcli.errors.UsageError: memory://b/v.zarr: is a URL, and a volume is written to a local path: give a local path
    """
    from ..tiled.urls import refuse_url

    refuse_url(out, "a volume is written to a local path")


def check_volume_format(fmt: Any) -> None:
    """Refuse a ``--format`` no volume's output takes (exit 2), before :func:`check_volume_output` sees the name it
    gives: one volume's call and a batch of volumes (once) say the same, and stdout (``-o -``, whose type ``--format``
    gives) is not told of ``.nii.gz``.

    >>> check_volume_format("tif")
    Traceback (most recent call last):
    ...
    kernelcli.errors.UsageError: --format tif: unsupported output type '.tif' for a volume: --format takes npy or png for a volume (a .nii.gz or .nii output is named with -o)
    """
    fmt = getattr(fmt, "value", fmt)  # (the CLI's enum member, or its text)
    if fmt is not None and f".{fmt}" not in OUTPUT_SUFFIXES:
        raise UsageError(f"--format {fmt}: unsupported output type '.{fmt}' for a volume: --format takes npy or png for a "
                         "volume (a .nii.gz or .nii output is named with -o)")


def bare_array_note(ndim: int) -> str:
    """The note of a volume written as ``.npy``: the geometry a NIfTI header carries stays behind.

    >>> bare_array_note(3)[:60]
    'a .npy output is the voxels alone, a (z, y, x) array without'
    """
    return (f"a .npy output is the voxels alone, a ({', '.join(VOLUME_AXES[-ndim:])}) array without spacing or orientation "
            "(the --json record has the spacing); write .nii or .nii.gz to keep them")


def assumed_output_note(like: Any, affine: np.ndarray | None = None, *, store: str = "NIfTI") -> str | None:
    """The note of an output of ``like`` whose voxel size along some axis was assumed (``like.assumed_axes``), or None:
    a NIfTI output (``store`` "NIfTI") stores pixdim 0 there (see :func:`~.nifti.nifti_header`), a .zarr (``store`` "Zarr")
    null in its spacing_mm.  ``affine``: the output's grid where it is not the input's (a pool).

    >>> from .volume import Volume
    >>> like = Volume(np.zeros((2, 3, 4)), (1.0, 1.0, 1.0), np.eye(4), Path("s"), "DICOM", assumed_axes=("x", "y"))
    >>> assumed_output_note(like)[:76]
    's: the voxel size along x and y is not in the input (1 mm was assumed): the '
    """
    axes = [axis for axis in "xyz" if axis in like.assumed_axes]
    if not axes:
        return None
    along = " and ".join(axes) if len(axes) < 3 else "x, y and z"
    if store != "NIfTI":
        return (f"{like.path.name}: the voxel size along {along} is not in the input (1 mm was assumed): the {store} output's "
                f"spacing_mm holds null there")
    new_grid = affine is not None and not np.array_equal(np.asarray(affine, dtype=np.float64), like.affine)
    return (f"{like.path.name}: the voxel size along {along} is not in the input (1 mm was assumed): the output stores "
            f"pixdim 0 there, not given (nibabel and SimpleITK read it as 1), so that a kernel sized in mm stays refused "
            f"on it" + ("; the pooled grid keeps a step of 1 along it, from the first window's centre, as readers take "
                        "pixdim 0" if new_grid else ""))


def assumed_unit_steps(affine: np.ndarray, assumed_axes: tuple[str, ...]) -> np.ndarray:
    """``affine`` with a step of 1 along each voxel axis (``"x"``, ``"y"``, ``"z"``) whose size the input did not give:
    the grid a NIfTI output of a new grid states there (pixdim 0, which nibabel and SimpleITK read as 1; a qform's step
    is its pixdim, so any other step would have the qform and the sform place the grid apart, and kernelcli refuse to
    read it back), and the one a ``.zarr`` of the same call records, so that both give one grid.

    >>> assumed_unit_steps(np.diag([1.4, 1.0, 4.0, 1.0]), ("x",)).diagonal().tolist()
    [1.0, 1.0, 4.0, 1.0]
    """
    stated = np.asarray(affine, dtype=np.float64).copy()
    for n, axis in enumerate("xyz"):
        length = float(np.linalg.norm(stated[:3, n]))
        if axis in assumed_axes and length > 0:
            stated[:3, n] /= length
    return stated


def stated_sizes(spacing: list[float], assumed_axes: tuple[str, ...]) -> list[float | None]:
    """The voxel sizes (z, y, x) an output's record states: ``None`` along an axis whose size the input did not give
    (1 mm assumed), in the ``--json`` record and a ``.zarr``'s ``spacing_mm`` alike (review 51 #9).

    >>> stated_sizes([2.5, 1.0, 1.0], ("x",))
    [2.5, 1.0, None]
    """
    return [None if axis in assumed_axes else float(size) for axis, size in zip("zyx", spacing)]


def refuse_two_voxel_sizes(vol: Any, out: Path, *, pooled: bool = False) -> None:
    """Refuse (exit 2) an output that would state one voxel size of an input whose header gives it two ways
    (``vol.spacing_conflict``: pixdim, or an MGH's delta, against the affine read): a pool's new grid (its NIfTI's
    affine is the affine's, its record's spacing pixdim's: one call's outputs would place the voxels apart) and a
    ``.zarr``'s ``spacing_mm`` beside its ``affine``, as a kernel sized in mm is refused; the conflict names the
    ``--affine`` that reads the qform where one is set.  Other outputs on the input's grid run, with
    :func:`two_sizes_note`.

    >>> from .volume import Volume
    >>> vol = Volume(np.zeros((2, 2, 2)), (3.0, 3.0, 3.0), np.diag([0.9, 1.2, 2.0, 1.0]), Path("g.nii"), "NIfTI-1",
    ...              spacing_conflict="pixdim 3x3x3 mm or the sform 0.9x1.2x2 mm (x, y, z)")
    >>> refuse_two_voxel_sizes(vol, Path("o.nii"))
    >>> refuse_two_voxel_sizes(vol, Path("o.nii"), pooled=True)
    Traceback (most recent call last):
    ...
    kernelcli.errors.UsageError: g.nii: the pooled grid states one voxel size, but the header gives the voxel size two ways: pixdim 3x3x3 mm or the sform 0.9x1.2x2 mm (x, y, z); make the header agree
    """
    conflict = getattr(vol, "spacing_conflict", None)
    if not conflict:
        return
    if pooled:
        raise UsageError(f"{vol.path}: the pooled grid states one voxel size, but the header gives the voxel size two ways: "
                         f"{conflict}; make the header agree")
    if volume_suffix(Path(out)) == ".zarr":
        raise UsageError(f"{vol.path}: a .zarr output states one voxel size (spacing_mm, beside its affine), but the header "
                         f"gives the voxel size two ways: {conflict}; write .nii (or .nii.gz), which keeps the header as it "
                         "is, or make the header agree")


def two_sizes_note(vol: Any, out: Path) -> str | None:
    """The note of an output on the input's grid (a convolution or a copy) of a header that gives the voxel size two
    ways (``vol.spacing_conflict``), or None: which reading the record's spacing (and a PNG's pixel size) states,
    pixdim's (an MGH's delta), the one docs/medical.md reads voxel sizes from; a NIfTI output keeps the header.

    >>> from .volume import Volume
    >>> vol = Volume(np.zeros((2, 2, 2)), (3.0, 3.0, 3.0), np.eye(4), Path("d/g.nii"), "NIfTI-1",
    ...              spacing_conflict="pixdim 3x3x3 mm or the sform 0.9x1.2x2 mm (x, y, z)")
    >>> two_sizes_note(vol, Path("o.png"))
    "g.nii: the header gives the voxel size two ways: pixdim 3x3x3 mm or the sform 0.9x1.2x2 mm (x, y, z); the record's spacing and the PNG's pixel size are pixdim's (voxel sizes are read from pixdim)"
    """
    conflict = getattr(vol, "spacing_conflict", None)
    if not conflict:
        return None
    reading = conflict.split()[0]  # "pixdim", or an MGH's "delta"
    suffix = volume_suffix(Path(out))
    stated = "the record's spacing and the PNG's pixel size are" if suffix == ".png" else "the record's spacing is"
    kept = "; the output keeps the header as it is, both readings" if suffix in (".nii", ".nii.gz") else ""
    return (f"{Path(vol.path).name}: the header gives the voxel size two ways: {conflict}; {stated} {reading}'s (voxel sizes are "
            f"read from {reading}){kept}")


def geometry_attributes(spacing: list[float], affine: np.ndarray, ndim: int, unit_mm: float = 1.0,
                        assumed_axes: tuple[str, ...] = ()) -> dict:
    """What a volume's ``.zarr`` output records of its geometry, as the store's attributes: the array's
    axes, the voxel size in mm along (z, y, x), and the NIfTI affine (voxel (i, j, k) = (x, y, z) to RAS+ mm).
    ``unit_mm``: millimetres in the affine's unit (a NIfTI in metres: 1000), so that both are in mm;
    ``assumed_axes``: the axes whose voxel size the input did not give (1 mm assumed), null in ``spacing_mm``.

    >>> geometry_attributes([2.5, 0.9, 0.8], np.diag([0.8, 0.9, 2.5, 1.0]), 3)["axes"]
    ['z', 'y', 'x']
    >>> geometry_attributes([2.5, 0.9, 0.8], np.diag([0.0008, 0.0009, 0.0025, 1.0]), 3, 1000.0)["affine"][0]
    [0.8, 0.0, 0.0, 0.0]
    >>> geometry_attributes([2.5, 1.0, 1.0], np.eye(4), 3, assumed_axes=("x",))["spacing_mm"]
    [2.5, 1.0, None]
    """
    in_mm = np.asarray(affine, dtype=float).copy()
    in_mm[:3] *= unit_mm
    return {"axes": list(VOLUME_AXES[-ndim:]), "spacing_mm": stated_sizes(spacing, assumed_axes), "affine": in_mm.tolist()}


def write_png_slice(out: str | os.PathLike, plane: np.ndarray, *, force: bool = False,
                    pixel_mm: tuple[float, float] | None = None) -> Path:
    """Write a 2-D uint8 array as an 8-bit greyscale PNG, atomically; ``pixel_mm`` (width, height of a pixel in mm)
    goes into its pHYs chunk as pixels per metre, so that viewers that honour it draw non-square voxels to scale.
    Any other ``plane`` (another dtype, another shape) is refused, a UsageError, nothing written: its values are not
    cast (:func:`kernelcli.io.write_output` writes them through a ``rescale=``).

    >>> import tempfile; from PIL import Image
    >>> with tempfile.TemporaryDirectory() as folder, Image.open(write_png_slice(Path(folder) / "p.png", np.zeros((2, 3), np.uint8),
    ...                                                                           pixel_mm=(0.8, 2.5))) as im:
    ...     [round(d * 1000 / 25.4) for d in im.info["dpi"]]  # pixels per metre: 1000 / mm
    [1250, 400]
    """
    from PIL import Image

    from ..given_values import as_numpy, refuse_masked
    from ..io.folder_names import refuse_a_folder_named_output
    from ..io.not_held import RESCALE_ARGUMENT
    from ..io.outputs import atomic_write

    refuse_a_folder_named_output(out)
    o = Path(out)
    refuse_masked(plane, "plane")
    pixels = as_numpy(plane, "plane", "a rectangular array")
    if pixels.ndim != 2 or pixels.dtype != np.uint8 or not pixels.size:  # (300 was written as 44, -1 as 255, 0.7 as 0, NaN as 0)
        raise UsageError(f"{o}: plane is {pixels.dtype} of shape {pixels.shape}; expected a non-empty 2-D uint8 array (the grey "
                         "levels 0..255 as written); nothing was written (kernelcli.write_output(out, plane, "
                         f"{RESCALE_ARGUMENT}) writes other values to a PNG)")
    img = Image.fromarray(np.ascontiguousarray(pixels), mode="L")
    density = {} if pixel_mm is None else {"dpi": tuple(25.4 / side for side in pixel_mm)}  # (Pillow: dots per inch)
    atomic_write(o, lambda f: img.save(f, format="PNG", **density), force=force)
    return o


def write_npy(out: str | os.PathLike, data: np.ndarray, *, force: bool = False) -> Path:
    """Write the (Z, Y, X) array as ``.npy``, atomically (the one ``.npy`` writer, :func:`kernelcli.io.arrays.write_npy`);
    what :func:`kernelcli.io.write_output` refuses (NaN, infinities, complex values) is refused here in its words.

    >>> import tempfile
    >>> write_npy(Path(tempfile.mkdtemp()) / "v.npy", np.ones((2, 2, 2)) + 1j)
    Traceback (most recent call last):
    ...
    kernelcli.errors.UsageError: .../v.npy: the data holds complex values (dtype complex128), expected real numbers (bool, integer or float); nothing was written
    """
    from ..io.arrays import write_npy as write_array
    from ..io.folder_names import refuse_a_folder_named_output
    from ..io.formats import checked_result

    refuse_a_folder_named_output(out)
    o = Path(out)
    write_array(o, checked_result(o, data, "data"), force=force)  # (refused as write_output refuses it: NaN, complex)
    return o


