"""Audit 124 #2: four --padding widths on a volume pooled in 3-D are refused, as convolve refuses them for a 3-D kernel."""

from __future__ import annotations

import numpy as np
import pytest

# (in Click's form, as every value refused: review 148 #6)
SAID = ("'1,1,1,1': four widths (T,B,L,R) name the Y and X sides alone; a volume pooled in 3-D takes valid or P "
        "(all six sides, as max_pool3d's padding=P), and Z cannot be left unpadded")


@pytest.fixture
def vol(tmp_path):
    """v7.npy (7x7x8 float32, Z, Y, X), the same as v7.nii (x, y, z) and g.png (20x23) in ``tmp_path``."""
    nib = pytest.importorskip("nibabel")
    from PIL import Image

    v = np.random.default_rng(0).standard_normal((7, 7, 8)).astype(np.float32)
    np.save(tmp_path / "v7.npy", v)
    image = nib.Nifti1Image(v.transpose(2, 1, 0).copy(), np.eye(4))
    image.header.set_xyzt_units("mm")
    nib.save(image, tmp_path / "v7.nii")
    Image.fromarray(np.random.default_rng(1).integers(0, 256, (20, 23), dtype=np.uint8)).save(tmp_path / "g.png")
    return tmp_path


@pytest.mark.parametrize("args", [
    ["v7.npy", "--layout", "zyx", "-o", "o.npy"],
    ["v7.npy", "--layout", "zyx", "--tiled", "-o", "o.npy"],
    ["v7.nii", "-o", "o.nii.gz"],
    ["v7.nii", "--tiled", "-o", "o.nii"],
])
def test_four_widths_on_a_volume_pooled_in_3d_are_refused(invoke, vol, args):
    r = invoke("pool", *args, "-f", "3", "-p", "1,1,1,1")
    assert r.exit_code == 2 and SAID in r.stderr, r.output
    assert not list(vol.glob("o.*"))


def test_the_refusal_is_convolves_rule_in_pools_words(invoke, vol):
    np.save(vol / "k3.npy", np.ones((3, 3, 3), np.float32))
    pooled = invoke("pool", "v7.npy", "--layout", "zyx", "-f", "3", "-p", "1,1,1,1", "-o", "o.npy")
    convolved = invoke("convolve", "v7.npy", "--layout", "zyx", "-k", "k3.npy", "--padding", "1,1,1,1", "-o", "o.npy")
    rule = "four widths (T,B,L,R) name the Y and X sides alone; "
    assert pooled.exit_code == convolved.exit_code == 2 and rule in pooled.stderr and rule in convolved.stderr, \
        (pooled.output, convolved.output)


def test_four_widths_are_refused_before_stdin_is_read(invoke, vol):
    r = invoke("pool", "-", "--layout", "zyx", "-f", "3", "-p", "1,1,1,1", "-o", "o.npy")  # (the runner's stdin is empty)
    assert r.exit_code == 2 and SAID in r.stderr and "stdin is empty" not in r.stderr, r.output


def test_in_a_batch_the_volume_fails_alone_and_the_image_is_pooled(invoke, vol):
    r = invoke("pool", "v7.nii", "g.png", "-f", "3", "-p", "1,1,1,1", "-d", "out")
    assert r.exit_code == 1 and SAID in r.stderr, r.output
    assert [p.name for p in (vol / "out").iterdir()] == ["g_maxpool3p1.png"]


def test_p_still_pads_all_six_sides_and_images_still_take_four_equal_widths(invoke, vol):
    torch = pytest.importorskip("torch")
    ok = invoke("pool", "v7.npy", "--layout", "zyx", "-f", "3", "-p", "1", "-o", "p.npy")
    assert ok.exit_code == 0, ok.output
    v = torch.from_numpy(np.load(vol / "v7.npy"))[None, None]
    assert np.array_equal(np.load(vol / "p.npy"), torch.nn.functional.max_pool3d(v, 3, 3, padding=1)[0, 0].numpy())
    four, one = (invoke("pool", "g.png", "-f", "3", "-p", p, "-o", f"g{n}.npy") for n, p in ((4, "1,1,1,1"), (1, "1")))
    assert four.exit_code == one.exit_code == 0, (four.output, one.output)
    assert np.array_equal(np.load(vol / "g4.npy"), np.load(vol / "g1.npy"))


def test_a_store_whose_axes_say_zyx_is_refused_too(invoke, vol):
    pytest.importorskip("dask.array")
    zarr = pytest.importorskip("zarr")
    z = zarr.open_array(str(vol / "v.zarr"), mode="w", shape=(7, 7, 8), chunks=(4, 4, 4), dtype="float32")
    z[:] = np.load(vol / "v7.npy")
    z.attrs["axes"] = ["z", "y", "x"]
    r = invoke("pool", str(vol / "v.zarr"), "-f", "3", "-p", "1,1,1,1", "-o", "o.npy")
    assert r.exit_code == 2 and SAID in r.stderr, r.output
    assert not (vol / "o.npy").exists()


def test_a_batch_of_volumes_alone_is_refused_once(tmp_path):
    """Review 50 #6: four widths in a batch of volumes failed file by file (exit 1, '0 ok, 2 failed'); every input is
    pooled in 3-D, so the option is refused once, before any file, exit 2 (a batch that holds images too still fails
    its volumes alone)."""
    nib = pytest.importorskip("nibabel")
    from conftest import run_in_process

    for name in ("a", "b"):
        nib.save(nib.Nifti1Image(np.ones((6, 7, 8), np.float32), np.eye(4)), str(tmp_path / f"{name}.nii.gz"))
    r = run_in_process("pool", "a.nii.gz", "b.nii.gz", "-f", "3", "-p", "1,1,1,1", "--out-dir", "out", cwd=tmp_path)
    assert r.returncode == 2 and r.stderr.startswith(f"error: Invalid value for '--padding' / '-p' / '--p': {SAID}"), r.stderr
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_convolve_from_stdin_refuses_them_for_a_3d_kernel_while_the_stream_still_flows(tmp_path):
    from conftest import refused_while_stdin_open

    np.save(tmp_path / "v.npy", np.ones((6, 7, 8), np.float32))
    np.save(tmp_path / "k3.npy", np.ones((3, 3, 3)))
    code, said = refused_while_stdin_open(["convolve", "-", "--layout", "zyx", "-k", "k3.npy", "--padding", "1,1,1,1", "-o", "o.npy"],
                                          tmp_path, (tmp_path / "v.npy").read_bytes())
    assert code == 2 and said.startswith("error: stdin: --padding 1,1,1,1: four widths (T,B,L,R)"), said


@pytest.mark.parametrize("asks", [["-k", "k3.npy", "-k", "k3.npy"], ["-k", "k3.npy", "--bias", "1"], ["-k", "k3.npy", "--combine", "sum"]])
def test_what_a_zyx_array_cannot_take_is_refused_from_stdin_as_from_a_file(tmp_path, asks):
    """Several 3-D kernels (or one with a bias, or --combine sum) on --layout zyx: a file was refused (exit 2), stdin
    first refused the existing -o (exit 4); the same rule now answers both (job_checks.zyx_kernels), while the
    stream still flows."""
    from conftest import refused_while_stdin_open, run_in_process

    np.save(tmp_path / "v.npy", np.ones((6, 7, 8), np.float32))
    np.save(tmp_path / "k3.npy", np.ones((3, 3, 3)))
    (tmp_path / "o.npy").write_bytes(b"kept")
    args = ["--layout", "zyx", *asks, "-o", "o.npy"]
    on_file = run_in_process("convolve", "v.npy", *args, cwd=tmp_path)
    code, said = refused_while_stdin_open(["convolve", "-", *args], tmp_path, (tmp_path / "v.npy").read_bytes())
    assert on_file.returncode == code == 2, (on_file.stderr, said)
    assert said == on_file.stderr and "takes one 3-D kernel alone" in said
    assert (tmp_path / "o.npy").read_bytes() == b"kept"
