"""Audit 204: stops held once one input's output is in place, when that output is a Zarr store.

#1: the store is swapped in inside a ``signals_deferred`` block, and the hold (audit 199 #2) began inside it: the
block's end took the hold away and the call's end put the block's noting handler back for good.  A stop after the swap
recorded "not run" beside a complete store (or, inside the block, was lost: exit 0), and a host running the call
in-process had its Ctrl-C and SIGTERM noted in a list nobody reads.  Each test signals its own process at a chosen point.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import numpy as np
import pytest

from conftest import SAMPLES, SIGNALLING, interruptible
from test_early_stops_audit150 import CODES, WORDS

ENV = {**os.environ, "KERNELCLI_WORKER": "off"}

#: the console script, sent ``signals`` by itself at ``where``: ``swap`` inside the store's swap, just after it,
#: ``stored`` once the store's writer returned, ``published`` just after a file output is put in place
_STOPPED_AT = SIGNALLING + """
import sys
import kernelcli.cli as cli
where, signals = sys.argv[1], [int(s) for s in sys.argv[2].split(",") if s]
del sys.argv[1:3]

if where == "published":
    import kernelcli.io.outputs as outputs
    outputs._publish = then(outputs._publish, *signals)
else:
    import kernelcli.tiled.writers as writers
    if where == "swap":
        writers._publish_store = then(writers._publish_store, *signals)
    else:
        writers.write_zarr = then(writers.write_zarr, *signals)
sys.argv = ["kernelcli", *sys.argv[1:]]
cli.entry()
"""


def _stopped_at(where, signals, tmp_path, *args, ignored=()):
    def start():
        interruptible()
        for sig in ignored:  # (as nohup leaves SIGHUP)
            signal.signal(sig, signal.SIG_IGN)

    return subprocess.run([sys.executable, "-c", _STOPPED_AT, where, ",".join(str(int(s)) for s in signals),
                           *map(str, args)], cwd=tmp_path, env=ENV, capture_output=True, text=True, timeout=120,
                          preexec_fn=start)


@pytest.fixture
def array(tmp_path):
    given = tmp_path.parent / f"{tmp_path.name}-in.npy"
    np.save(given, np.random.default_rng(0).random((200, 200), dtype=np.float32))
    return given


def _record(done, tmp_path, said):
    return json.loads((tmp_path / "r.json").read_text())["items"][0] if said == "--report" else json.loads(done.stdout)


@pytest.mark.parametrize("where", ["swap", "stored", "replaced"])
@pytest.mark.parametrize("said", ["--report", "--json"])
def test_a_store_stopped_once_it_is_in_place_is_recorded_ok(tmp_path, array, where, said):
    """A SIGTERM as the store is swapped in (``replaced``: under --force, over an earlier store) or once its writer
    returned: exit 143, the stop said alone, the record "ok" and the store listed, as for a file output."""
    pytest.importorskip("zarr")
    pytest.importorskip("dask")
    extra = ["--report", "r.json"] if said == "--report" else ["--json"]
    force = []
    if where == "replaced":
        assert _stopped_at("stored", [], tmp_path, "convolve", array, "-k", "box:3", "-o", "o.zarr").returncode == 0
        force = ["--force"]
    done = _stopped_at("stored" if where == "stored" else "swap", [signal.SIGTERM], tmp_path, "convolve", array,
                       "-k", "box:3", "-o", "o.zarr", *extra, *force)
    assert done.returncode == CODES[signal.SIGTERM], done
    lines = done.stderr.splitlines()
    assert lines[-1] == WORDS[signal.SIGTERM] and not [x for x in lines if x.startswith("note: --report")], done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["o.zarr"] + (["r.json"] if said == "--report" else []))
    record = _record(done, tmp_path, said)
    assert (record["status"], record["code"], record["output"]) == ("ok", 0, "o.zarr"), record


_HOST = """
import os, signal, sys
from kernelcli.cli import main
given, out, sig = sys.argv[1], sys.argv[2], signal.Signals(int(sys.argv[3]))
sys.argv = ["kernelcli", "convolve", given, "-k", "box:3", "-o", out, "-q"]
try:
    main()
except SystemExit as done:
    print("exit", done.code)
try:  # (one stop: the first drops the later ones)
    os.kill(os.getpid(), sig)
    print(sig.name, "swallowed")
except KeyboardInterrupt:
    print(sig.name, "stops")
"""


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=lambda s: s.name)
@pytest.mark.parametrize("out", ["h.zarr", "h.npy"])
def test_a_host_running_a_call_that_writes_a_store_is_stopped_as_before(tmp_path, array, out, sig):
    """After an in-process call that wrote a .zarr, the host's Ctrl-C and SIGTERM were appended to a dead list."""
    if out.endswith(".zarr"):
        pytest.importorskip("zarr")
        pytest.importorskip("dask")
    done = subprocess.run([sys.executable, "-c", _HOST, str(array), out, str(int(sig))], cwd=tmp_path,
                          capture_output=True, text=True, env=ENV, timeout=120, preexec_fn=interruptible)
    if sig == signal.SIGINT:  # Python's own handler: KeyboardInterrupt
        assert done.stdout.splitlines() == ["exit 0", "SIGINT stops"], (done.stdout, done.stderr)
    else:  # the host's SIGTERM as it found it, the default: the host ends (audit 208 #8: not kernelcli's handler)
        assert (done.returncode, done.stdout.splitlines()) == (-signal.SIGTERM, ["exit 0"]), (done.stdout, done.stderr)


class TestHoldersGivenBackOutOfOrder:
    """held_stops on its own, with SIGUSR1 (not a stop of pytest's): a holder taken inside another's time and given
    back after it."""

    @pytest.fixture(autouse=True)
    def own_handler(self):
        seen = []
        before = signal.signal(signal.SIGUSR1, lambda signum, _frame: seen.append(signum))
        yield seen
        signal.signal(signal.SIGUSR1, before)

    def test_the_later_holder_takes_the_earlier_one_s_handler_and_stops(self, own_handler):
        from kernelcli.io import held_stops

        mine = signal.getsignal(signal.SIGUSR1)
        block = held_stops.hold((signal.SIGUSR1,))
        os.kill(os.getpid(), signal.SIGUSR1)  # (noted by the block)
        call = held_stops.hold((signal.SIGUSR1,))
        assert held_stops.release(block) == []  # (handed to the call's hold, which still holds)
        assert signal.getsignal(signal.SIGUSR1) == call.note and call.pending == [signal.SIGUSR1]
        left = held_stops.release(call)
        assert signal.getsignal(signal.SIGUSR1) == mine and left == [(signal.SIGUSR1, mine)]
        held_stops.act(*left[0])
        assert own_handler == [signal.SIGUSR1]

    def test_nested_in_time_as_before(self, own_handler):
        from kernelcli.io import held_stops

        mine = signal.getsignal(signal.SIGUSR1)
        call = held_stops.hold((signal.SIGUSR1,))
        block = held_stops.hold((signal.SIGUSR1,))
        os.kill(os.getpid(), signal.SIGUSR1)
        left = held_stops.release(block)
        assert left == [(signal.SIGUSR1, call.note)] and signal.getsignal(signal.SIGUSR1) == call.note
        held_stops.act(*left[0])  # (the block acts on its stop: the call's hold notes it)
        assert held_stops.release(call) == [(signal.SIGUSR1, mine)] and signal.getsignal(signal.SIGUSR1) == mine


@pytest.mark.parametrize("out", ["o.png", "o.zarr"])
def test_under_nohup_a_sigterm_after_an_ignored_hang_up_still_stops_the_call(tmp_path, array, out):
    """Audit 204's note: under nohup (SIGHUP ignored) the hold noted the hang-up over SIG_IGN and acted on its first
    stop alone: a SIGHUP then a SIGTERM once the output was in place exited 0.  The ignored hang-up is not held."""
    if out.endswith(".zarr"):
        pytest.importorskip("zarr")
        pytest.importorskip("dask")
    where, given = ("swap", array) if out.endswith(".zarr") else ("published", SAMPLES / "phantom.png")
    done = _stopped_at(where, [signal.SIGHUP, signal.SIGTERM], tmp_path, "convolve", given, "-k", "box:3", "-o", out,
                       "--report", "r.json", ignored=[signal.SIGHUP])
    assert done.returncode == CODES[signal.SIGTERM], done
    assert done.stderr.splitlines()[-1] == WORDS[signal.SIGTERM], done.stderr
    assert _record(done, tmp_path, "--report")["status"] == "ok"


def test_under_nohup_a_hang_up_alone_once_in_place_is_ignored(tmp_path):
    done = _stopped_at("published", [signal.SIGHUP], tmp_path, "convolve", SAMPLES / "phantom.png", "-k", "box:3", "-o", "o.png",
                       "--report", "r.json", ignored=[signal.SIGHUP])
    assert done.returncode == 0 and "error" not in done.stderr, done
    assert _record(done, tmp_path, "--report")["status"] == "ok"
