"""Audit 172 (shape, params, summary and their Python API): a Python caller is told its keywords, not the command
line's options; one rule for ``--json``'s ``layout``; refusals quote shapes in the order the table shows them; the
output-size functions answer what ``shape`` answers, under its names."""

from __future__ import annotations

import json

import pytest


class TestJsonLayoutOneRule:
    """#2: ``shape --in 3x4 --layout chw --json`` gave ``"layout": "chw"`` beside the note that it changes nothing,
    and ``shape --in 24`` ``"hwc"``, where ``params --flatten`` gives null for a shape with no third axis."""

    @pytest.mark.parametrize("args", [
        ["shape", "--in", "3x4", "-f", "1", "--layout", "chw"],
        ["params", "--flatten", "3x4", "--layout", "chw"],
        ["shape", "--in", "24", "-f", "3"],
        ["params", "--flatten", "7"],
        ["shape", "--in", "24x24", "-f", "2", "--pool"],
    ])
    def test_null_where_the_shape_has_no_third_axis(self, invoke, args):
        r = invoke(*args, "--json")
        assert r.exit_code == 0, r.output
        assert json.loads(r.stdout)["layout"] is None

    @pytest.mark.parametrize("args, layout", [
        (["shape", "--in", "24x24", "-f", "3", "--filters", "8", "--layout", "chw"], "chw"),  # the answer is KxHxW
        (["shape", "--in", "24x24x3", "-f", "3"], "hwc"),
        (["params", "--flatten", "3x4x5", "--layout", "chw"], "chw"),
        (["params", "--flatten", "3x4x5"], "hwc"),
    ])
    def test_the_layout_where_a_shape_has_three_axes(self, invoke, args, layout):
        r = invoke(*args, "--json")
        assert r.exit_code == 0, r.output
        assert json.loads(r.stdout)["layout"] == layout


class TestSummarizeSpeaksInKeywords:
    """#1: ``kernelcli.summarize`` told a Python caller to pass ``--input CxHxW``, that ``--max-layers`` raises the limit
    and that ``--json`` rows name layers, and blamed the spec (SpecError) for an input_shape the network cannot take."""

    def test_no_input_names_the_keyword(self):
        from kernelcli import summarize
        from kernelcli.netspec import SpecError

        with pytest.raises(SpecError) as got:
            summarize({"layers": [{"type": "flatten"}]})
        assert str(got.value) == "<spec>: input: the spec gives no input shape; pass one (input_shape=(C, H, W))"

    def test_the_layer_limit_names_the_keyword(self):
        from kernelcli import summarize
        from kernelcli.netspec import SpecError

        with pytest.raises(SpecError) as got:
            summarize("resnet18", max_layers=10)
        assert str(got.value).endswith("the spec expands to more than 10 layers (the limit; max_layers= raises it)")
        assert "--" not in str(got.value)

    @pytest.mark.parametrize("layers, said", [
        ([{"type": "dropout", "name": ""}], "(a skip and Summary.to_dict()'s rows name layers by it)"),
        ([{"type": "dropout", "name": "a"}, {"type": "dropout", "name": "a"}], "(a skip and Summary.to_dict()'s rows tell layers"),
        ([{"type": "concat", "skip": "a.b"}], "(a name with '.' is a full dotted name, as Summary.to_dict() lists them)"),
    ])
    def test_layer_names_are_told_without_options(self, layers, said):
        from kernelcli import summarize
        from kernelcli.netspec import SpecError

        with pytest.raises(SpecError) as got:
            summarize({"input": [3, 8, 8], "layers": layers})
        assert said in str(got.value) and "--json" not in str(got.value)

    def test_an_input_shape_that_does_not_fit_is_the_callers(self):
        from kernelcli import summarize
        from kernelcli.errors import UsageError

        with pytest.raises(UsageError) as got:
            summarize("alexnet", (3, 20, 20))
        assert str(got.value).startswith("input_shape (3, 20, 20) does not fit alexnet (its input is 3x224x224): alexnet.json: ")
        assert "features.5" in str(got.value)

    def test_a_spec_that_fails_at_its_own_input_is_the_specs(self):
        from kernelcli import summarize
        from kernelcli.netspec import SpecError

        spec = {"input": [3, 8, 8], "layers": [{"type": "conv", "filters": 2, "f": 30}]}
        with pytest.raises(SpecError):
            summarize(spec, (3, 8, 8))
        with pytest.raises(SpecError):  # the spec fails at its own input too: not the input's fault
            summarize(spec, (3, 9, 9))

    def test_words_are_api_or_cli(self):
        from kernelcli import summarize
        from kernelcli.errors import UsageError

        with pytest.raises(UsageError, match="invalid words 'python': expected one of api, cli"):
            summarize("alexnet", words="python")

    @pytest.mark.parametrize("args, said", [
        (["summary", "noinput.json"], "error: noinput.json: input: the spec gives no input shape; pass one (--input CxHxW)"),
        (["summary", "resnet18", "--max-layers", "10"], "layers (the limit; --max-layers raises it)"),
        (["summary", "empty.json"], "(a skip and the --json rows name layers by it)"),
        (["summary", "alexnet", "--input", "3x20x20"], "error: --input 3x20x20 does not fit alexnet (its input is 3x224x224): "),
    ])
    def test_the_command_keeps_its_options(self, invoke, tmp_path, args, said):
        (tmp_path / "noinput.json").write_text(json.dumps({"layers": [{"type": "flatten"}]}))
        (tmp_path / "empty.json").write_text(json.dumps({"input": [3, 8, 8], "layers": [{"type": "dropout", "name": ""}]}))
        r = invoke(*args)
        assert r.exit_code == (2 if "--input" in args else 3), r.output
        assert said in r.stderr, r.stderr


class TestRefusalsSpeakTheTablesOrder:
    """#4: ``summary mlp.json --input 28x28x1 --layout hwc`` said "dense needs a flat vector, got 1x28x28", a shape the
    user never typed, where the table draws every shape HxWxC; so did a residual's, a concat's and a skip's."""

    SPECS = {
        "mlp.json": {"input": [784], "layers": [{"type": "dense", "units": 10}]},
        "res.json": {"input": [3, 8, 8], "layers": [{"type": "residual", "layers": [{"type": "conv", "filters": 4, "f": 3, "p": 1}]}]},
        "cat.json": {"input": [3, 8, 8], "layers": [{"type": "conv", "filters": 4, "f": 3, "name": "a"},
                                                    {"type": "conv", "filters": 4, "f": 1, "p": 1}, {"type": "concat", "skip": "a"}]},
        "two.json": {"input": [3, 8, 8], "layers": [{"type": "conv", "filters": 4, "f": 1, "name": "0"},
                                                    {"type": "sequence", "layers": [{"type": "conv", "filters": 5, "f": 3}]},
                                                    {"type": "concat", "skip": "0"}]},
        "vec.json": {"input": [3, 8, 8], "layers": [{"type": "flatten"}, {"type": "conv", "filters": 4, "f": 1}]},
    }

    @pytest.mark.parametrize("spec, given, hwc, chw", [
        ("mlp.json", "28x28x1", "got 28x28x1;", "got 1x28x28;"),
        ("res.json", "8x8x3", "the main path gives 8x8x4 but the identity shortcut (the input) gives 8x8x3",
         "the main path gives 4x8x8 but the identity shortcut (the input) gives 3x8x8"),
        ("cat.json", "8x8x3", "skip 'a' gives 6x6x4 but the current input gives 8x8x4", "skip 'a' gives 4x6x6 but the current input gives 4x8x8"),
        ("two.json", "8x8x3", "the top-level layer 0 (8x8x4) or 1.0 (6x6x5)", "the top-level layer 0 (4x8x8) or 1.0 (5x6x6)"),
        ("vec.json", "8x8x3", "conv needs an HxWxC feature map, got a vector of 192", "conv needs a CxHxW feature map, got a vector of 192"),
    ])
    def test_hwc_shapes_under_layout_hwc(self, invoke, tmp_path, spec, given, hwc, chw):
        (tmp_path / spec).write_text(json.dumps(self.SPECS[spec]))
        r = invoke("summary", spec, "--input", given, "--layout", "hwc")
        assert r.exit_code in (2, 3) and hwc in r.stderr, r.stderr
        r = invoke("summary", spec, "--input", "x".join(given.split("x")[-1:] + given.split("x")[:-1]))
        assert r.exit_code in (2, 3) and chw in r.stderr, r.stderr

    def test_the_spec_input_is_quoted_hwc_too(self, invoke):
        r = invoke("summary", "alexnet", "--input", "20x20x3", "--layout", "hwc")
        assert r.exit_code == 2
        assert r.stderr.startswith("error: --input 20x20x3 does not fit alexnet (its input is 224x224x3): "), r.stderr

    def test_the_api_quotes_its_summarys_order(self):
        from kernelcli import summarize
        from kernelcli.errors import UsageError

        # a Summary holds CxHxW shapes whatever layout= read the input as: its messages say them so
        with pytest.raises(UsageError) as got:
            summarize(self.SPECS["mlp.json"], (28, 28, 1), layout="hwc")
        assert "got 1x28x28;" in str(got.value) and str(got.value).startswith("input_shape (28, 28, 1) does not fit")


class TestOutputSizesAnswerAsShape:
    """#3: ``conv_output_size`` took no ``padding=`` ("same" had no one-call answer), ``pool_output_size`` required a
    stride that pool2d and ``shape --pool`` default to the window, and ``dense_params``/``flatten_size`` were not in
    the public list beside ``conv_params``."""

    @pytest.mark.parametrize("size, f, kw, answer", [
        (24, 5, {"stride": 2, "padding": "same"}, 12),  # the lecture's second task, the README's first shape example
        (16, 4, {"padding": "same"}, 16),
        (16, 4, {"padding": "valid"}, 13),
        (16, 4, {"padding": 1}, 15),
        (16, 4, {"padding": (1, 2)}, 16),
        (16, 4, {"padding": "same", "dilation": 2}, 16),
    ])
    def test_conv_output_size_takes_conv2ds_padding(self, invoke, size, f, kw, answer):
        import kernelcli as K

        assert K.conv_output_size(size, f, **kw) == answer
        if isinstance(kw["padding"], str):
            args = ["--padding", kw["padding"], "--stride", kw.get("stride", 1), "--dilation", kw.get("dilation", 1)]
            r = invoke("shape", "--input", size, "--size", f, *args, "-q")
            assert r.exit_code == 0 and r.stdout.strip() == str(answer), r.output

    def test_conv_output_size_keeps_its_widths_and_refuses_both(self):
        import kernelcli as K
        from kernelcli.errors import UsageError

        assert K.conv_output_size(24, 5, stride=2, pad_before=2, pad_after=2) == 12
        with pytest.raises(UsageError, match="both give the padding; give one of them"):
            K.conv_output_size(24, 5, padding="same", pad_before=2)
        with pytest.raises(UsageError, match=r"^invalid padding 'full': expected 'same', 'valid', an integer P or \(before, after\)$"):
            K.conv_output_size(24, 5, padding="full")

    def test_pool_output_size_strides_by_the_window(self, invoke):
        import kernelcli as K

        assert K.pool_output_size(24, 2) == 12 == K.pool_output_size(24, 2, stride=2)
        assert K.pool_output_size(7, 3, ceil_mode=True) == 3
        r = invoke("shape", "--in", "24", "--size", "2", "--pool", "-q")
        assert r.stdout.strip() == "12"

    def test_params_twins_are_public(self):
        import kernelcli as K

        assert {"dense_params", "flatten_size"} <= set(K.__all__)
        assert K.dense_params(784, 10) == 7850 and K.flatten_size((64, 64, 8)) == 32768
