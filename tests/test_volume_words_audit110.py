"""Audit 110: a volume's words (names, notes, refusals, help) say what is true, one way in every command."""

from __future__ import annotations

import pytest

from conftest import run_in_process, write_nifti


@pytest.mark.parametrize("args, missing", [
    (["volume", "missing_dir/", "--window", "lung", "--out", "lung.png"], "missing_dir"),
    (["volume", "missing_dir", "--keep-dtype", "-o", "o.nii.gz"], "missing_dir"),
    (["pool", "missing_dir", "-f", "2", "--series", "1", "-o", "o.png"], "missing_dir"),
    (["pool", "missing.png", "-f", "2", "--axis", "y"], "missing.png"),
    (["convolve", "missing.png", "-k", "sobel_v", "--keep-dtype"], "missing.png"),
])
def test_a_volume_option_on_a_missing_input_says_no_such_file(tmp_path, args, missing):
    """F2: 'volume ct_series/ --window lung' with the folder mistyped said '--window: only for volume inputs ...;
    got missing_dir, an image or array' (exit 2): the path is the fault, as without the option."""
    r = run_in_process(*args, cwd=tmp_path)
    assert r.returncode == 2 and r.stderr == f"error: {missing}: no such file\n", r.stderr


def test_a_volume_option_on_an_image_is_still_refused_by_name(tmp_path):
    from PIL import Image
    import numpy as np

    Image.fromarray(np.zeros((4, 4), np.uint8)).save(tmp_path / "g.png")
    r = run_in_process("convolve", "g.png", "-k", "sobel_v", "--keep-dtype", cwd=tmp_path)
    assert r.returncode == 2 and "--keep-dtype: only for volume inputs (NIfTI, DICOM); got g.png, an image or array" in r.stderr
    r = run_in_process("convolve", "-", "-k", "sobel_v", "--keep-dtype", cwd=tmp_path, input=(tmp_path / "g.png").read_bytes())
    assert r.returncode == 2 and "only for volume inputs" in r.stderr and "no such file" not in r.stderr, r.stderr


def _nifti(path, shape=(6, 7, 8), spacing=(2.5, 0.8, 0.7), seed=4):
    return write_nifti(path, shape, spacing, seed)


def _voxels(path):
    import numpy as np

    nib = pytest.importorskip("nibabel")
    return np.asarray(nib.load(str(path)).dataobj)


class TestAnAxisThatOnlyPicksAView:
    """F3: --axis with a kernel along every axis and an output with no view was refused by convolve and volume
    (exit 2, '--axis is for 2-D kernels ... and for gaussian, fwhm and box kernels', untrue: a .png takes it), where
    pool notes it and exits 0; a copy took it without a word."""

    @pytest.mark.parametrize("command", ["convolve", "volume"])
    @pytest.mark.parametrize("kernel, out", [("sobel_3d", "a.nii.gz"), ("gradient", "a.npy"), ("box_3d", "a.nii"),
                                             ("log:1.5vox", "a.nii.gz")])
    def test_it_is_noted_as_pool_notes_it_and_the_voxels_are_the_kernels(self, tmp_path, command, kernel, out):
        import numpy as np

        _nifti(tmp_path / "v.nii.gz")
        r = run_in_process(command, "v.nii.gz", "-k", kernel, "--axis", "y", "-o", out, cwd=tmp_path)
        suffix = out[out.index("."):]
        assert r.returncode == 0, r.stderr
        assert (f"note: --axis y picks the view of a .png preview; {kernel} filters along every axis, and a {suffix} "
                "output has no view") in r.stderr
        plain = run_in_process(command, "v.nii.gz", "-k", kernel, "-o", "b" + suffix, cwd=tmp_path)
        assert plain.returncode == 0, plain.stderr
        load = np.load if suffix == ".npy" else _voxels
        np.testing.assert_array_equal(load(tmp_path / out), load(tmp_path / ("b" + suffix)))

    def test_pool_and_convolve_word_it_alike(self, tmp_path):
        _nifti(tmp_path / "v.nii.gz")
        pool = run_in_process("pool", "v.nii.gz", "-f", "2", "--axis", "y", "-o", "p.nii.gz", cwd=tmp_path)
        conv = run_in_process("convolve", "v.nii.gz", "-k", "sobel_3d", "--axis", "y", "-o", "c.nii.gz", cwd=tmp_path)
        line = [n for n in pool.stderr.splitlines() if "--axis" in n][0]
        assert line.replace("pooling works", "sobel_3d filters") in conv.stderr.splitlines()

    def test_a_copy_notes_it_too(self, tmp_path):
        _nifti(tmp_path / "v.nii.gz")
        r = run_in_process("volume", "v.nii.gz", "--axis", "x", "-o", "c.nii.gz", cwd=tmp_path)
        assert r.returncode == 0 and ("--axis x picks the view of a .png preview; a copy (no --kernel) filters nothing, "
                                      "and a .nii.gz output has no view") in r.stderr, r.stderr

    def test_tile_by_tile_alike_with_the_z_pass_kept(self, tmp_path):
        pytest.importorskip("dask")
        import numpy as np

        _nifti(tmp_path / "v.nii")
        r = run_in_process("convolve", "v.nii", "-k", "sobel_3d", "--tiled", "--axis", "z", "-o", "t.nii", cwd=tmp_path)
        assert r.returncode == 0 and "--axis z picks the view of a .png preview; sobel_3d filters along every axis" in r.stderr
        assert run_in_process("convolve", "v.nii", "-k", "sobel_3d", "-o", "m.nii", cwd=tmp_path).returncode == 0
        np.testing.assert_array_equal(_voxels(tmp_path / "t.nii"), _voxels(tmp_path / "m.nii"))

    def test_the_api_alone_refuses_it_in_true_words(self):
        import numpy as np

        from kernelcli.errors import UsageError
        from kernelcli.medical import VolumeOptions, filter_volume, resolve_volume_kernel
        from kernelcli.medical.volume import Volume
        from pathlib import Path

        vol = Volume(np.zeros((3, 3, 3), np.float32), (1.0, 1.0, 1.0), np.eye(4), Path("v"), "NIfTI")
        with pytest.raises(UsageError, match=r"^--axis y: sobel_3d filters along every axis, so there is no axis to apply it "
                                             r"across or leave alone; --axis then only picks a .png output's view$"):
            filter_volume(vol, resolve_volume_kernel("sobel_3d"), VolumeOptions(axis="y"))


class TestADefaultGivenIsNoWord:
    """F1: '--axis z' with a 2-D kernel, '--truncate 3' with a Gaussian and '--truncate 4' with log: (the defaults
    the help gives) named the same voxels 'scan_sharpen_axisz', 'scan_gaussian_1.5mm_truncate3',
    'scan_log_2mm_truncate4': a second file of one result, which the overwrite guard did not catch."""

    @pytest.mark.parametrize("kernel, given, label", [
        ("sharpen", ["--axis", "z"], "sharpen"),
        ("gaussian:1.5mm", ["--truncate", "3"], "gaussian:1.5mm"),
        ("gaussian:2vox", ["--truncate", "3.0"], "gaussian:2vox"),
        ("log:2mm", ["--truncate", "4"], "log:2mm"),
        ("sobel_3d", ["--axis", "y"], "sobel_3d"),  # (an output with no view)
    ])
    def test_the_default_given_is_the_same_name_and_refused_as_existing(self, tmp_path, kernel, given, label):
        import json

        _nifti(tmp_path / "v.nii.gz")
        first = run_in_process("volume", "v.nii.gz", "-k", kernel, "--pad-mode", "reflect", "--json", cwd=tmp_path)
        assert first.returncode == 0, first.stderr
        doc = json.loads(first.stdout)
        name = "v_" + label.replace(":", "_") + "_reflect.nii.gz"
        assert (doc["operation"], doc["output"]) == (f"convolve {label}_reflect", name)
        again = run_in_process("volume", "v.nii.gz", "-k", kernel, "--pad-mode", "reflect", *given, "--json", cwd=tmp_path)
        assert again.returncode == 4 and f"{name}: already exists" in again.stderr, again.stderr
        assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["v.nii.gz", name])

    @pytest.mark.parametrize("kernel, given, label", [
        ("sharpen", ["--axis", "y"], "sharpen_axisy"),
        ("gaussian:1.5mm", ["--axis", "z"], "gaussian:1.5mm_axisz"),  # a smoothing's default is no axis left alone
        ("gaussian:1.5mm", ["--truncate", "4"], "gaussian:1.5mm_truncate4"),
        ("log:2mm", ["--truncate", "3"], "log:2mm_truncate3"),
    ])
    def test_a_value_other_than_the_default_is_a_word(self, tmp_path, kernel, given, label):
        import json

        _nifti(tmp_path / "v.nii.gz")
        r = run_in_process("convolve", "v.nii.gz", "-k", kernel, *given, "--json", cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        doc = json.loads(r.stdout)
        assert (doc["operation"], doc["output"]) == (f"convolve {label}", "v_" + label.replace(":", "_") + ".nii.gz")

    @pytest.mark.parametrize("given, png, label", [
        (["--axis", "y", "-o", "e.png"], "e.png", "sobel_3d_axisy"),
        (["--axis", "z", "-o", "e.png"], "e.png", "sobel_3d"),
        (["--axis", "x", "--format", "png"], "v_sobel_3d_axisx.png", "sobel_3d_axisx"),
        (["--axis", "z", "--format", "png"], "v_sobel_3d.png", "sobel_3d"),
    ])
    def test_a_view_is_a_word_of_a_png_other_than_the_axial(self, tmp_path, given, png, label):
        import json

        _nifti(tmp_path / "v.nii.gz")
        r = run_in_process("convolve", "v.nii.gz", "-k", "sobel_3d", *given, "--json", cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        doc = json.loads(r.stdout)
        assert (doc["operation"], doc["output"]) == (f"convolve {label}", png)

    def test_a_batch_and_the_tiled_path_name_alike(self, tmp_path):
        import json

        _nifti(tmp_path / "a.nii.gz")
        _nifti(tmp_path / "b.nii.gz", seed=5)
        r = run_in_process("convolve", "a.nii.gz", "b.nii.gz", "-k", "sharpen", "--axis", "z", "--out-dir", "od", "-q",
                           cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        assert sorted(p.name for p in (tmp_path / "od").iterdir()) == ["a_sharpen.nii.gz", "b_sharpen.nii.gz"]
        pytest.importorskip("dask")
        _nifti(tmp_path / "t.nii")
        r = run_in_process("convolve", "t.nii", "-k", "gaussian:1mm", "--truncate", "3", "--tiled", "--json", cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        doc = json.loads(r.stdout)
        assert (doc["operation"], doc["output"]) == ("convolve gaussian:1mm", "t_gaussian_1mm.nii")


def test_pools_axis_help_is_its_own_and_true():
    """F4: 'pool --help' described --axis with convolve's text ('a 2-D kernel filters each slice across this axis
    ...; a kernel in mm or voxels leaves this axis alone'): pool has no kernel; the axis is the .png's view."""
    from kernelcli.cli.options import HELP, POOL_AXIS_HELP

    r = run_in_process("pool", "--help", env={"COLUMNS": "400", "TERMINAL_WIDTH": "400"})
    assert r.returncode == 0
    text = " ".join(r.stdout.replace("│", " ").split())
    assert " ".join(POOL_AXIS_HELP.split()) in text and "kernel" not in POOL_AXIS_HELP
    assert "a 2-D kernel filters each slice" not in text
    conv = " ".join(run_in_process("convolve", "--help", env={"COLUMNS": "400", "TERMINAL_WIDTH": "400"}).stdout.replace("│", " ").split())
    assert " ".join(HELP["axis"].split()) in conv
