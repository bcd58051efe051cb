"""Audit 208 #8: a program that calls ``kernelcli.cli.main()`` in-process kept kernelcli's SIGTERM and SIGHUP handlers
(and its Ctrl-C one) after each call, where main() promises the host's stops are its own again: a later SIGTERM raised
kernelcli's Interrupted inside the host's code.  Each call now gives back the handlers it found."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from conftest import SAMPLES

HOST = r"""
import signal, sys
import kernelcli.cli

def mine(signum, frame):
    print("host's own", signum)

signal.signal(signal.SIGTERM, mine)  # the host's own handler; SIGHUP and Ctrl-C as Python starts
before = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)}
for argv in sys.argv[1:]:
    sys.argv = ["kernelcli", *argv.split()]
    try:
        kernelcli.cli.main()
    except SystemExit as exc:
        code = exc.code
    after = {s: signal.getsignal(s) for s in before}
    print("HOST:", code, [signal.Signals(s).name for s in before if after[s] is not before[s]])
"""


@pytest.mark.parametrize("call", ["shape --in 8 --f 3 -q", "convolve phantom.png -k sobel_v -o out.png",
                                  "convolve phantom.png -k nosuch -o out2.png", "kernels show sobel_v --json"])
def test_an_in_process_call_gives_back_the_hosts_stop_handlers(tmp_path, call):
    (tmp_path / "phantom.png").write_bytes((SAMPLES / "phantom.png").read_bytes())
    env = dict(os.environ, KERNELCLI_WORKER="off")
    done = subprocess.run([sys.executable, "-c", HOST, call, call], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=120)
    lines = [line for line in done.stdout.splitlines() if line.startswith("HOST:")]
    assert len(lines) == 2 and all(line.endswith(" []") for line in lines), (done.stdout, done.stderr)
