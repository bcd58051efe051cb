"""Audit 198 #4: a pooling step with a blank before its colon ('maxpool : 2') was "not a kernel name" everywhere, where
'box : 3' is a box and 'maxpool: 2' a pooling step; and load_kernel / `kernels show` of a pooling step misspelt
('maxpool:2x2') was "not a kernel name", where convolve -k names the pooling form.  One grammar (modes.POOL_STEP) now
takes blanks about each colon, and every reader of a kernel refuses a misspelt step in the pooling form's words."""

from __future__ import annotations

import numpy as np
import pytest

import kernelcli
from conftest import run_in_process
from kernelcli.chain import parse_step
from kernelcli.errors import InvalidKernel
from kernelcli.modes import POOL_FORM, is_pool_step

BLANKED = ["maxpool : 2", "maxpool :2", "MaxPool : 3 : 2", " avgpool\t:\t2 "]


@pytest.fixture
def array(tmp_path):
    np.save(tmp_path / "x.npy", np.random.default_rng(198).random((16, 16)))
    return tmp_path


@pytest.mark.parametrize("text", BLANKED)
def test_a_blank_before_the_colon_is_a_pooling_step(text):
    assert is_pool_step(text) and parse_step(text).op is not None
    tight = parse_step(text.replace(" ", "").replace("\t", ""))
    assert parse_step(text).label == tight.label


@pytest.mark.parametrize("where", [["-k", "maxpool : 2"], ["-k", "box:3", "--then", "maxpool : 2"]], ids=["kernel", "then"])
def test_convolve_runs_it_as_maxpool_2(array, where):
    r = run_in_process("convolve", "x.npy", *where, "-o", "a.npy", cwd=array)
    assert r.returncode == 0, r.stderr
    tight = [w.replace(" ", "") for w in where]
    assert run_in_process("convolve", "x.npy", *tight, "-o", "b.npy", cwd=array).returncode == 0
    assert np.array_equal(np.load(array / "a.npy"), np.load(array / "b.npy"))


def test_kernels_show_says_it_is_a_pooling_step(array):
    r = run_in_process("kernels", "show", "maxpool : 2", cwd=array)
    assert r.returncode == 3 and "'maxpool : 2': a pooling step, not a kernel" in r.stderr, r.stderr


@pytest.mark.parametrize("text", ["maxpool:2x2", "maxpool : x", "pool : 2"])
def test_load_kernel_tells_a_misspelt_step_the_pooling_form(text):
    with pytest.raises(InvalidKernel) as info:
        kernelcli.load_kernel(text)
    assert str(info.value).startswith(f"'{text}': {POOL_FORM}, and one is no kernel"), str(info.value)
    assert "not a kernel name" not in str(info.value)


def test_kernels_show_tells_a_misspelt_step_the_pooling_form(array):
    r = run_in_process("kernels", "show", "maxpool:2x2", cwd=array)
    assert r.returncode == 3 and f"'maxpool:2x2': {POOL_FORM}, and one is no kernel" in r.stderr, r.stderr
