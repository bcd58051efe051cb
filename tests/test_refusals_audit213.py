"""Audit 213 (refusals).

F3: the advice for a .csv/.txt kernel file put its path into ``$(cat ...)`` unquoted: for ``my k.csv`` it ran
``cat my k.csv`` (two files), for ``it's.txt`` an open quote.

F1: non-ASCII letters in ``--suffix`` were refused (``σ``, ``日本``: "has no letter") or dropped in silence (``café``
-> ``caf``), and kernel files ``σ.npy`` and ``µ.npy`` both named their output ``a_kernel.png``, where an input's stem
keeps its letters.

F5: ``pool -f 2x2x2`` on a PNG, an RGB PNG or a 2-D matrix advised ``--layout zyx``, which those inputs then refuse.
"""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from conftest import run_in_process


@pytest.fixture
def png(tmp_path):
    import numpy as np
    from PIL import Image

    Image.fromarray((np.arange(16 * 16) % 251).astype("u1").reshape(16, 16)).save(tmp_path / "a.png")
    return tmp_path


class TestTheAdviceForATextKernelFileRunsAsWritten:
    @pytest.mark.parametrize("name", ["my k.csv", "it's.txt", "-k.csv", "plain.csv"])
    def test_its_cat_reads_the_one_file(self, png, name):
        (png / name).write_text("1 1 1\n1 1 1\n1 1 1\n")
        r = run_in_process("convolve", "a.png", "-k", f"./{name}" if name.startswith("-") else name, "-o", "k.png", cwd=png)
        assert r.returncode == 3, r.stderr
        advice = re.search(r'--kernel "WxH: (\$\(cat .*?\))" \(W columns', r.stderr)
        assert advice is not None, r.stderr
        if shutil.which("bash") is None:
            pytest.skip("no bash to run the advice with")
        done = subprocess.run(["bash", "-c", f'printf %s "{advice.group(1)}"'], cwd=png, capture_output=True, text=True)
        assert (done.returncode, done.stderr, done.stdout) == (0, "", "1 1 1\n1 1 1\n1 1 1"), advice.group(1)


class TestACubeIsAdvisedOnlyWhatTheInputTakes:
    @pytest.mark.parametrize("name", ["a.png", "rgb.png", "m.csv", "flat.npy"])
    def test_no_layout_advice_where_the_layout_is_refused(self, png, name):
        import numpy as np
        from PIL import Image

        Image.fromarray(np.zeros((8, 8, 3), "u1")).save(png / "rgb.png")
        (png / "m.csv").write_text("1,2\n3,4\n")
        np.save(png / "flat.npy", np.ones((8, 8)))
        r = run_in_process("pool", name, "-f", "2x2x2", "-o", "q.npy", cwd=png)
        assert (r.returncode, r.stderr) == (2, f"error: {name}: --size 2x2x2 is a cube, for a volume pooled in 3-D; this input is "
                                               "pooled in 2-D, each channel alone: give --size 2 (a 2x2 window)\n")
        assert run_in_process("pool", name, "-f", "2x2x2", "--layout", "zyx", "-o", "q.npy", cwd=png).returncode == 2

    @pytest.mark.parametrize("how", [[], ["--tiled"]], ids=["in-memory", "tiled"])
    def test_a_3d_array_is_offered_the_layout_which_it_takes(self, png, how):
        import numpy as np

        if how:
            pytest.importorskip("dask")
        np.save(png / "st.npy", np.ones((8, 8, 4), np.float32))
        r = run_in_process("pool", "st.npy", "-f", "2x2x2", "-o", "q.npy", *how, cwd=png)
        assert r.returncode == 2 and r.stderr.endswith(", or --layout zyx to read it as a (Z, Y, X) volume\n"), r.stderr
        assert run_in_process("pool", "st.npy", "-f", "2x2x2", "--layout", "zyx", "-o", "q.npy", "-q", *how, cwd=png).returncode == 0


class TestLettersOfAnyScriptNameOutputs:
    @pytest.mark.parametrize("suffix", ["σ", "日本", "café", "µm"])
    def test_a_suffix_keeps_them(self, png, suffix):
        import shutil as sh

        sh.copy(png / "a.png", png / "b.png")
        r = run_in_process("convolve", "a.png", "b.png", "-k", "box:3", "--out-dir", "o", "--suffix", suffix, "-q", cwd=png)
        assert r.returncode == 0, r.stderr
        assert sorted(p.name for p in (png / "o").iterdir()) == [f"a_{suffix}.png", f"b_{suffix}.png"]

    def test_two_kernel_files_name_two_outputs(self, png):
        import numpy as np

        np.save(png / "σ.npy", np.eye(3) / 3)
        np.save(png / "µ.npy", np.ones((3, 3)) / 9)
        for kernel in ("σ.npy", "µ.npy"):
            r = run_in_process("convolve", "a.png", "-k", kernel, "-q", cwd=png)
            assert r.returncode == 0, r.stderr
        assert (png / "a_σ.png").exists() and (png / "a_µ.png").exists()

    @pytest.mark.parametrize("suffix, name", [("हिन्दी", "हिन्दी"), ("ที่นี่", "ที่นี่"), ("cafe\u0301", "caf\u00e9"),
                                              ("caf\u00e9", "caf\u00e9")], ids=["devanagari", "thai", "nfd", "nfc"])
    def test_a_suffix_keeps_the_marks_of_its_letters(self, png, suffix, name):
        """audit 214 #5: combining marks were not letters to the old rule: ``--suffix हिन्दी`` wrote a_ह_न_द.png and an
        NFD ``café`` a_cafe.png, no note; now a letter keeps its marks, and the text is composed (NFC) first."""
        r = run_in_process("pool", "a.png", "-f", "2", "--out-dir", "o", "--suffix", suffix, "-q", cwd=png)
        assert r.returncode == 0, r.stderr
        assert [p.name for p in (png / "o").iterdir()] == [f"a_{name}.png"]

    def test_two_kernel_files_differing_in_a_vowel_sign_name_two_outputs(self, png):
        import numpy as np

        np.save(png / "हि.npy", np.ones((3, 3)) / 9)
        np.save(png / "हा.npy", np.ones((3, 3)))
        for kernel in ("हि.npy", "हा.npy"):
            r = run_in_process("convolve", "a.png", "-k", kernel, "--out-dir", "k", "-q", cwd=png)
            assert r.returncode == 0, r.stderr
        assert sorted(p.name for p in (png / "k").iterdir()) == sorted(["a_हि.png", "a_हा.png"])

    def test_a_suffix_of_no_letter_is_still_refused(self, png):
        r = run_in_process("convolve", "a.png", "-k", "box:3", "--suffix", "::", cwd=png)
        assert r.returncode == 2 and "has no letter, digit" in r.stderr, r.stderr
