"""``python -m kernelcli``: the same as the ``kernelcli`` command."""

from kernelcli.cli import entry

if __name__ == "__main__":
    entry()
