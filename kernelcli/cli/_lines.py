"""What a line of stderr or of a listing holds: one line, whatever the names in it.

An error or note is one line however a file name spells its line breaks, and its control characters are escaped as
a listing's are (:func:`single_line`);
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
    r"""``message`` with the control characters a file name brought written as a listing writes them
    (:func:`path_line`, ``ls -b``: a line break ``\n``, a tab ``\t``, ESC ``\033``, a byte that is not text ``\351``):
    an error or note stays one line, and names the file a listing names, on a terminal or through a pipe (an
    escape sequence in a name was sent raw to a terminal, and stripped through a pipe, naming a file that does not
    exist).  A listing's own lines, indented two spaces, stay lines; a backslash stays as written.

    >>> single_line("nl/c\nd.png: not a supported image"), single_line("2 problems:\n  a")
    ('nl/c\\nd.png: not a supported image', '2 problems:\n  a')
    >>> print(single_line("b14/\x1b[31mbad.png: cannot decode"), single_line("tab\tx.png: a\\b"))
    b14/\033[31mbad.png: cannot decode tab\tx.png: a\b
    """
    if message.isprintable():
        return message
    return "".join(c if c.isprintable() or c == "\n" and message.startswith("  ", at + 1) else path_line(c)
                   for at, c in enumerate(message))
