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
KernelScaleOption = Annotated[
    Optional[str],
    typer.Option(
        "--kernel-scale",
        metavar="sum|N|N%|!|^",
        help="Rescale every kernel as ImageMagick's -define convolve:scale: N or N% multiplies; ! divides by |sum| "
        "(zero-sum: positives to 1); ^ positives to 1 and negatives to -1; N! or N^ normalise then multiply; "
        "sum divides by the sum, as a kernel file's \"scale\": \"sum\".",
        show_default=False,
    ),
]
