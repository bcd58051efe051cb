"""The words of kernelcli's on/off environment switches, read one way for every switch.

``KERNELCLI_DEBUG``, ``KERNELCLI_MEASURE_STARTUP`` and ``KERNELCLI_WORKER`` (which takes ``auto`` too) are
switched off by ``off``, ``0``, ``no`` or ``false`` and on by ``on``, ``1``, ``yes`` or ``true``, in any case
and with spaces around; unset or empty is the switch's default.  Standard library only: the worker's client
reads a switch on every call.

Example
-------
>>> switch_word(" OFF\\n"), switch_word("True"), switch_word(""), switch_word("maybe")
(False, True, None, None)
"""

from __future__ import annotations

import os

#: ``--debug`` for every call: the traceback of a refusal, and why a call did not go to the worker
DEBUG_ENV = "KERNELCLI_DEBUG"
#: the words that switch a switch off, and on
OFF_WORDS = ("off", "0", "no", "false")
ON_WORDS = ("on", "1", "yes", "true")


def switch_word(value: str) -> bool | None:
    """False for an off word, True for an on word, None for anything else (empty included).

    >>> switch_word("No"), switch_word(" 1 ")
    (False, True)
    """
    word = value.strip().lower()
    return False if word in OFF_WORDS else True if word in ON_WORDS else None


def env_switch(name: str, default: bool) -> bool:
    """The environment variable ``name`` read as a switch: off for an off word, ``default`` when unset or empty (or
    only spaces: a stray newline), on for anything else (set, and not to an off word).

    >>> env_switch("KERNELCLI_NO_SUCH_SWITCH", False)
    False
    """
    value = os.environ.get(name, "")
    if not value.strip():
        return default
    return switch_word(value) is not False
