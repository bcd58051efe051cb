"""Walk an expanded spec: every layer's output shape, parameters, mult-adds and activations.

Composite types (the generic vocabulary a user writes networks with):

``sequence``  ``layers`` run one after the other.
``concat``    either ``branches`` (name -> list of layers, each run on the same input; an empty list
              is the identity), or ``skip`` (names of earlier layers whose outputs are joined to the
              current one: see :mod:`.names`); outputs are concatenated along channels. Maps must have the same HxW,
              unless ``"crop": "center"`` crops the larger ones (U-Net).
``residual``  ``layers`` (the main path) plus ``shortcut`` (default: identity), added; the two
              shapes must be equal; optional ``activation`` after the addition.
``side``      ``layers`` run on the current tensor as a side output (an auxiliary head); its
              input passes on unchanged.

Example
-------
>>> from .spec import parse_spec
>>> net = summarize(parse_spec({"input": [1, 28, 28], "layers": [
...     {"type": "conv", "filters": 8, "f": 3}, {"type": "flatten"}, {"type": "dense", "units": 10}]}))
>>> net.params, net.output
(54170, (10,))
"""

from __future__ import annotations

import sys

import math
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from .. import whole_numbers
from ..records import field, record, replace
from .expand import DEFAULT_MAX_LAYERS, SOURCE_KEY, expand_layers
from .layers import ACTIVATIONS, LEAVES, Fields, Where, fmt_shape
from .names import Outputs, check_name, local_names
from .spec import NetworkSpec, SpecError, check_input_shape, json_value, load_spec, parse_spec
from .words import SummaryWords, words_for

COMPOSITES = {
    "sequence": ("layers",),
    "concat": ("branches", "skip", "crop"),
    "residual": ("layers", "shortcut", "activation"),
    "side": ("layers",),
}
LAYER_TYPES = tuple(LEAVES) + tuple(COMPOSITES)
BYTES_PER_VALUE = 4  # float32


@record
class Layer:
    """One row of the summary: a leaf layer or a block, with totals over everything inside it."""

    name: str
    kind: str
    depth: int
    shape: tuple[int, ...]
    params: int = 0
    trainable_params: int = 0
    mult_adds: int = 0
    activations: int = 0
    children: list[Layer] = field(default_factory=list)
    hidden: bool = False  # an identity branch: nothing to show

    def walk(self) -> Iterator[Layer]:
        """This layer and every layer inside it, in forward (pre-)order."""
        yield self
        for child in self.children:
            yield from child.walk()

    def leaves(self) -> Iterator[Layer]:
        """The leaf layers inside (or this layer, if it is one), in forward order."""
        return (layer for layer in self.walk() if layer.kind in LEAVES)


@record
class Summary:
    """A whole network: its layer tree and totals."""

    name: str
    title: str
    source: str
    input: tuple[int, ...]
    output: tuple[int, ...]
    layers: list[Layer]
    #: what was given that changes nothing (``layout=`` on a vector input, a spec's ``"layout"`` on one), in the
    #: words of the call: the command prints them on stderr and in its ``--json``, as ``shape`` and ``params`` do
    notes: tuple[str, ...] = ()

    @property
    def params(self) -> int:
        return sum(layer.params for layer in self.layers)

    @property
    def trainable_params(self) -> int:
        return sum(layer.trainable_params for layer in self.layers)

    @property
    def mult_adds(self) -> int:
        return sum(layer.mult_adds for layer in self.layers)

    @property
    def activation_bytes(self) -> int:
        """float32 bytes of every tensor a forward pass (batch 1) creates, input excluded."""
        return BYTES_PER_VALUE * sum(layer.activations for layer in self.layers)

    def walk(self) -> Iterator[Layer]:
        for layer in self.layers:
            yield from layer.walk()

    def leaves(self) -> list[Layer]:
        return [layer for layer in self.walk() if layer.kind in LEAVES]

    def find(self, name: str) -> Layer:
        """The layer with this dotted name (``layer4.1.conv2``)."""
        for layer in self.walk():
            if layer.name == name:
                return layer
        raise KeyError(name)

    def rows(self, depth: int | None = None) -> list[tuple[Layer, int]]:
        """Rows to show, each ``(layer, number of leaf layers folded into it)``.

        Blocks deeper than ``depth`` are folded into their ancestor at ``depth``.
        """
        out: list[tuple[Layer, int]] = []

        def visit(layer: Layer) -> None:
            if layer.hidden:
                return
            if depth is not None and layer.depth >= depth and layer.children:
                out.append((layer, sum(1 for _ in layer.leaves())))
                return
            out.append((layer, 0))
            for child in layer.children:
                visit(child)

        for layer in self.layers:
            visit(layer)
        return out

    def to_dict(self, depth: int | None = None) -> dict[str, Any]:
        """The ``--json`` document."""
        return {
            "network": self.name,
            "title": self.title,
            "source": self.source,
            "input_shape": list(self.input),  # (the file records' names: their input and output are paths)
            "output_shape": list(self.output),
            "depth": depth,
            "layers": [
                {
                    "name": layer.name,
                    "type": layer.kind,
                    "depth": layer.depth,
                    "output_shape": list(layer.shape),
                    "params": layer.params,
                    "trainable_params": layer.trainable_params,
                    "mult_adds": layer.mult_adds,
                    "folded_layers": folded,
                }
                for layer, folded in self.rows(depth)
            ],
            "totals": {
                "params": self.params,
                "trainable_params": self.trainable_params,
                "non_trainable_params": self.params - self.trainable_params,
                "mult_adds": self.mult_adds,
                "activation_bytes": self.activation_bytes,
                "leaf_layers": len(self.leaves()),
            },
            "notes": list(self.notes),
        }


def summarize(spec: NetworkSpec | str | Path | dict, input_shape: tuple[int, ...] | None = None, *,
              layout: str | None = None, max_layers: int = DEFAULT_MAX_LAYERS, words: str = "api") -> Summary:
    """Shapes, params and mult-adds of every layer of a network.

    ``spec`` is a NetworkSpec, a spec document (dict), a file path or a built-in name;
    ``input_shape`` (``(C, H, W)``, ``(H, W, C)`` with ``layout="hwc"``, or ``(N,)``) overrides the
    spec's ``input``.  It is checked as ``summary --input`` is: its channels against the spec's input
    (``(224, 224, 3)`` for resnet18 is refused, naming both readings: it gave the numbers of 224 channels),
    and, with no input in the spec and no ``layout``, a shape that reads two ways is refused too.  A shape
    the network cannot take where its own input works is a bad input_shape (UsageError), not a bad spec.
    ``words`` (``"api"``, or ``"cli"`` for ``kernelcli summary``) names the options in messages.

    >>> summarize("resnet18").find("layer4").shape
    (512, 7, 7)
    """
    named = words_for(words)
    # the caller's keyword, checked before it reaches the expander: -1 or 2.5 blamed the spec ('expands to more than
    # -1 layers', a SpecError), '5' and None were a bare TypeError from inside it
    max_layers = whole_numbers.whole(named.max_layers.rstrip("="), max_layers, 1)
    if isinstance(spec, dict):
        spec = parse_spec(spec)
    elif not isinstance(spec, (NetworkSpec, str, Path)):
        raise SpecError(f"spec {spec!r}: expected a NetworkSpec, a spec document (dict), a file path or a built-in name")
    elif not isinstance(spec, NetworkSpec):
        spec = load_spec(spec)
    # a given shape is checked as a spec's input is: (0, 224, 224) gave numbers, () an IndexError
    given = check_input_shape(input_shape, named.input_option) if input_shape is not None else None
    shape = spec.input
    notes = list(spec.notes)
    if given is not None:
        from ..layout import canonical_layout, network_input

        shape = network_input(given, layout, spec.input, spec.name, option=named.input_option, flag=named.layout_flag)
        if layout is not None and len(given) != 3:  # (shape and params note their --layout on fewer sizes alike)
            notes.append(f"{named.layout_flag}{canonical_layout(layout)} names the axes of a 3-D {named.input_option}; "
                         f"{named.written(given)} has {len(given)}, so it changes nothing")
        if named.cli and canonical_layout(layout) == "hwc":  # the command's table draws every shape HxWxC
            named = replace(named, hwc=True)
    elif layout is not None:  # as the command's --layout without --input: it would have been ignored
        from ..errors import UsageError
        from ..layout import canonical_layout

        canonical_layout(layout, "layout")
        raise UsageError(f"layout={layout!r} says how input_shape is written; give input_shape too")
    if shape is None:
        raise SpecError(f"{spec.label}: input: the spec gives no input shape; pass one ({named.input_hint})")
    try:
        layers, output = _build(spec, shape, max_layers, named)
    except SpecError as exc:
        if given is None or spec.input is None or shape == spec.input:
            raise
        try:
            _build(spec, spec.input, max_layers, named)
        except SpecError:
            raise exc from None  # the spec fails at its own input too: the spec is at fault
        from ..errors import UsageError

        raise UsageError(f"{named.given(given)} does not fit {spec.name} (its input is {named.shape(spec.input)}): {exc}") from None
    return Summary(spec.name, spec.title, spec.source, shape, output, layers, tuple(notes))


def _build(spec: NetworkSpec, shape: tuple[int, ...], max_layers: int, words: SummaryWords) -> tuple[list[Layer], tuple[int, ...]]:
    """The spec's layers at ``shape``, and its output shape."""
    try:
        tree = expand_layers(spec.layers, spec.templates, spec.label, max_layers=max_layers, words=words)
        if not tree:  # '"layers": []' is refused; '[{"repeat": 0, ...}]' gave an empty table, exit 0
            raise SpecError(f"{spec.label}: layers: expand to no layer (every entry repeats 0 times); expected at least one")
        return _Builder(spec.label, words).sequence(tree, shape, "", 1, True)
    except RecursionError:
        raise SpecError(f"{spec.label}: layers: nested deeper than {sys.getrecursionlimit() // 4} levels can be followed; flatten the spec") from None


class _Builder:
    def __init__(self, label: str, words: SummaryWords = SummaryWords()) -> None:
        self.label = label
        self.words = words
        #: outputs of finished layers, for concat "skip"
        self.outputs = Outputs(words)

    def sequence(self, items: list[dict], shape: tuple[int, ...], prefix: str, depth: int, trainable: bool,
                 reserved: dict[str, str] | None = None) -> tuple[list[Layer], tuple[int, ...]]:
        children = []
        for node, local in zip(items, local_names(items, prefix, self.label, reserved, self.words)):
            layer, shape = self.layer(node, shape, f"{prefix}.{local}" if prefix else local, depth, trainable)
            self.outputs.add(layer.name, layer.shape)
            children.append(layer)
        return children, shape

    def layer(self, node: dict, shape: tuple[int, ...], name: str, depth: int, trainable: bool) -> tuple[Layer, tuple[int, ...]]:
        """The layer ``node`` on an input of ``shape``, and its output shape, whose sizes have at most
        :data:`~kernelcli.whole_numbers.MAX_DIGITS` digits as the spec's own: repeated, a concat or an upconv grew
        them past what Python prints (exit 70 after 15,000 concats)."""
        where = Where(self.label, node.get(SOURCE_KEY, "?"), name)
        layer, out = self._layer(node, shape, name, depth, trainable, where)
        largest = max(out, default=0)
        if largest > whole_numbers.MAX_SIZE:
            digits = int(largest.bit_length() * 0.30103) + 1  # at most one too many, as shapes' own message
            raise where.error(f"its output has a size of about {digits} digits; a size has at most {whole_numbers.MAX_DIGITS}")
        return layer, out

    def _layer(self, node: dict, shape: tuple[int, ...], name: str, depth: int, trainable: bool, where: Where) -> tuple[Layer, tuple[int, ...]]:
        fields = Fields(node, where, self.words.shape, self.words.feature_map)
        kind = node.get("type")
        if kind not in LAYER_TYPES:
            allowed = ", ".join(LAYER_TYPES)
            if kind is None:
                raise where.error(f"missing 'type'; one of: {allowed}")
            raise where.error(f"unknown layer type {json_value(kind)}; one of: {allowed}", "type")
        # the inner, more specific flag wins, as backbone.requires_grad_(False); backbone.head.requires_grad_(True)
        trainable = fields.bool("trainable", trainable)
        if kind in LEAVES:
            result = LEAVES[kind].run(fields, shape)
            layer = Layer(name, kind, depth, result.shape, result.params, result.params if trainable else 0, result.mult_adds, result.activations)
            return layer, result.shape
        fields.check_keys(COMPOSITES[kind], kind)
        if kind == "sequence":
            children, out = self.sequence(self.layer_list(fields, "layers"), shape, name, depth + 1, trainable)
            return self.block(name, kind, depth, out, children), out
        if kind == "side":
            children, out = self.sequence(self.layer_list(fields, "layers"), shape, name, depth + 1, trainable)
            return self.block(name, kind, depth, out, children), shape
        if kind == "residual":
            return self.residual(fields, shape, name, depth, trainable)
        return self.concat(fields, shape, name, depth, trainable)

    @staticmethod
    def block(name: str, kind: str, depth: int, shape: tuple[int, ...], children: list[Layer], own_activations: int = 0) -> Layer:
        return Layer(
            name, kind, depth, shape,
            params=sum(c.params for c in children),
            trainable_params=sum(c.trainable_params for c in children),
            mult_adds=sum(c.mult_adds for c in children),
            activations=own_activations + sum(c.activations for c in children),
            children=children,
        )

    @staticmethod
    def layer_list(fields: Fields, key: str) -> list[dict]:
        value = fields.get(key, [] if key == "shortcut" else None)
        if not isinstance(value, list) or (key == "layers" and not value):
            raise fields.error("expected a non-empty list of layers", key)
        return value

    def residual(self, fields: Fields, shape: tuple[int, ...], name: str, depth: int, trainable: bool) -> tuple[Layer, tuple[int, ...]]:
        shortcut = self.layer_list(fields, "shortcut")
        reserved = {"shortcut": f"the residual's shortcut's ({name}.shortcut)"} if shortcut else None
        main, out = self.sequence(self.layer_list(fields, "layers"), shape, name, depth + 1, trainable, reserved)
        children = list(main)
        short_out = shape
        if shortcut:
            inner, short_out = self.sequence(shortcut, shape, f"{name}.shortcut", depth + 2, trainable)
            children.append(self.block(f"{name}.shortcut", "sequence", depth + 1, short_out, inner))
            self.outputs.add(f"{name}.shortcut", short_out)
        if out != short_out:
            what = "the shortcut" if shortcut else "the identity shortcut (the input)"
            hint = "" if shortcut else "; add a projection 'shortcut' (1x1 conv with the stride, then batchnorm)"
            show = self.words.shape
            raise fields.error(f"residual add: the main path gives {show(out)} but {what} gives {show(short_out)}{hint}")
        sums = math.prod(out)
        if "activation" in fields.node:  # a tensor of its own, as the same function written as a layer after the block
            fields.choice("activation", "relu", ACTIVATIONS)
            sums += math.prod(out)
        return self.block(name, "residual", depth, out, children, own_activations=sums), out

    def concat(self, fields: Fields, shape: tuple[int, ...], name: str, depth: int, trainable: bool) -> tuple[Layer, tuple[int, ...]]:
        crop = fields.choice("crop", "none", ("none", "center"))
        has_branches, has_skip = "branches" in fields.node, "skip" in fields.node
        if has_branches == has_skip:
            raise fields.error("concat needs exactly one of 'branches' (parallel paths from its input) or 'skip' (earlier layers joined to the current tensor)")
        children: list[Layer] = []
        parts: list[tuple[str, tuple[int, ...]]] = []
        if has_branches:
            branches = fields.node["branches"]
            if not isinstance(branches, dict) or not branches:
                raise fields.error("expected an object of branch name -> list of layers", "branches")
            for branch, items in branches.items():
                check_name(branch, "branch name", fields.where, "branches", self.words)
                bname = f"{name}.{branch}"
                inner, out = self.sequence(items, shape, bname, depth + 2, trainable)
                child = self.block(bname, "branch", depth + 1, out, inner)
                child.hidden = not items
                children.append(child)
                self.outputs.add(bname, out)
                parts.append((f"branch {branch!r}", out))
        else:
            skips = fields.node["skip"]
            skips = [skips] if isinstance(skips, str) else skips
            if not isinstance(skips, list) or not skips or not all(isinstance(s, str) for s in skips):
                raise fields.error(f"expected a layer name or a list of names, got {json_value(skips)}", "skip")
            for ref in skips:
                try:
                    parts.append((f"skip {ref!r}", self.outputs.find(ref)))
                except LookupError as exc:
                    raise fields.error(str(exc.args[0]), "skip") from None
            parts.append(("the current input", shape))
        out = self.join(fields, parts, crop, self.words.shape)
        return self.block(name, "concat", depth, out, children, own_activations=math.prod(out)), out

    @staticmethod
    def join(fields: Fields, parts: list[tuple[str, tuple[int, ...]]], crop: str, show: Callable[[tuple[int, ...]], str] = fmt_shape) -> tuple[int, ...]:
        ranks = {len(s) for _, s in parts}
        if ranks != {3} and ranks != {1}:
            listing = ", ".join(f"{what} gives {show(s)}" for what, s in parts)
            raise fields.error(f"concat: cannot join feature maps with vectors: {listing}")
        channels = sum(s[0] for _, s in parts)
        if ranks == {1}:
            return (channels,)
        (first, a), *rest = parts
        if crop == "center":
            return (channels, min(s[1] for _, s in parts), min(s[2] for _, s in parts))
        for what, b in rest:
            if a[1:] != b[1:]:
                raise fields.error(
                    f"concat: {first} gives {show(a)} but {what} gives {show(b)}; the HxW sizes must match "
                    f"(or set \"crop\": \"center\" to crop the larger maps, as U-Net does)"
                )
        return (channels, a[1], a[2])

