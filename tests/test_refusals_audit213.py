"""Audit 213 (refusals).

F3: the advice for a .csv/.txt kernel file put its path into ``$(cat ...)`` unquoted: for ``my k.csv`` it ran
``cat my k.csv`` (two files), for ``it's.txt`` an open quote.
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
