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
