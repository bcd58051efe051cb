"""Filter banks: several catalogue kernels applied to one image as one layer (``convolve -k A -k B``, the gallery).

A 2-D kernel on each channel alone gives :func:`kernelcli.api.conv2d`'s own map (the bytes ``convolve -k``
writes); kernels summed over the channels go through :func:`kernelcli.layers.conv_layer`, one call per size.

Example
-------
>>> import numpy as np
>>> filter_bank(np.zeros((4, 4, 3)), [np.ones((3, 3))], ["box"]).labels
['box[R]', 'box[G]', 'box[B]']
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from . import api, ndsupport
from .errors import ShapeError, UsageError
from .layers import finite_array, apply_activation, conv_layer
from .modes import canonical_combine, check_fill_reading
from .records import field, record

#: The advice for kernels whose maps differ in size, in a Python caller's words and the command line's
SAME_PADDING_ARGUMENT, SAME_PADDING_OPTION = "padding='same'", "--padding same"


class MapSizesDiffer(ShapeError):
    """Kernels of different sizes gave maps of different sizes; the message ends with the advice in a Python caller's
    words (:data:`SAME_PADDING_ARGUMENT`), which :meth:`worded` changes for a command line's caller.  One argument, the
    message, as every error's: a job's runner rebuilds it with the file named in front.

    >>> str(MapSizesDiffer.listing("a 3x3, b 5x5").worded(SAME_PADDING_OPTION))
    'kernels of different sizes give maps of different sizes: a 3x3, b 5x5; use --padding same'
    """

    @classmethod
    def listing(cls, listed: str) -> MapSizesDiffer:
        """The refusal naming each kernel's map size (``listed``)."""
        return cls(f"kernels of different sizes give maps of different sizes: {listed}; use {SAME_PADDING_ARGUMENT}")

    def worded(self, allow: str) -> MapSizesDiffer:
        """The same refusal, advising ``allow``."""
        text = str(self)
        return MapSizesDiffer(text.removesuffix(SAME_PADDING_ARGUMENT) + allow if text.endswith(SAME_PADDING_ARGUMENT) else text)


@record
class BankResult:
    """Feature maps of a filter bank, and which maps belong to which kernel."""

    maps: np.ndarray  # (H', W', M)
    labels: list[str]  # one per map
    names: list[str]  # one per kernel
    spans: list[tuple[int, int]]  # kernel i owns maps[..., start:stop]
    combine: list[str] = field(default_factory=list)  # per kernel: "per-channel" or "sum"


def channel_names(channels: int, colour: bool = True) -> list[str]:
    """Short names for a label: R, G, B for three channels (``colour``: not for three slices of a volume), else
    0, 1, 2, ...

    >>> channel_names(3), channel_names(2), channel_names(3, colour=False)
    (['R', 'G', 'B'], ['0', '1'], ['0', '1', '2'])
    """
    return ["R", "G", "B"] if channels == 3 and colour else [str(c) for c in range(channels)]


def as_slices(bank: BankResult) -> BankResult:
    """``bank`` with its per-channel maps named by slice, ``[0]``, ``[1]``, ``[2]``: the planes were the slices of a
    volume read ``--layout zyx``, and three slices are not red, green and blue.

    >>> as_slices(filter_bank(np.zeros((4, 4, 3)), [np.ones((3, 3))], ["box"])).labels
    ['box[0]', 'box[1]', 'box[2]']
    """
    from .records import replace

    labels = list(bank.labels)
    for name, (start, stop) in zip(bank.names, bank.spans):
        if stop - start > 1:
            labels[start:stop] = [f"{name}[{c}]" for c in channel_names(stop - start, colour=False)]
    return replace(bank, labels=labels)


def maps_first(maps: Any, kernels: int) -> Any:
    """A zyx array's bank, ``maps`` (Y', X', K*Z) kernel by kernel, as (K, Z, Y', X'): ``[k]`` is kernel k's volume,
    PyTorch's maps-first order (as ``--layout chw`` writes (C, H', W')), where (K*Z, Y', X') read as a taller volume.

    >>> maps_first(np.arange(12).reshape(1, 2, 6), 2)[1, 2].tolist()
    [[5, 11]]
    """
    rows, cols, planes = maps.shape
    return maps.transpose(2, 0, 1).reshape(kernels, planes // kernels, rows, cols)


def volumes_note(name: str, shape: tuple[int, ...]) -> str:
    """The note of a zyx bank's .npy ``name``: its axes, maps first.

    >>> print(volumes_note("b.npy", (2, 3, 7, 8)))
    b.npy: the 2 maps of the 3-slice volume are written maps first, (maps, Z, Y, X) 2x3x7x8: [k] is kernel k's volume
    """
    return (f"{name}: the {shape[0]} maps of the {shape[1]}-slice volume are written maps first, (maps, Z, Y, X) "
            f"{'x'.join(map(str, shape))}: [k] is kernel k's volume")


def filter_bank(
    x: Any,
    kernels: Iterable[Any],
    names: Sequence[str] | None = None,
    *,
    combine: str = "per-channel",
    bias: Any = None,
    activation: str | None = None,
    stride: int | Sequence[int] = 1,
    padding: str | int | Sequence[int] = "same",
    pad_mode: str = "constant",
    pad_value: float = 0.0,
    dilation: int | Sequence[int] = 1,
    flip: bool = False,
    paths: Any = None,
) -> BankResult:
    """Apply several kernels to one image as one layer: one map per kernel (and channel).

    Parameters
    ----------
    x : array_like
        (H, W) or (H, W, C) channels-last.
    kernels : sequence (or iterable) of array_like or Kernel
        Each a 2-D (f, f) matrix or a 3-D (C, f, f) filter; sizes may differ (their maps may not:
        ShapeError advising ``padding='same'``).
    names : sequence of str, optional
        Labels for the kernels (default: a catalogue Kernel's name, else k0, k1, ...).
    combine : {"per-channel", "sum"}
        For 2-D kernels on a C-channel image: "per-channel" gives C maps per kernel, each
        :func:`kernelcli.api.conv2d`'s own (its bytes, then the bias and activation), as on a
        one-channel image; "sum" applies the same 2-D kernel to every channel and sums them
        into one map (the layer semantics, :func:`conv_layer`'s numbers).  A 3-D kernel always
        sums, and its depth must equal C.
    bias : float or sequence of float, optional
        One value for all kernels or one per kernel, added before the activation.
    activation, stride, padding, pad_mode, pad_value, dilation
        As :func:`conv_layer`; ``padding`` defaults to "same", as :func:`api.conv2d`.
    flip : bool
        True convolution: every kernel rotated 180 degrees in its two spatial axes; a (C, f, f) filter's
        channels keep their order, as PyTorch's conv_transpose flips (:func:`kernelcli.volumes.conv3d`
        flips a volume's 3-D kernel along z too, as scipy.ndimage.convolve).
    paths : "warm", "cold" or Paths, optional
        The path policy, as :func:`conv_layer`.

    Returns
    -------
    BankResult
        ``maps`` (H', W', M), kernel-major: with "per-channel", kernel i's maps for
        channels 0..C-1 are ``maps[..., spans[i][0]:spans[i][1]]``.  Kernels of different
        sizes must give maps of one size (they do with "same" padding).

    >>> r = filter_bank(np.eye(3), [[[1, -1]], [[-1], [1]]], names=["dx", "dy"])
    >>> r.maps.shape, r.labels
    ((3, 3, 2), ['dx', 'dy'])
    """
    from .numtext import counted

    arr = api.as_image_array(x)
    channels = 1 if arr.ndim == 2 else arr.shape[2]
    combine = canonical_combine(combine)
    check_fill_reading(pad_mode, pad_value, "filter_bank")  # (conv2d's or conv_layer's name was the refusal's)
    kernels = _sequence(kernels)
    if len(kernels) == 0:
        raise UsageError("filter bank: no kernels given")
    labels_in = list(names) if names is not None else [getattr(k, "name", f"k{i}") for i, k in enumerate(kernels)]
    if len(labels_in) != len(kernels):
        raise UsageError(f"filter bank: {counted(len(labels_in), 'name')} for {counted(len(kernels), 'kernel')}")
    arrays = [_kernel_array(k, name, channels) for k, name in zip(kernels, labels_in)]
    if ndsupport.check_flip(flip):
        arrays = [a[..., ::-1, ::-1] for a in arrays]
    b = np.zeros(len(arrays)) if bias is None else _bias_list(bias, labels_in)

    kinds = ["sum" if a.ndim == 3 or combine == "sum" or channels == 1 else "per-channel" for a in arrays]
    starts = np.cumsum([0] + [channels if kind == "per-channel" else 1 for kind in kinds]).tolist()
    found: dict[int, tuple[int, int]] = {}  # each kernel's map size
    held: list[np.ndarray] = []  # the bank, made at the first map: each map is put in place and dropped

    def place(i: int, maps: np.ndarray) -> None:  # (concatenating at the end held the bank twice over)
        found[i] = maps.shape[:2]
        if not held:
            held.append(np.empty((*maps.shape[:2], starts[-1]), dtype=maps.dtype))
        if maps.shape[:2] == held[0].shape[:2]:  # (another size is refused below, naming every kernel's)
            held[0][..., starts[i] : starts[i + 1]] = maps

    geometry = {"stride": stride, "padding": padding, "pad_mode": pad_mode, "pad_value": pad_value, "dilation": dilation,
                "paths": paths}
    # A 2-D kernel on each channel alone is conv2d's own map, the bytes `convolve -k` writes (the layer rounds
    # its taps otherwise: see conv_layer); kernels summed over channels go by (size) into one conv_layer call.
    summed: dict[tuple[int, int], list[int]] = {}
    for i, a in enumerate(arrays):
        if a.ndim == 3 or kinds[i] == "sum" and channels > 1:
            summed.setdefault(a.shape[-2:], []).append(i)
            continue
        maps = api.conv2d(arr, a, **geometry)
        maps = maps.reshape(maps.shape[0], maps.shape[1], -1)
        if bias is not None:
            maps += maps.dtype.type(b[i])
        place(i, apply_activation(maps, activation))
        del maps
    for (kh, kw), members in summed.items():
        w = np.stack([np.broadcast_to(arrays[i], (channels, kh, kw)) for i in members])
        maps = conv_layer(arr, w, b[members], groups=1, activation=activation, **geometry)
        for pos, i in enumerate(members):
            place(i, maps[..., pos : pos + 1])
        del maps
    if len(set(found.values())) > 1:
        listed = ", ".join(f"{labels_in[i]} {found[i][0]}x{found[i][1]}" for i in range(len(arrays)))
        raise MapSizesDiffer.listing(listed)
    labels: list[str] = []
    spans: list[tuple[int, int]] = []
    for i in range(len(arrays)):
        if starts[i + 1] - starts[i] == 1:
            labels.append(labels_in[i])
        else:
            labels.extend(f"{labels_in[i]}[{c}]" for c in channel_names(starts[i + 1] - starts[i]))
        spans.append((starts[i], starts[i + 1]))
    return BankResult(maps=held[0], labels=labels, names=labels_in, spans=spans, combine=kinds)


def _sequence(kernels: Any) -> Sequence[Any]:
    """``kernels`` as a sequence: a generator's as a list (its ``len`` was Python's TypeError), anything that is no
    collection refused (UsageError).

    >>> len(_sequence(k for k in ([[1]], [[2]])))
    2
    """
    if isinstance(kernels, (str, bytes, dict)) or not isinstance(kernels, Iterable):
        raise UsageError(f"kernels: expected a sequence of kernels (2-D or 3-D arrays), got {type(kernels).__name__}")
    return kernels if isinstance(kernels, (Sequence, np.ndarray)) else list(kernels)


def _bias_list(bias: Any, names: Sequence[str]) -> np.ndarray:
    b = finite_array(bias, "bias").ravel()
    if b.size == 1:
        return np.full(len(names), float(b[0]))
    if b.size != len(names):
        from .numtext import counted

        raise UsageError(f"bias: {counted(b.size, 'value')} for {counted(len(names), 'kernel')}; give one value, or one per kernel")
    return b


def _kernel_array(kernel: Any, name: str, channels: int) -> np.ndarray:
    """A kernel as a 2-D (f, f) or 3-D (C, f, f) float64 array whose depth fits the input."""
    if callable(getattr(kernel, "refused_as_layer", None)):  # a file's (z, y, x) taps: as a (C, f, f) filter its z
        raise kernel.refused_as_layer()  # taps would be the channels, summed (kernelcli.kernel_shown.ZyxKernel)
    if hasattr(kernel, "array") and callable(kernel.array):
        kernel = kernel.array()
    k = finite_array(kernel, f"kernel {name}")
    if k.ndim not in (2, 3) or k.size == 0:
        raise ShapeError(f"kernel {name}: expected a 2-D (f, f) matrix or a 3-D (C, f, f) filter, got shape {k.shape}")
    if k.ndim == 3 and k.shape[0] != channels:
        from .numtext import counted

        raise ShapeError(
            f"kernel {name} is 3-D with depth {k.shape[0]} ({'x'.join(map(str, k.shape))}), "
            f"but the input has {counted(channels, 'channel')}: a 3-D kernel's depth must equal the channels"
        )
    return k
