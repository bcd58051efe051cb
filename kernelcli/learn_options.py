"""What :func:`kernelcli.learn.learn_kernel` is asked: the options, their defaults and the limits.

Split from :mod:`kernelcli.learn` (no module over ~500 lines); ``kernelcli.learn`` re-exports every name.

>>> LearnOptions(size=3).size
(3, 3)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from . import option_words, shapes, whole_numbers
from .errors import UsageError
from .modes import canonical_pad_mode, check_fill_reading, not_one_of
from .ndsupport import check_bool, check_fill, check_flip
from .records import record

METHODS = ("lstsq", "gd")
COMBINES = ("per-channel", "shared", "sum")
OPTIMIZERS = ("sgd", "adam")

#: Default learning rates (in the internally normalised units) per optimizer.
DEFAULT_LR = {"sgd": 0.1, "adam": 0.1}
#: Default epochs; small inputs get more, so that training takes at least MIN_STEPS steps.
DEFAULT_EPOCHS = 30
MIN_STEPS = 1000

#: A residual RMS above this share of the target's standard deviation means the kernel does not explain it.
POOR_FIT = 1e-2
#: Condition numbers above this make the answer sensitive to the least noise in the target.
ILL_CONDITIONED = 1e8
#: Most equation-matrix values kept in memory (float64); larger problems use a random subset of windows.
MAX_SYSTEM_VALUES = 8_000_000

#: progress(epoch, epochs, loss, lr), called after every epoch of ``gd``.
Progress = Callable[[int, int, float, float], None]

#: Each option learn's messages may advise, as each caller names it: (``kernelcli learn``'s option, the
#: :class:`LearnOptions` keyword).  A test checks the first against the CLI's own table (``cli/options.py``'s CONCEPTS).
OPTION_NAMES: dict[str, tuple[str, str]] = option_words.dashed(
    "size", "padding", "pad_mode", "pad_value", "stride", "dilation", "combine", "fit_bias", "seed", "lr", "epochs",
    "step_size", "method", "batch_size", "gamma", "optimizer", "momentum")


@record(frozen=True)
class OptionWords(option_words.OptionWords):
    """How a message names learn's options: in the command line's words (``cli``) or a Python caller's, the
    :class:`LearnOptions` keywords (:class:`kernelcli.option_words.OptionWords`); :func:`words_for` picks them from
    ``learn_kernel(..., words=)``.

    >>> api, cli = words_for("api"), words_for("cli")
    >>> api.name("size"), cli.name("size"), api.given("padding", (0, 2, 0, 0)), cli.given("padding", (0, 2, 0, 0))
    ('size=', '--size', 'padding=(0, 2, 0, 0)', '--padding 0,2,0,0')
    >>> api.given("pad_mode", "circular"), cli.given("pad_mode", "circular"), api.flag("fit_bias"), cli.flag("fit_bias")
    ("pad_mode='circular'", '--pad-mode circular', 'fit_bias=True', '--fit-bias')
    """

    NAMES = OPTION_NAMES

    def cli_value(self, value: Any) -> str:
        """A number as the user typed it on the command line, where that is known (:func:`_cli_text`)."""
        return _cli_text(value)

    def api_value(self, option: str, value: Any) -> str:
        return _api_text(option, value)


#: the words each caller takes: ``learn_kernel(..., words="cli")`` for the command line's
WORDINGS = {"api": OptionWords(cli=False), "cli": OptionWords(cli=True)}


def words_for(words: str | OptionWords) -> OptionWords:
    """The :class:`OptionWords` of ``words`` (``"api"`` or ``"cli"``), refusing another name.

    >>> words_for("cli").name("lr")
    '--lr'
    """
    return option_words.chosen(words, WORDINGS)


def _cli_text(value: Any) -> str:
    """A value as the command line spells it: ``0,2,0,0``, ``valid``, ``1e+09`` (or as it was typed)."""
    if isinstance(value, str):
        return value
    if isinstance(value, (tuple, list)):
        return ",".join(str(int(v)) for v in value)
    if getattr(value, "typed", None):  # (a number read from the command line: 1e16, not 10000000000000000)
        return value.typed
    if isinstance(value, (float, np.floating)):
        return f"{value:g}"
    return str(value)


def _api_text(option: str, value: Any) -> str:
    """A value as a Python caller writes it: ``(0, 2, 0, 0)``, ``'valid'``, ``1e+09`` (a number given as text, as a
    message shows it, is written as it is)."""
    import numbers

    if isinstance(value, (tuple, list)):
        return repr(tuple(int(v) for v in value))
    if isinstance(value, str):
        return repr(value) if option in WORD_VALUED else value
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        return f"{float(value):g}"
    return repr(value)


#: the options whose values are words (quoted in Python: ``padding='valid'``), not numbers
WORD_VALUED = frozenset({"padding", "pad_mode", "combine", "method", "optimizer"})


@record(frozen=True)
class LearnOptions:
    """What to learn and how; validated once.

    ``size`` is f (an f x f kernel) or (kh, kw).  ``padding``, ``stride``, ``dilation``,
    ``pad_mode``, ``pad_value`` and ``flip`` mean what they mean for :func:`kernelcli.api.conv2d`:
    the target must be what conv2d would give with them.  ``fit_bias=True`` fits a bias too
    (``learn --fit-bias``); ``bias=`` is its old name, still taken (elsewhere, as in ``conv_layer``
    and ``--bias``, a bias is values, not a switch).

    >>> LearnOptions(size=3, fit_bias=True).fit_bias, LearnOptions(bias=True) == LearnOptions(fit_bias=True)
    (True, True)
    """

    size: int | tuple[int, int] = 3
    method: str = "lstsq"
    combine: str = "per-channel"
    fit_bias: bool = False
    stride: int = 1
    padding: Any = "same"
    pad_mode: str = "constant"
    pad_value: float = 0.0
    dilation: int = 1
    flip: bool = False
    epochs: int | None = None
    lr: float | None = None
    batch_size: int = 64
    step_size: int | None = None
    gamma: float = 0.1
    optimizer: str = "sgd"
    momentum: float = 0.9
    seed: int = 0
    max_values: int = MAX_SYSTEM_VALUES

    def __post_init__(self) -> None:
        pair = isinstance(self.size, (tuple, list, np.ndarray))
        size = tuple(self.size) if pair else (self.size, self.size)
        if len(size) != 2:
            raise UsageError(f"size must be f or (kh, kw), got {self.size!r}")
        # (int() read size=2.7 as 2 and True as 1; check_positive refuses both, as the other functions do)
        object.__setattr__(self, "size", tuple(whole_numbers.check_positive("size", v) for v in size))
        from .limits import MAX_KERNEL_SIDE as MAX_SIDE, MAX_MOMENTUM

        if max(self.size) > MAX_SIDE:
            raise UsageError(f"size must be at most {MAX_SIDE} per side, got {'x'.join(map(str, self.size))}")
        for name, choices in (("method", METHODS), ("combine", COMBINES), ("optimizer", OPTIMIZERS)):
            value = str(getattr(self, name)).strip().lower().replace("_", "-")  # (per_channel, as learn --combine takes it)
            if value not in choices:
                raise UsageError(not_one_of(name, getattr(self, name), choices))
            object.__setattr__(self, name, value)
        object.__setattr__(self, "pad_mode", canonical_pad_mode(self.pad_mode, "pad_mode"))
        for name in ("stride", "dilation", "epochs", "batch_size", "step_size"):
            if getattr(self, name) is not None:
                object.__setattr__(self, name, whole_numbers.check_positive(name, getattr(self, name)))
        # (lr='a' was a TypeError; padding=(1.9, 2, 2, 2) ran as (1, 2, 2, 2) and 'foo' failed inside learn_kernel)
        shapes.resolve_padding(self.padding, *self.size, (self.dilation, self.dilation))
        object.__setattr__(self, "padding", _padding_as_given(self.padding))
        check_fill(self.pad_value, np.float64, "pad_value")  # (conv2d's words for the same keyword)
        check_fill_reading(self.pad_mode, self.pad_value, "LearnOptions")
        if self.lr is not None and not (_real(self.lr) and math.isfinite(self.lr) and self.lr > 0):
            raise UsageError(f"lr must be a number > 0, got {self.lr!r}")
        if not (_real(self.gamma) and math.isfinite(self.gamma) and 0 < self.gamma <= 1):
            raise UsageError(f"gamma must be a number with 0 < gamma <= 1 (the StepLR factor), got {self.gamma!r}")
        if not (_real(self.momentum) and 0 <= self.momentum <= MAX_MOMENTUM):  # (the CLI's range: < 1 took 0.9995)
            raise UsageError(f"momentum must be a number with 0 <= momentum <= {MAX_MOMENTUM}, got {self.momentum!r}")
        # (flip="no" learned the rotated kernel, bias="yes" was int()'s ValueError, seed=-1 numpy's)
        object.__setattr__(self, "flip", check_flip(self.flip))
        object.__setattr__(self, "fit_bias", check_bool(self.fit_bias, "fit_bias"))
        object.__setattr__(self, "max_values", whole_numbers.check_positive("max_values", self.max_values))
        if isinstance(self.seed, (bool, np.bool_)) or not isinstance(self.seed, (int, np.integer)) or self.seed < 0:
            raise UsageError(f"seed must be an integer >= 0, got {self.seed!r}")  # (whole_numbers' shape; any size taken)

    def schedule(self, windows: int) -> tuple[int, int]:
        """(epochs, step_size) for ``windows`` equations: the given values, or the defaults.

        By default 30 epochs, or enough for 1000 mini-batch steps when the input is small,
        and the learning rate is multiplied by ``gamma`` after each third of them.

        >>> LearnOptions().schedule(65536), LearnOptions().schedule(16)
        ((30, 10), (1000, 334))
        """
        per_epoch = -(-windows // min(self.batch_size, max(windows, 1)))
        epochs = self.epochs or max(DEFAULT_EPOCHS, -(-MIN_STEPS // per_epoch))
        return epochs, self.step_size or -(-epochs // 3)

    @property
    def bias(self) -> bool:
        """The old name of :attr:`fit_bias`, still read (code that read ``options.bias`` keeps working)."""
        return self.fit_bias

    @property
    def learning_rate(self) -> float:
        """The learning rate in use: ``lr`` or the optimizer's default."""
        return self.lr if self.lr is not None else DEFAULT_LR[self.optimizer]

    def padding_text(self) -> str:
        """The padding as the CLI spells it: ``same``, ``valid``, ``1`` or ``0,1,0,1``."""
        if isinstance(self.padding, str):
            return self.padding
        if isinstance(self.padding, (int, np.integer)):
            return str(int(self.padding))
        return ",".join(str(int(v)) for v in self.padding)


_UNSET = object()
_fields_init = LearnOptions.__init__


def _init(self: LearnOptions, *args: Any, bias: Any = _UNSET, **kwargs: Any) -> None:
    if bias is not _UNSET:  # the old name of fit_bias
        if "fit_bias" in kwargs or len(args) > 3:
            given = kwargs["fit_bias"] if "fit_bias" in kwargs else args[3]
            raise TypeError(f"LearnOptions() got both fit_bias={given!r} and its old name bias={bias!r}; give fit_bias= alone")
        kwargs["fit_bias"] = bias
    _fields_init(self, *args, **kwargs)


_init.__qualname__ = "LearnOptions.__init__"
LearnOptions.__init__ = _init  # type: ignore[method-assign]


def _real(value: Any) -> bool:
    """A real number, not a bool or a text (whose comparisons raise TypeError or read True as 1)."""
    import numbers

    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


#: the training settings of ``method="gd"``: given away from their defaults where nothing uses them, a note says so
TRAINING = ("epochs", "lr", "batch_size", "step_size", "gamma", "optimizer", "momentum", "seed")


def unused_training(options: LearnOptions, words: OptionWords) -> list[str]:
    """The note naming the training settings ``options`` gives away from their defaults that its method does not use
    (all but ``seed`` with lstsq, which picks the windows of a system too large to hold; ``momentum`` with adam), in
    ``words``; learn_kernel took them in silence where ``kernelcli learn`` noted them.  (``gamma`` always counts:
    ``step_size`` has a default; ``lr`` counts when it is not the optimizer's default.)

    >>> unused_training(LearnOptions(epochs=5, lr=0.5), words_for("api"))
    ["epochs=, lr=: for method='gd'; lstsq solves in one step and ignores them"]
    >>> unused_training(LearnOptions(method="gd", optimizer="adam", momentum=0.5), words_for("cli"))
    ['--momentum is for --optimizer sgd; adam ignores it']
    """
    plain = LearnOptions()
    changed = [name for name in TRAINING if getattr(options, name) != getattr(plain, name)
               and not (name == "lr" and options.lr == DEFAULT_LR[options.optimizer])]  # (the command's --lr default)
    if options.method != "gd":
        unused = [name for name in changed if name != "seed"]
        if not unused:
            return []
        return [f"{', '.join(words.name(name) for name in unused)}: for {words.given('method', 'gd')}; lstsq solves in "
                f"one step and ignores {'it' if len(unused) == 1 else 'them'}"]
    if "momentum" in changed and options.optimizer == "adam":
        return [f"{words.name('momentum')} is for {words.given('optimizer', 'sgd')}; adam ignores it"]
    return []


def _padding_as_given(padding: Any) -> str | int | tuple[int, ...]:
    """A padding :func:`kernelcli.shapes.resolve_padding` took, in one form a record compares and hashes: a name in
    lower case, an integer as int, a sequence as a tuple of ints (an array made ``==`` raise and ``hash`` fail, and
    ``[1, 1]`` differed from ``(1, 1)``).

    >>> _padding_as_given(" Same "), _padding_as_given(np.int64(2)), _padding_as_given(np.array([1, 1])), _padding_as_given([0, 1, 0, 1])
    ('same', 2, (1, 1), (0, 1, 0, 1))
    """
    if isinstance(padding, str):
        return padding.strip().lower()
    if isinstance(padding, (int, np.integer)) or (isinstance(padding, np.ndarray) and padding.ndim == 0):
        return int(padding)
    return tuple(int(v) for v in padding)
