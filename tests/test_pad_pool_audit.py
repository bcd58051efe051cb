"""The pad/pool command audit of 2026-12-05 (its findings A1, C2, C5, C6), each as its user hit it.

A1. ``pad i64.npy --pad-value 9007199254740993`` filled 9007199254740992 (exit 0): the option was a float;
C2. refusals showed a value the user never typed (``--value 255`` for 255.0000001, 4.29497e+09) under the
    alias's name;
C5. padding errors listed forms the command refuses, named no option and echoed a Python tuple;
C6. ``--pad-value`` with a mode that does not fill and ``--exclude-pad`` where nothing is excluded were
    passed over in silence.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import run_in_process


@pytest.fixture
def files(tmp_path):
    np.save(tmp_path / "i64.npy", np.arange(35, dtype=np.int64).reshape(5, 7))
    np.save(tmp_path / "u32.npy", np.arange(35, dtype=np.uint32).reshape(5, 7))
    Image.fromarray(np.arange(35, dtype=np.uint8).reshape(5, 7)).save(tmp_path / "g.png")
    return tmp_path


class TestPadValueAsTyped:
    def test_a_whole_number_past_2_53_is_refused_not_rounded(self, invoke, files):
        # (written with a point or an exponent, the same number was rounded to ...992 with exit 0: the pad/pool audit)
        for value in ("9007199254740993", "-9007199254740993", "9007199254740993.0", "9.007199254740993e15"):
            r = invoke("pad", "i64.npy", "-p", "1", f"--pad-value={value}", "-o", "o.npy")
            shown = value if "." not in value else "9007199254740993"
            assert r.exit_code == 2 and f"--pad-value {shown}: a fill is exact up to 2**53" in r.stderr, r.stderr
            assert not (files / "o.npy").exists()
        r = invoke("pad", "i64.npy", "-p", "1", "--pad-value", "9007199254740992", "-o", "o.npy")
        assert r.exit_code == 0, r.stderr
        out = np.load(files / "o.npy")
        np.testing.assert_array_equal(out, np.pad(np.load(files / "i64.npy"), 1, constant_values=2**53))

    @pytest.mark.parametrize("name, value, said", [
        ("g.png", "255.0000001", "--pad-value 255.0000001 does not fit uint8: expected a whole number from 0 to 255"),
        ("u32.npy", "4294967296", "--pad-value 4294967296 does not fit uint32"),
        ("i64.npy", "123456789012345678", "--pad-value 123456789012345678: a fill is exact up to 2**53"),
        ("g.png", "1e400", "'1e400': expected a finite number"),
        ("i64.npy", "1" + "0" * 400, "expected a finite number"),  # an int past float64 (it crashed: exit 70)
        ("g.png", "abc", "'abc': expected a finite number"),
    ])
    def test_a_refusal_shows_the_value_as_typed(self, files, name, value, said):
        r = run_in_process("pad", name, "-p", "1", "--pad-value", value, "-o", "o.npy", cwd=files)
        assert r.returncode == 2 and said in r.stderr and r.stderr.startswith("error: ") and r.stderr.count("\n") == 1, r.stderr


def test_float32s_largest_value_as_numpy_prints_it_is_a_fill(invoke, files):
    """3.4028235e38, numpy's text of float32's largest value, is a hair above it and rounds to it (numpy.pad
    fills with it): it was refused 'does not fit float32'; a value that rounds to infinity still is."""
    from kernelcli import api

    x = np.arange(35, dtype=np.float32).reshape(5, 7)
    np.save(files / "f32.npy", x)
    top = np.finfo(np.float32).max
    for value in ("3.4028235e38", "-3.4028235e38"):
        r = invoke("pad", "f32.npy", "-p", "1", f"--pad-value={value}", "-o", "o.npy", "--force")
        assert r.exit_code == 0, r.stderr
        np.testing.assert_array_equal(np.load(files / "o.npy"), np.pad(x, 1, constant_values=float(value)))
        assert np.load(files / "o.npy")[0, 0] == np.copysign(top, float(value))
    np.testing.assert_array_equal(api.pad2d(x, 1, value=3.4028235e38), np.pad(x, 1, constant_values=top))
    r = invoke("pad", "f32.npy", "-p", "1", "--pad-value", "3.40282356e38", "-o", "p.npy")  # still rounds to the largest
    assert r.exit_code == 0, r.stderr
    r = invoke("pad", "f32.npy", "-p", "1", "--pad-value", "3.4028236e38", "-o", "q.npy")  # rounds to infinity
    assert r.exit_code == 2 and "does not fit float32: expected a number within +-3.4028235e+38" in r.stderr, r.stderr


def test_the_api_refuses_an_int_fill_past_float64_by_name():
    from kernelcli import api
    from kernelcli.errors import UsageError
    from kernelcli.jobs import check_pad_value

    # (pad2d's value= alias is named as typed, review 169 #5)
    with pytest.raises(UsageError, match=r"^value is an integer of 401 digits \(beyond the float range\): expected a finite number"):
        api.pad2d(np.zeros((2, 2), np.int64), 1, value=10**400)
    with pytest.raises(UsageError, match=r"^pad_value is an integer of 401 digits \(beyond the float range\): expected a finite number"):
        api.conv2d(np.zeros((2, 2), np.int64), np.ones((1, 1)), pad_value=10**400)
    with pytest.raises(UsageError, match="--pad-value 1000.*: expected a finite number"):
        check_pad_value(10**400, np.dtype(np.int64), "reflect")


class TestPaddingMessages:
    @pytest.mark.parametrize("command, text, said", [
        (["pad", "g.png"], "1.5", "'--p': '1.5': expected P or T,B,L,R in whole numbers (same is convolve's; valid (no padding) is convolve's and pool's)"),
        (["pad", "g.png"], "1,2,3,-1", "'--p': '1,2,3,-1': every width must be an integer >= 0"),
        (["pool", "g.png", "-f", "2"], "1.5", "'--p': '1.5': expected valid, P or T,B,L,R (four equal values)"),
        (["convolve", "g.png", "-k", "sobel_v"], "x", "'--p': 'x': expected same, valid, P or T,B,L,R in whole numbers"),
    ])
    def test_they_name_the_option_the_text_and_what_the_command_takes(self, invoke, files, command, text, said):
        r = invoke(*command, "-p", text, "-o", "o.png")
        assert r.exit_code == 2 and said in r.stderr, r.stderr

    def test_pool_help_opens_with_what_pool_takes(self, invoke):
        text = " ".join(invoke("pool", "--help").stdout.split())
        assert "valid (none) or P: P virtual cells on every side" in text and "same, valid, P (every side)" not in text


class TestOptionsThatChangeNothingSaySo:
    @pytest.mark.parametrize("args, said", [
        (["pad", "g.png", "-p", "1", "-m", "reflect", "--pad-value", "9"],
         "--pad-value 9 is for --pad-mode constant; reflect does not use it"),
        (["convolve", "g.png", "-k", "sobel_v", "--pad-mode", "circular", "--pad-value", "2.5"],
         "--pad-value 2.5 is for --pad-mode constant; circular does not use it"),
        (["pool", "g.png", "-f", "2", "--op", "max", "-p", "1", "--exclude-pad"], "with max pooling it changes nothing"),
        (["pool", "g.png", "-f", "2", "--op", "avg", "--exclude-pad"], "with no padding it changes nothing"),
        (["convolve", "g.png", "-k", "box:3", "-p", "valid", "-m", "reflect"],
         "--pad-mode: --padding valid pads nothing, so there is no border to fill"),
        (["convolve", "g.png", "-k", "box:3", "-p", "0", "--pad-value", "3"],
         "--pad-value: --padding 0 pads nothing, so there is no border to fill"),
    ])
    def test_a_note(self, invoke, files, args, said):
        r = invoke(*args, "-o", "o.png")
        assert r.exit_code == 0 and "note: " in r.stderr and said in r.stderr, r.stderr
        assert said not in invoke(*args, "-o", "q.png", "-q").stderr

    @pytest.mark.parametrize("args, said", [
        (["pad", "g.png", "-p", "1", "-m", "reflect", "--pad-value", "0"], "--pad-value 0 is for --pad-mode constant; reflect does not use it"),
        (["pad", "g.png", "-p", "1", "-m", "edge", "--value=0.0"], "--pad-value 0.0 is for --pad-mode constant; replicate does not use it"),
        (["convolve", "g.png", "-k", "box:3", "-m", "reflect", "--pad-value", "0"],
         "--pad-value 0 is for --pad-mode constant; reflect does not use it"),
        (["convolve", "g.png", "-k", "box:3", "-p", "valid", "--pad-value", "0"],
         "--pad-value: --padding valid pads nothing, so there is no border to fill"),
    ])
    @pytest.mark.parametrize("parser", ["typer", "plain"])
    def test_a_0_given_is_named_as_any_fill_is(self, invoke, files, args, said, parser):
        """'pad m.csv -p 1 -m reflect --pad-value 0' said nothing where --pad-value 5 was named: the 0 given was
        taken for the default.  Both parsers (typer's, and the plain one of a cold call) tell them apart."""
        def call(*given):
            if parser == "typer":
                r = invoke(*given)
                return r.exit_code, r.stderr
            r = run_in_process(*given, cwd=files, env={"KERNELCLI_WORKER": "off"})
            return r.returncode, r.stderr

        code, stderr = call(*args, "-o", "o.png")
        assert code == 0 and f"note: {said}" in stderr, stderr
        without = [a for a in args if a not in ("--pad-value", "0", "--value=0.0")]
        code, stderr = call(*without, "-o", "n.png")
        assert code == 0 and "--pad-value" not in stderr, stderr

    @pytest.mark.parametrize("args, said", [
        (["pad", "g.png", "-p", "1", "-m", "reflect", "--pad-value", "9"], "--pad-value 9 is for"),
        (["pool", "g.png", "-f", "2", "--op", "max", "-p", "1", "--exclude-pad"], "with max pooling it changes nothing"),
    ])
    @pytest.mark.parametrize("quiet", [[], ["-q"]])
    def test_the_note_is_in_the_json_record_and_the_report(self, invoke, files, args, said, quiet):
        """The call's notes were printed on stderr only: --json and --report, which carry each input's notes
        (an unused --quality, say), left them out, with and without -q."""
        r = invoke(*args, "-o", "o.png", "--json", "--report", "r.json", *quiet)
        assert r.exit_code == 0, r.stderr
        assert [n for n in json.loads(r.stdout)["notes"] if said in n]
        report = json.loads((files / "r.json").read_text())
        assert [n for n in report["items"][0]["notes"] if said in n]
        failed = invoke(*args[:1], "missing.png", *args[2:], "-o", "f.png", "--json")
        assert failed.exit_code == 2 and [n for n in json.loads(failed.stdout)["notes"] if said in n]

    @pytest.mark.parametrize("args", [["convolve", "i64.npy", "-k", "box:3"], ["pool", "i64.npy", "-f", "2"], ["pad", "i64.npy", "-p", "1"],
                                      ["convolve", "m.csv", "-k", "box:3"], ["convolve", "i64.npy", "-k", "box:3", "--then", "maxpool:2"]])
    @pytest.mark.parametrize("tiled", [[], ["--tiled"]], ids=["memory", "tiled"])
    def test_max_pixels_with_an_array_says_it_guards_nothing(self, invoke, files, args, tiled):
        # an array or matrix is not decoded: --max-pixels 4 on 35 values ran in silence
        if tiled:
            pytest.importorskip("dask")
            if args[1].endswith(".csv"):
                pytest.skip("a text matrix is never read tile by tile")
        np.savetxt(files / "m.csv", np.arange(35.0).reshape(5, 7), delimiter=",")
        said = f"{args[1]}: --max-pixels guards the decoding of images; a {Path(args[1]).suffix} is read as it is stored"
        r = invoke(*args, "-o", "o.npy", "--max-pixels", "4", "--json", *tiled)
        assert r.exit_code == 0, r.stderr
        assert [n for n in json.loads(r.stdout)["notes"] if n.startswith(said)]
        assert said not in invoke(*args, "-o", "p.npy", *tiled).stderr
        assert invoke(*args, "-o", "q.npy", "--max-pixels", "4", "-q", *tiled).stderr == ""

    def test_a_batch_puts_the_note_in_every_record(self, invoke, files):
        for name in ("b1.png", "b2.png"):
            Image.new("L", (9, 8), 40).save(files / name)
        r = invoke("convolve", "b1.png", "b2.png", "--out-dir", "out", "-k", "box:3", "-m", "reflect", "--pad-value", "9",
                   "--json")
        assert r.exit_code == 0, r.stderr
        assert r.stderr.count("--pad-value 9 is for") == 1
        assert all(record["notes"][0].startswith("--pad-value 9 is for") for record in json.loads(r.stdout)["items"])

    @pytest.mark.parametrize("args", [
        ["pad", "g.png", "-p", "1", "--pad-value", "9"],
        ["pad", "g.png", "-p", "1", "-m", "reflect"],  # (a 0 given is named: test_a_0_given_is_named_as_any_fill_is)
        ["convolve", "g.png", "-k", "box:3", "-p", "valid"],
        ["convolve", "g.png", "-k", "box:3", "-p", "1", "-m", "reflect"],
        ["pool", "g.png", "-f", "3", "--op", "avg", "-p", "1", "--exclude-pad"],
    ])
    def test_no_note_where_the_option_counts(self, invoke, files, args):
        r = invoke(*args, "-o", "o.png")
        assert r.exit_code == 0 and "changes nothing" not in r.stderr and "does not use it" not in r.stderr, r.stderr
        assert "no border to fill" not in r.stderr

    @pytest.mark.parametrize("args", [
        ["convolve", "g.png", "-k", "box:3"],
        ["convolve", "g.png", "-k", "box:3", "--then", "maxpool:2"],
        ["pad", "g.png", "-p", "1"],
        ["pool", "g.png", "-f", "2"],
    ])
    def test_workers_and_recursive_with_one_file_say_they_change_nothing(self, invoke, files, args):
        """--workers and --recursive were taken in silence where one file runs in one process."""
        r = invoke(*args, "-o", "o.png", "--workers", "3", "--recursive", "--json")
        assert r.exit_code == 0, r.stderr
        said = "--workers 3: the processes of a batch or of --scheduler local; one input runs in this process, so it changes nothing"
        assert said in r.stderr and "--recursive: looks into the subfolders of folder inputs" in r.stderr
        assert json.loads(r.stdout)["notes"][:2] == [said, "--recursive: looks into the subfolders of folder inputs; one input was given"]
        assert "--workers" not in invoke(*args, "-o", "p.png").stderr

    @pytest.mark.parametrize("args", [["convolve", "g.png", "-k", "box:3"], ["pad", "g.png", "-p", "1"], ["pool", "g.png", "-f", "2"]])
    def test_suffix_beside_out_says_so(self, invoke, files, args):
        """--suffix names default outputs; beside --out it was dropped in silence."""
        r = invoke(*args, "-o", "o.png", "--suffix", "smooth")
        assert r.exit_code == 0 and "--suffix 'smooth' names the outputs --out does not: o.png is written as given" in r.stderr
        assert "--suffix" not in invoke(*args, "--suffix", "smooth").stderr

    def test_recursive_without_a_folder_says_so_in_a_batch(self, invoke, files):
        Image.new("L", (9, 8), 40).save(files / "b1.png")
        r = invoke("pool", "g.png", "b1.png", "-f", "2", "--out-dir", "out", "--recursive", "--workers", "2")
        assert r.exit_code == 0 and "--recursive: looks into the subfolders of folder inputs; none was given" in r.stderr
        assert "--workers" not in r.stderr  # a batch uses them
        (files / "sub" / "deeper").mkdir(parents=True)
        Image.new("L", (9, 8), 40).save(files / "sub" / "deeper" / "c.png")
        r = invoke("pool", "sub", "-f", "2", "--out-dir", "out2", "--recursive")
        assert r.exit_code == 0 and "--recursive" not in r.stderr

    def test_workers_with_one_volume_in_memory_says_so(self, invoke, tmp_path):
        nib = pytest.importorskip("nibabel")
        nib.save(nib.Nifti1Image(np.ones((6, 7, 8), np.float32), np.eye(4)), str(tmp_path / "v.nii.gz"))
        for args in (["convolve", "v.nii.gz", "-k", "box:3vox"], ["pool", "v.nii.gz", "-f", "2"]):
            r = invoke(*args, "-o", f"o_{args[0]}.nii.gz", "-j", "2")
            assert r.exit_code == 0 and "--workers 2: the processes of a batch or of --scheduler local; one input runs in this process" in r.stderr, r.stderr

    def test_a_volume_fills_by_replicate_unless_told(self, invoke, tmp_path):
        nib = pytest.importorskip("nibabel")
        nib.save(nib.Nifti1Image(np.ones((6, 7, 8), np.float32), np.eye(4)), str(tmp_path / "v.nii.gz"))
        r = invoke("convolve", "v.nii.gz", "-k", "gaussian:1vox", "--pad-value", "4", "-o", "o.nii.gz")
        assert r.exit_code == 0 and "--pad-value 4 is for --pad-mode constant; replicate does not use it" in r.stderr
        r = invoke("convolve", "v.nii.gz", "-k", "gaussian:1vox", "--pad-mode", "constant", "--pad-value", "4", "-o", "p.nii.gz")
        assert r.exit_code == 0 and "does not use it" not in r.stderr


class TestAlphaIsPaddedAndPooled:
    """C1: pad and pool dropped an RGBA or LA image's alpha (a note without -q, nothing with it); they now
    pad and pool it as numpy.pad and PyTorch treat the array's last channel."""

    @pytest.fixture
    def rgba(self, tmp_path):
        rng = np.random.default_rng(5)
        a = rng.integers(0, 256, (9, 11, 4), dtype=np.uint8)
        Image.fromarray(a, "RGBA").save(tmp_path / "rgba.png")
        la = rng.integers(0, 256, (9, 11, 2), dtype=np.uint8)
        Image.fromarray(la, "LA").save(tmp_path / "la.png")
        return tmp_path, a, la

    @pytest.mark.parametrize("args, numpy_args", [
        (["-p", "2"], {}),
        (["-p", "1,2,0,3", "-m", "reflect"], {"mode": "reflect"}),
        (["-p", "1", "--pad-value", "200"], {"constant_values": 200}),
    ])
    def test_pad_is_numpy_pad_of_every_channel(self, invoke, rgba, args, numpy_args):
        folder, a, la = rgba
        widths = [int(v) for v in args[1].split(",")] * (4 if "," not in args[1] else 1)
        pads = ((widths[0], widths[1]), (widths[2], widths[3]), (0, 0))
        for name, array, mode in (("rgba.png", a, "RGBA"), ("la.png", la, "LA")):
            r = invoke("pad", name, *args, "-o", f"o_{name}")
            assert r.exit_code == 0 and "alpha" not in r.stderr, r.stderr
            out = Image.open(folder / f"o_{name}")
            assert out.mode == mode
            np.testing.assert_array_equal(np.asarray(out), np.pad(array, pads, **numpy_args))

    @pytest.mark.parametrize("op, size, stride, padding", [("avg", 2, 2, 0), ("max", 3, 2, 1), ("avg", 3, 1, 1)])
    def test_pool_is_torch_pooling_of_every_channel(self, invoke, rgba, op, size, stride, padding):
        torch = pytest.importorskip("torch")
        folder, a, _ = rgba
        r = invoke("pool", "rgba.png", "--op", op, "-f", size, "-s", stride, "-p", padding, "-o", "o.png")
        assert r.exit_code == 0 and "alpha" not in r.stderr, r.stderr
        t = torch.from_numpy(a.astype(np.float32)).permute(2, 0, 1)[None]
        pooled = (torch.nn.functional.avg_pool2d if op == "avg" else torch.nn.functional.max_pool2d)(t, size, stride, padding)
        want = np.clip(np.rint(pooled[0].permute(1, 2, 0).numpy()), 0, 255).astype(np.uint8)
        out = Image.open(folder / "o.png")
        assert out.mode == "RGBA"
        np.testing.assert_array_equal(np.asarray(out), want)

    def test_the_tiled_path_says_it_drops_the_alpha(self, invoke, rgba):
        # (the in-memory path says so for a .npy output; the tiled one read the RGB samples without a word)
        pytest.importorskip("dask.array")
        pytest.importorskip("tifffile")
        pytest.importorskip("zarr")
        folder, a, _ = rgba
        Image.fromarray(a, "RGBA").save(folder / "rgba.tif")
        r = invoke("pad", "rgba.tif", "-p", "1", "--tiled", "-o", "t.npy")
        assert r.exit_code == 0 and "its alpha channel is dropped" in r.stderr, r.stderr
        np.testing.assert_array_equal(np.load(folder / "t.npy"), np.pad(a[..., :3], ((1, 1), (1, 1), (0, 0))))

    @pytest.mark.parametrize("args, shapes", [
        (["pad", "rgba.png", "-p", "1", "-o", "o.png"], ([9, 11, 4], [11, 13, 4])),
        (["pool", "la.png", "-f", "2", "-o", "o.png"], ([9, 11, 2], [4, 5, 2])),
        (["convolve", "rgba.png", "-k", "box:3", "-o", "o.png"], ([9, 11, 4], [9, 11, 4])),  # carried through
        (["convolve", "rgba.png", "-k", "box:3", "-o", "o.jpg"], ([9, 11, 4], [9, 11, 3])),  # a JPEG drops it
        (["convolve", "rgba.png", "-k", "box:3", "--padding", "valid", "-o", "o.png"], ([9, 11, 4], [7, 9, 3])),
        (["convolve", "rgba.png", "-k", "box:3", "--activation", "relu", "-o", "o.png"], ([9, 11, 4], [9, 11, 4])),  # a layer
    ])
    def test_the_record_counts_the_alpha_in_the_shapes_of_the_files(self, invoke, rgba, args, shapes):
        """The summary line and --json gave an RGBA input and a padded RGBA output as 3 channels, the
        colour channels the operation saw, though the input has 4 and the output written held 4."""
        r = invoke(*args, "--json")
        assert r.exit_code == 0, r.stderr
        record = json.loads(r.stdout)
        assert (record["input_shape"], record["output_shape"]) == shapes
        assert list(np.asarray(Image.open(rgba[0] / args[-1])).shape) == shapes[1]


def test_a_tiff_refusal_does_not_advise_pad_an_option_it_lacks(invoke, files):
    # the README audit: 'pad i64.npy -o x.tif' advised '--rescale clip|abs|minmax', which pad has not
    r = invoke("pad", "i64.npy", "-p", "1", "-o", "x.tif")
    assert r.exit_code == 2 and "write .npy to keep its values" in r.stderr and "--rescale" not in r.stderr, r.stderr
    r = invoke("pool", "i64.npy", "-f", "1", "-o", "x.tif")
    assert r.exit_code == 2 and "--rescale clip|abs|minmax (convolve, pool)" in r.stderr, r.stderr


@pytest.mark.parametrize("out", ["x.png", "x.jpg"])
def test_an_image_refusal_gives_pad_advice_it_can_follow(invoke, files, out):
    """'pad m.csv -p 1 -o x.png' advised 'pass --rescale ... (convolve, pool)', an option pad has not: it now
    names the files that keep the values, and the convolve call that pads into an 8-bit image."""
    np.savetxt(files / "m.csv", np.arange(20.0).reshape(4, 5), delimiter=",")
    r = invoke("pad", "m.csv", "-p", "1", "-m", "reflect", "-o", out)
    assert r.exit_code == 2 and "pass --rescale" not in r.stderr, r.stderr
    assert ("cannot hold the float64 values from a matrix input as they are: write .tif or .npy to keep them "
            "(pad writes its input's values), or pad into an 8-bit image with convolve -k '1x1: 1', the same --padding, "
            "--pad-mode and --pad-value, and --rescale clip|abs|minmax") in r.stderr, r.stderr
    # the advice, followed, pads the matrix into the image
    r = invoke("convolve", "m.csv", "-k", "1x1: 1", "--padding", "1", "-m", "reflect", "--rescale", "clip", "-o", out)
    assert r.exit_code == 0, r.stderr
    padded = np.pad(np.arange(20.0).reshape(4, 5), 1, mode="reflect")
    with Image.open(files / out) as im:
        written = np.asarray(im)
    if out.endswith(".png"):
        np.testing.assert_array_equal(written, padded)
    r = invoke("pool", "m.csv", "-f", "1", "-o", out, "--force")  # pool has --rescale: its advice names it
    assert r.exit_code == 2 and "pass --rescale clip|abs|minmax (convolve, pool)" in r.stderr, r.stderr


def test_the_tiled_record_counts_the_dropped_alpha_as_in_memory(invoke, tmp_path):
    pytest.importorskip("dask.array")
    pytest.importorskip("tifffile")
    pytest.importorskip("zarr")
    Image.fromarray(np.random.default_rng(2).integers(0, 256, (9, 11, 4), dtype=np.uint8), "RGBA").save(tmp_path / "a.tif")
    shapes = []
    for extra in ([], ["--tiled"]):
        r = invoke("pad", "a.tif", "-p", "1", "-o", f"o{len(extra)}.npy", "--json", *extra)
        assert r.exit_code == 0, r.stderr
        record = json.loads(r.stdout)
        shapes.append((record["input_shape"], record["output_shape"]))
    assert shapes[0] == shapes[1] == ([9, 11, 4], [11, 13, 3])


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("paths", ["cold", "jit", "numpy", "default"])
def test_a_negative_zero_fill_keeps_its_sign_as_numpy_pad(dtype, paths):
    # audit 41, item 1: check_fill returned +0.0 for -0.0, so every path wrote +0.0 where numpy.pad writes -0.0
    from kernelcli import api
    from kernelcli._core.policy import Paths

    policy = {"cold": "cold", "jit": Paths(force="jit"), "numpy": Paths(force="numpy"), "default": None}[paths]
    x = np.arange(1, 13, dtype=dtype).reshape(3, 4)
    for image, widths in ((x, 2), (np.stack([x, -x], axis=-1), ((2, 2), (2, 2), (0, 0)))):
        got = api.pad2d(image, 2, value=-0.0, paths=policy)
        assert got.tobytes() == np.pad(image, widths, constant_values=-0.0).tobytes()


def test_a_negative_zero_fill_from_the_command_line(tmp_path):
    x = np.arange(1, 7, dtype=np.float32).reshape(2, 3)
    np.save(tmp_path / "x.npy", x)
    for extra in ([], ["--tiled"]):
        result = run_in_process("pad", "x.npy", "-p", "1", "--pad-value", "-0.0", *extra, "-o", "o.npy", "--force", cwd=tmp_path)
        if "--tiled" in extra and result.returncode == 2 and "dask" in result.stderr:
            continue  # the tiled path's extra is not installed
        assert result.returncode == 0, result.stderr
        assert np.load(tmp_path / "o.npy").tobytes() == np.pad(x, 1, constant_values=-0.0).tobytes()


@pytest.mark.parametrize("lazy", [False, True])
def test_pad2d_refuses_same_and_names_what_it_takes(lazy):
    # audit 41, item 4: pad2d's refusal of 1.5 suggested 'same' and 'valid', which it refuses; and a dask array given
    # p='same' was not padded at all (tile by tile the check was skipped), where a numpy array is refused
    from kernelcli import api
    from kernelcli.errors import UsageError

    x = np.ones((4, 5), np.float32)
    if lazy:
        x = pytest.importorskip("dask.array").from_array(x, chunks=2)
    for p in ("same", "valid"):
        with pytest.raises(UsageError, match="'same' and 'valid' are conv2d's paddings"):
            api.pad2d(x, p)
    for p in (1.5, "1,2,3,4", (1, 2, 3)):
        with pytest.raises(UsageError, match=r"expected an int, \(ph, pw\) or \(top, bottom, left, right\)$"):
            api.pad2d(x, p)
    assert api.pad2d(x, (1, 2)).shape == (6, 9)


class TestPoolVolumeVocabulary:
    """The vocabulary audit (83), finding 5: pool wrote volume PNG previews, axial only (--axis was 'No such
    option'), and its --volume help said every volume is 'filtered' (convolve's words)."""

    @staticmethod
    def _help(command, name):
        """The help of option ``name`` (its line and the lines that continue it)."""
        lines = run_in_process(command, "--help").stdout.splitlines()
        start = next(i for i, line in enumerate(lines) if line.lstrip().startswith(name))
        end = next((i for i in range(start + 1, len(lines)) if lines[i].lstrip().startswith("-")), len(lines))
        return " ".join(line.strip() for line in lines[start:end])

    def test_volume_help_says_pooled(self):
        assert "pooled" in self._help("pool", "--volume") and "filtered" not in self._help("pool", "--volume")
        assert "filtered" in self._help("convolve", "--volume")

    @pytest.mark.parametrize("axis", ["y", "x"])
    def test_axis_picks_the_view_of_a_pooled_preview(self, tmp_path, axis):
        pytest.importorskip("nibabel")
        from conftest import SAMPLES

        volume = str(SAMPLES / "phantom3d.nii.gz")
        assert run_in_process("pool", volume, "-f", "2", "-o", "p.nii.gz", cwd=tmp_path).returncode == 0
        shown = run_in_process("pool", volume, "-f", "2", "-o", "p.png", "--axis", axis, "--json", cwd=tmp_path)
        assert shown.returncode == 0, shown.stderr
        # the same view of the pooled volume as convolve gives of it, written out first
        assert run_in_process("convolve", "p.nii.gz", "-o", "c.png", "--axis", axis, cwd=tmp_path).returncode == 0
        assert run_in_process("pool", volume, "-f", "2", "-o", "z.png", cwd=tmp_path).returncode == 0
        pooled, converted, axial = (np.asarray(Image.open(tmp_path / name)) for name in ("p.png", "c.png", "z.png"))
        assert np.array_equal(pooled, converted) and not np.array_equal(pooled, axial)
        view = {"y": "coronal", "x": "sagittal"}[axis]
        assert any(f"the {view} slice" in n for n in json.loads(shown.stdout)["notes"])

    def test_axis_without_a_preview_says_it_picks_nothing(self, tmp_path):
        pytest.importorskip("nibabel")
        from conftest import SAMPLES

        r = run_in_process("pool", str(SAMPLES / "phantom3d.nii.gz"), "-f", "2", "-o", "p.nii.gz", "--axis", "y", "--json",
                           cwd=tmp_path)
        assert r.returncode == 0 and any("--axis y" in n and ".png" in n for n in json.loads(r.stdout)["notes"]), r.stdout

    def test_axis_on_an_image_is_refused_as_the_other_volume_options(self, files):
        r = run_in_process("pool", "g.png", "-f", "2", "-o", "o.png", "--axis", "y", cwd=files)
        assert r.returncode == 2 and "--axis: only for volume inputs" in r.stderr, r.stderr


def test_a_pooling_is_named_by_what_it_does(invoke, tmp_path):
    # the pooling audit (92): pool -f 2 -s 1 wrote g_maxpool2.png and said "maxpool2", as pool -f 2 (another result)
    # did, where the chain's -k maxpool:2:1 said maxpool2s1; padding, --ceil and --exclude-pad were not named either
    from PIL import Image

    Image.fromarray(np.arange(35 * 47, dtype=np.uint8).reshape(35, 47)).save(tmp_path / "g.png")
    cases = {("-f", "2", "-s", "1"): "maxpool2s1", ("-f", "2"): "maxpool2", ("-f", "2", "-s", "2"): "maxpool2",
             ("-f", "3", "-s", "2", "-p", "1", "--ceil", "--exclude-pad", "--op", "avg"): "avgpool3s2p1_ceil_exclude_pad"}
    for args, label in cases.items():
        r = invoke("pool", "g.png", *args, "--json", "--force")
        assert r.exit_code == 0 and (tmp_path / f"g_{label}.png").is_file(), r.output
        assert json.loads(r.stdout)["operation"] == label
    chain = invoke("convolve", "g.png", "-k", "maxpool:2:1", "-o", "c.png", "--json")
    assert json.loads(chain.stdout)["operation"] == "convolve maxpool2s1"  # (a chain says convolve first)
    assert (tmp_path / "c.png").read_bytes() == (tmp_path / "g_maxpool2s1.png").read_bytes()
