"""The vocabularies kernelcli speaks, declared once: pad modes, pool ops, rescale modes, activations, combine
modes, volume axes and CT windows (axis layouts: :mod:`kernelcli.layout`).

Pure Python (no numpy), so the CLI can validate options without loading the core.

Pad modes and their names elsewhere
-----------------------------------
===========  ==================  ===============  ====================  ==================  ====================
kernelcli    meaning (row 1 2 3)  numpy.pad        scipy.ndimage         OpenCV              PyTorch F.pad
===========  ==================  ===============  ====================  ==================  ====================
constant     0 0 | 1 2 3 | 0 0   ``constant``     ``constant``          BORDER_CONSTANT     ``constant``
replicate    1 1 | 1 2 3 | 3 3   ``edge``         ``nearest``           BORDER_REPLICATE    ``replicate``
reflect      3 2 | 1 2 3 | 2 1   ``reflect``      ``mirror``            BORDER_REFLECT_101  ``reflect``
symmetric    2 1 | 1 2 3 | 3 2   ``symmetric``    ``reflect``           BORDER_REFLECT      (none)
circular     2 3 | 1 2 3 | 1 2   ``wrap``         ``grid-wrap``         BORDER_WRAP         ``circular``
===========  ==================  ===============  ====================  ==================  ====================

Beware: scipy.ndimage's ``reflect`` is numpy's ``symmetric``; ndimage's ``mirror`` is numpy's ``reflect``.
kernelcli's own names follow numpy/PyTorch.  Padding wider than the input works for every mode, the way
numpy.pad does it (reflection and wrapping repeat).

Example
-------
>>> canonical_pad_mode("edge")
'replicate'
"""

from __future__ import annotations

import numbers
import re
from typing import Any

from .errors import UsageError
from .numtext import DECIMAL, typed_value

#: a pooling step of a chain (``maxpool:2``, ``avgpool:3:2``): a ``--kernel`` that runs as a chain of its own.  F and S
#: are numbers in any form a number is typed in (``+2``, ``2.0``: as ``box:N`` and ``pool -f`` take them); the step's
#: parser refuses one that is not whole.  Blanks about a ':' are taken, as ``box : 3`` takes them
POOL_STEP = re.compile(rf"(?P<op>max|min|avg|mean|average)pool\s*:\s*(?P<size>{DECIMAL})(?:\s*:\s*(?P<stride>{DECIMAL}))?",
                       re.IGNORECASE)
#: a pooling word with a colon that is no pooling step (``maxpool:x``, ``maxpool:2x2``, ``pool : 2``): no kernel spec
#: has that form, and every reader of a kernel refuses it in :data:`POOL_FORM`'s words
MISSPELT_POOL_STEP = re.compile(r"\w*pool\w*\s*:.*", re.IGNORECASE | re.DOTALL)
#: a pooling word without ":F" (``maxpool``, ``avgpool2``, ``meanpool2``, ``max_pool``, ``pool``): a step misspelt where
#: no kernel has that name
POOL_WORD = re.compile(r"(?P<op>max|min|avg|mean|average)?_?pool(ing)?[0-9]*", re.IGNORECASE)
#: what a pooling step is, as a refusal of one misspelt says it
POOL_FORM = "a pooling step is maxpool:F, minpool:F or avgpool:F (meanpool:F too; :S for a stride)"


def is_pool_step(text: str) -> bool:
    """True for a pooling step's text (``maxpool:2``, ``avgpool:3:2``): a ``--kernel`` that runs as a chain of its own.

    >>> is_pool_step("maxpool:2"), is_pool_step("maxpool:+2.0"), is_pool_step("avgpool : 3 : 2"), is_pool_step("box:3")
    (True, True, True, False)
    """
    return POOL_STEP.fullmatch(text.strip()) is not None


def is_misspelt_pool_step(text: str) -> bool:
    """True for a pooling step misspelt (:func:`misspelt_pool_step`).

    >>> is_misspelt_pool_step("maxpool:2x2"), is_misspelt_pool_step("pool : 2"), is_misspelt_pool_step("maxpool:2")
    (True, True, False)
    """
    return misspelt_pool_step(text) is not None


def misspelt_pool_step(text: str) -> str | None:
    """What a pooling step is (:data:`POOL_FORM`), for ``text`` that is one misspelt, else None: the one definition
    every reader of a kernel asks (convolve's ``--kernel`` and ``--then``, ``kernels show``, ``load_kernel``).  A pooling
    word with a colon that is no step (:data:`MISSPELT_POOL_STEP`), or one without its ``:F`` (:data:`POOL_WORD`, of
    every op :data:`POOL_STEP` takes), which is told an example.  A kernel file or name of that form is read first.

    >>> misspelt_pool_step("meanpool2")
    'a pooling step is maxpool:F, minpool:F or avgpool:F (meanpool:F too; :S for a stride), e.g. meanpool:2'
    >>> misspelt_pool_step("maxpool:x") == POOL_FORM, misspelt_pool_step("maxpool:2"), misspelt_pool_step("box:3")
    (True, None, None)
    """
    stripped = text.strip()
    if POOL_STEP.fullmatch(stripped):
        return None
    if MISSPELT_POOL_STEP.fullmatch(stripped):
        return POOL_FORM
    bare = POOL_WORD.fullmatch(stripped)
    if bare is None:
        return None
    return f"{POOL_FORM}, e.g. {(bare.group('op') or 'max').lower().replace('average', 'avg')}pool:2"


PAD_MODES = ("constant", "replicate", "reflect", "symmetric", "circular")

#: Unambiguous aliases accepted for each pad mode.
PAD_ALIASES = {
    "zero": "constant",
    "zeros": "constant",
    "fill": "constant",
    "edge": "replicate",
    "nearest": "replicate",
    "clamp": "replicate",
    "mirror": "reflect",
    "reflect101": "reflect",
    "reflect_101": "reflect",
    "half-symmetric": "symmetric",
    "wrap": "circular",
    "periodic": "circular",
    "grid-wrap": "circular",
}

#: Numeric codes the jitted core uses (it takes scalars only).
PAD_CODES = {name: code for code, name in enumerate(PAD_MODES)}

#: The same modes as other libraries name them.
PAD_EQUIVALENTS = {
    "constant": {"numpy": "constant", "scipy": "constant", "opencv": "BORDER_CONSTANT", "torch": "constant"},
    "replicate": {"numpy": "edge", "scipy": "nearest", "opencv": "BORDER_REPLICATE", "torch": "replicate"},
    "reflect": {"numpy": "reflect", "scipy": "mirror", "opencv": "BORDER_REFLECT_101", "torch": "reflect"},
    "symmetric": {"numpy": "symmetric", "scipy": "reflect", "opencv": "BORDER_REFLECT", "torch": None},
    "circular": {"numpy": "wrap", "scipy": "grid-wrap", "opencv": "BORDER_WRAP", "torch": "circular"},
}

POOL_OPS = ("max", "min", "avg")
POOL_ALIASES = {"mean": "avg", "average": "avg"}


def exclude_pad_matters(op: str, padding: Any) -> bool:
    """Whether ``--exclude-pad`` (count_include_pad=False) changes a pooling: an average with padding; a max or min, or
    no padding, pools the same cells either way.

    >>> exclude_pad_matters("avg", 1), exclude_pad_matters("max", 1), exclude_pad_matters("avg", 0)
    (True, False, False)
    """
    return op == "avg" and bool(padding)


def exact_text(value: Any) -> str:
    """``value`` in the fewest digits that read back as it (names of two fills never meet: 100.0001 and
    100.0002 were both ``fill100``), a whole float as an int, an exponent without its ``+`` (a file name's word).

    >>> exact_text(255.0), exact_text(100.0001), exact_text(1e20), exact_text(-1.5e-7), exact_text(9007199254740993)
    ('255', '100.0001', '1e20', '-1.5e-07', '9007199254740993')
    """
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    return repr(value).replace("+", "")


def canonical_padding(padding: Any, nothing: str = "valid") -> Any:
    """A padding however it was spelt, one way: ``same``, ``nothing`` where it adds no border (0, four zeros), one
    width where the widths are equal (``1,1,1,1`` is 1), else the widths.  The name (:func:`conv_words`) and a sheet's
    option line both say it so.

    >>> canonical_padding(0), canonical_padding((1, 1, 1, 1)), canonical_padding((2, 1, 1, 2)), canonical_padding("same")
    ('valid', 1, (2, 1, 1, 2), 'same')
    >>> canonical_padding((2, 2, 1, 1, 1, 1))
    (2, 1, 1)
    """
    if pads_nothing(padding):
        return nothing
    if isinstance(padding, tuple) and len(padding) == 6 and padding[0::2] == padding[1::2]:
        padding = padding[0::2]  # Z0,Z1,Y0,Y1,X0,X1 of equal pairs is PZ,PY,PX (review 52 #2: two names, one result)
    return padding[0] if isinstance(padding, tuple) and len(set(padding)) == 1 else padding


def pads_nothing(padding: Any) -> bool:
    """Whether ``padding`` adds no border (``valid``, 0, four zeros): a pad mode or fill is then no option of the result.

    >>> pads_nothing("valid"), pads_nothing((0, 0, 0, 0)), pads_nothing("same"), pads_nothing(1)
    (True, True, False, False)
    """
    return padding == "valid" or padding == 0 or (isinstance(padding, tuple) and not any(padding))  # (six zeros too)


def unused_border(padding: Any, typed: str, pad_mode: bool, pad_value: bool) -> str | None:
    """The note for ``--pad-mode``/``--pad-value`` given (``pad_mode``, ``pad_value``: whether each was) where the
    padding adds no border, or None; ``typed``: ``--padding`` as typed.  One wording for every command.

    >>> unused_border("valid", "valid", True, False)
    '--pad-mode: --padding valid pads nothing, so there is no border to fill'
    >>> unused_border(1, "1", True, True) is None
    True
    """
    unused = [name for name, given in (("--pad-mode", pad_mode), ("--pad-value", pad_value)) if given]
    if not unused or not pads_nothing(padding):
        return None
    return f"{' and '.join(unused)}: --padding {typed} pads nothing, so there is no border to fill"


#: Numeric codes of the pooling loops.
POOL_CODES = {name: code for code, name in enumerate(POOL_OPS)}

RESCALE_MODES = ("clip", "abs", "minmax", "none")

ACTIVATIONS = ("none", "relu", "leaky_relu", "sigmoid", "tanh")
ACTIVATION_ALIASES = {
    "identity": "none",
    "linear": "none",
    "leaky-relu": "leaky_relu",
    "leakyrelu": "leaky_relu",
    "lrelu": "leaky_relu",
    "logistic": "sigmoid",
}
#: Numeric codes of the layer loop's activations.
ACTIVATION_CODES = {name: code for code, name in enumerate(ACTIVATIONS)}

#: 2-D kernels on a multi-channel image: each channel alone, or summed (a convolution layer)
COMBINE_MODES = ("per-channel", "sum")

#: volumes also take the edge mode of fslmaths -s: outside voxels dropped, the weights inside renormalised
RENORMALISE = "renormalise"
RENORMALISE_ALIASES = ("renormalise", "renormalize", "inside", "fsl")
VOLUME_PAD_MODES = PAD_MODES + (RENORMALISE,)

#: the axes of a volume, (Z, Y, X): slices, rows, columns
AXES = ("z", "y", "x")

#: the two readings of a NIfTI's geometry that ``--affine`` picks from
AFFINE_READINGS = ("sform", "qform")

#: CT windows, (centre, width) in HU (https://radiopaedia.org/articles/windowing-ct)
WINDOW_PRESETS: dict[str, tuple[float, float]] = {
    "brain": (40.0, 80.0),
    "lung": (-600.0, 1500.0),
    "bone": (400.0, 1800.0),
    "soft-tissue": (50.0, 350.0),
}
WINDOW_ALIASES = {"lungs": "lung", "soft_tissue": "soft-tissue", "softtissue": "soft-tissue", "soft": "soft-tissue", "mediastinum": "soft-tissue"}


def _canonical(value: object, names: tuple[str, ...], aliases: dict[str, str], what: str, hint: str = "") -> str:
    """``value`` as one of ``names`` (trimmed, lower-cased, through ``aliases``; ``-`` and ``_`` alike, as in kernel
    names), or a UsageError listing them.

    >>> _canonical("Reflect-101", PAD_MODES, PAD_ALIASES, "pad mode"), _canonical("per_channel", COMBINE_MODES, {}, "x")
    ('reflect', 'per-channel')
    """
    key = str(value).strip().lower()
    for spelling in (key, key.replace("_", "-"), key.replace("-", "_")):
        spelling = aliases.get(spelling, spelling)
        if spelling in names:
            return spelling
    raise UsageError(not_one_of(what, value, names, hint))


def not_one_of(what: str, value: object, names: tuple[str, ...] | list[str], hint: str = "") -> str:
    """The one refusal of a word that is none of a vocabulary's ``names``, every choice option's and keyword's: the
    value quoted short (:func:`kernelcli.numtext.quoted`; a 5,000-letter ``--pad-mode`` was written out whole).

    >>> not_one_of("pad mode", "x" * 50, ("constant", "reflect"))
    "invalid pad mode 'xxxxxxxxxxxxxxxxxxxx...xxxxxxxxxxxxxxxxxxxx' (50 characters): expected one of constant, reflect"
    """
    from .numtext import quoted

    return f"invalid {what} {quoted(value)}: expected one of {', '.join(names)}{hint}"


def canonical_pad_mode(mode: str, name: str = "pad mode") -> str:
    """Return kernelcli's name for a pad mode or an alias (``zero``/``zeros`` remembering it was typed for
    :func:`check_fill_reading`), refused as ``name``: the API's keyword as typed (``pad_mode``, ``mode``).

    >>> canonical_pad_mode("wrap"), canonical_pad_mode("Zeros").typed
    ('circular', 'zeros')
    """
    return _spelled(mode, _canonical(mode, PAD_MODES, PAD_ALIASES, name, " (or an alias such as zero, edge, mirror, wrap)"))


#: the aliases of ``constant`` whose name says the fill: another fill given with one reads two ways
ZERO_FILL_ALIASES = ("zero", "zeros")


def _spelled(given: Any, word: str) -> str:
    """``word``, remembering the alias typed (:func:`kernelcli.numtext.typed_value`) where ``given`` is a zero alias
    (the one alias whose text a later check needs)."""
    typed = str(getattr(given, "typed", given)).strip().lower()
    return typed_value(word, typed, "--pad-mode") if typed in ZERO_FILL_ALIASES else word


def check_fill_reading(pad_mode: Any, pad_value: Any, function: str | None = None,
                       keywords: tuple[str, str] = ("pad_mode", "pad_value")) -> None:
    """Refuse a fill other than 0 given with ``zero``/``zeros`` (exit 2): the mode says a border of 0s, the value
    another, and one was taken without a word (``-m zeros --pad-value 9`` filled 9s).  ``pad_value`` None: not given.
    The command line's words (``--pad-mode``), or with ``function`` the API's: ``keywords`` as the caller typed them
    (:func:`pad_keywords`).

    >>> check_fill_reading("zeros", 0), check_fill_reading("constant", 9), check_fill_reading("zero", None)
    (None, None, None)
    >>> check_fill_reading(canonical_pad_mode("zeros"), 9)
    Traceback (most recent call last):
    ...
    kernelcli.errors.UsageError: --pad-mode zeros with --pad-value 9 reads two ways: a fill of 0 (zeros) or of 9; pick one: --pad-mode constant --pad-value 9, or --pad-mode zeros alone
    """
    typed = str(getattr(pad_mode, "typed", pad_mode)).strip().lower()
    if typed not in ZERO_FILL_ALIASES or pad_value is None or isinstance(pad_value, (bool, str, bytes)):
        return  # (a value that is no number is refused as a fill: ndsupport.check_fill, in its words)
    if not isinstance(pad_value, numbers.Real) or pad_value == 0:
        return
    value = getattr(pad_value, "typed", None) or exact_text(
        int(pad_value) if isinstance(pad_value, numbers.Integral) else float(pad_value))  # (numpy's scalars: as Python's)
    if function is None:
        raise UsageError(f"--pad-mode {typed} with --pad-value {value} reads two ways: a fill of 0 ({typed}) or of {value}; "
                         f"pick one: --pad-mode constant --pad-value {value}, or --pad-mode {typed} alone")
    m, v = keywords
    raise UsageError(f"{function}(): {m}={typed!r} with {v}={value} reads two ways: a fill of 0 ({typed}) or of "
                     f"{value}; pick one: {m}='constant', {v}={value}, or {m}={typed!r} alone")


class _DefaultText(str):
    """A default told apart from the same text given (``is``): an alias may then be refused beside it."""


class _DefaultNumber(float):
    """A default told apart from the same number given (``is``)."""


#: ``pad_mode=``'s and ``pad_value=``'s defaults where ``mode=`` and ``value=`` are their aliases (``pad2d``)
PAD_MODE_DEFAULT: str = _DefaultText("constant")
PAD_VALUE_DEFAULT: float = _DefaultNumber(0.0)


def pad_keywords(mode: Any = None, value: Any = None) -> tuple[str, str]:
    """The keywords a caller typed for the border mode and the fill, the aliases :func:`pad_words` takes where given:
    a refusal names the one typed (``value=300`` was refused as ``pad_value 300``).

    >>> pad_keywords(), pad_keywords(value=300)
    (('pad_mode', 'pad_value'), ('pad_mode', 'value'))
    """
    return "pad_mode" if mode is None else "mode", "pad_value" if value is None else "value"


def pad_words(function: str, pad_mode: Any, pad_value: Any, mode: Any = None, value: Any = None) -> tuple[Any, Any]:
    """``(pad_mode, pad_value)`` from the names every function uses or their aliases ``mode=`` and ``value=``
    (the command line's ``--mode`` and ``--value``); a name and its alias given together is a TypeError.

    >>> pad_words("pad2d", PAD_MODE_DEFAULT, PAD_VALUE_DEFAULT, mode="reflect")
    ('reflect', 0.0)
    >>> pad_words("pad2d", "wrap", PAD_VALUE_DEFAULT, mode="wrap")
    Traceback (most recent call last):
    ...
    TypeError: pad2d() got both pad_mode='wrap' and its alias mode='wrap'; give one of them
    """
    words = []
    for name, given, alias, alias_value, default in (("pad_mode", pad_mode, "mode", mode, PAD_MODE_DEFAULT),
                                                     ("pad_value", pad_value, "value", value, PAD_VALUE_DEFAULT)):
        if alias_value is not None and given is not default:
            raise TypeError(f"{function}() got both {name}={given!r} and its alias {alias}={alias_value!r}; give one of them")
        if alias_value is not None:
            words.append(alias_value)
        else:  # the default as a plain str or float (it is shown, pickled, compared)
            words.append(str(given) if given is PAD_MODE_DEFAULT else float(given) if given is PAD_VALUE_DEFAULT else given)
    return words[0], words[1]


#: the pooling operations whose copies and result keep the input's dtype (avg computes in float: :func:`kernelcli.api.pool2d`)
KEEPS_DTYPE = frozenset({"max", "min"})


def canonical_pool_op(op: str, name: str = "pool op") -> str:
    """Return kernelcli's name for a pooling operation; a refusal names it ``name`` (the API's ``op``).

    >>> canonical_pool_op("mean")
    'avg'
    """
    return _canonical(op, POOL_OPS, POOL_ALIASES, name)


def canonical_rescale(mode: str, name: str = "rescale mode") -> str:
    """Return a validated rescale mode name; a refusal names it ``name`` (the API's ``rescale``).

    >>> canonical_rescale("ABS")
    'abs'
    """
    return _canonical(mode, RESCALE_MODES, {}, name)


def canonical_activation(name: str | None) -> str:
    """Return kernelcli's name for an activation (None means ``"none"``).

    >>> canonical_activation("Leaky-ReLU")
    'leaky_relu'
    """
    return "none" if name is None else _canonical(name, ACTIVATIONS, ACTIVATION_ALIASES, "activation")


def canonical_combine(mode: str) -> str:
    """Return a validated ``--combine`` mode (``per_channel`` is accepted for ``per-channel``).

    >>> canonical_combine("SUM")
    'sum'
    """
    return _canonical(mode, COMBINE_MODES, {}, "combine mode")


#: the picture formats a sheet (``convolve --montage``, ``gallery --out``) is written in, PNG first
SHEET_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff")
#: the same, as the two options' help says it
SHEET_FORMATS_TEXT = f"{SHEET_SUFFIXES[0]}; {', '.join(SHEET_SUFFIXES[1:])} also work"
#: why ``--montage -`` is refused: stdout carries a command's result (``--out -``, a matrix printed), so the sheet,
#: a second output, goes to a file
MONTAGE_NOT_STDOUT = f"--montage -: a montage is written to a file, not to stdout; name a picture ({SHEET_FORMATS_TEXT})"


#: ``--compress``: the zlib level of PNG outputs encoded by Pillow.  ``fast`` is kernelcli's own
#: encoder (:mod:`kernelcli.io.png`: the Up filter, deflate level 1 by ISA-L or zlib), 5-25% larger than
#: ``default`` (6) and 15-100x faster to encode, which dominates a call on a large image.
PNG_COMPRESSION = {"none": 0, "fast": 1, "default": 6, "best": 9}
#: ``--quality``: JPEG quality (1-100) unless given; 95 keeps edges crisp (Pillow's own default is 75).
JPEG_QUALITY = 95


def canonical_compression(name: str) -> str:
    """Return a validated ``--compress`` name.

    >>> canonical_compression("Best")
    'best'
    """
    return _canonical(name, tuple(PNG_COMPRESSION), {}, "PNG compression")


def unused_fill(value: float | None, mode: str | None, default: str | None = "constant") -> str | None:
    """The note for a ``--pad-value`` that the pad mode does not use, or None.

    ``value`` as given (None: not given); ``mode`` as given (any alias; None: not given, so
    ``default``: ``constant`` for images, ``replicate`` for volumes, None where the inputs are of
    both kinds).  A 0 given is named as any other value is.  An invalid mode gives None: it is
    refused where it is read, naming the option.

    >>> unused_fill(9, "mirror"), unused_fill(9, "constant"), unused_fill(None, "reflect"), unused_fill(9, None, "replicate")
    ('--pad-value 9 is for --pad-mode constant; reflect does not use it', None, None, '--pad-value 9 is for --pad-mode constant; replicate does not use it')
    >>> unused_fill(0, "reflect")
    '--pad-value 0 is for --pad-mode constant; reflect does not use it'
    """
    try:
        canonical = canonical_volume_pad_mode(mode) if mode is not None else default
    except ValueError:
        return None
    if value is None or canonical in (None, "constant"):
        return None
    return f"--pad-value {getattr(value, 'typed', None) or repr(value)} is for --pad-mode constant; {canonical} does not use it"


def canonical_volume_pad_mode(mode: str) -> str:
    """A pad mode, or ``renormalise`` (volumes only: fslmaths' edge handling).

    >>> canonical_volume_pad_mode("FSL"), canonical_volume_pad_mode("edge")
    ('renormalise', 'replicate')
    """
    key = str(mode).strip().lower().replace("-", "_")
    if key in RENORMALISE_ALIASES:
        return RENORMALISE
    return _spelled(mode, _canonical(mode, PAD_MODES, PAD_ALIASES, "pad mode",
                                     " (or an alias such as zero, edge, mirror, wrap; volumes also renormalise)"))


def canonical_axis(axis: str) -> str:
    """Return a validated volume axis (z, y or x).

    >>> canonical_axis("Z")
    'z'
    """
    return _canonical(axis, AXES, {}, "axis", " (the volume is (Z, Y, X))")


def canonical_affine(choice: str) -> str:
    """A validated ``--affine`` value: ``sform`` or ``qform`` (any case).

    >>> canonical_affine("QForm")
    'qform'
    """
    return _canonical(choice, AFFINE_READINGS, {}, "affine")  # (Click names --affine: "invalid --affine" said it twice)
