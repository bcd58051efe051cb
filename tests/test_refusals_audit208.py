"""Audit 208 (refusals).

#2: on stdin, a refused kernel (``-k nosuch``, a volume-only ``box:3vox`` or ``gaussian:1mm``, a ``--then`` step)
wrote no ``--report`` though ``--json`` printed its record; the same refusal of a file input writes it.
"""

from __future__ import annotations

import json

import pytest

from conftest import run_in_process


@pytest.fixture
def png_bytes(tmp_path):
    import numpy as np
    from PIL import Image

    Image.fromarray((np.arange(24 * 24) % 251).astype("u1").reshape(24, 24)).save(tmp_path / "in.png")
    return (tmp_path / "in.png").read_bytes()


class TestARefusedKernelOnStdinWritesTheReport:
    @pytest.mark.parametrize("command, args, code", [
        ("convolve", ["-k", "nosuch", "-o", "o.png"], 3),
        ("convolve", ["-k", "box:3", "--then", "nosuch", "-o", "o.png"], 3),
        ("convolve", ["-k", "gaussian:1mm", "-o", "o.png"], 3),
        ("volume", ["-k", "box:3vox", "-o", "o.nii.gz"], 3),
        ("convolve", ["-k", "box:3", "--weights", "none.npy", "-o", "o.npy"], None),
    ], ids=["unknown", "then", "mm", "volume-vox", "weights"])
    def test_as_a_file_s_call_writes_it(self, tmp_path, png_bytes, command, args, code):
        from_file = run_in_process(command, "in.png", *args, "--json", "--report", "file.json", cwd=tmp_path)
        piped = run_in_process(command, "-", *args, "--json", "--report", "pipe.json", cwd=tmp_path, input=png_bytes)
        assert piped.returncode == from_file.returncode != 0, piped.stderr
        assert code is None or piped.returncode == code
        item = json.loads((tmp_path / "pipe.json").read_text())["items"][0]
        assert json.loads(piped.stdout) == item
        assert (item["input"], item["code"]) == ("stdin", piped.returncode)
        assert f"error: {item['error']}" == piped.stderr.strip().splitlines()[-1]
        filed = json.loads((tmp_path / "file.json").read_text())["items"][0]
        assert (filed["output"], filed["code"]) == (item["output"], item["code"])

    def test_an_existing_report_is_refused_first_as_for_a_file(self, tmp_path, png_bytes):
        (tmp_path / "r.json").write_text("{}")
        from_file = run_in_process("convolve", "in.png", "-k", "nosuch", "-o", "o.png", "--report", "r.json", cwd=tmp_path)
        piped = run_in_process("convolve", "-", "-k", "nosuch", "-o", "o.png", "--report", "r.json", cwd=tmp_path, input=png_bytes)
        assert piped.returncode == from_file.returncode == 4, piped.stderr
        assert (tmp_path / "r.json").read_text() == "{}"
