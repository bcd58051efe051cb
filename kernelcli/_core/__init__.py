"""The numeric core: loops over arrays and scalars only; no files, no terminals.

``numpy_impl`` is plain numpy (used for tiny inputs, so that they never pay Numba's
start-up); the other modules are Numba-jitted and compiled lazily with ``cache=True``.
Importing this package imports neither numpy nor numba.
"""
