"""Review 185's findings (audit 185): one section per finding fixed."""

from __future__ import annotations

import re

import pytest

from conftest import run_in_process


# 1: kernels show's refusal of a size in mm offered log:2vox and box:2.5vox, which kernels show refuses in turn

@pytest.mark.parametrize("spec", ["log:2mm", "box:2.5mm", "box:4mm", "box:33mm", "gaussian:100mm", "box:3mm",
                                  "gaussian:1mm", "fwhm:2mm", "box: 5 mm"])
def test_kernels_show_offers_for_a_size_in_mm_only_a_kernel_it_prints(spec):
    refused = run_in_process("kernels", "show", spec)
    assert refused.returncode == 3 and len(refused.stderr.splitlines()) == 1, refused.stderr
    offered = re.findall(r"\(([a-z]+:[0-9.]+vox)\)", refused.stderr)
    for other in offered:
        assert run_in_process("kernels", "show", other, "-q").returncode == 0, (spec, refused.stderr)
    if spec.startswith("log"):  # never shown, in mm or in voxels: said in log:2vox's words
        assert "log:" not in refused.stderr.split(":", 3)[-1] and "Laplacian" in refused.stderr
    if spec in ("box:3mm", "gaussian:1mm", "fwhm:2mm"):
        assert offered == [spec.replace("mm", "vox")]
    if spec in ("box:2.5mm", "box:4mm", "box:33mm"):  # no box:Nvox of that N is printed: the rule is named
        assert "odd whole number up to 31" in refused.stderr


# 2: a pooling step with a blank after its ':' ('maxpool: 2') was "not a pooling step", where 'box: 3' is a kernel

@pytest.fixture
def matrix(tmp_path):
    """m.csv, a 6x6 matrix of 0..35, in ``tmp_path``."""
    (tmp_path / "m.csv").write_text("\n".join(",".join(str(6 * r + c) for c in range(6)) for r in range(6)) + "\n")
    return tmp_path


@pytest.mark.parametrize(("spaced", "plain"), [("maxpool: 2", "maxpool:2"), ("avgpool: 3 : 2", "avgpool:3:2"),
                                               ("minpool:2: 1", "minpool:2:1"), (" meanpool: 2 ", "meanpool:2")])
@pytest.mark.parametrize("where", ["--then", "--kernel"])
def test_a_pooling_step_takes_the_blank_a_kernel_spec_takes(matrix, spaced, plain, where):
    def run(step):
        first = ["-k", "box:1", "--then", step] if where == "--then" else ["-k", step]
        return run_in_process("convolve", "m.csv", *first, "-q", cwd=matrix)

    taken, expected = run(spaced), run(plain)
    assert taken.returncode == 0 == expected.returncode, taken.stderr
    assert taken.stdout == expected.stdout


# 4: an integer past int()'s 4,300 digits was "not a valid integer" (or a padding of the wrong form), where 4,300
# digits were "an integer of 4300 digits ...; expected at most 30 digits"; a float past 4,300 characters "not a valid
# float", where 4,000 nines read as infinity

LONG = "9" * 5000


@pytest.mark.parametrize(("args", "what"), [
    (["convolve", "m.csv", "-k", "box:3", "-s", LONG], "an integer"),
    (["convolve", "m.csv", "-k", "box:3", "--dilation", LONG + ".0"], "an integer"),
    (["convolve", "m.csv", "-k", "box:3", "-p", LONG], "a width"),
    (["convolve", "m.csv", "-k", "box:3", "-p", f"1,1,1,{LONG}"], "a width"),
    (["pool", "m.csv", "-f", "2", "-p", LONG], "a width"),
    (["pad", "m.csv", "-p", LONG], "a width"),
    (["shape", "--in", "24", "-f", LONG], "a size"),
    (["shape", "--in", f"24x{LONG}.0", "-f", "3"], "a size"),
    (["convolve", "m.csv", "-k", "box:3", "--chunks", LONG], "a tile side"),
    (["convolve", "m.csv", "-k", "box:1", "--then", f"maxpool:{LONG}"], "a size"),
    (["convolve", "m.csv", "-k", "box:1", "--then", f"maxpool:2:{LONG}"], "a stride"),
])
def test_an_integer_past_ints_digits_is_told_its_digit_count(matrix, args, what):
    r = run_in_process(*args, cwd=matrix)
    assert r.returncode == _code(args) and len(r.stderr.splitlines()) == 1, r.stderr
    assert f"{what} of 5000 digits (999999999999...); expected at most 30 digits" in r.stderr, r.stderr


@pytest.mark.parametrize(("args", "said"), [
    (["convolve", "m.csv", "-k", "box:3", "-s", f"-{LONG}"], "is not in the range x>=1"),
    (["pad", "m.csv", "-p", f"-{LONG}"], "is not in the range x>=0"),
    (["pad", "m.csv", "-p", f"1,1,1,-{LONG}"], "every width must be an integer >= 0"),
    (["shape", "--in", f"24x-{LONG}", "-f", "3"], "every size must be an integer >= 1"),
    (["convolve", "m.csv", "-k", "box:3", "--chunks", f"-{LONG}"], "expected a tile side such as 1024"),
    (["convolve", "m.csv", "-k", "box:1", "--then", f"maxpool:2:-{LONG}"], "whole numbers >= 1"),
    (["convolve", "m.csv", "-k", "box:3", "--truncate", LONG], "reads as infinity"),
    (["learn", "m.csv", "m.csv", "-f", "3", "--lr", LONG], "reads as infinity"),
])
def test_a_number_past_ints_digits_is_refused_as_any_other(matrix, args, said):
    r = run_in_process(*args, cwd=matrix)
    assert r.returncode == _code(args) and len(r.stderr.splitlines()) == 1, r.stderr
    assert said in r.stderr and "not a valid" not in r.stderr, r.stderr


# 3: a very long value was written out whole in the error line (5,100-5,250 characters) by --pad-value,
# --kernel-scale (after quoting it short), --bias, --window, --momentum, every vocabulary option, --family,
# learn --name and summary SPEC, where the other options quote it short (numtext.quoted)

DIGITS, TINY, LETTERS = "9" * 5000, "0." + "0" * 3000 + "1", "x" * 5000


@pytest.mark.parametrize("args", [
    ["convolve", "m.csv", "-k", "box:3", "--pad-value", DIGITS],
    ["convolve", "m.csv", "-k", "box:3", "--pad-value", TINY],
    ["convolve", "m.csv", "-k", "box:3", "--kernel-scale", DIGITS],
    ["convolve", "m.csv", "-k", "box:3", "--kernel-scale", TINY],
    ["convolve", "m.csv", "-k", "box:3", "-k", "box:3", "--bias", f"1,{TINY}"],
    ["convolve", "m.csv", "-k", "box:3", "-k", "box:3", "--bias", f"1,{DIGITS}"],
    ["convolve", "m.csv", "-k", "box:3", "--bias", TINY],
    ["convolve", "m.csv", "-k", "box:3", "--window", f"40,{DIGITS}"],
    ["convolve", "m.csv", "-k", "box:3", "--window", LETTERS],
    ["learn", "m.csv", "m.csv", "-f", "3", "--method", "gd", "--momentum", TINY],
    ["learn", "m.csv", "m.csv", "-f", "3", "--name", LETTERS],
    ["learn", "m.csv", "m.csv", "-f", "3", "--optimizer", LETTERS],
    ["learn", "m.csv", "m.csv", "-f", "3", "--combine", LETTERS],
    ["convolve", "m.csv", "-k", "box:3", "-m", LETTERS],
    ["convolve", "m.csv", "-k", "box:3", "--rescale", LETTERS],
    ["convolve", "m.csv", "-k", "box:3", "--layout", LETTERS],
    ["convolve", "m.csv", "-k", "box:3", "--axis", LETTERS],
    ["pool", "m.csv", "-f", "2", "--op", LETTERS],
    ["pad", "m.csv", "-p", "1", "--format", LETTERS],
    ["kernels", "--family", LETTERS],
    ["gallery", "m.csv", "--family", LETTERS],
    ["summary", LETTERS],
])
def test_a_very_long_value_is_quoted_short(matrix, args):
    r = run_in_process(*args, cwd=matrix)
    assert r.returncode in (2, 3) and len(r.stderr.splitlines()) == 1, r.stderr[:300]
    assert len(r.stderr) < 400 and re.search(r"\.\.\.[0-9x]{20}'? \((500[0-9]|300[0-9]) characters\)", r.stderr), r.stderr


def test_a_vocabulary_refusal_is_worded_once():
    from kernelcli import api
    from kernelcli.errors import UsageError

    with pytest.raises(UsageError, match=r"invalid pad_mode 'x{20}\.\.\.x{20}' \(5000 characters\): expected one of"):
        api.pad2d([[1.0]], 1, pad_mode=LETTERS)


def _code(args: list[str]) -> int:
    """2, a bad option value; 3 for a --then step, refused as an invalid kernel spec is (230890b)."""
    return 3 if "--then" in args else 2
