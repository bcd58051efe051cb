"""Pillow's ``Image`` module, imported without its EXIF tag tables until something reads them.

``PIL.Image`` imports ``PIL.ExifTags`` at its own import: enums of some 400 EXIF and GPS tags,
9-12 ms of a cold call here (Pillow 13, Python 3.11), which an image without EXIF or XMP data
never reads.  :func:`image` imports ``PIL.Image`` with ``PIL.ExifTags`` deferred
(``importlib.util.LazyLoader``: the module runs on its first attribute read, whoever reads it),
and :func:`orientation` reads the EXIF orientation only from an image that carries metadata
Pillow takes one from.

>>> Image = image()
>>> orientation(Image.new("L", (4, 4)))
1
"""

from __future__ import annotations

import sys
import threading

#: the EXIF Orientation tag
ORIENTATION_TAG = 0x0112
#: where ``Image.getexif`` looks for an orientation (Pillow 9-13): these ``info`` keys, and a TIFF's
#: own tags (``tag_v2``)
_METADATA_KEYS = ("exif", "Raw profile type exif", "XML:com.adobe.xmp", "xmp")
#: held while importing: an early decode's thread and the main one may both ask first
_IMPORTING = threading.Lock()


def image():
    """``PIL.Image``, imported (the first time) with ``PIL.ExifTags`` deferred."""
    module = sys.modules.get("PIL.Image")
    if module is None:
        with _IMPORTING:
            if "PIL.ExifTags" not in sys.modules:
                _defer("PIL.ExifTags")
            from PIL import Image as module
    return module


def orientation(im) -> int:
    """The EXIF orientation of an opened image (1 when it has none), as ``im.getexif()`` reads it;
    an image with no EXIF or XMP data is not asked (its answer is 1)."""
    if hasattr(im, "tag_v2") or any(key in im.info for key in _METADATA_KEYS):
        return im.getexif().get(ORIENTATION_TAG, 1)
    return 1


def _defer(name: str) -> None:
    """Put a lazily executed module ``name`` in ``sys.modules`` (nothing when it cannot be found)."""
    import importlib.util

    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        return
    spec.loader = importlib.util.LazyLoader(spec.loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    parent, _, child = name.rpartition(".")
    setattr(sys.modules[parent], child, module)
