"""NIfTI volumes tile by tile: an uncompressed ``.nii`` read slab by slab.

``kernelcli convolve big.nii -k gaussian:1.5mm --tiled -o out.nii`` (or a ``.nii`` over the
memory cap, or ``--chunks``) reads the voxels lazily -- the offset, type and shape come from
nibabel (``nib.load(p, mmap=True).dataobj``), each tile reads only its own slabs -- and keeps
the in-memory volume path's meaning exactly: (Z, Y, X) as :func:`kernelcli.medical.nifti.read_nifti`
orders the axes (the file's (i, j, k) reversed), kernels in mm sized from the header's
spacing, the volume pad mode (replicate by default), the same separable passes and compute
path, so the result equals ``convolve`` in memory byte for byte.  A ``.nii`` output keeps
the input's header and affine (:func:`kernelcli.medical.nifti.header_bytes`) and is filled
tile by tile in a temporary file published atomically (:mod:`kernelcli.io.outputs`).

Refused here (exit 2, with what to do): ``.nii.gz`` (a gzip stream cannot be read at a
chunk's offset), scaled voxels (``scl_slope``/``scl_inter``), 4-D files with more than one
volume, and options of the in-memory path that need the whole volume.

Example
-------
>>> wanted(Path("ct.nii.gz"), tiled=False, chunks=None, scheduler=None)
False
"""

from __future__ import annotations

import contextlib
import math
import os
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

from . import tiles_asked

from ..medical.tiled_options import TILED_KINDS, untiled_options  # noqa: E402, F401 - TILED_KINDS: its former home
#: outputs of the tiled volume path
OUTPUTS = (".nii", ".zarr", ".npy")


def wanted(path: Path, *, tiled: bool, chunks: Any, scheduler: str | None, out: Any = None,
           job_bytes: Callable[[tuple[int, ...], np.dtype], int] | None = None) -> bool:
    """True when one volume input goes tile by tile: a tiled option, a Zarr output (only the tiled path writes
    one), or a ``.nii`` whose in-memory job would pass the memory cap by the reader's guard's own count
    (:func:`kernelcli.medical.volume.job_need`): ``job_bytes(shape, read)`` where the command counts its own (pool's
    :func:`kernelcli.medical.pooling.pool_job_bytes`), else :func:`kernelcli.medical.volume.volume_job_bytes`, of the
    voxels as read (a scaled NIfTI's float, :func:`kernelcli.medical.nifti_open.read_dtype`), and the read itself."""
    if tiles_asked(tiled=tiled, chunks=chunks, scheduler=scheduler) or _local_store(out):
        return True
    if not str(path).lower().endswith(".nii") or not path.is_file():
        return False
    from ..limits import default_max_bytes

    cap = default_max_bytes()
    if cap is None:
        return False
    try:
        import nibabel as nib

        from ..medical.nifti_open import nibabel_messages, open_nifti, read_dtype

        with nibabel_messages(path):  # what nibabel logs ("pixdim[1,2,3] should be...") the reader notes, not stderr
            img = open_nifti(nib, path)
        if math.prod(int(n) for n in img.shape[3:]) > 1:
            return False  # several volumes: the tiled path takes none of them (--volume picks one in memory)
        from ..medical.volume import job_need

        need = job_need(tuple(int(n) for n in img.shape[:3]), np.dtype(img.get_data_dtype()), job_bytes, read_dtype(img))
    except Exception:  # noqa: BLE001 - unreadable here: the in-memory reader says why
        return False
    return need > cap  # what the in-memory reader's guard counts (check_volume_memory)


class NiftiVoxels:
    """The voxels of an uncompressed ``.nii`` as a (Z, Y, X) array-like for ``dask.array.from_array``.

    Each ``[...]`` maps the file read-only (nibabel's offset, type and Fortran order), takes the
    slab and returns it in native byte order; only the path travels to a cluster's workers.
    """

    def __init__(self, path: Path, offset: int, dtype: np.dtype, shape_ijk: tuple[int, int, int]) -> None:
        self.path, self.offset, self.stored = os.path.abspath(path), int(offset), np.dtype(dtype)  # (workers' own folders)
        self.name = str(path)  # (as the user gave it, for messages)
        self.shape_ijk = shape_ijk
        self.shape = shape_ijk[::-1]
        self.dtype = self.stored.newbyteorder("=")
        self.ndim = 3
        from .reading import file_identity

        self.identity = file_identity(os.stat(self.path))  # (the file as opened: one replaced meanwhile is refused)

    def __getitem__(self, key: Any) -> np.ndarray:
        from .reading import plain_slices

        key = key if isinstance(key, tuple) else (key,)
        if plain_slices(key, 3):
            return self._read(key)
        try:
            mm = np.memmap(self.path, dtype=self.stored, mode="r", offset=self.offset, shape=self.shape_ijk, order="F")
        except (OSError, ValueError) as exc:  # (cut short or removed since open_volume checked it: a bad input, exit 2)
            raise self.unreadable(exc) from None
        block = np.array(mm.T[key], dtype=self.dtype)  # (k, j, i) as read_nifti orders it; a copy: the map is closed
        del mm
        from .reading import changed_while_read, file_identity

        if (now := file_identity(os.stat(self.path))) != self.identity:
            raise changed_while_read(self.name, self.identity, now)
        return block

    def _read(self, key: tuple[slice, ...]) -> np.ndarray:
        """The slab ``key`` read from the file, not copied out of a memory map: that faults (SIGBUS, which no Python
        code catches) on a file cut short meanwhile.  (k, j, i), as read_nifti orders the voxels, is the C order of
        the file's Fortran-order (i, j, k)."""
        from .reading import read_c_order_block

        try:
            short = os.path.getsize(self.path) < self.offset + math.prod(self.shape_ijk) * self.stored.itemsize
        except OSError as exc:
            raise self.unreadable(exc) from None
        if short:
            raise self.unreadable(EOFError("cut short"))
        block = read_c_order_block(self.name, self.path, self.offset, self.stored, self.shape, key, identity=self.identity)
        return block.astype(self.dtype, copy=False)

    def unreadable(self, exc: Exception) -> Exception:
        """The ImageReadError of a file that no longer holds the voxels :func:`open_volume` checked (audit 189 #3: a
        ``.nii`` cut short during a tiled run was 'internal error: ValueError: mmap length is greater than file size')."""
        from ..errors import ImageReadError

        need = self.offset + math.prod(self.shape_ijk) * self.stored.itemsize
        try:
            size = os.path.getsize(self.path)
        except FileNotFoundError:
            from .reading import gone_where_computed

            return ImageReadError(gone_where_computed(self.name))
        except OSError as error:
            exc = error
        else:
            if size < need:
                return ImageReadError(f"{self.name}: cannot read the voxel data: the file has {size} bytes, its header "
                                      f"needs {need} (truncated file, or changed while it was read?)")
        return ImageReadError(f"{self.name}: cannot read the voxel data: {getattr(exc, 'strerror', None) or exc}")


def open_volume(path: Path, affine: str | None = None, advice: str = "leave out --tiled/--chunks") -> tuple[Any, Any]:
    """``(voxels, vol)``: a :class:`NiftiVoxels` and a :class:`kernelcli.medical.volume.Volume` holding
    the header, affine and spacing (its ``data`` an empty placeholder).  The affine is the qform or the
    sform as the in-memory reader decides (:func:`kernelcli.medical.nifti.nifti_affine`; ``affine``
    is ``--affine``).  Refusals exit 2, ending with ``advice`` (:func:`advice`) where it applies."""
    from ..errors import ImageReadError, UsageError
    from ..io.read_words import CLI
    from ..medical.nifti import nifti_geometry
    from ..medical.nifti_open import nibabel_messages, not_a_volume, open_nifti
    from ..medical.volume import Volume, require

    nib = require("nibabel", "NIfTI")
    name = str(path).lower()
    if name.endswith(".nii.gz"):
        raise UsageError(f"{path}: a .nii.gz is one gzip stream, which cannot be read tile by tile; "
                         f"decompress it first (gunzip -k {path}) and give the .nii, or {advice}")
    if not name.endswith(".nii"):
        raise UsageError(f"{path}: the tiled path reads volumes from an uncompressed .nii; "
                         f"convert it (e.g. to .nii or .zarr) or {advice}")
    with nibabel_messages(path) as told:
        img = open_nifti(nib, path, mmap=True) if path.is_file() else open_nifti(nib, path)
    if not isinstance(img, (nib.Nifti1Image, nib.Nifti2Image)):
        raise ImageReadError(f"{path}: {type(img).__name__} is not NIfTI-1 or NIfTI-2")
    proxy = img.dataobj
    shape = tuple(int(n) for n in img.shape)
    while len(shape) > 3 and shape[-1] == 1:
        shape = shape[:-1]  # (i, j, k, 1): one volume, as read_nifti takes it
    if len(shape) < 3:  # (a slice: nothing to extract, no --volume to pick; in memory it runs, its depth assumed)
        zyx = (1,) * (3 - len(shape)) + shape[::-1]  # as the record and the in-memory reader give it
        # (its header has no third axis, so no slice thickness: in memory its depth is assumed, with a note; a one-slice
        # volume whose header has one, (i, j, 1) or (i, j, 1, 1), runs here: review 52 #5)
        raise UsageError(f"{path}: a {len(shape)}-D image ({'x'.join(map(str, zyx))} as (Z, Y, X)): its header has no slice "
                         f"axis, so no slice thickness; the tiled path takes a 3-D volume: {advice}")
    if len(shape) > 4:  # (a vector or tensor field: as in memory, where no --volume picks one either)
        raise ImageReadError(not_a_volume(path, tuple(int(n) for n in img.shape)))
    if len(shape) != 3:
        raise UsageError(f"{path}: a {len(shape)}-D image ({'x'.join(map(str, img.shape))}); the tiled path takes one 3-D "
                         f"volume: extract one (fslroi, or nibabel) or {advice} (--volume N in memory)")
    slope, inter = float(getattr(proxy, "slope", 1.0)), float(getattr(proxy, "inter", 0.0))
    if not (math.isfinite(slope) and slope != 0):
        slope = 1.0
    if not math.isfinite(inter):
        inter = 0.0
    if (slope, inter) != (1.0, 0.0):
        raise UsageError(f"{path}: scaled voxels (scl_slope {slope:g}, scl_inter {inter:g}); the tiled path reads stored "
                         f"values as they are: {advice}, or rescale the file first (e.g. to float32)")
    dtype = np.dtype(img.get_data_dtype())
    if dtype.kind not in "biuf":
        raise ImageReadError(f"{path}: voxel type {dtype} is not real numbers (RGB or complex); expected a scalar volume")
    size = os.path.getsize(path)
    need = int(proxy.offset) + math.prod(shape) * dtype.itemsize
    if size < need:
        raise ImageReadError(f"{path}: cannot read the voxel data: the file has {size} bytes, its header needs {need} (truncated file?)")
    notes = list(told)
    header = img.header
    geometry = nifti_geometry(img, path, affine, notes, words=CLI)  # (the command line's tiled path)
    vol = Volume(
        data=np.empty((0, 0, 0), dtype=dtype.newbyteorder("=")), spacing=geometry.spacing,
        affine=geometry.affine, path=path,
        format="NIfTI-2" if isinstance(img, nib.Nifti2Image) else "NIfTI-1", header=header, image_class=type(img),
        notes=notes, stored_dtype=dtype.newbyteorder("="), orientation_unknown=geometry.orientation_unknown,
        spacing_assumed=geometry.spacing_assumed, spacing_conflict=geometry.spacing_conflict,
        assumed_axes=geometry.assumed_axes, kept_axes=tuple(int(n) for n in img.shape[3:]),  # (i, j, k, 1): kept 4-D
    )
    return NiftiVoxels(path, int(proxy.offset), dtype, shape), vol


def _local_store(out: Any) -> bool:
    """True for a local ``.zarr`` output, which only the tiled path writes (a store at a URL is not written
    for a volume: :func:`kernelcli.medical.writers.refuse_volume_url` refuses it)."""
    from .stores import is_chunked
    from .urls import as_url

    return is_chunked(out) and as_url(out) is None


def advice(path: Path, chunks: Any, scheduler: str | None, out: Any = None) -> str:
    """What to do instead of the tiled volume path, ending a refusal: write another format than the Zarr
    store that chose it, leave out the options that chose it, or, where the ``.nii`` took it by itself for
    its size, raise the memory cap.

    >>> advice(Path("ct.nii"), 64, None), advice(Path("ct.nii.gz"), None, None, Path("o.zarr"))[:34]
    ('leave out --tiled/--chunks', 'write another format than .zarr (.')
    """
    if _local_store(out):
        from ..io.offered import VOLUME_SUFFIXES

        return f"write another format than .zarr ({', '.join(VOLUME_SUFFIXES[:-1])} or {VOLUME_SUFFIXES[-1]}: only the tiled path writes a Zarr store)"
    if chunks is None and scheduler is None and wanted(path, tiled=False, chunks=None, scheduler=None):
        return ("it went tile by tile because its in-memory run would exceed KERNELCLI_MAX_MEMORY: "
                "raise KERNELCLI_MAX_MEMORY to run it in memory")
    return "leave out --tiled/--chunks" + ("/--scheduler" if scheduler is not None else "")


def dask_volume(voxels: NiftiVoxels, chunks: Any = None) -> Any:
    """The lazy (Z, Y, X) dask array over ``voxels``, in tiles of ``chunks`` (default: the tiled path's default
    tile, bounded in bytes: :func:`kernelcli.tiled.arrays.default_tile`)."""
    from . import require
    from .arrays import DEFAULT_TILE, default_tile

    da = require("dask.array", f"reading {Path(voxels.path).name} tile by tile")
    sides = chunks
    if chunks is None:
        sides = default_tile([min(DEFAULT_TILE, n) for n in voxels.shape], [True] * 3, voxels.dtype.itemsize)
    if isinstance(sides, int):
        sides = (sides,) * 3
    sides = tuple(int(c) for c in sides) + tuple(voxels.shape[len(sides):])
    return da.from_array(voxels, chunks=tuple(min(c, n) for c, n in zip(sides, voxels.shape)), asarray=False, fancy=False)


def check_output(input_path: Path, out: Path | None, label: str, force: bool, *, name: str | None = None,
                 fmt: str | None = None, chunks: Any = None, scheduler: str | None = None) -> Path:
    """The output path (default ``<stem>_<label>.nii``; ``name`` and ``fmt`` as for
    :func:`kernelcli.medical.jobs.default_volume_output`), checked before any work (exit 2 or 4).  An output this path
    cannot write is refused ending with :func:`advice` (``chunks``, ``scheduler``: the options given), as an option
    it cannot take is: where the memory cap chose the path, the user gave no tiled option to leave out."""
    from ..errors import UsageError
    from ..medical.jobs import default_volume_output
    from ..medical.writers import refuse_volume_url
    from .outputs import check_tiled_output

    refuse_volume_url(out)  # (its folded spelling was 'the folder memory:/b does not exist')
    if out is None:
        out = default_volume_output(input_path, label, name=name, fmt=fmt, extension=".nii")
    name = str(out).lower()
    if not name.rstrip("/").endswith(".zarr"):  # (a store is a folder)
        from ..io.output_checks import refuse_folder

        refuse_folder(out)
    if not any(name.rstrip("/").endswith(s) for s in OUTPUTS):
        from ..medical.writers import OUTPUT_SUFFIXES

        instead = advice(input_path, chunks, scheduler, out)  # (only where the in-memory path writes the output)
        what = (f"a .nii.gz is one gzip stream, written in order: {instead}, or write the .nii and gzip it afterwards"
                if name.endswith(".nii.gz") else f"got {out.suffix or 'no extension'}"
                + (f": {instead}" if name.endswith(OUTPUT_SUFFIXES) else ""))
        raise UsageError(f"{out}: the tiled volume path writes .nii (the input's header, tile by tile), .zarr or .npy; {what}")
    check_tiled_output(out, input_path, force)
    return out


class RawTarget:
    """A region of a raw file (a ``.nii``'s voxels after its header) that tiles write into, opened per task."""

    def __init__(self, path: str, offset: int, dtype: np.dtype, shape: tuple[int, ...]) -> None:
        self.path, self.offset, self.dtype, self.shape = os.path.abspath(path), offset, np.dtype(dtype), tuple(shape)

    def open_memmap(self) -> np.ndarray:
        return np.memmap(self.path, dtype=self.dtype, mode="r+", offset=self.offset, shape=self.shape)


def write_nii(result: Any, dest: Path, vol: Any, *, force: bool, run: Any, label: str, affine: Any = None) -> list[Any]:
    """Write the (Z, Y, X) dask array ``result`` as ``dest`` (a ``.nii`` with ``vol``'s header and affine), tile by tile.

    The header goes first into a temporary file beside ``dest``; the tiles fill its voxels
    ((Z, Y, X) in C order is NIfTI's x-fastest order); ``affine`` replaces the input's (pooling); an inf/NaN result is refused (exit 6)
    and the file is published only when complete (``--force`` to replace).
    """
    from ..io.outputs import _publish, signals_deferred, temporary_beside, write_failure
    from ..medical.nifti import header_bytes
    from .files import finite_check
    from .writers import _tasks, reserve_blocks

    dtype = np.dtype(result.dtype)
    blob = header_bytes(SimpleNamespace(shape=tuple(result.shape), dtype=dtype), vol, affine)
    folder = dest.parent if str(dest.parent) else Path(".")
    tmp = None
    try:
        with signals_deferred():  # a signal now is raised once ``tmp`` is known, so the finally removes it
            fd, tmp = temporary_beside(dest, folder)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(blob)
                f.truncate(len(blob) + math.prod(result.shape) * dtype.itemsize)
                reserve_blocks(f.fileno())  # (tiles write through a map: a full disk there is a SIGBUS)
        except OSError as exc:  # (the folder took the file: what fails now is writing it)
            raise write_failure(dest, exc) from None
        ranges = run(_tasks(result, RawTarget(tmp, len(blob), dtype, tuple(result.shape))))
        finite_check(vol.path, label, dtype)(ranges)
        _publish(tmp, dest, force=force)
        return ranges
    except OSError as exc:
        raise write_failure(dest, exc) from None
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def convolve_volume_tiled(input_path: Path, spec: str | None, options: Any, *, out: Path | None, force: bool = False,
                          chunks: Any = None, scheduler: str | None = None, workers: int | None = None,
                          progress: Any = None, name: str | None = None, fmt: str | None = None) -> Any:
    """``convolve`` of one ``.nii`` volume tile by tile, equal to :func:`kernelcli.medical.jobs.convolve_volume_file`.

    ``options`` is a :class:`kernelcli.medical.volume_options.VolumeOptions`; its ``paths`` (the policy the
    in-memory job runs under) decides the path once for the whole volume, pinned for every tile.
    Returns a VolumeReport.
    """
    from ..errors import UsageError
    from ..medical.kernels import resolve_volume_kernel
    from .arrays import asked_tile, correlate_separable

    if spec is None:
        raise UsageError(f"{input_path}: a copy (no --kernel) is made in memory, not tile by tile; give a --kernel "
                         f"(e.g. gaussian:1.5mm), or {advice(input_path, chunks, scheduler, out)}")
    kernel = resolve_volume_kernel(spec)  # exit 3 before any voxel is read
    if kernel.kind not in TILED_KINDS:
        raise UsageError(f"{input_path}: {kernel.name} is not available tile by tile (there: gaussian/fwhm/box in mm or "
                         f"voxels, and named 3-D kernels); {advice(input_path, chunks, scheduler, out)}")
    given = untiled_options(options)
    if given:
        raise UsageError(f"{input_path}: {', '.join(given)}: not available on the tiled volume path; "
                         f"{advice(input_path, chunks, scheduler, out)}")
    label = f"convolve {options.label(kernel)}"  # (no .png here: check_output refuses one)
    out = check_output(input_path, out, options.label(kernel), force, name=name, fmt=fmt, chunks=chunks, scheduler=scheduler)  # first: a .png, which the tiled path cannot write, says so
    from ..medical.filtering import check_kernel_options
    from ..medical.views import axis_for_output

    options, axis_note = axis_for_output(kernel, options, out)  # a 3-D kernel keeps its z pass: --axis is then noted
    try:
        check_kernel_options(kernel, options)
    except UsageError as exc:
        raise UsageError(f"{input_path}: {exc}") from None
    voxels, vol = open_volume(input_path, options.affine, advice(input_path, chunks, scheduler, out))
    from ..medical.filtering import check_spacing_known, filter3d_factors
    from ..jobs_common import _named
    from .files import finite_input, naming_non_finite

    from ..medical.writers import refuse_two_voxel_sizes, two_sizes_note

    check_spacing_known(vol, kernel, options.axis)
    refuse_two_voxel_sizes(vol, out)  # a .zarr's spacing_mm beside its affine
    factors, notes = filter3d_factors(vol.spacing, kernel, options)
    notes = notes + axis_note + list(filter(None, [two_sizes_note(vol, out)]))
    raw = dask_volume(voxels, chunks)
    with naming_non_finite(input_path, raw):
        result = _named(input_path, lambda: correlate_separable(  # (a --chunks of 4 sides, say, named the file under pool only)
            finite_input(raw), factors, pad_mode=options.pad_mode, pad_value=options.pad_value, chunks=chunks,
            paths=options.paths, screened=True))
        return _write(input_path, voxels.shape, result, vol, out, label, notes, force=force, scheduler=scheduler,
                      workers=workers, progress=progress, kernel=kernel.name, units=kernel.result_units(vol.units),
                      tile=asked_tile(raw, 3, chunks, result.dtype))


def pool_volume_tiled(input_path: Path, size: int, *, op: str = "max", stride: int | None = None, padding: int = 0,
                      ceil_mode: bool = False, count_include_pad: bool = True, options: Any = None, out: Path | None = None,
                      force: bool = False, chunks: Any = None, scheduler: str | None = None, workers: int | None = None,
                      progress: Any = None, name: str | None = None, fmt: str | None = None) -> Any:
    """``pool`` of one ``.nii`` volume tile by tile, equal to :func:`kernelcli.medical.pooling.pool_volume_file`
    (the same pooled grid: voxel sizes times the stride, the affine moved to the first window's centre)."""
    from ..errors import UsageError
    from ..medical.volume_options import VolumeOptions
    from ..modes import canonical_pool_op
    from .arrays import asked_tile, pool3d
    from .files import finite_input, naming_non_finite

    options = options or VolumeOptions()
    given = untiled_options(options, pooling=True)
    if given:
        raise UsageError(f"{input_path}: {', '.join(given)}: not available on the tiled volume path; "
                         f"{advice(input_path, chunks, scheduler, out)}")
    op = canonical_pool_op(op)
    from ..medical.pooling import pool_volume_label

    label = pool_volume_label(options, size, op=op, stride=stride, padding=padding, ceil_mode=ceil_mode,
                              count_include_pad=count_include_pad, out=out, fmt=fmt)
    out = check_output(input_path, out, label, force, name=name, fmt=fmt, chunks=chunks, scheduler=scheduler)
    voxels, vol = open_volume(input_path, options.affine, advice(input_path, chunks, scheduler, out))
    from ..medical.writers import refuse_two_voxel_sizes

    refuse_two_voxel_sizes(vol, out, pooled=True)  # as pool_volume_file
    step = size if stride is None else stride
    from ..medical.pooling import check_slices

    check_slices(input_path, voxels.shape, size, padding, stride=step, ceil_mode=ceil_mode)
    raw = dask_volume(voxels, chunks)
    from ..jobs_common import _named

    with naming_non_finite(input_path, raw):  # (a refusal named no input: "pool window 2 is larger than the padded input 1")
        result = _named(input_path, lambda: pool3d(finite_input(raw), size, stride=step, op=op, padding=padding, ceil_mode=ceil_mode,
                                                    count_include_pad=count_include_pad,
                                                    chunks=chunks, paths=options.paths, screened=True))
    grid = np.eye(4)  # as pool_volume_file: new voxel n sits at old index n*step - padding + (size-1)/2
    grid[:3, :3] *= step
    grid[:3, 3] = (size - 1) / 2 - padding
    from ..medical.nifti import slice_timing_note

    from ..medical.views import unused_view_note

    timing = slice_timing_note(vol) if out.suffix.lower() == ".nii" else None
    notes = [n for n in (timing, unused_view_note(options.axis, out)) if n]
    with naming_non_finite(input_path, raw):
        return _write(input_path, voxels.shape, result, vol, out, label, notes, force=force, scheduler=scheduler,
                      workers=workers, progress=progress, affine=vol.affine @ grid, spacing=[s * step for s in vol.spacing],
                      units=vol.units, tile=asked_tile(raw, 3, chunks, result.dtype))


def _write(input_path: Path, input_shape: Any, result: Any, vol: Any, out: Path, label: str, notes: list[str], *, force: bool,
           scheduler: str | None, workers: int | None, progress: Any, affine: Any = None, spacing: list[float] | None = None,
           kernel: str | None = None, units: str | None = None, tile: Any = ()) -> Any:
    """Compute ``result`` tile by tile into ``out`` (.nii with ``vol``'s header, .zarr with its geometry as attributes,
    or .npy); the VolumeReport. ``affine`` and ``spacing`` are the result's where they are not ``vol``'s (a pool);
    ``units`` the result's (:meth:`kernelcli.volume_grammar.VolumeKernel.result_units`; a pool keeps the input's);
    ``tile`` the input tile asked, for the many-tiles note (:func:`kernelcli.tiled.files.tile_runner`)."""
    from ..medical.jobs import VolumeReport
    from ..medical.writers import assumed_output_note, assumed_unit_steps, bare_array_note, geometry_attributes, stated_sizes
    from .cluster import describe
    from .files import finite_check, tile_runner

    start = time.perf_counter()
    spacing = list(vol.spacing) if spacing is None else spacing
    run_notes = [f"{input_path.name}: NIfTI, read tile by tile ({describe(scheduler)})"]
    with tile_runner(result, run_notes, tile, scheduler=scheduler, workers=workers, progress=progress) as run:
        suffix = out.suffix.lower()
        if suffix == ".nii":
            ranges = write_nii(result, out, vol, force=force, run=run, label=label, affine=affine)
            notes = [*notes, *filter(None, [assumed_output_note(vol, affine)])]
        else:
            from . import writers

            check = finite_check(input_path, label, result.dtype)
            if suffix == ".zarr":
                from ..medical.nifti_geometry import spatial_unit_mm

                # (a new grid as its .nii states it: review 51 #1 found the two outputs of one pool 1.0 and 1.4 apart)
                grid = vol.affine if affine is None else assumed_unit_steps(affine, vol.assumed_axes)
                attributes = geometry_attributes(spacing, grid, result.ndim, spatial_unit_mm(vol.header), vol.assumed_axes)
                notes = [*notes, *filter(None, [assumed_output_note(vol, affine, store="Zarr")])]
                ranges = writers.write_zarr(result, out, force=force, run=run, check=check, attributes=attributes)
            else:
                ranges = writers.write_npy(result, out, force=force, run=run, check=check)
                notes = [*notes, bare_array_note(result.ndim)]
    lows = [r[0] for r in ranges if r is not None]
    highs = [r[1] for r in ranges if r is not None]
    return VolumeReport(
        input=str(input_path), operation=label, input_shape=list(input_shape), output_shape=list(result.shape),
        output=str(out), minimum=min(lows), maximum=max(highs), seconds=time.perf_counter() - start,
        dtype=str(result.dtype), total=int(result.size), notes=vol.notes + notes + run_notes, kernel=kernel,
        spacing=stated_sizes(spacing, vol.assumed_axes), format=vol.format, units=units,
    )
