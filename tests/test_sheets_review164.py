"""Review 164 #4: a ``convolve --montage`` sheet's size is checked by one function, before the maps and after.

The header, memory and sides check was written three times (jobs_montage's check before the maps, jobs_maps' after
them, montage_alone's header and memory): copies that drift would let the two checks disagree about one sheet.
"""

from __future__ import annotations

import numpy as np
import pytest

from conftest import run_in_process
from kernelcli import jobs_montage


def _png(path, channels=None):
    from PIL import Image

    grey = (np.arange(12 * 10).reshape(12, 10) * 2 % 256).astype(np.uint8)
    Image.fromarray(grey if channels is None else np.dstack([grey] * channels)).save(path)


@pytest.mark.parametrize(("channels", "extra"), [(None, []), (None, ["--out", "m.npy"]), (3, []), (3, ["--out", "m.npy"])],
                         ids=["grey-montage-alone", "grey-with-out", "colour-montage-alone", "colour-with-out"])
def test_the_sheet_is_checked_by_one_function_before_and_after_the_maps(tmp_path, monkeypatch, channels, extra):
    _png(tmp_path / "a.png", channels)
    real, seen = jobs_montage.check_sheet, []

    def spy(src, montage_path, label, describe, data_shape, shapes):
        seen.append([tuple(shape) for shape in shapes])
        return real(src, montage_path, label, describe, data_shape, shapes)

    monkeypatch.setattr(jobs_montage, "check_sheet", spy)
    done = run_in_process("convolve", "a.png", "-k", "sobel_v", "-k", "sobel_h", "--montage", "s.png", "-q", *extra,
                          cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    tile = (12, 10, 3) if channels == 3 else (12, 10)
    assert seen == [[tile, tile], [tile, tile]]  # the tiles' shapes known first, then the maps': one sheet, one answer
    assert (tmp_path / "s.png").exists()
