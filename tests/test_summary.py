"""`kernelcli summary` and kernelcli.netspec: shapes and parameter counts of whole networks.

References, each independent of the engine: torchvision's published parameter counts; the shapes
torchvision's own source comments give; hand computations written out below; the same networks
built with plain torch.nn (run here on torch's "meta" device: shapes only, no arithmetic); and,
where torchvision is installed, the torchvision models themselves.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import OrderedDict

import numpy as np
import pytest

from conftest import REPO, documentation, run_cli
from kernelcli.cli.summary import BUILTIN_NETWORKS
from kernelcli.netspec import SpecError, builtin_names, fmt_shape, load_spec, parse_input_shape, summarize
from kernelcli.resources import networks_dir

#: torchvision's published num_params (googlenet without its auxiliary heads, inception_v3 with its one)
PUBLISHED = {
    "alexnet": 61_100_840,
    "vgg16": 138_357_544,
    "resnet18": 11_689_512,
    "resnet34": 21_797_672,
    "resnet50": 25_557_032,
    "densenet121": 7_978_856,
    "googlenet": 6_624_904,
    "inception_v3": 27_161_264,
}


def unet_params_by_hand() -> int:
    """The 2015 U-Net, counted from the paper's Fig. 1: (9*C_in + 1)*C_out per 3x3 conv."""
    conv3 = lambda c_in, c_out: (3 * 3 * c_in + 1) * c_out  # noqa: E731
    encoder = conv3(1, 64) + conv3(64, 64) + conv3(64, 128) + conv3(128, 128) + conv3(128, 256) + conv3(256, 256) + conv3(256, 512) + conv3(512, 512)
    bottom = conv3(512, 1024) + conv3(1024, 1024)
    # 2x2 up-convolutions halving the channels: 2*2*C_in*C_out weights + C_out biases
    upconvs = (4 * 1024 * 512 + 512) + (4 * 512 * 256 + 256) + (4 * 256 * 128 + 128) + (4 * 128 * 64 + 64)
    # after the concatenation the first conv of each step sees twice its filters
    decoder = conv3(1024, 512) + conv3(512, 512) + conv3(512, 256) + conv3(256, 256) + conv3(256, 128) + conv3(128, 128) + conv3(128, 64) + conv3(64, 64)
    final = 64 * 2 + 2
    return encoder + bottom + upconvs + decoder + final


def test_unet_hand_count_is_the_known_figure():
    assert unet_params_by_hand() == 31_030_658


class TestBuiltins:
    def test_the_nine_builtins_are_the_files(self):
        assert builtin_names() == sorted([*PUBLISHED, "unet"])
        assert sorted(BUILTIN_NETWORKS) == builtin_names()

    @pytest.mark.parametrize("name", sorted(PUBLISHED))
    def test_total_equals_torchvision_published(self, name):
        net = summarize(name)
        assert net.params == PUBLISHED[name]
        assert net.trainable_params == PUBLISHED[name]
        assert net.output == (1000,)

    #: torchvision's published GFLOPS (its weights' "_ops": multiply-adds of an eval-mode forward, 3 decimals)
    PUBLISHED_GFLOPS = {"alexnet": 0.714, "vgg16": 15.47, "resnet18": 1.814, "resnet34": 3.664, "resnet50": 4.089,
                        "densenet121": 2.834, "googlenet": 1.498, "inception_v3": 5.713}

    @pytest.mark.parametrize("name", sorted(PUBLISHED_GFLOPS))
    def test_mult_adds_less_side_heads_equal_torchvision_published(self, name):
        # the audit: inception_v3's total (5.719 G) counts its auxiliary head, which an eval-mode forward skips;
        # its title and the networks README now say so
        net = summarize(name)
        sides = sum(layer.mult_adds for layer in net.walk() if layer.kind == "side")
        assert round((net.mult_adds - sides) / 1e9, 3 if name != "vgg16" else 2) == self.PUBLISHED_GFLOPS[name]
        assert (sides > 0) == (name == "inception_v3")
        if sides:
            assert "counted in every total" in net.title

    def test_unet_total_equals_hand_count(self):
        net = summarize("unet")
        assert net.params == unet_params_by_hand()
        assert (net.input, net.output) == ((1, 572, 572), (2, 388, 388))

    @pytest.mark.parametrize("name", ["alexnet", "vgg16", "resnet18", "resnet34", "resnet50", "densenet121", "googlenet", "inception_v3", "unet"])
    def test_every_file_loads_with_an_input_title_and_source(self, name):
        spec = load_spec(networks_dir() / f"{name}.json")
        assert spec.name == name and spec.input and spec.title and spec.source

    def test_block_rows_carry_the_sum_of_their_leaves(self):
        for name in builtin_names():
            for layer in summarize(name).walk():
                if layer.children:
                    assert layer.params == sum(leaf.params for leaf in layer.leaves()), layer.name
                    assert layer.mult_adds == sum(leaf.mult_adds for leaf in layer.leaves()), layer.name

    def test_mult_adds_of_resnet18_by_hand(self):
        # torchinfo prints 1.81 G; here every conv is out_h*out_w*K*C*fh*fw, the fc in*out
        convs = (
            112 * 112 * 64 * 3 * 49
            + 4 * 56 * 56 * 64 * 64 * 9
            + 28 * 28 * 128 * (64 + 3 * 128) * 9 + 28 * 28 * 128 * 64
            + 14 * 14 * 256 * (128 + 3 * 256) * 9 + 14 * 14 * 256 * 128
            + 7 * 7 * 512 * (256 + 3 * 512) * 9 + 7 * 7 * 512 * 256
        )
        assert summarize("resnet18").mult_adds == convs + 512 * 1000 == 1_814_073_344


def shapes_of(name: str, names: list[str]) -> list[str]:
    net = summarize(name)
    return [fmt_shape(net.find(n).shape) for n in names]


class TestPublishedShapes:
    """Shapes written in torchvision's source comments and in the U-Net paper's Fig. 1."""

    def test_resnet18_stages(self):
        names = ["conv1", "maxpool", "layer1", "layer2", "layer3", "layer4", "avgpool", "fc"]
        assert shapes_of("resnet18", names) == ["64x112x112", "64x56x56", "64x56x56", "128x28x28", "256x14x14", "512x7x7", "512x1x1", "1000"]

    def test_resnet50_stages(self):
        names = ["layer1", "layer2", "layer3", "layer4", "layer1.0.conv1", "layer2.0.conv2"]
        assert shapes_of("resnet50", names) == ["256x56x56", "512x28x28", "1024x14x14", "2048x7x7", "64x56x56", "128x28x28"]

    def test_alexnet_and_vgg16_features(self):
        assert shapes_of("alexnet", ["features.0", "features.2", "features.5", "features", "flatten"]) == ["64x55x55", "64x27x27", "192x13x13", "256x6x6", "9216"]
        assert shapes_of("vgg16", ["features.4", "features.9", "features.16", "features.23", "features", "flatten"]) == ["64x112x112", "128x56x56", "256x28x28", "512x14x14", "512x7x7", "25088"]

    def test_googlenet_as_its_source_comments(self):
        names = ["conv1", "maxpool1", "conv3", "maxpool2", "inception3a", "inception3b", "maxpool3", "inception4a", "inception4d", "inception4e", "maxpool4", "inception5b", "avgpool"]
        assert shapes_of("googlenet", names) == [
            "64x112x112", "64x56x56", "192x56x56", "192x28x28", "256x28x28", "480x28x28", "480x14x14",
            "512x14x14", "528x14x14", "832x14x14", "832x7x7", "1024x7x7", "1024x1x1",
        ]

    def test_inception_v3_as_its_source_comments(self):
        names = ["Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_2b_3x3", "maxpool1", "Conv2d_3b_1x1", "Conv2d_4a_3x3", "maxpool2",
                 "Mixed_5b", "Mixed_5c", "Mixed_5d", "Mixed_6a", "Mixed_6e", "AuxLogits.avg_pool", "AuxLogits.conv0",
                 "AuxLogits.conv1", "AuxLogits", "Mixed_7a", "Mixed_7b", "Mixed_7c", "avgpool"]
        assert shapes_of("inception_v3", names) == [
            "32x149x149", "32x147x147", "64x147x147", "64x73x73", "80x73x73", "192x71x71", "192x35x35",
            "256x35x35", "288x35x35", "288x35x35", "768x17x17", "768x17x17", "768x5x5", "128x5x5",
            "768x1x1", "1000", "1280x8x8", "2048x8x8", "2048x8x8", "2048x1x1",
        ]

    def test_inception_v3_side_output_does_not_change_the_main_path(self):
        net = summarize("inception_v3")
        assert net.find("Mixed_7a.branch3x3.branch3x3_1.conv").shape == (192, 17, 17)

    def test_densenet121_blocks_and_transitions(self):
        names = ["features.pool0", "features.denseblock1", "features.transition1", "features.denseblock2", "features.transition2",
                 "features.denseblock3", "features.transition3", "features.denseblock4", "features.denseblock4.denselayer16.new.conv2"]
        assert shapes_of("densenet121", names) == [
            "64x56x56", "256x56x56", "128x28x28", "512x28x28", "256x14x14", "1024x14x14", "512x7x7", "1024x7x7", "32x7x7",
        ]

    def test_unet_as_the_paper_figure(self):
        names = ["enc1", "enc2", "enc3", "enc4", "bottom", "dec4.upconv", "dec4.concat", "dec4", "dec3.upconv", "dec3", "dec2.upconv", "dec2", "dec1.upconv", "dec1.concat", "dec1", "out"]
        assert shapes_of("unet", names) == [
            "64x568x568", "128x280x280", "256x136x136", "512x64x64", "1024x28x28", "512x56x56", "1024x56x56", "512x52x52",
            "256x104x104", "256x100x100", "128x200x200", "128x196x196", "64x392x392", "128x392x392", "64x388x388", "2x388x388",
        ]


def tiny(*layers, input=(1, 28, 28), templates=None):
    doc = {"name": "tiny", "input": list(input), "layers": list(layers)}
    if templates is not None:
        doc["templates"] = templates
    return summarize(doc)


class TestHandChecked:
    def test_lecture_layer_65696_params(self):
        # input volume 228x228x228 (228 channels), 32 filters of 3x3: [(3*3*228) + 1] * 32
        net = tiny({"type": "conv", "filters": 32, "f": 3}, input=(228, 228, 228))
        assert net.params == ((3 * 3 * 228) + 1) * 32 == 65696
        assert net.output == (32, 226, 226)
        assert net.mult_adds == 226 * 226 * 32 * 228 * 9

    def test_conv_pool_flatten_dense_stack(self):
        net = tiny(
            {"name": "conv", "type": "conv", "filters": 8, "f": 3},  # 1x28x28 -> 8x26x26, (9*1 + 1)*8 = 80 params
            {"name": "pool", "type": "maxpool", "f": 2},  # -> 8x13x13
            {"name": "flat", "type": "flatten"},  # -> 8*13*13 = 1352
            {"name": "fc", "type": "dense", "units": 10},  # (1352 + 1)*10 = 13530 params
        )
        assert [(fmt_shape(r.shape), r.params, r.mult_adds) for r, _ in net.rows()] == [
            ("8x26x26", 80, 26 * 26 * 8 * 9),
            ("8x13x13", 0, 0),
            ("1352", 0, 0),
            ("10", 13530, 13520),
        ]
        assert net.params == 13610 and net.mult_adds == 48672 + 13520
        # float32 outputs: 8*26*26 + 8*13*13 + 10 values (flatten is a view)
        assert net.activation_bytes == 4 * (5408 + 1352 + 10)

    def test_stride_padding_dilation_groups_and_rectangles(self):
        net = tiny({"type": "conv", "filters": 6, "f": [3, 5], "s": [2, 1], "p": [1, 2], "dilation": [1, 2], "groups": 3, "bias": False}, input=(3, 17, 20))
        # H: (17 + 2 - 3)//2 + 1 = 9; W: (20 + 4 - 2*4 - 1)//1 + 1 = 16; params 3*5*(3/3)*6
        assert net.output == (6, 9, 16) and net.params == 90

    def test_same_padding_even_kernel_and_stride(self):
        assert tiny({"type": "conv", "filters": 1, "f": 4, "p": "same"}, input=(1, 24, 24)).output == (1, 24, 24)
        assert tiny({"type": "conv", "filters": 1, "f": 5, "s": 2, "p": "same"}, input=(1, 24, 24)).output == (1, 12, 12)

    def test_pool_ceil_mode_as_pytorch(self):
        # 112 -> ceil((112 - 3)/2) + 1 = 56 (floor would give 55); the last window may not start in the padding
        assert tiny({"type": "maxpool", "f": 3, "s": 2, "ceil_mode": True}, input=(1, 112, 112)).output == (1, 56, 56)
        assert tiny({"type": "maxpool", "f": 3, "s": 2}, input=(1, 112, 112)).output == (1, 55, 55)
        assert tiny({"type": "maxpool", "f": 2, "s": 2, "p": 1, "ceil_mode": True}, input=(1, 5, 5)).output == (1, 3, 3)

    def test_upconv_and_batchnorm(self):
        net = tiny({"type": "upconv", "filters": 4, "f": 2, "s": 2}, {"type": "batchnorm"}, input=(8, 10, 10))
        assert net.output == (4, 20, 20)
        assert net.params == (2 * 2 * 8 * 4 + 4) + 2 * 4
        assert net.mult_adds == 10 * 10 * 8 * 4 * 4

    def test_trainable_false_counts_as_non_trainable(self):
        net = tiny({"type": "sequence", "trainable": False, "layers": [{"type": "conv", "filters": 2, "f": 3}]}, {"type": "conv", "filters": 1, "f": 1})
        assert (net.params, net.trainable_params) == (20 + 3, 3)


class TestBlocks:
    def test_residual_identity_and_projection(self):
        block = {"type": "residual", "activation": "relu", "layers": [{"type": "conv", "filters": 16, "f": 3, "s": 2, "p": 1}],
                 "shortcut": [{"type": "conv", "filters": 16, "f": 1, "s": 2, "bias": False}]}
        net = tiny(block, input=(8, 10, 10))
        assert net.output == (16, 5, 5)
        assert net.params == (9 * 8 + 1) * 16 + 8 * 16

    def test_concat_branches_sum_channels_and_identity_branch(self):
        net = tiny({"type": "concat", "branches": {"keep": [], "new": [{"type": "conv", "filters": 5, "f": 3, "p": 1}]}}, input=(3, 9, 9))
        assert net.output == (8, 9, 9)
        assert [r.name for r, _ in net.rows()] == ["0", "0.new", "0.new.0"]  # the identity branch has no row

    def test_skip_concat_with_center_crop(self):
        net = tiny(
            {"name": "early", "type": "conv", "filters": 4, "f": 1},
            {"type": "conv", "filters": 6, "f": 5},
            {"type": "concat", "skip": "early", "crop": "center"},
            input=(1, 12, 12),
        )
        assert net.output == (10, 8, 8)

    def test_nested_unet_from_a_recursive_template_matches_the_builtin(self):
        # the same U-Net written the other way: each level wraps the next one (a layer-valued argument)
        templates = {
            "convs": {"params": {"filters": None}, "layers": [
                {"type": "conv", "filters": "$filters", "f": 3}, {"type": "activation"},
                {"type": "conv", "filters": "$filters", "f": 3}, {"type": "activation"}]},
            "level": {"params": {"filters": None, "inner": None}, "layer": {"type": "sequence", "layers": [
                {"use": "convs", "with": {"filters": "$filters"}},
                {"type": "concat", "crop": "center", "branches": {"copy": [], "deeper": [
                    {"type": "maxpool", "f": 2}, "$inner", {"type": "upconv", "filters": "$filters", "f": 2, "s": 2}]}},
                {"use": "convs", "with": {"filters": "$filters"}}]}},
        }
        bottom = {"type": "sequence", "layers": [{"use": "convs", "with": {"filters": 1024}}]}
        inner = bottom
        for filters in (512, 256, 128):
            inner = {"use": "level", "with": {"filters": filters, "inner": inner}}
        net = tiny({"use": "level", "with": {"filters": 64, "inner": inner}}, {"type": "conv", "filters": 2, "f": 1}, input=(1, 572, 572), templates=templates)
        builtin = summarize("unet")
        assert (net.params, net.output, net.mult_adds) == (builtin.params, builtin.output, builtin.mult_adds)

    def test_repeat_binds_i_and_n_and_splices_list_templates(self):
        templates = {"pair": {"params": {"k": None}, "layers": [{"type": "conv", "filters": "$k", "f": 1, "name": "c${k}"}, {"type": "activation", "name": "r${k}"}]}}
        net = tiny({"repeat": 2, "use": "pair", "with": {"k": "$n"}}, {"repeat": 2, "type": "flatten", "name": "f${i}"}, templates=templates)
        # "$n" in the call is bound by the repeat (1, 2) before the template sees it
        assert [(r.name, r.shape[0]) for r, _ in net.rows()] == [("c1", 1), ("r1", 1), ("c2", 2), ("r2", 2), ("f0", 2 * 28 * 28), ("f1", 2 * 28 * 28)]

    def test_template_bodies_see_only_their_parameters(self):
        templates = {"t": {"params": {"k": 1}, "layer": {"type": "conv", "filters": "$k", "f": 1, "name": "c${n}"}}}
        with pytest.raises(SpecError, match=r"templates\.t\.layer\.name: unknown variable \$n \(bound here: \$k\)"):
            tiny({"repeat": 2, "use": "t"}, templates=templates)

    def test_side_output_passes_its_input_on(self):
        net = tiny({"type": "side", "layers": [{"type": "flatten"}, {"type": "dense", "units": 3}]}, {"type": "conv", "filters": 2, "f": 1}, input=(4, 5, 5))
        assert net.output == (2, 5, 5)
        assert net.params == (100 + 1) * 3 + (4 + 1) * 2

    def test_depth_folds_blocks(self):
        net = summarize("resnet18")
        top = net.rows(1)
        assert [r.name for r, _ in top] == ["conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4", "avgpool", "flatten", "fc"]
        assert dict((r.name, n) for r, n in top)["layer2"] == 12  # 7 + 5 leaf layers folded
        assert sum(r.params for r, _ in top) == net.params
        assert len(net.rows(None)) == len(list(net.walk()))


class TestSpecErrors:
    """Bad specs and shapes that do not fit: SpecError (exit 3) naming file, field path and layer."""

    @pytest.mark.parametrize(
        ("layers", "needles"),
        [
            ([{"type": "concat", "branches": {"a": [{"type": "conv", "filters": 2, "f": 3}], "b": []}}],
             ["layers[0] (0)", "branch 'a' gives 2x26x26 but branch 'b' gives 1x28x28", "crop"]),
            ([{"name": "blk", "type": "residual", "layers": [{"type": "conv", "filters": 4, "f": 3, "p": 1}]}],
             ["layers[0] (blk)", "main path gives 4x28x28", "identity shortcut (the input) gives 1x28x28"]),
            ([{"type": "conv", "filters": 0, "f": 3}], ["layers[0].filters (0)", "expected an integer >= 1, got 0"]),
            ([{"type": "conv", "filter": 8, "f": 3}], ["layers[0].filter", "unknown field for conv"]),
            ([{"type": "convolution"}], ["layers[0].type", 'unknown layer type "convolution"']),
            ([{"type": "dense", "units": 3}], ["dense needs a flat vector, got 1x28x28", "flatten"]),
            ([{"type": "conv", "filters": 1, "f": 30}], ["layers[0].f (0)", "larger than the padded input 28"]),
            ([{"type": "concat", "skip": "nowhere"}], ["layers[0].skip", "no earlier layer named 'nowhere'"]),
            ([{"type": "maxpool", "f": 2, "p": 2}], ["layers[0].p", "more than half the pool size 2: at most 1"]),
            ([{"use": "missing"}], ["layers[0].use", 'no template named "missing"']),
            ([{"repeat": -1, "type": "flatten"}], ["layers[0].repeat", "expected an integer >= 0"]),
            ([{"type": "conv", "filters": "$k", "f": 3}], ["layers[0].filters", "unknown variable $k"]),
        ],
    )
    def test_message_names_the_path(self, layers, needles):
        with pytest.raises(SpecError) as info:
            tiny(*layers)
        message = str(info.value)
        assert message.startswith("<spec>: layers[")
        for needle in needles:
            assert needle in message

    def test_error_inside_a_template_names_call_site_and_template(self):
        doc = json.loads((networks_dir() / "resnet18.json").read_text())
        doc["layers"][5]["layers"][0]["with"]["filters"] = 0
        with pytest.raises(SpecError, match=r"^resnet18\.json: layers\[5\]\.layers\[0\] > templates\.basic_down\.layer\.layers\[0\]\.filters \(layer2\.0\.conv1\): expected an integer >= 1, got 0$"):
            summarize(_parse(doc, "resnet18.json"))

    def test_unknown_variable_in_an_argument_and_broken_unused_template(self):
        templates = {"t": {"params": {"k": None}, "layer": {"type": "conv", "filters": "$k", "f": 1}}}
        with pytest.raises(SpecError, match=r"layers\[0\]\.with\.k: unknown variable \$kk"):
            tiny({"use": "t", "with": {"k": "$kk"}}, templates=templates)
        with pytest.raises(SpecError, match=r"templates\.unused: a template needs exactly one of 'layer'"):
            tiny({"type": "flatten"}, templates={"unused": {"params": {}}})

    def test_template_parameter_checks(self):
        templates = {"t": {"params": {"k": None}, "layer": {"type": "conv", "filters": "$k", "f": 1}}}
        with pytest.raises(SpecError, match=r"layers\[0\]\.with: template 't' needs a value for 'k'"):
            tiny({"use": "t"}, templates=templates)
        with pytest.raises(SpecError, match=r"layers\[0\]\.with\.q: template 't' has no parameter 'q'"):
            tiny({"use": "t", "with": {"k": 1, "q": 2}}, templates=templates)

    def test_self_using_template_is_stopped(self):
        with pytest.raises(SpecError, match="nested deeper than"):
            tiny({"use": "loop"}, templates={"loop": {"layer": {"use": "loop"}}})

    def test_bad_json_and_missing_file(self, tmp_path):
        bad = tmp_path / "bad.json"
        bad.write_text('{"layers": [\n  {"type": "conv",}\n]}')
        with pytest.raises(SpecError, match=rf"^{re.escape(str(bad))}: not valid JSON: .* line 2"):  # the path as given
            load_spec(bad)
        with pytest.raises(SpecError, match="no built-in network of that name; built-ins: alexnet, densenet121"):
            load_spec("resnet19")

    def test_top_level_checks(self):
        with pytest.raises(SpecError, match=r"<spec>: layer: unknown field"):
            summarize({"layer": []})
        with pytest.raises(SpecError, match=r"<spec>: input: expected \[C, H, W\] or \[N\]"):
            summarize({"input": [3, 224], "layers": [{"type": "flatten"}]})
        with pytest.raises(SpecError, match="gives no input shape"):
            summarize({"layers": [{"type": "flatten"}]})

    def test_input_parsing(self):
        assert parse_input_shape("3x224x224") == (3, 224, 224)
        assert parse_input_shape("1, 572, 572") == (1, 572, 572)
        assert parse_input_shape("784") == (784,)
        # "3x" was read as a vector of 3 and "[3 224 224]" as 3x224x224: `shape --input` refused both (one parser now)
        for bad in ("3x224", "0x4x4", "axbxc", "", "3x", "x3", "3x224x224x", "3xx224x224", "[3 224 224]"):
            with pytest.raises(Exception, match="Invalid value for '--input'"):
                parse_input_shape(bad)


def _parse(doc, label):
    from kernelcli.netspec import parse_spec

    return parse_spec(doc, label)


# --- plain torch.nn builds of the same networks (no torchvision needed) --------------------------

TORCH_KIND = {"Conv2d": "conv", "ConvTranspose2d": "upconv", "BatchNorm2d": "batchnorm", "Linear": "dense"}


def torch_trace(torch, model, shape, *, train=False, batch=1):
    """Run ``model`` on the meta device; return its parameter-holding leaf calls and named-child outputs."""
    leaves, stages = [], {}

    def on_leaf(module, args, out):
        leaves.append((TORCH_KIND[type(module).__name__], tuple(out.shape[1:]), sum(p.numel() for p in module.parameters(recurse=False))))

    for module in model.modules():
        if type(module).__name__ in TORCH_KIND:
            module.register_forward_hook(on_leaf)
    for name, child in model.named_children():
        child.register_forward_hook(lambda m, a, out, name=name: stages.__setitem__(name, tuple(out.shape[1:])) if hasattr(out, "shape") else None)
    model.train(train)
    with torch.no_grad():
        model(torch.empty(batch, *shape, device="meta"))
    return leaves, stages, sum(p.numel() for p in model.parameters())


def engine_trace(name):
    net = summarize(name)
    leaves = [(leaf.kind, leaf.shape, leaf.params) for leaf in net.leaves() if leaf.kind in TORCH_KIND.values()]
    return net, leaves


def build_alexnet(nn):
    relu = nn.ReLU
    return nn.Sequential(OrderedDict(
        features=nn.Sequential(
            nn.Conv2d(3, 64, 11, 4, 2), relu(), nn.MaxPool2d(3, 2), nn.Conv2d(64, 192, 5, padding=2), relu(), nn.MaxPool2d(3, 2),
            nn.Conv2d(192, 384, 3, padding=1), relu(), nn.Conv2d(384, 256, 3, padding=1), relu(),
            nn.Conv2d(256, 256, 3, padding=1), relu(), nn.MaxPool2d(3, 2)),
        avgpool=nn.AdaptiveAvgPool2d((6, 6)),
        flatten=nn.Flatten(),
        classifier=nn.Sequential(nn.Dropout(), nn.Linear(9216, 4096), relu(), nn.Dropout(), nn.Linear(4096, 4096), relu(), nn.Linear(4096, 1000)),
    ))


def build_vgg16(nn):
    layers, c = [], 3
    for v in [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]:
        if v == "M":
            layers.append(nn.MaxPool2d(2, 2))
        else:
            layers += [nn.Conv2d(c, v, 3, padding=1), nn.ReLU()]
            c = v
    return nn.Sequential(OrderedDict(
        features=nn.Sequential(*layers), avgpool=nn.AdaptiveAvgPool2d((7, 7)), flatten=nn.Flatten(),
        classifier=nn.Sequential(nn.Linear(25088, 4096), nn.ReLU(), nn.Dropout(), nn.Linear(4096, 4096), nn.ReLU(), nn.Dropout(), nn.Linear(4096, 1000)),
    ))


def build_resnet(nn, blocks, bottleneck):
    class Block(nn.Module):
        def __init__(self, c_in, width, stride):
            super().__init__()
            c_out = width * 4 if bottleneck else width
            if bottleneck:
                self.conv1, self.bn1 = nn.Conv2d(c_in, width, 1, bias=False), nn.BatchNorm2d(width)
                self.conv2, self.bn2 = nn.Conv2d(width, width, 3, stride, 1, bias=False), nn.BatchNorm2d(width)
                self.conv3, self.bn3 = nn.Conv2d(width, c_out, 1, bias=False), nn.BatchNorm2d(c_out)
            else:
                self.conv1, self.bn1 = nn.Conv2d(c_in, width, 3, stride, 1, bias=False), nn.BatchNorm2d(width)
                self.conv2, self.bn2 = nn.Conv2d(width, width, 3, 1, 1, bias=False), nn.BatchNorm2d(width)
            self.down = None
            if stride != 1 or c_in != c_out:
                self.down = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out))
            self.c_out = c_out

        def forward(self, x):
            out = self.bn2(self.conv2(self.bn1(self.conv1(x)).relu()))
            if bottleneck:
                out = self.bn3(self.conv3(out.relu()))
            return (out + (x if self.down is None else self.down(x))).relu()

    stages, c = OrderedDict(), 64
    for k, n in enumerate(blocks):
        seq = []
        for j in range(n):
            seq.append(Block(c, 64 * 2**k, 2 if (k > 0 and j == 0) else 1))
            c = seq[-1].c_out
        stages[f"layer{k + 1}"] = nn.Sequential(*seq)
    return nn.Sequential(OrderedDict(
        conv1=nn.Conv2d(3, 64, 7, 2, 3, bias=False), bn1=nn.BatchNorm2d(64), relu=nn.ReLU(), maxpool=nn.MaxPool2d(3, 2, 1),
        **stages, avgpool=nn.AdaptiveAvgPool2d(1), flatten=nn.Flatten(), fc=nn.Linear(c, 1000),
    ))


def build_unet(nn, torch):
    def double(c_in, c):
        return nn.Sequential(nn.Conv2d(c_in, c, 3), nn.ReLU(), nn.Conv2d(c, c, 3), nn.ReLU())

    class UNet(nn.Module):
        def __init__(self):
            super().__init__()
            widths = [64, 128, 256, 512]
            self.enc = nn.ModuleList(double(c_in, c) for c_in, c in zip([1, *widths[:-1]], widths))
            self.bottom = double(512, 1024)
            self.up = nn.ModuleList(nn.ConvTranspose2d(2 * c, c, 2, 2) for c in reversed(widths))
            self.dec = nn.ModuleList(double(2 * c, c) for c in reversed(widths))
            self.out = nn.Conv2d(64, 2, 1)

        def forward(self, x):
            skips = []
            for enc in self.enc:
                x = enc(x)
                skips.append(x)
                x = nn.functional.max_pool2d(x, 2)
            x = self.bottom(x)
            for up, dec, skip in zip(self.up, self.dec, reversed(skips)):
                x = up(x)
                top, left = (skip.shape[2] - x.shape[2]) // 2, (skip.shape[3] - x.shape[3]) // 2
                x = dec(torch.cat([skip[:, :, top:top + x.shape[2], left:left + x.shape[3]], x], 1))
            return self.out(x)

    return UNet()


class TestAgainstPlainTorch:
    """The same networks written in plain torch.nn: every conv/bn/linear output shape and params, in order."""

    @pytest.fixture(scope="class")
    @classmethod
    def torch(cls):
        return pytest.importorskip("torch")

    @pytest.mark.parametrize(
        ("name", "build"),
        [
            ("alexnet", lambda nn, t: build_alexnet(nn)),
            ("vgg16", lambda nn, t: build_vgg16(nn)),
            ("resnet18", lambda nn, t: build_resnet(nn, [2, 2, 2, 2], False)),
            ("resnet34", lambda nn, t: build_resnet(nn, [3, 4, 6, 3], False)),
            ("resnet50", lambda nn, t: build_resnet(nn, [3, 4, 6, 3], True)),
            ("unet", build_unet),
        ],
    )
    def test_layers_and_totals_match(self, torch, name, build):
        with torch.device("meta"):
            model = build(torch.nn, torch)
        net, leaves = engine_trace(name)
        torch_leaves, stages, total = torch_trace(torch, model, net.input)
        assert len(leaves) >= 8 and stages
        assert leaves == torch_leaves
        assert net.params == total
        for stage, shape in stages.items():
            assert net.find(stage).shape == shape, stage


class TestAgainstTorchvision:
    """Skipped unless torchvision is installed: the real models, layer by layer."""

    @pytest.mark.parametrize("name", sorted(PUBLISHED))
    def test_layers_and_totals_match(self, name):
        tv = pytest.importorskip("torchvision")
        import torch

        kwargs = {"googlenet": {"aux_logits": False, "init_weights": False}, "inception_v3": {"aux_logits": True, "init_weights": False}}.get(name, {})
        with torch.device("meta"):
            model = getattr(tv.models, name)(weights=None, **kwargs)
        net, leaves = engine_trace(name)
        # train mode so inception_v3 runs its auxiliary head (batch 2: batchnorm needs > 1 value per channel)
        torch_leaves, stages, total = torch_trace(torch, model, net.input, train=True, batch=2)
        assert total == PUBLISHED[name] == net.params
        assert leaves == torch_leaves
        for stage, shape in stages.items():
            if stage in {layer.name for layer in net.layers}:
                assert net.find(stage).shape == shape, stage


# --- the command -----------------------------------------------------------------------------------


class TestCommand:
    def test_resnet18_table(self, runner):
        from kernelcli.cli import app

        result = runner.invoke(app, ["summary", "resnet18"])
        assert result.exit_code == 0, result.output
        out = result.stdout
        assert "Total params:           11,689,512" in out
        layer4 = next(line for line in out.splitlines() if line.strip().startswith("layer4 "))
        assert "512x7x7" in layer4 and "8,393,728" in layer4
        assert "Mult-adds:              1,814,073,344 (1.81 G)" in out

    def test_json_is_one_document_with_rows_and_totals(self, runner):
        from kernelcli.cli import app

        result = runner.invoke(app, ["summary", "unet", "--json", "--depth", "1"])
        assert result.exit_code == 0
        doc = json.loads(result.stdout)
        assert doc["network"] == "unet" and doc["input_shape"] == [1, 572, 572] and doc["output_shape"] == [2, 388, 388]
        assert doc["totals"]["params"] == unet_params_by_hand()
        assert [row["name"] for row in doc["layers"]][:3] == ["enc1", "pool1", "enc2"]
        assert doc["layers"][0] == {"name": "enc1", "type": "sequence", "depth": 1, "output_shape": [64, 568, 568], "params": 37568,
                                    "trainable_params": 37568, "mult_adds": 570 * 570 * 64 * 9 + 568 * 568 * 64 * 64 * 9, "folded_layers": 4}
        assert sum(row["params"] for row in doc["layers"]) == doc["totals"]["params"]

    def test_input_override(self, runner):
        from kernelcli.cli import app

        result = runner.invoke(app, ["summary", "resnet18", "--input", "3x448x448", "--json"])
        doc = json.loads(result.stdout)
        assert doc["input_shape"] == [3, 448, 448] and doc["totals"]["params"] == PUBLISHED["resnet18"]
        assert next(row for row in doc["layers"] if row["name"] == "layer4")["output_shape"] == [512, 14, 14]

    def test_spec_file_path(self, runner, tmp_path):
        from kernelcli.cli import app

        spec = tmp_path / "mine.json"
        spec.write_text(json.dumps({"input": [228, 228, 228], "layers": [{"type": "conv", "filters": 32, "f": 3}]}))
        result = runner.invoke(app, ["summary", str(spec), "--json"])
        assert json.loads(result.stdout)["totals"]["params"] == 65696

    @pytest.mark.parametrize("spec, where", [
        ({"input": [1, 2, 2], "layout": "chw", "layers": [{"repeat": 6, "type": "upconv", "filters": 1, "f": 1, "s": 10**30 - 1}]}, "layers[0] (0)"),
        ({"input": [1, 2, 2], "layout": "chw", "layers": [{"repeat": 15000, "type": "concat", "branches": {"a": [], "b": []}}]}, "layers[0] (99)"),
        ({"input": [10**30 - 1, 1, 1], "layout": "chw", "layers": [{"type": "concat", "branches": {"a": [], "b": []}}, {"type": "conv", "filters": 1, "f": 1}]},
         "layers[0] (0)"),
    ], ids=["upconv-stride", "concat-doubling", "concat-of-the-input"])
    @pytest.mark.parametrize("as_json", [[], ["--json"]], ids=["text", "json"])
    def test_sizes_that_grow_past_30_digits_are_a_spec_error(self, runner, tmp_path, spec, where, as_json):
        # the audit: exit 70 (a float division's OverflowError; an int past Python's 4300 printable digits),
        # or exit 2 naming no file (conv_params' own check)
        from kernelcli.cli import app

        path = tmp_path / "grow.json"
        path.write_text(json.dumps(spec))
        result = runner.invoke(app, ["summary", str(path), *as_json])
        assert result.exit_code == 3, result.stderr
        assert f"grow.json: {where}: its output has a size of about 31 digits; a size has at most 30" in result.stderr

    def test_large_counts_print_exactly(self, runner, tmp_path):
        from kernelcli.cli import app
        from kernelcli.cli.summary import _human

        assert _human(5_184_000_000_000_000_000_000_000_000_000_000_000_000_000_000_000_001) == "5184000000000000000000000000000000000000.00 T"
        path = tmp_path / "wide.json"
        path.write_text(json.dumps({"input": [1, 28, 28], "layers": [{"type": "conv", "filters": 10**29, "f": 1}]}))
        result = runner.invoke(app, ["summary", str(path)])
        assert result.exit_code == 0, result.stderr
        text = " ".join(result.stdout.split())  # (rich wraps the long lines at 80 columns)
        assert f"Mult-adds: {784 * 10**29:,} (78400000000000000000.00 T)" in text
        assert f"Forward activations: {4 * 784 * 10**29 // 2**20:,}.0 MiB" in text  # a float printed 299,072,265,624,999,...

    def test_a_spec_that_cannot_be_read_is_not_called_missing(self, tmp_path, monkeypatch):
        # the review: os.path.isfile's False for a folder one cannot search read 'no such spec file' (root passes
        # permission checks, so the file system's answer is made here)
        from kernelcli.netspec import spec as spec_module

        real = spec_module.os.stat

        def denied(path, *args, **kwargs):
            if str(path).endswith("net.json"):
                raise PermissionError(13, "Permission denied", str(path))
            return real(path, *args, **kwargs)

        monkeypatch.setattr(spec_module.os, "stat", denied)
        with pytest.raises(SpecError, match="locked/net.json: cannot read: Permission denied"):
            spec_module.find_spec("locked/net.json")
        with pytest.raises(SpecError, match="no such spec file and no built-in network"):
            spec_module.find_spec("missing.json")
        assert spec_module.find_spec("RESNET18").name == "resnet18.json"

    def test_bad_spec_exits_3_with_the_path(self, tmp_path):
        spec = tmp_path / "net.json"
        spec.write_text(json.dumps({"input": [3, 32, 32], "layers": [
            {"name": "a", "type": "conv", "filters": 8, "f": 3},
            {"name": "b", "type": "conv", "filters": 8, "f": 3},
            {"name": "cat", "type": "concat", "skip": "a"}]}))
        r = run_cli("summary", "net.json", cwd=tmp_path)
        assert (r.returncode, r.stdout) == (3, "")
        assert r.stderr.strip() == (
            "error: net.json: layers[2] (cat): concat: skip 'a' gives 8x30x30 but the current input gives 8x28x28; "
            "the HxW sizes must match (or set \"crop\": \"center\" to crop the larger maps, as U-Net does)"
        )

    def test_usage_errors(self, runner):
        from kernelcli.cli import app

        assert runner.invoke(app, ["summary", "resnet18", "--input", "3x224"]).exit_code == 2
        assert runner.invoke(app, ["summary", "resnet18", "--depth", "0"]).exit_code == 2
        unknown = runner.invoke(app, ["summary", "resnet19"])
        assert unknown.exit_code == 3 and "built-ins: alexnet" in unknown.stderr

    def test_help_shows_an_example_and_every_builtin(self, runner):
        from kernelcli.cli import app

        result = runner.invoke(app, ["summary", "--help"])
        assert result.exit_code == 0
        text = " ".join(result.stdout.split())
        assert "kernelcli summary resnet18" in text and "--json" in text and "--depth" in text
        for name in builtin_names():
            assert name in text

    def test_imports_neither_numpy_nor_numba(self):
        code = (
            "import sys\n"
            "from kernelcli.cli import app\n"
            "try:\n"
            "    app(['summary', 'densenet121'], prog_name='kernelcli')\n"
            "except SystemExit as exc:\n"
            "    assert exc.code in (0, None), exc.code\n"
            "print('HEAVY', sorted(m for m in ('numpy', 'numba', 'torch', 'scipy') if m in sys.modules), file=sys.stderr)\n"
        )
        r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=60)
        assert r.returncode == 0, r.stderr
        assert "Total params:           7,978,856" in r.stdout
        assert "HEAVY []" in r.stderr

    def test_engine_answers_every_builtin(self):
        # all nine (about 2,000 layers) take a few tens of ms; not timed here: a wall-clock bound
        # fails on a loaded machine (0.5 s was exceeded on a CPU shared with six busy processes)
        nets = [summarize(name) for name in builtin_names()]
        assert len(nets) == 9 and all(net.params > 0 for net in nets)


def test_readme_documents_every_layer_type():
    readme = (networks_dir() / "README.md").read_text()
    from kernelcli.netspec.engine import LAYER_TYPES

    for kind in LAYER_TYPES:
        assert f"`{kind}`" in readme, kind
    assert "## `--json`" in readme


def test_the_networks_readme_names_the_json_fields_printed():
    # it listed `input`, `output` and a layer's `output`, where summary prints input_shape and output_shape
    section = (networks_dir() / "README.md").read_text().split("## `--json`")[1].split("\n## ")[0]
    r = run_cli("summary", "alexnet", "--json")
    document = json.loads(r.stdout)
    named = [name for name in document if f"`{name}`" in section]
    assert named == list(document)
    assert all(f"`{name}`" in section for name in [*document["layers"][0], *document["totals"]])
    assert "`input`" not in section and "`output`" not in section


def test_a_key_given_twice_in_a_spec_file_is_refused(tmp_path):
    # JSON keeps the last: the branch b1 of 16 filters was dropped and summary printed 8x8x8, 224 params, exit 0
    path = tmp_path / "d.json"
    path.write_text('{"input":[3,8,8],"layers":[{"name":"inc","type":"concat","branches":{'
                    '"b1":[{"type":"conv","filters":16,"f":1}],"b1":[{"type":"conv","filters":8,"f":3,"p":1}]}}]}')
    with pytest.raises(SpecError, match='d.json: line 1, column 112: the key "b1" is given twice in one object'):
        load_spec(path)
    path.write_text('{"input":[3,8,8],"layers":[{"type":"conv","filters":16,"f":1,"filters":8}]}')
    with pytest.raises(SpecError, match='the key "filters" is given twice'):
        load_spec(path)


@pytest.mark.parametrize(("field", "needle"), [
    ('"__bias": false', "layers[0].__bias (0): unknown field for conv"),  # ignored: the bias was counted, exit 0
    ('"__source__": "layers[99]"', '"__source__" is a field of kernelcli\'s own'),  # renamed the layer in later messages
])
def test_a_field_of_two_underscores_is_not_passed_over(tmp_path, field, needle):
    path = tmp_path / "u.json"
    path.write_text('{"input":[3,8,8],"layers":[{"type":"conv","filters":2,"f":3,' + field + '}]}')
    with pytest.raises(SpecError) as info:
        summarize(load_spec(path))
    assert needle in str(info.value)


@pytest.mark.parametrize("shape", [(0, 224, 224), (-3, 224, 224), (), (3, 224, 224, 1), (3.0, 224, 224), (True, 8, 8)])
def test_the_api_checks_a_given_input_shape_as_a_specs(shape):
    # summarize("resnet18", (0, 224, 224)) gave 11,680,104 parameters, (-3, ...) 11,670,696, () an IndexError
    from kernelcli import summarize
    from kernelcli.netspec.spec import SpecError

    with pytest.raises(SpecError, match=r"^input_shape: expected \[C, H, W\] or \[N\] with integers >= 1"):
        summarize("resnet18", shape)
    assert summarize("resnet18", (np.int64(3), 224, 224)).find("layer4").shape == (512, 7, 7)


def test_a_spec_that_expands_to_no_layer_is_refused_and_a_vector_is_not_named_hwc(tmp_path):
    # learn/summary audit 3 and 2: '[{"repeat": 0, ...}]' gave an empty table and exit 0 where '"layers": []' is
    # refused; 'summary vec.json --input 784 --layout hwc' titled the vector "(HxWxC)"
    import json

    from conftest import run_in_process

    (tmp_path / "r0.json").write_text(json.dumps({"input": [3, 32, 32], "layers": [{"repeat": 0, "type": "flatten"}]}))
    r = run_in_process("summary", "r0.json", cwd=tmp_path)
    assert r.returncode == 3 and "expand to no layer" in r.stderr
    (tmp_path / "vec.json").write_text(json.dumps({"input": [784], "layers": [{"type": "dense", "units": 10}]}))
    r = run_in_process("summary", "vec.json", "--input", "784", "--layout", "hwc", cwd=tmp_path)
    assert r.returncode == 0 and "HxWxC" not in r.stdout


def test_names_and_titles_print_as_written(tmp_path):
    """The summary audit: a spec's '[/]' was Rich markup (exit 70, "closing tag"), and 'head[i]' printed 'head'."""
    spec = {"name": "n[/]x", "title": "Net [v2] (see [link]) :smile:", "input": [3, 8, 8], "layers": [
        {"type": "conv", "filters": 4, "f": 3, "name": "a[/]"}, {"type": "conv", "filters": 4, "f": 1, "name": "head[i]"},
        {"type": "conv", "filters": 4, "f": 1, "name": "[bold red]x"}]}
    (tmp_path / "m.json").write_text(json.dumps(spec))
    r = run_cli("summary", str(tmp_path / "m.json"))
    assert r.returncode == 0, r.stderr
    for text in ("n[/]x", "Net [v2] (see [link]) :smile:", "a[/]", "head[i]", "[bold red]x"):
        assert text in r.stdout, (text, r.stdout)


def test_a_narrow_terminal_cuts_no_column(tmp_path):
    # at COLUMNS=40 rich gave the Layer and Type columns no width (no layer named at all) and cut 30-digit numbers
    wide = 10**29
    path = tmp_path / "big.json"
    path.write_text(json.dumps({"input": [wide], "layers": [{"name": "fc", "type": "dense", "units": 3}]}))
    for args in (("resnet18", "--depth", "1"), (str(path),)):
        r = run_cli("summary", *args, env={"COLUMNS": "40"})
        assert r.returncode == 0, r.stderr
        rows = r.stdout.splitlines()
        assert "…" not in r.stdout and any(line.split()[:1] == ["Layer"] for line in rows), r.stdout
    assert any(line.split()[:3] == ["fc", "dense", "3"] and line.split()[3] == f"{3 * wide + 3:,}" for line in rows), r.stdout
    r = run_cli("summary", "resnet18", "--depth", "1", env={"COLUMNS": "40"})
    assert any(line.split()[:2] == ["relu", "activation"] for line in r.stdout.splitlines())


def test_piped_lines_end_without_blanks():
    # rich padded each line to the table's width (the README's example has none)
    r = run_cli("summary", "resnet18", "--depth", "1")
    assert r.returncode == 0 and r.stdout.splitlines()[:3] == ["ResNet-18", "resnet18, input 3x224x224", ""]
    assert all(line == line.rstrip() for line in r.stdout.splitlines())


# --- the summary audit, round 4 (audit 81) ---------------------------------------------------------


def _conv(filters, name=None, **more):
    layer = {"type": "conv", "filters": filters, "f": 1, **more}
    return layer if name is None else {"name": name, **layer}


class TestSkipNames:
    """A skip joined another layer than the one its name gives: a full dotted name was shadowed by a later
    block's layer of that short name, and a concat branch or a residual's shortcut could not be reached."""

    def test_a_name_that_reads_two_ways_is_refused_naming_both(self):
        # model[0] (8 channels) or the later 1.0 (16): 48x32x32 was printed, exit 0
        layers = [_conv(8), {"type": "sequence", "layers": [_conv(16), _conv(32)]}, {"type": "concat", "skip": "0"}]
        with pytest.raises(SpecError) as info:
            tiny(*layers, input=(3, 32, 32))
        message = str(info.value)
        assert message.startswith("<spec>: layers[2].skip (2): ")
        for needle in ("top-level layer 0 (8x32x32)", "1.0 (16x32x32)", "name the nested layer in full, e.g. '1.0'",
                       "give the top-level layer a name of its own"):
            assert needle in message, message
        assert tiny(*layers[:2], {"type": "concat", "skip": "1.0"}, input=(3, 32, 32)).output == (48, 32, 32)
        assert tiny(_conv(8, "stem"), *layers[1:2], {"type": "concat", "skip": "stem"}, input=(3, 32, 32)).output == (40, 32, 32)

    def test_a_short_name_of_one_layer_still_finds_the_latest(self):
        block = {"name": "blk", "type": "sequence", "layers": [_conv(4, "enc"), _conv(6)]}
        later = {"name": "blk2", "type": "sequence", "layers": [_conv(5, "enc"), _conv(7)]}
        assert tiny(block, later, {"type": "concat", "skip": "enc"}, input=(3, 8, 8)).output == (12, 8, 8)
        assert tiny(block, later, {"type": "concat", "skip": ["blk.enc", "blk"]}, input=(3, 8, 8)).output == (17, 8, 8)

    def test_branches_and_shortcuts_are_layers_a_skip_can_name(self):
        inc = {"name": "inc", "type": "concat", "branches": {"a": [_conv(4)], "b": [_conv(6)]}}
        # "inc.b" is a row of --json: it was 'no earlier layer named'
        assert tiny(_conv(8, "b"), inc, {"type": "concat", "skip": "inc.b"}, input=(3, 8, 8)).output == (16, 8, 8)
        # "b" is the top-level conv and, later, the branch inc.b: it took the conv (18x8x8), in silence
        with pytest.raises(SpecError, match=r"top-level layer b \(8x8x8\).*inc\.b \(6x8x8\)"):
            tiny(_conv(8, "b"), inc, {"type": "concat", "skip": "b"}, input=(3, 8, 8))
        res = {"name": "res", "type": "residual", "layers": [_conv(4)], "shortcut": [_conv(4), {"type": "batchnorm"}]}
        assert tiny(res, {"type": "concat", "skip": "res.shortcut"}, input=(3, 8, 8)).output == (8, 8, 8)
        with pytest.raises(SpecError, match=r"layers\[1\]\.skip \(1\): no earlier layer named 'res\.nothing'"):
            tiny(res, {"type": "concat", "skip": "res.nothing"}, input=(3, 8, 8))


class TestLayerNames:
    """A name given twice in one list, an empty one and one with a dot were accepted: duplicate rows in --json,
    and the table showed the top-level layer 'x.y' as a layer 'y' one level down."""

    @pytest.mark.parametrize(("layers", "needles"), [
        ([_conv(8, "c"), _conv(4, "c")], ['layers[1].name (c): the name "c" is given twice in this list (layers[0] has it too)']),
        ([_conv(8, "1"), _conv(4)], ['layers[1] (1): the name "1" (its index: a layer without "name" is named by its place) '
                                     "is given twice in this list (layers[0] has it too)"]),
        ([_conv(8), _conv(4, "0")], ['layers[1].name (0): the name "0" is given twice in this list (layers[0] has it too, '
                                     "its index"]),
        ([{"repeat": 2, **_conv(4, "c")}], ['layers[0].name (c): the name "c" is given twice', "${n}"]),
        ([_conv(8, "x.y")], ['layers[0].name (x.y): the name "x.y" holds a \'.\'', "dots join a block's name to its layers' names"]),
        ([_conv(8, "")], ['layers[0].name', 'the name "" is empty; expected a non-empty string']),
        ([{"type": "concat", "branches": {"": [], "y": [_conv(5)]}}], ["layers[0].branches (0)", 'the branch name ""', "empty"]),
        ([{"type": "concat", "branches": {"a.b": [], "y": [_conv(5)]}}], ["layers[0].branches (0)", 'the branch name "a.b" holds a \'.\'']),
        ([{"type": "residual", "layers": [_conv(1, "shortcut")], "shortcut": [_conv(1)]}],
         ['layers[0].layers[0].name (0.shortcut): the name "shortcut" is the residual\'s shortcut\'s']),
    ], ids=["twice", "index-after-name", "name-after-index", "repeat", "dot", "empty", "empty-branch", "dotted-branch", "shortcut"])
    def test_refused_naming_the_field(self, layers, needles):
        with pytest.raises(SpecError) as info:
            tiny(*layers, input=(1, 8, 8))
        for needle in needles:
            assert needle in str(info.value), str(info.value)

    def test_the_command_exits_3_with_one_line(self, tmp_path):
        path = tmp_path / "dup.json"
        path.write_text(json.dumps({"input": [3, 16, 16], "layers": [_conv(8, "c"), _conv(4, "c")]}))
        r = run_cli("summary", str(path), "--json")
        assert r.returncode == 3 and json.loads(r.stdout)["code"] == 3
        assert r.stderr.count("\n") == 1 and "the name \"c\" is given twice" in r.stderr and "Traceback" not in r.stderr


def test_an_explicit_trainable_true_inside_a_frozen_block_wins():
    # PyTorch's backbone.requires_grad_(False); backbone.head.requires_grad_(True): head was counted frozen
    net = tiny({"name": "backbone", "type": "sequence", "trainable": False, "layers": [
        _conv(4, "stem", f=3, p=1),
        {"name": "head", "type": "sequence", "trainable": True, "layers": [_conv(4), {"type": "sequence", "layers": [_conv(2)]}]},
        _conv(3, "tail")]}, input=(3, 8, 8))
    rows = {layer.name: (layer.params, layer.trainable_params) for layer in net.walk()}
    assert rows["backbone.stem"] == (112, 0) and rows["backbone.tail"] == (9, 0)  # inherit the block's false
    assert rows["backbone.head.0"] == (20, 20) and rows["backbone.head.1.0"] == (10, 10)  # the inner flag, and its subtree
    assert rows["backbone"] == (151, 30) and net.trainable_params == 30
    section = (networks_dir() / "README.md").read_text()
    assert "requires_grad_" in section


class TestFindSpec:
    """`summary unet` beside a folder unet/ was 'is not a regular file'; beside a file vgg16, that file, in silence."""

    @pytest.fixture
    def folder(self, tmp_path, monkeypatch):
        (tmp_path / "unet").mkdir()
        (tmp_path / "vgg16").write_text(json.dumps({"input": [1, 8, 8], "layers": [{"type": "flatten"}]}))
        (tmp_path / "alexnet.json").write_text(json.dumps({"input": [1, 8, 8], "layers": [_conv(2)]}))
        (tmp_path / "mine").write_text(json.dumps({"input": [1, 8, 8], "layers": [_conv(3)]}))
        monkeypatch.chdir(tmp_path)
        return tmp_path

    def test_a_bare_builtin_name_is_the_builtin(self, folder):
        from kernelcli.netspec.spec import find_spec

        for ref in ("unet", "vgg16", "VGG16", "alexnet"):
            assert find_spec(ref) == networks_dir() / f"{ref.lower()}.json"
        assert summarize("vgg16").params == PUBLISHED["vgg16"]

    def test_a_path_is_a_path(self, folder):
        assert summarize("./vgg16").params == 0 and summarize("alexnet.json").params == 4
        assert summarize("mine").params == 6  # not a built-in: the file, as before
        with pytest.raises(SpecError, match=r"^\./unet: is not a regular file"):
            load_spec("./unet")

    def test_the_command(self, folder):
        assert run_in_process_q("summary", "unet", "-q", cwd=folder) == (0, f"{unet_params_by_hand()}\n")
        assert run_in_process_q("summary", "vgg16", "-q", cwd=folder) == (0, f"{PUBLISHED['vgg16']}\n")
        assert run_in_process_q("summary", "./vgg16", "-q", cwd=folder) == (0, "0\n")

    def test_the_readme_says_so(self):
        section = documentation().split("## Whole networks: `kernelcli summary`")[1].split("\n## ")[0]
        assert "./" in section and "built-in" in section and "current folder" in section


def run_in_process_q(*args, cwd):
    from conftest import run_in_process

    r = run_in_process(*args, cwd=cwd)
    return r.returncode, r.stdout


def test_a_spec_with_a_byte_order_mark_is_read(tmp_path):
    # 'Unexpected UTF-8 BOM': kernel JSON files are read as utf-8-sig (Windows Notepad's)
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps({"input": [1, 8, 8], "layers": [_conv(2)]}).encode())
    assert summarize(load_spec(path)).params == 4


def test_errors_name_the_file_as_given(tmp_path, monkeypatch):
    # 'zero.json: ...' for sub/../specs/zero.json: a/net.json and b/net.json both showed as net.json
    (tmp_path / "sub").mkdir()
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "zero.json").write_text(json.dumps({"input": [1, 8, 8], "layers": [{"type": "conv", "filters": 1, "f": 9}]}))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SpecError, match=r"^sub/\.\./specs/zero\.json: layers\[0\]\.f \(0\): "):
        summarize("sub/../specs/zero.json")
    r = run_cli("summary", "sub/../specs/zero.json", "--json", cwd=tmp_path)
    assert r.returncode == 3 and r.stderr.startswith("error: sub/../specs/zero.json: layers[0].f")
    assert json.loads(r.stdout)["error"].startswith("sub/../specs/zero.json: ")
    with pytest.raises(SpecError, match=r"^resnet18\.json: "):  # a built-in by its name, as before
        summarize("RESNET18", max_layers=10)


@pytest.mark.parametrize(("n", "text"), [
    (999, "999"), (1000, "1.00 K"), (999_994, "999.99 K"), (999_995, "1.00 M"), (999_999, "1.00 M"),
    (999_994_999, "999.99 M"), (999_995_000, "1.00 G"), (999_995_000_000, "1.00 T"), (10**15 - 1, "1000.00 T"),
])
def test_human_rounds_then_picks_the_unit(n, text):
    # 999,999 mult-adds printed '1000.00 K'
    from kernelcli.cli.summary import _human

    assert _human(n) == text


class TestEchoedValues:
    """Values in messages as the user wrote them in JSON: 'got True', 'got nan', "got 'no'" were Python's."""

    @pytest.mark.parametrize(("doc", "needle"), [
        ({"input": [1, 8, 8], "layers": [{"type": "conv", "filters": True, "f": 3}]}, "layers[0].filters (0): expected an integer >= 1, got true"),
        ({"input": [True, 8, 8], "layers": [{"type": "flatten"}]}, "input: expected [C, H, W] or [N] with integers >= 1, got [true, 8, 8]"),
        ({"input": [1, 8, 8], "layers": [{"type": "dropout", "rate": float("nan")}]}, "layers[0].rate (0): expected a number in [0.0, 1.0], got NaN"),
        ({"input": [1, 8, 8], "layers": [{"type": "conv", "filters": 2, "f": 3, "trainable": "no"}]}, 'layers[0].trainable (0): expected true or false, got "no"'),
        ({"input": [1, 8, 8], "layers": [{"type": "conv", "filters": 2, "f": [3, None]}]}, "expected an integer >= 1 or [h, w], got [3, null]"),
        ({"input": [1, 8, 8], "layers": [{"type": "activation", "fn": False}]}, "got false"),
        ({"input": [1, 8, 8], "layers": [{"repeat": 1.5, "type": "flatten"}]}, "layers[0].repeat: expected an integer >= 0, got 1.5"),
        ({"input": [1, 8, 8], "layers": [{"type": True}]}, "unknown layer type true"),
        ({"input": [1, 8, 8], "layers": [{"type": "concat", "skip": [None]}]}, "expected a layer name or a list of names, got [null]"),
        ({"input": [1, 8, 8], "layers": [{"type": "conv", "filters": 2, "f": 3, "name": 5}]}, "layers[0].name (0): expected a non-empty string, got 5"),
    ], ids=["bool-int", "bool-input", "nan", "string-bool", "null-pair", "bool-choice", "float-repeat", "bool-type", "null-skip", "int-name"])
    def test_spelled_as_json(self, doc, needle):
        with pytest.raises(SpecError) as info:
            summarize(doc)
        assert needle in str(info.value), str(info.value)

    def test_a_whole_variable_name_that_is_not_a_string_says_to_write_braces(self):
        with pytest.raises(SpecError, match=r'layers\[0\]\.name: "\$n" gives 1, not a string; write "\$\{n\}" inside a name'):
            tiny({"repeat": 2, "name": "$n", "type": "dropout"})
        assert [r.name for r, _ in tiny({"repeat": 2, "name": "${n}", "type": "dropout"}).rows()] == ["1", "2"]

    def test_upconv_output_padding_names_the_value_stride_and_dilation(self):
        with pytest.raises(SpecError, match=r"layers\[0\]\.output_padding \(0\): output_padding 2 must be smaller than the "
                                            r"stride \(2\) or the dilation \(1\), as in PyTorch$"):
            tiny({"type": "upconv", "filters": 1, "f": 2, "s": 2, "output_padding": 2})
        with pytest.raises(SpecError, match=r"output_padding \[0, 3\] must be smaller than the stride \(\[2, 2\]\) or the dilation \(3\)"):
            tiny({"type": "upconv", "filters": 1, "f": 2, "s": [2, 2], "dilation": 3, "output_padding": [0, 3]})
