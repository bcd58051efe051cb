"""Former home of the stdin/stdout pipes: moved to :mod:`kernelcli.io.pipes` (names re-exported here).

>>> from kernelcli.pipes import Pipes
>>> from kernelcli.io.pipes import Pipes as moved
>>> Pipes is moved
True
"""

from __future__ import annotations

from .io.pipes import PIPE_FORMATS, STDIO, Pipes, is_stdio, sniff_bytes  # noqa: F401
from .io.pipes import _IMAGE_FORMATS, _SNIFFED, _fmt_name  # noqa: F401 - the former private names
