"""A file output whose name ends with ``/.`` names a folder as one ending with ``/`` does, and ``learn --plot`` is
one of the file outputs (review 153 #3, #4).

``pathlib.Path("rep/.")`` is ``rep``: ``--report rep/.`` wrote the file ``rep``, ``-o nd.npy/.`` the file ``nd.npy``,
``--montage mm.png/.`` the file ``mm.png``, each with exit 0; ``learn --plot pl.png/`` wrote ``pl.png``, since
``--plot`` was missing from the options the trailing-slash check covers (one of two tables both named FILE_OUTPUTS).
"""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from conftest import run_in_process


@pytest.fixture
def image(tmp_path):
    Image.fromarray(np.arange(8 * 8, dtype=np.uint8).reshape(8, 8) * 3).save(tmp_path / "g.png")
    np.save(tmp_path / "a.npy", np.arange(36, dtype=np.float64).reshape(6, 6))
    np.save(tmp_path / "tgt.npy", np.ones((6, 6)))
    return tmp_path


@pytest.mark.parametrize("argv, given, option", [
    (["convolve", "g.png", "-k", "box:3", "-o", "o1.png", "--report", "rep/."], "rep/.", "--report"),
    (["convolve", "a.npy", "-k", "box:3", "-o", "nd.npy/."], "nd.npy/.", "--out"),
    (["convolve", "g.png", "-k", "sobel_v", "-k", "sobel_h", "-o", "m.npy", "--montage", "mm.png/."], "mm.png/.",
     "--montage"),
    (["learn", "g.png", "g.png", "-f", "3", "--method", "gd", "--epochs", "2", "-o", "k.json", "--plot", "pl.png/"],
     "pl.png/", "--plot"),
    (["learn", "g.png", "g.png", "-f", "3", "--method", "gd", "--epochs", "2", "-o", "k.json", "--plot", "pl.png/."],
     "pl.png/.", "--plot"),
    (["learn", "g.png", "g.png", "-f", "3", "--method", "gd", "--epochs", "2", "-o", "k.json/."], "k.json/.", "--out"),
], ids=["report", "out-npy", "montage", "plot-slash", "plot-dot", "learn-out-dot"])
def test_a_name_ending_in_a_folder_is_refused(image, argv, given, option):
    before = sorted(p.name for p in image.iterdir())
    done = run_in_process(*argv, "-q", cwd=image)
    assert done.returncode == 2, done.stderr
    assert option in done.stderr and f"{given} names a folder" in done.stderr, done.stderr
    assert "expected a file name" in done.stderr and "Traceback" not in done.stderr, done.stderr
    assert sorted(p.name for p in image.iterdir()) == before, "nothing written"


def test_the_refusal_names_the_folder_to_write_in():
    from kernelcli.cli.option_values import checked_file_path

    for text, folder, ending in (("rep/.", "rep", "/."), ("a/b/./", "a/b", "/./"), ("./.", ".", "/."), ("/.", "", "")):
        drop = f" or drop the '{ending}'" if ending else "$"  # (the root's '/.' dropped is no name: not advised, as a kernel's)
        with pytest.raises(Exception, match=f"give one in that folder \\({folder}/NAME\\){drop}"):
            checked_file_path("--report")(text)


def test_a_zarr_store_may_end_with_a_dot(image):
    from kernelcli.cli.option_values import checked_file_path

    assert str(checked_file_path("--out")("s.zarr/.")) == "s.zarr"
    with pytest.raises(Exception, match="names a folder"):
        checked_file_path("--report")("s.zarr/.")


def test_one_table_of_file_outputs():
    from kernelcli.cli import _stdio, options

    assert set(options.FILE_OUTPUTS) == {"out", "report", "montage", "plot"}
    assert not hasattr(_stdio, "FILE_OUTPUTS")


@pytest.mark.parametrize("argv, given, shown", [
    (["convolve", "g.png/", "-k", "box:3", "-o", "o.png"], "g.png/", "'input'"),
    (["pool", "g.png/.", "-f", "2", "-o", "p.png"], "g.png/.", "'input'"),
    (["convolve", "a.npy", "--layout", "hwc", "--weights", "w.npy/", "-o", "o.npy"], "w.npy/", "'--weights'"),
    (["convolve", "a.npy", "--layout", "hwc", "--weights", "w.npy", "--bias-file", "b.npy/", "-o", "o.npy"], "b.npy/",
     "'--bias-file'"),
    (["learn", "a.npy", "tgt.npy/", "-f", "3", "-o", "k.json"], "tgt.npy/", "'target'"),
], ids=["input", "input-dot", "weights", "bias", "learn-target"])
def test_a_file_read_through_a_name_ending_in_a_folder_is_refused(image, argv, given, shown):
    """Kernel-fixer note after audit 209 #2: an input or a --weights/--bias-file file spelt 'w.npy/' was read as
    w.npy in silence (pathlib drops the '/'), where a kernel path and an output so spelt are refused."""
    np.save(image / "w.npy", np.ones((2, 1, 3, 3), "f4"))
    np.save(image / "b.npy", np.zeros(2, "f4"))
    before = sorted(p.name for p in image.iterdir())
    done = run_in_process(*argv, "-q", cwd=image)
    ending = "/." if given.endswith("/.") else "/"
    file = given[: -len(ending)]
    assert (done.returncode, done.stderr.splitlines()[-1]) == (
        2, f"error: Invalid value for {shown}: {given} names a folder (it ends with '{ending}'), but {file} is a file: "
           f"drop the '{ending}' (see 'kernelcli {argv[0]} -h')"), done.stderr
    assert sorted(p.name for p in image.iterdir()) == before
