"""A result's name: the words a convolution's, a padding's, a pooling's or a volume filter's options add to the
kernel's name, in records and default output names, so that two results that differ are named apart and one result
is named one way (the vocabularies they are made of: :mod:`kernelcli.modes`).

Pure Python (no numpy), as :mod:`kernelcli.modes`.

Example
-------
>>> conv_label("sobel_v", stride=2, pad_mode="reflect"), pool_label("avg", 3, 2)
('sobel_v_s2_reflect', 'avgpool3s2')
"""

from __future__ import annotations

from typing import Any

from .modes import canonical_pad_mode, canonical_padding, exact_text, exclude_pad_matters, pads_nothing


def pool_label(op: str, size: int, stride: int | None = None, padding: int = 0, ceil: bool = False,
               exclude_pad: bool = False) -> str:
    """A pooling's name in records and default output names: the op and size, then what differs from the
    defaults (a stride other than the size, padding, ``ceil`` and ``exclude_pad`` where it changes the result: an
    average over padding), so that two poolings that give other results are named apart (``pool -f 2 -s 1`` and
    ``pool -f 2`` were both ``maxpool2``), and two that give the same are not (``maxpool2_exclude_pad``). ``ceil``
    is named whenever given: whether it adds a window depends on each input's size, and one batch keeps one name.

    >>> pool_label("max", 2), pool_label("max", 2, 1), pool_label("avg", 3, 2, 1, ceil=True, exclude_pad=True)
    ('maxpool2', 'maxpool2s1', 'avgpool3s2p1_ceil_exclude_pad')
    >>> pool_label("max", 2, padding=1, exclude_pad=True), pool_label("avg", 2, exclude_pad=True)
    ('maxpool2p1', 'avgpool2')
    """
    exclude_pad = exclude_pad and exclude_pad_matters(op, padding)
    label = f"{op}pool{size}" + (f"s{stride}" if stride is not None and stride != size else "")
    return label + (f"p{padding}" if padding else "") + ("_ceil" if ceil else "") + ("_exclude_pad" if exclude_pad else "")


#: how a --kernel-scale's signs are spelled in a name (a file name keeps letters, digits, '.', '-' and '_')
_SCALE_SIGNS = {"%": "pc", "!": "bang", "^": "caret"}


def conv_words(stride: Any = 1, padding: Any = "same", dilation: Any = 1, pad_mode: str = "constant",
               pad_value: float = 0.0, flip: bool = False, kernel_scale: str | None = None, *, nothing: str = "valid") -> list[str]:
    """What a convolution's options change from the defaults, as words of its name (:func:`conv_label`): a stride
    ``s2``, a dilation ``d2``, a padding (``valid``, ``p1``, ``p1-1-2-2``), a border that is not the constant 0
    (``reflect``, ``fill255``: only where something is padded), ``flip`` and a ``--kernel-scale`` (``scale0.5``).
    A padding has one name however it is spelt (audit 132 #2: ``-p 1`` and ``-p 1,1,1,1`` wrote two files of the same
    bytes): equal widths are one, and no border at all is ``nothing`` (``valid``; ``pad``'s ``p0``).

    >>> conv_words(), conv_words(2, "valid", pad_mode="reflect", flip=True), conv_words(padding=(1, 1, 2, 2), pad_value=-1.5)
    ([], ['s2', 'valid', 'flip'], ['p1-1-2-2', 'fill-1.5'])
    >>> conv_words(padding=(1, 1, 1, 1)), conv_words(padding=(0, 0, 0, 0)), conv_words(padding=0)
    (['p1'], ['valid'], ['valid'])
    >>> conv_words(padding=(2, 2, 1, 1, 1, 1)), conv_words(padding=(2, 1, 1))
    (['p2-1-1'], ['p2-1-1'])
    """
    words = [f"s{stride}"] if stride != 1 else []
    words += [f"d{dilation}"] if dilation != 1 else []
    pads = not pads_nothing(padding)
    named = canonical_padding(padding, nothing)
    if named != "same":
        words.append(named if isinstance(named, str) else f"p{'-'.join(map(str, named)) if isinstance(named, tuple) else named}")
    if pads and pad_mode != "constant":
        words.append(pad_mode)
    elif pads and pad_value != 0:
        words.append(f"fill{exact_text(pad_value)}")
    words += ["flip"] if flip else []
    if kernel_scale is not None:
        words.append("scale" + "".join(_SCALE_SIGNS.get(c, c) for c in kernel_scale.strip()))
    return words


def pad_label(widths: Any, pad_mode: str = "constant", pad_value: Any = 0.0) -> str:
    """A padding's name in records and default output names (``pad``): its widths, then a border that is not the
    constant 0, in :func:`conv_words`' words (``pad -p 1`` and ``pad -p 3 --pad-value 255`` were both ``pad_constant``).

    >>> pad_label(1), pad_label(3, "constant", 255), pad_label((0, 0, 2, 1), "edge"), pad_label((2, 2, 2, 2)), pad_label(0)
    ('pad_p1', 'pad_p3_fill255', 'pad_p0-0-2-1_replicate', 'pad_p2', 'pad_p0')
    """
    return "_".join(["pad", *conv_words(padding=widths, pad_mode=canonical_pad_mode(pad_mode), pad_value=pad_value, nothing="p0")])


def volume_words(pad_mode: str = "replicate", pad_value: float = 0.0, flip: bool = False, axis: str | None = None,
                 truncate: float | None = None, mask: bool = False, volume: int | None = None,
                 resample_slices: bool = False) -> list[str]:
    """What a volume filter's options change from a volume's defaults (a replicate border), as words of its name,
    the way :func:`conv_words` names an image's: a border (``fill0``, ``fill-1000``, ``reflect``, ``renormalise``),
    ``flip``, the axis a kernel is applied across or leaves alone (``axisy``), a Gaussian's cut (``truncate4``),
    ``mask``, the volume of a 4-D input (``vol2``) and ``resampled`` slices.

    >>> volume_words(), volume_words("constant", -1000.0, flip=True), volume_words("reflect", axis="y", truncate=4.0)
    ([], ['fill-1000', 'flip'], ['reflect', 'axisy', 'truncate4'])
    """
    words = [f"fill{exact_text(pad_value)}"] if pad_mode == "constant" else [pad_mode] if pad_mode != "replicate" else []
    words += ["flip"] if flip else []
    words += [f"axis{axis}"] if axis is not None else []
    words += [f"truncate{exact_text(float(truncate))}"] if truncate is not None else []
    words += ["mask"] if mask else []
    words += [f"vol{volume}"] if volume is not None else []
    return words + (["resampled"] if resample_slices else [])


def conv_label(name: str, **options: Any) -> str:
    """A convolution's name in records and default output names: the kernel's name, then what differs from the
    defaults (:func:`conv_words`), as :func:`pool_label` names a pooling; with every default, the name alone.

    >>> conv_label("sobel_v"), conv_label("sobel_v", stride=2), conv_label("sobel_v", dilation=2, flip=True)
    ('sobel_v', 'sobel_v_s2', 'sobel_v_d2_flip')
    """
    return "_".join([name, *conv_words(**options)])
