"""Compilation options for every jitted function, and the numeric codes the loops take.

The codes are not defined here: :mod:`kernelcli.modes` owns every vocabulary (name -> code);
this module only names them for the loops, which take scalars.
"""

from __future__ import annotations

from ..modes import ACTIVATION_CODES, PAD_CODES, POOL_CODES

#: options for serial jitted loops
JIT = {"cache": True, "nogil": True, "error_model": "numpy"}
#: options for loops that split rows across threads
JIT_PARALLEL = {**JIT, "parallel": True}
#: for the unrolled tap passes: each product added with one rounding (a fused multiply-add), the
#: same instruction in every column of a row; no other fast-math freedom (no reassociation)
JIT_FMA = {**JIT, "fastmath": {"contract"}}

CONSTANT, REPLICATE, REFLECT, SYMMETRIC, CIRCULAR = (
    PAD_CODES[m] for m in ("constant", "replicate", "reflect", "symmetric", "circular")
)
MAX, MIN, AVG = (POOL_CODES[op] for op in ("max", "min", "avg"))
NONE, RELU, LEAKY_RELU, SIGMOID, TANH = (
    ACTIVATION_CODES[a] for a in ("none", "relu", "leaky_relu", "sigmoid", "tanh")
)

#: the dtypes whose convolution-layer sums use fused multiply-adds (one rounding per tap: what
#: oneDNN's kernels compute, and half the arithmetic instructions where a vector multiply or add
#: issues once a cycle);
#: float64 multiplies then adds.  Every path of the layer follows it: the jitted loops through
#: :func:`.simd.muladd`, the plain-numpy path through :func:`.fused.muladd_into`.
FUSED_DTYPES = ("float32",)
