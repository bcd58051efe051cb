"""Audit 196 #7: a library call printed "kernelcli: compiling the numeric core ..." with a bare print on stderr, which
``logging.disable(logging.CRITICAL)`` (a notebook's or a service's way of silencing a library) did not silence, and
the API's docs did not mention.  From a library call it is now a WARNING of the logger ``kernelcli.compiling``:
printed alone on stderr where no logging is set up (as before), silenced or routed by logging; the command line
prints it on stderr as before (``-q`` silences it).
"""

from __future__ import annotations

import logging
import subprocess
import sys

import pytest

from kernelcli import jitcache

NOTE = "kernelcli: compiling the numeric core (first run only; cached afterwards)..."


def _stderr_of(setup: str) -> str:
    code = f"import logging; {setup}; from kernelcli import jitcache; jitcache.announce_compiling('the numeric core')"
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stderr


class TestALibraryCallsCompilingNote:
    def test_with_no_logging_set_up_it_is_the_line_alone_on_stderr(self):
        assert _stderr_of("pass") == NOTE + "\n"

    @pytest.mark.parametrize("setup", ["logging.disable(logging.CRITICAL)", "logging.getLogger('kernelcli').setLevel(logging.ERROR)"])
    def test_logging_silences_it(self, setup):
        assert _stderr_of(setup) == ""

    def test_it_is_a_warning_of_the_kernelcli_compiling_logger(self, caplog, monkeypatch):
        monkeypatch.setattr(jitcache, "ON_COMMAND_LINE", False)
        monkeypatch.setattr(jitcache, "QUIET", False)
        package = logging.getLogger("kernelcli")  # (as a command run in this process before leaves it: its notes' handler)
        monkeypatch.setattr(package, "propagate", True)
        monkeypatch.setattr(package, "handlers", [])
        with caplog.at_level(logging.WARNING, logger="kernelcli.compiling"):
            jitcache.announce_compiling("the numeric core")
        assert [(r.name, r.levelno, r.getMessage()) for r in caplog.records] == [("kernelcli.compiling", logging.WARNING, NOTE)]

    def test_the_command_line_prints_it(self, capsys, monkeypatch):
        monkeypatch.setattr(jitcache, "ON_COMMAND_LINE", True)
        monkeypatch.setattr(jitcache, "QUIET", False)
        jitcache.announce_compiling("the numeric core")
        assert capsys.readouterr().err == NOTE + "\n"
