"""Network spec files: find them (a path or a built-in name), read and check the top level.

A spec is one JSON object::

    {"name": "tiny", "input": [1, 28, 28],
     "layers": [{"type": "conv", "filters": 8, "f": 3}, {"type": "flatten"}, {"type": "dense", "units": 10}]}

The format is documented in ``kernels/networks/README.md``; the built-in specs live in
``kernelcli.resources.networks_dir()``.

Example
-------
>>> spec = parse_spec({"name": "tiny", "input": [1, 28, 28], "layers": [{"type": "flatten"}]}, "tiny.json")
>>> spec.input
(1, 28, 28)
"""

from __future__ import annotations

import errno
import json
import os
import re
import stat
from pathlib import Path
from typing import Any

from ..errors import EXIT_KERNEL, KernelcliError, UsageError
from ..numtext import TypedFloat, clipped
from ..records import field, record
from ..resources import networks_dir

TOP_LEVEL_FIELDS = ("name", "title", "source", "comment", "input", "layout", "templates", "layers")
#: a built-in's name as given on the command line (no '/', no suffix), as a kernel lookup's
BARE_NAME = re.compile(r"[A-Za-z0-9_-]+")


class SpecError(KernelcliError, ValueError):
    """A network spec that fails validation, or whose layers do not fit together (exit 3).

    The message names the file, the field path inside it and the layer, e.g.
    ``resnet18.json: layers[5].layers[0].filters (layer2.0.conv1): expected an integer >= 1, got 0``.
    """

    exit_code = EXIT_KERNEL


@record(frozen=True)
class NetworkSpec:
    """A checked spec: its top-level fields plus the raw ``templates`` and ``layers``."""

    name: str
    label: str
    input: tuple[int, ...] | None
    layers: list[Any]
    templates: dict[str, Any] = field(default_factory=dict)
    title: str = ""
    source: str = ""
    #: what the spec gives that changes nothing (a "layout" on a vector input), said as :attr:`Summary.notes`
    notes: tuple[str, ...] = ()


def builtin_names() -> list[str]:
    """Names of the built-in network specs, sorted.

    >>> "resnet18" in builtin_names()
    True
    """
    folder = networks_dir()
    if not folder.is_dir():
        return []
    return sorted(p.stem for p in folder.glob("*.json") if not p.name.endswith(".schema.json"))


#: what an empty SPEC is told (the command line's refusal, exit 2, and the API's SpecError alike)
EMPTY_SPEC = "'' is an empty path: expected a network spec .json or a built-in name"


def find_spec(ref: str | Path) -> Path:
    """Resolve ``ref`` to a spec file, as ``--kernel`` resolves a kernel: a bare name (``[A-Za-z0-9_-]+``) that is
    a built-in (any case) is the built-in, even beside a file or folder of that name; anything else is a path
    (``./vgg16`` or ``vgg16.json`` for a file named like a built-in), and a bare name that is not a built-in
    is a file in the current folder.

    >>> find_spec("VGG16").name
    'vgg16.json'
    """
    if str(ref) == "":  # (Path("") is ".", which read ": is not a regular file")
        raise SpecError(EMPTY_SPEC)
    builtin = _builtin(ref)
    if builtin is not None:
        return builtin
    from ..tiled.urls import refuse_url

    refuse_url(ref, "a network spec is read from a local file")  # (it was "no such spec file")
    from ..io.folder_names import refuse_a_file_named_as_folder

    refuse_a_file_named_as_folder(ref, SpecError, home=True)  # ('net.json/' read net.json)
    path = Path(ref).expanduser()
    try:
        found = os.stat(path)
    except OSError as exc:  # no such file, or a name too long to be one
        if exc.errno not in (errno.ENOENT, errno.ENOTDIR, errno.ENAMETOOLONG):
            raise SpecError(f"{clipped(str(ref))}: cannot read: {exc.strerror or exc}") from None
        found = None
    if found is not None and stat.S_ISREG(found.st_mode):
        return path
    if found is not None:
        raise SpecError(f"{ref}: is not a regular file (expected a network spec .json or a built-in name)")
    names = ", ".join(builtin_names()) or "(none installed)"
    raise SpecError(f"{clipped(str(ref))}: no such spec file and no built-in network of that name; built-ins: {names}")


def _builtin(ref: str | Path) -> Path | None:
    """The built-in spec a bare name (any case) names, else None."""
    text = str(ref).strip()
    builtin = networks_dir() / f"{text.lower()}.json"
    return builtin if BARE_NAME.fullmatch(text) and os.path.isfile(builtin) else None


def _read_bounded(path: Path, label: str) -> str:
    """The text of the spec file ``path``, refused before it is read where it is larger than a kernel file may be
    (:data:`~kernelcli.catalog_format.MAX_FILE_BYTES`, 1 MiB, in the same words: a 40 MB annotation file given by
    mistake took 290 MB and 3 s before its "unknown field"); a BOM (Windows Notepad's) is skipped, as in kernel files."""
    from ..catalog_format import MAX_FILE_BYTES

    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise SpecError(f"{label}: file is {size} bytes, more than the {MAX_FILE_BYTES} (1 MiB) allowed for a network spec file")
        with path.open("rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
        if len(raw) > MAX_FILE_BYTES:  # the file grew after stat
            raise SpecError(f"{label}: file is more than the {MAX_FILE_BYTES} bytes (1 MiB) allowed for a network spec file")
        return raw.decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(f"{label}: cannot read the spec: {exc}") from None


def load_spec(ref: str | Path) -> NetworkSpec:
    """Read and check a spec given as a file path or a built-in name.

    >>> load_spec("alexnet").input
    (3, 224, 224)
    """
    path = find_spec(ref)
    label = path.name if path == _builtin(ref) else str(ref)  # a file as the user named it (a/net.json, b/net.json)
    from ..io.reads import note_input

    note_input(path)
    text = _read_bounded(path, label)
    try:
        document = json.loads(text, parse_int=_parse_int, parse_float=_parse_float, object_pairs_hook=_once_each)
    except json.JSONDecodeError as exc:
        raise SpecError(f"{label}: not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}") from None
    except RecursionError:
        raise SpecError(f"{label}: not a usable spec: nested deeper than the JSON reader follows; flatten the spec") from None
    except SpecError as exc:  # (raised by a hook, which is not told where it is: found again)
        place = _fault_at(text)
        raise SpecError(f"{label}: {exc}" if place is None else f"{label}: {place}: {exc}") from None
    return parse_spec(document, label, default_name=path.stem)


#: the field under which each expanded layer keeps the path it came from (kernelcli's own: a spec file's is refused)
SOURCE_KEY = "__source__"
#: digits an integer in a spec may have (a real layer size has a handful)
MAX_INT_DIGITS = 30


def _parse_float(text: str) -> float:
    """A JSON number with a point or an exponent, remembering its text: a message names it as the file wrote it."""
    from ..numtext import typed_value

    return typed_value(float(text), text, "")


def _parse_int(text: str) -> Any:
    """A JSON integer: an int of at most :data:`MAX_INT_DIGITS` digits, else a :class:`LongWhole`, which the field
    that reads it refuses or takes (``eps``, ``comment``) as it does the same number written ``1e32``: the reader
    refused it wherever it stood, naming a line and column and not the field, "at most 30 digits" told to ``fn``."""
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        return LongWhole.of(text)
    return int(text)


class LongWhole(TypedFloat):
    """A spec's integer of more than :data:`MAX_INT_DIGITS` digits: the float its digits give (infinity past 1e308),
    shown by :func:`json_value` as written (clipped), and refused by a field that takes an integer
    (:func:`integer_wanted`).

    >>> big = json.loads('[100000000000000000000000000000000]', parse_int=_parse_int)[0]
    >>> big == 1e32, big.digits, json_value(big), integer_wanted(1, big)
    (True, 33, '100000000000000000000000000000000', 'an integer >= 1 of at most 30 digits')
    """

    digits: int
    text: str

    @classmethod
    def of(cls, text: str) -> "LongWhole":
        made = cls(float(text))
        made.digits, made.text, made.option = len(text.lstrip("-")), text, ""
        made.typed = text if len(text) <= 40 else f"{text[:20]}...{text[-20:]} ({made.digits} digits)"
        return made

    def __str__(self) -> str:  # (its digits, where a template puts it in a name)
        return self.text

    def __reduce__(self) -> tuple:
        return (LongWhole.of, (self.text,))


def has_long_whole(value: Any) -> bool:
    """True where ``value``, or an item of a list of them, is a :class:`LongWhole`."""
    return any(isinstance(v, LongWhole) for v in (value if isinstance(value, list | tuple) else [value]))


def integer_wanted(minimum: int, value: Any, forms: str = "") -> str:
    """``an integer >= minimum`` (and ``forms``: `` or [h, w]``), as a field that takes one says what it expects,
    with the spec's digit limit where ``value`` (or an item of it) is a :class:`LongWhole`: "expected an integer
    >= 1, got 1000...0" was said of an integer.

    >>> integer_wanted(0, [3, 4]), integer_wanted(1, [3, LongWhole.of("9" * 31)], " or [h, w]")
    ('an integer >= 0', 'an integer >= 1 or [h, w], each of at most 30 digits')
    """
    if not has_long_whole(value):
        return f"an integer >= {minimum}{forms}"
    return f"an integer >= {minimum}{forms}{',' if forms else ''} {'each ' if forms else ''}of at most {MAX_INT_DIGITS} digits"


def _once_each(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object whose keys are each given once (a JSON reader keeps the last of a repeated key:
    a branch given twice under one name lost a whole branch, in silence)."""
    found = dict(pairs)
    if len(found) != len(pairs):
        seen: set[str] = set()
        key = next(key for key, _ in pairs if key in seen or seen.add(key))
        keys = ", ".join(f'"{k}"' for k in list(found)[:6])
        raise SpecError(f'the key "{key}" is given twice in one object ({keys}); '
                        "JSON keeps only the last: give each key once (rename a branch or a layer)")
    if SOURCE_KEY in found:  # (it would rename the layer in every later message)
        raise SpecError(f'"{SOURCE_KEY}" is a field of kernelcli\'s own (where an expanded layer came from); use "comment" for a note')
    return found


#: a JSON string, number or bracket, where the text is valid JSON (letters of true/false/null/NaN are passed over)
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?|[{}\[\]:]')


def _fault_at(text: str) -> str | None:
    r"""``line L, column C`` of the fault :func:`_once_each` raised for, found as the JSON reader meets it: a
    repeated (or kernelcli's own) key when its object closes; None if none is found.

    >>> _fault_at('{"a": 1,\n "b": {"c": 2, "c": 3}}')
    'line 2, column 16'
    """
    objects: list[dict[str, Any] | None] = []  # per open bracket: an object's keys and first fault, or None (a list)
    tokens = [(m.group(), m.start()) for m in _TOKEN.finditer(text)]
    for k, (token, at) in enumerate(tokens):
        if token in ("{", "["):
            objects.append({"keys": set(), "twice": None, "own": None} if token == "{" else None)
        elif token in ("}", "]"):
            top = objects.pop() if objects else None
            fault = None if top is None else top["twice"] if top["twice"] is not None else top["own"]
            if fault is not None:
                return _line_column(text, fault)
        elif token[0] == '"':
            top = objects[-1] if objects else None
            if top is not None and k + 1 < len(tokens) and tokens[k + 1][0] == ":":
                key = json.loads(token)
                if key in top["keys"] and top["twice"] is None:
                    top["twice"] = at
                if key == SOURCE_KEY and top["own"] is None:
                    top["own"] = at
                top["keys"].add(key)
    return None


def _line_column(text: str, offset: int) -> str:
    """The place of ``offset`` as :class:`json.JSONDecodeError` gives it (both from 1)."""
    return f"line {text.count(chr(10), 0, offset) + 1}, column {offset - text.rfind(chr(10), 0, offset)}"


def json_value(value: Any) -> str:
    """``value`` spelled as the user wrote it in JSON, for a message (a Python value JSON has no word for: its repr);
    a number of the file as the file wrote it (``1e400``, not ``Infinity``; ``1e2``, not ``100.0``).

    >>> json_value(True), json_value(float("nan")), json_value("no"), json_value([True, 8, 8])
    ('true', 'NaN', '"no"', '[true, 8, 8]')
    >>> json_value(json.loads("1e400", parse_float=_parse_float))
    '1e400'
    """
    if isinstance(getattr(value, "typed", None), str):
        return value.typed
    if isinstance(value, list | tuple) and any(isinstance(getattr(v, "typed", None), str) for v in value):
        return "[" + ", ".join(map(json_value, value)) + "]"  # ([3, 1e40] as written: json.dumps gave [3, 1e+40])
    try:
        return json.dumps(value, allow_nan=True, ensure_ascii=False)
    except (TypeError, ValueError, RecursionError):  # (a numpy integer or a set given through the API)
        return repr(value)


def json_lists(value: Any) -> Any:
    """``value`` with every tuple in it a list, as JSON would give it: a spec built in Python may write
    ``"layers": (...)`` where ``"input": (3, 32, 32)`` and ``"f": (3, 3)`` were taken (a tuple of layers was refused as
    "expected a list of layers, got [...]", or "got an array").  A document without a tuple (one read from JSON) is
    returned as it is, the same object, however deep.

    >>> json_lists({"layers": ({"type": "conv", "f": (3, 3)},), "name": "n"})
    {'layers': [{'type': 'conv', 'f': [3, 3]}], 'name': 'n'}
    """
    if not _holds_tuple(value):
        return value
    if isinstance(value, (tuple, list)):
        return [json_lists(v) for v in value]
    if isinstance(value, dict):
        return {k: json_lists(v) for k, v in value.items()}
    return value


def _holds_tuple(value: Any) -> bool:
    """Whether a tuple is anywhere in ``value`` (a loop over its containers, each seen once: as deep as a spec nests,
    and a document holding itself is left to the checks that refuse it)."""
    seen: set[int] = set()
    todo = [value]
    while todo:
        item = todo.pop()
        if isinstance(item, tuple):
            return True
        if isinstance(item, (list, dict)) and id(item) not in seen:
            seen.add(id(item))
            todo.extend(item.values() if isinstance(item, dict) else item)
    return False


def json_kind(value: Any) -> str:
    """What JSON calls the kind of ``value``, for a message (``null``, not Python's ``NoneType``).

    >>> json_kind(None), json_kind([]), json_kind({}), json_kind("a"), json_kind(False), json_kind(2.5)
    ('null', 'an array', 'an object', 'a string', 'false', 'a number')
    """
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    kinds = ((dict, "an object"), ((list, tuple), "an array"), (str, "a string"), ((int, float), "a number"))
    return next((word for kind, word in kinds if isinstance(value, kind)), type(value).__name__)


def parse_spec(document: Any, label: str = "<spec>", *, default_name: str | None = None) -> NetworkSpec:
    """Check the top level of a spec document (already decoded from JSON, or built in Python: its tuples are
    read as the lists they stand for, :func:`json_lists`)."""
    if not isinstance(document, dict):
        raise SpecError(f"{label}: expected a JSON object with 'layers', got {json_kind(document)}")
    try:
        document = json_lists(document)
    except RecursionError:
        raise SpecError(f"{label}: the document nests too deeply (or holds itself)") from None
    unknown = [key for key in document if key not in TOP_LEVEL_FIELDS]
    if unknown:
        raise SpecError(f"{label}: {unknown[0]}: unknown field; allowed: {', '.join(TOP_LEVEL_FIELDS)}")
    name = document.get("name", default_name or Path(label).stem)
    for key in ("name", "title", "source"):
        value = document.get(key, "")
        if not isinstance(value, str):
            raise SpecError(f"{label}: {key}: expected a string, got {json_value(value)}")
    layers = document.get("layers")
    if not isinstance(layers, list) or not layers:
        raise SpecError(f"{label}: layers: expected a non-empty list of layers, got {json_value(layers)}")
    templates = document.get("templates", {})
    if not isinstance(templates, dict):
        raise SpecError(f"{label}: templates: expected an object of name -> template, got {json_kind(templates)}")
    shape = document.get("input")
    notes: tuple[str, ...] = ()
    if shape is not None:
        shape = _read_input(check_input_shape(shape, f"{label}: input"), document.get("layout"), label)
        if len(shape) != 3 and "layout" in document:  # (a note, as --layout on a one-number --input: audit 210 #2)
            notes = (f'{label}: layout: {json_value(document["layout"])} names the axes of a 3-D "input"; '
                     f"{json_value(list(shape))} has {len(shape)}, so it changes nothing",)
    elif "layout" in document:
        raise SpecError(f'{label}: layout: {json_value(document["layout"])} says how "input" is written; the spec gives no input')
    return NetworkSpec(
        name=name,
        label=label,
        input=shape,
        layers=layers,
        templates=templates,
        title=document.get("title", ""),
        source=document.get("source", ""),
        notes=notes,
    )


def check_input_shape(value: Any, where: str) -> tuple[int, ...]:
    """Return ``value`` as a shape tuple: [C, H, W] (a feature map) or [N] (a vector); numpy integers count,
    and so does a 1-D numpy array of integers.

    >>> check_input_shape([3, 224, 224], "input")
    (3, 224, 224)
    """
    from ..whole_numbers import integer_value, sequence_items

    items = sequence_items(value)
    sizes = [integer_value(v) for v in items] if items is not None else []
    if len(sizes) not in (1, 3) or not all(v is not None and v >= 1 for v in sizes):
        wanted = integer_wanted(1, items or []).replace("an integer", "integers")
        raise SpecError(f"{where}: expected [C, H, W] or [N] with {wanted}, got {json_value(value)}")
    return tuple(sizes)  # type: ignore[arg-type]


def _read_input(shape: tuple[int, ...], layout: Any, label: str) -> tuple[int, ...]:
    """The spec's input as (C, H, W), read as its ``layout`` field says (default chw, as ``--input``'s).

    Without one, an input that reads two ways is refused as ``--input`` is: ``[224, 224, 3]`` was 224 channels of
    224x3 (where the lecture means a 224x224 RGB image), every number after it wrong; ``[3, 64, 3]`` has 3 channels
    either way; ``[56, 56, 64]`` is a square 56x56 map of 64 channels, and ``[64, 56, 48]`` settles nothing
    (:func:`kernelcli.layout.reads_two_ways`, the rule of ``shape --in`` too).
    """
    from ..layout import PLANE_LAYOUTS, layout_dims, plane_readings

    if layout is None:
        readings = plane_readings(shape)
        if readings:
            first = layout_dims(shape, "chw")  # not offered where it reads two ways too: [3, 4, 4] -> [4, 3, 4]
            rewrite = f" (or write it channels first, {json_value(first)})" if plane_readings(first) is None else ""
            raise SpecError(f'{label}: input: {json_value(list(shape))} reads two ways: {readings}; give "layout": "hwc"'
                            f'{rewrite} or "layout": "chw"')
        return shape
    if not isinstance(layout, str) or layout.strip().lower() not in PLANE_LAYOUTS:
        raise SpecError(f'{label}: layout: expected "chw" or "hwc" (how "input" is written), got {json_value(layout)}')
    return tuple(layout_dims(shape, "chw")) if layout.strip().lower() == "hwc" else shape


def parse_input_shape(text: str, layout: str | None = None, spec: NetworkSpec | None = None) -> tuple[int, ...]:
    """Parse ``--input``: ``CxHxW`` (also ``C,H,W``; ``HxWxC`` with ``layout="hwc"``) or a vector length ``N``.

    The answer is (C, H, W).  With ``spec``, a channel count that contradicts the network's
    input is refused, naming both readings (see :func:`kernelcli.layout.network_input`).

    >>> parse_input_shape("3x224x224"), parse_input_shape("224x224x3", "hwc")
    ((3, 224, 224), (3, 224, 224))
    """
    from ..layout import network_input

    dims = input_dims(text)
    return network_input(dims, layout, spec.input if spec is not None else None, spec.name if spec is not None else "the network")


def input_dims(text: str) -> tuple[int, ...]:
    """The sizes ``--input`` gives, in the order written (``CxHxW``, ``HxWxC`` or ``N``), as :func:`summarize` takes them.

    >>> input_dims("224x224x3"), input_dims("784")
    ((224, 224, 3), (784,))
    """
    from ..shapes import parse_dims
    from ..whole_numbers import refused_value

    forms = "CxHxW (e.g. 3x224x224) or N"
    dims = parse_dims(text, name="--input", max_len=3, forms=forms)  # the parser of `shape --input` and `params`
    if len(dims) == 2:
        raise refused_value("--input", text, f"expected {forms}, got 2 sizes")
    return tuple(dims)
