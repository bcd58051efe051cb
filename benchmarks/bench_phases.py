"""Where the time of one cold ``kernelcli convolve`` goes, phase by phase, for one or two checkouts.

Each run is a whole fresh process (``python -m kernelcli ...`` with the worker off, from a
checkout's root), watched by an audit hook installed before kernelcli is imported (no code
of kernelcli's is changed or wrapped).  The hook notes the moment of a few events; the
phases are the gaps between them:

========================  ====================================================================
``start``                 from the parent's spawn to the first Python statement (interpreter, site)
``cli``                   to the first ``import numpy`` or the input's opening, whichever comes
                          first (kernelcli's CLI modules, parsing)
``imports+read+compute``  to the output's temporary file being created: numpy, Pillow and
                          kernelcli's modules, the kernel, the checks, the decode (an early
                          decode overlaps the imports), the convolution and the conversion
``encode+write``          to its publication (rename or link: the encoder, the write, fsync)
``exit``                  to the parent seeing the process end
``input opened``          when the input was opened, counted from the spawn
========================  ====================================================================

Checkouts are measured in interleaved rounds (one run of each per round) after one
unmeasured run each; medians (and minima) per phase, with the load average before and after.

    python benchmarks/bench_phases.py IMAGE [--against OTHER_CHECKOUT] [--repeat 11] [-- convolve options]
    python benchmarks/bench_phases.py /tmp/g512.png --against /tmp/old-kernelcli

The default call is ``convolve IMAGE -k sobel_v -o OUT --force -q``.  Run it with the
interpreter a user has (a venv; see ``bench_startup.py``).  The decode of an early-decoded
input overlaps ``imports+read``, so compare whole rows, not the decode alone.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: the code each measured process runs: an audit hook noting event times, then kernelcli as ``python -m``
PROBE = r"""
import sys, time
T0 = time.time()
marks = {"first": T0}
fd, src, part = int(sys.argv[1]), sys.argv[2], ".part"
def hook(event, args):
    if event == "import" and args[0] == "numpy" and "numpy" not in marks:
        marks["numpy"] = time.time()
    elif event == "open" and args and isinstance(args[0], str):
        if args[0] == src and "read" not in marks:
            marks["read"] = time.time()
        elif args[0].endswith(part) and "temp" not in marks and (args[2] or 0) & 64:  # O_CREAT
            marks["temp"] = time.time()
    elif event in ("os.rename", "os.replace", "os.link") and "temp" in marks and "published" not in marks:
        marks["published"] = time.time()
        import os as _os
        _os.write(fd, repr(marks).encode())
sys.addaudithook(hook)
sys.argv = ["kernelcli", *sys.argv[3:]]
import runpy
runpy.run_module("kernelcli", run_name="__main__", alter_sys=True)
"""

PHASES = ("start", "cli", "imports+read+compute", "encode+write", "exit", "total", "input opened")


def once(python: str, checkout: Path, args: list[str], src: str) -> dict[str, float]:
    """The phases (ms) of one run of ``kernelcli ARGS`` from ``checkout``."""
    read, write = os.pipe()
    env = {k: v for k, v in os.environ.items() if not k.startswith("KERNELCLI_") and k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPATH")}
    env.update(KERNELCLI_WORKER="off", KERNELCLI_MEASURE_STARTUP="off", PYTHONPATH=str(checkout))
    t0 = time.time()
    done = subprocess.run([python, "-c", PROBE, str(write), src, *args], cwd=checkout, env=env, pass_fds=(write,),
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    end = time.time()
    os.close(write)
    with os.fdopen(read, "rb") as f:
        text = f.read().decode()
    if done.returncode != 0 or not text:
        raise RuntimeError(f"{checkout}: exit {done.returncode}: {done.stderr.decode(errors='replace')[-300:]}")
    m = ast.literal_eval(text)  # the probe's repr of a dict of floats
    points = [t0, m["first"], min(m["read"], m["numpy"]), m["temp"], m["published"], end]
    ms = {name: 1e3 * (b - a) for name, a, b in zip(PHASES, points, points[1:])}
    ms["total"], ms["input opened"] = 1e3 * (end - t0), 1e3 * (m["read"] - t0)
    return ms


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("image")
    parser.add_argument("--against", type=Path, default=None, help="another checkout, measured in the same rounds")
    parser.add_argument("--repeat", type=int, default=11)
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("options", nargs="*", help="convolve options after --; default: -k sobel_v")
    a = parser.parse_args(argv)
    src = str(Path(a.image).resolve())
    checkouts = [ROOT] + ([a.against.resolve()] if a.against else [])
    with tempfile.TemporaryDirectory() as tmp:
        out = str(Path(tmp) / f"out{Path(src).suffix}")
        args = ["convolve", src, *(a.options or ["-k", "sobel_v"]), "-o", out, "--force", "-q"]
        runs: dict[Path, list[dict[str, float]]] = {c: [] for c in checkouts}
        load0 = os.getloadavg()
        for c in checkouts:
            once(a.python, c, args, src)
        for _ in range(a.repeat):
            for c in checkouts:
                runs[c].append(once(a.python, c, args, src))
        load1 = os.getloadavg()
    table = {str(c): {p: (statistics.median(r[p] for r in rs), min(r[p] for r in rs)) for p in PHASES} for c, rs in runs.items()}
    if a.json:
        print(json.dumps({"load": [load0, load1], "phases": table}, indent=2))
        return 0
    print(f"load average {load0[0]:.2f} before, {load1[0]:.2f} after; {a.repeat} interleaved runs; median (min) ms")
    print("| phase | " + " | ".join(str(c) for c in checkouts) + " |")
    print("|---|" + "---|" * len(checkouts))
    for p in PHASES:
        print(f"| {p} | " + " | ".join(f"{table[str(c)][p][0]:.1f} ({table[str(c)][p][1]:.1f})" for c in checkouts) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
