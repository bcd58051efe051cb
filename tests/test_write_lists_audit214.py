"""Audit 214 F4: write_output(path, list) wrote a list's whole numbers as numpy rounded them, in silence.

``write_output("wo.npy", [[2**64 - 1, 0], [1, 2]])`` wrote float64 2**64 (``.csv``: 1.8446744073709552e+19), where
every compute function refuses such a list naming the value (given_values.refuse_rounded_listed); the medical
writers that take an array (``write_npy``, ``write_nifti``) alike.  Now each refuses it, and writes nothing.
"""

from __future__ import annotations

import numpy as np
import pytest

import kernelcli as K
from kernelcli import medical
from kernelcli.errors import UsageError

ROUNDED = [[2**64 - 1, 0], [1, 2]]


class TestAListsRoundedWholeNumbersAreNotWritten:
    @pytest.mark.parametrize("suffix", [".npy", ".csv"])
    def test_write_output_refuses_them(self, tmp_path, suffix):
        out = tmp_path / f"wo{suffix}"
        with pytest.raises(UsageError, match=r"^result: the value at \(0, 0\) is 18446744073709551615, which float64 "
                                             r"reads as 18446744073709551616: .*numpy.array\(result, dtype='uint64'\)"):
            K.write_output(out, ROUNDED)
        assert not out.exists()

    def test_a_large_int_beside_a_float_is_named(self, tmp_path):
        with pytest.raises(UsageError, match=r"the value at \(0, 0\) is 9007199254740993"):
            K.write_output(tmp_path / "w.npy", [[2**53 + 1, 0.5]])

    def test_what_numpy_keeps_is_written(self, tmp_path):
        K.write_output(tmp_path / "a.npy", np.array(ROUNDED, dtype=np.uint64))
        assert int(np.load(tmp_path / "a.npy")[0, 0]) == 2**64 - 1
        K.write_output(tmp_path / "b.npy", [[2**60, 1.5]])  # (2**60 is a float64)
        assert np.load(tmp_path / "b.npy")[0, 0] == 2.0**60

    def test_the_medical_writers_refuse_them(self, tmp_path):
        volume = [ROUNDED, ROUNDED]
        with pytest.raises(UsageError, match=r"^data: the value at \(0, 0, 0\) is 18446744073709551615"):
            medical.write_npy(tmp_path / "v.npy", volume)
        assert not (tmp_path / "v.npy").exists()
        pytest.importorskip("nibabel")
        with pytest.raises(UsageError, match=r"^data: the value at \(0, 0, 0\) is 18446744073709551615"):
            medical.write_nifti(tmp_path / "v.nii.gz", volume)
        assert not (tmp_path / "v.nii.gz").exists()
