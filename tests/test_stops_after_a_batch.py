"""A stop that lands once a batch's every file is done, before its report and summary are out, waits for them.

Between the last file and the block that defers stops while the report is written (:func:`kernelcli.cli._batch.run_batch`)
lay the end of :func:`kernelcli.batch.run`: a SIGTERM there was said with a report of no file at all
(``"total": 0, "interrupted": true``) and no ``--json`` document, beside every output written; a script that
trusted the report ran the batch again and was refused ``already exists``.  Found by forcing the timing, the kind
test_signals' delays can hit under load.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from conftest import SIGNALLING, interruptible

#: the console script, which sends itself SIGTERM as the batch's run returns (every file is done)
STOPPED_AS_THE_RUN_RETURNS = SIGNALLING + (
    "import signal, sys\n"
    "import kernelcli.batch as batch\n"
    "batch.run = then(batch.run, signal.SIGTERM)\n"
    "from kernelcli.cli import entry\n"
    "sys.argv = ['kernelcli', *sys.argv[1:]]\n"
    "entry()\n"
)


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_stop_as_the_run_returns_leaves_the_report_and_the_document(tmp_path, workers):
    for name in ("a.png", "b.png"):
        Image.fromarray(np.zeros((8, 8), np.uint8)).save(tmp_path / name)
    done = subprocess.run([sys.executable, "-c", STOPPED_AS_THE_RUN_RETURNS, "pad", "a.png", "b.png", "--p", "1",
                           "--out-dir", "o", "--workers", workers, "--json", "--report", "r.json"], cwd=tmp_path,
                          env={**os.environ, "KERNELCLI_WORKER": "off"}, capture_output=True, text=True, timeout=120,
                          preexec_fn=interruptible)
    assert done.returncode == 128 + signal.SIGTERM, done.stderr
    assert done.stderr.splitlines()[-1] == "error: terminated (SIGTERM); temporary files removed", done.stderr
    assert "Traceback" not in done.stderr
    document = json.loads(done.stdout)
    assert document["totals"]["ok"] == 2 and document["totals"]["total"] == 2, document["totals"]
    assert json.loads((tmp_path / "r.json").read_text()) == document
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == ["a_pad_p1.png", "b_pad_p1.png"]
