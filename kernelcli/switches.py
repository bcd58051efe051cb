"""The words of kernelcli's on/off environment switches, read one way for every switch.

``KERNELCLI_DEBUG``, ``KERNELCLI_MEASURE_STARTUP`` and ``KERNELCLI_WORKER`` (which takes ``auto`` too) are
switched off by ``off``, ``0``, ``no`` or ``false`` and on by ``on``, ``1``, ``yes`` or ``true``, in any case
and with spaces around; unset or empty is the switch's default; any other word is refused as the call starts
(:func:`check_switches`, exit 2), as ``KERNELCLI_WORKER=bogus`` is: a typo of ``off`` is not read as on.
Standard library only: the worker's client reads a switch on every call.

Example
-------
>>> switch_word(" OFF\\n"), switch_word("True"), switch_word(""), switch_word("maybe")
(False, True, None, None)
"""

from __future__ import annotations

import os

#: ``--debug`` for every call: the traceback of a refusal, and why a call did not go to the worker
DEBUG_ENV = "KERNELCLI_DEBUG"
#: ``off`` skips the measurement of the jitted core's start-up cost (:mod:`kernelcli.startup`)
MEASURE_STARTUP_ENV = "KERNELCLI_MEASURE_STARTUP"
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


class SwitchError(ValueError):
    """A ``KERNELCLI_*`` switch holds a word it does not take."""


def env_switch(name: str, default: bool) -> bool:
    """The environment variable ``name`` read as a switch: off for an off word, on for an on word, ``default`` when
    unset or empty (or only spaces: a stray newline) -- or any other word, which :func:`check_switches` refuses as a
    command-line call starts.

    >>> env_switch("KERNELCLI_NO_SUCH_SWITCH", False)
    False
    """
    meaning = switch_word(os.environ.get(name, ""))
    return default if meaning is None else meaning


def check_switches() -> None:
    """Refuse (:class:`SwitchError`) an on/off switch set to a word that is neither: ``KERNELCLI_DEBUG=of`` switched
    debugging on, ``KERNELCLI_MEASURE_STARTUP=of`` kept measuring (``KERNELCLI_WORKER`` is checked by its own reader).

    >>> os.environ[DEBUG_ENV] = "maybe"; check_switches()
    Traceback (most recent call last):
    ...
    kernelcli.switches.SwitchError: KERNELCLI_DEBUG='maybe': expected on or off (or unset)
    >>> del os.environ[DEBUG_ENV]; check_switches()
    """
    for name in (DEBUG_ENV, MEASURE_STARTUP_ENV):
        value = os.environ.get(name, "")
        if value.strip() and switch_word(value) is None:
            shown = repr(value) if len(value) <= 40 else repr(value[:20] + "..." + value[-20:])
            raise SwitchError(f"{name}={shown}: expected on or off (or unset)")
