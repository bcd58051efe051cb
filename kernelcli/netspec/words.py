"""How the summary's messages name what its caller gave: ``kernelcli summary``'s options or :func:`summarize`'s
keywords.  Each message is written once, naming an option through these (as :class:`kernelcli.learn.OptionWords`
does for ``learn``); ``summarize(..., words="cli")`` is the command's, the default a Python caller's.

Shapes are quoted in the order of the answer the caller reads: the command's table draws them HxWxC under
``--layout hwc`` (``hwc``), a :class:`Summary` holds them CxHxW whatever ``layout=`` read the input as.

>>> api, cli = words_for("api"), words_for("cli")
>>> api.input_hint, cli.input_hint
('input_shape=(C, H, W)', '--input CxHxW')
>>> api.given((3, 20, 20)), cli.given((3, 20, 20)), api.max_layers, cli.max_layers
('input_shape (3, 20, 20)', '--input 3x20x20', 'max_layers=', '--max-layers')
>>> hwc = SummaryWords(cli=True, hwc=True)
>>> cli.shape((1, 28, 28)), hwc.shape((1, 28, 28)), hwc.shape((784,)), hwc.feature_map
('1x28x28', '28x28x1', '784', 'an HxWxC feature map')
"""

from __future__ import annotations

from ..records import record
from .layers import fmt_shape


@record(frozen=True)
class SummaryWords:
    """The command line's words (``cli``) or a Python caller's."""

    cli: bool = False
    hwc: bool = False  # shapes shown HxWxC

    def shape(self, shape: tuple[int, ...]) -> str:
        """A (C, H, W) or (N,) shape, written in the order the caller reads shapes."""
        return fmt_shape((*shape[1:], shape[0]) if self.hwc and len(shape) == 3 else shape)

    @property
    def feature_map(self) -> str:
        """A feature map, its axes in that order."""
        return "an HxWxC feature map" if self.hwc else "a CxHxW feature map"

    @property
    def input_option(self) -> str:
        """What names the input shape: ``--input`` or ``input_shape``."""
        return "--input" if self.cli else "input_shape"

    @property
    def layout_flag(self) -> str:
        """What picks the input's layout, as a message puts a value after it: ``--layout `` or ``layout=``."""
        return "--layout " if self.cli else "layout="

    @property
    def input_hint(self) -> str:
        """How to pass an input shape."""
        return "--input CxHxW" if self.cli else "input_shape=(C, H, W)"

    @property
    def max_layers(self) -> str:
        """What raises the limit on the layers a spec expands to."""
        return "--max-layers" if self.cli else "max_layers="

    @property
    def lister(self) -> str:
        """What lists the layers by their full dotted names: ``--json`` or ``Summary.to_dict()``."""
        return "--json" if self.cli else "Summary.to_dict()"

    @property
    def rows(self) -> str:
        """Those rows, in a sentence."""
        return "the --json rows" if self.cli else "Summary.to_dict()'s rows"

    def written(self, dims: tuple[int, ...]) -> str:
        """Sizes as the caller wrote them: ``3x20x20`` or ``(3, 20, 20)``."""
        return fmt_shape(dims) if self.cli else repr(tuple(dims))

    def given(self, dims: tuple[int, ...]) -> str:
        """The input shape as the caller gave it: ``--input 3x20x20`` or ``input_shape (3, 20, 20)``."""
        return f"{self.input_option} {self.written(dims)}"


WORDINGS = {"api": SummaryWords(), "cli": SummaryWords(cli=True)}


def words_for(words: str | SummaryWords) -> SummaryWords:
    """The :class:`SummaryWords` of ``words`` (``"api"`` or ``"cli"``), refusing another name.

    >>> words_for("cli").input_option
    '--input'
    """
    from ..option_words import chosen

    return chosen(words, WORDINGS)
