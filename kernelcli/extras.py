"""The optional extras, declared once: what each adds, and the one way a message tells how to install one.

Standard library only: a missing extra is said before anything heavy is imported.  The README's Install table
lists the same extras in the same words (tests/test_readme_audit203.py keeps them equal, and equal to
pyproject.toml's ``[project.optional-dependencies]``).

Example
-------
>>> install_hint("medical")
"install the [medical] extra: pip install 'kernelcli[medical]' (in kernelcli's source folder: pip install '.[medical]')"
"""

from __future__ import annotations

#: extra -> what it adds (the README's Install table says the same)
EXTRAS = {
    "medical": "DICOM, NIfTI and MGH volumes (pydicom, nibabel) and a faster deflate for .nii.gz and PNG outputs (python-isal)",
    "itk": "NRRD and MetaImage volumes: .nrrd, .nhdr, .mha, .mhd (SimpleITK)",
    "distributed": "images larger than memory tile by tile, Zarr and TIFF stores, batches on a Dask cluster "
                   "(dask, distributed, zarr, tifffile, fsspec)",
    "fast": "a faster deflate (ISA-L) for PNG and .nii.gz outputs (python-isal); without it zlib: the same pixels, "
            "other bytes",
    "bench": "the peers benchmarks/run.py times kernelcli against (OpenCV, PyTorch)",
    "test": "the test tools (pytest, hypothesis, ...) and, so that their tests run, the [medical] extra's packages",
}


def install_hint(extra: str) -> str:
    """How to install ``extra``, as every missing-extra message ends: the command that works once kernelcli is
    installed (from an index or a source folder), and the README's spelling for a source folder.

    >>> install_hint("itk").split(": ", 1)[0]
    'install the [itk] extra'
    """
    if extra not in EXTRAS:
        raise ValueError(f"no extra {extra!r}; expected one of {', '.join(EXTRAS)}")
    return f"install the [{extra}] extra: pip install 'kernelcli[{extra}]' (in kernelcli's source folder: pip install '.[{extra}]')"
