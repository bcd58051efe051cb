"""Audit 113 (and 110's #6, #7): one rule and one wording across shape, summary and pool.

Each test says what was observed before the fix; the references are hand counts, the README's rules and PyTorch.
"""

from __future__ import annotations

import json
import re
import shlex

import pytest

from conftest import documentation, run_in_process
from kernelcli.errors import UsageError
from kernelcli.netspec import SpecError, summarize

CONV = [{"type": "conv", "filters": 8, "f": 3}]


class TestSummaryInputReadsTwoWays:
    """#1: `summary --input 3x64x3` was read CxHxW in silence (output 8x62x1, exit 0) where `shape --in 3x64x3`
    refuses it: with no input in the spec, and for resnet18, whose 3 channels both readings have."""

    @pytest.mark.parametrize("dims", ["3x64x3", "3x4x4", "4x6x3"])
    def test_a_spec_without_input_refuses_what_shape_refuses(self, invoke, tmp_path, dims):
        (tmp_path / "noin.json").write_text(json.dumps({"layers": CONV}))
        a, b, c = dims.split("x")
        shape = invoke("shape", "--in", dims, "--f", "3", "--filters", "8", "-q")
        summary = invoke("summary", "noin.json", "--input", dims)
        assert shape.exit_code == summary.exit_code == 2 and summary.stdout == ""
        for words in ("reads two ways", f"CxHxW = {a} channels of {b}x{c}", f"HxWxC = {a}x{b} with {c} channels",
                      "--layout chw", "--layout hwc"):
            assert words in summary.stderr, summary.stderr
        chw = json.loads(invoke("summary", "noin.json", "--input", dims, "--layout", "chw", "--json").stdout)
        hwc = json.loads(invoke("summary", "noin.json", "--input", dims, "--layout", "hwc", "--json").stdout)
        assert chw["output_shape"] == [8, int(b) - 2, int(c) - 2] and hwc["output_shape"] == [8, int(a) - 2, int(b) - 2]  # JSON: CxHxW

    def test_both_readings_with_the_networks_channels_are_refused(self, invoke):
        result = invoke("summary", "resnet18", "--input", "3x64x3", "--depth", "1")
        assert result.exit_code == 2 and result.stdout == ""
        assert "reads two ways" in result.stderr and "resnet18's 3 channels" in result.stderr and "--layout hwc" in result.stderr
        assert invoke("summary", "resnet18", "--input", "3x64x3", "--layout", "hwc", "--depth", "1").exit_code == 0

    def test_one_reading_with_the_networks_channels_or_a_cube_is_taken(self, invoke, tmp_path):
        (tmp_path / "noin.json").write_text(json.dumps({"layers": CONV}))
        doc = json.loads(invoke("summary", "resnet18", "--input", "3x64x4", "--json").stdout)  # 4 channels HxWxC
        assert doc["input_shape"] == [3, 64, 4]
        cube = json.loads(invoke("summary", "noin.json", "--input", "3x3x3", "--json").stdout)
        assert cube["output_shape"] == [8, 1, 1]

    def test_the_api_and_a_specs_own_input_follow_the_same_rule(self):
        with pytest.raises(UsageError, match=r"^input_shape 3x64x3 reads two ways: .*give layout=chw or layout=hwc"):
            summarize({"layers": CONV}, (3, 64, 3))
        with pytest.raises(UsageError, match="resnet18's 3 channels"):
            summarize("resnet18", (3, 64, 3))
        with pytest.raises(SpecError, match=r"input: \[3, 4, 4\] reads two ways") as info:
            summarize({"input": [3, 4, 4], "layers": CONV})
        assert "channels first" not in str(info.value)  # [4, 3, 4] would read two ways too
        assert summarize({"input": [3, 4, 4], "layout": "hwc", "layers": CONV}).input == (4, 3, 4)


class TestResidualActivationIsATensor:
    """#2: a residual's "activation": "relu" added nothing to Forward activations (16.0 KiB: the conv and the sum)
    where the same ReLU written as a layer after the block is counted (24.0 KiB): a forward pass creates conv, add
    and relu outputs, three 8x16x16 float32 tensors either way."""

    BLOCK = [{"type": "conv", "filters": 8, "f": 3, "p": 1}]

    def test_both_spellings_count_three_tensors(self):
        own = summarize({"input": [8, 16, 16], "layers": [
            {"name": "blk", "type": "residual", "activation": "relu", "layers": self.BLOCK}]})
        layer = summarize({"input": [8, 16, 16], "layers": [
            {"name": "blk", "type": "residual", "layers": self.BLOCK}, {"name": "relu", "type": "activation", "fn": "relu"}]})
        assert own.activation_bytes == layer.activation_bytes == 3 * 4 * 8 * 16 * 16
        assert summarize({"input": [8, 16, 16], "layers": [
            {"type": "residual", "layers": self.BLOCK}]}).activation_bytes == 2 * 4 * 8 * 16 * 16  # no activation: 2

    def test_against_torch_a_forward_pass_creates_three(self):
        torch = pytest.importorskip("torch")
        conv = torch.nn.Conv2d(8, 8, 3, padding=1)
        x = torch.zeros(1, 8, 16, 16)
        created = [conv(x)]
        created.append(created[-1] + x)
        created.append(torch.relu(created[-1]))
        own = summarize({"input": [8, 16, 16], "layers": [
            {"type": "residual", "activation": "relu", "layers": self.BLOCK}]})
        assert own.activation_bytes == sum(t.numel() * t.element_size() for t in created)

    def test_resnet18_counts_each_blocks_relu(self):
        # 8 blocks, each ending in a ReLU the size of its output: 2 of 64x56x56, 128x28x28, 256x14x14, 512x7x7 each
        before = 29_910_944  # the total before: every tensor but these
        blocks = 2 * (64 * 56 * 56 + 128 * 28 * 28 + 256 * 14 * 14 + 512 * 7 * 7)
        assert summarize("resnet18").activation_bytes == before + 4 * blocks


class TestAWindowTooLargeNamesItsDilation:
    """#4: a dilated pool that does not fit said "pool window 41 is larger than the padded input 32 (in=32,
    padding=0)", with no word of the dilation at fault, where conv says "kernel span 41 (f=3, dilation=20)"."""

    WORDS = "span 41 (f=3, dilation=20) is larger than the padded input 32 (in=32, padding 0+0): the output would be empty"

    def test_summary_says_it_for_a_pool_as_for_a_conv(self, invoke, tmp_path):
        for kind, extra in (("maxpool", {}), ("conv", {"filters": 4})):  # avgpool has no dilation, as PyTorch
            doc = {"input": [3, 32, 32], "layers": [{"name": "w", "type": kind, "f": 3, "dilation": 20, **extra}]}
            (tmp_path / "dil.json").write_text(json.dumps(doc))
            result = invoke("summary", "dil.json")
            what = "kernel" if kind == "conv" else "pool window"
            assert result.exit_code == 3 and result.stderr == f"error: dil.json: layers[0].f (w): {what} {self.WORDS}\n"

    def test_shape_pool_says_it_too(self, invoke):
        # (audit 132 #7: shape --pool takes no dilation, as pool has none: the dilation is what it names)
        from kernelcli.shapes import POOL_DILATION_RULE

        result = invoke("shape", "--in", "32", "-f", "3", "--dilation", "20", "--pool")
        assert result.exit_code == 2  # (in Click's form, as every value refused: review 52 #4)
        assert result.stderr == f"error: Invalid value for '--dilation': '20': {POOL_DILATION_RULE} (see 'kernelcli shape -h')\n"


README = documentation()


class TestReadmeRunsInOrder:
    """Audit 110 #6: the README's examples, run in order in one folder, stopped at exit 4 (the pipe example and the
    volume example both wrote edges.png); `kernels --family gaussian` showed a rule of 94 where a pipe prints 149 and
    left out its `Also:` note; shape's refusal of --layout zyx said it was for "convolve, pool, pad" alone."""

    def test_no_two_examples_write_the_same_file(self):
        written = []
        for line in README.splitlines():
            if line.startswith("$ ") and "kernelcli " in line and "--force" not in line:  # (a pipe: "$ cat x | kernelcli")
                words = shlex.split(line[2:].split(";")[0])
                written += [words[i + 1] for i, w in enumerate(words[:-1]) if w in ("-o", "--out", ">") and words[i + 1] != "-"]
        assert written and len(written) == len(set(written)), sorted(w for w in written if written.count(w) > 1)

    def test_the_kernel_list_is_what_a_pipe_prints(self):
        shown = README.split("$ kernelcli kernels --family gaussian\n", 1)[1].split("\n\n", 1)[0]
        r = run_in_process("kernels", "--family", "gaussian")
        assert r.returncode == 0 and shown == r.stdout + r.stderr.rstrip("\n")

    def test_shapes_zyx_refusal_names_every_command_that_takes_zyx(self, invoke):
        from kernelcli.layout import VOLUME_LAYOUT_TAKERS

        commands = ("convolve", "volume", "pool", "pad", "gallery", "learn", "params", "shape", "summary", "kernels")
        takers = {name for name in commands if "--layout [hwc|chw|zyx]" in " ".join(invoke(name, "--help").stdout.split())}
        assert takers == {name.split()[0] for name in VOLUME_LAYOUT_TAKERS}
        refused = run_in_process("shape", "--in", "8x24x24", "--f", "3", "--layout", "zyx")
        assert refused.returncode == 2 and ", ".join(VOLUME_LAYOUT_TAKERS) in refused.stderr


class TestShapePoolSaysWhatPoolSays:
    """Audit 110 #7: `shape --pool -p same` said "'same' padding (--same, --padding same) is a convolution padding..."
    where `pool -p same` says "--padding 'same': pooling here takes valid, P or T,B,L,R ..."; `shape --pool -f 2x1`
    printed 12x24, a pooling that `pool -f 2x1` refuses (pool2d and its loops take one window side)."""

    def test_same_padding_is_refused_in_one_wording(self, invoke, tmp_path):
        import numpy as np

        from kernelcli.shapes import POOL_PADDING_RULE

        np.save(tmp_path / "x.npy", np.zeros((8, 8)))
        pooled = invoke("pool", "x.npy", "-f", "2", "-p", "same", "-o", "y.npy")
        shaped = invoke("shape", "--in", "24x24", "-f", "2", "--pool", "-p", "same")
        assert pooled.exit_code == shaped.exit_code == 2
        said = "error: Invalid value for '--padding' / '-p' / '--p': 'same': {} (see 'kernelcli {} -h')\n"  # (review 52 #4)
        assert (pooled.stderr, shaped.stderr) == (said.format(POOL_PADDING_RULE, "pool"), said.format(POOL_PADDING_RULE, "shape"))
        flag = invoke("shape", "--in", "24x24", "-f", "2", "--pool", "--same")
        assert flag.exit_code == 2 and flag.stderr == f"error: --same: {POOL_PADDING_RULE}\n"

    def test_a_window_pool_cannot_run_is_not_computed(self, invoke):
        from kernelcli.shapes import POOL_SIZE_RULE

        refused = invoke("shape", "--in", "24x24", "-f", "2x1", "--pool", "-q")
        assert refused.exit_code == 2 and refused.stdout == "" and refused.stderr == (
            f"error: Invalid value for '--size' / '-f' / '--f': '2x1': {POOL_SIZE_RULE} (see 'kernelcli shape -h')\n")
        assert invoke("pool", "x.npy", "-f", "2x1").exit_code == 2
        assert invoke("shape", "--in", "24x24", "-f", "2x2", "--pool", "-q").stdout == "12x12\n"  # F x F: as -f 2
        assert invoke("shape", "--in", "24x24", "-f", "2x1", "-q").stdout == "23x24\n"  # a convolution's kernel


class TestPoolSaysWhatShapeSays:
    """`pool -f 2x1` was refused as "'2x1' is not a valid integer" where `shape --pool -f 2x1` names the rule; `pool -f
    2x2` was refused where `shape --pool` takes it as -f 2."""

    @pytest.mark.parametrize("size", ["2x1", "1x3", "2x2x3"])
    def test_an_fxg_window_is_refused_by_the_rule(self, invoke, tmp_path, size):
        import numpy as np

        from kernelcli.shapes import POOL_SIZE_RULE

        np.save(tmp_path / "x.npy", np.zeros((8, 8)))
        refused = invoke("pool", "x.npy", "-f", size, "-o", "y.npy")
        assert refused.exit_code == 2 and f"'{size}': {POOL_SIZE_RULE}" in refused.stderr
        assert not (tmp_path / "y.npy").exists()

    @pytest.mark.parametrize("size, side", [("2x2", 2), ("3X3", 3), ("2.0", 2), ("+2", 2)])  # (2x2x2: a cube, audit 195)
    def test_one_side_in_any_form_is_taken(self, invoke, tmp_path, size, side):
        import numpy as np

        np.save(tmp_path / "x.npy", np.arange(36.0).reshape(6, 6))
        assert invoke("pool", "x.npy", "-f", size, "-o", "y.npy").exit_code == 0
        assert np.load(tmp_path / "y.npy").shape == (6 // side, 6 // side)

    @pytest.mark.parametrize("size, why", [("0x0", "every size must be an integer >= 1"), ("abc", "expected F, FxF or FxFxF"),
                                           ("2x", "expected F, FxF or FxFxF"), ("x", "expected F, FxF or FxFxF")])
    def test_a_bad_side_is_refused_naming_the_value_as_typed(self, invoke, tmp_path, size, why):
        # (review 48: "-f 0x0" was "0 is not in the range", "-f 2x" was told the FxG rule)
        import numpy as np

        np.save(tmp_path / "x.npy", np.zeros((8, 8)))
        refused = invoke("pool", "x.npy", "-f", size, "-o", "y.npy")
        assert refused.exit_code == 2 and f"Invalid value for '--size' / '-f' / '--f': '{size}': {why}" in refused.stderr

    @pytest.mark.parametrize("size", ["0", "-1"])
    def test_one_side_under_1_is_out_of_range_as_in_every_command(self, invoke, tmp_path, size):
        # (audit 132 #1: one number under 1 is click's range sentence, as learn -f 0 and every range option)
        import numpy as np

        np.save(tmp_path / "x.npy", np.zeros((8, 8)))
        refused = invoke("pool", "x.npy", "-f", size, "-o", "y.npy")
        assert refused.exit_code == 2 and f"Invalid value for '--size' / '-f' / '--f': {size} is not in the range x>=1." in refused.stderr


class TestLearnNamesSlices:
    """Audit 110 #7: `learn --layout zyx` printed the kernels learned slice by slice under "channel 0:", "channel 1:"
    (and "worst channel 1" in its lstsq line), where gallery and the README speak of a volume's slices."""

    def test_a_volumes_kernels_are_headed_by_slice(self, invoke, tmp_path):
        import numpy as np
        from scipy import ndimage

        x = np.random.default_rng(0).standard_normal((2, 12, 12))
        k = np.array([[1.0, 0, -1], [2, 0, -2], [1, 0, -1]])
        np.save(tmp_path / "x.npy", x)
        np.save(tmp_path / "t.npy", np.stack([ndimage.correlate(s, k, mode="constant") for s in x]))
        zyx = invoke("learn", "x.npy", "t.npy", "--layout", "zyx", "-f", "3")
        assert zyx.exit_code == 0, zyx.stderr
        assert re.findall(r"^\w+ \d:$", zyx.stdout, re.M) == ["slice 0:", "slice 1:"] and "channel" not in zyx.stdout
        assert "(worst slice " in zyx.stderr
        chw = invoke("learn", "x.npy", "t.npy", "--layout", "chw", "-f", "3")
        assert re.findall(r"^\w+ \d:$", chw.stdout, re.M) == ["channel 0:", "channel 1:"]
        assert chw.stdout.replace("channel", "slice") == zyx.stdout  # the same kernels
