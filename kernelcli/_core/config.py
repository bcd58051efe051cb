"""Compilation options for every jitted function, declared in one place."""

from __future__ import annotations

#: options for serial jitted loops
JIT = {"cache": True, "nogil": True, "error_model": "numpy"}
#: options for loops that split rows across threads
JIT_PARALLEL = {**JIT, "parallel": True}

# Pad-mode codes, the order of kernelcli.modes.PAD_MODES.
CONSTANT, REPLICATE, REFLECT, SYMMETRIC, CIRCULAR = range(5)
