"""Warm calls with and without the spare's writing ahead (``kernelcli/worker/prefault.py``).

Two workers of this checkout run side by side, each in a runtime folder of its own: one as
shipped, one whose probe finds no pages (so its spares write nothing ahead).  The same
``kernelcli`` command (``bench_startup.user_venv``: the installed script in a venv) calls
each in interleaved rounds: ``shape -q`` and ``convolve -k sobel_v`` of a seeded 512x512
8-bit PNG.  Wall time of whole processes, medians; the outputs of both are compared.
``--loop N`` also times shell loops of N such ``convolve`` calls against each worker (alternating
loops, ``--loops`` of each): calls back to back, where the spare's writing ahead runs beside the
next client's start instead of in a pause.

Run: ``python benchmarks/bench_prefault.py [--repeat 31] [--loop 100 --loops 3]``
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_startup import ROOT, user_venv

#: the worker, its probe made to find nothing when NO_PREFAULT is set (the control)
SERVE = (
    "import os, sys; sys.path.insert(0, sys.argv.pop(1))\n"
    "import kernelcli.worker.prefault as prefault\n"
    "if os.environ.get('NO_PREFAULT'): prefault.probe = lambda calls: ()\n"
    "from kernelcli.worker.server import main; main()\n"
)


def start(python: str, env: dict, control: bool) -> tuple[subprocess.Popen, str]:
    """A worker for ``env`` (its own XDG_RUNTIME_DIR); the process and its socket."""
    where = "from kernelcli.worker import protocol; print(protocol.socket_path(protocol.runtime_dir(create=True)))"
    sock = subprocess.run([python, "-c", where], env=env, capture_output=True, text=True, check=True).stdout.strip()
    extra = {"KERNELCLI_WORKER": "off", **({"NO_PREFAULT": "1"} if control else {})}
    proc = subprocess.Popen([python, "-c", SERVE, str(ROOT), sock, "900"], env={**env, **extra}, cwd="/",
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while not os.path.exists(sock):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("the worker did not start")
        time.sleep(0.1)
    return proc, sock


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=31)
    ap.add_argument("--loop", type=int, default=0, help="calls in each shell loop (0: no loops)")
    ap.add_argument("--loops", type=int, default=3, help="shell loops against each worker, alternating")
    args = ap.parse_args()
    import numpy as np
    from PIL import Image

    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        python = user_venv(tmp / "venv")
        command = str(Path(python).parent / "kernelcli")
        Image.fromarray(np.random.default_rng(0).integers(0, 256, (512, 512), dtype=np.uint8)).save(tmp / "g512.png")
        base = {k: v for k, v in os.environ.items() if not k.startswith("KERNELCLI_") and k != "PYTHONDONTWRITEBYTECODE"}
        workers, envs = {}, {}
        for name in ("writes ahead", "control"):
            runtime = tmp / name.replace(" ", "_")
            runtime.mkdir(mode=0o700)
            envs[name] = {**base, "XDG_RUNTIME_DIR": str(runtime)}
            workers[name] = start(python, envs[name], control=name == "control")[0]
        try:
            cases = {
                "shape --in 224x224 --f 3 --same -q": ["shape", "--in", "224x224", "--f", "3", "--same", "-q"],
                "convolve 512x512 PNG -k sobel_v": ["convolve", str(tmp / "g512.png"), "-k", "sobel_v", "-o", "OUT", "--force", "-q"],
            }
            times: dict = {(c, w): [] for c in cases for w in workers}
            for _ in range(args.repeat + 1):  # the first round unmeasured
                for case, argv in cases.items():
                    for name in workers:
                        call = [command, *[str(tmp / f"out_{name[0]}.png") if a == "OUT" else a for a in argv]]
                        t0 = time.perf_counter()
                        subprocess.run(call, env=envs[name], cwd=tmp, stdout=subprocess.DEVNULL, check=True)
                        times[(case, name)].append((time.perf_counter() - t0) * 1e3)
            same = (tmp / "out_w.png").read_bytes() == (tmp / "out_c.png").read_bytes()
            loops: dict = {name: [] for name in workers}
            script = f'for i in $(seq {args.loop}); do "$0" convolve "$1" -k sobel_v -o "$2" --force -q; done'
            for _ in range(args.loops if args.loop else 0):
                for name in workers:
                    t0 = time.perf_counter()
                    subprocess.run(["bash", "-c", script, command, str(tmp / "g512.png"), str(tmp / f"loop_{name[0]}.png")],
                                   env=envs[name], cwd=tmp, check=True)
                    loops[name].append(time.perf_counter() - t0)
            status = {n: json.loads(subprocess.run([command, "worker", "status", "--json"], env=envs[n], capture_output=True,
                                                   text=True, check=True).stdout) for n in workers}
        finally:
            for proc in workers.values():
                proc.terminate()
                proc.wait()
    print(f"load average {os.getloadavg()[0]:.2f}; medians of {args.repeat} interleaved rounds, wall ms of the whole `kernelcli` process")
    print("| call | spare writes ahead | control (writes nothing ahead) | ratio |")
    print("|---|---|---|---|")
    for case in cases:
        ahead, control = (statistics.median(times[(case, n)][1:]) for n in workers)
        print(f"| `{case}` | {ahead:.1f} | {control:.1f} | {ahead / control:.2f} |")
    for name, seconds in loops.items():
        if seconds:
            print(f"shell loop of {args.loop} convolve calls, {name}: " + ", ".join(f"{v:.2f}" for v in seconds)
                  + f" s (median {statistics.median(seconds):.2f})")
    print(f"pages written ahead: {status['writes ahead']['pages_written_ahead']} (control {status['control']['pages_written_ahead']});"
          f" calls without a spare: {status['writes ahead']['calls_without_a_spare']}, {status['control']['calls_without_a_spare']};"
          f" same output bytes: {same}")


if __name__ == "__main__":
    main()
