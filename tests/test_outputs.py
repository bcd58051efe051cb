"""Issue 16 items 1-3 and issue 13's one I/O package: outputs are created or refused,
never lost, never an input, and checked by one function."""

from __future__ import annotations

import ast
import json
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from kernelcli.errors import OutputRefused, UsageError
from kernelcli.io import naming, output_checks, outputs, temporary

from conftest import REPO, pixels

PACKAGE = REPO / "kernelcli"


def grey(path: Path, size: int = 8, seed: int = 0) -> Path:
    Image.fromarray(np.random.default_rng(seed).integers(0, 256, (size, size), dtype=np.uint8)).save(path)
    return path


# ----------------------------------------------------------------------------- one package


class TestOnePackage:
    def test_already_exists_is_written_once(self):
        sources = [p for p in PACKAGE.rglob("*.py")]
        hits = [p for p in sources if "already exists; use --force" in p.read_text()]
        assert hits == [PACKAGE / "io" / "output_checks.py"], hits

    def test_batch_and_jobs_do_not_import_each_other(self):
        def imported(module: str) -> set[str]:
            tree = ast.parse((PACKAGE / f"{module}.py").read_text())
            names = set()
            for node in ast.walk(tree):
                if isinstance(node, ast.ImportFrom) and node.level == 1:
                    names.add(node.module or "")
            return names

        assert "batch" not in imported("jobs") and "jobs" not in imported("batch")

    def test_io_imports_no_numpy(self):
        code = "import sys, kernelcli.io, kernelcli.io.naming, kernelcli.io.outputs, kernelcli.io.output_checks, kernelcli.io.common; print('numpy' in sys.modules)"
        r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
        assert r.stdout.strip() == "False", r.stderr

    def test_old_import_paths_still_work(self):
        from kernelcli import batch, images, jobs

        assert jobs.safe_stem is naming.safe_stem and jobs.default_output is naming.default_output
        assert batch.output_suffix is naming.output_suffix
        assert images.write_bytes_atomic is outputs.write_bytes_atomic and images.same_file is output_checks.same_file

    def test_default_names_agree_for_single_and_batch(self):
        single = naming.default_output(Path("scans/ct.gif"), "gaussian:1.5", Path("out"))
        many = naming.batch_output(Path("scans/ct.gif"), Path("scans"), Path("out"), "gaussian:1.5", None)
        assert single == many == Path("out/ct_gaussian_1.5.png")


# ----------------------------------------------------------------------------- item 1: races


class TestCreateOrFail:
    def test_two_writers_exactly_one_wins_each_file(self, tmp_path):
        """Both writers are past every early check before either publishes (the barrier in
        the write callback): a check-then-rename would let both succeed."""
        for n in range(100):
            dest = tmp_path / f"out{n}.bin"
            barrier = threading.Barrier(2)
            outcome: dict[str, str] = {}

            def writer(tag: str) -> None:
                def write(f) -> None:
                    f.write(tag.encode() * 10)
                    barrier.wait(timeout=10)

                try:
                    outputs.atomic_write(dest, write)
                    outcome[tag] = "won"
                except OutputRefused as exc:
                    assert "already exists" in str(exc)
                    outcome[tag] = "refused"

            threads = [threading.Thread(target=writer, args=(t,)) for t in "ab"]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            assert sorted(outcome.values()) == ["refused", "won"], (n, outcome)
            winner = next(t for t, o in outcome.items() if o == "won")
            assert dest.read_bytes() == winner.encode() * 10
        assert not list(tmp_path.glob(".*.part"))

    def test_two_batch_runs_into_one_folder(self, tmp_path):
        """`pool --op max` and `pool --op min` racing into one --out-dir: each file is won by
        exactly one run, holds that run's data, and the loser reports exit 4 for it."""
        src = tmp_path / "in"
        src.mkdir()
        for i in range(12):
            grey(src / f"im{i:02d}.png", 8, seed=i)
        env = dict(os.environ)
        for round_ in range(2):
            out = tmp_path / f"out{round_}"
            procs = {
                op: subprocess.Popen(
                    [sys.executable, "-m", "kernelcli", "pool", str(src), "--op", op, "--size", "2", "--suffix", "p",
                     "--out-dir", str(out), "--json", "--workers", "1"],
                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                )
                for op in ("max", "min")
            }
            docs = {op: (p.communicate(timeout=120), p.returncode) for op, p in procs.items()}
            won: dict[str, list[str]] = {}
            for op, ((stdout, stderr), code) in docs.items():
                assert "Traceback" not in stderr
                doc = json.loads(stdout)  # (refused while planning, the other run's files there: the batch's document too)
                for item in doc["items"]:
                    if item["status"] == "ok":
                        won.setdefault(item["output"], []).append(op)
                    else:  # its output won by the other run, or not run: the plan was refused for another's
                        assert item["code"] == 4 and ("already exists" in item["error"] or item["status"] == "not run"), item
                assert code == (4 if doc["totals"]["failed"] else 0), (code, stderr)
            assert all(len(ops) == 1 for ops in won.values()), won
            for output, (op,) in won.items():
                name = Path(output).name.replace("_p.png", ".png")
                x = pixels(src / name).reshape(4, 2, 4, 2)
                expected = x.max(axis=(1, 3)) if op == "max" else x.min(axis=(1, 3))
                np.testing.assert_array_equal(pixels(output), expected)
            assert len(list(out.glob("*.png"))) == 12 and not list(out.glob(".*"))

    def test_two_single_file_runs(self, tmp_path):
        grey(tmp_path / "x.png", 64)
        env = dict(os.environ)
        for trial in range(3):
            out = tmp_path / f"o{trial}.png"
            procs = [
                subprocess.Popen([sys.executable, "-m", "kernelcli", "convolve", str(tmp_path / "x.png"), "-k", k, "--out", str(out)],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
                for k in ("sobel_v", "box:3")
            ]
            errs = [p.communicate(timeout=120)[1] for p in procs]
            assert sorted(p.returncode for p in procs) == [0, 4], errs


# ----------------------------------------------------------------------------- item 2: every read file is an input


@pytest.fixture
def files(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    grey(tmp_path / "img.png", 8)
    np.save(tmp_path / "w.npy", np.ones((2, 1, 3, 3)))
    np.save(tmp_path / "b.npy", np.zeros(2))
    (tmp_path / "k.json").write_text(json.dumps({"name": "mine", "matrix": [[0, 1, 0], [1, -4, 1], [0, 1, 0]]}))
    np.save(tmp_path / "kn.npy", np.ones((3, 3)))
    os.link(tmp_path / "k.json", tmp_path / "klink.npy")  # the kernel file under an output's name
    os.link(tmp_path / "k.json", tmp_path / "klink.png")
    return tmp_path


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


class TestReadFilesAreInputs:
    @pytest.mark.parametrize("force", [[], ["--force"]])
    @pytest.mark.parametrize(
        "args, victim",
        [
            (["convolve", "img.png", "--weights", "w.npy", "--out", "w.npy"], "w.npy"),
            (["convolve", "img.png", "--weights", "w.npy", "--bias-file", "b.npy", "--out", "b.npy"], "b.npy"),
            (["convolve", "img.png", "-k", "./k.json", "--out", "o.png", "--report", "k.json"], "k.json"),
            (["convolve", "img.png", "-k", "k.json", "--out", "klink.npy"], "klink.npy"),
            (["convolve", "img.png", "-k", "./k.json", "--montage", "klink.png"], "klink.png"),
            (["convolve", "img.png", "-k", "./kn.npy", "--out", "kn.npy"], "kn.npy"),
        ],
    )
    def test_refused_with_and_without_force(self, files, args, victim, force, invoke):
        before = snapshot(files)
        r = invoke(*args, *force)
        assert r.exit_code == 4, r.output
        assert victim in r.stderr and "input" in r.stderr
        assert snapshot(files) == before

    def test_in_a_batch(self, files, invoke):
        (files / "more").mkdir()
        grey(files / "more" / "a.png")
        before = snapshot(files)
        r = invoke("convolve", "more", "-k", "./k.json", "--out-dir", "res", "--report", "k.json", "--force")
        assert r.exit_code == 4 and "k.json" in r.stderr
        assert snapshot(files) == before and not (files / "res").exists()


class TestSpecialFilesAreNotReplaced:
    """The batch audit: --force put a regular file in place of a FIFO or a device node at an output or report
    path (--report /dev/null --force, as root, would replace the system's /dev/null)."""

    @pytest.mark.parametrize("args", [
        ["convolve", "img.png", "-k", "box:3", "-o", "special.png"],
        ["convolve", "img.png", "-k", "box:3", "-o", "o.png", "--report", "special.png"],
        ["pool", "img.png", "--size", "2", "-o", "special.png"],
    ])
    @pytest.mark.parametrize("force", [[], ["--force"]])
    def test_a_pipe_or_device_is_refused(self, files, invoke, args, force):
        os.mkfifo(files / "special.png")
        r = invoke(*args, *force)
        assert r.exit_code == 4 and "special.png: is not a regular file (a pipe)" in r.stderr, r.stderr
        assert stat.S_ISFIFO(os.lstat(files / "special.png").st_mode)
        os.unlink(files / "special.png")
        if os.getuid() == 0:  # (making a device node needs root)
            os.mknod(files / "special.png", stat.S_IFCHR | 0o644, os.makedev(1, 3))
            r = invoke(*args, *force)
            assert r.exit_code == 4 and "(a device)" in r.stderr and stat.S_ISCHR(os.lstat(files / "special.png").st_mode)

    def test_in_a_batch(self, files, invoke):
        (files / "res").mkdir()
        grey(files / "k2.png", 8)
        os.mkfifo(files / "res" / "img_box_3.png")
        r = invoke("convolve", "img.png", "k2.png", "-k", "box:3", "--out-dir", "res", "--force")
        assert r.exit_code == 4 and "img_box_3.png: is not a regular file (a pipe)" in r.stderr
        assert stat.S_ISFIFO(os.lstat(files / "res" / "img_box_3.png").st_mode)


# ----------------------------------------------------------------------------- item 3: mode kept


class TestForceKeepsMode:
    def test_0600_stays_0600(self, files, invoke):
        target = files / "o.png"
        target.write_bytes(b"old")
        target.chmod(0o600)
        r = invoke("convolve", "img.png", "-k", "box:3", "--out", "o.png", "--force")
        assert r.exit_code == 0, r.output
        assert stat.S_IMODE(target.stat().st_mode) == 0o600 and target.read_bytes() != b"old"

    def test_new_file_follows_the_umask(self, tmp_path):
        old = os.umask(0o027)
        try:
            outputs.write_bytes_atomic(tmp_path / "n.bin", b"x")
        finally:
            os.umask(old)
        assert stat.S_IMODE((tmp_path / "n.bin").stat().st_mode) == 0o640


# ----------------------------------------------------------------------------- item 7: long names


class TestLongNames:
    @pytest.mark.parametrize("length", [241, 250, 255])
    def test_every_legal_name_can_be_written(self, files, invoke, length):
        name = "n" * (length - 4) + ".png"
        r = invoke("convolve", "img.png", "-k", "box:3", "--out", name)
        assert r.exit_code == 0, r.output
        assert (files / name).is_file() and not list(files.glob(".*.part"))

    def test_multibyte_name_near_the_limit(self, tmp_path):
        name = "é" * 125 + ".bin"  # 254 bytes
        outputs.write_bytes_atomic(tmp_path / name, b"x")
        assert (tmp_path / name).read_bytes() == b"x"

    @pytest.mark.parametrize("length", [256, 5000])
    def test_too_long_exits_2(self, files, invoke, length):
        r = invoke("convolve", "img.png", "-k", "box:3", "--out", "n" * (length - 4) + ".png")
        assert r.exit_code == 2 and "bytes" in r.stderr and "Traceback" not in r.stderr
        assert len(r.stderr.splitlines()) == 1 and len(r.stderr) < 300

    def test_too_long_report_name_exits_2_before_any_work(self, files, invoke):
        r = invoke("convolve", "img.png", "-k", "box:3", "--out", "o.png", "--report", "r" * 300 + ".json")
        assert r.exit_code == 2 and "--report" in r.stderr and not (files / "o.png").exists()

    def test_temporary_files_are_found_for_long_names(self, tmp_path):
        dest = tmp_path / ("m" * 251 + ".png")
        tmp = tmp_path / (temporary.temp_prefix(dest) + "abcdefgh.part")
        tmp.write_bytes(b"")
        assert temporary.temporary_files(dest) == [tmp]
        assert temporary.remove_temporary_files(dest) == 1


class TestVolumeInputs:
    def test_mask_is_an_input(self, tmp_path, invoke):
        pytest.importorskip("nibabel")
        import nibabel as nib

        vol = nib.Nifti1Image(np.zeros((6, 6, 6), np.float32), np.eye(4))
        nib.save(vol, tmp_path / "v.nii.gz")
        nib.save(nib.Nifti1Image(np.ones((6, 6, 6), np.uint8), np.eye(4)), tmp_path / "m.nii.gz")
        before = snapshot(tmp_path)
        r = invoke("volume", "v.nii.gz", "-k", "box_3d", "--mask", "m.nii.gz", "--out", "m.nii.gz", "--force")
        assert r.exit_code == 4 and "m.nii.gz" in r.stderr
        assert snapshot(tmp_path) == before


class TestRenameNoReplace:
    def test_a_folder_is_moved_only_where_nothing_is(self, tmp_path):
        (tmp_path / "a.zarr.tmp").mkdir()
        (tmp_path / "a.zarr.tmp" / "x").write_text("new")
        (tmp_path / "b.zarr").mkdir()  # even an empty folder is not replaced
        with pytest.raises(OutputRefused, match="already exists"):
            outputs.rename_noreplace(tmp_path / "a.zarr.tmp", tmp_path / "b.zarr")
        outputs.rename_noreplace(tmp_path / "a.zarr.tmp", tmp_path / "a.zarr")
        assert (tmp_path / "a.zarr" / "x").read_text() == "new" and not (tmp_path / "a.zarr.tmp").exists()


def test_remove_temporary_files_of_many_outputs_lists_each_folder_once(tmp_path, monkeypatch):
    """A batch's cleanup (issue 15: one glob per output made 2,000 PNGs on a cluster seconds slower):
    the same files go as with remove_temporary_files, each folder read once."""
    import os

    from kernelcli.io import temporary

    (tmp_path / "d").mkdir()
    a, bv1, c = (temporary.temp_prefix(tmp_path / n) for n in ("a.png", "b.v1.png", "c.png"))
    other = ".a.png.zzzzzz.x1y2z3w4.part"  # another run's (audit 114: a cleanup removed it)
    names = [a + "x1y2z3w4.part", a + "q.part", bv1 + "abcdefgh.part", c + "12345678.part", "a.png", ".a.png.keep", other]
    for name in names:
        (tmp_path / name).write_bytes(b"")
    (tmp_path / "d" / (temporary.temp_prefix(tmp_path / "d" / "e.png") + "zzzzzzzz.part")).write_bytes(b"")
    listed = []
    real = os.listdir
    monkeypatch.setattr(os, "listdir", lambda p: listed.append(p) or real(p))
    dests = [tmp_path / "a.png", tmp_path / "b.v1.png", tmp_path / "d" / "e.png", tmp_path / "missing.png"]
    assert temporary.remove_temporary_files_of(dests) == 4
    assert len(listed) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([".a.png.keep", c + "12345678.part", "a.png", "d", other])
    assert list((tmp_path / "d").iterdir()) == []


@pytest.mark.parametrize("suffix", [".tif", ".jpg", ".png", ".npy", ".bmp"])
@pytest.mark.parametrize("force", [False, True])
def test_an_output_cut_short_by_a_file_size_limit_is_never_published(tmp_path, suffix, force):
    # the README audit (96): under `ulimit -f 1` (or a full disk) a .tif or .jpg was published cut to 1024 bytes with
    # exit 0, and with --force over a good file: Pillow's C encoders took a short write to the descriptor for a whole one
    import resource

    from conftest import SAMPLES

    out = tmp_path / f"g{suffix}"
    if force:
        out.write_bytes(b"good")
    limit = lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (1024, 1024))  # noqa: E731
    args = [sys.executable, "-m", "kernelcli", "convolve", str(SAMPLES / "phantom.png"), "-k", "gaussian:1", "-o", str(out)]
    done = subprocess.run(args + (["--force"] if force else []), capture_output=True, text=True, preexec_fn=limit,
                          env={**os.environ, "KERNELCLI_WORKER": "off"})
    assert done.returncode == 1 and "write failed" in done.stderr and "untouched" in done.stderr, done.stderr
    assert (out.read_bytes() == b"good") if force else not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == ([out.name] if force else [])


def test_a_run_taken_over_removes_the_dead_processes_leftovers_of_each_output(tmp_path, monkeypatch):
    # audit 116: the client that runs a killed worker call again itself takes its run token (io.temporary.take_over_run),
    # and the dead call's half-written .part of an output goes before that output is written anew
    monkeypatch.setattr(temporary, "_RUN", {"pid": None, "token": ""})
    temporary.take_over_run("dead_1")
    dest = tmp_path / "g.npy"
    mine = tmp_path / ".g.npy.dead_1.a1b2c3d4.part"
    theirs = tmp_path / ".g.npy.othrun.a1b2c3d4.part"  # another run's, still writing
    other_output = tmp_path / ".h.npy.dead_1.a1b2c3d4.part"  # this run's, of an output not written again (yet)
    for leftover in (mine, theirs, other_output):
        leftover.write_bytes(b"half")
    outputs.write_bytes_atomic(dest, b"whole")
    assert dest.read_bytes() == b"whole"
    assert not mine.exists() and theirs.exists() and other_output.exists()
