"""The audit of batches of volumes and chains: each defect as its user met it.

1. a quoted pattern of volume files without --out-dir ('vols/*.nii') was "no such file or folder";
2. several volumes and a kernel in mm without --out-dir were an "invalid kernel" (exit 3), not the batch's
   missing --out-dir (exit 2);
3. ``-k maxpool:2`` on a volume was "not a kernel name" (exit 3);
4. --window in a batch of images and volumes was passed over on the images, which came back "ok";
5. ``-k maxpool:2`` on an RGBA image dropped the alpha that ``pool -f 2`` pools.
"""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from conftest import SAMPLES, run_in_process

nib = pytest.importorskip("nibabel")


@pytest.fixture
def vols(tmp_path):
    """Two small NIfTI volumes in ``vols/``, 1 mm voxels."""
    folder = tmp_path / "vols"
    folder.mkdir()
    rng = np.random.default_rng(3)
    for name in ("a.nii", "b.nii"):
        img = nib.Nifti1Image(rng.random((9, 8, 7)).astype(np.float32), np.eye(4))
        img.header.set_xyzt_units("mm")
        nib.save(img, str(folder / name))
    return folder


def refused(r, code: int, *words: str) -> str:
    assert r.returncode == code, (r.returncode, r.stderr)
    lines = r.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in r.stderr, r.stderr
    for word in words:
        assert word in lines[0], (word, lines[0])
    return lines[0]


@pytest.mark.parametrize("args", [
    ["convolve", "vols/*.nii", "-k", "gaussian:1mm"],
    ["convolve", "vols/*.nii", "-k", "sobel_v"],
    ["convolve", "vols/a.nii", "vols/b.nii", "-k", "gaussian:2mm"],
    ["convolve", "vols", "-k", "gaussian:2mm"],
    ["convolve", "vols/a.nii", "vols/b.nii", "-k", "sobel_v", "--window", "brain"],
    ["pool", "vols/*.nii", "-f", "2"],
    ["pool", "vols/a.nii", "vols/b.nii", "-f", "2", "--window", "brain"],
])
def test_a_batch_of_volumes_without_out_dir_asks_for_it(vols, args):
    refused(run_in_process(*args, cwd=vols.parent), 2, "need --out-dir DIR")
    refused(run_in_process(*args, "-o", "x.nii", cwd=vols.parent), 2, "--out names one output file")
    assert sorted(p.name for p in vols.parent.iterdir()) == ["vols"]


def test_a_pooling_step_as_a_volume_kernel_says_what_pools_a_volume(vols):
    r = run_in_process("convolve", "vols/a.nii", "-k", "maxpool:2", "-o", "p.nii", cwd=vols.parent)
    refused(r, 2, "maxpool:2: a pooling step works on images and arrays", "kernelcli pool")
    assert not (vols.parent / "p.nii").exists()


@pytest.mark.parametrize("command, size", [("convolve", ["-k", "box_3x3"]), ("pool", ["-f", "2"])])
def test_a_volume_option_fails_the_images_of_a_mixed_batch_alone(vols, command, size):
    shutil.copy(SAMPLES / "phantom.png", vols / "phantom.png")
    r = run_in_process(command, "vols", *size, "--window", "brain", "-d", "out", "--json", cwd=vols.parent)
    assert r.returncode == 1, r.stderr
    records = {rec["input"].split("/")[-1]: rec for rec in json.loads(r.stdout)["items"]}
    assert records["phantom.png"]["status"] == "failed" and records["phantom.png"]["code"] == 2
    assert "--window: only for volume inputs" in records["phantom.png"]["error"]
    assert records["a.nii"]["status"] == records["b.nii"]["status"] == "ok"
    assert not (vols.parent / "out" / "phantom_box_3x3.png").exists()
    images = run_in_process(command, str(SAMPLES / "phantom.png"), str(SAMPLES / "example1.csv"), *size, "--window", "brain",
                            "-d", "out2", cwd=vols.parent)
    refused(images, 2, "--window: only for volume inputs (NIfTI, DICOM); got no volume among the inputs")


def test_a_pooling_chain_pools_the_alpha_as_pool_does(tmp_path):
    from PIL import Image

    rng = np.random.default_rng(5)
    Image.fromarray(rng.integers(0, 256, (40, 50, 4), dtype=np.uint8), "RGBA").save(tmp_path / "rgba.png")
    for args, ref in ((["-k", "maxpool:2"], ["-f", "2"]), (["-k", "avgpool:3:2"], ["-f", "3", "-s", "2", "--op", "avg"])):
        assert run_in_process("convolve", "rgba.png", *args, "-o", "k.png", "--force", cwd=tmp_path).returncode == 0
        assert run_in_process("pool", "rgba.png", *ref, "-o", "p.png", "--force", cwd=tmp_path).returncode == 0
        assert (tmp_path / "k.png").read_bytes() == (tmp_path / "p.png").read_bytes()
    # a kernel that keeps the size, then a pooling step: the alpha is the pooled input alpha
    r = run_in_process("convolve", "rgba.png", "-k", "box_3x3", "--then", "maxpool:2", "-o", "c.png", cwd=tmp_path)
    assert r.returncode == 0 and "alpha" not in r.stderr, r.stderr
    alpha = np.asarray(Image.open(tmp_path / "c.png"))[..., 3]
    run_in_process("pool", "rgba.png", "-f", "2", "-o", "p2.png", cwd=tmp_path)
    assert np.array_equal(alpha, np.asarray(Image.open(tmp_path / "p2.png"))[..., 3])


@pytest.mark.parametrize("args", [
    ["convolve", "vols/a.nii", "-k", "box_3x3", "-o", "od"],
    ["convolve", "vols/a.nii", "-k", "gaussian:1mm", "--tiled", "-o", "od"],
    ["gallery", str(SAMPLES / "phantom.png"), "-o", "od"],
    ["convolve", str(SAMPLES / "phantom.png"), "-k", "sobel_v", "-k", "sobel_h", "--montage", "od"],
    ["learn", str(SAMPLES / "phantom.png"), str(SAMPLES / "phantom.png"), "-f", "3", "--out", "od"],
])
def test_an_output_that_is_a_folder_is_exit_4_for_every_command(vols, args):
    # the audit: an image's -o FOLDER was exit 4, a volume's and gallery's "unsupported output type" (exit 2)
    (vols.parent / "od").mkdir()
    r = run_in_process(*args, cwd=vols.parent)
    assert r.returncode == 4 and "od: is a folder, expected a file path" in r.stderr, r.stderr
    assert list((vols.parent / "od").iterdir()) == []


def test_a_ct_preset_on_values_not_said_to_be_hu_is_noted(vols):
    # the audit: --window brain on an MR wrote every pixel 255, exit 0, without a word
    pydicom_data = pytest.importorskip("pydicom.data")
    runs = {"mr": (pydicom_data.get_testdata_file("MR_small.dcm"), "MR_small.dcm is MR, whose values are not HU"),
            "nii": (str(vols / "a.nii"), "a.nii does not say its values are HU"),
            "ct": (pydicom_data.get_testdata_file("CT_small.dcm"), None)}
    for name, (src, said) in runs.items():
        r = run_in_process("convolve", src, "--window", "brain", "-o", f"{name}.png", "--json", cwd=vols.parent)
        assert r.returncode == 0, r.stderr
        notes = [n for n in json.loads(r.stdout)["notes"] if n.startswith("--window brain is a CT preset")]
        assert notes == ([f"--window brain is a CT preset in HU (40,80), and {said}: give --window CENTRE,WIDTH in the "
                          "volume's own values"] if said else []), notes
    r = run_in_process("convolve", runs["mr"][0], "--window", "40,80", "-o", "mr2.png", "--json", cwd=vols.parent)
    assert not any("CT preset" in n for n in json.loads(r.stdout)["notes"])


def test_an_output_over_the_mask_is_refused_while_planning(vols):
    # the audit: a.nii was written, then b.nii's output over the --mask was refused as it ran (exit 4, one output left)
    dst = vols.parent / "dst"
    dst.mkdir()
    mask = nib.load(str(vols / "a.nii"))
    nib.save(nib.Nifti1Image((np.asarray(mask.dataobj) > 0.5).astype(np.uint8), mask.affine), str(dst / "b.nii.gz"))
    before = (dst / "b.nii.gz").read_bytes()  # (b.nii is written as b.nii.gz: over the mask)
    r = run_in_process("convolve", "vols", "-k", "gaussian:1mm", "--mask", "dst/b.nii.gz", "-d", "dst", "--suffix", "", "--force",
                       cwd=vols.parent)
    assert r.returncode == 4 and "nothing was done" in r.stderr, r.stderr
    assert sorted(p.name for p in dst.iterdir()) == ["b.nii.gz"] and (dst / "b.nii.gz").read_bytes() == before


def test_fault_catalogue_walk(tmp_path):
    """The fault-catalogue audit: an --out-dir under a file was a 'read-only folder' (exit 1); a missing input
    with a kernel in mm was the kernel's error (exit 3); a 144-byte .npy kernel whose header claims 200000x255x255
    was 'not enough memory to read it'."""
    (tmp_path / "a.png").write_bytes((SAMPLES / "phantom.png").read_bytes())
    r = run_in_process("pool", "a.png", str(SAMPLES / "phantom.png"), "-f", "2", "-d", "a.png/sub", cwd=tmp_path)
    assert r.returncode == 2 and "a.png is a file, not a folder" in r.stderr, r.stderr
    for command in ("convolve", "volume"):
        r = run_in_process(command, "missing.png", "-k", "gaussian:1mm", cwd=tmp_path)
        assert r.returncode == 2 and "missing.png: no such file" in r.stderr, r.stderr
    with open(tmp_path / "k.npy", "wb") as f:
        np.lib.format.write_array_header_1_0(f, {"descr": "<f8", "fortran_order": False, "shape": (200000, 255, 255)})
        f.write(b"\0" * 16)
    r = run_in_process("convolve", "a.png", "-k", "k.npy", cwd=tmp_path)
    assert r.returncode == 3 and "truncated: its header says 200000x255x255 float64" in r.stderr, r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.png", "k.npy"]
