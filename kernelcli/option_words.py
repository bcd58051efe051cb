"""How a message names what its caller gave: a command's options (``--volume 5``) or a Python function's keywords
(``volume=5``).  Each message is written once, naming an option through an :class:`OptionWords`; a function called
with ``words="cli"`` speaks as its command, the default as a Python caller.  A subclass lists its options in
``NAMES`` (the command line's name, the keyword) and may write values its own way (:meth:`OptionWords.cli_value`,
:meth:`OptionWords.api_value`): ``learn`` (:mod:`kernelcli.learn_options`) and the readers
(:mod:`kernelcli.io.read_words`) do.

>>> from kernelcli.records import record
>>> @record(frozen=True)
... class Words(OptionWords):
...     NAMES = {"volume": ("--volume", "volume")}
>>> api, cli = chosen("api", {"api": Words(), "cli": Words(cli=True)}), Words(cli=True)
>>> api.given("volume", 5), cli.given("volume", 5), api.takes("volume", "N"), cli.name("volume")
('volume=5', '--volume 5', 'volume=N', '--volume')
"""

from __future__ import annotations

from typing import Any, TypeVar

from .records import record

W = TypeVar("W")


@record(frozen=True)
class OptionWords:
    """The command line's words (``cli``) or a Python caller's, for the options of ``NAMES``."""

    cli: bool = False

    #: each option a message may name: (the command line's option, the keyword); unannotated, so not a field
    NAMES = {}  # type: dict[str, tuple[str, str]]

    def name(self, option: str) -> str:
        """The option's name alone: ``--size`` or ``size=``."""
        flag, keyword = self.NAMES[option]
        return flag if self.cli else f"{keyword}="

    def given(self, option: str, value: Any) -> str:
        """The option given ``value``: ``--volume 5`` or ``volume=5``."""
        flag, keyword = self.NAMES[option]
        return f"{flag} {self.cli_value(value)}" if self.cli else f"{keyword}={self.api_value(option, value)}"

    def takes(self, option: str, placeholder: str) -> str:
        """The option with a placeholder for its value: ``--series UID`` or ``series=UID``."""
        flag, keyword = self.NAMES[option]
        return f"{flag} {placeholder}" if self.cli else f"{keyword}={placeholder}"

    def flag(self, option: str) -> str:
        """A switch turned on: ``--fit-bias`` or ``fit_bias=True``."""
        flag, keyword = self.NAMES[option]
        return flag if self.cli else f"{keyword}=True"

    def joined(self, *given: str) -> str:
        """Options given together: ``--size 3 --padding 1`` or ``size=3, padding=1``."""
        return (" " if self.cli else ", ").join(given)

    def cli_value(self, value: Any) -> str:
        """A value as the command line spells it."""
        return str(value)

    def api_value(self, option: str, value: Any) -> str:
        """A value as a Python caller writes it."""
        return repr(value)


def dashed(*keywords: str) -> dict[str, tuple[str, str]]:
    """``NAMES`` for options whose command-line name is the keyword with dashes (``pad_mode``: ``--pad-mode``).

    >>> dashed("volume", "pad_mode")
    {'volume': ('--volume', 'volume'), 'pad_mode': ('--pad-mode', 'pad_mode')}
    """
    return {keyword: ("--" + keyword.replace("_", "-"), keyword) for keyword in keywords}


def chosen(words: Any, wordings: dict[str, W]) -> W:
    """The words of ``wordings`` named ``words`` (``"api"`` or ``"cli"``), or ``words`` itself when it is one of
    them; another name is refused (exit 2).

    >>> chosen("cli", {"api": 1.0, "cli": 2.0}), chosen(3.0, {"api": 1.0, "cli": 2.0})
    (2.0, 3.0)
    """
    if isinstance(words, type(next(iter(wordings.values())))):
        return words
    if not isinstance(words, str) or words not in wordings:
        from .errors import UsageError

        raise UsageError(f"invalid words {words!r}: expected one of {', '.join(wordings)}")
    return wordings[words]
