"""Review 148 #4: a ``--layout zyx`` result of one slice is one grey plane, which a picture or a .csv holds.

Since f695ddc every zyx result was refused for a picture (``convolve v1.npy --layout zyx -k box:3 --rescale minmax -o
c1.png``: "a volume of 1 slice ... a .png holds one plane"), where the README refuses it only where slices would become
a picture's colours.  A pooled (3-D) result is judged by its own slices, and the advice no longer tells ``pool`` or
``pad`` to "filter" the planes.
"""

from __future__ import annotations

import numpy as np
import pytest

from conftest import run_in_process


@pytest.fixture
def folder(tmp_path):
    rng = np.random.default_rng(7)
    np.save(tmp_path / "v1.npy", rng.random((1, 8, 8)))
    np.save(tmp_path / "v2.npy", rng.random((2, 8, 8)))
    np.save(tmp_path / "v6.npy", rng.random((6, 8, 8)))
    return tmp_path


def _written(path):
    if path.suffix == ".csv":
        return np.loadtxt(path, delimiter=",", ndmin=2)
    tifffile = pytest.importorskip("tifffile")  # (a peer: the [test] extra does not hold it)

    return tifffile.imread(path)


@pytest.mark.parametrize("call, out", [
    (["convolve", "v1.npy", "-k", "box:3"], "o.csv"),
    (["convolve", "v1.npy", "-k", "box:3"], "o.tif"),
    (["pad", "v1.npy", "-p", "1"], "o.csv"),
    (["pool", "v1.npy", "--size", "1"], "o.csv"),
    (["pool", "v2.npy", "--size", "2"], "o.tif"),  # 2 slices pooled in 3-D to 1
], ids=["convolve-csv", "convolve-tif", "pad-csv", "pool-csv", "pool-2-to-1-tif"])
def test_one_slice_is_written_as_one_plane(folder, call, out):
    done = run_in_process(*call, "--layout", "zyx", "-o", out, "-q", cwd=folder)
    assert done.returncode == 0, done.stderr
    whole = run_in_process(*call, "--layout", "zyx", "-o", "o.npy", "-q", cwd=folder)
    assert whole.returncode == 0, whole.stderr
    volume = np.load(folder / "o.npy")
    assert volume.shape[0] == 1
    np.testing.assert_allclose(_written(folder / out), volume[0], rtol=1e-6)


def test_one_slice_is_a_grey_picture(folder):
    from PIL import Image

    done = run_in_process("convolve", "v1.npy", "--layout", "zyx", "-k", "box:3", "--rescale", "minmax", "-o", "c1.png",
                          "-q", cwd=folder)
    assert done.returncode == 0, done.stderr
    with Image.open(folder / "c1.png") as im:
        assert (im.mode, im.size) == ("L", (8, 8))


@pytest.mark.parametrize("call, said", [
    (["convolve", "v6.npy", "-k", "box:3", "--rescale", "minmax"], "reads v6.npy as a volume of 6 slices (6x8x8"),
    (["pool", "v6.npy", "--size", "2", "--rescale", "minmax"], "pools v6.npy in 3-D to a volume of 3 slices (3x4x4"),
    (["pad", "v6.npy", "-p", "1"], "reads v6.npy as a volume of 6 slices (6x8x8"),
], ids=["convolve", "pool", "pad"])
def test_several_slices_are_refused_with_advice_that_fits_every_command(folder, call, said):
    done = run_in_process(*call, "--layout", "zyx", "-o", "o.png", cwd=folder)
    assert done.returncode == 2 and not (folder / "o.png").exists(), done.stderr
    assert done.stderr == (f"error: o.png: --layout zyx {said} as (Z, Y, X)); a .png holds one plane, whose channels are "
                           "colours, not slices: write .npy to keep the volume (Z, Y, X), or read the array --layout chw "
                           "to take its planes as an image's channels\n")
