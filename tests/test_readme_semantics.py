"""The README's examples for layouts, kernels, pipes and chains run and print what the README shows."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO, imagemagick

SECTIONS = ("### Axis order: `--layout`", "## Kernels", "### Pipes and chains")


def _commands() -> list[tuple[str, list[str]]]:
    """(command, the lines shown after it) for every ``$ ...`` line of those sections' console blocks."""
    readme = (REPO / "README.md").read_text()
    found = []
    for title in SECTIONS:
        body = readme.split(title, 1)[1]
        body = re.split(r"\n#{2,3} ", body, maxsplit=1)[0]
        for block in re.findall(r"```console\n(.*?)```", body, re.DOTALL):
            lines = block.replace("\\\n", "").splitlines()
            for i, line in enumerate(lines):
                if line.startswith("$ "):
                    shown = []
                    for after in lines[i + 1:]:
                        if after.startswith("$ ") or not after.strip():
                            break
                        shown.append(after)
                    found.append((line[2:], shown))
    return found


COMMANDS = _commands()


def test_the_sections_have_examples():
    assert len(COMMANDS) >= 6


@pytest.mark.parametrize(("command", "shown"), COMMANDS, ids=[c for c, _ in COMMANDS])
def test_readme_command(tmp_path, command, shown):
    import kernelcli

    if command.startswith("convert "):
        convert = imagemagick()
        if convert is None:
            pytest.skip("ImageMagick's convert is not installed")
        command = shlex.quote(convert) + command.removeprefix("convert")
    (tmp_path / "samples").symlink_to(REPO / "samples")
    here = str(Path(kernelcli.__file__).resolve().parent.parent)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [here, os.environ.get("PYTHONPATH")])))
    line = command.replace("kernelcli ", f"{sys.executable} -m kernelcli ")
    done = subprocess.run(["bash", "-c", line], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    errors = [s for s in shown if s.startswith("error: ")]
    if errors:
        assert done.returncode == 2 and done.stderr.strip().splitlines()[-1] == errors[0]
        return
    assert done.returncode == 0, done.stderr
    if " -q" in command:
        assert done.stdout.splitlines() == shown
