"""Write, in the spare call process, the worker's pages a call would write (issue 17: warm calls).

Every call runs in a fork of the warm worker (:mod:`kernelcli.worker.server`): its memory is
shared with the worker until written, and the first write to each page costs a fault and a
4 KiB copy (a huge page is split first).  A warm ``convolve`` of a 512x512 PNG writes about
1,600 of the worker's pages, ``shape`` about 500: on a 2-vCPU Xeon, 8 of the call process's
28 ms and 2.5 of its 5.  They are much the same pages every call (reference counts, caches,
the interpreter's and click's state), so the worker finds them once, in a fork that runs
typical calls (:func:`probe`), and each spare -- forked ahead of the next call and idle until
it comes -- writes them before it waits (:func:`touch`): each page's first byte read and
written back through ``/proc/self/mem``.  The call then finds the same memory, already its
own, and the faults have run during the call before (the spare is forked as soon as the
last one has its call, unless the running calls are as many as the CPUs: always, on one CPU).

Linux only (the "exclusively mapped" bit of ``/proc/self/pagemap``, 4.2 and later); where the
files or the kernel refuse, nothing changes but the speed.  A page that is gone or read-only
by the time a spare writes it is skipped (``/proc/self/mem`` fails instead of faulting).

>>> spans = private_writable("7f00-7f10 rw-p 0 00:00 0 \\n7f10-7f20 r-xp 0 08:01 9 /lib/x.so\\n7f20-7f30 rw-s 0 00:05 3 /dev/shm/m\\n")
>>> [(hex(a), hex(b)) for a, b in spans]  # private and writable only: a shared mapping's writes would reach its file
[('0x7f00', '0x7f10')]
"""

from __future__ import annotations

import os
import select
import sys
from array import array
from bisect import bisect_right
from collections.abc import Callable

PAGE = 4096
#: /proc/self/pagemap entry bits: page present, page exclusively mapped (not shared with the worker)
PRESENT, EXCLUSIVE = 1 << 63, 1 << 56
#: seconds the worker waits for the probe's calls before it gives up on them (and kills the probe)
PROBE_SECONDS = 30.0


def private_writable(maps: str) -> list[tuple[int, int]]:
    """The private writable mappings in ``/proc/self/maps`` text: sorted (start, end) pairs."""
    found = []
    for line in maps.splitlines():
        fields = line.split(maxsplit=2)
        if len(fields) >= 2 and fields[1].startswith("rw") and fields[1][3:4] == "p":
            low, high = (int(x, 16) for x in fields[0].split("-"))
            found.append((low, high))
    return sorted(found)


def _own_spans() -> list[tuple[int, int]]:
    with open("/proc/self/maps") as f:
        return private_writable(f.read())


def exclusive_pages(spans: list[tuple[int, int]]) -> set[int]:
    """The addresses of the pages in ``spans`` that this process has to itself (written since the fork)."""
    pages: set[int] = set()
    with open("/proc/self/pagemap", "rb") as pagemap:
        for low, high in spans:
            pagemap.seek(low // PAGE * 8)
            entries = array("Q")
            entries.frombytes(pagemap.read((high - low) // PAGE * 8))
            pages.update(low + i * PAGE for i, e in enumerate(entries) if e & PRESENT and e & EXCLUSIVE)
    return pages


def probe(calls: Callable[[], None]) -> tuple[int, ...]:
    """The worker's pages that ``calls`` write, found in a fork that runs them; () where that fails.

    ``calls`` runs in the fork only (nothing it does reaches this process) and must not read stdin.
    """
    if not sys.platform.startswith("linux"):
        return ()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # never returns into the caller
        try:
            os.close(read)
            spans = _own_spans()
            before = exclusive_pages(spans)
            calls()
            written = array("Q", sorted(exclusive_pages(spans) - before))
            with os.fdopen(write, "wb") as out:
                out.write(written.tobytes())
        finally:
            os._exit(0)
    os.close(write)
    data = bytearray()
    try:
        while select.select([read], [], [], PROBE_SECONDS)[0]:
            chunk = os.read(read, 1 << 20)
            if not chunk:
                break
            data += chunk
        else:  # the calls hang: no pages
            os.kill(pid, 9)
            data.clear()
    finally:
        os.close(read)
        os.waitpid(pid, 0)
    pages = array("Q")
    pages.frombytes(bytes(data[: len(data) // 8 * 8]))
    return tuple(pages)


def touch(pages: tuple[int, ...]) -> int:
    """Write each of ``pages`` (addresses from :func:`probe`) with the byte it holds, where it is
    still privately writable here; how many were written.  Single-threaded callers only (a
    spare call process): a byte another thread changed between the read and the write would be lost."""
    if not pages:
        return 0
    try:
        spans = _own_spans()
        mem = os.open("/proc/self/mem", os.O_RDWR)
    except OSError:
        return 0
    starts = [low for low, _ in spans]
    done = 0
    try:
        for address in pages:
            i = bisect_right(starts, address) - 1
            if i < 0 or address >= spans[i][1]:
                continue
            try:
                os.pwrite(mem, os.pread(mem, 1, address), address)
                done += 1
            except OSError:
                pass
    finally:
        os.close(mem)
    return done
