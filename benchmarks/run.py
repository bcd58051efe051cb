"""kernelcli against its peers, on this machine, in one run: medians and ratios.

Usage::

    python benchmarks/run.py [--quick] [--sizes 512,2048] [--repeat N] [--save]
    python benchmarks/run.py --crossover      # where FFT beats the direct loop, separable beats 2-D

Every timing is the median of ``--repeat`` runs after one warm-up run (slow peers, over
a second a run, are timed fewer times); kernelcli and OpenCV are timed together, in interleaved
rounds of three calls each (``timing.paired_ms``, as ``bench_dense.py`` and ``bench_calls.py``).  Each row gives kernelcli's time and, for each
peer, the peer's time and the ratio kernelcli / peer measured in the same run (below 1:
kernelcli is faster).  Peers are optional: a missing one is skipped with a note.
``--save`` also writes the tables to ``benchmarks/results.md``.

Threads: cv2.setNumThreads(2), torch.set_num_threads(2), numba.set_num_threads(2),
scipy.fft workers=2.  OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE are unset in this process
(they slow a current numpy; see the environment notes) -- never in the tests.
"""

from __future__ import annotations

import os

# Before numpy loads OpenBLAS: these variables slow it on this kind of machine.
_UNSET = [name for name in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE") if os.environ.pop(name, None) is not None]

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from timing import median_ms, paired_ms  # noqa: E402

import kernelcli.api as api  # noqa: E402
from kernelcli._core import policy  # noqa: E402
from kernelcli._core.policy import Paths  # noqa: E402

NOTES: list[str] = []


# ----------------------------------------------------------------------------- timing


def wall_ms(cmd: list[str], repeat: int, env: dict | None = None, cwd: str | None = None, warm: bool = True) -> float:
    """Median wall time of a whole process in ms (one unmeasured run first when ``warm``)."""
    def once() -> float:
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=cwd)
        return time.perf_counter() - t0

    if warm:
        once()
    return 1e3 * statistics.median(once() for _ in range(repeat))


# ----------------------------------------------------------------------------- peers


def load_peers() -> dict:
    peers = {}
    try:
        import cv2

        cv2.setNumThreads(2)
        peers["cv2"] = cv2
    except ImportError:
        NOTES.append("OpenCV (opencv-python-headless) not installed: cv2 columns skipped (pip install .[bench]).")
    try:
        import scipy.ndimage as ndi

        peers["ndi"] = ndi
    except ImportError:
        NOTES.append("scipy not installed: scipy columns skipped.")
    try:
        import torch

        torch.set_num_threads(2)
        peers["torch"] = torch
    except ImportError:
        NOTES.append("PyTorch not installed: torch columns skipped (pip install .[bench]).")
    return peers


# ----------------------------------------------------------------------------- rows


class Table:
    def __init__(self, title: str, peers: list[str]):
        self.title, self.peers, self.rows = title, peers, []

    def add(self, case: str, ours: float, others: dict[str, float | None], target: str = "", verdict: str = "") -> None:
        self.rows.append((case, ours, others, target, verdict))
        cells = "  ".join(f"{p} {v:.2f}" for p, v in others.items() if v is not None)
        print(f"  {case:<38} kernelcli {ours:9.2f} ms  {cells}  {verdict}", file=sys.stderr, flush=True)

    def markdown(self) -> str:
        head = ["case", "kernelcli (ms)"] + [f"{p} (ms, ratio)" for p in self.peers] + ["target", "met"]
        lines = [f"### {self.title}", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for case, ours, others, target, verdict in self.rows:
            cells = []
            for p in self.peers:
                v = others.get(p)
                cells.append("-" if v is None else f"{v:.2f} ({ours / v:.2f})")
            lines.append("| " + " | ".join([case, f"{ours:.2f}"] + cells + [target, verdict]) + " |")
        return "\n".join(lines)


def verdict(ok: bool) -> str:
    return "yes" if ok else "**no**"


def ratio_check(ours: float, others: dict, names: list[str], limit: float) -> tuple[str, str]:
    vals = [others[n] for n in names if others.get(n)]
    if not vals:
        return f"<= {limit} x {'/'.join(names)}", "n/a"
    best = min(vals)
    return f"<= {limit} x {'/'.join(names)}", verdict(ours / best <= limit) + f" ({ours / best:.2f})"


def scipy_check(ours: float, scipy_ms: float | None) -> str:
    if not scipy_ms:
        return "n/a"
    return verdict(scipy_ms / ours >= 20) + f" ({scipy_ms / ours:.0f}x)"


# ----------------------------------------------------------------------------- cases


def with_cv2(ours, theirs, cv2, repeat: int) -> tuple[float, float | None]:
    """kernelcli's and OpenCV's medians (ms), timed in interleaved rounds (``timing.paired_ms``) as
    ``bench_dense.py`` and ``bench_calls.py`` time them, so that a case has one ratio in every script;
    without OpenCV, kernelcli's alone."""
    if cv2 is None:
        return median_ms(ours, repeat), None
    mine, peer = paired_ms([ours, theirs], repeat)
    return mine, peer


def path_of(k: np.ndarray) -> str:
    """The path the core picks for ``k`` at stride 1 in float32."""
    from kernelcli._core import costs

    return costs.choose_path(k, (1, 1), (1, 1), np.dtype("float32"))


def conv_cases(peers: dict, n: int, repeat: int, quick: bool) -> Table:
    cv2, ndi, torch = peers.get("cv2"), peers.get("ndi"), peers.get("torch")
    policy.DEFAULT = Paths(force="jit")  # the jitted core (the library use: the process is warm)
    rng = np.random.default_rng(0)
    x = rng.random((n, n), dtype=np.float32)
    table = Table(f"Convolution, {n}x{n} float32, 'same', zero padding (ratio = kernelcli / peer)", ["cv2", "scipy", "torch"])
    tx = torch.from_numpy(x)[None, None] if torch else None

    def torch_conv(k):
        w = torch.from_numpy(k.astype(np.float32))[None, None]
        return lambda: torch.nn.functional.conv2d(tx, w, padding=k.shape[0] // 2)

    for size in (3, 5, 7, 15, 31):
        k = rng.normal(size=(size, size))
        k32 = k.astype(np.float32)
        ours, cv = with_cv2(lambda: api.conv2d(x, k), lambda: cv2.filter2D(x, -1, k32, borderType=cv2.BORDER_CONSTANT), cv2, repeat)
        others = {
            "cv2": cv,
            "scipy": median_ms(lambda: ndi.correlate(x, k32, mode="constant"), repeat if size < 15 else 1,
                               budget_s=5 if quick else 20) if ndi else None,
            "torch": median_ms(torch_conv(k), repeat, budget_s=5) if torch and not (quick and size > 15) else None,
        }
        target, ok = ratio_check(ours, others, ["cv2"], 1.0)
        table.add(f"dense {size}x{size} ({path_of(k)})", ours, others, target + ", >= 20x scipy",
                  ok + "; scipy " + scipy_check(ours, others["scipy"]))

    for size in ((7, 15, 31) if quick else (5, 7, 15, 31)):
        sigma = 0.3 * ((size - 1) * 0.5 - 1) + 0.8  # OpenCV's default sigma for this size
        g = np.exp(-0.5 * (np.arange(size) - size // 2) ** 2 / sigma**2)
        g /= g.sum()
        k = np.outer(g, g)
        g32 = g.astype(np.float32)
        ours, cv = with_cv2(lambda: api.conv2d(x, k), lambda: cv2.sepFilter2D(x, -1, g32, g32, borderType=cv2.BORDER_CONSTANT),
                            cv2, repeat)
        others = {
            "cv2": cv,
            "scipy": median_ms(lambda: ndi.correlate1d(ndi.correlate1d(x, g32, axis=0, mode="constant"), g32, axis=1, mode="constant"), repeat) if ndi else None,
            "torch": None,
        }
        target, ok = ratio_check(ours, others, ["cv2"], 1.0)
        table.add(f"Gaussian {size}x{size} ({path_of(k)}; peers: sepFilter2D, correlate1d x2)", ours, others,
                  target + ", >= 20x scipy", ok + "; scipy " + scipy_check(ours, others["scipy"]))

    # RGB, channels-last
    m = n // 2
    rgb = rng.random((m, m, 3), dtype=np.float32)
    k = rng.normal(size=(3, 3))
    k32 = k.astype(np.float32)
    trgb = torch.from_numpy(np.ascontiguousarray(rgb.transpose(2, 0, 1)))[None] if torch else None
    ours, cv = with_cv2(lambda: api.conv2d(rgb, k), lambda: cv2.filter2D(rgb, -1, k32, borderType=cv2.BORDER_CONSTANT), cv2, repeat)
    others = {
        "cv2": cv,
        "scipy": median_ms(lambda: ndi.correlate(rgb, k32[:, :, None], mode="constant"), repeat) if ndi else None,
        "torch": median_ms(lambda: torch.nn.functional.conv2d(trgb, torch.from_numpy(np.repeat(k32[None, None], 3, 0)), padding=1, groups=3), repeat) if torch else None,
    }
    target, ok = ratio_check(ours, others, ["cv2"], 1.0)
    table.add(f"RGB {m}x{m}x3, 3x3 per channel", ours, others, target + " (issue 17)",
              ok + "; scipy " + scipy_check(ours, others["scipy"]))

    # stride 2 against kernelcli's own stride 1
    k = rng.normal(size=(3, 3))
    k32 = k.astype(np.float32)
    own1 = median_ms(lambda: api.conv2d(x, k, padding="valid"), repeat)
    ours = median_ms(lambda: api.conv2d(x, k, padding="valid", stride=2), repeat)
    others = {
        "cv2": median_ms(lambda: np.ascontiguousarray(cv2.filter2D(x, -1, k32, anchor=(0, 0), borderType=cv2.BORDER_CONSTANT)[: n - 2 : 2, : n - 2 : 2]), repeat) if cv2 else None,
        "scipy": median_ms(lambda: ndi.correlate(x, k32, mode="constant")[1:-1:2, 1:-1:2].copy(), repeat) if ndi else None,
        "torch": median_ms(lambda: torch.nn.functional.conv2d(tx, torch.from_numpy(k32)[None, None], stride=2), repeat) if torch else None,
    }
    table.add(f"stride 2, 3x3 valid (own stride 1: {own1:.2f} ms)", ours, others, ">= 3x faster than own stride 1",
              verdict(own1 / ours >= 3) + f" ({own1 / ours:.1f}x)" + "; scipy " + scipy_check(ours, others["scipy"]))
    return table


def pool_cases(peers: dict, n: int, repeat: int) -> Table:
    cv2, torch = peers.get("cv2"), peers.get("torch")
    policy.DEFAULT = Paths(force="jit")
    x = np.random.default_rng(1).random((n, n), dtype=np.float32)
    tx = torch.from_numpy(x)[None, None] if torch else None
    table = Table(f"Pooling, {n}x{n} float32 (ratio = kernelcli / peer)", ["cv2", "torch"])
    for size in (2, 3):
        ker = np.ones((size, size), np.uint8)
        last = n - size + 1
        ours, cv = with_cv2(lambda: api.pool2d(x, size, stride=2), lambda: cv2.dilate(x, ker, anchor=(0, 0))[:last:2, :last:2],
                            cv2, repeat)
        others = {
            "cv2": cv,
            "torch": median_ms(lambda: torch.nn.functional.max_pool2d(tx, size, 2), repeat) if torch else None,
        }
        target, ok = ratio_check(ours, others, ["cv2", "torch"], 1.0)
        table.add(f"max pool {size}x{size}/s2 (cv2: dilate + slice view)", ours, others, target.replace("/", " or "), ok)
    ours, cv = with_cv2(lambda: api.pool2d(x, 2, op="avg"), lambda: cv2.resize(x, (n // 2, n // 2), interpolation=cv2.INTER_AREA),
                        cv2, repeat)
    others = {
        "cv2": cv,
        "torch": median_ms(lambda: torch.nn.functional.avg_pool2d(tx, 2), repeat) if torch else None,
    }
    target, ok = ratio_check(ours, others, ["cv2", "torch"], 1.0)
    table.add("avg pool 2x2/s2 (cv2: resize INTER_AREA)", ours, others, target + " (issue 17)", ok)
    return table


def thread_case(n: int, repeat: int) -> tuple[str, float, float]:
    import numba

    policy.DEFAULT = Paths(force="jit")
    x = np.random.default_rng(2).random((n, n), dtype=np.float32)
    k = np.random.default_rng(3).normal(size=(7, 7))
    previous = numba.get_num_threads()

    def at(t):
        def call():
            numba.set_num_threads(t)
            api.conv2d(x, k)
        return call

    # interleaved rounds, as the other rows: timed in two blocks, a busy spell during one of them moved the ratio
    one, two = paired_ms([at(1), at(2)], repeat)
    numba.set_num_threads(previous)
    return f"{n}x{n} float32, dense 7x7", one, two


# ----------------------------------------------------------------------------- processes


#: the command the whole-process rows run: the ``kernelcli`` a user's install has (:func:`use_user_venv`),
#: else this interpreter's ``python -m kernelcli``
COMMAND: list[str] = [sys.executable, "-m", "kernelcli"]
#: the interpreter of those rows
PYTHON = [sys.executable]


def kernelcli_cmd() -> list[str]:
    return list(COMMAND)


def use_user_venv(folder: Path) -> str:
    """Run the whole-process rows with the ``kernelcli`` command of a venv over this checkout
    (``bench_startup.user_venv``: as ``pip install .`` leaves it), as ``bench_startup.py`` does; the
    interpreter's own start-up is then a user's, not this sandbox's (its ``site`` imports certifi:
    ``python -c pass`` 78-92 against 20-40 ms).  Returns a line for the notes."""
    from bench_startup import user_venv

    python = user_venv(folder)
    COMMAND[:] = [str(Path(python).parent / "kernelcli")]
    PYTHON[:] = [python]
    bare = wall_ms([python, "-c", "pass"], 9)
    here = wall_ms([sys.executable, "-c", "pass"], 9)
    return (f"Command-line and start-up rows: the installed `kernelcli` of a venv over this checkout (as `bench_startup.py`), "
            f"KERNELCLI_WORKER=off; `python -c pass` took {bare:.0f} ms there ({here:.0f} ms with {sys.executable}).")


def make_png(path: Path, n: int) -> None:
    from PIL import Image

    y, x = np.mgrid[0:n, 0:n] / n
    img = 100 + 80 * np.sin(6 * x) * np.cos(4 * y) + 60 * (((x - 0.5) ** 2 + (y - 0.5) ** 2) < 0.1)
    img += np.random.default_rng(0).normal(0, 8, (n, n))
    Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(path)


def cli_cases(sizes: list[int], repeat: int, tmp: Path, env: dict) -> list[tuple]:
    """(case, kernelcli ms, ImageMagick ms or None, target text, verdict)."""
    rows = []
    convert = shutil.which("convert-im6.q16")
    if convert is None:
        NOTES.append("ImageMagick (convert-im6.q16, Debian package imagemagick) not found: CLI rows have no peer.")
    specs = [(n, "sobel_v", "Sobel") for n in sizes] + [(2048, "gaussian:5", "Gaussian:0x5")]
    for n, ours_k, im_k in specs:
        src = tmp / f"in{n}.png"
        if not src.exists():
            make_png(src, n)
        ours = wall_ms(kernelcli_cmd() + ["convolve", str(src), "--kernel", ours_k, "--out", str(tmp / "o.png"), "--force", "-q"], repeat, env=env)
        im = None
        if convert:
            im = wall_ms([convert, str(src), "-morphology", "Convolve", im_k, str(tmp / "im.png")], repeat if n < 2048 or "Gauss" not in im_k else 1, env=env)
        if ours_k.startswith("gaussian"):
            target, ok = ">= 20x faster than ImageMagick", im is not None and im / ours >= 20
        elif n <= 512:
            target, ok = "<= 1.5x ImageMagick", im is not None and ours / im <= 1.5
        else:
            target, ok = ">= 3x faster than ImageMagick", im is not None and im / ours >= 3
        rows.append((f"`convolve --kernel {ours_k}` {n}x{n} 8-bit PNG", ours, im, target,
                     (verdict(ok) + f" ({ours / im:.2f})") if im else "n/a"))
    return rows


def startup_cases(repeat: int, tmp: Path, env: dict) -> list[tuple]:
    rows = []
    shape = wall_ms(kernelcli_cmd() + ["shape", "--in", "224x224", "--f", "3", "--same", "-q"], repeat, env=env)
    rows.append(("`kernelcli shape --in 224x224 --f 3 --same -q`", shape, "<= 120 ms", verdict(shape <= 120)))
    csv = ROOT / "samples" / "example1.csv"
    conv = wall_ms(kernelcli_cmd() + ["convolve", str(csv), "--kernel", "prewitt_v", "-q"], repeat, env=env)
    rows.append(("`kernelcli convolve example1.csv` (5x5 CSV)", conv, "<= 300 ms", verdict(conv <= 300)))
    fresh = dict(env, NUMBA_CACHE_DIR=str(tmp / "empty-numba-cache"))
    conv_fresh = wall_ms(kernelcli_cmd() + ["convolve", str(csv), "--kernel", "prewitt_v", "-q"], repeat, env=fresh, warm=False)
    rows.append(("same, empty Numba cache (as after installation)", conv_fresh, "<= 300 ms", verdict(conv_fresh <= 300)))
    # the one-off compile: force the jitted core on a small PNG with an empty cache
    src = tmp / "in512.png"
    if not src.exists():
        make_png(src, 512)
    # what `kernelcli convolve` runs, with the path policy pinned to the jitted core
    job = ("from kernelcli._core.policy import Paths; from kernelcli.jobs import ConvolveOptions, convolve_file; "
           f"convolve_file({str(src)!r}, 'sobel_v', ConvolveOptions(paths=Paths(force='jit')), out={str(tmp / 'c.png')!r}, force=True)")
    cmd = PYTHON + ["-c", job]
    cold_env = dict(env, NUMBA_CACHE_DIR=str(tmp / "cold-cache"))
    t0 = time.perf_counter()
    done = subprocess.run(cmd, env=cold_env, capture_output=True, text=True, check=True)
    cold = 1e3 * (time.perf_counter() - t0)
    said = "compiling the numeric core" in done.stderr
    warm = wall_ms(cmd, repeat, env=cold_env, warm=False)
    rows.append(("first jitted run, empty cache (compiles; jitted core forced)", cold, "(report)",
                 "says 'compiling' once" if said else "**no compile note**"))
    rows.append(("the same run again (cache loaded)", warm, "(report)", ""))
    return rows


MEMORY_CODE = r"""
import json, sys, tracemalloc
import numpy as np
import kernelcli.api as api
from kernelcli._core import policy
policy.DEFAULT = policy.Paths(force="jit")

def status(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024  # MiB
    return float("nan")

k = np.asarray(json.loads(sys.argv[1]))
api.conv2d(np.ones((256, 256), np.float32), k)  # load the path first (compiling peaks far higher)
x = np.random.default_rng(0).random((2048, 2048), dtype=np.float32)
before = status("VmRSS")
try:
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # reset the peak-RSS mark (VmHWM) to the current RSS
    reset = True
except OSError:
    reset = False
tracemalloc.start()
out = api.conv2d(x, k)
traced = tracemalloc.get_traced_memory()[1] / 2**20
hwm = status("VmHWM") - before if reset else float("nan")
print(json.dumps({"rss_peak_growth": hwm, "traced_peak": traced}))
"""


def memory_cases(env: dict) -> list[tuple]:
    rows = []
    rng = np.random.default_rng(4)
    g = np.exp(-0.5 * (np.arange(31) - 15) ** 2 / 25.0)
    kernels = {"dense 7x7 (direct)": rng.normal(size=(7, 7)), "Gaussian 31x31 (separable)": np.outer(g, g) / g.sum() ** 2,
               "dense 31x31 (FFT)": rng.normal(size=(31, 31))}
    for name, k in kernels.items():
        done = subprocess.run([sys.executable, "-c", MEMORY_CODE, json.dumps(k.tolist())], capture_output=True, text=True, env=env, check=True, cwd=ROOT)
        m = json.loads(done.stdout)
        beyond = max(m["rss_peak_growth"], m["traced_peak"])
        rows.append((name, m["rss_peak_growth"], m["traced_peak"], 16.0 + beyond, verdict(16.0 + beyond <= 48.5)))
    return rows


def layer_volume_section(quick: bool) -> str:
    """conv_layer against torch conv2d (issue 6) and the 3-D Gaussian against scipy (issue 8),
    from benchmarks/bench_layer.py and bench_volume.py, as rows of one table."""
    import contextlib
    import io

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    lines = ["### Layers and volumes (ratio = kernelcli / peer)", "",
             "| case | kernelcli (ms) | peer (ms, ratio) |", "|---|---|---|"]
    try:
        from bench_layer import bench_conv_layer

        with contextlib.redirect_stdout(io.StringIO()):
            row = bench_conv_layer(repeats=9 if quick else 21)
        lines.append(f"| conv_layer {row['case']} (with out=: {row['conv_layer_out_ms']:.2f}) | {row['conv_layer_ms']:.2f} | "
                     f"torch conv2d, best of {', '.join(row['torch'])} ({row['torch_best'][6:]}) {row['torch_ms']:.2f} "
                     f"({row['conv_layer_ms'] / row['torch_ms']:.2f}) |")
    except ImportError as exc:
        lines.append(f"| conv_layer (skipped: {exc}) | - | - |")
    from bench_volume import bench_gaussian

    with contextlib.redirect_stdout(io.StringIO()):
        row = bench_gaussian(size=192 if quick else 256, repeats=3 if quick else 7)
    lines.append(f"| 3-D {row['case']} | {row['kernelcli_ms']:.1f} | scipy.ndimage.gaussian_filter "
                 f"{row['scipy_same_radius_ms']:.1f} ({row['kernelcli_ms'] / row['scipy_same_radius_ms']:.2f}) |")
    return "\n".join(lines)


def crossover(n: int, repeat: int) -> str:
    """Time the direct loop against the FFT (dense kernels) and the separable loop against the
    2-D one (rank-1 kernels) on an n x n float32 image: the data behind engine's crossovers."""
    policy.DEFAULT = Paths(force="jit")
    rng = np.random.default_rng(5)
    x = rng.random((n, n), dtype=np.float32)
    lines = [f"### Crossovers, {n}x{n} float32 (ms)", "", "| kernel | dense direct | FFT | separable | chosen |", "|---|---|---|---|---|"]
    for size in (3, 5, 7, 11, 15, 19, 21, 23, 25, 31):
        k = np.outer(rng.random(size) + 0.1, rng.random(size) + 0.1)
        noisy = k + 1e-3 * rng.random((size, size))  # rank > 1
        times = {}
        for path, kernel in (("dense", noisy), ("fft", noisy), ("separable", k)):
            forced = Paths(force=path)
            times[path] = median_ms(lambda: api.conv2d(x, kernel, paths=forced), repeat)
        lines.append(f"| {size}x{size} | {times['dense']:.2f} | {times['fft']:.2f} | {times['separable']:.2f} | "
                     f"{path_of(noisy)} / {path_of(k)} |")
        print(lines[-1], file=sys.stderr)
    return "\n".join(lines)


# ----------------------------------------------------------------------------- main


def machine_line() -> str:
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    import numba

    return (f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, numpy {np.__version__}, "
            f"numba {numba.__version__}; load average at start {load[0]:.2f}, {load[1]:.2f}, {load[2]:.2f}")


def blas_line() -> str:
    try:
        from threadpoolctl import threadpool_info

        info = [f"{i.get('internal_api')} {i.get('version')} ({i.get('architecture')})" for i in threadpool_info()]
        return ", ".join(info) or "no BLAS pool found"
    except ImportError:
        return "threadpoolctl not installed"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer cases and runs (under 5 minutes)")
    parser.add_argument("--sizes", default="512,2048", help="image sides for the CLI rows (the array rows use the largest)")
    parser.add_argument("--repeat", type=int, default=None, help="timed runs per case (default 7, quick 5)")
    parser.add_argument("--save", action="store_true", help="also write benchmarks/results.md")
    parser.add_argument("--crossover", action="store_true", help="only measure the path crossovers (dense/FFT/separable)")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    repeat = args.repeat or (5 if args.quick else 7)
    n = max(sizes)
    started = time.perf_counter()
    if _UNSET:
        NOTES.append(f"Unset in this process only: {', '.join(_UNSET)} (numpy's OpenBLAS: {blas_line()}).")

    import numba

    numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
    if args.crossover:
        print(crossover(n, repeat))
        return 0
    peers = load_peers()
    # an installed package has its bytecode (pip compiles it): PYTHONDONTWRITEBYTECODE would recompile every run
    env = {k: v for k, v in os.environ.items() if not k.startswith("KERNELCLI_") and k != "PYTHONDONTWRITEBYTECODE"}
    header = machine_line()
    print(f"# {header}", file=sys.stderr)

    sections = []
    print("convolution...", file=sys.stderr)
    sections.append(conv_cases(peers, n, repeat, args.quick).markdown())
    print("pooling...", file=sys.stderr)
    sections.append(pool_cases(peers, n, repeat).markdown())

    print("per-call overhead, pooling, RGB and Gaussians against OpenCV (bench_calls.py)...", file=sys.stderr)
    from bench_calls import markdown as calls_markdown, rows as calls_rows

    sections.append(calls_markdown(calls_rows(5 if args.quick else 9)))

    print("threads...", file=sys.stderr)
    case, one, two = thread_case(n, repeat)
    sections.append("\n".join([
        "### Threads (numba.set_num_threads)", "", "| case | 1 thread (ms) | 2 threads (ms) | speed-up | target | met |",
        "|---|---|---|---|---|---|",
        f"| {case} | {one:.2f} | {two:.2f} | {one / two:.2f} | >= 1.7 | {verdict(one / two >= 1.7)} |",
    ]))

    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        NOTES.append(use_user_venv(tmp / "venv"))
        env = dict(env, KERNELCLI_WORKER="off")  # whole cold processes (bench_startup.py has the worker's rows)
        print("command line...", file=sys.stderr)
        cli_rows = cli_cases(sizes, 3 if args.quick else 5, tmp, env)
        lines = ["### Command line, end to end (wall time of the whole process, median)", "",
                 "| case | kernelcli (ms) | ImageMagick convert-im6.q16 (ms, ratio) | target | met |", "|---|---|---|---|---|"]
        for case, ours, im, target, ok in cli_rows:
            lines.append(f"| {case} | {ours:.0f} | {'-' if im is None else f'{im:.0f} ({ours / im:.2f})'} | {target} | {ok} |")
        sections.append("\n".join(lines))

        print("start-up...", file=sys.stderr)
        lines = ["### Start-up (wall time of the whole process, median)", "", "| case | ms | target | met |", "|---|---|---|---|"]
        for case, ms, target, ok in startup_cases(5 if args.quick else 9, tmp, env):
            lines.append(f"| {case} | {ms:.0f} | {target} | {ok} |")
        sections.append("\n".join(lines))

    print("layers and volumes...", file=sys.stderr)
    sections.append(layer_volume_section(args.quick))

    print("start-up, worker, shell loop and memory rows (bench_startup.py)...", file=sys.stderr)
    from bench_startup import markdown as startup_markdown, run as startup_run

    sections.append(startup_markdown(startup_run(args.quick)))

    print("gallery, montage and learn on one image (bench_jobs.py)...", file=sys.stderr)
    from bench_jobs import markdown as jobs_markdown, rows as jobs_rows

    sections.append(jobs_markdown(jobs_rows(args.quick)))

    print("memory...", file=sys.stderr)
    lines = ["### Peak memory, 2048x2048 float32 convolution", "",
             "Measured in a fresh process after the path is loaded and the 16 MiB input exists: the peak resident "
             "size during the call (Linux VmHWM, reset through /proc/self/clear_refs) minus the resident size before "
             "it, and tracemalloc's peak (numpy allocations only; Numba's small row buffers are not traced). "
             "Budget: input + padded copy + output = 48 MiB.", "",
             "| case | peak RSS growth (MiB) | tracemalloc peak (MiB) | input + larger growth (MiB) | <= 48 MiB |", "|---|---|---|---|---|"]
    for name, delta, traced, total, ok in memory_cases(env):
        lines.append(f"| {name} | {delta:.1f} | {traced:.1f} | {total:.1f} | {ok} |")
    sections.append("\n".join(lines))

    elapsed = time.perf_counter() - started
    load = os.getloadavg()
    notes = NOTES + [f"Run took {elapsed:.0f} s; load average at the end {load[0]:.2f}, {load[1]:.2f}, {load[2]:.2f} "
                     "(2 cores: above ~1 the machine is shared and absolute times are inflated; ratios within one run stay comparable)."]
    command = "python benchmarks/run.py " + " ".join(argv if argv is not None else sys.argv[1:])
    text = "\n\n".join(
        [f"## Benchmark results\n\n`{command.strip()}` on {header}.\n\nRatio = kernelcli time / peer time "
         "(below 1: kernelcli is faster). Medians after a warm-up run.", *sections, "Notes:\n" + "\n".join(f"- {n_}" for n_ in notes)]
    ) + "\n"
    print(text)
    if args.save:
        (ROOT / "benchmarks" / "results.md").write_text(text)
        print(f"saved to {ROOT / 'benchmarks' / 'results.md'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
