"""A float16 result written to .csv (audit 157 #4b): numpy warned "overflow encountered in cast" twice per value
(``abs(x) < 1e16`` compared in float16, where 1e16 is inf), a traceback under ``-W error``; the values were right."""

from __future__ import annotations

import warnings

import numpy as np

import kernelcli as K


def test_a_float16_csv_is_written_without_a_warning(tmp_path):
    values = np.array([[1.5, -2.0], [0.0001, 65504.0]], np.float16)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        K.write_output(tmp_path / "h.csv", values)
    assert (tmp_path / "h.csv").read_text().split() == ["1.5,-2", "0.0001,65504"]
