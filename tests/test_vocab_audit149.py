"""Audit 149: one vocabulary, round 4 (#3 an inline kernel weight worded as the JSON list words it, #4 ``--layout``
noted for either value on a 2-D input, #6 ``--pad-mode``'s default shown without parentheses, and audit 132's
leftovers)."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import run_in_process
from kernelcli.catalog import load_kernel
from kernelcli.errors import InvalidKernel

HELD = "expected a number float64 holds (at least 4.9e-324 in magnitude, or 0)"


class TestInlineWeights:
    """#3: ``-k '1x2: 1 1e400'`` read "'1x2: 1 1e400': '1e400' is not a finite number" (no cell, no --kernel), where
    ``-k '[[1, 1e400]]'`` names the cell and why.  (``1x2`` is ImageMagick's width x height: 2 rows of 1.)  The Python
    API's load_kernel names the spec alone; the command line puts ``--kernel`` first (audit 168 #2)."""

    @pytest.mark.parametrize(
        ("spec", "message"),
        [
            ("1x2: 1 1e400", "'1x2: 1 1e400': row 2, column 1 is 1e400 (beyond the float range), expected a finite number"),
            ("[[1, 1e400]]", "'[[1, 1e400]]': matrix: row 1, column 2 is 1e400 (beyond the float range), expected a finite number"),
            ("2x1: 1 -1e400", "'2x1: 1 -1e400': row 1, column 2 is -1e400 (beyond the float range), expected a finite number"),
            ("1x1: 1e-400", f"'1x1: 1e-400': row 1, column 1 is 1e-400 (below the float range), {HELD}"),
            ("[[1e-400]]", f"'[[1e-400]]': matrix: row 1, column 1 is 1e-400 (below the float range), {HELD}"),
            ("2x2: 1 2 inf 4", "'2x2: 1 2 inf 4': row 2, column 1 is inf, expected a finite number"),
            ("1x1: abc", "'1x1: abc': row 1, column 1 is 'abc', expected a number (values are separated by commas or spaces)"),
            ("1 1 1 1e400", "'1 1 1 1e400': cell 4 is 1e400 (beyond the float range), expected a finite number"),
            ("2x1: 1 9007199254740993", "'2x1: 1 9007199254740993': row 1, column 2 is 9007199254740993, which float64 reads "
             "as 9007199254740992: kernel weights are float64, exact for whole numbers up to 2**53"),
        ],
    )
    def test_a_bad_weight_is_named_by_its_cell_as_the_json_list_names_it(self, spec, message):
        with pytest.raises(InvalidKernel) as caught:
            load_kernel(spec)
        assert str(caught.value) == message

    def test_the_cli_says_so_with_exit_3(self, tmp_path):
        np.save(tmp_path / "x.npy", np.ones((4, 4)))
        # (kernels show takes the spec as its argument, no --kernel: it names the spec alone, review 169 #6)
        for args, named in ((["convolve", "x.npy", "-k", "1x2: 1 1e400", "-o", "y.npy"], "--kernel "),
                            (["kernels", "show", "1x2: 1 1e400"], "error: ")):
            done = run_in_process(*args, cwd=tmp_path)
            assert done.returncode == 3
            assert named + "'1x2: 1 1e400': row 2, column 1 is 1e400 (beyond the float range), expected a finite number" in done.stderr


class TestLayoutOnTwoDims:
    """#4: ``--layout chw`` on a 2-D input was noted ("... --layout chw changes nothing") and ``--layout hwc`` was not,
    in every command that reads an input's layout; ``shape`` and ``params`` note either value."""

    CALLS = {
        "pad": ["pad", "x.npy", "-p", "1", "-o", "p.npy"],
        "convolve": ["convolve", "x.npy", "-k", "box:3", "-o", "c.npy"],
        "pool": ["pool", "x.npy", "-f", "2", "-o", "q.npy"],
        "gallery": ["gallery", "x.npy", "-o", "g.png"],
        "learn": ["learn", "x.npy", "y.npy", "-f", "3", "-o", "k.json"],
    }

    @pytest.mark.parametrize("command", sorted(CALLS))
    @pytest.mark.parametrize("given", ["hwc", "HWC", "chw"])
    def test_either_layout_is_noted_as_changing_nothing(self, command, given, tmp_path):
        rng = np.random.default_rng(0)
        np.save(tmp_path / "x.npy", rng.random((8, 8)))
        np.save(tmp_path / "y.npy", rng.random((8, 8)))
        done = run_in_process(*self.CALLS[command], "--layout", given, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        said = given.lower()
        assert (f"note: x.npy: a 2-D input is one channel, (1, H, W) and (H, W, 1) alike: --layout {said} changes nothing"
                in done.stderr)

    def test_no_layout_no_note(self, tmp_path):
        np.save(tmp_path / "x.npy", np.ones((4, 4)))
        assert "--layout" not in run_in_process("pad", "x.npy", "-p", "1", "-o", "p.npy", cwd=tmp_path).stderr


COMMANDS = ["convolve", "pad", "pool", "shape", "params", "summary", "volume", "gallery", "learn", "kernels", "worker"]


def _help(command: str) -> str:
    done = run_in_process(command, "--help", env={"COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb"})
    assert done.returncode == 0, done.stderr
    return " ".join(done.stdout.split())


class TestDefaultsShown:
    """#6: ``--pad-mode``'s default read ``[default: (constant)]`` in pad, gallery and learn (Click puts a string
    ``show_default`` in parentheses), where every other default reads ``[default: 0]``."""

    @pytest.mark.parametrize("command", ["pad", "gallery", "learn"])
    def test_pad_mode_shows_its_default_as_the_others_do(self, command):
        text = _help(command)
        segment = text[text.index("--pad-mode"):text.index("--pad-value")]
        assert "[default: constant]" in segment, segment

    @pytest.mark.parametrize("command", COMMANDS)
    def test_no_default_in_parentheses(self, command):
        assert "[default: (" not in _help(command)


class TestAudit132Leftovers:
    """Audit 132's points still open in audit 149: learn's input help left out GIF (which it reads); pool's and learn's
    ``-f`` showed metavar ``F`` and a hand-typed ``[x>=1]`` (one space), though they take ``FxF`` (pool ``FxFxF``)."""

    def test_learn_lists_the_image_formats_every_command_lists(self):
        from kernelcli.cli.options import IMAGE_FORMATS

        text = _help("learn")
        assert f"The input: image ({IMAGE_FORMATS})" in text
        assert "GIF" in IMAGE_FORMATS and f"Images ({IMAGE_FORMATS})" in _help("convolve")

    def test_learn_reads_a_gif(self, tmp_path):
        from PIL import Image

        x = np.random.default_rng(1).integers(0, 256, (12, 12)).astype(np.uint8)
        Image.fromarray(x).save(tmp_path / "x.gif")
        np.save(tmp_path / "y.npy", x.astype(float))
        done = run_in_process("learn", "x.gif", "y.npy", "-f", "1", "-o", "k.json", cwd=tmp_path)
        assert done.returncode == 0, done.stderr

    @pytest.mark.parametrize(("command", "metavar"), [("pool", "F|FxF|FxFxF"), ("learn", "F|FxF")])
    def test_size_shows_the_forms_it_takes(self, command, metavar):
        done = run_in_process(command, "--help", env={"COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb"})
        line = next(row for row in done.stdout.splitlines() if "-f, --size" in row)
        assert f"--f {metavar} " in line, line

    @pytest.mark.parametrize("command", ["pool", "learn"])
    def test_size_shows_its_range_as_click_shows_every_other(self, command):
        import typer.main

        from kernelcli.cli import app

        click_command = typer.main.get_command(app).commands[command]
        size = next(param for param in click_command.params if param.name == "size")
        assert size.help.endswith("window).  [x>=1]"), size.help  # Click's two spaces, as --stride's [x>=1]


class TestReportNamed:
    """Audit 132's leftover: ``--report adir`` was refused as "adir: is a folder, expected a file path" and ``--report
    exists.json`` as "exists.json: already exists; ...", without ``--report``, where its missing folder and the late
    refusal the README quotes ("error: --report r.json: already exists; ...") name it."""

    @pytest.mark.parametrize("inputs", [["x.npy"], ["x.npy", "z.npy"]], ids=["one", "batch"])
    @pytest.mark.parametrize(("report", "why"), [("adir", "is a folder, expected a file path"),
                                                 ("ex.json", "already exists; use --force to overwrite it")])
    def test_a_report_refused_up_front_names_the_option(self, tmp_path, inputs, report, why):
        for name in ("x.npy", "z.npy"):
            np.save(tmp_path / name, np.ones((4, 4)))
        (tmp_path / "adir").mkdir()
        (tmp_path / "ex.json").write_text("{}")
        out = ["-o", "o.npy"] if len(inputs) == 1 else ["-d", "od"]
        done = run_in_process("pad", *inputs, "-p", "1", *out, "--report", report, cwd=tmp_path)
        assert done.returncode == 4
        assert f"error: --report {report}: {why}" in done.stderr, done.stderr
        assert (tmp_path / "ex.json").read_text() == "{}" and not (tmp_path / "o.npy").exists()
