"""Batch processing: discovery, planning (refuse before any work), running in worker processes,
progress, reports, and the CLI glue shared by pad/pool (and convolve once it adopts it)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from functools import partial
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image
from conftest import CliRunner

from kernelcli import batch, batch_pool
from kernelcli.cli import app
from kernelcli.errors import InputError, OutputRefused, UsageError
from kernelcli.jobs import pad_file, pool_file

from conftest import SAMPLES, run_cli, run_in_process

SUMMARY = re.compile(r"^(\d+) ok, (\d+) failed(, \d+ not run)?, \d+\.\d s$", re.MULTILINE)


def png(path: Path, data: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(data).save(path)
    return path


def noise(seed: int, shape=(24, 20), dtype=np.uint8) -> np.ndarray:
    top = 255 if dtype == np.uint8 else 65535
    return np.random.default_rng(seed).integers(0, top + 1, shape).astype(dtype)


def tree(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (hidden ones too) with its bytes."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def parts_left(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.name.endswith(".part")]


@pytest.fixture
def scans(tmp_path):
    """scans/a.png, scans/sub/b.png, scans/sub/deeper/c.png, plus a hidden file and a text note."""
    root = tmp_path / "scans"
    png(root / "a.png", noise(1))
    png(root / "sub" / "b.png", noise(2))
    png(root / "sub" / "deeper" / "c.png", noise(3))
    png(root / ".hidden.png", noise(4))
    (root / "notes.md").write_text("not an image")
    return root


class TestDiscover:
    def test_files_in_argument_order_and_once(self, scans):
        a, b = scans / "a.png", scans / "sub" / "b.png"
        found = batch.discover([b, a, str(b)])
        assert [s.path for s in found.sources] == [b, a]
        assert all(s.root is None for s in found.sources)

    def test_folder_flat_or_recursive_skips_hidden_and_unsupported(self, scans):
        flat = batch.discover([scans])
        assert [s.path.name for s in flat.sources] == ["a.png"]
        deep = batch.discover([scans], recursive=True)
        assert [s.path.relative_to(scans).as_posix() for s in deep.sources] == ["a.png", "sub/b.png", "sub/deeper/c.png"]
        assert {s.root for s in deep.sources} == {scans}

    def test_glob_with_double_star_keeps_structure_under_its_root(self, scans, tmp_path):
        found = batch.discover([str(scans / "**" / "*.png")])
        names = sorted(s.path.relative_to(scans).as_posix() for s in found.sources)
        assert names == ["a.png", "sub/b.png", "sub/deeper/c.png"]
        items = batch.plan(found, out_dir=tmp_path / "out", suffix="x")
        assert sorted(i.output.relative_to(tmp_path / "out").as_posix() for i in items) == [
            "a_x.png", "sub/b_x.png", "sub/deeper/c_x.png"]

    def test_missing_path_and_empty_pattern_are_usage_errors(self, scans):
        with pytest.raises(InputError, match="nope.png: no such file"):
            batch.discover([scans / "nope.png"])
        with pytest.raises(UsageError, match=r"\*\.tif: no files match"):
            batch.discover([str(scans / "*.tif")])
        with pytest.raises(UsageError, match="none a supported input"):
            batch.discover([str(scans / "*.md")])
        empty = scans / "empty"
        empty.mkdir()
        with pytest.raises(UsageError, match="no supported input files in this folder"):
            batch.discover([empty])

    def test_fifo_named_directly_is_not_a_regular_file(self, tmp_path):
        fifo = tmp_path / "pipe.png"
        os.mkfifo(fifo)
        with pytest.raises(InputError, match="not a regular file"):
            batch.discover([fifo, tmp_path])


class TestPlan:
    def test_names_suffix_and_format(self, scans, tmp_path):
        (tmp_path / "m.csv").write_text("1 2\n")
        found = batch.discover([scans / "a.png", tmp_path / "m.csv"])
        items = batch.plan(found, out_dir=tmp_path / "o", suffix="gaussian:1.5")
        assert [i.output.name for i in items] == ["a_gaussian_1.5.png", "m_gaussian_1.5.csv"]
        items = batch.plan(found, out_dir=tmp_path / "o", suffix="p", fmt="npy")
        assert [i.output.name for i in items] == ["a_p.npy", "m_p.npy"]
        assert not (tmp_path / "o").exists()  # planning writes nothing

    def test_every_problem_listed_and_nothing_created(self, scans, tmp_path):
        out = tmp_path / "out"
        out.mkdir()
        (out / "a_x.png").write_bytes(b"old")                      # exists, no --force
        os.link(scans / "sub" / "b.png", out / "b_x.png")          # hardlink to an input
        other = tmp_path / "other"
        png(other / "c.png", noise(9))                              # same name as scans/sub/deeper/c.png
        found = batch.discover([scans / "a.png", scans / "sub" / "b.png", scans / "sub" / "deeper" / "c.png", other / "c.png"])
        before = tree(tmp_path)
        with pytest.raises(OutputRefused) as info:
            batch.plan(found, out_dir=out, suffix="x")
        message = str(info.value)
        assert "a_x.png: already exists; use --force" in message
        assert "b_x.png: is the input" in message
        assert "would both be written there" in message and "c.png" in message
        assert "nothing was done" in message
        assert tree(tmp_path) == before
        # --force lifts only the "exists" refusal
        with pytest.raises(OutputRefused) as info:
            batch.plan(found, out_dir=out, suffix="x", force=True)
        assert "already exists" not in str(info.value) and "is the input" in str(info.value)

    def test_symlinked_output_to_an_input_refused_even_with_force(self, scans, tmp_path):
        out = tmp_path / "out"
        out.mkdir()
        (out / "a_x.png").symlink_to(scans / "a.png")
        with pytest.raises(OutputRefused, match="is the input"):
            batch.plan(batch.discover([scans / "a.png"]), out_dir=out, suffix="x", force=True)

    @pytest.mark.parametrize("where,recursive", [("scans", False), ("scans/results", True), ("scans/sub", True)])
    def test_out_dir_inside_the_input_set(self, scans, tmp_path, where, recursive):
        with pytest.raises(OutputRefused, match="is inside the input"):
            batch.plan(batch.discover([scans], recursive=recursive), out_dir=tmp_path / where, suffix="x")

    def test_out_dir_inside_a_double_star_pattern(self, scans, tmp_path):
        with pytest.raises(OutputRefused, match="is inside the input"):
            batch.plan(batch.discover([str(scans / "**" / "*.png")]), out_dir=scans / "new", suffix="x")

    def test_out_dir_in_a_subfolder_of_a_flat_folder_input_is_fine(self, scans):
        items = batch.plan(batch.discover([scans]), out_dir=scans / "sub" / "results", suffix="x")
        assert [i.output.name for i in items] == ["a_x.png"]

    def test_report_file_checked_like_an_output(self, scans, tmp_path):
        found = batch.discover([scans / "a.png"])
        with pytest.raises(OutputRefused, match="is the input"):
            batch.plan(found, out_dir=tmp_path / "o", suffix="x", report=scans / "a.png")
        with pytest.raises(OutputRefused, match="is also the output"):
            batch.plan(found, out_dir=tmp_path / "o", suffix="x", report=tmp_path / "o" / "a_x.png")
        with pytest.raises(UsageError, match="does not exist"):  # exit 2, as --out in a missing folder (was 4)
            batch.plan(found, out_dir=tmp_path / "o", suffix="x", report=tmp_path / "no" / "r.json")
        # in the --out-dir the run creates: it was refused ("the folder o does not exist")
        assert batch.plan(found, out_dir=tmp_path / "o", suffix="x", report=tmp_path / "o" / "r.json")


def probe_job(input_path, *, out):
    """A picklable job that reports the thread budget it sees in its worker."""
    from kernelcli._core import threads

    return SimpleNamespace(notes=[f"threads={threads.count()} pid={os.getpid()}"])


def numba_around(input_path, *, out, job):
    """Run ``job`` in a batch's worker process; note whether Numba was loaded there before and after."""
    before = "numba" in sys.modules
    job(input_path, out=out)
    return SimpleNamespace(notes=[f"numba before={before} after={'numba' in sys.modules}"])


def failing_job(input_path, *, out):
    if "bad" in Path(input_path).name:
        raise RuntimeError("unexpected")
    return SimpleNamespace(notes=[])


class TestRun:
    def test_progress_callback_records_in_input_order(self, scans, tmp_path):
        items = batch.plan(batch.discover([scans], recursive=True), out_dir=tmp_path / "o", suffix="max")
        seen = []
        job = partial(pool_file, size=2, op="max", stride=None, padding=0, ceil_mode=False, count_include_pad=True)
        result = batch.run(items, job, workers=1, progress=lambda rec, done, total: seen.append((done, total, rec.status)))
        assert seen == [(1, 3, "ok"), (2, 3, "ok"), (3, 3, "ok")]
        assert [r.input for r in result.records] == [str(i.input) for i in items]
        assert result.exit_code == 0 and SUMMARY.match(result.summary())
        for item in items:
            x = np.asarray(Image.open(item.input)).astype(int)
            expected = x[:24, :20].reshape(12, 2, 10, 2).max(axis=(1, 3))
            assert (np.asarray(Image.open(item.output)) == expected).all()

    def test_workers_cap_numba_threads(self, scans, tmp_path):
        items = batch.plan(batch.discover([scans], recursive=True), out_dir=tmp_path / "o", suffix="p")
        result = batch.run(items, probe_job, workers=2)
        assert result.workers == 2
        cores = os.cpu_count() or 1
        budget = batch.threads_per_worker(2, cores)
        notes = [r.notes[0] for r in result.records]
        assert all(n.startswith(f"threads={budget} ") for n in notes), notes
        assert {n.split("pid=")[1] for n in notes} - {str(os.getpid())}, "ran in worker processes"
        assert 2 * budget <= max(cores, 2)

    def test_worker_processes_decide_as_fresh_processes(self, tmp_path):
        """The resident worker's policy says its core is loaded; the batch's worker processes start fresh and
        must take what a fresh process takes (numpy for a 320x320 sobel, no Numba), not load the core."""
        from kernelcli._core.policy import Paths
        from kernelcli.jobs import ConvolveOptions, convolve_file

        rng = np.random.default_rng(5)
        items = []
        for name in ("a", "b"):
            Image.fromarray(rng.integers(0, 256, (320, 320), dtype=np.uint8)).save(tmp_path / f"{name}.png")
            items.append(batch.Item(tmp_path / f"{name}.png", tmp_path / f"{name}_out.png"))
        loaded = ConvolveOptions(paths=Paths(process="cold", core_loaded=True))
        result = batch.run(items, partial(numba_around, job=partial(convolve_file, kernel_spec="sobel_v", options=loaded)), workers=2)
        assert result.workers == 2 and result.ok == 2, result.records
        assert [r.notes for r in result.records] == [["numba before=False after=False"]] * 2
        expected = convolve_file(items[0].input, "sobel_v", ConvolveOptions(paths=Paths(process="cold")), out=tmp_path / "here.png")
        assert expected.output and (tmp_path / "here.png").read_bytes() == items[0].output.read_bytes()

    def test_unexpected_error_fails_one_item_and_means_exit_70(self, tmp_path):
        items = [batch.Item(tmp_path / n, tmp_path / f"o_{n}") for n in ("good.png", "bad.png", "fine.png")]
        result = batch.run(items, failing_job, workers=1)
        assert [r.status for r in result.records] == ["ok", "failed", "ok"]
        assert "internal error: RuntimeError: unexpected" in result.records[1].error
        assert result.exit_code == 70

    def test_unpicklable_job_runs_in_process_with_a_note(self, tmp_path):
        items = [batch.Item(tmp_path / "a.png", tmp_path / "o.png"), batch.Item(tmp_path / "b.png", tmp_path / "p.png")]
        result = batch.run(items, lambda p, *, out: SimpleNamespace(notes=[]), workers=2)
        assert result.ok == 2 and result.workers == 1 and "one process" in result.notes[0]

    def test_thread_budget(self):
        assert batch.threads_per_worker(1, 8) == 8
        assert batch.threads_per_worker(3, 8) == 2
        assert batch.threads_per_worker(9, 8) == 1
        assert batch.resolve_workers(None, 1000) == (os.cpu_count() or 1)
        with pytest.raises(UsageError):
            batch.resolve_workers(0, 3)


def _same_bytes_folder(a: Path, b: Path) -> None:
    ta, tb = tree(a), tree(b)
    assert sorted(ta) == sorted(tb)
    for name in ta:
        assert ta[name] == tb[name], name


class TestCli:
    def test_samples_plus_a_broken_file(self, tmp_path):
        """The issue's "done when": good files processed, the bad one reported, exit 1."""
        inputs = tmp_path / "in"
        import importlib.util

        # (phantom3d.nii.gz is pooled as a volume, given the medical extra)
        volumes = () if importlib.util.find_spec("nibabel") else ("*.nii.gz",)
        shutil.copytree(SAMPLES, inputs, ignore=shutil.ignore_patterns("*.py", "*.md", *volumes))
        from kernelcli.io.naming import INPUT_SUFFIXES

        good = sorted(p.name for p in inputs.iterdir() if p.suffix in INPUT_SUFFIXES or p.name.endswith(".nii.gz"))
        assert len(good) >= 5
        (inputs / "broken.png").write_bytes((SAMPLES / "phantom.png").read_bytes()[:300])
        before = tree(inputs)
        r = run_cli("pool", str(inputs), "--size", "2", "--out-dir", str(tmp_path / "out"), "--json", "--workers", "2")
        assert r.returncode == 1, r.stderr
        assert "Traceback" not in r.stderr
        assert re.search(r"error: .*broken\.png: cannot decode image", r.stderr)
        doc = json.loads(r.stdout)
        status = {Path(i["input"]).name: i["status"] for i in doc["items"]}
        assert status.pop("broken.png") == "failed"
        assert sorted(status) == good and set(status.values()) == {"ok"}
        assert doc["totals"]["ok"] == len(good) and doc["totals"]["failed"] == 1
        assert SUMMARY.search(r.stderr).group(1, 2) == (str(len(good)), "1")
        assert tree(inputs) == before and not parts_left(tmp_path)
        assert not (tmp_path / "out" / "broken_maxpool2.png").exists()
        written = sorted(p.name for p in (tmp_path / "out").iterdir())
        assert len(written) == len(good)

    @pytest.mark.parametrize("command", ["pool", "pad"])
    def test_batch_is_byte_identical_to_one_by_one(self, tmp_path, command):
        """Worker processes with capped threads give the same bytes as separate single calls.
        The policy (``paths``, passed explicitly) sends even these small images through the
        threaded jitted core."""
        from functools import partial

        from kernelcli import batch, jobs
        from kernelcli._core.policy import Paths

        inputs = tmp_path / "in"
        for i in range(4):
            png(inputs / f"g{i}.png", noise(i, (70, 66)))
        png(inputs / "rgb.png", noise(7, (40, 52, 3)))
        png(inputs / "deep.png", noise(8, (50, 40), np.uint16))
        jit = Paths(force="jit")
        if command == "pool":
            job = partial(jobs.pool_file, size=2, op="avg", stride=None, padding=0, ceil_mode=False, count_include_pad=True, paths=jit)
        else:
            job = partial(jobs.pad_file, widths=3, mode="reflect", value=0.0, paths=jit)
        items = batch.plan(batch.discover([inputs]), out_dir=tmp_path / "batch", suffix=command)
        result = batch.run(items, job, workers=2)
        assert result.failed == 0, result.as_dict()
        single = tmp_path / "single"
        single.mkdir()
        for item in items:
            job(item.input, out=single / item.output.name)
        _same_bytes_folder(tmp_path / "batch", single)

    @pytest.mark.parametrize("kernel", ["gaussian:1.3", "laplacian_8"])
    def test_convolve_batch_is_byte_identical_to_separate_calls(self, tmp_path, kernel):
        """The core's path (numpy, jitted, separable, FFT) is a pure function of each call, so
        a long-running worker writes what a fresh process writes, even for a kernel whose
        weights round differently on different paths."""
        inputs = tmp_path / "in"
        for i, size in enumerate([(40, 50), (300, 280), (900, 700)]):
            png(inputs / f"g{i}.png", noise(i, size))
        png(inputs / "rgb.png", noise(7, (200, 150, 3)))
        # the batch in this long-running process, each file alone in a fresh one
        r = run_in_process("convolve", str(inputs), "-k", kernel, "--out-dir", str(tmp_path / "batch"), "-j", "1", "-q")
        assert (r.returncode, r.stdout) == (0, ""), r.stderr  # -q: the files are the answer
        single = tmp_path / "single"
        single.mkdir()
        for p in sorted(inputs.iterdir()):
            out = sorted((tmp_path / "batch").iterdir())[0].name.replace("g0", p.stem)
            one = run_cli("convolve", str(p), "-k", kernel, "--out", str(single / out), "-q")
            assert one.returncode == 0, one.stderr
        _same_bytes_folder(tmp_path / "batch", single)

    def test_json_report_file_and_stdout_paths(self, scans, tmp_path):
        out, report = tmp_path / "out", tmp_path / "report.json"
        r = CliRunner().invoke(app, ["pool", str(scans), "-r", "--size", "2", "--out-dir", str(out), "--report", str(report), "-j", "1"])
        assert r.exit_code == 0, r.stderr
        assert r.stdout.splitlines() == [str(out / "a_maxpool2.png"), str(out / "sub" / "b_maxpool2.png"), str(out / "sub" / "deeper" / "c_maxpool2.png")]
        assert SUMMARY.search(r.stderr).group(1, 2) == ("3", "0")
        doc = json.loads(report.read_text())
        from kernelcli.batch import RECORD_FIELDS

        assert [list(i) for i in doc["items"]] == [list(RECORD_FIELDS)] * 3
        assert doc["totals"]["total"] == 3 and doc["totals"]["ok"] == 3
        r = CliRunner().invoke(app, ["pool", str(scans), "-r", "--size", "2", "--out-dir", str(tmp_path / "o2"), "--json", "-j", "1", "-q"])
        assert r.exit_code == 0 and r.stderr == ""
        assert json.loads(r.stdout)["totals"]["ok"] == 3

    def test_format_and_suffix(self, scans, tmp_path):
        r = CliRunner().invoke(app, ["pad", str(scans / "a.png"), str(scans / "sub" / "b.png"), "--p", "1",
                                     "--out-dir", str(tmp_path / "o"), "--format", "npy", "--suffix", "p1", "-q"])
        assert r.exit_code == 0, r.stderr
        arr = np.load(tmp_path / "o" / "a_p1.npy")
        assert arr.dtype == np.uint8 and (arr[1:-1, 1:-1] == np.asarray(Image.open(scans / "a.png"))).all()
        r = CliRunner().invoke(app, ["pad", str(scans / "a.png"), "--p", "1", "--out-dir", str(tmp_path / "t"), "--format", "tif", "-q"])
        assert r.exit_code == 0 and (tmp_path / "t" / "a_pad_p1.tif").exists()

    def test_several_inputs_need_out_dir_and_not_out(self, scans, tmp_path):
        r = run_in_process("pool", str(scans / "a.png"), str(scans / "sub" / "b.png"), "--size", "2")
        assert r.returncode == 2 and "--out-dir" in r.stderr
        r = run_in_process("pool", str(scans), "--size", "2", "--out", str(tmp_path / "x.png"), "--out-dir", str(tmp_path))
        assert r.returncode == 2 and "--out names one output file" in r.stderr

    def test_refusal_exit_4_lists_problems_and_does_nothing(self, scans, tmp_path):
        out = tmp_path / "out"
        out.mkdir()
        (out / "a_maxpool2.png").write_bytes(b"keep")
        before = tree(tmp_path)
        r = run_in_process("pool", str(scans), "-r", "--size", "2", "--out-dir", str(out))
        assert r.returncode == 4 and "a_maxpool2.png: already exists" in r.stderr and "Traceback" not in r.stderr
        assert tree(tmp_path) == before

    def test_single_input_behaves_as_before(self, tmp_path):
        png(tmp_path / "a.png", noise(1, (8, 8)))
        r = run_in_process("pool", "a.png", "--size", "2", cwd=tmp_path)
        assert r.returncode == 0 and r.stdout == "a_maxpool2.png\n"
        assert re.fullmatch(r"a\.png 8x8, maxpool2 -> a_maxpool2\.png 4x4, range \[\d+, \d+\], [\d.]+ ms\n", r.stderr)
        r = run_in_process("pool", str(SAMPLES / "example5.csv"), "--size", "2", "-q")
        assert r.stdout == "8 6\n9 9\n"
        r = run_in_process("pool", "missing.png", "--size", "2", cwd=tmp_path)
        assert r.returncode == 2 and "missing.png: no such file" in r.stderr

    def test_single_input_with_report(self, tmp_path):
        png(tmp_path / "a.png", noise(1, (8, 8)))
        r = run_in_process("pool", "a.png", "--size", "2", "--report", "r.json", "-q", cwd=tmp_path)
        assert r.returncode == 0 and r.stdout == "" and (tmp_path / "a_maxpool2.png").is_file()
        doc = json.loads((tmp_path / "r.json").read_text())
        assert doc["items"][0]["status"] == "ok" and doc["totals"]["ok"] == 1
        # the record is one input's --json (its operation, shapes, range... were null), as in a batch's report
        r = run_in_process("pool", "a.png", "--size", "2", "--json", "-o", "b.png", cwd=tmp_path)
        alone = json.loads(r.stdout)
        record = doc["items"][0]
        assert {k: v for k, v in record.items() if k not in ("output", "seconds")} == \
            {k: v for k, v in alone.items() if k not in ("output", "seconds")}
        assert record["operation"] == "maxpool2" and record["output_shape"] == [4, 4]
        (tmp_path / "bad.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
        r = run_in_process("pool", "bad.png", "--size", "2", "--report", "r2.json", cwd=tmp_path)
        assert r.returncode == 2 and "bad.png" in r.stderr
        failed = json.loads((tmp_path / "r2.json").read_text())["items"][0]
        assert (failed["status"], failed["code"]) == ("failed", 2)  # the code was 0, as for a success
        assert failed["error"].startswith("bad.png: ")

    def test_a_report_that_cannot_be_a_file_is_refused_before_any_work(self, tmp_path):
        # a missing folder exited 4 (refused to write), where --out in a missing folder exits 2; '-' wrote a file named '-'
        png(tmp_path / "a.png", noise(1, (8, 8)))
        for report, words in (("nosuch/r.json", "the folder nosuch does not exist"), ("-", "--json prints its records")):
            r = run_in_process("pool", "a.png", "--size", "2", "--report", report, cwd=tmp_path)
            assert r.returncode == 2 and words in r.stderr, r.stderr
        assert sorted(p.name for p in tmp_path.iterdir()) == ["a.png"]

    @pytest.mark.parametrize("args, extra", [
        (("convolve", str(SAMPLES / "phantom3d.nii.gz"), "-k", "gaussian:1.5mm"), "nibabel"),
        (("pool", str(SAMPLES / "phantom3d.nii.gz"), "--size", "2"), "nibabel"),
        (("convolve", "m.npy", "-k", "sobel_v", "--tiled"), "dask"),
        (("pool", "m.npy", "--size", "2", "--tiled"), "dask"),
    ], ids=["volume", "volume pool", "tiled", "tiled pool"])
    def test_a_report_is_written_for_volumes_and_tiled_runs(self, tmp_path, args, extra):
        # --report was silently ignored there: exit 0, no file
        pytest.importorskip(extra)
        np.save(tmp_path / "m.npy", noise(2, (40, 30)).astype(np.float32))
        r = run_in_process(*args, "--report", "r.json", "-q", cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        record = json.loads((tmp_path / "r.json").read_text())["items"][0]
        assert record["status"] == "ok" and record["operation"] and (tmp_path / record["output"]).exists()

    @pytest.mark.parametrize("raised, status, code", [
        ("term", "not run", 143), ("int", "not run", 130), ("bug", "failed", 70), ("memory", "failed", 2)])
    def test_a_single_report_carries_the_code_the_input_exits_with(self, tmp_path, raised, status, code):
        # an interrupted single input was recorded "failed" with code 0
        from kernelcli.cli._batch import run_reported
        from kernelcli.errors import Interrupted

        exc = {"term": Interrupted(15), "int": KeyboardInterrupt(), "bug": ZeroDivisionError("x"), "memory": MemoryError()}[raised]

        def call():
            raise exc

        from kernelcli.limits import OutOfMemory

        with pytest.raises(OutOfMemory if raised == "memory" else type(exc)):  # (the input's error, exit 2: audit 189 #6)
            run_reported(tmp_path / "a.png", call, outputs=[tmp_path / "b.png"], report=tmp_path / "r.json", force=False)
        record = json.loads((tmp_path / "r.json").read_text())["items"][0]
        assert (record["status"], record["code"]) == (status, code)

    def test_no_progress_bar_without_a_terminal(self, scans, tmp_path):
        r = run_cli("pool", str(scans), "-r", "--size", "2", "--out-dir", str(tmp_path / "o"))
        assert r.returncode == 0 and "files/s" not in r.stderr and "\x1b[" not in r.stderr

    def test_progress_bar_on_a_terminal(self, scans, tmp_path):
        import pty
        import select

        leader, follower = pty.openpty()
        proc = subprocess.Popen(
            [sys.executable, "-m", "kernelcli", "pool", str(scans), "-r", "--size", "2", "--out-dir", str(tmp_path / "o")],
            stdout=subprocess.PIPE, stderr=follower,
        )
        os.close(follower)
        def more() -> bytes:
            try:
                return os.read(leader, 65536)
            except OSError:  # (the terminal closed)
                return b""

        seen = b""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            ready, _, _ = select.select([leader], [], [], 0.1)
            if ready:
                chunk = more()
                if not chunk:
                    break
                seen += chunk
            elif proc.poll() is not None:  # ended (its pool's processes may still hold the terminal): what it
                while select.select([leader], [], [], 0.1)[0] and (chunk := more()):  # wrote after the last look
                    seen += chunk  # is read before leaving
                break
        os.close(leader)
        assert proc.wait(timeout=30) == 0
        text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", seen.decode(errors="replace"))
        assert "3/3" in text and "files/s" in text and "ETA" in text
        assert SUMMARY.search(text.replace("\r", "\n"))
        stdout = proc.stdout.read().decode()
        proc.stdout.close()
        assert stdout.count("_maxpool2.png") == 3  # stdout stays clean


def test_planning_compares_outputs_with_inputs_through_a_set(tmp_path, monkeypatch):
    """Regression (issue 15): each planned output was compared with every input's absolute path
    (2,000 PNGs: 4 million os.path.abspath calls, seconds before the first file ran); now once per path."""
    import os

    from PIL import Image

    from kernelcli.cli import run

    real = os.path.abspath

    def calls_for(files: int) -> int:
        src = tmp_path / f"in{files}"
        src.mkdir()
        for i in range(files):
            Image.fromarray(np.full((4, 4), i % 256, np.uint8)).save(src / f"{i:03d}.png")
        calls = []
        monkeypatch.setattr(os.path, "abspath", lambda p: calls.append(p) or real(p))
        code = None
        try:
            code = run(["pad", str(src), "--p", "1", "--out-dir", str(tmp_path / f"out{files}"), "-q", "--workers", "1"])
        except SystemExit as exc:
            code = exc.code
        finally:
            monkeypatch.setattr(os.path, "abspath", real)
        assert code in (0, None)
        return len(calls)

    # linear in the files (it was 60 * 61 and more): a few calls a file, and twice the files twice the calls (about
    # 22 a file since the Zarr store look-ups resolve each output's folders with os.path.realpath, which calls abspath)
    sixty, hundred_twenty = calls_for(60), calls_for(120)
    assert sixty < 60 * 30 and hundred_twenty < 2.2 * sixty, (sixty, hundred_twenty)


#: the CLI as the installed script starts it: sys.path[0] is not the current folder (run_cli's
#: -P would hide the bug: the forkserver inherits it); "spawn": as where there is no forkserver
START = {
    "forkserver": "import sys, runpy; sys.path.pop(0); runpy.run_module('kernelcli', run_name='__main__')",
    "spawn": "import sys, runpy, multiprocessing as mp; sys.path.pop(0); mp.get_all_start_methods = lambda: ['spawn']; "
             "runpy.run_module('kernelcli', run_name='__main__')",
}


@pytest.mark.parametrize("method", sorted(START))
def test_workers_import_this_kernelcli_not_one_in_the_current_folder(tmp_path, method):
    """Python 3.11's forkserver starts with the current folder first on its path: a
    ``kernelcli`` there (a checkout of another version) was what the workers ran."""
    import kernelcli

    fake = tmp_path / "kernelcli"
    fake.mkdir()
    (fake / "__init__.py").write_text(
        'import os\nopen(os.environ["KERNELCLI_TEST_MARK"], "a").write(f"{os.getpid()}\\n")\nraise ImportError("the wrong kernelcli")\n'
    )
    (tmp_path / "in").mkdir()
    for name in ("a", "b"):
        shutil.copy(SAMPLES / "phantom.png", tmp_path / "in" / f"{name}.png")
    mark = tmp_path / "mark"
    here = str(Path(kernelcli.__file__).resolve().parent.parent)
    env = {name: value for name, value in os.environ.items() if name != "PYTHONSAFEPATH"}  # conftest's: it hides the bug
    env = {**env, "KERNELCLI_TEST_MARK": str(mark), "KERNELCLI_WORKER": "off",
           "PYTHONPATH": os.pathsep.join(filter(None, [here, os.environ.get("PYTHONPATH")]))}
    r = subprocess.run([sys.executable, "-c", START[method], "convolve", "in", "-k", "sobel_v", "--workers", "2", "--out-dir", "out"],
                       cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a_sobel_v.png", "b_sobel_v.png"]
    assert not mark.exists(), f"imported the kernelcli in the current folder in processes {mark.read_text().split()}"


def test_the_pool_start_puts_the_environment_back(monkeypatch):
    monkeypatch.delenv("PYTHONSAFEPATH", raising=False)
    monkeypatch.setenv("PYTHONPATH", "elsewhere")
    # found in the first entry, by an interpreter started without the safe path (pytest-xdist's
    # workers inherit conftest's PYTHONSAFEPATH: their sys.flags say safe_path)
    monkeypatch.setattr(batch_pool, "sys", SimpleNamespace(path=[str(Path(batch.__file__).resolve().parents[1]), *sys.path[1:]],
                                                      flags=SimpleNamespace(safe_path=False)))
    with pytest.raises(KeyboardInterrupt), batch_pool._our_kernelcli_first():
        assert os.environ["PYTHONSAFEPATH"] == "1"
        assert os.environ["PYTHONPATH"].split(os.pathsep) == [str(Path(batch.__file__).resolve().parents[1]), "elsewhere"]
        raise KeyboardInterrupt
    assert "PYTHONSAFEPATH" not in os.environ and os.environ["PYTHONPATH"] == "elsewhere"


def test_the_pool_start_leaves_pythonpath_alone_for_an_installed_kernelcli(monkeypatch):
    """Found on the path the pool's processes share (site-packages, a .pth, PYTHONPATH), kernelcli's
    folder was put first on PYTHONPATH all the same (fabcfca): site-packages ahead of the standard
    library in the forkserver and its workers, where an installed ``selectors`` or ``enum``
    backport shadowed the real one and the batch ended with exit 70."""
    monkeypatch.delenv("PYTHONSAFEPATH", raising=False)
    monkeypatch.setenv("PYTHONPATH", "elsewhere")
    monkeypatch.setattr(sys, "path", ["/some/venv/bin", *sys.path[1:]])  # the console script's folder first
    with batch_pool._our_kernelcli_first():
        assert os.environ["PYTHONSAFEPATH"] == "1" and os.environ["PYTHONPATH"] == "elsewhere"
    monkeypatch.delenv("PYTHONPATH")
    with batch_pool._our_kernelcli_first():
        assert "PYTHONPATH" not in os.environ
    assert "PYTHONSAFEPATH" not in os.environ


class TestVolumeBatches:
    """Several volume files (or a folder of them) with --out-dir: each one as `convolve VOL` / `pool VOL` alone.
    They were refused ("a size in mm is for a volume input") or failed one by one ("unsupported file type
    '.gz'", to be written as p1.nii_maxpool2.png)."""

    @pytest.fixture
    def volumes(self, tmp_path):
        pytest.importorskip("nibabel")
        folder = tmp_path / "vols"
        folder.mkdir()
        for name in ("p1.nii.gz", "p2.nii.gz"):
            shutil.copy(SAMPLES / "phantom3d.nii.gz", folder / name)
        return folder

    @pytest.mark.parametrize("args, suffix", [(("convolve", "-k", "gaussian:1.5mm"), "gaussian_1.5mm"),
                                              (("pool", "--size", "2"), "maxpool2")], ids=["convolve", "pool"])
    def test_each_volume_as_alone(self, volumes, tmp_path, args, suffix):
        import nibabel

        r = run_in_process(args[0], "vols", *args[1:], "--out-dir", "out", "-q", cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [f"p1_{suffix}.nii.gz", f"p2_{suffix}.nii.gz"]
        assert run_in_process(args[0], "vols/p1.nii.gz", *args[1:], "-o", "alone.nii.gz", "-q", cwd=tmp_path).returncode == 0
        batch, alone = nibabel.load(tmp_path / "out" / f"p1_{suffix}.nii.gz"), nibabel.load(tmp_path / "alone.nii.gz")
        assert np.array_equal(batch.get_fdata(), alone.get_fdata()) and np.array_equal(batch.affine, alone.affine)

    def test_volumes_and_images_together_each_as_alone(self, volumes, tmp_path):
        # (the shipped samples folder holds both)
        shutil.copy(SAMPLES / "phantom.png", volumes / "slice.png")
        r = run_in_process("pool", "vols", "--size", "2", "--out-dir", "out", "-q", cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["p1_maxpool2.nii.gz", "p2_maxpool2.nii.gz",
                                                                       "slice_maxpool2.png"]
        # a kernel sized in mm suits the volumes only: the image fails alone, saying why (exit 1)
        r = run_in_process("convolve", "vols", "-k", "gaussian:1.5mm", "--out-dir", "out2", "--json", cwd=tmp_path)
        records = {Path(i["input"]).name: i for i in json.loads(r.stdout)["items"]}
        assert r.returncode == 1 and records["p1.nii.gz"]["status"] == records["p2.nii.gz"]["status"] == "ok"
        assert records["slice.png"]["code"] == 3 and "a size in mm is for a volume input" in records["slice.png"]["error"]

    @pytest.mark.parametrize("args, code, words", [
        (["-k", "nosuch"], 3, "unknown kernel 'nosuch'"),
        (["-k", "bad.json"], 3, "bad.json: not valid JSON"),
        (["-k", "box:3", "--bias", "abc"], 2, "Invalid value for '--bias': 'abc'"),
        (["-k", "box:3", "--kernel-scale", "abc"], 2, "Invalid value for '--kernel-scale': 'abc'"),
    ], ids=["missing kernel", "bad kernel file", "bad bias", "bad scale"])
    def test_a_kernel_or_value_neither_kind_takes_is_refused_before_any_file(self, volumes, tmp_path, args, code, words):
        """In a mixed batch these failed every file one by one ('0 ok, 3 failed', exit 1)."""
        shutil.copy(SAMPLES / "phantom.png", volumes / "slice.png")
        (tmp_path / "bad.json").write_text('{"name": "x", "matrix": [[1, 2],\n')
        r = run_in_process("convolve", "vols", *args, "--out-dir", "out", cwd=tmp_path)
        assert r.returncode == code and words in r.stderr and "failed" not in r.stderr, r.stderr
        assert not (tmp_path / "out").exists()

    def test_pad_refuses_each_volume_of_a_batch_saying_why(self, volumes, tmp_path):
        """A volume in a pad batch failed as "unsupported output type '.gz'" (a single one says what pad takes)."""
        shutil.copy(SAMPLES / "phantom.png", volumes / "slice.png")
        r = run_in_process("pad", "vols", "-p", "1", "--out-dir", "out", "--json", cwd=tmp_path)
        records = {Path(i["input"]).name: i for i in json.loads(r.stdout)["items"]}
        assert r.returncode == 1 and records["slice.png"]["status"] == "ok", r.stderr
        for name in ("p1.nii.gz", "p2.nii.gz"):
            assert records[name]["code"] == 2 and "a volume (NIfTI, DICOM or a DICOM series folder); pad takes images" in records[name]["error"]
        assert "cannot be sent to worker processes" not in r.stderr

    def test_options_apply_to_the_kind_that_takes_them(self, volumes, tmp_path):
        # in a mixed batch the images took no --kernel-scale (it was dropped, not applied) and --then was ignored
        shutil.copy(SAMPLES / "phantom.png", volumes / "slice.png")
        r = run_in_process("convolve", "vols", "-k", "sobel_v", "--kernel-scale", "2", "--out-dir", "out", "--json", cwd=tmp_path)
        records = {Path(i["input"]).name: i for i in json.loads(r.stdout)["items"]}
        assert r.returncode == 1 and records["slice.png"]["status"] == "ok"
        assert "--kernel-scale" in records["p1.nii.gz"]["error"] and records["p1.nii.gz"]["code"] == 2
        alone = run_in_process("convolve", "vols/slice.png", "-k", "sobel_v", "--kernel-scale", "2", "-o", "alone.png", cwd=tmp_path)
        assert alone.returncode == 0 and (tmp_path / "alone.png").read_bytes() == (tmp_path / records["slice.png"]["output"]).read_bytes()
        r = run_in_process("convolve", "vols", "-k", "sobel_v", "--then", "maxpool:2", "--out-dir", "out2", cwd=tmp_path)
        assert r.returncode == 2 and "--then chains work on images and arrays" in r.stderr

    def test_a_dicom_series_folder_goes_alone(self, tmp_path):
        series = tmp_path / "series"
        series.mkdir()
        (series / "slice1.dcm").write_bytes(b"\0" * 128 + b"DICM")
        r = run_in_process("convolve", "series", "-k", "gaussian:1mm", "--out-dir", "out", cwd=tmp_path)
        assert r.returncode == 2 and "a DICOM series folder is one volume: give it alone" in r.stderr


def test_one_problem_with_the_outputs_is_one_line(tmp_path):
    # vocabulary audit 8: '-d example1.csv' printed '1 problem(s) with the outputs; nothing was done:' and the problem
    # on a second line
    import shutil

    from conftest import SAMPLES, run_in_process

    shutil.copy(SAMPLES / "example1.csv", tmp_path)
    one = run_in_process("convolve", "example1.csv", "-k", "box:3", "-d", "example1.csv", cwd=tmp_path)
    assert one.returncode == 4
    assert one.stderr == "error: --out-dir example1.csv: exists and is not a folder; nothing was done\n"
    shutil.copy(SAMPLES / "example2.csv", tmp_path)
    two = run_in_process("convolve", "example1.csv", "example2.csv", "-k", "box:3", "-d", ".", "--suffix", "", cwd=tmp_path)
    assert two.returncode == 4 and two.stderr.startswith("error: 2 problem(s) with the outputs; nothing was done:\n")


def test_a_file_name_with_a_line_break_keeps_the_error_on_one_line(tmp_path):
    # batch audit (minor): a failing 'c\nd.png' split its error over two lines of stderr
    from conftest import run_in_process

    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "c\nd.png").write_bytes(b"x")
    (tmp_path / "in" / "ok.png").write_bytes((Path(__file__).parent.parent / "samples" / "phantom.png").read_bytes())
    result = run_in_process("convolve", "in", "-k", "box:3", "-d", "out", cwd=tmp_path)
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert errors == ["error: in/c\\nd.png: not a supported image: the content is not PNG, JPEG, TIFF, BMP or GIF "
                      "(the content decides, not the extension)"]
    assert "d.png" not in result.stderr.replace(errors[0], "")


def test_a_linked_folder_is_read_once_by_recursive_and_by_a_pattern(tmp_path):
    # batch audit (minor): '-r' did not look into a linked folder where '**' did; and a link to a folder above
    # ('a/loop' -> '..') made '**' run one file 40 times over, as a/loop/a/loop/.../p.png (80 outputs for 2 files)
    from conftest import SAMPLES, run_in_process

    (tmp_path / "lk" / "a").mkdir(parents=True)
    (tmp_path / "ext").mkdir()
    shutil.copy(SAMPLES / "phantom.png", tmp_path / "lk" / "a" / "p.png")
    shutil.copy(SAMPLES / "phantom.png", tmp_path / "ext" / "e.png")
    os.symlink("../ext", tmp_path / "lk" / "linked")
    os.symlink("..", tmp_path / "lk" / "a" / "loop")
    for args, out in ((["lk", "-r"], "o1"), (["lk/**/*.png"], "o2")):
        result = run_in_process("convolve", *args, "-k", "box:3", "-d", out, "-q", cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        written = sorted(str(p.relative_to(tmp_path / out)) for p in (tmp_path / out).rglob("*") if p.is_file())
        assert written == ["a/p_box_3.png", "linked/e_box_3.png"], written


@pytest.mark.parametrize("out_dir", ["o", "o/r"])
def test_a_report_named_as_the_output_folder_is_refused_before_any_output(tmp_path, out_dir):
    # the batch audit: '--out-dir o --report o' wrote both outputs, then refused the report (exit 4, 'already exists')
    import shutil

    from conftest import SAMPLES, run_in_process

    for name in ("phantom.png", "rgb.png"):
        shutil.copy(SAMPLES / name, tmp_path / name)
    r = run_in_process("convolve", "phantom.png", "rgb.png", "-k", "sobel_v", "--out-dir", out_dir, "--report", "o", cwd=tmp_path)
    assert r.returncode == 4 and "--report o: is the folder the outputs go in" in r.stderr, r.stderr
    assert not (tmp_path / "o").exists()


def test_a_pattern_over_two_link_loops_ends(tmp_path):
    # the batch audit: 'lk/d/up' -> '..' and 'lk/d2' -> 'd' made glob's '**' list some 2**40 paths of one file: no end
    import shutil

    from conftest import SAMPLES, run_cli

    (tmp_path / "lk" / "d").mkdir(parents=True)
    shutil.copy(SAMPLES / "phantom.png", tmp_path / "lk" / "d" / "p.png")
    (tmp_path / "lk" / "d" / "up").symlink_to("..")
    (tmp_path / "lk" / "d2").symlink_to("d")
    r = run_cli("pool", "lk/**/*.png", "-f", "2", "--out-dir", "o", cwd=tmp_path, timeout=60)  # (a process: it may hang)
    assert r.returncode == 0 and (tmp_path / "o" / "d" / "p_maxpool2.png").is_file(), r.stderr


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl is Linux's")
def test_a_batch_worker_is_stopped_when_its_parent_ends():
    # the batch audit: a main process killed with SIGKILL left its pool workers running, publishing outputs after the
    # command had exited; each worker now asks Linux for SIGTERM when its parent (the forkserver) ends
    import subprocess

    code = ("import ctypes, signal; from kernelcli import batch_pool; batch_pool._stop_with_parent(); got = ctypes.c_int(); "
            "ctypes.CDLL(None).prctl(2, ctypes.byref(got), 0, 0, 0); print(got.value == signal.SIGTERM)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert done.stdout.strip() == "True", done.stderr
