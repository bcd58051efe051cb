"""A spec built in Python takes numpy integers and bools as the shapes API does (audit 113 #3).

``summarize`` with a dict refused ``np.int64(4)`` as "expected an integer >= 1, got np.int64(4)", an
``np.bool_`` as not a bool, and a numpy array as ``input_shape``, where ``conv_params`` and
``conv_output_size`` take numpy integers (``whole_numbers.integer_value``, ``whole_numbers.is_bool``).
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from kernelcli import summarize
from kernelcli.netspec import SpecError

PLAIN = {"type": "conv", "filters": 4, "f": 3, "s": 1, "bias": False, "trainable": False}


def _net(layer, shape=(3, 8, 8)):
    return {"input": shape, "layers": [layer, {"type": "maxpool", "f": 2}, {"type": "flatten"}, {"type": "dense", "units": 5}]}


@pytest.mark.parametrize("changes", [
    {"filters": np.int64(4)},
    {"f": np.int32(3), "s": np.uint8(1)},
    {"f": [np.int8(3), 3]},
    {"f": np.array([3, 3])},
    {"bias": np.bool_(False)},
    {"trainable": np.False_},
])
def test_numpy_integers_and_bools_count_as_json_ones(changes):
    want = summarize(_net(PLAIN))
    got = summarize(_net({**PLAIN, **changes}))
    assert got.to_dict() == want.to_dict()
    json.dumps(got.to_dict())  # plain Python numbers inside


def test_numpy_integers_elsewhere_in_a_layer_and_a_repeat():
    want = summarize({"input": [3, 8, 8], "layers": [{"type": "maxpool", "f": 2, "s": 2}, {"repeat": 2, "type": "activation", "fn": "relu"}]})
    got = summarize({"input": [3, 8, 8], "layers": [{"type": "maxpool", "f": np.int64(2), "s": np.int16(2)},
                                                    {"repeat": np.int64(2), "type": "activation", "fn": "relu"}]})
    assert got.to_dict() == want.to_dict()


def test_a_numpy_float_counts_as_a_number():
    plain = summarize({"input": [3, 8, 8], "layers": [{"type": "batchnorm", "eps": 1e-5, "momentum": 0.25}]})
    numpy = summarize({"input": [3, 8, 8], "layers": [{"type": "batchnorm", "eps": np.float32(1e-5), "momentum": np.float16(0.25)}]})
    assert numpy.to_dict() == plain.to_dict()


@pytest.mark.parametrize("shape", [np.array([3, 8, 8]), np.array([3, 8, 8], np.int16), (np.int64(3), 8, np.uint16(8))])
def test_a_numpy_input_shape_is_taken(shape):
    want = summarize(_net(PLAIN))
    assert summarize(_net(PLAIN), shape).to_dict() == want.to_dict()
    assert summarize(_net(PLAIN, shape)).to_dict() == want.to_dict()


@pytest.mark.parametrize("layer, message", [
    ({**PLAIN, "filters": np.float64(4)}, "filters (0): expected an integer >= 1, got 4.0"),
    ({**PLAIN, "filters": np.int64(0)}, "filters (0): expected an integer >= 1, got np.int64(0)"),
    ({**PLAIN, "bias": np.int64(1)}, "bias (0): expected true or false"),
    ({**PLAIN, "f": np.array([3, 3, 3])}, "f (0): expected an integer >= 1 or [h, w]"),
])
def test_what_is_not_an_integer_or_a_bool_is_still_refused(layer, message):
    with pytest.raises(SpecError, match=message.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[").replace("]", r"\]")):
        summarize(_net(layer))


@pytest.mark.parametrize("shape", [np.array([3.0, 8, 8]), np.array([[3, 8, 8]]), np.array([True, True, True]), np.array([3, 0, 8])])
def test_a_numpy_input_shape_that_is_not_whole_numbers_is_refused(shape):
    with pytest.raises(SpecError, match="input_shape: expected"):
        summarize(_net(PLAIN), shape)
