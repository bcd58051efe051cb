"""Audit 198 #1: read_input took max_pixels= and max_bytes= as they came: a string blamed an intact PNG ("broken or
truncated") or raised Python's TypeError on a .npy, and 0, -5 or True became the limit; a max_bytes= the caller gave
was refused advising KERNELCLI_MAX_MEMORY, which it overrides."""

from __future__ import annotations

import numpy as np
import pytest

import kernelcli
from conftest import SAMPLES
from kernelcli.errors import ImageReadError, KernelcliError, UsageError

BAD_LIMITS = ["100", -5, 0, True, 2.5, np.float64(100.0)]


def said(error, call) -> str:
    with pytest.raises(error) as info:
        call()
    return str(info.value)


@pytest.fixture
def inputs(tmp_path):
    np.save(tmp_path / "x.npy", np.zeros((64, 64)))
    np.savetxt(tmp_path / "m.csv", np.zeros((4, 4)), delimiter=",")
    return [SAMPLES / "phantom.png", tmp_path / "x.npy", tmp_path / "m.csv"]


class TestTheLimitsAreChecked:
    @pytest.mark.parametrize("keyword", ["max_pixels", "max_bytes"])
    @pytest.mark.parametrize("value", BAD_LIMITS, ids=repr)
    def test_a_limit_other_than_a_whole_number_of_at_least_one_is_refused_naming_the_keyword(self, inputs, keyword, value):
        for path in inputs:
            text = said(UsageError, lambda: kernelcli.read_input(path, **{keyword: value}))
            assert text == f"{keyword} {value!r}: expected None (the default limit) or an integer >= 1", (path, text)

    def test_the_limits_are_checked_before_the_file_is_looked_for(self, tmp_path):
        assert said(UsageError, lambda: kernelcli.read_input(tmp_path / "gone.png", max_bytes="1000")).startswith(
            "max_bytes '1000':")

    def test_numpy_integers_are_taken(self, inputs):
        loaded = kernelcli.read_input(inputs[0], max_pixels=np.int32(100_000), max_bytes=np.int64(10**9))
        assert loaded.data.shape[:2] == (256, 256)


class TestAGivenMemoryLimitIsNamedAsTyped:
    def test_each_kind_of_input_names_max_bytes(self, inputs):
        for path in inputs:
            with pytest.raises(KernelcliError) as info:
                kernelcli.read_input(path, max_bytes=10)
            text = str(info.value)
            assert info.value.exit_code == 2 and text.endswith("more than the 10 bytes allowed (set max_bytes= to change it)"), text
            assert "KERNELCLI_MAX_MEMORY" not in text

    def test_the_environment_s_limit_still_names_the_environment(self, inputs, monkeypatch):
        monkeypatch.setenv("KERNELCLI_MAX_MEMORY", "10")
        text = said(ImageReadError, lambda: kernelcli.read_input(inputs[0]))
        assert text.endswith("more than the 10 bytes allowed (set KERNELCLI_MAX_MEMORY to change it)"), text
