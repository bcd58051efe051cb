"""Options for how inputs are read: ``--layout``, ``--format`` of a pipe, ``--kernel-scale``, ``--then``.

Declared once in :mod:`kernelcli.cli.options` with every other option (names, help and
choices from the tables the code uses) and re-exported here.  Standard library and typer only.
"""

from __future__ import annotations

from .options import KernelScaleOption, LayoutOption, ThenOption  # noqa: F401
