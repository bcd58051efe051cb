"""Audit 179 (the README read as a new user): the advice of a refusal offers only the types the same call writes, in
the words the call takes (an extension for a file, a ``--format`` for stdout and a batch)."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from conftest import SAMPLES, documentation, run_in_process


@pytest.fixture()
def files(tmp_path):
    shutil.copy(SAMPLES / "rgb.png", tmp_path / "rgb.png")
    shutil.copy(SAMPLES / "phantom.png", tmp_path / "a.png")
    rng = np.random.default_rng(1)
    np.save(tmp_path / "f3.npy", rng.random((20, 20, 3)).astype(np.float32))
    np.save(tmp_path / "f2.npy", rng.random((20, 20)))
    return tmp_path


def _refused(files, *args):
    r = run_in_process(*args, cwd=files)
    assert r.returncode in (1, 2), r.stderr
    return r.stderr


class TestAColourFloatResultIsNotToldTif:
    """#1: a float result of 3 channels refused for PNG was told "write .tif or .npy", and -o x.tif was then refused
    (a float32 TIFF holds one channel)."""

    @pytest.mark.parametrize("command", [["convolve", "f3.npy", "-k", "sobel_v"], ["pad", "f3.npy", "-p", "1"]])
    def test_a_file_is_told_npy_alone(self, files, command):
        err = _refused(files, *command, "-o", "x.png")
        assert "write .npy to keep them" in err and ".tif" not in err, err

    def test_stdout_is_told_format_npy_alone(self, files):
        err = _refused(files, "convolve", "f3.npy", "-k", "sobel_v", "-o", "-", "--format", "png")
        assert "give --format npy to keep them" in err, err

    def test_one_channel_is_still_told_tif_and_the_tif_is_written(self, files):
        assert "write .tif or .npy to keep them" in _refused(files, "convolve", "f2.npy", "-k", "sobel_v", "-o", "x.png")
        assert run_in_process("convolve", "f2.npy", "-k", "sobel_v", "-o", "x.tif", cwd=files).returncode == 0

    def test_the_api_alike(self, tmp_path):
        from kernelcli.errors import UsageError
        from kernelcli.io.formats import write_output

        with pytest.raises(UsageError) as info:
            write_output(tmp_path / "api3.png", np.random.default_rng(0).random((8, 8, 3)).astype(np.float32))
        assert "write .npy to keep them" in str(info.value) and ".tif" not in str(info.value)


class TestACsvRefusalOffersWhatTheCallWrites:
    """#3: "a .csv holds a 2-D matrix ... (use .npy or an image format)" under --rescale none (an image refused) and on
    stdout (where a --format is given)."""

    def test_rescale_none_is_told_npy_alone(self, files):
        err = _refused(files, "convolve", "rgb.png", "-k", "sobel_v", "--rescale", "none", "-o", "x.csv")
        assert "write .npy to keep it" in err and "image format" not in err, err

    def test_stdout_is_told_the_format(self, files):
        err = _refused(files, "convolve", "f3.npy", "-k", "sobel_v", "-o", "-", "--format", "csv")
        assert "stdout: a .csv holds a 2-D matrix; this result has shape (20, 20, 3): give --format npy to keep it" in err

    def test_each_type_offered_for_an_rgb_result_is_written(self, files):
        err = _refused(files, "convolve", "rgb.png", "-k", "sobel_v", "-o", "x.csv")
        offered = err.split(": write ")[1].split(" to keep it")[0].split(" or ")
        assert offered[0] == ".npy" and len(offered) > 1, err
        for i, suffix in enumerate(offered):
            r = run_in_process("convolve", "rgb.png", "-k", "sobel_v", "-o", f"k{i}{suffix}", cwd=files)
            assert r.returncode == 0, (suffix, r.stderr)


class TestABatchIsToldTheFormat:
    """#4: in a batch the refusals named extensions where the batch picks --format."""

    def test_png_refusals_give_the_format(self, files):
        (files / "bt").mkdir()
        for name in ("f2.npy", "f3.npy"):
            shutil.move(files / name, files / "bt" / name)
        err = _refused(files, "convolve", "bt/f2.npy", "bt/f3.npy", "-k", "sobel_v", "--format", "png", "--out-dir", "o5")
        assert "f2_sobel_v.png: PNG cannot hold the float64 values from an array input as they are: give --format tif|npy" in err
        assert "f3_sobel_v.png: PNG cannot hold the float32 values from an array input as they are: give --format npy " in err
        assert "write ." not in err, err

    def test_pad_in_a_batch_gives_the_format(self, files):
        err = _refused(files, "pad", "f3.npy", "f2.npy", "-p", "1", "--format", "png", "--out-dir", "o10")
        assert "give --format npy to keep them (pad writes its input's values)" in err and "write ." not in err, err

    def test_a_csv_refusal_gives_the_format(self, files):
        err = _refused(files, "convolve", "f3.npy", "f2.npy", "-k", "sobel_v", "--format", "csv", "--out-dir", "o8")
        assert "this result has shape (20, 20, 3): give --format npy to keep it" in err, err

    def test_a_bank_gives_the_format(self, files):
        shutil.copy(files / "a.png", files / "b.png")
        err = _refused(files, "convolve", "a.png", "b.png", "-k", "sobel_v", "-k", "sobel_h", "--format", "png",
                       "--out-dir", "o4")
        assert ("--format png: several feature maps need npy (H', W', maps) or tif (one float32 page per map): "
                "give --format npy|tif;") in err, err

    def test_a_zyx_bank_gives_the_format(self):
        from kernelcli.errors import UsageError
        from kernelcli.maps_outputs import refuse_maps_format

        with pytest.raises(UsageError) as info:
            refuse_maps_format("tif", "zyx")
        assert "give --format npy, or one -k per call" in str(info.value) and "--montage" not in str(info.value)


def _readme() -> str:
    return " ".join(documentation().split())


def test_the_readme_says_k_minus_1_is_the_kernel_minus_1_and_kernels_show_needs_dashes(tmp_path):
    """#5: the README said `-k -1` fails with Click's "No such option: -1"; it runs as the 1x1 kernel -1, and the
    refusal is `kernels show -1`'s."""
    shutil.copy(SAMPLES / "example1.csv", tmp_path / "e.csv")
    plain = run_in_process("convolve", "e.csv", "-k", "1x1: 1", "-q", cwd=tmp_path)
    negated = run_in_process("convolve", "e.csv", "-k", "-1", "-q", cwd=tmp_path)
    assert negated.returncode == 0 and negated.stdout.split() == [str(-int(v)) for v in plain.stdout.split()]
    refused = run_in_process("kernels", "show", "-1", cwd=tmp_path)
    assert refused.returncode == 2 and "No such option: -1" in refused.stderr
    assert run_in_process("kernels", "show", "-q", "--", "-1", cwd=tmp_path).stdout.split() == ["-1"]
    readme = _readme()
    assert "`-k -1` is an option to Click" not in readme
    assert "`-k -1` (and `--then -1`) is the 1x1 kernel -1" in readme and "`kernels show -- -1`" in readme


def test_the_readme_says_a_report_in_the_default_output_store_is_refused(tmp_path):
    """#6: the README said a --report without -o "may go only inside the default output's own store"; it is refused
    there (exit 4) and inside any other store (exit 2)."""
    zarr = pytest.importorskip("zarr")
    pytest.importorskip("dask")
    group = zarr.open_group(str(tmp_path / "grp.zarr"), mode="w")
    group.create_array("img", shape=(40, 30), chunks=(20, 20), dtype="uint8")[:] = np.arange(1200).reshape(40, 30) % 251
    own = run_in_process("pool", "grp.zarr/img", "-f", "2", "--report", "img_maxpool2.zarr/r.json", cwd=tmp_path)
    other = run_in_process("pool", "grp.zarr/img", "-f", "2", "--report", "grp.zarr/r.json", cwd=tmp_path)
    assert (own.returncode, other.returncode) == (4, 2), (own.stderr, other.stderr)
    readme = _readme()
    assert "may go only inside the default output's own store" not in readme
    assert ("a `--report` inside the default output's own store is refused as inside any output (exit 4); inside "
            "another store it is refused too (exit 2)") in readme
