"""Audit 214 #6: URL inputs where kernelcli reads local files alone were folded and called missing.

``learn s3://b/in.npy t.npy`` said "s3:/b/in.npy: no such file" (the command line's ``Path`` folds ``//``), and so did
gallery's input, ``--weights``, ``--bias-file``, ``-k s3://b/k.npy``, a volume input and ``--mask``; ``convolve
s3://b/x.png -o q.png`` called the PNG "a Zarr input".  Now each is refused, exit 2, naming the URL as typed and what
the input takes (``tiled.urls.refuse_url``, as the batch refuses its URL inputs).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from conftest import run_in_process

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "m1.png").write_bytes((SAMPLES / "phantom.png").read_bytes())
    np.save(tmp_path / "a.npy", np.ones((8, 8)))
    np.save(tmp_path / "w.npy", np.ones((2, 1, 3, 3)))
    return tmp_path


CASES = [
    (["learn", "s3://b/in.npy", "a.npy", "--size", "3"], "s3://b/in.npy: is a URL, and learn reads local files: give a local path"),
    (["learn", "a.npy", "memory://b/t.npy", "--size", "3"], "memory://b/t.npy: is a URL, and learn reads local files"),
    (["gallery", "s3://b/in.png", "-o", "g.png"], "s3://b/in.png: is a URL, and gallery reads a local file: give a local path"),
    (["convolve", "m1.png", "--weights", "memory://b/w.npy", "-o", "q.png"],
     "memory://b/w.npy: is a URL, and the weights are read from a local .npy file: give a local path"),
    (["convolve", "m1.png", "--weights", "w.npy", "--bias-file", "s3://b/b.npy", "-o", "q.png"],
     "s3://b/b.npy: is a URL, and the bias are read from a local .npy file"),
    (["convolve", "m1.png", "-k", "s3://b/k.npy", "-o", "q.png"], "s3://b/k.npy: is a URL, and a kernel file is read from a local path"),
    (["convolve", "m1.png", "-k", "s3://b/k.json", "-o", "q.png"], "s3://b/k.json: is a URL, and a kernel file is read from a local path"),
    (["kernels", "show", "memory://b/k.json"], "memory://b/k.json: is a URL, and a kernel file is read from a local path"),
    (["volume", "s3://b/v.nii.gz", "-k", "box_3d", "-o", "v.nii.gz"], "s3://b/v.nii.gz: is a URL, and this input is read from a local file"),
    (["convolve", "s3://b/x.png", "-k", "box:3", "-o", "q.png"],
     "s3://b/x.png: is a URL, and a URL input is a Zarr store (.zarr), read tile by tile: copy other files to a local path first"),
    (["pool", "s3://b/x.png", "-f", "2", "-o", "q.png"], "s3://b/x.png: is a URL, and a URL input is a Zarr store (.zarr)"),
    (["summary", "s3://b/net.json", "--input", "1x8x8"], "s3://b/net.json: is a URL, and a network spec is read from a local file"),
]


class TestAURLWhereALocalFileIsReadIsRefused:
    @pytest.mark.parametrize("args, said", CASES, ids=[" ".join(c[0][:2]) + f"-{i}" for i, c in enumerate(CASES)])
    def test_named_as_typed(self, folder, args, said):
        r = run_in_process(*args, cwd=folder)
        assert r.returncode == 2, r.stderr
        assert r.stderr.startswith(f"error: {said}"), r.stderr
        assert "no such file" not in r.stderr and "Traceback" not in r.stderr
        assert [p.name for p in folder.iterdir() if p.name not in ("m1.png", "a.npy", "w.npy")] == []

    def test_a_relative_file_url_is_told_its_local_path(self, folder):
        r = run_in_process("convolve", "m1.png", "-k", "file://k.json", "-o", "q.png", cwd=folder)
        assert (r.returncode, r.stderr) == (2, "error: file://k.json: is a URL, and a kernel file is read from a local path: "
                                               f"give it as the local path {folder}/k.json\n")

    def test_a_file_url_png_on_the_tiled_path(self, folder):
        r = run_in_process("convolve", "file://m1.png", "-k", "box:3", "-o", "q.png", cwd=folder)
        assert r.returncode == 2, r.stderr
        assert r.stderr.startswith("error: file://m1.png: is a URL, and a file:// URL is read tile by tile"), r.stderr
        assert r.stderr.endswith(f"give it as the local path {folder}/m1.png\n"), r.stderr


class TestTheAPIRefusesAURLInput:
    def test_read_volume_and_read_input(self):
        from kernelcli.errors import UsageError
        from kernelcli.io.formats import check_input_path
        from kernelcli.medical.volume import read_volume

        for read in (read_volume, check_input_path):
            with pytest.raises(UsageError, match=r"^s3://b/v.nii.gz: is a URL, and this input is read from a local file"):
                read("s3://b/v.nii.gz")

    def test_read_weights(self):
        from kernelcli.errors import UsageError
        from kernelcli.layer_files import _read_npy_file

        with pytest.raises(UsageError, match=r"^memory://b/w.npy: is a URL, and the weights are read"):
            _read_npy_file("memory://b/w.npy", "weights")
