"""The measured start-up cost of the jitted core, which the CLI's cold path policy weighs.

A CLI call is a fresh process: for a small image plain numpy beats loading Numba and the
cached core, for a large one it does not.  Where the two lie depends on the machine (0.45 s
on a quiet development machine, three times that on a busy one), so the cost is measured
here, once per install, rather than assumed: the first call that finds no measurement
starts a detached process (``python -m kernelcli.startup``, at normal priority, as the calls
it stands for run) that loads the
jitted core in fresh interpreters -- once to make sure Numba's cache holds it, then
:data:`REPEAT` times timed, with the plain-numpy path's speed beside it -- and stores the
medians in the user's cache folder (see :func:`stored` for how the two combine).  The call
itself, and every call until the measurement exists, use the built-in estimate.

The measurement only ever moves the choice between paths that give the same bytes
(:func:`kernelcli._core.costs.jit_start_seconds`): it changes how fast a result comes,
never the result.  The numeric core never reads it: :func:`cli_paths` passes it in, as
``Paths.jit_start``.  The record is a small JSON file (:func:`record_path`); delete it to
measure again.  ``KERNELCLI_MEASURE_STARTUP=off`` (:data:`OPT_OUT_ENV`) starts no measurement
(CI jobs, timing runs, the test suite); a record already there is still used.  Nothing is
written where the cache folder cannot be (a read-only home: the built-in estimate stays), nor
into a relative folder, and parallel calls (``make -j``) start one measurement between them.

>>> stored(record_path(folder="/nonexistent")) is None
True
>>> cli_paths(folder="/nonexistent").process
'cold'
"""

from __future__ import annotations

import json
import os
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from ._core.policy import Paths
from .switches import MEASURE_STARTUP_ENV as OPT_OUT_ENV, env_switch  # (=off, 0, no, false: no background measurement)
#: timed loads of the core; the stored value is their median
REPEAT = 3
#: a measurement outside this range (seconds) is not believed
PLAUSIBLE = (0.02, 30.0)
#: a background measurement that left no result is tried again after this many seconds
RETRY_SECONDS = 3600.0
#: What a fresh process pays for its first jitted call (importing Numba and the core, loading
#: the cached machine code, starting the thread layer; numpy and the API are loaded before),
#: and what the plain-numpy path costs per output value and tap here (a 3x3 on 1024x1024x3):
#: the cost model weighs the one against the other, so both are measured under the same load.
PROBE = (
    "import sys, time; sys.path.insert(0, sys.argv[1])\n"
    "import numpy as np\n"
    "from kernelcli import api\n"
    "from kernelcli._core.policy import Paths\n"
    "k = np.array([[1.0, 0, -1], [2, 0, -2], [1, 0, -1]])\n"
    "x = np.zeros((64, 64), np.uint8); x.setflags(write=False)\n"
    "t = time.perf_counter(); api.conv2d(x, k, paths=Paths(force='jit')); jit = time.perf_counter() - t\n"
    "x = np.random.default_rng(0).integers(0, 256, (1024, 1024, 3), dtype=np.uint8); x.setflags(write=False)\n"
    "numpy = []\n"
    "for _ in range(3):\n"
    "    t = time.perf_counter(); api.conv2d(x, k, paths=Paths(force='numpy')); numpy.append(time.perf_counter() - t)\n"
    "print(jit, sorted(numpy)[1] / (x.size * np.count_nonzero(k)))\n"
)


def cache_folder() -> Path:
    """``$XDG_CACHE_HOME/kernelcli``, else ``~/.cache/kernelcli``."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "kernelcli"


def record_path(folder: str | os.PathLike[str] | None = None) -> Path:
    """The measurement of this interpreter and this kernelcli copy (each install measures its own)."""
    import zlib

    package = Path(__file__).resolve().parent
    key = zlib.crc32(f"{sys.prefix}\0{package}".encode())
    return Path(folder if folder is not None else cache_folder()) / f"startup-{key:08x}.json"


def stored(path: str | os.PathLike[str] | None = None) -> float | None:
    """The stored start-up cost in the cost model's seconds, or None when there is none (or it
    is not believable): the measured load time scaled by how much faster or slower plain numpy
    ran than the model assumes (``costs.NUMPY_SECONDS_PER_TAP``), so a busy machine, which
    slows both, moves no choice, while a machine with a slow disk or a slow Numba does."""
    try:
        with open(path if path is not None else record_path(), encoding="utf-8") as f:
            value = json.load(f).get("jit_start_model_seconds")
    except (OSError, ValueError, AttributeError):
        return None
    if isinstance(value, (int, float)) and PLAUSIBLE[0] <= value <= PLAUSIBLE[1]:
        return float(value)
    return None


def cli_paths(folder: str | os.PathLike[str] | None = None, measure: bool = False) -> Paths:
    """The cold policy a CLI call passes to the API, with this machine's measured start-up cost.

    ``measure``: when there is no measurement yet, start one in the background (see the module).
    """
    path = record_path(folder)
    value = stored(path)
    if value is None and measure:
        start_measuring(path)
    return Paths(process="cold", jit_start=value)


def start_measuring(path: Path) -> bool:
    """Start ``python -m kernelcli.startup PATH`` detached, unless one started within the last hour,
    the user opted out (:data:`OPT_OUT_ENV`), or ``path`` is relative (an unset home: no
    cache folder) or cannot be written.  True when a measurement was started.

    >>> start_measuring(Path("relative/startup-0.json"))
    False
    """
    import subprocess

    if not env_switch(OPT_OUT_ENV, True):
        return False
    path = Path(path)
    if not path.is_absolute():
        return False
    marker = path.with_suffix(".measuring")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with _claim(path.with_suffix(".lock")) as mine:
            if not mine:  # another call is deciding right now
                return False
            try:
                if time.time() - marker.stat().st_mtime < RETRY_SECONDS:
                    return False
                marker.unlink()  # a measurement that left no result, long ago: try again
            except FileNotFoundError:
                pass
            os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
            subprocess.Popen(
                [sys.executable, "-c", _MAIN, str(Path(__file__).resolve().parent.parent), str(path)],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                start_new_session=True, close_fds=True, cwd="/",
                env={k: v for k, v in os.environ.items() if not k.startswith("KERNELCLI_")},
            )
    except OSError:
        return False
    return True


@contextmanager
def _claim(lock: Path):
    """Yield True while this process holds ``lock`` (an advisory lock, never waited for), else False.

    The marker's check and its replacement happen under it: without it, two calls that both
    found a stale marker could each remove the other's fresh one and start a measurement each.
    """
    try:
        import fcntl
    except ImportError:  # not POSIX: the marker's O_EXCL alone
        yield True
        return
    fd = os.open(lock, os.O_CREAT | os.O_WRONLY, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            yield False
            return
        yield True
    finally:
        os.close(fd)


_MAIN = "import sys; sys.path.insert(0, sys.argv.pop(1)); from kernelcli.startup import main; main()"


def measure(repeat: int = REPEAT) -> tuple[float, float]:
    """Medians of ``repeat`` fresh interpreters: (seconds to load the jitted core, numpy seconds per tap).

    The first, untimed, run makes sure Numba's cache holds the core (a first run compiles).
    """
    import statistics
    import subprocess

    root = str(Path(__file__).resolve().parent.parent)
    loads, taps = [], []
    for i in range(repeat + 1):
        done = subprocess.run([sys.executable, "-c", PROBE, root], capture_output=True, text=True, timeout=600, cwd="/")
        if done.returncode != 0:
            raise RuntimeError(f"the start-up probe failed: {done.stderr.strip()[-300:]}")
        if i:
            load, tap = done.stdout.strip().splitlines()[-1].split()
            loads.append(float(load))
            taps.append(float(tap))
    return statistics.median(loads), statistics.median(taps)


def save(path: str | os.PathLike[str], load_seconds: float, numpy_seconds_per_tap: float) -> float:
    """Store a measurement at ``path`` (written whole, then renamed into place); the model's value."""
    from ._core.costs import NUMPY_SECONDS_PER_TAP

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    model = load_seconds * NUMPY_SECONDS_PER_TAP / numpy_seconds_per_tap
    record = {"jit_start_model_seconds": round(model, 4), "jit_load_seconds": round(load_seconds, 4),
              "numpy_seconds_per_tap": numpy_seconds_per_tap, "model_numpy_seconds_per_tap": NUMPY_SECONDS_PER_TAP,
              "measured": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "python": sys.executable, "repeat": REPEAT}
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(record) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return model


def main(argv: list[str] | None = None) -> None:
    """``python -m kernelcli.startup [PATH]``: measure and store the result.

    At normal priority, as the calls it stands for run.  A failed measurement leaves its
    marker, so it is tried again only after :data:`RETRY_SECONDS`.
    """
    args = sys.argv[1:] if argv is None else argv
    path = Path(args[0]) if args else record_path()
    load, tap = measure()
    if PLAUSIBLE[0] <= save(path, load, tap) <= PLAUSIBLE[1]:
        try:
            path.with_suffix(".measuring").unlink()
        except OSError:
            pass


if __name__ == "__main__":
    main()
