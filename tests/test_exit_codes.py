"""Issue 16 items 7-9, 11-13: the right exit code and a one-line message for every bad input."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from PIL import Image

from conftest import REPO, run_in_process


def one_error(result, code: int, *words: str) -> str:
    """Failed with ``code``, one error line (no traceback) naming every word."""
    assert result.exit_code == code, (result.exit_code, result.output)
    err = result.stderr
    assert "Traceback" not in err, err
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, err
    for word in words:
        assert word in lines[0], (word, lines[0])
    return lines[0]


@pytest.fixture
def grey(tmp_path):
    path = tmp_path / "g.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (16, 16), dtype=np.uint8)).save(path)
    return path


class TestInternalErrorMessage:
    def test_points_at_a_section_that_exists(self):
        from kernelcli.cli._common import internal_error_message

        message = internal_error_message(ZeroDivisionError("x"))
        section = re.search(r'"([^"]+)" section', message).group(1)
        assert f"### {section}" in (REPO / "README.md").read_text()
        assert "--debug" in message and "http" not in message


@pytest.fixture
def folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (32, 32), dtype=np.uint8)).save(tmp_path / "g.png")
    Image.fromarray(rng.integers(0, 65535, (32, 32), dtype=np.uint16)).save(tmp_path / "g16.png")
    np.save(tmp_path / "t.npy", rng.random((32, 32)))
    return tmp_path


def no_outputs(folder) -> None:
    assert sorted(p.name for p in folder.iterdir()) == ["g.png", "g16.png", "t.npy"]


class TestItem7HugeValues:
    @pytest.mark.parametrize(
        "args, code, words",
        [
            (["convolve", "g.png", "-k", "gaussian:1e308"], 3, ["at most 42.33"]),
            (["convolve", "g.png", "-k", "gaussian:1e200"], 3, ["larger than 255"]),
            (["convolve", "g.png", "-k", "box:3", "--padding", "1000000"], 2, ["g.png", "would need about"]),
            (["pad", "g.png", "--p", "1000000"], 2, ["g.png", "would need about"]),
            (["convolve", "g.png", "-k", "box:3", "--padding", "18446744073709551616"], 2, ["would need about"]),
            (["convolve", "g.png", "-k", "box:3", "--dilation", "9223372036854775808"], 2, ["would need about"]),
            (["pool", "g.png", "--size", "2", "--padding", "100000000000"], 2, []),
            (["convolve", "g.png", "-k", "box:3", "--then", "box:3", "--padding", "1000000"], 2, ["g.png", "would need about"]),
            (["learn", "g.png", "t.npy", "--size", "1000000"], 2, ["at most 255"]),
            (["learn", "g.png", "t.npy", "--size", "3", "--dilation", "100000"], 2, ["would need about"]),
            (["pad", "g.png", "--p", "1", "--value", "-1"], 2, ["--pad-value -1", "0 to 255"]),
            (["pad", "g.png", "--p", "1", "--value", "300"], 2, ["--pad-value 300", "0 to 255"]),
            (["pad", "g16.png", "--p", "1", "--value", "70000"], 2, ["0 to 65535"]),
        ],
    )
    def test_exit_code_not_70(self, folder, invoke, args, code, words):
        one_error(invoke(*args, "--out", "o.png") if args[0] != "learn" else invoke(*args), code, *words)
        no_outputs(folder)

    def test_gaussian_limit_is_said_not_a_200_digit_size(self, folder, invoke):
        line = one_error(invoke("convolve", "g.png", "-k", "gaussian:1e200", "--out", "o.png"), 3)
        assert len(line) < 200 and not re.search(r"\d{20}", line)


class TestHugeMillimetres:
    @pytest.mark.parametrize("sigma", ["1e30", "1e308"])
    def test_says_the_limit(self, tmp_path, invoke, sigma):
        nib = pytest.importorskip("nibabel")
        nib.save(nib.Nifti1Image(np.ones((6, 6, 6), np.float32), np.eye(4)), tmp_path / "v.nii.gz")
        line = one_error(invoke("convolve", "v.nii.gz", "-k", f"gaussian:{sigma}mm", "--out", "o.nii.gz"), 3, "at most")
        assert not re.search(r"\d{20}", line)


class TestMemoryErrorIsNotABug:
    def test_exit_2_without_traceback(self, folder, invoke, monkeypatch):
        import kernelcli.api as api

        def boom(*args, **kwargs):
            raise MemoryError()

        monkeypatch.setattr(api, "pad2d", boom)
        one_error(invoke("pad", "g.png", "--p", "1", "--out", "o.png"), 2, "not enough memory")
        no_outputs(folder)


class TestItem8NonFinite:
    @pytest.mark.parametrize("value", ["nan", "inf", "1e400", "-inf"])
    def test_pad_value_refused(self, folder, value):
        # (refused as the option is read: the one-line error of the command line, as `kernelcli` prints it)
        r = run_in_process("convolve", "g.png", "-k", "box:3", "--pad-value", value, "--out", "o.png", cwd=folder)
        assert r.returncode == 2 and r.stderr.count("\n") == 1, r.stderr
        assert r.stderr.startswith("error: ") and f"'{value}': expected a finite number" in r.stderr, r.stderr
        no_outputs(folder)

    @pytest.mark.parametrize("out", ["o.png", "o.npy", "o.csv"])
    def test_overflowing_kernel_refused(self, folder, invoke, out):
        # refused before any work: the kernel is beyond the float32 the image is computed in (it was "overflows" after it)
        one_error(invoke("convolve", "g.png", "-k", "[[1e39]]", "--out", out, "--rescale", "clip"), 2, "g.png",
                  "beyond float32's range", "float64 .npy input")
        no_outputs(folder)

    def test_scale_overflow_refused_and_no_runtime_warning(self, folder, invoke):
        (folder / "k.json").write_text(json.dumps({"name": "tiny", "matrix": [[1, 2], [3, 4]], "scale": 1e-300}))
        r = invoke("convolve", "g.png", "-k", "./k.json", "--out", "o.png")
        assert r.exit_code in (2, 3) and "RuntimeWarning" not in r.stderr and "site-packages" not in r.stderr
        assert not (folder / "o.png").exists()

    def test_overflowing_volume_refused(self, tmp_path, invoke):
        nib = pytest.importorskip("nibabel")
        nib.save(nib.Nifti1Image(np.ones((6, 6, 6), np.float32), np.eye(4)), tmp_path / "v.nii.gz")
        one_error(invoke("convolve", "v.nii.gz", "-k", "[[1e39]]", "--out", "o.nii.gz"), 2, "v.nii.gz", "beyond float32's range")
        assert not (tmp_path / "o.nii.gz").exists()

    def test_json_is_always_valid(self):
        from kernelcli.cli._json_text import json_text

        text = json_text({"a": [float("nan"), float("inf"), 1.5]})
        assert json.loads(text) == {"a": [None, None, 1.5]}


class TestItem11BatchErrorsNameTheirFile:
    def test_pool_too_big_for_a_tiny_input(self, tmp_path, invoke):
        (tmp_path / "in").mkdir()
        Image.fromarray(np.zeros((1, 1), np.uint8)).save(tmp_path / "in" / "tiny.png")
        Image.fromarray(np.zeros((4, 4), np.uint8)).save(tmp_path / "in" / "fine.png")
        r = invoke("pool", "in", "--size", "2", "--out-dir", "out", "--json", "-j", "1")
        assert r.exit_code == 1
        doc = json.loads(r.stdout)
        failed = [i for i in doc["items"] if i["status"] == "failed"]
        assert len(failed) == 1 and "tiny.png" in failed[0]["error"] and failed[0]["code"] == 2
        assert [line for line in r.stderr.splitlines() if line.startswith("error:")][0].startswith("error: in/tiny.png")


def _nested(depth: int) -> str:
    text = '{"type": "dropout"}'
    for _ in range(depth):
        text = '{"type": "sequence", "layers": [' + text + "]}"
    return '{"input": [1, 8, 8], "layers": [' + text + "]}"


def _template_tree(levels: int) -> dict:
    templates = {"t0": {"layer": {"type": "dropout"}}}
    for i in range(1, levels + 1):
        templates[f"t{i}"] = {"layers": [{"use": f"t{i - 1}"}, {"use": f"t{i - 1}"}]}
    return {"input": [1, 8, 8], "templates": templates, "layers": [{"use": f"t{levels}"}]}


def _doubling(levels: int) -> dict:
    templates = {"s0": {"params": {"s": "ab"}, "layer": {"type": "dropout", "name": "$s"}}}
    for i in range(1, levels + 1):
        templates[f"s{i}"] = {"params": {"s": None}, "layers": [{"use": f"s{i - 1}", "with": {"s": "${s}${s}"}}]}
    return {"input": [1, 8, 8], "templates": templates, "layers": [{"use": f"s{levels}", "with": {"s": "x"}}]}


class TestItem6SummaryBounded:
    @pytest.mark.parametrize(
        "text, words",
        [
            ('{"input":[1,8,8],"layers":[{"repeat":1000000000,"type":"dropout"}]}', ["layers[0].repeat", "--max-layers"]),
            (json.dumps(_template_tree(30)), ["more than 100000 layers"]),
            (json.dumps(_doubling(40)), ["characters"]),
            (json.dumps({"input": [1, 8, 8], "layers": [{"repeat": 1000, "type": "sequence", "layers": [
                {"repeat": 1000, "type": "sequence", "layers": [{"repeat": 1000, "type": "dropout"}]}]}]}), ["repeat"]),
            (_nested(900), ["nested deeper"]),
            ('{"input":[1,8,8],"layers":[{"type":"conv","filters":' + "9" * 5000 + ',"f":3}]}', ["5000 digits"]),
        ],
        ids=["repeat", "template-tree", "string-doubling", "nested-repeats", "900-deep", "5000-digits"],
    )
    def test_exit_3_naming_the_field(self, tmp_path, invoke, text, words):
        (tmp_path / "net.json").write_text(text)
        one_error(invoke("summary", "net.json"), 3, "net.json", *words)

    def test_the_limit_is_a_flag(self, invoke):
        assert invoke("summary", "resnet18", "--depth", "1", "--max-layers", "10").exit_code == 3
        assert invoke("summary", "resnet18", "--depth", "1", "--max-layers", "1000").exit_code == 0

    @pytest.mark.parametrize("given, words", [
        ("9216", ["--input 9216 does not fit alexnet (its input is 3x224x224)", "conv needs a CxHxW feature map"]),
        ("3x20x20", ["--input 3x20x20 does not fit alexnet", "features.5", "larger than the padded input"]),
    ])
    def test_an_input_the_network_cannot_take_is_a_bad_option_value(self, invoke, given, words):
        # exit 3 (a bad spec) where alexnet is fine: the value of --input is at fault
        one_error(invoke("summary", "alexnet", "--input", given), 2, *words)

    def test_a_spec_that_fails_at_its_own_input_stays_a_bad_spec(self, tmp_path, invoke):
        (tmp_path / "net.json").write_text('{"input":[1,8,8],"layers":[{"type":"conv","filters":1,"f":9}]}')
        one_error(invoke("summary", "net.json", "--input", "1x7x7"), 3, "net.json", "larger than the padded input")
        assert invoke("summary", "net.json", "--input", "1x9x9").exit_code == 0

    def test_a_300_deep_sequence_still_works(self, tmp_path, invoke):
        (tmp_path / "net.json").write_text(_nested(300))
        assert invoke("summary", "net.json", "--json").exit_code == 0


class TestItem12OnePoolPaddingRule:
    @pytest.mark.parametrize("size, pad", [(2, 2), (3, 2), (4, 3)])
    def test_shape_refuses_what_pool_refuses(self, tmp_path, invoke, size, pad):
        Image.fromarray(np.zeros((16, 16), np.uint8)).save(tmp_path / "z.png")
        by_shape = one_error(invoke("shape", "--in", "16", "--f", str(size), "--pool", "--p", str(pad)), 2, "at most")
        by_pool = one_error(invoke("pool", "z.png", "--size", str(size), "--padding", str(pad), "--out", "o.png"), 2, "at most")
        def reason(message: str) -> str:  # (each names its own command's help: 'see kernelcli shape -h' / 'pool -h')
            return message.split("padding", 1)[1].rsplit(" (see 'kernelcli ", 1)[0]

        assert reason(by_shape) == reason(by_pool) and "at most" in reason(by_pool)

    def test_allowed_padding_still_answers(self, invoke):
        r = invoke("shape", "--in", "16", "--f", "2", "--pool", "--p", "1", "-q")
        assert r.exit_code == 0 and r.stdout.strip() == "9"


class TestItem13:
    def test_nibabel_messages_are_notes_with_the_file_name(self, tmp_path, invoke):
        nib = pytest.importorskip("nibabel")
        img = nib.Nifti1Image(np.zeros((4, 4, 4), np.float32), np.eye(4))
        img.header["pixdim"][1:4] = 0
        nib.save(img, tmp_path / "pz.nii")
        r = invoke("volume", "pz.nii", "-k", "box_3d", "--out", "o.nii.gz")
        assert r.exit_code == 0, r.output
        lines = [line for line in r.stderr.splitlines() if "pixdim" in line]
        assert lines and all(line.startswith("note: pz.nii: ") for line in lines)

    def test_report_in_a_read_only_folder_is_refused_while_planning(self, tmp_path, invoke, monkeypatch):
        from kernelcli.io import output_checks

        (tmp_path / "in").mkdir()
        (tmp_path / "ro").mkdir()
        Image.fromarray(np.zeros((4, 4), np.uint8)).save(tmp_path / "in" / "a.png")
        real = output_checks.folder_writable
        monkeypatch.setattr(output_checks, "folder_writable", lambda folder: "ro" not in str(folder) and real(folder))
        import kernelcli.batch_targets as batch_targets  # check_report_path's home

        monkeypatch.setattr(batch_targets, "folder_writable", output_checks.folder_writable)
        r = invoke("pool", "in", "--size", "2", "--out-dir", "out", "--report", "ro/r.json", "-j", "1")
        assert r.exit_code == 1 and "Traceback" not in r.stderr  # as a read-only --out-dir (it was 4: refused to write)
        assert "--report ro/r.json" in r.stderr and "read-only" in r.stderr
        assert not (tmp_path / "out").exists()


def _peak_run(args: list[str], cwd, env_extra: dict) -> tuple[int, str, int]:
    """Run ``kernelcli ARGS`` in a fresh process; return (exit code, stderr, peak RSS in MiB)."""
    import os
    import subprocess
    import sys

    env = dict(os.environ, **env_extra)
    probe = (
        "import resource, subprocess, sys; r = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
        "sys.stderr.write(r.stderr); print(r.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024)"
    )
    done = subprocess.run([sys.executable, "-c", probe, sys.executable, "-m", "kernelcli", *args],
                          cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    code, peak = map(int, done.stdout.split())
    return code, done.stderr, peak


class TestItems4And5MemoryCap:
    """Each case is refused with the estimate before allocating: the measured peak stays far
    below what the operation would need (the cap plus the interpreter's own ~100 MiB)."""

    CAP_MIB = 100

    @pytest.fixture
    def files(self, tmp_path):
        Image.fromarray(np.random.default_rng(0).integers(0, 256, (200, 200), dtype=np.uint8)).save(tmp_path / "good.png")
        np.save(tmp_path / "w.npy", np.ones((200_000, 1, 1, 1), np.float32))
        (tmp_path / "row.csv").write_text(",".join(["1.5"] * 3_000_000) + "\n")
        return tmp_path

    @pytest.mark.parametrize(
        "args",
        [
            ["pad", "good.png", "--p", "5000", "--out", "o.png"],
            ["convolve", "good.png", "-k", "box:3", "--dilation", "5000", "--out", "o.png"],
            ["convolve", "good.png", "--weights", "w.npy", "--out", "o.npy"],
            ["convolve", "row.csv", "-k", "box:3", "--out", "o.npy"],
        ],
        ids=["pad", "dilation", "weights", "csv-row"],
    )
    def test_refused_with_the_estimate(self, files, args):
        code, err, peak = _peak_run(args, files, {"KERNELCLI_MAX_MEMORY": f"{self.CAP_MIB}M"})
        assert code == 2 and "would need about" in err and "KERNELCLI_MAX_MEMORY" in err, err
        assert "Traceback" not in err and not (files / args[-1]).exists()
        assert peak < self.CAP_MIB + 250, peak

    def test_volume_from_the_header_before_decompressing(self, tmp_path):
        nib = pytest.importorskip("nibabel")
        import gzip

        header = nib.Nifti1Header()
        header.set_data_shape((1024, 1024, 400))
        header.set_data_dtype(np.float32)
        header["vox_offset"] = 352
        with gzip.open(tmp_path / "zeros.nii.gz", "wb") as f:  # a small file claiming 1.6 GB of voxels
            f.write(header.binaryblock + b"\0" * 4 + b"\0" * (1 << 20))
        for command in (["convolve", "zeros.nii.gz", "-k", "box_3d", "--out", "o.nii.gz"],
                        ["pool", "zeros.nii.gz", "--size", "2", "--out", "o.nii.gz"]):
            code, err, peak = _peak_run(command, tmp_path, {"KERNELCLI_MAX_MEMORY": "512M"})
            assert code == 2 and "would need about" in err and "1024x1024" in err, err
            assert peak < 400, peak


@pytest.mark.parametrize("args, code, words", [
    (["convolve", "bad.png", "-k", "sobel_v"], 2, "bad.png: cannot decode"),
    (["convolve", "a.png", "-k", "sobel_v", "--stride", "0"], 2, "--stride"),
    (["convolve", "a.png", "-k", "sobel_v", "-o", "a.png"], 4, "would overwrite the input"),
    (["convolve", "a.png", "-k", "nosuch"], 3, "unknown kernel"),
    (["pool", "in", "-r", "--size", "2", "--out-dir", "in/o"], 4, "inside the input"),
    (["shape", "--in", "24", "--f", "50"], 2, "larger than the padded input"),
    (["summary", "nosuch"], 3, "no such spec file"),
    (["kernels", "show", "nosuch"], 3, "unknown kernel"),
])
def test_json_prints_a_record_of_a_failure(tmp_path, args, code, words):
    # stdout was empty: "--json is always valid JSON" held only for calls that got as far as their document
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(tmp_path / "a.png")
    (tmp_path / "in").mkdir()
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(tmp_path / "in" / "b.png")
    (tmp_path / "bad.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    r = run_in_process(*args, "--json", cwd=tmp_path)
    doc = json.loads(r.stdout)
    if "items" in doc:  # a batch refused while planning: its document, as --report writes it (audit 98 #3)
        assert r.returncode == code and doc["totals"]["ok"] == 0 and doc["totals"]["interrupted"] is False, r.stderr
        assert all(item["code"] == code and words in item["error"] for item in doc["items"])
        return
    assert r.returncode == code and (doc["status"], doc["code"]) == ("failed", code) and words in doc["error"], r.stderr
    assert doc["error"] in r.stderr  # the same words as the error line


@pytest.mark.parametrize("out", [["-o", "-"], ["--out=-"]])
def test_a_usage_error_with_out_on_stdout_prints_no_record(tmp_path, out):
    # with --out -, stdout carries the image and a failed run writes nothing there; Click's usage errors
    # (--stride 0) printed a JSON record on it all the same (the chains/pipes audit's F8)
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(tmp_path / "a.png")
    r = run_in_process("convolve", "a.png", "-k", "sobel_v", "--stride", "0", *out, "--format", "png", "--json", cwd=tmp_path)
    assert r.returncode == 2 and r.stdout == "" and "--stride" in r.stderr


@pytest.mark.parametrize("args", [
    ["convolve", "", "-k", "box:3", "-d", "out"],
    ["pad", "", "-p", "1", "-d", "out"],
    ["pool", "g.png", "", "-f", "2", "-d", "out"],
    ["pad", "g.png", "-p", "1", "-d", ""],
    ["learn", "", "t.npy", "-f", "3"],
    ["gallery", ""],
])
def test_an_empty_path_is_refused_not_read_as_the_current_folder(folder, args):
    """`convolve '' -k box:3 -d out` (an unset "$f") ran on every file of the current folder: Path('') is '.'."""
    r = run_in_process(*args)
    assert r.returncode == 2 and "'' is an empty path: expected a file or folder name" in r.stderr, r.stderr
    assert not (folder / "out").exists() and sorted(p.name for p in folder.iterdir()) == ["g.png", "g16.png", "t.npy"]
