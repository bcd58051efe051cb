"""Audit 126 #3, #5, #6: a batch's document and report whatever stops it: a plan refused with ``--report`` inside the
``--out-dir`` it would have made, a run interrupted part way (its outputs listed), and a call stopped by a signal
(one input's record and a batch's in the same words; a batch stopped before planning still writes its report)."""

from __future__ import annotations

import json
import signal

import numpy as np
import pytest
from PIL import Image

from conftest import run_in_process
from kernelcli.errors import Interrupted

STOPPED = "not run: terminated (SIGTERM)"


@pytest.fixture
def pngs(tmp_path):
    """in/g.png and in/g.tif (both g_box_3.png under --format png) and a.png, b.png in ``tmp_path``."""
    rng = np.random.default_rng(0)
    (tmp_path / "in").mkdir()
    for name in ("in/g.png", "in/g.tif", "a.png", "b.png"):
        Image.fromarray(rng.integers(0, 256, (20, 23), dtype=np.uint8)).save(tmp_path / name)
    return tmp_path


def _stop(*_, **__):
    raise Interrupted(signal.SIGTERM)


def test_a_refused_plan_writes_its_report_into_the_out_dir_it_would_have_made(pngs):
    """#3: --report nd/r.json: no report written, and --json printed a flat record of the folder ("input": "in")."""
    r = run_in_process("convolve", "in", "-k", "box:3", "--out-dir", "nd", "--format", "png", "--report", "nd/r.json",
                       "--json", cwd=pngs)
    elsewhere = run_in_process("convolve", "in", "-k", "box:3", "--out-dir", "ne", "--format", "png", "--report", "r.json",
                               "--json", cwd=pngs)
    assert r.returncode == elsewhere.returncode == 4, r.stderr
    document = json.loads(r.stdout)
    assert "items" in document and [i["input"] for i in document["items"]] == ["in/g.png", "in/g.tif"], r.stdout
    assert [(i["status"], i["code"]) for i in document["items"]] == \
        [(i["status"], i["code"]) for i in json.loads(elsewhere.stdout)["items"]]
    report = json.loads((pngs / "nd" / "r.json").read_text())
    assert report["items"] == document["items"] and sorted(p.name for p in (pngs / "nd").iterdir()) == ["r.json"]


def _stopped_after_one(monkeypatch) -> None:
    """Make a batch run its first file (its notes reaching the display), then stop as a SIGTERM stops it."""
    import kernelcli.batch as batch

    real = batch.run

    def stopped_after_one(items, job, *, progress=None, **_):
        result = real(items[:1], job, workers=1, progress=progress)
        result.records += [batch.not_run(str(i.input), str(i.output), 143, batch.stopped_by(143)) for i in items[1:]]
        result.interrupted, result.interrupt_code = True, 143
        raise batch.BatchInterrupted(result)

    monkeypatch.setattr(batch, "run", stopped_after_one)


def test_an_interrupted_batch_lists_the_outputs_it_kept_and_the_summary(pngs, monkeypatch):
    """#5: stdout was empty and no summary was printed, though the finished outputs are kept."""
    _stopped_after_one(monkeypatch)
    r = run_in_process("pad", "a.png", "b.png", "-p", "1", "--out-dir", "o", cwd=pngs)
    assert r.returncode == 143 and r.stdout == "o/a_pad_p1.png\n", (r.stdout, r.stderr)
    assert "1 ok, 0 failed, 1 not run" in r.stderr and "interrupted after 1 of 2 files" in r.stderr
    quiet = run_in_process("pad", "a.png", "b.png", "-p", "1", "--out-dir", "q", "-q", cwd=pngs)
    assert quiet.returncode == 143 and quiet.stdout == "" and "not run" not in quiet.stderr


def test_an_interrupted_batch_says_the_notes_of_the_files_it_finished(pngs, monkeypatch):
    """Review 51 #6: a stopped batch listed its outputs and summary but dropped the finished files' notes (a finished
    run prints them); both now end through one function."""
    _stopped_after_one(monkeypatch)
    r = run_in_process("convolve", "a.png", "b.png", "-k", "sobel_v", "--out-dir", "o", cwd=pngs)
    assert r.returncode == 143 and r.stdout == "o/a_sobel_v.png\n", (r.stdout, r.stderr)
    assert "note: a.png: " in r.stderr and "clipped to 0" in r.stderr, r.stderr


def test_one_interrupted_inputs_record_says_a_batchs_words(pngs, monkeypatch):
    """#6: one input's --json and --report said "terminated (SIGTERM); temporary files removed", a batch's
    "not run: terminated (SIGTERM)"."""
    import kernelcli.io.pipes as pipes

    monkeypatch.setattr(pipes, "deliver_stdout", _stop)  # (called once the job is done, before the record says ok)
    r = run_in_process("pad", "a.png", "-p", "1", "-o", "one.png", "--report", "one.json", "--json", cwd=pngs)
    record = json.loads(r.stdout)
    item = json.loads((pngs / "one.json").read_text())["items"][0]
    assert r.returncode == 143 and "error: terminated (SIGTERM)" in r.stderr, r.stderr
    assert (record["status"], record["code"], record["error"]) == ("not run", 143, STOPPED)
    assert (item["status"], item["code"], item["error"], item["seconds"]) == ("not run", 143, STOPPED, None)


def test_a_batch_stopped_before_planning_writes_its_report(pngs, monkeypatch):
    """#6: a batch stopped while it found its inputs wrote no --report and printed a flat record."""
    import kernelcli.batch_plan as batch_plan

    monkeypatch.setattr(batch_plan, "discover", _stop)
    r = run_in_process("pad", "a.png", "b.png", "-p", "1", "--out-dir", "o", "--report", "r.json", "--json", cwd=pngs)
    assert r.returncode == 143, r.stderr
    document = json.loads(r.stdout)
    # files named one by one are known: each "not run" (review 51 #4: the items were empty, the totals 0)
    assert document["totals"]["interrupted"] is True and [i["input"] for i in document["items"]] == ["a.png", "b.png"]
    assert {(i["status"], i["code"], i["error"]) for i in document["items"]} == {("not run", 143, STOPPED)}
    assert json.loads((pngs / "r.json").read_text()) == document
    folder = run_in_process("pad", "in", "-p", "1", "--out-dir", "o", "--json", cwd=pngs)  # a folder's: not found yet
    assert folder.returncode == 143 and json.loads(folder.stdout)["items"] == []
    earlier = json.dumps({"items": [], "totals": {"total": 0}})  # an earlier run's report
    (pngs / "r.json").write_text(earlier)
    r = run_in_process("pad", "a.png", "b.png", "-p", "1", "--out-dir", "o", "--report", "r.json", cwd=pngs)
    assert r.returncode == 143 and (pngs / "r.json").read_text() == earlier  # (left alone without --force)
    assert "note: --report r.json: not written: it exists" in r.stderr  # (said: audit 131 #5)
    r = run_in_process("pad", "a.png", "b.png", "-p", "1", "--out-dir", "o", "--report", "new/r.json", cwd=pngs)
    assert r.returncode == 143 and "note: --report new/r.json: not written: its folder does not exist yet" in r.stderr
    r = run_in_process("pad", "a.png", "b.png", "-p", "1", "--out-dir", "o", "--report", "r.json", "--force", cwd=pngs)
    assert r.returncode == 143 and json.loads((pngs / "r.json").read_text())["totals"]["interrupted"] is True
    (pngs / "in" / "r.json").write_text("an input folder's")  # under --force too, never a file the inputs hold
    r = run_in_process("pad", "in", "-p", "1", "--out-dir", "o", "--report", "in/r.json", "--force", cwd=pngs)
    assert r.returncode == 143 and (pngs / "in" / "r.json").read_text() == "an input folder's"


@pytest.mark.parametrize("call, replaced", [
    (["convolve", "a.png", "b.png", "-k", "k.json", "--out-dir", "o", "--report", "k.json"], "k.json"),
    (["pad", "in/*.png", "-p", "1", "--out-dir", "o", "--report", "in/g.png"], "in/g.png"),
    (["pad", "a.png", "b.png", "-p", "1", "--out-dir", "o", "--report", "notes.txt"], "notes.txt"),
], ids=["kernel-file", "pattern-match", "other-file"])
def test_a_stopped_batch_under_force_replaces_only_an_earlier_report(pngs, monkeypatch, call, replaced):
    """Review 52 #1: a batch stopped while it found its inputs replaced, under --force, its kernel file and a PNG its
    pattern matched with the report (the same call unstopped refuses them, exit 4): a stop replaces only an earlier
    run's report, and says so."""
    import kernelcli.batch_plan as batch_plan

    (pngs / "k.json").write_text(json.dumps({"name": "k", "matrix": [[0, 1, 0], [1, 1, 1], [0, 1, 0]]}))
    (pngs / "notes.txt").write_text("mine")
    before = (pngs / replaced).read_bytes()
    if replaced != "notes.txt":  # an input: the call unstopped refuses it (a file of no input's it replaces)
        unstopped = run_in_process(*call, "--force", cwd=pngs)
        assert unstopped.returncode == 4 and (pngs / replaced).read_bytes() == before, unstopped.stderr
    monkeypatch.setattr(batch_plan, "discover", _stop)
    r = run_in_process(*call, "--force", cwd=pngs)
    assert r.returncode == 143, r.stderr
    assert (pngs / replaced).read_bytes() == before
    assert f"note: --report {replaced}: not written: it is not an earlier run's report" in r.stderr


@pytest.mark.parametrize("command, patched", [
    (["learn", "x.npy", "y.npy", "--size", "3", "--method", "gd"], ("kernelcli.learn", "learn_kernel")),
    (["gallery", "x.npy", "-o", "sheet.png"], ("kernelcli.jobs_gallery", "gallery_file")),
])
@pytest.mark.parametrize("json_flag", [[], ["--json"]])
def test_a_command_of_one_path_stopped_by_a_signal_exits_as_stopped(tmp_path, monkeypatch, command, patched, json_flag):
    """A stop in learn or gallery (whose input is one path, not a list) was exit 70 after 'error: interrupted':
    the handler iterated the Path (TypeError), and through the worker its call process died."""
    import importlib

    rng = np.random.default_rng(5)
    np.save(tmp_path / "x.npy", rng.normal(size=(16, 16)))
    np.save(tmp_path / "y.npy", rng.normal(size=(14, 14)))
    module, name = patched
    monkeypatch.setattr(importlib.import_module(module), name, _stop)
    done = run_in_process(*command, *json_flag, cwd=tmp_path)
    assert done.returncode == 143, done.stderr
    assert "internal error" not in done.stderr and "terminated (SIGTERM)" in done.stderr
    if json_flag:
        record = json.loads(done.stdout)
        assert (record["status"], record["code"], record["error"], record["input"]) == ("not run", 143, STOPPED, "x.npy")


def test_a_stopped_command_without_out_dir_is_never_a_batch(tmp_path, monkeypatch):
    """Review 51 #5: the stop's own rule of a batch (written beside _batch.is_batch) read learn's folder input as a
    batch: a stopped 'learn somefolder y.npy --json' printed a batch document, which learn never prints."""
    import kernelcli.learn

    (tmp_path / "folder").mkdir()
    np.save(tmp_path / "y.npy", np.zeros((4, 4)))
    monkeypatch.setattr(kernelcli.learn, "learn_kernel", _stop)
    from kernelcli.cli import _signals

    report, result, batch, _ = _signals.stopped_report([tmp_path / "folder"], {"target": tmp_path / "y.npy"}, Interrupted(signal.SIGTERM))
    assert batch is False and [r.input for r in result.records] == [str(tmp_path / "folder")]
