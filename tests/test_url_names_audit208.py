"""Audit 208 #7: a volume kernel's refusal of a URL input named it with one slash (``memory:/b/none.zarr: box:3vox:
...``; the command line's ``Path`` folds ``//``), in ``volume``'s and ``convolve``'s error line and the ``--json``
record's error, while the record's input kept the URL whole.
"""

from __future__ import annotations

import json

import pytest

from conftest import run_in_process


@pytest.mark.parametrize("command, kernel", [("volume", "box:3vox"), ("convolve", "gaussian:1mm")])
def test_a_volume_kernel_s_refusal_names_the_url_whole(tmp_path, command, kernel):
    pytest.importorskip("fsspec")
    pytest.importorskip("dask")
    r = run_in_process(command, "memory://b208/none.zarr", "-k", kernel, "-o", "memory://b208/o.zarr", "--json", cwd=tmp_path)
    assert r.returncode == 3, r.stderr
    assert r.stderr.startswith(f"error: memory://b208/none.zarr: {kernel}: "), r.stderr
    assert json.loads(r.stdout)["error"].startswith(f"memory://b208/none.zarr: {kernel}: ")
