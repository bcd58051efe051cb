"""Axis order of shapes and arrays: never guessed, one notation, ``--layout`` picks a reading.

A shape is written ``AxBxC`` and an array is stored (A, B, C); ``--layout`` says what the
three axes are:

=======  ======================  ==========================================
layout   axes                    who writes it so
=======  ======================  ==========================================
``hwc``  height, width, channels  Pillow, OpenCV, the lecture (``224x224x3``)
``chw``  channels, height, width  PyTorch tensors, torchvision (``3x224x224``)
``zyx``  slices, rows, columns    volumes: ``kernelcli convolve ... --out vol.npy``
=======  ======================  ==========================================

Each command has the default its users write (``hwc`` for ``shape``, ``params`` and
array files, ``chw`` for ``summary``, as torchvision), and a 3-D shape or array whose sizes do not confirm it is
refused with both readings and the flag, never computed:

* an array whose last axis is not a plausible channel count (more than
  :data:`MAX_CHANNELS`): ``(3, 224, 224)`` is not 224 channels of 3x224; nor one whose last two axes are a square
  pair (``(64, 4, 4)``, as plausibly 64 channels of 4x4);
* a shape (``shape --in``, ``summary --input``, a spec's ``"input"``) the sizes of which do not settle the command's
  default (:func:`reads_two_ways`, one rule for all three): one end a plausible channel count and the other not
  tells the reading, else a square pair of sizes (``56x56x64`` HxWxC, ``64x56x56`` CxHxW); ``64x56x48``,
  ``3x64x3`` and ``4x4x512`` (where the two cues disagree) settle nothing;
* a ``summary`` input whose channel count contradicts the network's, or both of whose readings have the network's.

Standard library only: ``shape``, ``params`` and ``summary`` import it without numpy.

Example
-------
>>> array_layout((64, 64, 3), None, "x.npy")
'hwc'
>>> array_layout((3, 224, 224), None, "x.npy")
Traceback (most recent call last):
...
kernelcli.errors.UsageError: x.npy: a 3x224x224 array reads two ways: (H, W, C) = 3x224 pixels with 224 channels, or (C, H, W) = 3 channels of 224x224 (PyTorch) or a (Z, Y, X) volume of 3 slices; give --layout hwc, --layout chw or --layout zyx
>>> hwc_dims((3, 224, 224), "chw")
(224, 224, 3)
"""

from __future__ import annotations

import os
from typing import Any

from .errors import UsageError
from .numtext import counted

#: the readings of three axes, in the order ``--layout`` lists them
LAYOUTS = ("hwc", "chw", "zyx")
#: what each layout calls its three axes
AXES = {"hwc": ("H", "W", "C"), "chw": ("C", "H", "W"), "zyx": ("Z", "Y", "X")}
#: what each layout calls the planes of its third axis in messages (a volume's kernels are per slice)
PLANE_WORDS = {"hwc": "channel", "chw": "channel", "zyx": "slice"}
#: the most channels an image plausibly has (grey, grey+alpha, RGB, RGBA)
MAX_CHANNELS = 4
#: one line for ``--help``
LAYOUT_HELP = (
    "What the three axes of a 3-D shape or array are: hwc (height, width, channels: Pillow, OpenCV), "
    "chw (channels first: PyTorch) or zyx (a volume's slices). Needed where they could be read two ways."
)


def plane_word(layout: str | None) -> str:
    """What a message calls one plane of an array read with ``layout`` (None: the default, ``hwc``).

    >>> plane_word("zyx"), plane_word("chw"), plane_word(None)
    ('slice', 'channel', 'channel')
    """
    return PLANE_WORDS[canonical_layout(layout) or "hwc"]


def canonical_layout(layout: str | None, name: str = "layout") -> str | None:
    """``layout`` lower-cased and checked; None stays None (the command's default). ``name`` is what the
    message calls it (the API's ``layout``).

    >>> canonical_layout("CHW"), canonical_layout(None)
    ('chw', None)
    """
    return _checked(layout, LAYOUTS, name=name)


def _checked(layout: str | None, choices: tuple[str, ...], why: str = "", name: str = "layout") -> str | None:
    """``layout`` lower-cased and one of ``choices`` (else a UsageError listing them, then ``why``); None stays None."""
    if layout is None:
        return None
    value = str(layout).strip().lower()
    if value not in choices:
        from .modes import not_one_of

        raise UsageError(not_one_of(name, layout, choices, why))
    return value


#: the readings of a layer's 3-D shape (``shape --in``, ``summary --input``): no volume
PLANE_LAYOUTS = ("hwc", "chw")
#: where ``--layout zyx`` is taken (a test checks it against each command's --help)
VOLUME_LAYOUT_TAKERS = ("convolve", "volume", "pool", "pad", "gallery", "learn", "params --flatten")
#: ``--help`` of ``--layout`` where it reads a layer's shape
PLANE_LAYOUT_HELP = (
    "What the three sizes of a 3-D shape are: hwc (height, width, channels: Pillow, OpenCV) or "
    "chw (channels first: PyTorch). Needed where they could be read two ways."
)


def canonical_plane_layout(layout: str | None) -> str | None:
    """:func:`canonical_layout` of a layer's shape, which is an image's: ``zyx`` is refused.

    >>> canonical_plane_layout("CHW")
    'chw'
    """
    return _checked(layout, PLANE_LAYOUTS, f" (a layer's shape; zyx, a volume's slices, is for {', '.join(VOLUME_LAYOUT_TAKERS)})")


def _x(dims: tuple[int, ...] | list[int]) -> str:
    return "x".join(map(str, dims))


def array_layout(shape: tuple[int, ...], layout: str | None, source: str, notes: list[str] | None = None,
                 channels: int | None = None, volume_too: bool = False) -> str:
    """The layout of an array file of ``shape``: the one given, else ``hwc`` when unambiguous.

    A 2-D array is (H, W) whatever the layout says, except ``zyx`` (a volume needs three
    axes); a ``hwc`` or ``chw`` it makes no difference to is said in ``notes``.  A 3-D array without
    ``layout`` is refused, naming the readings and the flag, unless its last axis holds at most
    :data:`MAX_CHANNELS` values and its first more, the middle one not as few as the last (then (H, W, C); a
    ``(64, 4, 4)`` is as plausibly 64 channels of 4x4), or, where the last is at most that, ``channels``
    (the channel count the call's weights or (C, f, f) kernels take) is that of one reading alone and picks it: (4, 4, 3)
    under (K, 3, f, f) weights, and (64, 4, 4) under (K, 4, f, f), are (H, W, C).  ``volume_too``: the call reads a (Z, Y, X) volume as well (one 3-D kernel: a 3-D correlation), so
    ``channels`` picks no reading: the one it fits and the volume are named, and the array refused.

    >>> array_layout((3, 4, 4), None, "c.npy", channels=3), array_layout((4, 4, 3), None, "c.npy", channels=3)
    ('chw', 'hwc')
    >>> array_layout((64, 4, 4), None, "d.npy", channels=4), array_layout((64, 4, 4), None, "d.npy", channels=64)
    ('hwc', 'chw')
    >>> array_layout((3, 4, 4), None, "c.npy", channels=3, volume_too=True)
    Traceback (most recent call last):
    ...
    kernelcli.errors.UsageError: c.npy: a 3x4x4 array reads two ways under a 3-D kernel of depth 3: (C, H, W) = 3 channels of 4x4 (PyTorch), summed by the kernel into one map, or a (Z, Y, X) volume of 3 slices (a 3-D correlation); give --layout chw or --layout zyx
    >>> notes = []
    >>> array_layout((4, 5), "chw", "m.npy", notes), notes
    ('hwc', ['m.npy: a 2-D input is one channel, (1, H, W) and (H, W, 1) alike: --layout chw changes nothing'])
    """
    layout = canonical_layout(layout)
    if len(shape) == 2:
        if layout == "zyx":
            raise UsageError(f"{source}: --layout zyx needs a 3-D (Z, Y, X) array; this one is 2-D, {_x(shape)}")
        if layout is not None and notes is not None:  # (hwc was silent, chw noted: either names no axis here)
            notes.append(f"{os.path.basename(source)}: a 2-D input is one channel, (1, H, W) and (H, W, 1) alike: "
                         f"--layout {layout} changes nothing")
        return "hwc"
    if layout is not None:
        return layout
    a, b, c = shape
    # (a first axis of at most 4 is as plausible a channel count: (3, 3, 3) was taken hwc; and a last axis one of a
    # square pair, (64, 4, 4), is as plausibly PyTorch's 64 channels of 4x4: sizes_reading's rule)
    if c <= MAX_CHANNELS < a and b != c:
        return "hwc"
    # the channels the weights or kernel take settle it where one reading alone has them: (4, 4, 3) and (64, 4, 4) under
    # (K, 4, f, f) weights are (H, W, C) (a 64-deep first axis as (64, 4, 3) is: no volume reading; audit 217 #2)
    if channels is not None and c <= MAX_CHANNELS and (c == channels) != (a == channels):
        fits = "hwc" if c == channels else "chw"
        if not volume_too or (fits == "hwc" and a > MAX_CHANNELS):
            return fits
        plane = (f"(H, W, C) = {a}x{b} pixels with {counted(c, 'channel')}" if fits == "hwc" else
                 f"(C, H, W) = {counted(a, 'channel')} of {b}x{c} (PyTorch)")
        raise UsageError(f"{source}: a {_x(shape)} array reads two ways under a 3-D kernel of depth {channels}: {plane}, "
                         f"summed by the kernel into one map, or a (Z, Y, X) volume of {counted(a, 'slice')} (a 3-D "
                         f"correlation); give --layout {fits} or --layout zyx")
    raise UsageError(
        f"{source}: a {_x(shape)} array reads two ways: (H, W, C) = {a}x{b} pixels with {counted(c, 'channel')}, "
        f"or (C, H, W) = {counted(a, 'channel')} of {b}x{c} (PyTorch) or a (Z, Y, X) volume of {counted(a, 'slice')}; "
        "give --layout hwc, --layout chw or --layout zyx"
    )


def input_layout(data: Any, kind: str, layout: str | None, source: str, fmt: str = "image", notes: list[str] | None = None,
                 channels: int | None = None, volume_too: bool = False) -> str:
    """The layout of a loaded input: :func:`array_layout` (which may add to ``notes``; ``channels`` and ``volume_too`` as
    there) for an array or a 2-D image; a 3-D image is always (H, W, C)."""
    if kind == "array" or data.ndim != 3:
        return array_layout(tuple(data.shape), layout, source, notes, channels, volume_too)
    layout = canonical_layout(layout)
    if layout not in (None, "hwc"):
        raise UsageError(f"{source}: a {fmt} image is stored (H, W, C); --layout {layout} is for .npy arrays")
    return "hwc"


def check_volume_layout(layout: str | None, source: str) -> None:
    """A volume file (NIfTI, DICOM) is always read (Z, Y, X): only ``zyx`` (or nothing) agrees.

    >>> check_volume_layout("zyx", "ct.nii.gz")
    """
    layout = canonical_layout(layout)
    if layout not in (None, "zyx"):
        raise UsageError(f"{source}: a volume is read (Z, Y, X) from its header; --layout {layout} is for .npy arrays")


def to_hwc(data: Any, layout: str) -> Any:
    """A view of ``data`` with channels (or slices) last: what the 2-D operations take.

    ``chw`` and ``zyx`` both move the first axis last: a volume's slices are then filtered
    one by one, like the channels of an image.
    """
    if data.ndim == 3 and layout in ("chw", "zyx"):
        return data.transpose(1, 2, 0)
    return data


def from_hwc(result: Any, layout: str) -> Any:
    """Undo :func:`to_hwc` on a result, so an array output keeps the input's axis order."""
    if result.ndim == 3 and layout in ("chw", "zyx"):
        return result.transpose(2, 0, 1)
    return result


def shape_layout(dims: tuple[int, ...], layout: str | None, option: str, *, kernel: tuple[int, ...] = (),
                 padding: tuple[int, int] = (0, 0)) -> str:
    """The layout of a 3-D ``--in`` shape for ``shape``: the one given, else ``hwc`` where the sizes settle it.

    :func:`reads_two_ways` is the rule (``summary --input`` follows it too, from ``chw``): refused without
    ``--layout`` are ``3x224x224`` and ``64x56x56`` (the sizes say CxHxW), ``64x56x48`` and ``3x4x4`` (they settle
    nothing, unless the kernel fits the HxWxC reading alone: ``3x4x2 --f 3``), and a kernel (its spans: height,
    width) that fits the padded CxHxW reading alone (``8x224x224 --f 9``, ``8x3x100 --f 1x5``).  ``padding``: the
    padding in all along the height and the width (top + bottom, left + right).

    >>> shape_layout((224, 224, 3), None, "--in"), shape_layout((56, 56, 64), None, "--in")
    ('hwc', 'hwc')
    >>> shape_layout((64, 56, 48), None, "--in")
    Traceback (most recent call last):
    ...
    kernelcli.errors.UsageError: --in 64x56x48 reads two ways: HxWxC = 64x56 with 48 channels, or CxHxW = 64 channels of 56x48; give --layout hwc or --layout chw
    """
    layout = canonical_layout(layout)
    if layout == "zyx":
        raise UsageError(f"{option}: --layout zyx is for volumes; the layer formulas here take hwc or chw")
    if len(dims) != 3 or layout is not None:
        return layout or "hwc"
    a, b, c = dims
    spans = (*kernel, *kernel)[:2] if kernel else (1, 1)
    fits = lambda h, w: spans[0] <= h + padding[0] and spans[1] <= w + padding[1]  # noqa: E731
    too_small = not fits(a, b) and fits(b, c)
    # where the sizes settle nothing (3x4x4, 64x56x48), a kernel that fits the HxWxC reading alone settles it
    kernel_settles = sizes_reading(dims) is None and not fits(b, c)
    if (reads_two_ways(dims, "hwc") and not kernel_settles) or too_small:
        why = f" (a {spans[0]}x{spans[1]} kernel does not fit {a}x{b})" if too_small else ""
        raise UsageError(
            f"{option} {_x(dims)} reads two ways: HxWxC = {a}x{b} with {counted(c, 'channel')}{why}, "
            f"or CxHxW = {counted(a, 'channel')} of {b}x{c}; give --layout hwc or --layout chw"
        )
    return "hwc"


def hwc_dims(dims: tuple[int, ...], layout: str) -> tuple[int, ...]:
    """Three sizes in ``layout`` order as (H, W, C); one or two sizes are returned as they are."""
    if len(dims) == 3 and layout == "chw":
        return (dims[1], dims[2], dims[0])
    return tuple(dims)


def layout_dims(hwc: tuple[int, ...] | list[int], layout: str) -> list[int]:
    """(H, W, C) sizes written in ``layout`` order (the inverse of :func:`hwc_dims`).

    >>> layout_dims([12, 12, 32], "chw")
    [32, 12, 12]
    """
    if len(hwc) == 3 and layout == "chw":
        return [hwc[2], hwc[0], hwc[1]]
    return list(hwc)


def sizes_reading(dims: tuple[int, ...] | list[int]) -> str | None:
    """The reading three sizes settle by themselves: ``"hwc"``, ``"chw"``, ``"either"`` (a cube) or None.

    One end a plausible channel count (at most :data:`MAX_CHANNELS`) and the other not: the small end is the channels
    (``224x224x3``, the lecture's RGB image, is HxWxC; ``3x224x224`` CxHxW), unless the small end is one of a square
    pair, which says the other reading (``4x4x512``, a deep layer's 4x4 map of 512 channels; ``512x4x4``): then nothing
    is settled.  Both ends more than that: the square pair is the map (``56x56x64`` HxWxC; ``64x56x56``, PyTorch's 64
    channels of 56x56, CxHxW); with no square pair (``64x56x48``) nothing is settled, nor where both ends are plausible
    channel counts (``3x64x3``, ``4x4x3``).  A cube (``3x3x3``, ``64x64x64``) is the same input either way.

    >>> [sizes_reading(d) for d in ((224, 224, 3), (3, 224, 224), (56, 56, 64), (64, 56, 56), (64, 56, 48), (3, 64, 3))]
    ['hwc', 'chw', 'hwc', 'chw', None, None]
    >>> sizes_reading((4, 4, 512)), sizes_reading((512, 4, 4)), sizes_reading((1, 1, 2048))
    (None, None, None)
    >>> sizes_reading((64, 64, 64))
    'either'
    """
    a, b, c = dims
    if a == b == c:
        return "either"
    if (a <= MAX_CHANNELS) != (c <= MAX_CHANNELS):
        small_end = "hwc" if c <= MAX_CHANNELS else "chw"
        # the square pair beside the small end says the other reading (4x4x512: a 4x4 map of 512 channels)
        return None if (b == c if small_end == "hwc" else a == b) else small_end
    if a <= MAX_CHANNELS:  # (and c: either could be the channels)
        return None
    return "hwc" if a == b else "chw" if b == c else None


def reads_two_ways(dims: tuple[int, ...] | list[int], default: str) -> bool:
    """True where three sizes, written with no layout to a command that reads ``default``, are refused: the one rule of
    ``shape --in`` (``hwc``), ``summary --input`` and a spec's ``"input"`` (``chw``).  The sizes never override the
    default (``3x224x224`` to ``shape`` is refused, not read CxHxW); they only confirm it (:func:`sizes_reading`).

    >>> reads_two_ways((56, 56, 64), "hwc"), reads_two_ways((56, 56, 64), "chw"), reads_two_ways((64, 56, 48), "hwc")
    (False, True, True)
    """
    return sizes_reading(dims) not in (default, "either")


def plane_readings(dims: tuple[int, ...] | list[int], channels: int | None = None) -> str | None:
    """Both readings of a network input written with no layout, where it reads two ways, else None.

    Channels first is the default, and :func:`reads_two_ways` says where the sizes do not confirm it (``224x224x3``,
    ``56x56x64``: HxWxC; ``3x64x3``, ``64x56x48``: either).  With ``channels`` (the network's), only a shape both of
    whose readings have that many channels reads two ways (a cube is one input either way).

    >>> plane_readings((224, 224, 3))
    'CxHxW = 224 channels of 224x3, or HxWxC = 224x224 with 3 channels'
    >>> plane_readings((3, 224, 224)) is None, plane_readings((3, 64, 4), channels=3) is None
    (True, True)
    """
    if len(dims) != 3:
        return None
    a, b, c = dims
    if channels is not None:
        two = a == c == channels and not a == b == c
    else:
        two = reads_two_ways(dims, "chw")
    if not two:
        return None
    return f"CxHxW = {counted(a, 'channel')} of {b}x{c}, or HxWxC = {a}x{b} with {counted(c, 'channel')}"


def network_input(dims: tuple[int, ...], layout: str | None, expected: tuple[int, ...] | None, network: str, *,
                  option: str = "--input", flag: str = "--layout ") -> tuple[int, ...]:
    """A ``summary --input`` as (C, H, W), checked against the network's own channel count.

    ``dims`` are in ``layout`` order (default ``chw``, as torchvision writes shapes);
    ``expected`` is the spec's input.  A channel count that contradicts the network is
    refused, naming both readings when the other one would fit.  ``option`` and ``flag`` name the
    value and the choice in the message (the API: ``"input_shape"``, ``"layout="``).

    >>> network_input((224, 224, 3), "hwc", (3, 224, 224), "resnet18")
    (3, 224, 224)
    >>> network_input((224, 224, 4), "hwc", (3, 224, 224), "resnet18")
    Traceback (most recent call last):
    kernelcli.errors.UsageError: --input 224x224x4: read as HxWxC it has 4 channels, but resnet18 is built for 3 (its input is 224x224x3); neither CxHxW nor HxWxC gives 3 channels
    """
    given = canonical_layout(layout, flag.strip(" ="))
    layout = given or "chw"
    if layout == "zyx":
        raise UsageError(f"{flag}zyx is for volumes; a network input is chw (CxHxW) or hwc (HxWxC)")
    if len(dims) != 3:
        return tuple(dims)
    channels = expected[0] if expected is not None and len(expected) == 3 else None
    readings = plane_readings(dims, channels) if given is None and (expected is None or channels is not None) else None
    if readings:  # 224x224x3 would be 224 channels of 224x3; 3x64x3, resnet18's 3 channels either way
        why = "the spec gives no input to tell" if channels is None else f"both have {network}'s {counted(channels, 'channel')}"
        raise UsageError(f"{option} {_x(dims)} reads two ways: {readings} ({why}); give {flag}chw or {flag}hwc")
    chw = (dims[2], dims[0], dims[1]) if layout == "hwc" else tuple(dims)
    if expected is None or len(expected) != 3 or chw[0] == expected[0]:
        return chw
    other = "hwc" if layout == "chw" else "chw"
    other_channels = dims[2] if other == "hwc" else dims[0]
    reading = f"read as {'CxHxW' if layout == 'chw' else 'HxWxC'} it has {counted(chw[0], 'channel')}"
    spec_input = _x((*expected[1:], expected[0]) if layout == "hwc" else expected)  # as the caller writes shapes
    if other_channels == expected[0]:
        raise UsageError(
            f"{option} {_x(dims)}: {reading}, but {network} takes {expected[0]} (its input is {spec_input}); "
            f"read as {'HxWxC' if other == 'hwc' else 'CxHxW'} it has {other_channels}: give {flag}{other}"
        )
    raise UsageError(
        f"{option} {_x(dims)}: {reading}, but {network} is built for {expected[0]} (its input is {spec_input}); "
        f"neither CxHxW nor HxWxC gives {counted(expected[0], 'channel')}"
    )
