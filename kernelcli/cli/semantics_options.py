"""Options for how inputs are read: ``--layout``, ``--format`` of a pipe, ``--kernel-scale``, ``--then``.

Declared once here (help text from the tables the code uses) and shared by every command
that takes them.  Standard library and typer only.
"""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from ..layout import LAYOUT_HELP, LAYOUTS

LayoutOption = Annotated[
    Optional[str],
    typer.Option("--layout", metavar="|".join(LAYOUTS), help=LAYOUT_HELP, show_default=False),
]
