"""Review 155 #6: ``learn`` and ``learn_judge`` imported ``_loss`` (and ``_as_kernel``, ``_system``, ``_widths``...)
from ``learn_gd`` and ``learn_system``: a cross-module API under private names.  They are public and documented now
(``fit_loss``, ``kernel_from_weights``, ``im2col_system``, ``fit_widths``, ``with_bias_column``, and the refusals
before a fit, ``check_shapes``/``check_texture``, in ``learn_checks``).
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

import kernelcli

PACKAGE = Path(kernelcli.__file__).resolve().parent
#: the modules the learning code is split into, whose names the others import
PARTS = {"learn_gd", "learn_system", "learn_checks"}


def _imports(path: Path) -> list[tuple[str, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [(node.module, alias.name) for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.level == 1
            and node.module in PARTS for alias in node.names]


@pytest.mark.parametrize("module", sorted(p.stem for p in PACKAGE.glob("learn*.py")))
def test_no_private_name_is_imported_from_a_sibling(module):
    private = [f"{source}.{name}" for source, name in _imports(PACKAGE / f"{module}.py") if name.startswith("_")]
    assert private == [], f"kernelcli/{module}.py imports private names across modules: {private}"


@pytest.mark.parametrize("qualified", ["learn_gd.fit_loss", "learn_gd.kernel_from_weights", "learn_system.im2col_system",
                                       "learn_system.fit_widths", "learn_system.with_bias_column",
                                       "learn_checks.check_shapes", "learn_checks.check_texture"])
def test_the_names_they_share_are_documented(qualified):
    module, name = qualified.split(".")
    function = getattr(importlib.import_module(f"kernelcli.{module}"), name)
    assert function.__doc__ and ">>> " in function.__doc__, f"{qualified} has no docstring with an example"
