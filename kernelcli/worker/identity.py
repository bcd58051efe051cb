"""What a process may do and see besides its uid: the worker compares its own with each caller's, and a caller
whose differ runs its call itself (in the worker it would run with the worker's).  Only the worker asks: none of
this is the client's cost.

>>> identity_difference(identity(), identity()) is None
True
"""

from __future__ import annotations

import os


#: The lines of ``/proc/PID/status`` that say what a process may do beyond its uid: a call runs with
#: the worker's, so a caller whose differ (``setpriv --regid``, dropped capabilities, a sandbox's
#: no_new_privs or seccomp filter) runs its call itself
IDENTITY_LINES = ("Gid", "Groups", "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "NoNewPrivs", "Seccomp")
#: namespaces a process sees the system through (``/proc/PID/ns``)
NAMESPACES = ("mnt", "user", "pid", "net", "ipc", "uts", "cgroup")


def identity(pid: int | str = "self") -> dict[str, str]:
    """What process ``pid`` may do and see besides its uid: groups, capabilities, sandboxing, namespaces,
    control group (its memory and CPU limits), nice value, CPU scheduling policy, I/O priority and OOM score
    adjustment (``chrt -i``, ``ionice -c 3`` and ``oom_score_adj`` ran at the worker's); {} where Linux's ``/proc``
    is missing.

    >>> identity() == identity(os.getpid())
    True
    """
    found: dict[str, str] = {}
    try:
        with open(f"/proc/{pid}/status", encoding="utf-8", errors="replace") as f:
            for line in f:
                name, _, value = line.partition(":")
                if name in IDENTITY_LINES:
                    found[name] = " ".join(value.split())
        with open(f"/proc/{pid}/cgroup", encoding="utf-8", errors="replace") as f:
            found["cgroup"] = cgroup_limits(f.read())
    except OSError:
        return {}
    for name in NAMESPACES:
        try:
            found[f"ns/{name}"] = os.readlink(f"/proc/{pid}/ns/{name}")
        except OSError:
            pass
    number = 0 if pid == "self" else int(pid)
    try:
        found["nice"] = str(os.getpriority(os.PRIO_PROCESS, number))
        found["policy"] = f"{os.sched_getscheduler(number)} {os.sched_getparam(number).sched_priority}"  # chrt -i, -b
    except (OSError, AttributeError):
        pass
    try:
        with open(f"/proc/{pid}/oom_score_adj", encoding="ascii") as f:
            found["oom_score_adj"] = f.read().strip()
    except OSError:
        pass
    io_priority = _io_priority(number)
    if io_priority is not None:
        found["ioprio"] = str(io_priority)  # ionice -c 3
    return found


#: the ``ioprio_get`` system call's number by machine (Linux) and this interpreter's pointer size: a 32-bit Python on a
#: 64-bit x86 kernel calls by i386's table, where 252 is exit_group; a machine not listed is not asked
_IOPRIO_GET = {("x86_64", 8): 252, ("x86_64", 4): 290, ("i686", 4): 290, ("i386", 4): 290, ("aarch64", 8): 31,
               ("ppc64le", 8): 274, ("s390x", 8): 283, ("riscv64", 8): 31}
_IOPRIO_WHO_PROCESS = 1


def _io_priority(pid: int) -> int | None:
    """Process ``pid``'s I/O scheduling class and level as ``ioprio_get`` gives them (``ionice -p``); None where
    unknown.  Only the worker asks (for its callers): ctypes is no cost of the client's."""
    import platform
    import struct

    number = _IOPRIO_GET.get((platform.machine(), struct.calcsize("P")))
    if number is None:
        return None
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        value = libc.syscall(number, _IOPRIO_WHO_PROCESS, pid)
    except (OSError, AttributeError):
        return None
    return value if value >= 0 else None


#: the limits a control group sets, by controller (cgroup v1) or for the unified hierarchy (v2, key ""): a call
#: must not escape its caller's memory, CPU or process limits, but two groups that set none are alike
CGROUP_LIMITS = {
    "": ("memory.max", "memory.high", "memory.swap.max", "cpu.max", "pids.max"),
    "memory": ("memory.limit_in_bytes", "memory.memsw.limit_in_bytes"),
    "cpu": ("cpu.cfs_quota_us",),
    "pids": ("pids.max",),
}


def cgroup_limits(text: str, root: str = "/sys/fs/cgroup") -> str:
    """The limits that bind a process, from its ``/proc/PID/cgroup`` ``text``: for each limit file, the
    tightest value set on its group or a group above it (``max``/unlimited left out), so that two terminals'
    systemd scopes without limits compare equal and a ``systemd-run -p MemoryMax=1G`` scope does not.  Where
    the groups cannot be read under ``root``, the text itself (the paths: a different group counts as different).

    >>> cgroup_limits("0::/user.slice", root="/nonexistent")
    '0::/user.slice'
    """
    tightest: dict[str, str] = {}
    for line in text.splitlines():
        _, controllers, path = line.split(":", 2) if line.count(":") >= 2 else ("", "?", line)
        for controller in controllers.split(",") if controllers else [""]:
            files = CGROUP_LIMITS.get(controller)
            if files is None:
                continue
            base = os.path.join(root, controller) if controller else (root if os.path.exists(os.path.join(root, "cgroup.controllers"))
                                                                     else os.path.join(root, "unified"))
            folder = os.path.normpath(base + "/" + path.strip("/"))
            if not os.path.isdir(folder):
                return text
            while True:
                for name in files:
                    try:
                        with open(os.path.join(folder, name), encoding="ascii", errors="replace") as f:
                            value = f.read().strip()
                    except OSError:
                        continue
                    if value and not value.startswith(("max", "-1", "9223372036854")):  # none set ("max 100000" too)
                        tightest[name] = min(value, tightest.get(name, value), key=_limit_order)
                if os.path.normpath(folder) == os.path.normpath(base):
                    break
                folder = os.path.dirname(folder)
    return " ".join(f"{name}={value}" for name, value in sorted(tightest.items()))


def _limit_order(value: str) -> float:
    """A limit file's value as a number to compare (``cpu.max``'s ``quota period``: their ratio)."""
    parts = value.split()
    try:
        return float(parts[0]) / float(parts[1]) if len(parts) == 2 else float(parts[0])
    except (ValueError, ZeroDivisionError, IndexError):
        return float("inf")


def identity_difference(mine: dict[str, str], theirs: dict[str, str]) -> str | None:
    """The first thing that differs between two :func:`identity` answers, named; None when none does.

    >>> identity_difference({"Gid": "0 0 0 0"}, {"Gid": "65534 65534 65534 65534"})
    'group (Gid)'
    """
    words = {"Gid": "group", "Groups": "supplementary groups", "NoNewPrivs": "no_new_privs", "Seccomp": "seccomp filter",
             "cgroup": "control group", "nice": "nice value", "policy": "CPU scheduling policy", "ioprio": "I/O priority",
             "oom_score_adj": "OOM score adjustment"}
    for key in sorted(set(mine) | set(theirs)):
        if mine.get(key) != theirs.get(key):
            word = words.get(key, "capabilities" if key.startswith("Cap") else "namespace" if key.startswith("ns/") else key)
            return f"{word} ({key})"
    return None
