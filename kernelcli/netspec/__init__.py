"""Network specs: shapes, parameter counts and mult-adds of whole networks, in pure Python.

``kernelcli summary`` is built on this package; it imports neither numpy nor torch.
The spec format is documented in ``kernels/networks/README.md``.

Example
-------
>>> net = summarize("resnet18")
>>> net.params
11689512
>>> net.find("layer4").shape
(512, 7, 7)
"""

from __future__ import annotations

from .engine import Layer, Summary, summarize
from .layers import fmt_shape
from .spec import NetworkSpec, SpecError, builtin_names, load_spec, parse_input_shape, parse_spec

__all__ = [
    "Layer",
    "NetworkSpec",
    "SpecError",
    "Summary",
    "builtin_names",
    "fmt_shape",
    "load_spec",
    "parse_input_shape",
    "parse_spec",
    "summarize",
]
