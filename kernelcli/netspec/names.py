"""Layer names: the checks on a list's names, and how a concat's ``skip`` finds an earlier layer.

A layer's full dotted name joins its blocks' names to its own (``layer4.1.conv2``); its short name is
the last part. A ``skip`` with a '.' is a full dotted name; one without is a short name (the latest
layer of that name), unless it reads two ways: the full name of a top-level layer and, later, the
short name of another layer (``0`` and ``1.0``), which is refused.

Example
-------
>>> outputs = Outputs()
>>> for name, shape in (("0", (8, 32, 32)), ("1.0", (16, 32, 32)), ("1.1", (32, 32, 32)), ("1", (32, 32, 32))):
...     outputs.add(name, shape)
>>> outputs.find("1.0"), outputs.find("1")
((16, 32, 32), (32, 32, 32))
>>> outputs.find("0")
Traceback (most recent call last):
...
LookupError: '0' reads two ways: the top-level layer 0 (8x32x32) or 1.0 (16x32x32), a later layer of that short name; name the nested layer in full, e.g. '1.0', or give the top-level layer a name of its own
"""

from __future__ import annotations

from typing import Any

from .layers import Where
from .spec import SOURCE_KEY, json_value
from .words import SummaryWords

#: why a name may not hold a '.', as every message says it
DOT_RULE = "dots join a block's name to its layers' names (layer4.1.conv2)"


def check_name(name: Any, what: str, where: Where, key: str | None, words: SummaryWords = SummaryWords()) -> None:
    """Refuse a layer or branch name that is not a non-empty string, or that holds a '.' (``words``: the caller's)."""
    if not isinstance(name, str):
        raise where.error(f"expected a non-empty string, got {json_value(name)}", key)
    if not name:
        raise where.error(f'the {what} "" is empty; expected a non-empty string (a skip and {words.rows} name layers by it)', key)
    if "." in name:
        raise where.error(f"the {what} {json_value(name)} holds a '.': {DOT_RULE}; use another character, e.g. "
                          f"{json_value(name.replace('.', '_'))}", key)


def local_names(items: list[dict], prefix: str, label: str, reserved: dict[str, str] | None = None,
                words: SummaryWords = SummaryWords()) -> list[str]:
    """The names of a list's layers (``name``, else the index, as in ``torch.nn.Sequential``), each given once.

    ``reserved`` maps names the enclosing block takes for itself to what takes them (a residual's
    ``shortcut``).
    """
    taken: dict[str, tuple[str, bool]] = {}  # name -> (source of the layer that has it, given explicitly)
    names = []
    for k, node in enumerate(items):
        given = "name" in node
        local = node["name"] if given else str(k)
        shown = local if isinstance(local, str) else str(k)  # a name that is no string: '(None)' labelled "name": null
        where = Where(label, node.get(SOURCE_KEY, "?"), f"{prefix}.{shown}" if prefix else shown)
        key = "name" if given else None
        if given:
            check_name(local, "name", where, key, words)
        own = "" if given else ' (its index: a layer without "name" is named by its place)'
        if local in (reserved or {}):
            raise where.error(f"the name {json_value(local)}{own} is {reserved[local]}; give this layer another name", key)
        if local in taken:
            source, explicit = taken[local]
            if source == where.source:  # one entry made both: a repeat
                hint = 'put "${n}" or "${i}" in a repeated layer\'s name'
            else:
                hint = f"give each layer its own name (a skip and {words.rows} tell layers apart by name)"
            other = "" if explicit else ", its index"
            raise where.error(f"the name {json_value(local)}{own} is given twice in this list ({source} has it too{other}); {hint}", key)
        taken[local] = (where.source, given)
        names.append(local)
    return names


class Outputs:
    """Output shapes of finished layers, by full dotted name and by short name (latest wins), for ``skip``."""

    def __init__(self, words: SummaryWords = SummaryWords()) -> None:
        self.words = words
        self.full: dict[str, tuple[int, ...]] = {}
        self.short: dict[str, str] = {}  # short name -> the full name of the latest layer of that name

    def add(self, name: str, shape: tuple[int, ...]) -> None:
        """Record a finished layer (a branch and a residual's shortcut too) under its full dotted name."""
        self.full[name] = shape
        self.short[name.rsplit(".", 1)[-1]] = name

    def find(self, ref: str) -> tuple[int, ...]:
        """The output of the layer ``ref`` names; LookupError (the message) if none, or if it reads two ways."""
        if "." in ref:
            if ref not in self.full:
                raise LookupError(f"no earlier layer named {ref!r} (a name with '.' is a full dotted name, as {self.words.lister} lists them)")
            return self.full[ref]
        if ref not in self.short:
            raise LookupError(f"no earlier layer named {ref!r} (a skip joins the output of a layer that came before)")
        latest = self.short[ref]
        if ref in self.full and latest != ref:
            raise LookupError(
                f"{ref!r} reads two ways: the top-level layer {ref} ({self.words.shape(self.full[ref])}) or {latest} "
                f"({self.words.shape(self.full[latest])}), a later layer of that short name; name the nested layer in full, "
                f"e.g. {latest!r}, or give the top-level layer a name of its own"
            )
        return self.full[latest]
