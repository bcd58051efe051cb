"""Obviously-correct reference implementations (slow Python loops) that the tests trust."""

from __future__ import annotations

import numpy as np

NUMPY_PAD = {"constant": "constant", "replicate": "edge", "reflect": "reflect", "symmetric": "symmetric", "circular": "wrap"}
SCIPY_MODE = {"constant": "constant", "replicate": "nearest", "reflect": "mirror", "symmetric": "reflect", "circular": "grid-wrap"}


def pad(x, widths, mode="constant", value=0.0):
    """numpy.pad over the two spatial axes of (H, W) or (H, W, C)."""
    t, b, l, r = widths
    pads = [(t, b), (l, r)] + [(0, 0)] * (np.ndim(x) - 2)
    kwargs = {"constant_values": value} if mode == "constant" else {}
    return np.pad(np.asarray(x), pads, mode=NUMPY_PAD[mode], **kwargs)


def correlate(x, k, *, stride=(1, 1), widths=(0, 0, 0, 0), mode="constant", value=0.0, dilation=(1, 1)):
    """Cross-correlation by the definition: every output cell is a sum of products."""
    x = np.asarray(x, dtype=np.float64)
    k = np.asarray(k, dtype=np.float64)
    squeeze = x.ndim == 2
    if squeeze:
        x = x[:, :, None]
    xp = pad(x, widths, mode, value)
    kh, kw = k.shape
    sh, sw = stride
    dh, dw = dilation
    oh = (xp.shape[0] - dh * (kh - 1) - 1) // sh + 1
    ow = (xp.shape[1] - dw * (kw - 1) - 1) // sw + 1
    out = np.zeros((oh, ow, x.shape[2]))
    # out[i, j] += k[u, v] * xp[i * sh + u * dh, j * sw + v * dw], for every cell at once: each cell's
    # sum in the same order (tap by tap, from 0.0), the very bytes of a loop over the cells
    for u in range(kh if out.size else 0):
        for v in range(kw):
            out += k[u, v] * xp[u * dh : u * dh + (oh - 1) * sh + 1 : sh, v * dw : v * dw + (ow - 1) * sw + 1 : sw]
    return out[:, :, 0] if squeeze else out


def pool(x, f, s, op, padding=0, ceil_mode=False, count_include_pad=True):
    """Pooling by the definition, with PyTorch's padding and ceil_mode rules."""
    x = np.asarray(x, dtype=np.float64)
    squeeze = x.ndim == 2
    if squeeze:
        x = x[:, :, None]
    h, w, c = x.shape

    def out_len(n):
        num = n + 2 * padding - f
        o = (-(-num // s) if ceil_mode else num // s) + 1
        if ceil_mode and (o - 1) * s >= n + padding:
            o -= 1
        return o

    oh, ow = out_len(h), out_len(w)
    out = np.zeros((oh, ow, c))
    for i in range(oh):
        for j in range(ow):
            r0, c0 = i * s - padding, j * s - padding
            r1, c1 = min(r0 + f, h + padding), min(c0 + f, w + padding)
            cells = x[max(r0, 0) : min(r1, h), max(c0, 0) : min(c1, w)]
            if op == "max":
                out[i, j] = cells.max(axis=(0, 1))
            elif op == "min":
                out[i, j] = cells.min(axis=(0, 1))
            else:
                divisor = (r1 - r0) * (c1 - c0) if count_include_pad else cells.shape[0] * cells.shape[1]
                out[i, j] = cells.sum(axis=(0, 1)) / divisor
    return out[:, :, 0] if squeeze else out
