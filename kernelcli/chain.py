"""Chains: several operations in one call, in order, with the intermediates kept in float.

``kernelcli convolve IN -k gaussian:2 --then sobel_v --then maxpool:2 -o OUT`` blurs, then
finds edges, then max-pools, without temporary files.  The first step is the ``--kernel``;
each ``--then`` adds one step:

* a 2-D kernel, in any form ``--kernel`` takes (name, file, ``gaussian:S``, inline matrix):
  convolved with the same ``--stride``, ``--padding``, ``--pad-mode``, ``--pad-value``,
  ``--dilation``, ``--flip`` and ``--kernel-scale`` as the first;
* ``maxpool:F``, ``minpool:F`` or ``avgpool:F`` (``:S`` for a stride other than F): pooling
  as ``kernelcli pool --size F --stride S`` (in 3-D on a (Z, Y, X) array, ``--layout zyx``, as
  ``pool`` does; a kernel then filters every slice, as ``convolve`` does).

Repeated ``--kernel`` stays what it was, a filter bank (several maps side by side); a
chain applies one operation to the result of the previous one.  Each step computes what
the separate command would (float32, or float64 for float64 and 16-, 32- and 64-bit integer inputs) and the
next step takes that float array, so a chain equals the separate calls through ``.npy``
files; only the final result is rounded and clipped for an integer output.

Example
-------
>>> import numpy as np
>>> steps = parse_chain("box:2", ["maxpool:2"])
>>> [s.label for s in steps]
['box:2', 'maxpool2']
>>> run_chain(np.arange(16.0).reshape(4, 4), steps, {"padding": "valid"}).tolist()
[[7.5]]
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable
from typing import Any, Sequence

from .errors import InvalidKernel, KernelcliError, KernelNotFound, UsageError
from .job_checks import overflow_said
from .modes import POOL_FORM, POOL_STEP as _POOL, canonical_pool_op, is_pool_step, misspelt_pool_step  # noqa: F401 (is_pool_step, POOL_FORM too)
from .result_names import pool_label
from .numtext import exact_whole, quoted
from .records import record
from .whole_numbers import below_floor, too_many_digits, whole_or_too_long


@record(frozen=True)
class Step:
    """One operation of a chain: a convolution with ``kernel``, or pooling (``op``, ``size``, ``stride``)."""

    label: str
    kernel: Any = None
    op: str | None = None
    size: int = 0
    stride: int | None = None
    typed: str = ""  # the step as given (messages quote it)


def parse_step(text: str, *, scale: Any = None, option: str = "--then") -> Step:
    """One ``--then`` (or the first ``--kernel``: ``option`` names it in errors): a pooling step, else a kernel spec.

    >>> parse_step("maxpool:3:2")
    Step(label='maxpool3s2', kernel=None, op='max', size=3, stride=2, typed='maxpool:3:2')
    >>> parse_step("MeanPool:2").label, parse_step("maxpool:+2.0").label  # pool --op's aliases; any form of a number
    ('avgpool2', 'maxpool2')
    """
    pool = _POOL.fullmatch(text.strip())
    if pool:
        problem = _pool_problem(text, pool)
        if problem is not None:
            raise KernelNotFound(f"invalid {option} {problem}")
        size = exact_whole(pool.group("size"))  # a whole number in any form: maxpool:+2 and maxpool:2.0 are maxpool:2
        stride = exact_whole(pool.group("stride")) if pool.group("stride") else None
        op = canonical_pool_op(pool.group("op"))
        label = pool_label(op, size, stride)
        return Step(label, op=op, size=size, stride=stride, typed=text.strip())
    from .catalog import load_kernel
    from .kernel_syntax import KernelTextRefused, scale_kernel

    try:  # (the kernel first, as a lone --kernel reads it: a kernel file named like a pooling step, carpool:v1.npy)
        kernel = load_kernel(text, max_ndim=3)
    except InvalidKernel as exc:
        refusal = pool_step_refusal(text, option)  # (a pooling step misspelt, in the words of every option)
        if refusal is not None:
            raise refusal from None
        if isinstance(exc, KernelTextRefused):  # (a step's inline kernel was said as --kernel's)
            raise exc.worded(option) from None
        raise
    if len(kernel.shape) != 2:  # (read as --kernel reads it, so that the refusal says what a chain takes)
        raise InvalidKernel(f"{option} {text}: a {'x'.join(map(str, kernel.shape))} kernel; a chain's steps take 2-D "
                            "kernels and pooling steps")
    return Step(kernel.name, kernel=scale_kernel(kernel, scale), typed=text.strip())


def _pool_problem(text: str, pool: re.Match) -> str | None:
    """Why the pooling step ``text`` (``pool``, its match) cannot be: ``'TEXT': why``, or None."""
    size = whole_or_too_long(pool.group("size"))
    stride = whole_or_too_long(pool.group("stride")) if pool.group("stride") else None
    for what, value in (("size", size), ("stride", stride)):  # (a stride of 1e40 was refused per input, after reading it)
        if value is not None and (said := too_many_digits([value], what, low=1)):
            return f"{quoted(text)}: {said}"
    if size is None or below_floor(size, 1) or (pool.group("stride") and (stride is None or below_floor(stride, 1))):
        return f"{quoted(text)}: the size and stride of a pooling step are whole numbers >= 1, e.g. maxpool:2 or avgpool:3:2"
    return None


def _pool_word_problem(text: str) -> str | None:
    """``'TEXT': the pooling form``, for a pooling step misspelt (:func:`kernelcli.modes.misspelt_pool_step`); else None."""
    form = misspelt_pool_step(text)
    return None if form is None else f"{quoted(text)}: {form}"


def pool_step_refusal(text: str, option: str = "--kernel") -> Exception | None:
    """The refusal of a pooling step misspelt: without its size (``maxpool``, ``avgpool2``: a kernel name not
    found) or with a size that is none (``maxpool:x``), or None: an invalid kernel (exit 3), named by ``option``, the
    same for a ``--kernel`` and a ``--then`` (a --then was a usage error, exit 2, refused before any file was looked
    for: a kernel file named like one, ``carpool:v1.npy``, that --kernel reads).

    >>> str(pool_step_refusal("avgpool2"))
    "invalid --kernel 'avgpool2': a pooling step is maxpool:F, minpool:F or avgpool:F (meanpool:F too; :S for a stride), e.g. avgpool:2"
    """
    problem = _pool_word_problem(text)
    return None if problem is None else KernelNotFound(f"invalid {option} {problem}")


def parse_chain(first: str, then: list[str], *, scale: Any = None) -> list[Step]:
    """The steps of ``--kernel FIRST --then A --then B ...``; every kernel is checked first (exit 3)."""
    return [parse_step(first, scale=scale, option="--kernel")] + [parse_step(text, scale=scale) for text in then]


def chain_label(steps: list[Step], words: Sequence[str] = ()) -> str:
    """The operation, as the summary line shows it: ``gaussian:2 | sobel_v | maxpool2``; ``words``, what the
    convolution options change (:meth:`kernelcli.jobs_common.ConvolveOptions.words`), follow each kernel step's
    name, as they follow a kernel's name outside a chain.

    >>> chain_label([parse_step("sobel_v"), parse_step("maxpool:2")], ["s2"])
    'sobel_v_s2 | maxpool2'
    """
    return " | ".join(_step_names(steps, words))


def chain_name(steps: list[Step], words: Sequence[str] = ()) -> str:
    """A chain's default output label: its steps' names as :func:`chain_label` gives them, in file-name words.

    >>> chain_name([parse_step("gaussian:2"), parse_step("maxpool:2")], ["flip"])
    'gaussian_2_flip_maxpool2'
    """
    from .io.naming import safe_stem

    return "_".join(safe_stem(name) for name in _step_names(steps, words))


def _step_names(steps: list[Step], words: Sequence[str]) -> list[str]:
    return ["_".join([step.label, *words]) if step.kernel is not None else step.label for step in steps]


def run_chain(data: Any, steps: list[Step], conv: dict[str, Any]) -> Any:
    """Apply ``steps`` to ``data`` (H, W) or (H, W, C) in order; ``conv`` holds the conv2d options.

    Every step is :func:`kernelcli.api.conv2d` or :func:`kernelcli.api.pool2d` on the
    previous step's float result.
    """
    from . import api
    from .limits import check_peak, conv_peak
    from .shapes import resolve_padding

    x = data
    for n, step in enumerate(steps):
        given = x.shape
        with step_named(steps, n, given):
            if step.kernel is not None:
                k = step.kernel.array()
                dilation = conv.get("dilation", 1)
                pads = resolve_padding(conv.get("padding", "same"), k.shape[-2], k.shape[-1], (dilation, dilation))
                check_peak(conv_peak(x.shape, k.shape[-2:], stride=conv.get("stride", 1), pads=pads, dilation=dilation),
                           f"convolve {step.kernel.name}")
                x = api.conv2d(x, k, **conv)
            else:
                check_peak(conv_peak(x.shape, (step.size, step.size), stride=step.stride or step.size), f"{step.op}pool{step.size}")
                x = api.pool2d(x, step.size, stride=step.stride, op=step.op, paths=conv.get("paths"))
        check_step_result(x, steps, n, given)
    return x


@contextlib.contextmanager
def step_named(steps: list[Step], n: int, shape: tuple[int, ...]):
    """A refusal inside a chain's step ``n`` (after the first) names the step, as typed, and the intermediate it was
    given (without it the message named the input beside the intermediate's size, as if the input were that small)."""
    try:
        yield
    except KernelcliError as exc:
        if n == 0:
            raise
        raise type(exc)(f"{_step_said(steps, n, shape)}: {exc}") from None


def _step_said(steps: list[Step], n: int, shape: tuple[int, ...]) -> str:
    if n == 0:
        return f"step 1 of {len(steps)} (--kernel {steps[0].typed or steps[0].label})"
    return (f"step {n + 1} of {len(steps)} (--then {steps[n].typed or steps[n].label}, on the "
            f"{'x'.join(map(str, shape))} result of step {n})")


def check_step_result(x: Any, steps: list[Step], n: int, shape: tuple[int, ...]) -> None:
    """Refuse (exit 2) the result ``x`` of step ``n`` of a chain, but the last (the job's check names the whole
    chain), that holds NaN or infinity: its input was finite, so the step overflowed, and it is named as that step in
    its own call's words (an avgpool's window sum, a convolution's overflow), given ``shape``; the next step refused
    it as ``x: 4 value(s) are NaN or infinite``, an argument no user typed.

    >>> import numpy as np
    >>> check_step_result(np.full((2, 2), np.inf, np.float32), parse_chain("box:1", ["avgpool:2", "sobel_v"]), 1, (4, 4))
    Traceback (most recent call last):
    ...
    kernelcli.errors.UsageError: step 2 of 3 (--then avgpool:2, on the 4x4 result of step 1): avgpool2: a window's sum overflows float32 (an average is summed in the result's dtype, as PyTorch's avg_pool2d and avg_pool3d sum it, which give inf there too; the average itself would fit); give a float64 input (.npy) or smaller input values
    """
    from .ndsupport import all_finite

    if n < len(steps) - 1 and not all_finite(x):
        raise step_overflow(steps, n, shape, x.dtype)


def step_overflow(steps: list[Step], n: int, shape: tuple[int, ...], dtype: Any, src: Any = None) -> UsageError:
    """The refusal of :func:`check_step_result`, for the tiled path too (which checks each tile of the step's result;
    ``src``, its input, words the float64 input advised: a Zarr store's)."""
    step = steps[n]
    label = step.label if step.kernel is None else f"convolve {step.kernel.name}"
    return UsageError(f"{_step_said(steps, n, shape)}: {overflow_said(label, dtype, src)}")


def run_chain_volume(data: Any, steps: list[Step], conv: dict[str, Any], cast: Callable[[Any], Any] | None = None) -> Any:
    """:func:`run_chain` on a (Z, Y, X) array (``--layout zyx``) as the separate calls take one: a kernel
    on every slice, as ``convolve`` does; a pooling step in 3-D, as ``pool`` does (F x F x F windows).
    ``cast``: what ``convolve`` makes of its input before a kernel step (a volume's dtype), applied there only, so a
    pooling step pools the voxels as ``pool`` does (a max pool of int16 stays int16: a chain cast it to float32 first).

    >>> import numpy as np
    >>> run_chain_volume(np.arange(8.0).reshape(2, 2, 2), parse_chain("maxpool:2", []), {}).tolist()
    [[[7.0]]]
    """
    import numpy as np

    from .limits import check_peak, conv_peak
    from .volumes import pool3d

    x = data
    for n, step in enumerate(steps):
        given = x.shape
        with step_named(steps, n, given):
            if step.kernel is not None:
                x = np.moveaxis(run_chain(np.moveaxis(cast(x) if cast else x, 0, -1), [step], conv), -1, 0)
            else:
                stride = step.stride or step.size
                check_peak(conv_peak(x.shape, (step.size, step.size), stride=stride), f"{step.op}pool{step.size}")
                x = pool3d(x, step.size, stride=stride, op=step.op, paths=conv.get("paths"))
        check_step_result(x, steps, n, given)
    return x


def keeps_grid(steps: list[Step], conv: dict[str, Any], *, centred: bool = False) -> bool:
    """Whether every kernel step of ``steps`` keeps each pixel where it is: stride 1, padded as 'same' pads (a
    padding of the same total split otherwise, 2,0 for a 3x3, moves the result a pixel).  ``centred``: odd sides
    too, for a recorded geometry (a volume's spacing and affine): 'same' pads an even side's extra tap after, so its
    result sits half a pixel off (an image's alpha follows it as it is).

    >>> keeps_grid(parse_chain("box:3", ["maxpool:2"]), {"padding": "valid"}), keeps_grid(parse_chain("box:3", []), {"padding": 1})
    (False, True)
    >>> keeps_grid(parse_chain("box:2", []), {}), keeps_grid(parse_chain("box:2", []), {}, centred=True)
    (True, False)
    """
    from .shapes import resolve_padding, same_padding

    stride, dilation = conv.get("stride", 1), conv.get("dilation", 1)
    for step in steps:
        if step.kernel is None:
            continue
        kh, kw = step.kernel.array().shape[-2:]
        pads = resolve_padding(conv.get("padding", "same"), kh, kw, (dilation, dilation))
        if stride != 1 or tuple(pads) != (*same_padding(kh, dilation), *same_padding(kw, dilation)):
            return False
        if centred and (kh % 2 == 0 or kw % 2 == 0):
            return False
    return True


#: what to do, where a (Z, Y, X) chain's pooling step keeps the call from the tiled path
UNTILED_ZYX_POOL = ("run the pooling as its own call (kernelcli pool --layout zyx) and the rest tile by tile (--tiled), "
                    "which the tiled path takes")


def chain_file(input_path: Any, steps: list[Step], options: Any, *, out: Any, force: bool = False) -> Any:
    """Run a chain on one input file (a :class:`kernelcli.jobs.ConvolveOptions` for the convolutions)."""
    from .jobs_common import check_plane_padding, in_volume_dtype, run_file_job

    check_plane_padding(options.padding)
    conv = {
        "stride": options.stride, "padding": options.padding, "pad_mode": options.pad_mode,
        "pad_value": options.pad_value, "dilation": options.dilation, "flip": options.flip,
        "paths": getattr(options, "paths", None),
    }
    pools = [step for step in steps if step.kernel is None]
    # an alpha follows the pooling steps; a kernel step that moves the grid (valid padding, a stride, a dilation's
    # padding short of its span) it cannot follow, and a pool after one could bring it back to the colour's size on
    # other pixels (an opaque alpha beside transparent black, with no note): then it is dropped
    if not keeps_grid(steps, conv):
        follow = lambda alpha: None  # noqa: E731
    else:
        follow = (lambda alpha: run_chain(alpha, pools, {"paths": conv["paths"]})) if pools else None
    report = run_file_job(
        input_path, f"convolve {chain_label(steps, options.words())}", lambda data: run_chain(in_volume_dtype(data, options.layout), steps, conv), out=out, force=force,
        rescale=options.rescale, max_pixels=options.max_pixels, layout=options.layout,
        encoding=getattr(options, "encoding", None),
        # a zyx array as pool takes it, where a step pools (kernels alone: every slice, as convolve does)
        # (in the volume rule's dtype, as the separate calls: float64 here made a chain 7.5e-5 off them, audit 141 #1)
        volume_compute=(lambda data: run_chain_volume(data, steps, conv, cast=lambda x: in_volume_dtype(x, "zyx"))) if pools else None,
        # an alpha is pooled by the pooling steps, as `pool` pools it; without them it is carried through
        alpha=follow,
        # (the tiled path pools a zyx array's chain in 2-D, so it refuses it: a memory refusal offered it all the same)
        untiled=UNTILED_ZYX_POOL if pools and options.layout == "zyx" else None,
    )
    report.kernel = chain_label(steps)
    return report
