"""A 2-D pooling is counted at its pooled size before its input is decoded, as the pooling counts itself once read.

The readers' up-front memory check counted every run as a filter's: a padded copy, an output and a temporary, each the
input's size.  ``KERNELCLI_MAX_MEMORY=300M kernelcli pool u16.png -f 2 --op avg`` (4000x4000, 16-bit) was refused as
needing 396.7 MiB, "(the input, and a padded copy, an output and a temporary in float64)", for a run that traces 103
MiB; the pooling's own count, once the image was read, said 213.6 MiB.  One count now (io.common.RunNeed): the readers,
the early JPEG decode, the tiled path's choice for a .npy or TIFF, and the pooling itself.
"""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from conftest import run_in_process

#: a 100x100 16-bit input: avg 2x2 in float64 counts 2 + 8 + 2 x 8 / 4 = 14 bytes a pixel (140,000; a filter's
#: 2 + 3 x 8 = 260,000), max 2x2 in uint16 2 + 2 + 2 x 2 / 4 = 5 (50,000; a filter's 2 + 3 x 2 = 80,000)
COUNTS = {"avg": 140_000, "max": 50_000}


@pytest.fixture(params=["g16.png", "g16.npy"])
def grey16(request, tmp_path):
    data = (np.arange(10_000, dtype=np.uint16) * 6).reshape(100, 100)
    name = request.param
    np.save(tmp_path / name, data) if name.endswith(".npy") else Image.fromarray(data).save(tmp_path / name)
    return tmp_path, name


def pool(folder, name: str, op: str, cap: int, out: str = "p.png"):
    return run_in_process("pool", name, "-f", "2", "--op", op, "-o", out, "--rescale", "minmax", cwd=folder,
                          env={"KERNELCLI_MAX_MEMORY": str(cap)})


@pytest.mark.parametrize("op", ["avg", "max"])
def test_a_pooling_runs_under_a_cap_its_pooled_count_fits(grey16, op):
    folder, name = grey16
    r = pool(folder, name, op, COUNTS[op])  # (a filter's count is past it: refused, or a .npy sent tile by tile)
    assert r.returncode == 0, r.stderr
    assert Image.open(folder / "p.png").size == (50, 50)


@pytest.mark.parametrize("op", ["avg", "max"])
def test_one_byte_under_its_count_refuses_it_before_decoding_in_the_pooling_s_words(grey16, op):
    folder, name = grey16
    r = pool(folder, name, op, COUNTS[op] - 1)
    assert r.returncode == 2 and not (folder / "p.png").exists(), r.stderr
    if name.endswith(".npy"):  # (over the cap, a .npy goes tile by tile, where a .png output is refused)
        assert "it went tile by tile because its in-memory run would exceed KERNELCLI_MAX_MEMORY" in r.stderr, r.stderr
        return
    held = "float64" if op == "avg" else "the input's dtype"
    assert r.stderr.startswith(f"error: {name}: 100x100x1 would need about {COUNTS[op] / 1024:.1f} KiB of memory (the "
                               f"input, and a working copy, the pooled output and a temporary in {held})"), r.stderr


def test_the_count_follows_the_window_stride_and_padding(tmp_path):
    """3x3 at stride 1 padded 1 pools to 100x100 (the filter's size), 4x4 at stride 4 to 25x25: 102 x 102 x 8 + 2 x
    100 x 100 x 8 + 20,000 = 263,232 and 20,000 + 80,000 + 2 x 625 x 8 = 110,000 bytes."""
    Image.fromarray((np.arange(10_000, dtype=np.uint16) * 6).reshape(100, 100)).save(tmp_path / "g16.png")
    for window, count in ((["-f", "3", "-s", "1", "-p", "1"], 263_232), (["-f", "4"], 110_000)):
        base = ["pool", "g16.png", *window, "--op", "avg", "-o", "w.npy", "--force"]
        assert run_in_process(*base, cwd=tmp_path, env={"KERNELCLI_MAX_MEMORY": str(count)}).returncode == 0, window
        refused = run_in_process(*base, cwd=tmp_path, env={"KERNELCLI_MAX_MEMORY": str(count - 1)})
        assert refused.returncode == 2 and "the pooled output" in refused.stderr, (window, refused.stderr)


def test_the_api_s_padding_rule_comes_before_the_count(tmp_path):
    """pool_file's padding past PyTorch's rule is refused in its words, not as memory a padding of 10**5 would take."""
    from kernelcli.errors import UsageError
    from kernelcli.jobs import pool_file

    Image.fromarray(np.zeros((7, 9), np.uint8)).save(tmp_path / "g.png")
    with pytest.raises(UsageError, match=r"padding 100000 is more than half the pool size 2"):
        pool_file(tmp_path / "g.png", 2, op="avg", stride=None, padding=100000, ceil_mode=False, count_include_pad=True,
                  out=tmp_path / "a.png")
