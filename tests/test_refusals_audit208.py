"""Audit 208 (refusals).

#2: on stdin, a refused kernel (``-k nosuch``, a volume-only ``box:3vox`` or ``gaussian:1mm``, a ``--then`` step)
wrote no ``--report`` though ``--json`` printed its record; the same refusal of a file input writes it.

#3: a study folder with a README.TXT beside its series read the README as a matrix under --recursive ("'Exported'
is not a number", exit 1), and so did a pattern over it (``'study/**'``, ``'study/*'``); without -r it is named.

#4: a batch's TIFF that neither reader takes (Orientation 6 on a page not square) over KERNELCLI_MAX_MEMORY was refused
for memory, and raising the cap as advised met the decoded size's refusal; one input alone (f812c68) said at once that
neither reads it, advising to convert it "to ... an 8-bit grey or RGB TIFF", which it was.

#6: the tiled run's identity check said an input only touched (its modification time alone changed) was "replaced or
rewritten"; it stays refused (a same-size rewrite in place looks the same), the message saying what was seen.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from conftest import run_in_process
from test_records_audit207 import study_with_readme  # noqa: F401 (a fixture)


@pytest.fixture
def png_bytes(tmp_path):
    import numpy as np
    from PIL import Image

    Image.fromarray((np.arange(24 * 24) % 251).astype("u1").reshape(24, 24)).save(tmp_path / "in.png")
    return (tmp_path / "in.png").read_bytes()


class TestARefusedKernelOnStdinWritesTheReport:
    @pytest.mark.parametrize("command, args, code", [
        ("convolve", ["-k", "nosuch", "-o", "o.png"], 3),
        ("convolve", ["-k", "box:3", "--then", "nosuch", "-o", "o.png"], 3),
        ("convolve", ["-k", "gaussian:1mm", "-o", "o.png"], 3),
        ("volume", ["-k", "box:3vox", "-o", "o.nii.gz"], 3),
        ("convolve", ["-k", "box:3", "--weights", "none.npy", "-o", "o.npy"], None),
    ], ids=["unknown", "then", "mm", "volume-vox", "weights"])
    def test_as_a_file_s_call_writes_it(self, tmp_path, png_bytes, command, args, code):
        from_file = run_in_process(command, "in.png", *args, "--json", "--report", "file.json", cwd=tmp_path)
        piped = run_in_process(command, "-", *args, "--json", "--report", "pipe.json", cwd=tmp_path, input=png_bytes)
        assert piped.returncode == from_file.returncode != 0, piped.stderr
        assert code is None or piped.returncode == code
        item = json.loads((tmp_path / "pipe.json").read_text())["items"][0]
        assert json.loads(piped.stdout) == item
        assert (item["input"], item["code"]) == ("stdin", piped.returncode)
        assert f"error: {item['error']}" == piped.stderr.strip().splitlines()[-1]
        filed = json.loads((tmp_path / "file.json").read_text())["items"][0]
        assert (filed["output"], filed["code"]) == (item["output"], item["code"])

    def test_an_existing_report_is_refused_first_as_for_a_file(self, tmp_path, png_bytes):
        (tmp_path / "r.json").write_text("{}")
        from_file = run_in_process("convolve", "in.png", "-k", "nosuch", "-o", "o.png", "--report", "r.json", cwd=tmp_path)
        piped = run_in_process("convolve", "-", "-k", "nosuch", "-o", "o.png", "--report", "r.json", cwd=tmp_path, input=png_bytes)
        assert piped.returncode == from_file.returncode == 4, piped.stderr
        assert (tmp_path / "r.json").read_text() == "{}"


class TestAStudysReadmeIsNotReadAsAMatrixBelowOrThroughAPattern:
    NOTE = str(Path("study/README.TXT")) + ", text, not a matrix"  # (in the 'not read: ...' list)

    @pytest.mark.parametrize("given", [["study", "-r"], ["study/**"], ["study/*"]], ids=["recursive", "starstar", "star"])
    def test_the_study_is_refused_naming_the_readme(self, study_with_readme, given):
        r = run_in_process("convolve", *given, "-k", "box:3", "--out-dir", "o", cwd=study_with_readme)
        assert r.returncode == 2, r.stderr
        assert "is not a number" not in r.stderr
        assert self.NOTE in r.stderr.strip().splitlines()[-1]
        assert not (study_with_readme / "o").exists()

    def test_recursive_names_the_series_as_a_folder_alone_does(self, study_with_readme):
        r = run_in_process("convolve", "study", "-r", "-k", "box:3", "--out-dir", "o", cwd=study_with_readme)
        assert f"DICOM files are in {Path('study/ct')} (6): give that folder, alone, without --out-dir" in r.stderr

    @pytest.mark.parametrize("given", [["study", "-r"], ["study/**"]], ids=["recursive", "starstar"])
    def test_images_beside_the_series_are_done_the_readme_noted(self, study_with_readme, given):
        import numpy as np
        from PIL import Image

        (study_with_readme / "study" / "png").mkdir()
        Image.fromarray(np.zeros((8, 8), "u1")).save(study_with_readme / "study" / "png" / "p.png")
        r = run_in_process("convolve", *given, "-k", "box:3", "--out-dir", "o", cwd=study_with_readme)
        assert r.returncode == 0, r.stderr
        assert self.NOTE in r.stderr
        assert [p.name for p in (study_with_readme / "o").rglob("*.*")] == ["p_box_3.png"]

    def test_a_folder_of_matrices_beside_a_series_is_still_a_batch(self, study_with_readme):
        (study_with_readme / "study" / "README.TXT").write_text("1, 2\n3, 4\n")
        r = run_in_process("convolve", "study", "-r", "-k", "box:1", "--out-dir", "o", "-q", cwd=study_with_readme)
        assert r.returncode == 0, r.stderr
        assert (study_with_readme / "o" / "README_box_1.csv").exists()


class TestATiffNeitherReaderTakesIsRefusedForWhatItIsInABatch:
    ONE = ("Orientation 6 (a turned or mirrored image): neither the tiled path nor the in-memory reader reads it; "
           "save it without the Orientation tag, or as PNG or .npy")

    @pytest.fixture
    def folder(self, tmp_path):
        tifffile = pytest.importorskip("tifffile")
        (tmp_path / "ob").mkdir()
        page = (np.arange(203 * 317) % 251).astype("u1").reshape(203, 317)
        tifffile.imwrite(tmp_path / "ob" / "orient.tif", page, extratags=[(274, "H", 1, 6, True)])
        return tmp_path

    def test_over_the_cap_as_one_input_is(self, folder):
        cap = {"KERNELCLI_MAX_MEMORY": "100K"}
        batch = run_in_process("convolve", "ob", "-k", "box:3", "--out-dir", "o", "--json", cwd=folder, env=cap)
        alone = run_in_process("convolve", "ob/orient.tif", "-k", "box:3", "-o", "o.npy", cwd=folder, env=cap)
        assert batch.returncode == 1 and alone.returncode == 2, batch.stderr
        assert alone.stderr == f"error: {Path('ob/orient.tif')}: {self.ONE}\n"
        assert json.loads(batch.stdout)["items"][0]["error"] == f"{Path('ob/orient.tif')}: {self.ONE}"
        assert "would need about" not in batch.stderr

    def test_a_square_one_is_still_refused_for_memory(self, tmp_path):
        tifffile = pytest.importorskip("tifffile")
        (tmp_path / "ob").mkdir()
        tifffile.imwrite(tmp_path / "ob" / "sq.tif", np.zeros((300, 300), np.uint8), extratags=[(274, "H", 1, 6, True)])
        r = run_in_process("convolve", "ob", "-k", "box:3", "--out-dir", "o", cwd=tmp_path, env={"KERNELCLI_MAX_MEMORY": "100K"})
        assert r.returncode == 1 and "would need about" in r.stderr, r.stderr


class TestAnInputChangedWhileATiledRunReadsItIsToldWhatWasSeen:
    @pytest.mark.parametrize("change, seen", [
        ("touch", "its modification time changed since the run opened it (rewritten in place, or only touched)"),
        ("grow", "its size changed since the run opened it (16512 -> 16513 bytes: rewritten)"),
    ])
    def test_the_message_says_what_changed(self, tmp_path, monkeypatch, change, seen):
        import os
        import threading

        pytest.importorskip("dask")
        from kernelcli.tiled.reading import NpyReads

        np.save(tmp_path / "in.npy", np.ones((64, 64), np.float32))
        read, lock, done = NpyReads.__getitem__, threading.Lock(), []

        def changed(self, key):
            with lock:
                if not done:
                    done.append(True)
                    path = tmp_path / "in.npy"
                    if change == "grow":
                        with open(path, "ab") as f:
                            f.write(b"\0")
                    stat = os.stat(path)
                    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
            return read(self, key)

        monkeypatch.setattr(NpyReads, "__getitem__", changed)
        r = run_in_process("convolve", "in.npy", "-k", "box:3", "--chunks", "16", "-o", "out.zarr", "-q", cwd=tmp_path)
        assert (r.returncode, r.stderr) == (2, f"error: in.npy: changed while it was read: {seen}; run again once it is written\n")
