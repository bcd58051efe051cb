"""Why the worker refuses a call: what a caller must share with the worker for the warm call to give the cold
call's answer (exit code, stdout, stderr, files).  A call refused runs in the caller's own process, silently
(``--debug`` says the reason given here).

The worker's code and version, the environment read as modules are imported, the interpreter's options, the
libraries its import path finds (:mod:`.loaded`), the file-system encoding, the CPU affinity, what the caller may do and see (:mod:`.identity`); and no memory limit
(``ulimit -v``: the warm process already maps more than a fresh one would) nor a tight open-files limit.

>>> class Worker:  # (a worker whose code changed on disk refuses every call, and stops)
...     stopping = False
...     def code_changed(self): return True
>>> worker = Worker()
>>> refusal(worker, {}, []), worker.stopping
('changed code', True)
"""

from __future__ import annotations

from . import protocol
from .identity import identity, identity_difference

#: a caller's open-files limit (``ulimit -n``) below which its call runs in its own process: a call here
#: holds its connection to the client besides what a fresh process holds, so near the limit it could fail alone
TIGHT_OPEN_FILES = 1024
#: why a caller started with other interpreter options than the worker's runs its call itself
INTERPRETER_OPTIONS = "other interpreter options (-W, -X, -O, -B ...)"
#: why a caller whose import path finds another copy of a library the worker loaded runs its call itself
OTHER_IMPORT_PATH = "another import path"
#: why a caller with a finite address-space or data limit (``ulimit -v``, ``ulimit -d``) runs its call itself
MEMORY_LIMIT = "a memory limit (ulimit -v/-d): a fresh process decides"


def refusal(worker, message: dict, fds: list[int], peer_pid: int | None = None) -> str | None:
    """Why ``worker`` (a :class:`.server.Server`) cannot run the call ``message`` as its caller would, or None."""
    if worker.code_changed():
        worker.stopping = True  # our own code changed on disk: this worker is stale
        return "changed code"
    if message.get("stamp") != worker.version:
        return "another kernelcli version"
    env = message.get("env")
    if not isinstance(env, dict) or protocol.import_time_env(env) != worker.import_env:
        return "different import-time environment (PYTHON*, NUMBA_*, ...)"
    if message.get("interpreter") != worker.interpreter:  # (their PYTHON* spellings: the import-time environment)
        return INTERPRETER_OPTIONS
    path, cwd = message.get("path"), message.get("cwd")
    if not (isinstance(path, list) and all(isinstance(entry, str) for entry in path) and isinstance(cwd, str)):
        return "malformed call"
    other = worker.loaded.other_copy(path, cwd) if worker.loaded is not None else None
    if other is not None:  # the call would run on the worker's copy, a fresh process on the one its path finds
        return f"{OTHER_IMPORT_PATH}: it finds another {other} than the worker loaded, or none"
    if message.get("fs_encoding") != worker.fs_encoding:
        return "different file-system encoding (LC_ALL/LC_CTYPE/LANG)"
    if message.get("affinity") != worker.affinity:
        return "different CPU affinity"
    limits = message.get("limits") or {}
    if any((limits.get(name) or [-1])[0] != -1 for name in ("RLIMIT_AS", "RLIMIT_DATA")):
        # it binds what the warm process already maps (some 700 MB: every library, LLVM, the compiled core) where a
        # fresh one maps what its command imports: even under the worker's own limit a call ran out of memory only
        # here (audit 232 #2)
        return MEMORY_LIMIT
    files = (limits.get("RLIMIT_NOFILE") or [None])[0]
    if isinstance(files, int) and 0 <= files < TIGHT_OPEN_FILES:
        return "a tight open-files limit (ulimit -n)"
    if fds or not isinstance(message.get("argv"), list):  # the caller's stdio comes once the call is taken
        return "malformed call"
    if peer_pid is not None:
        differs = identity_difference(worker.identity, identity(peer_pid))
        if differs is not None:
            return f"the caller's {differs} differs from the worker's"
    return None
