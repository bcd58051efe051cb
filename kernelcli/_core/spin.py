"""A short wait on a shared counter that holds neither the GIL nor a core for long.

The thread hand-off (:mod:`.threads`) wakes a helper thread per job; a helper asleep in the
kernel takes tens of microseconds to wake (an idle vCPU), the time of a 256x256 7x7.  Right after
a job a helper waits here instead, for a bounded number of polls, outside the GIL: a job that
follows soon (a loop of calls) finds it awake.  The counter is read with an atomic load, so the
compiler cannot hoist it out of the loop, and each poll pauses the core (``pause`` on x86,
``yield`` on ARM) so that a sibling hyper-thread runs meanwhile, then gives the core to any
other runnable thread (``sched_yield(2)``, POSIX: see ``_sched_yield``).  The bound is a number
of polls (:func:`.threads.prepare` measures how many last its time on an idle core): on a busy
host each yield may last longer, but a poll then mostly lets other threads run.  A helper that
did a job's last task says so from here too (:func:`store_then_poll`), outside the GIL.

Example
-------
>>> import numpy as np
>>> flag = np.zeros(1, dtype=np.int64)
>>> bool(while_equal(flag, 0, 10))  # still 0 after 10 polls
False
>>> flag[0] = 1
>>> bool(while_equal(flag, 0, 10))
True
"""

from __future__ import annotations

import platform

from llvmlite import ir
from numba import types
from numba.extending import intrinsic

from .jit import njit

_MACHINE = platform.machine().lower()
#: the LLVM intrinsic of the core's spin-wait hint and its arguments (inline assembly cannot be
#: emitted by Numba's LLVM)
_PAUSE = (
    ("llvm.x86.sse2.pause", ()) if _MACHINE in ("x86_64", "amd64", "i386", "i686")
    else ("llvm.aarch64.hint", (1,)) if _MACHINE in ("aarch64", "arm64")
    else None
)


@intrinsic
def _load(typingctx, a):
    """``a[0]`` of a contiguous int64 array, read with an acquire load (never hoisted from a loop)."""
    if not (isinstance(a, types.Array) and a.dtype == types.int64):
        return None

    def codegen(context, builder, signature, args):
        ary = context.make_array(signature.args[0])(context, builder, args[0])
        return builder.load_atomic(ary.data, "acquire", 8)

    return types.int64(a), codegen


@intrinsic
def _store_one(typingctx, a):
    """``a[0] = 1`` for a contiguous int64 array, as a release store (seen by :func:`_load` in other threads)."""
    if not (isinstance(a, types.Array) and a.dtype == types.int64):
        return None

    def codegen(context, builder, signature, args):
        ary = context.make_array(signature.args[0])(context, builder, args[0])
        builder.store_atomic(context.get_constant(types.int64, 1), ary.data, "release", 8)
        return context.get_dummy_value()

    return types.none(a), codegen


def _declare(module, name, fnty):
    try:
        return module.get_global(name)
    except KeyError:
        return ir.Function(module, fnty, name)


@intrinsic
def _pause(typingctx):
    """The core's spin-wait hint (nothing on other machines)."""

    def codegen(context, builder, signature, args):
        if _PAUSE is not None:
            name, hint = _PAUSE
            i32 = ir.IntType(32)
            fnty = ir.FunctionType(ir.VoidType(), [i32] * len(hint))
            fn = _declare(builder.module, name, fnty)
            builder.call(fn, [ir.Constant(i32, h) for h in hint])
        return context.get_dummy_value()

    return types.none(), codegen


#: ``sched_yield(2)``: between polls the thread gives its core to any other runnable thread.
#: A pause alone kept it: the thread a helper wakes (the caller, waiting for the GIL the helper
#: released) was queued on the helper's core and waited the whole poll (150 us a job, measured).
_sched_yield = types.ExternalFunction("sched_yield", types.int32())


@njit(nogil=True, cache=True)
def while_equal(flag, value, polls):
    """Poll ``flag[0]`` until it differs from ``value`` (True) or ``polls`` polls pass (False)."""
    for _ in range(polls):
        if _load(flag) != value:
            return True
        _pause()
        _sched_yield()
    return _load(flag) != value


@njit(nogil=True, cache=True)
def store_then_poll(done, flag, value, polls):
    """``done[0] = 1`` where ``done`` has an element, then :func:`while_equal` ``(flag, value, polls)``.

    A helper thread of :mod:`.threads` that did a job's last task reports it here, outside the
    GIL, on its way back to polling: the caller, polling ``done`` itself, then finds the GIL free.
    Reported before, while the helper still held the GIL, the caller waited for it asleep (40-50 us
    to wake on an idle vCPU).
    """
    if done.shape[0] > 0:
        _store_one(done)
    return while_equal(flag, value, polls)
