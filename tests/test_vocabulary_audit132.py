"""Audit 132 (one vocabulary, round 3) #2: a padding has one name however it is spelt.  ``-p 1`` and ``-p 1,1,1,1``
(and ``-p 0``, ``valid``, ``0,0,0,0`` for a convolution) wrote files of the same bytes under two or three names, so
the guard against overwriting never spoke; pool already named them alike."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from conftest import run_in_process


@pytest.fixture
def png(tmp_path):
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (12, 14), dtype=np.uint8)).save(tmp_path / "a.png")
    return tmp_path


@pytest.mark.parametrize("command, spellings, name", [
    (["pad", "a.png"], [["-p", "1"], ["-p", "1,1,1,1"]], "a_pad_p1.png"),
    (["pad", "a.png"], [["-p", "0"], ["-p", "0,0,0,0"]], "a_pad_p0.png"),
    (["convolve", "a.png", "-k", "box:3"], [["-p", "valid"], ["-p", "0"], ["-p", "0,0,0,0"]], "a_box_3_valid.png"),
    (["convolve", "a.png", "-k", "box:3", "-s", "2"], [["-p", "2"], ["-p", "2,2,2,2"]], "a_box_3_s2_p2.png"),
    (["pool", "a.png", "-f", "3"], [["-p", "1"], ["-p", "1,1,1,1"]], "a_maxpool3p1.png"),
])
def test_equal_paddings_are_one_result_under_one_name(png, command, spellings, name):
    first = run_in_process(*command, *spellings[0], "-q", cwd=png)
    assert first.returncode == 0 and (png / name).exists(), (first.stderr, sorted(p.name for p in png.iterdir()))
    for spelling in spellings[1:]:
        again = run_in_process(*command, *spelling, "-q", cwd=png)
        assert again.returncode == 4 and f"{name}: already exists" in again.stderr, again.stderr
    assert sorted(p.name for p in png.iterdir()) == sorted(["a.png", name])


# Audit 132 #1: a value outside its option's range is refused in one form, the README's (line ~67), in every command,
# whether click's range, the option's parser or the command's body refused it.
SIZE_0 = "Invalid value for '--size' / '-f' / '--f': 0 is not in the range x>=1."
PAD_NEG = "Invalid value for '--padding' / '-p' / '--p': -1 is not in the range x>=0."


@pytest.fixture
def learnable(png):
    from kernelcli.api import conv2d

    image = np.asarray(Image.open(png / "a.png"), dtype=float)
    np.save(png / "t.npy", conv2d(image, np.full((3, 3), 1 / 9)))
    return png


@pytest.mark.parametrize("command, sentence", [
    (["pool", "a.png", "-f", "0"], SIZE_0),
    (["learn", "a.png", "t.npy", "-f", "0"], SIZE_0),
    (["shape", "--in", "24", "-f", "0"], SIZE_0),
    (["params", "--in-ch", "3", "--filters", "8", "-f", "0"], SIZE_0),
    (["shape", "--in", "0", "-f", "3"], "Invalid value for '--input' / '--in' / '-i': 0 is not in the range x>=1."),
    (["summary", "resnet18", "--in", "0"], "Invalid value for '--input' / '--in' / '-i': 0 is not in the range x>=1."),
    (["shape", "--in", "24", "-f", "3", "--filters", "0"], "Invalid value for '--filters': 0 is not in the range x>=1."),
    (["convolve", "a.png", "-k", "box:3", "-p", "-1"], PAD_NEG),
    (["pad", "a.png", "-p", "-1"], PAD_NEG),
    (["pool", "a.png", "-f", "2", "-p", "-1"], PAD_NEG),
    (["learn", "a.png", "t.npy", "-f", "3", "-p", "-1"], PAD_NEG),
    (["shape", "--in", "24", "-f", "3", "-p", "-1"], PAD_NEG),
])
def test_a_value_out_of_range_is_refused_in_one_form(learnable, command, sentence):
    r = run_in_process(*command, "-o", "x.npy", cwd=learnable) if command[0] in ("pool", "pad", "convolve") else \
        run_in_process(*command, cwd=learnable)
    assert r.returncode == 2 and r.stderr == f"error: {sentence} (see 'kernelcli {command[0]} -h')\n", r.stderr


@pytest.mark.parametrize("command, value, why", [
    (["pool", "a.png", "-f"], "0x2", "every size must be an integer >= 1"),
    (["shape", "--in", "24", "-f"], "0x3", "every size must be an integer >= 1"),
    (["summary", "resnet18", "--in"], "0x224x224", "every size must be an integer >= 1"),
    (["pad", "a.png", "-p"], "1,2,3,-1", "every width must be an integer >= 0"),
    (["shape", "--in", "24", "-f"], "2.5", "expected F or FxG (a filter always spans every input channel) with integers >= 1"),
    (["learn", "a.png", "t.npy", "-f"], "2.5", "expected F or FxF (one window side F) with integers >= 1"),
])
def test_a_structured_value_its_grammar_refuses_has_the_same_prefix(learnable, command, value, why):
    option = "'--input' / '--in' / '-i'" if command[-1] == "--in" else \
        "'--padding' / '-p' / '--p'" if command[-1] == "-p" else "'--size' / '-f' / '--f'"
    r = run_in_process(*command, value, cwd=learnable)
    assert r.returncode == 2 and r.stderr == (f"error: Invalid value for {option}: '{value}': {why} "
                                              f"(see 'kernelcli {command[0]} -h')\n"), r.stderr


def test_learn_takes_fxf_and_refuses_fxg_as_pool_does(learnable):
    from kernelcli.shapes import LEARN_SIZE_RULE, POOL_SIZE_RULE

    square = run_in_process("learn", "a.png", "t.npy", "-f", "3x3", "-q", cwd=learnable)
    assert square.returncode == 0 and square.stdout == run_in_process("learn", "a.png", "t.npy", "-f", "3", "-q", cwd=learnable).stdout
    wide = run_in_process("learn", "a.png", "t.npy", "-f", "3x5", cwd=learnable)
    assert wide.returncode == 2 and wide.stderr == (f"error: Invalid value for '--size' / '-f' / '--f': '3x5': {LEARN_SIZE_RULE} "
                                                    "(see 'kernelcli learn -h')\n"), wide.stderr
    pooled = run_in_process("shape", "--in", "24", "-f", "2x3", "--pool", cwd=learnable)
    assert pooled.stderr == f"error: Invalid value for '--size' / '-f' / '--f': '2x3': {POOL_SIZE_RULE} (see 'kernelcli shape -h')\n"


# Audit 132 #4: an option given where it changes nothing is a note with exit 0, in every command.
@pytest.mark.parametrize("args, said", [
    (["params", "--in-ch", "3", "--filters", "8", "--layout", "chw"],
     "note: --layout chw names the axes of a 3-D --flatten HxWxC; a conv or dense layer's count has none, so it changes nothing"),
    (["params", "--dense", "3", "4", "--layout", "hwc"],
     "note: --layout hwc names the axes of a 3-D --flatten HxWxC; a conv or dense layer's count has none, so it changes nothing"),
    (["shape", "--in", "24", "-f", "3", "--ceil"],
     "note: --ceil rounds a pooling's output size up (PyTorch's ceil_mode); without --pool it changes nothing"),
])
def test_an_option_that_changes_nothing_is_a_note(tmp_path, args, said):
    r = run_in_process(*args, cwd=tmp_path)
    plain = run_in_process(*args[:-2] if args[-1] != "--ceil" else args[:-1], cwd=tmp_path)
    assert r.returncode == 0 and said in r.stderr.splitlines() and r.stdout == plain.stdout, r.stderr


def test_learns_note_on_one_unused_option_says_it(learnable):
    r = run_in_process("learn", "a.png", "t.npy", "-f", "3", "--lr", "0.5", cwd=learnable)
    assert r.returncode == 0 and "note: --lr: for --method gd; lstsq solves in one step and ignores it" in r.stderr, r.stderr


def test_shape_pool_refuses_a_dilated_window_pool_cannot_run(tmp_path):
    # audit 132 #7: 'shape --pool --dilation 2' printed 7, a pooling pool has no option for
    from kernelcli.shapes import POOL_DILATION_RULE

    r = run_in_process("shape", "--in", "24", "-f", "3", "--pool", "--dilation", "2", cwd=tmp_path)
    said = f"error: Invalid value for '--dilation': '2': {POOL_DILATION_RULE} (see 'kernelcli shape -h')\n"  # (review 52 #4)
    assert r.returncode == 2 and r.stdout == "" and r.stderr == said, r.stderr
    assert run_in_process("shape", "--in", "24", "-f", "3", "--dilation", "2", "-q", cwd=tmp_path).stdout == "20\n"
    assert run_in_process("shape", "--in", "24", "-f", "3", "--pool", "--dilation", "1", "-q", cwd=tmp_path).stdout == "8\n"


# Audit 132 #6: --pad-mode/--pad-value where the padding adds no border: convolve's note, from one function, in learn and pad.
@pytest.mark.parametrize("command, extra, said", [
    (["learn", "a.png", "v.npy", "-f", "3", "--padding", "valid"], ["--pad-mode", "reflect"],
     "note: --pad-mode: --padding valid pads nothing, so there is no border to fill"),
    (["learn", "a.png", "v.npy", "-f", "3", "--padding", "valid"], ["--pad-value", "3"],
     "note: --pad-value: --padding valid pads nothing, so there is no border to fill"),
    (["pad", "a.png", "-p", "0", "-o", "p.png"], ["--pad-mode", "reflect"],
     "note: --pad-mode: --padding 0 pads nothing, so there is no border to fill"),
    (["pad", "a.png", "-p", "0,0,0,0", "-o", "p.png"], ["--pad-value", "2"],
     "note: --pad-value: --padding 0,0,0,0 pads nothing, so there is no border to fill"),
    (["convolve", "a.png", "-k", "box:3", "-p", "valid", "-o", "c.npy"], ["--pad-mode", "reflect"],
     "note: --pad-mode: --padding valid pads nothing, so there is no border to fill"),
    # review 52 #3: the default mode given by name was noted by convolve alone (pad's and learn's defaulted to it)
    (["convolve", "a.png", "-k", "box:3", "-p", "valid", "-o", "c.npy"], ["--pad-mode", "constant"],
     "note: --pad-mode: --padding valid pads nothing, so there is no border to fill"),
    (["learn", "a.png", "v.npy", "-f", "3", "--padding", "valid"], ["--pad-mode", "constant"],
     "note: --pad-mode: --padding valid pads nothing, so there is no border to fill"),
    (["pad", "a.png", "-p", "0", "-o", "p.png"], ["-m", "zero"],
     "note: --pad-mode: --padding 0 pads nothing, so there is no border to fill"),
])
def test_a_border_option_where_nothing_is_padded_is_noted_alike(png, command, extra, said):
    from kernelcli.api import conv2d

    image = np.asarray(Image.open(png / "a.png"), dtype=float)
    np.save(png / "v.npy", conv2d(image, np.full((3, 3), 1 / 9), padding="valid"))
    r = run_in_process(*command, *extra, cwd=png)
    assert r.returncode == 0 and said in r.stderr.splitlines(), r.stderr
    assert "no border" not in run_in_process(*command, "--force", cwd=png).stderr


# Audit 132 #5: under --layout zyx learn's refusals and its kernels' names say slice, as its headings and notes do.
@pytest.fixture
def volumes(tmp_path):
    from scipy.ndimage import correlate

    rng = np.random.default_rng(0)
    v = rng.random((3, 12, 12))
    k = np.array([[0, 1, 0], [1, 2, 1], [0, 1, 0]], float)
    np.save(tmp_path / "vol.npy", v)
    np.save(tmp_path / "vol_t.npy", np.stack([correlate(s, k, mode="constant") for s in v]))
    np.save(tmp_path / "vol_t4.npy", rng.random((4, 12, 12)))
    return tmp_path


def test_learns_refusals_under_zyx_say_slice(volumes):
    count = run_in_process("learn", "vol.npy", "vol_t4.npy", "-f", "3", "--layout", "zyx", cwd=volumes)
    assert count.returncode == 2 and count.stderr == "error: vol.npy has 3 slice(s) but vol_t4.npy has 4: expected the same number\n"
    summed = run_in_process("learn", "vol.npy", "vol_t.npy", "-f", "3", "--layout", "zyx", "--combine", "sum", cwd=volumes)
    assert summed.returncode == 2 and summed.stderr == (
        "error: --combine sum learns one Z x f x f kernel, so vol_t.npy must have one slice; it has 3\n"), summed.stderr


def test_a_volumes_kernels_are_named_by_slice_and_read_back_by_convolve(volumes):
    import json

    r = run_in_process("learn", "vol.npy", "vol_t.npy", "-f", "3", "--layout", "zyx", "-o", "k.json", cwd=volumes)
    assert r.returncode == 0 and "(k.json:k_s0, ...)" in r.stderr, r.stderr
    assert [k["name"] for k in json.loads((volumes / "k.json").read_text())["kernels"]] == ["k_s0", "k_s1", "k_s2"]
    back = run_in_process("convolve", "vol.npy", "--layout", "zyx", "-k", "k.json:k_s1", "-o", "y.npy", "-q", cwd=volumes)
    assert back.returncode == 0, back.stderr
    np.testing.assert_allclose(np.load(volumes / "y.npy")[1], np.load(volumes / "vol_t.npy")[1], atol=1e-9)
    np.save(volumes / "rgb.npy", np.moveaxis(np.load(volumes / "vol.npy"), 0, -1))
    np.save(volumes / "rgb_t.npy", np.moveaxis(np.load(volumes / "vol_t.npy"), 0, -1))
    run_in_process("learn", "rgb.npy", "rgb_t.npy", "-f", "3", "--layout", "hwc", "-o", "c.json", cwd=volumes)
    assert [k["name"] for k in json.loads((volumes / "c.json").read_text())["kernels"]] == ["c_c0", "c_c1", "c_c2"]


# Audit 132 #3: a huge --pad-value made learn's system singular or ill-conditioned, and the image's texture was blamed.
@pytest.mark.parametrize("fill, exit_code, head", [
    ("1e16", 2, "error: the system is singular (rank "),
    ("1e12", 0, "warning: the system is ill-conditioned (condition number "),
])
def test_a_fill_that_swamps_the_border_is_named(tmp_path, fill, exit_code, head):
    from kernelcli.api import conv2d

    x = np.random.default_rng(1).random((32, 32)) * 255
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "t.npy", conv2d(x, np.full((3, 3), 1 / 9), pad_value=float(fill)))
    r = run_in_process("learn", "x.npy", "t.npy", "-f", "3", "--pad-value", fill, cwd=tmp_path)
    line = next((line for line in r.stderr.splitlines() if line.startswith(head)), "")
    assert r.returncode == exit_code and f"--pad-value {fill} fills the border windows" in line, r.stderr
    assert "use --padding valid (with the target cropped to match) or a --pad-value near x.npy's values" in line
    assert "texture" not in r.stderr and "more varied detail" not in r.stderr


def test_a_volume_padding_of_equal_pairs_is_one_name(tmp_path):
    """Review 52 #2: under --layout zyx, -p 2,1,1 (PZ,PY,PX) and -p 2,2,1,1,1,1 (Z0,Z1,Y0,Y1,X0,X1 of equal pairs) wrote
    v_k3_p2-1-1.npy and v_k3_p2-2-1-1-1-1.npy, the same bytes."""
    rng = np.random.default_rng(1)
    np.save(tmp_path / "v.npy", rng.random((6, 12, 14)))
    np.save(tmp_path / "k3.npy", rng.random((3, 3, 3)))
    command = ["convolve", "v.npy", "--layout", "zyx", "-k", "k3.npy", "-q"]
    first = run_in_process(*command, "-p", "2,1,1", cwd=tmp_path)
    assert first.returncode == 0 and (tmp_path / "v_k3_p2-1-1.npy").exists(), first.stderr
    again = run_in_process(*command, "-p", "2,2,1,1,1,1", cwd=tmp_path)
    assert again.returncode == 4 and "v_k3_p2-1-1.npy: already exists" in again.stderr, again.stderr
    other = run_in_process(*command, "-p", "2,1,1,1,1,1", cwd=tmp_path)  # unequal pairs keep their six widths
    assert other.returncode == 0 and (tmp_path / "v_k3_p2-1-1-1-1-1.npy").exists(), other.stderr


@pytest.mark.parametrize("command", [["pool", "a.png", "-f", "3", "-o", "p.png"], ["shape", "--in", "24x24", "-f", "3", "--pool"]],
                         ids=lambda c: c[0])
def test_a_pool_padding_of_unequal_widths_is_refused_in_clicks_form(png, command):
    """Review 52 #4: pool's -p 1,1,1 was refused in Click's form and -p 1,2,1,2 in another ("--padding '1,2,1,2': ...")."""
    from kernelcli.shapes import POOL_PADDING_RULE

    r = run_in_process(*command, "-p", "1,2,1,2", cwd=png)
    assert r.returncode == 2 and r.stderr == (f"error: Invalid value for '--padding' / '-p' / '--p': '1,2,1,2': {POOL_PADDING_RULE} "
                                              f"(see 'kernelcli {command[0]} -h')\n"), r.stderr
