"""Audit 158: ``--layout zyx`` arrays under layers and filter banks.

F1: ``--weights`` under ``--layout zyx`` summed the slices as channels (a 2-D result, byte-identical to ``--layout chw``,
no note), where the same taps as ``-k`` are a 3-D correlation: refused, naming both readings.  F2: a one-slice zyx (or
one-channel chw) array lost its leading axis with ``--bias``, ``--activation`` or one ``--weights`` filter.  F3: a
filter bank on a zyx array was written (K*Z, Y, X), a taller volume; it is (K, Z, Y, X) now.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys

import numpy as np
import pytest

from conftest import documentation, process_env, refused_while_stdin_open, run_in_process


@pytest.fixture
def arrays(tmp_path):
    v = np.random.default_rng(0).integers(-8, 9, size=(3, 7, 8)).astype(np.float32)
    np.save(tmp_path / "v.npy", v)
    np.save(tmp_path / "v1.npy", v[:1])
    np.save(tmp_path / "w3.npy", np.ones((1, 3, 3, 3), np.float32))
    np.save(tmp_path / "w1.npy", np.ones((1, 1, 3, 3), np.float32))
    return v


# ---------------------------------------------------------------- F1

@pytest.mark.parametrize("weights", ["w3.npy", "w1.npy"])
def test_weights_under_zyx_are_refused_naming_both_readings(tmp_path, arrays, weights):
    """w3 (1, 3, 3, 3) on a 3-slice zyx array gave the chw sum (7, 8), exit 0; w1 (1, 1, 3, 3) was refused calling the
    slices "channel(s)".  Both are refused now (exit 2), naming --layout chw and -k FILE, before anything is written."""
    r = run_in_process("convolve", "v.npy", "--layout", "zyx", "--weights", weights, "-o", "o.npy", cwd=tmp_path)
    assert r.returncode == 2, r.stderr
    said = r.stderr
    assert "--weights" in said and "--layout chw" in said and "-k FILE" in said and "3-D correlation" in said, said
    assert "slice" in said and "channel(s)" not in said and "Traceback" not in said, said
    assert not (tmp_path / "o.npy").exists()
    ok = run_in_process("convolve", "v.npy", "--layout", "chw", "--weights", "w3.npy", "-o", "c.npy", cwd=tmp_path)
    assert ok.returncode == 0 and np.load(tmp_path / "c.npy").shape == (7, 8), ok.stderr


def test_weights_under_zyx_are_refused_from_stdin_as_from_a_file(tmp_path, arrays):
    (tmp_path / "o.npy").write_bytes(b"kept")
    args = ["--layout", "zyx", "--weights", "w3.npy", "-o", "o.npy"]
    on_file = run_in_process("convolve", "v.npy", *args, cwd=tmp_path)
    code, said = refused_while_stdin_open(["convolve", "-", *args], tmp_path, (tmp_path / "v.npy").read_bytes())
    assert on_file.returncode == code == 2 and said == on_file.stderr and "--layout chw" in said, (on_file.stderr, said)
    assert (tmp_path / "o.npy").read_bytes() == b"kept"


def test_the_zyx_refusal_names_only_what_the_call_gave():
    from kernelcli.errors import UsageError
    from kernelcli.job_checks import zyx_kernels

    with pytest.raises(UsageError) as caught:  # 2-D kernels: a bias, an activation and a montage run slice by slice
        zyx_kernels([(3, 3)], combine="sum", activation=None, bias=None, montage=None)
    said = str(caught.value)
    assert "--combine sum would treat the slices as channels" in said and "a bias" not in said and "montage" not in said
    assert "--layout chw" in said
    with pytest.raises(UsageError) as caught:
        zyx_kernels([(3, 3, 3)], combine=None, activation="relu", bias=[1.0], montage=None)
    said = str(caught.value)
    assert "a bias and an activation" in said and "several" not in said and "--combine" not in said, said
    with pytest.raises(UsageError) as caught:
        zyx_kernels([(3, 3, 3), (3, 3, 3)], combine=None, activation=None, bias=None, montage=None)
    assert "several 3-D kernels would treat" in str(caught.value)
    with pytest.raises(UsageError) as caught:
        zyx_kernels([(3, 3, 3), (3, 3)], combine=None, activation=None, bias=None, montage=None)
    assert "a 3-D kernel beside other kernels would treat" in str(caught.value)


# ---------------------------------------------------------------- F2

@pytest.mark.parametrize("layout, asks", [
    ("zyx", ["-k", "box:3", "--bias", "0"]),
    ("zyx", ["-k", "box:3", "--activation", "relu"]),
    ("chw", ["-k", "box:3", "--bias", "0"]),
    ("chw", ["--weights", "w1.npy"]),
], ids=["zyx-bias", "zyx-relu", "chw-bias", "chw-weights"])
def test_a_one_plane_array_keeps_its_leading_axis_with_layer_options(tmp_path, arrays, layout, asks):
    """(7, 8) was written where -k box:3 alone writes (1, 7, 8): --bias 0 changed the output's rank."""
    plain = run_in_process("convolve", "v1.npy", "--layout", layout, "-k", "box:3", "-o", "plain.npy", cwd=tmp_path)
    r = run_in_process("convolve", "v1.npy", "--layout", layout, *asks, "-o", "o.npy", "--json", cwd=tmp_path)
    assert plain.returncode == r.returncode == 0, r.stderr
    got = np.load(tmp_path / "o.npy")
    assert got.shape == (1, 7, 8) and json.loads(r.stdout)["output_shape"] == [1, 7, 8], r.stdout
    if "--bias" in asks:
        np.testing.assert_array_equal(got, np.load(tmp_path / "plain.npy"))
    piped = subprocess.run([sys.executable, "-m", "kernelcli", "convolve", "v1.npy", "--layout", layout, *asks, "-o", "-",
                            "--format", "npy", "-q"], cwd=tmp_path, env=process_env(), capture_output=True)
    assert piped.returncode == 0 and np.load(io.BytesIO(piped.stdout)).shape == (1, 7, 8), piped.stderr


def test_several_channels_summed_into_one_map_stay_one_plane(tmp_path, arrays):
    """(C, H, W) under one filter spanning its C channels is one (H', W') map, as before."""
    r = run_in_process("convolve", "v.npy", "--layout", "chw", "--weights", "w3.npy", "-o", "o.npy", cwd=tmp_path)
    assert r.returncode == 0 and np.load(tmp_path / "o.npy").shape == (7, 8), r.stderr


# ---------------------------------------------------------------- F3

def test_a_zyx_bank_is_written_maps_first(tmp_path, arrays):
    """(6, 7, 8) was written for 2 kernels on 3 slices, maps and slices in one axis, no note: (2, 3, 7, 8) now,
    out[k] the volume of kernel k, with a note and the record's output_shape saying so."""
    r = run_in_process("convolve", "v.npy", "--layout", "zyx", "-k", "sobel_h", "-k", "sobel_v", "-o", "b.npy", "--json",
                       cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    got = np.load(tmp_path / "b.npy")
    assert got.shape == (2, 3, 7, 8)
    record = json.loads(r.stdout)
    assert record["output_shape"] == [2, 3, 7, 8]
    assert record["maps"] == [f"{k}[{z}]" for k in ("sobel_h", "sobel_v") for z in range(3)]
    assert any("maps first" in n and "(maps, Z, Y, X)" in n for n in record["notes"]), record["notes"]
    for k, name in enumerate(("sobel_h", "sobel_v")):
        one = run_in_process("convolve", "v.npy", "--layout", "zyx", "-k", name, "-o", f"{name}.npy", cwd=tmp_path)
        assert one.returncode == 0, one.stderr
        np.testing.assert_array_equal(got[k], np.load(tmp_path / f"{name}.npy"))
    said = run_in_process("convolve", "v.npy", "--layout", "zyx", "-k", "sobel_h", "-k", "sobel_v", "-o", "b.npy", "--force",
                          cwd=tmp_path)
    assert "2x3x7x8" in said.stderr and "maps first" in said.stderr, said.stderr


def test_a_one_slice_zyx_bank_keeps_its_slice_axis(tmp_path, arrays):
    r = run_in_process("convolve", "v1.npy", "--layout", "zyx", "-k", "sobel_h", "-k", "sobel_v", "-o", "b.npy", cwd=tmp_path)
    assert r.returncode == 0 and np.load(tmp_path / "b.npy").shape == (2, 1, 7, 8), r.stderr


@pytest.mark.parametrize("out", [["-o", "b.tif"], ["-o", "-", "--format", "tif"]], ids=["file", "stdout"])
def test_a_zyx_bank_refuses_an_output_without_four_axes(tmp_path, arrays, out):
    r = run_in_process("convolve", "v.npy", "--layout", "zyx", "-k", "sobel_h", "-k", "sobel_v", *out, cwd=tmp_path)
    assert r.returncode == 2 and "one -k per call" in r.stderr and "npy" in r.stderr, r.stderr
    assert r.stdout == "" and not (tmp_path / "b.tif").exists()


def test_a_zyx_bank_refuses_a_tif_from_stdin_while_the_stream_flows(tmp_path, arrays):
    args = ["--layout", "zyx", "-k", "sobel_h", "-k", "sobel_v", "-o", "b.tif"]
    on_file = run_in_process("convolve", "v.npy", *args, cwd=tmp_path)
    code, said = refused_while_stdin_open(["convolve", "-", *args], tmp_path, (tmp_path / "v.npy").read_bytes())
    assert on_file.returncode == code == 2 and "one -k per call" in said, (on_file.stderr, said)


def test_a_zyx_bank_batch_refuses_format_tif_before_any_file(tmp_path, arrays):
    (tmp_path / "in").mkdir()
    np.save(tmp_path / "in" / "a.npy", arrays)
    r = run_in_process("convolve", "in", "--layout", "zyx", "-k", "sobel_h", "-k", "sobel_v", "--out-dir", "o",
                       "--format", "tif", cwd=tmp_path)
    assert r.returncode == 2 and "one -k per call" in r.stderr, r.stderr
    ok = run_in_process("convolve", "in", "--layout", "zyx", "-k", "sobel_h", "-k", "sobel_v", "--out-dir", "o", cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr
    assert [np.load(p).shape for p in (tmp_path / "o").glob("*.npy")] == [(2, 3, 7, 8)]


def test_the_readme_says_how_a_zyx_bank_is_written():

    readme = " ".join(documentation().split())
    assert "a filter bank on a `--layout zyx` array is written maps first, (K, Z, Y', X')" in readme


def test_the_stdout_hint_of_a_zyx_bank_names_npy_alone():
    from pathlib import Path

    from kernelcli.io.pipes import stdout_format_names

    assert stdout_format_names(Path("z.npy"), maps=True, layout="zyx")[0] == ("npy",)
    assert stdout_format_names(Path("z.npy"), maps=True, layout="chw")[0] == ("npy", "tif")
