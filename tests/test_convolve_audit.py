"""The convolve options audit of 2026-12-05: messages of the tiled path, notes of multi-map outputs."""

from __future__ import annotations

import json

import numpy as np
import pytest


@pytest.fixture
def layered(tmp_path):
    """An (H, W, 3) array and a 3 x 3 x 3 kernel file (a layer's filter: it sums over the channels)."""
    np.save(tmp_path / "x.npy", np.random.default_rng(0).random((60, 50, 3)).astype(np.float32))
    (tmp_path / "k3.json").write_text(json.dumps({"name": "k3", "matrix": np.ones((3, 3, 3)).tolist()}))
    return tmp_path


def test_a_layer_filter_on_the_tiled_path_is_refused_without_pointing_at_zyx(invoke, layered):
    # "a 3-D kernel needs a (Z, Y, X) volume (--layout zyx)": following it ran a 3-D correlation over 60
    # "slices", exit 0 -- another computation than the channel sum asked for
    pytest.importorskip("dask.array")
    r = invoke("convolve", "x.npy", "-k", "k3.json", "--tiled", "-o", "o.npy")
    assert r.exit_code == 2 and "sums over the channels of an image" in r.stderr and "zyx" not in r.stderr
    assert "leave out --tiled" in r.stderr


def test_an_input_sent_tile_by_tile_for_its_size_says_so(invoke, layered, monkeypatch):
    # "the tiled path takes one --kernel ...; got 2" for a call that never asked for the tiled path
    pytest.importorskip("dask.array")
    monkeypatch.setenv("KERNELCLI_MAX_MEMORY", "100K")
    for args in (["-k", "sobel_v", "-k", "sobel_h"], ["-k", "sobel_v", "--activation", "relu"], ["-k", "k3.json"]):
        r = invoke("convolve", "x.npy", *args, "-o", "o.npy")
        assert r.exit_code == 2 and "would exceed KERNELCLI_MAX_MEMORY: raise KERNELCLI_MAX_MEMORY" in r.stderr, (args, r.stderr)


def test_several_float64_maps_in_a_tiff_say_they_are_float32(invoke, tmp_path):
    # one map said so; the pages of several were float32 without a word
    np.save(tmp_path / "x.npy", np.random.default_rng(1).random((20, 30)))
    doc = json.loads(invoke("convolve", "x.npy", "-k", "gaussian:1", "-k", "sobel_v", "-o", "m.tif", "--json").stdout)
    assert any("float64 result is stored as float32" in n for n in doc["notes"]), doc["notes"]


def test_a_result_within_0_and_1_into_8_bits_is_said_to_keep_only_0_and_1(invoke, tmp_path):
    # --activation sigmoid into a PNG gave a binary image and no note
    from PIL import Image

    Image.fromarray(np.random.default_rng(2).integers(0, 256, (12, 10), dtype=np.uint8)).save(tmp_path / "g.png")
    r = invoke("convolve", "g.png", "-k", "sobel_v", "--activation", "sigmoid", "-o", "s.png")
    assert r.exit_code == 0 and "as uint8 it keeps only the whole numbers 0 to 1; --rescale minmax" in r.stderr, r.stderr
    assert "keeps only" not in invoke("convolve", "g.png", "-k", "sobel_v", "-o", "e.png").stderr
    mask = (np.random.default_rng(3).random((12, 10)) > 0.5).astype(np.uint8)
    Image.fromarray(mask).save(tmp_path / "m.png")  # whole numbers 0 and 1: nothing is lost, nothing said
    assert "keeps only" not in invoke("convolve", "m.png", "-k", "identity", "-o", "mi.png").stderr
    assert "keeps only" not in invoke("convolve", "g.png", "-k", "sobel_v", "--activation", "sigmoid", "-o", "s2.png",
                                      "--rescale", "minmax").stderr


def test_a_rescale_that_does_nothing_is_said(invoke, tmp_path):
    # --rescale minmax into .npy, or into the pages of several maps, wrote the raw values without a word
    np.save(tmp_path / "x.npy", np.random.default_rng(4).random((20, 30)).astype(np.float32))
    r = invoke("convolve", "x.npy", "-k", "sobel_v", "--rescale", "minmax", "-o", "o.npy")
    assert r.exit_code == 0 and "--rescale minmax is for image outputs; a .npy holds the raw result" in r.stderr
    assert np.load(tmp_path / "o.npy").min() < 0  # raw, as documented
    r = invoke("convolve", "x.npy", "-k", "sobel_v", "-k", "sobel_h", "--rescale", "abs", "-o", "m.tif")
    assert r.exit_code == 0 and "--rescale abs is for one map in an image" in r.stderr
    assert "--rescale" not in invoke("convolve", "x.npy", "-k", "sobel_v", "-o", "p.npy").stderr


class TestEncodingOptionsGivenWhereUnused:
    """--quality and --compress given for an output that does not use them: a note (images, arrays, tiled
    outputs), or refused with the other image options (volumes). They were passed over in silence."""

    @pytest.fixture
    def picture(self, tmp_path):
        from PIL import Image

        Image.fromarray((np.random.default_rng(2).random((24, 32)) * 255).astype(np.uint8)).save(tmp_path / "g.png")
        return tmp_path

    @pytest.mark.parametrize("args, said", [
        (["-o", "a.png", "--quality", "80"], ["--quality 80 is for JPEG outputs; a PNG output does not use it"]),
        (["-o", "a.jpg", "--compress", "best"], ["--compress best is for PNG outputs; a JPEG output does not use it"]),
        (["-o", "a.npy", "--quality", "5", "--compress", "none"], ["--quality 5 is for JPEG", "--compress none is for PNG"]),
        (["-o", "a.jpg", "--quality", "80"], []),
        (["-o", "a.png", "--compress", "best"], []),
        (["-o", "a.png"], []),
    ])
    def test_convolve(self, invoke, picture, args, said):
        r = invoke("convolve", "g.png", "-k", "sobel_v", *args)
        assert r.exit_code == 0, r.stderr
        notes = [line for line in r.stderr.splitlines() if "--quality" in line or "--compress" in line]
        assert len(notes) == len(said) and all(any(s in n for n in notes) for s in said), r.stderr

    def test_a_value_used_by_the_montage_is_not_noted(self, invoke, picture):
        both = ["-k", "sobel_v", "-k", "sobel_h", "-o", "m.npy", "--quality", "7"]
        assert "--quality" not in invoke("convolve", "g.png", *both, "--montage", "s.jpg").stderr
        assert "--quality 7 is for JPEG outputs; the NPY and PNG outputs do not use it" in invoke(
            "convolve", "g.png", *both, "--montage", "s.png", "--force").stderr

    @pytest.mark.parametrize("command", [["pad", "-p", "2"], ["pool", "--op", "max", "-f", "2"], ["gallery"]])
    def test_other_commands(self, invoke, picture, command):
        r = invoke(command[0], "g.png", *command[1:], "-o", "o.png", "--quality", "9")
        assert r.exit_code == 0 and "--quality 9 is for JPEG outputs; a PNG output does not use it" in r.stderr, r.stderr

    def test_a_batch_says_it_once(self, invoke, picture):
        (picture / "in").mkdir()
        for name in ("a.png", "b.png"):
            (picture / "in" / name).write_bytes((picture / "g.png").read_bytes())
        r = invoke("convolve", "in", "--out-dir", "out", "-k", "sobel_v", "--format", "tif", "--quality", "5")
        notes = [line for line in r.stderr.splitlines() if "--quality" in line]
        assert r.exit_code == 0 and len(notes) == 1 and "(and 1 more file like it" in notes[0], r.stderr

    def test_tiled_outputs(self, invoke, tmp_path):
        pytest.importorskip("dask.array")
        np.save(tmp_path / "x.npy", np.random.default_rng(3).random((40, 30)).astype(np.float32))
        r = invoke("convolve", "x.npy", "-k", "sobel_v", "--tiled", "-o", "t.npy", "--compress", "best", "--rescale", "minmax")
        assert r.exit_code == 0, r.stderr
        assert "--compress best is for PNG outputs; a NPY output does not use it" in r.stderr
        assert "t.npy: --rescale minmax is for image outputs; a .npy holds the raw result" in r.stderr
        r = invoke("pool", "x.npy", "--op", "avg", "-f", "2", "--tiled", "-o", "p.npy", "--quality", "3")
        assert r.exit_code == 0 and "--quality 3 is for JPEG outputs" in r.stderr, r.stderr

    def test_volumes_refuse_them_with_the_other_image_options(self, invoke, tmp_path):
        nib = pytest.importorskip("nibabel")
        nib.save(nib.Nifti1Image(np.random.default_rng(4).random((8, 9, 10)).astype(np.float32), np.eye(4)),
                 str(tmp_path / "v.nii.gz"))
        for args in (["convolve", "v.nii.gz", "-k", "gaussian:1vox", "--quality", "3"],
                     ["pool", "v.nii.gz", "-f", "2", "--op", "avg", "--rescale", "minmax"],
                     ["pool", "v.nii.gz", "-f", "2", "--op", "avg", "--max-pixels", "9", "--compress", "best"]):
            r = invoke(*args, "-o", "o.nii.gz")
            assert r.exit_code == 2 and "not supported for volumes (NIfTI, DICOM)" in r.stderr, (args, r.stderr)
            assert not (tmp_path / "o.nii.gz").exists()
        assert "--max-pixels, --compress not supported" in r.stderr
        (tmp_path / "mix").mkdir()
        (tmp_path / "v.nii.gz").rename(tmp_path / "mix" / "v.nii.gz")
        np.save(tmp_path / "mix" / "x.npy", np.ones((6, 6), np.float32))
        r = invoke("pool", "mix", "--out-dir", "out", "-f", "2", "--op", "avg", "--rescale", "minmax")
        assert r.exit_code == 1 and "v.nii.gz: --rescale not supported for volumes" in r.stderr, r.stderr
        assert (tmp_path / "out" / "x_avgpool2.npy").exists()  # the array beside it is pooled


def test_rescale_on_a_csv_output_says_it_holds_the_raw_result(invoke, tmp_path):
    # a .npy output said so; a .csv one, which holds the raw result too, said nothing (the chains/pipes audit's F5)
    np.savetxt(tmp_path / "m.csv", np.arange(20.0).reshape(4, 5) - 10, delimiter=",")
    r = invoke("convolve", "m.csv", "-k", "sobel_v", "--rescale", "abs", "-o", "o.csv")
    assert r.exit_code == 0 and "o.csv: --rescale abs is for image outputs; a .csv holds the raw result" in r.stderr
    assert (np.loadtxt(tmp_path / "o.csv", delimiter=",") < 0).any()  # the raw result, negative values kept
    r = invoke("convolve", "m.csv", "-k", "sobel_v", "--rescale", "abs")  # the matrix on stdout (the review)
    assert r.exit_code == 0 and "--rescale abs is for image outputs; a matrix printed on stdout is the raw result" in r.stderr


def test_tanh_into_8_bits_keeps_0_and_1_not_minus_1(invoke, tmp_path):
    # image audit F2: 'as uint8 it keeps only the whole numbers -1 to 1', where uint8 holds no -1 (0 and 1 are written)
    from PIL import Image

    Image.fromarray(np.random.default_rng(2).integers(0, 256, (12, 10), dtype=np.uint8)).save(tmp_path / "g.png")
    r = invoke("convolve", "g.png", "-k", "sobel_v", "--bias", "-10.5", "--activation", "tanh", "--rescale", "clip", "-o", "t.png")
    assert r.exit_code == 0 and "as uint8 it keeps only the whole numbers 0 to 1;" in r.stderr, r.stderr


class TestVolumeRefusalsSayWhatToDo:
    """The vocabulary audit (83), finding 4: a volume given --rescale, --quality, --compress or --max-pixels was sent
    to `kernelcli volume --help` (from pool too), a help that offers them with their image meaning."""

    @staticmethod
    def _options(command):
        from typer.main import get_command

        from kernelcli.cli import app

        built = get_command(app).commands[command]
        return {name for param in built.params for name in (*param.opts, *param.secondary_opts)}

    @pytest.mark.parametrize(("command", "given"), [
        ("volume", ["-k", "box_3d", "--rescale", "abs"]), ("convolve", ["-k", "box_3d", "--rescale", "abs"]),
        ("pool", ["-f", "2", "--rescale", "minmax"]), ("pool", ["-f", "2", "--max-pixels", "100"]),
        ("volume", ["-k", "box_3d", "--quality", "50", "--compress", "best"]), ("convolve", ["-k", "box_3d", "--max-pixels", "9"]),
    ])
    def test_the_refusal_names_the_command_run_and_what_to_do(self, invoke, tmp_path, command, given):
        nib = pytest.importorskip("nibabel")
        nib.save(nib.Nifti1Image(np.random.default_rng(4).random((8, 9, 10)).astype(np.float32), np.eye(4)), str(tmp_path / "v.nii.gz"))
        r = invoke(command, "v.nii.gz", *given, "-o", "o.nii.gz")
        refused = [word for word in given if word.startswith("--")]
        assert r.exit_code == 2 and f"`kernelcli {command}`" in r.stderr and "drop " in r.stderr, r.stderr
        assert all(name in r.stderr for name in refused) and "--help" not in r.stderr, r.stderr
        import re

        advised = set(re.findall(r"--[a-z][a-z-]+", r.stderr)) - set(refused)
        assert advised <= self._options(command), advised - self._options(command)  # no option the command has not
        if "--rescale" in refused:
            assert "--window" in advised and ("--keep-dtype" in advised) == ("--keep-dtype" in self._options(command))
        assert not (tmp_path / "o.nii.gz").exists()

    def test_a_batch_names_the_command_run(self, invoke, tmp_path):
        nib = pytest.importorskip("nibabel")
        nib.save(nib.Nifti1Image(np.ones((4, 6, 6), np.float32), np.eye(4)), str(tmp_path / "v.nii.gz"))
        r = invoke("pool", "v.nii.gz", "v.nii.gz", "-d", "out", "-f", "2", "--rescale", "minmax")
        # (refused once, exit 2, since audit 126 #2: no input of the batch takes it; was exit 1, once a file)
        assert r.exit_code == 2 and "`kernelcli pool`" in r.stderr and "volume --help" not in r.stderr, r.stderr

    def test_volume_help_marks_the_image_options(self, invoke):
        volume, convolve = invoke("volume", "--help").stdout, invoke("convolve", "--help").stdout
        from kernelcli.volume_inputs import IMAGE_ONLY_OPTIONS

        for name in ("--rescale", "--quality", "--compress", "--max-pixels"):
            assert "(images; not volumes)" in self._help_of(volume, name), name
            assert "not volumes" not in self._help_of(convolve, name), name  # (convolve's help is for both)
        # (every option a volume refuses since audit 194 #2: the four alone left --then, --stride and nine more unmarked)
        assert " ".join(volume.split()).count("(images; not volumes)") == len(IMAGE_ONLY_OPTIONS)

    @staticmethod
    def _help_of(text, name):
        """The help of option ``name`` in a --help text (its line and the lines that continue it)."""
        lines = text.splitlines()
        start = next(i for i, line in enumerate(lines) if line.lstrip().startswith(name))
        end = next((i for i in range(start + 1, len(lines)) if lines[i].lstrip().startswith("-")), len(lines))
        return " ".join(line.strip() for line in lines[start:end])

    def test_a_plain_call_names_convolve(self, tmp_path):
        # (convolve's plain calls are parsed without typer: no click context names the command)
        from conftest import run_in_process

        nib = pytest.importorskip("nibabel")
        nib.save(nib.Nifti1Image(np.ones((4, 6, 6), np.float32), np.eye(4)), str(tmp_path / "v.nii.gz"))
        r = run_in_process("convolve", "v.nii.gz", "-k", "box_3d", "--quality", "9", "-o", "o.nii.gz", cwd=tmp_path)
        assert r.returncode == 2 and "`kernelcli convolve` takes it for images and arrays; drop it" in r.stderr, r.stderr
