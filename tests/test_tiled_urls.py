"""fsspec URLs on the tiled path (issue 15): ``convolve s3://bucket/big.zarr ... -o s3://.../out.zarr``.

No network: fsspec's in-process ``memory://`` filesystem (the app run in this process) and
``file://`` (a real ``python -m kernelcli`` process) stand in for object storage.  The results
equal the in-memory ones byte for byte; an existing output is refused without --force; a
failed write leaves nothing at the URL; a protocol whose package is missing exits 2 naming it.
"""

from __future__ import annotations

import json
import uuid

import numpy as np
import pytest

from conftest import run_cli

pytest.importorskip("dask.array")
zarr = pytest.importorskip("zarr")
fsspec = pytest.importorskip("fsspec")


@pytest.fixture
def image():
    return (np.random.default_rng(21).random((90, 70)) * 255).astype(np.uint8)


@pytest.fixture
def bucket():
    """A fresh ``memory://`` prefix, removed afterwards."""
    name = f"memory://kernelcli-test-{uuid.uuid4().hex}"
    yield name
    fs, path = fsspec.core.url_to_fs(name)
    if fs.exists(path):
        fs.rm(path, recursive=True)


def put(url, x):
    z = zarr.open_array(url, mode="w", shape=x.shape, chunks=(32, 32), dtype=x.dtype)
    z[:] = x
    return url


def exists(url):
    fs, path = fsspec.core.url_to_fs(url)
    return fs.exists(path)


def test_memory_url_to_memory_url_equals_in_memory(image, bucket, invoke, tmp_path):
    from kernelcli import api, load_kernel

    src = put(f"{bucket}/in.zarr", image)
    r = invoke("convolve", src, "-k", "gaussian:2", "--pad-mode", "reflect", "-o", f"{bucket}/out.zarr", "--chunks", "40", "--json")
    assert r.exit_code == 0, r.stderr
    assert f'"output": "{bucket}/out.zarr"' in r.stdout
    ref = api.conv2d(image, load_kernel("gaussian:2"), pad_mode="reflect", paths="cold")
    assert np.array_equal(zarr.open_array(f"{bucket}/out.zarr", mode="r")[:], ref)
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # nothing written locally
    # (the tiled audit: a command line's memory:// output is gone when it exits, and nothing said so)
    assert any("memory:// lives in this process: the store is gone when it exits" in n for n in json.loads(r.stdout)["notes"])


def test_existing_output_needs_force(image, bucket, invoke):
    src = put(f"{bucket}/in.zarr", image)
    dest = put(f"{bucket}/out.zarr", np.zeros((3, 3), np.uint8))
    r = invoke("convolve", src, "-k", "box:3", "-o", dest)
    assert r.exit_code == 4 and "already exists" in r.stderr
    assert zarr.open_array(dest, mode="r").shape == (3, 3)
    r = invoke("convolve", src, "-k", "box:3", "-o", dest, "--force")
    assert r.exit_code == 0, r.stderr
    assert zarr.open_array(dest, mode="r").shape == image.shape


def test_missing_store_and_non_zarr_urls_exit_2(image, bucket, invoke):
    r = invoke("convolve", f"{bucket}/nothing.zarr", "-k", "box:3", "-o", f"{bucket}/o.zarr")
    assert r.exit_code == 2 and "no such store" in r.stderr and "Traceback" not in r.stderr
    src = put(f"{bucket}/in.zarr", image)
    r = invoke("convolve", src, "-k", "box:3", "-o", f"{bucket}/o.png")
    assert r.exit_code == 2 and "Zarr store" in r.stderr
    assert not exists(f"{bucket}/o.png")


def test_a_missing_protocol_package_exits_2_naming_it(invoke):
    try:
        fsspec.core.url_to_fs("s3://bucket/in.zarr")
    except ImportError:
        pass
    else:
        pytest.skip("s3fs is installed here")
    r = invoke("convolve", "s3://bucket/in.zarr", "-k", "box:3", "-o", "out.zarr")
    assert r.exit_code == 2 and "pip install s3fs" in r.stderr and "Traceback" not in r.stderr


def test_a_failed_write_leaves_nothing_at_the_url(image, bucket):
    import dask.array as da

    from kernelcli.errors import WriteError
    from kernelcli.tiled import writers

    def run(tasks):
        import dask

        dask.compute(*tasks[:1], scheduler="sync")  # one chunk is written, then the disk "fills"
        raise OSError(28, "No space left on device")

    with pytest.raises(WriteError):
        writers.write_zarr(da.from_array(image.astype(np.float32), chunks=30), f"{bucket}/out.zarr", force=False, run=run)
    assert not exists(f"{bucket}/out.zarr")


def test_file_url_through_a_real_process(image, tmp_path):
    """``file://`` URLs are local paths (and their outputs published atomically, as any local one)."""
    put(str(tmp_path / "in.zarr"), image)
    src = f"file://{tmp_path}/in.zarr"
    np.save(tmp_path / "x.npy", image)
    r = run_cli("convolve", src, "-k", "sobel_v", "--pad-mode", "symmetric", "-o", f"file://{tmp_path}/out.zarr", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    ref = run_cli("convolve", "x.npy", "-k", "sobel_v", "--pad-mode", "symmetric", "--rescale", "none", "-o", "ref.npy", cwd=tmp_path)
    assert ref.returncode == 0, ref.stderr
    assert np.array_equal(zarr.open_array(str(tmp_path / "out.zarr"), mode="r")[:], np.load(tmp_path / "ref.npy"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.zarr", "out.zarr", "ref.npy", "x.npy"]


def test_force_replaces_only_an_array_store_at_a_url(image, bucket, invoke):
    """As for a local store: --force of a group took its arrays with it, and of an array its notes.txt."""
    src = put(f"{bucket}/in.zarr", image)
    put(f"{bucket}/g.zarr/a", image)
    zarr.open_group(f"{bucket}/g.zarr", mode="a")
    put(f"{bucket}/kept.zarr", image)
    fs, root = fsspec.core.url_to_fs(bucket)
    fs.pipe(f"{root}/kept.zarr/notes.txt", b"keep me")
    for dest in (f"{bucket}/g.zarr", f"{bucket}/kept.zarr"):
        r = invoke("convolve", src, "-k", "box:3", "-o", dest, "--force")
        assert r.exit_code == 4 and "replaces only an array store" in r.stderr, r.stderr
    assert np.array_equal(zarr.open_array(f"{bucket}/g.zarr/a", mode="r")[:], image)
    assert fs.cat_file(f"{root}/kept.zarr/notes.txt") == b"keep me"
    r = invoke("convolve", src, "-k", "box:3", "-o", f"{bucket}/out.zarr")  # what kernelcli writes, --force replaces
    assert r.exit_code == 0, r.stderr
    r = invoke("convolve", src, "-k", "box:5", "-o", f"{bucket}/out.zarr", "--force")
    assert r.exit_code == 0, r.stderr


def test_no_output_inside_the_input_store_at_a_url(image, bucket, invoke):
    src = put(f"{bucket}/in.zarr", image)
    r = invoke("convolve", src, "-k", "box:3", "-o", f"{src}/sub.zarr")
    assert r.exit_code == 4 and "is inside the input" in r.stderr, r.stderr
    assert not exists(f"{src}/sub.zarr")
