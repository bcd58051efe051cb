"""The parametric kernels: ``gaussian:SIGMA`` and ``box:N``, built from their one number.

>>> kernel = parametric_kernel("box:3", "box", "3")
>>> kernel.name, kernel.shape, kernel.sum
('box:3', (3, 3), 1.0)
"""

from __future__ import annotations

import math

from . import numtext
from .catalog_format import MAX_SIDE, Kernel
from .errors import InvalidKernel


def parametric_kernel(spec: str, kind: str, argument: str) -> Kernel:
    """The kernel of a parametric spec: ``kind`` is ``gaussian`` or ``box``, ``argument`` the text after the colon.

    Errors name the whole ``spec`` as typed.

    >>> parametric_kernel("gaussian:1", "gaussian", "1").shape, parametric_kernel("box:3", "box", "3").shape
    ((7, 7), (3, 3))
    """
    return gaussian_from_spec(spec, argument) if kind == "gaussian" else box_from_spec(spec, argument)


def gaussian_kernel(sigma: float) -> Kernel:
    """Return the sampled Gaussian of standard deviation ``sigma``, normalised to sum 1.

    Size ``2*ceil(3*sigma)+1`` per side; weights ``exp(-(x**2 + y**2) / (2*sigma**2))`` at integer
    offsets from the centre, divided by their sum (``scale="sum"``): the outer product of
    ``cv2.getGaussianKernel(2*ceil(3*sigma)+1, sigma)``, and ImageMagick's ``Gaussian:RxSIGMA`` with R = ceil(3*sigma).
    ImageMagick's ``Gaussian:0xSIGMA`` samples and normalises alike but picks its own radius, often larger (9x9 for
    sigma 1, 15x15 for sigma 2), so its weights differ.

    >>> gaussian_kernel(0.5).shape
    (5, 5)
    """
    if not (isinstance(sigma, (int, float)) and math.isfinite(sigma) and sigma > 0):
        raise InvalidKernel(f"gaussian: sigma {sigma!r} must be a positive finite number")
    if sigma > 1e6:  # before ceil(): 3 * 1e308 is inf, and 1e200 would print a 200-digit size
        raise InvalidKernel(
            f"gaussian:{numtext.shortest(sigma)}: sigma {numtext.shortest(sigma)} gives a kernel larger than {MAX_SIDE} "
            f"per side (sigma at most {(MAX_SIDE // 2) / 3:.4g})"
        )
    from .kernel_build import gaussian_row, radius_for

    radius = radius_for(sigma)  # one truncation rule for pixels, voxels and mm
    size = 2 * radius + 1
    if size > MAX_SIDE:
        raise InvalidKernel(
            f"gaussian:{numtext.shortest(sigma)}: sigma {numtext.shortest(sigma)} gives a {size}x{size} kernel, "
            f"larger than {MAX_SIDE} per side (sigma at most {(MAX_SIDE // 2) / 3:.4g})"
        )
    row = gaussian_row(sigma, radius)
    matrix = tuple(tuple(a * b for b in row) for a in row)
    text = numtext.shortest(sigma)
    return Kernel(
        name=f"gaussian:{text}",
        matrix=matrix,
        family="gaussian",
        description=(
            f"Gaussian blur, sigma {text}, {size}x{size} (radius ceil(3*sigma)), sampled and "
            "normalised to sum 1; no orientation."
        ),
        source=("Sampled 2-D Gaussian cut at radius ceil(3*sigma), normalised: cv2.getGaussianKernel(2*ceil(3*sigma)+1, "
                "sigma) times its transpose, ImageMagick's Gaussian:RxSIGMA with R = ceil(3*sigma) (its Gaussian:0xSIGMA "
                "keeps more taps: 9x9 for sigma 1; https://imagemagick.org/Usage/convolve/#gaussian)"),
        scale="sum",
    )


def box_kernel(size: int) -> Kernel:
    """Return the ``size`` x ``size`` box (mean) kernel, every weight ``1/size**2``.

    >>> box_kernel(3).sum
    1.0
    """
    if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= MAX_SIDE:
        raise InvalidKernel(f"box: size {size!r} must be a whole number from 1 to {MAX_SIDE}")
    return Kernel(
        name=f"box:{size}",
        matrix=tuple(tuple(1.0 for _ in range(size)) for _ in range(size)),
        family="smoothing",
        description=f"Box blur {size}x{size}, the unweighted mean (each weight 1/{size * size}); no orientation.",
        source="Box (mean) filter of side N, each weight 1/N^2; Wikipedia, 'Box blur', https://en.wikipedia.org/wiki/Box_blur",
        scale=float(size * size),
    )


def gaussian_from_spec(spec: str, argument: str) -> Kernel:
    """The Gaussian of ``gaussian:SIGMA`` (:func:`gaussian_kernel`); a sigma not a positive finite number is refused.

    >>> gaussian_from_spec("gaussian:x", "x")
    Traceback (most recent call last):
    kernelcli.errors.InvalidKernel: gaussian:x: sigma 'x' is not a number; write e.g. gaussian:1.5
    """
    sigma = numtext.decimal(argument)
    if sigma is None:
        raise InvalidKernel(f"{numtext.clipped(spec, 120)}: sigma {numtext.quoted(argument)} is not a number; write e.g. gaussian:1.5")
    if not math.isfinite(sigma) or sigma <= 0:
        raise InvalidKernel(f"{numtext.clipped(spec, 120)}: sigma must be a positive finite number, e.g. gaussian:1.5")
    return gaussian_kernel(sigma)


def box_from_spec(spec: str, argument: str) -> Kernel:
    """The N x N mean of ``box:N`` (:func:`box_kernel`), N a whole number from 1 to ``MAX_SIDE`` in any form.

    >>> box_from_spec("box:3.0", "3.0").shape
    (3, 3)
    >>> box_from_spec("box:0", "0")
    Traceback (most recent call last):
    kernelcli.errors.InvalidKernel: box:0: N must be a whole number from 1 to 255, e.g. box:3
    """
    argument = argument.strip()  # (blanks around N, as gaussian: takes them: 'box: 3' was refused, 'gaussian: 1' not)
    size = numtext.exact_whole(argument)  # any form of a whole number, as box:3.0vox (int() stops at 4300 digits)
    if size is None or not 1 <= size <= MAX_SIDE:
        raise InvalidKernel(f"{numtext.clipped(spec, 120)}: N must be a whole number from 1 to {MAX_SIDE}, e.g. box:3")
    return box_kernel(size)
