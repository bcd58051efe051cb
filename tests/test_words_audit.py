"""The int64-past-2**53 refusal as the command line words it, and on the tiled path (review 46, #5);
one wording of "past 2**53" (review 46, #9); one wording of a value outside an option's choices (audit 98, #10)."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import run_in_process

BIG = 2**53 + 1


def run(tmp_path, *args: str):
    return run_in_process(*args, cwd=tmp_path, env={"KERNELCLI_WORKER": "off"})


class TestRoundedInputOnTheCommandLine:
    """'x: ...' and '(dtype='float64' in the Python API)' on the command line; per tile on the tiled path."""

    @pytest.mark.parametrize("tiled", [[], ["--tiled", "--chunks", "3"]])
    @pytest.mark.parametrize("command", [["convolve", "-k", "box:3"], ["pool", "-f", "2", "--op", "avg"]])
    def test_the_file_is_named_and_the_place_is_the_whole_arrays(self, tmp_path, command, tiled):
        if tiled:
            pytest.importorskip("dask")
        a = np.zeros((12, 12), np.int64)
        a[7, 7] = BIG
        np.save(tmp_path / "last.npy", a)
        r = run(tmp_path, command[0], "last.npy", *command[1:], *tiled, "-o", "o.npy")
        assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
        assert r.stderr.startswith("error: last.npy: 1 value(s) past 2**53") and "at (7, 7)" in r.stderr, r.stderr
        assert " x:" not in r.stderr and "Python API" not in r.stderr, r.stderr
        assert not (tmp_path / "o.npy").exists()

    def test_the_tiled_count_is_the_whole_inputs(self, tmp_path):
        pytest.importorskip("dask")
        np.save(tmp_path / "big.npy", np.full((6, 6), BIG, np.int64))
        r = run(tmp_path, "convolve", "big.npy", "-k", "box:3", "--tiled", "--chunks", "3", "-o", "o.npy")
        assert r.returncode == 2 and "big.npy: 36 value(s) past 2**53" in r.stderr and "at (0, 0)" in r.stderr, r.stderr

    def test_a_tiled_3d_convolution_is_refused_as_in_memory(self, tmp_path):
        pytest.importorskip("dask")
        v = np.zeros((6, 6, 6), np.int64)
        v[4, 5, 3] = BIG
        np.save(tmp_path / "v.npy", v)
        np.save(tmp_path / "k3.npy", np.ones((3, 3, 3)))
        for tiled in ([], ["--tiled", "--chunks", "3"]):
            r = run(tmp_path, "convolve", "v.npy", "-k", "k3.npy", "--layout", "zyx", *tiled, "-o", "o.npy")
            assert r.returncode == 2 and "v.npy: 1 value(s) past 2**53" in r.stderr and "at (4, 5, 3)" in r.stderr, r.stderr

    def test_the_python_api_keeps_its_words(self):
        from kernelcli import api
        from kernelcli.errors import UsageError

        with pytest.raises(UsageError, match=r"^x: 1 value\(s\) past 2\*\*53 .*\(dtype='float64' in the Python API\)$"):
            api.conv2d(np.array([[1, BIG]], np.int64), [[1]])

    def test_the_dask_check_counts_in_the_whole_array(self):
        da = pytest.importorskip("dask.array")
        from kernelcli.errors import UsageError
        from kernelcli.tiled import arrays

        x = np.zeros((6, 6), np.int64)
        x[4, 5] = x[5, 5] = BIG
        with pytest.raises(UsageError, match=r"^x: 2 value\(s\) past 2\*\*53 .* at \(4, 5\), is 9007199254740993,"):
            arrays.conv2d(da.from_array(x, chunks=3), [[1, 1], [1, 1]], chunks=3)


class TestOneWordingPast2To53:
    """Six wordings of one refusal ('would be read as', 'past 2**53: float64 would round it to', 'computed as', 'which
    float64 reads as'), and EXACT_WHOLE declared twice: one sentence (numtext.inexact_whole), one constant."""

    SENTENCE = "9007199254740993, which float64 reads as 9007199254740992: "
    TAIL = ", exact for whole numbers up to 2**53"

    @pytest.mark.parametrize("args, held", [
        (["convolve", "a.npy", "-k", "1,9007199254740993", "-o", "o.npy"], "kernel weights are float64"),
        (["convolve", "a.npy", "-k", "k.npy", "-o", "o.npy"], "kernel weights are float64"),
        (["convolve", "a.npy", "--weights", "w.npy", "--bias", "9007199254740993", "-o", "o.npy"],
         "bias values are float64"),
        (["convolve", "m.csv", "-k", "box:3", "-o", "o.npy"], "a text matrix is float64"),
        (["convolve", "i.npy", "-k", "box:3", "-o", "o.npy"], "an int64 input is computed in float64"),
    ])
    def test_every_form_says_it_one_way(self, tmp_path, args, held):
        np.save(tmp_path / "a.npy", np.zeros((5, 5), np.float32))
        np.save(tmp_path / "k.npy", np.array([[1, BIG]], np.int64))
        np.save(tmp_path / "w.npy", np.ones((3, 3, 1, 1)))
        np.save(tmp_path / "i.npy", np.full((5, 5), BIG, np.int64))
        (tmp_path / "m.csv").write_text("1,2\n9007199254740993,4\n")
        r = run(tmp_path, *args)
        assert r.returncode in (2, 3) and "Traceback" not in r.stderr, r.stderr
        typed = "'9007199254740993'" if "--bias" in args else "9007199254740993"  # (an option's value as typed, quoted)
        assert typed + self.SENTENCE.removeprefix("9007199254740993") + held + self.TAIL in r.stderr, r.stderr

    def test_the_api_kernel_refusal_says_it_so(self):
        from kernelcli import api
        from kernelcli.errors import InvalidKernel

        with pytest.raises(InvalidKernel, match="^kernel: the weight at \\(0, 1\\) is " + self.SENTENCE.replace("*", "\\*")
                           + "kernel weights are float64"):
            api.conv2d(np.zeros((4, 4)), np.array([[1, BIG]], np.int64))

    def test_one_constant(self):
        from kernelcli import catalog_format, ndsupport, numtext

        assert ndsupport.EXACT_WHOLE is numtext.EXACT_WHOLE and catalog_format.EXACT_WHOLE is numtext.EXACT_WHOLE
        assert catalog_format.inexact_whole is numtext.inexact_whole
