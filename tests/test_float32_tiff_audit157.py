"""A float64 result stored in a float32 TIFF (audit 157 #1): a value beyond float32's range became +inf in the file
(exit 0, the summary giving the float64 range, a file kernelcli's own reader refuses), and one below float32's
smallest subnormal became 0 without a word.  Now the first is refused before anything is written, on the API and the
command line, and the second is counted in the float32 note."""

from __future__ import annotations

import json

import numpy as np
import pytest

import kernelcli as K
from kernelcli.errors import UsageError


def test_write_output_refuses_a_float64_value_beyond_float32_in_a_tiff(tmp_path):
    out = tmp_path / "big.tif"
    with pytest.raises(UsageError) as got:
        K.write_output(out, np.array([[1e39, 1.0], [-2e40, 3.0]]), rescale="none")
    text = str(got.value)
    assert "\n" not in text and str(out) in text, text
    assert "2 value(s) beyond float32's range" in text and "4e+40" not in text and "2e+40" in text, text
    assert "write .npy" in text and "nothing was written" in text, text
    assert not out.exists()


def test_write_output_keeps_float32s_largest_in_a_tiff(tmp_path):
    top = float(np.finfo(np.float32).max)
    K.write_output(tmp_path / "top.tif", np.array([[top, -top]]), rescale="none")
    assert K.read_input(tmp_path / "top.tif").data.tolist() == [[top, -top]]


@pytest.mark.parametrize("command", [["convolve", "-k", "1x1: 1"], ["pad", "-p", "0"], ["pool", "-f", "1"]])
def test_the_command_line_refuses_it_before_writing(invoke, tmp_path, command):
    np.save(tmp_path / "big64.npy", np.array([[1e39, 1.0], [2.0, 3.0]]))
    name, *options = command
    r = invoke(name, "big64.npy", *options, "-o", "big.tif")
    assert r.exit_code == 2, (r.exit_code, r.output)
    assert "big.tif: 1 value(s) beyond float32's range" in r.stderr and "Traceback" not in r.output, r.stderr
    assert not (tmp_path / "big.tif").exists()


def test_several_maps_in_a_multi_page_tiff_are_refused_too(invoke, tmp_path):
    np.save(tmp_path / "big64.npy", np.array([[1e39, 1.0], [2.0, 3.0]]))
    r = invoke("convolve", "big64.npy", "-k", "1x1: 1", "-k", "1x1: 2", "-o", "maps.tif")
    assert r.exit_code == 2 and "maps.tif: 2 value(s) beyond float32's range" in r.stderr, (r.exit_code, r.stderr)
    assert not (tmp_path / "maps.tif").exists()


def test_values_float32_makes_zero_are_counted_in_the_note(invoke, tmp_path):
    np.save(tmp_path / "tiny64.npy", np.array([[1e-50, -1e-50], [1e-40, 3.0]]))
    r = invoke("convolve", "tiny64.npy", "-k", "1x1: 1", "-o", "tiny.tif", "--json")
    assert r.exit_code == 0, r.output
    notes = json.loads(r.stdout)["notes"]
    said = [n for n in notes if "stored as float32" in n]
    assert said and "2 non-zero value(s) are 0 there (float32's smallest is about 1.4e-45)" in said[0], notes
    assert "1 more below float32's normal range (about 1.2e-38) keep(s) fewer digits" in said[0], notes
    assert K.read_input(tmp_path / "tiny.tif").data.tolist()[0] == [0.0, 0.0]
    np.save(tmp_path / "sub64.npy", np.array([[1e-40, 1.0]]))
    notes = json.loads(invoke("convolve", "sub64.npy", "-k", "1x1: 1", "-o", "sub.tif", "--json").stdout)["notes"]
    assert any("about 7 significant digits; 1 value(s) below float32's normal range" in n for n in notes), notes


def test_the_note_says_nothing_of_zeros_where_there_are_none(invoke, tmp_path):
    np.save(tmp_path / "x.npy", np.array([[0.5, 0.0], [1.0, 3.0]]))
    notes = json.loads(invoke("convolve", "x.npy", "-k", "1x1: 1", "-o", "x.tif", "--json").stdout)["notes"]
    said = [n for n in notes if "stored as float32" in n]
    assert said and "below float32" not in said[0], notes
