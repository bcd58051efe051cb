"""The warm worker: a resident kernelcli process that already has numpy, Numba and the
compiled core loaded, so a call from a shell loop does not pay the start-up again.

``kernelcli worker start|stop|status`` manages it.  While it runs, ``kernelcli ...`` (the
thin client in :mod:`kernelcli.worker.client`, standard library only) hands each call to
it over a Unix socket in a 0700 per-user folder: the arguments, the working folder, the
environment, the umask, the resource limits and the call's own stdin/stdout/stderr (the
file descriptors themselves, so a terminal stays a terminal).  The worker forks a child
per call from its pristine warm state (:mod:`kernelcli.worker.server`), so nothing one
call does can change the next; the child runs exactly what a fresh process runs (the
same ``cold`` path policy, except that with its core loaded it counts no start-up cost
where the paths give the same bytes: the same bytes, sooner) and reports the exit code.

Whenever the worker cannot be used safely (none running, a stale socket, a folder or a
socket owned by someone else, another kernelcli version or code on disk, different
import-time settings, a worker that dies mid-call) the client runs the call itself,
silently (a note only with ``--debug``).

>>> from kernelcli.worker import protocol
>>> protocol.socket_path(runtime="/run/user/1000/kernelcli").startswith("/run/user/1000/kernelcli/worker-")
True
"""
