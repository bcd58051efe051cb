"""Audit 126 #1, #2, #4: what a batch's volumes (or images) are given that they cannot take or use is said, as for one
input alone: a volume fails alone on ``--layout chw``; an option no input of the batch can take is refused once,
before any file (exit 2); a ``--pad-value`` that a volume's default mode does not use is noted in its record."""

from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import run_in_process

LAYOUT = "ct.nii.gz: a volume is read (Z, Y, X) from its header; --layout {} is for .npy arrays"
ONCE = "every input of the batch is refused alike: nothing was done"


@pytest.fixture
def mixed(tmp_path):
    """g.png (20x23 uint8), ct.nii.gz and a/b.nii.gz in vols/ (int16 8x7x6 volumes) in ``tmp_path``."""
    nib = pytest.importorskip("nibabel")
    from PIL import Image

    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (20, 23), dtype=np.uint8)).save(tmp_path / "g.png")
    Image.fromarray(rng.integers(0, 256, (20, 23), dtype=np.uint8)).save(tmp_path / "h.png")
    volume = nib.Nifti1Image(rng.integers(-1000, 1000, (8, 7, 6)).astype(np.int16), np.diag([1, 1, 2, 1]))
    nib.save(volume, str(tmp_path / "ct.nii.gz"))
    (tmp_path / "vols").mkdir()
    for name in ("a", "b"):
        nib.save(volume, str(tmp_path / "vols" / f"{name}.nii.gz"))
    return tmp_path


def _items(r) -> dict:
    return {item["input"]: item for item in json.loads(r.stdout)["items"]}


@pytest.mark.parametrize("command", [["convolve", "-k", "box:3"], ["pool", "-f", "2"]])
@pytest.mark.parametrize("layout", ["chw", "hwc"])
def test_a_volume_in_a_mixed_batch_fails_alone_on_a_layout_it_cannot_take(mixed, command, layout):
    """#1: the volume was convolved (pooled) and recorded ok, with no word of --layout; alone it is refused (exit 2)."""
    alone = run_in_process(*command, "ct.nii.gz", "--layout", layout, "-o", "one.nii.gz", cwd=mixed)
    r = run_in_process(*command, "g.png", "ct.nii.gz", "--layout", layout, "--out-dir", "L", "--json", cwd=mixed)
    said = LAYOUT.format(layout)
    assert alone.returncode == 2 and said in alone.stderr, alone.stderr
    volume = _items(r)["ct.nii.gz"]
    assert r.returncode == 1 and (volume["status"], volume["code"]) == ("failed", 2) and said in volume["error"], r.stdout
    assert _items(r)["g.png"]["status"] == "ok" and not list((mixed / "L").glob("ct*"))


@pytest.mark.parametrize("args, said", [
    (["convolve", "vols", "-k", "box:3", "--stride", "2"],
     "vols/a.nii.gz: --stride not supported for volumes (NIfTI, DICOM): `kernelcli convolve` takes it for images and arrays"),
    (["convolve", "vols", "-k", "box:3", "--format", "tif"], "--format tif: unsupported output type '.tif' for a volume"),
    (["convolve", "vols", "-k", "box:3", "--layout", "chw"], "vols/a.nii.gz: a volume is read (Z, Y, X) from its header"),
    (["pool", "vols", "-f", "2", "--rescale", "minmax"],
     "vols/a.nii.gz: --rescale not supported for volumes (NIfTI, DICOM): `kernelcli pool` takes it for images and arrays"),
    (["pool", "vols", "-f", "2", "--format", "jpg"], "--format jpg: unsupported output type '.jpg' for a volume"),
    (["convolve", "g.png", "h.png", "-k", "sobel_v", "-k", "sobel_h", "--format", "png"],
     "--format png: several feature maps need npy (H', W', maps) or tif (one float32 page per map): give --format npy|tif"),
    (["pool", "g.png", "ct.nii.gz", "-f", "2", "--rescale", "minmax", "--window", "lung"],
     "--window: only for volume inputs (NIfTI, DICOM); got g.png, an image or array; and the volumes among the inputs: "
     "ct.nii.gz: --rescale not supported"),
])
def test_an_option_no_input_of_the_batch_can_take_is_refused_once(mixed, args, said):
    """#2: every file failed alone with the same error ('0 ok, N failed', exit 1); now exit 2 once, before any file."""
    r = run_in_process(*args, "--out-dir", "out", "--json", cwd=mixed)
    assert r.returncode == 2 and r.stderr.count("error:") == 1, r.stderr
    assert r.stderr.startswith(f"error: {said}") and ONCE in r.stderr, r.stderr
    assert not (mixed / "out").exists() or not any((mixed / "out").iterdir())


@pytest.mark.parametrize("kernel, code, said", [("nosuchkernel", 3, "unknown kernel 'nosuchkernel'"),
                                                ("gaussian:abc", 3, "'gaussian:abc': expected a size in mm or voxels")])
def test_a_kernel_no_volume_of_the_batch_can_read_is_refused_once(mixed, kernel, code, said):
    """Review 51 #3: a batch of volumes only with an unknown or unparsable kernel failed file by file (exit 1), where one
    volume alone and a mixed batch exit 3 once."""
    alone = run_in_process("convolve", "ct.nii.gz", "-k", kernel, "-o", "one.nii.gz", cwd=mixed)
    r = run_in_process("convolve", "vols", "-k", kernel, "--out-dir", "out", cwd=mixed)
    assert alone.returncode == r.returncode == code and r.stderr.count("error:") == 1, r.stderr
    assert said in alone.stderr and r.stderr.startswith(f"error: {said}")
    # a kernel's refusal is worded as one input's and an image batch's (audit 233 #1): not as an option no kind takes
    assert ONCE not in r.stderr and r.stderr == alone.stderr
    assert not (mixed / "out").exists() or not any((mixed / "out").iterdir())


def test_a_refusal_of_a_kind_that_takes_more_than_a_message_is_refused_in_its_plain_kind():
    """Review 51 #7: the refusal was rebuilt as type(exc)(text); ValuesNotHeld takes two arguments (a TypeError: exit 70)."""
    from kernelcli.batch_kinds import Kinds, refuse_what_no_kind_takes
    from kernelcli.errors import UsageError
    from kernelcli.io.not_held import ValuesNotHeld

    def refuse(src):
        raise ValuesNotHeld(f"{src}: a PNG cannot hold it", "advice for pad")

    with pytest.raises(UsageError, match=r"^a.png: a PNG cannot hold it; every input of the batch is refused alike") as exc:
        refuse_what_no_kind_takes(Kinds(True, False, "a.png", None), images=refuse)
    assert exc.value.exit_code == 2


def test_where_one_kind_takes_the_option_the_other_still_fails_alone(mixed):
    r = run_in_process("pool", "g.png", "ct.nii.gz", "-f", "2", "--rescale", "minmax", "--out-dir", "out", "--json", cwd=mixed)
    items = _items(r)
    assert r.returncode == 1 and items["g.png"]["status"] == "ok" and items["ct.nii.gz"]["code"] == 2, r.stdout
    assert ONCE not in r.stderr


def test_a_pad_value_a_volume_does_not_use_is_noted_in_a_mixed_batch(mixed):
    """#4: the images were filled with 7 and the volume padded by replicate, with no word; alone it is noted."""
    said = "--pad-value 7 is for --pad-mode constant; replicate does not use it"
    alone = run_in_process("convolve", "ct.nii.gz", "-k", "box:3", "--pad-value", "7", "-o", "one.nii.gz", "--json", cwd=mixed)
    r = run_in_process("convolve", "g.png", "ct.nii.gz", "-k", "box:3", "--pad-value", "7", "--out-dir", "pv", "--json",
                       cwd=mixed)
    items = _items(r)
    assert json.loads(alone.stdout)["notes"][0] == said
    assert r.returncode == 0 and items["ct.nii.gz"]["notes"][0] == said and said not in items["g.png"]["notes"], r.stdout
    assert f"ct.nii.gz: {said}" in r.stderr
