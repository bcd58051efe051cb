"""Two installs of kernelcli against each other, cold, in interleaved whole-process rounds, beside
the three-line OpenCV script (issue 17): wall time and CPU time (user + system, the process and
its threads) of each, medians and minima, and whether the two outputs are the same bytes.

CPU time moves far less than wall time on a shared machine, so it is the figure to compare
when the load is high; the wall ratio against the cv2 script is the issue's.  Each install is
a clean venv with kernelcli installed in it (``pip install .``, not editable), as
``bench_startup.py --python`` takes it; give each its measured start-up cost first
(``VENV/bin/python -m kernelcli.startup``), or copy one record to the other, so that both
take the same compute path.

    python benchmarks/bench_cold_ab.py IMAGE --kernelcli /tmp/a/bin/kernelcli --kernelcli /tmp/b/bin/kernelcli
    python benchmarks/bench_cold_ab.py photo.jpg --kernelcli A --kernelcli B --rounds 21 -- -k sobel_h

The call is ``convolve IMAGE -k sobel_v -o OUT --force -q`` (options after ``--`` replace
``-k sobel_v``), with ``KERNELCLI_WORKER=off``; the cv2 script runs with the first install's
interpreter (``--no-cv2`` leaves it out).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CV2_SCRIPT = (
    "import sys, cv2, numpy as np\n"
    "im = cv2.imread(sys.argv[1], cv2.IMREAD_UNCHANGED)\n"
    "cv2.imwrite(sys.argv[2], cv2.filter2D(im, -1, np.array([[1, 0, -1], [2, 0, -2], [1, 0, -1]], np.float32), borderType=cv2.BORDER_CONSTANT))\n"
)


def once(cmd: list[str], env: dict, cwd: str) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one whole process."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    err = proc.stderr.read()
    proc.stderr.close()
    if status != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({status}): {err.decode(errors='replace')[-300:]}")
    return wall, usage.ru_utime + usage.ru_stime


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("image")
    parser.add_argument("--kernelcli", action="append", required=True, help="an install's console script (twice: A and B)")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--no-cv2", action="store_true")
    parser.add_argument("options", nargs="*", help="convolve options after --; default: -k sobel_v")
    a = parser.parse_args(argv)
    src = str(Path(a.image).resolve())
    suffix = Path(src).suffix
    env = {k: v for k, v in os.environ.items() if not k.startswith("KERNELCLI_") and k not in ("PYTHONPATH", "PYTHONDONTWRITEBYTECODE")}
    env["KERNELCLI_WORKER"] = "off"
    with tempfile.TemporaryDirectory() as tmp:
        cmds = {f"{'AB'[i] if i < 2 else i} {script}": [script, "convolve", src, *(a.options or ["-k", "sobel_v"]),
                                                         "-o", str(Path(tmp) / f"out{i}{suffix}"), "--force", "-q"]
                for i, script in enumerate(a.kernelcli)}
        if not a.no_cv2:
            python = str(Path(a.kernelcli[0]).parent / "python")
            cmds["cv2 script"] = [python, "-c", CV2_SCRIPT, src, str(Path(tmp) / f"cv2{suffix}")]
        for cmd in cmds.values():  # one unmeasured run each
            once(cmd, env, tmp)
        load0 = os.getloadavg()
        runs: dict[str, list[tuple[float, float]]] = {name: [] for name in cmds}
        for _ in range(a.rounds):
            for name, cmd in cmds.items():
                runs[name].append(once(cmd, env, tmp))
        load1 = os.getloadavg()
        outputs = [(Path(tmp) / f"out{i}{suffix}").read_bytes() for i in range(len(a.kernelcli))]
    print(f"{src}: {a.rounds} interleaved rounds, load average {load0[0]:.1f} before, {load1[0]:.1f} after; ms")
    med = {name: (statistics.median(w for w, _ in r), statistics.median(c for _, c in r)) for name, r in runs.items()}
    for name, r in runs.items():
        print(f"  {name}: wall median {1e3 * med[name][0]:.0f} (min {1e3 * min(w for w, _ in r):.0f}), "
              f"CPU median {1e3 * med[name][1]:.0f} (min {1e3 * min(c for _, c in r):.0f})")
    if "cv2 script" in med:
        for name in cmds:
            if name != "cv2 script":
                print(f"  {name.split()[0]} / cv2 script: wall {med[name][0] / med['cv2 script'][0]:.2f}, "
                      f"CPU {med[name][1] / med['cv2 script'][1]:.2f}")
    print(f"  the outputs are {'the same bytes' if len(set(outputs)) == 1 else 'DIFFERENT'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
