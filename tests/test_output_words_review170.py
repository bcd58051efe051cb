"""Review 170's refusals in the words of the call that gets them.

#3: the API's choice refusals name the keyword typed (``pad2d(mode=...)`` said "invalid pad mode", ``pool2d(op=...)``
"invalid pool op", ``write_output(rescale=...)`` "invalid rescale mode"), as its range refusals do; the command line
keeps the concept after Click's option.
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
