"""Audit 198 #2: learn_kernel given a channels-first (C, H, W) input beside a target made with another padding
advised a padding for the (H, W, C) reading ('padding=(14, 15, 0, 0) would fit'), whose 32 channels can never match
the target's 3: the advice only moved the refusal to the channels.  np.moveaxis is named wherever the channels-first
reading matches, whatever the padding, and no padding is advised for channels that cannot match."""

from __future__ import annotations

import numpy as np
import pytest

import kernelcli
from kernelcli.errors import ShapeError

SOBEL = [[1, 0, -1], [2, 0, -2], [1, 0, -1]]
MOVE = ("input (3x32x32) is read (H, W, C), as learn_kernel reads arrays: 3x32 pixels with 32 channels; read (C, H, W), "
        "PyTorch's order, ")


@pytest.fixture(scope="module")
def valid_pair():
    x = np.random.default_rng(0).random((32, 32, 3))
    return x, kernelcli.conv2d(x, SOBEL, padding="valid")  # (30, 30, 3)


def refusal(x, target, **options) -> str:
    with pytest.raises(ShapeError) as info:
        kernelcli.learn_kernel(x, target, kernelcli.LearnOptions(size=3, **options))
    return str(info.value)


class TestAChannelsFirstInputIsNamedWhateverThePadding:
    @pytest.mark.parametrize("padding", ["same", (14, 15, 0, 0), 1])
    def test_another_padding_names_the_axis_order_then_the_padding_of_that_reading(self, valid_pair, padding):
        x, target = valid_pair
        said = refusal(np.moveaxis(x, -1, 0), target, padding=padding)
        assert said.startswith(MOVE + "its channels match target's: pass np.moveaxis(x, 0, -1); read so, target is 30x30"), said
        assert said.endswith("on the 32x32 input gives " + ("59x30" if padding == (14, 15, 0, 0) else "32x32")
                             + "; padding='valid' would fit"), said

    def test_the_padding_it_was_made_with_fits_outright(self, valid_pair):
        x, target = valid_pair
        assert refusal(np.moveaxis(x, -1, 0), target, padding="valid") == \
            MOVE + "it fits target's 30x30 pixels with 3 channels: pass np.moveaxis(x, 0, -1)"

    def test_both_pieces_of_advice_followed_fit(self, valid_pair):
        x, target = valid_pair
        moved_back = np.moveaxis(np.moveaxis(x, -1, 0), 0, -1)
        assert kernelcli.learn_kernel(moved_back, target, kernelcli.LearnOptions(size=3, padding="valid")).fits


class TestNoPaddingIsAdvisedForChannelsThatCannotMatch:
    @pytest.mark.parametrize("padding", ["same", "valid", 1])
    def test_a_size_and_channels_both_wrong_say_both(self, valid_pair, padding):
        x, _ = valid_pair
        said = refusal(x, np.zeros((28, 28, 5)), padding=padding)
        assert said.startswith("target is 28x28, but a 3x3 kernel with padding ") and "would fit" not in said, said
        assert said.endswith("; and input has 3 channel(s) but target has 5: expected the same number"), said

    def test_matching_channels_still_get_their_padding(self, valid_pair):
        x, _ = valid_pair
        assert refusal(x, np.zeros((32, 34, 3))).endswith("on the 32x32 input gives 32x32; padding=(1, 1, 2, 2) would fit")
