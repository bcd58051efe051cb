"""Tests that keep the documentation honest: docstring examples run, every command is in the README, every link of
the README and docs/ reaches a page and a heading that exist."""

from __future__ import annotations

import doctest
import importlib
import pkgutil
import re

import pytest

import kernelcli
from kernelcli.cli import COMMAND_MODULES

from conftest import DOCS, REPO

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


def _anchors(page) -> set[str]:
    """The anchors GitHub gives a page's headings (lower case, punctuation but '-' and '_' dropped, spaces to '-'),
    code blocks left out."""
    text = re.sub(r"^```.*?^```", "", page.read_text(encoding="utf-8"), flags=re.M | re.S)
    titles = re.findall(r"^#{1,6} (.+)$", text, re.M)
    return {re.sub(r"[^\w\- ]", "", t.strip().lower()).replace(" ", "-") for t in titles}


def _links(page) -> list[str]:
    text = re.sub(r"^```.*?^```", "", page.read_text(encoding="utf-8"), flags=re.M | re.S)
    return [t for t in re.findall(r"\]\(([^)\s]+)\)", text) if not re.match(r"[a-z]+:", t)]


PAGES = [REPO / "README.md", *sorted(DOCS.glob("*.md"))]


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_every_link_reaches_a_page_and_heading_that_exist(page):
    broken = []
    for link in _links(page):
        path, _, anchor = link.partition("#")
        target = (page.parent / path).resolve() if path else page
        if not target.exists() or (anchor and target.suffix == ".md" and anchor not in _anchors(target)):
            broken.append(link)
    assert not broken, f"{page.name}: links to nothing: {broken}"


def test_every_page_of_docs_is_linked_from_the_readme():
    linked = {(REPO / link.partition("#")[0]).resolve() for link in _links(REPO / "README.md")}
    assert [p.name for p in DOCS.glob("*.md") if p.resolve() not in linked] == []
