"""The leaf layers: how each type reads its fields and maps an input shape to output, params and mult-adds.

Shapes are tuples: ``(C, H, W)`` for feature maps, ``(N,)`` for vectors (after ``flatten``).
Counting conventions (batch 1; mult-adds close to torchinfo's, not the same: see the README of ``kernels/networks``):

* params: conv ``(fh*fw*C/groups + bias)*K``; upconv ``C*(K/groups)*fh*fw + K``; dense
  ``(in + bias)*out``; batchnorm ``2*C`` (weight and bias; running statistics are buffers, not
  parameters, as in PyTorch's ``numel`` over ``parameters()``).
* mult-adds: conv ``out_h*out_w*K*(C/groups)*fh*fw``; upconv ``in_h*in_w*C*(K/groups)*fh*fw`` (each
  input value meets one kernel slice); dense ``in*out``. Bias additions, batchnorm, pooling,
  activations and residual additions count 0.
* activations: the number of values the layer's output holds (flatten is a view: 0).

Example
-------
>>> fields = Fields({"type": "conv", "filters": 32, "f": 3}, Where("net.json", "layers[0]", "conv1"))
>>> LEAVES["conv"].run(fields, (228, 228, 228))
LeafResult(shape=(32, 226, 226), params=65696, mult_adds=3353854464, activations=1634432)
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from typing import Any

from .. import shapes, whole_numbers
from ..errors import KernelcliError
from ..records import record
from .spec import MAX_INT_DIGITS, SOURCE_KEY, SpecError, has_long_whole, integer_wanted, json_value

COMMON_FIELDS = ("type", "name", "comment", "trainable")
ACTIVATIONS = (
    "relu", "relu6", "leaky_relu", "elu", "selu", "gelu", "silu", "mish", "hardswish",
    "sigmoid", "hardsigmoid", "tanh", "softmax", "log_softmax", "identity",
)
_REQUIRED = object()
#: what a conv's "p" takes, in the spec's JSON words
PADDING_FORMS = '"same", "valid", an integer, [ph, pw] or [t, b, l, r]'


@record(frozen=True)
class Where:
    """Where a layer is: the spec's label, the layer's source path and its dotted name."""

    label: str
    source: str
    name: str

    def error(self, message: str, key: str | None = None) -> SpecError:
        path = f"{self.source}.{key}" if key else self.source
        return SpecError(f"{self.label}: {path} ({self.name}): {message}")


@record(frozen=True)
class LeafResult:
    """What a leaf layer does to its input."""

    shape: tuple[int, ...]
    params: int
    mult_adds: int
    activations: int


def fmt_shape(shape: tuple[int, ...]) -> str:
    """``(512, 7, 7)`` -> ``'512x7x7'``.

    >>> fmt_shape((1000,))
    '1000'
    """
    return "x".join(str(d) for d in shape)


class Fields:
    """Typed access to one layer's fields; every failure names the field path."""

    def __init__(self, node: dict[str, Any], where: Where, show: Callable[[tuple[int, ...]], str] = fmt_shape,
                 feature_map: str = "a CxHxW feature map") -> None:
        self.node = node
        self.where = where
        self.show = show  # how a message writes a shape: in the order the caller reads them (HxWxC or CxHxW)
        self.feature_map_words = feature_map

    def error(self, message: str, key: str | None = None) -> SpecError:
        return self.where.error(message, key)

    def check_keys(self, allowed: tuple[str, ...], kind: str) -> None:
        for key in self.node:
            if key not in allowed and key not in COMMON_FIELDS and key != SOURCE_KEY:
                extra = ", ".join(k for k in allowed) or "none"
                raise self.error(f"unknown field for {kind}; its fields: {extra} (and {', '.join(COMMON_FIELDS)})", key)

    def get(self, key: str, default: Any = _REQUIRED) -> Any:
        if key in self.node:
            return self.node[key]
        if default is _REQUIRED:
            raise self.error(f"missing required field {key!r} for {self.node.get('type')}")
        return default

    # A spec built in Python may hold numpy integers, floats and bools (np.int64(4) was "expected an
    # integer >= 1, got np.int64(4)"): taken as the shapes functions take them, and given back as Python's.
    def int(self, key: str, default: Any = _REQUIRED, minimum: int = 1) -> int:
        value = self.get(key, default)
        whole = whole_numbers.integer_value(value)
        if whole is None or whole < minimum:
            scalar = value if whole_numbers.sequence_items(value) is None else None  # (a list is no integer, long or not)
            raise self.error(f"expected {integer_wanted(minimum, scalar)}, got {json_value(value)}", key)
        return whole

    def pair(self, key: str, default: Any = _REQUIRED, minimum: int = 1) -> tuple[int, int]:
        """An int (both axes) or ``[h, w]``."""
        value = self.get(key, default)
        items = whole_numbers.sequence_items(value)
        wholes = [whole_numbers.integer_value(v) for v in (items if items is not None else [value, value])]
        if len(wholes) != 2 or any(v is None or v < minimum for v in wholes):
            wanted = integer_wanted(minimum, items if items is not None else value, " or [h, w]")
            raise self.error(f"expected {wanted}, got {json_value(value)}", key)
        return wholes[0], wholes[1]

    def bool(self, key: str, default: bool) -> bool:
        value = self.get(key, default)
        if not whole_numbers.is_bool(value):
            raise self.error(f"expected true or false, got {json_value(value)}", key)
        return bool(value)

    def number(self, key: str, default: float, low: float, high: float = math.inf, *, null: bool = False) -> float | None:
        """A finite number in [low, high]; with ``null``, JSON's null too (PyTorch's None)."""
        value = self.get(key, default)
        if null and value is None:
            return None
        whole = whole_numbers.integer_value(value)
        real = whole if whole is not None else float(value) if isinstance(value, numbers.Real) and not whole_numbers.is_bool(value) else None
        if real is None or not low <= real <= high or not math.isfinite(real):
            wanted = f"a number >= {low}" if high == math.inf else f"a number in [{low}, {high}]"
            raise self.error(f"expected {wanted}{' or null' if null else ''}, got {json_value(value)}", key)
        return real

    def choice(self, key: str, default: str, choices: tuple[str, ...]) -> str:
        value = self.get(key, default)
        if not isinstance(value, str) or value.lower() not in choices:
            raise self.error(f"expected one of {', '.join(choices)}, got {json_value(value)}", key)
        return value.lower()

    def feature_map(self, shape: tuple[int, ...]) -> tuple[int, int, int]:
        if len(shape) != 3:
            raise self.error(f"{self.node.get('type')} needs {self.feature_map_words}, got a vector of {shape[0]} (flattened too early?)")
        return shape  # type: ignore[return-value]


def _size(fields: Fields, key: str, compute: Callable[[], int]) -> int:
    """Run a shapes formula, turning its errors into a SpecError naming the field."""
    try:
        return compute()
    except KernelcliError as exc:
        raise fields.error(str(exc), key) from None


def _conv(x: Fields, shape: tuple[int, ...]) -> LeafResult:
    c, h, w = x.feature_map(shape)
    k = x.int("filters")
    kh, kw = x.pair("f")
    sh, sw = x.pair("s", 1)
    dh, dw = x.pair("dilation", 1)
    groups = x.int("groups", 1)
    bias = x.bool("bias", True)
    if c % groups or k % groups:
        raise x.error(f"groups={groups} must divide both the input channels {c} and filters {k}", "groups")
    pad = x.get("p", 0)
    if has_long_whole(pad):  # ("invalid padding 1000...0: expected ..., an integer, ..." was said of an integer)
        raise x.error(f"expected {PADDING_FORMS}, each width an integer of at most {MAX_INT_DIGITS} digits, got {json_value(pad)}", "p")
    top, bottom, left, right = _size(x, "p", lambda: shapes.resolve_padding(pad, kh, kw, (dh, dw), forms=PADDING_FORMS, spell=json_value))
    oh = _size(x, "f", lambda: shapes.conv_output_size(h, kh, stride=sh, pad_before=top, pad_after=bottom, dilation=dh))
    ow = _size(x, "f", lambda: shapes.conv_output_size(w, kw, stride=sw, pad_before=left, pad_after=right, dilation=dw))
    params = _size(x, "filters", lambda: shapes.conv_params(c, k, kh, kw, bias=bias, groups=groups))
    return LeafResult((k, oh, ow), params, oh * ow * k * (c // groups) * kh * kw, k * oh * ow)


def _upconv(x: Fields, shape: tuple[int, ...]) -> LeafResult:
    c, h, w = x.feature_map(shape)
    k = x.int("filters")
    kh, kw = x.pair("f")
    sh, sw = x.pair("s", 1)
    ph, pw = x.pair("p", 0, minimum=0)
    oph, opw = x.pair("output_padding", 0, minimum=0)
    dh, dw = x.pair("dilation", 1)
    groups = x.int("groups", 1)
    bias = x.bool("bias", True)
    if c % groups or k % groups:
        raise x.error(f"groups={groups} must divide both the input channels {c} and filters {k}", "groups")
    if oph >= max(sh, dh) or opw >= max(sw, dw):  # (the values as given: an int, or [h, w])
        given = {key: json_value(x.get(key, 1)) for key in ("output_padding", "s", "dilation")}
        raise x.error(f"output_padding {given['output_padding']} must be smaller than the stride ({given['s']}) "
                      f"or the dilation ({given['dilation']}), as in PyTorch", "output_padding")
    oh = _size(x, "p", lambda: shapes.conv_transpose_output_size(h, kh, stride=sh, padding=ph, output_padding=oph, dilation=dh))
    ow = _size(x, "p", lambda: shapes.conv_transpose_output_size(w, kw, stride=sw, padding=pw, output_padding=opw, dilation=dw))
    params = c * (k // groups) * kh * kw + (k if bias else 0)
    return LeafResult((k, oh, ow), params, h * w * c * (k // groups) * kh * kw, k * oh * ow)


def _batchnorm(x: Fields, shape: tuple[int, ...]) -> LeafResult:
    affine = x.bool("affine", True)
    x.number("eps", 1e-5, 0.0)  # as PyTorch's, which caps neither; momentum None is its cumulative average
    x.number("momentum", 0.1, 0.0, 1.0, null=True)
    return LeafResult(shape, 2 * shape[0] if affine else 0, 0, math.prod(shape))


def _activation(x: Fields, shape: tuple[int, ...]) -> LeafResult:
    x.choice("fn", "relu", ACTIVATIONS)
    return LeafResult(shape, 0, 0, math.prod(shape))


def _pool(x: Fields, shape: tuple[int, ...], dilated: bool) -> LeafResult:
    c, h, w = x.feature_map(shape)
    fh, fw = x.pair("f")
    sh, sw = x.pair("s", [fh, fw])
    ph, pw = x.pair("p", 0, minimum=0)
    dh, dw = x.pair("dilation", 1) if dilated else (1, 1)
    ceil_mode = x.bool("ceil_mode", False)
    if not dilated:
        x.bool("count_include_pad", True)
    for axis, (pad, size) in enumerate(((ph, fh), (pw, fw))):  # (in pool's words: "padding [2, 2] ... window [2, 2]" was its own)
        along = "" if (ph, fh) == (pw, fw) else f" along the {('height', 'width')[axis]}"
        refused = shapes.pool_padding_refusal(pad, size, along)
        if refused is not None:
            raise x.error(refused, "p")
    oh = _size(x, "f", lambda: shapes.pool_output_size(h, fh, stride=sh, padding=ph, dilation=dh, ceil_mode=ceil_mode))
    ow = _size(x, "f", lambda: shapes.pool_output_size(w, fw, stride=sw, padding=pw, dilation=dw, ceil_mode=ceil_mode))
    return LeafResult((c, oh, ow), 0, 0, c * oh * ow)


def _adaptive(x: Fields, shape: tuple[int, ...]) -> LeafResult:
    c, _, _ = x.feature_map(shape)
    oh, ow = x.pair("output", 1)
    return LeafResult((c, oh, ow), 0, 0, c * oh * ow)


def _flatten(x: Fields, shape: tuple[int, ...]) -> LeafResult:
    return LeafResult((math.prod(shape),), 0, 0, 0)


def _dense(x: Fields, shape: tuple[int, ...]) -> LeafResult:
    units = x.int("units")
    bias = x.bool("bias", True)
    if len(shape) != 1:
        raise x.error(f"dense needs a flat vector, got {x.show(shape)}; add a flatten layer before it")
    return LeafResult((units,), _size(x, "units", lambda: shapes.dense_params(shape[0], units, bias=bias)), shape[0] * units, units)


def _dropout(x: Fields, shape: tuple[int, ...]) -> LeafResult:
    x.number("rate", 0.5, 0.0, 1.0)
    return LeafResult(shape, 0, 0, math.prod(shape))


@record(frozen=True)
class Leaf:
    """One leaf layer type: its own fields and its rule."""

    fields: tuple[str, ...]
    rule: Callable[[Fields, tuple[int, ...]], LeafResult]

    def run(self, fields: Fields, shape: tuple[int, ...]) -> LeafResult:
        fields.check_keys(self.fields, fields.node.get("type", "?"))
        return self.rule(fields, shape)


LEAVES: dict[str, Leaf] = {
    "conv": Leaf(("filters", "f", "s", "p", "dilation", "groups", "bias"), _conv),
    "upconv": Leaf(("filters", "f", "s", "p", "output_padding", "dilation", "groups", "bias"), _upconv),
    "batchnorm": Leaf(("affine", "eps", "momentum"), _batchnorm),
    "activation": Leaf(("fn",), _activation),
    "maxpool": Leaf(("f", "s", "p", "dilation", "ceil_mode"), lambda x, s: _pool(x, s, dilated=True)),
    "avgpool": Leaf(("f", "s", "p", "ceil_mode", "count_include_pad"), lambda x, s: _pool(x, s, dilated=False)),
    "adaptive_avgpool": Leaf(("output",), _adaptive),
    "adaptive_maxpool": Leaf(("output",), _adaptive),
    "flatten": Leaf((), _flatten),
    "dense": Leaf(("units", "bias"), _dense),
    "dropout": Leaf(("rate",), _dropout),
}
