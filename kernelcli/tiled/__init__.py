"""Past one machine: images larger than memory tile by tile, and batches on a Dask cluster.

Built on dask (``dask.array.map_overlap`` for tiles with halos, ``dask.distributed`` for
clusters), zarr and tifffile, from the ``[distributed]`` extra; nothing here imports them
until they are used, so the base install stays light.

* :mod:`kernelcli.tiled.plan` -- tile geometry (pure Python);
* :mod:`kernelcli.tiled.arrays` -- conv2d, pad2d, pool2d, conv3d, pool3d on dask arrays;
* :mod:`kernelcli.tiled.stores` -- chunked files in (Zarr v2/v3, OME-Zarr, TIFF,
  .npy) and out (Zarr, written chunk by chunk into a temporary folder renamed into place);
* :mod:`kernelcli.tiled.urls` -- Zarr stores behind fsspec URLs (``s3://``, ``gs://``...);
* :mod:`kernelcli.tiled.pin` -- every tile on the whole image's compute path;
* :mod:`kernelcli.tiled.files` -- the file commands' tiled path;
* :mod:`kernelcli.tiled.nifti` -- ``convolve`` of an uncompressed ``.nii`` through nibabel's memory map;
* :mod:`kernelcli.tiled.cluster` -- ``--scheduler``: a LocalCluster or a running scheduler.

Example
-------
>>> EXTRA_HINT.split(": ", 1)[0]
'install the [distributed] extra'
"""

from __future__ import annotations

import importlib
from typing import Any

from ..extras import install_hint

EXTRA_HINT = install_hint("distributed")


def require(module: str, what: str) -> Any:
    """Import ``module`` (dask.array, distributed, zarr, tifffile) or raise MissingExtra (exit 2) with the pip hint.

    >>> require("json", "a test").__name__
    'json'
    """
    try:
        return importlib.import_module(module)
    except ImportError:
        from ..errors import MissingExtra

        top = module.split(".")[0]
        raise MissingExtra(f"{what} needs {top}, which is not installed: {EXTRA_HINT}") from None


def tiles_asked(*, tiled: bool, chunks: Any, scheduler: Any) -> bool:
    """Whether the options alone send one input tile by tile: ``--tiled``, ``--chunks`` or ``--scheduler`` given (an
    input or output may send it there too: :func:`kernelcli.tiled.files.wanted`).

    >>> tiles_asked(tiled=False, chunks=None, scheduler=None), tiles_asked(tiled=False, chunks="512", scheduler=None)
    (False, True)
    """
    return bool(tiled) or chunks is not None or scheduler is not None


def is_dask_array(x: Any) -> bool:
    """True for a ``dask.array.Array`` (checked without importing dask).

    >>> is_dask_array([1, 2])
    False
    """
    return type(x).__name__ == "Array" and type(x).__module__.startswith("dask.array")
