"""A cold call's bands take the path the whole image would take (issue 17: the cold photo).

``kernelcli.bands`` runs every band on the path ``api.conv2d`` would choose for the whole
image (``tiled.pin.conv_paths``).  That first choice must weigh the same facts as conv2d's:
where every path gives the same bytes (an 8-bit image under Sobel), the measured start-up
cost of the jitted core.  Without it, a cold photo loaded Numba (about 0.4 s more) where the
whole image takes plain numpy.
"""

from __future__ import annotations

import numpy as np
import pytest

from kernelcli import api
from kernelcli._core import dispatch
from kernelcli._core.policy import Paths

SOBEL = np.array([[1.0, 0, -1], [2, 0, -2], [1, 0, -1]])


def _fronts(monkeypatch) -> list[tuple]:
    seen: list[tuple] = []
    front = dispatch.front

    def recording(paths, work, outputs, k, stride, dtype, **kwargs):
        choice = front(paths, work, outputs, k, stride, dtype, **kwargs)
        seen.append((work, outputs, np.dtype(dtype).str, kwargs.get("same_bytes", False), choice))
        return choice

    monkeypatch.setattr(dispatch, "front", recording)
    return seen


# a measured slow start (a CLI call on this machine); 0 or none would send both to the jitted
# loops, which this test need not compile for 8-bit RGB in a fresh CI venv
@pytest.mark.parametrize("jit_start", [1.8])
@pytest.mark.parametrize("pad_mode, pad_value", [("constant", 0.0), ("replicate", 0.0), ("constant", 0.5)])
def test_bands_choose_as_the_whole_image(monkeypatch, jit_start, pad_mode, pad_value):
    from kernelcli.bands import conv2d_bands

    x = np.random.default_rng(0).integers(0, 256, (600, 800, 3), dtype=np.uint8)
    paths = Paths(process="cold", jit_start=jit_start)
    seen = _fronts(monkeypatch)
    whole = api.conv2d(x, SOBEL, pad_mode=pad_mode, pad_value=pad_value, paths=paths)
    bands = conv2d_bands(x, SOBEL, pad_mode=pad_mode, pad_value=pad_value, paths=paths, band_bytes=400 * 800 * 4)
    assert len(seen) >= 2 and seen[0] == seen[1], seen
    assert np.concatenate([b for _, b in bands]).tobytes() == whole.tobytes()


def test_a_measured_slow_start_keeps_an_8bit_photo_on_numpy():
    from kernelcli.tiled import pin

    x = np.zeros((3000, 4000, 3), np.uint8)
    force = pin.conv_paths(x.shape, SOBEL, (1, 1), (1, 1), np.dtype("float32"), 3000, 4000,
                           Paths(process="cold", jit_start=1.8), 0, 0.0, None, x.dtype)
    assert force.force == "numpy"
