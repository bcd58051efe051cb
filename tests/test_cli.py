"""The CLI end to end: worked examples through `convolve`, `pad`, `pool`; lazy imports; help; errors."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from conftest import CliRunner

from kernelcli.cli import COMMAND_MODULES, app

from conftest import run_cli, run_in_process

EX1 = "7 2 3 3 8\n4 5 3 8 4\n3 3 2 8 4\n2 8 7 2 7\n5 4 4 5 4\n"
EX2 = "105 102 100 97 96\n103 99 103 101 102\n101 98 104 102 100\n99 101 106 104 99\n104 104 104 100 98\n"
EX3 = "10 10 10 0 0 0\n" * 6
EX4 = "3 0 1 2 7 4\n1 5 8 9 3 1\n2 7 2 5 1 3\n0 1 3 1 7 8\n4 2 1 6 2 8\n2 4 5 2 3 9\n"
EX5 = "7,3,5,2\n8,7,1,6\n4,9,3,9\n0,8,4,5\n"


def matrix_of(stdout: str) -> list[list[float]]:
    return [[float(v) for v in line.split()] for line in stdout.strip().splitlines()]


@pytest.fixture
def csv(tmp_path):
    def make(text: str, name: str = "m.csv"):
        p = tmp_path / name
        p.write_text(text)
        return str(p)

    return make


def invoke(*args: str):
    result = CliRunner().invoke(app, list(args))
    return result


class TestWorkedExamplesThroughCli:
    def test_example1(self, csv):
        r = invoke("convolve", csv(EX1), "--kernel", "prewitt_v", "--padding", "valid", "-q")
        assert r.exit_code == 0, r.output
        assert matrix_of(r.stdout) == [[6, -9, -8], [-3, -2, -3], [-3, 0, -2]]

    def test_example2_zero_and_replicate(self, csv):
        r = invoke("convolve", csv(EX2), "--kernel", "sharpen", "--padding", "1", "-q")
        assert matrix_of(r.stdout)[0] == [320, 206, 198, 188, 281]
        assert matrix_of(r.stdout)[4] == [317, 211, 210, 194, 291]
        r = invoke("convolve", csv(EX2), "--kernel", "sharpen", "--padding", "1", "--pad-mode", "replicate", "-q")
        assert matrix_of(r.stdout) == [[110, 104, 98, 91, 89], [107, 89, 111, 101, 111], [104, 85, 111, 101, 97],
                                       [90, 98, 117, 113, 94], [109, 107, 106, 94, 95]]

    def test_example2_padded_matrix(self, csv):
        r = invoke("pad", csv(EX2), "--p", "1", "-q")
        m = matrix_of(r.stdout)
        assert len(m) == 7 and m[0] == [0] * 7 and m[1] == [0, 105, 102, 100, 97, 96, 0]

    def test_example3_both_signs(self, csv):
        r = invoke("convolve", csv(EX3), "--kernel", "prewitt_v", "--padding", "valid", "-q")
        assert matrix_of(r.stdout) == [[0, 30, 30, 0]] * 4
        mirrored = "0 0 0 10 10 10\n" * 6
        r = invoke("convolve", csv(mirrored, "m2.csv"), "--kernel", "prewitt_v", "--padding", "valid", "-q")
        assert matrix_of(r.stdout) == [[0, -30, -30, 0]] * 4

    def test_example4_json(self, csv):
        r = invoke("convolve", csv(EX4), "--kernel", "prewitt_v", "--padding", "valid", "--json", "-q")
        doc = json.loads(r.stdout)
        assert doc["matrix"] == [[-5, -4, 0, 8], [-10, -2, 2, 3], [0, -2, -4, -7], [-3, -2, -3, -16]]
        assert doc["kernel"] == "prewitt_v" and doc["output_shape"] == [4, 4]

    def test_example5_max_pool(self, csv):
        r = invoke("pool", csv(EX5), "--op", "max", "--size", "2", "-q")
        assert matrix_of(r.stdout) == [[8, 6], [9, 9]]


class TestImages:
    def test_image_default_output_name_and_clip_note(self, tmp_path, monkeypatch):
        from PIL import Image

        img = np.zeros((32, 32), np.uint8)
        img[:, 16:] = 200  # brighter on the right: sobel_v (left brighter = positive) is negative there
        Image.fromarray(img).save(tmp_path / "step.png")
        monkeypatch.chdir(tmp_path)
        r = run_in_process("convolve", "step.png", "--kernel", "sobel_v", "--pad-mode", "replicate", cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        assert r.stdout.strip() == "step_sobel_v_replicate.png"  # (what differs from the defaults is named: audit 93 F5)
        assert "--rescale abs" in r.stderr
        out = np.asarray(Image.open(tmp_path / "step_sobel_v_replicate.png"))
        assert out.max() == 0  # every response is negative and clipped
        r = run_in_process("convolve", "step.png", "--kernel", "sobel_v", "--pad-mode", "replicate", "--rescale", "abs", "--out", "abs.png", cwd=tmp_path)
        assert np.asarray(Image.open(tmp_path / "abs.png")).max() == 255

    def test_existing_output_refused_without_force(self, tmp_path):
        from PIL import Image

        Image.fromarray(np.zeros((8, 8), np.uint8)).save(tmp_path / "a.png")
        (tmp_path / "b.png").write_bytes(b"keep")
        r = run_in_process("convolve", "a.png", "--kernel", "box_3x3", "--out", "b.png", cwd=tmp_path)
        assert r.returncode == 4 and "already exists" in r.stderr and "Traceback" not in r.stderr
        assert (tmp_path / "b.png").read_bytes() == b"keep"
        assert run_in_process("convolve", "a.png", "--kernel", "box_3x3", "--out", "b.png", "--force", cwd=tmp_path).returncode == 0

    def test_output_equal_to_input_refused(self, tmp_path):
        from PIL import Image

        Image.fromarray(np.zeros((8, 8), np.uint8)).save(tmp_path / "a.png")
        before = (tmp_path / "a.png").read_bytes()
        r = run_in_process("convolve", "a.png", "--kernel", "box_3x3", "--out", "a.png", "--force", cwd=tmp_path)
        assert r.returncode == 4 and "overwrite the input" in r.stderr
        assert (tmp_path / "a.png").read_bytes() == before

    def test_sixteen_bit_stays_sixteen_bit(self, tmp_path):
        from PIL import Image

        x = (np.arange(64 * 64).reshape(64, 64) * 15).astype(np.uint16)
        Image.fromarray(x).save(tmp_path / "ct.png")
        r = run_in_process("convolve", "ct.png", "--kernel", "identity", "--out", "o.png", cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        back = np.asarray(Image.open(tmp_path / "o.png"))
        assert back.dtype == np.uint16 and (back == x).all()

    def test_npy_holds_raw_floats(self, tmp_path):
        from PIL import Image

        x = np.zeros((10, 10), np.uint8)
        x[:, :5] = 100
        Image.fromarray(x).save(tmp_path / "s.png")
        r = run_in_process("convolve", "s.png", "--kernel", "prewitt_v", "--padding", "valid", "--out", "o.npy", cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        out = np.load(tmp_path / "o.npy")
        assert out.dtype == np.float32 and out.min() == 0 and out.max() == 300


class TestErrorsThroughCli:
    @pytest.mark.parametrize("args,code,words", [
        (["convolve", "missing.csv", "--kernel", "sobel_v"], 2, "missing.csv: no such file"),
        (["convolve", "{csv}", "--kernel", "no_such_kernel"], 3, "no_such_kernel"),
        (["convolve", "{csv}", "--kernel", "sobel_v", "--stride", "0"], 2, "stride"),
        (["convolve", "{csv}", "--kernel", "box_5x5", "--padding", "valid"], 2, "input 4x4 and kernel 5x5"),
        (["convolve", "{csv}", "--kernel", "sobel_v", "--pad-mode", "bogus"], 2, "invalid pad mode"),
        (["pool", "{csv}", "--size", "9"], 2, "larger than the padded input"),
    ])
    def test_clear_one_line_errors(self, csv, args, code, words):
        path = csv(EX5)
        r = run_in_process(*[a.replace("{csv}", path) for a in args])
        assert r.returncode == code, r.stderr
        assert words in r.stderr
        assert "Traceback" not in r.stderr

    def test_kernel_checked_before_input(self, tmp_path):
        r = run_in_process("convolve", str(tmp_path / "missing.png"), "--kernel", "no_such_kernel")
        assert r.returncode == 3

    def test_internal_error_exit_70_and_debug_traceback(self, csv, monkeypatch):
        import kernelcli.api as api

        def boom(*a, **k):
            raise RuntimeError("boom")

        monkeypatch.setattr(api, "conv2d", boom)
        monkeypatch.setenv("KERNELCLI_DEBUG", "0")  # --debug sets it below; teardown restores "0"
        r = CliRunner().invoke(app, ["convolve", csv(EX1), "--kernel", "sobel_v"])
        assert r.exit_code == 70 and "report" in r.stderr
        r = CliRunner().invoke(app, ["--debug", "convolve", csv(EX1), "--kernel", "sobel_v"])
        assert r.exit_code == 70 and "Traceback" in r.stderr and "RuntimeError: boom" in r.stderr


class TestStartup:
    @pytest.mark.parametrize("code", [
        "import kernelcli",
        "from kernelcli.cli import app\nimport sys\nsys.argv=['kernelcli','--help']\ntry:\n    app()\nexcept SystemExit:\n    pass",
    ])
    def test_no_numpy_or_numba(self, code):
        probe = code + "\nimport sys\nprint(sorted(m for m in ('numpy', 'numba', 'scipy') if m in sys.modules))"
        out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
        assert out.strip().splitlines()[-1] == "[]"

    def test_tiny_matrix_does_not_load_numba(self, csv):
        probe = (
            "import sys\nfrom kernelcli.cli import app\n"
            f"sys.argv=['kernelcli','convolve',{csv(EX1)!r},'--kernel','sobel_v','-q']\n"
            "try:\n    app()\nexcept SystemExit:\n    pass\n"
            "print('numba' in sys.modules)"
        )
        out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
        assert out.strip().splitlines()[-1] == "False"


class TestHelp:
    @pytest.mark.parametrize("command", [*COMMAND_MODULES, "kernels show"])
    def test_every_command_has_help_with_an_example(self, command):
        r = invoke(*command.split(), "--help")
        assert r.exit_code == 0
        # The usage line always names the command: look for an example after "Example".
        assert "Example" in r.stdout, r.stdout
        examples = r.stdout.split("Example", 1)[1]
        assert f"kernelcli {command} " in examples, examples

    def test_python_dash_m(self):
        r = run_cli("--version")
        assert r.returncode == 0 and r.stdout.startswith("kernelcli ")


class TestVolumesThroughConvolve:
    def test_nifti_gaussian_in_mm_keeps_the_affine(self, tmp_path):
        nib = pytest.importorskip("nibabel")
        from conftest import SAMPLES

        r = run_in_process("convolve", str(SAMPLES / "phantom3d.nii.gz"), "--kernel", "gaussian:1.5mm", "--out", "smooth.nii.gz", cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        src, out = nib.load(SAMPLES / "phantom3d.nii.gz"), nib.load(tmp_path / "smooth.nii.gz")
        np.testing.assert_array_equal(src.affine, out.affine)
        assert out.shape == src.shape and out.get_data_dtype() == np.float32

    def test_volume_refuses_image_only_options(self, tmp_path):
        pytest.importorskip("nibabel")
        from conftest import SAMPLES

        r = run_in_process("convolve", str(SAMPLES / "phantom3d.nii.gz"), "--kernel", "gaussian:1.5mm", "--montage", "m.png", "--out", "o.nii.gz", cwd=tmp_path)
        assert r.returncode == 2 and "--montage" in r.stderr and "Traceback" not in r.stderr
        assert not (tmp_path / "o.nii.gz").exists()


class TestSingleInputNaming:
    """One input: the default name, --suffix, --format and --report, as for pad and pool."""

    def test_gif_default_output_is_png(self, tmp_path, monkeypatch):
        from PIL import Image

        Image.fromarray(np.full((8, 8), 50, np.uint8)).save(tmp_path / "cine.gif")
        monkeypatch.chdir(tmp_path)
        for args, name in ((["convolve", "cine.gif", "-k", "box_3x3"], "cine_box_3x3.png"),
                           (["pool", "cine.gif", "--size", "2"], "cine_maxpool2.png"),
                           (["pad", "cine.gif", "--p", "1"], "cine_pad_p1.png")):
            r = invoke(*args, "-q")
            assert r.exit_code == 0, r.output
            assert r.stdout == ""  # -q: the file is the answer
            r = invoke(*args, "--force")
            assert r.exit_code == 0 and r.stdout.strip() == name
            with Image.open(tmp_path / name) as im:
                assert im.format == "PNG"

    def test_convolve_honours_suffix_format_and_report(self, tmp_path, monkeypatch):
        from PIL import Image

        x = np.zeros((8, 8), np.uint8)
        x[:, 4:] = 100
        Image.fromarray(x).save(tmp_path / "s.png")
        monkeypatch.chdir(tmp_path)
        r = invoke("convolve", "s.png", "-k", "prewitt_v", "--suffix", "edges", "--format", "npy", "--report", "r.json", "-q")
        assert (r.exit_code, r.stdout) == (0, ""), r.output
        assert np.load(tmp_path / "s_edges.npy").min() == -300
        doc = json.loads((tmp_path / "r.json").read_text())
        assert [(i["output"], i["status"]) for i in doc["items"]] == [("s_edges.npy", "ok")]
        r = invoke("convolve", "s.png", "-k", "sobel_v", "-k", "sobel_h", "--report", "s_sobel_v_sobel_h.npy", "-q")
        assert r.exit_code == 4 and "also the output" in r.stderr
        assert sorted(p.name for p in tmp_path.iterdir()) == ["r.json", "s.png", "s_edges.npy"]
