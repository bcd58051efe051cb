"""kernelcli: exact, fast convolution, padding and pooling for learning deep learning on medical images.

The public API is loaded lazily, so ``import kernelcli`` (and ``kernelcli --help``) import
neither numpy nor numba until an array function is used.

Example
-------
>>> import numpy as np
>>> from kernelcli import conv2d
>>> conv2d(np.ones((3, 3)), np.ones((3, 3)), padding="valid")
array([[9.]])
"""

from __future__ import annotations

__version__ = "0.1.0"

#: public name -> module that defines it
_LAZY = {
    "conv2d": "kernelcli.api",
    "pad2d": "kernelcli.api",
    "pool2d": "kernelcli.api",
    "conv_layer": "kernelcli.layers",
    "load_kernel": "kernelcli.catalog",
    "Kernel": "kernelcli.catalog",
    "list_kernels": "kernelcli.catalog",
    "read_input": "kernelcli.io.formats",
    "write_output": "kernelcli.io.formats",
    "conv_output_size": "kernelcli.shapes",
    "pool_output_size": "kernelcli.shapes",
    "conv_params": "kernelcli.shapes",
    "dense_params": "kernelcli.shapes",
    "flatten_size": "kernelcli.shapes",
    "summarize": "kernelcli.netspec",
    "conv3d": "kernelcli.volumes",
    "pool3d": "kernelcli.volumes",
    "gaussian_mm": "kernelcli.volumes",
    "read_volume": "kernelcli.medical",
    "learn_kernel": "kernelcli.learn",
    "LearnOptions": "kernelcli.learn",
}

__all__ = sorted(_LAZY) + ["__version__"]


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'kernelcli' has no attribute {name!r}")
    import importlib  # here: the worker's client imports this package and nothing else

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
