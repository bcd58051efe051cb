"""How the readers' messages name what their caller gave: the command line's options (``--volume``, ``--series``,
``--resample-slices``, ``--affine``, ``--max-pixels``) or the keywords of :func:`~kernelcli.io.formats.read_input` and
:func:`~kernelcli.medical.read_volume`.  Each message is written once, naming an option through these (as
:class:`kernelcli.learn_options.OptionWords` does for ``learn``); ``words="cli"`` is the commands', the default a
Python caller's.

>>> api, cli = words_for("api"), words_for("cli")
>>> api.given("volume", 5), cli.given("volume", 5), api.given("affine", "sform"), cli.given("affine", "sform")
('volume=5', '--volume 5', "affine='sform'", '--affine sform')
>>> api.takes("series", "UID"), cli.takes("series", "UID")
('series=UID', '--series UID')
>>> api.name("max_pixels"), cli.name("max_pixels"), api.flag("resample_slices"), cli.flag("resample_slices")
('max_pixels=', '--max-pixels', 'resample_slices=True', '--resample-slices')
"""

from __future__ import annotations

from typing import Any

from ..errors import UsageError
from ..records import record

#: Each option a reader's messages name, as each caller names it: (the command line's option, the keyword).
OPTION_NAMES: dict[str, tuple[str, str]] = {
    "volume": ("--volume", "volume"),
    "series": ("--series", "series"),
    "resample_slices": ("--resample-slices", "resample_slices"),
    "affine": ("--affine", "affine"),
    "max_pixels": ("--max-pixels", "max_pixels"),
}


@record(frozen=True)
class ReadWords:
    """The command line's words (``cli``) or a Python caller's."""

    cli: bool = False

    def name(self, option: str) -> str:
        """The option's name alone: ``--volume`` or ``volume=``."""
        flag, keyword = OPTION_NAMES[option]
        return flag if self.cli else f"{keyword}="

    def given(self, option: str, value: Any) -> str:
        """The option given ``value``: ``--volume 5`` or ``volume=5``, ``--affine sform`` or ``affine='sform'``."""
        flag, keyword = OPTION_NAMES[option]
        return f"{flag} {value}" if self.cli else f"{keyword}={value!r}"

    def takes(self, option: str, placeholder: str) -> str:
        """The option with a placeholder for its value: ``--series UID`` or ``series=UID``."""
        flag, keyword = OPTION_NAMES[option]
        return f"{flag} {placeholder}" if self.cli else f"{keyword}={placeholder}"

    def flag(self, option: str) -> str:
        """A switch turned on: ``--resample-slices`` or ``resample_slices=True``."""
        flag, keyword = OPTION_NAMES[option]
        return flag if self.cli else f"{keyword}=True"


#: the words each caller takes: ``read_volume(..., words="cli")`` for the command line's
WORDINGS = {"api": ReadWords(cli=False), "cli": ReadWords(cli=True)}
API, CLI = WORDINGS["api"], WORDINGS["cli"]


def words_for(words: str | ReadWords) -> ReadWords:
    """The :class:`ReadWords` of ``words`` (``"api"`` or ``"cli"``), refusing another name.

    >>> words_for("cli").name("series")
    '--series'
    """
    if isinstance(words, ReadWords):
        return words
    if not isinstance(words, str) or words not in WORDINGS:
        raise UsageError(f"invalid words {words!r}: expected one of {', '.join(WORDINGS)}")
    return WORDINGS[words]
