"""Audit 129's findings: a huge --stride in the convolution layer, NUMBA_NUM_THREADS in digits int() does not read,
the file types a command reads, KERNELCLI_DEBUG=off, and a quiet TAB completion."""

from __future__ import annotations

import io
import json
import tracemalloc

import numpy as np
import pytest
from PIL import Image

from conftest import run_cli, run_in_process

from kernelcli import limits
from kernelcli._core import policy
from kernelcli.layers import conv_layer

#: every path of the layer: plain numpy, the jitted core choosing its loop, and each loop
LAYER_PATHS = ["numpy", "jit", "blocked", "filterwise"]
#: strides whose maps the layer cannot build (before: exit 70); none allocates anything now, nor did before
HUGE_STRIDES = [2**62, 2**63 - 1, 2**63, (1, 2**63 - 1), (2**62, 2)]


@pytest.fixture
def rgb(tmp_path):
    Image.fromarray(np.random.default_rng(129).integers(0, 256, (16, 12, 3), dtype=np.uint8)).save(tmp_path / "rgb.png")
    return tmp_path


def _torch_layer(x, w, stride):
    torch = pytest.importorskip("torch")
    t = torch.nn.functional.conv2d(torch.from_numpy(x).permute(2, 0, 1)[None], torch.from_numpy(w), stride=stride)
    return t[0].permute(1, 2, 0).numpy()


class TestAStrideGivesMapsOfTheWindowsItReads:
    @pytest.mark.parametrize("force", LAYER_PATHS)
    @pytest.mark.parametrize("stride", HUGE_STRIDES)
    def test_a_huge_stride_is_the_first_window_alone_on_every_path(self, force, stride):
        # before: ValueError (array is too big; non-broadcastable (1,1) and (1,0)), exit 70 on the command line
        x = np.random.default_rng(1).standard_normal((9, 7, 3))
        w = np.random.default_rng(2).standard_normal((5, 3, 3, 3))
        got = conv_layer(x, w, stride=stride, paths=policy.Paths(force=force))
        pair = stride if isinstance(stride, tuple) else (stride, stride)
        small = tuple(min(s, n) for s, n in zip(pair, (9, 7)))  # a stride torch can take, with the same windows
        np.testing.assert_allclose(got, _torch_layer(x, w, small), rtol=1e-12, atol=1e-12)
        assert got.tobytes() == conv_layer(x, w, stride=small, paths=policy.Paths(force=force)).tobytes()

    @pytest.mark.parametrize("stride", [1, 2, 3, (2, 5), 6, 7, 100_000])
    def test_every_path_gives_the_same_bytes(self, stride):
        x = np.random.default_rng(3).standard_normal((13, 11, 3)).astype(np.float32)
        w = np.random.default_rng(4).standard_normal((6, 3, 3, 3)).astype(np.float32)
        got = [conv_layer(x, w, stride=stride, padding=1, dilation=(1, 2), paths=policy.Paths(force=f)).tobytes()
               for f in LAYER_PATHS]
        assert len(set(got)) == 1

    @pytest.mark.parametrize("force", ["numpy", "filterwise"])
    def test_what_the_layer_holds_does_not_grow_with_the_stride(self, force):
        # before: a stride of 100000 on a 16x16 input built padded rows of 100000 columns (21 MiB here; 300 MB at 3000000)
        x = np.random.default_rng(5).standard_normal((16, 16, 3))
        w = np.ones((2, 3, 3, 3))
        conv_layer(x, w, stride=100_000, paths=policy.Paths(force=force))  # (compiled, outside the count)
        tracemalloc.start()
        try:
            conv_layer(x, w, stride=100_000, paths=policy.Paths(force=force))
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert peak < 64 * 1024

    @pytest.mark.parametrize("shape, kernel, stride, dilation, padding", [
        ((40, 30, 3), (3, 3), 1, 1, (1, 1, 1, 1)),
        ((40, 30, 3), (3, 3), (2, 27), 1, (0, 0, 0, 0)),  # columns rounded up to whole strides: 27 + 3 -> 54
        ((40, 30, 2), (5, 3), 3, 2, (2, 2, 1, 1)),
        ((40, 30, 3), (3, 3), 2**62, 1, (0, 0, 0, 0)),
    ])
    def test_the_estimate_counts_what_the_numpy_layer_holds(self, shape, kernel, stride, dilation, padding):
        x = np.random.default_rng(6).integers(0, 256, shape).astype(np.uint8)
        w = np.random.default_rng(7).standard_normal((4, shape[2], *kernel)).astype(np.float32)
        tracemalloc.start()
        try:
            conv_layer(x, w, stride=stride, dilation=dilation, padding=padding, paths=policy.Paths(force="numpy"))
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        need = limits.layer_peak(shape, kernel, filters=4, stride=stride, pads=padding, dilation=dilation, itemsize=4,
                                 input_itemsize=1)
        assert peak <= need

    def test_the_estimate_does_not_grow_with_the_stride(self):
        at = lambda s: limits.layer_peak((128, 128, 3), (3, 3), stride=s, itemsize=4, input_itemsize=1)
        assert at(3_000_000) == at(2**63) == at(128) < at(1)


class TestAHugeStrideOnTheCommandLine:
    @pytest.mark.parametrize("stride", ["9223372036854775807", "4611686018427387904", "9223372036854775808"])
    @pytest.mark.parametrize("how", ["--combine sum", "--weights", "3-D kernel"])
    def test_a_huge_stride_gives_the_first_window(self, rgb, stride, how):
        # before: exit 70, "internal error: ValueError: ..."
        w = np.random.default_rng(8).standard_normal((2, 3, 3, 3))
        np.save(rgb / "w.npy", w)
        (rgb / "deep.json").write_text(json.dumps({"name": "deep", "matrix": w[0].tolist()}))
        (rgb / "flat.json").write_text(json.dumps({"name": "flat", "matrix": w[1, 0].tolist()}))
        args, filters = {"--combine sum": (["-k", "flat.json", "--combine", "sum"], np.broadcast_to(w[1:, :1], (1, 3, 3, 3))),
                         "--weights": (["--weights", "w.npy"], w), "3-D kernel": (["-k", "deep.json"], w[:1])}[how]
        done = run_in_process("convolve", "rgb.png", *args, "-p", "valid", "-s", stride, "-o", "huge.npy", cwd=rgb)
        assert done.returncode == 0, done.stderr
        got = np.load(rgb / "huge.npy").reshape(1, 1, -1)
        x = np.asarray(Image.open(rgb / "rgb.png"), dtype=np.float64)
        np.testing.assert_allclose(got, _torch_layer(x, np.ascontiguousarray(filters), 16), rtol=1e-6)
        assert run_in_process("convolve", "rgb.png", *args, "-p", "valid", "-s", "16", "-o", "s16.npy", cwd=rgb).returncode == 0
        assert np.load(rgb / "huge.npy").tobytes() == np.load(rgb / "s16.npy").tobytes()

    def test_the_memory_cap_sees_the_layer(self, rgb):
        big = np.random.default_rng(9).integers(0, 256, (300, 300, 3), dtype=np.uint8)
        Image.fromarray(big).save(rgb / "big.png")
        args = ("convolve", "big.png", "-k", "sobel_v", "--combine", "sum", "-o", "o.npy", "--force")
        # the layer holds about 300*300*3*17 bytes (4.6 MB) of padded rows, which the plain estimate put at 1.1 MB
        done = run_in_process(*args, cwd=rgb, env={"KERNELCLI_MAX_MEMORY": "4M"})
        assert done.returncode == 2 and "would need about" in done.stderr and "Traceback" not in done.stderr
        assert run_in_process(*args, "-s", "3000000", cwd=rgb, env={"KERNELCLI_MAX_MEMORY": "4M"}).returncode == 0


class TestNumbaThreadsReadAsNumbaReadsThem:
    @pytest.mark.parametrize("value", ["²", "٣", "３", " 3 ", "junk", "2.5", ""])
    def test_the_count_is_numbas(self, monkeypatch, value):
        # before: "²" (str.isdigit, but not int) raised ValueError; the CLI said "internal error", exit 70
        import subprocess
        import sys

        from kernelcli._core import threads

        monkeypatch.setenv("NUMBA_NUM_THREADS", value)
        monkeypatch.delitem(sys.modules, "numba", raising=False)  # (the test process has it loaded: count() would ask it)
        got = threads.count()
        asked = subprocess.run([sys.executable, "-W", "ignore", "-c", "import numba; print(numba.config.NUMBA_NUM_THREADS)"],
                               capture_output=True, text=True, env={**__import__("os").environ, "NUMBA_NUM_THREADS": value})
        assert got == max(1, int(asked.stdout))

    def test_a_superscript_digit_on_the_command_line(self, tmp_path):
        Image.fromarray(np.random.default_rng(10).integers(0, 256, (256, 256), dtype=np.uint8)).save(tmp_path / "g.png")
        done = run_cli("convolve", "g.png", "-k", "gaussian:10", "-o", "o.npy", "-q", cwd=tmp_path,  # (the FFT asks the count)
                       env={"NUMBA_NUM_THREADS": "²", "KERNELCLI_WORKER": "off"})
        assert done.returncode == 0 and done.stderr == "", done.stderr


VOLUME_TYPES = "; a volume: .nii.gz, .nii, .dcm, .dicom, .ima, .mgz, .mgh, .nrrd, .nhdr, .mha, .mhd"


class TestAnUnreadTypeIsToldWhatTheCommandReads:
    @pytest.fixture
    def foo(self, rgb):
        (rgb / "x.foo").write_bytes((rgb / "rgb.png").read_bytes())
        np.save(rgb / "w.npy", np.ones((2, 3, 3, 3)))
        return rgb

    @pytest.mark.parametrize("args", [
        ("convolve", "x.foo", "-k", "sobel_v"), ("volume", "x.foo", "-k", "sobel_v"), ("pool", "x.foo", "-f", "2"),
        ("convolve", "x.foo", "-k", "sobel_v", "--combine", "sum"), ("convolve", "x.foo", "--weights", "w.npy"),
        ("convolve", "x.foo", "-k", "sobel_v", "-k", "sobel_h"), ("convolve", "x.foo", "-k", "sobel_v", "--json"),
    ])
    def test_a_command_that_reads_volumes_names_their_types(self, foo, args):
        # before: "expected one of .bmp, ..., .txt" alone, even for volume, the command for volumes
        done = run_in_process(*args, cwd=foo)
        assert done.returncode == 2
        said = json.loads(done.stdout)["error"] if "--json" in args else done.stderr
        assert f"x.foo: unsupported file type '.foo': expected one of .bmp, .csv, .gif, .jpeg, .jpg, .npy, .png, .tif, " \
               f".tiff, .txt{VOLUME_TYPES}" in said, said

    @pytest.mark.parametrize("args", [("pad", "x.foo", "-p", "1"), ("gallery", "x.foo"),
                                      ("convolve", "x.foo", "-k", "sobel_v", "--then", "maxpool:2")])
    def test_a_command_that_reads_no_volume_names_none(self, foo, args):
        done = run_in_process(*args, cwd=foo)
        assert done.returncode == 2 and "unsupported file type '.foo'" in done.stderr and "a volume" not in done.stderr


class TestEverySwitchReadsOffAsOff:
    @pytest.mark.parametrize("value", ["off", "false", "no", "0", "OFF", " No ", "\n", ""])
    def test_kernelcli_debug_off_gives_the_one_line(self, tmp_path, value):
        # before: off, false, no and a stray newline switched debugging on: a traceback above the one-line error
        done = run_in_process("convolve", "nosuch.png", "-k", "sobel_v", cwd=tmp_path, env={"KERNELCLI_DEBUG": value})
        assert done.returncode == 2 and done.stderr == "error: nosuch.png: no such file\n", done.stderr

    @pytest.mark.parametrize("value", ["1", "on", "yes", "TRUE"])
    def test_kernelcli_debug_on_gives_the_traceback(self, tmp_path, value):
        done = run_in_process("convolve", "nosuch.png", "-k", "sobel_v", cwd=tmp_path, env={"KERNELCLI_DEBUG": value})
        assert done.returncode == 2 and "Traceback" in done.stderr

    @pytest.mark.parametrize("value", ["off", "0", "no", "false", " Off\n", "on", "1", "yes", "true", "", "junk"])
    def test_every_switch_reads_a_word_alike(self, monkeypatch, value):
        from kernelcli import switches
        from kernelcli.worker import protocol

        monkeypatch.setenv("KERNELCLI_WORKER", value)
        monkeypatch.setenv("KERNELCLI_DEBUG", value)
        monkeypatch.setenv("KERNELCLI_MEASURE_STARTUP", value)
        word = switches.switch_word(value)
        if word is None and value.strip():
            with pytest.raises(protocol.SwitchError):
                protocol.switch()
        else:
            assert protocol.switch() == ("off" if word is False else "on")
        assert switches.env_switch("KERNELCLI_DEBUG", False) is (word is True)
        assert switches.env_switch("KERNELCLI_MEASURE_STARTUP", True) is (word is not False)

    @pytest.mark.parametrize("name", ["KERNELCLI_DEBUG", "KERNELCLI_MEASURE_STARTUP", "KERNELCLI_WORKER"])
    @pytest.mark.parametrize("typo", ["of", "maybe"])
    def test_a_word_no_switch_takes_is_refused_as_the_call_starts(self, tmp_path, name, typo):
        """Review 51 #2: KERNELCLI_DEBUG=of switched debugging on and KERNELCLI_MEASURE_STARTUP=of kept measuring,
        where KERNELCLI_WORKER=of is refused (exit 2): every switch refuses a word it does not take."""
        done = run_in_process("shape", "--in", "24", "--f", "5", "-q", cwd=tmp_path, env={name: typo})
        assert done.returncode == 2 and done.stdout == ""
        assert done.stderr.startswith(f"error: {name}='{typo}': expected ") and done.stderr.count("\n") == 1, done.stderr


class TestTabCompletionSaysNothingOnStderr:
    @pytest.fixture
    def kernels(self, tmp_path):
        folder = tmp_path / "k"
        folder.mkdir()
        (folder / "nan.json").write_text('{"name": "bad", "matrix": [[NaN]]}')
        (folder / "broken.json").write_text('{"name": "x", "matrix": [[1, 2]')
        (folder / "clash.json").write_text('{"name": "sobel_v", "matrix": [[1]]}')
        (folder / "mine.json").write_text('{"name": "sobel_mine", "matrix": [[1]]}')
        return tmp_path

    @pytest.mark.parametrize("shell", ["complete_bash", "complete_zsh"])
    @pytest.mark.parametrize("words, cword, wanted", [
        ("kernelcli convolve x.png -k sob", "4", "sobel_mine"),
        ("kernelcli kernels show sob", "3", "sobel_h"),
        ("kernelcli gallery x.png --family ed", "4", "edge"),
    ])
    def test_broken_kernel_files_are_not_noted_at_every_tab(self, kernels, shell, words, cword, wanted):
        # before: one line per broken file (and the clash) on stderr, which bash puts on the line being typed
        env = {"KERNELCLI_KERNEL_PATH": f"k{__import__('os').pathsep}/no/such", "_KERNELCLI_COMPLETE": shell,
               "COMP_WORDS": words, "COMP_CWORD": cword, "_TYPER_COMPLETE_ARGS": words}
        done = run_cli(cwd=kernels, env={**env, "KERNELCLI_WORKER": "off"})  # (a fresh process: no call's note handler)
        assert done.returncode == 0 and done.stderr == "" and wanted in done.stdout, (done.stdout, done.stderr)

    def test_a_call_still_notes_them(self, kernels):
        Image.fromarray(np.zeros((4, 4), np.uint8)).save(kernels / "g.png")
        done = run_in_process("convolve", "g.png", "-k", "sobel_mine", "-o", "o.png", cwd=kernels,
                              env={"KERNELCLI_KERNEL_PATH": "k"})
        assert done.returncode == 0 and "broken.json" in done.stderr and "nan.json" in done.stderr
