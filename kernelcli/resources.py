"""Where the shipped data lives: the ``kernels/`` catalogue folder.

In an installed wheel the catalogue is ``kernelcli/kernels`` (hatchling force-includes the
repository's top-level ``kernels/`` there); in a source checkout it is the repository's
``kernels/`` next to the package.

Example
-------
>>> (catalog_dir() / "edge.json").is_file()
True
"""

from __future__ import annotations

from pathlib import Path


def catalog_dir() -> Path:
    """Return the folder that holds the shipped kernel catalogue."""
    # the package's folder (what importlib.resources.files gives a package on disk, without importing it)
    installed = Path(__file__).parent / "kernels"
    if installed.is_dir():
        return installed
    return Path(__file__).resolve().parent.parent / "kernels"


def networks_dir() -> Path:
    """Return the folder that holds the built-in network specs (``kernels/networks``)."""
    return catalog_dir() / "networks"
