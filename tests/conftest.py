"""Shared fixtures and helpers for the test suite."""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "samples"

# A shell starts a background job (`bash .ci/run &`, `nohup`) with SIGINT and SIGQUIT ignored, and every process the
# tests start inherits that: Ctrl-C and Ctrl-\ tests then test the launcher, not kernelcli (three failed so).  A
# terminal's Ctrl-C and Ctrl-\ are what they check: give the tests' processes the dispositions of a foreground job.
for _sig, _handler in ((signal.SIGINT, signal.default_int_handler), (signal.SIGQUIT, signal.SIG_DFL)):
    if signal.getsignal(_sig) == signal.SIG_IGN:
        signal.signal(_sig, _handler)
#: the documentation beyond the README: its long reference sections (README.md links each one)
DOCS = REPO / "docs"


def documentation() -> str:
    """The README and every page of docs/, one text: what a test of a documented promise reads."""
    pages = [REPO / "README.md", *sorted(DOCS.glob("*.md"))]
    return "\n\n".join(page.read_text(encoding="utf-8") for page in pages)

# The suite neither reads nor writes the developer's measured start-up cost (kernelcli.startup):
# a record there would move the paths the CLI takes (tests assert some), and a CLI call that
# loads the jitted core would start a background measurement, still running after the suite and
# beside any timing.  Set here, before kernelcli.cli reads the record at import; the CLI
# subprocesses inherit both, and so does any process that imports this file under the suite (a
# pool or cluster worker unpickling a test's function).  The folder is named, not made: with the
# measurement off nothing writes there, so a session that is killed leaves nothing behind.
# Tests of the measurement pass their own folder.
_PREFIX = "kernelcli-tests-cache-"
if _PREFIX not in os.environ.get("XDG_CACHE_HOME", ""):
    os.environ["XDG_CACHE_HOME"] = os.path.join(tempfile.gettempdir(), f"{_PREFIX}{os.getpid()}")
    _CACHE: str | None = os.environ["XDG_CACHE_HOME"]
else:
    _CACHE = None
os.environ["KERNELCLI_MEASURE_STARTUP"] = "off"

# Every Python the suite starts imports the kernelcli this process imported, and so shares its
# Numba cache (a __pycache__ beside the sources).  Under the README's `pytest` this process
# imports the installed copy; a `python -c` started in the checkout put the current folder first,
# and so did the batch pool's forkserver (Python 3.11's ignores the parent's sys.path): they
# imported the checkout and compiled again, into its own cache, what the suite had compiled
# (a fresh CI run: 36 versions, 59 s of compiling at load 5).  PYTHONSAFEPATH (``-P``) keeps the
# current folder and a script's folder off sys.path; a test's own PYTHONPATH still comes first.
import kernelcli  # the package only (lazy: no numpy)

ROOT = str(Path(kernelcli.__file__).resolve().parent.parent)
os.environ["PYTHONPATH"] = os.pathsep.join(dict.fromkeys([ROOT, *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]))
os.environ["PYTHONSAFEPATH"] = "1"


def imagemagick() -> str | None:
    """The real ImageMagick ``convert`` (Debian's ``convert-im6.q16``, or a ``convert`` that says it is
    ImageMagick), or None.  A bare ``convert`` on PATH may be a stand-in that only prints a PNG: the
    comparisons skip there rather than fail on what it cannot do."""
    for name in ("convert-im6.q16", "convert"):
        found = shutil.which(name)
        if found is None:
            continue
        try:
            version = subprocess.run([found, "-version"], capture_output=True, text=True, timeout=30).stdout
        except (OSError, subprocess.SubprocessError):
            continue
        if version.startswith("Version: ImageMagick"):
            return found
    return None


#: A whole run compiles, beside the tests, what they need late (``warm_numba_cache.py``, which says
#: why); a run of fewer tests than this compiles only what it needs, as it goes.
WARM_AT_TESTS = 1000
_warmer: subprocess.Popen | None = None


def pytest_collection_finish(session):
    global _warmer
    # Only in one process (`pytest -n 0`): under pytest-xdist the workers already keep every core busy
    # compiling, and a warmer beside them made a fresh CI run slower (CI dry runs of ecb395a, 2 vCPUs:
    # 340 s of tests with the warmer, 315 s without).
    alone = "PYTEST_XDIST_WORKER" not in os.environ
    if alone and len(session.items) >= WARM_AT_TESTS and os.environ.get("KERNELCLI_TESTS_WARM_CACHE") != "off":
        script = Path(__file__).with_name("warm_numba_cache.py")
        _warmer = subprocess.Popen([sys.executable, str(script)], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


#: Under pytest-xdist, the controller compiles the same calls before any test runs, one process per worker, each
#: call once (``warm_numba_cache.py --share``): each worker compiled every loop its tests met first, most of them the
#: same ones, and on a fresh install (CI, a new worktree) that was a third of the suite's CPU.  They start with the
#: session, beside the workers' collection, and the tests wait for them (:func:`pytest_xdist_node_collection_finished`).
_sharing: tuple[str, list[subprocess.Popen]] | None = None


def pytest_sessionstart(session):
    global _sharing
    config = session.config
    if hasattr(config, "workerinput") or config.getoption("dist", "no") == "no" or not config.getoption("tx", None):
        return  # a worker, or a run in one process (pytest_collection_finish)
    if os.environ.get("KERNELCLI_TESTS_WARM_CACHE") == "off":
        return
    # only a run of whole folders (the README's `pytest`): one of named files compiles only what it needs
    if not all((config.invocation_params.dir / arg).is_dir() for arg in config.args):
        return
    script = Path(__file__).with_name("warm_numba_cache.py")
    folder = tempfile.mkdtemp(prefix="kernelcli-warm-")
    _sharing = folder, [subprocess.Popen([sys.executable, str(script), "--share", folder], stdin=subprocess.DEVNULL,
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                        for _ in config.getoption("tx")]


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_node_collection_finished(node, ids):
    """The first worker to have collected: its tests (the whole run's) start once the cache is filled, if they are
    at least :data:`WARM_AT_TESTS`; the compiling stops if they are fewer."""
    global _sharing
    if _sharing is None:
        return
    folder, warmers = _sharing
    _sharing = None
    deadline = time.monotonic() + (1200 if len(ids) >= WARM_AT_TESTS else 0)
    for warmer in warmers:
        try:
            warmer.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            pass
        if warmer.poll() is None:
            warmer.kill()
            warmer.wait()
    shutil.rmtree(folder, ignore_errors=True)


def pytest_unconfigure(config):
    if _warmer is not None and _warmer.poll() is None:  # a short run, or one stopped early
        _warmer.kill()
        _warmer.wait()
    if _sharing is not None:  # stopped before any worker collected
        for warmer in _sharing[1]:
            warmer.kill()
            warmer.wait()
        shutil.rmtree(_sharing[0], ignore_errors=True)
    if _CACHE is not None:  # in case something else wrote there after all
        shutil.rmtree(_CACHE, ignore_errors=True)


#: Python source for a script a test runs as the console script: ``then(func, *signals)`` wraps ``func`` so that the
#: process sends itself ``signals`` as it returns (or raises), ``before(func, *signals)`` as it is called: a stop at a
#: chosen point of a call, never a race against a sleep
SIGNALLING = """
import os
def then(func, *signals):
    def stopping(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        finally:
            for sig in signals:
                os.kill(os.getpid(), sig)
    return stopping
def before(func, *signals):
    def stopping(*args, **kwargs):
        for sig in signals:
            os.kill(os.getpid(), sig)
        return func(*args, **kwargs)
    return stopping
"""


def interruptible() -> None:
    """``preexec_fn`` for a subprocess a test sends Ctrl-C (or a hang-up) to: SIGINT, SIGQUIT,
    SIGHUP and SIGTERM back to their defaults, as under a terminal.  A runner started in the
    background by a shell without job control (CI scripts, ``pytest ... &``) ignores SIGINT and
    SIGQUIT, one under ``nohup`` ignores SIGHUP, and a child inherits that: it would ignore the
    test's signal, as it should."""
    import signal

    for sig in (signal.SIGINT, signal.SIGQUIT, signal.SIGHUP, signal.SIGTERM):
        signal.signal(sig, signal.SIG_DFL)


def drawn_text(monkeypatch) -> list[str]:
    """Each text the next sheet draws, as drawn (after :func:`kernelcli.sheet_text.fit`), appended as it is drawn."""
    import kernelcli.sheet_text as sheet_text

    shown: list[str] = []
    fit = sheet_text.fit

    def fitted(*args, **kwargs):
        shown.append(fit(*args, **kwargs))
        return shown[-1]

    monkeypatch.setattr(sheet_text, "fit", fitted)
    return shown


def process_env(**extra: str) -> dict:
    """The environment of a ``python -m kernelcli`` process: this checkout first on PYTHONPATH, no worker."""
    import kernelcli

    env = dict(os.environ, KERNELCLI_WORKER="off", **extra)
    here = str(Path(kernelcli.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [here, env.get("PYTHONPATH")]))
    return env


#: ``--tiled`` or not, a command-line test's parameter: the tiled case skipped where dask (the ``[distributed]`` extra,
#: which ``--tiled`` needs) is not installed, as in the README's test venv without peers
TILED_OR_NOT = [[], pytest.param(["--tiled"], id="tiled", marks=pytest.mark.skipif(
    __import__("importlib.util").util.find_spec("dask") is None, reason="--tiled needs dask: pip install '.[distributed]'"))]


def empty_stdin_answers_as_an_empty_file(invoke, args: list[str], code: int) -> Any:
    """``COMMAND empty.png REST`` and ``COMMAND - REST`` (``args``: COMMAND, then REST) on an empty stdin, through the
    in-process runner ``invoke``: both exit ``code``, and stdin's stderr is the file's with ``stdin`` for its name (a
    pipe is refused as the file it stands for is); the stdin call's result."""
    command, rest = args[0], args[1:]
    on_file = invoke(command, "empty.png", *rest)
    on_stdin = invoke(command, "-", *rest)  # (the runner's stdin is empty)
    assert on_file.exit_code == code, on_file.output
    assert on_stdin.exit_code == code and on_stdin.stderr == on_file.stderr.replace("empty.png", "stdin"), \
        (on_stdin.output, on_file.output)
    return on_stdin


def refused_while_stdin_open(args: list[str], cwd: Path, data: bytes) -> tuple[int, str]:
    """``python -m kernelcli ARGS`` given ``data`` on a stdin that is never closed (a producer still writing): its exit
    code and stderr.  A call that waited for the stream's end would time out (60 s) instead of answering."""
    with subprocess.Popen([sys.executable, "-m", "kernelcli", *args], cwd=cwd, env=process_env(), stdin=subprocess.PIPE,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
        try:
            proc.stdin.write(data)
            proc.stdin.flush()
            code = proc.wait(timeout=60)
        finally:
            proc.kill()
        return code, proc.stderr.read().decode()


def private_runtime(tmp_path: Path, name: str = "run") -> dict:
    """An environment whose runtime folder is a fresh private one, named for ``tmp_path`` and ``name``.

    The folder is a short one in the system's temporary folder, removed as the tests end: a socket's path
    holds at most 107 bytes, and one under ``tmp_path`` (/tmp/pytest-of-root/pytest-1039/popen-gw0/test_socket_
    owned_by_another_u0/run/kernelcli/worker-XXXXXXXX.sock) passed it once pytest's run counter had 4 digits.
    """
    base = Path(tempfile.mkdtemp(prefix=f"kcw-{name}-"))
    os.chmod(base, 0o700)
    _RUNTIMES.append(base)
    (tmp_path / f"runtime-{name}").write_text(str(base))  # which folder this test's workers ran in
    return {"XDG_RUNTIME_DIR": str(base), "KERNELCLI_WORKER": "on"}


#: the runtime folders of this process's tests, removed at its exit (a worker left in one sees its socket go and exits)
_RUNTIMES: list[Path] = []
atexit.register(lambda: [shutil.rmtree(folder, ignore_errors=True) for folder in _RUNTIMES])


@pytest.fixture(scope="session")
def worker(tmp_path_factory):
    """A worker in its own runtime folder, shared by every test of this process that asks for one (test_worker*.py):
    the env that reaches it.  Tests count its calls from what it said before them, never from zero.  One per
    session, not per module: each start loads the whole cached core (5-9 s of a loaded 2-core box), and four
    modules started one each in every pytest-xdist process.  An hour's idle timeout: a process may go long
    between two of its tests that call it (the worker is stopped at the session's end)."""
    env = private_runtime(tmp_path_factory.mktemp("worker"))
    r = run_cli("worker", "start", "--idle-timeout", "3600", env=env, timeout=600)
    assert r.returncode == 0, r.stderr
    yield env
    run_cli("worker", "stop", env=env)


def run_cli(*args: str, cwd: Path | None = None, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run ``python -m kernelcli ARGS`` in a subprocess and capture its output."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    # The subprocess imports the kernelcli this test process imported (the working tree
    # under `python -m pytest`, the installed copy under `pytest`), whatever its cwd: `-P`
    # keeps a checkout in the cwd from shadowing it. A PYTHONPATH the test gives (a folder
    # that blocks an import, say) still comes first.
    import kernelcli

    here = str(Path(kernelcli.__file__).resolve().parent.parent)
    given = (env or {}).get("PYTHONPATH")
    inherited = os.environ.get("PYTHONPATH")
    full_env["PYTHONPATH"] = os.pathsep.join(filter(None, [given, here, inherited]))
    return subprocess.run(
        [sys.executable, "-P", "-m", "kernelcli", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def run_in_process(*args: str, cwd: Path | None = None, env: dict | None = None, input: bytes = b"") -> subprocess.CompletedProcess:
    """``kernelcli ARGS`` in this process, answered as :func:`run_cli` answers: exit code, stdout, stderr.

    The call takes the path ``python -m kernelcli`` takes (``kernelcli.cli._call``: the worker
    if one is up, the plain parser, then the app), in ``cwd``, with ``env`` added to the
    environment, ``input`` on stdin and text captured from stdout and stderr.  An exception the
    call lets through is written to stderr with its traceback and exits 1, as the interpreter
    does.  The environment, the folder, the standard streams and the signal handlers the call
    installs are put back.  For a test of what the CLI answers; a test of the process itself
    (signals, file descriptors, the interpreter's exit, the worker's socket) keeps ``run_cli``:
    a fresh interpreter costs about 0.4 s of CPU.

    >>> run_in_process("shape", "--in", "24", "--f", "5", "-q").stdout
    '20\\n'
    """
    import contextlib
    import io
    import signal
    import traceback

    from kernelcli import cli

    saved_env = dict(os.environ)
    saved_streams = sys.stdin, sys.stdout, sys.stderr
    saved_handlers = signal_handlers()
    out, err = io.BytesIO(), io.BytesIO()
    streams = (io.TextIOWrapper(io.BytesIO(input), encoding="utf-8"), io.TextIOWrapper(out, encoding="utf-8", write_through=True),
               io.TextIOWrapper(err, encoding="utf-8", write_through=True))  # held: a wrapper let go closes its buffer
    sys.stdin, sys.stdout, sys.stderr = streams
    try:
        os.environ.update(env or {})
        with contextlib.chdir(cwd or os.getcwd()):
            try:
                code = cli._call(list(args))
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
                if exc.code is not None and not isinstance(exc.code, int):
                    print(exc.code, file=sys.stderr)
            except Exception:  # noqa: BLE001 - what the interpreter would print, and its exit code
                traceback.print_exc()
                code = 1
        for stream in streams[1:]:
            stream.flush()
        answer = subprocess.CompletedProcess(["kernelcli", *args], code, out.getvalue().decode("utf-8"), err.getvalue().decode("utf-8"))
    finally:
        sys.stdin, sys.stdout, sys.stderr = saved_streams
        os.environ.clear()
        os.environ.update(saved_env)
        put_back_signal_handlers(saved_handlers)
    return answer


def signal_handlers() -> dict:
    """Every signal's handler in this process (SIGINT, SIGTERM, SIGHUP, and SIGALRM, SIGUSR1 ... which a call takes
    while it runs): what :func:`put_back_signal_handlers` gives back.  kernelcli.cli._start_stops' stops_found and
    restore_stops do the same for a call run in-process; the tests keep their own so that the net holds where that
    code is what broke."""
    found = {}
    for sig in range(1, signal.NSIG):
        try:
            found[sig] = signal.getsignal(sig)
        except (ValueError, OSError):
            pass
    return found


def put_back_signal_handlers(found: dict) -> list[int]:
    """Give back each handler of ``found`` (:func:`signal_handlers`) that differs now; returns those signals.  A signal
    left ignored here is ignored in every process a later test starts (a child inherits SIG_IGN): a call that ignored
    SIGALRM after its stop failed test_worker_audit220's SIGALRM tests and test_docs' kernelcli.cli._signals doctest
    further on in the same process (bfc7cbd).  SIGALRM held by a kept stop still to be raised again
    (kernelcli.stops) gets its handler when that stop gives it back: put back now, the stop's alarm would end pytest."""
    stops = sys.modules.get("kernelcli.stops")
    changed = []
    for sig, handler in found.items():
        if handler is None or signal.getsignal(sig) is handler:  # (None: set outside Python, cannot be put back)
            continue
        changed.append(sig)
        if stops is not None and hasattr(stops, "put_back"):
            stops.put_back(sig, handler)
        else:
            signal.signal(sig, handler)
    return changed


@pytest.fixture
def cli():
    """Fixture form of :func:`run_cli`."""
    return run_cli


def _click_command(app):
    """The click command of a Typer app, built once per app (Typer builds it anew on every
    ``CliRunner.invoke``: about 0.2 s each, most of a CLI test's time), with the value converters every real call
    has (:func:`kernelcli.cli._lean.lean_command`, as :func:`kernelcli.cli.build_command` gives them)."""
    import typer.main

    from kernelcli.cli._lean import lean_command

    command = _COMMANDS.get(id(app))
    if command is None:
        command = _COMMANDS[id(app)] = (app, lean_command(typer.main.get_command(app)))
    return command[1]


_COMMANDS: dict = {}


try:
    import typer.testing as _typer_testing
except ImportError:  # pragma: no cover - typer is a dependency
    _typer_testing = None


if _typer_testing is not None:

    class CliRunner(_typer_testing.CliRunner):
        """Typer's CliRunner, with the app's click command built once (the same command Typer builds)."""

        def invoke(self, app, args=None, **kwargs):  # type: ignore[override]
            import typer

            if not isinstance(app, typer.Typer):
                return super().invoke(app, args=args, **kwargs)
            # typer <= 0.24 runs on click's CliRunner, which takes the built command
            click_runner = next((c for c in type(self).__mro__ if c.__module__ == "click.testing"), None)
            if click_runner is not None:
                return click_runner.invoke(self, _click_command(app), args=args, **kwargs)
            # later typers carry their own runner, whose invoke builds the command from the app
            # through typer.testing's own name for typer.main.get_command: given the one built here
            build = _typer_testing.__dict__.get("_get_command")
            if build is None:
                return super().invoke(app, args=args, **kwargs)
            _typer_testing._get_command = lambda given: _click_command(given) if given is app else build(given)
            try:
                return super().invoke(app, args=args, **kwargs)
            finally:
                _typer_testing._get_command = build


class MachineAsked(Exception):
    """Raised, with the call's arguments (bytes needed, what for), where :func:`kernelcli.limits.check_machine` was
    asked: a test of how much a call asks for, before it allocates anything (fixture ``machine_asked``)."""


@pytest.fixture
def machine_asked(monkeypatch):
    """``limits.check_machine`` replaced by one that raises :class:`MachineAsked` with what it was asked."""
    from kernelcli import limits

    def check_machine(need, what):
        raise MachineAsked(need, what)

    monkeypatch.setattr(limits, "check_machine", check_machine)
    return MachineAsked


@pytest.fixture
def runner():
    """A CliRunner over the kernelcli app (stderr kept apart from stdout)."""
    return CliRunner()


def write_nifti(path, shape=(6, 7, 8), spacing=(2.5, 0.8, 0.7), seed=4):
    """A (Z, Y, X) ``shape`` volume of random float32 values 0..100 as a NIfTI at ``path`` (skips without nibabel), its
    voxel ``spacing`` in mm in (z, y, x) order; returns ``path``."""
    import numpy as np

    nib = pytest.importorskip("nibabel")
    x = np.random.default_rng(seed).random(shape).astype(np.float32) * 100
    img = nib.Nifti1Image(x.transpose(2, 1, 0), np.diag([*spacing[::-1], 1.0]))
    img.header.set_xyzt_units("mm")
    nib.save(img, str(path))
    return path


def run_piped(*args: str, cwd: Path, data: bytes | None = b"", stdin=None) -> subprocess.CompletedProcess:
    """``python -m kernelcli ARGS`` in a process of its own, ``data`` (or the file ``stdin``) on stdin: stdout as bytes,
    stderr as text (the pipe tests' one runner)."""
    r = subprocess.run([sys.executable, "-m", "kernelcli", *args], input=data if stdin is None else None, stdin=stdin,
                       capture_output=True, cwd=cwd, env=process_env(), timeout=120)
    r.stderr = r.stderr.decode()
    return r


def zarr_group(folder: Path) -> Path:
    """A Zarr group ``grp.zarr`` in ``folder`` holding one array ``img`` (5x5 uint8), for the tests of outputs named
    inside a store (skips without zarr); returns the group's path."""
    zarr = pytest.importorskip("zarr")
    group = zarr.open_group(str(folder / "grp.zarr"), mode="w")
    group.create_array("img", shape=(5, 5), dtype="u1")
    return folder / "grp.zarr"


#: a Zarr v3 group's metadata, all a folder needs to be a store (no zarr needed to write it)
GROUP_METADATA = '{"zarr_format": 3, "node_type": "group", "attributes": {}}'


def small_png(path: Path) -> Path:
    """An 8x8 grey PNG at ``path`` (its folders made); returns ``path``."""
    import numpy as np
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.arange(64, dtype="uint8").reshape(8, 8) * 3).save(path)
    return path


def listing(folder: Path) -> list[str]:
    """Every path under ``folder``, relative to it and sorted: what a refused call must leave as it was."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def pixels(path, mode=None):
    """An image file's pixels as a numpy array (closing the file)."""
    import numpy as np
    from PIL import Image

    with Image.open(path) as im:
        return np.asarray(im.convert(mode) if mode else im).copy()


@pytest.fixture(autouse=True)
def no_stop_received_before():
    """Every test starts as a call does, with no stop signal received: a call run through ``kernelcli.cli.main``
    forgets earlier ones (``install_signal_handlers``), but the ``invoke`` fixture runs the app itself, and a SIGTERM
    an earlier test of this process noted (tests/test_tiled_signals.py) turned its next exception into 'terminated
    (SIGTERM)', exit 143 (``stops.stop_replaced_by``): 20 tests of test_finish_audit225.py failed after it."""
    stops = sys.modules.get("kernelcli.stops")  # (not imported: nothing noted)
    if stops is not None:
        stops.forget()
    yield


@pytest.fixture(autouse=True)
def signal_handlers_as_found():
    """Every test leaves this process's signal handlers as it found them (:func:`put_back_signal_handlers`): a test
    that runs ``kernelcli.cli.entry()`` in-process, stopped, leaves SIGTERM, SIGHUP, Ctrl-C and SIGALRM, SIGUSR1 ...
    ignored, as that entry does in the process it is about to end, and every child a later test starts would inherit
    them ignored."""
    found = signal_handlers()
    yield
    put_back_signal_handlers(found)


@pytest.fixture
def invoke(runner, monkeypatch, tmp_path):
    """Run the app in-process inside ``tmp_path``: ``invoke("convolve", ...)``."""
    from kernelcli.cli import app

    monkeypatch.chdir(tmp_path)

    def run(*args):
        return runner.invoke(app, [str(a) for a in args], prog_name="kernelcli")

    return run
