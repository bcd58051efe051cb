"""Which volume calls the tiled volume path (:mod:`kernelcli.tiled.nifti`) takes: its kernels and the options it refuses.

Told from the options alone, so that the in-memory path can offer ``.zarr`` where the tiled one would write it.

Example
-------
>>> from types import SimpleNamespace
>>> plain = SimpleNamespace(window=None, volume=None, series=None, resample_slices=False, keep_dtype=False, mask=None,
...                         pad_mode="replicate")
>>> untiled_options(plain), tiled_takes(plain, pooling=True)
([], True)
"""

from __future__ import annotations

from typing import Any


#: the volume kernels the tiled volume path (:mod:`kernelcli.tiled.nifti`) filters tile by tile
TILED_KINDS = ("gaussian_mm", "box_mm", "gaussian_vox", "box_vox", "3d")


def untiled_options(options: Any, *, pooling: bool = False) -> list[str]:
    """The volume options among ``options`` (a :class:`~kernelcli.medical.volume_options.VolumeOptions`) that the tiled
    volume path does not take (``pooling``: pool's, which takes a mask, --keep-dtype and any --pad-mode).

    >>> from kernelcli.medical.volume_options import VolumeOptions
    >>> untiled_options(VolumeOptions(window="brain")), untiled_options(VolumeOptions(keep_dtype=True), pooling=True)
    (['--window'], [])
    """
    said = [("--window", options.window is not None), ("--volume", options.volume is not None),
            ("--series", options.series is not None), ("--resample-slices", options.resample_slices)]
    if not pooling:
        said[1:1] = [("--keep-dtype", options.keep_dtype), ("--mask", options.mask is not None)]
        said.append(("--pad-mode renormalise", options.pad_mode == "renormalise"))
    return [name for name, used in said if used]


def tiled_takes(options: Any, kernel: Any = None, *, pooling: bool = False) -> bool:
    """Whether the tiled volume path takes a call of these ``options`` (and ``kernel``, resolved: convolve's), so that a
    ``.zarr`` is offered to it (:meth:`kernelcli.io.offered.OutputOffer.volume_suffixes`)."""
    if not pooling and (kernel is None or kernel.kind not in TILED_KINDS):
        return False
    return not untiled_options(options, pooling=pooling)
