"""What kernelcli prints on a terminal: colours and styles (and NO_COLOR), tables fitted to its width."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import select
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from conftest import REPO, run_in_process

pytestmark = pytest.mark.skipif(os.name != "posix", reason="pseudo-terminals")

#: what rich and click read of the environment to decide on colours and widths, left out unless a test sets it
_TERMINAL_ENV = ("NO_COLOR", "FORCE_COLOR", "CLICOLOR_FORCE", "COLUMNS", "LINES", "TTY_COMPATIBLE", "TTY_INTERACTIVE")


def on_a_terminal(*args: str, env: dict | None = None, columns: int = 80, cwd: Path | None = None) -> tuple[int, str]:
    """``kernelcli ARGS`` with stdout and stderr on a pseudo-terminal ``columns`` wide: (exit code, what it showed)."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    full_env = {k: v for k, v in os.environ.items() if k not in _TERMINAL_ENV}
    full_env.update({"TERM": "xterm-256color", "KERNELCLI_WORKER": "off", **(env or {})})
    proc = subprocess.Popen([sys.executable, "-P", "-m", "kernelcli", *args], stdin=subprocess.DEVNULL, stdout=follower,
                            stderr=follower, env=full_env, cwd=cwd or REPO)
    os.close(follower)
    chunks = []
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            if not select.select([leader], [], [], 1)[0]:
                continue
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the call closed its end and all was read
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(leader)
    return proc.wait(timeout=60), b"".join(chunks).decode("utf-8", "replace").replace("\r\n", "\n")


class TestNoColor:
    """NO_COLOR (https://no-color.org): set to anything but '', nothing is coloured or styled, on a terminal too."""

    def test_an_error_is_red_on_a_terminal_unless_no_color_is_set(self):
        code, shown = on_a_terminal("convolve", "nosuch.csv", "-k", "sobel_v")
        assert code == 2 and "\x1b[31merror: nosuch.csv: no such file" in shown, shown
        code, shown = on_a_terminal("convolve", "nosuch.csv", "-k", "sobel_v", env={"NO_COLOR": "1"})
        assert (code, shown) == (2, "error: nosuch.csv: no such file\n")
        code, shown = on_a_terminal("convolve", "nosuch.csv", "-k", "sobel_v", env={"NO_COLOR": ""})  # '' is unset
        assert "\x1b[31m" in shown, shown

    @pytest.mark.parametrize("args", [("summary", "alexnet"), ("kernels",)], ids=["summary", "kernels"])
    def test_tables_carry_no_bold_nor_italic(self, args):
        code, shown = on_a_terminal(*args, env={"NO_COLOR": "yes"}, columns=200)
        assert code == 0 and "\x1b" not in shown, shown[:400]
        code, styled = on_a_terminal(*args, columns=200)
        assert code == 0 and "\x1b[1m" in styled and shown == _plain(styled)

    def test_progress_bars_and_warnings_follow_it(self, monkeypatch):
        import io

        from kernelcli.cli import _common

        monkeypatch.setenv("NO_COLOR", "1")
        assert _common.console(file=io.StringIO(), force_terminal=True).color_system is None
        monkeypatch.setenv("NO_COLOR", "")
        assert _common.console(file=io.StringIO(), force_terminal=True).color_system is not None

    def test_colour_is_chosen_in_one_place(self):
        # every rich Console comes from _terminal.console and every coloured line from _terminal.echo, which read NO_COLOR
        for path in (REPO / "kernelcli").rglob("*.py"):
            if path.name == "_terminal.py" and path.parent.name == "cli":
                continue
            text = path.read_text(encoding="utf-8")
            assert "Console(" not in text and "secho(" not in text and "fg=typer.colors" not in text, path


def _plain(text: str) -> str:
    import re

    return re.sub(r"\x1b\[[0-9;]*m", "", text)


class TestKernelsTable:
    """`kernels` on a terminal: the names whole at any width, the description cut to fit."""

    @pytest.mark.parametrize("columns", [80, 120])
    def test_names_and_facts_are_never_cut(self, columns):
        kernels = json.loads(run_in_process("kernels", "--json").stdout)["kernels"]
        code, shown = on_a_terminal("kernels", env={"NO_COLOR": "1"}, columns=columns)
        assert code == 0
        rows = {line.split()[0]: line for line in shown.splitlines() if line.strip()}
        for kernel in kernels:  # (gau…, shift_d… and a size column of … at 80 columns)
            row = rows.get(kernel["name"])
            assert row is not None, (kernel["name"], shown[:2000])
            assert row.split()[1] == kernel["family"] and "…" not in " ".join(row.split()[:5]), row
            assert len(row) <= columns, row
        assert any(line.endswith("…") for line in rows.values())  # the descriptions gave way

    def test_a_terminal_too_narrow_for_the_names_folds_the_lines(self):
        code, shown = on_a_terminal("kernels", env={"NO_COLOR": "1"}, columns=40)
        assert code == 0 and "\nshift_down " in shown and "…" not in shown.split("description")[0], shown[:1000]
