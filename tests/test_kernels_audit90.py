"""The third kernels audit (audit 90): kernel specs read one way, refused in one line, never a bug.

F1: an inline JSON list nested ~1000 deep was Python's RecursionError (exit 70); a file said "nested too deeply" (exit 3).
Oracle: the kernel file's own message and exit code for the same matrix.
"""

from __future__ import annotations

import numpy as np
import pytest

from conftest import run_in_process
from kernelcli.catalog import load_kernel
from kernelcli.errors import EXIT_KERNEL, InvalidKernel


def show(*args: str, cwd=None):
    return run_in_process("kernels", "show", *args, cwd=cwd)


def refused(result, *words: str) -> None:
    """Exit 3, one line on stderr, holding ``words``."""
    assert result.returncode == EXIT_KERNEL, (result.returncode, result.stderr[:300])
    assert len(result.stderr.splitlines()) == 1, result.stderr[:300]
    for word in words:
        assert word in result.stderr, (word, result.stderr[:300])


class TestDeepLists:
    DEEP = "[" * 5000 + "1" + "]" * 5000

    def test_an_inline_list_nested_too_deeply_is_an_invalid_kernel_as_in_a_file(self, tmp_path):
        (tmp_path / "deep.json").write_text('{"name": "a", "matrix": ' + self.DEEP + "}")
        refused(show("./deep.json", cwd=tmp_path), "deep.json: not valid JSON for a kernel: lists or objects nested too deeply")
        refused(show(self.DEEP), "--kernel '[[[[", "not valid JSON for a kernel: lists or objects nested too deeply")
        np.save(tmp_path / "x.npy", np.ones((3, 3)))
        refused(run_in_process("convolve", "x.npy", "-k", self.DEEP, "-o", "o.npy", cwd=tmp_path), "nested too deeply")
        assert not (tmp_path / "o.npy").exists()

    def test_a_deep_file_on_the_kernel_path_is_skipped_as_broken(self, tmp_path):
        (tmp_path / "deep.json").write_text('{"name": "a", "matrix": ' + self.DEEP + "}")
        env = {"KERNELCLI_KERNEL_PATH": str(tmp_path)}
        r = run_in_process("kernels", "show", "sobel_v", "-q", env=env)
        assert r.returncode == 0, r.stderr[:300]
        refused(run_in_process("kernels", "show", "a", env=env), "skipped as broken", "deep.json: not valid JSON for a kernel")


class TestHugeSizes:
    """F2: a size of more than 4300 digits reached int() (exit 70), and one of 4300 was quoted whole (4,360 characters)."""

    W = "9" * 4301

    @pytest.mark.parametrize("spec, words", [
        (f"{W}x1: 1", "is larger than 255 per side"), (f"{W}: 1", "is larger than 255 per side"),
        (f"3x{W}: 1", "is larger than 255 per side"), (f"3x3+{W}+1: 1 2 3 4 5 6 7 8 9", "is not supported"),
        (f"box:{W}", "N must be a whole number from 1 to 255"), (f"box:{W[:4300]}", "N must be a whole number from 1 to 255"),
        (f"gaussian:{W}", "is not a number"), (f"box:{W}vox", "the size must be a positive finite number"),
        (f"1x1: {W}", "is not a number"), (W, "unknown kernel"),
    ], ids=["WxH", "W", "3xH", "origin", "box", "box4300", "gaussian", "boxvox", "value", "name"])
    def test_refused_in_one_short_line(self, spec, words):
        r = show(spec)
        refused(r, words, "characters")
        assert len(r.stderr) < 600, len(r.stderr)

    def test_sizes_that_fit_are_read_as_before(self):
        assert load_kernel("0003x1: 1 2 3").shape == (1, 3)
        assert load_kernel("3x3+001+1: 1 2 3 4 5 6 7 8 9").shape == (3, 3)
        assert load_kernel("box:007").shape == (7, 7)
        with pytest.raises(InvalidKernel, match=r"'256x1: 1': 256x1 is larger than 255 per side"):
            load_kernel("256x1: 1")
