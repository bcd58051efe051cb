"""One concept, one name in the Python API (audit 110 #5; the file is named for this round of fixes).

``pad2d`` took ``mode=``/``value=`` where ``conv2d``, ``conv3d``, ``conv_layer`` and ``LearnOptions`` take
``pad_mode=``/``pad_value=`` (the command line: ``--pad-mode``/``--pad-value``, ``--mode``/``--value`` its
aliases); ``LearnOptions(bias=True)`` was ``learn --fit-bias`` while ``bias=`` elsewhere holds values.
"""

from __future__ import annotations

import numpy as np
import pytest

import kernelcli


X = np.arange(12.0).reshape(3, 4)


class TestPad2dNames:
    def test_pad_mode_and_pad_value_are_its_names(self):
        assert np.array_equal(kernelcli.pad2d(X, 2, pad_mode="reflect"), np.pad(X, 2, mode="reflect"))
        assert np.array_equal(kernelcli.pad2d(X, 1, pad_value=7), np.pad(X, 1, constant_values=7))

    def test_mode_and_value_stay_aliases_with_the_same_answer(self):
        for mode in ("constant", "replicate", "reflect", "symmetric", "circular", "wrap"):
            assert np.array_equal(kernelcli.pad2d(X, 2, mode=mode), kernelcli.pad2d(X, 2, pad_mode=mode)), mode
        assert np.array_equal(kernelcli.pad2d(X, 1, value=-3), kernelcli.pad2d(X, 1, pad_value=-3))

    @pytest.mark.parametrize("words, named", [
        ({"pad_mode": "reflect", "mode": "reflect"}, "pad_mode='reflect' and its alias mode='reflect'"),
        ({"pad_mode": "constant", "mode": "wrap"}, "pad_mode='constant' and its alias mode='wrap'"),
        ({"pad_value": 0.0, "value": 2}, "pad_value=0.0 and its alias value=2"),
        ({"pad_value": 5, "value": 5}, "pad_value=5 and its alias value=5"),
    ])
    def test_a_name_and_its_alias_together_are_refused_naming_both(self, words, named):
        # a default given explicitly counts as given: pad_mode="constant" beside mode="wrap" is not read as wrap
        with pytest.raises(TypeError, match="got both " + named.replace("(", r"\(")):
            kernelcli.pad2d(X, 1, **words)

    def test_the_dask_twin_takes_the_same_names(self):
        da = pytest.importorskip("dask.array")
        from kernelcli.tiled import arrays

        lazy = da.from_array(X, chunks=2)
        want = kernelcli.pad2d(X, (1, 2, 3, 0), pad_mode="symmetric")
        assert np.array_equal(kernelcli.pad2d(lazy, (1, 2, 3, 0), pad_mode="symmetric").compute(), want)
        assert np.array_equal(arrays.pad2d(lazy, (1, 2, 3, 0), mode="symmetric").compute(), want)
        assert np.array_equal(kernelcli.pad2d(lazy, 1, pad_value=4).compute(), kernelcli.pad2d(X, 1, value=4))
        with pytest.raises(TypeError, match="got both"):
            arrays.pad2d(lazy, 1, pad_mode="reflect", mode="wrap")

    def test_the_signature_documents_the_shared_names_and_defaults(self):
        import inspect

        params = inspect.signature(kernelcli.pad2d).parameters
        assert params["pad_mode"].default == "constant" and params["pad_value"].default == 0.0
        conv = inspect.signature(kernelcli.conv2d).parameters
        assert conv["pad_mode"].default == params["pad_mode"].default and conv["pad_value"].default == params["pad_value"].default


class TestLearnOptionsFitBias:
    def test_fit_bias_is_its_name(self):
        options = kernelcli.LearnOptions(size=3, fit_bias=True)
        assert options.fit_bias is True and "fit_bias=True" in repr(options)

    def test_bias_stays_its_old_name(self):
        assert kernelcli.LearnOptions(size=3, bias=True) == kernelcli.LearnOptions(size=3, fit_bias=True)

    def test_both_names_at_once_are_refused(self):
        with pytest.raises(TypeError, match="fit_bias=True and its old name bias=False"):
            kernelcli.LearnOptions(size=3, fit_bias=True, bias=False)
        with pytest.raises(TypeError, match="got both"):
            kernelcli.LearnOptions(3, "lstsq", "per-channel", True, bias=True)

    def test_a_non_bool_is_refused_naming_fit_bias(self):
        from kernelcli.errors import UsageError

        with pytest.raises(UsageError, match="fit_bias"):
            kernelcli.LearnOptions(fit_bias="yes")

    def test_the_fit_uses_it(self):
        rng = np.random.default_rng(3)
        x = rng.integers(0, 9, (12, 12)).astype(np.float64)
        k = np.array([[0.0, 1, 0], [1, -4, 1], [0, 1, 0]])
        result = kernelcli.learn_kernel(x, kernelcli.conv2d(x, k) + 2.5, kernelcli.LearnOptions(size=3, fit_bias=True))
        assert result.bias is not None and np.allclose(result.bias, 2.5) and np.allclose(result.kernel, k)


def test_the_old_name_of_fit_bias_is_still_read():
    # the rename left code that read options.bias with an AttributeError
    from kernelcli import LearnOptions

    assert LearnOptions(fit_bias=True).bias is True and LearnOptions().bias is False
