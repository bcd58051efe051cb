"""``kernelcli volume``: an alias of ``convolve``, kept for scripts written before convolve took volumes.

``convolve`` reads NIfTI and DICOM volumes and takes every volume option (``--window`` and
its presets, ``--axis``, ``--keep-dtype``, kernels in mm); ``volume`` is the same command
under its old name, so ``kernelcli volume ct.dcm --window lung -o lung.png`` keeps working.
"""

from __future__ import annotations

import functools
import inspect
import typing
from collections.abc import Callable
from typing import Any

import typer

from ..volume_inputs import IMAGE_ONLY_OPTIONS, VOLUME_FORMATS, VOLUME_FORMATS_HELP

EPILOG = """\b
Examples:
  kernelcli volume samples/phantom3d.nii.gz --kernel gaussian:1.5mm --out smooth.nii.gz
  kernelcli volume ct_series/ --kernel sobel_3d --window 0,400 --out edges.png
  kernelcli volume scan.nii.gz --kernel sharpen --axis z --pad-mode reflect --out sharp.nii.gz
  kernelcli volume ct_series/ --window lung --out lung.png

Needs the [medical] extra: pip install 'kernelcli[medical]' (in kernelcli's source folder: pip install '.[medical]').
"""

HELP = f"""Alias of `kernelcli convolve` for 3-D medical volumes ({", ".join(VOLUME_FORMATS)}).

It reads {VOLUME_FORMATS_HELP}. Volumes are (Z, Y, X): slices, rows, columns. DICOM values are rescaled to Hounsfield
units; NIfTI outputs keep the input's affine, so they overlay it in a viewer. Kernels
in mm (gaussian:1.5mm), 3-D kernels, or 2-D kernels slice by slice; without --kernel
the volume is only converted or windowed.
"""


#: convolve's options a volume refuses (the list the refusal reads): the shared help says what they do to images;
#: volume's help says so
IMAGE_ONLY = IMAGE_ONLY_OPTIONS
IMAGE_ONLY_MARK = "(images; not volumes)"


def register(app: typer.Typer) -> None:
    """Add ``volume``, the same command as ``convolve``, to the app."""
    from .convolve import convolve

    app.command("volume", help=HELP, epilog=EPILOG)(marked_image_only(convolve))


def marked_image_only(command: Callable[..., Any]) -> Callable[..., Any]:
    """``command`` (a wrapper calling it) whose :data:`IMAGE_ONLY` options' help carries :data:`IMAGE_ONLY_MARK` after
    their concept's text: the same declarations (names, types, parsing), only the help says more.

    >>> from kernelcli.cli.convolve import convolve
    >>> inspect.signature(marked_image_only(convolve)).parameters["quality"].annotation.__metadata__[0].help[-35:]
    '(images; not volumes) [default: 95]'
    """
    from ._declared import Declared
    from .options import HELP

    def marked(parameter: inspect.Parameter) -> inspect.Parameter:
        kind, *metadata = typing.get_args(parameter.annotation)
        declared = next(m for m in metadata if isinstance(m, Declared))
        shared = HELP[parameter.name]
        text = f"{shared} {IMAGE_ONLY_MARK}{declared.settings['help'][len(shared):]}"
        again = Declared(declared.names, {**declared.settings, "help": text})
        return parameter.replace(annotation=typing.Annotated[(kind, *(again if m is declared else m for m in metadata))])

    signature = inspect.signature(command, eval_str=True)

    @functools.wraps(command)
    def volume(*args: Any, **kwargs: Any) -> Any:
        return command(*args, **kwargs)

    volume.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[marked(p) if p.name in IMAGE_ONLY else p for p in signature.parameters.values()])
    return volume
