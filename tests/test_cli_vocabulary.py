"""One command-line vocabulary: every command's options against the one concept table.

The table is ``kernelcli.cli.options.CONCEPTS``; these tests walk every command (and
every command's ``--help``) and fail when a command spells a concept differently, takes
a name as a flag where another takes it with a value, or hides a vocabulary's choices.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.main import get_command

from kernelcli import modes
from kernelcli.cli import app
from kernelcli.cli.options import CONCEPTS, VOCABULARIES

from conftest import documentation, run_in_process

#: options typer adds itself
BUILTIN = {"--help", "-h", "--install-completion", "--show-completion"}


def _walk(command, path=()):
    """(command path, click command) for the app and every (sub)command."""
    yield path, command
    for name, sub in getattr(command, "commands", {}).items():
        yield from _walk(sub, (*path, name))


COMMANDS = list(_walk(get_command(app)))
OPTIONS = [
    (" ".join(path) or "kernelcli", param)
    for path, command in COMMANDS
    for param in command.params
    if param.param_type_name == "option" and not set(param.opts) <= BUILTIN
]
BY_NAME = {name: concept for concept, entry in CONCEPTS.items() for name in entry.names}


def _choices(param):
    """The choices of an Enum/Choice option, from click's type (typer <= 0.24) or typer's own descriptor."""
    choices = getattr(getattr(param, "type", None), "choices", None)
    if choices is None:
        choices = getattr(getattr(param, "type_descriptor", None), "choices", None)
    return choices


def _help(path: tuple[str, ...]) -> str:
    from typer.testing import CliRunner

    result = CliRunner().invoke(app, [*path, "--help"], prog_name="kernelcli", terminal_width=400)
    assert result.exit_code == 0, result.output
    return result.stdout


#: (command, option) whose help is its own, not its concept's: another meaning under the same name
OWN_HELP = {
    ("gallery", "--out"), ("learn", "--out"),  # a sheet, a kernel file: not a result image
    ("pad", "--padding"), ("pool", "--padding"),  # pad's widths, pool's virtual cells: no same/valid of a kernel
    ("learn", "--flip"), ("learn", "--combine"),  # how the target was made; learn's three ways
    ("pool", "--axis"),  # a .png's view alone: pooling has no kernel to apply across an axis (audit 110 F4)
    ("shape", "--layout"), ("summary", "--layout"),  # a layer's shape has no volume (OWN_VOCABULARY)
}


@pytest.mark.parametrize(("command", "param"), OPTIONS, ids=[f"{c} {max(p.opts, key=len)}" for c, p in OPTIONS])
def test_an_options_help_starts_with_its_concepts(command, param):
    # params' --size said 'Filter size.', shape's 'Kernel (filter or pooling window) size.', pool's 'Window side f';
    # summary's --input 'Input shape, e.g. ...' where shape's said 'Input size.'
    from kernelcli.cli.options import HELP

    name = max(param.opts, key=len)
    concept = BY_NAME.get(name)
    if concept is None or concept not in HELP or (command, name) in OWN_HELP:
        return
    assert (param.help or "").startswith(HELP[concept]), (command, name, param.help)


#: (command path, option) -> the vocabulary it declares where it narrows its concept's (a layer's shape has no volume)
OWN_VOCABULARY = {(("shape",), "--layout"): "plane_layout", (("summary",), "--layout"): "plane_layout"}


#: (command, option) whose value is written as the command narrows or widens its concept's
NARROWED_METAVARS = {("pad", "--padding"), ("pool", "--padding"), ("shape", "--size"), ("params", "--size"),
                     ("pool", "--size"), ("learn", "--size"),  # F|FxF|FxFxF, F|FxF: the forms each takes (audit 149)
                     ("shape", "--input"), ("summary", "--input")}


class TestOneVocabulary:
    def test_the_table_has_no_name_twice(self):
        names = [name for entry in CONCEPTS.values() for name in entry.names]
        assert len(names) == len(set(names))

    @pytest.mark.parametrize(("command", "param"), OPTIONS, ids=[f"{c}:{p.name}" for c, p in OPTIONS])
    def test_every_option_has_the_names_of_its_concept(self, command, param):
        names = [*param.opts, *param.secondary_opts]
        concepts = {BY_NAME.get(name) for name in names}
        assert None not in concepts, f"{command}: {names} is not in the concept table (kernelcli/cli/options.py)"
        assert len(concepts) == 1, f"{command}: {names} mixes the names of {sorted(concepts)}"
        concept = concepts.pop()
        assert set(names) == set(CONCEPTS[concept].names), f"{command}: {concept} is {names}, elsewhere {CONCEPTS[concept].names}"
        assert param.is_flag == CONCEPTS[concept].flag, f"{command}: {names} is a {'flag' if param.is_flag else 'value'} here"

    def test_each_concept_is_spelled_one_way_across_commands(self):
        seen: dict[str, set[tuple[str, ...]]] = {}
        for _, param in OPTIONS:
            names = tuple(sorted([*param.opts, *param.secondary_opts]))
            seen.setdefault(BY_NAME[names[0]], set()).add(names)
        assert {concept: spellings for concept, spellings in seen.items() if len(spellings) > 1} == {}

    def test_each_concept_shows_its_value_one_way_across_commands(self):
        # convolve showed --stride <int range>, shape --stride S; learn listed its choices <lstsq|gd>, pool [max|min|avg]
        from click import Context

        shown: dict[str, set[str]] = {}
        for (command, param), (path, click_command) in ((o, c) for o in OPTIONS for c in COMMANDS if " ".join(c[0]) == o[0]):
            if param.is_flag:
                continue
            record = param.get_help_record(Context(click_command, info_name=command))[0]
            value = record.split(" ", len(param.opts) + len(param.secondary_opts))[-1]  # (--dense IN OUT)
            assert not value.startswith("<"), f"{command} {record}: typer's type name, not the concept's metavar"
            assert "<" not in value.split("|")[0], record
            concept = BY_NAME[max(param.opts, key=len)]
            expected = CONCEPTS[concept].metavar
            if (command, max(param.opts, key=len)) in NARROWED_METAVARS:
                pass
            elif expected is None:  # a vocabulary: its choices in brackets
                assert value.startswith("[") and value.endswith("]"), f"{command} {record}"
            else:
                assert value == expected, f"{command} {record}: the table says {expected}"
            shown.setdefault(concept, set()).add(value)
        assert all(len(values) == 1 for concept, values in shown.items()
                   if concept not in ("padding", "size", "input_shape", "pad_mode", "layout", "combine")), shown

    @pytest.mark.parametrize("path", [path for path, _ in COMMANDS], ids=lambda p: " ".join(p) or "kernelcli")
    def test_help_lists_the_choices_of_every_vocabulary_option(self, path):
        text = _help(path)
        command = dict(COMMANDS)[path]
        for param in command.params:
            if param.param_type_name != "option" or param.is_flag:
                continue
            concept = BY_NAME.get(param.opts[0])
            choices = _choices(param)
            if concept in VOCABULARIES and choices is None:
                choices = VOCABULARIES[OWN_VOCABULARY.get((path, param.opts[0]), concept)][0]
            if not choices:
                continue
            declarations = [ln for ln in text.splitlines() if re.match(r"\s+-", ln)]
            line = next((ln for ln in declarations if param.opts[0] in re.split(r"[ ,]+", ln.strip().split("  ")[0])), "")
            shown = re.search(r"[\[<]([^\]>]+\|[^\]>]+)[\]>]", line)  # [a|b] (click) or <a|b> (typer >= 0.25)
            wanted = {str(getattr(c, "value", c)) for c in choices}
            assert shown and wanted <= set(shown.group(1).split("|")), f"{' '.join(path)} {param.opts[0]}: help does not list {sorted(wanted)}: {line!r}"
            assert "TEXT" not in line

    @pytest.mark.parametrize("path", [path for path, _ in COMMANDS], ids=lambda p: " ".join(p) or "kernelcli")
    def test_help_names_only_options_the_command_has(self, path):
        # --json's shared help said "wins over -q" in summary, kernels and worker, which have no -q
        command = dict(COMMANDS)[path]
        own = {name for param in command.params for name in (*param.opts, *param.secondary_opts)}
        helps = " ".join(param.help or "" for param in command.params if param.param_type_name == "option")
        if "-q" not in own:
            assert not re.search(r"(^|[\s(])-q\b", helps), f"{' '.join(path)}: its help names -q, an option it has not"

    def test_vocabularies_are_the_tables_the_code_uses(self):
        assert VOCABULARIES["pad_mode"][0] is modes.PAD_MODES
        assert VOCABULARIES["pool_op"][0] is modes.POOL_OPS
        assert VOCABULARIES["rescale"][0] is modes.RESCALE_MODES
        assert VOCABULARIES["activation"][0] is modes.ACTIVATIONS


class TestIssueReproductions:
    """The surface defects of issue 12, each as its user hit it."""

    def test_lecture_spellings_print_what_they_always_printed(self):
        r = run_in_process("shape", "--in", "24", "--f", "5", "--s", "2", "--same")
        assert r.returncode == 0 and r.stdout == "p = f // 2 = 5 // 2 = 2  (same)\nout_d = (24 + 2*2 - 5) // 2 + 1 = 12\n"
        r = run_in_process("params", "--in-ch", "228", "--filters", "32")
        assert r.returncode == 0 and r.stdout == "[(3*3*228) + 1] * 32 = 65696\nweights 65664 + biases 32\n"

    @pytest.mark.parametrize("args", [
        ("shape", "--in", "24", "--f", "5", "--stride", "2", "--same", "-q"),
        ("shape", "--input", "24", "--size", "5", "-s", "2", "--padding", "same", "-q"),
        ("shape", "-i", "24", "-f", "5", "--s", "2", "-p", "2", "-q"),
    ])
    def test_shape_takes_the_long_names(self, args):
        r = run_in_process(*args)
        assert (r.returncode, r.stdout) == (0, "12\n"), r.stderr

    def test_pad_takes_dash_p_and_pad_mode(self, invoke, tmp_path):
        (tmp_path / "x.csv").write_text("1,2\n3,4\n")
        short = invoke("pad", "x.csv", "-p", "1", "-q")
        assert short.exit_code == 0, short.output
        assert short.stdout.split() == ["0", "0", "0", "0", "0", "1", "2", "0", "0", "3", "4", "0", "0", "0", "0", "0"]
        old = invoke("pad", "x.csv", "--p", "1", "--mode", "edge", "--value", "9", "-q")
        new = invoke("pad", "x.csv", "--padding", "1", "--pad-mode", "replicate", "--pad-value", "9", "-q")
        assert old.exit_code == new.exit_code == 0 and old.stdout == new.stdout
        assert old.stdout.split()[:4] == ["1", "1", "2", "2"]

    def test_pool_takes_the_padding_syntax_and_names_what_it_refuses(self, invoke, tmp_path):
        (tmp_path / "x.csv").write_text("1,2,3,4\n5,6,7,8\n9,10,11,12\n13,14,15,16\n")
        a = invoke("pool", "x.csv", "-f", "2", "-s", "2", "-p", "1,1,1,1", "-q")
        b = invoke("pool", "x.csv", "--size", "2", "--padding", "1", "-q")
        assert a.exit_code == b.exit_code == 0 and a.stdout == b.stdout
        for bad in ("same", "0,1,0,1"):
            r = invoke("pool", "x.csv", "-f", "2", "-p", bad)
            assert r.exit_code == 2 and "pooling here takes valid, P or T,B,L,R with four equal values" in r.stderr

    def test_choices_are_validated_with_their_aliases(self, invoke, tmp_path):
        (tmp_path / "x.csv").write_text("1,2\n3,4\n")
        assert invoke("pool", "x.csv", "-f", "2", "--op", "mean", "-q").stdout.strip() == "2.5"
        r = invoke("pool", "x.csv", "-f", "2", "--op", "median")
        assert r.exit_code == 2 and "expected one of max, min, avg" in r.stderr
        # the README audit (87): reflect_101 and half-symmetric were taken, reflect-101 and half_symmetric refused,
        # where kernel names take - and _ alike
        for spelling in ("reflect-101", "half_symmetric", "grid_wrap", "Reflect_101", "FILL"):
            assert invoke("pad", "x.csv", "-p", "1", "-m", spelling, "-q").exit_code == 0, spelling
        assert invoke("convolve", "x.csv", "-k", "box:1", "--combine", "per_channel", "-q").exit_code == 0

    def test_family_and_depth_lost_their_clashing_short_names(self):
        assert "-f" not in BY_NAME or BY_NAME["-f"] == "size"
        assert BY_NAME["-d"] == "out_dir"

    def test_completion_offers_the_choices(self):
        env = {"KERNELCLI_WORKER": "off", "_KERNELCLI_COMPLETE": "complete_bash", "COMP_WORDS": "kernelcli pad x.csv --pad-mode re", "COMP_CWORD": "4"}
        r = run_in_process(env=env)
        assert (r.returncode, r.stdout.split()) == (0, ["replicate", "reflect"]), r.stderr
        env.update(COMP_WORDS="kernelcli po", COMP_CWORD="1")
        assert run_in_process(env=env).stdout.split() == ["pool"]

    @pytest.mark.parametrize(("words", "expected"), [
        # kernel names were not completed at all
        ("kernelcli convolve x.png -k sob", ["sobel_v", "sobel_h"]),
        ("kernelcli convolve x.png --kernel sobel_h --then sobel_", ["sobel_v", "sobel_h"]),
        ("kernelcli kernels show prew", ["prewitt_v", "prewitt_h"]),
        ("kernelcli gallery x.png --family ed", ["edge"]),
        ("kernelcli kernels --family sh", ["sharpen"]),
        ("kernelcli convolve x.png -k ./sob", []),  # a path: the shell's own completion of files
    ])
    def test_completion_offers_the_kernels(self, words, expected):
        env = {"KERNELCLI_WORKER": "off", "_KERNELCLI_COMPLETE": "complete_bash", "COMP_WORDS": words,
               "COMP_CWORD": str(len(words.split()) - 1)}
        r = run_in_process(env=env)
        assert (r.returncode, r.stdout.split()) == (0, expected), r.stderr

    def test_version_and_completion(self):
        r = run_in_process("-V")
        assert r.returncode == 0 and re.fullmatch(r"kernelcli \d+\.\d+\.\d+\S*\n", r.stdout)
        assert "--install-completion" in _help(())


class TestSmallDefects:
    def test_a_mistyped_command_is_suggested_once(self):
        r = run_in_process("kernel")
        assert r.returncode == 2 and r.stderr.count("Did you mean 'kernels'?") == 1, r.stderr

    def test_clipping_note_counts_the_responses_not_the_pixels(self, tmp_path):
        from conftest import SAMPLES

        r = run_in_process("convolve", str(SAMPLES / "phantom.png"), "--kernel", "sobel_v", "-o", "e.png", cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        assert "49% of the non-zero responses (2305 of 4659) were negative and clipped to 0" in r.stderr
        r = run_in_process("convolve", str(SAMPLES / "phantom.png"), "--kernel", "sobel_v", "--rescale", "abs", "-o", "a.png", cwd=tmp_path)
        assert r.returncode == 0 and "clipped" not in r.stderr

    def test_the_range_is_the_results_whatever_the_output_holds(self, tmp_path):
        # rounded for an integer output, the extremes contradicted the record's dtype (float32) and its own note:
        # a 2x2 average of 10.75 said 11 (10.75 in a .npy's record), a clipped result within +-0.66 said [-1, 1]
        import numpy as np
        from PIL import Image
        from conftest import SAMPLES

        ranges = []
        for out in ("b.png", "b.npy"):
            r = run_in_process("convolve", str(SAMPLES / "phantom.png"), "-k", "gaussian:8", "-o", out, "--json", cwd=tmp_path)
            assert r.returncode == 0, r.stderr
            record = json.loads(r.stdout)
            ranges.append((record["minimum"], record["maximum"], record["dtype"]))
        assert ranges[0] == ranges[1] and ranges[0][1] != round(ranges[0][1])
        Image.fromarray(np.array([[10, 11], [11, 11]], np.uint8)).save(tmp_path / "m.png")
        r = run_in_process("pool", "m.png", "--op", "avg", "-f", "2", "-o", "m_avg.png", "--json", cwd=tmp_path)
        record = json.loads(r.stdout)
        assert (record["minimum"], record["maximum"], record["dtype"]) == (10.75, 10.75, "float32")
        assert "the result lies within [10.8, 10.8]" in " ".join(record["notes"])

    def test_an_array_input_takes_an(self, tmp_path):
        import numpy as np

        np.save(tmp_path / "a.npy", np.random.default_rng(0).random((8, 8)))
        r = run_in_process("convolve", "a.npy", "-k", "sobel_v", "-o", "a.png", cwd=tmp_path)
        assert r.returncode == 2 and "from an array input" in r.stderr


class TestQuietAndJson:
    """-q prints only the answer; one record schema for one input and for a batch."""

    def _pngs(self, folder, n=3):
        import numpy as np
        from PIL import Image

        folder.mkdir()
        for i in range(n):
            x = np.zeros((16, 16), np.uint8)
            x[:, 8 + i % 3:] = 200
            Image.fromarray(x).save(folder / f"s{i}.png")

    def test_quiet_with_an_output_prints_nothing(self, tmp_path):
        self._pngs(tmp_path / "in")
        one = run_in_process("convolve", "in/s0.png", "-k", "sobel_v", "-o", "one.png", "-q", cwd=tmp_path)
        many = run_in_process("convolve", "in", "-k", "sobel_v", "--out-dir", "out", "-q", "-j", "1", cwd=tmp_path)
        assert (one.returncode, one.stdout, one.stderr) == (0, "", "")
        assert (many.returncode, many.stdout, many.stderr) == (0, "", "")
        assert (tmp_path / "one.png").is_file() and len(list((tmp_path / "out").iterdir())) == 3

    def test_every_command_takes_q(self):
        # summary, worker start, status and stop had none: "No such option: -q"
        leaves = [(path, command) for path, command in COMMANDS if path and not getattr(command, "commands", None)]
        lacking = [" ".join(path) for path, command in leaves if "-q" not in {n for p in command.params for n in p.opts}]
        assert lacking == []

    def test_quiet_summary_is_the_parameter_count(self):
        r = run_in_process("summary", "alexnet", "-q")
        assert (r.returncode, r.stdout, r.stderr) == (0, "61100840\n", "")
        r = run_in_process("summary", "alexnet", "-q", "--json")  # --json wins over it
        assert r.returncode == 0 and '"params": 61100840' in r.stdout

    def test_quiet_matrix_is_the_answer(self, tmp_path):
        (tmp_path / "m.csv").write_text("1,2\n3,4\n")
        r = run_in_process("pool", "m.csv", "-f", "2", "-q", cwd=tmp_path)
        assert (r.stdout, r.stderr) == ("4\n", "")

    def test_one_input_and_a_batch_give_the_same_record(self, tmp_path):
        import json

        from kernelcli.batch import RECORD_FIELDS

        self._pngs(tmp_path / "in", 2)
        one = run_in_process("convolve", "in/s0.png", "-k", "sobel_v", "-o", "one.png", "--json", cwd=tmp_path)
        many = run_in_process("convolve", "in", "-k", "sobel_v", "--out-dir", "out", "--json", "-j", "1", cwd=tmp_path)
        record = json.loads(one.stdout)
        items = json.loads(many.stdout)["items"]
        assert list(record)[: len(RECORD_FIELDS)] == list(RECORD_FIELDS)
        assert [list(i)[: len(RECORD_FIELDS)] for i in items] == [list(RECORD_FIELDS)] * 2
        same = {k: v for k, v in record.items() if k not in ("output", "seconds")}
        assert {k: v for k, v in items[0].items() if k in same and k != "output"} == same

    def test_shape_and_params_give_formula_the_same_type(self):
        import json

        shape = json.loads(run_in_process("shape", "--in", "24", "--f", "5", "--json").stdout)
        params = json.loads(run_in_process("params", "--in-ch", "228", "--filters", "32", "--json").stdout)
        assert type(shape["formula"]) is type(params["formula"]) is list
        assert params["formula"] == ["[(3*3*228) + 1] * 32 = 65696"]

    def test_a_field_has_one_type_in_every_command(self, tmp_path):
        # summary's input and output were shapes where every file record's are paths, and params' bias a yes/no
        # where learn's is the bias: shapes are input_shape/output_shape everywhere, and biases a count
        import json

        docs = {
            "summary": json.loads(run_in_process("summary", "alexnet", "--json").stdout),
            "params": json.loads(run_in_process("params", "--in-ch", "3", "--filters", "8", "--json").stdout),
            "dense": json.loads(run_in_process("params", "--dense", "10", "4", "--no-bias", "--json").stdout),
            "convolve": json.loads(run_in_process("convolve", "samples/example1.csv", "-k", "sobel_v", "--json",
                                                  cwd=Path(__file__).resolve().parents[1]).stdout),
        }
        for name, doc in docs.items():
            for key in ("input", "output"):
                assert doc.get(key) is None or isinstance(doc[key], str), (name, key, doc.get(key))
            assert "bias" not in doc or isinstance(doc["bias"], (int, float, list)) and not isinstance(doc["bias"], bool), name
        assert docs["summary"]["input_shape"] == [3, 224, 224] and docs["summary"]["layers"][0]["output_shape"]
        assert docs["params"]["biases"] == 8 and docs["dense"]["biases"] == 0

    def test_a_note_repeated_across_a_batch_is_printed_once(self, tmp_path):
        self._pngs(tmp_path / "in", 3)
        r = run_in_process("convolve", "in", "-k", "sobel_v", "--out-dir", "out", "-j", "1", cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        notes = [line for line in r.stderr.splitlines() if "clipped to 0" in line]
        assert len(notes) == 1 and "(and 2 more files like it: s1.png, s2.png)" in notes[0], r.stderr


class TestTyperAndClick:
    """Whatever typer and click are installed (lower bounds only): help, errors and start-up."""

    @pytest.mark.parametrize("path", [p for p, c in COMMANDS if any(x.param_type_name == "argument" for x in c.params)],
                             ids=lambda p: " ".join(p))
    def test_arguments_show_their_help(self, path):
        # typer <= 0.25 on click >= 8.5 prints "INPUT...  [required]" and nothing else: why typer >= 0.26
        section = _help(path).split("Arguments:", 1)[1].split("Options:", 1)[0]
        entries = [line.split(None, 1) for line in section.splitlines() if line.startswith("  ") and not line.startswith("   ")]
        assert entries and all(len(e) == 2 and e[1].replace("[required]", "").strip() for e in entries), section

    def test_usage_errors_are_one_line_without_traceback(self):
        r = run_in_process("pad", "x.csv", "-p", "1", "--pad-mode", "bogus")
        assert r.returncode == 2 and "Traceback" not in r.stderr and "invalid pad mode 'bogus'" in r.stderr

    def test_shape_starts_without_pydantic_or_numpy(self):
        import subprocess
        import sys

        probe = (
            "import sys\nsys.argv = ['kernelcli', 'shape', '--in', '24', '--f', '5', '-q']\n"
            "from kernelcli.cli import main\ntry:\n    main()\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in ('pydantic', 'numpy', 'numba') if m in sys.modules))"
        )
        import os

        import kernelcli

        env = dict(os.environ, KERNELCLI_WORKER="off", PYTHONPATH=os.path.dirname(os.path.dirname(kernelcli.__file__)))
        out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=True).stdout
        assert out.splitlines() == ["20", "[]"]

    def test_lean_converters_check_like_typer(self):
        from enum import Enum
        from typing import Optional

        from kernelcli.cli._lean import _converter

        class Info:
            parser = None
            case_sensitive = True
            clamp = False
            min, max = 1, None

        stride = _converter(Optional[int], Info)
        assert stride("3") == 3
        with pytest.raises(ValueError, match="0 is not in the range x>=1"):
            stride("0")
        with pytest.raises(ValueError, match="'x' is not a valid integer"):
            stride("x")

        class Op(str, Enum):
            a = "a"

        assert _converter(Op, Info)("a") is Op.a
        with pytest.raises(ValueError, match="invalid value 'b': expected one of a"):
            _converter(Op, Info)("b")
        assert _converter(tuple[int, int], Info)(("2", "3")) == (2, 3)
        assert _converter(list[str], Info)(("a", "b")) == ["a", "b"]


class TestOneCommandPerJob:
    def test_convolve_takes_the_volume_options(self, tmp_path):
        pytest.importorskip("pydicom")
        pytest.importorskip("nibabel")
        from test_medical import make_series

        make_series(tmp_path / "series", [0.0, 2.5, 5.0])
        one = sorted((tmp_path / "series").iterdir())[0]
        (tmp_path / "ct.dcm").write_bytes(one.read_bytes())
        r = run_in_process("convolve", "ct.dcm", "--window", "40,400", "--out", "ct.png", cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        assert (tmp_path / "ct.png").is_file()
        alias = run_in_process("volume", "ct.dcm", "--window", "40,400", "--out", "ct2.png", cwd=tmp_path)
        assert alias.returncode == 0 and (tmp_path / "ct2.png").read_bytes() == (tmp_path / "ct.png").read_bytes()

    def test_volume_options_on_an_image_are_refused_by_name(self, tmp_path):
        (tmp_path / "m.csv").write_text("1,2\n3,4\n")
        r = run_in_process("convolve", "m.csv", "-k", "box_3x3", "--window", "lung", cwd=tmp_path)
        assert r.returncode == 2 and "--window: only for volume inputs" in r.stderr


class TestReadme:
    def test_the_option_table_is_generated_from_the_vocabulary(self):
        from kernelcli.cli.options import markdown_table


        readme = documentation()
        table = readme.split("<!-- options-table", 1)[1].split("-->", 1)[1].split("<!-- /options-table -->", 1)[0]
        assert table.strip() == markdown_table()

    def test_the_record_fields_are_the_ones_written(self):
        from kernelcli.batch import RECORD_FIELDS


        readme = documentation()
        listed = readme.split("<!-- record-fields -->", 1)[1].split("<!-- /record-fields -->", 1)[0]
        assert re.findall(r"`(\w+)`", listed) == list(RECORD_FIELDS)


@pytest.mark.parametrize("args", [
    ["learn", "{png}", "{png}", "-f", "3", "--method", "LSTSQ", "-q"],
    ["learn", "{png}", "{png}", "-f", "3", "--method", "GD", "--optimizer", "Adam", "--epochs", "1", "-q"],
    ["learn", "{rgb}", "{rgb}", "-f", "3", "--combine", "Per_Channel", "-q"],
    ["convolve", "{png}", "-k", "box:3", "--format", "TIFF", "-q"],
    ["convolve", "{png}", "-k", "box:3", "--format", "jpeg", "-q"],
    ["pool", "{png}", "-f", "2", "--format", "PNG", "-q"],
])
def test_choice_options_of_their_own_take_any_case_and_their_aliases(tmp_path, args):
    # vocabulary audit 4: 'convolve --combine SUM' and '--pad-mode EDGE' were taken, 'learn --combine SUM', '--method
    # LSTSQ', '--optimizer Adam' and '--format PNG'/'tiff'/'jpeg' refused (plain Enums)
    from conftest import SAMPLES

    given = [a.format(png=SAMPLES / "phantom.png", rgb=SAMPLES / "rgb.png") for a in args]
    result = run_in_process(*given, cwd=tmp_path)
    assert result.returncode == 0, result.stderr


def test_a_note_names_stdout_not_the_pipe_stand_in(tmp_path):
    # audit 41, item 3: 'pool x.png -f 2 --suffix foo -o - --format npy' noted '/tmp/kernelcli-pipe-XXXX/stdout.npy'
    from conftest import SAMPLES

    result = run_in_process("pool", str(SAMPLES / "example1.csv"), "-f", "2", "--suffix", "foo", "-o", "-", "--format", "csv", cwd=tmp_path)
    assert result.returncode == 0
    assert "names the outputs --out does not: stdout is written as given" in result.stderr and "kernelcli-pipe" not in result.stderr


class TestOneMistakeOneMessage:
    """The vocabulary audit (83), finding 7: one mistake, one message, in every command."""

    @pytest.mark.parametrize("command", [["gallery", "v.nii.gz"], ["learn", "v.nii.gz", "v.nii.gz", "-f", "3"],
                                         ["learn", "x.npy", "v.nii.gz", "-f", "3"]], ids=["gallery", "learn", "learn target"])
    def test_a_volume_is_refused_as_pad_refuses_it(self, tmp_path, command):
        # gallery and learn said "unsupported file type '.gz': expected one of .bmp, .csv, ..."
        nib = pytest.importorskip("nibabel")
        import numpy as np

        nib.save(nib.Nifti1Image(np.ones((4, 6, 6), np.float32), np.eye(4)), str(tmp_path / "v.nii.gz"))
        np.save(tmp_path / "x.npy", np.ones((6, 6), np.float32))
        pad = run_in_process("pad", "v.nii.gz", "-p", "1", "-o", "p.npy", cwd=tmp_path)
        r = run_in_process(*command, cwd=tmp_path)
        said = "v.nii.gz: a volume (NIfTI, DICOM or a DICOM series folder); {} takes images and arrays"
        assert pad.returncode == 2 and said.format("pad") in pad.stderr, pad.stderr
        assert r.returncode == pad.returncode and said.format(command[0]) in r.stderr, r.stderr
        named = re.search(r"\((.*)\)$", r.stderr.strip()).group(1)  # the commands that take one, each a command
        assert {"convolve", "volume", "pool"} <= set(re.findall(r"\b[a-z]+\b", named)), named

    def test_a_pooling_step_without_its_colon_gets_one_hint(self, tmp_path):
        # -k maxpool2 was "unknown kernel 'maxpool2'" where --then maxpool2 named the pooling step's form
        (tmp_path / "m.csv").write_text("1,2,3\n4,5,6\n7,8,9\n")
        then = run_in_process("convolve", "m.csv", "-k", "box:1", "--then", "avgpool2", "-q", cwd=tmp_path)
        hint = then.stderr.split("'avgpool2': ", 1)[1]
        assert then.returncode == 3 and "avgpool:2" in hint, then.stderr  # (an invalid kernel as -k's: audit 204 #3)
        for args in (["-k", "avgpool2"], ["-k", "avgpool2", "--then", "sobel_v"], ["-k", "sobel_v", "-k", "avgpool2"]):
            r = run_in_process("convolve", "m.csv", *args, "-q", cwd=tmp_path)
            assert r.returncode == 3 and r.stderr.endswith(f"'avgpool2': {hint}"), (args, r.stderr)  # an invalid kernel
        # and a size that is none: the kernel's reader listed every kernel form but the pooling step
        then = run_in_process("convolve", "m.csv", "-k", "box:1", "--then", "avgpool:x", "-q", cwd=tmp_path)
        alone = run_in_process("convolve", "m.csv", "-k", "avgpool:x", "-q", cwd=tmp_path)
        assert (then.returncode, alone.returncode) == (3, 3)
        assert alone.stderr.replace("invalid --kernel", "invalid --then") == then.stderr, (alone.stderr, then.stderr)

    @pytest.mark.parametrize("kernels", [["maxpool:2", "sobel_v"], ["sobel_v", "avgpool:3:2", "box:3"]])
    def test_a_pooling_step_in_a_filter_bank_names_no_then(self, tmp_path, kernels):
        # "--then chains steps after one --kernel ...; got 2 --kernel options" to a call without --then
        (tmp_path / "m.csv").write_text("1,2,3\n4,5,6\n7,8,9\n")
        r = run_in_process("convolve", "m.csv", *[a for k in kernels for a in ("-k", k)], "-q", cwd=tmp_path)
        pool = next(k for k in kernels if "pool" in k)
        assert r.returncode == 2 and "--then" not in r.stderr and pool in r.stderr, r.stderr
        assert f"{len(kernels)} --kernel options" in r.stderr and "filter bank" in r.stderr


class TestRangesEchoWhatWasTyped:
    """The vocabulary audit (83), finding 7: learn's --lr 0 was "invalid lr 0.0: expected a number > 0", --gamma
    likewise, --momentum 1 "1.0 is not in the range ...", --truncate 0 "--truncate 0.0: ...": the parsed float,
    each in its own words, where every other numeric option says "Invalid value for '--x': V is not in the range".
    """

    @pytest.mark.parametrize(("args", "typed", "bounds"), [
        (["learn", "m.csv", "m.csv", "-f", "3", "--method", "gd", "--lr"], ["0", "-1e0", "0.000"], "x>0"),
        (["learn", "m.csv", "m.csv", "-f", "3", "--method", "gd", "--gamma"], ["0", "1.5", "2e0"], "x>0 and x<=1"),
        (["learn", "m.csv", "m.csv", "-f", "3", "--method", "gd", "--momentum"], ["1", "-0.5", "1e0"], "x>=0 and x<=0.999"),
        (["convolve", "v.nii.gz", "-k", "gaussian:1vox", "-o", "o.nii.gz", "--truncate"], ["0", "21", "00"], "x>0 and x<=20"),
    ], ids=["lr", "gamma", "momentum", "truncate"])
    def test_a_value_out_of_range_is_echoed_as_typed(self, tmp_path, args, typed, bounds):
        (tmp_path / "m.csv").write_text("1,2,3,4\n5,6,7,8\n9,1,2,3\n4,5,6,7\n")
        (tmp_path / "v.nii.gz").write_bytes(b"")  # (refused for its range before it is read)
        stride = run_in_process("convolve", "m.csv", "-k", "box:3", "-s", "0", cwd=tmp_path)
        form = stride.stderr.split(": 0 is not in the range", 1)[0].split("'--stride'")[0]  # "error: Invalid value for "
        option = args[-1]
        for value in typed:
            r = run_in_process(*args, value, cwd=tmp_path)
            assert r.returncode == 2 == stride.returncode, r.stderr
            assert r.stderr.startswith(f"{form}'{option}': {value} is not in the range {bounds}."), r.stderr
            assert "Traceback" not in r.stderr and len(r.stderr.splitlines()) == 1

    @pytest.mark.parametrize(("typed", "words"), [
        ("1e-400", "1e-400 (below the float range), expected a number float64 holds (at least 4.9e-324 in magnitude) in the "
                   "range x>0."),
        ("1e400", "1e400 reads as infinity (over the largest float, 1.8e308): not in the range x>0."),
    ])
    def test_a_value_that_reads_as_another_says_so(self, tmp_path, typed, words):
        # --lr 1e-400 was "1e-400 is not in the range x>0" (it reads as 0); --lr 1e400 ran on until
        # learn's own check said "invalid lr inf", the value it was not given
        (tmp_path / "m.csv").write_text("1,2,3,4\n5,6,7,8\n9,1,2,3\n4,5,6,7\n")
        r = run_in_process("learn", "m.csv", "m.csv", "-f", "3", "--method", "gd", "--lr", typed, cwd=tmp_path)
        assert r.returncode == 2 and f"'--lr': {words}" in r.stderr, r.stderr

    @pytest.mark.parametrize("option", ["--momentum", "--truncate"])
    def test_a_value_that_reads_as_0_where_0_is_in_range_is_refused(self, tmp_path, option):
        # review 148 #9: --momentum 1e-400 ran with momentum 0 in silence (0 is in its range); every float option
        # parsed by number_in refuses it in --bias's and --pad-value's sentence
        (tmp_path / "m.csv").write_text("1,2,3,4\n5,6,7,8\n9,1,2,3\n4,5,6,7\n")
        if option == "--momentum":
            args = ["learn", "m.csv", "m.csv", "-f", "3", "--method", "gd", "--epochs", "2", option, "1e-400", "-o", "k.json"]
        else:  # (0 is out of --truncate's range: its own sentence, as --lr's)
            args = ["convolve", "m.csv", "-k", "gaussian:1", option, "1e-400", "-o", "o.npy"]
        r = run_in_process(*args, cwd=tmp_path)
        said = "1e-400 (below the float range), expected a number float64 holds (at least 4.9e-324 in magnitude, or 0)"
        expected = said if option == "--momentum" else said.replace(", or 0)", ") in the range x>0 and x<=20.")
        assert r.returncode == 2 and f"'{option}': {expected}" in r.stderr and not list(tmp_path.glob("k.json")), r.stderr

    def test_values_in_range_are_taken(self, tmp_path):
        (tmp_path / "m.csv").write_text("1,2,3,4\n5,6,7,8\n9,1,2,3\n4,5,6,7\n")
        r = run_in_process("learn", "m.csv", "m.csv", "-f", "3", "--method", "gd", "--epochs", "2", "--lr", "1e-3",
                           "--gamma", "1", "--momentum", "0", cwd=tmp_path)
        assert r.returncode == 0, r.stderr
