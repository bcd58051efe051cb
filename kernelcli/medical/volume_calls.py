"""``kernelcli convolve`` on a volume: the name its result takes, the checks it makes before reading, and the call.

A batch plans with the name (:func:`volume_label_for_cli`) and makes the checks once on its first volume
(:func:`check_volume_call`); one volume alone runs :func:`convolve_volume_for_cli`, which makes them and hands the
file to :func:`kernelcli.medical.jobs.convolve_volume_file` (or the tiled runner).

Example
-------
>>> volume_label_for_cli(["gaussian:1.5mm"])
'gaussian:1.5mm'
"""

from __future__ import annotations

import os
from functools import partial
from typing import Any

from ..errors import UsageError
from ..modes import RENORMALISE_ALIASES
from ..volume_inputs import refuse_image_options
from .filtering import check_kernel_options
from .jobs import VolumeReport, convolve_volume_file
from .volume_options import VolumeOptions
from .views import is_png_output


def volume_label_for_cli(kernels: list[str] | None, *, pad_mode: str | None = None, pad_value: float = 0.0,
                         flip: bool = False, fmt: str | None = None, **volume_options: Any) -> str | None:
    """The name :func:`convolve_volume_for_cli` gives a volume's result (the kernel's, then what the options
    change: :meth:`VolumeOptions.label`; ``fmt``: ``--format``, a .png's view), for a batch to plan with; None where
    the call would refuse the kernel or the options (each volume then fails alone, saying why).

    >>> volume_label_for_cli(["box:3"], pad_mode="reflect"), volume_label_for_cli(["box:3", "sobel_v"])
    ('box:3_reflect', None)
    >>> volume_label_for_cli(None, axis="y", fmt="png")  # a copy, as alone
    'copy_axisy'
    """
    from ..errors import KernelcliError
    from .kernels import resolve_volume_kernel

    if kernels and len(kernels) != 1:
        return None
    try:
        options = VolumeOptions(pad_mode=pad_mode or "replicate", pad_value=pad_value, flip=flip,
                                **{k: v for k, v in volume_options.items() if k != "window"})
        return options.label(resolve_volume_kernel(kernels[0]) if kernels else "copy", png=is_png_output(None, fmt))
    except KernelcliError:
        return None


def check_volume_call(input_path: str | os.PathLike, kernels: list[str] | None, *, stride: int = 1, padding: str = "same",
                      dilation: int = 1, pad_mode: str | None = None, unsupported: dict[str, bool] | None = None,
                      command: str = "convolve", layout: str | None = None, mask: Any = None) -> None:
    """The checks :func:`convolve_volume_for_cli` makes of its options before reading ``input_path`` (exit 2, naming
    it): what a volume cannot take, and what cannot go together.  A batch whose every input is a volume makes them
    once, on its first (:func:`kernelcli.batch_kinds.refuse_what_no_kind_takes`).

    >>> check_volume_call("ct.nii.gz", ["box:3"], stride=2)
    Traceback (most recent call last):
    ...
    kernelcli.errors.UsageError: ct.nii.gz: --stride not supported for volumes (NIfTI, DICOM): `kernelcli convolve` takes it for images and arrays; drop it
    """
    from ..layout import check_volume_layout

    check_volume_layout(layout, str(input_path))
    refuse_image_options(input_path, {**(unsupported or {}), "--stride": stride != 1, "--dilation": dilation != 1,
                                      "--padding": str(padding).strip().lower() != "same"}, command=command)
    if kernels and len(kernels) > 1:
        raise UsageError(f"{input_path}: a volume takes at most one --kernel (e.g. gaussian:1.5mm, sobel_3d or a 2-D catalogue kernel)")
    if mask is not None and pad_mode is not None and str(pad_mode).strip().lower() not in RENORMALISE_ALIASES:
        raise UsageError(f"{input_path}: --mask smooths inside the mask with renormalised edges (fslmaths' masked smoothing); "
                         f"--pad-mode {pad_mode} cannot go with it: leave it out")


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
    runner: Any = None,
    name: str | None = None,
    fmt: str | None = None,
    command: str = "convolve",
    layout: str | None = None,
    **volume_options: Any,
) -> VolumeReport:
    """``kernelcli convolve`` on a volume input: at most one kernel, stride and dilation 1, "same" padding.

    ``unsupported`` maps option names to whether they were given (``{"--montage": True}``);
    any given one is a usage error naming it and ``command`` (the command run: ``volume`` is convolve's
    alias).  ``pad_mode=None`` means replicate (see
    :class:`VolumeOptions`); ``layout``: ``--layout``, which a volume takes as ``zyx`` alone; ``volume_options`` are the other fields of :class:`VolumeOptions`
    (``axis``, ``window`` as text or a pair, ``keep_dtype``, ``truncate``, ``mask``, ``volume``,
    ``series``, ``resample_slices``, ``affine``, ``paths``: the CLI passes its cold policy).  ``runner`` replaces
    :func:`convolve_volume_file` (the tiled path's :func:`kernelcli.tiled.nifti.convolve_volume_tiled`, same arguments).
    """
    from .window import parse_window

    check_volume_call(input_path, kernels, stride=stride, padding=padding, dilation=dilation, pad_mode=pad_mode,
                      unsupported=unsupported, command=command, layout=layout, mask=volume_options.get("mask"))
    if isinstance(volume_options.get("window"), str):
        volume_options["window"] = parse_window(volume_options["window"])
    options = VolumeOptions(pad_mode=pad_mode or "replicate", pad_value=pad_value, flip=flip, **volume_options)
    if not kernels:  # a copy: the options it refuses, before any voxel is read, in memory and tile by tile alike
        try:
            check_kernel_options(None, options)
        except UsageError as exc:  # (named as a kernel's refusal is: the record named the file, stderr did not)
            raise UsageError(f"{input_path}: {exc}") from None
    # (the tiled runner reads the geometry through kernelcli.tiled.nifti.open_volume, as read_nifti does)
    if runner is None:  # (the command line's call: its tiled path writes a .zarr, offered where a type is refused)
        runner = partial(convolve_volume_file, zarr_offered=True)
    return runner(input_path, kernels[0] if kernels else None, options, out=out, force=force, name=name, fmt=fmt)
