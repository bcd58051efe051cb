"""The path policy: how the core picks a compute path, passed in as an argument.

Every array function takes ``paths=`` (a :class:`Paths`, ``"warm"``, ``"cold"`` or None for
the default, ``"warm"``).  The choice between paths that may give other bytes is a pure
function of the call and of this value, never of the environment or of what the process did
before, so a batch writes the bytes that separate calls write.

``warm``
    a long-lived program (the Python API's default): the jitted core for all but tiny inputs.
    A tiny pool whose every path gives the same bytes (an average, an integer max/min)
    takes the jitted loops once the process has loaded them (``api.pool2d``): with no
    start-up left to pay, they are twice as fast (256x256 float32: 11 against 22 µs), and
    the bytes cannot tell which ran.
``cold``
    a fresh process that runs one call and exits (what the CLI passes): plain numpy, or
    numpy's FFT for big kernels, while that is cheaper than loading the jitted core.

``jit_start`` is what loading the jitted core costs a fresh process, in seconds, as measured
on this machine (:mod:`kernelcli.startup` measures it once and the CLI passes it in); None
means the built-in estimate.  It only ever moves the choice between paths that give the same
bytes (see :func:`kernelcli._core.costs.jit_start_seconds`), so a measurement never changes
a result.

``core_loaded`` says that this process has the jitted core loaded already (the resident worker,
:mod:`kernelcli.worker`): loading it costs the call nothing, wherever every path gives the
same bytes.  It belongs to the process: a pickled copy (the policy of a batch's worker
processes, which start fresh) reads False.

``force`` pins a path where it applies (tests, benchmarks, a tiling caller that wants one
rounding everywhere): ``"numpy"``; ``"jit"`` (the jitted core, choosing its own loop);
``"dense"``, ``"separable"``, ``"fft"`` (a convolution path: separable needs a rank-1 kernel,
fft a stride of 1, else dense; a pinned fft on whole-number sums from 2**40, which only the direct
loops give exactly, is refused: ``forms.refuse_inexact_pin``); ``"general"`` (pooling's general loop); ``"blocked"``,
``"filterwise"`` (the convolution layer's loop over blocks of filters, or one filter at a time).

A tiling caller also pins what the FFT would otherwise decide from the tile it is given
(:mod:`kernelcli.tiled.pin`): ``fft_form`` (``"exact"`` or ``"plain"``, see
``forms.fft_form``, decided from the whole image's data) and ``origin`` (the index of the
call's first output on the whole image, per axis: the FFT's block grid is laid from there,
see :mod:`kernelcli._core.fft`).  Pure Python.

Example
-------
>>> as_paths("cold")
Paths(process='cold', small_work=250000, force=None, jit_start=None, fft_form=None, origin=(), core_loaded=False)
>>> as_paths(None).process
'warm'
"""

from __future__ import annotations

import numbers

from ..errors import UsageError
from ..records import record

PROCESSES = ("warm", "cold")
FORCES = ("numpy", "jit", "dense", "separable", "fft", "general", "blocked", "filterwise")
FFT_FORMS = ("exact", "plain")
#: At or below this many multiply-adds the plain-numpy path runs under any policy: it avoids
#: loading the jitted core, which costs far more than the arithmetic.
SMALL_WORK = 250_000


@record(frozen=True)
class Paths:
    """A path policy: the process economics, the small-work threshold, an optional forced path and
    the measured start-up cost of the jitted core."""

    process: str = "warm"
    small_work: int = SMALL_WORK
    force: str | None = None
    jit_start: float | None = None
    fft_form: str | None = None
    origin: tuple[int, ...] = ()
    core_loaded: bool = False

    def __post_init__(self) -> None:
        if isinstance(self.small_work, bool) or not isinstance(self.small_work, numbers.Integral) or self.small_work < 0:
            raise UsageError(f"invalid small_work {self.small_work!r}: expected a whole number of multiply-adds >= 0")
        if self.process not in PROCESSES:
            raise UsageError(f"invalid path policy {self.process!r}: expected one of {', '.join(PROCESSES)}")
        if self.force is not None and self.force not in FORCES:
            raise UsageError(f"invalid forced path {self.force!r}: expected one of {', '.join(FORCES)}")
        if self.jit_start is not None and not 0.0 <= self.jit_start < float("inf"):
            raise UsageError(f"invalid start-up cost {self.jit_start!r}: expected a number of seconds >= 0")
        if self.fft_form is not None and self.fft_form not in FFT_FORMS:
            raise UsageError(f"invalid FFT form {self.fft_form!r}: expected one of {', '.join(FFT_FORMS)}")
        if any(int(v) < 0 for v in self.origin):
            raise UsageError(f"invalid origin {self.origin!r}: expected output indices >= 0")

    def origin_of(self, axes: int) -> tuple[int, ...]:
        """The call's first output on the whole image, ``axes`` values (0 where not given).

        >>> Paths(origin=(512,)).origin_of(2)
        (512, 0)
        """
        return tuple(int(v) for v in self.origin[:axes]) + (0,) * max(0, axes - len(self.origin))

    def __reduce__(self):
        # Another process has not loaded the core: a copy sent there forgets core_loaded.
        return type(self), (self.process, self.small_work, self.force, self.jit_start, self.fft_form, self.origin)

    def __copy__(self) -> "Paths":
        return self  # immutable; a copy in this process keeps core_loaded (copy would take __reduce__)

    def __deepcopy__(self, memo) -> "Paths":
        return self

    @property
    def start_cost_known(self) -> bool:
        """True when the jitted core's start-up cost is known: measured (``jit_start``) or nothing
        (``core_loaded``); it then decides between paths that give the same bytes.

        >>> Paths(process="cold").start_cost_known, Paths(process="cold", core_loaded=True).start_cost_known
        (False, True)
        """
        return self.jit_start is not None or self.core_loaded

    @property
    def cold(self) -> bool:
        """True when the call pays for loading the jitted core (a fresh process)."""
        return self.process == "cold"

    def numpy_for(self, work: int) -> bool | None:
        """True/False when the policy alone decides numpy vs jitted for ``work`` multiply-adds; None: ask the costs."""
        if self.force == "numpy":
            return True
        if self.force is not None:
            return False
        if work <= self.small_work:
            return True
        return None


WARM = Paths()
COLD = Paths(process="cold")
#: What ``paths=None`` means (the API's default; the test suite pins it to force each path).
DEFAULT = WARM


def as_paths(value: object) -> Paths:
    """A :class:`Paths` from None (the default, warm), ``"warm"``, ``"cold"`` or a Paths.

    >>> as_paths(Paths(force="fft")).force
    'fft'
    """
    if value is None:
        return DEFAULT
    if isinstance(value, Paths):
        return value
    if isinstance(value, str) and value in PROCESSES:
        return WARM if value == "warm" else COLD
    raise UsageError(f"invalid path policy {value!r}: expected 'warm', 'cold' or a Paths")
