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

from ..option_words import OptionWords, chosen, dashed
from ..records import record

#: Each option a reader's messages name, as each caller names it: (the command line's option, the keyword).
OPTION_NAMES: dict[str, tuple[str, str]] = dashed("volume", "series", "resample_slices", "affine", "max_pixels")


@record(frozen=True)
class ReadWords(OptionWords):
    """The command line's words (``cli``) or a Python caller's (:class:`kernelcli.option_words.OptionWords`);
    ``done``: what the command does to each volume of a 4-D input it reads whole, for its note (pool's are pooled);
    ``job_bytes``: the command's own count of its in-memory job, ``(shape, stored) -> bytes``, where it has one (pool's),
    which a NIfTI reader's memory guard counts as the tiled path's choice does (:func:`kernelcli.medical.volume.job_need`)."""

    done: str = "filtered"
    job_bytes: Any = None

    NAMES = OPTION_NAMES


#: the words each caller takes: ``read_volume(..., words="cli")`` for the command line's
WORDINGS = {"api": ReadWords(cli=False), "cli": ReadWords(cli=True)}
API, CLI = WORDINGS["api"], WORDINGS["cli"]


def words_for(words: str | ReadWords) -> ReadWords:
    """The :class:`ReadWords` of ``words`` (``"api"`` or ``"cli"``), refusing another name.

    >>> words_for("cli").name("series")
    '--series'
    """
    return chosen(words, WORDINGS)
