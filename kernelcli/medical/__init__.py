"""Medical volumes: DICOM and NIfTI in; NIfTI, ``.npy`` and windowed PNG out; Hounsfield units and windowing.

Reading and writing go through the field's own libraries, pydicom and nibabel, installed with
the optional extra ``pip install 'kernelcli[medical]'``; without them a medical input fails with
:class:`~kernelcli.errors.MissingExtra` (exit 2) naming that command.

One module per concern:

* :mod:`.volume` -- the :class:`Volume` value and :func:`read_volume`, which picks the reader;
* :mod:`.nifti` -- NIfTI (and MGH) in, NIfTI out: header, affine, codes kept; 4-D; streamed fast deflate;
* :mod:`.nifti_geometry` -- a NIfTI's qform, sform and pixdim: the reading taken, refused where it is two or none;
* :mod:`.dicom`, :mod:`.series` -- DICOM files (enhanced multi-frame, RT Dose) and series folders: HU, --series;
* :mod:`.dicom_tags` -- DICOM header numbers (positions, orientation, spacing, rescale), each checked;
* :mod:`.geometry` -- slice sorting, even gaps (or resampling), gantry tilt, the DICOM -> NIfTI affine;
* :mod:`.itk` -- NRRD and MetaImage through SimpleITK (optional); :mod:`.itk_files`: the data files a header names;
* :mod:`.window`, :mod:`.preview` -- DICOM's linear VOI windowing, presets; PNG previews oriented RAS+;
* :mod:`.writers` -- the output check made before any work, ``.npy`` and PNG outputs;
* :mod:`.phantom` -- the 3-D Shepp-Logan sample;
* :mod:`.kernels`, :mod:`.jobs` -- ``--kernel`` specs for volumes; volume file jobs (read -> filter/pool -> write).

Volumes
-------
Every volume is a (Z, Y, X) array -- slices, rows, columns -- with ``spacing = (dz, dy, dx)`` in
millimetres and a 4x4 ``affine`` that maps NIfTI voxel indices ``(i, j, k) = (x, y, z)`` to
RAS+ millimetres (nibabel's convention), so a result written as NIfTI overlays its input.

Example
-------
>>> vol = read_volume("samples/phantom3d.nii.gz")
>>> vol.data.shape, vol.spacing
((64, 64, 64), (1.0, 0.8, 0.8))
"""

from __future__ import annotations

from ..volume_inputs import DICOM_SUFFIXES, NIFTI_SUFFIXES, is_volume_input, volume_suffix
from .dicom import read_dicom
from .filtering import filter_volume
from .jobs import VolumeReport, convolve_volume_file, default_volume_output
from .kernels import VolumeKernel, resolve_volume_kernel
from .volume_options import VolumeOptions
from .nifti import GZIP_LEVEL, read_nifti, write_nifti
from .pooling import pool_volume_file
from .volume_calls import convolve_volume_for_cli
from .phantom import AIR_HU, SHEPP_LOGAN_3D_HU, shepp_logan_3d, write_phantom3d
from .volume import EXTRA_HINT, Volume, read_volume, volume_stem
from .window import WINDOW_PRESETS, apply_window, parse_window
from .writers import OUTPUT_SUFFIXES, check_volume_output, write_npy, write_png_slice

__all__ = [
    "AIR_HU", "DICOM_SUFFIXES", "EXTRA_HINT", "GZIP_LEVEL", "NIFTI_SUFFIXES", "OUTPUT_SUFFIXES", "SHEPP_LOGAN_3D_HU",
    "WINDOW_PRESETS", "Volume", "VolumeKernel", "VolumeOptions", "VolumeReport", "apply_window", "check_volume_output",
    "convolve_volume_file", "convolve_volume_for_cli", "default_volume_output", "filter_volume", "is_volume_input",
    "parse_window", "pool_volume_file", "read_dicom", "read_nifti", "read_volume", "resolve_volume_kernel",
    "shepp_logan_3d", "volume_stem", "volume_suffix", "write_nifti", "write_npy", "write_phantom3d", "write_png_slice",
]
