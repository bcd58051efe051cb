"""The numeric core: loops over arrays and scalars only; no files, no terminals, no environment.

``numpy_impl`` is plain numpy (used for small work, so that it never pays Numba's start-up);
``conv``, ``pad``, ``pool``, ``layer`` and ``conv3d`` are Numba-jitted and compiled lazily with
``cache=True``; ``engine`` picks a path for each call as a pure function of the call and of
the caller's path policy (``policy.Paths``, an argument, never an environment variable).
Importing this package imports neither numpy nor numba.
"""
