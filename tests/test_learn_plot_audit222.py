"""Audit 222 #1: ``learn --plot`` of a curve of tiny losses.  A fit whose losses were 1e-323 then 0 ended in an internal
error (exit 70, nothing written: ``nice_ticks``' step was 0, ``log10(0)``), and every tick of a linear curve below
5e-13 was labelled 0 (ticks rounded to 12 decimal places).  Now ticked in a scaled unit, each rounded to 12
significant digits."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from kernelcli.learn_plot import nice_ticks, render_loss_curve


@pytest.mark.parametrize("lo, hi", [(0.0, 1e-323), (0.0, 3e-13), (2e-7, 9e-7), (0.0, 4.9e-300), (-1e-320, 1e-320)])
def test_ticks_of_a_tiny_span_are_distinct_and_cover_it(lo, hi):
    ticks = nice_ticks(lo, hi)
    assert len(ticks) >= 2 and len(set(ticks)) == len(ticks) and ticks == sorted(ticks)
    assert ticks[0] >= lo and ticks[-1] <= hi and ticks[-1] - ticks[0] >= (hi - lo) / 2
    assert len({f"{t:.4g}" for t in ticks}) == len(ticks)  # (the labels differ: none reads 0 but the 0)


def test_ticks_of_an_ordinary_span_are_unchanged():
    assert nice_ticks(0, 10) == [0.0, 2.0, 4.0, 6.0, 8.0, 10.0]
    assert nice_ticks(0.1, 0.7) == [0.2, 0.4, 0.6] and nice_ticks(0, 0.3) == [0.0, 0.1, 0.2, 0.3]


def test_a_curve_of_subnormal_losses_is_drawn():
    assert render_loss_curve([1e-323, 0.0, 0.0]).size == (640, 400)


def test_learn_plots_a_fit_whose_losses_end_at_zero(tmp_path, cli):
    from scipy import ndimage

    x = np.random.default_rng(9).random((20, 20))
    k = np.array([[1, 2, 0], [0, -1, 3], [0.5, 0, 1]])
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", ndimage.correlate(x, k, mode="constant") * 1e-162)
    done = cli("learn", "x.npy", "y.npy", "-f", "3", "--method", "gd", "--plot", "p.png", "-o", "k.json", "-q", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    with Image.open(tmp_path / "p.png") as plot:
        assert plot.size == (640, 400)
    assert json.loads((tmp_path / "k.json").read_text())  # (the kernel is written beside it)
