"""Benchmark row: conv_layer, 3 -> 16 filters 3x3 on 512x512x3 float32, against torch conv2d.

Both on 2 threads (``torch.set_num_threads(2)``; Numba's default on a 2-core machine),
"same" zero padding, bias and no activation; the median of the repeats, after a warm-up
call that also pays Numba's compile.  Compare ratios within one run: a shared host can run
everything 2x slower in some windows.

Run: ``python benchmarks/bench_layer.py``
"""

from __future__ import annotations

from timing import median_ms




def bench_conv_layer(size: int = 512, channels: int = 3, filters: int = 16, f: int = 3, repeats: int = 21, threads: int = 2) -> dict:
    """Time conv_layer and torch conv2d on the same random input; print and return the row.

    The input is channels-last for kernelcli and (1, C, H, W) for torch, each in its own
    natural layout; conversion is not timed.  The two results are checked to agree first.
    """
    import numpy as np
    import numba
    import torch

    from kernelcli.layers import conv_layer

    from kernelcli._core import policy

    policy.DEFAULT = policy.Paths(force="jit")  # time the jitted core, not the cold-process numpy fallback
    torch.set_num_threads(threads)
    numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    rng = np.random.default_rng(0)
    x = rng.random((size, size, channels), dtype=np.float32)
    w = rng.normal(size=(filters, channels, f, f)).astype(np.float32)
    b = rng.normal(size=filters).astype(np.float32)
    xt = torch.from_numpy(np.ascontiguousarray(x.transpose(2, 0, 1)))[None]
    wt, bt = torch.from_numpy(w), torch.from_numpy(b)
    pad = f // 2

    ours = conv_layer(x, w, b, padding=pad)
    with torch.no_grad():
        theirs = torch.nn.functional.conv2d(xt, wt, bt, padding=pad)[0].permute(1, 2, 0).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-4)

    ours_ms = median_ms(lambda: conv_layer(x, w, b, padding=pad), repeats)
    with torch.no_grad():
        torch_ms = median_ms(lambda: torch.nn.functional.conv2d(xt, wt, bt, padding=pad), repeats)
    row = {
        "case": f"{size}x{size}x{channels} -> {filters} filters {f}x{f}, float32, {threads} threads",
        "conv_layer_ms": round(ours_ms, 2),
        "torch_ms": round(torch_ms, 2),
        "ratio_torch_over_ours": round(torch_ms / ours_ms, 2),
    }
    print(
        f"{row['case']}: conv_layer {row['conv_layer_ms']} ms, torch conv2d {row['torch_ms']} ms "
        f"(median of {repeats}); torch/conv_layer = {row['ratio_torch_over_ours']}"
    )
    return row


if __name__ == "__main__":
    bench_conv_layer()
