"""Audit 196: refusals of the Python API in its own words (findings 3...).

3. ``load_kernel('sobel_3d', max_ndim=3)`` told a Python caller the kernel was "for a volume input (NIfTI, DICOM or a
   DICOM series folder)" and pointed at 2-D kernels, never at ``kernel_3d('sobel_3d')``; alike ``gaussian:2mm``,
   ``fwhm:4mm``, ``log:2mm``, ``box:3vox``.  It now names where the API builds each for a (Z, Y, X) array; the
   command line keeps its words (the input must be a volume file).
6. ``write_output(path, data, encoding={"quality": 80})`` (or ``encoding=80``) raised AttributeError ('own_png'), and
   ``Encoding(quality=500)`` said "--quality", ``Encoding(quality="high")`` was int()'s ValueError: ``encoding`` is
   checked and Encoding's refusals name ``quality``.
9. ``correlate_separable(vol, kernel_3d("sobel_3d"))`` was refused with the Kernel3D's whole repr (~600 characters),
   where conv3d takes it as it is: a Kernel3D is now its three factors, and a refused value's repr is clipped.
"""

from __future__ import annotations

import numpy as np
import pytest

from conftest import SAMPLES, run_in_process
from kernelcli import load_kernel
from kernelcli.errors import InvalidKernel


class TestLoadKernelOfAVolumeKernelNamesTheApi:
    @pytest.mark.parametrize("spec, advice", [
        ("sobel_3d", "kernel_3d('sobel_3d') (conv3d; from kernelcli.volumes)"),
        ("Box-3D", "kernel_3d('box_3d')"),
        ("gaussian:2mm", "gaussian_mm(2, spacing) (correlate_separable; from kernelcli.volumes)"),
        ("fwhm:4mm", "gaussian_mm(4, spacing, fwhm=True)"),
        ("gaussian:1.5vox", "gaussian_vox(1.5)"),
        ("box:3mm", "box_mm(3, spacing)"),
        ("box:3vox", "box_vox(3) (correlate_separable; from kernelcli.kernel_build)"),
        ("log:2mm", "laplacian_of_gaussian(vol, 2, spacing) (from kernelcli.volume_filters)"),
        ("gradient", "gradient_magnitude(vol, spacing)"),
        ("sobel_mm", "sobel_magnitude(vol, spacing)"),
        ("fwhm:2", "gaussian_mm(SIGMA, spacing) (fwhm=True for a FWHM)"),
    ])
    @pytest.mark.parametrize("max_ndim", [2, 3])
    def test_the_refusal_names_where_the_api_builds_it(self, spec, advice, max_ndim):
        with pytest.raises(InvalidKernel) as info:
            load_kernel(spec, max_ndim=max_ndim)
        message = str(info.value)
        assert f"a (Z, Y, X) array takes {advice}" in message
        assert "NIfTI" not in message and "--" not in message

    @pytest.mark.parametrize("args, line", [
        (("-k", "sobel_3d"), "phantom.png: sobel_3d: a named 3-D kernel is for a volume input (NIfTI, DICOM or a DICOM series folder)"),
        (("-k", "box_3x3", "--then", "gaussian:2mm"), "phantom.png: gaussian:2mm: a size in mm is for a volume input (NIfTI"),
        (("-k", "fwhm:2"), "error: 'fwhm:2': expected a size in mm or voxels such as fwhm:4mm or log:2mm, for a volume input"),
    ])
    def test_the_command_line_keeps_its_words(self, args, line, tmp_path):
        r = run_in_process("convolve", str(SAMPLES / "phantom.png"), *args, "-o", "x.png", cwd=tmp_path)
        assert r.returncode == 3 and line in r.stderr and "kernel_3d" not in r.stderr and "gaussian_mm" not in r.stderr, r.stderr


class TestCorrelateSeparableTakesAKernel3D:
    @pytest.mark.parametrize("name", ["sobel_3d", "gaussian_3d", "box_3d"])
    def test_a_kernel_3d_is_its_factors(self, name):
        from kernelcli import volumes

        vol = np.random.default_rng(3).random((6, 7, 8))
        k = volumes.kernel_3d(name)
        np.testing.assert_array_equal(volumes.correlate_separable(vol, k), volumes.correlate_separable(vol, k.factors))
        np.testing.assert_allclose(volumes.correlate_separable(vol, k), volumes.conv3d(vol, k), atol=1e-12)

    def test_a_refused_value_is_shown_short(self):
        from kernelcli import volumes
        from kernelcli.errors import UsageError

        with pytest.raises(UsageError) as info:
            volumes.correlate_separable(np.ones((3, 3, 3)), object.__new__(type("Long", (), {"__repr__": lambda self: "x" * 600})))
        assert len(str(info.value)) < 160 and "(600 characters)" in str(info.value)


class TestWriteOutputEncoding:
    @pytest.mark.parametrize("encoding, words", [({"quality": 80}, "got dict: pass Encoding(**that)"), (80, "got int")])
    def test_an_encoding_that_is_not_one_is_refused_naming_it(self, encoding, words, tmp_path):
        from kernelcli import write_output
        from kernelcli.errors import UsageError

        with pytest.raises(UsageError, match=r"^encoding: expected None or kernelcli\.io\.Encoding\(quality=\.\.\., compress=\.\.\.\), " + words.replace("(", r"\(").replace(")", r"\)").replace("*", r"\*")):
            write_output(tmp_path / "q.jpg", np.zeros((4, 4), np.uint8), encoding=encoding)
        assert not list(tmp_path.iterdir())

    @pytest.mark.parametrize("quality", [0, 500, "high", 2.5, True, None.__class__])
    def test_a_quality_is_refused_in_the_keywords_words(self, quality):
        from kernelcli.errors import UsageError
        from kernelcli.io import Encoding

        with pytest.raises(UsageError, match="^quality: expected a JPEG quality, a whole number from 1 to 100, got "):
            Encoding(quality=quality)

    def test_a_numpy_integer_quality_is_taken(self, tmp_path):
        from kernelcli import write_output
        from kernelcli.io import Encoding

        assert Encoding(quality=np.int64(80)).quality == 80
        write_output(tmp_path / "q.jpg", np.zeros((4, 4), np.uint8), encoding=Encoding(quality=np.int64(80)))
