"""Issue 16 items 7-9, 11-13: the right exit code and a one-line message for every bad input."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from PIL import Image

from conftest import REPO


def one_error(result, code: int, *words: str) -> str:
    """Failed with ``code``, one error line (no traceback) naming every word."""
    assert result.exit_code == code, (result.exit_code, result.output)
    err = result.stderr
    assert "Traceback" not in err, err
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, err
    for word in words:
        assert word in lines[0], (word, lines[0])
    return lines[0]


@pytest.fixture
def grey(tmp_path):
    path = tmp_path / "g.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (16, 16), dtype=np.uint8)).save(path)
    return path


class TestInternalErrorMessage:
    def test_points_at_a_section_that_exists(self):
        from kernelcli.cli._common import internal_error_message

        message = internal_error_message(ZeroDivisionError("x"))
        section = re.search(r'"([^"]+)" section', message).group(1)
        assert f"### {section}" in (REPO / "README.md").read_text()
        assert "--debug" in message and "http" not in message
