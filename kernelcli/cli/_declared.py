"""An option's or argument's typer settings kept as plain data (:class:`Declared`), what
:func:`kernelcli.cli.options.option` and :func:`~kernelcli.cli.options.argument` return: a plain call's parser
(:mod:`kernelcli.cli._fast`, :mod:`kernelcli.cli._lean`) reads them without importing typer, and
:mod:`kernelcli.cli._typed` turns them into typer's own when a command is built.  Only the standard library.

>>> Declared(("--stride", "-s"), {"min": 1}).min, Declared(("--flip",), {}).max
(1, None)
"""

from __future__ import annotations

from typing import Any

from ..records import record


@record(frozen=True, eq=False)
class Declared:
    """What ``typer.Option(*names, **settings)`` (or ``typer.Argument(**settings)``) would be
    given, kept as plain data until a command is built (:meth:`typer_info`).  Its attributes
    are typer's (``help``, ``min``, ``parser``...), with typer's defaults for those not given.

    >>> flip = Declared(("--flip",), {"help": "Flip the kernel."})
    >>> flip.help, flip.max, flip.show_default
    ('Flip the kernel.', None, True)
    """

    names: tuple[str, ...]
    settings: dict[str, Any]
    argument: bool = False

    def __getattr__(self, name: str) -> Any:
        settings = self.__dict__.get("settings", {})
        if name in settings:
            return settings[name]
        if name in _TYPER_DEFAULTS:
            return _TYPER_DEFAULTS[name]
        raise AttributeError(name)

    def typer_info(self) -> Any:
        """The ``typer.Option`` / ``typer.Argument`` these settings declare."""
        import typer

        if self.argument:
            return typer.Argument(**self.settings)
        return typer.Option(*self.names, **self.settings)


#: the defaults of typer's parameter settings that parsing reads (:mod:`kernelcli.cli._lean`, ``_fast``)
_TYPER_DEFAULTS: dict[str, Any] = {
    "help": None, "min": None, "max": None, "clamp": False, "parser": None, "case_sensitive": True, "exists": False,
    "resolve_path": False, "allow_dash": False, "callback": None, "is_eager": False, "envvar": None, "count": False,
    "prompt": False, "is_flag": None, "flag_value": None, "expose_value": True, "default_factory": None,
    "click_type": None, "hidden": False, "metavar": None, "show_default": True,
}
