"""The vocabularies kernelcli speaks, declared once: pad modes, pool ops, rescale modes, activations, combine modes.

Pure Python (no numpy), so the CLI can validate options without loading the core.

Pad modes and their names elsewhere
-----------------------------------
===========  ==================  ===============  ====================  ==================  ====================
kernelcli    meaning (row 1 2 3)  numpy.pad        scipy.ndimage         OpenCV              PyTorch F.pad
===========  ==================  ===============  ====================  ==================  ====================
constant     0 0 | 1 2 3 | 0 0   ``constant``     ``constant``          BORDER_CONSTANT     ``constant``
replicate    1 1 | 1 2 3 | 3 3   ``edge``         ``nearest``           BORDER_REPLICATE    ``replicate``
reflect      3 2 | 1 2 3 | 2 1   ``reflect``      ``mirror``            BORDER_REFLECT_101  ``reflect``
symmetric    2 1 | 1 2 3 | 3 2   ``symmetric``    ``reflect``           BORDER_REFLECT      (none)
circular     2 3 | 1 2 3 | 1 2   ``wrap``         ``grid-wrap``         BORDER_WRAP         ``circular``
===========  ==================  ===============  ====================  ==================  ====================

Beware: scipy.ndimage's ``reflect`` is numpy's ``symmetric``; ndimage's ``mirror`` is numpy's ``reflect``.
kernelcli's own names follow numpy/PyTorch.  Padding wider than the input works for every mode, the way
numpy.pad does it (reflection and wrapping repeat).

Example
-------
>>> canonical_pad_mode("edge")
'replicate'
"""

from __future__ import annotations

from .errors import UsageError

PAD_MODES = ("constant", "replicate", "reflect", "symmetric", "circular")

#: Unambiguous aliases accepted for each pad mode.
PAD_ALIASES = {
    "zero": "constant",
    "zeros": "constant",
    "fill": "constant",
    "edge": "replicate",
    "nearest": "replicate",
    "clamp": "replicate",
    "mirror": "reflect",
    "reflect101": "reflect",
    "reflect_101": "reflect",
    "half-symmetric": "symmetric",
    "wrap": "circular",
    "periodic": "circular",
    "grid-wrap": "circular",
}

#: Numeric codes the jitted core uses (it takes scalars only).
PAD_CODES = {name: code for code, name in enumerate(PAD_MODES)}

#: The same modes as other libraries name them.
PAD_EQUIVALENTS = {
    "constant": {"numpy": "constant", "scipy": "constant", "opencv": "BORDER_CONSTANT", "torch": "constant"},
    "replicate": {"numpy": "edge", "scipy": "nearest", "opencv": "BORDER_REPLICATE", "torch": "replicate"},
    "reflect": {"numpy": "reflect", "scipy": "mirror", "opencv": "BORDER_REFLECT_101", "torch": "reflect"},
    "symmetric": {"numpy": "symmetric", "scipy": "reflect", "opencv": "BORDER_REFLECT", "torch": None},
    "circular": {"numpy": "wrap", "scipy": "grid-wrap", "opencv": "BORDER_WRAP", "torch": "circular"},
}

POOL_OPS = ("max", "min", "avg")
POOL_ALIASES = {"mean": "avg", "average": "avg"}

RESCALE_MODES = ("clip", "abs", "minmax", "none")

ACTIVATIONS = ("none", "relu", "leaky_relu", "sigmoid", "tanh")
ACTIVATION_ALIASES = {
    "identity": "none",
    "linear": "none",
    "leaky-relu": "leaky_relu",
    "leakyrelu": "leaky_relu",
    "lrelu": "leaky_relu",
    "logistic": "sigmoid",
}

#: 2-D kernels on a multi-channel image: each channel alone, or summed (a convolution layer)
COMBINE_MODES = ("per-channel", "sum")


def canonical_pad_mode(mode: str) -> str:
    """Return kernelcli's name for a pad mode or one of its aliases.

    >>> canonical_pad_mode("wrap")
    'circular'
    """
    key = str(mode).strip().lower()
    if key in PAD_MODES:
        return key
    if key in PAD_ALIASES:
        return PAD_ALIASES[key]
    allowed = ", ".join(PAD_MODES)
    raise UsageError(f"invalid pad mode {mode!r}: expected one of {allowed} (or an alias such as zero, edge, mirror, wrap)")


def canonical_pool_op(op: str) -> str:
    """Return kernelcli's name for a pooling operation.

    >>> canonical_pool_op("mean")
    'avg'
    """
    key = str(op).strip().lower()
    key = POOL_ALIASES.get(key, key)
    if key not in POOL_OPS:
        raise UsageError(f"invalid pool op {op!r}: expected one of {', '.join(POOL_OPS)}")
    return key


def canonical_rescale(mode: str) -> str:
    """Return a validated rescale mode name.

    >>> canonical_rescale("ABS")
    'abs'
    """
    key = str(mode).strip().lower()
    if key not in RESCALE_MODES:
        raise UsageError(f"invalid rescale mode {mode!r}: expected one of {', '.join(RESCALE_MODES)}")
    return key


def canonical_activation(name: str | None) -> str:
    """Return kernelcli's name for an activation (None means ``"none"``).

    >>> canonical_activation("Leaky-ReLU")
    'leaky_relu'
    """
    if name is None:
        return "none"
    key = str(name).strip().lower()
    key = ACTIVATION_ALIASES.get(key, key)
    if key not in ACTIVATIONS:
        raise UsageError(f"invalid activation {name!r}: expected one of {', '.join(ACTIVATIONS)}")
    return key


def canonical_combine(mode: str) -> str:
    """Return a validated ``--combine`` mode (``per_channel`` is accepted for ``per-channel``).

    >>> canonical_combine("SUM")
    'sum'
    """
    key = str(mode).strip().lower().replace("_", "-")
    if key not in COMBINE_MODES:
        raise UsageError(f"invalid combine mode {mode!r}: expected one of {', '.join(COMBINE_MODES)}")
    return key
