"""Audit 141 (the README read top to bottom): a layer's long-double files, read as a kernel file is."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import run_in_process

pytestmark = pytest.mark.skipif(np.finfo(np.longdouble).nmant <= 52, reason="long double is float64 here")


def kc(tmp_path, *args):
    return run_in_process(*map(str, args), cwd=tmp_path)


@pytest.fixture
def files(tmp_path):
    """one.npy (a 5x5 matrix) and w1.npy (one 3x3 filter of ones) in ``tmp_path``."""
    np.save(tmp_path / "one.npy", np.arange(25.0).reshape(5, 5))
    np.save(tmp_path / "w1.npy", np.ones((1, 1, 3, 3)))
    return tmp_path


def long_double(shape, value):
    """Ones of ``shape``, long double, with ``value`` first."""
    a = np.ones(shape, np.longdouble)
    a.flat[0] = value
    return a


# 4: --weights and --bias-file rounded 0.1L, and read 1e-400L as 0, in silence; a kernel .npy gave a note
# (review 148 #9: 1e-400L is refused, as 1e-400 typed is: test_values_review148)

def test_long_double_weights_get_the_kernels_note(files):
    np.save(files / "wld.npy", long_double((1, 1, 3, 3), np.longdouble(1) / 10))
    r = kc(files, "convolve", "one.npy", "--weights", "wld.npy", "-o", "o.npy")
    assert r.returncode == 0, r.stderr
    said = (f"wld.npy: {np.dtype(np.longdouble)} weights are read as float64 (kernel weights are float64): 1 of its 9 "
            f"weights rounded to the nearest float64")
    assert said in r.stderr, r.stderr
    np.save(files / "kld.npy", long_double((3, 3), np.longdouble(1) / 10))  # the kernel file's note: the same words
    r = kc(files, "convolve", "one.npy", "-k", "kld.npy", "-o", "k.npy")
    assert f"kld.npy: a {np.dtype(np.longdouble)} kernel is read as float64 (kernel weights are float64): 1 of its 9 " \
           f"weights rounded to the nearest float64" in r.stderr, r.stderr
    assert np.array_equal(np.load(files / "o.npy"), np.load(files / "k.npy"))


def test_a_long_double_bias_file_gets_the_note(files):
    np.save(files / "bld.npy", np.array([np.longdouble(1) / 10]))
    r = kc(files, "convolve", "one.npy", "--weights", "w1.npy", "--bias-file", "bld.npy", "-o", "o.npy")
    assert r.returncode == 0, r.stderr
    assert (f"bld.npy: a {np.dtype(np.longdouble)} bias is read as float64 (bias values are float64): 1 of its 1 values "
            "rounded to the nearest float64") in r.stderr, r.stderr


def test_long_double_weights_past_float64_are_refused_as_a_kernels(files):
    np.save(files / "wbig.npy", long_double((1, 1, 3, 3), np.longdouble("1e400")))
    r = kc(files, "convolve", "one.npy", "--weights", "wbig.npy", "-o", "o.npy")  # (exit 70: OverflowError before)
    assert r.returncode == 3, r.stderr
    assert "wbig.npy: the value at (0, 0, 0, 0) is 1e+400, beyond float64's range: kernel weights are float64" in r.stderr
    assert not (files / "o.npy").exists()


def test_exact_long_doubles_say_nothing(files):
    np.save(files / "wok.npy", long_double((1, 1, 3, 3), 0.5))
    r = kc(files, "convolve", "one.npy", "--weights", "wok.npy", "-o", "o.npy")
    assert r.returncode == 0 and "note" not in r.stderr, r.stderr
