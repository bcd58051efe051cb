"""Audit 232: calls the worker took that a fresh process would have run otherwise.

#1: a caller whose import path finds another copy of a library the worker loaded (a ``numpy.py`` in the folder of a
``python -m kernelcli``, another user site under another ``HOME``) ran warm on the worker's copy: exit 0 where the
cold call, on the caller's copy, failed (exit 70).

#2: under a memory limit (``ulimit -v``) equal to the worker's, a warm call ran out of memory (exit 2) where the
same call cold succeeded: the call's process is a fork of the warm worker, which already maps some 700 MB.

#4: libraries the worker loaded beyond a fixed list (python-isal, which writes every PNG and .nii.gz; PyYAML...) were
not watched: removed or upgraded under a running worker, it served calls on the old copy.

#5: the interpreter's own options (``python -W error -m kernelcli``, ``-X warn_default_encoding``, ``-O``, ``-B``) were
neither forwarded nor a reason to run in-process: the call ran on the worker's (a dask warning ended the cold call,
exit 70, and not the warm one).
"""

from __future__ import annotations

import json
import os
import re
import resource
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from kernelcli.worker import loaded, protocol, refusal, server

from conftest import REPO
from test_worker import cli_env, status

pytestmark = pytest.mark.skipif(not hasattr(socket, "AF_UNIX") or os.name != "posix", reason="Unix sockets")


def _call(**changes) -> dict:
    """A call as this process would send it, with no memory limit unless ``changes`` set one."""
    call = {"argv": [], "stamp": protocol.version_stamp(), **protocol.caller_state()}
    call["limits"] = {**call["limits"], "RLIMIT_AS": [-1, -1], "RLIMIT_DATA": [-1, -1]}
    for key, value in changes.items():
        call[key] = {**call[key], **value} if isinstance(value, dict) else value
    return call


@pytest.fixture(scope="module")
def serving():
    made = server.Server("/nonexistent/w.sock", 60)
    made.limits = {**made.limits, "RLIMIT_AS": [-1, -1], "RLIMIT_DATA": [-1, -1]}
    return made


@pytest.mark.parametrize("name", ["RLIMIT_AS", "RLIMIT_DATA"])
def test_a_memory_limit_runs_the_call_in_its_own_process_even_the_workers_own(serving, name):
    assert serving._refusal(_call(), []) is None
    assert serving._refusal(_call(limits={name: [900_000 << 10, -1]}), []) == refusal.MEMORY_LIMIT
    serving.limits = {**serving.limits, name: [900_000 << 10, -1]}  # a worker started under the same ulimit -v
    try:
        assert serving._refusal(_call(limits={name: [900_000 << 10, -1]}), []) == refusal.MEMORY_LIMIT
    finally:
        serving.limits = {**serving.limits, name: [-1, -1]}


def test_a_caller_under_ulimit_v_is_refused_by_a_running_worker(worker, tmp_path):
    capped = lambda: resource.setrlimit(resource.RLIMIT_AS, (64 << 30, resource.getrlimit(resource.RLIMIT_AS)[1]))  # noqa: E731
    before = status(worker)
    r = subprocess.run([sys.executable, "-P", "-m", "kernelcli", "shape", "--in", "24", "--f", "5", "-q", "--debug"],
                       capture_output=True, text=True, env={**cli_env(), **worker}, cwd=tmp_path, timeout=120,
                       preexec_fn=capped)
    assert (r.returncode, r.stdout) == (0, "20\n") and refusal.MEMORY_LIMIT in r.stderr, r.stderr
    after = status(worker)
    assert (after["refused"], after["calls"]) == (before["refused"] + 1, before["calls"])


def _options_of(*options: str) -> list:
    """protocol.interpreter_options() of an interpreter started with ``options`` (and no PYTHON* variable)."""
    probe = [sys.executable, *options, "-c", "import json, sys; sys.path.insert(0, sys.argv[1]); "
             "from kernelcli.worker import protocol; print(json.dumps(protocol.interpreter_options()))", str(REPO)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    return json.loads(subprocess.run(probe, capture_output=True, text=True, check=True, env=env).stdout)


@pytest.mark.parametrize("options", [["-W", "error"], ["-X", "warn_default_encoding"], ["-O"], ["-B"], ["-X", "dev"]])
def test_other_interpreter_options_are_refused(serving, options):
    mine = serving.interpreter
    serving.interpreter = _options_of()  # a worker started with none
    try:
        assert serving._refusal(_call(interpreter=_options_of()), []) is None
        assert serving._refusal(_call(interpreter=_options_of(*options)), []) == refusal.INTERPRETER_OPTIONS
    finally:
        serving.interpreter = mine


def test_safe_path_alone_is_no_other_option(serving):
    """-P changes sys.path[0] alone, and the caller's path travels with the call: the tests' own callers use it."""
    flags, warnings, xoptions = protocol.interpreter_options()
    assert "safe_path" not in flags
    assert serving._refusal(_call(interpreter=[flags, warnings, xoptions]), []) is None


def test_a_caller_run_with_w_error_is_refused_by_a_running_worker(worker, tmp_path):
    before = status(worker)
    r = subprocess.run([sys.executable, "-W", "error", "-P", "-m", "kernelcli", "shape", "--in", "24", "--f", "5", "-q",
                        "--debug"], capture_output=True, text=True, env={**cli_env(), **worker}, cwd=tmp_path, timeout=120)
    assert (r.returncode, r.stdout) == (0, "20\n") and refusal.INTERPRETER_OPTIONS in r.stderr, r.stderr
    after = status(worker)
    assert (after["refused"], after["calls"]) == (before["refused"] + 1, before["calls"])


SHADOW = 'raise ImportError("shadow numpy used")\n'


def test_a_path_that_finds_another_copy_of_a_loaded_library_is_told(tmp_path):
    import numpy  # noqa: F401  (loaded here, as in the worker)

    found = loaded.Loaded(["numpy"])
    assert found.loaded == {"numpy": numpy.__file__}
    path = [str(tmp_path), *sys.path]
    assert found.other_copy(path, "/") is None
    (tmp_path / "numpy.py").write_text(SHADOW)  # after the folder's contents were kept: its change is seen
    assert found.other_copy(path, "/") == "numpy"
    assert found.other_copy(["", *sys.path], str(tmp_path)) == "numpy"  # '' is the caller's folder, not the worker's
    assert found.other_copy(["/nonexistent"], "/") == "numpy"  # a path that finds none: a fresh process fails to import


def test_a_caller_whose_folder_holds_another_numpy_is_refused(serving, tmp_path):
    """``python -m kernelcli`` puts the caller's folder first on its path (the tests' callers run with -P, so this
    one is the message a client sends from there)."""
    import numpy  # noqa: F401

    (tmp_path / "numpy.py").write_text(SHADOW)
    mine = serving.loaded
    serving.loaded = loaded.Loaded(["numpy"])
    try:
        assert serving._refusal(_call(), []) is None
        why = serving._refusal(_call(path=[str(tmp_path), *sys.path]), [])
        assert why.startswith(refusal.OTHER_IMPORT_PATH) and "numpy" in why
        assert serving._refusal(_call(path=["", *sys.path], cwd=str(tmp_path)), []) == why
    finally:
        serving.loaded = mine


def test_a_numpy_in_another_user_site_gives_the_cold_answer_warm(worker, tmp_path):
    import site

    import numpy as np

    if not site.ENABLE_USER_SITE:  # a venv (as CI's and the README's): no user site is read, cold or warm
        pytest.skip("this interpreter reads no user site (a virtual environment, or -s)")
    # cli_env puts kernelcli's folder first on PYTHONPATH: where kernelcli is installed (not editable, as `pip install
    # .` under a bare `pytest` in CI) that is the site-packages holding numpy too, which a fresh process finds before
    # the user site: the shadow is not reached cold, and the warm call is served with the same answer
    shadowed = not (Path(cli_env()["PYTHONPATH"].split(os.pathsep)[0]) / "numpy").is_dir()
    answers = []
    for switch in ("off", "on"):
        folder = tmp_path / switch
        folder.mkdir()
        np.save(folder / "a.npy", np.ones((8, 8), np.float32))
        site = folder / "h" / ".local" / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}" / "site-packages"
        site.mkdir(parents=True)
        (site / "numpy.py").write_text(SHADOW)
        before = status(worker)
        r = subprocess.run([sys.executable, "-P", "-m", "kernelcli", "convolve", "a.npy", "-k", "box:3", "-o", "o.npy",
                            "--debug"], capture_output=True, text=True, timeout=120, cwd=folder,
                           env={**cli_env(), **worker, "KERNELCLI_WORKER": switch, "HOME": str(folder / "h")})
        after = status(worker)
        stderr = r.stderr
        if switch == "on" and shadowed:
            assert (after["refused"], after["calls"]) == (before["refused"] + 1, before["calls"]), r.stderr
            note, _, stderr = stderr.partition("\n")
            assert refusal.OTHER_IMPORT_PATH in note and "numpy" in note, note
        elif switch == "on":
            assert (after["refused"], after["calls"]) == (before["refused"], before["calls"] + 1), r.stderr
        said = re.sub(r"[\d.]+ ms$", "T ms", stderr.replace(str(folder), "F"), flags=re.M)  # (--debug times the call)
        answers.append((r.returncode, r.stdout, said, (folder / "o.npy").exists()))
    assert answers[0] == answers[1], answers
    assert (answers[0][0], "shadow numpy used" in answers[0][2]) == ((70, True) if shadowed else (0, False)), answers


@pytest.mark.parametrize("change", ["package moved away", "package file removed", "module removed", "module rewritten"])
def test_any_library_loaded_changing_on_disk_makes_the_worker_stale(tmp_path, monkeypatch, change):
    """As ``pip uninstall isal`` (or an upgrade) under a worker that loaded it: a package and a lone module that are on
    no fixed list, loaded from a folder of their own."""
    import importlib

    name = f"lib232_{abs(hash(change)) % 10**6}"
    (tmp_path / f"{name}_pkg").mkdir()
    (tmp_path / f"{name}_pkg" / "__init__.py").write_text("VALUE = 1\n")
    (tmp_path / f"{name}_mod.py").write_text("VALUE = 2\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    for module in (f"{name}_pkg", f"{name}_mod"):
        imported = importlib.import_module(module)
        del sys.modules[module]
        monkeypatch.setitem(sys.modules, module, imported)  # (gone again as the test ends)
    serving = server.Server("/nonexistent/w.sock", 60)
    serving.loaded = loaded.Loaded([f"{name}_pkg", f"{name}_mod"])
    serving._watch_libraries()
    assert str(tmp_path / f"{name}_pkg") in serving.library_folders and serving.library_files == [str(tmp_path / f"{name}_mod.py")]
    assert not serving.code_changed()
    if change == "package moved away":
        (tmp_path / f"{name}_pkg").rename(tmp_path / f"{name}_pkg.gone")
    elif change == "package file removed":
        (tmp_path / f"{name}_pkg" / "__init__.py").unlink()
    elif change == "module removed":
        (tmp_path / f"{name}_mod.py").unlink()
    else:
        (tmp_path / f"{name}_mod.py").write_text("VALUE = 3  # upgraded\n")
    assert serving.code_changed()
