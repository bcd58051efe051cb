"""Imports that hide no loop stand at module level, and no module borrows another's private name (review 153 #11).

``chain.parse_step`` imported ``whole_numbers``, ``numtext`` and ``modes`` inside the function, ``tiled/files``
imported ``errors`` and ``whole_numbers`` in five functions, ``stops.replaced_stop`` imported ``errors`` (which
imports only the standard library), and ``cli/option_values`` imported ``_lean._path``, a private name.  (numpy stays
lazy in ``tiled/files``: the tiled check runs before numpy's thread count is set.)
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "kernelcli"


def _function_level_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for inner in ast.walk(node):
                if isinstance(inner, ast.ImportFrom) and inner.level:
                    found.add(inner.module or "")
    return found


@pytest.mark.parametrize("module, light", [
    ("chain.py", {"errors", "whole_numbers", "numtext", "modes"}),
    ("tiled/files.py", {"errors", "whole_numbers"}),
    ("stops.py", {"errors"}),
])
def test_light_imports_stand_at_module_level(module, light):
    assert not _function_level_imports(PACKAGE / module) & light


def test_the_path_converter_is_public():
    tree = ast.parse((PACKAGE / "cli" / "option_values.py").read_text())
    borrowed = [alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module == "_lean"
                for alias in node.names if alias.name.startswith("_")]
    assert not borrowed
    from kernelcli.cli import _lean

    assert not hasattr(_lean, "_path") and callable(_lean.lean_path)


def test_importing_them_loads_no_numpy():
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", "import sys, kernelcli.tiled.files, kernelcli.chain, kernelcli.stops, "
                           "kernelcli.cli.option_values; print('numpy' in sys.modules)"], capture_output=True, text=True)
    assert done.stdout.strip() == "False", done.stderr
