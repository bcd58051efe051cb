"""Audit 194: the kernel catalogue's vocabulary, one way everywhere.

#1: an inline kernel's and a JSON list's ``source`` said ``--kernel`` in ``kernels show`` (and its --json) and on the
API's ``Kernel.source``, where no ``--kernel`` was given.
"""

from __future__ import annotations

import json

import pytest

from conftest import run_in_process
from kernelcli.catalog import load_kernel


def show(*args: str, cwd=None):
    return run_in_process("kernels", "show", *args, cwd=cwd)


class TestTheSourceOfAKernelGivenInline:
    @pytest.mark.parametrize("spec, source", [("1x1: 2", "given inline"), ("3: 1 2 3 4 5 6 7 8 9", "given inline"),
                                              ("-1", "given inline"), ("[[1,2],[3,4]]", "given as a JSON list")])
    def test_the_api_names_no_option(self, spec, source):
        assert load_kernel(spec).source.startswith(source) and "--" not in load_kernel(spec).source

    def test_kernels_show_and_its_json_name_no_option(self):
        shown = show("--", "-1")
        assert shown.returncode == 0 and "source: given inline" in shown.stdout and "--kernel" not in shown.stdout, shown.stdout
        record = json.loads(show("[[1,2],[3,4]]", "--json").stdout)
        assert record["source"] == "given as a JSON list", record
