"""Audit 114 (batches and output safety, round 3): outputs that are one file through a linked output folder,
a pool worker killed by SIGKILL, one run's cleanup and another run's temporary files, a report that cannot be
written at the end, one shape for a "not run" record, and a file reached through two arguments."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import run_in_process


def png(path: Path, seed: int = 0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.random.default_rng(seed).integers(0, 256, (20, 24), dtype=np.uint8)).save(path)
    return path


class TestOneFileThroughALinkedOutputFolder:
    """Finding 1: the plan compared outputs by spelled paths; two spelled through a link were one file, both 'ok'."""

    @pytest.fixture
    def linked(self, tmp_path):
        png(tmp_path / "in" / "x" / "a.png", 1)
        png(tmp_path / "in" / "y" / "a.png", 2)
        (tmp_path / "o" / "y").mkdir(parents=True)
        (tmp_path / "o" / "x").symlink_to("y")
        return tmp_path

    @pytest.mark.parametrize("force", [[], ["--force"]])
    def test_a_link_to_a_sibling_output_folder_is_refused_before_any_work(self, linked, force):
        # with --force: exit 0, both records ok, one file holding whichever finished last; without: exit 4 after one write
        r = run_in_process("convolve", "in", "-r", "-k", "sobel_v", "--out-dir", "o", "--workers", "1", *force, cwd=linked)
        assert r.returncode == 4, r.stderr
        line = r.stderr.strip().splitlines()[0]
        assert "in/x/a.png and in/y/a.png would both be written there" in line and "o/y/a_sobel_v.png" in line, line
        assert "o/x/a_sobel_v.png" in line and "nothing was done" in line, line
        assert os.listdir(linked / "o" / "y") == []

    def test_a_link_to_the_output_folder_itself_is_refused_with_the_records(self, tmp_path):
        png(tmp_path / "in" / "a.png", 1)
        png(tmp_path / "in" / "sub" / "a.png", 2)
        (tmp_path / "o").mkdir()
        (tmp_path / "o" / "sub").symlink_to(".")
        r = run_in_process("convolve", "in", "-r", "-k", "sobel_v", "--out-dir", "o", "--force", "--json", cwd=tmp_path)
        assert r.returncode == 4, r.stderr
        items = json.loads(r.stdout)["items"]
        assert [i["status"] for i in items] == ["not run", "failed"] and all(i["code"] == 4 for i in items)
        assert "in/a.png and in/sub/a.png would both be written there" in items[1]["error"]
        assert sorted(os.listdir(tmp_path / "o")) == ["sub"]

    def test_distinct_folders_are_not_refused(self, linked):
        (linked / "o" / "x").unlink()
        r = run_in_process("convolve", "in", "-r", "-k", "sobel_v", "--out-dir", "o", "--workers", "1", "-q", cwd=linked)
        assert r.returncode == 0, r.stderr
        assert (linked / "o" / "x" / "a_sobel_v.png").is_file() and (linked / "o" / "y" / "a_sobel_v.png").is_file()


#: a worker of the batch below kills itself with SIGKILL as it is about to publish its first output, as the
#: out-of-memory killer would (only the first: a marker file made with O_EXCL picks it)
KILL_ONE_WORKER = """
import os, signal, multiprocessing
def _kill_first(marker=os.environ.get("AUDIT114_KILL_MARKER")):
    if marker is None or multiprocessing.parent_process() is None:
        return
    try:
        os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return
    os.kill(os.getpid(), signal.SIGKILL)
if os.environ.get("AUDIT114_KILL_MARKER"):
    from kernelcli.io import outputs, temporary
    outputs.BEFORE_PUBLISH.append(_kill_first)
"""


class TestAWorkerKilledBySigkill:
    """Finding 2: multiprocessing.Pool never returns a task whose worker died; the batch waited for it for ever."""

    def test_the_killed_workers_file_fails_alone_and_the_run_exits_1(self, tmp_path):
        from conftest import run_cli

        for i in range(6):
            png(tmp_path / "in" / f"f{i}.png", i)
        (tmp_path / "site").mkdir()
        (tmp_path / "site" / "sitecustomize.py").write_text(KILL_ONE_WORKER)
        env = {"PYTHONPATH": str(tmp_path / "site"), "AUDIT114_KILL_MARKER": str(tmp_path / "killed"),
               "KERNELCLI_WORKER": "off"}
        r = run_cli("convolve", "in", "-k", "box:3", "--out-dir", "o", "--workers", "2", "--json", "--report", "r.json",
                    cwd=tmp_path, env=env, timeout=90)
        assert (tmp_path / "killed").exists(), "no worker was killed"
        assert r.returncode == 1, r.stderr
        items = json.loads(r.stdout)["items"]
        failed = [i for i in items if i["status"] != "ok"]
        assert len(failed) == 1 and failed[0]["code"] == 1 and failed[0]["status"] == "failed", failed
        assert failed[0]["error"].startswith(failed[0]["input"] + ": ")
        assert "killed by SIGKILL (out of memory?)" in failed[0]["error"]
        assert json.loads((tmp_path / "r.json").read_text())["items"] == items
        written = sorted(os.listdir(tmp_path / "o"))
        assert written == sorted(Path(i["output"]).name for i in items if i["status"] == "ok") and len(written) == 5
        assert "5 ok, 1 failed" in r.stderr and "Traceback" not in r.stderr


def worker_temp_prefix(input_path, *, out):
    """A picklable job: the temporary-name prefix its worker process would give ``out``."""
    from types import SimpleNamespace

    from kernelcli.io import temporary

    return SimpleNamespace(notes=[temporary.temp_prefix(Path(out)), str(os.getpid())])


class TestACleanupRemovesOnlyItsOwnTemporaryFiles:
    """Finding 3: a run's cleanup removed every '.<name>.*.part' in the folder, another run's unfinished ones too."""

    ANOTHER_RUNS = ".b_box_3.png.zzzzzzzz.part", ".b_box_3.png.zzzzzz.abcdefgh.part"

    def test_the_cleanup_leaves_another_runs_temporary_files(self, tmp_path):
        from kernelcli.io import temporary

        ours = tmp_path / (temporary.temp_prefix(tmp_path / "b_box_3.png") + "abcdefgh.part")
        for name in self.ANOTHER_RUNS:
            (tmp_path / name).write_bytes(b"another run's bytes")
        ours.write_bytes(b"")
        assert temporary.remove_temporary_files_of([tmp_path / "b_box_3.png"]) == 1
        assert sorted(p.name for p in tmp_path.iterdir()) == sorted(self.ANOTHER_RUNS)

    def test_a_temporary_name_carries_the_run_and_fits_255_bytes(self, tmp_path):
        from kernelcli.io import outputs, temporary

        name = temporary.temp_prefix(tmp_path / "a.png")
        assert name == f".a.png.{temporary.run_token()}." and len(temporary.run_token()) == temporary.RUN_TOKEN_LETTERS
        longest = temporary.temp_prefix(tmp_path / ("é" * 127 + ".p")) + "abcdefgh" + temporary.PART_SUFFIX
        assert len(os.fsencode(longest)) <= 255
        fd, made = outputs.temporary_beside(tmp_path / ("m" * 251 + ".png"), tmp_path)
        os.close(fd)
        assert len(os.fsencode(os.path.basename(made))) <= 255 and temporary.temporary_files(tmp_path / ("m" * 251 + ".png"))

    def test_a_batchs_worker_processes_name_their_files_with_the_runs_token(self, tmp_path):
        from kernelcli import batch
        from kernelcli.io import temporary

        items = [batch.Item(png(tmp_path / f"{n}.png"), tmp_path / f"o_{n}.png") for n in "ab"]
        result = batch.run(items, worker_temp_prefix, workers=2)
        assert result.workers == 2 and result.ok == 2, result.records
        assert {r.notes[1] for r in result.records} - {str(os.getpid())}, "ran in worker processes"
        assert [r.notes[0] for r in result.records] == [temporary.temp_prefix(it.output) for it in items]

    def test_a_scheduler_run_leaves_another_runs_temporary_files(self, tmp_path):
        pytest.importorskip("dask")
        pytest.importorskip("distributed")
        png(tmp_path / "in" / "a.png", 1)
        png(tmp_path / "in" / "b.png", 2)
        (tmp_path / "out").mkdir()
        for name in self.ANOTHER_RUNS:
            (tmp_path / "out" / name).write_bytes(b"another run's bytes")
        from conftest import run_cli

        r = run_cli("convolve", "in", "-k", "box:3", "--out-dir", "out", "--scheduler", "local", "--workers", "1", "-q",
                    cwd=tmp_path, env={"KERNELCLI_WORKER": "off"}, timeout=240)
        assert r.returncode == 0, r.stderr
        assert sorted(os.listdir(tmp_path / "out")) == sorted([*self.ANOTHER_RUNS, "a_box_3.png", "b_box_3.png"])


class TestAReportThatCannotBeWrittenAtTheEnd:
    """Finding 4: exit 4 ('nothing done') or 1, no summary, and --json a one-input failure record naming the
    input folder, although every output was written."""

    def test_a_report_that_appeared_meanwhile(self, tmp_path, monkeypatch):
        from kernelcli.io import outputs

        for i in range(3):
            png(tmp_path / "in" / f"f{i}.png", i)
        report = tmp_path / "r.json"
        monkeypatch.setattr(outputs, "BEFORE_PUBLISH", [lambda: report.exists() or report.write_text("{}")])
        r = run_in_process("convolve", "in", "-k", "box:3", "--out-dir", "o", "--workers", "1", "--report", "r.json",
                           "--json", cwd=tmp_path, env={"KERNELCLI_WORKER": "off"})
        assert r.returncode == 4, r.stderr
        document = json.loads(r.stdout)
        assert document["totals"]["ok"] == 3 and len(document["items"]) == 3
        assert all(any("--report r.json: not written: already exists" in n for n in i["notes"]) for i in document["items"])
        assert "3 ok, 0 failed" in r.stderr
        last = r.stderr.strip().splitlines()[-1]
        assert last.startswith("error: --report r.json: already exists") and "3 output(s) are written" in last, r.stderr
        assert report.read_text() == "{}" and len(os.listdir(tmp_path / "o")) == 3

    def test_a_report_too_big_for_the_file_size_limit(self, tmp_path):
        import resource
        import subprocess
        import sys

        import kernelcli

        for i in range(3):
            png(tmp_path / "in" / f"f{i}.png", i)

        def small_files():
            resource.setrlimit(resource.RLIMIT_FSIZE, (1500, 1500))

        env = dict(os.environ, KERNELCLI_WORKER="off", PYTHONPATH=str(Path(kernelcli.__file__).parent.parent))
        r = subprocess.run([sys.executable, "-P", "-m", "kernelcli", "convolve", "in", "-k", "box:3", "--out-dir", "o",
                            "--workers", "1", "--report", "r.json", "--json"], cwd=tmp_path, env=env, capture_output=True,
                           text=True, timeout=120, preexec_fn=small_files)
        assert r.returncode == 1, r.stderr
        assert json.loads(r.stdout)["totals"]["ok"] == 3 and "3 ok, 0 failed" in r.stderr
        assert "error: --report r.json: write failed: File too large" in r.stderr and not (tmp_path / "r.json").exists()


class TestOneShapeForNotRun:
    """Finding 5: an interrupted batch's "not run" records said error null, seconds 0.0; one interrupted input's
    record says why and seconds null; a refused plan's said why and seconds 0.0."""

    @pytest.mark.parametrize("code, why", [(130, "interrupted"), (143, "terminated (SIGTERM)"), (129, "hung up (SIGHUP)")])
    def test_an_interrupted_batchs_not_run_records(self, tmp_path, code, why):
        from kernelcli import batch

        items = [batch.Item(tmp_path / "a.png", tmp_path / "o.png")]
        record = batch._result(items, [None], 0.0, 1, [], interrupted=code).records[0].as_dict()
        assert (record["status"], record["code"], record["error"], record["seconds"]) == ("not run", code, f"not run: {why}", None)

    def test_a_refused_plans_not_run_records(self, tmp_path):
        png(tmp_path / "in" / "a.png", 1)
        png(tmp_path / "in" / "b.png", 2)
        png(tmp_path / "o" / "a_box_3.png", 3)
        r = run_in_process("convolve", "in", "-k", "box:3", "--out-dir", "o", "--json", cwd=tmp_path)
        assert r.returncode == 4, r.stderr
        not_run = [i for i in json.loads(r.stdout)["items"] if i["status"] == "not run"]
        assert len(not_run) == 1 and not_run[0]["error"].startswith("not run: ") and not_run[0]["seconds"] is None

    def test_one_interrupted_input_says_the_same_words(self):
        from kernelcli.cli._signals import interrupted_message
        from kernelcli.errors import Interrupted
        import signal

        assert interrupted_message(Interrupted(signal.SIGTERM)) == "terminated (SIGTERM); temporary files removed"
        assert interrupted_message(Interrupted(signal.SIGHUP)) == "hung up (SIGHUP); temporary files removed"
        assert interrupted_message(KeyboardInterrupt()) == "interrupted"


class TestAFileReachedThroughTwoArguments:
    """Finding 6: where a file reached by two arguments was written depended on their order, with no note."""

    @pytest.mark.parametrize("args, placed, first, again", [
        (["in/sub", "in"], "o/b_pad_p1.png", "in/sub", "in"),
        (["in", "in/sub"], "o/sub/b_pad_p1.png", "in", "in/sub"),
    ])
    def test_a_note_names_the_file_and_the_argument_that_places_it(self, tmp_path, args, placed, first, again):
        png(tmp_path / "in" / "a.png", 1)
        png(tmp_path / "in" / "sub" / "b.png", 2)
        r = run_in_process("pad", *args, "-r", "-p", "1", "--out-dir", "o", cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        assert (tmp_path / placed).is_file()
        assert f"in/sub/b.png, reached again through {again}; placed as {first}, the first argument" in r.stderr, r.stderr

    def test_the_same_argument_twice_needs_no_note(self, tmp_path):
        png(tmp_path / "in" / "a.png", 1)
        r = run_in_process("pad", "in", "in", "-p", "1", "--out-dir", "o", cwd=tmp_path)
        assert r.returncode == 0 and "note" not in r.stderr, r.stderr
