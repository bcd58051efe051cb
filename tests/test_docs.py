"""Tests that keep the documentation honest: docstring examples run, every command is in the README."""

from __future__ import annotations

import doctest
import importlib
import pkgutil
import re

import pytest

import kernelcli
from kernelcli.cli import COMMAND_MODULES

from conftest import REPO

MODULES = sorted(
    m.name for m in pkgutil.walk_packages(kernelcli.__path__, "kernelcli.")
    if not m.name.endswith("__main__")
)


#: packages whose examples use an optional extra: they run where it is installed (CI), skip elsewhere
NEEDS_EXTRA = {"kernelcli.tiled": ("dask", "zarr")}


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name, monkeypatch):
    for package, extras in NEEDS_EXTRA.items():
        if name == package or name.startswith(package + "."):
            for extra in extras:
                pytest.importorskip(extra)
    monkeypatch.chdir(REPO)  # examples name files such as samples/phantom.png
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, report=False)
    assert result.failed == 0, f"{result.failed} docstring example(s) in {name} failed"


@pytest.mark.parametrize("command", COMMAND_MODULES)
def test_every_command_is_shown_in_the_readme(command):
    readme = (REPO / "README.md").read_text()
    assert re.search(rf"kernelcli {command}\b", readme), f"README shows no `kernelcli {command}`"


def test_readme_opens_with_the_two_commands_ci_runs():
    readme = (REPO / "README.md").read_text()
    ci = (REPO / ".ci" / "run").read_text()
    first_block = readme.split("```")[1]
    assert "pip install . && kernelcli convolve samples/" in first_block
    assert "pip install '.[test]' && pytest" in first_block
    assert "pip install '.[test]' && pytest" in ci
