"""Back the warm worker's memory with 2 MiB pages, so that forking a call's process is cheap.

Every call runs in a fork of the warm worker (:mod:`kernelcli.worker.server`).  A fork copies
one page-table entry per 4 KiB page the worker has written -- after the warm-up about 180 MiB
of numpy, Numba, LLVM's heap and the compiled core, some 45,000 entries -- and the call's
process frees them all again when it exits: together about 20 ms of CPU a call, as much as
the whole interpreter start of the client.  Collapsed into transparent huge pages
(``madvise(MADV_COLLAPSE)``, Linux 6.1 and later) the same memory takes 512 times fewer
entries.  A page the call's process writes is still copied 4 KiB at a time (the kernel
splits the huge mapping first), so a call sees the same memory as before, only sooner.

Where the kernel cannot (another system, an older kernel, huge pages switched off), nothing
changes but the speed.

>>> maps = "7f00002ff000-7f0000600000 rw-p 00000000 00:00 0 \\n7f0000600000-7f0000a00000 r--p 00000000 08:01 42 /lib/x.so\\n"
>>> [(hex(start), hex(end)) for start, end in spans(maps)]  # the anonymous one, cut to 2 MiB boundaries
[('0x7f0000400000', '0x7f0000600000')]
"""

from __future__ import annotations

import sys

#: the huge page size on x86-64 and arm64 (4 KiB base pages)
HUGE = 2 << 20
#: ``madvise`` advice values of Linux's ``<linux/mman.h>``
MADV_COLLAPSE = 25


def spans(maps: str) -> list[tuple[int, int]]:
    """The 2 MiB-aligned parts of the private anonymous writable mappings (the malloc heap and
    anonymous ``mmap``s: what a process writes) in ``/proc/self/maps`` text: (start, end) pairs."""
    found = []
    for line in maps.splitlines():
        fields = line.split()
        if len(fields) < 5 or fields[1] != "rw-p" or fields[4] != "0" or (len(fields) > 5 and fields[5] != "[heap]"):
            continue
        low, high = (int(x, 16) for x in fields[0].split("-"))
        start, end = -(-low // HUGE) * HUGE, high // HUGE * HUGE
        if end > start:
            found.append((start, end))
    return found


def collapse() -> int:
    """Collapse this process's written anonymous memory into huge pages; the bytes collapsed
    (0 where the system does not support it)."""
    if not sys.platform.startswith("linux"):
        return 0
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        madvise = libc.madvise
        madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
        with open("/proc/self/maps") as f:
            maps = f.read()
    except (OSError, AttributeError):
        return 0
    done = 0
    for start, end in spans(maps):
        if madvise(start, end - start, MADV_COLLAPSE) == 0:  # else some or none of it (EINVAL: no such advice)
            done += end - start
    return done
