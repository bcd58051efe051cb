"""Whole-process rows (issue 17): kernelcli with the warm worker, cold, ImageMagick and the
three-line OpenCV script a user would write instead; a shell loop against one batch call;
peak memory as multiples of the image's bytes.

Every row is the median wall time of ``--repeat`` runs of a whole process after one
unmeasured run; ratios come from the same run.  The test images are generated here
(seeded; nothing is downloaded): a 512x512 and a 2048x2048 8-bit PNG and a 4000x3000 RGB
JPEG (12 MP).  The worker runs in a private runtime folder of its own and is stopped at
the end.  kernelcli runs as the command a user types, ``kernelcli``: the file the wheel
installs as it (``kernelcli/__main__.py``, see ``pyproject.toml``) in the venv below, importing
this checkout; ``--system-python`` runs ``python -m kernelcli`` from the repository root.

Every process (kernelcli, the worker and the cv2 script) runs from a fresh virtual
environment made here whose ``.pth`` file lists this interpreter's site-packages as a plain
path, as a user's install is a venv: this shared sandbox's own interpreter runs ``.pth``
files at start-up that import certifi (``python -c pass`` 32 ms there, 9 ms in a venv);
``--system-python`` runs this interpreter instead.  ``--python PATH`` runs them with another
interpreter, a clean venv's with kernelcli installed in it (``pip install .``, not editable):
kernelcli is then its console script, ``bin/kernelcli`` beside PATH, as a user types it.  The
output names the interpreter.  The shell loop also runs with this interpreter when it is
another, so that both figures are reported, each beside its floor: the same loop of
``python -c pass`` (a Python client cannot be faster than its interpreter's start).
``PYTHONDONTWRITEBYTECODE`` is dropped: an installed package has its bytecode (pip compiles
it), and without it every cold call compiled kernelcli's sources again (~80 ms).

    python benchmarks/bench_startup.py                 # every row
    python benchmarks/bench_startup.py --quick         # small images, few runs: checks the script
    python benchmarks/bench_startup.py --only loop,shape --python /tmp/venv/bin/python
    python benchmarks/bench_startup.py --json

Also a section of ``python benchmarks/run.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
#: the interpreter every measured process runs (see :func:`user_venv`)
PYTHON = sys.executable
KERNELCLI = [PYTHON, "-m", "kernelcli"]
#: the folder every measured process runs in: the repository (``python -m kernelcli`` runs its copy)
CWD = ROOT
#: the sections of a run, in order (``--only``)
SECTIONS = ("convolve", "shape", "loop", "memory")


def user_venv(folder: Path) -> str:
    """A venv (no pip) that sees this checkout and this interpreter's packages through a ``.pth`` of
    plain paths, with the ``kernelcli`` command installed as the wheel installs it; its python."""
    import site

    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True, capture_output=True)
    packages = next((folder / "lib").glob("python*/site-packages"))
    (packages / "base_packages.pth").write_text("\n".join([str(ROOT), *site.getsitepackages()]) + "\n")
    python = folder / "bin" / "python"
    install_command(python)
    return str(python)


def install_command(python: Path) -> Path:
    """``kernelcli`` beside ``python``, as installing the wheel writes it: the package's ``__main__.py``
    (the ``shared-scripts`` of ``pyproject.toml``), its first line pointing at ``python``."""
    source = (ROOT / "kernelcli" / "__main__.py").read_text().split("\n", 1)[1]
    command = python.parent / "kernelcli"
    command.write_text(f"#!{python}\n{source}")
    command.chmod(0o755)
    return command


def use_python(python: str, installed: bool = False, cwd: Path = ROOT) -> None:
    """Run every measured process with ``python``: ``python -m kernelcli`` from the repository, or,
    ``installed``, the kernelcli installed with it (its console script where there is one) from ``cwd``."""
    global PYTHON, KERNELCLI, CWD
    script = Path(python).parent / "kernelcli"
    PYTHON, CWD = python, cwd if installed else ROOT
    KERNELCLI = [str(script)] if installed and script.exists() else [python, "-m", "kernelcli"]


def measure_start_up(env: dict) -> None:
    """Measure the jitted core's start-up for this interpreter now, as an install that has run once has it
    (else the first cold call that loads the core would start the measurement in the background, beside the
    timed runs)."""
    subprocess.run([PYTHON, "-m", "kernelcli.startup"], env=env, cwd=CWD, check=True, capture_output=True, timeout=900)
#: Debian's real binary: a bare ``convert`` on PATH may be a stand-in that only prints a PNG (as benchmarks/run.py)
CONVERT = shutil.which("convert-im6.q16")
#: what a user would write instead: imread, filter2D (zero border, saturating), imwrite
CV2_SCRIPT = (
    "import sys, cv2, numpy as np\n"
    "im = cv2.imread(sys.argv[1], cv2.IMREAD_UNCHANGED)\n"
    "cv2.imwrite(sys.argv[2], cv2.filter2D(im, -1, np.array([[1, 0, -1], [2, 0, -2], [1, 0, -1]], np.float32), borderType=cv2.BORDER_CONSTANT))\n"
)


TIME = shutil.which("time") or "/usr/bin/time"


def run_once(cmd: list[str], env: dict, stdin=None, memory: bool = False) -> tuple[float, float]:
    """(seconds, peak RSS in MiB, or NaN unless ``memory``) of one whole process.

    The peak comes from GNU time (``%M``): ``wait4`` on a direct child would also count the
    copy of this (large) Python process that the child was before ``exec``.
    """
    with tempfile.NamedTemporaryFile("r") as report:
        measured = [TIME, "-f", "%M", "-o", report.name, *cmd] if memory and os.path.exists(TIME) else cmd
        t0 = time.perf_counter()
        done = subprocess.run(measured, check=False, env=env, cwd=CWD, stdin=stdin or subprocess.DEVNULL,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        seconds = time.perf_counter() - t0
        text = report.read().strip().splitlines()
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {done.returncode}: {done.stderr.decode(errors='replace').strip()[-300:]}")
    peak = float(text[-1]) / 1024 if text and text[-1].strip().isdigit() else float("nan")
    return seconds, peak


def wall_ms(cmd: list[str], env: dict, repeat: int) -> float:
    run_once(cmd, env)
    return 1e3 * statistics.median(run_once(cmd, env)[0] for _ in range(repeat))


def make_images(tmp: Path, sizes: list[int], photo: tuple[int, int]) -> dict[str, Path]:
    from PIL import Image

    rng = np.random.default_rng(0)
    files = {}
    for n in sizes:
        y, x = np.mgrid[0:n, 0:n] / n
        img = 100 + 80 * np.sin(6 * x) * np.cos(4 * y) + 60 * (((x - 0.5) ** 2 + (y - 0.5) ** 2) < 0.1) + rng.normal(0, 8, (n, n))
        files[f"{n}x{n} 8-bit PNG"] = tmp / f"g{n}.png"
        Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(files[f"{n}x{n} 8-bit PNG"])
    h, w = photo
    y, x = np.mgrid[0:h, 0:w] / max(h, w)
    base = 120 + 70 * np.sin(9 * x) * np.cos(7 * y)
    rgb = np.stack([base, base[::-1], base[:, ::-1]], axis=-1) + rng.normal(0, 6, (h, w, 3))
    files[f"{w}x{h} RGB JPEG"] = tmp / "photo.jpg"
    Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8)).save(files[f"{w}x{h} RGB JPEG"], quality=92)
    return files


def start_worker(env: dict, kernelcli: list[str] | None = None, cwd: Path | None = None) -> None:
    subprocess.run((kernelcli or KERNELCLI) + ["worker", "start"], env=env, cwd=cwd or CWD, check=True, capture_output=True, timeout=900)


def stop_worker(env: dict, kernelcli: list[str] | None = None, cwd: Path | None = None) -> None:
    subprocess.run((kernelcli or KERNELCLI) + ["worker", "stop"], check=False, env=env, cwd=cwd or CWD, capture_output=True, timeout=60)


def convolve_rows(files: dict[str, Path], tmp: Path, cold: dict, warm: dict, repeat: int, have_cv2: bool) -> list[dict]:
    rows = []
    for label, src in files.items():
        out = tmp / f"out{src.suffix}"
        ours = KERNELCLI + ["convolve", str(src), "-k", "sobel_v", "-o", str(out), "--force", "-q"]
        row = {"case": f"`convolve -k sobel_v`, {label}", "warm_ms": wall_ms(ours, warm, repeat), "cold_ms": wall_ms(ours, cold, repeat)}
        if CONVERT:
            row["imagemagick_ms"] = wall_ms([CONVERT, str(src), "-morphology", "Convolve", "Sobel:180", str(tmp / f"im{src.suffix}")], cold, repeat)
        if have_cv2:
            row["cv2_script_ms"] = wall_ms([PYTHON, "-c", CV2_SCRIPT, str(src), str(tmp / f"cv{src.suffix}")], cold, repeat)
        rows.append(row)
    return rows


def shape_row(cold: dict, warm: dict, repeat: int) -> dict:
    cmd = KERNELCLI + ["shape", "--in", "224x224", "--f", "3", "--same", "-q"]
    return {"case": "`shape --in 224x224 --f 3 --same -q`", "warm_ms": wall_ms(cmd, warm, repeat),
            "cold_ms": wall_ms(cmd, cold, repeat), "python_ms": wall_ms([PYTHON, "-c", "pass"], cold, repeat),
            "system_python_ms": wall_ms([sys.executable, "-c", "pass"], cold, repeat)}


def shell_loop_s(files: list[Path], command: str, env: dict, cwd: Path, worker_pid: int | None = None) -> tuple[float, float, float]:
    """One bash loop running ``command`` (``$f``: each file in turn; ``$OUT``: a fresh folder): its seconds,
    and the CPU seconds of the loop's processes and of the worker (``worker_pid``, with the call processes
    it reaped), which a busy machine inflates less than wall time."""
    import resource

    out = Path(tempfile.mkdtemp(dir=files[0].parent.parent))
    loop = f'for f in {" ".join(shlex.quote(str(f)) for f in files)}; do {command} || exit 1; done'
    worker_before = _cpu_of(worker_pid)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    done = subprocess.run(["bash", "-c", loop], check=False, env={**env, "OUT": str(out)}, cwd=cwd, stdin=subprocess.DEVNULL,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    seconds = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise RuntimeError(f"{command} exited {done.returncode}: {done.stderr.decode(errors='replace').strip()[-300:]}")
    client = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return seconds, client, _cpu_of(worker_pid) - worker_before


def _cpu_of(pid: int | None) -> float:
    """CPU seconds of process ``pid`` and of its reaped children (Linux ``/proc``; 0 without)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except (OSError, TypeError):
        return 0.0
    return sum(int(x) for x in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def worker_pid(env: dict, kernelcli: list[str], cwd: Path) -> int | None:
    done = subprocess.run(kernelcli + ["worker", "status", "--json"], check=False, env=env, cwd=cwd, capture_output=True, text=True)
    try:
        return int(json.loads(done.stdout)["pid"])
    except (ValueError, KeyError, TypeError):
        return None


def loop_row(tmp: Path, n_files: int, side: int, cold: dict, warm: dict) -> dict:
    """A shell loop of single-file calls (worker, and cold) against one batch call, beside the floor
    of any Python client: the same loop of ``python -c pass``.  When the measured interpreter is
    not this one, the worker loop and its floor are measured with this one too (both reported).
    CPU per call: the client's (with bash's fork), the worker's own and its call processes'."""
    from PIL import Image

    folder = tmp / "many"
    folder.mkdir()
    rng = np.random.default_rng(1)
    files = []
    for i in range(n_files):
        files.append(folder / f"img{i:03d}.png")
        Image.fromarray(rng.integers(0, 256, (side, side), dtype=np.uint8)).save(files[-1])
    call = ' convolve "$f" -k sobel_v -o "$OUT/$(basename "$f")" -q'
    row = {"case": f"{n_files} x `convolve -k sobel_v` on {side}x{side} PNGs", "python": PYTHON,
           "kernelcli": " ".join(KERNELCLI), "n": n_files}
    row["warm_loop_s"], row["warm_client_cpu_s"], row["warm_worker_cpu_s"] = shell_loop_s(
        files, shlex.join(KERNELCLI) + call, warm, CWD, worker_pid(warm, KERNELCLI, CWD))
    row["cold_loop_s"] = shell_loop_s(files, shlex.join(KERNELCLI) + call, cold, CWD)[0]
    row["floor_loop_s"], row["floor_cpu_s"], _ = shell_loop_s(files, f"{shlex.quote(PYTHON)} -c pass", cold, CWD)
    row["batch_s"] = run_once(KERNELCLI + ["convolve", str(folder), "-k", "sobel_v", "--out-dir", str(tmp / "batch"), "-q"], cold)[0]
    if PYTHON != sys.executable:  # the sandbox's interpreter (its start-up is not a user's), with a worker of its own
        here = [sys.executable, "-m", "kernelcli"]
        start_worker(warm, here, ROOT)
        try:
            row["shared_python"] = sys.executable
            row["shared_warm_loop_s"] = shell_loop_s(files, shlex.join(here) + call, warm, ROOT)[0]
            row["shared_floor_loop_s"] = shell_loop_s(files, f"{shlex.quote(sys.executable)} -c pass", cold, ROOT)[0]
        finally:
            stop_worker(warm, here, ROOT)
    return row


def memory_rows(files: dict[str, Path], tmp: Path, cold: dict, big: int | None) -> list[dict]:
    """Peak RSS of a cold ``convolve`` as a multiple of the decoded image's bytes."""
    from PIL import Image

    cases = dict(files)
    if big:
        from PIL import Image as _Image

        src = tmp / f"big{big}.png"
        rng = np.random.default_rng(2)
        _Image.fromarray(rng.integers(0, 256, (big, big), dtype=np.uint8)).save(src, compress_level=1)
        cases[f"{big}x{big} 8-bit PNG"] = src
    rows = []
    tiny = tmp / "tiny.png"
    Image.fromarray(np.zeros((16, 16), np.uint8)).save(tiny)
    baseline = run_once(KERNELCLI + ["convolve", str(tiny), "-k", "sobel_v", "-o", str(tmp / "tiny_out.png"), "--force", "-q"], cold, memory=True)[1]
    # the same process with the jitted core loaded (Numba and LLVM alone take ~130 MiB): the data's share of a call
    # that takes the jitted path is measured over this one
    core_probe = ("import sys, numpy as np; sys.argv = ['kernelcli', 'convolve', sys.argv[1], '-k', 'sobel_v', '-o', sys.argv[2], '--force', '-q']\n"
                  "from kernelcli import api; from kernelcli._core.policy import Paths\n"
                  "x = np.zeros((16, 16), np.uint8); x.setflags(write=False); api.conv2d(x, np.ones((3, 3)), paths=Paths(force='jit'))\n"
                  "from kernelcli.cli import main; main()\n")
    core_baseline = run_once([PYTHON, "-c", core_probe, str(tiny), str(tmp / "tiny_out.png")], cold, memory=True)[1]
    for label, src in cases.items():
        with Image.open(src) as im:
            image_bytes = im.width * im.height * len(im.getbands())
        _, peak = run_once(KERNELCLI + ["convolve", str(src), "-k", "sobel_v", "-o", str(tmp / f"m{src.suffix}"), "--force", "-q"], cold, memory=True)
        row = {"case": f"`convolve -k sobel_v`, {label}", "image_mib": image_bytes / 2**20, "peak_rss_mib": peak,
               "baseline_mib": baseline, "multiple": (peak - baseline) * 2**20 / image_bytes,
               "core_baseline_mib": core_baseline,
               "multiple_over_core": (peak - core_baseline) * 2**20 / image_bytes if peak > core_baseline else None}
        if CONVERT:
            try:
                row["imagemagick_mib"] = run_once([CONVERT, str(src), "-morphology", "Convolve", "Sobel:180", str(tmp / f"im{src.suffix}")], cold, memory=True)[1]
            except RuntimeError:  # Debian's ImageMagick policy caps memory (256 MiB): an 8192^2 image is refused
                row["imagemagick_mib"] = None
        rows.append(row)
    return rows


def ratio(a: float | None, b: float | None) -> str:
    return "-" if a is None or b is None else f"{a / b:.2f}"


def markdown(result: dict) -> str:
    lines = ["### Start-up: warm worker, cold process, ImageMagick, a three-line OpenCV script", ""]
    if result.get("convolve") or result.get("shape"):
        lines += [("Whole processes, median wall time (ms). Targets: warm <= 0.6x ImageMagick at 512^2, <= 0.5x on the photo, "
                   "<= 1.0x the cv2 script; cold <= 1.5x ImageMagick at 512^2, <= 1.0x on the photo, <= 1.5x the cv2 script."), "",
                  "| case | warm | cold | ImageMagick | cv2 script | warm/IM | cold/IM | warm/cv2 | cold/cv2 |", "|---|---|---|---|---|---|---|---|---|"]
    for r in result.get("convolve", ()):
        im, cv = r.get("imagemagick_ms"), r.get("cv2_script_ms")
        lines.append(f"| {r['case']} | {r['warm_ms']:.0f} | {r['cold_ms']:.0f} | {'-' if im is None else f'{im:.0f}'} | "
                     f"{'-' if cv is None else f'{cv:.0f}'} | {ratio(r['warm_ms'], im)} | {ratio(r['cold_ms'], im)} | "
                     f"{ratio(r['warm_ms'], cv)} | {ratio(r['cold_ms'], cv)} |")
    if result.get("shape"):
        s = result["shape"]
        lines.append(f"| {s['case']} (target warm < 40 ms; `python -c pass` takes {s['python_ms']:.0f}, "
                     f"{s['system_python_ms']:.0f} with the sandbox's interpreter) | {s['warm_ms']:.0f} | {s['cold_ms']:.0f} | - | - | | | | |")
    if result.get("loop"):
        lp = result["loop"]
        lines += ["", ("| shell loop | interpreter | worker (s) | cold (s) | one batch call (s) | worker / batch (target <= 2) "
                       "| `python -c pass` loop (s) | its / batch: the floor |"), "|---|---|---|---|---|---|---|---|",
                  (f"| {lp['case']} | `{lp['kernelcli']}` | {lp['warm_loop_s']:.2f} | {lp['cold_loop_s']:.2f} | {lp['batch_s']:.2f} | "
                   f"{lp['warm_loop_s'] / lp['batch_s']:.2f} | {lp['floor_loop_s']:.2f} | {lp['floor_loop_s'] / lp['batch_s']:.2f} |")]
        if "shared_warm_loop_s" in lp:
            lines.append(f"| the same | `{lp['shared_python']} -m kernelcli` (this sandbox's; not a user's start-up) | "
                         f"{lp['shared_warm_loop_s']:.2f} | - | {lp['batch_s']:.2f} | {lp['shared_warm_loop_s'] / lp['batch_s']:.2f} | "
                         f"{lp['shared_floor_loop_s']:.2f} | {lp['shared_floor_loop_s'] / lp['batch_s']:.2f} |")
        n = lp["n"]
        lines += ["", (f"CPU per call of the worker loop: the client {1e3 * lp['warm_client_cpu_s'] / n:.1f} ms (with bash's fork; "
                       f"`python -c pass` {1e3 * lp['floor_cpu_s'] / n:.1f} ms), the worker and its call processes "
                       f"{1e3 * lp['warm_worker_cpu_s'] / n:.1f} ms; the batch call {1e3 * lp['batch_s'] / n:.1f} ms of wall time a file.")]
    if result.get("memory"):
        lines += ["", ("Peak resident memory of a cold `convolve` (whole process; the multiple counts what it adds over a "
                       "16x16 `convolve`, in units of the decoded image's bytes; target: input + output + one float32 "
                       "working image = 6x for 8-bit. A call that takes the jitted path also loads Numba and LLVM "
                       f"({result.get('core_baseline_mib', float('nan')) - result.get('baseline_mib', float('nan')):.0f} MiB "
                       "whatever the image): the last multiple is over a 16x16 call with the core loaded):"), "",
                  "| case | image (MiB) | peak RSS (MiB) | baseline (MiB) | multiple of the image | over the core baseline | ImageMagick peak (MiB) |",
                  "|---|---|---|---|---|---|---|"]
    for m in result.get("memory", ()):
        im = m.get("imagemagick_mib")
        lines.append(f"| {m['case']} | {m['image_mib']:.1f} | {m['peak_rss_mib']:.0f} | {m['baseline_mib']:.0f} | "
                     f"{m['multiple']:.1f} | {'-' if m['multiple_over_core'] is None else format(m['multiple_over_core'], '.1f')} | "
                     f"{'-' if im is None else f'{im:.0f}'} |")
    if result.get("python"):
        lines += ["", (f"Interpreter: {result['python']}; load average {result.get('load', '?')} at the start, "
                       f"{result.get('load_end', '?')} at the end.")]
    return "\n".join(lines)


def run(quick: bool = False, repeat: int | None = None, system_python: bool = False, python: str | None = None,
        only: tuple[str, ...] = SECTIONS) -> dict:
    """The rows of ``only`` (:data:`SECTIONS`), measured with ``python`` (a venv with kernelcli installed),
    this interpreter (``system_python``) or, by default, a venv over this interpreter's packages."""
    repeat = repeat or (3 if quick else 11)
    sizes, photo, n_files, big = ([128, 256], (300, 400), 10, None) if quick else ([512, 2048], (3000, 4000), 200, 8192)
    try:
        import cv2  # noqa: F401

        have_cv2 = True
    except ImportError:
        have_cv2 = False
    base = {k: v for k, v in os.environ.items() if not k.startswith("KERNELCLI_") and k != "PYTHONDONTWRITEBYTECODE"}
    if python is not None:  # the venv's own packages only
        base = {k: v for k, v in base.items() if k != "PYTHONPATH"}
    result: dict = {"load": _load()}
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        if python is not None:
            (tmp / "cwd").mkdir()
            use_python(python, installed=True, cwd=tmp / "cwd")
        else:
            if system_python:
                use_python(sys.executable)
            else:
                use_python(user_venv(tmp / "venv"), installed=True, cwd=ROOT)
        runtime = tmp / "run"
        runtime.mkdir(mode=0o700)
        warm = {**base, "XDG_RUNTIME_DIR": str(runtime)}
        cold = {**warm, "KERNELCLI_WORKER": "off"}
        measure_start_up(cold)
        files = make_images(tmp, sizes, photo) if {"convolve", "memory"} & set(only) else {}
        start_worker(warm)
        try:
            if "convolve" in only:
                result["convolve"] = convolve_rows(files, tmp, cold, warm, repeat, have_cv2)
            if "shape" in only:
                result["shape"] = shape_row(cold, warm, repeat)
        finally:
            stop_worker(warm)
        if "loop" in only:  # with a worker of its own: the rows before leave nothing running in the background
            start_worker(warm)
            try:
                result["loop"] = loop_row(tmp, n_files, 512 if not quick else 64, cold, warm)
            finally:
                stop_worker(warm)
        if "memory" in only:
            result["memory"] = memory_rows(files, tmp, cold, big)
            result["baseline_mib"] = result["memory"][0]["baseline_mib"]
            result["core_baseline_mib"] = result["memory"][0]["core_baseline_mib"]
        if python is not None:
            result["python"] = f"{python} (its own install of kernelcli: `{' '.join(KERNELCLI)}`)"
        else:
            result["python"] = "this interpreter" if system_python else f"a venv over {sys.executable}'s packages (see the module)"
    result["load_end"] = _load()
    if not CONVERT:
        result["note"] = "ImageMagick (convert-im6.q16) not found: its columns are empty"
    return result


def _load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small images and few runs (checks that the script works)")
    parser.add_argument("--repeat", type=int, default=None, help="timed runs per row (default 11, quick 3)")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--system-python", action="store_true", help="run every process with this interpreter, not a venv")
    which.add_argument("--python", metavar="PATH", help="run every process with this interpreter, with the kernelcli installed in its "
                       "environment (a clean venv: pip install .); the shell loop runs with this interpreter too")
    parser.add_argument("--only", default=",".join(SECTIONS), help=f"comma-separated sections to run, of {', '.join(SECTIONS)}")
    args = parser.parse_args(argv)
    only = tuple(x.strip() for x in args.only.split(",") if x.strip())
    unknown = set(only) - set(SECTIONS)
    if unknown:
        parser.error(f"--only: unknown section(s) {', '.join(sorted(unknown))}; expected some of {', '.join(SECTIONS)}")
    if args.python and not os.access(args.python, os.X_OK):
        parser.error(f"--python: {args.python} is not an executable interpreter")
    result = run(args.quick, args.repeat, args.system_python, args.python, only)
    print(json.dumps(result, indent=2) if args.json else markdown(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
