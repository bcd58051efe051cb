"""How an option's typed value is read where a plain type cannot say it: parsers and shell completions.

Each parser takes the text as typed (or the default, returned as it is) and gives the value, or
refuses in the words Click refuses a bad value in (``Invalid value for '--x': ...``, exit 2), before
any input is read; :mod:`kernelcli.cli.options` declares the options that use them.

>>> number_in(0, 1, above=True)("0.5"), pool_side("2x2"), checked_suffix("v2")
(0.5, 2, 'v2')
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator
from typing import Any

from ._lean import lean_path


def complete_kernel(incomplete: str) -> list[tuple[str, str]]:
    """Shell completion of a kernel: the catalogue's names, each with the first words of its description
    (zsh and fish show them).  Nothing for what looks like a path (the shell completes files then) nor
    where the catalogue cannot be read; ``gaussian:SIGMA`` and ``box:N`` are left to the help (a completed
    ``gaussian:`` would take the shell's space after it).

    >>> complete_kernel("sobel_")
    [('sobel_v', 'Sobel, vertical edges'), ('sobel_h', 'Sobel, horizontal edges (transpose of sobel_v)')]
    """
    if "/" in incomplete or incomplete.startswith((".", "~")):
        return []
    from ..catalog import list_kernels
    from ..errors import KernelcliError

    try:
        with _no_notes():
            kernels = list_kernels()
    except KernelcliError:
        return []
    return [(k.name, " ".join(k.description.split(":")[0].split())[:70]) for k in kernels if k.name.startswith(incomplete)]


def complete_family(incomplete: str) -> list[str]:
    """Shell completion of ``--family``: the catalogue's families."""
    from ..catalog import families
    from ..errors import KernelcliError

    try:
        with _no_notes():
            return [family for family in families() if family.startswith(incomplete)]
    except KernelcliError:
        return []


@contextlib.contextmanager
def _no_notes() -> Iterator[None]:
    """Hold back the catalogue's notes (a broken file or a clash on KERNELCLI_KERNEL_PATH, skipped): the shell
    shows a completion's stdout, and its stderr lands on the line being typed, at every TAB press.  A note held
    back is not marked said: a later call in this process (a test's, say) still says it."""
    import logging

    from .. import catalog

    logger = logging.getLogger("kernelcli")
    saved, noted = (logger.handlers, logger.propagate), set(catalog._NOTED)
    logger.handlers, logger.propagate = [logging.NullHandler()], False
    try:
        yield
    finally:
        logger.handlers, logger.propagate = saved
        catalog._NOTED.intersection_update(noted)


def parse_fill(text: Any) -> float:
    """``--pad-value`` as typed: a whole number stays exact (a Python int: 2**53 + 1 is not rounded to
    2**53 on its way into an int64 image, where the range check then refuses it), anything else a finite float.

    >>> parse_fill("9007199254740993"), parse_fill("9.007199254740993e15"), parse_fill("-1.5"), parse_fill(0.0)
    (9007199254740993, 9007199254740993, -1.5, 0.0)
    """
    if not isinstance(text, str):  # the default
        return text
    from .. import numtext

    stripped = text.strip()
    value = numtext.decimal(stripped)
    if value is None or value != value or value in (float("inf"), float("-inf")):  # 1e400 and 10**400 too
        from ._click import click

        raise click.exceptions.BadParameter(f"{numtext.quoted(text)}: expected a finite number")
    if value == 0 and numtext.underflows(stripped):  # (1e-400 filled 0s in silence, as a kernel weight did: review 53 #6)
        from ._click import click

        raise click.exceptions.BadParameter(numtext.below_range(numtext.quoted(text)))
    whole = numtext.whole(stripped)
    if whole is None and 2**53 <= abs(value) <= 2**64:  # 9007199254740993.0 is a whole number an int64 could hold: exact
        whole = numtext.exact_whole(stripped)
    # (the text kept: a refusal made once the input's type is known shows it as typed, 3e2 not 300.0)
    return numtext.typed_value(value if whole is None else whole, stripped, "--pad-value")


def bias_text(text: Any) -> Any:
    """``--bias`` as typed (one number, or one per kernel separated by commas), refused in Click's words where a value
    is no bias (:func:`kernelcli.layer_files.bias_problem`); whether the count matches the kernels is the call's to say.

    >>> bias_text("0.5,-1")
    '0.5,-1'
    """
    if not isinstance(text, str):  # the default
        return text
    from ..layer_files import bias_problem

    return _unless(bias_problem(text), text)


def scale_text(text: Any) -> Any:
    """``--kernel-scale`` as typed, refused in Click's words where it is no scale
    (:func:`kernelcli.kernel_syntax.scale_problem`: a factor of 0, beyond or below the float range, an unknown form).

    >>> scale_text("50%!")
    '50%!'
    """
    if not isinstance(text, str):
        return text
    from ..kernel_syntax import scale_problem

    return _unless(scale_problem(text), text)


def _unless(problem: str | None, text: str) -> str:
    """``text``, or Click's refusal of it (exit 2, "Invalid value for '--X': PROBLEM") where ``problem`` says why."""
    if problem is not None:
        from ._click import click

        raise click.exceptions.BadParameter(problem)
    return text


def number_in(low: float | None = None, high: float | None = None, *, above: bool = False) -> Callable[[Any], Any]:
    """The parser of a float option in [low, high] (``above``: ``low`` itself refused) for a range typer's
    ``min``/``max`` cannot say (``> 0``), refusing in their words with the value as typed; a non-zero value float64
    reads as 0 is refused where 0 is in range too (:func:`kernelcli.numtext.below_range`, as ``--bias 1e-400`` is).

    >>> number_in(0, 1, above=True)("0.5"), number_in(0, 1, above=True)(0.1)
    (0.5, 0.1)
    """
    def parse(text: Any) -> Any:
        if not isinstance(text, str):  # the default
            return text
        from .. import numtext
        from ._click import click

        value = numtext.decimal(text)
        if value is None:
            raise click.exceptions.BadParameter(f"{numtext.quoted(text)} is not a valid float.")
        if not ((low is None or (value > low if above else value >= low)) and (high is None or value <= high)) or abs(value) == math.inf:
            raise click.exceptions.BadParameter(numtext.out_of_range(text, low, high, above=above, read=value))  # (NaN too)
        if value == 0 and numtext.underflows(text):  # in range as 0, which was not typed (--momentum 1e-400 ran with 0)
            raise click.exceptions.BadParameter(numtext.below_range(numtext.clipped(text)))
        return value

    return parse


def checked_suffix(text: Any) -> Any:
    """``--suffix`` as typed, unless it has nothing to name a file with: a suffix of no letter, digit, ``.``, ``-`` or
    ``_`` (``/``, ``:``) became the word ``kernel`` in silence, two of them one name.  Other characters become ``_``,
    as in every output name (:func:`kernelcli.io.naming.safe_stem`); ``''`` keeps the input's name.

    >>> checked_suffix("v2"), checked_suffix("")
    ('v2', '')
    """
    if not isinstance(text, str) or text == "":
        return text
    from ..io.naming import safe_text

    if safe_text(text) == "":
        from .. import numtext
        from ._click import click

        raise click.exceptions.BadParameter(
            f"{numtext.quoted(text)} has no letter, digit, '.' or '-' to name a file with: output names are "
            "<stem>_<suffix>.<ext> ('' keeps the input's name)")
    return text


def checked_file_path(option: str) -> Callable[[Any], Any]:
    """The converter of an option that names one file the command writes (:data:`kernelcli.cli.options.FILE_OUTPUTS`:
    ``--out``, ``--report``, ``--montage``, ``--plot``): a path, as every path option's
    (:func:`kernelcli.cli._lean.lean_path`), but one that ends with ``/`` or ``/.`` names a folder, which pathlib
    dropped in silence (``--report rep/`` and ``--report rep/.`` wrote the file ``rep``): refused naming it.  ``--out``
    of a Zarr store (``o.zarr/``) is a folder: taken.  (``rep/..`` is kept as it is: the output checks refuse a
    folder.)

    >>> checked_file_path("--report")("r.json")
    PosixPath('r.json')
    >>> for text in ("rep/", "rep/."):
    ...     try:
    ...         checked_file_path("--report")(text)
    ...     except Exception as refused:  # (click's BadParameter: exit 2, the option named)
    ...         print(refused)
    rep/ names a folder (it ends with '/'): expected a file name; give one in that folder (rep/NAME) or drop the '/'
    rep/. names a folder (it ends with '/.'): expected a file name; give one in that folder (rep/NAME) or drop the '/.'
    """

    def check(value: Any) -> Any:
        if isinstance(value, str) and (value.endswith("/") or value.endswith("/.")):
            from ..io.folder_names import refuse_a_folder_named_output
            from ._click import click

            refuse_a_folder_named_output(value, click.exceptions.BadParameter, store=option == "--out")
        return lean_path(value)

    return check


def checked_window(text: Any) -> Any:
    """``--window`` as typed, once :func:`kernelcli.medical.window.parse_window` reads it: a bad one is refused as
    every option's bad value is (``Invalid value for '--window': ...``), before any input is read.

    >>> checked_window("lung"), checked_window("40,80")
    ('lung', '40,80')
    """
    if not isinstance(text, str):  # the default
        return text
    from ..errors import UsageError
    from ..medical.window import parse_window

    try:
        parse_window(text)
    except UsageError as exc:
        from ._click import click

        raise click.exceptions.BadParameter(str(exc)) from None
    return text


def pool_side(text: Any) -> Any:
    """``--size`` as pooling reads it: one window side F, also written ``FxF`` (as ``shape --pool`` takes it) or
    ``FxFxF`` (a volume's cube); an FxG window is refused in the words ``shape --pool`` refuses it in, every refusal
    naming the value as typed.  The sizes are read by :func:`kernelcli.shapes.parse_dims`, as ``shape`` reads them.

    >>> pool_side("3"), pool_side("2x2"), pool_side("2x2x2"), pool_side("2.0")
    (3, 2, 2, 2)
    """
    from ..shapes import POOL_SIZE_RULE

    return square_side(text, max_len=3, forms="F, FxF or FxFxF (one window side F)", rule=POOL_SIZE_RULE)


def learn_side(text: Any) -> Any:
    """``learn --size``: one window side F, also written ``FxF``; an FxG window is refused as pool refuses one
    (:data:`kernelcli.shapes.LEARN_SIZE_RULE`).

    >>> learn_side("3"), learn_side("3x3")
    (3, 3)
    """
    from ..shapes import LEARN_SIZE_RULE

    return square_side(text, max_len=2, forms="F or FxF (one window side F)", rule=LEARN_SIZE_RULE)


def square_side(text: Any, *, max_len: int, forms: str, rule: str) -> Any:
    """The one side of a square (cube) window typed ``F``, ``FxF`` (``FxFxF``), read by
    :func:`kernelcli.shapes.parse_dims` and refused in Click's words, as every bad value (``0 is not in the range
    x>=1.``); unequal sides are refused with ``rule``, naming the value as typed."""
    if not isinstance(text, str):  # the default
        return text
    from .. import numtext
    from ..shapes import CubeSide, parse_dims
    from ..whole_numbers import BadValue
    from ._click import click

    try:
        sides = parse_dims(text, name="--size", max_len=max_len, forms=forms)
    except BadValue as exc:  # (click names the option itself)
        raise click.exceptions.BadParameter(exc.detail) from None
    if len(set(sides)) > 1:
        raise click.exceptions.BadParameter(f"{numtext.quoted(text)}: {rule}")
    return CubeSide(sides[0]) if len(sides) == 3 else sides[0]  # (a cube: refused where the pool is 2-D)


def checked_scheduler(text: Any) -> Any:
    """``--scheduler`` as typed (``LOCAL`` read as ``local``), once it is ``local`` or an address: a value no scheduler
    can answer on is refused before any input is read (it was tried for 10 s, or named in distributed's words).

    >>> checked_scheduler("Local"), checked_scheduler("tcp://10.0.0.5:8786")
    ('local', 'tcp://10.0.0.5:8786')
    """
    if not isinstance(text, str):  # the default
        return text
    from ..errors import UsageError
    from ..tiled.cluster import canonical_scheduler
    from ._click import click

    try:
        return canonical_scheduler(text)
    except UsageError as exc:  # (click names the option itself)
        raise click.exceptions.BadParameter(str(exc).removeprefix("--scheduler ")) from None


def checked_chunks(text: Any) -> Any:
    """``--chunks`` as typed, once :func:`kernelcli.tiled.files.parse_chunks` reads it: a bad one is refused as every
    option's bad value is (``Invalid value for '--chunks': ...``), before the kernel or any input is read.

    >>> checked_chunks("512,2048"), checked_chunks(None)
    ('512,2048', None)
    """
    if not isinstance(text, str):  # the default
        return text
    from ..tiled.files import parse_chunks
    from ..whole_numbers import BadValue
    from ._click import click

    try:
        parse_chunks(text)
    except BadValue as exc:  # (click names the option itself)
        raise click.exceptions.BadParameter(exc.detail) from None
    return text
