#!/usr/bin/env python3
"""``python -m kernelcli``, and the installed ``kernelcli`` command itself.

The wheel installs this very file as the ``kernelcli`` script (``shared-scripts`` in
``pyproject.toml``; the installer points its first line at the environment's python) instead
of a generated console script: pip's template imports ``re`` before anything else, which made a
warm ``shape -q`` take 47 ms instead of 32 on a 2-vCPU Xeon (``python -c pass``: 22).
"""

from kernelcli.cli import entry

if __name__ == "__main__":
    entry()
