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
ThenOption = Annotated[
    Optional[list[str]],
    typer.Option(
        "--then",
        metavar="KERNEL|maxpool:F|minpool:F|avgpool:F",
        help="Chain: apply this to the result of the step before, in order, the intermediates kept in float. A kernel "
        "(any --kernel form, with the same padding, stride and scale) or a pooling step (maxpool:2, avgpool:3:2 for stride 2). "
        "Repeat for more steps; repeated --kernel stays a filter bank.",
        show_default=False,
    ),
]
