"""The text of a JSON document as kernelcli writes it: always valid JSON (a NaN or infinity is null), indented
(:func:`json_text`, as ``--report`` writes it), and as ``--json`` prints it, each innermost list of numbers on one
line so that a matrix reads as rows (:func:`printed_json`).

Example
-------
>>> print(printed_json({"matrix": [[1, 2], [3, 4]]}))
{
  "matrix": [
    [1, 2],
    [3, 4]
  ]
}
"""

from __future__ import annotations

from typing import Any


def json_text(document: Any) -> str:
    """``json.dumps(document, indent=2)``, always valid JSON: a NaN or infinity becomes null.

    >>> json_text({"range": [float("nan"), 1.0]}).split()
    ['{', '"range":', '[', 'null,', '1.0', ']', '}']
    """
    import json
    import math

    def clean(value: Any) -> Any:
        if isinstance(value, float) and not math.isfinite(value):
            return None
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [clean(v) for v in value]
        return value

    try:
        return json.dumps(document, indent=2, allow_nan=False)
    except ValueError:
        return json.dumps(clean(document), indent=2, allow_nan=False)


def printed_json(document: Any) -> str:
    """:func:`json_text`, each innermost list of numbers on one line (a matrix reads as rows), as ``--json`` prints it.

    >>> printed_json({"row": [1.5, 2]}).splitlines()
    ['{', '  "row": [1.5, 2]', '}']
    """
    import re

    return re.sub(r"\[\s+([-+0-9.eE,\s]+?)\s+\]",
                  lambda m: "[" + ", ".join(item.strip() for item in m.group(1).split(",")) + "]", json_text(document))
