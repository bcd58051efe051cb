"""Review 170's refusals in the words of the call that gets them.

#3: the API's choice refusals name the keyword typed (``pad2d(mode=...)`` said "invalid pad mode", ``pool2d(op=...)``
"invalid pool op", ``write_output(rescale=...)`` "invalid rescale mode"), as its range refusals do; the command line
keeps the concept after Click's option.
#4: load_kernel's rotation and text-matrix refusals gave the command line's advice (``--kernel``) to a Python caller,
and ``--then`` or ``kernels show`` got ``--kernel`` advice: the API says load_kernel's way, the command line the option
the spec was given with.
#7: ``--rescale none`` to a .jpg or .bmp of a 16-bit input said "this output is 16-bit": a JPEG or BMP never is.
"""

from __future__ import annotations

import numpy as np
import pytest

from conftest import SAMPLES, run_in_process
from kernelcli.errors import UsageError

PAD_MODES = "expected one of constant, replicate, reflect, symmetric, circular"


class TestChoiceRefusalsNameTheKeyword:
    @pytest.mark.parametrize("call,word", [
        (lambda K, f: K.pad2d(f, 1, mode="bogus"), "mode"),
        (lambda K, f: K.pad2d(f, 1, pad_mode="bogus"), "pad_mode"),
        (lambda K, f: K.conv2d(f, np.ones((3, 3)), pad_mode="bogus"), "pad_mode"),
        (lambda K, f: K.conv_layer(f, np.ones((1, 1, 3, 3)), pad_mode="bogus"), "pad_mode"),
        (lambda K, f: K.conv3d(np.zeros((4, 4, 4)), np.ones((3, 3, 3)), pad_mode="bogus"), "pad_mode"),
        (lambda K, f: K.LearnOptions(size=3, pad_mode="bogus"), "pad_mode"),
        (lambda K, f: K.pool2d(f, 2, op="bogus"), "op"),
        (lambda K, f: K.pool3d(np.zeros((4, 4, 4)), 2, op="bogus"), "op"),
    ], ids=["pad2d-mode", "pad2d-pad_mode", "conv2d", "conv_layer", "conv3d", "LearnOptions", "pool2d", "pool3d"])
    def test_the_api_names_the_keyword_typed(self, call, word):
        import kernelcli as K

        with pytest.raises(UsageError) as info:
            call(K, np.random.default_rng(0).random((8, 8)))
        assert str(info.value).startswith(f"invalid {word} 'bogus': expected one of "), info.value

    def test_write_output_names_rescale(self, tmp_path):
        from kernelcli import write_output

        with pytest.raises(UsageError, match=r"^invalid rescale 'bogus': expected one of clip, abs, minmax, none$"):
            write_output(tmp_path / "w.png", np.zeros((4, 4)), rescale="bogus")
        assert not list(tmp_path.iterdir())

    def test_the_tiled_api_alike(self):
        da = pytest.importorskip("dask.array")
        import kernelcli as K

        x = da.zeros((8, 8), chunks=4)
        for call, word in ((lambda: K.pad2d(x, 1, mode="bogus"), "mode"), (lambda: K.pool2d(x, 2, op="bogus"), "op"),
                           (lambda: K.conv2d(x, np.ones((3, 3)), pad_mode="bogus"), "pad_mode")):
            with pytest.raises(UsageError, match=f"^invalid {word} 'bogus'"):
                call()

    @pytest.mark.parametrize("args,text", [
        (["pad", "p.png", "-p", "1", "-m", "bogus"], "Invalid value for '--pad-mode' / '-m' / '--mode': invalid pad mode 'bogus'"),
        (["pool", "p.png", "-f", "2", "--op", "bogus"], "Invalid value for '--op': invalid pool op 'bogus'"),
        (["convolve", "p.png", "-k", "box:3", "--rescale", "bogus"], "Invalid value for '--rescale': invalid rescale mode 'bogus'"),
    ], ids=["pad", "pool", "rescale"])
    def test_the_command_line_keeps_its_option_and_concept(self, tmp_path, args, text):
        import shutil

        shutil.copy(SAMPLES / "phantom.png", tmp_path / "p.png")
        r = run_in_process(*args, "-o", "o.png", cwd=tmp_path)
        assert r.returncode == 2 and text in r.stderr and "Traceback" not in r.stderr, r.stderr


class TestRescaleNoneToJpegOrBmpOfSixteenBits:
    @pytest.fixture()
    def p16(self, tmp_path):
        import shutil

        shutil.copy(SAMPLES / "phantom16.png", tmp_path / "p16.png")
        return tmp_path

    @pytest.mark.parametrize("suffix", ["jpg", "bmp"])
    def test_the_command_line_tells_the_format_s_own_depth(self, p16, suffix):
        r = run_in_process("pool", "p16.png", "-f", "2", "-o", f"t.{suffix}", "--rescale", "none", cwd=p16)
        assert r.returncode == 2 and r.stderr.rstrip().endswith("this output is 8-bit"), r.stderr
        assert not (p16 / f"t.{suffix}").exists()

    def test_stdout_alike(self, p16):
        r = run_in_process("pool", "-", "-f", "2", "-o", "-", "--format", "jpg", "--rescale", "none",
                           input=(p16 / "p16.png").read_bytes(), cwd=p16)
        assert r.returncode == 2 and r.stderr.rstrip().endswith("this output is 8-bit"), r.stderr

    def test_the_api_alike(self, p16):
        from kernelcli import read_input, write_output

        with pytest.raises(UsageError, match="needs a float output .*; this output is 8-bit$"):
            write_output(p16 / "w.jpg", np.zeros((4, 4)), like=read_input(p16 / "p16.png"), rescale="none")

    def test_a_16_bit_png_is_still_told_16_bit(self, p16):
        r = run_in_process("pool", "p16.png", "-f", "2", "-o", "t.png", "--rescale", "none", cwd=p16)
        assert r.returncode == 2 and r.stderr.rstrip().endswith("this output is 16-bit"), r.stderr


ROTATED = "3x3>: 1 2 3 4 5 6 7 8 9"


class TestKernelAdviceWhereTheSpecWasGiven:
    @pytest.fixture()
    def files(self, tmp_path):
        import shutil

        shutil.copy(SAMPLES / "phantom.png", tmp_path / "p.png")
        (tmp_path / "kt.txt").write_text("1 1\n")
        return tmp_path

    @pytest.mark.parametrize("spec,said", [
        (ROTATED, "load_kernel reads one kernel: load each rotation as its own 'WxH: ...' spec"),
        ("kt.txt", 'goes inline as it is, load_kernel("WxH: " + its text) (W columns, H rows), or save it with numpy.save'),
    ], ids=["rotation", "text-matrix"])
    def test_the_api_says_load_kernel_s_way(self, files, monkeypatch, spec, said):
        from kernelcli import load_kernel
        from kernelcli.errors import InvalidKernel

        monkeypatch.chdir(files)
        with pytest.raises(InvalidKernel) as info:
            load_kernel(spec)
        assert said in str(info.value) and "--kernel" not in str(info.value), info.value

    @pytest.mark.parametrize("option", ["-k", "--then"])
    def test_the_command_line_says_the_option_given(self, files, option):
        word = "--kernel" if option == "-k" else "--then"
        first = ["-k", "box:3"] if option == "--then" else []
        r = run_in_process("convolve", "p.png", *first, option, "kt.txt", "-o", "o.png", cwd=files)
        assert r.returncode == 3 and f'goes inline as it is, {word} "WxH: $(cat kt.txt)"' in r.stderr, r.stderr
        assert r.stderr.startswith(f"error: {word} kt.txt: a kernel file is .json"), r.stderr
        r = run_in_process("convolve", "p.png", *first, option, ROTATED, "-o", "o.png", cwd=files)
        assert r.returncode == 3 and r.stderr.rstrip().endswith(f"give each rotation as its own {word}"), r.stderr
        assert (word == "--kernel") == ("--kernel" in r.stderr), r.stderr

    def test_kernels_show_names_no_option(self, files):
        r = run_in_process("kernels", "show", ROTATED, cwd=files)
        assert r.returncode == 3 and r.stderr.rstrip().endswith("give each rotation as its own kernel"), r.stderr
        r = run_in_process("kernels", "show", "kt.txt", cwd=files)
        assert r.returncode == 3 and 'goes inline as it is, "WxH: $(cat kt.txt)"' in r.stderr, r.stderr
        assert "--kernel" not in r.stderr
