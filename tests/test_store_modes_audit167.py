"""Audit 167 #1: ``--force`` onto an existing ``.zarr`` output dropped the store's permissions: a store made private
with ``chmod -R go-rwx`` came back with folders 755 and files 644 (readable by everyone; patient-derived data), exit 0,
where a ``.npy`` or ``.nii`` output replaced with ``--force`` keeps its file's mode (README: "Nothing is lost")."""

from __future__ import annotations

import os
import stat

import numpy as np
import pytest

from conftest import run_in_process

zarr = pytest.importorskip("zarr")
pytest.importorskip("dask")


def _modes(store) -> set[tuple[str, int]]:
    return {("dir" if p.is_dir() else "file", stat.S_IMODE(p.stat().st_mode)) for p in [store, *store.rglob("*")]}


@pytest.mark.parametrize("private", [(0o700, 0o600), (0o750, 0o640)], ids=["owner", "group"])
def test_a_store_replaced_with_force_keeps_its_permissions(tmp_path, private):
    np.save(tmp_path / "a.npy", np.arange(1200, dtype=np.float32).reshape(40, 30))
    first = run_in_process("convolve", "a.npy", "-k", "box:3", "-o", "o.zarr", "--tiled", "-q", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    store = tmp_path / "o.zarr"
    folder_mode, file_mode = private
    for here, _dirs, files in os.walk(store):
        os.chmod(here, folder_mode)
        for name in files:
            os.chmod(os.path.join(here, name), file_mode)
    again = run_in_process("convolve", "a.npy", "-k", "box:5", "-o", "o.zarr", "--tiled", "--force", "-q", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert _modes(store) == {("dir", folder_mode), ("file", file_mode)}
    assert zarr.open(str(store), mode="r").shape == (40, 30)  # (the new store, readable by its owner)
