"""The root command's subcommands, each built when it is first looked up (Click's "lazy group").

Typer builds a click command from a function's signature (every annotation evaluated,
every option made): for all 13 commands that took about 60 ms of a 190 ms cold
``kernelcli convolve`` that runs one.  :class:`LazyCommands` is the root group's
``commands`` mapping: it knows every command's name and module without importing them,
and builds a command (importing its module, as :func:`kernelcli.cli.root.make_app`
registers it) the first time the group looks it up.  What lists the commands (the root's
``--help``, completion, "did you mean") builds them all, in the order the app lists them.

>>> commands = LazyCommands({"shape": "shape", "params": "params"}, lambda module: {module: module.upper()})
>>> "shape" in commands, list(commands), commands.loaded()
(True, ['shape', 'params'], [])
>>> commands.get("shape"), commands.get("nope"), commands.loaded()
('SHAPE', None, ['shape'])
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, MutableMapping
from typing import Any


class LazyCommands(MutableMapping):
    """``{command name: click command}``, each built on first look-up by ``build(module)``,
    which returns the commands that module registers (``volume`` and ``convolve`` are two
    modules; a module may register several names).  ``prepare`` (if set) is applied to
    each command as it is built."""

    def __init__(self, modules: dict[str, str], build: Callable[[str], dict[str, Any]]) -> None:
        self._modules = dict(modules)
        self._build = build
        self._built: dict[str, Any] = {}
        self.prepare: Callable[[Any], Any] | None = None

    def __getitem__(self, name: str) -> Any:
        if name not in self._built:
            module = self._modules[name]  # KeyError: no such command (Mapping.get gives None)
            for built, command in self._build(module).items():
                if self.prepare is not None:
                    self.prepare(command)
                self._built.setdefault(built, command)
        return self._built[name]

    def __contains__(self, name: object) -> bool:
        return name in self._modules or name in self._built

    def __iter__(self) -> Iterator[str]:
        yield from self._modules
        yield from (name for name in self._built if name not in self._modules)

    def __len__(self) -> int:
        return len(self._modules) + sum(name not in self._modules for name in self._built)

    def __setitem__(self, name: str, command: Any) -> None:
        self._built[name] = command

    def __delitem__(self, name: str) -> None:
        self._modules.pop(name, None)
        self._built.pop(name, None)

    def loaded(self) -> list[str]:
        """The names built so far."""
        return list(self._built)

    def load_all(self) -> None:
        """Build every command now (the warm worker does, once, before it forks calls)."""
        for name in list(self):
            self[name]
