"""A kernel's name: the rule a kernel file's names follow, how a lookup reads one, and the names specs give.

Split from :mod:`kernelcli.catalog_format` (which re-exports every name here).  A kernel built from a parametric
spec is named after it as :mod:`kernelcli.catalog_parametric` names it (``gaussian:1.5``, ``box:3``): one rule,
:func:`spec_name`, for the names those kernels get and the names a hand-made :class:`~kernelcli.catalog.Kernel`
may take.

>>> spec_name("box", "3.0"), spec_name("gaussian", "1.50"), spec_name("gaussian", "43"), built_name("box:03")
('box:3', 'gaussian:1.5', None, False)
"""

from __future__ import annotations

import math
import re

from .limits import MAX_KERNEL_SIDE as MAX_SIDE
from .numtext import decimal, exact_whole, shortest

#: names inside kernel files (and of families): the one rule for a kernel name
NAME_PATTERN = re.compile(r"[a-z0-9_]+")
#: the rule as every message states it
NAME_RULE = "lower-case letters, digits and _ ([a-z0-9_]+)"
#: what a catalogue lookup accepts: a name as NAME_PATTERN, read ignoring case and with "-" as "_"
#: (``Sobel-V`` finds ``sobel_v``; names in files are lower case, so this never picks between two)
SPEC_NAME_PATTERN = re.compile(r"[A-Za-z0-9_-]+")
#: how a lookup is read, as the messages say it
LOOKUP_RULE = "capitals and - are read as lower case and _"
MAX_NAME_LENGTH = 64
#: the largest sigma of ``gaussian:SIGMA`` whose kernel (2 * ceil(3 * sigma) + 1 per side) is at most MAX_SIDE
MAX_SIGMA = (MAX_SIDE // 2) / 3
#: the form of a kernel's name built from a parametric spec (``gaussian:1.5``, ``box:3``), besides NAME_PATTERN's
_BUILT_NAME = re.compile(r"(gaussian|box):([0-9.e+-]+)")


def fold_name(name: str) -> str:
    """A name as a lookup reads it (:data:`LOOKUP_RULE`): capitals as lower case, ``-`` as ``_``.

    >>> fold_name("Sobel-V")
    'sobel_v'
    """
    return name.lower().replace("-", "_")


def spec_name(kind: str, argument: str) -> str | None:
    """The name of the kernel the spec ``kind:argument`` makes (``gaussian`` or ``box``), or None where it makes none:
    ``box:`` a whole number from 1 to MAX_SIDE in any form, named by its digits; ``gaussian:`` a positive sigma whose
    kernel is at most MAX_SIDE per side, named by the shortest text of that float.

    >>> spec_name("box", " 03 "), spec_name("box", "0"), spec_name("gaussian", "2.0"), spec_name("gaussian", "1e+")
    ('box:3', None, 'gaussian:2', None)
    """
    if kind == "box":
        size = exact_whole(argument.strip())
        return f"box:{size}" if size is not None and 1 <= size <= MAX_SIDE else None
    sigma = decimal(argument)
    if sigma is None or not math.isfinite(sigma) or sigma <= 0 or sigma > 1e6:
        return None
    from .kernel_build import radius_for  # (the one truncation rule; kernel_build is not needed to read a name)

    return f"gaussian:{shortest(sigma)}" if 2 * radius_for(sigma) + 1 <= MAX_SIDE else None


def built_name(name: str) -> bool:
    """Whether ``name`` is one a parametric spec's kernel is given (:func:`spec_name` of its own number): the form
    alone let ``gaussian:1e+`` and ``box:---`` through, and then ``box:03`` and ``gaussian:43`` (whose kernel is
    larger than MAX_SIDE), while ``box:3.0`` (named ``box:3``) was refused for its point.

    >>> built_name("gaussian:1.5"), built_name("box:3"), built_name("gaussian:1e+"), built_name("box:3.0")
    (True, True, False, False)
    """
    found = _BUILT_NAME.fullmatch(name)
    return found is not None and spec_name(*found.groups()) == name


def built_name_hint(name: str) -> str:
    """What a refusal of ``name`` adds where it has a spec's form but no spec gives it: the name that spec's kernel
    has, or the numbers a spec takes; "" for any other name.

    >>> built_name_hint("box:3.0"), built_name_hint("gaussian:43")
    ("; or a spec's own: the spec box:3.0 makes box:3", "; or a spec's own: gaussian:SIGMA (0 < SIGMA <= 42.33) or box:N (N from 1 to 255)")
    """
    found = _BUILT_NAME.fullmatch(name)
    if found is None:
        return ""
    made = spec_name(*found.groups())
    if made is not None:
        return f"; or a spec's own: the spec {name} makes {made}"
    return f"; or a spec's own: gaussian:SIGMA (0 < SIGMA <= {MAX_SIGMA:.4g}) or box:N (N from 1 to {MAX_SIDE})"
