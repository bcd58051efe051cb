"""Audit 189: memory.

#6: running out of memory (``ulimit -v``) gave ``error: not enough memory for this operation; ...`` (no file named),
exit 2 and the same ``--json`` record, while ``--report`` recorded code 1 ``a.npy: not enough memory`` and a batch's
record code 1 too.  Now one line naming the input and one code (2, as the limit's own refusal) in all four places.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image


@pytest.fixture
def out_of_memory(monkeypatch):
    import kernelcli.api as api

    def boom(*args, **kwargs):
        raise MemoryError()

    monkeypatch.setattr(api, "pad2d", boom)


@pytest.fixture
def images(tmp_path):
    rng = np.random.default_rng(0)
    (tmp_path / "in").mkdir()
    for name in ("a.png", "b.png"):
        Image.fromarray(rng.integers(0, 256, (16, 16), dtype=np.uint8)).save(tmp_path / "in" / name)
    return tmp_path


WORDS = "not enough memory for this operation; use a smaller input or option values, or set KERNELCLI_MAX_MEMORY"


def _error_lines(result) -> list[str]:
    assert "Traceback" not in result.stderr, result.stderr
    return [line for line in result.stderr.splitlines() if line.startswith("error:")]


class TestRunningOutOfMemoryIsOneErrorOfTheInput:
    def test_the_line_json_and_report_say_the_same(self, images, invoke, out_of_memory):
        result = invoke("pad", "in/a.png", "--p", "1", "--out", "o.png", "--json", "--report", "r.json")
        assert result.exit_code == 2, result.output
        line = f"in/a.png: {WORDS}"
        assert [l.split(" to be refused")[0] for l in _error_lines(result)] == [f"error: {line}"]
        printed = json.loads(result.stdout)
        [reported] = json.loads((images / "r.json").read_text())["items"]
        for record in (printed, reported):
            assert (record["status"], record["code"]) == ("failed", 2), record
            assert record["error"].startswith(line), record
        assert printed["error"] == reported["error"] == _error_lines(result)[0].removeprefix("error: ")
        assert not (images / "o.png").exists()

    def test_without_report_the_line_names_the_input(self, images, invoke, out_of_memory):
        result = invoke("pad", "in/a.png", "--p", "1", "--out", "o.png")
        assert result.exit_code == 2
        assert _error_lines(result)[0].startswith(f"error: in/a.png: {WORDS}")

    def test_a_batch_records_the_code_each_file_alone_gives(self, images, invoke, out_of_memory):
        result = invoke("pad", "in", "--p", "1", "--out-dir", "out", "-j", "1", "--report", "r.json")
        assert result.exit_code == 1, result.output  # a file failed
        items = json.loads((images / "r.json").read_text())["items"]
        assert len(items) == 2
        for item in items:
            assert (item["status"], item["code"]) == ("failed", 2), item
            assert item["error"].startswith(f"{item['input']}: {WORDS}"), item
        alone = invoke("pad", "in/a.png", "--p", "1", "--out", "o.png", "--report", "r1.json")
        [record] = json.loads((images / "r1.json").read_text())["items"]
        assert (alone.exit_code, record["code"], record["error"]) == (items[0]["code"], 2, items[0]["error"])

    def test_the_readme_lists_it_under_its_code(self):
        from conftest import documentation

        row = next(line for line in documentation().splitlines() if line.startswith("| 2 |"))
        assert "not enough memory for this operation" in row


class TestTheMemoryLimitBoundsLearn:
    """#7: ``KERNELCLI_MAX_MEMORY=50M learn x1200.npy t1200.npy -f 3 -p same`` ran (exit 0) to about 400 MB: learn was
    checked against convolve's estimate alone, not its least-squares system (up to 8,000,000 values, held several
    times).  It is refused up front now, exit 2 as convolve's memory refusal, naming the estimate."""

    @pytest.fixture
    def pair(self, tmp_path):
        rng = np.random.default_rng(1)
        np.save(tmp_path / "x.npy", rng.random((300, 300)))
        np.save(tmp_path / "t.npy", rng.random((300, 300)))
        return tmp_path

    @pytest.mark.parametrize("method", ["lstsq", "gd"])
    def test_learn_is_refused_for_its_system(self, pair, invoke, monkeypatch, method):
        monkeypatch.setenv("KERNELCLI_MAX_MEMORY", "20M")  # (the input, padded copy and output: under 3 MiB)
        result = invoke("learn", "x.npy", "t.npy", "-f", "3", "-p", "same", "--method", method, "-o", "k.json")
        assert result.exit_code == 2, result.output
        [line] = _error_lines(result)
        assert line.startswith(f"error: x.npy: learning a 3x3 kernel with dilation 1 by {method} (its system of 90,000 "
                               "windows of 9 values) would need about "), line
        assert line.endswith("more than the 20.0 MiB allowed (set KERNELCLI_MAX_MEMORY to change it)"), line
        assert not (pair / "k.json").exists()
        monkeypatch.setenv("KERNELCLI_MAX_MEMORY", "200M")
        assert invoke("learn", "x.npy", "t.npy", "-f", "3", "-p", "same", "--method", method, "--epochs", "1").exit_code == 0

    def test_the_api_is_refused_alike(self, monkeypatch):
        from kernelcli.learn import learn_kernel
        from kernelcli.learn_options import LearnOptions
        from kernelcli.limits import ResourceLimit

        monkeypatch.setenv("KERNELCLI_MAX_MEMORY", "20M")
        x = np.random.default_rng(2).random((300, 300))
        with pytest.raises(ResourceLimit, match="its system of 90,000 windows of 9 values"):
            learn_kernel(x, x, LearnOptions(size=3), input_name="x")

    @pytest.mark.parametrize("method, bias, channels, combine", [
        ("lstsq", False, 1, "per-channel"), ("lstsq", True, 3, "sum"), ("gd", True, 1, "per-channel"), ("gd", True, 3, "shared"),
    ])
    def test_the_estimate_bounds_what_learn_holds(self, monkeypatch, method, bias, channels, combine):
        import tracemalloc

        import kernelcli.limits as limits
        from kernelcli.learn import learn_kernel
        from kernelcli.learn_options import LearnOptions

        needs = []
        monkeypatch.setattr(limits, "check_peak", lambda need, what, **kw: needs.append(need))
        rng = np.random.default_rng(3)
        x = rng.random((160, 160, channels)) if channels > 1 else rng.random((160, 160))
        t = rng.random((160, 160)) if combine == "sum" else rng.random(x.shape)
        options = LearnOptions(size=3, method=method, fit_bias=bias, combine=combine, **({"epochs": 1} if method == "gd" else {}))
        learn_kernel(x, t, options)  # (warm: what it loads once is no part of its data)
        tracemalloc.start()
        try:
            learn_kernel(x, t, options)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert peak <= needs[-1], (peak, needs[-1])


def _convolve_with_a_file_size_limit(folder, limit, *args):
    import os
    import resource
    import subprocess
    import sys

    from conftest import process_env

    def limited():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return subprocess.run([sys.executable, "-m", "kernelcli", "convolve", *args], cwd=folder, capture_output=True, text=True,
                          env=process_env(), preexec_fn=limited if limit else None, timeout=300,
                          check=False) if os.name == "posix" else pytest.skip("no RLIMIT_FSIZE")


class TestMapsAndTheirSheetAreWrittenTogether:
    """#5: under ``ulimit -f 530``, ``convolve phantom.png -k sobel_v -k sobel_h --montage m.tif -o maps.npy`` said
    ``m.tif: write failed: File too large; the destination is untouched`` (exit 1) yet left maps.npy published, its
    record naming it the output of a failed call, and the rerun was refused (exit 4) for it."""

    def test_a_sheet_that_cannot_be_written_leaves_no_maps(self, tmp_path):
        rng = np.random.default_rng(5)
        Image.fromarray(rng.integers(0, 256, (256, 256), dtype=np.uint8)).save(tmp_path / "p.png")
        args = ["p.png", "-k", "sobel_v", "-k", "sobel_h", "--montage", "m.tif", "-o", "maps.npy", "--json"]
        (tmp_path / "free").mkdir()
        (tmp_path / "free" / "p.png").write_bytes((tmp_path / "p.png").read_bytes())
        assert _convolve_with_a_file_size_limit(tmp_path / "free", 0, *args).returncode == 0
        sizes = {name: (tmp_path / "free" / name).stat().st_size for name in ("maps.npy", "m.tif")}
        bigger, smaller = sorted(sizes, key=sizes.get, reverse=True)
        assert sizes[bigger] > sizes[smaller]
        result = _convolve_with_a_file_size_limit(tmp_path, sizes[bigger] - 1, *args)
        assert result.returncode == 1, result.stderr
        assert sorted(p.name for p in tmp_path.iterdir()) == ["free", "p.png"]  # neither, and no temporary left
        line = (f"{bigger}: write failed: File too large; the destination is untouched, and {smaller} is not written "
                "either")
        assert result.stderr.splitlines() == [f"error: {line}"]
        record = json.loads(result.stdout)
        assert (record["status"], record["code"], record["error"]) == ("failed", 1, line)
        assert _convolve_with_a_file_size_limit(tmp_path, 0, *args).returncode == 0  # the rerun is not refused

    def test_with_force_a_failed_sheet_keeps_the_earlier_pair(self, tmp_path):
        Image.fromarray(np.random.default_rng(6).integers(0, 256, (256, 256), dtype=np.uint8)).save(tmp_path / "p.png")
        args = ["p.png", "-k", "sobel_v", "-k", "sobel_h", "--montage", "m.tif", "-o", "maps.npy"]
        assert _convolve_with_a_file_size_limit(tmp_path, 0, *args).returncode == 0
        before = {name: (tmp_path / name).read_bytes() for name in ("maps.npy", "m.tif")}
        Image.fromarray(np.zeros((256, 256), np.uint8)).save(tmp_path / "p.png")  # another result
        limit = min(len(data) for data in before.values()) + 1
        assert _convolve_with_a_file_size_limit(tmp_path, limit, *args, "--force").returncode == 1
        assert {name: (tmp_path / name).read_bytes() for name in before} == before
