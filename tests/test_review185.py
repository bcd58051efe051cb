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
