"""Review 148 #5: ``learn``'s ``-o`` and ``--plot`` that are, or link to, a descriptor are refused naming the option,
in --montage's words (one check for every command's file-only outputs: cli/_stdio.refuse_descriptors).

They were "output 'so.png': the output is a file, not stdout ...", and ``--plot /dev/stdout`` was told "the loss curve
is drawn as a .png; got '(no extension)'".
"""

from __future__ import annotations

import numpy as np
import pytest

from conftest import run_in_process


@pytest.fixture
def folder(tmp_path):
    from PIL import Image

    Image.fromarray(np.random.default_rng(2).integers(0, 256, (12, 12), dtype=np.uint8)).save(tmp_path / "g.png")
    (tmp_path / "so.png").symlink_to("/proc/self/fd/1")
    (tmp_path / "so.json").symlink_to("/proc/self/fd/1")
    return tmp_path


GD = ["--method", "gd", "--epochs", "3"]


@pytest.mark.parametrize("args, said", [
    (GD + ["--plot", "so.png", "-o", "k.json"], "--plot 'so.png': the loss curve is a file, not stdout (a link to its descriptor)"),
    (GD + ["--plot", "/dev/stdout", "-o", "k.json"], "--plot '/dev/stdout': the loss curve is a file, not stdout"),
    (["-o", "so.json"], "--out 'so.json': the learned kernel is a file, not stdout (a link to its descriptor)"),
    (["-o", "/dev/stderr"], "--out '/dev/stderr': the learned kernel is a file, not stderr"),
], ids=["plot-link", "plot-dev-stdout", "out-link", "out-dev-stderr"])
def test_learns_file_outputs_on_a_descriptor_are_refused_naming_the_option(folder, args, said):
    done = run_in_process("learn", "g.png", "g.png", "-f", "3", *args, "--force", cwd=folder)
    assert done.returncode == 2 and done.stdout == "", done.stderr
    assert done.stderr == f"error: {said}; give a file path\n"
    assert (folder / "so.png").is_symlink() and (folder / "so.json").is_symlink() and not (folder / "k.json").exists()


def test_the_montage_keeps_its_words(folder):
    done = run_in_process("convolve", "g.png", "-k", "sobel_v", "-k", "sobel_h", "--montage", "so.png", "-o", "m.npy",
                          "--force", cwd=folder)
    assert done.returncode == 2 and done.stderr == ("error: --montage 'so.png': the montage is a file, not stdout (a link "
                                                    "to its descriptor); give a file path\n")
