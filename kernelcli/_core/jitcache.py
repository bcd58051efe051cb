"""Whether Numba's on-disk cache already holds the compiled core (so the CLI can say
"compiling..." once, on the first run only).  Pure standard library."""

from __future__ import annotations

from pathlib import Path


def is_cached() -> bool:
    """True when a cache index file exists for the conv core module."""
    here = Path(__file__).resolve().parent
    cache = here / "__pycache__"
    try:
        return any(p.name.startswith("conv.correlate_rows") and p.suffix == ".nbi" for p in cache.iterdir())
    except OSError:
        return False
