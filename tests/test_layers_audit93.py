"""convolve's options and convolution layers (audit 93): one rule for every number a layer is given, a --bias count
refused before any input, --combine and --rescale named where unused, the montage and the names saying what was
computed, --weights' channel refusals in the command's words."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from conftest import run_in_process

BIG = 2**53 + 1  # the smallest whole number float64 rounds (to 2**53)


def kc(tmp_path, *args):
    return run_in_process(*map(str, args), cwd=tmp_path)


class TestWholeNumbersPast2To53:
    """F1: --weights, --bias-file, --bias and convolve's --pad-value refuse a whole number float64 rounds, as -k does."""

    @pytest.fixture
    def files(self, tmp_path):
        np.save(tmp_path / "one.npy", np.ones((3, 3)))
        np.save(tmp_path / "i64.npy", np.zeros((3, 3), np.int64))
        np.save(tmp_path / "w1x1.npy", np.ones((1, 1, 1, 1)))
        return tmp_path

    @pytest.mark.parametrize("dtype", [np.int64, np.uint64])
    def test_weights_file(self, files, dtype):
        np.save(files / "wi64.npy", np.full((1, 1, 1, 1), BIG, dtype))
        r = kc(files, "convolve", "one.npy", "--weights", "wi64.npy", "-o", "o.npy", "-q")
        assert r.returncode == 3, r.stderr
        assert "wi64.npy: the value at (0, 0, 0, 0) is 9007199254740993, which float64 reads as 9007199254740992: " \
               "kernel weights are float64" in r.stderr
        assert not (files / "o.npy").exists()

    def test_long_double_weights_file(self, files):
        if np.finfo(np.longdouble).nmant < 53:
            pytest.skip("long double is float64 here")
        np.save(files / "wld.npy", np.full((1, 1, 1, 1), BIG, np.longdouble))
        r = kc(files, "convolve", "one.npy", "--weights", "wld.npy", "-o", "o.npy", "-q")
        assert r.returncode == 3 and "wld.npy: the value at (0, 0, 0, 0) is 9007199254740993" in r.stderr

    def test_bias_file(self, files):
        np.save(files / "bi64.npy", np.array([BIG], np.int64))
        r = kc(files, "convolve", "one.npy", "--weights", "w1x1.npy", "--bias-file", "bi64.npy", "-o", "o.npy", "-q")
        assert r.returncode == 3, r.stderr
        assert "bi64.npy: the value at (0,) is 9007199254740993, which float64 reads as 9007199254740992: bias values " \
               "are float64, exact for whole numbers up to 2**53" in r.stderr

    @pytest.mark.parametrize("text", ["9007199254740993", "1,9007199254740993.0", "-9.007199254740993e15"])
    def test_bias_text(self, files, text):
        r = kc(files, "convolve", "one.npy", "-k", "[[1]]", "--bias", text, "-o", "o.npy", "-q")
        assert r.returncode == 2, r.stderr
        assert "would be read as" in r.stderr and "bias values are float64, exact for whole numbers up to 2**53" in r.stderr
        assert "Traceback" not in r.stderr

    def test_pad_value(self, files):
        r = kc(files, "convolve", "i64.npy", "-k", "[[1,0,0]]", "--pad-value", BIG, "-o", "o.npy", "-q")
        assert r.returncode == 2, r.stderr
        assert "--pad-value 9007199254740993: a fill is exact up to 2**53" in r.stderr
        assert not (files / "o.npy").exists()

    def test_what_float64_holds_is_taken(self, files):
        np.save(files / "w.npy", np.full((1, 1, 1, 1), 2**53, np.int64))
        np.save(files / "b.npy", np.array([2**60], np.int64))
        r = kc(files, "convolve", "one.npy", "--weights", "w.npy", "--bias-file", "b.npy", "-o", "o.npy", "-q")
        assert r.returncode == 0, r.stderr
        assert np.load(files / "o.npy")[1, 1] == float(2**53 + 2**60)
        r = kc(files, "convolve", "i64.npy", "-k", "[[1,0,0]]", "--pad-value", 2**53, "-o", "p.npy", "-q")
        assert r.returncode == 0 and np.load(files / "p.npy")[1, 0] == 2**53

    def test_the_api_fill_rule(self):
        from kernelcli import api
        from kernelcli.errors import UsageError

        with pytest.raises(UsageError, match="a fill is exact up to 2\\*\\*53"):
            api.conv2d(np.zeros((3, 3), np.int64), [[1, 0, 0]], pad_value=BIG)
