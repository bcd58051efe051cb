"""What a line of stderr or of a listing holds: one line, whatever the names in it.

An error or note is one line however a file name spells its line breaks (:func:`single_line`);
a listing on stdout writes each name as ``ls -b`` does (:func:`kernelcli.numtext.path_line`); the stand-in files
of a pipe are shown as ``stdin``/``stdout`` (:func:`shown`).  No numpy, rich or typer here.
"""

from __future__ import annotations

from ..numtext import path_line  # noqa: F401 - re-exported: the listings' escape, which sheets draw too


#: stand-in files for ``-`` while a piped command runs (path -> ``stdin``/``stdout``; see ``_stdio.piped``)
SHOWN_AS: dict[str, str] = {}


def shown(text: str) -> str:
    """``text`` with the stand-in files of a pipe shown as ``stdin``/``stdout``."""
    from ..io.pipes import shown_as

    return shown_as(text, SHOWN_AS) if SHOWN_AS else text


def single_line(message: str) -> str:
    r"""``message`` with the line breaks a file name brought written ``\n``: an error or note stays one line (a
    listing's own lines, indented two spaces, stay lines).

    >>> single_line("nl/c\nd.png: not a supported image"), single_line("2 problems:\n  a")
    ('nl/c\\nd.png: not a supported image', '2 problems:\n  a')
    """
    if "\n" not in message and "\r" not in message:
        return message
    import re

    return re.sub(r"\r|\n(?!  )", lambda found: "\\r" if found.group() == "\r" else "\\n", message)
