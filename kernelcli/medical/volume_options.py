"""The options of a volume job (:class:`VolumeOptions`): how a volume is read, filtered and named.

Example
-------
>>> VolumeOptions(pad_mode="renormalise", truncate=4).pad_mode
'renormalise'
"""

from __future__ import annotations

import os
from typing import Any

from ..errors import UsageError
from ..modes import RENORMALISE, RENORMALISE_ALIASES
from ..records import record
from .kernels import VolumeKernel
from .views import EVERY_AXIS, view_axis
from .volume import Volume, read_volume


@record(frozen=True)
class VolumeOptions:
    """Options of a volume job.

    ``axis``: for a 2-D kernel, the axis across which slices are taken (default z); for a
    kernel in mm or voxels, an axis to leave alone (smooth within those slices only); for a
    PNG output, the view (z axial, y coronal, x sagittal).  ``pad_mode`` defaults to replicate:
    scans have air (-1000 HU) at their borders, and zero padding would draw a bright rim (ITK,
    behind c3d, also smooths with a zero-flux, i.e. replicate, boundary); ``renormalise`` is
    fslmaths' edge rule (smoothing kernels only; with ``mask``, inside the mask).
    ``truncate``: Gaussian radius in sigmas (default 3; fslmaths uses 4, scipy 4).
    ``volume``, ``series``, ``resample_slices``, ``affine`` (``sform`` or ``qform``: a NIfTI's geometry where
    the two disagree): passed to :func:`~.volume.read_volume`.
    ``paths``: the path policy (:mod:`kernelcli._core.policy`; None: the API's default, warm);
    the CLI passes its cold one, as for images.
    """

    axis: str | None = None
    pad_mode: str = "replicate"
    pad_value: float = 0.0
    flip: bool = False
    window: tuple[float, float] | None = None
    keep_dtype: bool = False
    truncate: float | None = None
    mask: str | os.PathLike | None = None
    volume: int | None = None
    series: str | None = None
    resample_slices: bool = False
    affine: str | None = None
    paths: Any = None

    def __post_init__(self) -> None:
        from ..modes import canonical_pad_mode

        key = str(self.pad_mode).strip().lower()
        object.__setattr__(self, "pad_mode", RENORMALISE if key in RENORMALISE_ALIASES else canonical_pad_mode(self.pad_mode))
        if self.axis is not None:
            key = str(self.axis).strip().lower()
            if key not in ("z", "y", "x"):
                raise UsageError(f"invalid axis {self.axis!r}: expected z, y or x (the volume is (Z, Y, X))")
            object.__setattr__(self, "axis", key)
        if self.truncate is not None and not (0 < float(self.truncate) <= 20):
            raise UsageError(f"--truncate {self.truncate}: expected a number of sigmas above 0 and at most 20 (scipy's default is 4, fslmaths' 4)")
        if self.volume is not None and int(self.volume) < 0:
            raise UsageError(f"--volume {self.volume}: expected an index >= 0")
        if self.affine is not None:
            from ..modes import canonical_affine

            object.__setattr__(self, "affine", canonical_affine(self.affine))
        if self.mask is not None and self.pad_mode != RENORMALISE:
            object.__setattr__(self, "pad_mode", RENORMALISE)  # fslmaths' masked smoothing renormalises inside the mask

    def label(self, kernel: VolumeKernel | str, *, png: bool = False) -> str:
        """A result's name for ``kernel``: its name, then what these options change from a volume's defaults
        (:func:`kernelcli.result_names.volume_words`), so that two results that differ are named apart and one result is
        named one way: an ``--axis`` or ``--truncate`` given at the kernel's default is no word (``--axis z`` for a
        2-D kernel, ``--truncate 3``, 4 for ``log:``), nor the ``--axis`` of a kernel along every axis, which picks a
        view alone, but where it picks a ``png`` output's coronal or sagittal one (:func:`view_axis`).  ``kernel``
        as a name (``maxpool2``, ``copy``): a job along every axis that pads nothing, named by its view and what
        is read (``--volume``, ``--resample-slices``), as a pooling (:func:`~.pooling.pool_volume_file`).

        >>> from .kernels import resolve_volume_kernel as k
        >>> VolumeOptions(pad_mode="reflect", flip=True).label(k("box:3vox")), VolumeOptions(mask="m.nii").label(k("gaussian:2mm"))
        ('box:3vox_reflect_flip', 'gaussian:2mm_mask')
        >>> VolumeOptions(axis="z", truncate=3).label(k("gaussian:2mm")), VolumeOptions(axis="z").label(k("sharpen"))
        ('gaussian:2mm_axisz', 'sharpen')
        >>> VolumeOptions(axis="y").label(k("sobel_3d")), VolumeOptions(axis="y").label(k("sobel_3d"), png=True)
        ('sobel_3d', 'sobel_3d_axisy')
        >>> VolumeOptions(axis="x", volume=1).label("maxpool2", png=True), VolumeOptions(axis="x").label("maxpool2")
        ('maxpool2_axisx_vol1', 'maxpool2')
        """
        from ..result_names import volume_words

        if isinstance(kernel, str):
            words = volume_words(axis=view_axis(self.axis, png), volume=self.volume, resample_slices=self.resample_slices)
            return "_".join([kernel, *words])
        if kernel.kind in EVERY_AXIS:
            axis = view_axis(self.axis, png)  # the view alone (axial without --axis)
        else:
            axis = None if kernel.kind == "2d" and self.axis == "z" else self.axis  # a 2-D kernel goes across z unless told
        truncate = None if self.truncate is None or float(self.truncate) == kernel.default_truncate else self.truncate
        words = volume_words("replicate" if self.mask is not None else self.pad_mode, self.pad_value, self.flip, axis,
                             truncate, self.mask is not None, self.volume, self.resample_slices)
        return "_".join([kernel.name, *words])

    def read(self, path: str | os.PathLike, done: str = "filtered", job_bytes: Any = None, cli: bool = True) -> Volume:
        """Read ``path`` with this job's input options, in the command line's words (not ``cli``: a Python caller's);
        ``done``: what the command does to each volume of a 4-D input (its note: "each is filtered", pool's "each is
        pooled"); ``job_bytes``: the command's own count of its job, for a NIfTI reader's memory guard
        (:class:`kernelcli.io.read_words.ReadWords`)."""
        from ..io.read_words import ReadWords

        return read_volume(path, volume=self.volume, series=self.series, resample_slices=self.resample_slices, affine=self.affine,
                           words=ReadWords(cli=cli, done=done, job_bytes=job_bytes))
