"""Nothing written inside a Zarr store the call reads or writes (audit 152 #1, #2).

``--report in.zarr/c/0/0`` replaced a chunk of the input with the JSON report (exit 0; the next read failed), and
``--report out.zarr/zarr.json`` (or a chunk) the output store just published; ``--force`` onto an existing output
store deleted a kernel file kept in its ``c/`` folder, read by that very call.  Expected: exit 4 before any work,
as ``-o`` inside the input store is refused (one check: :func:`kernelcli.io.output_checks.store_problem`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from conftest import run_in_process

zarr = pytest.importorskip("zarr")
pytest.importorskip("dask")


def _tree(folder: Path) -> dict:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def files(tmp_path):
    a = np.arange(1200, dtype=np.uint8).reshape(40, 30)
    zarr.open(str(tmp_path / "in.zarr"), mode="w", shape=a.shape, chunks=(8, 8), dtype=a.dtype)[:] = a
    np.save(tmp_path / "g.npy", a)
    np.save(tmp_path / "k.npy", np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]], np.float32))
    return tmp_path


def _refused(files, *args):
    r = run_in_process("convolve", *args, "-q", cwd=files)
    assert r.returncode == 4, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr, r.stderr
    return r.stderr.strip()


class TestReportInsideTheInputStore:
    @pytest.mark.parametrize("report", ["in.zarr/c/0/0", "in.zarr/c/new.json", "in.zarr/new.json"])
    @pytest.mark.parametrize("force", [[], ["--force"]], ids=["", "force"])
    def test_refused_before_any_work(self, files, report, force):
        before = _tree(files / "in.zarr")
        said = _refused(files, "in.zarr", "-k", "box:3", "-o", "out.zarr", "--report", report, *force)
        assert said == f"error: --report {report}: is inside the input in.zarr: write it outside the input store"
        assert _tree(files / "in.zarr") == before
        assert not (files / "out.zarr").exists()


class TestReportInsideTheOutputStore:
    @pytest.mark.parametrize("report", ["out.zarr/zarr.json", "out.zarr/c/0/0", "out.zarr/rep.json"])
    def test_refused_and_the_store_kept(self, files, report):
        assert run_in_process("convolve", "in.zarr", "-k", "box:3", "-o", "out.zarr", "-q", cwd=files).returncode == 0
        before = _tree(files / "out.zarr")
        said = _refused(files, "in.zarr", "-k", "gaussian:1", "-o", "out.zarr", "--report", report, "--force")
        assert said == f"error: --report {report}: is inside the output out.zarr: write it outside the output store"
        assert _tree(files / "out.zarr") == before

    def test_the_default_output_store_too(self, files):
        assert run_in_process("convolve", "in.zarr", "-k", "box:3", "-q", cwd=files).returncode == 0
        store = next(p.name for p in files.iterdir() if p.name.startswith("in_") and p.suffix == ".zarr")
        said = _refused(files, "in.zarr", "-k", "box:3", "--report", f"{store}/rep.json", "--force")
        assert said == f"error: --report {store}/rep.json: is inside the output {store}: write it outside the output store"
        assert not (files / store / "rep.json").exists()

    def test_a_report_beside_the_store_is_written(self, files):
        r = run_in_process("convolve", "in.zarr", "-k", "box:3", "-o", "out.zarr", "--report", "r.json", "-q", cwd=files)
        assert r.returncode == 0, r.stderr
        assert (files / "r.json").is_file() and zarr.open(str(files / "out.zarr"), mode="r").shape == (40, 30)


class TestForceKeepsAKernelFileInTheStore:
    @pytest.mark.parametrize("kernel", [["-k", "o.zarr/c/k.npy"], ["-k", "box:3", "--then", "o.zarr/c/k.npy"]],
                             ids=["kernel", "then"])
    def test_refused_and_the_file_kept(self, files, kernel):
        assert run_in_process("convolve", "g.npy", "-k", "box:3", "-o", "o.zarr", "-q", cwd=files).returncode == 0
        (files / "o.zarr" / "c" / "k.npy").write_bytes((files / "k.npy").read_bytes())
        before = _tree(files / "o.zarr")
        said = _refused(files, "g.npy", *kernel, "-o", "o.zarr", "--force")
        assert said == "error: o.zarr: holds the input o.zarr/c/k.npy: the output would replace it"
        assert _tree(files / "o.zarr") == before


def test_a_batch_report_inside_an_input_folder_is_refused(tmp_path):
    from kernelcli import batch
    from kernelcli.batch_plan import Source
    from kernelcli.errors import OutputRefused

    series = tmp_path / "series"
    series.mkdir()
    (series / "1.dcm").write_bytes(b"x")
    np.save(tmp_path / "a.npy", np.zeros((4, 4)))
    found = [Source(series, None, "series"), Source(tmp_path / "a.npy", None, "a.npy")]
    with pytest.raises(OutputRefused, match="--report .*series/r.json: is inside the input .*series: write it outside the input folder"):
        batch.plan(found, out_dir=tmp_path / "o", suffix="x", report=series / "r.json")
