"""The warm worker: same bytes, output and exit code as without it; every failure runs the
call in-process, silently; never serves another user."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from kernelcli.worker import client, control, protocol

from conftest import REPO, SAMPLES, interruptible, private_runtime, run_cli

pytestmark = pytest.mark.skipif(not hasattr(socket, "AF_UNIX") or os.name != "posix", reason="Unix sockets")

SERVE = control._SERVE


def socket_file(env: dict) -> Path:
    return Path(env["XDG_RUNTIME_DIR"]) / "kernelcli" / Path(protocol.socket_path("x")).name


def cli_env() -> dict:
    """What run_cli gives the subprocess (the worker must see the same import-time settings)."""
    import kernelcli

    env = dict(os.environ)
    here = str(Path(kernelcli.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [here, env.get("PYTHONPATH")]))
    return env


def share_compiled_core(package: Path, copy: Path) -> None:
    """Give a copy of the package (sources copied with their times, as ``shutil.copy2`` does) what
    Numba compiled for the package, so that a worker running the copy loads its core instead of
    compiling all of it in its warm-up (about 150 s at load 3).  Numba's cache beside the sources
    (``__pycache__``) came with the copy; one under ``NUMBA_CACHE_DIR`` is found by the sources'
    folder, so each folder's part is copied to where the copy's sources look for it."""
    root = os.environ.get("NUMBA_CACHE_DIR")
    if not root:
        return
    from numba.core.caching import UserProvidedCacheLocator

    for source in package.rglob("*.py"):
        ours = Path(root) / UserProvidedCacheLocator.get_suitable_cache_subpath(str(source))
        theirs = Path(root) / UserProvidedCacheLocator.get_suitable_cache_subpath(str(copy / source.relative_to(package)))
        if ours.is_dir() and not theirs.exists():
            shutil.copytree(ours, theirs)


def serve_a_copy(tmp_path: Path, change=None, idle_seconds: float = 60):
    """A worker running a copy of this package (``change(package)`` made to the copy first) on the
    socket this package's client uses: (the copy's package folder, the env, the socket, the process)."""
    package = Path(control.__file__).resolve().parents[1]
    copy = tmp_path / "other" / "kernelcli"
    shutil.copytree(package, copy, copy_function=shutil.copy2)
    if change is not None:
        change(copy)
    share_compiled_core(package, copy)
    env = private_runtime(tmp_path)
    path = socket_file(env)
    path.parent.mkdir(mode=0o700)
    server = subprocess.Popen([sys.executable, "-c", SERVE, str(copy.parent), str(path), str(idle_seconds)],
                              env={**cli_env(), **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return copy, env, path, server


def leave_stale_socket(env: dict) -> None:
    """A socket bound and never listening in ``env``'s runtime folder: what a killed worker leaves."""
    path = socket_file(env)
    path.parent.mkdir(mode=0o700)
    with socket.socket(socket.AF_UNIX) as s:
        s.bind(str(path))


def status(env: dict) -> dict | None:
    return control._ask(socket_file(env), {"op": "status"}, timeout=30.0)  # a loaded machine answers late


def normalised(text: str) -> str:
    """Timings differ from run to run: the summary line's "12.3 ms", JSON's "seconds": 0.01."""
    text = re.sub(r'"seconds": [0-9.e+-]+', '"seconds": T', text)
    # said by whichever process first finds Numba's cache empty (history, worker or not)
    text = re.sub(r"kernelcli: compiling the [^\n]*\n", "", text)
    return re.sub(r"\b\d+(\.\d+)? (ms|s)\b", "T", text)


def make_inputs(folder: Path) -> None:
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(7)
    Image.fromarray(rng.integers(0, 256, (96, 128, 3), dtype=np.uint8)).save(folder / "photo.jpg", quality=90)
    Image.fromarray(rng.integers(0, 256, (600, 500), dtype=np.uint8)).save(folder / "big.png")
    np.save(folder / "target.npy", rng.normal(size=(40, 40)))
    np.save(folder / "source.npy", rng.normal(size=(40, 40)))
    (folder / "exists.png").write_bytes(b"x")


#: one call of every command, successes and failures (exit 2, 3, 4)
CALLS = [
    ["convolve", f"{SAMPLES}/phantom.png", "-k", "sobel_v", "-o", "edges.png"],
    ["convolve", "big.png", "-k", "gaussian:3", "-o", "big.npy"],
    ["convolve", "photo.jpg", "-k", "sobel_h", "--rescale", "abs", "-o", "photo_out.png"],
    ["convolve", f"{SAMPLES}/example1.csv", "--kernel", "prewitt_v", "--padding", "valid"],
    ["convolve", f"{SAMPLES}/rgb.png", "-k", "box:5", "--json"],
    ["convolve", f"{SAMPLES}/phantom.png", "-k", "sobel_v", "-o", "exists.png"],
    ["convolve", "missing.png", "-k", "sobel_v"],
    ["convolve", f"{SAMPLES}/phantom.png", "-k", "no_such_kernel"],
    ["pad", f"{SAMPLES}/example2.csv", "--p", "1"],
    ["pool", f"{SAMPLES}/phantom16.png", "--op", "avg", "--size", "2", "-o", "pooled.png"],
    ["shape", "--in", "24", "--f", "5", "--s", "2", "--same"],
    ["params", "--in-ch", "228", "--filters", "32"],
    ["kernels", "--family", "gaussian"],
    ["kernels", "show", "sobel_v"],
    ["summary", "resnet18", "--depth", "1"],
    ["gallery", f"{SAMPLES}/phantom.png", "--family", "edge", "--out", "sheet.png"],
    ["learn", "source.npy", "target.npy", "--size", "3"],
    ["volume", f"{SAMPLES}/phantom3d.nii.gz", "--kernel", "sobel_3d", "--window", "0,400", "--out", "edges3d.png"],
    ["convolve", f"{SAMPLES}/phantom.png", "-k", "gaussian:1", "--then", "maxpool:2", "--then", "sobel_h", "-o", "chain.png"],
    ["convolve", f"{SAMPLES}/rgb.png", "-k", "sobel_v", "-k", "sobel_h", "--montage", "maps.png", "-o", "maps.npy"],
    ["pool", "big.png", "--op", "avg", "--size", "2", "-o", "big_avg.png", "--compress", "best"],
    # exact calls: a fresh process takes numpy, the worker (its core loaded) the jitted loops
    ["convolve", "big.png", "-k", "sobel_v", "-o", "big_sobel.npy"],
    ["pool", "big.png", "--op", "max", "--size", "3", "--stride", "1", "-o", "big_max.png"],
    ["convolve", "photo.jpg", "-k", "box:3", "-o", "photo_q.jpg", "--quality", "60"],
    ["--version"],
    ["convolve", "--help"],
    ["pool", f"{SAMPLES}/phantom.png", "--size", "0"],
]


def _what_differs(warm: bytes, cold: bytes) -> str:
    """For a failure's message: whether two PNGs differ in their pixels or only in their compressed bytes
    (a difference seen once in a loaded full run, not reproduced alone: this says which, next time)."""
    import io

    import numpy as np
    from PIL import Image

    if not (warm.startswith(b"\x89PNG") and cold.startswith(b"\x89PNG")):
        return "not two PNGs"
    a, b = (np.asarray(Image.open(io.BytesIO(data))) for data in (warm, cold))
    if a.shape != b.shape or a.dtype != b.dtype:
        return f"pixels differ: {a.shape} {a.dtype} against {b.shape} {b.dtype}"
    differ = int(np.count_nonzero(a != b))
    chunks = [(warm[i + 4:i + 8], int.from_bytes(warm[i:i + 4], "big")) for i in _chunk_offsets(warm)]
    other = [(cold[i + 4:i + 8], int.from_bytes(cold[i:i + 4], "big")) for i in _chunk_offsets(cold)]
    return f"{differ} pixels differ; chunks warm {chunks} cold {other}; {_stream_difference(warm, cold)}"


def _stream_difference(warm: bytes, cold: bytes) -> str:
    """Where two PNGs' bytes part, and whether their inflated IDAT streams (each row's filter byte, then its
    filtered bytes) are equal: a deflate stream that differs alone, or a row filtered another way."""
    import zlib

    first = next((i for i, (a, b) in enumerate(zip(warm, cold)) if a != b), min(len(warm), len(cold)))
    places = [i for i, (a, b) in enumerate(zip(warm, cold)) if a != b][:8]
    said = f"bytes part at {first} (warm {warm[first:first + 8].hex()} cold {cold[first:first + 8].hex()}), " \
           f"differing offsets {places}"
    try:
        inflated = [zlib.decompress(b"".join(png[i + 8:i + 8 + int.from_bytes(png[i:i + 4], "big")]
                                             for i in _chunk_offsets(png) if png[i + 4:i + 8] == b"IDAT"))
                    for png in (warm, cold)]
    except zlib.error as exc:
        return f"{said}; IDAT not inflated: {exc}"
    if inflated[0] == inflated[1]:
        return f"{said}; inflated IDAT equal ({len(inflated[0])} bytes): only the deflate stream differs"
    at = next((i for i, (a, b) in enumerate(zip(*inflated)) if a != b), min(map(len, inflated)))
    return f"{said}; inflated IDAT differ from byte {at} (lengths {[len(x) for x in inflated]})"


def _chunk_offsets(png: bytes) -> list[int]:
    offsets, at = [], 8
    while at + 8 <= len(png):
        offsets.append(at)
        at += 12 + int.from_bytes(png[at:at + 4], "big")
    return offsets


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> Path:
    """The inputs :data:`CALLS` read (:func:`make_inputs`), made once; each call gets copies beside its outputs."""
    folder = tmp_path_factory.mktemp("inputs")
    make_inputs(folder)
    return folder


#: each call's exit code: every kind of answer (0, and refusals 2, 3, 4) is compared, not only successes
CODES = [0, 0, 0, 0, 0, 4, 2, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]


@pytest.mark.parametrize(("call", "code"), list(zip(CALLS, CODES, strict=True)), ids=[" ".join(c)[:60] for c in CALLS])
def test_every_command_gives_the_same_bytes_with_and_without_the_worker(worker, inputs, tmp_path, call, code):
    """One case per call (pytest-xdist spreads them; one test of all 27 held a core for 15-80 s at the run's end)."""
    pytest.importorskip("nibabel")
    served = status(worker)["calls"]
    outputs = {}
    for label, extra in (("warm", worker), ("cold", {"KERNELCLI_WORKER": "off"})):
        folder = tmp_path / label
        shutil.copytree(inputs, folder)
        r = run_cli(*call, cwd=folder, env=extra)
        outputs[label] = (
            (r.returncode, normalised(r.stdout), normalised(r.stderr)),
            {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()},
        )
    assert status(worker)["calls"] == served + 1  # the worker really ran the call
    if Path("/proc/self/pagemap").exists():  # each spare wrote ahead what a call writes (kernelcli.worker.prefault)
        assert status(worker)["pages_written_ahead"] > 100
    (warm_run, warm_files), (cold_run, cold_files) = outputs["warm"], outputs["cold"]
    assert warm_run == cold_run
    assert warm_run[0] == code, warm_run
    assert sorted(warm_files) == sorted(cold_files)
    for name in warm_files:
        assert warm_files[name] == cold_files[name], f"{name}: {_what_differs(warm_files[name], cold_files[name])}"


def test_the_calls_compared_take_every_kind_of_answer():
    assert set(CODES) == {0, 2, 3, 4} and len(CODES) == len(CALLS)


def test_the_warm_up_leaves_nothing_to_load_for_a_decoded_photo(tmp_path):
    """A decoded image is read-only, the core's remembered maps too: the signatures a real call
    brings are loaded once in the worker, not loaded (or compiled) again in every call's process."""
    import numpy as np
    from PIL import Image

    Image.fromarray(np.random.default_rng(0).integers(0, 256, (700, 900, 3), dtype=np.uint8)).save(tmp_path / "p.jpg")
    script = (
        "import sys, numba\n"
        "from kernelcli.worker import warmup\n"
        "command = warmup.warm_up()\n"
        "def loaded():\n"
        "    return {(m.__name__, n, str(s)) for m in list(sys.modules.values()) if m and m.__name__.startswith('kernelcli._core')\n"
        "            for n, f in list(vars(m).items()) if isinstance(f, numba.core.dispatcher.Dispatcher) for s in f.signatures}\n"
        "before = loaded()\n"
        "from kernelcli.cli import run\n"
        "for args in (['convolve', 'p.jpg', '-k', 'sobel_v', '-o', 'o.jpg'], ['convolve', 'p.jpg', '-k', 'gaussian_5x5', '-o', 'g.png'],\n"
        "             ['pool', 'p.jpg', '--size', '2', '-o', 'm.png'], ['pad', 'p.jpg', '-p', '3', '-o', 'pad.png']):\n"
        "    assert run(args + ['-q'], command=command) == 0, args\n"
        "print(sorted(loaded() - before))\n"
    )
    r = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=cli_env(), capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().splitlines()[-1] == "[]"


def test_pipes_through_the_worker(worker, tmp_path):
    """stdin and stdout are the caller's own: `cat x.png | kernelcli convolve - -o - | ...`."""
    data = (SAMPLES / "phantom.png").read_bytes()
    served = status(worker)["calls"]
    runs = []
    for extra in (worker, {"KERNELCLI_WORKER": "off"}):
        runs.append(subprocess.run([sys.executable, "-m", "kernelcli", "convolve", "-", "-k", "sobel_v", "-o", "-", "--format", "png"],
                                   input=data, capture_output=True, env={**cli_env(), **extra}, cwd=tmp_path))
    assert runs[0].returncode == 0 and runs[0].stdout.startswith(b"\x89PNG")
    assert (runs[0].returncode, runs[0].stdout) == (runs[1].returncode, runs[1].stdout), _what_differs(runs[0].stdout, runs[1].stdout)
    assert status(worker)["calls"] == served + 1


def test_stdin_redirected_from_the_output_file_is_refused_with_and_without_the_worker(worker, tmp_path):
    """`kernelcli convolve - -o a.png --force < a.png` overwrote a.png (exit 0): stdin's file is an input."""
    original = (SAMPLES / "phantom.png").read_bytes()
    (tmp_path / "a.png").write_bytes(original)
    served = status(worker)["calls"]
    for extra in (worker, {"KERNELCLI_WORKER": "off"}):
        with open(tmp_path / "a.png", "rb") as stdin:
            r = subprocess.run([sys.executable, "-m", "kernelcli", "convolve", "-", "-k", "sobel_v", "-o", "a.png", "--force"],
                               stdin=stdin, capture_output=True, env={**cli_env(), **extra}, cwd=tmp_path)
        assert r.returncode == 4 and b"a.png: is the input read on stdin (same file)" in r.stderr, r.stderr
        assert (tmp_path / "a.png").read_bytes() == original
    assert status(worker)["calls"] == served + 1


def test_ctrl_c_reaches_the_call(worker, tmp_path):
    """SIGINT to the client is relayed to the call's process, which exits 130 as a fresh one does."""
    import numpy as np

    rng = np.random.default_rng(5)
    np.save(tmp_path / "x.npy", rng.normal(size=(256, 256)))
    np.save(tmp_path / "y.npy", rng.normal(size=(256, 256)))
    before = set(status(worker)["calls_in_progress"])
    call = subprocess.Popen([sys.executable, "-m", "kernelcli", "learn", "x.npy", "y.npy", "--size", "3", "--method", "gd", "--epochs", "100000"],
                            cwd=tmp_path, env={**cli_env(), **worker}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=interruptible)
    try:
        wait_for(lambda: set(status(worker)["calls_in_progress"]) - before, timeout=60)
        call.send_signal(signal.SIGINT)
        out, err = call.communicate(timeout=60)
    finally:  # (a client the signal missed ran its 100,000 epochs on: a full run sat at 99% behind it)
        if call.poll() is None:
            call.kill()
            call.communicate()
    assert call.returncode == 130 and "interrupted" in err, err
    wait_for(lambda: not set(status(worker)["calls_in_progress"]) - before, timeout=30)


def test_two_calls_at_once_run_side_by_side(worker, tmp_path):
    """A call that waits (for its stdin here) does not hold up the next one: each runs in a process
    of its own.  Deterministic: the first call cannot end before the second has (its stdin stays open)."""
    calls = status(worker)["calls"]
    before = set(status(worker)["calls_in_progress"])
    waiting = subprocess.Popen([sys.executable, "-m", "kernelcli", "convolve", "-", "-k", "sobel_v"], cwd=tmp_path,
                               env={**cli_env(), **worker}, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        wait_for(lambda: set(status(worker)["calls_in_progress"]) - before, timeout=60)
        r = run_cli("shape", "--in", "24", "--f", "5", "-q", env=worker, timeout=120)
        assert (r.returncode, r.stdout, r.stderr) == (0, "20\n", "")
        assert waiting.poll() is None and status(worker)["calls"] == calls + 2
    finally:
        out, err = waiting.communicate(b"1 2 3\n4 5 6\n7 8 9\n", timeout=120)
    alone = subprocess.run([sys.executable, "-m", "kernelcli", "convolve", "-", "-k", "sobel_v"], check=False, cwd=tmp_path,
                           env={**cli_env(), "KERNELCLI_WORKER": "off"}, input=b"1 2 3\n4 5 6\n7 8 9\n", capture_output=True)
    assert (waiting.returncode, out) == (0, alone.stdout) and alone.returncode == 0
    assert normalised(err.decode()) == normalised(alone.stderr.decode())


@pytest.mark.skipif((len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1) < 2,
                    reason="a spare is forked beside a running call only with a CPU to spare")
def test_the_next_calls_process_is_forked_while_a_call_runs(worker, tmp_path):
    """A shell loop's next call finds its process forked and written ahead (:mod:`kernelcli.worker.prefault`)
    during the call before, not after it: the call that waits for its stdin here leaves a spare
    ready, and the next call runs in it."""
    before = set(status(worker)["calls_in_progress"])
    waiting = subprocess.Popen([sys.executable, "-m", "kernelcli", "convolve", "-", "-k", "sobel_v"], cwd=tmp_path,
                               env={**cli_env(), **worker}, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        wait_for(lambda: set(status(worker)["calls_in_progress"]) - before)
        wait_for(lambda: status(worker)["spare_ready"])
        now = status(worker)
        spare, unready = now["spare_pid"], now["calls_without_a_spare"]
        assert spare not in now["calls_in_progress"]
        r = run_cli("shape", "--in", "24", "--f", "5", "-q", env=worker, timeout=300)
        assert (r.returncode, r.stdout) == (0, "20\n")
        after = status(worker)
        assert after["calls"] == now["calls"] + 1 and after["calls_without_a_spare"] == unready  # the spare took it
    finally:
        waiting.communicate(b"1 2 3\n", timeout=120)


#: a client whose Ctrl-C lands just after it sent the call, before it knows the call's process
EARLY_CTRL_C = (
    "import signal, sys\n"
    "from kernelcli.worker import client\n"
    "real = client.protocol.send\n"
    "def send(sock, message, fds=()):\n"
    "    real(sock, message, fds)\n"
    "    if message.get('op') == 'run':\n"
    "        signal.raise_signal(signal.SIGINT)\n"
    "client.protocol.send = send\n"
    "sys.argv = ['kernelcli', *sys.argv[1:]]\n"
    "from kernelcli.cli import main\nmain()\n"
)


@pytest.mark.parametrize("where", ["worker", "refused"])
def test_ctrl_c_before_the_call_started(worker, tmp_path, where):
    """Regression (CI: a traceback and -SIGINT): Ctrl-C between the request and the worker's
    answer reaches the call's process once it is known; if the worker refuses the call, it
    acts here.  Either way: "error: interrupted", exit 130, as a fresh process."""
    import numpy as np

    rng = np.random.default_rng(5)
    np.save(tmp_path / "x.npy", rng.normal(size=(64, 64)))
    np.save(tmp_path / "y.npy", rng.normal(size=(64, 64)))
    env = {**cli_env(), **worker, **({"NUMBA_NUM_THREADS": "1"} if where == "refused" else {})}
    calls, refused = status(worker)["calls"], status(worker)["refused"]
    r = subprocess.run([sys.executable, "-P", "-c", EARLY_CTRL_C, "learn", "x.npy", "y.npy", "--size", "3", "--method", "gd",
                        "--epochs", "100000"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
                       preexec_fn=interruptible)
    assert (r.returncode, r.stderr) == (130, "error: interrupted\n")
    assert (status(worker)["calls"], status(worker)["refused"]) == ((calls + 1, refused) if where == "worker" else (calls, refused + 1))


@pytest.mark.parametrize("call", [["shape", "--in", "24", "--f", "5"], ["kernels"]], ids=" ".join)
def test_a_stdout_closed_at_start_is_answered_as_without_the_worker(worker, call):
    """``kernelcli shape ... >&-`` with a worker running: the socket took the closed descriptor's
    number, the check of fds 0-2 passed, and the client crashed on ``sys.stdout.flush()`` (None)
    with a traceback.  Now the call runs in-process, as it does without a worker: an output that
    cannot be written (exit 1, one line; ``shape`` exited 0 with its answer lost, ``kernels`` 70)."""
    argv = [sys.executable, "-m", "kernelcli", *call]
    calls = status(worker)["calls"]
    answers = []
    for switch in ("on", "off"):
        env = {**cli_env(), **worker, "KERNELCLI_WORKER": switch}
        r = subprocess.run(["bash", "-c", 'exec >&-; exec "$@"', "-", *argv],
                           cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=False)
        answers.append((r.returncode, r.stderr))
    assert answers == [(1, "error: stdout: cannot write: Bad file descriptor\n")] * 2
    assert status(worker)["calls"] == calls


def test_the_client_imports_neither_numpy_nor_typer(worker):
    probe = (
        "import sys, atexit\n"
        "atexit.register(lambda: print(sorted(m for m in ('numpy', 'numba', 'typer', 'click', 'rich', 'PIL') if m in sys.modules), file=sys.stderr))\n"
        "sys.argv = ['kernelcli', 'shape', '--in', '24', '--f', '5', '-q']\n"
        "from kernelcli.cli import main\nmain()\n"
    )
    env = {**cli_env(), **worker}
    r = subprocess.run([sys.executable, "-P", "-c", probe], capture_output=True, text=True, env=env, cwd=REPO)
    assert r.returncode == 0 and r.stdout == "20\n"
    assert r.stderr.strip() == "[]"


def test_the_client_imports_only_what_a_bare_interpreter_builds_in(worker):
    """A shell loop pays every import of the client: the json, socket, signal and pathlib
    modules (with re and enum behind them) cost more than a warm call itself."""
    probe = (
        "import sys\n"
        "before = set(sys.modules)\n"
        f"sys.prefix = {sys.prefix!r}\n"  # without site a venv's python reports the base prefix: the worker's socket is the venv's
        "sys.argv = ['kernelcli', 'shape', '--in', '24', '--f', '5', '-q']\n"
        "import atexit\n"
        "atexit.register(lambda: print(sorted(set(sys.modules) - before - {'atexit'}), file=sys.stderr))\n"
        "from kernelcli.cli import main\nmain()\n"
    )
    env = {**cli_env(), **worker}
    # (not -S: a caller without site has other interpreter options, and an import path without the libraries the
    # worker loaded; it runs its call itself, audit 232 #1 and #5; what site imported is in ``before``)
    r = subprocess.run([sys.executable, "-P", "-c", probe], capture_output=True, text=True, env=env, cwd=REPO)
    assert r.returncode == 0 and r.stdout == "20\n", r.stderr
    imported = set(eval(r.stderr.strip().splitlines()[-1]))
    site = {"os", "os.path", "posixpath", "genericpath", "stat", "_stat", "_collections_abc"}  # what site imports anyway
    # not struct, resource (0.7 and 0.6 ms of CPU each) nor zlib (the code stamp, now the worker's: kernelcli.worker.watch)
    assert {m for m in imported if not m.startswith("kernelcli")} <= site | {"__future__", "_socket"}


def test_the_client_ends_without_the_teardown_and_runs_its_atexit_functions(worker, tmp_path):
    """After a call the worker ran, the console script's process ends as a finished plain call does
    (kernelcli.cli.leave): its atexit functions run and what it wrote is flushed, and the interpreter's
    teardown (2 ms of CPU a call) is skipped: an object's finaliser in __main__ never runs."""
    mark = tmp_path / "atexit.txt"
    script = (
        "import atexit, os, sys\n"
        "class Torn:\n"
        "    def __del__(self):\n"
        "        os.write(2, b'torn down\\n')\n"
        "keep = Torn()\n"
        f"atexit.register(lambda: open({str(mark)!r}, 'w').write('ran'))\n"
        "sys.stdout.write('before ')\n"  # buffered: flushed before the call's own output
        "sys.argv = ['kernelcli', 'shape', '--in', '24', '--f', '5', '-q']\n"
        "from kernelcli.cli import entry\nentry()\n"
    )
    calls = status(worker)["calls"]
    r = subprocess.run([sys.executable, "-c", script], check=False, capture_output=True, text=True, env={**cli_env(), **worker},
                       cwd=tmp_path, timeout=120)
    assert (r.returncode, r.stdout, r.stderr) == (0, "before 20\n", "")
    assert mark.read_text() == "ran" and status(worker)["calls"] == calls + 1


@pytest.mark.parametrize("setting", [("NUMBA_NUM_THREADS", "1"), ("NPY_DISABLE_CPU_FEATURES", "AVX512_SKX"),
                                     ("NUMPY_MADVISE_HUGEPAGE", "0"), ("KMP_AFFINITY", "disabled")])
def test_different_import_time_settings_run_in_process(worker, setting):
    # (audit 162 #1: numpy reads NPY_DISABLE_CPU_FEATURES as it is imported; a warm call kept the worker's: other bytes)
    before = status(worker)["refused"]
    r = run_cli("shape", "--in", "24", "--f", "5", "-q", env={**worker, setting[0]: setting[1]})
    assert (r.returncode, r.stdout, r.stderr) == (0, "20\n", "")
    assert status(worker)["refused"] == before + 1


def test_a_tight_open_files_limit_runs_in_process_with_the_same_bytes(worker, tmp_path):
    """The worker audit: under ulimit -n 20 a batch's pool failed in the worker's call (its inotify watches and its
    connection are descriptors a fresh process does not hold): a forkserver traceback and a note only there."""
    import resource

    (tmp_path / "scans").mkdir()
    for name in ("phantom.png", "rgb.png"):
        (tmp_path / "scans" / name).write_bytes((SAMPLES / name).read_bytes())
    tight = lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (20, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))  # noqa: E731
    results = []
    for where, folder in (("on", "d1"), ("off", "d2")):
        before = status(worker)["refused"]
        r = subprocess.run([sys.executable, "-P", "-m", "kernelcli", "convolve", "scans", "-k", "sobel_v", "-d", folder,
                            "--workers", "2"],
                           capture_output=True, env={**cli_env(), **worker, "KERNELCLI_WORKER": where},
                           cwd=tmp_path, timeout=120, preexec_fn=tight)
        assert r.returncode == 0 and b"Traceback" not in r.stderr, r.stderr
        results.append((r.stdout.replace(folder.encode() + b"/", b"X/"), normalised(r.stderr.decode())))
        if where == "on":
            assert status(worker)["refused"] == before + 1
    assert results[0] == results[1]
    assert (tmp_path / "d1" / "phantom_sobel_v.png").read_bytes() == (tmp_path / "d2" / "phantom_sobel_v.png").read_bytes()
    # and without the worker, at 18: the forkserver's EOFError traceback reached stderr
    tighter = lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (18, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))  # noqa: E731
    r = subprocess.run([sys.executable, "-P", "-m", "kernelcli", "convolve", "scans", "-k", "sobel_v", "-d", "out18", "--workers", "2"],
                       capture_output=True, text=True, env={**cli_env(), "KERNELCLI_WORKER": "off"}, cwd=tmp_path, timeout=120,
                       preexec_fn=tighter)
    assert r.returncode == 0 and "Traceback" not in r.stderr and "could not be started; running in one process" in r.stderr, r.stderr


def test_status_and_the_off_switch(worker):
    r = run_cli("worker", "status", "--json", env=worker)
    assert r.returncode == 0 and '"running": true' in r.stdout
    calls = status(worker)["calls"]
    run_cli("shape", "--in", "24", "--f", "5", "-q", env={**worker, "KERNELCLI_WORKER": "off"})
    assert status(worker)["calls"] == calls


class TestFallback:
    def test_no_worker_is_silent(self, tmp_path):
        env = private_runtime(tmp_path)
        r = run_cli("shape", "--in", "24", "--f", "5", "-q", env=env)
        assert (r.returncode, r.stdout, r.stderr) == (0, "20\n", "")
        r = run_cli("worker", "status", env=env)
        assert r.returncode == 1 and "not running" in r.stderr

    def test_stale_socket(self, tmp_path):
        env = private_runtime(tmp_path)
        leave_stale_socket(env)
        r = run_cli("shape", "--in", "24", "--f", "5", "-q", env=env)
        assert (r.returncode, r.stdout, r.stderr) == (0, "20\n", "")
        r = run_cli("--debug", "shape", "--in", "24", "--f", "5", "-q", env=env)
        assert r.returncode == 0 and r.stdout == "20\n" and "stale socket" in r.stderr

    def test_socket_owned_by_another_user(self, tmp_path):
        if os.getuid() != 0:
            pytest.skip("needs root to give a file to another user")
        env = private_runtime(tmp_path)
        path = socket_file(env)
        path.parent.mkdir(mode=0o700)
        with socket.socket(socket.AF_UNIX) as s:
            s.bind(str(path))
            s.listen()
            os.chown(path, 65534, 65534)
            r = run_cli("--debug", "shape", "--in", "24", "--f", "5", "-q", env=env)
        assert r.returncode == 0 and r.stdout == "20\n" and "not a socket of this user" in r.stderr

    def test_runtime_folder_open_to_others(self, tmp_path):
        env = private_runtime(tmp_path)
        folder = socket_file(env).parent
        folder.mkdir(mode=0o755)
        folder.chmod(0o755)
        r = run_cli("shape", "--in", "24", "--f", "5", "-q", env=env)
        assert (r.returncode, r.stdout, r.stderr) == (0, "20\n", "")
        r = run_cli("worker", "start", env=env)
        # it named $XDG_RUNTIME_DIR, the folder that is fine, not the kernelcli folder in it that is not; and start and
        # stop said it as a failed file job (exit 1; --json printed convolve's record): a setting to fix, exit 2
        assert r.returncode == 2 and "0700" in r.stderr and r.stderr.startswith(f"error: kernelcli worker: not used: {folder}:"), r.stderr
        for command in ("start", "stop"):
            r = run_cli("worker", command, "--json", env=env)
            assert r.returncode == 2 and json.loads(r.stdout) == {"running": False, "unusable": json.loads(r.stdout)["unusable"]}
            assert json.loads(r.stdout)["unusable"].startswith(f"{folder}: has mode 0755")
        r = run_cli("--debug", "shape", "--in", "24", "--f", "5", "-q", env=env)  # --debug said nothing
        assert r.stdout == "20\n" and f"{folder} has mode 0755 (chmod 700 it), not a private folder" in r.stderr, r.stderr
        # status said "not running", also of a worker started before the folder's mode changed (it runs, unused)
        r = run_cli("worker", "status", env=env)
        assert (r.returncode, r.stdout) == (1, "") and r.stderr.startswith(f"kernelcli worker: not used: {folder}: has mode 0755"), r.stderr
        r = run_cli("worker", "status", "--json", env=env)
        assert r.returncode == 1 and json.loads(r.stdout)["unusable"].startswith(f"{folder}: has mode 0755")

    def test_worker_of_another_version(self, tmp_path):
        def another_version(package: Path) -> None:
            init = package / "__init__.py"
            init.write_text(init.read_text().replace('__version__ = "', '__version__ = "9.9.9+'))

        _, env, _, server = serve_a_copy(tmp_path, another_version)
        try:
            wait_for(lambda: status(env) is not None)
            assert status(env)["version"].startswith("9.9.9+")
            r = run_cli("shape", "--in", "24", "--f", "5", "-q", env=env)
            assert (r.returncode, r.stdout, r.stderr) == (0, "20\n", "")
            assert status(env)["refused"] == 1 and status(env)["calls"] == 0
        finally:
            server.kill()
            server.wait()

    @pytest.mark.skipif(not Path("/proc/net/unix").exists(), reason="sees the connection through Linux's /proc")
    def test_worker_killed_mid_call(self, tmp_path):
        env = private_runtime(tmp_path)
        started = run_cli("worker", "start", "--idle-timeout", "120", "--json", env=env, timeout=600)
        assert started.returncode == 0, started.stderr
        pid = json.loads(started.stdout)["pid"]
        os.kill(pid, signal.SIGSTOP)  # it accepts nothing now; the call waits for it...
        try:
            full = {**cli_env(), **env}
            call = subprocess.Popen([sys.executable, "-m", "kernelcli", "convolve", f"{SAMPLES}/example1.csv", "-k", "sobel_v", "-q"],
                                    cwd=tmp_path, env=full, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            # not a sleep: a client slow to start on a loaded machine would meet a dead worker, not be killed mid-call
            wait_for(lambda: call.poll() is None and connected(call.pid), timeout=60.0)
        finally:
            os.kill(pid, signal.SIGKILL)  # ...and the worker dies under it
        out, err = call.communicate(timeout=120)
        expected = run_cli("convolve", f"{SAMPLES}/example1.csv", "-k", "sobel_v", "-q", env={"KERNELCLI_WORKER": "off"})
        assert (call.returncode, out, err) == (0, expected.stdout, expected.stderr)

    def test_call_process_dies_after_starting(self, tmp_path):
        # a fake worker that takes the call and dies without an exit code
        path = tmp_path / "w.sock"
        listener, fake = fake_worker(path, {"pid": 2**22 + 1})
        saved = os.dup(0)
        read, write = os.pipe()
        os.dup2(read, 0)  # stdin is a pipe, as in `cat x.png | kernelcli convolve - ...`
        try:
            for argv, expected in ((["shape", "--in", "8", "--f", "3"], None), (["convolve", "-", "-k", "sobel_v"], 70)):
                thread = threading.Thread(target=fake)
                thread.start()
                code = client.run_in_worker(argv, socket_file=path)
                thread.join()
                # None: the caller runs it in-process; 70: stdin may have been read, so it cannot
                assert code == expected
        finally:
            os.dup2(saved, 0)
            for fd in (saved, read, write):
                os.close(fd)
            listener.close()


@pytest.mark.parametrize(("death", "code", "words"), [
    ((), 70, "process died after"),  # the worker is gone too: nobody knows how the call ended
    (({"killed": int(signal.SIGKILL)},), 137, "process was killed by SIGKILL after"),
    (({"killed": 77},), 128 + 77, "process was killed by signal 77 after"),
])
def test_a_call_that_wrote_output_is_not_run_again(tmp_path, capfd, death, code, words):
    # the fake worker's call says it has written output, then dies: running it again would repeat that output
    path = tmp_path / "w.sock"
    listener, fake = fake_worker(path, {"pid": 2**22 + 1}, {"committed": True}, *death)
    thread = threading.Thread(target=fake)
    thread.start()
    try:
        assert client.run_in_worker(["shape", "--in", "8", "--f", "3"], socket_file=path) == code
    finally:
        thread.join()
        listener.close()
    err = capfd.readouterr().err
    assert words in err and "had written output" in err and err.count("\n") == 1


def test_a_call_killed_before_it_wrote_output_runs_in_process(tmp_path, monkeypatch):
    from kernelcli.io import temporary

    monkeypatch.setattr(temporary, "_RUN", {"pid": None, "token": ""})
    path = tmp_path / "w.sock"
    listener, fake = fake_worker(path, {"pid": 2**22 + 1, "run": "dead_1"}, {"killed": int(signal.SIGKILL)})
    thread = threading.Thread(target=fake)
    thread.start()
    try:
        assert client.run_in_worker(["shape", "--in", "8", "--f", "3"], socket_file=path) is None
    finally:
        thread.join()
        listener.close()
    # this process carries on the dead call's run: its temporary files are found, and cleared (take_over_run)
    assert temporary.run_token() == "dead_1" and temporary._RUN.get("leftovers")


def _on_a_terminal(argv: list[str], env: dict) -> bytes:
    """What ``kernelcli ARGV`` writes on stdout when stdout is a terminal (a pseudo-terminal)."""
    master, slave = os.openpty()
    try:
        proc = subprocess.run([sys.executable, "-m", "kernelcli", *argv], env={**cli_env(), **env}, stdout=slave,
                              stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, timeout=120)
        assert proc.returncode == 0
        os.close(slave)
        slave = -1
        chunks = []
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # EIO: the terminal's other end is closed and all was read
                break
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(master)
        if slave >= 0:
            os.close(slave)


def test_a_terminal_gets_the_same_bytes_with_the_worker(worker):
    # every call through the worker ended with ESC[0m on a terminal: colorama's reset, registered at exit when the
    # warm-up's Numba worded an error in colour, ran in each call's process
    argv = ["shape", "--in", "24", "--f", "5", "-q"]
    assert _on_a_terminal(argv, worker) == _on_a_terminal(argv, {"KERNELCLI_WORKER": "off"}) == b"20\r\n"
    assert status(worker)["calls"] >= 1


def test_binary_output_to_a_terminal_is_refused_with_and_without_the_worker(worker, tmp_path):
    # '-o - --format png' on a terminal wrote the PNG's bytes onto it (stdin on a terminal was refused already)
    import numpy as np

    np.savetxt(tmp_path / "m.csv", np.arange(20.0).reshape(4, 5), delimiter=",")
    for env in (worker, {"KERNELCLI_WORKER": "off"}):
        master, slave = os.openpty()
        try:
            proc = subprocess.run([sys.executable, "-m", "kernelcli", "convolve", "m.csv", "-k", "box:3", "-o", "-", "--format", "png"],
                                  cwd=tmp_path, env={**cli_env(), **env}, stdout=slave, stderr=subprocess.PIPE,
                                  stdin=subprocess.DEVNULL, timeout=120)
            os.set_blocking(master, False)
            try:
                shown = os.read(master, 4096)
            except BlockingIOError:
                shown = b""
        finally:
            os.close(master)
            os.close(slave)
        assert proc.returncode == 2 and b"which is a terminal" in proc.stderr and shown == b"", (env, proc.stderr, shown)
    assert _on_a_terminal(["convolve", str(tmp_path / "m.csv"), "-k", "box:3", "-o", "-", "--format", "csv", "-q"], worker)


def fake_worker(path: Path, *replies: dict):
    """A listening socket at ``path`` and the function that, run in a thread, takes one call, sends ``replies`` and
    ends the connection without an exit code (a call's process that died)."""
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(path))
    listener.listen()

    def fake() -> None:
        conn, _ = listener.accept()
        with conn:
            protocol.receive(conn)
            protocol.send(conn, {"stdio": True})  # the call is taken: the caller's stdio comes next
            _message, fds = protocol.receive(conn, max_fds=3)
            for fd in fds:
                os.close(fd)
            for reply in replies:
                protocol.send(conn, reply)

    return listener, fake


def _call_pid(env: dict) -> int | None:
    calls = (status(env) or {}).get("calls_in_progress") or []
    return calls[0] if calls else None


@pytest.mark.skipif(not Path("/proc").exists(), reason="reads the call's state through /proc")
def test_a_call_killed_after_it_wrote_to_stdout_is_reported_not_repeated(worker, tmp_path):
    # it was run again: a second copy of the whole .npy after the first 64 KiB, exit 0
    import numpy as np

    np.save(tmp_path / "big.npy", np.random.default_rng(0).random((1500, 1500)))
    full = {**cli_env(), **worker}
    call = subprocess.Popen([sys.executable, "-m", "kernelcli", "convolve", "big.npy", "-k", "sobel_v", "-o", "-", "--format", "npy"],
                            cwd=tmp_path, env=full, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    first = os.read(call.stdout.fileno(), 6)  # the call has written; the pipe, unread, now holds it back
    assert first == b"\x93NUMPY"
    wait_for(lambda: _call_pid(worker) is not None, timeout=60)
    os.kill(_call_pid(worker), signal.SIGKILL)
    rest, err = call.communicate(timeout=120)
    # as a fresh process killed there would end (a shell reports 128 + 9); the worker had said nothing, exit 70
    assert call.returncode == 137, err
    assert b"was killed by SIGKILL after the call had written output" in err
    assert len(first) + len(rest) < 1500 * 1500 * 8 and (first + rest).count(b"\x93NUMPY") == 1


@pytest.mark.skipif(not Path("/proc").exists(), reason="reads the call's state through /proc")
def test_a_call_killed_before_it_wrote_output_leaves_no_temporary_file(worker, tmp_path):
    # audit 116: the client ran the call again itself (exit 0) and the dead call's .big_sobel_v.npy.*.part (the whole
    # output's size) stayed beside the output, where a fresh process killed there at least exits 137
    import numpy as np

    np.save(tmp_path / "big.npy", np.random.default_rng(0).random((3000, 3000)).astype(np.float32))
    full = {**cli_env(), **worker}
    call = subprocess.Popen([sys.executable, "-m", "kernelcli", "convolve", "big.npy", "-k", "gaussian:6", "--tiled",
                             "--chunks", "256", "-o", "out.npy", "-q"], cwd=tmp_path, env=full,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wait_for(lambda: any(tmp_path.glob(".out.npy.*.part")) or call.poll() is not None, timeout=120)
    pid = _call_pid(worker)
    if pid is None or call.poll() is not None:
        call.communicate(timeout=120)
        pytest.skip("the call finished before it could be killed")
    os.kill(pid, signal.SIGKILL)  # what the out-of-memory killer does, before the call has written anything
    _out, err = call.communicate(timeout=300)
    assert call.returncode == 0, err  # run again in the client, as the README says
    assert not list(tmp_path.glob(".out.npy.*")), list(tmp_path.iterdir())
    expected = run_cli("convolve", "big.npy", "-k", "gaussian:6", "-o", "ref.npy", "-q", cwd=tmp_path, env={"KERNELCLI_WORKER": "off"})
    assert expected.returncode == 0 and (tmp_path / "out.npy").read_bytes() == (tmp_path / "ref.npy").read_bytes()


@pytest.mark.skipif(not Path("/proc").exists(), reason="reads the call's state through /proc")
def test_a_client_killed_stops_its_call(worker, tmp_path):
    # the call ran on in the worker and put its output in place for a client that was gone
    import numpy as np

    rng = np.random.default_rng(1)
    x = rng.random((64, 64))
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "t.npy", x)  # identity: the fit is easy, the epochs are what takes time
    full = {**cli_env(), **worker}
    call = subprocess.Popen([sys.executable, "-m", "kernelcli", "learn", "x.npy", "t.npy", "-f", "3", "--method", "gd",
                             "--epochs", "100000", "-o", "k.json"], cwd=tmp_path, env=full,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for(lambda: _call_pid(worker) is not None, timeout=60)
    pid = _call_pid(worker)
    call.kill()
    call.wait()
    wait_for(lambda: not Path(f"/proc/{pid}").exists() or Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z", timeout=60)
    assert not (tmp_path / "k.json").exists() and not list(tmp_path.glob("*.part"))


def test_auto_start(tmp_path):
    """KERNELCLI_WORKER=auto: a call without a worker runs in-process and starts one for the next calls."""
    env = {**private_runtime(tmp_path), "KERNELCLI_WORKER": "auto"}
    try:
        r = run_cli("shape", "--in", "24", "--f", "5", "-q", env=env)
        assert (r.returncode, r.stdout, r.stderr) == (0, "20\n", "")
        wait_for(lambda: status(env) is not None, timeout=120)
        assert not Path(f"{socket_file(env)}.starting").exists()
        r = run_cli("shape", "--in", "24", "--f", "5", "-q", env=env)
        assert (r.returncode, r.stdout, r.stderr) == (0, "20\n", "")
        assert status(env)["calls"] == 1
    finally:
        run_cli("worker", "stop", env=env)


def test_idle_timeout(tmp_path):
    env = private_runtime(tmp_path)
    assert run_cli("worker", "start", "--idle-timeout", "1", env=env, timeout=600).returncode == 0
    wait_for(lambda: status(env) is None, timeout=20)
    assert not socket_file(env).exists()


def test_never_serves_another_uid(tmp_path):
    if os.getuid() != 0:
        pytest.skip("needs root to act as another user")
    # A socket everyone may reach, so that only the worker's own peer check stands in the way.
    import tempfile

    open_dir = Path(tempfile.mkdtemp(prefix="kernelcli-open-"))
    open_dir.chmod(0o777)
    path = open_dir / "w.sock"
    server = subprocess.Popen([sys.executable, "-c", SERVE, str(Path(control.__file__).resolve().parents[2]), str(path), "60"],
                              env=cli_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: control._ask(path, {"op": "status"}) is not None)
        path.chmod(0o777)
        target = open_dir / "made_by_nobody.png"
        probe = (  # everything imported first: the other user cannot read root's Python
            "import os, socket, sys\n"
            f"sys.path.insert(0, {str(Path(control.__file__).resolve().parents[2])!r})\n"
            "from kernelcli.worker import protocol\n"
            "request = {'op': 'run', 'argv': ['convolve', sys.argv[2], '-k', 'sobel_v', '-o', sys.argv[3]],"
            " 'stamp': protocol.version_stamp(), **protocol.caller_state()}\n"
            "os.setgid(65534); os.setuid(65534)\n"
            "s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])\n"
            "try:\n"
            "    protocol.send(s, request, [0, 1, 2])\n"
            "    print(protocol.receive(s))\n"
            "except OSError:\n"
            "    print(None)\n"
        )
        r = subprocess.run([sys.executable, "-c", probe, str(path), str(SAMPLES / "phantom.png"), str(target)],
                           capture_output=True, text=True, env=cli_env(), cwd="/")
        assert r.returncode == 0, r.stderr
        assert r.stdout == "None\n"  # closed unanswered; nothing ran
        assert not target.exists()
        answer = control._ask(path, {"op": "status"})
        assert answer["rejected_other_users"] == 1 and answer["calls"] == 0
    finally:
        server.kill()
        server.wait()
        shutil.rmtree(open_dir, ignore_errors=True)


def test_peer_uid_is_this_process():
    a, b = socket.socketpair()
    with a, b:
        assert protocol.peer_uid(a) == os.getuid()


def connected(pid: int) -> bool:
    """Whether process ``pid`` holds a connected Unix socket (Linux: /proc/net/unix lists its
    end by inode, state 03); in the tests that use it, the worker's is the only one it opens."""
    try:
        links = [os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")]
        table = [line.split() for line in Path("/proc/net/unix").read_text().splitlines()[1:]]
    except OSError:  # the process ended, or a descriptor closed as we looked
        return False
    ends = {link[len("socket:["):-1] for link in links if link.startswith("socket:[")}
    return any(row[5] == "03" and row[6] in ends for row in table)  # 03: SS_CONNECTED


def wait_for(condition, timeout: float = 300.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.1)


def test_the_loader_finds_what_numba_cached():
    """The worker reads Numba's cache through its internals: a fresh process that loads
    everything cached holds, without compiling, every version another process compiled."""
    script = (
        "import json, numpy as np\n"
        "from kernelcli import api\n"
        "from kernelcli._core.policy import Paths\n"
        "from kernelcli.worker import warmup\n"
        "api.conv2d(np.ones((20, 20), np.int16), np.ones((3, 3)), paths=Paths(force='dense'))\n"  # cached after this
        "print(json.dumps({f.py_func.__module__ + '.' + f.py_func.__qualname__: sorted(map(str, f.signatures)) for f in warmup.dispatchers() if f.signatures}))\n"
    )
    r = subprocess.run([sys.executable, "-c", script], env=cli_env(), capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    compiled = json.loads(r.stdout.splitlines()[-1])
    assert compiled  # the call went through the jitted core
    probe = (
        "import json\n"
        "from kernelcli.worker import warmup\n"
        "before = sum(len(f.signatures) for f in warmup.dispatchers())\n"
        "loaded = warmup.load_cached_overloads()\n"
        "have = {f.py_func.__module__ + '.' + f.py_func.__qualname__: sorted(map(str, f.signatures)) for f in warmup.dispatchers()}\n"
        "print(json.dumps([before, loaded, have, len(warmup.cache_state()) > 0]))\n"
    )
    r = subprocess.run([sys.executable, "-c", probe], env=cli_env(), capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    before, loaded, have, watched = json.loads(r.stdout.splitlines()[-1])
    assert before == 0 and loaded > 0 and watched
    for name, signatures in compiled.items():
        assert set(signatures) <= set(have.get(name, ())), name


def test_a_call_that_compiled_teaches_the_worker(monkeypatch):
    """When a call's process compiled (and Numba cached) something new, the idle worker loads it
    and forks a new spare from that state."""
    from kernelcli.worker import server

    s = server.Server("/nonexistent/w.sock", 60)
    s.cache_seen = (("a.nbi", 1, 1),)
    learned, dropped = [], []
    monkeypatch.setattr(server, "cache_state", lambda paths: (("a.nbi", 2, 2),))
    monkeypatch.setattr(server, "load_cached_overloads", lambda: learned.append(1) or 1)
    monkeypatch.setattr(server, "collapse", lambda: 0)
    monkeypatch.setattr(server.prefault, "probe", lambda calls: (4096, 8192))  # the pages a call writes, found again
    monkeypatch.setattr(s, "_drop_spare", lambda: dropped.append(1))
    s._learn_compiled()
    assert learned and dropped and s.cache_seen == (("a.nbi", 2, 2),)
    assert s.pages == (4096, 8192)


LIMIT_PROBE = ("import json, resource, sys; sys.path.insert(0, sys.argv[1]); from kernelcli.worker import protocol; "
               "print(json.dumps([protocol.caller_limits(), {n: list(resource.getrlimit(getattr(resource, n))) for n in protocol.LIMITS}]))")


#: the soft limits the probe's process gets (each under its hard limit)
LOWERED = {"RLIMIT_NOFILE": 777, "RLIMIT_FSIZE": 5 << 30, "RLIMIT_CPU": 3600, "RLIMIT_AS": 64 << 30,
           "RLIMIT_DATA": 48 << 30, "RLIMIT_STACK": 4 << 20}


def _lowered_soft(name: str) -> int:
    """:data:`LOWERED`'s value for ``name``, or the hard limit where that is lower."""
    import resource

    hard = resource.getrlimit(getattr(resource, name))[1]
    return LOWERED[name] if hard == resource.RLIM_INFINITY else min(LOWERED[name], hard)


def _lowered_limits() -> None:
    import resource

    for name in LOWERED:
        which = getattr(resource, name)
        resource.setrlimit(which, (_lowered_soft(name), resource.getrlimit(which)[1]))


@pytest.mark.parametrize("lowered", [False, True])
def test_the_limits_a_call_carries_are_what_getrlimit_says(lowered):
    """The client reads its limits from /proc/self/limits (no ``resource`` import): the same values."""
    r = subprocess.run([sys.executable, "-c", LIMIT_PROBE, str(REPO)], capture_output=True, text=True, check=True,
                       preexec_fn=_lowered_limits if lowered else None)
    read, asked = json.loads(r.stdout)
    assert read == asked and sorted(read) == sorted(protocol.LIMITS)
    if lowered:  # each soft limit as _lowered_limits set it (under a lower hard limit, the hard one)
        for name in ("RLIMIT_NOFILE", "RLIMIT_CPU"):
            assert read[name][0] == _lowered_soft(name)


def test_messages_carry_descriptors_and_any_length():
    a, b = socket.socketpair()
    r, w = os.pipe()
    try:
        message = {"op": "run", "argv": ["x" * 70000], "n": -1}
        protocol.send(a, message, [r, w, 0])
        got, fds = protocol.receive(b, max_fds=3)
        assert got == message and len(fds) == 3
        os.write(fds[1], b"through")
        assert os.read(r, 7) == b"through"
        for fd in fds:
            os.close(fd)
    finally:
        os.close(r)
        os.close(w)
        a.close()
        b.close()


def test_the_first_write_tells_the_client_once():
    import io

    from kernelcli.worker.commit import Commit, FirstWrite

    ours, client_end = socket.socketpair()
    read, write = os.pipe()
    try:
        stream = io.TextIOWrapper(io.BufferedWriter(FirstWrite(write, Commit(ours))), encoding="utf-8", line_buffering=True)
        client_end.setblocking(False)
        with pytest.raises(BlockingIOError):
            client_end.recv(1)  # nothing said before a write
        stream.write("one\n")
        stream.write("two\n")
        assert os.read(read, 100) == b"one\ntwo\n"
        client_end.setblocking(True)
        assert protocol.receive(client_end) == {"committed": True}
        client_end.setblocking(False)
        with pytest.raises(BlockingIOError):
            client_end.recv(1)  # and said once
    finally:
        for fd in (read, write):
            os.close(fd)
        ours.close()
        client_end.close()


def test_auto_starts_a_worker_over_a_stale_socket(tmp_path):
    # worker audit F4: with a killed worker's socket left, KERNELCLI_WORKER=auto never started one (it spawned only
    # where no socket file was), so every call ran cold for ever
    env = {**private_runtime(tmp_path), "KERNELCLI_WORKER": "auto"}
    leave_stale_socket(env)
    try:
        r = run_cli("shape", "--in", "24", "--f", "5", "-q", env=env)
        assert (r.returncode, r.stdout, r.stderr) == (0, "20\n", "")
        wait_for(lambda: status(env) is not None, timeout=120)
    finally:
        run_cli("worker", "stop", env=env)


def test_shell_completion_is_not_sent_to_the_worker(worker):
    # worker audit F1, F2: a Tab's completion call went to the worker, whose call process ended in sys.exit():
    # 'convolve' then "the kernelcli worker's call process died ...", exit 70; --show-completion found no shell
    env = {**worker, "_KERNELCLI_COMPLETE": "complete_bash", "COMP_WORDS": "kernelcli conv", "COMP_CWORD": "1"}
    calls = status(worker)["calls"]
    r = run_cli(env=env)
    assert (r.returncode, r.stdout.split(), r.stderr) == (0, ["convolve"], "")
    assert status(worker)["calls"] == calls


def test_a_deleted_current_folder_runs_the_call_itself(worker, tmp_path):
    # worker audit F3: the client's os.getcwd() raised FileNotFoundError: a traceback, exit 1, for every command
    import kernelcli

    gone = tmp_path / "gone"
    gone.mkdir()
    script = (f"import os, sys; os.chdir({str(gone)!r}); os.rmdir({str(gone)!r}); "
              f"sys.path.insert(0, {str(Path(kernelcli.__file__).parent.parent)!r}); "
              "from kernelcli.cli import _call; sys.exit(_call(['shape', '--in', '24', '--f', '5', '-q']))")
    r = subprocess.run([sys.executable, "-c", script], env={**cli_env(), **worker}, capture_output=True, text=True, timeout=120)
    assert (r.returncode, r.stdout, r.stderr) == (0, "20\n", "")
