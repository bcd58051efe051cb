"""Files enter and leave kernelcli through this package.

==================  ===============================================================
module              what it owns
==================  ===============================================================
``io.formats``      ``read_input`` / ``write_output`` / ``check_output_path``: the
                    extension picks the reader or writer below
``io.common``       ``Loaded``, ``Written``, the input-path check, the memory estimate
``io.images``       Pillow decoding: bit depth, EXIF, multi-frame
``io.image_writing`` Pillow encoding: ``Encoding``, ``write_image``; rendered pictures
                    (montages, sheets) and multi-page TIFFs of feature maps
``io.integer_range`` ``to_integer_range``: values into uint8/uint16 (clip or rescale)
``io.decode``       opening an image and its checks before decoding; a JPEG decoded
                    early on a second thread while a cold call imports numpy
``io.stored_samples`` how an opened image stores its samples (16-bit colour, a colour
                    key, TIFF planes and extra samples) and what Pillow makes of them
``io.pillow``       Pillow's ``Image`` imported without its EXIF tag tables, and the
                    EXIF orientation read only from an image with metadata
``io.arrays``       ``.npy`` arrays
``io.matrices``     ``.csv``/``.txt`` text matrices and the number formats
``io.pipes``        ``-`` as a file: stdin and stdout through a private temporary file
``io.naming``       output names: ``safe_stem``, default names, suffixes, formats
``io.output_checks`` the one output check (exists / ``--force`` / is an input)
``io.outputs``      the atomic create-or-fail write every writer uses
``io.temporary``    its temporary files: their names, the run that owns them, cleanup
``io.reads``        what this call reads (``note_input``, ``input_session``): the
                    inputs no output or stdout may be written over
==================  ===============================================================

Volumes (NIfTI, DICOM, DICOM series) stay in :mod:`kernelcli.medical`, a package by
concern (``nifti``, ``dicom``, ``series``, ``itk``, ``writers``), reached from here
through :func:`read_volume` (and ``check_volume_output``, ``write_nifti``).  A new image
format is one or two files: its reader and writer in a module here (dispatched by
``io.formats``), its suffix in ``io.naming``.
``kernelcli.images`` and ``kernelcli.pipes`` are the former homes, kept as re-exports.

The names below are loaded lazily, so ``import kernelcli.io`` imports neither numpy nor
Pillow.

Example
-------
>>> from kernelcli.io import default_output, safe_stem
>>> safe_stem("box:3"), default_output("ct.png", "box:3").name
('box_3', 'ct_box_3.png')
"""

from __future__ import annotations

import importlib

#: public name -> module that defines it
_LAZY = {
    "safe_stem": "kernelcli.io.naming",
    "default_output": "kernelcli.io.naming",
    "output_suffix": "kernelcli.io.naming",
    "batch_output": "kernelcli.io.naming",
    "is_matrix_path": "kernelcli.io.naming",
    "check_output": "kernelcli.io.output_checks",
    "output_problem": "kernelcli.io.output_checks",
    "note_input": "kernelcli.io.reads",
    "input_session": "kernelcli.io.reads",
    "atomic_write": "kernelcli.io.outputs",
    "write_bytes_atomic": "kernelcli.io.outputs",
    "remove_temporary_files": "kernelcli.io.temporary",
    "read_input": "kernelcli.io.formats",
    "check_output_path": "kernelcli.io.formats",
    "check_input_path": "kernelcli.io.common",
    "Loaded": "kernelcli.io.common",
    "Written": "kernelcli.io.common",
    "Encoding": "kernelcli.io.image_writing",
    "write_output": "kernelcli.io.formats",
    "read_volume": "kernelcli.medical.volume",
    "Volume": "kernelcli.medical.volume",
    "check_volume_output": "kernelcli.medical.writers",
    "write_nifti": "kernelcli.medical.nifti",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'kernelcli.io' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
