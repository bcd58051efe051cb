"""Jitted mini-batch epochs for ``learn --method gd``: one call runs every step of an epoch.

A mini-batch step is a handful of small products (64 windows of 9 taps, say); done with
numpy calls, the per-call overhead is most of a 512x512 training run (30 epochs of 4096
steps).  :func:`epoch` runs the same arithmetic as
``kernelcli.learn.reference_epoch`` (the numpy statement of the loop, kept as the tests'
reference) for every mini-batch of one epoch: residuals, gradient, SGD with momentum
(the gradient divided by the batch's mean window energy where that exceeds 1) or Adam.
Arrays and scalars only.

Example
-------
>>> import numpy as np
>>> a = np.ones((1, 4, 2)); y = np.ones((1, 4)); w = np.zeros((1, 2))
>>> v = np.zeros((1, 2)); s = np.zeros((1, 2))
>>> total, steps = epoch(a, y, np.arange(4), 2, w, v, s, 0, 0.1, 0.9, False, np.ones(1))
>>> steps, bool(w[0, 0] > 0)
(2, True)
"""

from __future__ import annotations

import math

import numpy as np
from .jit import njit

from .config import JIT


@njit(**JIT)
def epoch(an, yn, order, batch, w, velocity, second, step, lr, momentum, adam, sy):
    """One epoch over ``order`` in mini-batches of ``batch``: updates ``w``, ``velocity`` and
    ``second`` in place; returns (sum over batches of the mean batch MSE in target units, steps).

    ``an`` (G, M, P) windows, ``yn`` (G, M) targets (both normalised), ``sy`` (G,) the
    target scales; ``step`` counts the steps before this epoch (Adam's bias correction).
    """
    g_count, m, p = an.shape
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    residual = np.empty(batch)
    grad = np.empty(p)
    total = 0.0
    steps = 0
    for start in range(0, m, batch):
        stop = min(start + batch, m)
        size = stop - start
        step += 1
        steps += 1
        batch_loss = 0.0
        for g in range(g_count):
            brightness = 0.0
            squares = 0.0
            for b in range(size):
                row = order[start + b]
                acc = 0.0
                bright = 0.0
                for q in range(p):
                    value = an[g, row, q]
                    acc += value * w[g, q]
                    bright += value * value
                r = acc - yn[g, row]
                residual[b] = r
                squares += r * r
                brightness += bright
            batch_loss += squares / size * sy[g] * sy[g]
            brightness /= size
            for q in range(p):
                acc = 0.0
                for b in range(size):
                    acc += an[g, order[start + b], q] * residual[b]
                grad[q] = (2.0 / size) * acc
            if adam:
                for q in range(p):
                    velocity[g, q] = beta1 * velocity[g, q] + (1 - beta1) * grad[q]
                    second[g, q] = beta2 * second[g, q] + (1 - beta2) * grad[q] * grad[q]
                    w[g, q] -= lr * (velocity[g, q] / (1 - beta1**step)) / (math.sqrt(second[g, q] / (1 - beta2**step)) + eps)
            else:
                shrink = max(1.0, brightness)
                for q in range(p):
                    velocity[g, q] = momentum * velocity[g, q] + grad[q] / shrink
                    w[g, q] -= lr * velocity[g, q]
        total += batch_loss / g_count
    return total, steps
