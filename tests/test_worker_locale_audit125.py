"""Audit 125 #1: under a locale whose file-system encoding is not the worker's (Latin-1 against UTF-8), the
worker's call encoded the caller's argv, folder and environment back to other bytes: an input it could not
find (exit 2) and an output written under another name than ``-o`` (exit 0, stdout naming a file that did
not exist).  Such a call now runs in the caller's own process, as for other import-time settings."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from kernelcli.worker import protocol, server

from conftest import SAMPLES
from test_worker import cli_env, status

pytestmark = pytest.mark.skipif(not hasattr(socket, "AF_UNIX") or os.name != "posix", reason="Unix sockets")

REASON = "different file-system encoding (LC_ALL/LC_CTYPE/LANG)"


def test_a_call_decoded_with_another_file_system_encoding_is_refused():
    serving = server.Server("/nonexistent/w.sock", 60)
    call = {"argv": [], "stamp": protocol.version_stamp(), **protocol.caller_state()}
    assert call["fs_encoding"] == [sys.getfilesystemencoding(), sys.getfilesystemencodeerrors()]
    assert serving._refusal(call, []) is None
    for other in (["iso8859-1", call["fs_encoding"][1]], [call["fs_encoding"][0], "strict"]):
        assert serving._refusal({**call, "fs_encoding": other}, []) == REASON
    assert serving._refusal({k: v for k, v in call.items() if k != "fs_encoding"}, []) == REASON


@pytest.fixture(scope="module")
def latin1(tmp_path_factory) -> dict:
    """The environment of a Latin-1 locale made with ``localedef`` into a temporary ``LOCPATH``."""
    if shutil.which("localedef") is None:
        pytest.skip("no localedef to make a Latin-1 locale")
    where = tmp_path_factory.mktemp("locale")
    made = subprocess.run(["localedef", "-i", "en_US", "-f", "ISO-8859-1", str(where / "en_US.ISO-8859-1")],
                          capture_output=True, timeout=120, check=False)
    env = {"LOCPATH": str(where), "LC_ALL": "en_US.ISO-8859-1"}
    seen = subprocess.run([sys.executable, "-c", "import sys; print(sys.getfilesystemencoding())"], capture_output=True,
                          text=True, env={**os.environ, **env}, check=False)
    if seen.stdout.strip() != "iso8859-1":
        pytest.skip(f"localedef made no Latin-1 locale here: {made.stderr.decode(errors='replace').strip()[:200]}")
    return env


def _call(args: list[bytes], cwd: Path, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kernelcli", *args], cwd=cwd, env={**cli_env(), **env},
                          capture_output=True, timeout=300, check=False)


def test_a_latin1_locale_reads_and_writes_the_names_given(worker, latin1, tmp_path):
    assert sys.getfilesystemencoding() != "iso8859-1", "the worker must run under another encoding than the call"
    results = {}
    for where in ("off", "on"):
        folder = tmp_path / where
        folder.mkdir()
        (folder / "s.png").write_bytes((SAMPLES / "phantom.png").read_bytes())
        with open(os.path.join(os.fsencode(folder), b"sm\xe9.png"), "wb") as f:
            f.write((SAMPLES / "phantom.png").read_bytes())
        env = {**worker, **latin1, "KERNELCLI_WORKER": where}
        before = status(worker)["refused"]
        read = _call([b"convolve", b"sm\xe9.png", b"-k", b"box:3", b"-o", b"in.png", b"-q"], folder, env)
        written = _call([b"convolve", b"s.png", b"-k", b"box:3", b"-o", b"r\xe9sultat.png"], folder, env)
        noted = _call([b"convolve", b"s.png", b"-k", b"box:3", b"-o", b"x.png", b"-q", b"--debug"], folder, env)
        if where == "on":
            assert status(worker)["refused"] == before + 3
            assert f"worker not used ({REASON})".encode() in noted.stderr
        assert (read.returncode, read.stderr) == (0, b"")
        assert written.returncode == 0 and written.stdout.strip().endswith(b"r\xe9sultat.png"), written
        names = sorted(os.listdir(os.fsencode(folder)))
        assert names == [b"in.png", b"r\xe9sultat.png", b"s.png", b"sm\xe9.png", b"x.png"], names
        # (the pixels, not the file's bytes: both calls run cold here, and CI once saw two cold runs of this one call
        # deflate the same rows by ISA-L into 4415 and 4416 bytes; its stream differed from the Huffman header on)
        results[where] = (written.stdout.replace(os.fsencode(folder), b"F"), np.asarray(Image.open(folder / "in.png")))
    assert results["on"][0] == results["off"][0] and np.array_equal(results["on"][1], results["off"][1])
