"""What a line of stderr or of a listing holds: one line, whatever the names in it.

An error or note is one line however a file name spells its line breaks (:func:`single_line`);
a listing on stdout writes each name as ``ls -b`` does (:func:`path_line`); the stand-in files
of a pipe are shown as ``stdin``/``stdout`` (:func:`shown`).  No numpy, rich or typer here.
"""

from __future__ import annotations

import os
from typing import Any


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


def path_line(path: Any) -> str:
    r"""A path as one line of a listing on stdout, its control characters escaped as ``ls -b`` escapes them (a line
    break ``\n``, a tab ``\t``, ESC ``\033``) and so a backslash ``\\``: a script reading the listing line by line
    gets one name per line and can tell a line break from a backslash and an ``n``, and a terminal shows the name.

    >>> print(path_line("in/new\nline_sobel_v.png"), path_line("in/new\\nline_sobel_v.png"), path_line("a\x1b[31m.png"))
    in/new\nline_sobel_v.png in/new\\nline_sobel_v.png a\033[31m.png
    >>> path_line(os.fsdecode(b"caf\xe9.png")), path_line("a\x85b.png")  # a Latin-1 name on a UTF-8 system; NEL
    ('caf\\351.png', 'a\\302\\205b.png')
    """
    text = str(path)
    if text.isprintable() and "\\" not in text:
        return text
    return "".join(_LS_ESCAPES.get(c) or "".join(f"\\{b:03o}" for b in _escaped_bytes(c)) or c for c in text)


def _escaped_bytes(c: str) -> bytes:
    """The bytes ``ls -b`` writes as ``\\ooo`` for ``c``: a control character (C0, DEL, and C1 such as NEL, which
    Python's ``splitlines`` takes for a line break) in the file system's bytes, or a byte of the name that is not text
    there (Python holds it as a surrogate, which a terminal cannot show); else none."""
    code = ord(c)
    return os.fsencode(c) if code < 32 or 127 <= code <= 159 or 0xDC80 <= code <= 0xDCFF else b""


#: the characters ``ls -b`` writes as C escapes (the other control characters: ``\ooo``)
_LS_ESCAPES = {"\\": "\\\\", "\a": "\\a", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\v": "\\v", "\f": "\\f", "\r": "\\r"}
