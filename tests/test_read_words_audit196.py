"""Audit 196 #4: read_volume and read_input spoke in the command line's options (--volume, --series,
--resample-slices, --affine, --max-pixels) to a Python caller, who typed volume=, series=, resample_slices=, affine=,
max_pixels=; a read_volume note said "each is filtered", though read_volume filters nothing.  The commands keep theirs."""

from __future__ import annotations

import numpy as np
import pytest

import kernelcli
from conftest import SAMPLES, run_in_process
from kernelcli.errors import ImageReadError, UsageError

nib = pytest.importorskip("nibabel")


def four_d(folder, name="four.nii.gz"):
    nib.save(nib.Nifti1Image(np.zeros((4, 5, 6, 2), np.float32), np.eye(4)), str(folder / name))
    return folder / name


def said(error, call) -> str:
    with pytest.raises(error) as info:
        call()
    return str(info.value)


class TestReadVolumeSpeaksInKeywords:
    def test_a_volume_past_the_last_is_named_as_typed(self, tmp_path):
        path = four_d(tmp_path)
        assert said(UsageError, lambda: kernelcli.read_volume(path, volume=5)) == \
            f"{path}: volume=5: the file holds 2 volume(s), indices 0 to 1"

    def test_a_volume_of_a_3d_file_is_named_as_typed(self):
        text = said(UsageError, lambda: kernelcli.read_volume(SAMPLES / "phantom3d.nii.gz", volume=3))
        assert text.endswith("phantom3d.nii.gz: volume=3: the file is 3-D (64x64x64), not 4-D") and "--" not in text

    def test_series_and_resample_slices_of_a_nifti_are_named_as_typed(self, tmp_path):
        path = four_d(tmp_path)
        assert said(UsageError, lambda: kernelcli.read_volume(path, series="x")).startswith(f"{path}: series= picks a series")
        assert said(UsageError, lambda: kernelcli.read_volume(path, resample_slices=True)).startswith(
            f"{path}: resample_slices=True interpolates")

    def test_a_4d_input_read_whole_is_not_said_to_be_filtered(self, tmp_path):
        notes = kernelcli.read_volume(four_d(tmp_path)).notes
        assert "four.nii.gz: 4-D, 2 volumes: all are read, as (T, Z, Y, X) (volume=N takes one)" in notes
        assert not any("--" in note or "filtered" in note for note in notes), notes

    def test_the_command_line_wording_is_asked_by_words_cli(self, tmp_path):
        path = four_d(tmp_path)
        assert said(UsageError, lambda: kernelcli.read_volume(path, volume=5, words="cli")).startswith(f"{path}: --volume 5:")
        assert "four.nii.gz: 4-D, 2 volumes: each is filtered (--volume N takes one)" in \
            kernelcli.read_volume(path, words="cli").notes
        assert said(UsageError, lambda: kernelcli.read_volume(path, words="python")) == \
            "invalid words 'python': expected one of api, cli"

    def test_the_command_line_keeps_its_options(self, tmp_path):
        four_d(tmp_path)
        r = run_in_process("volume", "four.nii.gz", "-k", "box:3vox", "--volume", "5", "-o", "o.nii.gz", cwd=tmp_path)
        assert r.returncode == 2 and "four.nii.gz: --volume 5: the file holds 2 volume(s), indices 0 to 1" in r.stderr, r.stderr


class TestReadInputSpeaksInKeywords:
    def test_the_pixel_limit_is_named_as_typed(self):
        text = said(ImageReadError, lambda: kernelcli.read_input(SAMPLES / "phantom.png", max_pixels=100))
        assert text.endswith("; raise max_pixels= if the image is genuine") and "--" not in text, text

    def test_max_pixels_of_an_array_is_noted_as_typed(self, tmp_path):
        np.save(tmp_path / "x1.npy", np.zeros((4, 4)))
        assert kernelcli.read_input(tmp_path / "x1.npy", max_pixels=100).notes == [
            "x1.npy: max_pixels= guards the decoding of images; a .npy is read as it is stored (the memory limit still applies)"]

    def test_the_command_line_keeps_its_option(self, tmp_path):
        text = said(ImageReadError, lambda: kernelcli.read_input(SAMPLES / "phantom.png", max_pixels=100, words="cli"))
        assert text.endswith("; raise --max-pixels if the image is genuine")


def test_the_readers_option_table_matches_the_cli_and_the_api():
    """io.read_words names each option as the command line declares it (cli/options.py's CONCEPTS) and as
    read_volume or read_input takes it (as learn's table is checked: test_learn_audit166)."""
    import inspect

    from kernelcli.cli.options import CONCEPTS
    from kernelcli.io.formats import read_input
    from kernelcli.io.read_words import OPTION_NAMES
    from kernelcli.medical import read_volume

    flags = {name for concept in CONCEPTS.values() for name in concept.names[:1]}
    keywords = set(inspect.signature(read_volume).parameters) | set(inspect.signature(read_input).parameters)
    for flag, keyword in OPTION_NAMES.values():
        assert flag in flags, flag
        assert keyword in keywords, keyword
