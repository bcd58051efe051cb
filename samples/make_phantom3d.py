"""Write ``phantom3d.nii.gz``: a 64^3 Shepp-Logan-style head phantom in HU-like values, as NIfTI.

Run ``python samples/make_phantom3d.py`` (or ``--out PATH``).  Needs the medical extra
(``pip install 'kernelcli[medical]'``, for nibabel); nothing is downloaded, and every run writes the
same header and voxels (gzip without a time stamp; the compressed bytes depend on the deflate library
installed: the medical extra's isal writes other bytes than zlib, which wrote the shipped file).

The volume is int16 (Z, Y, X) = 64 x 64 x 64 with voxel sizes (1.0, 0.8, 0.8) mm -- anisotropic
on purpose, so a kernel in millimetres spans a different number of voxels along z than in-plane.
Values: air -1000, skull 800, brain 40, ventricles 10, lesions 25-75 (see
``kernelcli.medical.SHEPP_LOGAN_3D_HU`` for the ellipsoids and their sources).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from kernelcli.medical import write_phantom3d

SHAPE = (64, 64, 64)
SPACING = (1.0, 0.8, 0.8)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "phantom3d.nii.gz")
    args = parser.parse_args()
    path = write_phantom3d(args.out, SHAPE, SPACING, force=True)
    print(f"{path} ({path.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
