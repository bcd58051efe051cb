"""Whole jobs on one image (issue 17): ``gallery`` and ``convolve --montage`` of a 12 MP photo, ``learn --method gd``
on 512x512: wall time and peak resident memory of a cold process, against the issue's targets.

Targets (issue 17, "What to build"): ``gallery`` on a 12 MP photo in under 5 s and under 600 MB; ``learn --method gd``
on 512x512 in under 3 s (a 3x3 kernel; the target is the input under ``sobel_v``, made here with kernelcli's API as a
float64 ``.npy``).  The montage row (three kernels, only the sheet written) has no target of its own: the gallery's
600 MB is the bar a sheet of thumbnails is held to.

Each row is the median of ``--repeat`` cold runs after one unmeasured run (``KERNELCLI_WORKER=off``), in the venv
``bench_startup.py`` makes (the command a user types); the peak is GNU time's ``%M`` of the last run.  The images
are ``bench_startup.make_images``' (seeded; nothing is downloaded).

    python benchmarks/bench_jobs.py                # every row
    python benchmarks/bench_jobs.py --quick        # a small photo, one run: checks the script

Also a section of ``python benchmarks/run.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_startup as startup  # noqa: E402

#: (row, seconds, MB) targets; None: no target of its own
TARGETS = {"gallery": (5.0, 600.0), "montage": (None, 600.0), "learn": (3.0, None)}


def _timed(cmd: list[str], env: dict, repeat: int) -> tuple[float, float]:
    """(median seconds, peak RSS in MB of the last run) of ``cmd``, a whole cold process."""
    startup.run_once(cmd, env)
    runs = [startup.run_once(cmd, env, memory=True) for _ in range(repeat)]
    return statistics.median(s for s, _ in runs), runs[-1][1] * 2**20 / 1e6


def rows(quick: bool = False, repeat: int | None = None) -> dict:
    """The three rows, measured in a venv over this checkout."""
    repeat = repeat or (1 if quick else 3)
    photo = (300, 400) if quick else (3000, 4000)
    base = {k: v for k, v in os.environ.items() if not k.startswith("KERNELCLI_") and k != "PYTHONDONTWRITEBYTECODE"}
    result: dict = {"load": " ".join(f"{x:.1f}" for x in os.getloadavg()), "rows": []}
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        startup.use_python(startup.user_venv(tmp / "venv"), installed=True, cwd=startup.ROOT)
        cold = {**base, "KERNELCLI_WORKER": "off", "XDG_RUNTIME_DIR": str(tmp)}
        startup.measure_start_up(cold)
        files = startup.make_images(tmp, [512], photo)
        jpeg, grey = files[f"{photo[1]}x{photo[0]} RGB JPEG"], files["512x512 8-bit PNG"]
        target = tmp / "target.npy"
        _make_target(grey, target)
        k = startup.KERNELCLI
        cases = [
            ("gallery", f"`gallery` of the {photo[1]}x{photo[0]} RGB JPEG (every family)",
             k + ["gallery", str(jpeg), "--out", str(tmp / "sheet.png"), "--force", "-q"]),
            ("montage", f"`convolve -k sobel_v -k sobel_h -k laplacian_4 --montage` of the {photo[1]}x{photo[0]} JPEG (sheet only)",
             k + ["convolve", str(jpeg), "-k", "sobel_v", "-k", "sobel_h", "-k", "laplacian_4", "--montage", str(tmp / "m.png"), "--force", "-q"]),
            ("learn", "`learn --method gd -f 3` on 512x512 (target: the input under sobel_v)",
             k + ["learn", str(grey), str(target), "-f", "3", "--method", "gd", "-o", str(tmp / "k.json"), "--force", "-q"]),
        ]
        for key, case, cmd in cases:
            seconds, mb = _timed(cmd, cold, repeat)
            result["rows"].append({"key": key, "case": case, "seconds": seconds, "peak_mb": mb})
    result["load_end"] = " ".join(f"{x:.1f}" for x in os.getloadavg())
    result["repeat"] = repeat
    return result


def _make_target(src: Path, dest: Path) -> None:
    """``src`` under sobel_v (same padding), float64, as ``learn``'s target."""
    from PIL import Image

    import kernelcli

    x = np.asarray(Image.open(src), dtype=np.float64)
    np.save(dest, kernelcli.conv2d(x, kernelcli.load_kernel("sobel_v"), padding="same"))


def markdown(result: dict) -> str:
    lines = ["### Whole jobs on one image: gallery, montage, learn (`python benchmarks/bench_jobs.py`)", "",
             f"Cold processes, median of {result['repeat']} runs after one unmeasured run; peak RSS (GNU time %M) of the last. "
             "Targets (issue 17): gallery of a 12 MP photo < 5 s and < 600 MB; learn --method gd on 512x512 < 3 s.", "",
             "| case | seconds | peak RSS (MB) | target | met |", "|---|---|---|---|---|"]
    for r in result["rows"]:
        seconds, mb = TARGETS[r["key"]]
        target = " and ".join(t for t in (seconds and f"< {seconds:g} s", mb and f"< {mb:g} MB") if t)
        met = all(limit is None or value < limit for value, limit in ((r["seconds"], seconds), (r["peak_mb"], mb)))
        lines.append(f"| {r['case']} | {r['seconds']:.2f} | {r['peak_mb']:.0f} | {target} | {'yes' if met else 'no'} |")
    lines += ["", f"Load average {result['load']} at the start, {result['load_end']} at the end."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a small photo and one run (checks that the script works)")
    parser.add_argument("--repeat", type=int, default=None, help="timed runs per row (default 3, quick 1)")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    args = parser.parse_args(argv)
    result = rows(args.quick, args.repeat)
    print(json.dumps(result, indent=2) if args.json else markdown(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
