"""Audit 177 #1-#6: the Zarr store look-up (:mod:`kernelcli.io.store_paths`) and the checks that ask it, for
batches and output safety."""

from __future__ import annotations

import os
import subprocess

import numpy as np
import pytest

from conftest import listing, run_cli, run_in_process

GROUP = '{"zarr_format": 3, "node_type": "group", "attributes": {}}'


def _png(path):
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray((np.arange(64, dtype="uint8").reshape(8, 8) * 3)).save(path)
    return path


class TestMetadataIsARegularFile:
    """#1: a FIFO named zarr.json blocked the open for ever, a link to /dev/zero was read until memory ran out."""

    @pytest.fixture()
    def tree(self, tmp_path):
        if not hasattr(os, "mkfifo"):
            pytest.skip("no FIFOs here")
        _png(tmp_path / "in" / "a.png")
        _png(tmp_path / "in" / "sub" / "b.png")
        os.mkfifo(tmp_path / "in" / "sub" / "zarr.json")
        (tmp_path / "d").mkdir()
        os.mkfifo(tmp_path / "d" / "zarr.json")
        return tmp_path

    def test_a_walk_past_a_fifo_named_zarr_json_reads_the_folder(self, tree):
        try:
            r = run_cli("convolve", "in", "-r", "-k", "box:3", "--out-dir", "o", "-q", cwd=tree, timeout=30)
        except subprocess.TimeoutExpired:
            pytest.fail("the walk hung on the FIFO named zarr.json")
        assert r.returncode == 0, r.stderr
        assert (tree / "o" / "a_box_3.png").is_file() and (tree / "o" / "sub" / "b_box_3.png").is_file()

    def test_an_output_beside_a_fifo_named_zarr_json_is_written(self, tree):
        try:
            r = run_cli("convolve", "in/a.png", "-k", "box:3", "-o", "d/x.png", "-q", cwd=tree, timeout=30)
        except subprocess.TimeoutExpired:
            pytest.fail("the output check hung on the FIFO named zarr.json")
        assert r.returncode == 0 and (tree / "d" / "x.png").is_file(), r.stderr

    def test_a_forced_store_holding_a_fifo_named_zarr_json_is_refused_not_read(self, tree):
        np.save(tree / "a.npy", np.ones((8, 8), "float32"))
        (tree / "o.zarr").mkdir()
        os.mkfifo(tree / "o.zarr" / "zarr.json")
        try:
            r = run_cli("convolve", "a.npy", "-k", "box:3", "-o", "o.zarr", "--force", "-q", cwd=tree, timeout=30)
        except subprocess.TimeoutExpired:
            pytest.fail("--force's check hung on the FIFO named zarr.json")
        assert r.returncode == 4 and "is a folder that is not a Zarr array" in r.stderr, r.stderr

    def test_a_link_to_dev_zero_is_no_metadata_and_is_not_read(self, tmp_path, monkeypatch):
        from kernelcli.io import store_paths

        if not os.path.exists("/dev/zero"):
            pytest.skip("no /dev/zero here")
        (tmp_path / "z").mkdir()
        (tmp_path / "z" / "zarr.json").symlink_to("/dev/zero")
        import builtins

        opened = []
        for module, name in ((builtins, "open"), (os, "open")):
            real = getattr(module, name)

            def watched(path, *args, _real=real, **kwargs):
                if os.fspath(path).endswith("zarr.json"):
                    opened.append(path)
                    raise OSError("the test stops this open: it would read /dev/zero")
                return _real(path, *args, **kwargs)
            monkeypatch.setattr(module, name, watched)
        assert store_paths.enclosing_store(tmp_path / "z" / "x.png") is None
        assert not opened

    def test_regular_metadata_still_makes_a_store(self, tmp_path):
        from kernelcli.io.store_paths import enclosing_store

        (tmp_path / "grp").mkdir()
        (tmp_path / "grp" / "zarr.json").write_text(GROUP)
        assert enclosing_store(tmp_path / "grp" / "x.npy") == tmp_path / "grp"
