"""Log every Numba compilation (a cache miss) of every process, with the test that caused it.

Not part of kernelcli: a census of what a fresh run of the suite compiles.  From a fresh copy
of the repository (no ``__pycache__``), with an empty Numba cache::

    SUITE_COMPILE_LOG=/tmp/compiles.tsv PYTHONPATH=tools/compile_census python -m pytest -q
    python tools/compile_census/report.py /tmp/compiles.tsv

Python imports ``sitecustomize`` at start-up from ``PYTHONPATH``, so the CLI subprocesses, pool
workers and the warm worker of the suite log too.  A line: pid, nesting depth, seconds with the
nested compilations, seconds without them, function, argument types, the test
(``PYTEST_CURRENT_TEST``).  Numba is not imported here: the listener is registered when
Numba's dispatcher module is.
"""

import importlib.abc
import importlib.machinery
import os
import sys
import time

_LOG = os.environ.get("SUITE_COMPILE_LOG")


def _register() -> None:
    from numba.core import event

    stack = []

    class Listener(event.Listener):
        def on_start(self, ev):
            stack.append([time.perf_counter(), 0.0])

        def on_end(self, ev):
            start, nested = stack.pop()
            total = time.perf_counter() - start
            if stack:
                stack[-1][1] += total
            data = ev.data or {}
            fn = getattr(data.get("dispatcher"), "py_func", None)
            name = f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', '?')}"
            args = ",".join(map(str, data.get("args", ())))
            test = os.environ.get("PYTEST_CURRENT_TEST", "-")
            with open(_LOG, "a") as f:
                f.write(f"{os.getpid()}\t{len(stack)}\t{total:.3f}\t{total - nested:.3f}\t{name}\t{args}\t{test}\n")

    event.register("numba:compile", Listener())


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name != "numba.core.dispatcher":
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None:
            return None
        run = spec.loader.exec_module

        def exec_module(module):
            run(module)
            _register()

        spec.loader.exec_module = exec_module
        return spec


if _LOG:
    sys.meta_path.insert(0, _Finder())
