"""Benchmark rows for volumes: a 3-D Gaussian against scipy, and the memory of smoothing a CT-sized file.

``python benchmarks/bench_volume.py``
    3-D Gaussian, sigma 2 voxels, on a 256^3 float32 volume: kernelcli's three 1-D passes
    (:func:`kernelcli.volumes.correlate_separable` with :func:`~kernelcli.volumes.gaussian_vox`)
    against ``scipy.ndimage.gaussian_filter``, both with replicate ("nearest") borders.  scipy
    is timed with the same support (``radius=6``, kernelcli's ``ceil(3*sigma)``) and with its
    default ``truncate=4`` (radius 8) for reference.  The median of the repeats, after a
    warm-up call that also pays Numba's compile; the two results are checked to agree first.

``python benchmarks/bench_volume.py --memory``
    Peak memory of ``kernelcli volume ct.nii.gz --kernel gaussian:1.5mm --out smooth.nii.gz``
    (the file job: read, smooth, write) on a 512x512x400 int16 volume (200 MiB of voxels).
    A child process does the imports and a small warm-up (Numba's compile), resets its peak
    resident size (``/proc/self/clear_refs``, Linux), runs the job, and reads the new peak
    (``VmHWM``); the peak minus the resident size before the job is stated in copies of the
    int16 volume.  tracemalloc's peak (numpy's own allocations) is printed too.

``python benchmarks/bench_volume.py --ct [--shape 300x512x512]``
    The whole command on a 512x512x300 int16 CT ``.nii.gz``, gaussian 1.5 mm to ``.nii.gz``:
    ``kernelcli volume`` against SimpleITK (read, DiscreteGaussian, compressed write) in one run,
    with each process's peak memory (targets: at most 0.4x SimpleITK's time, 3 volume copies).

``python benchmarks/bench_volume.py --conv3d 160``
    :func:`kernelcli.volumes.conv3d` through the one 2-D/3-D dispatcher (a rank-1 box: separable
    passes; the same forced dense; a random 7^3 kernel) against ``scipy.ndimage.correlate``.

``python benchmarks/bench_volume.py --fft3d 160``
    The 3-D block FFT against one whole-volume FFT (scipy.fft on the same threads), 11^3 and 15^3.

Compare ratios within one run: a shared host can run everything 2x slower in some windows.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from timing import median_ms




def bench_gaussian(size: int = 256, sigma: float = 2.0, repeats: int = 7, threads: int = 2) -> dict:
    """Time the 3-D Gaussian both ways on one random float32 volume; print and return the row."""
    import numba
    import numpy as np
    import scipy.ndimage as ndi

    from kernelcli import volumes

    numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    rng = np.random.default_rng(0)
    x = rng.random((size, size, size), dtype=np.float32)
    factors = volumes.gaussian_vox(sigma)
    radius = volumes.radius_for(sigma)

    ours = volumes.correlate_separable(x, factors, pad_mode="replicate")
    theirs = ndi.gaussian_filter(x, sigma, mode="nearest", radius=radius)
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-5)

    out = np.empty_like(x)
    ours_ms = median_ms(lambda: volumes.correlate_separable(x, factors, pad_mode="replicate", out=out), repeats)
    scipy_ms = median_ms(lambda: ndi.gaussian_filter(x, sigma, mode="nearest", radius=radius, output=out), repeats)
    scipy_default_ms = median_ms(lambda: ndi.gaussian_filter(x, sigma, mode="nearest", output=out), max(3, repeats // 2))
    row = {
        "case": f"gaussian sigma {sigma:g} voxels on {size}^3 float32, replicate borders, {threads} threads",
        "kernelcli_ms": round(ours_ms, 1),
        "scipy_same_radius_ms": round(scipy_ms, 1),
        "scipy_default_truncate4_ms": round(scipy_default_ms, 1),
        "ratio_scipy_over_kernelcli": round(scipy_ms / ours_ms, 2),
    }
    print(
        f"{row['case']}: kernelcli {row['kernelcli_ms']} ms, scipy.ndimage.gaussian_filter {row['scipy_same_radius_ms']} ms "
        f"(radius {radius}; {row['scipy_default_truncate4_ms']} ms with its default truncate=4), median of {repeats}; "
        f"scipy/kernelcli = {row['ratio_scipy_over_kernelcli']}"
    )
    return row


def bench_conv3d(size: int = 160, repeats: int = 5) -> dict:
    """``volumes.conv3d`` through the one dispatcher against scipy.ndimage.correlate, in one run.

    A rank-1 5x5x5 box (the dispatcher takes the separable passes), the same kernel forced through
    the dense loop, and a 7x7x7 random kernel (dense: below ``FFT_MIN_TAPS_3D``), on a ``size``^3
    float32 volume with reflect borders.  Results are checked first.
    """
    import numpy as np
    import scipy.ndimage as ndi

    from kernelcli import volumes
    from kernelcli._core.policy import Paths

    rng = np.random.default_rng(0)
    x = rng.random((size, size, size), dtype=np.float32)
    box = np.full((5, 5, 5), 1 / 125)
    dense = rng.random((7, 7, 7))
    cases = {
        "box 5^3 (auto: separable)": lambda: volumes.conv3d(x, box, pad_mode="symmetric"),
        "box 5^3 forced dense": lambda: volumes.conv3d(x, box, pad_mode="symmetric", paths=Paths(force="dense")),
        "scipy correlate box 5^3": lambda: ndi.correlate(x, box.astype(np.float32), mode="reflect"),
        "random 7^3 (auto)": lambda: volumes.conv3d(x, dense, pad_mode="symmetric"),
        "scipy correlate random 7^3": lambda: ndi.correlate(x, dense.astype(np.float32), mode="reflect"),
    }
    np.testing.assert_allclose(cases["box 5^3 (auto: separable)"](), cases["scipy correlate box 5^3"](), rtol=0, atol=1e-5)
    np.testing.assert_allclose(cases["random 7^3 (auto)"](), cases["scipy correlate random 7^3"](), rtol=1e-5, atol=1e-3)
    row = {name: round(median_ms(fn, repeats), 1) for name, fn in cases.items()}
    print(f"conv3d on {size}^3 float32, symmetric borders, median of {repeats} (ms): " + ", ".join(f"{k} {v}" for k, v in row.items()))
    print(f"  scipy/kernelcli: box {row['scipy correlate box 5^3'] / row['box 5^3 (auto: separable)']:.2f}, "
          f"random 7^3 {row['scipy correlate random 7^3'] / row['random 7^3 (auto)']:.2f}")
    return row


_CHILD = r"""
import json, sys, time, tracemalloc
import numpy as np
import nibabel, numba, scipy.ndimage
from kernelcli import medical, volumes

def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key + ":"):
            return int(line.split()[1]) * 1024
warm = np.zeros((4, 8, 8), np.int16)
volumes.correlate_separable(warm, volumes.gaussian_mm(1.5, (1.0, 0.8, 0.8)), pad_mode="replicate")
medical.apply_window(warm, 40, 80)
with open("/proc/self/clear_refs", "w") as f:  # reset the peak (VmHWM) to the current size
    f.write("5")
before = status("VmRSS")
tracemalloc.start()
start = time.perf_counter()
medical.convolve_volume_file(sys.argv[1], "gaussian:1.5mm", out=sys.argv[2], force=True)
seconds = time.perf_counter() - start
print(json.dumps({"before": before, "peak": status("VmHWM"), "tracemalloc_peak": tracemalloc.get_traced_memory()[1], "seconds": seconds}))
"""


def _write_ct_like(path: Path, shape: tuple[int, int, int], spacing: tuple[float, float, float]) -> int:
    """The phantom's ellipsoids on a large grid, slab by slab (the generator itself stays small)."""
    import math

    import numpy as np

    from kernelcli import medical

    nz, ny, nx = shape
    vol = np.full(shape, medical.AIR_HU, dtype=np.int16)
    axis = [(np.arange(n) - (n - 1) / 2) / ((n - 1) / 2) for n in shape]
    y = -axis[1][:, None]
    x = axis[2][None, :]
    for z0 in range(0, nz, 16):
        z = axis[0][z0 : z0 + 16, None, None]
        slab = vol[z0 : z0 + 16]
        for value, a, b, c, xc, yc, zc, degrees in medical.SHEPP_LOGAN_3D_HU:
            phi = math.radians(degrees)
            dx, dy = x - xc, y - yc
            inplane = ((dx * math.cos(phi) + dy * math.sin(phi)) / a) ** 2 + ((dy * math.cos(phi) - dx * math.sin(phi)) / b) ** 2
            slab[inplane[None] + ((z - zc) / c) ** 2 <= 1.0] = value
    rng = np.random.default_rng(0)
    vol += rng.integers(-20, 21, size=shape, dtype=np.int16)  # scanner-like noise, so gzip has work to do
    dz, dy, dx = spacing
    medical.write_nifti(path, vol, affine=np.diag([dx, dy, dz, 1.0]), force=True)
    return vol.nbytes


def bench_memory(shape: tuple[int, int, int] = (400, 512, 512), spacing: tuple[float, float, float] = (1.0, 0.7, 0.7)) -> dict:
    """Peak memory of the smoothing file job on a CT-sized int16 NIfTI; print and return the row."""
    with tempfile.TemporaryDirectory(dir=os.environ.get("TMPDIR")) as tmp:
        src, dst = Path(tmp) / "ct.nii.gz", Path(tmp) / "smooth.nii.gz"
        nbytes = _write_ct_like(src, shape, spacing)
        done = subprocess.run([sys.executable, "-c", _CHILD, str(src), str(dst)], capture_output=True, text=True, check=True)
        run = json.loads(done.stdout.strip().splitlines()[-1])
        peak = run["peak"] - run["before"]
    row = {
        "case": f"volume --kernel gaussian:1.5mm, {'x'.join(map(str, shape[::-1]))} int16 .nii.gz -> float32 .nii.gz",
        "volume_mib": round(nbytes / 2**20, 1),
        "peak_mib": round(peak / 2**20, 1),
        "peak_in_int16_volumes": round(peak / nbytes, 2),
        "tracemalloc_peak_mib": round(run["tracemalloc_peak"] / 2**20, 1),
        "seconds": round(run["seconds"], 2),
    }
    print(
        f"{row['case']}: peak {row['peak_mib']} MiB above the process baseline = {row['peak_in_int16_volumes']} x the "
        f"{row['volume_mib']} MiB int16 volume (tracemalloc peak {row['tracemalloc_peak_mib']} MiB); {row['seconds']} s"
    )
    return row


_SITK_SMOOTH = r"""
import sys
import SimpleITK as sitk
img = sitk.Cast(sitk.ReadImage(sys.argv[1]), sitk.sitkFloat32)
out = sitk.DiscreteGaussian(img, variance=float(sys.argv[3]) ** 2, maximumKernelWidth=1000, useImageSpacing=True)
sitk.WriteImage(out, sys.argv[2], useCompression=True)
"""


def _run_measured(cmd: list[str]) -> tuple[float, int]:
    """Run a command; its wall time (s) and peak resident size (bytes) from wait4's rusage."""
    import time

    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr.read().decode()[-500:]}")
    proc.stderr.close()
    return seconds, usage.ru_maxrss * 1024


def bench_ct_command(shape: tuple[int, int, int] = (300, 512, 512), spacing: tuple[float, float, float] = (1.0, 0.7, 0.7),
                     sigma_mm: float = 1.5, repeats: int = 3) -> dict:
    """The whole command on a CT-sized int16 .nii.gz: kernelcli against SimpleITK's DiscreteGaussian, in one run.

    ``kernelcli volume ct.nii.gz --kernel gaussian:1.5mm --out s.nii.gz`` against a Python process
    that reads with SimpleITK, casts to float32, runs DiscreteGaussian (variance sigma^2, image
    spacing) and writes a compressed .nii.gz: the same job, both float32 out.  Medians of
    ``repeats`` after one warm-up each (Numba's cache, the page cache); peak memory is each
    process's maximum resident size (wait4) above the same process's on a tiny volume (the
    interpreter and libraries), stated in copies of the int16 volume.  Targets
    (issue 14): time ratio kernelcli / SimpleITK at most 0.4, peak at most 3 volumes.
    """
    import statistics

    with tempfile.TemporaryDirectory(dir=os.environ.get("TMPDIR")) as tmp:
        src = Path(tmp) / "ct.nii.gz"
        nbytes = _write_ct_like(src, shape, spacing)
        ours_cmd = [sys.executable, "-m", "kernelcli", "volume", str(src), "--kernel", f"gaussian:{sigma_mm:g}mm",
                    "--out", str(Path(tmp) / "k.nii.gz"), "--force", "--quiet"]
        sitk_cmd = [sys.executable, "-c", _SITK_SMOOTH, str(src), str(Path(tmp) / "s.nii.gz"), str(sigma_mm)]
        have_sitk = importlib.util.find_spec("SimpleITK") is not None
        runs: dict[str, list[tuple[float, int]]] = {"kernelcli": [], "SimpleITK": []}
        baseline: dict[str, int] = {}
        tiny = Path(tmp) / "tiny.nii.gz"
        _write_ct_like(tiny, (8, 16, 16), spacing)
        for name, cmd in (("kernelcli", ours_cmd), ("SimpleITK", sitk_cmd)):
            if name == "SimpleITK" and not have_sitk:
                continue
            # the same process on a tiny volume: interpreter, libraries and code, without the data
            baseline[name] = _run_measured([str(tiny) if arg == str(src) else arg for arg in cmd])[1]
            _run_measured(cmd)  # warm-up
            runs[name] = [_run_measured(cmd) for _ in range(repeats)]
    ours_s = statistics.median(s for s, _ in runs["kernelcli"])
    ours_peak = max(m for _, m in runs["kernelcli"]) - baseline["kernelcli"]
    row = {
        "case": f"whole command: gaussian {sigma_mm:g} mm, {'x'.join(map(str, shape[::-1]))} int16 .nii.gz -> float32 .nii.gz",
        "volume_mib": round(nbytes / 2**20, 1),
        "kernelcli_s": round(ours_s, 2),
        "kernelcli_peak_in_int16_volumes": round(ours_peak / nbytes, 2),
        "kernelcli_baseline_mib": round(baseline["kernelcli"] / 2**20),
    }
    if runs["SimpleITK"]:
        sitk_s = statistics.median(s for s, _ in runs["SimpleITK"])
        row.update({
            "simpleitk_s": round(sitk_s, 2),
            "simpleitk_peak_in_int16_volumes": round((max(m for _, m in runs["SimpleITK"]) - baseline["SimpleITK"]) / nbytes, 2),
            "ratio_kernelcli_over_simpleitk": round(ours_s / sitk_s, 2),
        })
    print(
        f"{row['case']} ({row['volume_mib']} MiB): kernelcli {row['kernelcli_s']} s, peak {row['kernelcli_peak_in_int16_volumes']} "
        f"volumes above its {row['kernelcli_baseline_mib']} MiB baseline"
        + (f"; SimpleITK DiscreteGaussian {row['simpleitk_s']} s, peak {row['simpleitk_peak_in_int16_volumes']} volumes; "
           f"ratio {row['ratio_kernelcli_over_simpleitk']} (targets: ratio <= 0.4, peak <= 3 volumes)" if "simpleitk_s" in row
           else "; SimpleITK not installed (pip install SimpleITK) -- no ratio")
    )
    return row


def bench_fft3d(size: int = 160, repeats: int = 3) -> dict:
    """The 3-D block FFT (``volumes.conv3d`` forced onto it) against one whole-volume FFT (scipy.fft's
    rfftn/irfftn of the zero-padded volume at its fast length, float64 as the block FFT computes),
    random 11^3 and 15^3 kernels on a ``size``^3 float32 volume, zero borders, both on the same threads
    (``threads.count()``), interleaved rounds; results checked first."""
    import numpy as np
    import scipy.fft as sfft

    from kernelcli import volumes
    from kernelcli._core import fft, threads
    from kernelcli._core.policy import Paths

    workers = threads.count()
    rng = np.random.default_rng(0)
    x = rng.random((size, size, size), dtype=np.float32)

    def whole_volume(k):
        lengths = [sfft.next_fast_len(size + n - 1, real=True) for n in k.shape]
        spectrum = sfft.rfftn(x.astype(np.float64), lengths, workers=workers)
        spectrum *= sfft.rfftn(k[::-1, ::-1, ::-1], lengths, workers=workers)
        full = sfft.irfftn(spectrum, lengths, workers=workers, overwrite_x=True)
        return full[tuple(slice(n // 2, n // 2 + size) for n in k.shape)].astype(np.float32)

    row = {}
    for n in (11, 15):
        k = rng.random((n, n, n))
        ours = lambda: volumes.conv3d(x, k, pad_mode="constant", paths=Paths(force="fft"))  # noqa: E731
        whole = lambda: whole_volume(k)  # noqa: E731
        np.testing.assert_allclose(ours(), whole(), rtol=0, atol=1e-5 * float(np.abs(k).sum()))
        times = {"block": [], "whole": []}
        for _ in range(repeats):
            for name, fn in (("block", ours), ("whole", whole)):
                times[name].append(median_ms(fn, 1))
        block, one = (float(np.median(times[name])) for name in ("block", "whole"))
        row[f"{n}^3"] = (round(block, 1), round(one, 1))
        print(f"{size}^3 float32, random {n}^3 (block, FFT length: {fft.grid(size, n, 0, 3)[:2]}), {workers} threads: "
              f"block FFT {block:.1f} ms, whole-volume FFT {one:.1f} ms, ratio {block / one:.2f}", flush=True)
    return row


if __name__ == "__main__":
    import importlib.util

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--memory", action="store_true", help="measure the peak memory of the CT-sized file job instead")
    parser.add_argument("--ct", action="store_true", help="time the whole command on a CT against SimpleITK")
    parser.add_argument("--shape", default="300x512x512", help="Z x Y x X of the --ct volume (default 300x512x512)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--conv3d", type=int, metavar="SIDE", default=None,
                        help="time conv3d's dispatched paths against scipy.ndimage.correlate on a SIDE^3 volume (160 is typical)")
    parser.add_argument("--fft3d", type=int, metavar="SIDE", default=None,
                        help="time the 3-D block FFT against one whole-volume FFT (scipy.fft, same threads) on a SIDE^3 volume")
    args = parser.parse_args()
    if args.fft3d:
        bench_fft3d(args.fft3d, repeats=args.repeats)
    elif args.conv3d:
        bench_conv3d(args.conv3d, repeats=args.repeats)
    elif args.ct:
        bench_ct_command(tuple(int(n) for n in args.shape.split("x")), repeats=args.repeats)  # type: ignore[arg-type]
    else:
        bench_memory() if args.memory else bench_gaussian()
