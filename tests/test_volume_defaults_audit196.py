"""Audit 196 #8: the 3-D array functions default to a constant border, ``kernelcli volume`` and the volume filters
to replicate; docs/python-api.md did not say so, and a notebook user reproducing a ``kernelcli volume`` result from
``read_volume(...).data`` got other border voxels (16000 apart on the phantom, sobel_3d) without a word.  The
defaults stay (PyTorch's for conv3d, the command line's for volumes); the docs and docstrings say them.
"""

from __future__ import annotations

import inspect
from pathlib import Path

import numpy as np
import pytest

from conftest import SAMPLES, run_in_process
from kernelcli import conv3d, volume_filters, volumes

DOC = Path(__file__).resolve().parents[1] / "docs" / "python-api.md"


def _default(function) -> str:
    return inspect.signature(function).parameters["pad_mode"].default


class TestTheBorderDefaultsAreSaid:
    def test_the_documented_defaults_are_the_signatures(self):
        assert _default(volumes.conv3d) == _default(volumes.correlate_separable) == "constant"
        assert all(_default(f) == "replicate" for f in (volume_filters.gradient_magnitude, volume_filters.sobel_magnitude,
                                                        volume_filters.laplacian_of_gaussian))
        text = " ".join(DOC.read_text().split())
        assert ('`conv3d`, `correlate_separable` and `convolve_slices` default to `pad_mode="constant"`' in text
                and "default to `replicate`" in text and 'pass `pad_mode="replicate"`' in text)

    @pytest.mark.parametrize("function", [volumes.conv3d, volumes.correlate_separable, volumes.convolve_slices])
    def test_each_docstring_names_the_command_lines_replicate(self, function):
        assert "replicate" in " ".join(function.__doc__.split()).split("kernelcli volume", 1)[-1][:120]

    def test_the_documented_call_reproduces_the_command_line(self, tmp_path):
        pytest.importorskip("nibabel")
        from kernelcli import read_volume

        r = run_in_process("volume", str(SAMPLES / "phantom3d.nii.gz"), "-k", "sobel_3d", "-o", "s.npy", "-q", cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        cli = np.load(tmp_path / "s.npy")
        data = read_volume(str(SAMPLES / "phantom3d.nii.gz")).data
        np.testing.assert_array_equal(conv3d(data, volumes.kernel_3d("sobel_3d"), pad_mode="replicate"), cli)
        assert not np.array_equal(conv3d(data, volumes.kernel_3d("sobel_3d")), cli)
