"""Write kernelcli's sample files: a Shepp-Logan phantom (8- and 16-bit), an RGB image, the lecture's matrices.

Run ``python samples/make_samples.py`` (or ``--out DIR``).  Only the standard library, numpy and
pillow; nothing is downloaded, and the output is byte-for-byte the same on every run.

The phantom
-----------
The Shepp-Logan head phantom is ten ellipses added on top of each other, from the table in

    L. A. Shepp and B. F. Logan, "The Fourier reconstruction of a head section",
    IEEE Transactions on Nuclear Science, vol. NS-21, no. 3, pp. 21-43, June 1974, Table 1.

The original grey levels (2, -0.98, -0.02, ...) put all soft tissue within 2% of each other, so
it looks flat on screen.  We use the "modified Shepp-Logan" levels with better contrast from

    P. Toft, "The Radon Transform: Theory and Implementation", PhD thesis, Technical University
    of Denmark, 1996 (the same table as MATLAB's ``phantom('Modified Shepp-Logan')``).

Coordinates span [-1, 1] on both axes, x to the right and y up (row 0 is y = +1), angles in
degrees counter-clockwise from the x axis.  The summed intensities lie in [0, 1] (skull 1.0,
brain 0.2, ventricles 0.0, small tumours 0.3-0.4).  ``phantom.png`` stores round(255 * value)
as 8-bit greyscale; ``phantom16.png`` stores round(65535 * value) as 16-bit greyscale (mode
I;16), the full 16-bit range, so it reads back as uint16 with values up to 65535.

Example
-------
>>> image = shepp_logan(8)
>>> image.shape, float(image.max())
((8, 8), 1.0)
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np
from PIL import Image

#: (intensity, semi-axis a along x, semi-axis b along y, centre x0, centre y0, angle in degrees):
#: Shepp & Logan (1974) geometry with Toft's (1996) modified intensities.
MODIFIED_SHEPP_LOGAN = (
    (1.0, 0.6900, 0.9200, 0.00, 0.0000, 0.0),
    (-0.8, 0.6624, 0.8740, 0.00, -0.0184, 0.0),
    (-0.2, 0.1100, 0.3100, 0.22, 0.0000, -18.0),
    (-0.2, 0.1600, 0.4100, -0.22, 0.0000, 18.0),
    (0.1, 0.2100, 0.2500, 0.00, 0.3500, 0.0),
    (0.1, 0.0460, 0.0460, 0.00, 0.1000, 0.0),
    (0.1, 0.0460, 0.0460, 0.00, -0.1000, 0.0),
    (0.1, 0.0460, 0.0230, -0.08, -0.6050, 0.0),
    (0.1, 0.0230, 0.0230, 0.00, -0.6060, 0.0),
    (0.1, 0.0230, 0.0460, 0.06, -0.6050, 0.0),
)

#: The lecture's worked-example input matrices (worked-examples.md, sections 1-5).
EXAMPLES = {
    "example1.csv": [  # 1. valid convolution with the vertical edge kernel
        [7, 2, 3, 3, 8],
        [4, 5, 3, 8, 4],
        [3, 3, 2, 8, 4],
        [2, 8, 7, 2, 7],
        [5, 4, 4, 5, 4],
    ],
    "example2.csv": [  # 2. zero and replicate padding with the sharpen kernel
        [105, 102, 100, 97, 96],
        [103, 99, 103, 101, 102],
        [101, 98, 104, 102, 100],
        [99, 101, 106, 104, 99],
        [104, 104, 104, 100, 98],
    ],
    "example3.csv": [[10, 10, 10, 0, 0, 0]] * 6,  # 3. a step: bright left, dark right
    "step_mirrored.csv": [[0, 0, 0, 10, 10, 10]] * 6,  # 3. the mirrored step: negative edge response
    "example4.csv": [  # 4. the kernel-learning slide's matrix
        [3, 0, 1, 2, 7, 4],
        [1, 5, 8, 9, 3, 1],
        [2, 7, 2, 5, 1, 3],
        [0, 1, 3, 1, 7, 8],
        [4, 2, 1, 6, 2, 8],
        [2, 4, 5, 2, 3, 9],
    ],
    "example5.csv": [  # 5. max pooling, f=2, s=2
        [7, 3, 5, 2],
        [8, 7, 1, 6],
        [4, 9, 3, 9],
        [0, 8, 4, 5],
    ],
}


def shepp_logan(n: int = 256, table: tuple[tuple[float, ...], ...] = MODIFIED_SHEPP_LOGAN) -> np.ndarray:
    """The Shepp-Logan phantom as an (n, n) float64 array, values in [0, 1] for the modified table.

    >>> round(float(shepp_logan(5)[2, 2]), 6)   # the centre lies in the brain: 1.0 - 0.8
    0.2
    """
    axis = (np.arange(n) - (n - 1) / 2) / ((n - 1) / 2)  # pixel centres, -1 .. 1
    x = axis[np.newaxis, :]
    y = -axis[:, np.newaxis]  # row 0 is the top, y = +1
    image = np.zeros((n, n))
    for value, a, b, x0, y0, degrees in table:
        phi = math.radians(degrees)
        cos, sin = math.cos(phi), math.sin(phi)
        dx, dy = x - x0, y - y0
        inside = ((dx * cos + dy * sin) / a) ** 2 + ((dy * cos - dx * sin) / b) ** 2 <= 1.0
        image += value * inside
    return image


def rgb_test_image(n: int = 128) -> np.ndarray:
    """An (n, n, 3) uint8 image: red rises left to right, green top to bottom, a blue disc and a white square.

    Edges of several orientations and colours, so per-channel filtering is easy to see.
    """
    ramp = np.round(np.linspace(0, 255, n)).astype(np.uint8)
    image = np.zeros((n, n, 3), dtype=np.uint8)
    image[..., 0] = ramp[np.newaxis, :]
    image[..., 1] = ramp[:, np.newaxis]
    rows, cols = np.mgrid[0:n, 0:n]
    disc = (rows - n * 0.6) ** 2 + (cols - n * 0.35) ** 2 <= (n * 0.22) ** 2
    image[disc] = (30, 60, 230)
    image[n // 8 : n // 8 + n // 4, n - n // 8 - n // 4 : n - n // 8] = 255
    return image


def _write_png(path: Path, array: np.ndarray) -> None:
    # no metadata chunks (times, text), so the bytes depend on the pixels only
    Image.fromarray(array).save(path, format="PNG", optimize=False, compress_level=9)


def _write_csv(path: Path, rows: list[list[int]]) -> None:
    path.write_text("".join(",".join(str(v) for v in row) + "\n" for row in rows), encoding="ascii", newline="")


def write_samples(out: Path) -> list[Path]:
    """Write every sample file into ``out`` (created if missing); return their paths."""
    out.mkdir(parents=True, exist_ok=True)
    phantom = np.clip(shepp_logan(256), 0.0, 1.0)
    written = []
    for name, array in (
        ("phantom.png", np.round(phantom * 255).astype(np.uint8)),
        ("phantom16.png", np.round(phantom * 65535).astype(np.uint16)),
        ("rgb.png", rgb_test_image(128)),
    ):
        _write_png(out / name, array)
        written.append(out / name)
    for name, rows in EXAMPLES.items():
        _write_csv(out / name, rows)
        written.append(out / name)
    return written


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Write kernelcli's sample images and matrices.")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent, help="folder to write into (default: samples/)")
    args = parser.parse_args(argv)
    for path in write_samples(args.out):
        print(path)


if __name__ == "__main__":
    main()
