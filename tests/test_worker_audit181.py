"""Audit 181 #7: the worker re-took its package folder's identity after warm-up (and its libraries' after importing
them), so a release swap (``mv app app.old && mv app.new app``) while it warmed up was never seen."""

from __future__ import annotations

import importlib
import os
import socket
import sys

import pytest

from kernelcli.worker import protocol, server

unix = pytest.mark.skipif(not hasattr(socket, "AF_UNIX") or os.name != "posix", reason="Unix sockets")


def _warm_up_that_swaps(monkeypatch, swap) -> None:
    """Make :meth:`server.Server.warm_up` run ``swap`` as its imports (and nothing else it does when warming)."""
    monkeypatch.setattr(server, "warm_up", lambda: swap())
    monkeypatch.setattr(server, "_forget_exit_handlers_of_the_warm_up", lambda: None)
    monkeypatch.setattr(server, "index_paths", lambda: [])
    monkeypatch.setattr(server, "cache_state", lambda paths: None)
    monkeypatch.setattr(server, "collapse", lambda: 0)
    monkeypatch.setattr(server, "typical_calls", lambda command: [])
    monkeypatch.setattr(server.prefault, "probe", lambda calls: ())


def _release_swap(top) -> None:
    """``mv top top.old && mkdir top/...``: the folder above the code renamed away and a new release at its path."""
    inner = [p.relative_to(top) for p in top.rglob("*") if p.is_dir()]
    top.rename(top.with_name(top.name + ".old"))
    for folder in inner:
        (top / folder).mkdir(parents=True, exist_ok=True)


@pytest.fixture
def started(monkeypatch):
    """``started(code)``: a Server whose package is ``code``, its watches closed after the test."""
    made = []

    def start(code):
        monkeypatch.setattr(protocol, "package_dir", lambda: str(code))
        made.append(server.Server("/nonexistent/w.sock", 60))
        return made[-1]

    yield start
    for serving in made:
        for watching in (serving.code_watch, serving.library_watch):
            if watching is not None:
                watching.close()


@unix
def test_a_package_swapped_while_the_worker_warms_up_makes_it_stale(tmp_path, monkeypatch, started):
    code = tmp_path / "app" / "kernelcli"
    code.mkdir(parents=True)
    serving = started(code)
    _warm_up_that_swaps(monkeypatch, lambda: _release_swap(tmp_path / "app"))
    serving.warm_up()
    assert serving.code_changed()  # (was False: the identity taken after warm-up was the new folder's)


@unix
def test_a_library_swapped_while_it_is_imported_makes_the_worker_stale(tmp_path, monkeypatch, started):
    code = tmp_path / "app" / "kernelcli"
    code.mkdir(parents=True)
    library = tmp_path / "site" / "fakelib181"
    library.mkdir(parents=True)
    (library / "__init__.py").write_text("")
    monkeypatch.setattr(protocol, "LIBRARIES", ("fakelib181",))
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    monkeypatch.delitem(sys.modules, "fakelib181", raising=False)
    serving = started(code)

    def imported_then_swapped():
        importlib.import_module("fakelib181")  # the old release is what the worker holds
        _release_swap(tmp_path / "site")
        (library / "__init__.py").write_text("")

    _warm_up_that_swaps(monkeypatch, imported_then_swapped)
    try:
        serving.warm_up()
        assert str(library.resolve()) in serving.library_folders  # (with every other library loaded: audit 232 #4)
        assert serving.code_changed()
    finally:
        sys.modules.pop("fakelib181", None)


@unix
def test_a_worker_whose_folders_stay_is_not_stale_after_warm_up(tmp_path, monkeypatch, started):
    code = tmp_path / "app" / "kernelcli"
    code.mkdir(parents=True)
    serving = started(code)
    _warm_up_that_swaps(monkeypatch, lambda: None)
    serving.warm_up()
    assert serving.code_folders[0] == str(code) and len(serving.code_identity) == len(serving.code_folders)
    assert not serving.code_changed()
