"""Resource limits, checked before anything large is allocated: a small input must never
exhaust the machine.

=========================  ===============================================  ==========================
limit                      default                                          changed with
=========================  ===============================================  ==========================
memory of one operation    3/4 of the physical RAM                          ``KERNELCLI_MAX_MEMORY``
decoded image pixels       :data:`DEFAULT_MAX_PIXELS`                       ``--max-pixels``
volume voxels              :data:`DEFAULT_MAX_VOXELS`                       ``KERNELCLI_MAX_MEMORY``
=========================  ===============================================  ==========================

The estimate of an operation counts what it holds at its peak (the input, the padded
copy, the outputs and maps in the compute dtype), with Python integers, so that absurd
option values (``--padding 18446744073709551616``) give an estimate, never an overflow.
A refusal is a :class:`ResourceLimit` (exit 2) that says the estimate and the limit.
Standard library only; the environment is read here, at the edge, never by the core.

Example
-------
>>> check_peak(10 * 2**20, "pad g.png", max_bytes=2**30)
>>> check_peak(10 * 2**30, "pad g.png", max_bytes=2**30)
Traceback (most recent call last):
...
kernelcli.limits.MemoryRefused: pad g.png would need about 10.0 GiB of memory, more than the 1.0 GiB allowed (set KERNELCLI_MAX_MEMORY to change it)
"""

from __future__ import annotations

import errno
import math
import os
import re
from collections.abc import Sequence

from .errors import UsageError
from . import numtext

#: environment variable overriding the memory one operation may need
MEMORY_ENV = "KERNELCLI_MAX_MEMORY"
#: share of the physical memory one operation may need by default
MEMORY_SHARE = 0.75
#: the largest kernel side (kernel files, gaussian:/box:, learned kernels)
MAX_KERNEL_SIDE = 255
#: the largest SGD momentum (``learn --momentum``, ``LearnOptions(momentum=)``): the velocity keeps this share of
#: itself each step, so near 1 it all but never forgets a step and the loop stops far from the fit in its epochs
MAX_MOMENTUM = 0.999
#: voxels a volume may have, whatever the memory (a bomb guard read from the header)
DEFAULT_MAX_VOXELS = 2**31
#: decoded pixels an image may have without --max-pixels: about 134 million, a decompression-bomb guard
DEFAULT_MAX_PIXELS = 512 * 1024 * 1024 // 4


#: the float64 temporaries of the numpy layer's emulated fused multiply-adds, a few slices of 64 KiB
#: (:data:`kernelcli._core.fused._CHUNK` values) at a time
LAYER_SLICE_BYTES = 1 << 19


class ResourceLimit(UsageError):
    """An operation that would need more memory (or pixels, voxels, layers) than allowed."""


class OverMemory(Exception):
    """A refusal over the memory allowed, ending with the setting that changes the limit: ``KERNELCLI_MAX_MEMORY``
    unless the caller gave the limit itself (:meth:`worded`: ``read_input(max_bytes=)``).  Mixed into an error class;
    its message is whole (a caller may put the input's name before it, ``type(exc)(f"{name}: {exc}")``).

    >>> str(MemoryRefused.over("x would need 2 GiB, more than the 1 GiB allowed").worded("max_bytes="))
    'x would need 2 GiB, more than the 1 GiB allowed (set max_bytes= to change it)'
    """

    @classmethod
    def over(cls, head: str) -> OverMemory:
        """The refusal ``head``, advising ``KERNELCLI_MAX_MEMORY``."""
        return cls(f"{head} {_changed_by(MEMORY_ENV)}")

    def worded(self, setting: str) -> OverMemory:
        """The same refusal, naming ``setting`` as what changes the limit."""
        text, said = str(self), _changed_by(MEMORY_ENV)
        return type(self)(text.removesuffix(said) + _changed_by(setting)) if text.endswith(said) else self


def _changed_by(setting: str) -> str:
    return f"(set {setting} to change it)"


class MemoryRefused(OverMemory, ResourceLimit):
    """An operation refused up front as needing more memory than allowed (:func:`check_peak`)."""


#: what to do when the machine had no memory for an operation the limit let through
MEMORY_HINT = f"use a smaller input or option values, or set {MEMORY_ENV} to be refused up front"


class OutOfMemory(ResourceLimit):
    """An operation that ran out of memory anyway (a MemoryError), said as the input's error: :func:`out_of_memory`."""


def out_of_memory(name: str | None = None) -> OutOfMemory:
    """The one error of an operation that ran out of memory (a MemoryError) on the input ``name``: exit 2, as the
    limit's own refusal, in the same words on stderr, in ``--json``, ``--report`` and a batch's record.

    >>> str(out_of_memory("a.npy"))
    'a.npy: not enough memory for this operation; use a smaller input or option values, or set KERNELCLI_MAX_MEMORY to be refused up front'
    >>> out_of_memory().exit_code
    2
    """
    return OutOfMemory(f"{name + ': ' if name else ''}not enough memory for this operation; {MEMORY_HINT}")


def ran_out_of_memory(exc: BaseException) -> bool:
    """Whether ``exc`` is the system having no memory to give: a MemoryError, an OSError ENOMEM, or an extension
    module whose library could not be mapped (``ImportError: ... failed to map segment from shared object``: the
    ENOMEM of mapping it, under ``ulimit -v``), never a bug: :func:`out_of_memory` says it.

    >>> ran_out_of_memory(ImportError("/x/cmath.so: failed to map segment from shared object")), ran_out_of_memory(ImportError("no module"))
    (True, False)
    """
    if isinstance(exc, OSError):
        return exc.errno == errno.ENOMEM
    return isinstance(exc, MemoryError) or (isinstance(exc, ImportError) and "failed to map segment" in str(exc))


def parse_bytes(text: str) -> int:
    """Parse a memory size: a number as every number is typed (:mod:`kernelcli.numtext`: ``1500``, ``1e9``,
    ``.5``) with an optional binary unit, ``512K``, ``64M``, ``1.5G``, ``1T`` (``GB`` and ``GiB`` alike).

    >>> parse_bytes("2G"), parse_bytes("1500"), parse_bytes("1e3"), parse_bytes(".5K")
    (2147483648, 1500, 1000, 512)
    >>> parse_bytes("0.4")
    Traceback (most recent call last):
    ...
    kernelcli.errors.UsageError: invalid memory size '0.4': expected a whole number of bytes, at least 1 (1500, 1e9), or a number with a unit (512M, 1.5G, 4GiB)
    """
    m = _SIZE.fullmatch(str(text))
    if m:
        unit = 1024 ** " KMGT".index(m.group(2).upper() or " ")
        whole = numtext.whole(m.group(1))  # exact, however many digits (a float of 400 digits is inf)
        size = whole * unit if whole is not None else float(m.group(1)) * unit
        # (-1G and 1e400 are numbers, but no size; nor is 0.4, 0 bytes, which would refuse every operation, nor 1.5 bytes)
        if 1 <= size < float("inf") and (unit > 1 or isinstance(size, int) or size.is_integer()):
            return int(size)
    raise UsageError(f"invalid memory size {numtext.quoted(text)}: {SIZE_EXPECTED}")


#: what a memory size may be, as its error says
SIZE_EXPECTED = "expected a whole number of bytes, at least 1 (1500, 1e9), or a number with a unit (512M, 1.5G, 4GiB)"
_SIZE = re.compile(rf"\s*({numtext.DECIMAL})\s*([KMGT]?)(?:I?B)?\s*", re.IGNORECASE)


def default_max_bytes() -> int | None:
    """The memory one operation may need: ``KERNELCLI_MAX_MEMORY`` or 3/4 of the physical RAM."""
    env = os.environ.get(MEMORY_ENV, "").strip()
    if env:
        try:
            return parse_bytes(env)
        except UsageError:
            raise UsageError(f"{MEMORY_ENV}={numtext.quoted(env)}: {SIZE_EXPECTED}") from None
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") * MEMORY_SHARE)
    except (ValueError, OSError, AttributeError):
        return None


def check_machine(need: int, what: str) -> None:
    """Refuse (ResourceLimit) what needs more bytes than this machine's memory: the API's guard, where the
    command line's :func:`check_peak` applies ``KERNELCLI_MAX_MEMORY`` (numpy's allocation of it may succeed
    on an overcommitting system, and the process be killed as the pages are touched).

    >>> check_machine(2**80, "padding")
    Traceback (most recent call last):
    ...
    kernelcli.limits.ResourceLimit: padding would need about 1e+24 bytes of memory, more than this machine's ...
    """
    try:
        physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return
    if need > physical:
        raise ResourceLimit(f"{what} would need {_about(need)} of memory, more than this machine's {size_text(physical)}")


def size_text(n: float) -> str:
    """A byte count for people: ``512 bytes``, ``1.5 MiB``; absurd sizes in powers of ten.

    >>> size_text(1536), size_text(2**300)
    ('1.5 KiB', '2e+90 bytes')
    """
    if n >= 1024**6:
        return f"{float(n):.0e} bytes" if n < 1e308 else "more than 1e308 bytes"
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if n < 1024 or unit == "PiB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")


def _about(need: float) -> str:
    """An estimate of bytes as a message says it: "about 1.5 KiB", but "more than 1e308 bytes" (not "about more than").

    >>> _about(1536), _about(10**400)
    ('about 1.5 KiB', 'more than 1e308 bytes')
    """
    text = size_text(need)
    return text if text.startswith("more than") else f"about {text}"


def check_peak(need: int, what: str, *, max_bytes: int | None = None) -> None:
    """Refuse (ResourceLimit, exit 2) when ``need`` bytes exceed the memory allowed."""
    limit = default_max_bytes() if max_bytes is None else max_bytes
    if limit is not None and need > limit:
        raise MemoryRefused.over(f"{what} would need {_about(need)} of memory, more than the {size_text(limit)} allowed")


def conv_peak(shape: Sequence[int], kernel: Sequence[int], *, maps: int = 1, stride: int | Sequence[int] = 1,
              pads: Sequence[int] = (0, 0, 0, 0), dilation: int | Sequence[int] = 1, itemsize: int = 8,
              input_itemsize: int = 8) -> int:
    """Peak bytes of a 2-D convolution or pooling of an (H, W[, C]) array: the input, its
    padded copy and the output maps in the compute dtype, plus one output-sized temporary.

    >>> conv_peak((100, 100), (3, 3), pads=(1, 1, 1, 1))
    323232
    """
    h, w = int(shape[0]), int(shape[1])
    c = int(shape[2]) if len(shape) > 2 else 1
    top, bottom, left, right = (int(p) for p in pads)
    ph, pw = h + top + bottom, w + left + right
    oh, ow = _out_sizes((ph, pw), kernel, stride, dilation)
    out_channels = max(maps, 1) * (c if maps == 1 else 1)
    return h * w * c * input_itemsize + ph * pw * c * itemsize + 2 * oh * ow * out_channels * itemsize


#: copies of its least-squares system that ``learn`` holds at its peak, by method (the windows gathered, the groups'
#: arrangement, the bias's column, LAPACK's copy and workspace; gd's centred, preconditioned and normalised copies):
#: measured with tracemalloc at 3.9-4.6 for lstsq and 4.9-6.7 for gd (per-channel, sum and shared, with and without a
#: bias, the input included); the peak resident memory of the data, the jitted core's load aside, at 1.4-3.6 and 4.0-4.3
LEARN_SYSTEM_COPIES = {"lstsq": 5, "gd": 7}


def learn_peak(windows: int, per_window: int, max_values: int, method: str) -> int:
    """Peak bytes of ``learn``'s equation system beside its input: ``windows`` windows of ``per_window`` values
    (channels x kh x kw) each, at most ``max_values`` values kept (a random subset of the windows past it), in float64,
    held :data:`LEARN_SYSTEM_COPIES` times by ``method``.

    >>> learn_peak(1200 * 1200, 9, 8_000_000, "lstsq") == 5 * 888_888 * 9 * 8
    True
    """
    kept = min(int(windows), max(1, int(max_values) // max(1, int(per_window))))
    return LEARN_SYSTEM_COPIES.get(method, max(LEARN_SYSTEM_COPIES.values())) * kept * int(per_window) * 8


def layer_peak(shape: Sequence[int], kernel: Sequence[int], *, filters: int = 1, stride: int | Sequence[int] = 1,
               pads: Sequence[int] = (0, 0, 0, 0), dilation: int | Sequence[int] = 1, itemsize: int = 8,
               input_itemsize: int = 8) -> int:
    """Peak bytes of a convolution layer (:func:`kernelcli.layers.conv_layer`) on an (H, W[, C]) array: the input;
    the padded rows and columns its windows read (:func:`kernelcli.shapes.read_span`), gathered in the input's
    dtype and then held at 16 bytes a value (the numpy layer's copy in the compute dtype and its channel planes,
    in float64 where it emulates fused multiply-adds) and that emulation's float64 slices; and three outputs of
    ``filters`` maps (the sums, the result channels-last, an activation's copy).

    >>> layer_peak((100, 100, 3), (3, 3), stride=2**62) == layer_peak((100, 100, 3), (3, 3), stride=100)
    True
    """
    from .shapes import read_span

    h, w = int(shape[0]), int(shape[1])
    c = int(shape[2]) if len(shape) > 2 else 1
    top, bottom, left, right = (int(p) for p in pads)
    oh, ow = _out_sizes((h + top + bottom, w + left + right), kernel, stride, dilation)
    if not (oh and ow):
        return h * w * c * input_itemsize  # (refused before anything is built: the kernel does not fit)
    (sh, sw), (dh, dw) = _pair(stride), _pair(dilation)
    rows = read_span(oh, int(kernel[0]), stride=sh, dilation=dh)[0]
    cols = read_span(ow, int(kernel[1]), stride=sw, dilation=dw, whole_strides=True)[0]
    return (h * w * c * input_itemsize + rows * cols * c * (input_itemsize + 16) + LAYER_SLICE_BYTES
            + 3 * oh * ow * max(filters, 1) * itemsize)


def _out_sizes(padded: tuple[int, int], kernel: Sequence[int], stride: int | Sequence[int],
               dilation: int | Sequence[int]) -> tuple[int, int]:
    """The output's (H', W') from the padded input's, 0 where the kernel does not fit."""
    (sh, sw), (dh, dw) = _pair(stride), _pair(dilation)
    return (max(0, (padded[0] - dh * (int(kernel[0]) - 1) - 1) // max(sh, 1) + 1),
            max(0, (padded[1] - dw * (int(kernel[1]) - 1) - 1) // max(sw, 1) + 1))


def pad_peak(shape: Sequence[int], pads: Sequence[int], itemsize: int) -> int:
    """Peak bytes of padding an (H, W[, C]) array: the input, the padded result and the
    copy an image encoder makes of it.

    >>> pad_peak((10, 10), (1, 1, 1, 1), 1)
    388
    """
    h, w = int(shape[0]), int(shape[1])
    c = int(shape[2]) if len(shape) > 2 else 1
    top, bottom, left, right = (int(p) for p in pads)
    return h * w * c * itemsize + 2 * (h + top + bottom) * (w + left + right) * c * itemsize


def check_voxels(label: str, shape: Sequence[int], itemsize: int, *, compute_itemsize: int = 4,
                 max_bytes: int | None = None, max_voxels: int = DEFAULT_MAX_VOXELS) -> None:
    """Refuse a volume from its header, before decompressing: more voxels than
    ``max_voxels``, or more memory than allowed for the stored data plus an input, a padded
    copy and an output in the compute dtype.

    >>> check_voxels("big.nii.gz", (1024, 1024, 400), 4, max_bytes=512 * 2**20)
    Traceback (most recent call last):
    ...
    kernelcli.limits.MemoryRefused: big.nii.gz: 1024x1024x400 voxels would need about 6.2 GiB of memory, more than the 512.0 MiB allowed (set KERNELCLI_MAX_MEMORY to change it)
    """
    voxels = math.prod(int(n) for n in shape)
    dims = "x".join(map(str, shape))
    if voxels > max_voxels:
        raise ResourceLimit(f"{label}: {dims} = {voxels} voxels is more than the limit of {max_voxels} (a bomb guard)")
    check_peak(voxels * (itemsize + 3 * compute_itemsize), f"{label}: {dims} voxels", max_bytes=max_bytes)


def _pair(value: int | Sequence[int]) -> tuple[int, int]:
    if isinstance(value, int):
        return int(value), int(value)
    a, b = value
    return int(a), int(b)
