"""The background compile of the suite (``warm_numba_cache.py``, started by conftest) still calls the API as it is."""

from __future__ import annotations

import importlib.util
from pathlib import Path


def test_every_warm_up_call_runs():
    """A call the API no longer takes would be swallowed in the background: the suite only gets slower."""
    path = Path(__file__).with_name("warm_numba_cache.py")
    spec = importlib.util.spec_from_file_location("warm_numba_cache", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    calls = module.calls()
    assert {label for label, _ in calls} >= set(module.FIRST)
    for label, call in calls:
        assert call() is not None, label
