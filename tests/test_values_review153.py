"""Review 153: values that float64 reads as another, and the one sentence each is refused in.

#12: ``--lr 1e-400`` said "1e-400 reads as 0 (below the float range, whose smallest magnitude is 4.9e-324): not in
the range x>0." where ``--momentum 1e-400`` and ``--bias 1e-400`` said "1e-400 (below the float range), expected a
number float64 holds (...)"; ``--seed -1e40`` was "an integer of 41 digits", ``--seed -1`` "not in the range x>=0".

#5: ``--kernel-scale 1e-400`` was refused with the advice "at least 4.9e-324 in magnitude, or 0", though
``--kernel-scale 0`` is refused; ``1e-322%`` (0 once divided by 100) got another sentence.
"""

from __future__ import annotations

import pytest

from kernelcli import numtext
from kernelcli.errors import InvalidKernel, UsageError
from kernelcli.kernel_syntax import parse_kernel_scale
from test_values_review148 import notes  # noqa: F401 - the logger's records (caplog misses them after a CLI run)

NON_ZERO = "(below the float range), expected a number float64 holds (at least 4.9e-324 in magnitude)"


class TestKernelScaleUnderflow:
    @pytest.mark.parametrize("typed, shown", [("1e-400", "1e-400"), ("1e-322%", "1e-322%"), ("-1e-400!", "-1e-400"),
                                              ("1e-400%^", "1e-400%")])
    def test_refused_without_offering_0(self, typed, shown):
        with pytest.raises(UsageError) as refused:
            parse_kernel_scale(typed)
        assert str(refused.value) == f"invalid --kernel-scale {typed!r}: {shown} {NON_ZERO}"
        assert "or 0" not in str(refused.value)

    def test_0_keeps_its_sentence_and_a_subnormal_is_taken(self):
        with pytest.raises(UsageError, match="the factor must be a finite non-zero number"):
            parse_kernel_scale("0")
        assert parse_kernel_scale("1e-320").factor == 1e-320
        assert parse_kernel_scale("1e-300%").factor == 1e-302

    def test_the_cli_says_it(self, tmp_path):
        import numpy as np

        from conftest import run_in_process

        np.save(tmp_path / "one.npy", np.ones((5, 5)))
        r = run_in_process("convolve", "one.npy", "-k", "box:3", "--kernel-scale", "1e-322%", "-o", "o.npy", cwd=tmp_path)
        assert r.returncode == 2 and f"1e-322% {NON_ZERO}" in r.stderr, r.stderr
        assert not (tmp_path / "o.npy").exists()


def test_below_range_where_0_is_no_answer():
    assert numtext.below_range("1e-400", zero=False) == f"1e-400 {NON_ZERO}"
    assert numtext.below_range("1e-400").endswith(", or 0)")


# #7, #8: long doubles given in memory, read as conv2d reads them, in one wording

LONG = pytest.mark.skipif(__import__("numpy").finfo(__import__("numpy").longdouble).nmant <= 52,
                          reason="long double is float64 here")
WHOLE = ("the weight at (0, 0) is 9007199254740993, which float64 reads as 9007199254740992: kernel weights are float64, "
         "exact for whole numbers up to 2**53; give it as float64 to take the rounding")


@LONG
class TestLongDoublesInMemory:
    def test_kernel_takes_a_list_of_long_double_scalars_as_conv2d_does(self):
        import numpy as np

        import kernelcli as K

        listed = [[np.longdouble("0.5"), 1.0]]
        assert K.Kernel("a", listed).matrix == ((0.5, 1.0),)
        assert K.Kernel("a", ([np.longdouble("0.25"), np.longdouble(2)],)).matrix == ((0.25, 2.0),)
        assert np.array_equal(K.conv2d(np.ones((3, 3)), listed), K.conv2d(np.ones((3, 3)), K.Kernel("a", listed)))
        with pytest.raises(InvalidKernel, match=r"Kernel 'a': matrix: the weight at \(0, 0\) is 1e-400 \(below"):
            K.Kernel("a", [[np.longdouble("1e-400"), 1.0]])

    def test_in_memory_weights_are_not_called_a_file(self, notes):
        import numpy as np

        import kernelcli as K

        w = np.ones((1, 1, 3, 3), np.longdouble)
        w.flat[0] = np.longdouble("0.1")
        K.conv_layer(np.ones((5, 5, 1)), w)
        said = [r.getMessage() for r in notes]
        assert any(m.startswith(f"weights: {np.dtype(np.longdouble)} weights are read as float64") for m in said), said
        assert not any("file" in m for m in said), said

    @pytest.mark.parametrize("dtype", ["int64", "longdouble"])
    def test_one_wording_for_a_whole_number_past_2_to_the_53(self, dtype, tmp_path):
        import numpy as np

        import kernelcli as K

        k = np.zeros((1, 1), getattr(np, dtype))
        k[0, 0] = getattr(np, dtype)(2**53) + 1
        with pytest.raises(InvalidKernel) as refused:
            K.conv2d(np.ones((5, 5)), k)
        assert str(refused.value) == f"kernel: {WHOLE}"
        w = k.reshape(1, 1, 1, 1)
        with pytest.raises(UsageError) as refused:
            K.conv_layer(np.ones((5, 5, 1)), w)
        assert str(refused.value) == f"weights: {WHOLE.replace('weight at (0, 0)', 'value at (0, 0, 0, 0)')}"

        from kernelcli.kernel_syntax import read_npy_kernel
        from kernelcli.layer_files import read_weights

        np.save(tmp_path / "k.npy", k)  # a file: the same words
        with pytest.raises(InvalidKernel) as refused:
            read_npy_kernel(tmp_path / "k.npy")
        assert str(refused.value) == f"{tmp_path / 'k.npy'}: {WHOLE}"
        np.save(tmp_path / "w.npy", w)
        with pytest.raises(InvalidKernel) as refused:
            read_weights(tmp_path / "w.npy")
        assert str(refused.value) == f"{tmp_path / 'w.npy'}: {WHOLE.replace('weight at (0, 0)', 'value at (0, 0, 0, 0)')}"


class TestOneUnderflowSentence:
    """#12: the same typed underflow, worded once across float options; an integer below its range said so."""

    @pytest.mark.parametrize("option, bounds", [("--lr", "x>0"), ("--gamma", "x>0 and x<=1"), ("--momentum", None)])
    def test_learn_options(self, tmp_path, option, bounds):
        import numpy as np

        from conftest import run_in_process

        np.save(tmp_path / "m.npy", np.arange(16.0).reshape(4, 4))
        r = run_in_process("learn", "m.npy", "m.npy", "-f", "3", "--method", "gd", "--epochs", "1", option, "1e-400",
                           "-o", "k.json", cwd=tmp_path)
        held = numtext.HELD_NUMBER if bounds is None else f"{numtext.HELD_NON_ZERO} in the range {bounds}."
        assert r.returncode == 2 and f"'{option}': 1e-400 (below the float range), {held}" in r.stderr, r.stderr
        assert not (tmp_path / "k.json").exists()

    def test_the_words_are_below_range_s(self):
        said = numtext.out_of_range("1e-400", 0, 1, above=True, read=0.0)
        assert said == numtext.below_range("1e-400", zero=False) + " in the range x>0 and x<=1."

    @pytest.mark.parametrize("typed", ["-1e40", "-1" + "0" * 40, "-1"])
    def test_an_integer_below_its_range_is_refused_by_it(self, tmp_path, typed):
        import numpy as np

        from conftest import run_in_process

        np.save(tmp_path / "m.npy", np.arange(16.0).reshape(4, 4))
        r = run_in_process("learn", "m.npy", "m.npy", "-f", "3", "--method", "gd", "--epochs", "1", "--seed", typed,
                           "-o", "k.json", cwd=tmp_path)
        shown = typed if len(typed) <= 40 else numtext.quoted(typed)
        assert r.returncode == 2 and f"'--seed': {shown} is not in the range x>=0." in r.stderr, r.stderr
