"""Volume file jobs: resolve the kernel, check the output, read, filter or pool, write."""

from __future__ import annotations

import math
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InvalidKernel, UsageError
from ..jobs import Report
from ..volume_inputs import volume_suffix
from .nifti import write_nifti
from .volume import Volume, read_volume, volume_stem
from .window import apply_window
from .writers import check_volume_output, write_npy, write_png_slice


_MM_SPEC = re.compile(r"\s*(gaussian|box)\s*:\s*([0-9]*\.?[0-9]+(?:e[+-]?[0-9]+)?)\s*(mm|vox)\s*", re.IGNORECASE)


@dataclass(frozen=True)
class VolumeKernel:
    """A ``--kernel`` spec resolved for volumes (before any input is read).

    ``kind`` is ``gaussian_mm``/``box_mm`` (size in mm, resolved with the spacing),
    ``gaussian_vox``/``box_vox`` (size in voxels), ``3d`` (a named 3-D kernel) or ``2d`` (a
    catalogue kernel applied slice by slice).
    """

    name: str
    kind: str
    size: float = 0.0
    kernel: Any = None

    @property
    def keeps_units(self) -> bool:
        """True when the weights sum to 1 (smoothing): results stay in the input's units (HU)."""
        if self.kind in ("gaussian_mm", "box_mm", "gaussian_vox", "box_vox"):
            return True
        return abs(float(self.kernel.sum) - 1.0) < 1e-9

    def factors(self, spacing: tuple[float, float, float]) -> tuple[Any, Any, Any]:
        """One 1-D kernel per axis (z, y, x) for the separable kinds."""
        from .. import volumes

        if self.kind == "gaussian_mm":
            return volumes.gaussian_mm(self.size, spacing)
        if self.kind == "box_mm":
            return volumes.box_mm(self.size, spacing)
        if self.kind == "gaussian_vox":
            return volumes.gaussian_vox(self.size)
        if self.kind == "box_vox":
            side = int(self.size)
            return (np.full(side, 1.0 / side),) * 3  # type: ignore[return-value]
        if self.kind == "3d":
            return tuple(np.asarray(f, dtype=np.float64) for f in self.kernel.factors)  # type: ignore[return-value]
        raise AssertionError(self.kind)


def resolve_volume_kernel(spec: str) -> VolumeKernel:
    """Turn a ``--kernel`` spec into a :class:`VolumeKernel`; errors are InvalidKernel (exit 3).

    ``gaussian:1.5mm``, ``box:5mm``, ``gaussian:2vox``, ``box:3vox``, ``gaussian_3d``, ``box_3d``,
    ``sobel_3d`` (``_y``, ``_z``), or anything the 2-D catalogue loads (applied slice by slice).

    >>> resolve_volume_kernel("gaussian:1.5mm").kind, resolve_volume_kernel("sobel_v").kind
    ('gaussian_mm', '2d')
    """
    from .. import volumes

    text = str(spec).strip()
    match = _MM_SPEC.fullmatch(text)
    if match:
        family, number, unit = match.group(1).lower(), float(match.group(2)), match.group(3).lower()
        if not (math.isfinite(number) and number > 0):
            raise InvalidKernel(f"{text}: the size must be a positive number")
        if family == "box" and unit == "vox":
            if not number.is_integer() or not 1 <= number <= volumes.MAX_TAPS:
                raise InvalidKernel(f"{text}: a box in voxels needs a whole number of voxels from 1 to {volumes.MAX_TAPS}")
        kind = f"{family}_{unit}"
        return VolumeKernel(name=f"{family}:{match.group(2)}{unit}", kind=kind, size=number)
    key = text.lower().replace("-", "_")
    if key in volumes.KERNELS_3D:
        k3 = volumes.KERNELS_3D[key]
        return VolumeKernel(name=k3.name if key != "sobel_3d_x" else key, kind="3d", kernel=k3)
    if re.fullmatch(r"(gaussian|box):.*[a-z]\s*", text, re.IGNORECASE) and not re.fullmatch(r"(gaussian|box):[0-9.e+-]+", text, re.IGNORECASE):
        raise InvalidKernel(f"{text!r}: expected a size in mm or voxels such as gaussian:1.5mm, box:5mm or gaussian:2vox")
    from ..catalog import load_kernel

    k2 = load_kernel(text)
    return VolumeKernel(name=k2.name, kind="2d", kernel=k2)


@dataclass(frozen=True)
class VolumeOptions:
    """Options of a volume job.

    ``axis``: for a 2-D kernel, the axis across which slices are taken (default z); for a
    kernel in mm or voxels, an axis to leave alone (smooth within those slices only); not
    allowed with a named 3-D kernel.  ``pad_mode`` defaults to replicate: scans have air
    (-1000 HU) at their borders, and zero padding would draw a bright rim (ITK, behind c3d,
    also smooths with a zero-flux, i.e. replicate, boundary).
    """

    axis: str | None = None
    pad_mode: str = "replicate"
    pad_value: float = 0.0
    flip: bool = False
    window: tuple[float, float] | None = None
    keep_dtype: bool = False

    def __post_init__(self) -> None:
        from ..modes import canonical_pad_mode

        object.__setattr__(self, "pad_mode", canonical_pad_mode(self.pad_mode))
        if self.axis is not None:
            key = str(self.axis).strip().lower()
            if key not in ("z", "y", "x"):
                raise UsageError(f"invalid axis {self.axis!r}: expected z, y or x (the volume is (Z, Y, X))")
            object.__setattr__(self, "axis", key)


@dataclass
class VolumeReport(Report):
    """A :class:`~kernelcli.jobs.Report` with the volume's facts."""

    spacing: list[float] | None = None
    format: str | None = None
    units: str | None = None


def default_volume_output(input_path: str | os.PathLike, label: str, directory: Path = Path(".")) -> Path:
    """``<stem>_<label>.nii.gz`` in ``directory``.

    >>> default_volume_output(Path("scans/ct.nii.gz"), "gaussian:1.5mm")
    PosixPath('ct_gaussian_1.5mm.nii.gz')
    """
    from ..io.naming import safe_stem

    return directory / f"{volume_stem(input_path)}_{safe_stem(label)}.nii.gz"


def filter_volume(vol: Volume, kernel: VolumeKernel | None, options: VolumeOptions) -> tuple[np.ndarray, list[str]]:
    """Apply ``kernel`` to ``vol.data`` as the options say; returns (result, notes).  The input is not modified."""
    from .. import volumes

    notes: list[str] = []
    data = vol.data
    if kernel is None:
        return data, notes
    if kernel.kind == "2d":
        k = kernel.kernel.array()
        dtype = volumes.volume_dtype(data.dtype)
        notes.append(f"{kernel.name} is a 2-D kernel: applied to each slice across {options.axis or 'z'} (kernels in mm: gaussian:1.5mm)")
        result = volumes.convolve_slices(
            data, k, options.axis or "z", dtype=dtype, padding="same", pad_mode=options.pad_mode,
            pad_value=options.pad_value, flip=options.flip,
        )
        return result, notes
    if kernel.kind == "3d" and options.axis is not None:
        raise UsageError(f"--axis {options.axis}: {kernel.name} is a 3-D kernel; --axis is for 2-D kernels and kernels in mm")
    factors = list(kernel.factors(vol.spacing))
    if options.flip:
        factors = [None if f is None else f[::-1] for f in factors]
    if options.axis is not None:
        factors[volumes.AXES.index(options.axis)] = None
    if kernel.kind in ("gaussian_mm", "box_mm"):
        sides = "x".join(str(len(f)) if f is not None else "1" for f in factors)
        notes.append(f"{kernel.name} on {'x'.join(f'{s:g}' for s in vol.spacing)} mm voxels (z, y, x): a {sides} kernel")
    if options.pad_mode == "constant" and options.pad_value != 0 and kernel.kind == "3d":
        # separable passes would pad partial sums with the value; the dense loop pads the input
        return volumes.conv3d(data, kernel.kernel.array()[::-1, ::-1, ::-1] if options.flip else kernel.kernel.array(),
                              pad_mode="constant", pad_value=options.pad_value), notes
    return volumes.correlate_separable(data, factors, pad_mode=options.pad_mode, pad_value=options.pad_value), notes


def _to_input_dtype(result: np.ndarray, dtype: np.dtype) -> tuple[np.ndarray, int, int]:
    """Round and clip to an integer dtype (never wraps); returns (array, clipped low, clipped high)."""
    info = np.iinfo(dtype)
    low = high = 0
    out = np.empty(result.shape, dtype=dtype)
    for z in range(result.shape[0]):  # slice by slice: no full float64 temporary
        r = np.rint(result[z])
        low += int(np.count_nonzero(r < info.min))
        high += int(np.count_nonzero(r > info.max))
        out[z] = np.clip(r, info.min, info.max)
    return out, low, high


def _write_result(
    out_path: Path, result: np.ndarray, vol: Volume, options: VolumeOptions, report: VolumeReport, *,
    force: bool, affine: np.ndarray | None = None, keeps_units: bool = True,
) -> None:
    suffix = volume_suffix(out_path)
    window = options.window
    if suffix == ".png":
        axis = options.axis or "z"
        a = "zyx".index(axis)
        index = result.shape[a] // 2
        plane = np.take(result, index, axis=a)
        if window is None:
            if vol.window is not None and keeps_units:
                window = vol.window
                report.notes.append(f"window {window[0]:g},{window[1]:g} from the DICOM header (give --window to choose)")
            else:
                lo, hi = float(plane.min()), float(plane.max())
                window = ((lo + hi) / 2 + 0.5, max(hi - lo + 1, 1.0))
                report.notes.append(f"no --window: the slice's range {lo:g}..{hi:g} stretched to 0..255")
        report.notes.append(
            f"PNG: the middle slice across {axis} (index {index} of {result.shape[a]}), windowed at {window[0]:g},{window[1]:g}; "
            "array order (row 0 at the top), not reoriented"
        )
        image = apply_window(plane, *window)
        write_png_slice(out_path, image, force=force)
        report.dtype = "uint8"
        report.output_shape = list(image.shape)
        return
    if window is not None:
        result = apply_window(result, *window)
        report.notes.append(f"windowed at {window[0]:g},{window[1]:g} to uint8 0..255")
    elif options.keep_dtype and vol.data.dtype.kind in "iu" and result.dtype.kind == "f":
        result, report.clipped_low, report.clipped_high = _to_input_dtype(result, vol.data.dtype)
        if report.clipped_low or report.clipped_high:
            report.notes.append(
                f"--keep-dtype: {report.clipped_low + report.clipped_high} value(s) outside {vol.data.dtype} were clipped; "
                "leave --keep-dtype off to keep float32"
            )
    if suffix == ".npy":
        write_npy(out_path, result, force=force)
    else:
        write_nifti(out_path, result, vol, affine=affine, force=force)
    report.dtype = str(result.dtype)


def convolve_volume_file(
    input_path: str | os.PathLike,
    kernel_spec: str | None,
    options: VolumeOptions | None = None,
    *,
    out: str | os.PathLike | None = None,
    force: bool = False,
) -> VolumeReport:
    """Filter one volume (NIfTI, DICOM file or series folder) and write the result.

    The kernel is resolved first (exit 3), then the output path is checked (exit 4), then
    the input is read.  ``out=None`` writes ``<stem>_<kernel>.nii.gz`` in the current folder.
    """
    options = options or VolumeOptions()
    kernel = resolve_volume_kernel(kernel_spec) if kernel_spec else None
    label = kernel.name if kernel else "copy"
    src = Path(input_path)
    out_path = check_volume_output(out if out is not None else default_volume_output(src, label), (src,), force=force)
    vol = read_volume(src)
    start = time.perf_counter()
    result, notes = filter_volume(vol, kernel, options)
    seconds = time.perf_counter() - start
    report = VolumeReport(
        input=str(src), operation=f"convolve {label}" if kernel else "copy", input_shape=list(vol.data.shape),
        output_shape=list(result.shape), output=str(out_path), minimum=float(result.min()), maximum=float(result.max()),
        seconds=seconds, dtype=str(result.dtype), total=int(result.size), notes=vol.notes + notes,
        kernel=kernel.name if kernel else None, spacing=list(vol.spacing), format=vol.format, units=vol.units,
    )
    _write_result(out_path, result, vol, options, report, force=force, keeps_units=kernel is None or kernel.keeps_units)
    return report


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
) -> VolumeReport:
    """Pool one volume in 3-D (as PyTorch's max_pool3d/avg_pool3d) and write it.

    A NIfTI output gets the pooled grid: voxel sizes times the stride, and an affine whose
    voxel (0, 0, 0) sits at the centre of the first window, so it still overlays the input.
    """
    from .. import volumes
    from ..modes import canonical_pool_op

    op = canonical_pool_op(op)
    label = f"{op}pool{size}"
    src = Path(input_path)
    out_path = check_volume_output(out if out is not None else default_volume_output(src, label), (src,), force=force)
    vol = read_volume(src)
    step = size if stride is None else stride
    start = time.perf_counter()
    result = volumes.pool3d(vol.data, size, step, op, padding, ceil_mode, count_include_pad)
    seconds = time.perf_counter() - start
    # new voxel n sits at old index n*step - padding + (size-1)/2, on each of (i, j, k)
    grid = np.eye(4)
    grid[:3, :3] *= step
    grid[:3, 3] = (size - 1) / 2 - padding
    affine = vol.affine @ grid
    report = VolumeReport(
        input=str(src), operation=label, input_shape=list(vol.data.shape), output_shape=list(result.shape),
        output=str(out_path), minimum=float(result.min()), maximum=float(result.max()), seconds=seconds,
        dtype=str(result.dtype), total=int(result.size), notes=list(vol.notes),
        spacing=[s * step for s in vol.spacing], format=vol.format, units=vol.units,
    )
    _write_result(out_path, result, vol, VolumeOptions(window=window), report, force=force, affine=affine)
    return report


def convolve_volume_for_cli(
    input_path: str | os.PathLike,
    kernels: list[str] | None,
    *,
    stride: int = 1,
    padding: str = "same",
    dilation: int = 1,
    pad_mode: str | None = None,
    pad_value: float = 0.0,
    flip: bool = False,
    out: str | os.PathLike | None = None,
    force: bool = False,
    unsupported: dict[str, bool] | None = None,
) -> VolumeReport:
    """``kernelcli convolve`` on a volume input: one kernel, stride and dilation 1, "same" padding.

    ``unsupported`` maps option names to whether they were given (``{"--montage": True}``);
    any given one is a usage error naming it.  ``pad_mode=None`` means replicate (see
    :class:`VolumeOptions`).
    """
    given = [name for name, used in (unsupported or {}).items() if used]
    if stride != 1:
        given.append("--stride")
    if dilation != 1:
        given.append("--dilation")
    if str(padding).strip().lower() != "same":
        given.append("--padding")
    if given:
        raise UsageError(f"{input_path}: {', '.join(given)} not supported for volumes (NIfTI/DICOM); see `kernelcli volume --help`")
    if not kernels or len(kernels) != 1:
        raise UsageError(f"{input_path}: a volume takes exactly one --kernel (e.g. gaussian:1.5mm, sobel_3d or a 2-D catalogue kernel)")
    options = VolumeOptions(pad_mode=pad_mode or "replicate", pad_value=pad_value, flip=flip)
    return convolve_volume_file(input_path, kernels[0], options, out=out, force=force)
