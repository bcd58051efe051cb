"""Records, --json, notes and messages across commands (audit 98): exact extremes for whole-number results, one
wording for a missing file, learn's --json with -o -, -q, notes in kernels' documents, a volume's units and dtype,
one wording for a value outside an option's choices, one meaning of seconds."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from conftest import SAMPLES, documentation, run_in_process

BIG = 2**53 + 1  # the smallest whole number float64 rounds (to 2**53)


def kc(tmp_path, *args, env=None):
    return run_in_process(*map(str, args), cwd=tmp_path, env=env)


class TestWholeNumberExtremes:
    """F1: an int64/uint64 result's minimum and maximum are the result's own values, ints, not rounded through float64."""

    @pytest.fixture
    def files(self, tmp_path):
        np.save(tmp_path / "i64.npy", np.array([[BIG, 2], [3, 4]], np.int64))
        np.save(tmp_path / "u64.npy", np.array([[2**64 - 1, 2], [3, 4]], np.uint64))
        return tmp_path

    @pytest.mark.parametrize("args, low, high, dtype", [
        (("pool", "i64.npy", "-f", "1"), 2, BIG, "int64"),
        (("pad", "i64.npy", "-p", "1"), 0, BIG, "int64"),
        (("pad", "u64.npy", "-p", "1"), 0, 2**64 - 1, "uint64"),
        (("pool", "u64.npy", "-f", "2"), 2**64 - 1, 2**64 - 1, "uint64"),
    ])
    def test_record_and_summary(self, files, args, low, high, dtype):
        r = kc(files, *args, "-o", "o.npy", "--json")
        assert r.returncode == 0, r.stderr
        d = json.loads(r.stdout)
        assert (d["minimum"], d["maximum"], d["dtype"]) == (low, high, dtype)
        assert type(d["minimum"]) is int and type(d["maximum"]) is int
        assert np.load(files / "o.npy").max() == high
        assert f"range [{low}, {high}]" in r.stderr

    def test_tiled(self, files):
        pytest.importorskip("dask")
        r = kc(files, "pool", "i64.npy", "-f", "1", "--chunks", "1", "-o", "o.npy", "--json")
        assert r.returncode == 0, r.stderr
        d = json.loads(r.stdout)
        assert (d["minimum"], d["maximum"]) == (2, BIG) and "tile by tile" in " ".join(d["notes"])

    @pytest.mark.parametrize("args", [("pool", "-f", "2"), ("convolve",)])
    def test_volume(self, files, args):
        nib = pytest.importorskip("nibabel")
        a = np.full((4, 4, 4), 3, np.int64)
        a[0, 0, 0] = BIG
        nib.save(nib.Nifti1Image(a, np.eye(4), dtype=np.int64), files / "v64.nii.gz")
        r = kc(files, args[0], "v64.nii.gz", *args[1:], "-o", "o.nii.gz", "--json")
        assert r.returncode == 0, r.stderr
        d = json.loads(r.stdout)
        assert (d["minimum"], d["maximum"], d["dtype"]) == (3, BIG, "int64")

    def test_batch_record(self, files):
        r = kc(files, "pool", "i64.npy", "u64.npy", "-f", "1", "-d", "od", "--json")
        assert r.returncode == 0, r.stderr
        items = json.loads(r.stdout)["items"]
        assert [i["maximum"] for i in items] == [BIG, 2**64 - 1]

    def test_a_float_result_stays_float(self, tmp_path):
        shutil.copy(SAMPLES / "phantom.png", tmp_path)
        r = kc(tmp_path, "convolve", "phantom.png", "-k", "sobel_v", "-o", "x.png", "--json")
        d = json.loads(r.stdout)
        assert d["dtype"] == "float32" and type(d["minimum"]) is float and type(d["maximum"]) is float

    def test_an_8bit_pad_gives_ints(self, tmp_path):
        shutil.copy(SAMPLES / "phantom.png", tmp_path)
        d = json.loads(kc(tmp_path, "pad", "phantom.png", "-p", "1", "-o", "x.png", "--json").stdout)
        assert d["dtype"] == "uint8" and type(d["minimum"]) is int and type(d["maximum"]) is int


class TestAMissingFileIsNoSuchFile:
    """F8: a missing input is 'X: no such file' (exit 2) in every command, whatever its suffix; an existing
    volume given to pad, gallery or learn is still refused as a volume."""

    @pytest.fixture
    def files(self, tmp_path):
        shutil.copy(SAMPLES / "phantom.png", tmp_path)
        shutil.copy(SAMPLES / "phantom3d.nii.gz", tmp_path)
        return tmp_path

    @pytest.mark.parametrize("args", [
        ("pad", "nosuch.nii.gz", "-p", "1"),
        ("pad", "nosuch.dcm", "-p", "1", "-d", "od"),
        ("gallery", "nosuch.dcm"),
        ("gallery", "nosuch.nii.gz"),
        ("learn", "phantom.png", "nosuch.nii.gz", "-f", "3"),
        ("learn", "nosuch.nii.gz", "phantom.png", "-f", "3"),
        ("convolve", "nosuch.nii.gz", "-k", "sobel_v"),
        ("convolve", "nosuch.png", "-k", "sobel_v"),
        ("convolve", "nosuch.png", "nosuch2.png", "-k", "sobel_v"),
        ("convolve", "nosuch.png", "-k", "gaussian:1mm"),
        ("convolve", "nosuch.npy", "-k", "sobel_v", "--chunks", "4"),
        ("pool", "nosuch.nii.gz", "-f", "2"),
        ("pool", "nosuch.zarr", "-f", "2"),
    ])
    def test_one_wording(self, files, args):
        missing = next(a for a in args if a.startswith("nosuch"))
        r = kc(files, *args)
        assert r.returncode == 2, r.stderr
        assert r.stderr.strip().splitlines()[-1] == f"error: {missing}: no such file"

    @pytest.mark.parametrize("args", [("pad", "phantom3d.nii.gz", "-p", "1"), ("gallery", "phantom3d.nii.gz"),
                                      ("learn", "phantom.png", "phantom3d.nii.gz", "-f", "3")])
    def test_an_existing_volume_is_still_refused(self, files, args):
        r = kc(files, *args)
        assert r.returncode == 2 and "phantom3d.nii.gz: a volume (NIfTI, DICOM or a DICOM series folder)" in r.stderr


class TestLearnJsonWithOutDash:
    """F7: learn never writes its result to stdout, so its refusal of --out - prints the --json failure record,
    as its refusal of '-' as the input does; commands whose stdout carries the result still print nothing."""

    @pytest.fixture
    def files(self, tmp_path):
        shutil.copy(SAMPLES / "example1.csv", tmp_path)
        return tmp_path

    @pytest.mark.parametrize("out", [("-o", "-"), ("--out=-",)])
    def test_learn_prints_the_record(self, files, out):
        r = kc(files, "learn", "example1.csv", "example1.csv", "-f", "3", *out, "--json")
        assert r.returncode == 2
        d = json.loads(r.stdout)
        assert d["status"] == "failed" and d["code"] == 2
        assert d["error"].startswith("--out '-': learn reads and writes files, not stdin or stdout")
        assert d["error"] in r.stderr

    def test_learn_click_error_too(self, files):
        r = kc(files, "learn", "example1.csv", "example1.csv", "-f", "3", "-o", "-", "--json", "--method", "bad")
        assert r.returncode == 2 and json.loads(r.stdout)["code"] == 2

    def test_learn_dash_input_alike(self, files):
        r = kc(files, "learn", "-", "example1.csv", "-f", "3", "--json")
        assert r.returncode == 2 and json.loads(r.stdout)["error"].startswith("input '-': learn reads and writes files")

    @pytest.mark.parametrize("command", [("pool", "-f", "2"), ("pad", "-p", "1"), ("convolve", "-k", "sobel_v")])
    def test_stdout_carrying_commands_print_nothing(self, files, command):
        r = kc(files, command[0], "example1.csv", *command[1:], "-o", "-", "--json")
        assert r.returncode == 2 and r.stdout == ""
        assert "--json prints on stdout, which --out - already carries: drop one of them" in r.stderr


class TestQuietLearnWithOut:
    """F9: the README's -q bullet said a run with -o prints nothing at all; learn prints its answer, the kernel,
    with --out too (its section's design), and the bullet now says so."""

    def test_learn_prints_the_kernel_alone(self, tmp_path):
        shutil.copy(SAMPLES / "example1.csv", tmp_path)
        r = kc(tmp_path, "learn", "example1.csv", "example1.csv", "-f", "3", "-o", "k.json", "-q")
        assert r.returncode == 0 and r.stderr == "" and (tmp_path / "k.json").exists()
        assert [len(line.split()) for line in r.stdout.splitlines()] == [3, 3, 3]

    def test_the_readme_says_so(self):
        readme = " ".join(documentation().split())
        assert "With `-o`/`--out-dir` a successful run prints nothing at all (`kernelcli convolve scan.png -k sobel_v " \
               "-o edges.png -q`), except `learn`, whose answer is the kernel: it prints it with `--out` too" in readme


class TestKernelsNotes:
    """F6: `kernels --family F show NAME -q` printed the unused-family note under -q; `kernels` and `kernels show`
    --json had no `notes` to carry the notes printed, as shape, params and learn have."""

    def test_quiet_holds_the_family_note_back(self, tmp_path):
        r = kc(tmp_path, "kernels", "--family", "edge", "show", "sobel_v", "-q")
        assert r.returncode == 0 and r.stderr == "" and r.stdout.split() == "1 0 -1 2 0 -2 1 0 -1".split()

    def test_the_family_note_without_quiet(self, tmp_path):
        r = kc(tmp_path, "kernels", "--family", "edge", "show", "sobel_v")
        assert "note: --family edge picks the kernels the list shows; `kernels show` does not use it" in r.stderr

    @pytest.mark.parametrize("spec", ["sobel_v", "box_3d"])
    def test_show_json_has_the_note(self, tmp_path, spec):
        d = json.loads(kc(tmp_path, "kernels", "--family", "edge", "show", spec, "--json").stdout)
        assert d["notes"] == ["--family edge picks the kernels the list shows; `kernels show` does not use it"]
        assert list(d)[-1] == "notes"
        assert json.loads(kc(tmp_path, "kernels", "show", spec, "--json").stdout)["notes"] == []

    def test_list_json_has_the_path_note(self, tmp_path):
        r = kc(tmp_path, "kernels", "--json", env={"KERNELCLI_KERNEL_PATH": "nosuchdir"})
        d = json.loads(r.stdout)
        assert list(d) == ["kernels", "notes"] and len(d["notes"]) == 1
        assert d["notes"][0].startswith("KERNELCLI_KERNEL_PATH: nosuchdir (missing) skipped")
        q = kc(tmp_path, "kernels", "--json", "-q", env={"KERNELCLI_KERNEL_PATH": "nosuchdir"})
        assert q.stderr == "" and json.loads(q.stdout)["notes"] == d["notes"]


class TestMinorVocabulary:
    """Audit 98 #11: learn's seconds rounded as every record's (6 decimals); a named 3-D kernel's sum as its factors'
    (box_3d: 1, not 0.9999999999999998); an unknown kernel near a named 3-D one is told it."""

    def test_learn_seconds_rounded(self, tmp_path):
        np.save(tmp_path / "x.npy", np.random.default_rng(0).random((12, 12)))
        r = run_in_process("learn", "x.npy", "x.npy", "-f", "3", "--json", cwd=tmp_path)
        seconds = json.loads(r.stdout)["seconds"]
        assert seconds == round(seconds, 6)

    def test_box_3d_sums_to_one(self, tmp_path):
        r = run_in_process("kernels", "show", "box_3d", cwd=tmp_path)
        assert r.returncode == 0 and "sum 1," in r.stdout.splitlines()[0], r.stdout
        doc = json.loads(run_in_process("kernels", "show", "box_3d", "--json", cwd=tmp_path).stdout)
        assert doc["sum"] == 1.0

    def test_a_3d_name_is_suggested(self, tmp_path):
        r = run_in_process("kernels", "show", "box_3dd", cwd=tmp_path)
        assert r.returncode == 3 and "box_3d" in r.stderr.split("did you mean", 1)[1].split("?")[0], r.stderr
