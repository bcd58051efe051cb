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


def test_processes_sharing_a_folder_take_each_call_once(tmp_path):
    """Under pytest-xdist one warming process per worker compiles the calls, each call by the first to claim it."""
    path = Path(__file__).with_name("warm_numba_cache.py")
    spec = importlib.util.spec_from_file_location("warm_numba_cache", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    labels = [label for label, _ in module.calls()]
    assert len(set(labels)) == len(labels)
    first = [label for label in labels[::2] if module.claimed(str(tmp_path), label)]
    second = [label for label in labels if module.claimed(str(tmp_path), label)]
    assert first == labels[::2] and second == labels[1::2]
