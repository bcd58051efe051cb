"""Files enter and leave kernelcli through this package.

==================  ===============================================================
module              what it owns
==================  ===============================================================
``io.naming``       output names: ``safe_stem``, default names, suffixes, formats
``io.outputs``      the one output check (exists / ``--force`` / is an input) and the
                    atomic create-or-fail write every writer uses
``kernelcli.images``  image, ``.npy`` and text-matrix readers and writers
``kernelcli.medical`` volume (NIfTI, DICOM) readers and writers
==================  ===============================================================

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
    "check_output": "kernelcli.io.outputs",
    "output_problem": "kernelcli.io.outputs",
    "note_input": "kernelcli.io.outputs",
    "input_session": "kernelcli.io.outputs",
    "atomic_write": "kernelcli.io.outputs",
    "write_bytes_atomic": "kernelcli.io.outputs",
    "remove_temporary_files": "kernelcli.io.outputs",
    "read_input": "kernelcli.images",
    "write_output": "kernelcli.images",
    "read_volume": "kernelcli.medical",
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
