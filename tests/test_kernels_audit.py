"""Audit findings on the kernel catalogue's command, ``kernelcli kernels``.

C3: ``kernels show`` printed weights to 6 significant digits (``0.111111``), so a matrix pasted
    into ``--kernel 'WxH: ...'`` was another kernel; it prints the shortest text that reads back.
C7: an entry of ``KERNELCLI_KERNEL_PATH`` that is a file was reported as "(missing)", and a missing
    one was not named when a family was unknown or a listing left it out.
C8: the lookup's message stated another name rule (``[A-Za-z0-9_-]+``) than the files'
    (``[a-z0-9_]+``); lookups ignore case and read ``-`` as ``_``, which was not documented.

Oracle for C3: the tool's own inline syntax (``load_kernel('WxH: ...')``) reading the printed
matrix back, compared bit for bit with the kernel's float64 values.
"""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from kernelcli import catalog
from kernelcli.catalog import load_kernel
from kernelcli.errors import EXIT_KERNEL, EXIT_USAGE

from conftest import REPO, run_in_process

#: the rule kernel files enforce (README: "`name` is `[a-z0-9_]+`"), as every message states it
NAME_RULE = "lower-case letters, digits and _ ([a-z0-9_]+)"

#: the auditor's user file (kf2.json): values 6 digits cannot hold, a big whole number, tiny ones
USER_FILE = {"family": "m", "kernels": [
    {"name": "rt", "matrix": [[0.30000000000000004, 123456789, 1e-7], [0.1234567891, -2.5e-12, 3]],
     "description": "x", "source": "y"},
    {"name": "rt3", "matrix": [[1, 2], [3, 4]], "scale": 3, "description": "x", "source": "y"},
]}


@pytest.fixture(autouse=True)
def _no_user_kernel_path(monkeypatch):
    monkeypatch.delenv("KERNELCLI_KERNEL_PATH", raising=False)


@pytest.fixture
def user_file(tmp_path):
    path = tmp_path / "kf2.json"
    path.write_text(json.dumps(USER_FILE), encoding="utf-8")
    return path


def show(*args: str, env: dict | None = None):
    return run_in_process("kernels", "show", *args, env=env)


def printed_matrix(stdout: str) -> list[str]:
    """The matrix lines of ``kernels show``: everything after the first blank line."""
    lines = stdout.rstrip("\n").split("\n")
    return lines[lines.index("") + 1:]


def read_back(lines: list[str]) -> np.ndarray:
    """The printed matrix read through ``--kernel``'s inline syntax, ``'WxH: values row by row'``."""
    rows, columns = len(lines), len(lines[0].split())
    return load_kernel(f"{columns}x{rows}: " + "\n".join(lines)).array()


# --------------------------------------------------------------------------- C3


class TestShowPrintsValuesThatReadBack:
    @pytest.mark.parametrize("spec", ["box_3x3", "gaussian_7x7", "gaussian:1", "gaussian:0.8", "USER:rt", "USER:rt3"])
    def test_the_printed_matrix_pasted_into_kernel_is_the_same_kernel(self, spec, user_file):
        spec = spec.replace("USER", str(user_file))
        result = show(spec)
        assert result.returncode == 0, result.stderr
        expected = load_kernel(spec).array()
        back = read_back(printed_matrix(result.stdout))
        assert back.dtype == np.float64 and back.shape == expected.shape
        assert back.tobytes() == expected.tobytes(), (back - expected)

    def test_the_audit_values_are_printed_in_full(self, user_file):
        out = show(f"{user_file}:rt").stdout
        cells = [line.split() for line in printed_matrix(out)]
        assert cells == [["0.30000000000000004", "123456789", "1e-07"], ["0.1234567891", "-2.5e-12", "3"]]
        assert "0.123457" not in out.replace("0.1234567891", "")

    def test_columns_stay_aligned_and_whole_numbers_stay_integers(self, user_file):
        lines = printed_matrix(show(f"{user_file}:rt").stdout)
        assert len({len(line) for line in lines}) == 1  # right-aligned to one width
        assert [line.split() for line in printed_matrix(show("sobel_v").stdout)] == [["1", "0", "-1"], ["2", "0", "-2"], ["1", "0", "-1"]]
        assert [line.split() for line in printed_matrix(show("box_5x5").stdout)][0] == ["0.04"] * 5

    @pytest.mark.parametrize("spec", ["USER:rt", "USER:rt3", "gaussian:1", "box_3x3"])
    def test_the_header_sum_and_divisor_are_exact(self, spec, user_file):
        spec = spec.replace("USER", str(user_file))
        kernel = load_kernel(spec)
        out = show(spec).stdout
        header = out.split("\n", 1)[0]
        total = header.split(" sum ", 1)[1].split(",", 1)[0]
        assert float(total) == kernel.sum and "e+" not in total
        scale_line = next(line for line in out.splitlines() if line.startswith("scale: "))
        if kernel.scale is not None:
            divisor = scale_line.rstrip(")").split()[-1] if kernel.scale == "sum" else scale_line.split()[1]
            assert float(divisor) == kernel.divisor

    def test_json_is_unchanged(self, user_file):
        kernel = load_kernel(f"{user_file}:rt")
        document = json.loads(show(f"{user_file}:rt", "--json").stdout)
        assert document == {**json.loads(json.dumps(kernel.to_dict())), "values": kernel.array().tolist(), "notes": []}


# --------------------------------------------------------------------------- C7


class TestKernelPathEntriesThatAreNotFolders:
    def test_a_file_on_the_path_is_not_a_folder_not_missing(self, tmp_path):
        file = tmp_path / "ok.json"
        file.write_text(json.dumps({"family": "m", "kernels": [{"name": "c1", "matrix": [[1, 2], [3, 4]]}]}))
        result = show("c1", env={"KERNELCLI_KERNEL_PATH": str(file)})
        assert result.returncode == EXIT_KERNEL and result.stdout == ""
        [line] = result.stderr.splitlines()
        assert line.startswith("error: unknown kernel 'c1'; searched ")
        assert f"{file} (not a folder)" in line and "(missing)" not in line
        assert f"KERNELCLI_KERNEL_PATH lists folders of kernel .json files, separated by '{os.pathsep}'" in line

    def test_a_missing_folder_is_named_when_the_family_is_unknown(self, tmp_path):
        missing = tmp_path / "nosuchdir"
        result = run_in_process("kernels", "--family", "m", env={"KERNELCLI_KERNEL_PATH": str(missing)})
        assert result.returncode == EXIT_USAGE and result.stdout == ""
        [line] = result.stderr.splitlines()
        assert line.startswith("error: unknown kernel family 'm'; ")
        assert f"KERNELCLI_KERNEL_PATH: {missing} (missing) skipped" in line

    def test_a_listing_notes_skipped_entries_on_stderr_and_keeps_stdout(self, tmp_path):
        file = tmp_path / "k.json"
        file.write_text("{}")
        plain = run_in_process("kernels")
        for env_value in (str(tmp_path / "nosuchdir"), os.pathsep.join([str(tmp_path / "nosuchdir"), str(file)])):
            result = run_in_process("kernels", env={"KERNELCLI_KERNEL_PATH": env_value})
            assert result.returncode == 0 and result.stdout == plain.stdout
            notes = [line for line in result.stderr.splitlines() if line.startswith("note: ")]
            assert len(notes) == 1 and f"{tmp_path / 'nosuchdir'} (missing)" in notes[0]
            assert (f"{file} (not a folder)" in notes[0]) == (str(file) in env_value)
        assert not [line for line in plain.stderr.splitlines() if line.startswith("note: ")]

    def test_the_gallery_says_it_too(self, tmp_path):
        from PIL import Image

        Image.fromarray(np.zeros((16, 16), np.uint8)).save(tmp_path / "g.png")
        missing = tmp_path / "nosuchdir"
        result = run_in_process("gallery", "g.png", "-o", "s.png", cwd=tmp_path, env={"KERNELCLI_KERNEL_PATH": str(missing)})
        assert result.returncode == 0 and f"note: KERNELCLI_KERNEL_PATH: {missing} (missing) skipped" in result.stderr

    def test_folders_only_give_no_note(self, tmp_path):
        assert catalog.kernel_path_note(os.pathsep.join([str(tmp_path), ""])) == ""
        assert catalog.kernel_path_note(str(tmp_path / "x")).startswith(f"KERNELCLI_KERNEL_PATH: {tmp_path / 'x'} (missing) skipped; ")


# --------------------------------------------------------------------------- C8


class TestOneNameRule:
    def test_lookup_and_file_messages_state_the_same_rule(self, tmp_path):
        bad_spec = show("a\\b")
        dash = tmp_path / "dash.json"
        dash.write_text(json.dumps({"family": "m", "kernels": [{"name": "a-b", "matrix": [[1, 2], [3, 4]]}]}))
        bad_file = show(str(dash))
        for result in (bad_spec, bad_file):
            assert result.returncode == EXIT_KERNEL and len(result.stderr.splitlines()) == 1
            assert NAME_RULE in result.stderr and "[A-Za-z0-9_-]" not in result.stderr
        assert catalog.NAME_RULE == NAME_RULE  # one constant, used by both messages
        assert bad_spec.stderr.startswith("error: 'a\\b' is not a kernel name (")  # as typed, not 'a\\\\b'

    def test_lookups_ignore_case_and_dashes_and_say_so(self):
        assert show("Sobel_V").stdout == show("sobel_v").stdout
        assert load_kernel("SOBEL-V").name == "sobel_v"
        assert "Sobel-V" in load_kernel.__doc__ and "capitals" in load_kernel.__doc__
        assert "capitals and - are read as lower case and _" in show("a b").stderr


class TestWeightsBeyondTheFloatRange:
    """The kernel audit of 2026-12-05 (second round): a kernel whose weights sum past float64 was refused
    as a JSON list (exit 3) but was an internal error inline or as .npy (``kernels show``, ``--kernel-scale``:
    OverflowError in fsum, exit 70), or a result overflow (exit 2) without a scale."""

    @pytest.fixture
    def files(self, tmp_path, monkeypatch):
        monkeypatch.chdir(tmp_path)
        np.save(tmp_path / "big.npy", np.array([[1e308, 1e308], [1.0, 1.0]]))
        np.save(tmp_path / "x.npy", np.random.default_rng(2).random((5, 6)))
        return tmp_path

    @pytest.mark.parametrize("spec", ["3x3: 1e308 1e308 1 1 1 1 1 1 1", "1e308,1e308,1,1", "big.npy", "[[1e308,1e308],[1,1]]"],
                             ids=["imagemagick", "bare", "npy", "list"])
    @pytest.mark.parametrize("call", [("kernels", "show"), ("convolve", "x.npy", "-o", "o.npy", "-k"),
                                      ("convolve", "x.npy", "-o", "o.npy", "--kernel-scale", "2", "-k")], ids=["show", "convolve", "scaled"])
    def test_every_spelling_is_an_invalid_kernel(self, invoke, files, spec, call):
        r = invoke(*call, spec)
        assert r.exit_code == EXIT_KERNEL, r.stderr
        assert "values are too large: the sum of their magnitudes is beyond the float range" in r.stderr
        assert not (files / "o.npy").exists()

    def test_weights_that_fit_still_work(self, invoke, files):
        r = invoke("convolve", "x.npy", "-o", "o.npy", "-k", "1e307,1e307,1,1", "--kernel-scale", "!")
        assert r.exit_code == 0, r.stderr

    def test_a_float64_result_that_overflows_offers_no_wider_type(self, invoke, files):
        np.save(files / "large.npy", np.full((4, 4), 1e10))
        r = invoke("convolve", "large.npy", "-o", "o.npy", "-k", "1x1: 1e300")
        assert r.exit_code == EXIT_USAGE and "the result overflows float64" in r.stderr, r.stderr
        assert "or a float64 input" not in r.stderr


class TestGroupOptions:
    """The kernel audit of 2026-12-05: ``kernels --json show NAME`` printed text and ``kernels --family nope show NAME``
    ran in silence (the group's options were dropped when a subcommand ran); ``--family EDGE`` was refused where
    kernel names read capitals as lower case."""

    def test_json_before_show_is_json(self, invoke):
        r = invoke("kernels", "--json", "show", "sobel_v")
        assert r.exit_code == 0, r.stderr
        assert json.loads(r.stdout)["values"] == [[1, 0, -1], [2, 0, -2], [1, 0, -1]]
        assert r.stdout == invoke("kernels", "show", "sobel_v", "--json").stdout
        failed = invoke("kernels", "--json", "show", "nosuch")
        assert failed.exit_code == EXIT_KERNEL and json.loads(failed.stdout)["code"] == EXIT_KERNEL

    def test_family_before_show_is_noted(self, invoke):
        r = invoke("kernels", "--family", "nope", "show", "sobel_h")
        assert r.exit_code == 0, r.stderr
        assert "note: --family nope picks the kernels the list shows; `kernels show` does not use it" in r.stderr
        assert r.stdout == invoke("kernels", "show", "sobel_h").stdout

    @pytest.mark.parametrize("spelled", ["EDGE", "Edge", " edge "])
    def test_a_family_reads_as_names_do(self, invoke, spelled):
        r = invoke("kernels", "--family", spelled, "--json")
        assert r.exit_code == 0, r.stderr
        assert json.loads(r.stdout) == json.loads(invoke("kernels", "--family", "edge", "--json").stdout)


class TestGaussianSize:
    """gaussian:SIGMA is 2*ceil(3*sigma)+1 wide, sigma read exactly as typed (the oracle: fractions.Fraction of
    the text). The audit: an absolute margin of 1e-9 made gaussian:1e-10 1x1 and gaussian:0.3333333334 3x3; the review:
    a relative 1e-12 still did so for 0.3333333333334 and 1.0000000000001 (the margin is now four ulps)."""

    @pytest.mark.parametrize("text", ["1e-10", "0.3333333334", "0.33333333334", "0.3333333333334", "1.0000000000001",
                                      "1", "1.5", "2.0000001", "0.1", "0.7", "0.3333333333333333", "1.3333333333333333",
                                      *[f"{v:.6g}" for v in np.random.default_rng(5).uniform(0.01, 12, 12)]])
    def test_the_size_is_the_rule_on_the_typed_sigma(self, invoke, text):
        from fractions import Fraction
        from math import ceil

        r = invoke("kernels", "show", f"gaussian:{text}", "--json")
        assert r.exit_code == 0, r.stderr
        side = 2 * ceil(3 * Fraction(text)) + 1
        assert np.array(json.loads(r.stdout)["values"]).shape == (side, side)


def test_kernels_and_show_take_quiet(tmp_path):
    # vocabulary audit 11: 'kernels' and 'kernels show' had no -q, the one option every other command shares
    import numpy as np

    from conftest import run_in_process
    from kernelcli.catalog import list_kernels

    names = run_in_process("kernels", "-q", "--family", "edge", cwd=tmp_path)
    assert names.returncode == 0 and names.stderr == ""
    assert names.stdout.split() == [k.name for k in list_kernels("edge")]
    sobel = run_in_process("kernels", "show", "sobel_v", "-q", cwd=tmp_path)
    assert (sobel.stdout, sobel.stderr) == (" 1   0  -1\n 2   0  -2\n 1   0  -1\n", "")
    assert run_in_process("kernels", "-q", "show", "sobel_v", cwd=tmp_path).stdout == sobel.stdout
    np.save(tmp_path / "c.npy", np.arange(18.0).reshape(2, 3, 3))
    planes = run_in_process("kernels", "show", "c.npy", "-q", cwd=tmp_path).stdout.split("\n\n")
    assert [np.array([row.split() for row in p.split("\n") if row], float).tolist() for p in planes] == np.arange(18.0).reshape(2, 3, 3).tolist()
    assert len(run_in_process("kernels", "show", "box_3d", "-q", cwd=tmp_path).stdout.split("\n\n")) == 3


class TestKernelsAuditRoundTwo:
    """The second kernels audit: a user kernel named like a volume kernel, listed and never used; a table size
    read as width x height; a volume spec 'shown' as if an image had been given; whole numbers float64 rounds."""

    def test_a_user_kernel_with_a_volume_kernels_name_is_refused(self, tmp_path):
        for name in ("box_3d", "gradient", "sobel_mm"):
            folder = tmp_path / name
            folder.mkdir()
            (folder / "mine.json").write_text(json.dumps({"family": "mine", "kernels": [
                {"name": name, "matrix": [[0, 1, 0], [1, 1, 1], [0, 1, 0]], "description": "x", "source": "y"}]}))
            # skipped with a note, as a broken file is (it stopped every call): the built-in is the one named
            r = run_in_process("kernels", env={"KERNELCLI_KERNEL_PATH": str(folder)})
            assert r.returncode == 0 and f"kernel name '{name}' in {folder / 'mine.json'} is a volume kernel's" in r.stderr
            assert "(this one skipped)" in r.stderr and "sobel_v" in r.stdout

    def test_the_table_spells_a_non_square_size_out(self, tmp_path):
        (tmp_path / "k.json").write_text(json.dumps({"family": "mine", "kernels": [
            {"name": "row3", "matrix": [[1, 2, 3]], "description": "x", "source": "y"}]}))
        r = run_in_process("kernels", "--family", "mine", env={"KERNELCLI_KERNEL_PATH": str(tmp_path), "COLUMNS": "200"})
        assert r.returncode == 0 and "1 row x 3 columns" in r.stdout, r.stdout

    @pytest.mark.parametrize("spec", ["gradient", "gaussian:1.5mm"])
    def test_show_of_a_volume_spec_says_it_is_built_from_the_volume(self, spec):
        # (exit 3 since the vocabulary audit, 83: a kernel spec `kernels show` cannot use; sizes in voxels are shown)
        r = show(spec)
        assert r.returncode == EXIT_KERNEL and "spacing" in r.stderr and "per volume" in r.stderr, r.stderr
        assert "an image or array" not in r.stderr

    def test_whole_numbers_float64_rounds_are_refused(self, tmp_path):
        np.save(tmp_path / "big.npy", np.array([[2**62 + 1, 1]], np.int64))
        np.save(tmp_path / "exact.npy", np.array([[2**62, 1]], np.int64))
        for spec in ("[[9007199254740993]]", "1x1: 9007199254740993", "[[1, -9007199254740993]]", str(tmp_path / "big.npy"),
                     "1x1: 9007199254740993.0", "1x1: 9.007199254740993e15"):  # (those two were rounded in silence)
            r = show(spec, "-q")
            assert r.returncode == EXIT_KERNEL, r.stderr
            assert "which float64 reads as" in r.stderr, r.stderr
        for spec in ("[[9007199254740992]]", "1x1: -9007199254740992", str(tmp_path / "exact.npy")):
            assert show(spec, "-q").returncode == 0


class TestShowInVoxels:
    """The vocabulary audit (83), finding 8: 'kernels show gaussian:2vox' (and box:3vox) was refused as 'a size in
    mm from its voxel spacing', exit 2, where a size in voxels needs no spacing: it is as fixed as box_3d."""

    @pytest.mark.parametrize("spec", ["gaussian:1vox", "box:3vox", "fwhm:2vox", "GAUSSIAN:0.8VOX"])
    def test_a_kernel_in_voxels_is_shown_as_a_volume_applies_it(self, tmp_path, spec):
        nib = pytest.importorskip("nibabel")
        r = show(spec, "--json")
        assert r.returncode == 0, r.stderr
        values = np.array(json.loads(r.stdout)["values"])
        assert values.ndim == 3 and all(n % 2 for n in values.shape)
        delta = np.zeros((15, 15, 15), np.float32)
        delta[7, 7, 7] = 1
        nib.save(nib.Nifti1Image(delta, np.eye(4)), str(tmp_path / "d.nii.gz"))
        applied = run_in_process("convolve", "d.nii.gz", "-k", spec, "--pad-mode", "constant", "-o", "r.npy", cwd=tmp_path)
        assert applied.returncode == 0, applied.stderr
        kz, ky, kx = (n // 2 for n in values.shape)
        response = np.load(tmp_path / "r.npy")[7 - kz:8 + kz, 7 - ky:8 + ky, 7 - kx:8 + kx]
        np.testing.assert_allclose(values[::-1, ::-1, ::-1], response, rtol=1e-6, atol=1e-9)  # the impulse response
        text = show(spec)
        assert text.returncode == 0 and f"kernelcli volume SCAN -k {spec.lower()}" in text.stdout

    @pytest.mark.parametrize("spec", ["gaussian:2mm", "box:5mm", "fwhm:4mm", "log:2mm", "sobel_mm", "log:2vox"])
    def test_a_kernel_it_cannot_show_is_an_unusable_kernel_spec(self, spec):
        r = show(spec)
        assert r.returncode == EXIT_KERNEL == show("no_such_kernel").returncode, r.stderr
        assert r.stderr.startswith(f"error: {spec}: ") and len(r.stderr.splitlines()) == 1
        if spec.endswith("mm"):  # the reason: a size or derivative in mm, which only a volume's spacing makes voxels of
            assert "spacing" in r.stderr and "vox" in r.stderr

    def test_the_kernel_argument_lists_every_form_show_takes(self, tmp_path):
        import re

        np.save(tmp_path / "k.npy", np.eye(3))
        forms = {"3x3:": "3x3: 1,0,-1 2,0,-2 1,0,-1", "[[": "[[1,0,-1],[2,0,-2],[1,0,-1]]", ".npy": str(tmp_path / "k.npy"),
                 "box_3d": "box_3d", "sobel_3d": "sobel_3d_z", "vox": "box:3vox", "gaussian:SIGMA": "gaussian:1.5",
                 "box:N": "box:3", ".json": str(REPO / "kernels" / "edge.json") + ":sobel_v"}
        text = " ".join(run_in_process("kernels", "show", "--help").stdout.split())
        argument = re.search(r"KERNEL (.*?) Options:", text).group(1)
        for marker, spec in forms.items():
            assert show(spec, "-q").returncode == 0, spec
            assert marker in argument, (marker, argument)


def test_a_voxel_kernel_too_large_to_print_is_refused_before_it_is_built():
    # gaussian:30vox printed 142 MB (181x181x181); gaussian:100vox reached 11 GB before it was stopped
    r = run_in_process("kernels", "show", "gaussian:100vox")
    assert r.returncode == 3 and "gaussian:100vox: a 601x601x601 kernel (217,081,801 values) is too large to print" in r.stderr
    assert run_in_process("kernels", "show", "gaussian:5vox", "-q").returncode == 0  # 31 a side: printed
