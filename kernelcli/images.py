"""Former home of the image, array and matrix readers and writers, now in :mod:`kernelcli.io`.

Kept so that code written against ``kernelcli.images`` keeps working: every public name
(and the private names other code imported) is re-exported from its new module.  Inside
kernelcli nothing imports this module; new code imports from ``kernelcli.io``:

==========================  ===================================================
``io.formats``              ``read_input``, ``write_output``, ``check_output_path``
``io.common``               ``Loaded``, ``Written``, ``check_input_path``, ``stat_input``
``io.images``               Pillow decoding
``io.image_writing``        Pillow encoding, ``Encoding``
``io.integer_range``        ``to_integer_range``
``io.arrays``               ``.npy``
``io.matrices``             ``.csv``/``.txt`` and the number formats
``io.naming``/``io.output_checks``/``io.outputs``  suffix tables; the output check and atomic write
==========================  ===================================================

Example
-------
>>> from kernelcli import images
>>> from kernelcli.io.formats import read_input
>>> images.read_input is read_input
True
"""

from __future__ import annotations

from .io.arrays import read_npy as _read_npy  # noqa: F401
from .io.common import (  # noqa: F401
    Loaded,
    Written,
    check_input_path,
    check_memory as _check_memory,
    estimate_bytes,
    one_line as _one_line,
    stat_input,
)
from .io.formats import check_output_path, read_input, write_output  # noqa: F401
from .io.decode import (  # noqa: F401
    _CONVERTED_BANDS,
    DEFAULT_MAX_PIXELS,
    PILLOW_FORMATS,
    SIGNATURES as _SIGNATURES,
    sixteen_bit_colour as _sixteen_bit_colour,
    sniff_format,
)
from .io.image_writing import Encoding, _to_pil  # noqa: F401
from .io.images import _image_to_array, read_image as _read_image  # noqa: F401
from .io.integer_range import _BLOCK, to_integer_range  # noqa: F401
from .io.matrices import (  # noqa: F401
    MATRIX_PARSE_FACTOR,
    MAX_MATRIX_BYTES,
    _to_float,
    format_matrix_csv,
    format_matrix_table,
    format_number,
    read_matrix as _read_matrix,
)
from .io.naming import (  # noqa: F401
    ARRAY_SUFFIXES,
    IMAGE_SUFFIXES,
    INPUT_SUFFIXES,
    MATRIX_SUFFIXES,
    OUTPUT_SUFFIXES,
    READ_ONLY_IMAGE_SUFFIXES,
)
from .io.output_checks import folder_writable, output_folder, same_file  # noqa: F401
from .io.outputs import atomic_write, write_bytes_atomic  # noqa: F401
from .io.temporary import PART_SUFFIX, glob_escape, remove_temporary_files, temporary_files  # noqa: F401
from .limits import MEMORY_ENV, MEMORY_SHARE, default_max_bytes, parse_bytes, size_text as _size_text  # noqa: F401

_same_file = same_file  # the former private name


def _atomic_write(dest, write, *, force: bool = True) -> None:
    """The former private name of :func:`kernelcli.io.outputs.atomic_write` (replacing, as it did)."""
    atomic_write(dest, write, force=force)
