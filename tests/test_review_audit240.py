"""Review 240: what a round trip, a memory cap and a batch say is what is done.

#1: ``kernels show FILE --json`` of a kernel file that says ``"axes": ["z", "y", "x"]`` dropped "axes"; the document
it printed read back as a (channels, f, f) layer filter, whose z taps summed an RGB image's channels (exit 0), where
the first file is refused (exit 3).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from conftest import run_in_process
from kernelcli.errors import EXIT_KERNEL

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


def one_line_refusal(result, code: int, *words: str) -> str:
    assert result.returncode == code, (result.returncode, result.stderr[:400])
    assert len(result.stderr.splitlines()) == 1 and "Traceback" not in result.stderr, result.stderr[:400]
    for word in words:
        assert word in result.stderr, (word, result.stderr[:400])
    return result.stderr


class TestAZyxKernelFileShownKeepsItsAxes:
    def test_show_file_show_file_keeps_axes_and_the_refusal(self, tmp_path):
        shown = run_in_process("kernels", "show", "box_3d", "--json")
        assert shown.returncode == 0, shown.stderr
        (tmp_path / "k0.json").write_text(shown.stdout, encoding="utf-8")
        for before, after in (("k0.json", "k1.json"), ("k1.json", "k2.json")):
            again = run_in_process("kernels", "show", before, "--json", cwd=tmp_path)
            assert again.returncode == 0, again.stderr
            document = json.loads(again.stdout)
            assert document["axes"] == ["z", "y", "x"]
            assert document["values"] == json.loads(shown.stdout)["values"]
            (tmp_path / after).write_text(again.stdout, encoding="utf-8")
        for name in ("k1.json", "k2.json"):
            refused = run_in_process("convolve", str(SAMPLES / "rgb.png"), "-k", name, "-o", "f.npy", cwd=tmp_path)
            one_line_refusal(refused, EXIT_KERNEL, f'{name}: a 3-D kernel file whose "axes" say z, y, x is for a volume input')
        assert not (tmp_path / "f.npy").exists()

    def test_the_round_tripped_file_gives_the_first_files_answer_on_a_zyx_array(self, tmp_path):
        np.save(tmp_path / "arr3.npy", np.random.default_rng(2).normal(size=(4, 9, 9)))
        (tmp_path / "k0.json").write_text(run_in_process("kernels", "show", "box_3d", "--json").stdout, encoding="utf-8")
        (tmp_path / "k1.json").write_text(run_in_process("kernels", "show", "k0.json", "--json", cwd=tmp_path).stdout,
                                          encoding="utf-8")
        for kernel, out in (("k0.json", "n.npy"), ("k1.json", "f.npy")):
            done = run_in_process("convolve", "arr3.npy", "--layout", "zyx", "-k", kernel, "-o", out, cwd=tmp_path)
            assert done.returncode == 0, done.stderr
        assert np.array_equal(np.load(tmp_path / "n.npy"), np.load(tmp_path / "f.npy"))
