"""A stop that a C extension's import turned into its own ImportError is reported as the stop it was (audit 143 #1).

A SIGTERM landing while numpy imports ``datetime`` (``PyCapsule_Import``) becomes an ImportError; the handler has
noted the signal first (:mod:`kernelcli.stops`).  ``guarded`` exited 143 for it but printed no ``--json`` and wrote no
``--report``; one input's report recorded it as a bug (code 70, ``"interrupted": false``); and under ``--workers 1``
the batch recorded it as a bug and went on with the next file (exit 70).  Injected as the audit did: ``stops.note``,
then the ImportError.
"""

from __future__ import annotations

import json
import signal

import numpy as np
import pytest
from PIL import Image

from conftest import run_in_process
from kernelcli import stops

STOPPED = "not run: terminated (SIGTERM)"


def _pngs(tmp_path, n=4):
    for i in range(n):
        Image.fromarray((np.arange(40 * 50).reshape(40, 50) * (i + 1) % 256).astype(np.uint8)).save(tmp_path / f"g{i}.png")


def _replaced(*_, **__):
    stops.note(signal.SIGTERM)  # what the SIGTERM handler does before it raises
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # (and a second SIGTERM is ignored: the run must stop now)
    raise ImportError("numpy.core.multiarray failed to import")  # the stop, replaced by the extension's error


def test_a_batch_stopped_while_it_finds_its_inputs_prints_its_document_and_writes_its_report(tmp_path, monkeypatch):
    import kernelcli.batch_plan as batch_plan

    _pngs(tmp_path, 2)
    monkeypatch.setattr(batch_plan, "discover", _replaced)
    done = run_in_process("convolve", "g0.png", "g1.png", "-k", "box:3", "--out-dir", "o", "--report", "r.json", "--json",
                          cwd=tmp_path)
    assert done.returncode == 143, done.stderr
    assert "terminated (SIGTERM)" in done.stderr and "internal error" not in done.stderr, done.stderr
    printed = json.loads(done.stdout)
    assert [(r["input"], r["status"], r["error"]) for r in printed["items"]] == [("g0.png", "not run", STOPPED),
                                                                                 ("g1.png", "not run", STOPPED)]
    assert printed["totals"]["interrupted"] is True
    assert json.loads((tmp_path / "r.json").read_text()) == printed


def test_one_input_stopped_while_it_reads_records_the_stop_not_a_bug(tmp_path, monkeypatch):
    import kernelcli.io.formats as images  # (the reader the file jobs call: formats' own name for it)

    _pngs(tmp_path, 1)
    monkeypatch.setattr(images, "read_image", _replaced)
    done = run_in_process("convolve", "g0.png", "-k", "box:3", "-o", "o1.png", "--report", "r1.json", "--json", "--force",
                          cwd=tmp_path)
    assert done.returncode == 143, done.stderr
    assert "internal error" not in done.stderr, done.stderr
    report = json.loads((tmp_path / "r1.json").read_text())
    assert [(r["status"], r["code"], r["error"]) for r in report["items"]] == [("not run", 143, STOPPED)]
    assert report["totals"]["interrupted"] is True
    printed = json.loads(done.stdout)
    assert (printed["status"], printed["code"], printed["error"]) == ("not run", 143, STOPPED)
    assert not (tmp_path / "o1.png").exists()


@pytest.mark.parametrize("with_report", [True, False], ids=["report", "no-report"])
def test_one_input_stopped_without_report_prints_the_stop_s_record(tmp_path, monkeypatch, with_report):
    import kernelcli.io.formats as images  # (the reader the file jobs call: formats' own name for it)

    _pngs(tmp_path, 1)
    monkeypatch.setattr(images, "read_image", _replaced)
    extra = ["--report", "r.json"] if with_report else []
    done = run_in_process("convolve", "g0.png", "-k", "box:3", "-o", "o1.png", "--json", *extra, cwd=tmp_path)
    assert done.returncode == 143, done.stderr
    printed = json.loads(done.stdout)
    assert (printed["status"], printed["code"], printed["error"]) == ("not run", 143, STOPPED)


def test_a_batch_in_one_process_stops_at_the_replaced_stop(tmp_path, monkeypatch):
    import kernelcli.io.formats as images

    _pngs(tmp_path, 4)
    real, calls = images.read_image, []

    def second_replaced(*args, **kwargs):
        calls.append(1)
        return _replaced() if len(calls) == 2 else real(*args, **kwargs)

    monkeypatch.setattr(images, "read_image", second_replaced)
    done = run_in_process("convolve", "g0.png", "g1.png", "g2.png", "g3.png", "-k", "box:3", "--out-dir", "ob",
                          "--report", "rb.json", "--json", "-j", "1", cwd=tmp_path)
    assert done.returncode == 143, done.stderr
    assert "internal error" not in done.stderr, done.stderr
    report = json.loads((tmp_path / "rb.json").read_text())
    assert [(r["input"], r["status"]) for r in report["items"]] == [
        ("g0.png", "ok"), ("g1.png", "not run"), ("g2.png", "not run"), ("g3.png", "not run")]
    assert report["totals"]["interrupted"] is True
    assert sorted(p.name for p in (tmp_path / "ob").iterdir()) == ["g0_box_3.png"], "the run stopped at the stop"


def test_a_record_of_a_replaced_stop_is_not_run():
    from kernelcli.batch_records import Record

    stops.forget()
    try:
        stops.note(signal.SIGTERM)
        record = Record("a.png", "o.png", "ok")
        record.failed(ImportError("numpy.core.multiarray failed to import"), "a.png", "tb")
    finally:
        stops.forget()
    assert (record.status, record.code, record.internal, record.error) == ("not run", 143, False, "terminated (SIGTERM)")
