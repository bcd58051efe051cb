"""What the client and the worker share: where the socket lives, who may use it, what a
call carries, and how messages are framed.  The client imports this before anything else,
so it imports only what a bare interpreter has or builds in (no json, socket, signal,
struct, resource or pathlib modules, which would cost a shell loop more than the call:
``_socket``, ``marshal``).

A message is a 4-byte big-endian length and a :mod:`marshal`-encoded dict of plain values
(str, int, float, bool, None, list, dict); the call request also carries the caller's
stdin, stdout and stderr as ``SCM_RIGHTS`` file descriptors.  marshal is no format for
strangers' data: both ends check first that the other is a process of the same user
(``SO_PEERCRED``), and the worker and its clients run the same interpreter (the socket's
name says which) and the same kernelcli code (the version stamp, and the worker's watch
on its files: :mod:`.watch`).

>>> import _socket
>>> a, b = _socket.socketpair()
>>> send(a, {"op": "status"})
>>> receive(b)
{'op': 'status'}
>>> a.close(); b.close()
"""

from __future__ import annotations

import _socket
import marshal
import os
import stat
import sys

from ..switches import OFF_WORDS, ON_WORDS, SwitchError  # noqa: F401 - (KERNELCLI_WORKER's refusal is every switch's)

#: Bumped whenever the messages change; part of the stamp.
PROTOCOL = 8
#: Environment variables read when modules are imported (by Python, Numba, the BLAS
#: libraries or kernelcli itself): a worker started under other values cannot honour them,
#: so a call whose values differ runs in-process.  Everything else is read per call.
IMPORT_TIME_PREFIXES = ("PYTHON", "NUMBA_", "NPY_", "NUMPY_", "OMP_", "KMP_", "MKL_", "OPENBLAS_", "GOTO_", "BLIS_", "LD_")
#: (numpy reads NPY_DISABLE_CPU_FEATURES and NUMPY_MADVISE_HUGEPAGE as it is imported: a warm call kept the worker's
#: and gave other bytes, audit 162 #1)
IMPORT_TIME_NAMES: tuple[str, ...] = ()  # kernelcli reads none (its path policy is an argument)
#: Resource limits a call inherits from its caller (set in the worker's child; one it cannot take, a hard limit
#: above the worker's, runs the call in the caller's process), and their lines in Linux's ``/proc/self/limits``:
#: every one Python's ``resource`` names.  The core-file size above all: a call killed by SIGQUIT dumped core by
#: the worker's limit, over a file named ``core`` in the caller's folder (audit 220 #1).  (Linux's "Max file locks"
#: is enforced by no kernel since 2.4.25, and ``resource`` has no name for it.)
LIMITS = ("RLIMIT_AS", "RLIMIT_DATA", "RLIMIT_FSIZE", "RLIMIT_NOFILE", "RLIMIT_CPU", "RLIMIT_STACK", "RLIMIT_CORE",
          "RLIMIT_RSS", "RLIMIT_NPROC", "RLIMIT_MEMLOCK", "RLIMIT_SIGPENDING", "RLIMIT_MSGQUEUE", "RLIMIT_NICE",
          "RLIMIT_RTPRIO", "RLIMIT_RTTIME")
_LIMIT_LINES = {"Max address space": "RLIMIT_AS", "Max data size": "RLIMIT_DATA", "Max file size": "RLIMIT_FSIZE",
                "Max open files": "RLIMIT_NOFILE", "Max cpu time": "RLIMIT_CPU", "Max stack size": "RLIMIT_STACK",
                "Max core file size": "RLIMIT_CORE", "Max resident set": "RLIMIT_RSS", "Max processes": "RLIMIT_NPROC",
                "Max locked memory": "RLIMIT_MEMLOCK", "Max pending signals": "RLIMIT_SIGPENDING",
                "Max msgqueue size": "RLIMIT_MSGQUEUE", "Max nice priority": "RLIMIT_NICE",
                "Max realtime priority": "RLIMIT_RTPRIO", "Max realtime timeout": "RLIMIT_RTTIME"}
#: The switch that keeps a call (and everything it starts) away from the worker.
OFF_ENV = "KERNELCLI_WORKER"
#: what each value of :data:`OFF_ENV` means (:func:`switch`): on, the default, hands a call to a running worker;
#: the on and off words are every switch's (:mod:`kernelcli.switches`)
SWITCH = {"": "on", **dict.fromkeys(ON_WORDS, "on"), **dict.fromkeys(OFF_WORDS, "off"), "auto": "auto"}
#: Seconds without a call after which the worker exits (``worker start --idle-timeout``).
DEFAULT_IDLE_SECONDS = 1800
#: the longest idle timeout: a year (inf, or 1e308 s, is no timeout)
MAX_IDLE_SECONDS = 365 * 24 * 3600
_HEADER_SIZE = 4  # a message's length, big-endian
_MAX_MESSAGE = 16 << 20


class ProtocolError(Exception):
    """The other side sent something that is not a message of this protocol."""


def switch() -> str:
    """``KERNELCLI_WORKER`` as ``on``, ``off`` or ``auto`` (in any case), or :class:`SwitchError`: a value
    it does not take (a typo of ``off``, say) is refused, not read as the default."""
    value = os.environ.get(OFF_ENV, "")
    meaning = SWITCH.get(value.strip().lower())
    if meaning is None:
        from ..numtext import quoted

        raise SwitchError(f"{OFF_ENV}={quoted(value)}: expected off, auto or on (the default)")
    return meaning


def runtime_dir(create: bool = False) -> str | None:
    """The private folder for the socket: ``$XDG_RUNTIME_DIR/kernelcli`` (an absolute one), else ``/tmp/kernelcli-UID``.

    None when it is not safe to use: not a real folder (a link), owned by another user, or
    open to others (mode other than 0700).  ``create`` makes it (mode 0700) when missing.
    """
    uid = os.getuid()
    folder = runtime_folder()
    if create:
        try:
            os.mkdir(folder, 0o700)
        except FileExistsError:
            pass
        except OSError:
            return None
    return folder if _is_private_dir(folder, uid, exact=True) else None


def runtime_folder() -> str:
    """Where :func:`runtime_dir` looks, whether or not it is safe: ``$XDG_RUNTIME_DIR/kernelcli`` when
    ``$XDG_RUNTIME_DIR`` is an absolute path to a folder of this user, else ``/tmp/kernelcli-UID``.

    A relative one is ignored, as the XDG Base Directory spec says: the worker runs in ``/`` and each
    caller in its own folder, so none would find the socket where another looks."""
    base = os.environ.get("XDG_RUNTIME_DIR", "")
    if os.path.isabs(base) and _is_private_dir(base, os.getuid(), exact=False):
        return os.path.join(base, "kernelcli")
    return os.path.join("/tmp", f"kernelcli-{os.getuid()}")


def _is_private_dir(path: str, uid: int, exact: bool) -> bool:
    try:
        st = os.lstat(path)
    except OSError:
        return False
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != uid:
        return False
    return not exact or stat.S_IMODE(st.st_mode) == 0o700


def not_private(folder: str) -> str:
    """What keeps ``folder`` from being the worker's private folder (a link, another owner, its mode).

    >>> not_private("/nonexistent/kernelcli")
    'cannot be made here'
    """
    try:
        st = os.lstat(folder)
    except OSError:
        return "cannot be made here"
    if stat.S_ISLNK(st.st_mode):
        return "is a link"
    if not stat.S_ISDIR(st.st_mode):
        return "is not a folder"
    if st.st_uid != os.getuid():
        return f"is owned by user {st.st_uid}"
    mode = stat.S_IMODE(st.st_mode)
    return f"has mode {mode:04o} (chmod 700 it)"


def package_dir() -> str:
    """The folder of the kernelcli package this process runs."""
    return os.path.dirname(os.path.dirname(os.path.realpath(__file__)))


def socket_path(runtime: str | os.PathLike[str] | None = None) -> str:
    """The socket of the worker for this Python environment and this kernelcli copy.

    Two checkouts (or two virtual environments) get two workers: the name hashes the
    environment (``sys.prefix``: ``python`` and ``python3.11`` of one environment share a
    worker) and the package folder.
    """
    key = f"{sys.prefix}\0{package_dir()}".encode()
    name = f"worker-{_fnv1a(key):08x}.sock"
    return os.path.join(os.fspath(runtime) if runtime is not None else (runtime_dir() or "/nonexistent"), name)


def _fnv1a(data: bytes) -> int:
    """A 32-bit FNV-1a hash (``zlib.crc32`` would cost the client an import)."""
    h = 0x811C9DC5
    for byte in data:
        h = ((h ^ byte) * 0x01000193) & 0xFFFFFFFF
    return h


def code_dirs() -> list[str]:
    """Every folder of the package (but ``__pycache__``) and of the shipped kernels: where the code is."""
    root = package_dir()
    found = []
    stack = [root]
    kernels = os.path.join(os.path.dirname(root), "kernels")
    if os.path.isdir(kernels):
        stack.append(kernels)
    while stack:
        folder = stack.pop()
        found.append(folder)
        with os.scandir(folder) as it:
            stack.extend(e.path for e in it if e.is_dir(follow_symlinks=False) and e.name != "__pycache__")
    return found


#: the libraries a call runs on, whose folders' identity the worker takes before it imports them; an upgrade of these,
#: or of any other library it loaded (:mod:`.loaded`), under a running worker makes it stale, as a change of its code does
LIBRARIES = ("numpy", "numba", "llvmlite", "scipy", "PIL", "typer", "click", "rich")


def library_dirs(*, loaded: bool = True) -> list[str]:
    """The top folder of each of :data:`LIBRARIES` this process has loaded (pip rewrites their
    ``__init__.py`` and version files when it upgrades them; their inner folders are not watched);
    ``loaded=False``: of each the import system would load now, found without importing it."""
    from importlib.util import find_spec

    found = []
    for name in LIBRARIES:
        module = sys.modules.get(name) if loaded else find_spec(name)
        for folder in getattr(module, "__path__" if loaded else "submodule_search_locations", None) or ():
            if os.path.isdir(folder):
                found.append(os.path.realpath(folder))
    return found


def code_stamp() -> str:
    """The version, the protocol and the size and time of every file of the package and of
    the shipped kernels: what the worker's code was when it started (see :mod:`.watch`)."""
    entries = []
    for folder in code_dirs():
        with os.scandir(folder) as it:
            for entry in it:
                if entry.name.endswith((".py", ".json")) and not entry.is_dir(follow_symlinks=False):
                    st = entry.stat()
                    entries.append(f"{entry.path}:{st.st_size}:{st.st_mtime_ns}")
    import zlib

    digest = zlib.crc32("\n".join(sorted(entries)).encode())
    return f"{version_stamp()}/{digest:08x}"


def version_stamp() -> str:
    """What a call carries to say which kernelcli sent it: the version and the protocol.  The
    worker itself answers for its code on disk (:mod:`.watch`), so no client stats the files.

    >>> version_stamp().count("/")
    1
    """
    from .. import __version__

    return f"{__version__}/{PROTOCOL}"


def import_time_env(env: dict[str, str] | None = None) -> dict[str, str]:
    """The environment variables that only take effect when modules are imported."""
    env = os.environ if env is None else env
    return {k: v for k, v in env.items() if k.startswith(IMPORT_TIME_PREFIXES) or k in IMPORT_TIME_NAMES}


def caller_state() -> dict:
    """What a call inherits from its caller besides argv and the environment."""
    umask = os.umask(0)
    os.umask(umask)
    limits = caller_limits()
    affinity = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    return {
        "cwd": os.getcwd(),
        "env": dict(os.environ),
        "umask": umask,
        "limits": limits,
        "affinity": affinity,
        "encoding": [getattr(s, "encoding", None) or "utf-8" for s in (sys.stdin, sys.stdout, sys.stderr)],
        "errors": [getattr(s, "errors", None) or "strict" for s in (sys.stdin, sys.stdout, sys.stderr)],
        # argv, cwd and env travel as str decoded with this: a worker with another encodes them back to other bytes
        "fs_encoding": [sys.getfilesystemencoding(), sys.getfilesystemencodeerrors()],
        # where a later import looks: the worker's own has its package's parent first (audit 220 #3)
        "path": list(sys.path),
        "interpreter": interpreter_options(),
    }


def interpreter_options() -> list:
    """The interpreter's own options (``-W``, ``-X``, ``-O``, ``-B``...: ``sys.flags``, ``sys.warnoptions``,
    ``sys._xoptions``): set as it starts, so a call runs on the worker's; but ``-P``, whose one effect, on
    ``sys.path``, travels as the call's path.

    >>> interpreter_options()[1:] == [sys.warnoptions, sys._xoptions]
    True
    """
    flags = {name: value for name, value in zip(type(sys.flags).__match_args__, sys.flags) if name != "safe_path"}
    return [flags, list(sys.warnoptions), dict(sys._xoptions)]


def caller_limits() -> dict[str, list[int]]:
    """The soft and hard values of :data:`LIMITS`, as ``resource.getrlimit`` gives them (-1 for
    unlimited): read from ``/proc/self/limits`` where Linux has it (importing ``resource`` cost
    a client 0.6 ms of CPU), else from ``resource``.

    >>> sorted(caller_limits()) == sorted(LIMITS)
    True
    """
    try:
        with open("/proc/self/limits", "rb") as f:
            lines = f.read().decode(errors="replace").splitlines()
    except OSError:
        lines = []
    found: dict[str, list[int]] = {}
    for line in lines:
        for label, name in _LIMIT_LINES.items():
            if line.startswith(label + " "):
                values = line[len(label):].split()[:2]
                try:
                    found[name] = [-1 if v == "unlimited" else int(v) for v in values]
                except ValueError:
                    pass
    if len(found) == len(LIMITS) and all(len(v) == 2 for v in found.values()):
        return found
    import resource

    return {name: list(resource.getrlimit(getattr(resource, name))) for name in LIMITS if hasattr(resource, name)}


def peer_uid(sock) -> int:
    """The user id of the process at the other end of a Unix socket (``SO_PEERCRED``: pid, uid, gid)."""
    return peer_credentials(sock)[1]


def peer_credentials(sock) -> tuple[int, int, int]:
    """(pid, uid, gid) of the process at the other end of a Unix socket, as it connected (``SO_PEERCRED``)."""
    creds = sock.getsockopt(_socket.SOL_SOCKET, _socket.SO_PEERCRED, 12)
    return tuple(int.from_bytes(creds[i : i + 4], sys.byteorder) for i in (0, 4, 8))  # type: ignore[return-value]


def _int32s(data: bytes) -> list[int]:
    return [int.from_bytes(data[i : i + 4], sys.byteorder, signed=True) for i in range(0, len(data) - len(data) % 4, 4)]


def send(sock, message: dict, fds: list[int] | None = None) -> None:
    """Send one message (with ``fds`` attached to its first byte) on a ``socket``/``_socket`` socket."""
    body = marshal.dumps(message)
    data = len(body).to_bytes(_HEADER_SIZE, "big") + body
    if fds:
        ancillary = [(_socket.SOL_SOCKET, _socket.SCM_RIGHTS, b"".join(fd.to_bytes(4, sys.byteorder, signed=True) for fd in fds))]
        sent = sock.sendmsg([data], ancillary)
        data = data[sent:]
    if data:
        sock.sendall(data)


def receive(sock, max_fds: int = 0) -> dict | None:
    """Receive one message; None at a clean end of the stream.  With ``max_fds``, return
    ``(message, fds)`` (the descriptors that came with it)."""
    fds: list[int] = []
    head = b""
    while len(head) < _HEADER_SIZE:
        if max_fds:
            chunk, ancillary, _flags, _addr = sock.recvmsg(_HEADER_SIZE - len(head), _socket.CMSG_LEN(max_fds * 4))
            for level, kind, data in ancillary:
                if level == _socket.SOL_SOCKET and kind == _socket.SCM_RIGHTS:
                    fds.extend(_int32s(data))
        else:
            chunk = sock.recv(_HEADER_SIZE - len(head))
        if not chunk:
            if head:
                raise ProtocolError("the stream ended inside a message header")
            return (None, fds) if max_fds else None
        head += chunk
    length = int.from_bytes(head, "big")
    if length > _MAX_MESSAGE:
        raise ProtocolError(f"message of {length} bytes")
    body = b""
    while len(body) < length:
        chunk = sock.recv(length - len(body))
        if not chunk:
            raise ProtocolError("the stream ended inside a message")
        body += chunk
    try:
        message = marshal.loads(body)
    except (ValueError, EOFError, TypeError) as exc:
        raise ProtocolError(f"not a message: {exc}") from None
    if not isinstance(message, dict):
        raise ProtocolError("not a dict")
    return (message, fds) if max_fds else message
