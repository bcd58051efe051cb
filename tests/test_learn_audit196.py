"""Audit 196 #5: learn_kernel given a channels-first (C, H, W) input beside an (H, W, C) target advised a padding
('padding=(15, 16, 1, 1) would fit') that only moved the refusal to the channels; the command says it is a --layout
question.  The API reads arrays (H, W, C): its refusal now names np.moveaxis instead."""

from __future__ import annotations

import numpy as np
import pytest

import kernelcli
from kernelcli.errors import ShapeError


@pytest.fixture(scope="module")
def pair():
    x = np.random.default_rng(0).random((32, 32, 3))
    return x, kernelcli.conv2d(x, kernelcli.load_kernel("sobel_v"))


def refusal(x, target, **kwargs) -> str:
    with pytest.raises(ShapeError) as info:
        kernelcli.learn_kernel(x, target, kernelcli.LearnOptions(size=3), **kwargs)
    return str(info.value)


class TestAChannelsFirstArrayIsNamedAsOne:
    def test_a_channels_first_input_is_told_to_move_its_axis(self, pair):
        x, target = pair
        said = refusal(np.moveaxis(x, -1, 0), target)
        assert said == ("input (3x32x32) is read (H, W, C), as learn_kernel reads arrays: 3x32 pixels with 32 channels; "
                        "read (C, H, W), PyTorch's order, it fits target's 32x32 pixels with 3 channels: pass "
                        "np.moveaxis(x, 0, -1)")
        assert "padding" not in said

    def test_a_channels_first_target_is_told_to_move_its_axis(self, pair):
        x, target = pair
        said = refusal(x, np.moveaxis(target, -1, 0), input_name="x.npy", target_name="t.npy")
        assert said.startswith("t.npy (3x32x32) is read (H, W, C)") and said.endswith("pass np.moveaxis(target, 0, -1)")

    def test_the_advice_followed_fits(self, pair):
        x, target = pair
        assert kernelcli.learn_kernel(np.moveaxis(np.moveaxis(x, -1, 0), 0, -1), target, kernelcli.LearnOptions(size=3)).fits

    def test_a_size_no_axis_order_explains_still_gets_its_padding(self, pair):
        x, _ = pair
        assert refusal(x, np.zeros((32, 34, 3))).endswith("on the 32x32 input gives 32x32; padding=(1, 1, 2, 2) would fit")

    def test_the_command_lines_words_keep_their_refusal(self, pair):
        x, target = pair  # (the command reads a file's axes by --layout: check_one_layout says so there)
        said = refusal(np.moveaxis(x, -1, 0), target, words="cli")  # (no padding: none fits 32 channels to 3, audit 198 #2)
        assert said.endswith("gives 3x32; and input has 32 channel(s) but target has 3: expected the same number"), said
        assert "moveaxis" not in said
