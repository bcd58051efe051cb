"""Audit 117 #2: a --scheduler value no scheduler can answer on was tried for 10 s or named in distributed's words
("not enough values to unpack"), and '' printed as "--scheduler :": refused at once, quoted, saying what is expected."""

from __future__ import annotations

import time

import numpy as np
import pytest

from conftest import run_in_process


@pytest.mark.parametrize("value, why", [
    ("", "it names no host and port"),
    ("inproc://x", "its scheme inproc:// is not one a scheduler of another process answers on"),
    ("tcp://:8786", "it names no host and port"),
    ("tcp://host:99999", "its port 99999 is not a port (1 to 65535)"),
    ("host:", "it names no port"),
    ("udp://host:8786", "its scheme udp://"),
])
def test_a_value_no_scheduler_answers_on_is_refused_at_once(tmp_path, value, why):
    np.save(tmp_path / "g.npy", np.zeros((8, 8), np.float32))
    began = time.monotonic()
    done = run_in_process("convolve", "g.npy", "-k", "box:3", "-o", "c.npy", "--scheduler", value, cwd=tmp_path)
    assert done.returncode == 2 and f"Invalid value for '--scheduler': '{value}': {why}" in done.stderr, done.stderr
    assert "expected 'local' or a dask scheduler's address" in done.stderr and time.monotonic() - began < 9
    assert not (tmp_path / "c.npy").exists()


@pytest.mark.parametrize("value", ["tcp://10.0.0.5:8786", "10.0.0.5:8786", "tls://[::1]:8786", "local"])
def test_an_address_or_local_is_taken(value):
    from kernelcli.cli.option_values import checked_scheduler
    from kernelcli.tiled.cluster import scheduler_problem

    assert scheduler_problem(value) is None and checked_scheduler(value) == value


def test_local_is_read_in_any_case():
    from kernelcli.cli.option_values import checked_scheduler

    assert checked_scheduler("LOCAL") == checked_scheduler(" Local ") == "local"


def test_the_api_refuses_it_before_it_tries_to_reach_it():
    from kernelcli.errors import UsageError
    from kernelcli.tiled.cluster import client_for

    with pytest.raises(UsageError, match=r"--scheduler 'inproc://x': its scheme inproc://"):
        with client_for("inproc://x"):
            pass
