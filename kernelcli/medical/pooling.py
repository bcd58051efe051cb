"""``kernelcli pool`` of a volume (NIfTI, DICOM, MGH, NRRD, MetaImage): in 3-D, as PyTorch's max_pool3d/avg_pool3d,
written on the pooled grid.

Example
-------
>>> check_slices(Path("ct.dcm"), (1, 128, 128), 2, 0, ceil_mode=True)
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from ..jobs_common import _named, check_finite_result, min_max
from ..volume_inputs import volume_suffix
from .jobs import VolumeReport, default_volume_output, write_result
from .volume_options import VolumeOptions
from .views import is_png_output, unused_view_note
from .nifti import slice_timing_note
from .writers import check_volume_format, check_volume_output, refuse_two_voxel_sizes, stated_sizes


def check_slices(src: Path, shape: tuple[int, ...], size: int, padding: int, *, stride: int | None = None,
                 ceil_mode: bool = False, array: bool = False, cli: bool = True) -> None:
    """Refuse a volume of ``shape`` (Z, Y, X) whose slices give no pooled output (a single DICOM slice pooled with
    --size 2), by the rule :func:`kernelcli.pool3d` keeps (:func:`kernelcli.shapes.pool_output_size`: the size,
    ``stride`` (default: the size), ``padding`` and ``ceil_mode``), saying that pool works in 3-D and how to pool
    each slice in 2-D (``array``: a --layout zyx array, pooled so with --layout chw; not ``cli``: a Python caller's
    :func:`kernelcli.pool2d` of the slices as channels); a padding past PyTorch's rule is left to the pooling's own
    message.

    >>> check_slices(Path("ct.dcm"), (1, 128, 128), 2, 0, ceil_mode=True)  # one window, starting on the slice
    >>> check_slices(Path("ct.dcm"), (1, 128, 128), 2, 0)
    Traceback (most recent call last):
    ...
    kernelcli.errors.ShapeError: ct.dcm: axis z: pool window span 2 (f=2) is larger than the padded input 1 ...
    """
    from ..errors import ShapeError
    from ..shapes import pool_output_size

    slices = int(shape[0])
    if padding > size // 2:
        return
    if not cli:
        how = f"give pool2d the slices as channels: pool2d(read_volume({str(src)!r}).data.transpose(1, 2, 0), {size})"
    elif array:
        how = "pool it with --layout chw"
    else:
        how = f"write the volume as a .npy (kernelcli convolve {src} -o slices.npy) and pool that with --layout chw"
    try:
        pool_output_size(slices, size, stride=size if stride is None else stride, padding=padding, ceil_mode=ceil_mode)
    except ShapeError as exc:
        raise ShapeError(
            f"{src}: axis z: {exc}; the volume has {slices} slice{'s' if slices != 1 else ''} "
            f"({'x'.join(map(str, shape))}, z, y, x), and {'pool' if cli else 'pool_volume_file'} works in 3-D, as PyTorch's "
            "max_pool3d/avg_pool3d; to pool each slice "
            f"in 2-D, {how}"
        ) from None


def pool_volume_bytes(shape: tuple[int, ...], stored: Any, size: int, *, op: str, stride: int, padding: int,
                      ceil_mode: bool) -> int:
    """Bytes a volume's pooling holds at its peak: the ``shape`` voxels of ``stored`` as read, every frame's result of a
    4-D input, and the larger of the two paths' allocations beside one volume
    (:func:`kernelcli.volume_args.pool3d_bytes`: an average's float copy and its result), and :data:`POOL_SLACK_BYTES`.
    The memory guard and the tiled path's choice (:func:`kernelcli.tiled.nifti.wanted`) both count this.

    >>> round(pool_volume_bytes((120, 256, 256), np.int16, 2, op="avg", stride=1, padding=0, ceil_mode=False) / 2**20, 1)
    78.0
    """
    import math

    from ..errors import ShapeError
    from ..modes import KEEPS_DTYPE
    from ..ndsupport import volume_dtype
    from ..shapes import pool_output_size
    from ..volume_args import pool3d_bytes

    stored = np.dtype(stored)
    frame, frames = tuple(shape[-3:]), math.prod(shape[:-3])
    try:
        out = tuple(pool_output_size(n, size, stride=stride, padding=padding, ceil_mode=ceil_mode) for n in frame)
    except ShapeError:  # no output: the pooling refuses it naming the volume and the axis, after this count
        return math.prod(shape) * stored.itemsize + POOL_SLACK_BYTES
    cdt = stored if op in KEEPS_DTYPE else volume_dtype(stored)
    path_bytes = max(pool3d_bytes(frame, (size,) * 3, (stride,) * 3, (padding,) * 3, op, out, cdt, stored))
    results = frames * math.prod(out) * cdt.itemsize if frames > 1 else 0
    return math.prod(shape) * stored.itemsize + results + path_bytes + POOL_SLACK_BYTES


def pool_job_bytes(size: int, *, op: str, stride: int | None, padding: int, ceil_mode: bool) -> Any:
    """The count of one volume pooling, ``(shape, stored) -> bytes`` (:func:`pool_volume_bytes`): declared once for its
    three users, the NIfTI reader's memory guard, the tiled path's choice (:func:`kernelcli.tiled.nifti.wanted`) and the
    check once the voxels are read (in the dtype they are read as).

    >>> round(pool_job_bytes(2, op="max", stride=None, padding=0, ceil_mode=False)((120, 256, 256), np.int16) / 2**20, 1)
    18.9
    """
    step = size if stride is None else stride

    def job_bytes(shape: tuple[int, ...], stored: Any) -> int:
        return pool_volume_bytes(shape, stored, size, op=op, stride=step, padding=padding, ceil_mode=ceil_mode)

    return job_bytes


#: what a pooling holds beside its arrays: the loops' argument and index arrays, the writer's buffers (tracemalloc
#: found up to 2.3 MiB over the arrays on a 120x256x256 volume, 0.3 MiB on a 40x96x112 one)
POOL_SLACK_BYTES = 2 * 2**20


def pool_volume_label(options: VolumeOptions, size: int, *, op: str = "max", stride: int | None = None, padding: int = 0,
                      ceil_mode: bool = False, count_include_pad: bool = True, out: Any = None, fmt: str | None = None) -> str:
    """The words naming a volume's pooling in its default output and report, in memory and tile by tile: pool's label,
    then a .png's coronal or sagittal view, --volume and --resample-slices, as a convolution's (one rule).

    >>> pool_volume_label(VolumeOptions(axis="x"), 2, fmt="png"), pool_volume_label(VolumeOptions(), 3, op="avg", padding=1)
    ('maxpool2_axisx', 'avgpool3p1')
    """
    from ..modes import canonical_pool_op
    from ..result_names import pool_label

    return options.label(pool_label(canonical_pool_op(op), size, stride, padding, ceil_mode, not count_include_pad),
                         png=is_png_output(out, fmt))


def pool_volume_file(
    input_path: str | os.PathLike,
    size: int,
    *,
    op: str = "max",
    stride: int | None = None,
    padding: int = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    out: str | os.PathLike | None = None,
    force: bool = False,
    window: tuple[float, float] | None = None,
    options: VolumeOptions | None = None,
    name: str | None = None,
    fmt: str | None = None,
    zarr_offered: bool = False,
    words: str = "api",
) -> VolumeReport:
    """Pool one volume in 3-D (as PyTorch's max_pool3d/avg_pool3d) and write it; a 4-D input pools each volume.

    A NIfTI output gets the pooled grid: voxel sizes times the stride, and an affine whose
    voxel (0, 0, 0) sits at the centre of the first window, so it still overlays the input;
    the rest of the header (qform/sform codes, TR, units) is kept.  ``zarr_offered``: the command line's call, whose
    tiled path writes a ``.zarr``, named where an output type is refused.  ``words``: ``"api"`` (a Python caller's
    refusals name its arguments) or ``"cli"`` (the command line's options), as :func:`~kernelcli.medical.read_volume`.
    """
    options = options or VolumeOptions(window=window)
    if window is not None and options.window is None:
        options = VolumeOptions(**{**options.__dict__, "window": window})
    from .. import volumes
    from ..modes import canonical_pool_op

    op = canonical_pool_op(op)
    label = pool_volume_label(options, size, op=op, stride=stride, padding=padding, ceil_mode=ceil_mode,
                              count_include_pad=count_include_pad, out=out, fmt=fmt)
    src = Path(input_path)
    check_volume_format(fmt)  # (before the name it gives, as convolve's)
    from .tiled_options import tiled_takes

    out_path = check_volume_output(out if out is not None else default_volume_output(src, label, name=name, fmt=fmt), (src,),
                                   force=force, tiled=zarr_offered and tiled_takes(options, pooling=True))
    from ..io.read_words import words_for

    cli = words_for(words).cli
    job_bytes = pool_job_bytes(size, op=op, stride=stride, padding=padding, ceil_mode=ceil_mode)
    # (a NIfTI's guard counts the pooling's own, as wanted does)
    vol = options.read(src, done="pooled", job_bytes=job_bytes, cli=cli)
    refuse_two_voxel_sizes(vol, out_path, pooled=True)  # (its NIfTI's affine and its record's spacing would disagree)
    step = size if stride is None else stride
    check_slices(src, vol.data.shape[-3:], size, padding, stride=step, ceil_mode=ceil_mode, cli=cli)
    from ..limits import check_peak

    need = job_bytes(vol.data.shape, vol.data.dtype)
    _named(src, lambda: check_peak(need, f"{src}: {label}"))  # (as read: a DICOM's guard counted no op, a NIfTI's its header dtype)
    start = time.perf_counter()
    pooling = {"stride": step, "op": op, "padding": padding, "ceil_mode": ceil_mode, "count_include_pad": count_include_pad,
               "paths": options.paths}

    def pooled() -> np.ndarray:
        if vol.data.ndim == 3:
            return volumes.pool3d(vol.data, size, **pooling)
        first = volumes.pool3d(vol.data[0], size, **pooling)
        result = np.empty((vol.data.shape[0], *first.shape), dtype=first.dtype)  # filled frame by frame: no list of copies
        result[0] = first
        for t in range(1, vol.data.shape[0]):
            result[t] = volumes.pool3d(vol.data[t], size, **pooling)
        return result

    result = _named(src, pooled)  # a refusal names the file, as for images and arrays
    seconds = time.perf_counter() - start
    minimum, maximum = min_max(result)  # ints for whole numbers: an int64 past 2**53 is not rounded
    check_finite_result(src, label, minimum, maximum, result.dtype)  # an average's window sum past float32: never written
    # new voxel n sits at old index n*step - padding + (size-1)/2, on each of (i, j, k)
    grid = np.eye(4)
    grid[:3, :3] *= step
    grid[:3, 3] = (size - 1) / 2 - padding
    affine = vol.affine @ grid
    report = VolumeReport(
        input=str(src), operation=label, input_shape=list(vol.data.shape), output_shape=list(result.shape),
        output=str(out_path), minimum=minimum, maximum=maximum, seconds=seconds,
        dtype=str(result.dtype), total=int(result.size), notes=list(vol.notes),
        spacing=stated_sizes([s * step for s in vol.spacing], vol.assumed_axes), format=vol.format, units=vol.units,
    )
    timing = slice_timing_note(vol) if volume_suffix(out_path) in (".nii", ".nii.gz") else None
    report.notes.extend(filter(None, [timing, unused_view_note(options.axis, out_path)]))
    write_result(out_path, result, vol, options, report, force=force, affine=affine)
    return report
