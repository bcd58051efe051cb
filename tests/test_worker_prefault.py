"""The spare call process writes ahead the worker's pages a call would write
(:mod:`kernelcli.worker.prefault`): which pages the probe finds, that writing them keeps every
byte, and that a page gone since is skipped.  Each check runs in a process of its own: the
forks stay out of pytest's."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from kernelcli.worker import prefault

REPO = Path(__file__).resolve().parents[1]

linux_only = pytest.mark.skipif(
    not sys.platform.startswith("linux") or not Path("/proc/self/pagemap").exists(), reason="Linux's /proc/self/pagemap")


def _run(script: str) -> str:
    r = subprocess.run([sys.executable, "-c", script], check=False, capture_output=True, text=True, timeout=120, cwd=REPO)
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_only_private_writable_mappings_are_candidates():
    maps = (
        "55d0a1e00000-55d0a2200000 rw-p 00000000 00:00 0                          [heap]\n"
        "7f0000800000-7f0000a00000 r--p 00000000 00:00 0 \n"  # read-only
        "7f0000a00000-7f0000a01000 rw-p 00001000 08:01 77 /usr/lib/libx.so\n"  # a library's data: private, copied on write
        "7f0002000000-7f0002400000 rw-s 00000000 00:01 9 /dev/shm/x\n"  # shared: a write would reach the file
        "7f0000100000-7f0000700000 rwxp 00000000 00:00 0 \n"  # JIT code pages, writable
    )
    assert prefault.private_writable(maps) == [
        (0x55D0A1E00000, 0x55D0A2200000), (0x7F0000100000, 0x7F0000700000), (0x7F0000A00000, 0x7F0000A01000)]


@linux_only
def test_the_probe_finds_the_pages_the_calls_write_and_no_others():
    out = _run(
        "import mmap\n"
        "from kernelcli.worker import prefault\n"
        "written = mmap.mmap(-1, 16 * 4096, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)\n"
        "left = mmap.mmap(-1, 16 * 4096, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)\n"
        "written.write(b'a' * len(written)); left.write(b'b' * len(left))  # resident before the fork\n"
        "import ctypes\n"
        "base = ctypes.addressof(ctypes.c_char.from_buffer(written)); other = ctypes.addressof(ctypes.c_char.from_buffer(left))\n"
        "def calls():\n"
        "    for page in (2, 3, 9):\n"
        "        written[page * 4096 + 100] = 0x7A\n"
        "pages = set(prefault.probe(calls))\n"
        "print(sorted((p - base) // 4096 for p in pages if base <= p < base + len(written)))\n"
        "print(any(other <= p < other + len(left) for p in pages))\n"
        "print(written[2 * 4096 + 100])  # the probe's writes stayed in its fork\n"
    )
    assert out.split("\n")[:3] == ["[2, 3, 9]", "False", str(ord("a"))]


@linux_only
def test_writing_ahead_keeps_every_byte_and_makes_the_pages_the_forks_own():
    out = _run(
        "import ctypes, mmap, os, random\n"
        "from kernelcli.worker import prefault\n"
        "data = random.Random(5).randbytes(32 * 4096)\n"
        "region = mmap.mmap(-1, len(data), flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)\n"
        "region.write(data)\n"
        "base = ctypes.addressof(ctypes.c_char.from_buffer(region))\n"
        "pages = tuple(base + i * 4096 for i in (0, 5, 31))\n"
        "gone = mmap.mmap(-1, 4096, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)\n"
        "gone_at = ctypes.addressof(ctypes.c_char.from_buffer(gone)); gone.close()  # unmapped since\n"
        "r, w = os.pipe()\n"
        "pid = os.fork()\n"
        "if pid == 0:  # the spare\n"
        "    spans = prefault._own_spans()\n"
        "    before = prefault.exclusive_pages(spans)\n"
        "    done = prefault.touch((gone_at, *pages))\n"
        "    own = prefault.exclusive_pages(spans) - before\n"
        "    ok = region[:] == data\n"
        "    os.write(w, f'{done} {sorted((p - base) // 4096 for p in own if base <= p < base + len(data))} {ok}'.encode())\n"
        "    os._exit(0)\n"
        "os.close(w)\n"
        "print(os.read(r, 1000).decode())\n"
        "os.waitpid(pid, 0)\n"
        "print(region[:] == data)\n"
    )
    assert out.split("\n")[:2] == ["3 [0, 5, 31] True", "True"]


def test_nothing_to_write_ahead_is_nothing_done():
    assert prefault.touch(()) == 0
