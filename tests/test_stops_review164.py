"""Review 164 #5: one rule for "this error stands for a stop a signal made".

``cli._signals.stop_replaced_by(exc)`` ignored ``exc``, ``cli._batch._replaced_stop`` left out a MemoryError, and
``batch_pool.run_one`` asked ``stops.replaced_stop()`` alone: after a signal was noted, the same MemoryError stopped a
``--workers 1`` batch (exit 143) and was "not enough memory" for one input with ``--report``.  Injected as the audits
did: the handler's ``stops.note``, then the error.
"""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest

from kernelcli import stops
from kernelcli.errors import InputError


@pytest.fixture(autouse=True)
def _no_stop_left():
    stops.forget()
    yield
    stops.forget()


def _job_raising(exc):
    def job(*args, **kwargs):
        stops.note(signal.SIGTERM)  # what the stop's handler does first
        raise exc

    return job


@pytest.mark.parametrize(("exc", "stands"), [(ImportError("PyCapsule_Import"), True), (InputError("a.nii: not readable"), True),
                                             (MemoryError(), False), (KeyboardInterrupt(), False), (SystemExit(1), False)],
                         ids=["ImportError", "ours", "MemoryError", "the-stop-itself", "SystemExit"])
def test_one_rule_says_which_error_stands_for_a_stop(exc, stands):
    from kernelcli.stops import stop_replaced_by

    assert stop_replaced_by(exc) is None  # no signal received: none does
    stops.note(signal.SIGTERM)
    stop = stop_replaced_by(exc)
    assert (stop is not None) is stands
    if stands:
        assert isinstance(stop, KeyboardInterrupt) and stop.signum == signal.SIGTERM  # type: ignore[attr-defined]


def test_a_memory_error_after_a_signal_is_the_file_s_in_a_batch_as_for_one_input(tmp_path):
    from kernelcli.batch_pool import run_one
    from kernelcli.batch_targets import Item
    from kernelcli.cli._batch import run_reported

    from kernelcli.limits import OutOfMemory

    record = run_one(_job_raising(MemoryError()), Item(tmp_path / "a.png", tmp_path / "o.png"))
    assert (record.status, record.code) == ("failed", 2)  # (audit 189 #6: the code and line the input alone gives)
    assert record.error.startswith(f"{tmp_path / 'a.png'}: not enough memory for this operation")
    stops.forget()
    with pytest.raises(OutOfMemory):
        run_reported(tmp_path / "a.png", _job_raising(MemoryError()), outputs=[tmp_path / "o.png"], report=tmp_path / "r.json",
                     force=False)
    [alone] = json.loads(Path(tmp_path / "r.json").read_text())["items"]
    assert (alone["status"], alone["code"], alone["error"]) == (record.status, record.code, record.error)


def test_an_error_after_a_signal_stops_a_batch_and_one_input_alike(tmp_path):
    from kernelcli.batch_pool import run_one
    from kernelcli.batch_targets import Item
    from kernelcli.cli._batch import run_reported

    with pytest.raises(KeyboardInterrupt) as in_batch:
        run_one(_job_raising(InputError("a.nii: not a readable NIfTI file")), Item(tmp_path / "a.nii", tmp_path / "o.nii"))
    stops.forget()
    with pytest.raises(KeyboardInterrupt) as alone:
        run_reported(tmp_path / "a.nii", _job_raising(InputError("a.nii: not a readable NIfTI file")),
                     outputs=[tmp_path / "o.nii"], report=tmp_path / "r.json", force=False)
    assert in_batch.value.signum == alone.value.signum == signal.SIGTERM  # type: ignore[attr-defined]
    [record] = json.loads(Path(tmp_path / "r.json").read_text())["items"]
    assert (record["status"], record["code"]) == ("not run", 143)
