"""Audit 199: stops and signals under load.

#1: a Ctrl-C and a SIGTERM (or SIGHUP) close together: the second was raised inside the first one's cleanup (its exit
code, two error lines, a ``--report`` left "failed, code 0", a ``.part`` left).  The first stop of any kind drops the
later ones of every kind.  Each test signals its own process at a chosen point (no race with a sleep).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest

from conftest import SAMPLES, SIGNALLING, interruptible
from test_early_stops_audit150 import CODES, WORDS

ENV = {**os.environ, "KERNELCLI_WORKER": "off"}

#: the console script, stopped by ``first`` at ``where`` and by ``second`` while the first stop is handled:
#: ``said`` stops the call as the command takes it (before its options are read: no report) and sends the second as
#: the stop's error line is made;
#: ``recorded`` stops the call as its output's temporary file is made and sends the second as the stop is recorded
_STOPPED_TWICE = SIGNALLING + """
import signal, sys
import kernelcli.cli as cli
import kernelcli.cli._common as common
first, second, where = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
del sys.argv[1:4]

if where == "said":
    import kernelcli.cli._signals as signals
    common.begin_call = then(common.begin_call, first)
    signals.interrupted_message = common.interrupted_message = before(signals.interrupted_message, second)
else:
    import kernelcli.io.outputs as outputs
    from kernelcli.batch_records import Record
    outputs.temporary_beside = then(outputs.temporary_beside, first)
    Record.failed = before(Record.failed, second)
sys.argv = ["kernelcli", *sys.argv[1:]]
cli.entry()
"""

_PAIRS = [(signal.SIGINT, signal.SIGTERM), (signal.SIGTERM, signal.SIGINT), (signal.SIGINT, signal.SIGHUP),
          (signal.SIGHUP, signal.SIGINT)]


@pytest.mark.parametrize("where", ["said", "recorded"])
@pytest.mark.parametrize(("first", "second"), _PAIRS, ids=[f"{a.name}-{b.name}" for a, b in _PAIRS])
def test_a_stop_of_another_kind_while_the_first_is_handled_is_dropped(tmp_path, first, second, where):
    done = subprocess.run([sys.executable, "-c", _STOPPED_TWICE, str(int(first)), str(int(second)), where, "convolve",
                           str(SAMPLES / "phantom.png"), "-k", "box:3", "-o", "o.png", "--report", "r.json"],
                          cwd=tmp_path, env=ENV, capture_output=True, text=True, timeout=120, preexec_fn=interruptible)
    assert done.returncode == CODES[first], done
    assert done.stderr.rstrip("\n") == WORDS[first] and "Traceback" not in done.stderr, done.stderr
    if where == "recorded":
        report = json.loads((tmp_path / "r.json").read_text())
        assert [(r["status"], r["code"]) for r in report["items"]] == [("not run", CODES[first])], report
        assert report["totals"]["interrupted"] is True, report
    assert sorted(p.name for p in tmp_path.iterdir()) == (["r.json"] if where == "recorded" else [])  # no .part


_IN_PROCESS = SIGNALLING + """
import signal, sys
import kernelcli.cli as cli
import kernelcli.cli._common as common
common.begin_call = then(common.begin_call, signal.SIGTERM)
sys.argv = ["kernelcli", "shape", "--in", "8", "-f", "3"]
try:
    cli.main()
except SystemExit as done:
    print("stopped", done.code)
try:
    os.kill(os.getpid(), signal.SIGINT)
    print("ctrl-c dropped")
except KeyboardInterrupt:
    print("ctrl-c stops")
"""


def test_a_host_whose_in_process_call_was_stopped_gets_ctrl_c_back(tmp_path):
    """The call drops later stops while it ends (Ctrl-C too); the process that ran it in-process is stopped by Ctrl-C
    again once it returns."""
    done = subprocess.run([sys.executable, "-c", _IN_PROCESS], cwd=tmp_path, capture_output=True, text=True, env=ENV,
                          timeout=120, preexec_fn=interruptible)
    assert done.stdout.splitlines() == ["stopped 143", "ctrl-c stops"], (done.stdout, done.stderr)


#: the console script, sent SIGTERM by itself at ``where``: ``published`` just after an output is put in place,
#: ``batch-said`` as a batch that finished its files writes its report and lists them
_STOPPED_AT = SIGNALLING + """
import signal, sys
import kernelcli.cli as cli
where = sys.argv.pop(1)

if where == "published":
    import kernelcli.io.outputs as outputs
    outputs._publish = then(outputs._publish, signal.SIGTERM)
else:
    import kernelcli.cli._batch as batch
    batch._say_result = then(batch._say_result, signal.SIGTERM)
sys.argv = ["kernelcli", *sys.argv[1:]]
cli.entry()
"""


def _stopped_at(where, tmp_path, *args):
    return subprocess.run([sys.executable, "-c", _STOPPED_AT, where, *map(str, args)], cwd=tmp_path, env=ENV,
                          capture_output=True, text=True, timeout=120, preexec_fn=interruptible)


_ONE_INPUT = {"one": (["-k", "box:3", "-o", "o.png"], ["o.png"]),
              "montage": (["-k", "sobel_v", "-k", "sobel_h", "-o", "m.npy", "--montage", "mm.png"], ["m.npy", "mm.png"]),
              "tiled": (["-k", "box:3", "-o", "t.npy", "--tiled", "--chunks", "64"], ["t.npy"])}


@pytest.mark.parametrize("case", list(_ONE_INPUT))
@pytest.mark.parametrize("said", ["--report", "--json"])
def test_one_input_stopped_once_its_output_is_published_is_recorded_ok(tmp_path, case, said):
    """Audit 199 #2: the output whole on disk, its record "not run" (``--report`` and ``--json`` alike): a script that
    trusted it ran the input again and was refused ``already exists``.  The stop waits until the record and the listing
    are out, then is said with its code, as for a batch stopped after its last file."""
    if case == "tiled":
        pytest.importorskip("dask")  # (--tiled: the [distributed] extra)
    args, written = _ONE_INPUT[case]
    extra = ["--report", "r.json"] if said == "--report" else ["--json"]
    given = SAMPLES / "phantom.png"
    if case == "tiled":  # (the tiled path reads .npy, TIFF and Zarr stores)
        import numpy as np

        given = tmp_path.parent / f"{tmp_path.name}-in.npy"
        np.save(given, np.random.default_rng(0).random((200, 200), dtype=np.float32))
    done = _stopped_at("published", tmp_path, "convolve", given, *args, *extra)
    assert done.returncode == CODES[signal.SIGTERM], done
    lines = done.stderr.splitlines()
    assert lines[-1] == WORDS[signal.SIGTERM] and not [x for x in lines if x.startswith("note: --report")], done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(written + (["r.json"] if said == "--report" else []))
    record = json.loads((tmp_path / "r.json").read_text())["items"][0] if said == "--report" else json.loads(done.stdout)
    assert (record["status"], record["code"], record["output"]) == ("ok", 0, written[0]), record


def test_a_stop_as_a_batch_reports_its_files_does_not_call_its_report_an_earlier_run_s(tmp_path):
    """Audit 199 #3: 'note: --report r.json: not written: it exists (an earlier run's? --force replaces it)' after the
    run had written r.json itself a moment before."""
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.png").write_bytes((SAMPLES / "phantom.png").read_bytes())
    done = _stopped_at("batch-said", tmp_path, "convolve", "in/a.png", "-k", "box:3", "--out-dir", "bo",
                       "--report", "r.json")
    assert done.returncode == CODES[signal.SIGTERM], done
    assert done.stderr.splitlines()[-1] == WORDS[signal.SIGTERM] and "note: --report" not in done.stderr, done.stderr
    report = json.loads((tmp_path / "r.json").read_text())
    assert [r["status"] for r in report["items"]] == ["ok"] and done.stdout.splitlines() == ["bo/a_box_3.png"], done
