"""``python -m kernelcli``: the same as the ``kernelcli`` command."""

from kernelcli.cli import main

if __name__ == "__main__":
    main()
